package outcomes_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
)

func ptr[T any](v T) *T { return &v }

func TestHashPrompt(t *testing.T) {
	tests := []struct {
		text, want, explanation string
	}{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "the SHA-256 of nothing"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "the FIPS 180-2 test vector"},
		{"abc\n", "edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb", "no normalisation: a trailing newline changes the hash"},
	}
	for _, tt := range tests {
		if got := outcomes.HashPrompt(tt.text); got != tt.want {
			t.Errorf("HashPrompt(%q) = %s, want %s (%s)", tt.text, got, tt.want, tt.explanation)
		}
	}
}

// fixtureRows are the rows of testdata/rows.jsonl, as Reader returns them.
var fixtureRows = []outcomes.Row{
	{
		Item: "q1", Task: "arc-challenge", Prompt: "Which gas do plants absorb?\nA) O2\nB) CO2",
		PromptHash: "5c23632cf2bb460656fa6e1b0568c904a51edd926ef52f57f0492ec11b72ab85",
		Model:      "gpt-4-1106-preview", Response: "B", TokensIn: 21, TokensOut: 1,
		Cost: clearbar.Money(5_330_000), LatencyMS: 812.5, Score: ptr(1.0), Pass: ptr(true), Source: "routerbench",
	},
	{
		Item: "q1", Task: "arc-challenge", Prompt: "Which gas do plants absorb?\nA) O2\nB) CO2",
		// Filled in by the Reader: the file gives only the prompt.
		PromptHash: "5c23632cf2bb460656fa6e1b0568c904a51edd926ef52f57f0492ec11b72ab85",
		Model:      "mistralai/mistral-7b-chat", Response: "A\n", Cost: clearbar.Money(106_400),
		Score: ptr(0.0), Pass: ptr(false), Source: "routerbench",
	},
	{
		Item: "req-7", Category: "intent", PromptHash: outcomes.HashPrompt("refund please"),
		Model: "gpt-4.1-nano", Error: "rate_limited", LatencyMS: 95, Source: "trace",
	},
}

func readAll(t *testing.T, r *outcomes.Reader) []outcomes.Row {
	t.Helper()
	var rows []outcomes.Row
	for r.Next() {
		rows = append(rows, r.Row())
	}
	if err := r.Err(); err != nil {
		t.Fatalf("Err() = %v", err)
	}
	return rows
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReaderFixture(t *testing.T) {
	plain, err := os.ReadFile("testdata/rows.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, explanation string
		data              []byte
	}{
		{"plain", "JSON Lines as written, with a blank line and an unknown field", plain},
		{"gzip", "the same bytes gzip-compressed: detected from the magic bytes, not a file name", gzipped(t, plain)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, outcomes.NewReader(bytes.NewReader(tt.data)))
			if !reflect.DeepEqual(got, fixtureRows) {
				t.Errorf("%s:\n got %+v\nwant %+v", tt.explanation, got, fixtureRows)
			}
		})
	}
}

func TestReaderLineNumbers(t *testing.T) {
	r := outcomes.NewReader(strings.NewReader("\n" + `{"prompt":"a","model":"m"}` + "\n\n" + `{"prompt":"b","model":"m"}`))
	var lines []int
	for r.Next() {
		lines = append(lines, r.Line())
	}
	if r.Err() != nil || !reflect.DeepEqual(lines, []int{2, 4}) {
		t.Errorf("lines = %v, err %v; want [2 4] (blank lines count, the last line needs no newline)", lines, r.Err())
	}
}

// TestReaderRaw: Raw is the line of the row Next read, trimmed, also from a gzip-compressed
// input, so that keys the table does not define can be read beside the row.
func TestReaderRaw(t *testing.T) {
	lines := []string{`{"prompt":"a","model":"m","retries":2}`, `{"prompt":"b","model":"m"}`}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Join(lines, "\n")))
	zw.Close()
	inputs := map[string][]byte{
		"plain": []byte("\n  " + lines[0] + " \n\n" + lines[1]),
		"gzip":  gz.Bytes(),
	}
	for name, data := range inputs {
		r := outcomes.NewReader(bytes.NewReader(data))
		var got []string
		for r.Next() {
			got = append(got, string(r.Raw()))
		}
		if r.Err() != nil || !reflect.DeepEqual(got, lines) {
			t.Errorf("%s: raw lines = %q, err %v; want %q", name, got, r.Err(), lines)
		}
	}
}

