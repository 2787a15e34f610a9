package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/trace"
)

// run runs the clearbar command line in-process.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""),
		Now: func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }}
	code = m.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

func exampleFiles(t *testing.T) []string {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) < 5 {
		t.Fatalf("want the quick start and four worked examples, found %v", files)
	}
	return files
}

// TestEveryExampleEstimates runs the README's main command on every example.
func TestEveryExampleEstimates(t *testing.T) {
	for _, f := range exampleFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, out, errOut := run(t, "estimate", f, "--samples", "40000", "--format", "json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var r struct {
				Recommended string `json:"recommended"`
				Policies    []struct {
					Name  string `json:"name"`
					Clear bool   `json:"clears_all"`
				} `json:"policies"`
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if r.Recommended == "" || len(r.Policies) < 3 {
				t.Errorf("recommended %q among %d policies", r.Recommended, len(r.Policies))
			}
			code, _, errOut = run(t, "spec", "check", f)
			if code != 0 {
				t.Errorf("spec check: exit %d: %s", code, errOut)
			}
		})
	}
}

func TestEstimateTable(t *testing.T) {
	code, out, errOut := run(t, "estimate", "../../examples/quickstart.yaml", "--samples", "30000", "--sensitivity", "20%")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"POLICY", "Recommended:", "Per category", "Which route to optimise first", "Sensitivity (each input moved ±20%"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestEstimateHTMLFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.html")
	code, _, errOut := run(t, "estimate", "../../examples/support-triage.yaml", "--samples", "20000", "--out", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("<!DOCTYPE html>")) || !bytes.Contains(data, []byte("<svg")) {
		t.Errorf("--out report.html did not write an HTML report with a chart")
	}
	if !strings.Contains(errOut, "wrote "+path) {
		t.Errorf("stderr should say where the report went: %q", errOut)
	}
}

func TestBadSpecExitsWithFileLine(t *testing.T) {
	code, _, errOut := run(t, "spec", "check", "../../spec/testdata/shares.bad.yaml")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(errOut, "../../spec/testdata/shares.bad.yaml:7: category shares sum to 0.999, not 1") {
		t.Errorf("stderr lacks file:line and the fix:\n%s", errOut)
	}
	code, _, _ = run(t, "estimate", "../../spec/testdata/shares.bad.yaml")
	if code != 1 {
		t.Errorf("estimate of a bad spec: exit %d, want 1", code)
	}
}

