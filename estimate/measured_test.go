package estimate

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/spec"
)

// TestMeasuredLatencyAssumedAsEstimated: the assumed latency a measurement is compared with is
// the one the estimate draws: with a time to first token, a distribution of output tokens and
// a model that reasons, its p50 and p95 are those of the sum (the simulation's), not the time
// to first token's quantile plus the mean tokens' generation time, which would make
// measurements of exactly the assumed model contradict it.
func TestMeasuredLatencyAssumedAsEstimated(t *testing.T) {
	s := parse(t, `version: 1
name: ttft
providers: {sim: {type: simulated}}
models:
  r: {provider: sim, model: o4-mini, latency: {ttft: {p50: 300ms, p95: 800ms}, tokens_per_second: 100}, availability: 1}
  m: {provider: sim, model: gpt-4.1-mini, latency: {ttft: {p50: 300ms, p95: 800ms}, tokens_per_second: 100}, availability: 1}
categories:
  - {name: qa, share: 1, tokens: {in: 500, out: {p50: 200, p95: 1500}, reasoning: 600}, quality_bar: 0.5, latency_budget: 100s, route: {model: m}, assume: {pass_rate: {r: 0.9, m: 0.85}}}
`)
	var obs []Observation
	for _, model := range []string{"r", "m"} {
		for range 5 { // too few to replace the assumption
			obs = append(obs, Observation{Category: "qa", Model: model, LatencyMS: 3000})
		}
	}
	r, err := Run(context.Background(), s, Options{Samples: 200_000, Today: testDay, Measured: Measure(s, obs)})
	if err != nil {
		t.Fatal(err)
	}
	simulated := map[string]Latency{}
	for _, p := range r.Policies {
		switch p.Name {
		case "all-r":
			simulated["r"] = p.Categories[0].Latency
		case "all-m":
			simulated["m"] = p.Categories[0].Latency
		}
	}
	n := 0
	for _, f := range r.Measured.Findings {
		var want float64
		switch f.What {
		case "latency p50":
			want = simulated[f.Model].P50
		case "latency p95":
			want = simulated[f.Model].P95
		default:
			continue
		}
		n++
		if math.Abs(f.Assumed-want) > 0.03*want {
			t.Errorf("%s %s: assumed %.3fs, the estimate simulates %.3fs", f.Model, f.What, f.Assumed, want)
		}
	}
	if n != 4 {
		t.Errorf("%d latency findings, want 4: %+v", n, r.Measured.Findings)
	}
}

// TestMeasuredTokensContradictOnlyWithAnInterval: a tokens finding has the 95% interval of the
// measured mean, and contradicts the assumption only when the assumption lies outside it (and
// more than 25% off): three widely spread calls 30% above the assumption do not, forty tight
// ones do, and the finding then says what to write in the spec.
func TestMeasuredTokensContradictOnlyWithAnInterval(t *testing.T) {
	s := parse(t, `version: 1
name: tokens
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, latency: {p50: 500ms, p95: 1s}, availability: 1}
categories:
  - {name: x, share: 1, tokens: {in: 1000, out: 10}, quality_bar: 0.5, route: {model: small}, assume: {pass_rate: {small: 0.95}}}
`)
	tokensIn := func(counts ...int) Finding {
		t.Helper()
		var obs []Observation
		for _, n := range counts {
			obs = append(obs, Observation{Category: "x", Model: "small", TokensIn: n, TokensOut: 10})
		}
		for _, f := range Measure(s, obs).Findings(s) {
			if f.What == "tokens in" {
				return f
			}
		}
		t.Fatal("no tokens-in finding")
		return Finding{}
	}
	if f := tokensIn(300, 1500, 2100); f.Contradicts || f.Measured != 1300 || !(f.Low < 1000 && f.High > 1300) {
		t.Errorf("3 calls of 300 to 2100 tokens, mean 1300, against an assumed 1000: %+v; want an interval that holds 1000, no contradiction", f)
	}
	var tight []int
	for i := range 40 {
		tight = append(tight, 1290+i%3*10)
	}
	f := tokensIn(tight...)
	if !f.Contradicts || math.Abs(f.Measured-1300) > 1 || !(f.Low > 1000 && f.Low < f.Measured && f.High > f.Measured) {
		t.Errorf("40 calls of 1290 to 1310 tokens against an assumed 1000: %+v; want a contradiction with an interval around 1300", f)
	}
	if want := "inline.yaml:7: write tokens.in: 1300 in category x"; !strings.Contains(f.Note, want) {
		t.Errorf("note %q; want it to say %q", f.Note, want)
	}
}

