package plot

import (
	"slices"
	"testing"
)

func TestTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		log    bool
		want   []float64
	}{
		{0, 1, false, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{0.83, 0.97, false, []float64{0.85, 0.9, 0.95}},
		{0.0004, 0.03, true, []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02}},
		{3, 3, false, []float64{3}},
	}
	for _, tt := range tests {
		if got := Ticks(tt.lo, tt.hi, tt.log); !slices.EqualFunc(got, tt.want, func(a, b float64) bool { return a-b < 1e-12 && b-a < 1e-12 }) {
			t.Errorf("Ticks(%v, %v, %v) = %v, want %v", tt.lo, tt.hi, tt.log, got, tt.want)
		}
	}
}

func TestFit(t *testing.T) {
	f := Frame{Width: 200, Height: 100, Left: 10, Right: 10, Top: 10, Bottom: 10}
	f.Fit(0.001, 0.1, 0.9, 0.98, true, Margins{LogX: 1.25, LinX: 0.15, Y: 0.15})
	if !f.LogX || f.XMin != 0.001/1.25 || f.XMax != 0.1*1.25 || f.YMax > 1 {
		t.Errorf("a hundredfold cost range: %+v, want a log axis with margins", f)
	}
	if x := f.X(f.XMin); x != f.Left {
		t.Errorf("X(XMin) = %v, want the left edge %v", x, f.Left)
	}
	if y := f.Y(f.YMax); y != f.Top {
		t.Errorf("Y(YMax) = %v, want the top %v", y, f.Top)
	}
	f.Fit(0.001, 0.1, 0.9, 0.98, false, Margins{LogX: 1.25, LinX: 0.15, Y: 0.15})
	if f.LogX || f.XMin != 0 {
		t.Errorf("log not allowed: %+v, want a linear axis from 0", f)
	}
	if f.ClampX(1) != f.XMax || f.ClampX(-1) != f.XMin {
		t.Error("ClampX does not clamp")
	}
	f.Fit(0.5, 0.5, 1, 1, true, Margins{LogX: 1.3, LinX: 0.08, Y: 0.1})
	if f.YMax <= f.YMin || f.XMax <= f.XMin {
		t.Errorf("a single point: %+v, want non-empty ranges", f)
	}
}

func TestPct(t *testing.T) {
	for p, want := range map[float64]string{0.95: "95%", 0.9545: "95.5%", 1: "100%", 0: "0%"} {
		if got := Pct(p); got != want {
			t.Errorf("Pct(%v) = %q, want %q", p, got, want)
		}
	}
}
