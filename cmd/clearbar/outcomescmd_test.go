package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/trace"
)

func TestOutcomesHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "help"} {
		code, out, errOut := run(t, "outcomes", arg)
		if code != 0 || errOut != "" {
			t.Errorf("outcomes %s: exit %d, stderr %q; want the usage and exit 0", arg, code, errOut)
		}
		for _, sub := range []string{"export", "import", "convert", "--category"} {
			if !strings.Contains(out, sub) {
				t.Errorf("outcomes %s: the usage does not mention %s:\n%s", arg, sub, out)
			}
		}
	}
	code, out, _ := run(t, "outcomes", "import", "-h")
	if code != 0 || !strings.Contains(out, "-category") {
		t.Errorf("outcomes import -h: exit %d:\n%s", code, out)
	}
}

func TestOutcomesExportMissingTraceStore(t *testing.T) {
	dir := t.TempDir()
	db, out := filepath.Join(dir, "missing.db"), filepath.Join(dir, "rows.jsonl")
	code, _, errOut := run(t, "outcomes", "export", "--trace", db, "--out", out)
	if code != 2 || !strings.Contains(errOut, "no trace store at "+db) {
		t.Errorf("exit %d, stderr %q: want exit 2 (as review) and the missing path named", code, errOut)
	}
	for _, p := range []string{db, out} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was created: a failed export leaves nothing behind", p)
		}
	}
}

