package estimate

import (
	"bytes"
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
	if lost.Recommended != "spec" || lost.RecommendedClears || !lost.Flips {
		t.Errorf("after the move: %+v, want spec recommended as the closest, not clearing", *lost)
	}
	want := "pass rate of nano in extract 0.9 → 0.88 (failure rate +20%) → spec, the closest: no policy clears every bar and budget"
	if strings.Contains(text, "No single move changes the recommendation") || !strings.Contains(text, want) {
		t.Errorf("the text report does not say that the move changes the recommendation (%q):\n%s", want, text)
	}
	var md, page bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "→ **spec**, the closest: no policy clears every bar and budget") {
		t.Errorf("the Markdown report does not say the move leaves no policy clearing:\n%s", md.String())
	}
	if err := WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), "→ <strong>spec</strong>, the closest: no policy clears every bar and budget") {
		t.Error("the HTML report does not say the move leaves no policy clearing")
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
