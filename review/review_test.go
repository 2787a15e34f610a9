package review

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/stats"
	"github.com/clearbar/clearbar/review/reviewtest"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/trace"
)

// TestUnchangedTraffic reviews traffic that behaves as the spec assumes: nothing fires, and
// every measurement sits beside the assumption the spec (or the estimate) gives for it.
func TestUnchangedTraffic(t *testing.T) {
	s := load(t, supportTriage)
	rep := analyze(t, s, traffic(s, 30_000, 1, reviewtest.Traffic{}), Options{})
	if rep.ActionNeeded || len(rep.Triggers) > 0 {
		t.Fatalf("unchanged traffic fired %+v", rep.Triggers)
	}
	if rep.Requests != 30_000 || rep.Alpha != DefaultAlpha || rep.Confidence != 1-DefaultAlpha {
		t.Errorf("requests %d, alpha %g, confidence %g", rep.Requests, rep.Alpha, rep.Confidence)
	}
	// 5 categories, each with fallback, retries, cost, tokens in and out and its budget;
	// 3 cascades with an escalation rate and two models' pass rates and latencies; the mix.
	if rep.Tests < 50 {
		t.Errorf("%d tests, want at least 50", rep.Tests)
	}
	base := baseline(t, s)
	for _, c := range []struct {
		category, model, metric string
		assumed                 float64
	}{
		{"intent", "small", "pass rate", 0.94},
		{"extract-order", "small", "pass rate", 0.93},
		{"intent", "", "escalation rate", base.Policies[0].Categories[0].PEscalated},
		{"intent", "", "latency p95 against the budget", 1.5},
		{"draft-reply", "", "cost per request", base.Policies[0].Categories[3].Cost.USD()},
		{"extract-order", "", "tokens in per call", math.Exp(math.Log(900) + math.Pow(math.Log(3500.0/900)/1.6448536269514722, 2)/2)},
		{"draft-reply", "mid", "latency p50", 0.4 + 250.0/90},
	} {
		cmp := comparison(rep, c.category, c.model, c.metric)
		if cmp == nil {
			t.Errorf("no %s %s %s", c.category, c.model, c.metric)
			continue
		}
		if math.Abs(float64(cmp.Assumed)-c.assumed) > 1e-6*math.Max(1, c.assumed) {
			t.Errorf("%s %s %s: assumed %g, want %g", c.category, c.model, c.metric, float64(cmp.Assumed), c.assumed)
		}
		if !cmp.Tested || cmp.Significant || cmp.PAdjusted < rep.Alpha {
			t.Errorf("%s %s %s: tested %v, adjusted p %g", c.category, c.model, c.metric, cmp.Tested, cmp.PAdjusted)
		}
		// The budget is a bound, not an estimate; the rest must lie in their intervals.
		if c.metric != "latency p95 against the budget" && (c.assumed < float64(cmp.Low) || c.assumed > float64(cmp.High)) {
			t.Errorf("%s %s %s: %g outside [%g, %g]", c.category, c.model, c.metric, c.assumed, float64(cmp.Low), float64(cmp.High))
		}
	}
	if rep.Mix == nil || !rep.Mix.Tested || rep.Mix.Significant {
		t.Errorf("mix: %+v", rep.Mix)
	}
}

