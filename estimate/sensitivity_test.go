package estimate

import (
	"bytes"
	"context"
	"math"
	"slices"
	"strings"
	"testing"
)

// TestSensitivityCountsALostBar: at a bar of 97.5% the spec's cascade (97.62%) is the only
// policy that clears; a 20% higher failure rate of nano takes it below the bar, and then no
// policy clears. The spec's cascade is still recommended, as the closest, but a
// recommendation to clear has become one to come closest: the move changes the
// recommendation, and the report says so rather than that no move does.
func TestSensitivityCountsALostBar(t *testing.T) {
	r, text := runText(t, cascade(t, "BAR", "0.975"), Options{Sensitivity: 0.2})
	s := r.Sensitivity
	if s.Baseline != "spec" || !s.BaselineClears {
		t.Fatalf("baseline %s (clears %v), want spec, clearing", s.Baseline, s.BaselineClears)
	}
	var lost *Effect
	for i, f := range s.Flips {
		if f.Input == "pass rate of nano in extract" && strings.Contains(f.Change, "+20%") {
			lost = &s.Flips[i]
		}
	}
	if lost == nil {
		t.Fatalf("nano's failure rate +20%% is not among the moves that change the recommendation: %+v", s.Flips)
	}
	if lost.Recommended != "spec" || lost.RecommendedClears || !lost.Flips || lost.Kind != FlipNoneClears {
		t.Errorf("after the move: %+v, want spec recommended as the closest, not clearing, kind %q", *lost, FlipNoneClears)
	}
	// The policy recommended stays spec: the move is listed as one that leaves no policy
	// clearing, not as one that changes the recommendation from spec to spec.
	want := "  These moves leave no policy clearing every bar and budget (spec stays recommended, as the closest):\n" +
		"    pass rate of nano in extract 0.9 → 0.88 (failure rate +20%)\n"
	if strings.Contains(text, "No single move changes the recommendation") || !strings.Contains(text, want) ||
		strings.Contains(text, "change the recommendation from spec") {
		t.Errorf("the text report does not list the move as leaving no policy clearing (%q):\n%s", want, text)
	}
	var md, page bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if m := md.String(); !strings.Contains(m, "Moves that leave no policy clearing every bar and budget (spec stays recommended, as the closest):\n\n- pass rate of nano in extract 0.9 → 0.88 (failure rate +20%)\n") ||
		strings.Contains(m, "Moves that change the recommendation") {
		t.Errorf("the Markdown report does not list the move as leaving no policy clearing:\n%s", m)
	}
	if err := WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	if p := page.String(); !strings.Contains(p, "Moves that leave no policy clearing every bar and budget (<strong>spec</strong> stays recommended, as the closest):</p>\n<ul><li>pass rate of nano in extract 0.9 → 0.88 (failure rate &#43;20%)</li>") ||
		strings.Contains(p, "Moves that change the recommendation") {
		t.Errorf("the HTML report does not list the move as leaving no policy clearing:\n%s", p)
	}

	// At a bar of 99% no policy clears to begin with: no move makes the closest one "no longer
	// clear".
	r, text = runText(t, cascade(t, "BAR", "0.99"), Options{Sensitivity: 0.2})
	if r.Sensitivity.BaselineClears || strings.Contains(text, "no longer clears") {
		t.Errorf("no policy clears a 99%% bar, yet a move makes the closest no longer clear:\n%s", text)
	}
}

// TestAvailabilityKnobMovesMeasured: the availability knob reads a model's availability as the
// estimate has it, measured where measured, and moves it by scaling its error rate, rather
// than replacing the measurement with the spec's figure moved.
func TestAvailabilityKnobMovesMeasured(t *testing.T) {
	r, _ := runText(t, twoModels, Options{Sensitivity: 0.2})
	e := r.Sensitivity.est
	c, a := e.spec.Categories[0], e.spec.Model("a")
	e.world.measuredAvail = map[[2]string]float64{{c.Name, "a"}: 0.9}
	k := e.availabilityKnob(a, func(cl *cell) bool { return slices.Contains(cl.models(), "a") })
	if k.value != 0.9 {
		t.Errorf("knob value %v, want the measured 0.9 (the spec says %v)", k.value, a.Resolved.Availability)
	}
	v := k.moved(1.2) // error rate +20%: 0.88
	w := e.world.clone()
	k.set(w, v)
	if got := w.avail(c, a); math.Abs(got-0.88) > 1e-12 {
		t.Errorf("after the move availability %v, want 0.88 (measured error rate 0.1 × 1.2)", got)
	}
}

