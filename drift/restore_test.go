package drift

import (
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// TestRestoreFillsTheSeriesAcrossARestart: decisions of an earlier run within the history go
// into the time series and the recent figures, in any order, but not into the totals since
// start nor the detectors; decisions outside the history, or from after the start, are not
// taken.
func TestRestoreFillsTheSeriesAcrossARestart(t *testing.T) {
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	now := start
	m, err := New(Options{Spec: loadSimSpec(t, 200, 2000, 0.001, ""), Now: func() time.Time { return now }, History: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if since, until := m.RestoreWindow(); !since.Equal(start.Add(-time.Hour)) || !until.Equal(start) {
		t.Fatalf("restore window %v–%v, want the hour before %v", since, until, start)
	}
	ok := func(at time.Time) *clearbar.Decision {
		return &clearbar.Decision{Time: at, Category: "extract", Model: "small", Latency: 300 * time.Millisecond, Cost: clearbar.MoneyFromUSD(0.001),
			Attempts: []clearbar.Attempt{{Kind: clearbar.AttemptPrimary, Model: "small", Latency: 300 * time.Millisecond, Cost: clearbar.MoneyFromUSD(0.001),
				Verdicts: []clearbar.Verdict{{Validator: "JSON Schema (inline)", Pass: true}}}}}
	}
	// 62 decisions over the last 31 minutes, newest first, as the store lists them.
	for i := range 62 {
		if !m.Restore(ok(start.Add(-time.Duration(i+1) * 30 * time.Second))) {
			t.Fatalf("decision %d within the history not restored", i)
		}
	}
	for _, d := range []*clearbar.Decision{ok(start.Add(-2 * time.Hour)), ok(start), ok(start.Add(time.Minute)), {Category: "extract"}} {
		if m.Restore(d) {
			t.Errorf("decision of %v restored, outside the window", d.Time)
		}
	}
	now = start.Add(5 * time.Minute)
	var n int
	for _, ser := range m.Series(ByTotal, now.Add(-time.Hour), now, time.Minute) {
		for _, p := range ser.Points {
			n += int(p.Requests)
		}
	}
	if n != 62 {
		t.Errorf("the last hour's series hold %d requests, want the 62 restored", n)
	}
	sum := m.Summary(time.Hour)
	if sum.Total.Requests != 0 || sum.Total.Cost != 0 {
		t.Errorf("totals since start %d requests, $%g: restored decisions are not this run's", sum.Total.Requests, sum.Total.Cost)
	}
	if sum.Total.Recent.Requests != 62 {
		t.Errorf("recent figures hold %d requests, want 62", sum.Total.Recent.Requests)
	}
	for _, st := range m.Detectors() {
		if st.Observations > 0 || st.Seen > 0 {
			t.Errorf("detector %+v fed by restored decisions", st)
		}
	}
	// Live decisions count in both.
	m.Observe(ok(start.Add(time.Minute)))
	if sum := m.Summary(time.Hour); sum.Total.Requests != 1 || sum.Total.Recent.Requests != 63 {
		t.Errorf("after a live decision: totals %d, recent %d; want 1 and 63", sum.Total.Requests, sum.Total.Recent.Requests)
	}
}
