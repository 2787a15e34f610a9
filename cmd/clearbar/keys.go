package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/clearbar/clearbar/gateway"
)

func (m *Main) runKeys(ctx context.Context, args []string) error {
	const usage = "clearbar keys hash < key.txt (one key a line; one hash a line, in order: line N of the output is the hash of line N of the input)"
	if len(args) == 0 || args[0] != "hash" {
		return usagef("usage: %s", usage)
	}
	// The key is read from standard input, never from the command line, where shell history
	// and process listings would keep it. An argument other than a request for help may be the
	// key itself, written there by mistake: the error does not repeat it, so that it reaches no
	// terminal scrollback or CI log.
	for _, a := range args[1:] {
		if a != "-h" && a != "-help" && a != "--help" {
			return usagef("keys hash takes no arguments: write the key on standard input, not on the command line (usage: %s)", usage)
		}
	}
	if _, err := parseArgs(flag.NewFlagSet("hash", flag.ContinueOnError), args[1:], 0, 0, usage); err != nil {
		return err
	}
	// Each line of the input is a key, hashed on a line of its own in the same order: a file of
	// keys gives one hash per key, never one hash of them all, which no request could match.
	// Spaces around a key are ignored, and a blank line gives a blank line, so that line N of
	// the output is the hash of line N of the input (blank lines after the last key give
	// none). From a terminal, the first line with a key is the key, as typing it and pressing
	// Enter expects.
	interactive := false
	if f, ok := m.Stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			interactive = true
		}
	}
	var hashes []string // "" for a blank line
	keys := 0
	sc := bufio.NewScanner(m.Stdin)
	for sc.Scan() {
		key := strings.TrimSpace(sc.Text())
		if key == "" {
			if !interactive {
				hashes = append(hashes, "")
			}
			continue
		}
		hashes = append(hashes, gateway.HashKey(key))
		keys++
		if interactive {
			break
		}
	}
	for len(hashes) > 0 && hashes[len(hashes)-1] == "" {
		hashes = hashes[:len(hashes)-1]
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return usagef("a line of standard input is longer than %d bytes, too long for a key: write one key a line", bufio.MaxScanTokenSize)
		}
		return fmt.Errorf("reading standard input: %w", err)
	}
	if keys == 0 {
		return usagef("write the key on standard input, one key a line: %s", usage)
	}
	for _, h := range hashes {
		fmt.Fprintln(m.Stdout, h)
	}
	return nil
}