// TestSensitivityNamesChangedRoutes: cheapest-passing routes x to a, whose pass rate is the
// bar (y has only b, so no single model serves both). A 20% higher failure rate of a leaves cheapest-passing recommended, but on c, the next
// cheapest model that clears: the policy recommended is the same, the routes it stands for
// are not, and the move's effect on its cost plus risk is that of the new route. The report
// says which routes change rather than that no move changes the recommendation.
func TestSensitivityNamesChangedRoutes(t *testing.T) {
	src := reroute
	r, text := runText(t, src, Options{Sensitivity: 0.2})
	s := r.Sensitivity
	if s.Baseline != "cheapest-passing" || !s.BaselineClears || len(s.Flips) != 0 {
		t.Fatalf("baseline %s (clears %v, flips %+v), want cheapest-passing, clearing, no flips", s.Baseline, s.BaselineClears, s.Flips)
	}
	const input, change = "pass rate of a in x", "0.9 → 0.88 (failure rate +20%)"
	var moved *Effect
	for i, f := range s.Rerouted {
		if f.Input == input && f.Change == change {
			moved = &s.Rerouted[i]
		}
	}
	if moved == nil {
		t.Fatalf("a's failure rate +20%% is not among the moves that change cheapest-passing's routes: %+v", s.Rerouted)
	}
	if want := []string{"x: a → c"}; !slices.Equal(moved.RoutesChanged, want) {
		t.Errorf("routes changed %q, want %q", moved.RoutesChanged, want)
	}
	// Half the requests move from a (0.0012 per request, 10% bad answers) to c (0.0036, 5% bad).
	if want := float64(r.Volume) / 2 * (0.0036 - 0.0012 - 0.05); math.Abs(float64(moved.Delta)-want) > 0.01 {
		t.Errorf("delta %v, want %v", moved.Delta, want)
	}
	line := "    " + input + " " + change + ": x: a → c\n"
	if strings.Contains(text, "No single move changes the recommendation") ||
		!strings.Contains(text, "These moves keep cheapest-passing recommended but change its routes:\n"+line) {
		t.Errorf("the text report does not name the changed route (%q):\n%s", line, text)
	}
	var md, page bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "- "+input+" "+change+": x: a → c\n") {
		t.Errorf("the Markdown report does not name the changed route:\n%s", md.String())
	}
	if err := WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), "<li>"+input+" 0.9 → 0.88 (failure rate &#43;20%): x: a → c</li>") {
		t.Error("the HTML report does not name the changed route")
	}
}

// reroute has two categories: x, where a (the cheapest), c and b clear the 0.9 bar, a just,
// and y, which only b serves. cheapest-passing (a in x, b in y) is recommended.
const reroute = `version: 1
name: reroute
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini, price: {input: 1, output: 2}, latency: {p50: 500ms, p95: 1s}, availability: 1}
  c: {provider: sim, model: gpt-4o-mini, price: {input: 3, output: 6}, latency: {p50: 500ms, p95: 1s}, availability: 1}
  b: {provider: sim, model: gpt-4o, price: {input: 10, output: 20}, latency: {p50: 500ms, p95: 1s}, availability: 1}
categories:
  - name: x
    share: 0.5
    tokens: {in: 1000, out: 100}
    quality_bar: 0.9
    latency_budget: 2s
    failure_impact: {bad_answer: 1}
    route: {model: b}
    assume:
      pass_rate: {a: 0.9, c: 0.95, b: 0.97}
  - name: y
    share: 0.5
    tokens: {in: 1000, out: 100}
    quality_bar: 0.9
    latency_budget: 2s
    failure_impact: {bad_answer: 1}
    route: {model: b}
    assume:
      pass_rate: {b: 0.97}
`

// TestSensitivityNoShareOfAllTraffic: a category that has all of the traffic has no share to
// move, as a pipeline serving every user request has none: moving it down would make requests
// vanish, since the other categories have no share to rescale.
func TestSensitivityNoShareOfAllTraffic(t *testing.T) {
	s := parse(t, `version: 1
name: all
providers: {sim: {type: simulated}}
models:
  m: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
categories:
  - {name: a, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.5, route: {model: m}, assume: {pass_rate: {m: 0.9}}}
  - {name: b, share: 1, tokens: {in: 100, out: 10}, quality_bar: 0.5, route: {model: m}, assume: {pass_rate: {m: 0.9}}}
`)
	r, err := Run(context.Background(), s, Options{Samples: 20_000, Seed: 3, Today: testDay, Sensitivity: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range slices.Concat(r.Sensitivity.Largest, r.Sensitivity.Flips) {
		if strings.HasPrefix(f.Input, "share of") {
			t.Errorf("a move of %s (%s): the category with every request has no share to move", f.Input, f.Change)
		}
	}
}
