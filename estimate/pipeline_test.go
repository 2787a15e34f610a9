package estimate

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/internal/stats"
	"github.com/clearbar/clearbar/spec"
)

// pipelineSpec has one pipeline, a rewrite then an answer, for 80% of user requests; the other
// 20% are answered without a rewrite. Models are always available, at prices and fixed
// latencies (one measured sample each) that make every figure a hand computation.
const pipelineSpec = `version: 1
name: pipes
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 100000}
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4.1-nano, availability: 1, price: {input: 1, output: 2}, latency: {samples: [1s]}}
  b: {provider: sim, model: gpt-4.1-mini, availability: 1, price: {input: 2, output: 10}, latency: {samples: [2s]}}
categories:
  - name: rewrite
    tokens: {in: 1000, out: 100}
    quality_bar: 0.5
    failure_impact: {bad_answer: 0.1}
    route: {model: a}
    assume: {pass_rate: {a: 0.9, b: 0.95}}
  - name: answer
    share: 0.2
    tokens: {in: 2000, out: 500}
    quality_bar: 0.5
    failure_impact: {bad_answer: 1}
    route: {model: b}
    assume: {pass_rate: {a: 0.6, b: 0.8}}
pipelines:
  - {name: qa, share: 0.8, steps: [rewrite, answer], latency_budget: 2.9s}
`

