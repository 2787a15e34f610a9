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
