package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/clearbar/clearbar/gateway"
)

func (m *Main) runKeys(ctx context.Context, args []string) error {
	const usage = "clearbar keys hash < key.txt"
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
	line, err := bufio.NewReader(m.Stdin).ReadString('\n')
	key := strings.TrimSpace(line)
	if key == "" {
		if err != nil {
			return usagef("write the key on standard input: %s", usage)
		}
		return usagef("the key is empty")
	}
	fmt.Fprintln(m.Stdout, gateway.HashKey(key))
	return nil
}