// TestMeasuredContradictionsSayWhatToWrite: a contradicted assumption the measurements
// replace says where in the spec to write the measured value; one from too few calls does not
// contradict it, and says to measure more instead.
func TestMeasuredContradictionsSayWhatToWrite(t *testing.T) {
	s, obs := contradictedObservations(t, "change")
	want := map[string]string{
		"small pass rate":    "inline.yaml:13: write assume.pass_rate.small: 0.778 in category x",
		"small latency p50":  "inline.yaml:5: write latency: {p50: 2.049s, p95: 2.095s} on model small (or under assume.latency.small in category x, for this category alone)",
		"small latency p95":  "inline.yaml:5: write latency: {p50: 2.049s, p95: 2.095s} on model small",
		"small availability": "inline.yaml:5: write availability: 0.9 on model small",
		"big pass rate":      "fewer than 20 graded answers: the assumption is kept, though it lies outside the interval: measure more before changing the spec",
	}
	for _, f := range Measure(s, obs).Findings(s) {
		w, ok := want[f.Model+" "+f.What]
		if !ok {
			continue
		}
		delete(want, f.Model+" "+f.What)
		if few := f.Model == "big"; f.Contradicts == few || f.Untested != few || !strings.Contains(f.Note, w) {
			t.Errorf("%s %s: contradicts %v, untested %v, note %q; want a contradiction (none from too few calls) that says %q", f.Model, f.What, f.Contradicts, f.Untested, f.Note, w)
		}
	}
	for k := range want {
		t.Errorf("no finding for %s", k)
	}
}

// oneModelSpec is a spec of one category served by one model, small, for measurements that
// need little of the spec.
const oneModelSpec = `version: 1
name: one
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, latency: {p50: 500ms, p95: 1s}}
categories:
  - {name: x, share: 1, tokens: {in: 100, out: 10}, quality_bar: 0.5, route: {model: small}, assume: {pass_rate: {small: 0.95}}}
`

// TestMeasuredUnmatchedNotes: observations that match nothing in the spec are named, with
// what to do: rows without a category, rows of a category the spec does not have (the spec's
// categories listed), rows of a model it does not have.
func TestMeasuredUnmatchedNotes(t *testing.T) {
	s := parse(t, oneModelSpec)
	obs := []Observation{
		{Category: "", Model: "small"}, {Category: "", Model: "small"},
		{Category: "y", Model: "small"},
		{Category: "x", Model: "gpt-5"}, {Category: "x", Model: "gpt-5"}, {Category: "x", Model: "o3"},
		{Category: "x", Model: "gpt-4o-mini"},
	}
	ms := Measure(s, obs)
	if ms.Unmatched != 6 {
		t.Errorf("%d unmatched, want 6", ms.Unmatched)
	}
	got := strings.Join(ms.UnmatchedNotes(s, "out.jsonl"), "\n")
	for _, want := range []string{
		"2 rows of out.jsonl have no category, so they measure nothing: give them the spec's category for that traffic (clearbar outcomes import or convert --category NAME)",
		`rows of out.jsonl in categories the spec does not have were left out: "y" (1 row); its categories are x`,
		`rows of out.jsonl of models the spec has no model for (by name or provider model id) were left out: "gpt-5" (2 rows), "o3" (1 row); add a model under models: to measure it`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("notes:\n%s\nwant %q", got, want)
		}
	}
}

