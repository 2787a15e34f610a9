package gateway

import (
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/route"
)

// TestFailOpenCallsOnce: when every breaker on a route is open the plan fails open on its
// first model and calls it once: the route has other models (their breakers open too), so the
// kept model's failure is not retried, streamed or not, although the spec allows a retry. A
// route whose only model it is keeps retrying it: nothing else could answer.
func TestFailOpenCallsOnce(t *testing.T) {
	const (
		refund       = `{"model":"clearbar/auto","messages":[{"role":"user","content":"I want a refund"}]}`
		refundStream = `{"model":"clearbar/auto","stream":true,"messages":[{"role":"user","content":"I want a refund"}]}`
		chat         = `{"model":"clearbar/auto","messages":[{"role":"user","content":"hello"}]}`
		chatStream   = `{"model":"clearbar/auto","stream":true,"messages":[{"role":"user","content":"hello"}]}`
	)
	tests := []struct {
		explanation, body string
		open              []string
		calls             int
		kinds             string
	}{
		{"big → backup, both open: big once", refund, []string{"b/big", "b/backup"}, 1, "primary"},
		{"streamed", refundStream, []string{"b/big", "b/backup"}, 1, "primary"},
		{"the route's only model is retried", chat, []string{"b/big"}, 2, "primary retry"},
		{"the route's only model, streamed", chatStream, []string{"b/big"}, 2, "primary retry"},
	}
	for _, tt := range tests {
		t.Run(tt.explanation, func(t *testing.T) {
			f := newFixture(t, nil)
			f.b.behave = func(string, int) error {
				return &clearbar.Error{Class: clearbar.Overloaded, Status: 500, Message: "internal server error"}
			}
			for _, k := range tt.open {
				openBreaker(t, f.gw, k)
			}
			resp := f.post(t, tt.body)
			body := readAll(t, resp)
			d := f.rec.last()
			if resp.StatusCode < 500 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var kinds []string
			for _, a := range d.Attempts {
				kinds = append(kinds, a.Kind)
			}
			if got := f.b.Calls("gpt-4o"); got != tt.calls || strings.Join(kinds, " ") != tt.kinds {
				t.Errorf("big called %d times, attempts %q; want %d, %q (attempts %+v)", got, kinds, tt.calls, tt.kinds, d.Attempts)
			}
			if f.b.Calls("gpt-4.1-mini") != 0 {
				t.Errorf("backup called %d times, want none: the plan kept big", f.b.Calls("gpt-4.1-mini"))
			}
			if last := d.Skipped[len(d.Skipped)-1]; last.Model != "big" || last.Reason != route.FailedOpen {
				t.Errorf("skipped %+v: want big kept with %q", d.Skipped, route.FailedOpen)
			}
			if tt.calls == 1 && d.Attempts[0].Outcome != outcomeNoModelLeft {
				t.Errorf("outcome %q", d.Attempts[0].Outcome)
			}
		})
	}
}
