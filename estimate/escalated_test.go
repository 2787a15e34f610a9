package estimate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

const escalatedSpec = `version: 1
name: escalated
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}, availability: 1}
  b: {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 2s}, availability: 1}
categories:
  - name: x
    share: 1
    tokens: {in: 1000, out: 100}
    quality_bar: 0.5
    route: {cascade: [a, b], validate: [{max_length: 100}]}
    assume:
      pass_rate: {a: 0.8, b: 0.95}
      escalated_pass_rate: {b: 0.6}
      validator: {detect: 0.9, false_alarm: 0.05}
`

// TestEscalatedPassRate: a request escalated by a flag is answered at the later model's
// escalated pass rate, not its pass rate over all requests, in the closed form and the
// simulation; a move of the model's pass rate moves its escalated rate by as much in log-odds.
func TestEscalatedPassRate(t *testing.T) {
	s := parse(t, escalatedSpec)
	c := s.Categories[0]
	w := newWorld(s)
	plan := w.compile(c, c.Route, nil)
	o := plan.closed()
	// a's answer good and accepted, else flagged (bad and caught, or good and flagged) and
	// answered by b at 0.6: 0.8·0.95 + (0.2·0.9 + 0.8·0.05)·0.6.
	want := 0.8*0.95 + (0.2*0.9+0.8*0.05)*0.6
	if math.Abs(o.quality-want) > 1e-12 {
		t.Errorf("quality %.6f, want %.6f (with b at its pass rate 0.95 it would be %.6f)", o.quality, want, 0.8*0.95+(0.2*0.9+0.8*0.05)*0.95)
	}
	const n = 200_000
	sim := plan.simulate(n, rand.New(rand.NewPCG(5, 6)))
	se := math.Sqrt(want * (1 - want) / n)
	within(t, "P(good)", sim.good/n, want, se, 4.5)

	// b's pass rate moves from 0.95 to 0.9: its log-odds fall by ln 19 − ln 9, and so do its
	// escalated rate's: 0.6 → 1/(1 + (0.4/0.6)·(19/9)) = 27/65.
	w.passRate = withKey(w.passRate, [2]string{"x", "b"}, 0.9)
	if got := w.passEscalated(c, s.Model("b")); math.Abs(got-27.0/65) > 1e-12 {
		t.Errorf("escalated pass rate after b's pass rate moved to 0.9: %v, want 27/65", got)
	}
	// Far moves keep it within (0, 1): to 0.5, 1/(1 + (2/3)·19) = 3/41.
	w.passRate = withKey(w.passRate, [2]string{"x", "b"}, 0.5)
	if got := w.passEscalated(c, s.Model("b")); math.Abs(got-3.0/41) > 1e-12 {
		t.Errorf("escalated pass rate after b's pass rate moved to 0.5: %v, want 3/41", got)
	}
	if got := w.passEscalated(c, s.Model("a")); got != 0.8 {
		t.Errorf("a model without an escalated pass rate answers escalated requests at its pass rate: %v, want 0.8", got)
	}
}

// TestMeasuredEscalatedPassRateUsedAsShown: a measured escalated pass rate is used exactly when
// its finding says so: from MinGraded effective answers, not from a count rounded up to it.
func TestMeasuredEscalatedPassRateUsedAsShown(t *testing.T) {
	s := parse(t, strings.Replace(escalatedSpec, "detect: 0.9, false_alarm: 0.05", "detect: 0.9, false_alarm: 0.1", 1))
	var obs []Observation
	add := func(item, model string, pass bool) {
		p := pass
		obs = append(obs, Observation{Category: "x", Item: item, Model: model, Pass: &p})
	}
	// 10 items a fails and b passes, 9 both fail, 3 both pass: Σw = 19·0.9 + 3·0.1 = 17.4,
	// Σw² = 19·0.81 + 3·0.01 = 15.42, an effective 19.63 answers: fewer than 20.
	for i := range 22 {
		id := fmt.Sprint("i", i)
		add(id, "a", i >= 19)
		add(id, "b", i < 10 || i >= 19)
	}
	ms := Measure(s, obs)
	var f *Finding
	for _, x := range ms.Findings(s) {
		if x.What == "escalated pass rate" {
			f = &x
		}
	}
	if f == nil || f.Used || f.N != 19 {
		t.Fatalf("finding %+v; want one from 19 effective answers, not used", f)
	}
	w := newWorld(s)
	ms.apply(w)
	if _, applied := w.escPassRate[[2]string{"x", "b"}]; applied {
		t.Errorf("the estimate uses an escalated pass rate its finding says is not used")
	}
}

// TestAtBarNoteWithFullAvailability: a pass rate's break-even at the quality bar says the
// model alone meets the bar there when no request of it fails (availability 1), rather than
// that failed requests keep it short.
func TestAtBarNoteWithFullAvailability(t *testing.T) {
	s := parse(t, strings.Replace(escalatedSpec, "quality_bar: 0.5", "quality_bar: 0.85", 1))
	e := &estimator{spec: s, world: newWorld(s)}
	note := passAtBar(e, s.Categories[0], s.Model("a"))(0.85, 0.001)
	if !strings.Contains(note, "a alone meets the bar (availability 1: no request fails)") || strings.Contains(note, "falls short") {
		t.Errorf("note %q", note)
	}
}

// TestMeasuredVerdictsThatDoNotFitTheStrength: validator verdicts whose accepted share lies,
// beyond chance, below what the assumed strength allows measure no pass rate: the assumption
// is kept, and the finding says the strength does not fit, as eval and review say.
func TestMeasuredVerdictsThatDoNotFitTheStrength(t *testing.T) {
	s := parse(t, escalatedSpec) // detect 0.9: the validators accept at least 10% of answers
	var obs []Observation
	for range 100 {
		pass := false // none accepted
		obs = append(obs, Observation{Category: "x", Model: "a", Pass: &pass, ByValidator: true})
	}
	ms := Measure(s, obs)
	for _, f := range ms.Findings(s) {
		if f.Model == "a" && f.What == "pass rate" {
			if f.Used || f.Contradicts || !strings.Contains(f.Note, "does not fit these answers") {
				t.Errorf("finding %+v; want the assumption kept, and the strength said not to fit", f)
			}
			return
		}
	}
	t.Error("no pass-rate finding for a")
}
