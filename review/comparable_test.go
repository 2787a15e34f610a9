package review

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// qaSpec is a multiple-choice category on a score route checked by agreement, as RouterBench's
// ARC-Challenge is routed in the README: mixtral is checked by yi34b, every other model by
// mixtral, and a failed answer escalates straight to gpt4. ROUTE and ASSUME are replaced.
const qaSpec = `version: 1
name: qa
review: {last: 2026-11-01}
providers:
  sim: {type: simulated}
models:
  mixtral: {provider: sim, model: gpt-4o-mini, latency: {p50: 300ms, p95: 900ms}}
  gpt35:   {provider: sim, model: gpt-4.1-nano, latency: {p50: 300ms, p95: 900ms}}
  gpt4:    {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 3s}}
  yi34b:   {provider: sim, model: gpt-4.1-mini, latency: {p50: 400ms, p95: 1s}}
categories:
  - name: qa
    share: 1
    tokens: {in: 60, out: 5}
    quality_bar: 0.5
    route: ROUTE
    assume:
      pass_rate: {mixtral: 0.7, gpt35: 0.6, gpt4: 0.88, yi34b: 0.7}
      validator: {detect: 0.9, false_alarm: 0.05}
ASSUME`

const (
	qaScoreRoute = "{score: {heuristic: {tiers: [0.3, 0.6]}, models: [mixtral, gpt35, gpt4], escalate: [gpt4]}, validate: [{agree: {models: [mixtral, yi34b], answer: choice}}]}"
	// qaCascade checks every answer with yi34b, which answers no step: an independent check.
	qaCascade = "{cascade: [mixtral, gpt4], validate: [{agree: {model: yi34b, answer: choice}}]}"
)

