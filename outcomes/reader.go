package outcomes

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/clearbar/clearbar"
)

// MaxLineSize is the longest line a Reader or an import accepts (16 MiB): a guard against a
// file that is not JSON Lines at all.
const MaxLineSize = 16 << 20

// Reader reads rows from a JSON Lines table, gzip-compressed or not (it looks at the first
// two bytes), one line at a time: memory use is one line, whatever the file's size.
//
// Blank lines are skipped. Every row is checked: Model is required, the prompt must be given
// (Prompt or PromptHash, which is filled in from Prompt when missing), Score must be within
// 0..1 and Error must be a failure class name. Unknown fields are ignored.
//
// Use it like bufio.Scanner:
//
//	r := outcomes.NewReader(f)
//	for r.Next() {
//		row := r.Row()
//		...
//	}
//	if err := r.Err(); err != nil { ... }
//
// A Reader is used by one goroutine. It does not close the underlying reader.
type Reader struct {
	lines lineReader
	row   Row
	err   error
}

// NewReader returns a Reader that reads from r.
func NewReader(r io.Reader) *Reader { return &Reader{lines: lineReader{src: r}} }

// Next reads the next row, reporting false at the end of the input or on the first error.
func (r *Reader) Next() bool {
	if r.err != nil {
		return false
	}
	b, ok := r.lines.next()
	if !ok {
		r.err = r.lines.err
		return false
	}
	r.row = Row{}
	if err := json.Unmarshal(b, &r.row); err != nil {
		r.err = fmt.Errorf("line %d: %w", r.lines.n, err)
		return false
	}
	if err := r.row.check(); err != nil {
		r.err = fmt.Errorf("line %d: %w", r.lines.n, err)
		return false
	}
	return true
}

// Row returns the row Next read.
func (r *Reader) Row() Row { return r.row }

// Line returns the line number (from 1) of the row Next read.
func (r *Reader) Line() int { return r.lines.n }

// Err returns the error that stopped Next, or nil at a clean end of input. Errors name the
// line they were found on, like "line 12: row has no model".
func (r *Reader) Err() error { return r.err }

// check validates a decoded row and fills in its prompt hash.
func (r *Row) check() error {
	if r.Model == "" {
		return errors.New(`row has no model (is this a benchmark file? convert it with ImportRouterBench or ImportRouteLLM)`)
	}
	r.fillHash()
	if r.PromptHash == "" {
		return fmt.Errorf("row for model %q has neither prompt nor prompt_hash", r.Model)
	}
	if !isHexHash(r.PromptHash) {
		return fmt.Errorf("row for model %q: prompt_hash %q is not a hex SHA-256 (64 lowercase hex digits) or a gateway fingerprint (16)", r.Model, r.PromptHash)
	}
	if r.Score != nil && !(*r.Score >= 0 && *r.Score <= 1) {
		return fmt.Errorf("row for model %q: score %v is outside 0..1", r.Model, *r.Score)
	}
	if r.Error != "" {
		var c clearbar.FailureClass
		if err := c.UnmarshalText([]byte(r.Error)); err != nil || c == clearbar.OK {
			return fmt.Errorf("row for model %q: error %q is not a failure class (like %q or %q)", r.Model, r.Error, clearbar.Overloaded, clearbar.RateLimited)
		}
	}
	return nil
}

func isHexHash(s string) bool {
	if len(s) != 64 && len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// lineReader yields the non-blank lines of a JSON Lines input, gunzipping it when it starts
// with the gzip magic bytes. n counts lines from 1, blank ones included, for messages.
type lineReader struct {
	src io.Reader
	sc  *bufio.Scanner
	n   int
	err error
}

func (l *lineReader) next() ([]byte, bool) {
	if l.err != nil {
		return nil, false
	}
	if l.sc == nil {
		if !l.open() {
			return nil, false
		}
	}
	for l.sc.Scan() {
		l.n++
		b := bytes.TrimSpace(l.sc.Bytes())
		if len(b) > 0 {
			return b, true
		}
	}
	switch err := l.sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		l.err = fmt.Errorf("line %d: longer than %d MiB", l.n+1, MaxLineSize>>20)
	case err != nil:
		l.err = fmt.Errorf("line %d: %w", l.n+1, err)
	}
	return nil, false
}

func (l *lineReader) open() bool {
	br := bufio.NewReaderSize(l.src, 64<<10)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			l.err = fmt.Errorf("reading gzip header: %w", err)
			return false
		}
		in = zr
	}
	l.sc = bufio.NewScanner(in)
	l.sc.Buffer(make([]byte, 0, 64<<10), MaxLineSize)
	return true
}
