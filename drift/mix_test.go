package drift

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// TestMixTestWhenPoolingLeavesOneColumn: when pooling the rare models leaves one column, the
// route mix is still tested, on the share of the model that answers most: a window all on the
// reference's only model is no worse, a steady rare arm is no change, and a rare arm that
// grew is found. Before, each of these returned untested.
func TestMixTestWhenPoolingLeavesOneColumn(t *testing.T) {
	scratch := make([][2]float64, 0, 4)
	tests := []struct {
		explanation string
		win, ref    []int32
		check       func(p float64) bool
		want        string
	}{
		{"one model in window and reference alike", []int32{50, 0}, []int32{200, 0}, func(p float64) bool { return p == 1 }, "p = 1"},
		{"a steady 94/6 mix, the rare arm too rare for the chi-square", []int32{47, 3}, []int32{188, 12}, func(p float64) bool { return p > calmP }, "p above one half"},
		{"a rare arm grown from none to a fifth", []int32{40, 10}, []int32{200, 0}, func(p float64) bool { return p < 1e-4 }, "p below 1e-4"},
		{"the rare arm gone, the main one back to all", []int32{50, 0}, []int32{188, 12}, func(p float64) bool { return p > 0.05 }, "no alarm"},
	}
	for _, tt := range tests {
		p, ok := chiSquareMix(tt.win, tt.ref, scratch)
		if !ok || !tt.check(p) {
			t.Errorf("%s: p = %g, tested %v; want tested, %s", tt.explanation, p, ok, tt.want)
		}
	}
	if _, ok := chiSquareMix([]int32{0, 0}, []int32{200, 0}, scratch); ok {
		t.Error("an empty window tested")
	}
}

// mixWorld sends extract's requests to small, or, while small fails, to backup as its
// fallback; strong answers a share of them, as a rare arm.
type mixWorld struct {
	r          *rand.Rand
	t          time.Time
	n          int
	smallFails bool
	strong     float64 // share of requests answered by strong
}

func (w *mixWorld) decision() *clearbar.Decision {
	w.n++
	w.t = w.t.Add(100 * time.Millisecond)
	d := &clearbar.Decision{ID: fmt.Sprintf("dec_%d", w.n), Time: w.t, Category: "extract", Latency: 500 * time.Millisecond}
	ok := func(kind, model string, step int) {
		d.Attempts = append(d.Attempts, clearbar.Attempt{N: len(d.Attempts) + 1, Kind: kind, Step: step, Model: model,
			Provider: "sim", Latency: 400 * time.Millisecond, Outcome: "accepted"})
		d.Model = model
	}
	switch {
	case w.r.Float64() < w.strong:
		ok(clearbar.AttemptPrimary, "strong", 1)
	case w.smallFails:
		d.Attempts = append(d.Attempts, clearbar.Attempt{N: 1, Kind: clearbar.AttemptPrimary, Step: 1, Model: "small",
			Provider: "sim", Latency: 10 * time.Millisecond, Class: clearbar.Overloaded, Outcome: "fell back"})
		ok(clearbar.AttemptFallback, "backup", 1)
	default:
		ok(clearbar.AttemptPrimary, "small", 1)
	}
	return d
}

func mixDetector(m *Monitor) Status {
	for _, st := range m.Detectors() {
		if st.Model == "" && st.Detector == Mix {
			return st
		}
	}
	return Status{}
}

// TestRouteMixAlertResolvesAfterRecovery is the quick start's outage (window 50, reference
// 200): 300 requests on small, 60 that fall back to backup, 600 on small again. The route mix
// alert fires and, once every request is small's again, resolves, saying why; the window
// all on one model was never tested before, and the alert fired for good.
func TestRouteMixAlertResolvesAfterRecovery(t *testing.T) {
	w := &mixWorld{r: rand.New(rand.NewPCG(3, 5)), t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	m, err := New(Options{Spec: loadSimSpec(t, 50, 200, 0.001, ""), Now: func() time.Time { return w.t }})
	if err != nil {
		t.Fatal(err)
	}
	for range 300 {
		m.Observe(w.decision())
	}
	w.smallFails = true
	for range 60 {
		m.Observe(w.decision())
	}
	if as := alertsFor(m, "", Mix, Reference); len(as) != 1 {
		t.Fatalf("route mix alerts during the outage: %+v, want one", as)
	}
	w.smallFails = false
	for range 600 {
		m.Observe(w.decision())
	}
	as := alertsFor(m, "", Mix, Reference)
	if len(as) != 1 || as[0].ResolvedAt.IsZero() || !strings.Contains(as[0].ResolvedWhy, "route mix of extract") {
		t.Fatalf("route mix alerts after recovery: %+v, want the one resolved, saying why", as)
	}
	if st := mixDetector(m); st.State != "ok" || st.PValue != 1 || st.Value != 0 {
		t.Errorf("route mix detector %+v: want ok, every request on small as in its reference (p = 1, nothing moved)", st)
	}
	for _, a := range m.Alerts() {
		if a.ResolvedAt.IsZero() {
			t.Errorf("alert %s still firing after recovery: %s", a.ID, a.Message)
		} else if a.ResolvedWhy == "" {
			t.Errorf("alert %s resolved without saying why: %s", a.ID, a.Message)
		}
	}
}

// TestRouteMixOfASteadyRareArmIsTested: a steady 94/6 mix (the rare arm too rare for the
// chi-square at a window of 50) is tested, and raises no alarm. Before, it stayed "warming up"
// for good, its p-value never computed.
func TestRouteMixOfASteadyRareArmIsTested(t *testing.T) {
	w := &mixWorld{r: rand.New(rand.NewPCG(7, 11)), t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), strong: 0.06}
	m, err := New(Options{Spec: loadSimSpec(t, 50, 200, 0.001, ""), Now: func() time.Time { return w.t }})
	if err != nil {
		t.Fatal(err)
	}
	var tested int
	for range 3000 {
		m.Observe(w.decision())
		if st := mixDetector(m); st.State != "warming up" && st.Seen > 250 {
			tested++
		}
	}
	if tested == 0 {
		t.Errorf("route mix never tested: %+v", mixDetector(m))
	}
	if as := alertsFor(m, "", Mix, Reference); len(as) > 0 {
		t.Errorf("alerts on a steady mix:\n%s", describeAlerts(as))
	}
}
