package estimate

import "testing"

// TestMonthTick: a month's cost ticks in whole dollars from $100 up, in cents below.
func TestMonthTick(t *testing.T) {
	for x, want := range map[float64]string{1000: "$1,000", 5000: "$5,000", 200: "$200", 50: "$50.00", 2.5: "$2.50", 1500.5: "$1,500.50"} {
		if got := monthTick(x); got != want {
			t.Errorf("monthTick(%v) = %q, want %q", x, got, want)
		}
	}
}