// loadQA writes the qa spec with a route and extra assume lines to a file (review writes its
// recommended change as a diff of the file) and loads it.
func loadQA(t *testing.T, route, assume string) *spec.Spec {
	t.Helper()
	text := strings.Replace(strings.Replace(qaSpec, "ROUTE", route, 1), "ASSUME", assume, 1)
	file := filepath.Join(t.TempDir(), "qa.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := spec.Load(file, spec.Options{Today: today})
	if err != nil {
		t.Fatalf("loading:\n%s\n%v", text, err)
	}
	return s
}

// qaTraffic builds decisions by hand, as the gateway records them.
type qaTraffic struct {
	s     *spec.Spec
	rng   *rand.Rand
	agree string // the agreement check's summary, as verdicts name it
	ds    []*clearbar.Decision
}

func newQATraffic(s *spec.Spec) *qaTraffic {
	return &qaTraffic{s: s, rng: rand.New(rand.NewPCG(3, 4)), agree: s.Categories[0].Route.Validate[0].Summary()}
}

// checkVerdict is how an answer's agreement check came out.
type checkVerdict int

const (
	agreed checkVerdict = iota
	disagreed
	notApplicable // not a multiple-choice question
	unverified    // the checker had nothing to compare
)

// call is one answer of a request: its step, kind, model and verdict.
type call struct {
	step  int
	kind  string
	model string
	v     checkVerdict
}

// add records a request whose calls answered in turn; start is the model a score route
// started on ("" on other routes).
func (q *qaTraffic) add(start string, calls ...call) {
	i := len(q.ds)
	d := &clearbar.Decision{ID: fmt.Sprintf("q%06d", i), Time: windowStart.Add(time.Duration(i) * time.Minute), Dialect: "openai",
		Path: "/v1/chat/completions", Category: "qa", CategoryBy: "header", Outcome: clearbar.OK, Status: 200}
	if start != "" {
		d.Score = &clearbar.Score{Router: clearbar.HeuristicRouter, Start: start}
		d.Route = "score"
	}
	for j, c := range calls {
		m := q.s.Model(c.model)
		l := q.s.Categories[0].LatencyFor(m)
		p50, p95 := l.P50.D().Seconds(), l.P95.D().Seconds()
		lat := p50 * math.Exp(math.Log(p95/p50)/1.6448536269514722*q.rng.NormFloat64())
		a := clearbar.Attempt{N: len(d.Attempts) + 1, Kind: c.kind, Step: c.step, Model: c.model, Provider: "sim",
			Latency: time.Duration(lat * float64(time.Second)), Usage: clearbar.Usage{PromptTokens: 60, CompletionTokens: 5}, Outcome: "accepted"}
		a.Cost = m.Cost(a.Usage)
		vd := clearbar.Verdict{Validator: q.agree, Pass: true}
		switch c.v {
		case disagreed:
			vd.Pass, vd.Reason = false, "the answers differ"
		case notApplicable:
			vd.NotApplicable, vd.Reason = true, "the question lists no options"
		case unverified:
			vd.Pass, vd.Unverified, vd.Reason = false, true, "the checker's answer names no option"
		}
		a.Verdicts = []clearbar.Verdict{vd}
		if !vd.Pass && j < len(calls)-1 {
			a.Class, a.Outcome = clearbar.Quality, "escalated after failed validation"
		}
		d.Attempts = append(d.Attempts, a)
		d.Cost += a.Cost
		d.Latency += a.Latency
		d.Model = c.model
	}
	q.ds = append(q.ds, d)
}

// repeat adds n requests built by f(i).
func (q *qaTraffic) repeat(n int, f func(i int)) {
	for i := range n {
		f(i)
	}
}

func runReview(t *testing.T, s *spec.Spec, ds []*clearbar.Decision) *Report {
	t.Helper()
	r := New(s, Options{Today: today})
	r.Add(ds...)
	rep, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// passRateEdits returns the re-estimate's edits of any pass-rate assumption.
func passRateEdits(rep *Report) []Edit {
	var out []Edit
	if rep.Reestimate == nil {
		return nil
	}
	for _, e := range rep.Reestimate.Edits {
		if strings.Contains(e.What, "pass_rate") {
			out = append(out, e)
		}
	}
	return out
}

// scoreTraffic is the score route's traffic of the report this test reproduces: gpt4 is
// right on 37 of 42 questions it starts on (88%, as assumed), and on the questions mixtral
// fails and escalates to it, the agreement check compares it with mixtral's wrong answer and
// fails it whenever it is right. gpt35's questions list no options, so the check does not
// apply to them.
func scoreTraffic(s *spec.Spec) []*clearbar.Decision {
	q := newQATraffic(s)
	q.repeat(200, func(i int) {
		if i%10 < 7 { // mixtral right, as its 0.7 says (at detect 0.9, false alarm 0.05, near enough)
			q.add("mixtral", call{1, clearbar.AttemptPrimary, "mixtral", agreed})
			return
		}
		// Escalated: gpt4 is right, and so disagrees with mixtral, 7 times in 10.
		v := agreed
		if i%10 < 9 {
			v = disagreed
		}
		q.add("mixtral", call{1, clearbar.AttemptPrimary, "mixtral", disagreed}, call{2, clearbar.AttemptEscalation, "gpt4", v})
	})
	q.repeat(42, func(i int) {
		v := agreed
		if i < 5 {
			v = disagreed
		}
		q.add("gpt4", call{1, clearbar.AttemptPrimary, "gpt4", v})
	})
	q.repeat(50, func(i int) { q.add("gpt35", call{1, clearbar.AttemptPrimary, "gpt35", notApplicable}) })
	return q.ds
}

// TestScoreRouteComparesLikeWithLike: on a score route, a model's verdicts are on requests its
// score picked or an earlier step escalated, so none is tested against assume.pass_rate, the
// pass rate over the category; an escalated answer that an agreement check compared with the
// escalating model's answer is left out; answers the check did not apply to count neither way;
// and nothing is written into assume.pass_rate.
func TestScoreRouteComparesLikeWithLike(t *testing.T) {
	s := loadQA(t, qaScoreRoute, "")
	rep := runReview(t, s, scoreTraffic(s))
	for _, cv := range rep.Categories {
		for _, c := range cv.Comparisons {
			if strings.Contains(c.Metric, "pass rate") && c.Tested {
				t.Errorf("%s %s tested (%s): a score route's verdicts are not comparable with assume.pass_rate", c.Model, c.Metric, c.Note)
			}
		}
	}
	if fired(rep, TriggerPassRate, "", "") {
		t.Errorf("a pass-rate trigger fired: %+v", rep.Triggers)
	}
	if es := passRateEdits(rep); len(es) > 0 {
		t.Errorf("pass rates written from untested measurements: %+v", es)
	}
	if c := comparison(rep, "qa", "gpt4", "pass rate"); c != nil {
		t.Errorf("gpt4's verdicts compared with assume.pass_rate: %+v", c)
	}
	esc := comparison(rep, "qa", "gpt4", "escalated pass rate")
	if esc == nil || esc.N != 0 || esc.Tested || !strings.Contains(esc.Note, "60 escalated answer(s) were left out") || !strings.Contains(esc.Note, "disagreement with mixtral") {
		t.Errorf("gpt4 escalated: %+v", esc)
	}
	start := comparison(rep, "qa", "gpt4", "score pass rate")
	if start == nil || start.N != 42 || start.Tested || !strings.Contains(start.Note, "not comparable") ||
		math.Abs(float64(start.Measured)-(37.0/42-0.1)/0.85) > 1e-9 {
		t.Errorf("gpt4 score start: %+v", start)
	}
	gpt35 := comparison(rep, "qa", "gpt35", "score pass rate")
	if gpt35 == nil || gpt35.N != 0 || gpt35.Tested || gpt35.Measured.Finite() || !strings.Contains(gpt35.Note, "50 answer(s) the validators could not judge") {
		t.Errorf("gpt35, whose every answer the check did not apply to: %+v", gpt35)
	}
}

// TestScorePassRateTestedWhereStated: a score route's start model is tested against
// assume.score_pass_rate where the spec states it, and the measured value is written there,
// not into assume.pass_rate.
func TestScorePassRateTestedWhereStated(t *testing.T) {
	s := loadQA(t, qaScoreRoute, "      score_pass_rate: {gpt4: 0.5}\n")
	rep := runReview(t, s, scoreTraffic(s))
	c := comparison(rep, "qa", "gpt4", "score pass rate")
	if c == nil || !c.Tested || !c.Significant || float64(c.Assumed) != 0.5 || c.N != 42 {
		t.Fatalf("gpt4 score pass rate: %+v", c)
	}
	if !fired(rep, TriggerPassRate, "qa", "gpt4") {
		t.Errorf("no pass-rate trigger for gpt4: %+v", rep.Triggers)
	}
	es := passRateEdits(rep)
	if len(es) != 1 || es[0].What != "assume.score_pass_rate.gpt4" || es[0].From != "0.5" {
		t.Fatalf("edits %+v", es)
	}
	if want := "+      score_pass_rate: {gpt4: " + es[0].To + "}\n"; !strings.Contains(rep.Reestimate.Diff, want) {
		t.Errorf("diff has no %q:\n%s", want, rep.Reestimate.Diff)
	}
	if strings.Contains(rep.Reestimate.Diff, "+      pass_rate:") {
		t.Errorf("assume.pass_rate changed:\n%s", rep.Reestimate.Diff)
	}
}

// cascadeTraffic: mixtral answers every request first, right 7 times in 10; gpt4 answers the
// escalated ones, checked by yi34b (which answers no step), agreeing on escalatedPass of them.
// Half of mixtral's questions list no options besides: the check passes those unchecked.
func cascadeTraffic(s *spec.Spec, escalatedPass float64) []*clearbar.Decision {
	q := newQATraffic(s)
	n, k := 0, 0
	q.repeat(600, func(i int) {
		if i%2 == 1 {
			q.add("", call{1, clearbar.AttemptPrimary, "mixtral", notApplicable})
			return
		}
		if i%20 < 14 {
			q.add("", call{1, clearbar.AttemptPrimary, "mixtral", agreed})
			return
		}
		v := disagreed
		if float64(k) < escalatedPass*float64(n+1) {
			v, k = agreed, k+1
		}
		n++
		q.add("", call{1, clearbar.AttemptPrimary, "mixtral", disagreed}, call{2, clearbar.AttemptEscalation, "gpt4", v})
	})
	return q.ds
}

// TestCascadeEscalatedPassRate: on a cascade, the first step's verdicts are tested against
// assume.pass_rate (answers the check did not apply to left out), and the verdicts of an
// escalated step against assume.escalated_pass_rate where the spec states it (written there
// when it moved), and not tested where it does not.
func TestCascadeEscalatedPassRate(t *testing.T) {
	s := loadQA(t, qaCascade, "      escalated_pass_rate: {gpt4: 0.8}\n")
	rep := runReview(t, s, cascadeTraffic(s, 0.45))
	first := comparison(rep, "qa", "mixtral", "pass rate")
	if first == nil || !first.Tested || first.N != 300 || !strings.Contains(first.Note, "300 answer(s) the validators could not judge") {
		t.Errorf("mixtral: %+v", first)
	}
	esc := comparison(rep, "qa", "gpt4", "escalated pass rate")
	if esc == nil || !esc.Tested || !esc.Significant || esc.N != 90 || float64(esc.Assumed) != 0.8 {
		t.Fatalf("gpt4 escalated: %+v", esc)
	}
	es := passRateEdits(rep)
	if len(es) != 1 || es[0].What != "assume.escalated_pass_rate.gpt4" {
		t.Fatalf("edits %+v", es)
	}
	if !strings.Contains(rep.Reestimate.Diff, "+      escalated_pass_rate: {gpt4: "+es[0].To+"}\n") {
		t.Errorf("diff:\n%s", rep.Reestimate.Diff)
	}

	// Without escalated_pass_rate, the escalated verdicts are shown, not tested, and nothing
	// is written.
	s = loadQA(t, qaCascade, "")
	rep = runReview(t, s, cascadeTraffic(s, 0.45))
	esc = comparison(rep, "qa", "gpt4", "escalated pass rate")
	if esc == nil || esc.Tested || esc.N != 90 || !strings.Contains(esc.Note, "not tested") {
		t.Errorf("gpt4 escalated, nothing assumed: %+v", esc)
	}
	if es := passRateEdits(rep); len(es) > 0 || fired(rep, TriggerPassRate, "", "") {
		t.Errorf("edits %+v, triggers %+v", es, rep.Triggers)
	}
}

// TestRetryOnceAnswerNotCounted: the second answer of a step that retries a failed answer
// (on_fail: retry_once) answers a request whose first answer failed: only the first counts.
func TestRetryOnceAnswerNotCounted(t *testing.T) {
	s := loadQA(t, qaCascade, "")
	q := newQATraffic(s)
	q.repeat(100, func(i int) {
		if i%10 < 7 {
			q.add("", call{1, clearbar.AttemptPrimary, "mixtral", agreed})
			return
		}
		q.add("", call{1, clearbar.AttemptPrimary, "mixtral", disagreed}, call{1, clearbar.AttemptRetry, "mixtral", disagreed},
			call{2, clearbar.AttemptEscalation, "gpt4", agreed})
	})
	rep := analyze(t, s, q.ds, Options{})
	if c := comparison(rep, "qa", "mixtral", "pass rate"); c == nil || c.N != 100 {
		t.Errorf("mixtral: %+v", c)
	}
}

// TestJudge: verdicts read as clearbar eval reads them.
func TestJudge(t *testing.T) {
	pass := clearbar.Verdict{Validator: "a", Pass: true}
	fail := clearbar.Verdict{Validator: "b", Reason: "no"}
	na := clearbar.Verdict{Validator: "c", Pass: true, NotApplicable: true}
	unv := clearbar.Verdict{Validator: "d", Unverified: true}
	for _, c := range []struct {
		vs             []clearbar.Verdict
		judged, passed bool
	}{
		{[]clearbar.Verdict{pass}, true, true},
		{[]clearbar.Verdict{fail}, true, false},
		{[]clearbar.Verdict{na}, false, false},
		{[]clearbar.Verdict{unv}, false, false},
		{[]clearbar.Verdict{na, pass}, true, true},
		{[]clearbar.Verdict{na, fail}, true, false},
		{[]clearbar.Verdict{unv, fail}, true, false},
		{[]clearbar.Verdict{unv, pass}, false, false},
	} {
		if j, p := judge(c.vs); j != c.judged || p != c.passed {
			t.Errorf("%+v: judged %v passed %v, want %v %v", c.vs, j, p, c.judged, c.passed)
		}
	}
}