// TestDetectsInjectedChanges injects one change at a time into seeded traffic and checks that
// the review names it with the right trigger, and fires nothing unrelated.
func TestDetectsInjectedChanges(t *testing.T) {
	s := load(t, supportTriage)
	priced := withPrice(t, s, "mid", "{output: 2.4}") // the catalogue lists $1.60/M
	for _, c := range []struct {
		name     string
		spec     *spec.Spec
		change   reviewtest.Traffic
		today    time.Time
		want     [3]string // kind, category, model
		alsoOK   []string  // kinds that may fire as consequences
		evidence string
	}{
		{name: "a model's pass rate drops by 10 points", spec: s,
			change: reviewtest.Traffic{PassRate: map[[2]string]float64{{"intent", "small"}: 0.84}},
			want:   [3]string{TriggerPassRate, "intent", "small"}, alsoOK: []string{TriggerEscalation, TriggerCost, TriggerLatency},
			evidence: "small pass rate"},
		{name: "a model's latency doubles", spec: s,
			change: reviewtest.Traffic{LatencyScale: map[string]float64{"mid": 2}},
			want:   [3]string{TriggerLatency, "draft-reply", "mid"}, evidence: "mid latency p50"},
		{name: "the traffic mix shifts", spec: s,
			change: reviewtest.Traffic{Shares: map[string]float64{"intent": 0.42, "draft-reply": 0.15}},
			want:   [3]string{TriggerMix, "", ""}, evidence: "draft-reply 15.24% (spec 22.00%), intent 41.77% (spec 35.00%)"},
		{name: "a catalogue price differs from the spec's", spec: priced,
			want: [3]string{TriggerPrice, "", "mid"}, evidence: "output price $2.4/M in the spec; the catalogue"},
		{name: "a new prompt template version appears", spec: s,
			change: reviewtest.Traffic{From: 0.7, Template: map[string]string{"extract-order": "0123456789abcdef"}},
			want:   [3]string{TriggerTemplate, "extract-order", ""}, evidence: "new template 0123456789ab"},
		{name: "a provider starts sending malformed responses", spec: s,
			change: reviewtest.Traffic{From: 0.5, Availability: map[string]float64{"small": 0.95}, FailClass: clearbar.BadResponse},
			want:   [3]string{TriggerMalformed, "intent", ""}, alsoOK: []string{TriggerFallback, TriggerRetries, TriggerLatency, TriggerCost},
			evidence: "malformed output, recent half against earlier half"},
		{name: "the review is overdue", spec: s, today: time.Date(2027, 4, 10, 0, 0, 0, 0, time.UTC),
			want: [3]string{TriggerOverdue, "", ""}, evidence: "due 2027-02-27 (quarterly): 42 day(s) overdue"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := analyze(t, c.spec, traffic(c.spec, 20_000, 7, c.change), Options{Today: c.today})
			if !fired(rep, c.want[0], c.want[1], c.want[2]) {
				t.Fatalf("no %s trigger for %q %q; fired %+v", c.want[0], c.want[1], c.want[2], rep.Triggers)
			}
			if !rep.ActionNeeded {
				t.Error("a trigger fired but no action is needed")
			}
			found := false
			for _, tr := range rep.Triggers {
				if tr.Kind != c.want[0] && !slices.Contains(c.alsoOK, tr.Kind) {
					t.Errorf("unrelated trigger %s %s %s: %v", tr.Kind, tr.Category, tr.Model, tr.Evidence)
				}
				for _, e := range tr.Evidence {
					found = found || strings.Contains(e, c.evidence)
				}
			}
			if !found {
				t.Errorf("no evidence mentions %q: %+v", c.evidence, rep.Triggers)
			}
		})
	}
}

// withPrice returns s with a price override on a model, loaded from the same file path so
// that its schema files resolve.
func withPrice(t *testing.T, s *spec.Spec, model, price string) *spec.Spec {
	t.Helper()
	data, err := os.ReadFile(s.File)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Model(model)
	line := "    model: " + m.Model + "\n"
	if !bytes.Contains(data, []byte(line)) {
		t.Fatalf("no %q in %s", line, s.File)
	}
	data = bytes.Replace(data, []byte(line), []byte(line+"    price: "+price+"\n"), 1)
	out, err := spec.Parse(data, s.File, spec.Options{Today: today})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFalseAlarmRate reviews many seeded simulations of unchanged traffic. The fraction in
// which anything fires must not exceed the stated false-alarm level by more than the
// binomial variation of that many runs allows: the limit is the count that runs at exactly
// the nominal level exceed with probability at most 0.001. The reviews use no tolerance, so
// every test is held to its nominal level, not only the rates.
func TestFalseAlarmRate(t *testing.T) {
	s := load(t, supportTriage)
	base := baseline(t, s)
	runs, n := simulations(200), 8_000
	// Holm-adjusted p-values do not depend on α, so one review per run serves every level:
	// a run fires at level α when its smallest adjusted p-value is at most α.
	minP := make([]float64, runs)
	firedDefault := make([]bool, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			r := New(s, Options{Today: today, Tolerance: -1})
			r.Add(traffic(s, n, uint64(1000+i), reviewtest.Traffic{})...)
			rep, err := r.Analyze(base)
			if err != nil {
				t.Error(err)
				return
			}
			firedDefault[i] = len(rep.Triggers) > 0
			minP[i] = 1
			for _, c := range testedComparisons(rep) {
				minP[i] = math.Min(minP[i], c.PAdjusted)
			}
		})
	}
	wg.Wait()
	for _, alpha := range []float64{DefaultAlpha, 0.05, 0.2} {
		count := 0
		for i, p := range minP {
			if p <= alpha {
				count++
			}
			if alpha == DefaultAlpha && firedDefault[i] != (p <= alpha) {
				t.Errorf("run %d: fired %v, smallest adjusted p %g", i, firedDefault[i], p)
			}
		}
		limit := stats.BinomialQuantile(0.999, runs, alpha)
		t.Logf("α = %g: %d of %d unchanged runs fired (limit %d)", alpha, count, runs, limit)
		if count > limit {
			t.Errorf("α = %g: %d of %d unchanged runs fired; at the nominal rate more than %d happens with probability < 0.001", alpha, count, runs, limit)
		}
	}
}