// TestMeasuredMarkdownSaysWhy: the Markdown report's measurements carry each finding's note,
// as the text report's do: what to write in the spec, or why the measurement is not used.
func TestMeasuredMarkdownSaysWhy(t *testing.T) {
	s := parse(t, `version: 1
name: md
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, latency: {p50: 500ms, p95: 1s}, availability: 1}
categories:
  - {name: x, share: 1, tokens: {in: 100, out: 10}, quality_bar: 0.5, route: {model: small}, assume: {pass_rate: {small: 0.95}}}
`)
	no := false
	obs := []Observation{{Category: "x", Model: "small", Pass: &no}, {Category: "x", Model: "small", Pass: &no}}
	r, err := Run(context.Background(), s, Options{Samples: 2000, Today: testDay, Measured: Measure(s, obs), MeasuredFrom: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	if want := "| not tested: fewer than 20 graded answers: the assumption is kept, though it lies outside the interval: measure more before changing the spec |"; !strings.Contains(buf.String(), want) {
		t.Errorf("the Markdown report does not say why:\n%s\nwant %q", buf.String(), want)
	}
}

// TestMeasuredAvailabilityCountsRetries: an observation's retries are calls that failed
// before it, so 100 calls answered after 10 retries measure an availability of 100/110; and
// a measured availability replaces the assumption, so it is reported whenever it is used,
// also when no call failed.
func TestMeasuredAvailabilityCountsRetries(t *testing.T) {
	s := parse(t, `version: 1
name: avail
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, latency: {p50: 500ms, p95: 1s}, availability: 0.9}
  big: {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 2s}, availability: 0.99}
categories:
  - {name: x, share: 1, tokens: {in: 100, out: 10}, quality_bar: 0.5, route: {model: small}, fallback: [big], assume: {pass_rate: {small: 0.95, big: 0.97}}}
`)
	var obs []Observation
	for i := range 100 {
		retries := 0
		if i%10 == 0 {
			retries = 1
		}
		obs = append(obs, Observation{Category: "x", Model: "small", Retries: retries})
		obs = append(obs, Observation{Category: "x", Model: "big"})
	}
	got := map[string]Finding{}
	for _, f := range Measure(s, obs).Findings(s) {
		if f.What == "availability" {
			got[f.Model] = f
		}
	}
	if f := got["small"]; f.N != 110 || math.Abs(f.Measured-100.0/110) > 1e-12 || f.Contradicts || !f.Used {
		t.Errorf("small: %+v; want 100 answers of 110 calls, agreeing with the assumed 90%%", f)
	}
	if f := got["big"]; f.N != 100 || f.Measured != 1 || f.Contradicts || !f.Used || f.Assumed != 0.99 {
		t.Errorf("big: %+v; want 100 of 100 calls, used in place of the assumed 99%%", f)
	}
}

// TestMeasuredIntervalsAreExact: pass-rate and availability intervals are the exact binomial
// (Clopper–Pearson) ones, which keep their 95% coverage near 1: one failed call in 81 does
// not contradict an assumed availability of 0.998 (one or more failures happen 15% of the
// time), where the Wilson interval, whose upper end is 0.9978, would say it does.
func TestMeasuredIntervalsAreExact(t *testing.T) {
	s := parse(t, `version: 1
name: exact
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, latency: {p50: 500ms, p95: 1s}, availability: 0.998}
categories:
  - {name: x, share: 1, tokens: {in: 100, out: 10}, quality_bar: 0.5, route: {model: small}, assume: {pass_rate: {small: 0.998}}}
`)
	yes, no := true, false
	var obs []Observation
	for i := range 81 {
		o := Observation{Category: "x", Model: "small", Pass: &yes}
		switch i {
		case 0:
			o = Observation{Category: "x", Model: "small", Failed: true}
		case 1:
			o.Pass = &no
		}
		obs = append(obs, o)
	}
	// By hand (the binomial tails solved for p): 80 of 81 gives 0.933124–0.999687, 79 of 80
	// gives 0.932312–0.999684.
	want := map[string][2]float64{"availability": {0.933124, 0.999687}, "pass rate": {0.932312, 0.999684}}
	for _, f := range Measure(s, obs).Findings(s) {
		w, ok := want[f.What]
		if !ok {
			continue
		}
		delete(want, f.What)
		if f.Contradicts || math.Abs(f.Low-w[0]) > 1e-6 || math.Abs(f.High-w[1]) > 1e-6 {
			t.Errorf("%s: %.6f–%.6f, contradicts %v; want %.6f–%.6f, agreeing with 0.998", f.What, f.Low, f.High, f.Contradicts, w[0], w[1])
		}
	}
	for what := range want {
		t.Errorf("no %s finding", what)
	}
}

// TestMeasuredTextWithoutFindings: measurements of which nothing matched the spec say so,
// rather than print a table's header alone.
func TestMeasuredTextWithoutFindings(t *testing.T) {
	s := parse(t, oneModelSpec)
	r, err := Run(context.Background(), s, Options{Samples: 2000, Today: testDay, Measured: Measure(s, []Observation{{Model: "small"}}), MeasuredFrom: "rows.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, r); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	if want := "Measurements from rows.jsonl (0 contradict their assumption; 1 observations matched no category or model):\n  none of a category and model of the spec: every assumption is kept"; !strings.Contains(text, want) || strings.Contains(text, "VERDICT") {
		t.Errorf("text report:\n%s\nwant %q and no table", text, want)
	}
}

// contradictedObservations is a one-category spec named name and 100 calls of its model small
// (a quarter failed, a tenth provider errors, slower than assumed) that contradict its
// assumptions, with 3 failed calls of big: too few to use.
func contradictedObservations(t *testing.T, name string) (*spec.Spec, []Observation) {
	t.Helper()
	s := parse(t, `version: 1
name: `+name+`
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, latency: {p50: 500ms, p95: 1s}, availability: 0.999}
  big: {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 2s}, availability: 1}
categories:
  - name: x
    share: 1
    tokens: {in: 100, out: 10}
    quality_bar: 0.5
    route: {model: small}
    assume: {pass_rate: {small: 0.95, big: 0.97}}
`)
	yes, no := true, false
	var obs []Observation
	for i := range 100 {
		p := &yes
		if i%4 == 0 {
			p = &no
		}
		o := Observation{Category: "x", Model: "small", Pass: p, LatencyMS: 2000 + float64(i), TokensIn: 100, TokensOut: 10}
		if i%10 == 0 {
			o = Observation{Category: "x", Model: "small", Failed: true}
		}
		obs = append(obs, o)
	}
	for range 3 {
		obs = append(obs, Observation{Category: "x", Model: "big", Pass: &no})
	}
	return s, obs
}

// TestMeasuredIgnoresEstimatedTokens: token counts a replay estimated for answers whose
// recorded rows had none are no measurement: forty such calls far from the assumption neither
// replace it nor contradict it, nor count as prompts that never hit the cache, and the finding
// says the counts are all estimates. Beside measured calls, they are left out and counted.
func TestMeasuredIgnoresEstimatedTokens(t *testing.T) {
	s := parse(t, `version: 1
name: tokens
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, latency: {p50: 500ms, p95: 1s}, availability: 1}
categories:
  - {name: x, share: 1, tokens: {in: 1000, out: 10, cache_hit: 0.5}, quality_bar: 0.5, route: {model: small}, assume: {pass_rate: {small: 0.95}}}
`)
	zero := 0
	estimated := func(n int) []Observation {
		var obs []Observation
		for range n {
			obs = append(obs, Observation{Category: "x", Model: "small", TokensIn: 40, TokensOut: 3, TokensCached: &zero, TokensEstimated: true, Cost: 120_000})
		}
		return obs
	}
	ms := Measure(s, estimated(40))
	var w world
	w.spec = s
	ms.apply(&w)
	if w.measuredTokens != nil || w.measuredCacheHit != nil {
		t.Errorf("estimated tokens replaced the assumption: tokens %+v, cache hit %+v", w.measuredTokens, w.measuredCacheHit)
	}
	tokens := 0
	for _, f := range ms.Findings(s) {
		switch f.What {
		case "tokens in", "tokens out":
			tokens++
			if f.Used || f.Contradicts || f.N != 40 || !strings.Contains(f.Note, "the token counts of all 40 rows are estimates") {
				t.Errorf("%s: %+v; want it unused, not contradicting, saying the 40 rows' counts are estimates", f.What, f)
			}
		case "cache hit", "cost per call":
			t.Errorf("%s measured from estimated tokens: %+v", f.What, f)
		}
	}
	if tokens != 2 {
		t.Errorf("%d tokens findings, want 2 saying the counts are estimates", tokens)
	}

	var mixed []Observation
	for range 30 {
		mixed = append(mixed, Observation{Category: "x", Model: "small", TokensIn: 1000, TokensOut: 10})
	}
	for _, f := range Measure(s, append(mixed, estimated(5)...)).Findings(s) {
		if f.What == "tokens in" && (f.N != 30 || f.Measured != 1000 || !strings.Contains(f.Note, "5 rows with estimated token counts left out")) {
			t.Errorf("tokens in, 30 measured and 5 estimated: %+v; want the 30 measured, the 5 left out and said so", f)
		}
	}
}

// TestMeasuredBelowMinimumContradictsNothing: every kind of finding measured on fewer calls
// than its minimum (pass rate, latency, tokens, cache hit) is shown, keeps the assumption and
// contradicts nothing, though the assumption lies outside its interval: it is not counted
// among the contradictions, the text report says "not tested" and why, and CSV's stderr lines
// leave it out. The same calls, ten times over, contradict every assumption.
func TestMeasuredBelowMinimumContradictsNothing(t *testing.T) {
	s := parse(t, `version: 1
name: few
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, latency: {p50: 500ms, p95: 1s}, availability: 1}
categories:
  - {name: x, share: 1, tokens: {in: 1000, out: 10, cache_hit: 0.9}, quality_bar: 0.5, route: {model: small}, assume: {pass_rate: {small: 0.99}}}
`)
	no := false
	few := func(times int) []Observation {
		var obs []Observation
		for i := range 10 * times {
			cached := 0
			obs = append(obs, Observation{Category: "x", Model: "small", Pass: &no, LatencyMS: 9000 + float64(i%5), TokensIn: 100 + i%5, TokensOut: 200 + i%5, TokensCached: &cached})
		}
		return obs
	}
	kinds := []string{"pass rate", "latency p50", "latency p95", "tokens in", "tokens out", "cache hit"}
	run := func(obs []Observation) (*Report, map[string]Finding) {
		t.Helper()
		r, err := Run(context.Background(), s, Options{Samples: 2000, Today: testDay, Measured: Measure(s, obs), MeasuredFrom: "rows.jsonl"})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]Finding{}
		for _, f := range r.Measured.Findings {
			got[f.What] = f
		}
		return r, got
	}
	r, got := run(few(1))
	for _, what := range kinds {
		f, ok := got[what]
		switch {
		case !ok:
			t.Errorf("no %s finding", what)
		case f.Contradicts || f.Used || !f.Untested || !strings.Contains(f.Note, "the assumption is kept, though it lies outside the interval"):
			t.Errorf("%s from 10 calls: %+v; want shown, not used, not a contradiction, saying the assumption lies outside the interval", what, f)
		}
	}
	if r.Measured.Contradictions != 0 {
		t.Errorf("%d contradictions counted from 10 calls, want 0", r.Measured.Contradictions)
	}
	if lines := r.Measured.ContradictionLines(); len(lines) != 0 {
		t.Errorf("contradiction lines from 10 calls: %q", lines)
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, r); err != nil {
		t.Fatal(err)
	}
	if text := buf.String(); strings.Contains(text, "CONTRADICTS") || !strings.Contains(text, "(0 contradict their assumption;") || !strings.Contains(text, "not tested: fewer than 20 calls: the assumption is kept") {
		t.Errorf("text report of 10 calls:\n%s", text)
	}
	r, got = run(few(10))
	for _, what := range kinds {
		if f := got[what]; !f.Contradicts || !f.Used || f.Untested {
			t.Errorf("%s from 100 calls: %+v; want a contradiction", what, f)
		}
	}
	if r.Measured.Contradictions < len(kinds) {
		t.Errorf("%d contradictions counted from 100 calls, want at least %d", r.Measured.Contradictions, len(kinds))
	}
}

// TestMeasuredTimeScaledLatencyShownNotTested: latencies of calls answered at a time scale
// (serve --time-scale) measure nothing: forty of them far above the assumption are shown,
// neither used nor a contradiction, and say why; beside calls answered in real time, they are
// left out of the measurement and counted; the estimate's latency keeps the assumption.
func TestMeasuredTimeScaledLatencyShownNotTested(t *testing.T) {
	s := parse(t, `version: 1
name: scaled
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, latency: {p50: 500ms, p95: 1s}, availability: 1}
categories:
  - {name: x, share: 1, tokens: {in: 100, out: 10}, quality_bar: 0.5, route: {model: small}, assume: {pass_rate: {small: 0.99}}}
`)
	var scaled []Observation
	for i := range 40 {
		scaled = append(scaled, Observation{Category: "x", Model: "small", LatencyMS: 3000 + float64(i), TimeScaled: true})
	}
	ms := Measure(s, scaled)
	n := 0
	for _, f := range ms.Findings(s) {
		if !strings.HasPrefix(f.What, "latency") {
			continue
		}
		n++
		if f.Contradicts || f.Used || !f.Untested || f.N != 40 || f.Measured < 3 || !strings.Contains(f.Note, "40 calls answered at a time scale (serve --time-scale), which magnifies the gateway's own overhead by 1/scale: shown, and the assumption is kept") {
			t.Errorf("%s of 40 calls at a time scale: %+v; want them shown, not used, not tested", f.What, f)
		}
	}
	if n != 2 {
		t.Errorf("%d latency findings, want 2", n)
	}
	w := newWorld(s)
	ms.apply(w)
	if _, ok := w.measuredLatency[[2]string{"x", "small"}]; ok {
		t.Error("latencies at a time scale replaced the assumed latency")
	}

	var real []Observation
	for i := range 30 {
		real = append(real, Observation{Category: "x", Model: "small", LatencyMS: 500 + float64(i)})
	}
	for _, f := range Measure(s, append(real, scaled...)).Findings(s) {
		if f.What == "latency p95" && (f.N != 30 || f.Measured > 0.6 || !f.Used || !strings.Contains(f.Note, "40 calls answered at a time scale (serve --time-scale) left out")) {
			t.Errorf("p95 of 30 real-time calls beside 40 at a time scale: %+v; want the 30 measured, the 40 left out and counted", f)
		}
	}
}

// TestMeasuredReportsNameTheirIntervals: every report that prints the measurements' 95%
// intervals says which they are, the pass rate's exact binomial one (not eval's Wilson), and
// the contradiction lines name each one's.
func TestMeasuredReportsNameTheirIntervals(t *testing.T) {
	s, obs := contradictedObservations(t, "intervals")
	r, err := Run(context.Background(), s, Options{Samples: 2000, Today: testDay, Measured: Measure(s, obs), MeasuredFrom: "rows.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	const want = "exact binomial (Clopper–Pearson) for pass rates"
	for name, write := range map[string]func(*bytes.Buffer) error{
		"text":     func(b *bytes.Buffer) error { return WriteText(b, r) },
		"markdown": func(b *bytes.Buffer) error { return WriteMarkdown(b, r) },
		"html":     func(b *bytes.Buffer) error { return WriteHTML(b, r) },
	} {
		var buf bytes.Buffer
		if err := write(&buf); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the %s report does not say which intervals it prints (%q)", name, want)
		}
	}
	lines := strings.Join(r.Measured.ContradictionLines(), "\n")
	for _, want := range []string{"small's pass rate in x: assumed 95.00%, measured 77.78% (95% interval ", ", exact binomial, n 90)", "small's latency p95 in x", ", order statistics, n 90)"} {
		if !strings.Contains(lines, want) {
			t.Errorf("contradiction lines:\n%s\nwant %q", lines, want)
		}
	}
}

// TestMeasuredChangesPointAtTheKey: what to write is placed at the line of the key to edit
// (tokens.in, assume.pass_rate.small, assume.latency.small), or of the nearest parent key the
// category sets when it lacks the key, not at the category's name.
func TestMeasuredChangesPointAtTheKey(t *testing.T) {
	s := parse(t, `version: 1
name: keys
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, latency: {p50: 500ms, p95: 1s}, availability: 1}
  big: {provider: sim, model: gpt-4o, latency: {p50: 500ms, p95: 1s}, availability: 1}
categories:
  - name: x
    share: 1
    tokens: {in: 1000, out: 10}
    quality_bar: 0.5
    route: {cascade: [small, big]}
    assume:
      latency:
        small: {p50: 500ms, p95: 1s}
      pass_rate:
        big: 0.95
        small: 0.95
`)
	var obs []Observation
	for i := range 40 {
		for _, m := range []string{"small", "big"} {
			pass := i%2 == 0
			obs = append(obs, Observation{Category: "x", Model: m, Pass: &pass, LatencyMS: 2000 + float64(i), TokensIn: 1290 + i%3*10, TokensOut: 10})
		}
	}
	want := map[string]string{
		"small, big tokens in": "inline.yaml:10: write tokens.in: 1300 in category x",
		"small pass rate":      "inline.yaml:18: write assume.pass_rate.small: 0.5 in category x",
		"big pass rate":        "inline.yaml:17: write assume.pass_rate.big: 0.5 in category x",
		"small latency p50":    "inline.yaml:15: write assume.latency.small: {p50: 2.019s, p95: 2.037s} in category x",
		"big latency p50":      "inline.yaml:6: write latency: {p50: 2.019s, p95: 2.037s} on model big",
	}
	for _, f := range Measure(s, obs).Findings(s) {
		w, ok := want[f.Model+" "+f.What]
		if !ok {
			continue
		}
		delete(want, f.Model+" "+f.What)
		if !strings.Contains(f.Note, w) {
			t.Errorf("%s %s: note %q; want it to say %q", f.Model, f.What, f.Note, w)
		}
	}
	for k := range want {
		t.Errorf("no finding for %s", k)
	}
	// A key the category lacks is written at its nearest parent: assume's line for a model
	// without a pass rate.
	c := s.Category("x")
	if l := c.KeyLine("assume", "score_share"); l != 13 {
		t.Errorf("KeyLine(assume, score_share) = %d, want assume's line 13", l)
	}
	if l := c.KeyLine("failure_impact"); l != 8 {
		t.Errorf("KeyLine(failure_impact) = %d, want the category's line 8", l)
	}
}

// TestSecsRounds: a latency shown in milliseconds is rounded, not truncated.
func TestSecsRounds(t *testing.T) {
	for v, want := range map[float64]string{0.6999999999999998: "700ms", 0.7136: "714ms", 0.9996: "1.00s", 1.234: "1.23s"} {
		if got := secs(v); got != want {
			t.Errorf("secs(%v) = %s, want %s", v, got, want)
		}
	}
}
