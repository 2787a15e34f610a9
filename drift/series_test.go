package drift

import (
	"math"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// recorderFunc adapts a function to Recorder.
type recorderFunc func(*clearbar.Decision) bool

func (f recorderFunc) Record(d *clearbar.Decision) bool { return f(d) }

func TestTeeHandsEveryDecisionToEveryRecorder(t *testing.T) {
	var a, b int
	keep := recorderFunc(func(*clearbar.Decision) bool { a++; return true })
	drop := recorderFunc(func(*clearbar.Decision) bool { b++; return false })
	d := &clearbar.Decision{ID: "dec_1"}
	if !Tee(keep, keep).Record(d) || a != 2 {
		t.Errorf("two keeping recorders: a = %d", a)
	}
	if Tee(drop, keep).Record(d) || a != 3 || b != 1 {
		t.Errorf("a dropping recorder first: reported kept, or the second was skipped (a %d, b %d)", a, b)
	}
}

func TestSeriesAndSummary(t *testing.T) {
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	now := start
	m, err := New(Options{Spec: loadSimSpec(t, 200, 2000, 0.001, ""), Now: func() time.Time { return now }, History: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ok := func(at time.Time, latency time.Duration) *clearbar.Decision {
		return &clearbar.Decision{Time: at, Category: "extract", Model: "small", Latency: latency, Cost: clearbar.MoneyFromUSD(0.001),
			Attempts: []clearbar.Attempt{{Kind: clearbar.AttemptPrimary, Model: "small", Latency: latency, Cost: clearbar.MoneyFromUSD(0.001),
				Verdicts: []clearbar.Verdict{{Validator: "JSON Schema (inline)", Pass: true}}}}}
	}
	escalated := func(at time.Time) *clearbar.Decision {
		return &clearbar.Decision{Time: at, Category: "extract", Model: "strong", Latency: 2 * time.Second, Cost: clearbar.MoneyFromUSD(0.011),
			Attempts: []clearbar.Attempt{
				{Kind: clearbar.AttemptPrimary, Model: "small", Class: clearbar.Quality, Latency: 500 * time.Millisecond, Cost: clearbar.MoneyFromUSD(0.001),
					Verdicts: []clearbar.Verdict{{Validator: "JSON Schema (inline)", Pass: false}}},
				{Kind: clearbar.AttemptEscalation, Model: "strong", Latency: 1500 * time.Millisecond, Cost: clearbar.MoneyFromUSD(0.01),
					Verdicts: []clearbar.Verdict{{Validator: "JSON Schema (inline)", Pass: true}}},
			}}
	}
	// Minute 0: nine quick answers and one escalation. Minute 2: ten answers of 400ms.
	for i := range 9 {
		m.Observe(ok(start.Add(time.Duration(i)*time.Second), 200*time.Millisecond))
	}
	m.Observe(escalated(start.Add(30 * time.Second)))
	for i := range 10 {
		m.Observe(ok(start.Add(2*time.Minute+time.Duration(i)*time.Second), 400*time.Millisecond))
	}
	// A request rejected before routing, and one from before the history.
	m.Observe(&clearbar.Decision{Time: start.Add(2 * time.Minute), Outcome: clearbar.ClientError})
	m.Observe(ok(start.Add(-2*time.Hour), time.Second))
	now = start.Add(2*time.Minute + 30*time.Second)

	cats := m.Series(ByCategory, start, now, time.Minute)
	if len(cats) != 2 || cats[0].Name != "extract" || cats[1].Name != Unclassified {
		t.Fatalf("category series %+v", cats)
	}
	pts := cats[0].Points
	if len(pts) != 3 || !pts[0].Time.Equal(start) {
		t.Fatalf("points %+v", pts)
	}
	p0, p1, p2 := pts[0], pts[1], pts[2]
	if p0.Requests != 10 || math.Abs(p0.Cost-0.02) > 1e-9 || *p0.PassRate != 1 || *p0.EscalationRate != 0.1 || *p0.FallbackRate != 0 || *p0.ErrorRate != 0 {
		t.Errorf("minute 0: %+v", p0)
	}
	if p1.Requests != 0 || p1.P50 != nil || p1.PassRate != nil {
		t.Errorf("an empty minute: %+v", p1)
	}
	if p2.Requests != 10 || math.Abs(*p2.P50-0.4)/0.4 > 0.1 || math.Abs(*p0.P50-0.2)/0.2 > 0.1 {
		t.Errorf("medians: minute 0 %v, minute 2 %v", *p0.P50, *p2.P50)
	}

	models := m.Series(ByModel, start, now, time.Minute)
	if len(models) != 2 || models[0].Name != "small" || models[1].Name != "strong" {
		t.Fatalf("model series %+v", models)
	}
	if s := models[0].Points[0]; s.Requests != 10 || *s.PassRate != 0.9 || *s.EscalationRate != 0.1 {
		t.Errorf("small, minute 0: %+v", s)
	}

	// Three-minute steps merge the minutes; the total adds the unclassified request.
	total := m.Series(ByTotal, start, now, 3*time.Minute)
	if len(total) != 1 || len(total[0].Points) != 1 || total[0].Points[0].Requests != 21 {
		t.Fatalf("total %+v", total)
	}
	// The request refused as the client's error was routed nowhere: escalation and fallback
	// rates are of the 20 routed, as the error rate is, so refused traffic cannot dilute them.
	if p := total[0].Points[0]; *p.EscalationRate != 1.0/20 || *p.FallbackRate != 0 || p.ClientErrors != 1 {
		t.Errorf("total: escalation rate %v, want 1/20 of the requests routed; %+v", *p.EscalationRate, p)
	}

	sum := m.Summary(5 * time.Minute)
	if sum.Total.Requests != 22 || sum.Total.Recent.Requests != 21 || len(sum.Categories) != 1 || sum.Categories[0].Requests != 21 ||
		len(sum.Models) != 3 || sum.Models[0].Requests != 21 {
		t.Errorf("summary %+v", sum)
	}
	if sum.RecentMinutes != 5 || !sum.Start.Equal(start) {
		t.Errorf("summary span: %+v", sum)
	}
}