func testedComparisons(rep *Report) []*Comparison {
	var out []*Comparison
	if rep.Mix != nil && rep.Mix.Tested {
		out = append(out, rep.Mix)
	}
	for _, cv := range rep.Categories {
		for _, c := range cv.Comparisons {
			if c.Tested {
				out = append(out, c)
			}
		}
	}
	return out
}

// TestRunRecommendsSpecChange drops a model's pass rate so far that the spec's route for its
// category misses the bar: the review re-estimates, updates the pass rate and changes that
// category's route, and only that category's.
func TestRunRecommendsSpecChange(t *testing.T) {
	s := load(t, supportTriage)
	ds := traffic(s, 20_000, 3, reviewtest.Traffic{PassRate: map[[2]string]float64{{"extract-order", "small"}: 0.75}})
	r := New(s, Options{Today: today, Baseline: baseline(t, s)})
	r.Add(ds...)
	rep, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	re := rep.Reestimate
	if re == nil {
		t.Fatal("no re-estimate")
	}
	if re.Before != "spec" || re.After == "spec" {
		t.Errorf("recommended %s before and %s after; want spec, then another policy", re.Before, re.After)
	}
	if !fired(rep, TriggerRecommendation, "", "") || !fired(rep, TriggerPassRate, "extract-order", "small") {
		t.Errorf("triggers %+v", rep.Triggers)
	}
	var passEdit *Edit
	for i, e := range re.Edits {
		if e.Category != "extract-order" {
			t.Errorf("edit outside extract-order: %+v", e)
		}
		if e.What == "assume.pass_rate.small" {
			passEdit = &re.Edits[i]
		}
	}
	if passEdit == nil {
		t.Fatalf("no pass-rate edit in %+v", re.Edits)
	}
	if got, _ := parseFloat(passEdit.To); math.Abs(got-0.75) > 0.03 || passEdit.From != "0.93" {
		t.Errorf("pass rate edit %s → %s, want 0.93 → about 0.75", passEdit.From, passEdit.To)
	}
	for _, want := range []string{
		"--- ../examples/support-triage.yaml\n+++ ../examples/support-triage.yaml (recommended)\n",
		"-      pass_rate: {small: 0.93, mid: 0.975, strong: 0.99}\n+      pass_rate: {small: " + passEdit.To + ", mid: 0.975, strong: 0.99}\n",
		"-    route:\n-      cascade: [small, mid]\n",
		"+    route: {model: mid}\n",
	} {
		if !strings.Contains(re.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, re.Diff)
		}
	}
	// The diff touches the two places and nothing else: no reformatting.
	changed := 0
	for _, line := range strings.Split(re.Diff, "\n") {
		if (strings.HasPrefix(line, "-") || strings.HasPrefix(line, "+")) && !strings.HasPrefix(line, "---") && !strings.HasPrefix(line, "+++") {
			changed++
		}
	}
	if changed != 9 { // 6 route lines become 1; 1 pass-rate line becomes 1
		t.Errorf("%d changed lines, want 9:\n%s", changed, re.Diff)
	}
}

