package outcomes

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

// fullRow is a row with every field set; fullExtras is every field eval writes beside a row.
// TestEveryFieldRoundTrips fails when a field is added to either and left out here.
func fullRow() Row {
	cached, score, pass := 3, 0.75, true
	return Row{Item: "it-1", Category: "intent", Task: "mmlu/anatomy", Prompt: "Where is my parcel?\r\nIt is late.",
		PromptHash: HashPrompt("Where is my parcel?\r\nIt is late."), Model: "gpt-4.1-nano", Response: `{"intent": "shipping"}`,
		TokensIn: 16, TokensOut: 20, TokensCached: &cached, TokensReasoning: 4, TokensEstimated: true, Cost: 9_600,
		LatencyMS: 328.5, TimeScale: 0.01, Error: clearbar.RateLimited.String(), Score: &score, Pass: &pass, Source: SourceEval,
		Verdicts:  []clearbar.Verdict{{Validator: "json_schema", Pass: true, Reason: "ok"}},
		Request:   json.RawMessage(`{"model":"clearbar/auto","messages":[{"role":"user","content":"Where is my parcel?"}]}`),
		ToolCalls: []ToolCall{{ID: "call_1", Name: "track", Arguments: `{"id":"42"}`}}}
}

func fullExtras() lineExtras {
	return lineExtras{Retries: 2, ErrorMessage: "rate limited, retried", Checks: json.RawMessage(`[{"check":"json","pass":true,"score":1}]`),
		Grading: "2e86aaf943fd1552", GradedBy: GradedByChecks, Unverified: true, Simulated: true}
}

// zeroFields names the fields of a struct value that hold their zero value.
func zeroFields(v any) []string {
	rv := reflect.ValueOf(v)
	var out []string
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			out = append(out, rv.Type().Field(i).Name)
		}
	}
	return out
}

// TestEveryFieldRoundTrips: every field of a row, and every field eval writes beside it, survives
// JSON Lines → CSV → JSON Lines, so that a table converted for a spreadsheet says what the
// eval's own file said (whether its answers were simulated among it). A CSV without the newer
// columns still reads, its rows saying nothing of them.
func TestEveryFieldRoundTrips(t *testing.T) {
	row, ex := fullRow(), fullExtras()
	if z := zeroFields(row); len(z) > 0 {
		t.Fatalf("fullRow leaves %v unset: set every field of Row, and make the CSV form keep it (csvColumns)", z)
	}
	if z := zeroFields(ex); len(z) > 0 {
		t.Fatalf("fullExtras leaves %v unset: set every field of lineExtras, and make the CSV form keep it (csvColumns)", z)
	}
	line, err := json.Marshal(struct {
		*Row
		lineExtras
	}{&row, ex})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "eval.jsonl")
	os.WriteFile(src, append(line, '\n'), 0o644)

	convert := func(from, to string) {
		t.Helper()
		var buf bytes.Buffer
		var w interface {
			WriteLine(Row, []byte) error
			Flush() error
		} = NewWriter(&buf)
		if IsCSV(to) {
			w = NewCSVWriter(&buf)
		}
		if err := ReadFileLines(from, func(r Row, line []byte) error { return w.WriteLine(r, line) }); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(to, buf.Bytes(), 0o644)
		n := 0
		if err := ReadFileLines(to, func(r Row, line []byte) error {
			n++
			if !reflect.DeepEqual(r, row) {
				t.Errorf("%s: row\n got %+v\nwant %+v", filepath.Base(to), r, row)
			}
			got, err := extrasOf(line)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, ex) {
				t.Errorf("%s: beside the row\n got %+v\nwant %+v", filepath.Base(to), got, ex)
			}
			return nil
		}); err != nil || n != 1 {
			t.Fatalf("%s: %d rows, error %v", filepath.Base(to), n, err)
		}
	}
	csvPath, back := filepath.Join(dir, "eval.csv"), filepath.Join(dir, "back.jsonl")
	convert(src, csvPath)
	convert(csvPath, back)
	if got, _ := os.ReadFile(back); strings.TrimSpace(string(got)) != string(line) {
		t.Errorf("JSON Lines → CSV → JSON Lines:\n got %s\nwant %s", got, line)
	}

	// Every column a CSV has is one readers know, and none is written twice.
	seen := map[string]bool{}
	for _, c := range csvColumns {
		if seen[c] {
			t.Errorf("column %q twice", c)
		}
		seen[c] = true
		if err := checkKey(c, "column"); err != nil {
			t.Error(err)
		}
	}

	// A CSV of the columns before simulated, unverified, checks, error_message and grading reads.
	old := filepath.Join(dir, "old.csv")
	os.WriteFile(old, []byte("item,prompt,model,pass,retries,graded_by,source\na,p,m,true,1,checks,eval\n"), 0o644)
	if err := ReadFileLines(old, func(r Row, line []byte) error {
		if got, _ := extrasOf(line); !reflect.DeepEqual(got, lineExtras{Retries: 1, GradedBy: GradedByChecks}) {
			t.Errorf("old CSV: beside the row %+v", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Cells that cannot be what eval writes are named.
	for cells, want := range map[string]string{
		"simulated\nmaybe": `line 2, simulated: "maybe" is not true or false`,
		"unverified\n2":    `line 2, unverified: "2" is not true or false`,
		"checks\n{}":       `line 2, checks: the cell is an object, but it must be a JSON list`,
		"checks\n[1]":      `line 2, checks: `,
	} {
		header, value, _ := strings.Cut(cells, "\n")
		bad := filepath.Join(dir, "bad.csv")
		os.WriteFile(bad, []byte("item,prompt,model,"+header+"\na,p,m,"+value+"\n"), 0o644)
		if err := ReadFile(bad, func(Row) error { return nil }); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s = %s: error %v, want %q", header, value, err, want)
		}
	}
}
