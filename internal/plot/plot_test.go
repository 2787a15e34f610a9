package plot

import (
	"slices"
	"strconv"
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

func TestXTickLabels(t *testing.T) {
	usd := func(x float64) string { return "$" + strconv.FormatFloat(x, 'f', -1, 64) }
	f := Frame{Width: 370, Height: 260, Left: 56, Right: 14, Top: 28, Bottom: 40}
	// A 300-pixel log axis over two decades: six labels of 7–8 characters do not fit.
	f.Fit(0.00005, 0.005, 0.9, 1, true, Margins{LogX: 1.25})
	ticks := f.XTickLabels(usd, 6.5)
	var shown []Tick
	for _, tk := range ticks {
		if tk.Label != "" {
			shown = append(shown, tk)
		}
	}
	if len(ticks) != len(f.XTicks()) || len(shown) < 2 || len(shown) == len(ticks) {
		t.Fatalf("%d ticks, %d labelled: want every tick kept and some, not all, labels dropped: %+v", len(ticks), len(shown), ticks)
	}
	for i := 1; i < len(shown); i++ {
		a, b := shown[i-1], shown[i]
		gap := f.X(b.V) - float64(len(b.Label))*6.5/2 - (f.X(a.V) + float64(len(a.Label))*6.5/2)
		if gap < 6.5 {
			t.Errorf("labels %q and %q are %.1f px apart", a.Label, b.Label, gap)
		}
	}
	// Wide enough: nothing is dropped.
	f.Width = 4000
	for _, tk := range f.XTickLabels(usd, 6.5) {
		if tk.Label == "" {
			t.Errorf("a 4000-pixel axis dropped the label at %v", tk.V)
		}
	}
}