func runPipelines(t *testing.T, src string, opts Options) *Report {
	t.Helper()
	if opts.Today.IsZero() {
		opts.Today = testDay
	}
	r, err := Run(context.Background(), parse(t, src), opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.UserRequests == nil {
		t.Fatal("a spec with pipelines has no section per user request")
	}
	return r
}

func (u *UserRequests) policy(name string) *UserRequestPolicy {
	for i := range u.Policies {
		if u.Policies[i].Policy == name {
			return &u.Policies[i]
		}
	}
	return nil
}

// TestPipelineSumsCostsAndMultipliesQualities: a two-step pipeline costs the sum of its
// steps' costs and is good when both steps are, per policy; the volume counts user requests.
func TestPipelineSumsCostsAndMultipliesQualities(t *testing.T) {
	r := runPipelines(t, pipelineSpec, Options{Samples: 20_000})
	u := r.UserRequests
	// 0.8 × 2 steps + 0.2 alone: 1.8 calls per user request, 180,000 calls a month.
	if u.PerMonth != 100_000 || math.Abs(u.CallsPerRequest-1.8) > 1e-12 || r.Volume != 180_000 {
		t.Errorf("user requests %d, calls each %v, report volume %d; want 100,000, 1.8, 180,000", u.PerMonth, u.CallsPerRequest, r.Volume)
	}
	// Per call, by hand: a at $1/$2 per million, b at $2/$10; rewrite 1000 in, 100 out;
	// answer 2000 in, 500 out.
	rewriteOnA := 1000*1e-6 + 100*2e-6 // $0.0012
	answerOnA := 2000*1e-6 + 500*2e-6  // $0.003
	answerOnB := 2000*2e-6 + 500*10e-6 // $0.009
	for _, tc := range []struct {
		policy          string
		cost, quality   float64 // of the pipeline
		answer, answerQ float64 // of an answer alone
		latency         float64 // seconds, end to end
	}{
		{"spec", rewriteOnA + answerOnB, 0.9 * 0.8, answerOnB, 0.8, 3},
		{"all-a", rewriteOnA + answerOnA, 0.9 * 0.6, answerOnA, 0.6, 2},
		{"all-b", 1000*2e-6 + 100*10e-6 + answerOnB, 0.95 * 0.8, answerOnB, 0.8, 4},
	} {
		p := u.policy(tc.policy)
		if p == nil {
			t.Fatalf("no policy %s per user request", tc.policy)
		}
		f := p.Pipelines[0]
		if got := f.Cost.USD(); math.Abs(got-tc.cost) > 1e-12 {
			t.Errorf("%s: pipeline cost %v, want %v (the steps' costs added)", tc.policy, got, tc.cost)
		}
		if math.Abs(f.Quality-tc.quality) > 1e-12 || f.PFailed != 0 {
			t.Errorf("%s: pipeline quality %v, failed %v; want %v (the steps' qualities multiplied), 0", tc.policy, f.Quality, f.PFailed, tc.quality)
		}
		if got, want := float64(f.CostPerMonth), tc.cost*0.8*100_000; math.Abs(got-want) > 1e-6 {
			t.Errorf("%s: pipeline cost a month %v, want %v", tc.policy, got, want)
		}
		for _, q := range []float64{f.Latency.P50, f.Latency.P95, f.Latency.P99} {
			if math.Abs(q-tc.latency) > tc.latency/256 { // within a histogram bucket
				t.Errorf("%s: end-to-end latency quantile %v, want %vs (the steps' fixed latencies added)", tc.policy, q, tc.latency)
			}
		}
		all := p.All
		if got, want := all.Cost.USD(), 0.8*tc.cost+0.2*tc.answer; math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: cost of all user requests %v, want %v", tc.policy, got, want)
		}
		if got, want := all.Quality, 0.8*tc.quality+0.2*tc.answerQ; math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: quality of all user requests %v, want %v", tc.policy, got, want)
		}
		// Every user request's cost, a month, is every call's: the policy's total.
		if total := r.policy(tc.policy).Total.CostPerMonth; math.Abs(float64(all.CostPerMonth-total)) > 0.01 {
			t.Errorf("%s: all user requests cost %v a month, the calls %v", tc.policy, all.CostPerMonth, total)
		}
	}
	// The recommendation's figures are per model call; it also gives the recommended
	// policy's per user request.
	if rec := u.policy(r.Recommended); rec == nil || !strings.Contains(r.Recommendation, fmt.Sprintf("Those figures are per model call; per user request, which makes 1.8 calls on average: %s, %s a month at 100,000 user requests, %s with every step's answer good.",
		rec.All.Cost, rec.All.CostPerMonth, pct(rec.All.Quality))) {
		t.Errorf("recommendation %q does not give %s's figures per user request", r.Recommendation, r.Recommended)
	}
	// A volume given to the estimate counts user requests too.
	r2 := runPipelines(t, pipelineSpec, Options{Samples: 4_000, Volume: 10_000})
	if r2.Volume != 18_000 || r2.UserRequests.PerMonth != 10_000 {
		t.Errorf("Options.Volume 10,000: calls %d, user requests %d; want 18,000 and 10,000", r2.Volume, r2.UserRequests.PerMonth)
	}
	// The categories' shares are of calls: rewrite 0.8 / 1.8, answer 1 / 1.8.
	if got := r.Categories[0].Share; math.Abs(got-0.8/1.8) > 1e-12 {
		t.Errorf("rewrite's share of calls %v, want 0.8/1.8", got)
	}
}

// TestPipelineBudgetVerdict: the end-to-end p95 is held against the pipeline's budget, with the
// simulation's error allowed for, as a category's is.
func TestPipelineBudgetVerdict(t *testing.T) {
	for _, tc := range []struct {
		budget string
		meets  map[string]bool // by policy: spec takes 3s, all-a 2s, all-b 4s
	}{
		{"2.9s", map[string]bool{"spec": false, "all-a": true, "all-b": false}},
		{"3.1s", map[string]bool{"spec": true, "all-a": true, "all-b": false}},
	} {
		r := runPipelines(t, strings.Replace(pipelineSpec, "latency_budget: 2.9s", "latency_budget: "+tc.budget, 1), Options{Samples: 20_000})
		for name, want := range tc.meets {
			if got := r.UserRequests.policy(name).Pipelines[0].MeetsBudget; got != want {
				t.Errorf("budget %s, %s: meets %v, want %v", tc.budget, name, got, want)
			}
		}
	}

	// Over its budget by less than the simulation's error, a p95 meets it, saying so.
	r := runPipelines(t, lognormalPipelines, Options{Samples: 20_000})
	_, _, cells := specCells(t, lognormalPipelines)
	f, _ := pipelineFigures(cells, 0)
	tol := sumOfDraws(cells).quantileTol(0.95)
	if tol <= 0 {
		t.Fatalf("no simulation error for a lognormal sum: %v", tol)
	}
	near, _ := pipelineFigures(cells, f.Latency.P95-tol/2)
	far, _ := pipelineFigures(cells, f.Latency.P95-2*tol)
	if !near.MeetsBudget || !near.WithinError || far.MeetsBudget || far.WithinError {
		t.Errorf("p95 %v, error %v: over by half the error meets %v (within error %v), by twice it meets %v", f.Latency.P95, tol, near.MeetsBudget, near.WithinError, far.MeetsBudget)
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Per user request (pipelines): 50,000 user requests/month, 2 model calls each", "x-then-y", "all user requests", "steps' outcomes taken as independent"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, buf.String())
		}
	}
}

