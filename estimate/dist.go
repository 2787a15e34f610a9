package estimate

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/clearbar/clearbar/internal/stats"
	"github.com/clearbar/clearbar/spec"
)

// z95 is the standard normal quantile at 0.95.
const z95 = stats.Z95

// lognormal and band are the shared distributions of latencies and token counts, which the
// simulated provider answers with too.
type (
	lognormal = stats.Lognormal
	band      = stats.Band
)

func fitLognormal(p50, p95 float64) lognormal { return stats.FitLognormal(p50, p95) }

func newBand(b spec.Band) band { return stats.NewBand(b.P50, b.P95, b.Dist) }

// latencyModel draws a model's response time in seconds for one category. Exactly one form
// is active, as in spec.Latency.
type latencyModel struct {
	total     lognormal // {p50, p95} form
	ttft      lognormal // ttft form
	tps       float64   // ttft form: output tokens per second
	outTokens band      // ttft form: visible output tokens generated
	reasoning band      // ttft form: reasoning tokens generated (zero unless billed)
	samples   []float64 // samples form
	failAfter float64
	form      int
}

const (
	formQuantiles = iota
	formTTFT
	formSamples
)

func seconds(d spec.Duration) float64 { return time.Duration(d).Seconds() }

// newLatencyModel builds the sampler for a latency assumption. out is the category's output
// band; reasoning its reasoning band, used only when the model bills reasoning tokens.
func newLatencyModel(l spec.Latency, out spec.Band, reasoning *spec.Band) latencyModel {
	var m latencyModel
	switch {
	case len(l.Samples) > 0:
		m.form = formSamples
		m.samples = make([]float64, len(l.Samples))
		for i, d := range l.Samples {
			m.samples[i] = seconds(d)
		}
	case l.TTFT != nil:
		m.form = formTTFT
		m.ttft = fitLognormal(seconds(l.TTFT.P50), seconds(l.TTFT.P95))
		m.tps = l.TokensPerSecond
		m.outTokens = newBand(out)
		if reasoning != nil && !reasoning.IsZero() {
			m.reasoning = newBand(*reasoning)
		}
	default:
		m.form = formQuantiles
		m.total = fitLognormal(seconds(l.P50), seconds(l.P95))
	}
	m.failAfter = seconds(l.FailAfter)
	if m.failAfter == 0 {
		m.failAfter = m.median()
	}
	return m
}

func (m *latencyModel) sample(r *rand.Rand) float64 {
	total, _ := m.sampleTTFT(r)
	return total
}

// ttftShare is the share of a response's time spent before its first token when the
// assumption gives only the whole response time (the same share the simulated provider uses).
const ttftShare = 0.25

// sampleTTFT draws a response time and its time to the first visible token. In the ttft form
// a model that reasons generates its reasoning tokens, which a client never sees, before the
// answer's first token: the first visible token comes after ttft + reasoning tokens /
// tokens_per_second, as the simulated provider streams it.
func (m *latencyModel) sampleTTFT(r *rand.Rand) (total, ttft float64) {
	switch m.form {
	case formSamples:
		total = m.samples[r.IntN(len(m.samples))]
		return total, total * ttftShare
	case formTTFT:
		first := m.ttft.Sample(r)
		out, reasoning := m.outTokens.Sample(r), m.reasoning.Sample(r)
		return first + (out+reasoning)/m.tps, first + reasoning/m.tps
	}
	total = m.total.Sample(r)
	return total, total * ttftShare
}

// quantile returns the q-quantiles of the response time and of the time to its first visible
// token, and whether they are exact: they are for the p50/p95 form, and for the ttft form
// when the category's tokens are fixed counts.
func (m *latencyModel) quantile(q float64) (total, ttft float64, ok bool) {
	switch {
	case m.form == formQuantiles:
		v := m.total.Quantile(q)
		return v, v * ttftShare, true
	case m.form == formTTFT && !m.outTokens.IsDist && !m.reasoning.IsDist:
		f := m.ttft.Quantile(q)
		return f + (m.outTokens.Fixed+m.reasoning.Fixed)/m.tps, f + m.reasoning.Fixed/m.tps, true
	}
	return 0, 0, false
}

