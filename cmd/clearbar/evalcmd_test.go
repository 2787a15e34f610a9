package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/spec"
)

// runEvalCmd runs "clearbar eval ARGS" in-process. Once eval is in the command list it goes
// through Main.Run like every other command (run); until then it calls runEval and maps its
// error to the exit status the way Run does.
func runEvalCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	m := &Main{}
	if slices.ContainsFunc(m.commands(), func(c command) bool { return c.name == "eval" }) {
		return run(t, append([]string{"eval"}, args...)...)
	}
	var out, errb bytes.Buffer
	m = &Main{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""),
		Now: func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }}
	err := m.runEval(context.Background(), args)
	var ue *usageError
	var he *helpError
	var se spec.Errors
	switch {
	case err == nil:
	case errors.As(err, &he):
		he.print(&out)
	case errors.As(err, &ue):
		fmt.Fprintf(&errb, "clearbar eval: %s\n", ue.msg)
		code = 2
	case errors.As(err, &se):
		fmt.Fprintln(&errb, se.Error())
		code = 1
	default:
		fmt.Fprintf(&errb, "clearbar eval: %v\n", err)
		code = 1
	}
	return code, out.String(), errb.String()
}

// evalDir copies the eval package's simulated spec (two models with known pass rates, a
// perfect validator) into a temporary directory with an eval set of n items.
func evalDir(t *testing.T, n int) (dir, specPath, setPath string) {
	t.Helper()
	dir = t.TempDir()
	data, err := os.ReadFile("../../eval/testdata/recover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	specPath = filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "{\"id\": \"t%d\", \"prompt\": \"Extract the id from ticket %d.\"}\n", i, i)
	}
	setPath = filepath.Join(dir, "tickets.jsonl")
	if err := os.WriteFile(setPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, specPath, setPath
}

func TestEvalEndToEnd(t *testing.T) {
	dir, specPath, setPath := evalDir(t, 400)
	code, out, errOut := runEvalCmd(t, specPath, "--category", "extract", "--set", setPath, "--update")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"400 items × 2 models",
		"800 pairs run now (0 failed calls), 0 resumed from " + filepath.Join(dir, "tickets.outcomes.jsonl"),
		"CATEGORY  MODEL", "PASS RATE (95% CI)",
		"Updated " + specPath + `, category "extract" (review the diff):`,
		"assume.pass_rate.small: 0.7 → ",
		// Every answer is simulated (the spec's providers are of type simulated): the
		// measurements are written, said to be simulated, and the review date is not moved.
		"note: review.last not written: every answer came from simulated providers",
		"note: the measurements written into " + specPath + " come from simulated providers",
		// The simulator reports the latency it drew, which holds at any time scale.
		"assume.latency.small: (the model's: {p50: 800ms, p95: 2s}) → {p50: ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(errOut, "\r") {
		t.Errorf("stderr is not a terminal, yet a progress bar was drawn: %q", errOut)
	}
	if strings.Contains(out, "scheduling overhead is magnified") {
		t.Errorf("simulated latencies are drawn, not timed, yet the output says they are not measurements:\n%s", out)
	}

	// The outcomes table: one row per pair, readable by the outcomes package.
	f, err := os.Open(filepath.Join(dir, "tickets.outcomes.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	rd := outcomes.NewReader(f)
	rows := 0
	for rd.Next() {
		if r := rd.Row(); r.Source != "eval" || r.Category != "extract" || r.Pass == nil || r.LatencyMS <= 0 || r.TokensIn == 0 {
			t.Fatalf("row %+v: want an eval row with a grade, latency and tokens", r)
		}
		rows++
	}
	f.Close()
	if rd.Err() != nil || rows != 800 {
		t.Fatalf("%d rows (%v), want 800", rows, rd.Err())
	}

	// The spec is updated in place, comments kept, and loads.
	updated, _ := os.ReadFile(specPath)
	for _, keep := range []string{"# the truth the eval must recover", "# A perfect validator", "review: {last: 2026-11-01"} {
		if !bytes.Contains(updated, []byte(keep)) {
			t.Errorf("the updated spec lacks %q:\n%s", keep, updated)
		}
	}
	s, err := spec.Load(specPath, spec.Options{})
	if err != nil {
		t.Fatalf("the updated spec does not load: %v", err)
	}
	// 400 items measure a 0.7 pass rate to within about ±0.045.
	if p, _ := s.Category("extract").PassRate(s.Model("small")); p < 0.62 || p > 0.78 {
		t.Errorf("measured pass rate %v written for small; want about 0.7", p)
	}

	// Run again: everything is resumed, nothing is called.
	code, out, errOut = runEvalCmd(t, specPath, "--category", "extract", "--set", setPath, "--format", "json")
	if code != 0 {
		t.Fatalf("second run: exit %d: %s", code, errOut)
	}
	var rep struct {
		Ran     int `json:"ran"`
		Resumed int `json:"resumed"`
		Models  []struct {
			Model    string     `json:"model"`
			Graded   int        `json:"graded"`
			PassRate float64    `json:"pass_rate"`
			CI       [2]float64 `json:"pass_rate_ci95"`
			P50      float64    `json:"latency_p50_ms"`
		} `json:"models"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--format json is not JSON: %v\n%s", err, out)
	}
	if rep.Ran != 0 || rep.Resumed != 800 || len(rep.Models) != 2 || rep.Models[1].Model != "strong" || rep.Models[1].Graded != 400 ||
		rep.Models[1].CI[0] > rep.Models[1].PassRate || rep.Models[1].P50 <= 0 {
		t.Errorf("resumed report %+v: want nothing run, 800 resumed, both models summarised", rep)
	}
}

// TestEvalUpdatesLatency runs the simulator at a time scale where latencies can be measured:
// --update writes them as the category's latency assumption.
func TestEvalUpdatesLatency(t *testing.T) {
	_, specPath, setPath := evalDir(t, 40)
	code, out, errOut := runEvalCmd(t, specPath, "--category", "extract", "--set", setPath, "--models", "small", "--time-scale", "0.05", "--concurrency", "20", "--update")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "assume.latency.small: (the model's: {p50: 800ms, p95: 2s}) → {p50: ") || strings.Contains(out, "note: latencies are") {
		t.Errorf("at time scale 0.05 the latencies are written, without a caveat:\n%s", out)
	}
	s, err := spec.Load(specPath, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// 40 draws of a lognormal with median 800ms: the sample median is within ±30% or so.
	if l := s.Category("extract").LatencyFor(s.Model("small")); l.P50.D() < 500*time.Millisecond || l.P50.D() > 1300*time.Millisecond || l.P95 < l.P50 {
		t.Errorf("measured latency {p50: %v, p95: %v}; want a median near the simulated 800ms", l.P50.D(), l.P95.D())
	}
	if _, ok := s.Category("extract").Assume.Latency["strong"]; ok {
		t.Errorf("strong was not evaluated, yet its latency was written")
	}
}

func TestEvalProgressBar(t *testing.T) {
	_, specPath, setPath := evalDir(t, 20)
	out := filepath.Join(t.TempDir(), "out.jsonl")
	code, _, errOut := runEvalCmd(t, specPath, "--category", "extract", "--set", setPath, "--out", out, "--models", "small", "--progress", "always")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "\r20/20 [") || !strings.Contains(errOut, "errors 0") {
		t.Errorf("--progress always draws the bar even off a terminal: %q", errOut)
	}
	_, specPath, setPath = evalDir(t, 5)
	code, _, errOut = runEvalCmd(t, specPath, "--category", "extract", "--set", setPath, "--progress", "never")
	if code != 0 || errOut != "" {
		t.Errorf("--progress never: exit %d, stderr %q; want nothing on stderr", code, errOut)
	}
}

func TestEvalSimulatedSpecOfRealProviders(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "spec.yaml")
	os.WriteFile(specPath, []byte(`version: 1
name: real
review: {last: 2026-11-01}
volume: {per_month: 1000}
providers:
  openai: {type: openai, api_key: "${EVAL_TEST_OPENAI_KEY}"}
models:
  mini: {provider: openai, model: gpt-4.1-mini, latency: {p50: 1s, p95: 2s}}
categories:
  - name: qa
    share: 1
    tokens: {in: 100, out: 20}
    quality_bar: 0.5
    route: {model: mini}
    assume: {pass_rate: {mini: 0.9}}
`), 0o644)
	setPath := filepath.Join(dir, "qa.jsonl")
	os.WriteFile(setPath, []byte(`{"id": "a", "prompt": "Say ok", "reference": "ok"}`+"\n"), 0o644)

	code, _, errOut := runEvalCmd(t, specPath, "--category", "qa", "--set", setPath, "--time-scale", "0.001")
	if code != 2 || !strings.Contains(errOut, "--time-scale applies to simulated providers, and model mini is on provider openai (type openai): add --simulate") {
		t.Errorf("--time-scale on a real provider: exit %d, %q", code, errOut)
	}
	code, out, errOut := runEvalCmd(t, specPath, "--category", "qa", "--set", setPath, "--simulate", "--time-scale", "0.001")
	if code != 0 || !strings.Contains(out, "1 pairs run now") {
		t.Fatalf("--simulate runs a spec of real providers without keys: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "qa.simulated.outcomes.jsonl")); err != nil {
		t.Errorf("a simulated run writes its own outcomes file, apart from real measurements: %v", err)
	}
}

func TestEvalErrors(t *testing.T) {
	_, specPath, setPath := evalDir(t, 3)
	badSet := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(badSet, []byte("{\"id\": \"a\", \"prompt\": \"x\"}\n{\"id\": \"a\", \"prompt\": \"y\"}\n"), 0o644)
	tests := []struct {
		args        []string
		code        int
		want        string
		explanation string
	}{
		{[]string{specPath, "--set", setPath}, 2, "--category is required", ""},
		{[]string{specPath, "--category", "extract"}, 2, "--set is required", ""},
		{[]string{specPath, "--category", "nope", "--set", setPath}, 2, `the spec has no category "nope" (categories: extract)`, "the message lists the categories"},
		{[]string{specPath, "--category", "extract", "--set", setPath, "--models", "small,huge"}, 2, `--models: the spec has no model "huge" (models: small, strong)`, ""},
		{[]string{specPath, "--category", "extract", "--set", setPath, "--rate", "fast"}, 2, "--rate: rate limit \"fast\": write requests per second", ""},
		{[]string{specPath, "--category", "extract", "--set", setPath, "--concurrency", "0"}, 2, "--concurrency 0", ""},
		{[]string{specPath, "--category", "extract", "--set", setPath, "--progress", "maybe"}, 2, "--progress \"maybe\"", ""},
		{[]string{specPath, "--category", "extract", "--set", badSet}, 1, badSet + `:2: item "a": the id is already used on line 1`, "set errors name the file and line"},
		{[]string{specPath, "--category", "extract", "--set", filepath.Join(t.TempDir(), "missing.jsonl")}, 1, "eval set: open", ""},
	}
	for _, tt := range tests {
		code, _, errOut := runEvalCmd(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q %s", tt.args, code, errOut, tt.code, tt.want, tt.explanation)
		}
	}
	if code, out, _ := runEvalCmd(t, "-h"); code != 0 || !strings.Contains(out, "-category") || !strings.Contains(out, "-time-scale") {
		t.Errorf("eval -h: exit %d, %q", code, out)
	}
}

// TestEvalSimulatedReferences runs a set graded by references on --simulate: the measured pass
// rates are the spec's assumptions (0.7 and 0.95), not those of canned answers that match no
// reference, so --update writes back about what the spec assumed.
func TestEvalSimulatedReferences(t *testing.T) {
	_, specPath, setPath := evalDir(t, 0)
	var b strings.Builder
	for i := range 400 {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, "{\"id\": \"t%d\", \"prompt\": \"Extract the id from ticket %d.\", \"reference\": \"{\\\"id\\\": \\\"T-%d\\\"}\"}\n", i, i, i)
		case 1:
			fmt.Fprintf(&b, "{\"id\": \"t%d\", \"prompt\": \"How many items are in order %d?\", \"checks\": [{\"numeric\": %d}]}\n", i, i, i%7)
		default:
			fmt.Fprintf(&b, "{\"id\": \"t%d\", \"prompt\": \"Which intent is ticket %d?\", \"checks\": [{\"contains\": \"refund\"}]}\n", i, i)
		}
	}
	if err := os.WriteFile(setPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runEvalCmd(t, specPath, "--category", "extract", "--set", setPath, "--simulate", "--update")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	s, err := spec.Load(specPath, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat := s.Category("extract")
	for model, want := range map[string]float64{"small": 0.7, "strong": 0.95} {
		if p, _ := cat.PassRate(s.Model(model)); p < want-0.08 || p > want+0.05 {
			t.Errorf("%s: measured pass rate %v written, want about the assumed %v:\n%s", model, p, want, out)
		}
	}
}

func TestEvalWarnsOfReferencesTheValidatorsFail(t *testing.T) {
	_, specPath, setPath := evalDir(t, 0)
	set := `{"id": "a", "prompt": "Extract the id.", "reference": "{\"name\": \"x\"}"}` + "\n" +
		`{"id": "b", "prompt": "Extract the id.", "reference": "{\"id\": \"x\"}"}` + "\n"
	if err := os.WriteFile(setPath, []byte(set), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runEvalCmd(t, specPath, "--category", "extract", "--set", setPath)
	want := "clearbar eval: warning: " + setPath + `:1: item "a": the category's validators fail the reference itself`
	if code != 0 || !strings.Contains(errOut, want) || strings.Count(errOut, "warning:") != 1 {
		t.Errorf("exit %d, stderr:\n%s\nwant one warning: %q", code, errOut, want)
	}
}

// TestEvalSimulatedWithoutPassRate: a simulated provider answers a model the category assumes
// no pass rate for with stand-in text that fails every check; eval refuses to run it, naming
// the model, the category and what to add, rather than measure 0% and write it with --update.
func TestEvalSimulatedWithoutPassRate(t *testing.T) {
	dir, specPath, setPath := evalDir(t, 5)
	data, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), "models:\n", "models:\n  judge: {provider: sim-a, model: gpt-4.1-nano}\n", 1))
	if err := os.WriteFile(specPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--models", "small,judge", "--update"},
		{"--models", "judge", "--simulate", "--update"},
	} {
		code, out, errOut := runEvalCmd(t, append([]string{specPath, "--category", "extract", "--set", setPath}, args...)...)
		if code != 2 || !strings.Contains(errOut, `category "extract" assumes no pass rate for judge`) || !strings.Contains(errOut, "add assume: {pass_rate: {judge: 0.9}}") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 naming judge, the category and the assumption to add\n%s", args, code, errOut, out)
		}
	}
	if after, _ := os.ReadFile(specPath); string(after) != string(data) {
		t.Errorf("the spec was changed:\n%s", after)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*.outcomes.jsonl")); len(matches) > 0 {
		t.Errorf("a refused run wrote %v", matches)
	}
}