// lognormalPipelines has two categories with lognormal latencies and two pipelines: one calls
// x then y, the other x twice.
const lognormalPipelines = `version: 1
name: lognormal
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 50000}
providers: {sim: {type: simulated}}
models:
  fast: {provider: sim, model: gpt-4.1-nano, availability: 1, latency: {p50: 1s, p95: 3s}}
  slow: {provider: sim, model: gpt-4.1-mini, availability: 1, latency: {p50: 2s, p95: 5s}}
categories:
  - name: x
    tokens: {in: 500, out: 50}
    quality_bar: 0.5
    failure_impact: {bad_answer: 0.1}
    route: {model: fast}
    assume: {pass_rate: {fast: 0.9}}
  - name: y
    tokens: {in: 500, out: 50}
    quality_bar: 0.5
    failure_impact: {bad_answer: 0.1}
    route: {model: slow}
    assume: {pass_rate: {slow: 0.9}}
pipelines:
  - {name: x-then-y, share: 0.5, steps: [x, y]}
  - {name: x-twice, share: 0.5, steps: [x, x]}
`

// TestPipelineLatencyIsTheSumsDistribution: the end-to-end quantiles are those of the sum of
// independent step latencies, checked against a separate Monte Carlo of the sum with its own
// seed. A category called twice adds two independent draws, not one draw twice.
func TestPipelineLatencyIsTheSumsDistribution(t *testing.T) {
	const samples = 200_000 // 100,000 per category
	r := runPipelines(t, lognormalPipelines, Options{Samples: samples})
	x, y := stats.FitLognormal(1, 3), stats.FitLognormal(2, 5)
	rng := rand.New(rand.NewPCG(99, 12345))
	const n = 400_000
	sums := map[string][]float64{}
	for range n {
		a, b, c := x.Sample(rng), y.Sample(rng), x.Sample(rng)
		sums["x-then-y"] = append(sums["x-then-y"], a+b)
		sums["x-twice"] = append(sums["x-twice"], a+c)
	}
	spec := r.UserRequests.policy("spec")
	for i, p := range r.UserRequests.Pipelines {
		ref := sums[p.Name]
		slices.Sort(ref)
		f := spec.Pipelines[i]
		for _, q := range []struct {
			q   float64
			got float64
		}{{0.5, f.Latency.P50}, {0.95, f.Latency.P95}, {0.99, f.Latency.P99}} {
			want := ref[int(q.q*n)]
			// The standard error of both estimates of the quantile: sqrt(q(1-q)/m) over the
			// density there, read off the reference sample; plus half a histogram bucket.
			d := 0.005
			density := 2 * d / (ref[int((q.q+d)*n)] - ref[int((q.q-d)*n)])
			se := math.Sqrt(q.q*(1-q.q)/(samples/2)+q.q*(1-q.q)/n) / density
			if tol := 4*se + want/512; math.Abs(q.got-want) > tol {
				t.Errorf("%s p%.0f: %.4gs, an independent Monte Carlo says %.4gs (±%.2g)", p.Name, q.q*100, q.got, want, tol)
			}
		}
	}
	// Adding one draw to itself would make x-twice's p95 twice x's: 6s; independent draws
	// give less.
	if p95 := spec.Pipelines[1].Latency.P95; p95 > 5.6 {
		t.Errorf("x-twice p95 %v: a category called twice adds the same draw to itself", p95)
	}
}

