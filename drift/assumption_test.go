package drift

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// ttftSpec has a latency assumption in each form: small's is {p50, p95}; mini's and
// thinker's are ttft plus tokens_per_second (thinker bills reasoning tokens); plain has none
// and takes the default, except where a category overrides it.
const ttftSpec = `version: 1
name: drift-ttft
review: {last: 2026-11-01}
volume: {per_month: 100000}
providers:
  sim: {type: simulated}
models:
  small:   {provider: sim, model: gpt-4.1-nano, latency: {p50: 400ms, p95: 1.2s}}
  mini:    {provider: sim, model: gpt-4.1-mini, latency: {ttft: {p50: 300ms, p95: 900ms}, tokens_per_second: 100}}
  thinker: {provider: sim, model: claude-sonnet-4-5, reasoning: true, latency: {ttft: {p50: 1s, p95: 3s}, tokens_per_second: 50}}
  plain:   {provider: sim, model: gpt-4.1-nano}
categories:
  - name: extract
    share: 0.5
    tokens: {in: 400, out: 50}
    quality_bar: 0.9
    route: {cascade: [mini, small, thinker, plain], validate: [{max_length: 2000}]}
    assume:
      pass_rate: {mini: 0.9, small: 0.9, thinker: 0.95, plain: 0.9}
  - name: think
    share: 0.5
    tokens: {in: 400, out: {p50: 100, p95: 400}, reasoning: {p50: 200, p95: 800}}
    quality_bar: 0.9
    route: {cascade: [mini, thinker, plain], validate: [{max_length: 2000}]}
    assume:
      pass_rate: {mini: 0.9, thinker: 0.95, plain: 0.9}
      latency: {plain: {ttft: {p50: 200ms, p95: 600ms}, tokens_per_second: 40}}
drift: {window: 200, reference: 2000, false_alarm: 0.001}
`

func loadTTFTSpec(t testing.TB) *spec.Spec {
	t.Helper()
	s, err := spec.Parse([]byte(ttftSpec), "ttft.yaml", spec.Options{Today: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAssumedP95OfEachLatencyForm: the {p50, p95} form gives the p95; the ttft form gives
// ttft's p95 plus the time to generate the category's output tokens (and, for a model that
// bills reasoning, its reasoning tokens) at their p95; a model without a latency assumption
// has none, unless the category gives it one.
func TestAssumedP95OfEachLatencyForm(t *testing.T) {
	s := loadTTFTSpec(t)
	cases := []struct {
		category, model string
		want            time.Duration // 0: none
	}{
		{"extract", "small", 1200 * time.Millisecond},
		// 900ms, and 50 tokens at 100 a second.
		{"extract", "mini", 1400 * time.Millisecond},
		// 900ms, and the output band's p95 of 400 tokens at 100 a second.
		{"think", "mini", 4900 * time.Millisecond},
		// 3s, and 50 tokens (the category sets no reasoning) at 50 a second.
		{"extract", "thinker", 4 * time.Second},
		// 3s, and 400 output and 800 reasoning tokens at 50 a second.
		{"think", "thinker", 27 * time.Second},
		{"extract", "plain", 0},
		// The category's override: 600ms, and 400 tokens at 40 a second.
		{"think", "plain", 10600 * time.Millisecond},
	}
	for _, c := range cases {
		got, ok := assumedP95(s.Category(c.category), s.Model(c.model))
		if ok != (c.want > 0) || got != c.want {
			t.Errorf("%s in %s: assumed p95 %v (%v), want %v", c.model, c.category, got, ok, c.want)
		}
	}
}

// TestModelLatencyAgainstAssumptionInTTFTForm: a model whose latency is written as ttft and
// tokens_per_second gets a latency detector against its assumed p95, exported as a gauge like
// any other's. Traffic that matches the assumption raises nothing; once the model takes
// twice as long, the detector fires within two windows.
func TestModelLatencyAgainstAssumptionInTTFTForm(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := rand.New(rand.NewPCG(21, 0x5eed))
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	m, err := New(Options{Spec: loadTTFTSpec(t), Registerer: reg, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	// mini's calls in extract take ttft (lognormal, p50 300ms, p95 900ms) plus 50 tokens at
	// 100 a second.
	sigma := math.Log(3) / 1.6448536269514722
	slowdown := 1.0
	call := func() {
		at = at.Add(100 * time.Millisecond)
		d := time.Duration(slowdown * (0.3*math.Exp(sigma*r.NormFloat64()) + 0.5) * float64(time.Second))
		m.Observe(&clearbar.Decision{Time: at, Category: "extract", Model: "mini", Latency: d,
			Attempts: []clearbar.Attempt{{Kind: clearbar.AttemptPrimary, Model: "mini", Latency: d}}})
	}
	for range 4000 {
		call()
	}
	gauge := func() float64 {
		return metricValue(t, reg, "clearbar_drift_firing", "category", "extract", "model", "mini", "detector", "latency", "against", "assumption")
	}
	if g := gauge(); g != 0 {
		t.Fatalf(`clearbar_drift_firing{against="assumption",detector="latency",model="mini"} = %g on traffic that matches the assumption, want 0 (-1: no such series)`, g)
	}
	det := findDetector(t, m, "mini", Latency, Assumption)
	if det.last.baseline != tailShare || det.last.p < m.level {
		t.Fatalf("last test %+v", det.last)
	}
	if as := alertsFor(m, "mini", Latency, Assumption); len(as) != 0 {
		t.Fatalf("alerts on traffic that matches the assumption:\n%s", describeAlerts(as))
	}
	slowdown = 2
	for i := 1; i <= 400 && !det.firing; i++ {
		call()
	}
	as := alertsFor(m, "mini", Latency, Assumption)
	if len(as) != 1 || gauge() != 1 {
		t.Fatalf("mini taking twice as long: alerts\n%s gauge %g; want one alert and the gauge at 1", describeAlerts(as), gauge())
	}
	t.Log(as[0].Message)
}