func parseFloat(s string) (float64, error) {
	var f float64
	err := json.Unmarshal([]byte(s), &f)
	return f, err
}

// TestRunUnchangedRecommendsNothing: with traffic as assumed the re-estimate keeps the spec.
func TestRunUnchangedRecommendsNothing(t *testing.T) {
	s := load(t, supportTriage)
	r := New(s, Options{Today: today, Baseline: baseline(t, s)})
	r.Add(traffic(s, 10_000, 5, reviewtest.Traffic{})...)
	rep, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.ActionNeeded || rep.Reestimate.Diff != "" || len(rep.Reestimate.Edits) != 0 || rep.Reestimate.After != "spec" {
		t.Errorf("action %v, after %s, edits %+v, diff:\n%s", rep.ActionNeeded, rep.Reestimate.After, rep.Reestimate.Edits, rep.Reestimate.Diff)
	}
}

// TestDecisionsLeftOut: dry runs, unknown categories and requests refused before they had
// a category are counted, not reviewed, and the notes say which is which: the refusals by
// why, as their status tells (a malformed request or an unknown model, no valid key, a key
// over its rate limit).
func TestDecisionsLeftOut(t *testing.T) {
	s := load(t, supportTriage)
	ds := traffic(s, 200, 1, reviewtest.Traffic{})
	ds[0].DryRun = true
	ds[1].Category = "retired"
	refused := []int{400, 404, 401, 403, 401, 429, 429, 429}
	for i, status := range refused {
		d := ds[2+i]
		d.Category, d.Status, d.Attempts = "", status, nil
	}
	rep := analyze(t, s, ds, Options{})
	if rep.Requests != 200-2-len(refused) || rep.DryRuns != 1 || rep.Unmatched != 1 {
		t.Errorf("requests %d, dry runs %d, unmatched %d", rep.Requests, rep.DryRuns, rep.Unmatched)
	}
	has := func(text string) bool {
		return slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, text) })
	}
	want := "8 request(s) refused before they were given a category (2 malformed or naming an unknown model, 3 without a valid key, 3 over a key's rate limit) were left out"
	if !has(`category "retired"`) || !has(want) || has(`category ""`) {
		t.Errorf("notes %v\nwant %q", rep.Notes, want)
	}
}

// TestReportFormats writes one report with triggers in every format.
func TestReportFormats(t *testing.T) {
	s := load(t, supportTriage)
	ds := traffic(s, 20_000, 3, reviewtest.Traffic{PassRate: map[[2]string]float64{{"extract-order", "small"}: 0.75}})
	r := New(s, Options{Today: today, Baseline: baseline(t, s)})
	r.Add(ds...)
	rep, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for format, wants := range map[string][]string{
		"md": {"# Review: support-triage", "**Action needed:", "## Triggers", "- **pass_rate** · extract-order · small",
			"### extract-order", "| pass rate | small |", "```diff\n--- ../examples/support-triage.yaml", "Holm's correction over the"},
		"html": {"<title>Review: support-triage</title>", `class="callout act"`, "<strong>pass_rate</strong>",
			`<span class="add">+      pass_rate: {small: 0.`, "<h2>Re-estimate with the measurements</h2>"},
		"json": {`"action_needed": true`, `"kind": "pass_rate"`, `"false_alarm_level": 0.01`, `"diff": "--- ../examples/support-triage.yaml`},
	} {
		var b bytes.Buffer
		if err := Write(&b, rep, format); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		for _, w := range wants {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s report lacks %q", format, w)
			}
		}
		if format == "json" {
			var back Report
			if err := json.Unmarshal(b.Bytes(), &back); err != nil {
				t.Errorf("JSON does not read back: %v", err)
			}
		}
	}
	if err := Write(&bytes.Buffer{}, rep, "pdf"); err == nil || !strings.Contains(err.Error(), "md, html, json") {
		t.Errorf("unknown format: %v", err)
	}
}

