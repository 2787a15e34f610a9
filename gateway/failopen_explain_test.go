package gateway

import (
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/route"
)

// TestFailOpenExplained: when every breaker of a plan is open and the plan fails open on one
// model, the explanation says so (not that the model was skipped), and the one call's outcome
// says that no model was left, not that it fell back: nothing followed it. The decision's
// fields keep their form: the kept model's skip still has the reason route.FailedOpen.
func TestFailOpenExplained(t *testing.T) {
	const (
		refund       = `{"model":"clearbar/auto","messages":[{"role":"user","content":"I want a refund"}]}`
		refundStream = `{"model":"clearbar/auto","stream":true,"messages":[{"role":"user","content":"I want a refund"}]}`
	)
	for _, body := range []string{refund, refundStream} {
		f := newFixture(t, nil)
		f.b.behave = func(string, int) error {
			return &clearbar.Error{Class: clearbar.Overloaded, Status: 500, Message: "internal server error"}
		}
		openBreaker(t, f.gw, "b/big")
		openBreaker(t, f.gw, "b/backup")
		readAll(t, f.post(t, body))
		d := f.rec.last()
		if len(d.Attempts) != 1 || d.Attempts[0].Outcome != "failed; no model left" {
			t.Fatalf("attempts %+v: want one, whose outcome says no model was left", d.Attempts)
		}
		if last := d.Skipped[len(d.Skipped)-1]; last.Model != "big" || last.Reason != route.FailedOpen {
			t.Errorf("skipped %+v: want big kept with %q", d.Skipped, route.FailedOpen)
		}
		var b strings.Builder
		if err := WriteExplanation(&b, d); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.Contains(out, "fail-open   every candidate's breaker was open; called big anyway\n") {
			t.Errorf("the explanation does not say the plan failed open on big:\n%s", out)
		}
		if strings.Contains(out, "trying it anyway") || strings.Contains(out, "fell back") {
			t.Errorf("the explanation lists big as skipped, or says its call fell back:\n%s", out)
		}
		if !strings.Contains(out, "failed; no model left") {
			t.Errorf("the explanation does not say no model was left:\n%s", out)
		}
	}
}

// TestLastCandidateFailedNoModelLeft: in an ordinary plan (no breaker open), every call that
// failed over to another model fell back, and the last one, after which no model was left,
// says so.
func TestLastCandidateFailedNoModelLeft(t *testing.T) {
	for _, body := range []string{
		`{"model":"clearbar/auto","messages":[{"role":"user","content":"I want a refund"}]}`,
		`{"model":"clearbar/auto","stream":true,"messages":[{"role":"user","content":"I want a refund"}]}`,
	} {
		f := newFixture(t, nil)
		f.b.behave = func(string, int) error {
			return &clearbar.Error{Class: clearbar.Connection, Message: "connection refused"}
		}
		readAll(t, f.post(t, body))
		d := f.rec.last()
		var outcomes []string
		for _, a := range d.Attempts {
			outcomes = append(outcomes, a.Model+": "+a.Outcome)
		}
		n := len(d.Attempts)
		if n < 2 || d.Attempts[n-1].Outcome != "failed; no model left" {
			t.Fatalf("outcomes %q: want the last to say no model was left", outcomes)
		}
		for _, a := range d.Attempts[:n-1] {
			if a.Outcome != "fell back" && a.Outcome != "retried" {
				t.Errorf("outcomes %q: an earlier call neither fell back nor was retried", outcomes)
			}
		}
	}
}
