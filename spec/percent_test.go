package spec

import "testing"

// TestPercentText: shares are written as percentages without float noise (51.080000000000005%
// was the %g of 100 × 0.5108), to two decimals at most.
func TestPercentText(t *testing.T) {
	for _, tt := range []struct {
		p    float64
		want string
	}{{0.5108, "51.08%"}, {0.25, "25%"}, {0.1, "10%"}, {1.0 / 3, "33.33%"}, {0.00004, "0%"}} {
		if got := PercentText(tt.p); got != tt.want {
			t.Errorf("PercentText(%v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}