// TestRunWritesMovedLatency: a model whose latency doubled fires a latency trigger, and the
// recommended change writes its measured latency into the category, in place, so that the
// estimate of the changed spec starts from what the traffic showed.
func TestRunWritesMovedLatency(t *testing.T) {
	s := load(t, supportTriage)
	ds := traffic(s, 20_000, 7, reviewtest.Traffic{LatencyScale: map[string]float64{"mid": 2}})
	r := New(s, Options{Today: today, Baseline: baseline(t, s)})
	r.Add(ds...)
	rep, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !fired(rep, TriggerLatency, "draft-reply", "mid") || rep.Reestimate == nil {
		t.Fatalf("triggers %+v", rep.Triggers)
	}
	var e *Edit
	for i := range rep.Reestimate.Edits {
		if x := &rep.Reestimate.Edits[i]; x.Category == "draft-reply" && x.What == "assume.latency.mid" {
			e = x
		}
	}
	if e == nil {
		t.Fatalf("no latency edit for mid in draft-reply: %+v", rep.Reestimate.Edits)
	}
	if !strings.HasPrefix(e.To, "{p50: ") || !strings.Contains(rep.Reestimate.Diff, "+      latency: {mid: "+e.To+"}\n") {
		t.Errorf("edit %+v; diff:\n%s", e, rep.Reestimate.Diff)
	}
	// Added lines only, but for the routes of the policy the re-estimate recommends when it is
	// not the spec's own (with mid twice as slow, cascade-by-price puts strong on intent's
	// cascade instead of as its fallback: the same cost within 0.01%, and less risk): the
	// rest of the spec is as it was written.
	for _, line := range strings.Split(rep.Reestimate.Diff, "\n") {
		if !strings.HasPrefix(line, "-") || strings.HasPrefix(line, "---") {
			continue
		}
		if rep.Reestimate.After == rep.Reestimate.Before {
			t.Errorf("the change removes %q: it should only add the measured latencies", line)
			continue
		}
		if f := strings.Fields(strings.TrimPrefix(line, "-")); len(f) == 0 || !slices.Contains([]string{"cascade:", "fallback:", "model:", "route:", "validate:", "on_fail:"}, f[0]) {
			t.Errorf("the change removes %q: besides the routes of %s it should only add the measured latencies", line, rep.Reestimate.After)
		}
	}
}

// TestTimeScaledLatencies: decisions of simulated providers run at a time scale hold scaled
// wall-clock latencies; the review divides them by the scale, so traffic drawn from the spec
// fires no latency trigger, and says so.
func TestTimeScaledLatencies(t *testing.T) {
	s := load(t, supportTriage)
	ds := traffic(s, 20_000, 7, reviewtest.Traffic{})
	for _, d := range ds {
		d.TimeScale = 0.01
		d.Latency = time.Duration(float64(d.Latency) * 0.01)
		for i := range d.Attempts {
			d.Attempts[i].Latency = time.Duration(float64(d.Attempts[i].Latency) * 0.01)
		}
	}
	rep := analyze(t, s, ds, Options{Today: today})
	if fired(rep, TriggerLatency, "", "") || slices.ContainsFunc(rep.Triggers, func(tr Trigger) bool { return tr.Kind == TriggerLatency }) {
		t.Errorf("latency triggers on time-scaled traffic drawn from the spec: %+v", rep.Triggers)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "their latencies are divided by it") {
		t.Errorf("no note about the time scale: %q", rep.Notes)
	}
	// Half a millisecond of the gateway's own time per call, divided by the scale, is 50ms
	// more of simulated latency: no model's latency is tested on such records.
	for _, d := range ds {
		d.Latency += 500 * time.Microsecond
		for i := range d.Attempts {
			d.Attempts[i].Latency += 500 * time.Microsecond
		}
	}
	rep = analyze(t, s, ds, Options{Today: today})
	if slices.ContainsFunc(rep.Triggers, func(tr Trigger) bool { return tr.Kind == TriggerLatency }) {
		t.Errorf("latency triggers from the overhead a time scale magnifies: %+v", rep.Triggers)
	}
	// Under load the gateway's queueing adds more: 100ms a request is 10 s at this scale, over
	// every category's budget. The budget is not tested on such latencies either, and the
	// re-estimate does not take them for the models' latencies.
	for _, d := range ds {
		d.Latency += 100 * time.Millisecond
		for i := range d.Attempts {
			d.Attempts[i].Latency += 100 * time.Millisecond
		}
	}
	r := New(s, Options{Today: today, Baseline: baseline(t, s)})
	r.Add(ds...)
	rep, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(rep.Triggers, func(tr Trigger) bool { return tr.Kind == TriggerLatency }) {
		t.Errorf("latency triggers from queueing a time scale magnifies: %+v", rep.Triggers)
	}
	over := 0
	for _, c := range s.Categories {
		if c.LatencyBudget.D() <= 0 {
			continue
		}
		row := comparison(rep, c.Name, "", "latency p95 against the budget")
		if row == nil || row.Tested || !strings.Contains(row.Note, "shown, not tested") {
			t.Errorf("%s: budget row %+v; want it shown, not tested", c.Name, row)
		} else if float64(row.Measured) > c.LatencyBudget.D().Seconds() {
			over++
		}
	}
	if over == 0 {
		t.Error("no category's measured p95 is over its budget: the case tests nothing")
	}
	if re := rep.Reestimate; re != nil {
		for _, e := range re.Edits {
			if strings.Contains(e.What, "latency") {
				t.Errorf("the re-estimate edits latency from time-scaled calls: %+v", e)
			}
		}
	}
}

