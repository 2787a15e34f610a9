package gateway

import (
	"strconv"
	"strings"
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

// TestBreakerWaitCountsOnlyBreakerSkips: a request too long for small goes to big, whose
// breaker is open: the plan fails open on it, and it fails. The retry-after-ms the client
// gets is when big's breaker lets a call through, not when small's does: small was left out
// for its context window, and its breaker (opening sooner) says nothing of when trying again
// helps.
func TestBreakerWaitCountsOnlyBreakerSkips(t *testing.T) {
	f := newFixture(t, nil)
	f.b.behave = func(model string, n int) error {
		return &clearbar.Error{Class: clearbar.Overloaded, Status: 503, Message: "overloaded"}
	}
	open := func(key string, at time.Time) {
		b := f.gw.breakers.Get(key)
		for range health.DefaultSettings().ConsecutiveFailures {
			done, _ := b.Allow(at)
			done(clearbar.Overloaded, at)
		}
	}
	cooldown := health.DefaultSettings().Cooldown
	open("a/small", time.Now().Add(-cooldown+time.Second)) // half-opens in a second
	open("b/big", time.Now())                              // in the whole cooldown
	long := `{"model":"clearbar/auto","messages":[{"role":"user","content":"` + strings.Repeat("word ", 1500) + `"}]}`
	resp := f.post(t, long)
	body := readAll(t, resp)
	d := f.rec.last()
	if d.Category != "long" || resp.StatusCode != 503 || f.b.Calls("gpt-4o") == 0 {
		t.Fatalf("category %q status %d, big called %d times: %s", d.Category, resp.StatusCode, f.b.Calls("gpt-4o"), body)
	}
	ms, err := strconv.Atoi(resp.Header.Get("Retry-After-Ms"))
	if err != nil || time.Duration(ms)*time.Millisecond < cooldown/2 {
		t.Errorf("retry-after-ms %q: want big's breaker's wait, about %v (skipped %+v)", resp.Header.Get("Retry-After-Ms"), cooldown, d.Skipped)
	}
}