// TestEvalResumeAfterChecksChange: rerunning an eval after an item's check changed does not
// keep the verdicts of the old check, and the summary line says what it did about them.
func TestEvalResumeAfterChecksChange(t *testing.T) {
	dir, specPath, setPath := evalDir(t, 0)
	out := filepath.Join(dir, "r.jsonl")
	for i, word := range []string{"apple1", "banana1"} {
		set := fmt.Sprintf(`{"id":"q1","prompt":"Say the word apple1","checks":[{"exact":%q}]}`+"\n", word)
		if err := os.WriteFile(setPath, []byte(set), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, errOut := runEvalCmd(t, specPath, "--category", "extract", "--set", setPath, "--out", out, "--simulate")
		if code != 0 {
			t.Fatalf("run %d: exit %d: %s", i+1, code, errOut)
		}
		if i == 1 && !strings.Contains(stdout, "2 pairs run now (0 failed calls; 2 of them again, as what grades them changed (their checks, reference or the category's validators, which run beside checks too), their rows were written before rows said how they were graded or that no validator applies, or they were not graded, and their answers were simulated)") {
			t.Errorf("after the check changed:\n%s", stdout)
		}
	}
	rows := 0
	if err := outcomes.ReadFile(out, func(r outcomes.Row) error {
		rows++
		if r.Pass != nil && *r.Pass && r.Response != "banana1" {
			t.Errorf("row %+v passes exact banana1", r)
		}
		return nil
	}); err != nil || rows != 2 {
		t.Errorf("%d rows, %v; want 2", rows, err)
	}
}

// TestEvalReplayRecordsNoInstantLatency: a replay provider without simulate settings answers
// at once from its table, so the microseconds a call takes say nothing of the model's latency:
// the rows record none, and --update writes the pass rate but leaves assume.latency alone.
func TestEvalReplayRecordsNoInstantLatency(t *testing.T) {
	dir := t.TempDir()
	var table, set strings.Builder
	for i := range 20 {
		prompt := fmt.Sprintf("What is %d + 1?", i)
		fmt.Fprintf(&table, "{\"item\": \"r%d\", \"prompt\": %q, \"model\": \"gpt-4.1-mini\", \"response\": \"%d\"}\n", i, prompt, i+1)
		fmt.Fprintf(&set, "{\"id\": \"q%d\", \"prompt\": %q, \"reference\": \"%d\"}\n", i, prompt, i+1)
	}
	setPath := writeReplayed(t, dir, table.String(), set.String())
	specPath := writeIn(t, dir, "spec.yaml", replayedSpec("800ms", "2s"))
	out := filepath.Join(dir, "out.jsonl")
	code, stdout, errOut := runEvalCmd(t, specPath, "--category", "sums", "--set", setPath, "--out", out, "--progress", "never", "--update")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "assume.pass_rate.small: 0.5 → 1") || strings.Contains(stdout, "assume.latency.small") {
		t.Errorf("want the pass rate written and the latency left alone:\n%s", stdout)
	}
	s, err := spec.Load(specPath, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Category("sums").Assume.Latency["small"]; ok {
		t.Errorf("the replay's instant answers were written as the model's latency")
	}
	noLatency := func(out string) {
		t.Helper()
		err := outcomes.ReadFile(out, func(r outcomes.Row) error {
			if r.LatencyMS != 0 {
				t.Errorf("item %s records latency %vms from a replay that answers at once", r.Item, r.LatencyMS)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	noLatency(out)

	// At a time scale the replay waits each row's recorded latency, and this table records
	// none: its answers still come at once.
	out = filepath.Join(dir, "scaled.jsonl")
	code, stdout, errOut = runEvalCmd(t, specPath, "--category", "sums", "--set", setPath, "--out", out, "--progress", "never", "--update", "--time-scale", "0.5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(stdout, "assume.latency.small") {
		t.Errorf("at a time scale, a table without latencies still gives none:\n%s", stdout)
	}
	noLatency(out)
}

// TestEvalReplayRecordsTheTablesLatency: a replay provider reports the latency its table
// records for an answer, so eval records that latency, whether the replay answers at once or
// waits it at a time scale, and --update writes it into the spec; an answer whose row records
// no latency records none (the time the call took is this process's).
func TestEvalReplayRecordsTheTablesLatency(t *testing.T) {
	dir := t.TempDir()
	var table, set strings.Builder
	recorded := map[string]float64{}
	for i := range 30 {
		prompt := fmt.Sprintf("What is %d + 1?", i)
		latency := ""
		if i%10 != 9 { // every tenth row records no latency
			recorded[fmt.Sprintf("q%d", i)] = float64(700 + 10*i)
			latency = fmt.Sprintf(`, "latency_ms": %d`, 700+10*i)
		}
		fmt.Fprintf(&table, "{\"item\": \"r%d\", \"prompt\": %q, \"model\": \"gpt-4.1-mini\", \"response\": \"%d\"%s}\n", i, prompt, i+1, latency)
		fmt.Fprintf(&set, "{\"id\": \"q%d\", \"prompt\": %q, \"reference\": \"%d\"}\n", i, prompt, i+1)
	}
	setPath := writeReplayed(t, dir, table.String(), set.String())
	src := replayedSpec("5s", "9s")
	for _, args := range [][]string{nil, {"--time-scale", "0.001"}} {
		specPath := writeIn(t, dir, "spec.yaml", src)
		out := filepath.Join(t.TempDir(), "out.jsonl")
		code, stdout, errOut := runEvalCmd(t, append([]string{specPath, "--category", "sums", "--set", setPath, "--out", out, "--progress", "never", "--update"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		rows := 0
		err := outcomes.ReadFile(out, func(r outcomes.Row) error {
			rows++
			if r.LatencyMS != recorded[r.Item] {
				t.Errorf("%v: item %s records latency %vms, want the table's %vms", args, r.Item, r.LatencyMS, recorded[r.Item])
			}
			return nil
		})
		if err != nil || rows != 30 {
			t.Fatalf("%v: %d rows, %v", args, rows, err)
		}
		s, err := spec.Load(specPath, spec.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.Category("sums").Assume.Latency["small"]; !ok {
			t.Errorf("%v: the table's latencies were not written into the spec:\n%s", args, stdout)
		}
	}
}

// TestEvalCountsOnlyTheSetsItems: rows an earlier run wrote for items the set no longer has
// are not counted in the report, which says how many were left out.
func TestEvalCountsOnlyTheSetsItems(t *testing.T) {
	dir, specPath, setPath := evalDir(t, 10)
	out := filepath.Join(dir, "out.jsonl")
	if code, _, errOut := runEvalCmd(t, specPath, "--category", "extract", "--set", setPath, "--out", out, "--models", "small", "--progress", "never"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(setPath)
	if err != nil {
		t.Fatal(err)
	}
	fewer := filepath.Join(dir, "fewer.jsonl")
	if err := os.WriteFile(fewer, []byte(strings.Join(strings.SplitAfter(string(data), "\n")[:4], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, errOut := runEvalCmd(t, specPath, "--category", "extract", "--set", fewer, "--out", out, "--models", "small", "--progress", "never", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		NotInSet int `json:"rows_not_in_set"`
		Models   []struct {
			Items int `json:"items"`
		} `json:"models"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.NotInSet != 6 || len(rep.Models) != 1 || rep.Models[0].Items != 4 {
		t.Errorf("report %+v; want the set's 4 items counted and the 6 other rows left out", rep)
	}
}

// TestEvalUpdateWritesThroughASymlink: --update on a spec reached through a symbolic link
// writes the file the link points to, and leaves the link a link.
func TestEvalUpdateWritesThroughASymlink(t *testing.T) {
	dir, specPath, setPath := evalDir(t, 20) // --update writes a pass rate of at least 20 answers
	link := filepath.Join(dir, "current.yaml")
	if err := os.Symlink(filepath.Base(specPath), link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	code, _, errOut := runEvalCmd(t, link, "--category", "extract", "--set", setPath, "--models", "small", "--progress", "never", "--update")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced by a file (%v)", err)
	}
	data, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile("../../eval/testdata/recover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(data, orig) {
		t.Errorf("the linked spec was not updated:\n%s", data)
	}
}

// TestEvalRetriesJudgeCalls: a judge on a provider that rate-limits the first call about each
// answer is retried as the candidates' calls are (--retries), so its answers are graded;
// without retries, the answers whose judge could not be reached are reported as not graded,
// not as failed, and a later run grades them again (simulated answers run again, and the
// report says why). Which calls fail is decided by the answer judged, not by the order of the
// concurrent calls.
func TestEvalRetriesJudgeCalls(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	judge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		again := seen[string(body)]
		seen[string(body)] = true
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !again {
			w.Header().Set("Retry-After-Ms", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error": {"message": "slow down", "type": "rate_limit_exceeded"}}`)
			return
		}
		io.WriteString(w, `{"id": "j", "object": "chat.completion", "model": "gpt-4.1", "choices": [{"index": 0, "message": {"role": "assistant", "content": "{\"score\": 0.9}"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 50, "completion_tokens": 5, "total_tokens": 55}}`)
	}))
	defer judge.Close()
	dir := t.TempDir()
	specPath := filepath.Join(dir, "spec.yaml")
	err := os.WriteFile(specPath, []byte(`version: 1
name: judged
review: {last: 2026-11-01, cadence: monthly, owner: evals}
volume: {per_month: 1000}
providers:
  steady: {type: simulated, simulate: {seed: 5, error_rate: 0, time_scale: 0.0001}}
  flaky: {type: openai-compatible, base_url: "`+judge.URL+`/v1"}
models:
  small: {provider: steady, model: gpt-4.1-mini, latency: {p50: 800ms, p95: 2s}}
  judge: {provider: flaky, model: gpt-4.1, latency: {p50: 1s, p95: 2s}}
categories:
  - name: reply
    share: 1
    tokens: {in: 50, out: 50}
    quality_bar: 0.9
    route: {model: small}
    assume: {pass_rate: {small: 0.8}}
    why: Measured by the eval tests.
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	var set strings.Builder
	for i := range 16 {
		fmt.Fprintf(&set, `{"id": "r%d", "prompt": "Reply to ticket %d.", "checks": [{"judge": {"model": "judge", "rubric": "polite"}}]}`+"\n", i, i)
	}
	setPath := filepath.Join(dir, "set.jsonl")
	if err := os.WriteFile(setPath, []byte(set.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ungraded := func(retries, out string) int {
		t.Helper()
		code, stdout, errOut := runEvalCmd(t, specPath, "--category", "reply", "--set", setPath, "--out", out, "--models", "small", "--progress", "never", "--format", "json", "--retries", retries, "--concurrency", "16")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var rep struct {
			Models []struct {
				Graded   int `json:"graded"`
				Ungraded int `json:"ungraded"`
				Errors   int `json:"errors"`
			} `json:"models"`
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		m := rep.Models[0]
		if m.Graded+m.Ungraded != 16 || m.Errors != 0 {
			t.Fatalf("--retries %s: %+v; want 16 answers, graded or not, and no failed calls", retries, m)
		}
		return m.Ungraded
	}
	first := filepath.Join(t.TempDir(), "out.jsonl")
	if n := ungraded("0", first); n != 16 {
		t.Errorf("--retries 0: %d answers not graded; want all 16, as the first judge call about each is rate limited", n)
	}
	code, stdout, errOut := runEvalCmd(t, specPath, "--category", "reply", "--set", setPath, "--out", first, "--models", "small", "--progress", "never", "--retries", "0")
	if code != 0 || !strings.Contains(stdout, "16 pairs run now (0 failed calls; 16 of them again, as what grades them changed (their checks, reference or the category's validators, which run beside checks too), their rows were written before rows said how they were graded or that no validator applies, or they were not graded, and their answers were simulated)") {
		t.Errorf("the judge back: exit %d, %s\n%s; want the 16 simulated answers run again, and why", code, errOut, stdout)
	}
	mu.Lock()
	clear(seen) // the judge rate-limits the first call about each answer again
	mu.Unlock()
	if n := ungraded("3", filepath.Join(t.TempDir(), "out.jsonl")); n != 0 {
		t.Errorf("--retries 3: %d answers not graded; want the judge's failed calls retried", n)
	}
}

// replayedSpec is a spec whose one model, small, answers from the replay table
// recorded.jsonl (beside the spec), with the assumed latency p50 and p95 given.
func replayedSpec(p50, p95 string) string {
	return fmt.Sprintf(`version: 1
name: replayed
review: {last: 2026-11-01, cadence: monthly, owner: evals}
volume: {per_month: 1000}
providers:
  rec: {type: replay, outcomes: recorded.jsonl}
models:
  small: {provider: rec, model: gpt-4.1-mini, latency: {p50: %s, p95: %s}}
categories:
  - name: sums
    share: 1
    tokens: {in: 20, out: 2}
    quality_bar: 0.9
    route: {model: small}
    assume: {pass_rate: {small: 0.5}}
    why: Measured by the eval tests.
`, p50, p95)
}

// writeReplayed writes a replay table (recorded.jsonl, as replayedSpec names it) and an eval
// set into dir, and returns the set's path.
func writeReplayed(t *testing.T, dir, table, set string) string {
	t.Helper()
	writeIn(t, dir, "recorded.jsonl", table)
	return writeIn(t, dir, "set.jsonl", set)
}

// writeIn writes text to the file name in dir and returns its path.
func writeIn(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEvalReplayOfABenchmarkRecordsEstimatedTokens: a replayed benchmark table records each
// answer's cost but no tokens. eval records the replay's token estimates as estimates and the
// table's cost; a CSV conversion keeps the mark; and estimate --measured does not take the
// estimates for the model's measured tokens, and says so.
func TestEvalReplayOfABenchmarkRecordsEstimatedTokens(t *testing.T) {
	dir := t.TempDir()
	var table, set strings.Builder
	for i := range 30 {
		prompt := fmt.Sprintf("What is %d + 1?", i)
		fmt.Fprintf(&table, "{\"item\": \"r%d\", \"prompt\": %q, \"model\": \"gpt-4.1-mini\", \"response\": \"%d\", \"cost_usd\": 0.0002, \"source\": \"routerbench\"}\n", i, prompt, i+1)
		fmt.Fprintf(&set, "{\"id\": \"q%d\", \"prompt\": %q, \"reference\": \"%d\"}\n", i, prompt, i+1)
	}
	setPath := writeReplayed(t, dir, table.String(), set.String())
	specPath := writeIn(t, dir, "spec.yaml", replayedSpec("800ms", "2s"))
	out := filepath.Join(dir, "out.jsonl")
	if code, _, errOut := runEvalCmd(t, specPath, "--category", "sums", "--set", setPath, "--out", out, "--progress", "never"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	err := outcomes.ReadFile(out, func(r outcomes.Row) error {
		if !r.TokensEstimated || r.TokensIn == 0 || r.Cost.Decimal() != "0.0002" {
			t.Errorf("item %s: tokens %d/%d, estimated %v, cost %v; want the estimates marked and the table's $0.0002", r.Item, r.TokensIn, r.TokensOut, r.TokensEstimated, r.Cost)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	code, csv, errOut := run(t, "outcomes", "convert", out, "--format", "csv")
	if code != 0 || !strings.Contains(csv, "tokens_estimated") || strings.Count(csv, ",true,") < 30 {
		t.Errorf("exit %d (%s): the CSV conversion must keep tokens_estimated:\n%s", code, errOut, csv)
	}

	code, stdout, errOut := run(t, "estimate", specPath, "--measured", out, "--format", "json", "--samples", "2000")
	if code != 0 {
		t.Fatalf("estimate: exit %d: %s", code, errOut)
	}
	var rep struct {
		Measured struct {
			Findings []struct {
				Model, What string
				Used        bool
				N           int
				Note        string
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	tokens := 0
	for _, f := range rep.Measured.Findings {
		if strings.HasPrefix(f.What, "tokens") {
			tokens++
			if f.Used || !strings.Contains(f.Note, "are estimates") {
				t.Errorf("%s %s: used %v, note %q; want the estimates not used, and said to be estimates", f.Model, f.What, f.Used, f.Note)
			}
		}
	}
	if tokens == 0 {
		t.Errorf("no tokens finding says the counts are estimates: %+v", rep.Measured.Findings)
	}
}

// TestEvalGradesToolCalls: an eval of tool-call answers (recorded, on a replay provider)
// grades them by the calls each item expects (reference_tool_calls), so --update writes their
// pass rate; a tool-call answer to an item with a text reference fails, and the report says
// why.
func TestEvalGradesToolCalls(t *testing.T) {
	dir := t.TempDir()
	table := `{"item": "simple_python_0", "prompt": "Find the area of a triangle with a base of 10 units and height of 5 units.", "model": "gpt-4.1-mini", "latency_ms": 500, "tool_calls": [{"id": "c1", "name": "calculate_triangle_area", "arguments": "{\"height\": 5.0, \"base\": 10}"}]}
{"item": "parallel_0", "prompt": "Play songs from Taylor Swift and Maroon 5, for 20 and 15 minutes, on Spotify.", "model": "gpt-4.1-mini", "latency_ms": 500, "tool_calls": [{"id": "c1", "name": "spotify.play", "arguments": "{\"artist\": \"Maroon 5\", \"duration\": 15}"}, {"id": "c2", "name": "spotify.play", "arguments": "{\"artist\": \"Taylor Swift\", \"duration\": 20}"}]}
{"item": "text_ref", "prompt": "Calculate the factorial of 5.", "model": "gpt-4.1-mini", "latency_ms": 500, "tool_calls": [{"id": "c1", "name": "math.factorial", "arguments": "{\"number\": 5}"}]}
`
	src := `version: 1
name: tools
review: {last: 2026-11-01, cadence: monthly, owner: evals}
volume: {per_month: 1000}
providers:
  rec: {type: replay, outcomes: calls.jsonl}
models:
  mini: {provider: rec, model: gpt-4.1-mini, latency: {p50: 800ms, p95: 2s}}
categories:
  - name: tools
    share: 1
    tokens: {in: 400, out: 60}
    quality_bar: 0.9
    route: {model: mini}
    assume: {pass_rate: {mini: 0.5}}
    why: Measured by the eval tests.
`
	specPath := filepath.Join(dir, "spec.yaml")
	set, err := os.ReadFile("../../eval/testdata/tools_set.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	// Seven copies of the three items (and their answers), as --update writes a pass rate
	// only from at least 20 graded answers.
	var sets, tables strings.Builder
	for k := range 7 {
		suffix := ""
		if k > 0 {
			suffix = fmt.Sprint("_", k)
		}
		for _, id := range []string{"simple_python_0", "parallel_0", "text_ref"} {
			set = bytes.ReplaceAll(set, []byte(`"id": "`+id+`"`), []byte(`"id": "`+id+`%s"`))
			table = strings.ReplaceAll(table, `"item": "`+id+`"`, `"item": "`+id+`%s"`)
		}
		sets.WriteString(strings.ReplaceAll(string(set), "%s", suffix))
		tables.WriteString(strings.ReplaceAll(table, "%s", suffix))
	}
	setPath := filepath.Join(dir, "tools_set.jsonl")
	for name, text := range map[string]string{"calls.jsonl": tables.String(), "spec.yaml": src, "tools_set.jsonl": sets.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runEvalCmd(t, specPath, "--category", "tools", "--set", setPath, "--out", filepath.Join(dir, "out.jsonl"), "--progress", "never", "--update")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"assume.pass_rate.mini: 0.5 → 0.667",
		"review.last: (none; the spec's review.last is 2026-11-01) → 2026-11-27",
		"note: 7 answer(s) are tool calls graded by a text reference or text checks",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "simulated providers") {
		t.Errorf("recorded answers are said to be simulated:\n%s", out)
	}
	if !strings.Contains(errOut, `item "text_ref"`) {
		t.Errorf("stderr %q: want a warning about the text reference on the item offering tools", errOut)
	}
}

// TestEvalSaysSimulatedWithoutFlag: answers of a spec's simulated providers (no --simulate)
// are said to be simulated even without --update.
func TestEvalSaysSimulatedWithoutFlag(t *testing.T) {
	_, specPath, setPath := evalDir(t, 10)
	code, out, errOut := runEvalCmd(t, specPath, "--category", "extract", "--set", setPath, "--models", "small", "--progress", "never")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "note: the measurements come from simulated providers") {
		t.Errorf("output lacks the note that the answers are simulated:\n%s", out)
	}
}