func (m *latencyModel) mean() float64 {
	switch m.form {
	case formSamples:
		var s float64
		for _, v := range m.samples {
			s += v
		}
		return s / float64(len(m.samples))
	case formTTFT:
		return m.ttft.Mean() + (m.outTokens.Mean()+m.reasoning.Mean())/m.tps
	}
	return m.total.Mean()
}

// median is a representative time, used as the default time a failed call takes.
func (m *latencyModel) median() float64 {
	switch m.form {
	case formSamples:
		return m.mean()
	case formTTFT:
		return m.ttft.Quantile(0.5) + (m.outTokens.Mean()+m.reasoning.Mean())/m.tps
	}
	return m.total.Quantile(0.5)
}

// hist is a log-linear histogram of positive durations in seconds, in the manner of HDR
// histograms: the bucket is the float's exponent and top mantissa bits, so recording costs a
// few instructions and quantiles are exact to within half a bucket (±0.2%).
type hist struct {
	counts []float64
	n      float64
	sum    float64
}

const (
	histMantBits = 8
	histMinExp   = -14 // 2^-14 s ≈ 61µs
	histMaxExp   = 14  // 2^14 s ≈ 4.5h
	histBuckets  = (histMaxExp - histMinExp) << histMantBits
	histBase     = uint64(1023+histMinExp) << histMantBits
)

func newHist() *hist { return &hist{counts: make([]float64, histBuckets)} }

func histIndex(x float64) int {
	if !(x > 0) {
		return 0
	}
	i := int64(math.Float64bits(x)>>(52-histMantBits)) - int64(histBase)
	switch {
	case i < 0:
		return 0
	case i >= histBuckets:
		return histBuckets - 1
	}
	return int(i)
}

// bucketMid returns the geometric middle of bucket i.
func bucketMid(i int) float64 {
	lo := math.Float64frombits((uint64(i) + histBase) << (52 - histMantBits))
	hi := math.Float64frombits((uint64(i) + 1 + histBase) << (52 - histMantBits))
	return math.Sqrt(lo * hi)
}

func (h *hist) add(x float64) {
	h.counts[histIndex(x)]++
	h.n++
	h.sum += x
}

// addWeighted adds another histogram scaled so that its total weight is w.
func (h *hist) addWeighted(o *hist, w float64) {
	if o.n == 0 || w == 0 {
		return
	}
	f := w / o.n
	for i, c := range o.counts {
		if c != 0 {
			h.counts[i] += c * f
		}
	}
	h.n += w
	h.sum += o.sum * f
}

// quantiles returns the requested quantiles (ascending) in seconds.
func (h *hist) quantiles(qs ...float64) []float64 {
	out := make([]float64, len(qs))
	if h.n == 0 {
		return out
	}
	var cum float64
	j := 0
	for i, c := range h.counts {
		cum += c
		for j < len(qs) && cum >= qs[j]*h.n*(1-1e-12) {
			out[j] = bucketMid(i)
			j++
		}
		if j == len(qs) {
			break
		}
	}
	for ; j < len(qs); j++ {
		out[j] = bucketMid(histBuckets - 1)
	}
	return out
}

// budgetZ is how many standard errors of a simulated quantile a latency budget allows: a p95
// within budgetZ standard errors (plus half a histogram bucket) above its budget cannot be told
// from it, and meets it.
const budgetZ = 3

// halfBucket is half a histogram bucket's width relative to its value, at most (buckets are at
// most 1/256 of their value wide).
const halfBucket = 1.0 / 512

// quantileTol is how far the simulated q-quantile may be from the true one: budgetZ standard
// errors of the estimate, sqrt(q(1−q)/n) divided by the density the histogram shows around
// it, plus half a bucket for the histogram's resolution.
func (h *hist) quantileTol(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	se := math.Sqrt(q * (1 - q) / h.n)
	d := min(max(0.005, 3*se), q/2, (1-q)/2)
	qs := h.quantiles(q-d, q, q+d)
	return budgetZ*se*(qs[2]-qs[0])/(2*d) + qs[1]*halfBucket
}