func TestReaderErrors(t *testing.T) {
	good := `{"item":"a","prompt":"p","model":"m"}`
	tests := []struct {
		name, input, want, explanation string
	}{
		{"bad json", good + "\n" + `{"item":"b",` + "\n", "line 2: ", "a truncated line names its line"},
		{"no model", good + "\n\n" + `{"item":"b","prompt":"p"}`, "line 3: row has no model", "blank lines still count"},
		{"benchmark file", `{"sample_id":"x","prompt":"p","models":{"m":{"score":1}}}`, "convert it with clearbar outcomes import --routerbench FILE, or --routellm FILE", "a RouterBench file is not a table: say how to convert it"},
		{"no prompt", `{"item":"b","model":"m"}`, `line 1: row for model "m" has neither prompt nor prompt_hash`, "replay needs a prompt to key on"},
		{"bad hash", `{"item":"b","model":"m","prompt_hash":"ABC"}`, "is not a hex SHA-256", "hashes are checked, so a typo does not make a row unreachable"},
		{"score range", `{"item":"b","model":"m","prompt":"p","score":7}`, "score 7 is outside 0..1", "raw 1-10 judge scores must be rescaled"},
		{"error class", `{"item":"b","model":"m","prompt":"p","error":"boom"}`, `error "boom" is not a failure class`, "replay turns the error into a class, so it must be one"},
		{"error ok", `{"item":"b","model":"m","prompt":"p","error":"ok"}`, `error "ok" is not a failure class`, `"ok" is the absence of an error`},
		{"score type", `{"item":"b","model":"m","prompt":"p","score":"high"}`, `line 1: "score" is a string, but it must be a number`, "types are checked, and said in the table's words"},
		{"pass type", `{"item":"b","model":"m","prompt":"p","pass":"yes"}`, `line 1: "pass" is a string, but it must be true or false`, "names the field and what it takes"},
		{"verdict type", `{"item":"b","model":"m","prompt":"p","verdicts":[{"validator":"v","pass":1}]}`, `line 1: "verdicts.pass" is a number, but it must be true or false`, "nested fields are named by their path"},
		{"cost type", `{"item":"b","model":"m","prompt":"p","cost_usd":"lots"}`, `line 1: "cost_usd": invalid amount "lots"`, "the cost has a parser of its own"},
		{"not an object", `["m","p"]`, "line 1: the line is an array, but a row must be a JSON object", ""},
		{"trailing data", `{"item":"b","model":"m","prompt":"p"} x`, "line 1: not valid JSON", "a second value on the line is not ignored"},
		{"negative tokens", `{"item":"b","model":"m","prompt":"p","tokens_in":-3}`, `line 1: row for model "m": tokens_in cannot be negative`, ""},
		{"negative tokens out", `{"item":"b","model":"m","prompt":"p","tokens_out":-1}`, "tokens_out cannot be negative", ""},
		{"cached over prompt", `{"item":"b","model":"m","prompt":"p","tokens_in":10,"tokens_cached":11}`, "tokens_cached 11 is more than tokens_in 10", "cached tokens are part of the prompt"},
		{"negative cached", `{"item":"b","model":"m","prompt":"p","tokens_in":10,"tokens_cached":-1}`, "tokens_cached cannot be negative", ""},
		{"reasoning over completion", `{"item":"b","model":"m","prompt":"p","tokens_out":10,"tokens_reasoning":12}`, "tokens_reasoning 12 is more than tokens_out 10", "reasoning tokens are part of the completion"},
		{"negative cost", `{"item":"b","model":"m","prompt":"p","cost_usd":-0.01}`, "cost_usd cannot be negative", ""},
		{"negative latency", `{"item":"b","model":"m","prompt":"p","latency_ms":-5}`, "latency_ms cannot be negative", ""},
		{"negative time scale", `{"item":"b","model":"m","prompt":"p","latency_ms":5,"time_scale":-0.5}`, "time_scale cannot be negative", ""},
		{"pass with score 0", `{"item":"b","model":"m","prompt":"p","pass":true,"score":0}`, "pass is true but score is 0", "a grade that contradicts itself"},
		{"fail with score 1", `{"item":"b","model":"m","prompt":"p","pass":false,"score":1}`, "pass is false but score is 1", "and the other way round"},
		{"misspelt key", `{"item":"b","model":"m","prompt":"p","pas":true}`, `line 1: unknown key "pas": did you mean "pass"?`, "a typo would leave the row ungraded without a word"},
		{"misspelt model", `{"item":"b","modle":"m","prompt":"p"}`, `unknown key "modle": did you mean "model"?`, "the typo, not a missing model, is what to fix"},
		{"bad gzip", "\x1f\x8b\x00\x00", "gzip", "gzip magic with a broken header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := outcomes.NewReader(strings.NewReader(tt.input))
			for r.Next() {
			}
			if err := r.Err(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Err() = %v, want it to contain %q (%s)", err, tt.want, tt.explanation)
			}
		})
	}
}

// TestReaderSkipsKeysOfOtherWriters checks that keys the table does not define are read past
// when they are not near one it does: eval runs' extra keys and a newer version's fields.
func TestReaderSkipsKeysOfOtherWriters(t *testing.T) {
	line := `{"item":"b","model":"m","prompt":"p","pass":true,"score":1,"retries":2,"error_message":"x","checks":[{"check":"c","pass":true}],"a_future_field":{"x":1}}`
	rows := readAll(t, outcomes.NewReader(strings.NewReader(line)))
	if len(rows) != 1 || rows[0].Pass == nil || !*rows[0].Pass {
		t.Errorf("rows %+v: want the row, its extra keys skipped", rows)
	}
}

