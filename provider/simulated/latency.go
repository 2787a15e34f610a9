package simulated

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/clearbar/clearbar/internal/stats"
	"github.com/clearbar/clearbar/spec"
)

// The latency maths is the estimator's (estimate/dist.go), so that a simulated provider
// answers with the distribution the estimate assumed.

// TTFTShare is the fraction of a whole-response time (the {p50, p95} and samples latency
// forms, and replayed latencies) that a stream waits before its first chunk; the rest is
// spread over the remaining chunks. Those forms say nothing about time to first token, and a
// quarter is typical of chat models answering a few hundred tokens.
const TTFTShare = 0.25

// lognormal is the spec's distribution of a latency or a token count, as the estimator reads
// it (internal/stats), in seconds here.
type lognormal = stats.Lognormal

func fitLognormal(p50, p95 float64) lognormal { return stats.FitLognormal(p50, p95) }

// Latency forms, as in spec.Latency.
const (
	formTotal = iota
	formTTFT
	formSamples
)

// latency draws a model's response times from its latency assumption. It is immutable and
// safe for concurrent use; randomness comes from the caller's rand.
type latency struct {
	form      int
	total     lognormal // formTotal: the whole response time
	ttft      lognormal // formTTFT: time to first token
	tps       float64   // formTTFT: output tokens per second
	samples   []float64 // formSamples: measured response times
	failAfter float64   // the time a failed call takes; 0 means the median response time
}

func seconds(d spec.Duration) float64 { return time.Duration(d).Seconds() }

func newLatency(l spec.Latency) latency {
	var m latency
	switch {
	case len(l.Samples) > 0:
		m.form = formSamples
		m.samples = make([]float64, len(l.Samples))
		for i, d := range l.Samples {
			m.samples[i] = seconds(d)
		}
	case l.TTFT != nil && l.TokensPerSecond > 0:
		m.form = formTTFT
		m.ttft = fitLognormal(seconds(l.TTFT.P50), seconds(l.TTFT.P95))
		m.tps = l.TokensPerSecond
	default:
		m.form = formTotal
		m.total = fitLognormal(seconds(l.P50), seconds(l.P95))
	}
	m.failAfter = seconds(l.FailAfter)
	return m
}

// isZero reports whether a latency assumption has none of its forms set (a model that was
// built in code and never resolved by the spec loader).
func isZeroLatency(l spec.Latency) bool {
	return l.P50 == 0 && l.P95 == 0 && l.TTFT == nil && len(l.Samples) == 0
}

// sample draws one call's time to first chunk and generation time (the time the remaining
// chunks are spread over), in seconds, for an answer of outTokens visible tokens after
// reasoningTokens reasoning tokens. In the ttft form the model generates its reasoning before
// the answer's first chunk, which comes after the drawn time to first token plus
// reasoningTokens / tokens_per_second, and the generation time is outTokens /
// tokens_per_second; in the other forms the drawn response time is split by TTFTShare.
func (m *latency) sample(r *rand.Rand, outTokens, reasoningTokens int) (ttft, gen float64) {
	switch m.form {
	case formTTFT:
		return m.ttft.Sample(r) + float64(reasoningTokens)/m.tps, float64(outTokens) / m.tps
	case formSamples:
		t := m.samples[r.IntN(len(m.samples))]
		return t * TTFTShare, t * (1 - TTFTShare)
	}
	t := m.total.Sample(r)
	return t * TTFTShare, t * (1 - TTFTShare)
}

// failure returns how long a failed call takes, in seconds: fail_after when the assumption
// sets it, otherwise the median response time for an answer of outTokens tokens (the mean of
// the samples in the samples form), as the estimator assumes. outTokens need not be whole:
// the estimator uses the category's mean output tokens.
func (m *latency) failure(outTokens float64) float64 {
	if m.failAfter > 0 {
		return m.failAfter
	}
	switch m.form {
	case formTTFT:
		return m.ttft.Median() + outTokens/m.tps
	case formSamples:
		var s float64
		for _, v := range m.samples {
			s += v
		}
		return s / float64(len(m.samples))
	}
	return m.total.Median()
}

// scaled converts seconds to a duration multiplied by scale.
func scaled(sec, scale float64) time.Duration {
	d := sec * scale * float64(time.Second)
	if !(d > 0) {
		return 0
	}
	if d > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(d)
}
