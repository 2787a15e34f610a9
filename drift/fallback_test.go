package drift

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// divertedWorld is extract's traffic on small, then, while small's breaker is open, diverted to
// backup without a call of small: backup's call is the first, and a fallback.
type divertedWorld struct {
	t        time.Time
	n        int
	diverted bool
}

func (w *divertedWorld) decision() *clearbar.Decision {
	w.n++
	w.t = w.t.Add(100 * time.Millisecond)
	d := &clearbar.Decision{ID: fmt.Sprintf("dec_%d", w.n), Time: w.t, Category: "extract", Latency: 500 * time.Millisecond}
	a := clearbar.Attempt{N: 1, Kind: clearbar.AttemptPrimary, Step: 1, Model: "small", Provider: "sim", Latency: 400 * time.Millisecond, Outcome: "accepted"}
	if w.diverted {
		d.Skipped = []clearbar.Skip{{Model: "small", Reason: "circuit breaker open"}}
		a.Kind, a.Model = clearbar.AttemptFallback, "backup"
	}
	d.Attempts, d.Model = []clearbar.Attempt{a}, a.Model
	return d
}

// TestDivertedTrafficIsTheCategorysFallbackNotTheFallbackModels: requests diverted around
// small's open breaker are fallbacks of the category, whose fallback rate alert fires and, once
// the diverted rate is steady, resolves saying that it is steady at 100%, not back at the 0%
// before the alert. They are not fallbacks of backup, whose call answered them: backup's own
// fallback rate (of the requests that fell back from its call) stays 0. Before, backup's
// fallback rate counted each of them and fired, and the category's alert resolved without a
// reason.
func TestDivertedTrafficIsTheCategorysFallbackNotTheFallbackModels(t *testing.T) {
	w := &divertedWorld{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	m, err := New(Options{Spec: loadSimSpec(t, 50, 200, 0.001, ""), Now: func() time.Time { return w.t }})
	if err != nil {
		t.Fatal(err)
	}
	for range 300 {
		m.Observe(w.decision())
	}
	w.diverted = true
	for range 600 {
		m.Observe(w.decision())
	}
	as := alertsFor(m, "", Fallback, Reference)
	if len(as) != 1 || as[0].ResolvedAt.IsZero() {
		t.Fatalf("extract's fallback rate alerts %+v: want one, resolved once the diverted rate is steady", as)
	}
	for _, want := range []string{"fallback rate of extract is 100.0% over the last 50", "fired at", "against 0.0% before the alert"} {
		if !strings.Contains(as[0].ResolvedWhy, want) {
			t.Errorf("resolved why %q lacks %q", as[0].ResolvedWhy, want)
		}
	}
	if as := alertsFor(m, "backup", Fallback, Reference); len(as) > 0 {
		t.Errorf("backup's fallback rate fired on the requests it answered first:\n%s", describeAlerts(as))
	}
	for _, st := range m.Detectors() {
		if st.Model == "backup" && st.Detector == Fallback && st.Value != 0 {
			t.Errorf("backup's fallback rate %g: none of its calls fell back", st.Value)
		}
	}
}