func (h *hist) mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / h.n
}

// scale multiplies every time the model produces by k (k > 0).
func (m *latencyModel) scale(k float64) {
	lk := math.Log(k)
	m.total.Mu += lk
	m.ttft.Mu += lk
	m.tps /= k
	for i := range m.samples {
		m.samples[i] *= k
	}
	m.failAfter *= k
}

// beyond returns, for a timeout of t seconds, the probability that a response takes longer
// (P(L > t)) and the expected time it would run past it (E[(L − t)⁺]). The time a call takes
// before its timeout cuts it is then mean() − excess, and the share of calls cut is p.
func (m *latencyModel) beyond(t float64) (p, excess float64) {
	if math.IsInf(t, 1) {
		return 0, 0
	}
	switch m.form {
	case formSamples:
		for _, v := range m.samples {
			if v > t {
				p++
				excess += v - t
			}
		}
		n := float64(len(m.samples))
		return p / n, excess / n
	case formTTFT:
		// L = ttft + (output + reasoning tokens) / tokens_per_second, the three independent.
		terms := []lognormal{m.ttft, scaled(m.outTokens, 1/m.tps), scaled(m.reasoning, 1/m.tps)}
		return sumBeyond(terms, t)
	}
	return sumBeyond([]lognormal{m.total}, t)
}

// scaled returns k times a band's count, as a lognormal (a constant when the band is fixed).
func scaled(b band, k float64) lognormal {
	if !b.IsDist {
		if b.Fixed*k <= 0 {
			return lognormal{Mu: math.Inf(-1)}
		}
		return lognormal{Mu: math.Log(b.Fixed * k)}
	}
	d := b.Dist
	d.Mu += math.Log(k)
	return d
}

// degenerate reports whether a lognormal is a constant (sigma 0, or always 0).
func degenerate(l lognormal) bool { return l.Sigma == 0 || math.IsInf(l.Mu, -1) }

// lognormalBeyond is P(X > t) and E[(X − t)⁺] of one lognormal.
func lognormalBeyond(l lognormal, t float64) (p, excess float64) {
	if degenerate(l) {
		v := l.Median()
		if v > t {
			return 1, v - t
		}
		return 0, 0
	}
	if t <= 0 {
		return 1, l.Mean() - t
	}
	z := (math.Log(t) - l.Mu) / l.Sigma
	p = stats.NormalSF(z)
	return p, math.Max(0, l.Mean()*stats.NormalSF(z-l.Sigma)-t*p)
}

// sumBeyond is P(S > t) and E[(S − t)⁺] of the sum S of independent lognormals (constants
// allowed). The first proper lognormal is integrated exactly, the others numerically over a
// grid of their normal deviates (±8.5 standard deviations), where the integrand is smooth.
func sumBeyond(terms []lognormal, t float64) (p, excess float64) {
	var c float64
	var dist []lognormal
	for _, l := range terms {
		if degenerate(l) {
			c += l.Median()
			continue
		}
		dist = append(dist, l)
	}
	if len(dist) == 0 {
		if c > t {
			return 1, c - t
		}
		return 0, 0
	}
	var rec func(rest []lognormal, t float64) (float64, float64)
	rec = func(rest []lognormal, t float64) (float64, float64) {
		if len(rest) == 1 {
			return lognormalBeyond(rest[0], t)
		}
		l := rest[len(rest)-1]
		const steps, zmax = 340, 8.5
		var sp, se, sw float64
		for i := 0; i <= steps; i++ {
			z := -zmax + 2*zmax*float64(i)/steps
			w := math.Exp(-z * z / 2)
			pi, ei := rec(rest[:len(rest)-1], t-math.Exp(l.Mu+l.Sigma*z))
			sp += w * pi
			se += w * ei
			sw += w
		}
		return sp / sw, se / sw
	}
	return rec(dist, t-c)
}