// TestNoPipelinesNoSection: without pipelines the report has no section per user request and
// its volume is the spec's.
func TestNoPipelinesNoSection(t *testing.T) {
	src := strings.Replace(strings.Replace(lognormalPipelines, "    tokens: {in: 500, out: 50}\n", "    share: 0.5\n    tokens: {in: 500, out: 50}\n", 2), lognormalPipelines[strings.Index(lognormalPipelines, "pipelines:"):], "", 1)
	r, err := Run(context.Background(), parse(t, src), Options{Samples: 4_000, Today: testDay})
	if err != nil {
		t.Fatal(err)
	}
	if r.UserRequests != nil || r.Volume != 50_000 {
		t.Errorf("no pipelines: section %v, volume %d", r.UserRequests, r.Volume)
	}
	var buf bytes.Buffer
	WriteText(&buf, r)
	if strings.Contains(buf.String(), "user request") {
		t.Errorf("a report without pipelines speaks of user requests:\n%s", buf.String())
	}
}

// TestPipelineShareKnobsMoveUserRequests: with pipelines a category's share of model calls is
// derived; the sensitivity moves the shares the spec states, of user requests. rewrite is
// called only as qa's step: its calls follow qa's share, and it has no knob of its own (its
// share of calls cannot move while qa's stays). answer is also called alone, by 20% of user
// requests: that share moves, qa's rescaled.
func TestPipelineShareKnobsMoveUserRequests(t *testing.T) {
	r := runPipelines(t, pipelineSpec, Options{Sensitivity: 0.2})
	var names []string
	var values []float64
	for _, k := range r.Sensitivity.knobs {
		if k.kind == kindShare {
			names = append(names, k.input)
			values = append(values, k.value)
		}
	}
	if want := []string{"share of user requests calling answer alone", "share of pipeline qa"}; !slices.Equal(names, want) {
		t.Errorf("share knobs %q, want %q", names, want)
	}
	if want := []float64{0.2, 0.8}; !slices.Equal(values, want) {
		t.Errorf("share knobs at %v, want the spec's shares of user requests %v", values, want)
	}
	// qa moved from 0.8 to 0.9 of user requests: the answers called alone go from 0.2 to 0.1;
	// a user request makes 0.9 × 2 + 0.1 = 1.9 calls, 0.9 of them rewrites.
	s := parse(t, pipelineSpec)
	got, k := callSharesMoving(s, s.Pipelines[0], nil, 0.9)
	if math.Abs(got["rewrite"]-0.9/1.9) > 1e-12 || math.Abs(got["answer"]-1/1.9) > 1e-12 || math.Abs(k-1.9) > 1e-12 {
		t.Errorf("shares of calls with qa at 0.9: %v, %v calls per user request; want rewrite 0.9/1.9, answer 1/1.9, 1.9", got, k)
	}
	// answer alone moved from 0.2 to 0.3: qa falls to 0.7; 0.7 × 2 + 0.3 = 1.7 calls.
	got, k = callSharesMoving(s, nil, s.Categories[1], 0.3)
	if math.Abs(got["rewrite"]-0.7/1.7) > 1e-12 || math.Abs(got["answer"]-1/1.7) > 1e-12 || math.Abs(k-1.7) > 1e-12 {
		t.Errorf("shares of calls with answer alone at 0.3: %v, %v calls per user request; want rewrite 0.7/1.7, answer 1/1.7, 1.7", got, k)
	}
	// Unmoved, they are the spec's.
	for _, moved := range []struct {
		p *spec.Pipeline
		c *spec.Category
		v float64
	}{{s.Pipelines[0], nil, 0.8}, {nil, s.Categories[1], 0.2}} {
		got, _ = callSharesMoving(s, moved.p, moved.c, moved.v)
		for _, c := range s.Categories {
			if math.Abs(got[c.Name]-float64(c.Share)) > 1e-12 {
				t.Errorf("shares of calls unmoved: %s %v, want the spec's %v", c.Name, got[c.Name], c.Share)
			}
		}
	}
}