// TestEditedFrom: the list of changes shows what each edit of a route changes: a fallback
// edit the fallbacks as the spec writes them, a route edit the route without its fallbacks.
func TestEditedFrom(t *testing.T) {
	c := &spec.Category{Name: "intent", Fallback: []spec.Ref{{Name: "mini"}}}
	route := "cascade nano → strong (validate: JSON Schema schemas/intent.json), fallback mini"
	if got := editedFrom(c, edit{category: "intent", path: []string{"fallback"}, text: "[]"}, route); got != "[mini]" {
		t.Errorf("fallback edit from %q, want [mini]", got)
	}
	if got := editedFrom(c, edit{category: "intent", path: []string{"route"}, text: "{model: mini}"}, route); got != "cascade nano → strong (validate: JSON Schema schemas/intent.json)" {
		t.Errorf("route edit from %q", got)
	}
}

// TestRunWritesMovedCacheHit: traffic whose prompts are read from the prompt cache, which the
// spec does not assume, fires a tokens trigger on the measured cache hit and writes it into
// the category's tokens mapping, in place.
func TestRunWritesMovedCacheHit(t *testing.T) {
	s := load(t, supportTriage)
	ds := traffic(s, 20_000, 7, reviewtest.Traffic{CacheHit: map[string]float64{"draft-reply": 0.6}})
	r := New(s, Options{Today: today, Baseline: baseline(t, s)})
	r.Add(ds...)
	rep, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := comparison(rep, "draft-reply", "", "cache hit")
	if c == nil || !c.Significant || math.Abs(float64(c.Measured)-0.6) > 0.01 || !fired(rep, TriggerTokens, "draft-reply", "") {
		t.Fatalf("cache hit comparison %+v; triggers %+v", c, rep.Triggers)
	}
	if c := comparison(rep, "classify-intent", "", "cache hit"); c != nil {
		t.Errorf("a category with no cache assumed or measured shows a cache hit row: %+v", c)
	}
	if rep.Reestimate == nil || !strings.Contains(rep.Reestimate.Diff, "+    tokens: {in: {p50: 1500, p95: 6000}, out: 250, cache_hit: 0.6}\n") {
		t.Fatalf("the diff does not write the measured cache hit in place:\n%v", rep.Reestimate)
	}
}

// TestPipelineShareIsDerived: with pipelines a category's share is of model calls, derived
// from the pipelines' shares, not written: the share row says so.
func TestPipelineShareIsDerived(t *testing.T) {
	s := load(t, "../examples/rag-assistant.yaml")
	rep := analyze(t, s, traffic(s, 5_000, 1, reviewtest.Traffic{}), Options{})
	cmp := comparison(rep, s.Categories[0].Name, "", "share")
	if cmp == nil || cmp.From != "spec (pipelines)" {
		t.Errorf("share row %+v, want it from spec (pipelines)", cmp)
	}
}

