package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/eval"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/trace"
)

// TestOutcomesExportMarksSimulatedAnswers: decisions answered by the quick start's simulated
// providers (at real time: no --time-scale) record that their attempts were simulated, their
// exported rows say "simulated": true, as eval's rows of simulated answers do, and replay
// --calibrate refuses them, leaving the spec as it is.
func TestOutcomesExportMarksSimulatedAnswers(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clearbar.db")
	addr, logs, stop := startServe(t, "--trace", db)
	var ids []string
	for i := range 3 {
		resp, body := chat(t, addr, fmt.Sprintf(`{"model":"clearbar/intent","messages":[{"role":"user","content":"Where is parcel %d?"}]}`, i))
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		ids = append(ids, resp.Header.Get("X-Clearbar-Decision-Id"))
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, logs.String())
	}
	store, err := trace.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		d, err := store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range d.Attempts {
			if !a.Simulated {
				t.Errorf("decision %s, attempt %d on %s: not marked simulated", id, a.N, a.Provider)
			}
		}
	}
	store.Close()

	dir := t.TempDir()
	out := filepath.Join(dir, "ex.jsonl")
	code, _, errOut := run(t, "outcomes", "export", "--trace", db, "--out", out)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, `3 decision(s) were answered by simulated providers: their rows say "simulated": true`) {
		t.Errorf("the export does not say its rows are simulated: %s", errOut)
	}
	n := 0
	if err := outcomes.ReadFileLines(out, func(r outcomes.Row, raw []byte) error {
		n++
		if !eval.SimulatedRow(raw) {
			t.Errorf("row %s of %s: %s; want \"simulated\": true", r.Item, r.Model, raw)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n < 3 {
		t.Fatalf("%d rows exported, want at least 3", n)
	}
	// A CSV keeps it, as it keeps eval's.
	csv := filepath.Join(dir, "ex.csv")
	if code, _, errOut := run(t, "outcomes", "convert", out, "--out", csv); code != 0 {
		t.Fatalf("convert: exit %d: %s", code, errOut)
	}
	if err := outcomes.ReadFileLines(csv, func(r outcomes.Row, raw []byte) error {
		if !eval.SimulatedRow(raw) {
			t.Errorf("CSV row %s of %s lost \"simulated\"", r.Item, r.Model)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	file := quickstartIn(t, "")
	before, _ := os.ReadFile(file)
	code, stdout, errOut := run(t, "replay", file, "--outcomes", out, "--category", "intent", "--calibrate")
	after, _ := os.ReadFile(file)
	if code == 0 || !strings.Contains(stdout+errOut, "nothing was written into the spec: ") || !strings.Contains(stdout+errOut, " rows of "+out+" come from simulated providers") {
		t.Errorf("replay --calibrate: exit %d, stdout:\n%s\nstderr %q; want it refused for the simulated rows", code, stdout, errOut)
	}
	if string(before) != string(after) {
		t.Errorf("replay --calibrate wrote simulated rows into the spec:\n%s", after)
	}
}

// TestMeasuredSimulatedRowsWriteNothing: estimate --measured on rows of simulated answers
// says they come from simulated providers and measure the spec's own assumptions, and advises
// writing nothing from them, however far they lie from the assumptions.
func TestMeasuredSimulatedRowsWriteNothing(t *testing.T) {
	file := quickstartIn(t, "")
	table := filepath.Join(filepath.Dir(file), "sim.jsonl")
	var b strings.Builder
	for i := range 60 {
		// nano fails 10% of its calls (the spec assumes 0.998), and is never accepted.
		line := fmt.Sprintf(`{"item":"d%d","category":"intent","prompt_hash":"%016x","model":"nano","latency_ms":9000,"tokens_in":4000,"tokens_out":20,"pass":false,"source":"trace","simulated":true`, i, i)
		if i%10 == 0 {
			line = fmt.Sprintf(`{"item":"d%d","category":"intent","prompt_hash":"%016x","model":"nano","error":"timeout","source":"trace","simulated":true`, i, i)
		}
		b.WriteString(line + "}\n")
	}
	if err := os.WriteFile(table, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "estimate", file, "--measured", table)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "60 of the 60 rows of "+table+" come from simulated providers") {
		t.Errorf("the report does not say the rows are simulated:\n%s", out)
	}
	if strings.Contains(out, "CONTRADICTS") || strings.Contains(out, ": write ") {
		t.Errorf("simulated rows were tested, or advised as edits:\n%s", out)
	}
	if !strings.Contains(out, "(0 contradict their assumption") {
		t.Errorf("simulated rows were counted as contradictions:\n%s", out)
	}
}

// TestMeasuredEmptyTableSaysSo: an outcomes table without a row measures nothing, and
// estimate --measured says so first, on stderr, and in the report's notes.
func TestMeasuredEmptyTableSaysSo(t *testing.T) {
	file := quickstartIn(t, "")
	table := filepath.Join(filepath.Dir(file), "empty.jsonl")
	if err := os.WriteFile(table, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "estimate", file, "--measured", table)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := table + " has no rows: nothing is measured"
	if !strings.HasPrefix(errOut, "warning: --measured "+want) || !strings.Contains(out, want) {
		t.Errorf("stderr %q, report:\n%s\nwant both to say %q", errOut, out, want)
	}
}

// TestLearnTrainEmptyTableNamesIt: training on an empty table names the file.
func TestLearnTrainEmptyTableNamesIt(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "empty.jsonl")
	if err := os.WriteFile(table, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "learn", "train", "--outcomes", table, "--out", filepath.Join(dir, "r.json"))
	if code == 0 || !strings.Contains(errOut, "the outcomes table "+table+" is empty") {
		t.Errorf("exit %d, stderr %q: want the empty table named", code, errOut)
	}
}

// TestOutcomesHelpSaysCategoryFiltersOrRelabels: --category filters an export but relabels
// the rows of an import or a conversion; the usages say which.
func TestOutcomesHelpSaysCategoryFiltersOrRelabels(t *testing.T) {
	_, out, _ := run(t, "outcomes", "-h")
	for _, want := range []string{"(--category C filters: only the decisions of category C are exported)", "(--category C relabels: every row written gets category C)"} {
		if !strings.Contains(out, want) {
			t.Errorf("outcomes -h lacks %q:\n%s", want, out)
		}
	}
	_, _, errOut := run(t, "outcomes")
	if !strings.Contains(errOut, "[--category C (only its decisions)]") || !strings.Contains(errOut, "[--category C (the rows' category)]") {
		t.Errorf("the one-line usage does not say which --category filters: %s", errOut)
	}
	for cmd, want := range map[string]string{"export": "a filter", "import": "a relabel", "convert": "a relabel"} {
		args := []string{"outcomes", cmd, "-h"}
		_, out, errOut := run(t, args...)
		if !strings.Contains(out+errOut, want) {
			t.Errorf("outcomes %s -h does not call --category %s:\n%s%s", cmd, want, out, errOut)
		}
	}
}