// TestPipelineCSVRows: the CSV report carries the figures per user request: after each
// policy's TOTAL, a row per pipeline and one for every user request, with the section's
// figures.
func TestPipelineCSVRows(t *testing.T) {
	r := runPipelines(t, pipelineSpec, Options{Samples: 20_000})
	var buf bytes.Buffer
	if err := WriteCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + len(r.Policies)*(len(r.Categories)+1+len(r.UserRequests.Pipelines)+1); len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	byKey := map[string][]string{}
	for _, row := range rows[1:] {
		byKey[row[0]+" "+row[1]] = row
	}
	for k, p := range r.Policies {
		up := r.UserRequests.Policies[k]
		f := up.Pipelines[0]
		row := byKey[p.Name+" PIPELINE qa"]
		want := []string{p.Name, "PIPELINE qa", "rewrite → answer", "0.800000", f.Cost.Decimal()}
		if row == nil || !slices.Equal(row[:5], want) || row[6] != f.CostPerMonth.Decimal() || row[12] != "2.900" || row[18] != strconv.FormatBool(f.MeetsBudget) {
			t.Errorf("%s: pipeline row %q, want it to start %q, with %s a month, budget 2.900 and meets %v", p.Name, row, want, f.CostPerMonth.Decimal(), f.MeetsBudget)
		}
		all := byKey[p.Name+" ALL USER REQUESTS"]
		if all == nil || all[4] != up.All.Cost.Decimal() || all[6] != up.All.CostPerMonth.Decimal() || all[19] != strconv.FormatBool(p.Name == r.Recommended) {
			t.Errorf("%s: all user requests row %q, want cost %s, %s a month", p.Name, all, up.All.Cost.Decimal(), up.All.CostPerMonth.Decimal())
		}
	}
}

// TestPipelineShareKnobMovesCalls: moving a pipeline's share moves the calls a month with it:
// qa from 0.8 to 0.96 of the 100,000 user requests adds 16,000 rewrites and no answers (the
// answers called alone fall by as many), so the baseline's monthly cost plus risk moves by
// 16,000 of its rewrites' cost plus risk.
func TestPipelineShareKnobMovesCalls(t *testing.T) {
	r := runPipelines(t, pipelineSpec, Options{Sensitivity: 0.2, Samples: 20_000})
	base := r.policy(r.Sensitivity.Baseline)
	rewrite := base.Categories[0]
	perCall := (float64(rewrite.CostPerMonth) + float64(rewrite.RiskPerMonth)) / (r.Categories[0].Share * float64(r.Volume))
	want := 16_000 * perCall
	var got *Effect
	for i, ef := range r.Sensitivity.Largest {
		if ef.Input == "share of pipeline qa" && strings.HasPrefix(ef.Change, "+") {
			got = &r.Sensitivity.Largest[i]
		}
	}
	if got == nil {
		t.Fatalf("no effect of qa's share +20%%: %+v", r.Sensitivity.Largest)
	}
	if math.Abs(float64(got.Delta)-want) > 1e-6*math.Abs(want)+0.01 {
		t.Errorf("qa's share +20%%: monthly cost plus risk %+v, want %+.2f (16,000 rewrites on %s)", float64(got.Delta), want, r.Sensitivity.Baseline)
	}
}

