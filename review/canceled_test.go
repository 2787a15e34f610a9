package review

import (
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/review/reviewtest"
)

// TestCanceledCallsMeasureNoModel: a call the client hung up on (or the gateway cut as it shut
// down) is neither a failure of its model nor one of its answers: the measurements the
// re-estimate reads (availability, latency, tokens) leave it out.
func TestCanceledCallsMeasureNoModel(t *testing.T) {
	s := load(t, supportTriage)
	measure := func(cancel bool) (calls, failed, canceled int) {
		ds := traffic(s, 600, 7, reviewtest.Traffic{})
		for i, d := range ds {
			if !cancel || i%3 != 0 || len(d.Attempts) == 0 {
				continue
			}
			a := &d.Attempts[len(d.Attempts)-1]
			if a.Class != clearbar.OK {
				continue
			}
			a.Class, a.Outcome, d.Outcome = clearbar.Canceled, "canceled", clearbar.Canceled
			canceled++
		}
		r := New(s, Options{Today: today})
		r.Add(ds...)
		for _, o := range r.obs {
			calls++
			if o.Failed {
				failed++
			}
		}
		return calls, failed, canceled
	}
	calls, failed, _ := measure(false)
	callsCut, failedCut, canceled := measure(true)
	if canceled < 100 {
		t.Fatalf("only %d calls canceled", canceled)
	}
	if failedCut != failed {
		t.Errorf("%d failed calls with %d canceled, want %d as without them", failedCut, canceled, failed)
	}
	if callsCut != calls-canceled {
		t.Errorf("%d calls measured with %d canceled, want %d", callsCut, canceled, calls-canceled)
	}
}
