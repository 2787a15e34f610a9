// Package plot is the geometry of Clearbar's cost/quality charts (the estimate's and the
// replay's self-contained SVGs): a frame that fits the data with margins, on a linear or log
// cost axis and a quality axis within [0, 1], round tick values and percentage labels. Drawing
// stays with each chart, which styles its own marks.
package plot

import (
	"math"
	"strconv"
	"strings"
)

// Frame is a plot area on a canvas of Width × Height with the given paddings, and the data
// ranges it shows.
type Frame struct {
	Width, Height            float64
	Left, Right, Top, Bottom float64
	XMin, XMax, YMin, YMax   float64
	LogX                     bool
}

// Margins says how much room Fit leaves around the data: LogX, the factor beyond each end of
// a log axis; LinX and Y, the fraction of the span (x from 0 at the least).
type Margins struct {
	LogX, LinX, Y float64
}

// Fit sets the ranges to show x in [xmin, xmax] and y in [ymin, ymax] with margins m. The x
// axis is logarithmic when allowLog and the data spans more than a factor of 8 (all
// positive); y stays within [0, 1].
func (f *Frame) Fit(xmin, xmax, ymin, ymax float64, allowLog bool, m Margins) {
	f.LogX = allowLog && xmin > 0 && xmax/xmin > 8
	if f.LogX {
		xmin, xmax = xmin/m.LogX, xmax*m.LogX
	} else {
		span := math.Max(xmax-xmin, math.Max(math.Abs(xmax)*0.1, 1e-9))
		xmin, xmax = math.Max(0, xmin-span*m.LinX), xmax+span*m.LinX
	}
	yspan := math.Max(ymax-ymin, 0.01)
	ymin, ymax = math.Max(0, ymin-yspan*m.Y), math.Min(1, ymax+yspan*m.Y)
	if ymax <= ymin {
		ymax = ymin + 0.01
	}
	f.XMin, f.XMax, f.YMin, f.YMax = xmin, xmax, ymin, ymax
}

// PW and PH are the plot area's width and height.
func (f *Frame) PW() float64 { return f.Width - f.Left - f.Right }
func (f *Frame) PH() float64 { return f.Height - f.Top - f.Bottom }

// X maps a data x to the canvas.
func (f *Frame) X(x float64) float64 {
	if f.LogX {
		return f.Left + f.PW()*(math.Log(x)-math.Log(f.XMin))/(math.Log(f.XMax)-math.Log(f.XMin))
	}
	return f.Left + f.PW()*(x-f.XMin)/(f.XMax-f.XMin)
}

// Y maps a data y to the canvas.
func (f *Frame) Y(y float64) float64 { return f.Top + f.PH()*(1-(y-f.YMin)/(f.YMax-f.YMin)) }

// ClampX limits x to the x range, for marks beyond it.
func (f *Frame) ClampX(x float64) float64 { return math.Min(math.Max(x, f.XMin), f.XMax) }

// XTicks and YTicks are round tick values of the ranges.
func (f *Frame) XTicks() []float64 { return Ticks(f.XMin, f.XMax, f.LogX) }
func (f *Frame) YTicks() []float64 { return Ticks(f.YMin, f.YMax, false) }

// Tick is one tick of an axis and its label; the label is "" where labels would overlap.
type Tick struct {
	V     float64
	Label string
}

// XTickLabels returns the x ticks labelled by format, keeping every k-th label for the least k
// at which no two labels overlap: a label is taken to be charWidth pixels a character wide,
// centred on its tick, with a gap of one character between labels. Ticks whose label is
// dropped keep their value, for grid lines.
func (f *Frame) XTickLabels(format func(float64) string, charWidth float64) []Tick {
	vals := f.XTicks()
	ticks := make([]Tick, len(vals))
	for i, v := range vals {
		ticks[i] = Tick{V: v, Label: format(v)}
	}
	half := func(t Tick) float64 { return float64(len([]rune(t.Label))) * charWidth / 2 }
	for k := 1; k <= len(ticks); k++ {
		fits := true
		for i := k; i < len(ticks) && fits; i += k {
			prev, cur := ticks[i-k], ticks[i]
			fits = f.X(cur.V)-half(cur)-(f.X(prev.V)+half(prev)) >= charWidth
		}
		if fits {
			for i := range ticks {
				if i%k != 0 {
					ticks[i].Label = ""
				}
			}
			return ticks
		}
	}
	return ticks
}

// Ticks returns round tick values in [lo, hi]: 1, 2 and 5 per decade on a log axis, else 3–7
// steps of 1, 2, 2.5 or 5 times a power of ten.
func Ticks(lo, hi float64, log bool) []float64 {
	var out []float64
	if log {
		for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
			for _, m := range []float64{1, 2, 5} {
				if v := m * math.Pow(10, e); v >= lo && v <= hi {
					out = append(out, v)
				}
			}
		}
		return out
	}
	span := hi - lo
	if span <= 0 {
		return []float64{lo}
	}
	raw := span / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

// Pct formats a fraction as a percentage with one decimal, dropping ".0": 0.95 is "95%".
func Pct(p float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(p*100, 'f', 1, 64), ".0") + "%"
}
