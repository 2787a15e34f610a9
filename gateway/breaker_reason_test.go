package gateway

import (
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/health"
)

// TestHalfOpenProbeInFlightReason: while a recovering breaker's probe is in flight, a request
// for its model fails over and the record says why, not that the breaker opened during the
// request; once it opens during a request, the record says that.
func TestHalfOpenProbeInFlightReason(t *testing.T) {
	f := newFixture(t, nil)
	b := f.gw.breakers.Get("a/small")
	// Five failures in a row an hour ago opened it; its cooldown has passed since.
	ago := time.Now().Add(-time.Hour)
	for range health.DefaultSettings().ConsecutiveFailures {
		done, _ := b.Allow(ago)
		done(clearbar.Overloaded, ago)
	}
	probeDone, ok := b.Allow(time.Now()) // the probe, still in flight
	if !ok || b.State(time.Now()) != health.HalfOpen {
		t.Fatalf("the breaker should be half-open with its probe admitted: %v %v", ok, b.State(time.Now()))
	}
	resp := f.post(t, hello)
	readAll(t, resp)
	d := f.rec.last()
	if resp.StatusCode != 200 || d.Model != "big" || f.a.Calls("gpt-4o-mini") != 0 {
		t.Fatalf("status %d, answered by %q, small called %d times; want big to answer", resp.StatusCode, d.Model, f.a.Calls("gpt-4o-mini"))
	}
	if len(d.Skipped) != 1 || d.Skipped[0].Model != "small" || d.Skipped[0].Reason != "circuit breaker half-open: its probe request is in flight" {
		t.Errorf("skipped %+v", d.Skipped)
	}

	// The probe fails: the breaker opens again, and the plan leaves small out.
	probeDone(clearbar.Overloaded, time.Now())
	f.post(t, hello).Body.Close()
	if d := f.rec.last(); len(d.Skipped) != 1 || d.Skipped[0].Reason != "circuit breaker open" {
		t.Errorf("open breaker: skipped %+v", d.Skipped)
	}
}
