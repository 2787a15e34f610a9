package outcomes

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/textdist"
)

// MaxLineSize is the longest line a Reader or an import accepts (16 MiB): a guard against a
// file that is not JSON Lines at all.
const MaxLineSize = 16 << 20

// Reader reads rows from a JSON Lines table, gzip-compressed or not (it looks at the first
// two bytes), one line at a time: memory use is one line, whatever the file's size.
//
// Blank lines are skipped. Every row is checked: Model is required, the prompt must be given
// (Prompt or PromptHash, which is filled in from Prompt when missing), Score must be within
// 0..1 and agree with Pass (a passing row cannot score 0, nor a failing one 1), tokens, cost
// and latency cannot be negative, and Error must be a failure class name. Keys the table does not define are ignored (see the package
// documentation), except those within a few letters of one it does, like "pas": those are
// misspellings, and an error.
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
	raw   []byte
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
	r.raw, r.row = b, Row{}
	err := decodeRow(b, &r.row)
	if err == nil {
		err = r.row.check()
	}
	if err != nil {
		r.err = fmt.Errorf("line %d: %w", r.lines.n, err)
		return false
	}
	return true
}

// Row returns the row Next read.
func (r *Reader) Row() Row { return r.row }

// Raw returns the JSON line of the row Next read, without surrounding white space, so that a
// writer's own keys beside the row's can be decoded from it without reading the input again.
// It is valid only until the next call to Next; copy it to keep it.
func (r *Reader) Raw() []byte { return r.raw }

// Line returns the line number (from 1) of the row Next read.
func (r *Reader) Line() int { return r.lines.n }

// Err returns the error that stopped Next, or nil at a clean end of input. Errors name the
// line they were found on, like "line 12: row has no model".
func (r *Reader) Err() error { return r.err }

// decodeRow decodes one JSON line into row. Its errors say which key is wrong and how, in
// the table's terms.
func decodeRow(b []byte, row *Row) error {
	if err := json.Unmarshal(b, row); err != nil {
		*row = Row{}
		return jsonError(err)
	}
	// Unknown keys are skipped, unless one is a misspelling of a known key: the top-level
	// keys are read without decoding their values again.
	hasModel := gjson.GetBytes(b, "model").Exists()
	var err error
	gjson.ParseBytes(b).ForEach(func(k, _ gjson.Result) bool {
		if k.Str == "models" && !hasModel {
			return true // a benchmark file, which check explains
		}
		err = checkKey(k.Str, "key")
		return err == nil
	})
	return err
}

// rowKeys are the JSON keys of a Row, in declaration order.
var rowKeys = func() []string {
	t := reflect.TypeFor[Row]()
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		keys = append(keys, name)
	}
	return keys
}()

// otherKeys are keys Clearbar's own writers add to rows, which Reader skips: eval runs record
// each call's retries, error message, checks, the fingerprint of what graded it, what its
// pass is (graded_by), whether the category's validators could not judge the answer
// (unverified) and whether a simulator answered. The table's writers keep them all, in either
// form (see lineExtras).
var otherKeys = []string{"retries", "error_message", "checks", "grading", "graded_by", "unverified", "simulated"}

// checkKey returns an error for a key (or CSV column) the table does not define but that is
// within a few letters of one it does: a misspelling, which would otherwise leave the field
// it meant empty without a word. what is "key" or "column".
func checkKey(k, what string) error {
	if slices.Contains(rowKeys, k) || slices.Contains(otherKeys, k) {
		return nil
	}
	if near, ok := textdist.Closest(k, rowKeys); ok {
		return fmt.Errorf("unknown %s %q: did you mean %q?", what, k, near)
	}
	return nil
}

// jsonError rewrites a JSON decoding error in the table's terms.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return fmt.Errorf("%q is %s, but it must be %s", te.Field, JSONKind(te.Value), expected(te.Type))
	case errors.As(err, &te):
		return fmt.Errorf("the line is %s, but a row must be a JSON object", JSONKind(te.Value))
	case errors.As(err, &se):
		return fmt.Errorf("not valid JSON (%s): write one JSON object per line", strings.TrimPrefix(err.Error(), "json: "))
	}
	// The one field with a decoder of its own is the cost.
	return fmt.Errorf(`"cost_usd": %v`, err)
}