// TestSpecCheckCompilesWhatServeCompiles: a spec whose parts load but would not compile in the
// gateway (a rule that does not parse, a router file that is not one, a schema that is not a
// schema, an unknown heuristic feature) fails spec check and estimate with serve's file:line.
func TestSpecCheckCompilesWhatServeCompiles(t *testing.T) {
	base, err := os.ReadFile("../../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, old, new, want string
		files                map[string]string
	}{
		{"rule", `last_user matches`, `last_user matchs`, `rule: unexpected token Identifier("matchs")`, nil},
		{"router file", `route: {model: mini}`, `route: {score: {router: r.json, models: [nano, mini], threshold: 0.5}}`, "r.json: not a model file", map[string]string{"r.json": "{nope"}},
		{"heuristic weight", `route: {model: mini}`, `route: {score: {heuristic: {tiers: [0.5], weights: {lenght: 1}}, models: [nano, mini]}}`, "unknown feature lenght (did you mean length?)", nil},
		{"schema", `{json_schema: schemas/intent.json}`, `{json_schema: bad.json}`, "schema bad.json does not compile", map[string]string{"bad.json": `{"type": "objekt"}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(base, []byte(tc.old)) {
				t.Fatalf("the quick start no longer has %q", tc.old)
			}
			dir := t.TempDir()
			schema, err := os.ReadFile("../../examples/schemas/intent.json")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(filepath.Join(dir, "schemas"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "schemas", "intent.json"), schema, 0o644); err != nil {
				t.Fatal(err)
			}
			for name, body := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			f := filepath.Join(dir, "spec.yaml")
			if err := os.WriteFile(f, bytes.Replace(base, []byte(tc.old), []byte(tc.new), 1), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, cmd := range [][]string{{"spec", "check", f}, {"estimate", f, "--samples", "1000"}} {
				code, _, errOut := run(t, cmd...)
				if code != 1 || !strings.Contains(errOut, f+":") || !strings.Contains(errOut, tc.want) {
					t.Errorf("%s: exit %d, want 1 with %s:LINE and %q:\n%s", cmd[0], code, f, tc.want, errOut)
				}
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"frobnicate"},
		{"estimate"},
		{"estimate", "a.yaml", "b.yaml"},
		{"estimate", "../../examples/quickstart.yaml", "--format", "pdf"},
		{"estimate", "../../examples/quickstart.yaml", "--sensitivity", "150%"},
		{"spec", "lint"},
		{"worksheet"},
	} {
		if code, _, _ := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", args, code)
		}
	}
	if code, out, _ := run(t, "estimate", "-h"); code != 0 || !strings.Contains(out, "  --samples") {
		t.Errorf("estimate -h: exit %d, output %q", code, out)
	}
	// Help on a command with subcommands, and clearbar help COMMAND.
	for _, args := range [][]string{{"spec", "--help"}, {"worksheet", "-h"}, {"validate", "help"}, {"keys", "--help"}} {
		if code, out, errOut := run(t, args...); code != 0 || !strings.Contains(out, "Usage: clearbar "+args[0]) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want its usage and 0", args, code, out, errOut)
		}
	}
	if code, out, _ := run(t, "help", "replay"); code != 0 || !strings.Contains(out, "Usage: clearbar replay") || !strings.Contains(out, "  --calibrate") {
		t.Errorf("help replay: exit %d, output %q", code, out)
	}
}

func TestSpecDocFlagsOverdueReview(t *testing.T) {
	code, out, errOut := run(t, "spec", "doc", "../../examples/expert-assistant.yaml", "--today", "2027-03-01")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"# Routing policy: expert-assistant", "**Why it is routed this way:**", "OVERDUE by", "Review overdue"} {
		if !strings.Contains(out, want) {
			t.Errorf("doc lacks %q", want)
		}
	}
	code, out, _ = run(t, "spec", "doc", "../../examples/quickstart.yaml", "--format", "html", "--today", "2026-12-15")
	if code != 0 || !strings.Contains(out, "<!DOCTYPE html>") || strings.Contains(out, "OVERDUE") {
		t.Errorf("html doc of a current spec: exit %d, overdue shown: %v", code, strings.Contains(out, "OVERDUE"))
	}
}

func TestPrices(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("../../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Override one price and one context window so the differences from the catalogue are shown.
	s := strings.Replace(string(src), "    model: gpt-4.1-mini\n", "    model: gpt-4.1-mini\n    price: {input: 0.30}\n", 1)
	s = strings.Replace(s, "    model: gpt-4.1-nano\n", "    model: gpt-4.1-nano\n    context_window: 32000\n", 1)
	path := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "schemas"), 0o755)
	schema, _ := os.ReadFile("../../examples/schemas/intent.json")
	os.WriteFile(filepath.Join(dir, "schemas", "intent.json"), schema, 0o644)
	code, out, errOut := run(t, "prices", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"gpt-4.1-nano", "$0.1/M", "input -25% vs catalogue $0.4/M", "context window 32k vs catalogue 1,047k", "2 model(s) differ from the catalogue"} {
		if !strings.Contains(out, want) {
			t.Errorf("prices output lacks %q:\n%s", want, out)
		}
	}
}

// TestPricesShowWebSearch: a Claude model's price per web search, which the gateway bills for
// the searches Anthropic's web search tool reports, and its price of a 1-hour cache write are
// shown.
func TestPricesShowWebSearch(t *testing.T) {
	code, out, errOut := run(t, "prices", "../../examples/cross-vendor.yaml")
	// The REASONING column is the reasoning price: sonnet's is its output price's, unset, and
	// not its 1-hour cache-write price ($6/M).
	for line := range strings.SplitSeq(out, "\n") {
		if f := strings.Fields(line); len(f) > 6 && f[0] == "sonnet" && f[6] != "-" {
			t.Errorf("sonnet's reasoning price shows %s, want -:\n%s", f[6], line)
		}
	}
	if code != 0 || !strings.Contains(out, "Web searches are billed on top of the tokens: sonnet $0.01 a search.") ||
		!strings.Contains(out, "Prompt tokens written to Anthropic's 1-hour cache are billed at their own price per million tokens: sonnet $6/M.") {
		t.Errorf("exit %d: %s\n%s", code, out, errOut)
	}
}

// TestPricesShowLongContextTier: a model the catalogue prices higher above a long-context
// threshold shows that tier, which the estimate applies to long requests.
func TestPricesShowLongContextTier(t *testing.T) {
	code, out, errOut := run(t, "prices", "../../examples/rag-assistant.yaml")
	if code != 0 || !strings.Contains(out, "above 200k: $2.5/M in, $15/M out") {
		t.Errorf("exit %d: %s\n%s", code, out, errOut)
	}
}

func TestSpecSchemaIsJSON(t *testing.T) {
	code, out, _ := run(t, "spec", "schema")
	var v map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v["$schema"] == nil {
		t.Errorf("spec schema: exit %d, not a JSON Schema", code)
	}
}

// TestWorksheetRoundTrip exports an example as a worksheet, imports it back and checks the
// imported spec loads and estimates.
func TestWorksheetRoundTrip(t *testing.T) {
	dir := t.TempDir()
	sheet := filepath.Join(dir, "sheet.csv")
	code, _, errOut := run(t, "worksheet", "export", "../../examples/quickstart.yaml", "--out", sheet, "--samples", "20000")
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	data, _ := os.ReadFile(sheet)
	if !strings.HasPrefix(string(data), "task category,traffic share,quality threshold,primary model,fallback model") {
		t.Errorf("worksheet header: %q", strings.SplitN(string(data), "\n", 2)[0])
	}
	imported := filepath.Join(dir, "imported.yaml")
	code, _, errOut = run(t, "worksheet", "import", sheet, "--out", imported)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	if _, err := spec.Load(imported, spec.Options{}); err != nil {
		t.Fatalf("imported spec does not load: %v", err)
	}
	if code, _, errOut := run(t, "estimate", imported, "--samples", "20000"); code != 0 {
		t.Errorf("imported spec does not estimate: %s", errOut)
	}
}

// TestWorksheetImportWarnsOfPlaceholders: a worksheet without pass rates imports, with
// placeholders the estimate would take at face value, and the import says so on stderr.
func TestWorksheetImportWarnsOfPlaceholders(t *testing.T) {
	dir := t.TempDir()
	sheet := filepath.Join(dir, "sheet.csv")
	csv := "task category,traffic share,quality threshold,primary model,fallback model,average tokens in,average tokens out,validation rule,estimated pass rate,estimated latency,estimated per-request cost,last review date\n" +
		"qa,1,0.9,gpt-4o-mini,,100,20,,,,,\n"
	if err := os.WriteFile(sheet, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "worksheet", "import", sheet, "--out", filepath.Join(dir, "spec.yaml"))
	if code != 0 || !strings.Contains(errOut, "warning: Pass rates marked placeholder, in qa") || !strings.Contains(errOut, "clears its bar") {
		t.Errorf("import: exit %d, stderr %q; want a warning about the placeholder pass rate", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "version")
	if code != 0 || !strings.Contains(out, "price catalogue:") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestValidateCalibrate(t *testing.T) {
	dir := t.TempDir()
	specFile := filepath.Join(dir, "calibrate.yaml")
	data, _ := os.ReadFile("testdata/calibrate.yaml")
	os.WriteFile(specFile, data, 0o644)
	code, out, errOut := run(t, "validate", "calibrate", specFile, "--category", "extract", "testdata/labelled.jsonl", "--update")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// 6 bad answers, 4 detected; 10 good ones, 1 flagged (a fenced JSON).
	if !strings.Contains(out, "on 16 labelled answers (1 rows without a response or label skipped)") ||
		!strings.Contains(out, "assume: {validator: {detect: 0.667, false_alarm: 0.100}}") {
		t.Errorf("calibration output:\n%s", out)
	}
	updated, _ := os.ReadFile(specFile)
	if !strings.Contains(string(updated), "detect: 0.667") || !strings.Contains(string(updated), "calibrated: 20") ||
		!strings.Contains(string(updated), "# A spec whose extraction category validates answers with a schema.") {
		t.Errorf("the spec was not updated in place with its comments kept:\n%s", updated)
	}
	if _, err := spec.Load(specFile, spec.Options{}); err != nil {
		t.Errorf("the updated spec does not load: %v", err)
	}
}

// TestValidateCalibrateLeavesOutCircularLabels: rows an eval run graded with the category's
// validators, and rows of decision records (whose pass is their validators' verdicts), carry
// the validators' own verdict as their label, so calibrating those
// validators on them would measure a perfect validator whatever it is: they are left out
// and counted, and a file of nothing else is refused with what to do instead.
func TestValidateCalibrateLeavesOutCircularLabels(t *testing.T) {
	dir := t.TempDir()
	specFile := filepath.Join(dir, "calibrate.yaml")
	data, _ := os.ReadFile("testdata/calibrate.yaml")
	os.WriteFile(specFile, data, 0o644)
	labelled, _ := os.ReadFile("testdata/labelled.jsonl")
	circular := `{"item": "v1", "prompt": "extract", "model": "gpt-4o-mini", "response": "not json", "pass": false, "checks": [{"check": "validators (JSON Schema (inline))", "pass": false, "score": 0}]}
{"item": "v2", "prompt": "extract", "model": "gpt-4o-mini", "response": "{\"id\": \"7\"}", "pass": true, "checks": [{"check": "exact", "pass": true, "score": 1}, {"check": "validators (JSON Schema (inline))", "pass": true, "score": 1}]}
`
	// A decision record's row: its pass is its validators' verdicts.
	circular += `{"item": "t1", "prompt": "extract", "model": "gpt-4o-mini", "response": "{}", "pass": true, "source": "trace", "verdicts": [{"validator": "JSON Schema (inline)", "pass": true}]}
`
	mixed, only := filepath.Join(dir, "mixed.jsonl"), filepath.Join(dir, "only.jsonl")
	os.WriteFile(mixed, append(labelled, circular...), 0o644)
	os.WriteFile(only, []byte(circular), 0o644)
	code, out, errOut := run(t, "validate", "calibrate", specFile, "--category", "extract", mixed)
	if code != 0 || !strings.Contains(out, "on 16 labelled answers") || !strings.Contains(out, "detect: 0.667, false_alarm: 0.100") ||
		!strings.Contains(errOut, "3 rows left out: their labels were given by validators themselves") {
		t.Errorf("with 3 rows labelled by validators: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = run(t, "validate", "calibrate", specFile, "--category", "extract", only)
	if code == 0 || !strings.Contains(errOut, "given by validators themselves") || !strings.Contains(errOut, "checks of their own") {
		t.Errorf("with only rows graded by the validators: exit %d\n%s", code, errOut)
	}
}

// TestValidateCalibrateWholeRequests: rows that record the whole request and the answer's
// tool calls are checked as the gateway checks them: against the request's tools.
func TestValidateCalibrateWholeRequests(t *testing.T) {
	code, out, errOut := run(t, "validate", "calibrate", "../../examples/support-triage.yaml", "--category", "order-status", "testdata/labelled-tools.jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// 4 bad answers: no call, cut arguments and a function not offered are caught; a
	// well-formed call with the wrong order id is not. 9 good ones: a lower-case order id
	// fails the tool's pattern. Read from the prompt alone, every call would be "not offered".
	if !strings.Contains(out, "on 13 labelled answers") || !strings.Contains(out, "assume: {validator: {detect: 0.750, false_alarm: 0.111}}") {
		t.Errorf("calibration output:\n%s", out)
	}
}

func TestOutcomesImportRouterBench(t *testing.T) {
	const src = "../../../shared/data/routerbench_subset/outcomes.jsonl.gz"
	if _, err := os.Stat(src); err != nil {
		t.Skipf("the shared RouterBench data is not here (%v); nothing to import", err)
	}
	out := filepath.Join(t.TempDir(), "rb.jsonl")
	code, _, errOut := run(t, "outcomes", "import", "--routerbench", src, "--out", out)
	if code != 0 || !strings.Contains(errOut, "wrote 34958 rows") {
		t.Errorf("exit %d: %s (want 3,178 prompts × 11 models = 34,958 rows)", code, errOut)
	}
	code, csv, _ := run(t, "outcomes", "convert", out, "--format", "csv")
	if code != 0 || strings.Count(csv, "\n") < 34959 {
		t.Errorf("convert to CSV: exit %d, %d lines", code, strings.Count(csv, "\n"))
	}
}

// TestFlaggedStore: flagged refuses a decision store that does not exist (and creates none),
// and lists no flagged decision as an empty JSON list.
func TestFlaggedStore(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.db")
	if code, _, errOut := run(t, "flagged", "--trace", missing); code != 2 || !strings.Contains(errOut, "no trace store at "+missing) {
		t.Errorf("missing store: exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("flagged created %s", missing)
	}
	db := filepath.Join(dir, "d.db")
	store, err := trace.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	if code, out, errOut := run(t, "flagged", "--trace", db, "--format", "json"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("no flagged decision as JSON: exit %d, %q %s", code, out, errOut)
	}
}

// TestSpecDocOutFormat: spec doc writes the format its --out names, as estimate does, and an
// extension it cannot write is an error, not a document in another format.
func TestSpecDocOutFormat(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ file, start string }{{"doc.HTM", "<!DOCTYPE html>"}, {"doc.md", "# Routing policy:"}, {"doc", "# Routing policy:"}} {
		out := filepath.Join(dir, tc.file)
		if code, _, errOut := run(t, "spec", "doc", "../../examples/quickstart.yaml", "--out", out); code != 0 {
			t.Fatalf("--out %s: exit %d: %s", tc.file, code, errOut)
		}
		if b, _ := os.ReadFile(out); !strings.HasPrefix(string(b), tc.start) {
			t.Errorf("--out %s wrote %.30q, want it to start with %q", tc.file, b, tc.start)
		}
	}
	if code, _, errOut := run(t, "spec", "doc", "../../examples/quickstart.yaml", "--out", filepath.Join(dir, "doc.pdf")); code != 2 || !strings.Contains(errOut, "written as Markdown (.md, .markdown) or HTML (.html, .htm)") {
		t.Errorf("--out doc.pdf: exit %d: %s", code, errOut)
	}
}

// TestArgumentCountSaysWhatIsWrong: a missing or an extra argument is named before the usage
// line, and exits 2.
func TestArgumentCountSaysWhatIsWrong(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"estimate"}, "clearbar estimate: missing argument (usage: clearbar estimate SPEC.yaml"},
		{[]string{"estimate", "a.yaml", "b.yaml"}, `clearbar estimate: unexpected argument "b.yaml" (usage: clearbar estimate SPEC.yaml`},
	} {
		code, _, errOut := run(t, c.args...)
		if code != 2 || !strings.HasPrefix(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q…", c.args, code, errOut, c.want)
		}
	}
}