// traceWith writes decisions made the given number of days before the test clock into a
// new trace store, each with one accepted call, and returns its path.
func traceWith(t *testing.T, daysAgo ...int) string {
	t.Helper()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var ds []*clearbar.Decision
	for i, d := range daysAgo {
		ds = append(ds, &clearbar.Decision{
			ID: "dec_" + string(rune('a'+i)), Time: now.AddDate(0, 0, -d), Category: "intent",
			PromptHash: "0123456789abcdef", Answer: "ok",
			Attempts: []clearbar.Attempt{{N: 1, Kind: clearbar.AttemptPrimary, Model: "small", Class: clearbar.OK, Outcome: "accepted"}},
		})
	}
	db := filepath.Join(t.TempDir(), "clearbar.db")
	store, err := trace.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Write(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestOutcomesExportSince(t *testing.T) {
	db := traceWith(t, 2, 10, 40)
	tests := []struct {
		since       string
		rows        int
		explanation string
	}{
		{"30d", 2, "days, as the usage and review --since write them"},
		{"6w", 3, "weeks"},
		{"72h", 1, "a duration"},
		{"monthly", 2, "a cadence"},
	}
	for _, tt := range tests {
		code, out, errOut := run(t, "outcomes", "export", "--trace", db, "--since", tt.since)
		if code != 0 {
			t.Errorf("--since %s: exit %d: %s (%s)", tt.since, code, errOut, tt.explanation)
			continue
		}
		if n := strings.Count(out, "\n"); n != tt.rows {
			t.Errorf("--since %s: %d rows, want %d (%s)", tt.since, n, tt.rows, tt.explanation)
		}
	}
	code, _, errOut := run(t, "outcomes", "export", "--trace", db, "--since", "soon")
	if code != 2 || !strings.Contains(errOut, `--since "soon": write days (30d)`) {
		t.Errorf("--since soon: exit %d, %s", code, errOut)
	}
}

// readRows reads an outcomes file written by the command.
func readRows(t *testing.T, path string) []outcomes.Row {
	t.Helper()
	var rows []outcomes.Row
	if err := outcomes.ReadFile(path, func(r outcomes.Row) error { rows = append(rows, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestOutcomesCategory checks that import and convert can give rows the category estimate
// --measured matches them by.
func TestOutcomesCategory(t *testing.T) {
	dir := t.TempDir()
	imported := filepath.Join(dir, "rb.jsonl")
	code, _, errOut := run(t, "outcomes", "import", "--routerbench", "../../outcomes/testdata/routerbench.jsonl", "--category", "arc", "--out", imported)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	rows := readRows(t, imported)
	if len(rows) == 0 {
		t.Fatal("import wrote no rows")
	}
	for _, r := range rows {
		if r.Category != "arc" {
			t.Fatalf("imported row %+v: want category arc", r)
		}
	}
	converted := filepath.Join(dir, "rb.csv")
	code, _, errOut = run(t, "outcomes", "convert", imported, "--category", "science", "--format", "csv", "--out", converted)
	if code != 0 {
		t.Fatalf("convert: exit %d: %s", code, errOut)
	}
	again := readRows(t, converted)
	if len(again) != len(rows) {
		t.Fatalf("converted %d rows of %d", len(again), len(rows))
	}
	for _, r := range again {
		if r.Category != "science" {
			t.Fatalf("converted row %+v: want category science, replacing arc", r)
		}
	}
}

func TestOutcomesErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("item,model,prompt\na,m,p\nb,m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"import", "--routellm", "../../outcomes/testdata/routerbench.jsonl"}, "../../outcomes/testdata/routerbench.jsonl: routellm: line 1: no id"},
		{[]string{"convert", bad}, bad + ": line 3: the row has 2 cells, the header 3"},
		{[]string{"convert", "../../outcomes/testdata/routerbench.jsonl"}, "line 1: row has no model (is this a benchmark file? convert it with clearbar outcomes import --routerbench FILE"},
	}
	for _, tt := range tests {
		code, _, errOut := run(t, append([]string{"outcomes"}, tt.args...)...)
		if code != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("outcomes %v: exit %d, stderr %q; want %q", tt.args, code, errOut, tt.want)
		}
	}
}

// TestOutcomesExportPages: an export holds every decision of the window, however many (the
// store returns at most trace.MaxLimit a call), --limit counts decisions exactly and says when
// it left some out, and an unknown --category is an error that lists the store's categories.
func TestOutcomesExportPages(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	const n = trace.MaxLimit + 150
	ds := make([]*clearbar.Decision, n)
	for i := range ds {
		ds[i] = &clearbar.Decision{
			// Pairs of decisions share a time, so that a page can end inside a tie.
			ID: fmt.Sprintf("dec_%05d", i), Time: now.Add(-time.Duration(i/2) * time.Second), Category: "intent",
			PromptHash: "0123456789abcdef", Answer: "ok",
			Attempts: []clearbar.Attempt{{N: 1, Kind: clearbar.AttemptPrimary, Model: "small", Class: clearbar.OK, Outcome: "accepted"}},
		}
	}
	db := filepath.Join(t.TempDir(), "clearbar.db")
	store, err := trace.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Write(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	store.Close()
	out := filepath.Join(t.TempDir(), "rows.jsonl")

	code, _, errOut := run(t, "outcomes", "export", "--trace", db, "--out", out)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	rows := readRows(t, out)
	items := map[string]bool{}
	for _, r := range rows {
		items[r.Item] = true
	}
	if len(rows) != n || len(items) != n {
		t.Errorf("export wrote %d rows of %d decisions; want all %d", len(rows), len(items), n)
	}
	if strings.Contains(errOut, "--limit") {
		t.Errorf("a complete export mentions a limit: %s", errOut)
	}

	for _, limit := range []int{100, trace.MaxLimit + 1} {
		code, _, errOut = run(t, "outcomes", "export", "--trace", db, "--out", out, "--limit", fmt.Sprint(limit))
		if code != 0 {
			t.Fatalf("export --limit %d: exit %d: %s", limit, code, errOut)
		}
		if rows := readRows(t, out); len(rows) != limit {
			t.Errorf("export --limit %d wrote %d decisions", limit, len(rows))
		}
		if want := fmt.Sprintf("exported the newest %d decisions (--limit %d)", limit, limit); !strings.Contains(errOut, want) {
			t.Errorf("export --limit %d does not say it left decisions out: %s", limit, errOut)
		}
	}

	code, _, errOut = run(t, "outcomes", "export", "--trace", db, "--out", out, "--category", "nope")
	if code != 2 || !strings.Contains(errOut, `--category "nope"`) || !strings.Contains(errOut, "categories: intent") {
		t.Errorf("export --category nope: exit %d: %s; want exit 2 and the store's categories", code, errOut)
	}
}

// TestOutcomesImportRawFile: importing one of a dataset's raw CSVs names the dataset's
// outcomes.jsonl.gz beside the raw/ directory.
func TestOutcomesImportRawFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "raw"), 0o755); err != nil {
		t.Fatal(err)
	}
	raw, normal := filepath.Join(dir, "raw", "mbpp_test.csv"), filepath.Join(dir, "outcomes.jsonl.gz")
	for path, data := range map[string]string{raw: ",sample_id,prompt,eval_name\n0,mbpp.1,x,mbpp\n", normal: ""} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, _, errOut := run(t, "outcomes", "import", "--routerbench", raw)
	if code == 0 || !strings.Contains(errOut, "a CSV header") || !strings.Contains(errOut, "give "+normal) {
		t.Errorf("exit %d, stderr %q: want the raw file recognised and %s named", code, errOut, normal)
	}
}

// TestOutputReplacesTheFileOnlyOnSuccess: a command's --out file takes its new content only
// when the command succeeds: a convert of a file onto itself keeps every row, and a convert
// that fails half-way leaves the file it would have written as it was.
func TestOutputReplacesTheFileOnlyOnSuccess(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "t.jsonl")
	rows := `{"item":"a","prompt":"p","model":"m","pass":true}` + "\n" + `{"item":"b","prompt":"q","model":"m","pass":false}` + "\n"
	if err := os.WriteFile(table, []byte(rows), 0o640); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "outcomes", "convert", table, "--out", table); code != 0 || !strings.Contains(errOut, "wrote 2 rows") {
		t.Fatalf("convert onto itself: exit %d, %s", code, errOut)
	}
	got, _ := os.ReadFile(table)
	if n := strings.Count(string(got), `"item"`); n != 2 {
		t.Errorf("after converting onto itself the file has %d rows, want 2:\n%s", n, got)
	}
	if st, _ := os.Stat(table); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want the old file's 0640", st.Mode().Perm())
	}

	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("item,model,prompt,pass\na,m,p,true\nb,m,q,maybe\n"), 0o644)
	if code, _, _ := run(t, "outcomes", "convert", bad, "--out", table); code != 1 {
		t.Fatalf("a bad row: exit %d, want 1", code)
	}
	if after, _ := os.ReadFile(table); string(after) != string(got) {
		t.Errorf("a failed convert changed its --out file:\n%s", after)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	// A device is written as it is, not replaced.
	if code, _, errOut := run(t, "outcomes", "convert", table, "--out", os.DevNull); code != 0 {
		t.Errorf("--out %s: exit %d: %s", os.DevNull, code, errOut)
	}
}

