package gateway

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/moneymetric"
)

// labelCache keeps a vector's children by label values, so that a request looks its metrics
// up in a map under a read lock instead of hashing label values through the vector each time.
// Label sets are bounded by the spec, so the map is too.
type labelCache[T any] struct {
	mu    sync.RWMutex
	m     map[[3]string]T
	fetch func(...string) T
}

func newLabelCache[T any](fetch func(...string) T) *labelCache[T] {
	return &labelCache[T]{m: map[[3]string]T{}, fetch: fetch}
}

func (c *labelCache[T]) get(labels ...string) T {
	var k [3]string
	copy(k[:], labels)
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return v
	}
	v = c.fetch(labels...)
	c.mu.Lock()
	c.m[k] = v
	c.mu.Unlock()
	return v
}

// metrics are the gateway's Prometheus metrics. Label sets are small and bounded by the
// spec (categories, models, providers, failure classes).
type metrics struct {
	requests      *prometheus.CounterVec   // category, model, outcome
	duration      *prometheus.HistogramVec // category, stream
	upstream      *prometheus.HistogramVec // provider, model
	overhead      prometheus.Histogram
	ttfb          *prometheus.HistogramVec // category
	tokens        *prometheus.CounterVec   // model, kind
	cost          *moneymetric.Vec         // category, model called
	clientCost    *moneymetric.Vec         // client key, category
	attempts      *prometheus.CounterVec   // provider, model, class
	fallbacks     *prometheus.CounterVec   // category, class
	retries       *prometheus.CounterVec   // provider, class
	escalated     *prometheus.CounterVec   // category, reason
	refused       *prometheus.CounterVec   // reason
	clientRetries prometheus.Counter

	// Cached children of the vectors every request touches.
	requestsC *labelCache[prometheus.Counter]
	durationC *labelCache[prometheus.Observer]
	upstreamC *labelCache[prometheus.Observer]
	ttfbC     *labelCache[prometheus.Observer]
	tokensC   *labelCache[prometheus.Counter]
	attemptsC *labelCache[prometheus.Counter]
}

// latencyBuckets cover a gateway's range: sub-millisecond overhead to minute-long answers.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 40, 80, 160}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clearbar_requests_total",
			Help: "Requests answered, by category, model that answered and outcome (ok or failure class; the gateway's own refusals of a client key, clearbar_refused_total, are client_error; requests the gateway cut as it shut down are shutdown, not canceled, which is the client going away)."}, []string{"category", "model", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "clearbar_request_duration_seconds",
			Help: "Whole request time as the gateway saw it, by category and stream: true, false, or unknown for a request refused for its client key before its body was read.", Buckets: latencyBuckets}, []string{"category", "stream"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "clearbar_upstream_duration_seconds",
			Help: "Time waiting for one provider call.", Buckets: latencyBuckets}, []string{"provider", "model"}),
		overhead: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "clearbar_gateway_overhead_seconds",
			Help:    "Gateway overhead per request: total time minus upstream waits and retry backoff.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1}}),
		ttfb: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "clearbar_time_to_first_byte_seconds",
			Help: "Time to the first byte sent to the client.", Buckets: latencyBuckets}, []string{"category"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clearbar_tokens_total",
			Help: "Tokens billed, by model and kind: prompt, completion, and the parts of them that were cache reads (cached), cache writes (cache_write) and reasoning."}, []string{"model", "kind"}),
		cost: moneymetric.New("clearbar_cost_usd_total",
			"Cost in US dollars at catalogue (or spec) prices, by category and the model called, discarded attempts included.", "category", "model"),
		clientCost: moneymetric.New("clearbar_client_cost_usd_total",
			"Cost in US dollars of the requests of each client key (the spec's keys: name), by category: every call a request made, as clearbar_cost_usd_total counts them. Requests without a client key are not counted here.", "client", "category"),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clearbar_attempts_total",
			Help: "Provider calls, by provider, model and result class."}, []string{"provider", "model", "class"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clearbar_fallbacks_total",
			Help: "Moves to another model after a failure, by category and cause: the failure class of the call that failed, or breaker_open when the models before were left out, their circuit breakers open, without a call (the request was diverted)."}, []string{"category", "class"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clearbar_retries_total",
			Help: "Retries of the same model, by provider and failure class."}, []string{"provider", "class"}),
		escalated: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clearbar_escalations_total",
			Help: "Moves to a later step of a route, by category and reason: quality (the answer failed validation) or provider (the step's models failed)."}, []string{"category", "reason"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clearbar_refused_total",
			Help: "Requests the gateway refused for their client key before routing them, by reason: key (none, or one it does not accept: 401, 403) or rate_limit (the key is over its rate_limit: 429). They are client errors: clearbar_requests_total counts them as outcome client_error, never as an upstream's rate_limited."}, []string{"reason"}),
		clientRetries: prometheus.NewCounter(prometheus.CounterOpts{Name: "clearbar_client_retries_total",
			Help: "Requests that clients marked as their own retries (X-Stainless-Retry-Count above 0)."}),
	}
	reg.MustRegister(m.requests, m.duration, m.upstream, m.overhead, m.ttfb, m.tokens, m.cost, m.clientCost, m.attempts,
		m.fallbacks, m.retries, m.escalated, m.refused, m.clientRetries)
	for _, reason := range []string{refusedKey, refusedRateLimit} {
		m.refused.WithLabelValues(reason) // exported at 0 from the start, for rate() and alerts
	}
	m.requestsC = newLabelCache(func(l ...string) prometheus.Counter { return m.requests.WithLabelValues(l...) })
	m.durationC = newLabelCache(func(l ...string) prometheus.Observer { return m.duration.WithLabelValues(l...) })
	m.upstreamC = newLabelCache(func(l ...string) prometheus.Observer { return m.upstream.WithLabelValues(l...) })
	m.ttfbC = newLabelCache(func(l ...string) prometheus.Observer { return m.ttfb.WithLabelValues(l...) })
	m.tokensC = newLabelCache(func(l ...string) prometheus.Counter { return m.tokens.WithLabelValues(l...) })
	m.attemptsC = newLabelCache(func(l ...string) prometheus.Counter { return m.attempts.WithLabelValues(l...) })
	return m
}