// TestRenamedCategoryIsNotAMixShift reviews traffic recorded before a category was renamed:
// its decisions carry the old name, which the spec no longer has. They are left out, but the
// traffic did not shift: the mix is not tested against the spec's shares, the note says why,
// and each category's share is of all the classified requests, not of those left.
func TestRenamedCategoryIsNotAMixShift(t *testing.T) {
	s := load(t, supportTriage)
	ds := traffic(s, 3000, 3, reviewtest.Traffic{})
	renamed := 0
	for _, d := range ds {
		if d.Category == "draft-reply" {
			d.Category = "draft"
			renamed++
		}
	}
	rep := analyze(t, s, ds, Options{})
	if fired(rep, TriggerMix, "", "") || rep.Mix.Tested {
		t.Errorf("mix tested %v, triggers %+v", rep.Mix.Tested, rep.Triggers)
	}
	if !strings.Contains(rep.Mix.Note, `"draft"`) {
		t.Errorf("mix note %q does not name the category left out", rep.Mix.Note)
	}
	share := comparison(rep, "intent", "", "share")
	want := float64(rep.Categories[0].Requests) / float64(rep.Requests+renamed)
	if share.N != rep.Requests+renamed || math.Abs(float64(share.Measured)-want) > 1e-12 || float64(share.High) < 0.35 || float64(share.Low) > 0.35 {
		t.Errorf("intent share %g of %d (interval %g–%g), want %g of %d", float64(share.Measured), share.N, float64(share.Low), float64(share.High), want, rep.Requests+renamed)
	}
}

// TestEmbeddingsRequestsCountedApart: a trace holds chat requests, chat requests refused
// before they had a category, and embeddings requests (which never have one), answered or
// refused. The embeddings requests are counted apart and not reviewed; the refusals count only
// the chat requests.
func TestEmbeddingsRequestsCountedApart(t *testing.T) {
	s := load(t, supportTriage)
	ds := traffic(s, 200, 1, reviewtest.Traffic{})
	for i, status := range []int{400, 401, 429} {
		d := ds[i]
		d.Category, d.Status, d.Attempts = "", status, nil
	}
	at := ds[len(ds)-1].Time
	embed := func(id string, status int, outcome clearbar.FailureClass, calls int) *clearbar.Decision {
		d := &clearbar.Decision{ID: id, Time: at, Dialect: clearbar.DialectOpenAI, Path: "/v1/embeddings",
			RequestedModel: "embed", Status: status, Outcome: outcome}
		for n := range calls {
			d.Attempts = append(d.Attempts, clearbar.Attempt{N: n + 1, Kind: clearbar.AttemptPrimary, Step: 1, Model: "embed", Provider: "up", Class: outcome})
		}
		if outcome == clearbar.OK {
			d.Model, d.Provider = "embed", "up"
		}
		return d
	}
	ds = append(ds, embed("e1", 200, clearbar.OK, 1), embed("e2", 200, clearbar.OK, 1),
		embed("e3", 401, clearbar.ClientError, 0), embed("e4", 429, clearbar.ClientError, 0), embed("e5", 502, clearbar.Overloaded, 1))
	store := trace.NewMemory(0)
	if err := store.Write(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	var read []*clearbar.Decision
	if err := Read(context.Background(), store, time.Time{}, time.Time{}, func(d *clearbar.Decision) { read = append(read, d) }); err != nil {
		t.Fatal(err)
	}
	rep := analyze(t, s, read, Options{})
	if rep.Requests != 200-3 || rep.Embeddings != 5 {
		t.Errorf("requests %d, embeddings %d; want 197 and 5", rep.Requests, rep.Embeddings)
	}
	for _, want := range []string{
		"5 embeddings request(s), not reviewed",
		"3 request(s) refused before they were given a category (1 malformed or naming an unknown model, 1 without a valid key, 1 over a key's rate limit) were left out",
	} {
		if !slices.Contains(rep.Notes, want) {
			t.Errorf("notes %q\nlack %q", rep.Notes, want)
		}
	}
}