// TestOutcomesExportTimeScale: decisions answered by simulated providers at a time scale
// (serve --time-scale) hold scaled wall-clock latencies; their rows hold the simulated ones,
// divided by the decision's scale, as shadow rows and review have them, so that estimate
// --measured compares them with the spec's. Decisions at real time are exported as recorded.
func TestOutcomesExportTimeScale(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	ds := []*clearbar.Decision{
		{ID: "dec_scaled", Time: now.Add(-time.Hour), Category: "intent", PromptHash: "0123456789abcdef", TimeScale: 0.02,
			Attempts: []clearbar.Attempt{
				{N: 1, Kind: clearbar.AttemptPrimary, Model: "small", Latency: 4 * time.Millisecond, Class: clearbar.Overloaded, Outcome: "fell back"},
				{N: 2, Kind: clearbar.AttemptFallback, Model: "strong", Latency: 5 * time.Millisecond, Class: clearbar.OK, Outcome: "accepted"},
			}},
		{ID: "dec_real", Time: now.Add(-2 * time.Hour), Category: "intent", PromptHash: "0123456789abcdef",
			Attempts: []clearbar.Attempt{{N: 1, Kind: clearbar.AttemptPrimary, Model: "small", Latency: 300 * time.Millisecond, Class: clearbar.OK, Outcome: "accepted"}}},
	}
	db := filepath.Join(t.TempDir(), "clearbar.db")
	store, err := trace.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Write(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	store.Close()
	out := filepath.Join(t.TempDir(), "rows.jsonl")
	code, _, errOut := run(t, "outcomes", "export", "--trace", db, "--out", out, "--since", "30d")
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	want := map[[2]string]float64{{"dec_scaled", "small"}: 200, {"dec_scaled", "strong"}: 250, {"dec_real", "small"}: 300}
	rows := readRows(t, out)
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for _, r := range rows {
		if w := want[[2]string{r.Item, r.Model}]; math.Abs(r.LatencyMS-w) > 1e-6 {
			t.Errorf("%s on %s: latency %vms, want %vms", r.Item, r.Model, r.LatencyMS, w)
		}
	}
	if !strings.Contains(errOut, "1 decision(s) were answered by simulated providers at a time scale") {
		t.Errorf("the export does not say it divided latencies by the time scale: %s", errOut)
	}
}

// TestOutcomesExportFeedsReplayAndEstimate: an export names models by their spec names, as
// decision records do, which replay and estimate --measured match first: two spec models of
// one provider model id (the same model at two vendors) stay apart, each measured on its own
// calls, and no row is left unmatched.
func TestOutcomesExportFeedsReplayAndEstimate(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specPath, []byte(`version: 1
name: exported
review: {last: 2026-11-01, cadence: monthly, owner: evals}
volume: {per_month: 1000}
providers:
  vendor-a: {type: simulated}
  vendor-b: {type: simulated}
models:
  mini: {provider: vendor-a, model: gpt-4.1-mini, latency: {p50: 200ms, p95: 400ms}}
  strong-a: {provider: vendor-a, model: gpt-4.1, latency: {p50: 200ms, p95: 400ms}}
  strong-b: {provider: vendor-b, model: gpt-4.1, latency: {p50: 200ms, p95: 400ms}}
categories:
  - name: qa
    share: 1
    tokens: {in: 100, out: 20}
    quality_bar: 0.8
    route:
      cascade: [mini, strong-a]
      validate: [{max_length: 2000}]
    fallback: [strong-b]
    assume:
      pass_rate: {mini: 0.8, strong-a: 0.9, strong-b: 0.9}
    why: Measured by the outcomes tests.
`), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var ds []*clearbar.Decision
	for i := range 60 {
		// Every request starts on mini; an answer the validators fail escalates to strong-a,
		// or, on every third request, to strong-b.
		d := &clearbar.Decision{ID: fmt.Sprintf("dec_%03d", i), Time: now.Add(-time.Duration(i) * time.Minute), Category: "qa",
			PromptHash: fmt.Sprintf("%016x", i), Answer: "ok"}
		verdict := func(pass bool) []clearbar.Verdict {
			return []clearbar.Verdict{{Validator: "at most 2000 characters", Pass: pass}}
		}
		passed, outcome := i%4 != 0, "accepted"
		if !passed {
			outcome = "escalated"
		}
		d.Attempts = append(d.Attempts, clearbar.Attempt{N: 1, Step: 1, Kind: clearbar.AttemptPrimary, Model: "mini", Provider: "vendor-a",
			Latency: 200 * time.Millisecond, Class: clearbar.OK, Verdicts: verdict(passed), Outcome: outcome})
		if !passed {
			strong, provider := "strong-a", "vendor-a"
			if i%3 == 0 {
				strong, provider = "strong-b", "vendor-b"
			}
			d.Attempts = append(d.Attempts, clearbar.Attempt{N: 2, Step: 2, Kind: clearbar.AttemptEscalation, Model: strong, Provider: provider,
				Latency: 300 * time.Millisecond, Class: clearbar.OK, Verdicts: verdict(true), Outcome: "accepted"})
		}
		ds = append(ds, d)
	}
	db := filepath.Join(dir, "clearbar.db")
	store, err := trace.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Write(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	store.Close()
	exported := filepath.Join(dir, "e.jsonl")
	if code, _, errOut := run(t, "outcomes", "export", "--trace", db, "--out", exported); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	calls := map[string]int{}
	for _, r := range readRows(t, exported) {
		calls[r.Model]++
	}
	if want := map[string]int{"mini": 60, "strong-a": 10, "strong-b": 5}; !maps.Equal(calls, want) {
		t.Fatalf("exported calls by model %v, want %v", calls, want)
	}

	code, out, errOut := run(t, "estimate", specPath, "--measured", exported, "--format", "json", "--samples", "20000")
	if code != 0 {
		t.Fatalf("estimate --measured: exit %d: %s", code, errOut)
	}
	var rep struct {
		Measured struct {
			Unmatched int `json:"unmatched_observations"`
			Findings  []struct{ Model, What string }
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	measured := map[string]bool{}
	for _, f := range rep.Measured.Findings {
		measured[f.Model] = true
	}
	if rep.Measured.Unmatched != 0 || !measured["mini"] || !measured["strong-a"] || !measured["strong-b"] {
		t.Errorf("estimate --measured on the export: %d unmatched, findings for %v; want none unmatched and every model measured", rep.Measured.Unmatched, measured)
	}

	code, out, errOut = run(t, "replay", specPath, "--outcomes", exported, "--category", "qa")
	if code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "3 models") || !strings.Contains(out, "single   strong-a") || !strings.Contains(out, "single   strong-b") {
		t.Errorf("replay of the export: want mini, strong-a and strong-b apart, each a single model:\n%s", out)
	}
}

// TestOutcomesFormatFollowsOut: without --format, every outcomes command writes the format
// the --out name says, gzip-compressed for a .gz name, as the readers of tables read it; a
// --format the name contradicts is refused, naming both.
func TestOutcomesFormatFollowsOut(t *testing.T) {
	dir := t.TempDir()
	bench := "../../outcomes/testdata/routerbench.jsonl"
	rb := filepath.Join(dir, "rb.jsonl")
	if code, _, errOut := run(t, "outcomes", "import", "--routerbench", bench, "--out", rb); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	want := len(readRows(t, rb))
	for _, c := range []struct {
		args   []string
		out    string
		header string // how the file starts, once uncompressed
		gz     bool
	}{
		{[]string{"convert", rb}, "all.csv", "item,category,", false},
		{[]string{"convert", rb}, "all.CSV.gz", "item,category,", true},
		{[]string{"convert", rb}, "all.jsonl.gz", `{"item":`, true},
		{[]string{"convert", rb, "--format", "csv"}, "all2.csv", "item,category,", false},
		{[]string{"import", "--routerbench", bench}, "rb.csv", "item,category,", false},
		{[]string{"import", "--routerbench", bench}, "rb.json", `{"item":`, false},
	} {
		out := filepath.Join(dir, c.out)
		if code, _, errOut := run(t, append(append([]string{"outcomes"}, c.args...), "--out", out)...); code != 0 {
			t.Fatalf("%v --out %s: exit %d: %s", c.args, c.out, code, errOut)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if gz := len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b; gz != c.gz {
			t.Errorf("%v --out %s: gzip-compressed %v; want %v", c.args, c.out, gz, c.gz)
			continue
		}
		if c.gz {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if !strings.HasPrefix(string(data), c.header) {
			t.Errorf("%v --out %s starts %.40q; want %q", c.args, c.out, data, c.header)
		}
		if got := len(readRows(t, out)); got != want {
			t.Errorf("%v --out %s: %d rows read back; want %d", c.args, c.out, got, want)
		}
	}
	for _, c := range []struct{ out, format, want string }{
		{"x.csv", "jsonl", "--format jsonl contradicts --out " + filepath.Join(dir, "x.csv") + ", which names a CSV file"},
		{"x.jsonl.gz", "csv", "name the file " + filepath.Join(dir, "x.csv.gz")},
		{"x.json", "csv", "which names a JSON Lines file"},
	} {
		for _, args := range [][]string{{"convert", rb}, {"import", "--routerbench", bench}, {"export", "--trace", filepath.Join(dir, "none.db")}} {
			out := filepath.Join(dir, c.out)
			code, _, errOut := run(t, append(append([]string{"outcomes"}, args...), "--out", out, "--format", c.format)...)
			if code != 2 || !strings.Contains(errOut, c.want) {
				t.Errorf("%s --out %s --format %s: exit %d, %q; want exit 2 and %q", args[0], c.out, c.format, code, errOut, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s --out %s --format %s wrote the file", args[0], c.out, c.format)
			}
		}
	}
}

// TestOutcomesConvertKeepsGradedBy: converting an eval run's table to CSV and back keeps which
// rows the category's validators alone graded, and the retries before each row's call, which
// estimate --measured reads.
func TestOutcomesConvertKeepsGradedBy(t *testing.T) {
	dir := t.TempDir()
	src, csvPath, back := filepath.Join(dir, "eval.jsonl"), filepath.Join(dir, "eval.csv"), filepath.Join(dir, "back.jsonl")
	if err := os.WriteFile(src, []byte(`{"item":"a","prompt":"p","model":"m","pass":true,"source":"eval","graded_by":"validators"}
{"item":"b","prompt":"q","model":"m","pass":true,"source":"eval","graded_by":"checks","retries":3}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{{src, csvPath}, {csvPath, back}} {
		if code, _, errOut := run(t, "outcomes", "convert", c[0], "--out", c[1]); code != 0 {
			t.Fatalf("convert %s --out %s: exit %d: %s", c[0], c[1], code, errOut)
		}
	}
	var got []string
	if err := outcomes.ReadFileLines(back, func(_ outcomes.Row, line []byte) error {
		got = append(got, gjson.GetBytes(line, "graded_by").Str+" "+gjson.GetBytes(line, "retries").Raw)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"validators ", "checks 3"}; !slices.Equal(got, want) {
		t.Errorf("graded_by and retries after JSON Lines → CSV → JSON Lines: %q; want %q", got, want)
	}
}
