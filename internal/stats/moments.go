package stats

import "math"

// Moments accumulates the count, mean and variance of a stream of values with Welford's
// method, which stays accurate when the mean is large against the spread. The zero value is
// empty and ready to use.
type Moments struct {
	n    int
	mean float64
	m2   float64
}

// Add adds one value.
func (m *Moments) Add(x float64) {
	m.n++
	d := x - m.mean
	m.mean += d / float64(m.n)
	m.m2 += d * (x - m.mean)
}

// N returns the number of values added.
func (m *Moments) N() int { return m.n }

// Mean returns the mean (0 when empty).
func (m *Moments) Mean() float64 { return m.mean }

// Var returns the sample variance (n−1 in the denominator; 0 with fewer than two values).
func (m *Moments) Var() float64 {
	if m.n < 2 {
		return 0
	}
	return m.m2 / float64(m.n-1)
}

// SE returns the standard error of the mean (0 with fewer than two values).
func (m *Moments) SE() float64 {
	if m.n < 2 {
		return 0
	}
	return math.Sqrt(m.Var() / float64(m.n))
}

// Ratio accumulates pairs (x, y) for the ratio of their sums, Σx / Σy, like the share of
// prompt tokens read from a cache over calls of different sizes. Its standard error is the
// delta method's for a ratio estimator. The zero value is empty and ready to use.
type Ratio struct {
	n             int
	mx, my        float64
	sxx, syy, sxy float64 // co-moments, updated as Welford's method does
}

// Add adds one pair.
func (r *Ratio) Add(x, y float64) {
	r.n++
	dx, dy := x-r.mx, y-r.my
	r.mx += dx / float64(r.n)
	r.my += dy / float64(r.n)
	r.sxx += dx * (x - r.mx)
	r.syy += dy * (y - r.my)
	r.sxy += dx * (y - r.my)
}

// N returns the number of pairs added.
func (r *Ratio) N() int { return r.n }

// Value returns Σx / Σy (NaN when Σy is 0).
func (r *Ratio) Value() float64 {
	if r.my == 0 {
		return math.NaN()
	}
	return r.mx / r.my
}

// SE returns the standard error of Value: √(Var(x − R·y) / n) / ȳ (0 with fewer than two
// pairs, NaN when Σy is 0).
func (r *Ratio) SE() float64 {
	if r.my == 0 {
		return math.NaN()
	}
	if r.n < 2 {
		return 0
	}
	q := r.mx / r.my
	v := max((r.sxx-2*q*r.sxy+q*q*r.syy)/float64(r.n-1), 0)
	return math.Sqrt(v/float64(r.n)) / r.my
}
