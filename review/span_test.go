package review

import (
	"math"
	"strings"
	"testing"
)

// TestMoreTrafficSpanInItsUnit: the time more traffic takes at the current rate is written in
// days from one day up, and in hours or minutes below, never as "0.0 days".
func TestMoreTrafficSpanInItsUnit(t *testing.T) {
	for _, c := range []struct {
		days float64
		want string
	}{
		{3.25, "(3.2 days at the current rate)"},
		{1, "(1.0 days at the current rate)"},
		{0.04, "(58 minutes at the current rate)"},
		{1.0 / 24, "(1.0 hours at the current rate)"},
		{5.0 / 24, "(5.0 hours at the current rate)"},
		{20.0 / (24 * 60), "(20 minutes at the current rate)"},
		{1.0 / (24 * 60), "(1 minute at the current rate)"},
		{0.1 / (24 * 60), "(under a minute at the current rate)"},
	} {
		got := moreTraffic(&ArmComparison{MoreRequests: 1188, MoreDays: Num(c.days)})
		if !strings.Contains(got, "about 1,188 more requests "+c.want) {
			t.Errorf("%g days: %q, want %q", c.days, got, c.want)
		}
		if strings.Contains(got, "0.0 days") {
			t.Errorf("%g days: %q", c.days, got)
		}
	}
	if got := moreTraffic(&ArmComparison{MoreRequests: 1188, MoreDays: Num(math.Inf(1))}); strings.Contains(got, "at the current rate") {
		t.Errorf("no rate: %q", got)
	}
}
