package estimate

import (
	"context"
	"testing"
)

// TestTotalLatencyOfOneCategoryIsItsOwn: when one category carries all the traffic, the
// TOTAL row's latency is that category's, exact where the category's is, not a simulated
// quantile a few milliseconds beside it.
func TestTotalLatencyOfOneCategoryIsItsOwn(t *testing.T) {
	r, err := Run(context.Background(), parse(t, noTraffic), Options{Today: testDay, Samples: 4000})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Policies {
		draft := p.Categories[1]
		if draft.Category != "draft" {
			t.Fatalf("second row %q, want draft", draft.Category)
		}
		if p.Total.Latency != draft.Latency || p.Total.TTFB != draft.TTFB {
			t.Errorf("%s: total latency %+v, ttfb %+v; want draft's %+v, %+v", p.Name, p.Total.Latency, p.Total.TTFB, draft.Latency, draft.TTFB)
		}
	}
}
