package drift

import (
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// TestClientCancelsAreNotServiceErrors: requests the client gave up on (it closed the
// connection or the stream) are counted apart, like client errors, and out of the base every
// rate shares; requests the gateway cut when it shut down are its own doing and count as
// errors. Pass and error rates are over the same base.
func TestClientCancelsAreNotServiceErrors(t *testing.T) {
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	now := start.Add(30 * time.Second)
	m, err := New(Options{Spec: loadSimSpec(t, 200, 2000, 0.001, ""), Now: func() time.Time { return now }, History: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	call := func(class clearbar.FailureClass) []clearbar.Attempt {
		return []clearbar.Attempt{{Kind: clearbar.AttemptPrimary, Model: "small", Class: class, Latency: 100 * time.Millisecond}}
	}
	at := start
	observe := func(n int, d clearbar.Decision) {
		for range n {
			at = at.Add(time.Second)
			d := d
			d.Time, d.Category = at, "extract"
			m.Observe(&d)
		}
	}
	observe(10, clearbar.Decision{Outcome: clearbar.OK, Status: 200, Model: "small", Latency: 100 * time.Millisecond, Attempts: call(clearbar.OK)})
	observe(6, clearbar.Decision{Outcome: clearbar.Timeout, Status: http.StatusGatewayTimeout, Attempts: call(clearbar.Timeout)})
	observe(6, clearbar.Decision{Outcome: clearbar.Canceled, Status: 499, Reason: "the client closed the stream", Attempts: call(clearbar.Canceled)})

	p := m.Series(ByCategory, start, now, time.Minute)[0].Points[0]
	want := func(name string, got *float64, w float64) {
		t.Helper()
		if got == nil || math.Abs(*got-w) > 1e-9 {
			t.Errorf("%s %v, want %g; %+v", name, ptrText(got), w, p)
		}
	}
	if p.Requests != 22 || p.Canceled != 6 || p.ClientErrors != 0 {
		t.Errorf("requests %d, canceled %d, client errors %d: want 22, 6, 0", p.Requests, p.Canceled, p.ClientErrors)
	}
	want("pass rate", p.PassRate, 10.0/16)
	want("error rate", p.ErrorRate, 6.0/16)
	want("fallback rate", p.FallbackRate, 0)
	if *p.PassRate+*p.ErrorRate != 1 {
		t.Errorf("pass rate %g and error rate %g are not over one base", *p.PassRate, *p.ErrorRate)
	}
	// The model's canceled calls are not its failures, and out of its rates' base.
	mp := m.Series(ByModel, start, now, time.Minute)[0].Points[0]
	if mp.Requests != 22 || mp.Canceled != 6 {
		t.Errorf("model: calls %d, canceled %d: want 22, 6", mp.Requests, mp.Canceled)
	}
	if mp.ErrorRate == nil || math.Abs(*mp.ErrorRate-6.0/16) > 1e-9 {
		t.Errorf("model error rate %v, want 6/16", ptrText(mp.ErrorRate))
	}

	// Two requests the gateway cut on shutdown: one before its answer began (503
	// gateway_shutting_down), one mid-stream (200, the reason says it was cut). They are the
	// service's failures: in the base and among the errors, not among the canceled.
	observe(1, clearbar.Decision{Outcome: clearbar.Canceled, Status: http.StatusServiceUnavailable,
		Reason: "cut: the gateway shut down before the request finished; retry it", Shutdown: true, Attempts: call(clearbar.Canceled)})
	observe(1, clearbar.Decision{Outcome: clearbar.Canceled, Status: http.StatusOK, Stream: true,
		Reason: "cut: the gateway shut down after the first byte reached the client; the stream ended with an error event", Shutdown: true, Attempts: call(clearbar.Canceled)})
	p = m.Series(ByCategory, start, now, time.Minute)[0].Points[0]
	if p.Requests != 24 || p.Canceled != 6 {
		t.Errorf("with shutdown cuts: requests %d, canceled %d: want 24, 6", p.Requests, p.Canceled)
	}
	want("pass rate with shutdown cuts", p.PassRate, 10.0/18)
	want("error rate with shutdown cuts", p.ErrorRate, 8.0/18)
	// For the model, a shutdown cut is not its doing either.
	mp = m.Series(ByModel, start, now, time.Minute)[0].Points[0]
	if mp.Canceled != 8 || mp.ErrorRate == nil || math.Abs(*mp.ErrorRate-6.0/16) > 1e-9 {
		t.Errorf("model with shutdown cuts: canceled %d, error rate %v: want 8, 6/16", mp.Canceled, ptrText(mp.ErrorRate))
	}
}

// TestCanceledFallbackIsOutOfTheBase: a request that fell back and was then canceled by the
// client is out of the base of the fallback rate, as of the others.
func TestCanceledFallbackIsOutOfTheBase(t *testing.T) {
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	now := start.Add(30 * time.Second)
	m, err := New(Options{Spec: loadSimSpec(t, 200, 2000, 0.001, ""), Now: func() time.Time { return now }, History: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	fellBack := []clearbar.Attempt{
		{Kind: clearbar.AttemptPrimary, Model: "small", Class: clearbar.Overloaded, Outcome: "fell back"},
		{Kind: clearbar.AttemptFallback, Model: "strong", Class: clearbar.OK},
	}
	m.Observe(&clearbar.Decision{Time: start, Category: "extract", Outcome: clearbar.OK, Status: 200, Attempts: fellBack})
	m.Observe(&clearbar.Decision{Time: start, Category: "extract", Outcome: clearbar.OK, Status: 200,
		Attempts: []clearbar.Attempt{{Kind: clearbar.AttemptPrimary, Model: "small", Class: clearbar.OK}}})
	canceled := append([]clearbar.Attempt(nil), fellBack...)
	canceled[1].Class = clearbar.Canceled
	m.Observe(&clearbar.Decision{Time: start, Category: "extract", Outcome: clearbar.Canceled, Status: 499, Attempts: canceled})
	p := m.Series(ByCategory, start, now, time.Minute)[0].Points[0]
	if p.FallbackRate == nil || *p.FallbackRate != 0.5 || p.ErrorRate == nil || *p.ErrorRate != 0 || *p.PassRate != 1 {
		t.Errorf("fallback rate %v, error rate %v, pass rate %v: want 1/2, 0, 1", ptrText(p.FallbackRate), ptrText(p.ErrorRate), ptrText(p.PassRate))
	}
}

func ptrText(p *float64) string {
	if p == nil {
		return "null"
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}