// outcomeShutdown is the outcome clearbar_requests_total gives a request the gateway cut as
// it shut down (Decision.Shutdown), which the record keeps as canceled: the metric tells it
// from a client's going away.
const outcomeShutdown = "shutdown"

func (m *metrics) observeDecision(d *clearbar.Decision) {
	outcome := d.Outcome.String()
	if d.Shutdown && d.Outcome == clearbar.Canceled {
		outcome = outcomeShutdown
	}
	m.requestsC.get(d.Category, d.Model, outcome).Inc()
	stream := "false"
	if d.Stream {
		stream = "true"
	}
	if reason := refusal(d); reason != "" {
		m.refused.WithLabelValues(reason).Inc()
		// Refused before its body was read: whether it asked for a stream is not known.
		stream = "unknown"
	}
	m.durationC.get(d.Category, stream).Observe(d.Latency.Seconds())
	m.overhead.Observe(d.Overhead.Seconds())
	if d.TTFB > 0 {
		m.ttfbC.get(d.Category).Observe(d.TTFB.Seconds())
	}
	// Cost goes to the model that was called, attempt by attempt: a discarded attempt's cost is
	// its model's, not that of the model that answered in the end.
	var total clearbar.Money // the request's, for its client key
	if sc := d.Score; sc != nil && sc.Embedding != nil && sc.Embedding.Cost > 0 {
		m.cost.Add(sc.Embedding.Cost, d.Category, sc.Embedding.Model)
		total += sc.Embedding.Cost
	}
	// prev is the last provider call before a, validator calls aside. A fallback or an
	// escalation with none before it was caused by the models before it being left out, their
	// breakers open (see run.begin): that is no call that failed, and fallbacks count it as
	// breaker_open, escalations as a provider failure.
	var prev *clearbar.Attempt
	before := func() clearbar.FailureClass {
		if prev == nil {
			return clearbar.Overloaded
		}
		return prev.Class
	}
	for i := range d.Attempts {
		a := &d.Attempts[i]
		m.attemptsC.get(a.Provider, a.Model, a.Class.String()).Inc()
		if a.Latency > 0 {
			m.upstreamC.get(a.Provider, a.Model).Observe(a.Latency.Seconds())
		}
		if a.Cost > 0 {
			m.cost.Add(a.Cost, d.Category, a.Model)
			total += a.Cost
		}
		if u := a.Usage; !u.IsZero() {
			// Counts are the upstream's word: a negative one, which a counter cannot take
			// (Add panics), counts as none.
			m.tokensC.get(a.Model, "prompt").Add(float64(max(u.PromptTokens, 0)))
			m.tokensC.get(a.Model, "completion").Add(float64(max(u.CompletionTokens, 0)))
			if u.CachedTokens > 0 {
				m.tokensC.get(a.Model, "cached").Add(float64(u.CachedTokens))
			}
			if u.CacheWriteTokens > 0 {
				m.tokensC.get(a.Model, "cache_write").Add(float64(u.CacheWriteTokens))
			}
			if u.ReasoningTokens > 0 {
				m.tokensC.get(a.Model, "reasoning").Add(float64(u.ReasoningTokens))
			}
		}
		switch a.Kind {
		case clearbar.AttemptRetry:
			if prev != nil {
				m.retries.WithLabelValues(a.Provider, prev.Class.String()).Inc()
			}
		case clearbar.AttemptFallback:
			m.fallbacks.WithLabelValues(d.Category, fallbackCause(prev, a)).Inc()
		case clearbar.AttemptEscalation:
			c := before()
			m.escalated.WithLabelValues(d.Category, escalationReason(c)).Inc()
			switch {
			case prev == nil:
				m.fallbacks.WithLabelValues(d.Category, causeBreakerOpen).Inc()
			case c != clearbar.Quality && c != clearbar.OK:
				m.fallbacks.WithLabelValues(d.Category, c.String()).Inc()
			}
		}
		if !a.ValidatorCall() {
			prev = a
		}
	}
	if d.Client != "" && total > 0 {
		m.clientCost.Add(total, d.Client, d.Category)
	}
}

// causeBreakerOpen is the cause clearbar_fallbacks_total gives a move past models that were
// left out for their circuit breakers (open, or half-open with the probe in flight) without
// a call: the request was diverted, but no call failed, so no failure class caused it.
const causeBreakerOpen = "breaker_open"

// fallbackCause labels fallback attempt a by what moved the request to it: the failure class
// of prev, the last provider call before it, when that call was to an earlier candidate of
// a's step; causeBreakerOpen when a's step had no call before a (prev is nil or of an earlier
// step): the candidates before a were left out for their breakers.
func fallbackCause(prev, a *clearbar.Attempt) string {
	if prev == nil || prev.Step != a.Step {
		return causeBreakerOpen
	}
	return prev.Class.String()
}

// escalationReason labels an escalation by the class of the call that caused it: quality
// when its answer failed validation, provider for every failure of the call itself, so that
// the two stay apart in clearbar_escalations_total.
func escalationReason(c clearbar.FailureClass) string {
	if c == clearbar.Quality {
		return "quality"
	}
	return "provider"
}