// TestPipelineCategoryShareKnobMovesCalls: moving the share of user requests that call answer
// alone, 0.2 to 0.24 of the 100,000, takes qa to 0.76: 4,000 fewer rewrites and as many
// answers (4,000 fewer in qa, 4,000 more alone), so the baseline's monthly cost plus risk
// moves by 4,000 of its rewrites' cost plus risk, down.
func TestPipelineCategoryShareKnobMovesCalls(t *testing.T) {
	r := runPipelines(t, pipelineSpec, Options{Sensitivity: 0.2, Samples: 20_000})
	base := r.policy(r.Sensitivity.Baseline)
	rewrite := base.Categories[0]
	perCall := (float64(rewrite.CostPerMonth) + float64(rewrite.RiskPerMonth)) / (r.Categories[0].Share * float64(r.Volume))
	want := -4_000 * perCall
	var got *Effect
	for i, ef := range r.Sensitivity.Largest {
		if ef.Input == "share of user requests calling answer alone" && strings.HasPrefix(ef.Change, "+") {
			got = &r.Sensitivity.Largest[i]
		}
	}
	if got == nil {
		t.Fatalf("no effect of answer's own share +20%%: %+v", r.Sensitivity.Largest)
	}
	if math.Abs(float64(got.Delta)-want) > 1e-6*math.Abs(want)+0.01 {
		t.Errorf("answer's own share +20%%: monthly cost plus risk %+v, want %+.2f (4,000 fewer rewrites on %s)", float64(got.Delta), want, r.Sensitivity.Baseline)
	}
}

// specCells evaluates the spec policy of src, 10,000 draws per category kept, and returns the
// spec, its estimator and the policy's cells.
func specCells(t *testing.T, src string) (*spec.Spec, *estimator, []*cell) {
	t.Helper()
	s := parse(t, src)
	e := &estimator{spec: s, opts: Options{Samples: 20_000, Seed: 1}.withDefaults(s), world: newWorld(s), cells: map[cellKey]*cell{}, keepDraws: pipelineCategories(s)}
	e.perCell = 10_000
	policies, _ := basePolicies(s)
	if err := e.evaluate(context.Background(), policies[:1]); err != nil {
		t.Fatal(err)
	}
	return s, e, policies[0].cells
}

// TestPipelineFailedStepStillCalled: when a step fails (its model often unavailable, no
// fallback), the steps after it are still counted as called, paid and waited for, and every
// format's section per user request says so: with rewrite's model up half the time, qa costs
// rewrite's cost plus the whole answer ($0.009: 2,000 in at $2/M, 500 out at $10/M), fails
// as often as rewrite does, and takes at least rewrite's 1s (or the time it took to fail,
// also 1s) plus the answer's 2s.
func TestPipelineFailedStepStillCalled(t *testing.T) {
	src := strings.Replace(pipelineSpec, "a: {provider: sim, model: gpt-4.1-nano, availability: 1,", "a: {provider: sim, model: gpt-4.1-nano, availability: 0.5,", 1)
	r := runPipelines(t, src, Options{Samples: 20_000})
	rewrite := r.Policies[0].Categories[0]
	if rewrite.PFailed < 0.05 {
		t.Fatalf("rewrite fails %v of its calls; the test needs a step that fails", rewrite.PFailed)
	}
	f := r.UserRequests.policy("spec").Pipelines[0]
	if want := float64(rewrite.Cost) + 0.009e9; math.Abs(float64(f.Cost)-want) > 2 {
		t.Errorf("qa costs %s a user request, want rewrite's %s plus the answer's $0.009", f.Cost, rewrite.Cost)
	}
	if math.Abs(f.PFailed-rewrite.PFailed) > 1e-9 {
		t.Errorf("qa fails %v of user requests, want rewrite's %v", f.PFailed, rewrite.PFailed)
	}
	if f.Latency.P50 < 2.98 {
		t.Errorf("qa's p50 %v, want at least 3s: the answer is waited for after a failed rewrite too", f.Latency.P50)
	}
	for _, format := range []string{"table", "markdown", "html"} {
		var buf bytes.Buffer
		if err := Write(&buf, r, format); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(strings.ReplaceAll(buf.String(), "&#39;", "'")), " ")
		for _, want := range []string{
			"Every step is called, and paid, for every user request of its pipeline, even after an earlier step has failed",
			"a failed step's time until it failed included",
			"calls the application makes in parallel are counted as if in sequence",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s report does not say %q", format, want)
			}
		}
	}
}