func TestReaderLongLine(t *testing.T) {
	long := strings.Repeat("x", 1<<20) // beyond bufio.Scanner's default 64 KiB
	var buf bytes.Buffer
	w := outcomes.NewWriter(&buf)
	if err := w.Write(outcomes.Row{Item: "long", Prompt: long, Model: "m"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, outcomes.NewReader(&buf))
	if len(rows) != 1 || rows[0].Prompt != long {
		t.Fatalf("read %d rows; want the 1 MiB prompt back", len(rows))
	}
}

func TestWriterRoundTrip(t *testing.T) {
	for _, compress := range []bool{false, true} {
		var buf bytes.Buffer
		var zw *gzip.Writer
		w := outcomes.NewWriter(&buf)
		if compress {
			zw = gzip.NewWriter(&buf)
			w = outcomes.NewWriter(zw)
		}
		for _, row := range fixtureRows {
			row.PromptHash = "" // recomputed from the prompt, where there is one
			if row.Prompt == "" {
				row.PromptHash = outcomes.HashPrompt("refund please")
			}
			if err := w.Write(row); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if zw != nil {
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
		}
		got := readAll(t, outcomes.NewReader(&buf))
		if !reflect.DeepEqual(got, fixtureRows) {
			t.Errorf("gzip=%v: round trip changed the rows:\n got %+v\nwant %+v", compress, got, fixtureRows)
		}
	}
}

func TestWriterKeepsTextReadable(t *testing.T) {
	var buf bytes.Buffer
	w := outcomes.NewWriter(&buf)
	if err := w.Write(outcomes.Row{Item: "a", Prompt: "<b> & </b>", Model: "m"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"prompt":"<b> & </b>"`) {
		t.Errorf("wrote %s; want prompts without HTML escaping", buf.String())
	}
}

func TestWriterRejectsInvalidRows(t *testing.T) {
	var buf bytes.Buffer
	w := outcomes.NewWriter(&buf)
	err := w.Write(outcomes.Row{Item: "a", Prompt: "p"})
	if err == nil || !strings.Contains(err.Error(), `item "a": row has no model`) {
		t.Errorf("Write without a model = %v; want an error naming the item", err)
	}
	// A rejected row does not break the writer.
	if err := w.Write(outcomes.Row{Item: "b", Prompt: "p", Model: "m"}); err != nil {
		t.Errorf("Write after a rejected row = %v", err)
	}
}

type failingWriter struct{}

var errDiskFull = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestWriterReportsWriteErrors(t *testing.T) {
	w := outcomes.NewWriter(failingWriter{})
	if err := w.Write(outcomes.Row{Item: "a", Prompt: "p", Model: "m"}); err != nil {
		t.Fatalf("Write buffers, so it should not fail yet: %v", err)
	}
	if err := w.Flush(); !errors.Is(err, errDiskFull) {
		t.Errorf("Flush() = %v, want the underlying error", err)
	}
	if err := w.Write(outcomes.Row{Item: "b", Prompt: "p", Model: "m"}); !errors.Is(err, errDiskFull) {
		t.Errorf("Write after a failed Flush = %v, want the same error", err)
	}
}

// FuzzReader checks that the reader never panics and that every row it accepts survives a
// write and a second read unchanged.
func FuzzReader(f *testing.F) {
	for _, name := range []string{"testdata/rows.jsonl", "testdata/routerbench.jsonl"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"prompt":"p","model":"m","score":0.5}`))
	f.Add([]byte("\x1f\x8b"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := outcomes.NewReader(bytes.NewReader(data))
		var rows []outcomes.Row
		for r.Next() {
			rows = append(rows, r.Row())
		}
		var buf bytes.Buffer
		w := outcomes.NewWriter(&buf)
		for _, row := range rows {
			if err := w.Write(row); err != nil {
				t.Fatalf("a row the reader accepted does not write: %v", err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		again := outcomes.NewReader(&buf)
		i := 0
		for ; again.Next(); i++ {
			if i >= len(rows) || !reflect.DeepEqual(again.Row(), rows[i]) {
				t.Fatalf("row %d changed in a round trip", i)
			}
		}
		if again.Err() != nil || i != len(rows) {
			t.Fatalf("re-read %d of %d rows: %v", i, len(rows), again.Err())
		}
	})
}

// TestReaderSkipsByteOrderMark: a table saved by an editor that starts files with a UTF-8
// byte order mark reads like the same table without it, as CSV tables do.
func TestReaderSkipsByteOrderMark(t *testing.T) {
	r := outcomes.NewReader(strings.NewReader("\ufeff{\"item\": \"a\", \"prompt\": \"p\", \"model\": \"m\"}\n{\"item\": \"b\", \"prompt\": \"p\", \"model\": \"m\"}\n"))
	n := 0
	for r.Next() {
		n++
	}
	if err := r.Err(); err != nil || n != 2 {
		t.Errorf("read %d rows, error %v; want both rows, the mark skipped", n, err)
	}
}