// JSONKind names in words ("a string", "an array", "true or false") the kind of JSON value
// encoding/json reports in a json.UnmarshalTypeError's Value ("string", "array", "bool",
// "number 1.5"), for errors that say what a field is and what it must be.
func JSONKind(v string) string {
	kind, _, _ := strings.Cut(v, " ")
	switch kind {
	case "bool":
		return "true or false"
	case "array", "object":
		return "an " + kind
	}
	return "a " + kind
}

// expected says in words what a field of type t holds.
func expected(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64, reflect.Uint32:
		return "a whole number"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // a JSON document kept as it is
			return "a JSON value"
		}
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another kind of value"
}

// check validates a decoded row and fills in its prompt hash.
func (r *Row) check() error {
	if r.Model == "" {
		return errors.New(`row has no model (is this a benchmark file? convert it with clearbar outcomes import --routerbench FILE, or --routellm FILE)`)
	}
	r.fillHash()
	if r.PromptHash == "" {
		return fmt.Errorf(`row for model %q has neither prompt nor prompt_hash: write the prompt ("prompt": "…"), or, where the table must not hold it, "prompt_hash": the 64-hex-digit SHA-256 of its text`, r.Model)
	}
	if !isHexHash(r.PromptHash) {
		return fmt.Errorf("row for model %q: prompt_hash %q is not a hex SHA-256 (64 lowercase hex digits) or a gateway fingerprint (16)", r.Model, r.PromptHash)
	}
	if r.Score != nil && !(*r.Score >= 0 && *r.Score <= 1) {
		return fmt.Errorf("row for model %q: score %v is outside 0..1", r.Model, *r.Score)
	}
	if r.Score != nil && r.Pass != nil && (*r.Pass && *r.Score == 0 || !*r.Pass && *r.Score == 1) {
		return fmt.Errorf("row for model %q: pass is %v but score is %v: a passing answer cannot score 0, nor a failing one 1; fix one of them, or leave score out", r.Model, *r.Pass, *r.Score)
	}
	for _, f := range []struct {
		name string
		ok   bool
	}{{"tokens_in", r.TokensIn >= 0}, {"tokens_out", r.TokensOut >= 0}, {"tokens_cached", r.TokensCached == nil || *r.TokensCached >= 0},
		{"tokens_reasoning", r.TokensReasoning >= 0}, {"cost_usd", r.Cost >= 0}, {"latency_ms", r.LatencyMS >= 0}, {"time_scale", r.TimeScale >= 0}} {
		if !f.ok {
			return fmt.Errorf("row for model %q: %s cannot be negative: write the measured value, or leave it out when it is unknown", r.Model, f.name)
		}
	}
	if r.TokensCached != nil && *r.TokensCached > r.TokensIn {
		return fmt.Errorf("row for model %q: tokens_cached %d is more than tokens_in %d: cached prompt tokens are counted among the prompt tokens", r.Model, *r.TokensCached, r.TokensIn)
	}
	if r.TokensReasoning > r.TokensOut {
		return fmt.Errorf("row for model %q: tokens_reasoning %d is more than tokens_out %d: reasoning tokens are counted among the completion tokens, as OpenAI's usage counts them", r.Model, r.TokensReasoning, r.TokensOut)
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

// byteOrderMark is the UTF-8 byte order mark, which readers skip at the start of a file.
var byteOrderMark = []byte("\ufeff")

// lineReader yields the non-blank lines of a JSON Lines input, gunzipping it when it starts
// with the gzip magic bytes and skipping a byte order mark. n counts lines from 1, blank
// ones included, for messages.
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
		b := l.sc.Bytes()
		if l.n == 1 {
			b = bytes.TrimPrefix(b, byteOrderMark) // as some editors start a UTF-8 file
		}
		b = bytes.TrimSpace(b)
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
