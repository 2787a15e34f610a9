package eval

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/clearbar/clearbar/outcomes"
)

// TestExtrasSurviveCSV: everything an eval run writes beside a row (Extras) survives
// JSON Lines → CSV (clearbar outcomes convert) → JSON Lines, so that the readers of a converted
// table (validate calibrate's SimulatedRow and GradedByValidators, estimate --measured's
// VerdictOnly) see what the eval's own file says. A field added to Extras and not set here
// fails the test, as does one the CSV form drops.
func TestExtrasSurviveCSV(t *testing.T) {
	ex := Extras{Retries: 1, ErrorMessage: "the provider is overloaded", Checks: []Verdict{{Check: `json_path "intent" = "refund"`, Pass: true, Score: 1},
		{Check: "validators (JSON Schema schemas/intent.json)", Score: 0, Reason: "missing confidence"}},
		Grading: "2e86aaf943fd1552", GradedBy: GradeChecks, Unverified: true, Simulated: true}
	rv := reflect.ValueOf(ex)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Fatalf("Extras.%s is not set in this test: set it, and make outcomes' CSV form keep it", rv.Type().Field(i).Name)
		}
	}
	rec := Record{Row: outcomes.Row{Item: "a1", Category: "intent", Prompt: "Where is my parcel?", Model: "gpt-4.1-nano",
		Response: `{"intent":"refund"}`, Source: outcomes.SourceEval}, Extras: ex}
	line, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src, csvPath := filepath.Join(dir, "o.jsonl"), filepath.Join(dir, "o.csv")
	os.WriteFile(src, append(line, '\n'), 0o644)
	var buf bytes.Buffer
	w := outcomes.NewCSVWriter(&buf)
	if err := outcomes.ReadFileLines(src, func(r outcomes.Row, line []byte) error { return w.WriteLine(r, line) }); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(csvPath, buf.Bytes(), 0o644)
	if err := outcomes.ReadFileLines(csvPath, func(_ outcomes.Row, line []byte) error {
		var got Extras
		if err := json.Unmarshal(line, &got); err != nil {
			return err
		}
		if !reflect.DeepEqual(got, ex) {
			t.Errorf("beside the CSV's row:\n got %+v\nwant %+v", got, ex)
		}
		if !SimulatedRow(line) {
			t.Errorf("SimulatedRow(%s) = false: validate calibrate would measure simulated answers", line)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
