package drift

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// simSpec is the routing the simulations run: requests start on small (or, for a share of
// them, straight on strong, as a score route would send them), answers are validated by a
// JSON Schema and a length check, a failed answer escalates to strong, and a provider
// failure of small falls back to backup. The assumptions are the simulation's truth, so
// unchanged traffic matches them.
const simSpec = `version: 1
name: drift-sim
review: {last: 2026-11-01}
volume: {per_month: 100000}
providers:
  sim: {type: simulated}
models:
  small:  {provider: sim, model: gpt-4.1-nano, latency: {p50: 400ms, p95: 1.2s}}
  strong: {provider: sim, model: claude-sonnet-4-5, latency: {p50: 1s, p95: 3s}}
  backup: {provider: sim, model: gpt-4.1-mini, latency: {p50: 600ms, p95: 1.8s}}
categories:
  - name: extract
    share: 1
    tokens: {in: 400, out: 50}
    quality_bar: 0.9
    latency_budget: 30s
    route:
      cascade: [small, strong]
      validate: [{json_schema: {inline: {type: object}}}, {max_length: 2000}]
    fallback: [backup]
    assume:
      pass_rate: {small: 0.9, strong: 0.98, backup: 0.95}
      validator: {detect: 0.8, false_alarm: 0.02}
drift: {window: %d, reference: %d, false_alarm: %g%s}
`

func loadSimSpec(t testing.TB, window, reference int, falseAlarm float64, extra string) *spec.Spec {
	t.Helper()
	src := fmt.Sprintf(simSpec, window, reference, falseAlarm, extra)
	s, err := spec.Parse([]byte(src), "sim.yaml", spec.Options{Today: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// simModel is one model's behaviour in the simulation.
type simModel struct {
	name     string
	pass     float64       // P(good answer)
	p50, p95 time.Duration // lognormal latency
	slowdown float64       // multiplies latency; 0 means 1
	fail     float64       // P(provider failure)
	invalid  float64       // extra P(answer violates the schema), on top of the validator's flags
}

func (m *simModel) latency(r *rand.Rand) time.Duration {
	mu := math.Log(float64(m.p50))
	sigma := (math.Log(float64(m.p95)) - mu) / 1.6448536269514722
	d := math.Exp(mu + sigma*r.NormFloat64())
	if m.slowdown > 0 {
		d *= m.slowdown
	}
	return time.Duration(d)
}

// world generates decisions the way the gateway would record them for simSpec.
type world struct {
	r                  *rand.Rand
	small, strong, bk  simModel
	detect, falseAlarm float64
	// startStrong is the share of requests routed straight to strong.
	startStrong float64
	// schemaShare is the share of flagged answers whose failing validator is the schema.
	schemaShare float64
	// noSchema leaves the JSON Schema verdict out of the answers, as when requests stop
	// asking for JSON: a flagged answer fails the length check instead.
	noSchema bool
	t        time.Time
	n        int
}

func newWorld(seed uint64) *world {
	return &world{
		r:      rand.New(rand.NewPCG(seed, seed*0x9e3779b97f4a7c15+1)),
		small:  simModel{name: "small", pass: 0.9, p50: 400 * time.Millisecond, p95: 1200 * time.Millisecond, fail: 0.02},
		strong: simModel{name: "strong", pass: 0.98, p50: time.Second, p95: 3 * time.Second, fail: 0},
		bk:     simModel{name: "backup", pass: 0.95, p50: 600 * time.Millisecond, p95: 1800 * time.Millisecond},
		detect: 0.8, falseAlarm: 0.02, startStrong: 0.3, schemaShare: 0.5,
		t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC),
	}
}

// answer runs one call and appends its attempt; it reports whether the answer passed.
func (w *world) answer(d *clearbar.Decision, m *simModel, kind string, step int) (answered, passed bool) {
	a := clearbar.Attempt{N: len(d.Attempts) + 1, Kind: kind, Step: step, Model: m.name, Provider: "sim", Latency: m.latency(w.r), Cost: 1000}
	if w.r.Float64() < m.fail {
		a.Class, a.Outcome = clearbar.Overloaded, "fell back"
		d.Attempts = append(d.Attempts, a)
		return false, false
	}
	good := w.r.Float64() < m.pass
	flagged := w.r.Float64() < w.falseAlarm
	if !good {
		flagged = w.r.Float64() < w.detect
	}
	schemaOK, lengthOK := true, true
	if flagged {
		if w.r.Float64() < w.schemaShare {
			schemaOK = false
		} else {
			lengthOK = false
		}
	}
	if w.r.Float64() < m.invalid {
		schemaOK = false
	}
	a.Verdicts = []clearbar.Verdict{{Validator: "JSON Schema (inline)", Pass: schemaOK}, {Validator: "at most 2000 characters", Pass: lengthOK}}
	if w.noSchema {
		lengthOK = lengthOK && schemaOK
		schemaOK = true
		a.Verdicts = []clearbar.Verdict{{Validator: "at most 2000 characters", Pass: lengthOK}}
	}
	a.Outcome = "accepted"
	if !schemaOK || !lengthOK {
		a.Class, a.Outcome = clearbar.Quality, "escalated after failed validation"
	}
	d.Attempts = append(d.Attempts, a)
	return true, a.Class == clearbar.OK
}

func (w *world) decision() *clearbar.Decision {
	w.n++
	w.t = w.t.Add(100 * time.Millisecond)
	d := &clearbar.Decision{ID: fmt.Sprintf("dec_%d", w.n), Time: w.t, Category: "extract"}
	deliver := func(m *simModel) {
		d.Model = m.name
		d.Attempts[len(d.Attempts)-1].Outcome = "accepted"
	}
	if w.r.Float64() < w.startStrong {
		if ok, _ := w.answer(d, &w.strong, clearbar.AttemptPrimary, 1); !ok {
			d.Outcome = clearbar.Overloaded
		} else {
			deliver(&w.strong)
			d.Flagged = d.Attempts[0].Class == clearbar.Quality
		}
	} else {
		answered, passed := w.answer(d, &w.small, clearbar.AttemptPrimary, 1)
		switch {
		case !answered:
			if ok, _ := w.answer(d, &w.bk, clearbar.AttemptFallback, 1); ok {
				deliver(&w.bk)
				d.Flagged = d.Attempts[1].Class == clearbar.Quality
			} else {
				d.Outcome = clearbar.Overloaded
			}
		case passed:
			deliver(&w.small)
		default:
			if ok, _ := w.answer(d, &w.strong, clearbar.AttemptEscalation, 2); ok {
				deliver(&w.strong)
				d.Flagged = d.Attempts[1].Class == clearbar.Quality
			} else {
				d.Outcome = clearbar.Overloaded
			}
		}
	}
	for _, a := range d.Attempts {
		d.Latency += a.Latency
		d.Cost += a.Cost
	}
	return d
}

// alertsFor returns the alerts of one detector.
func alertsFor(m *Monitor, model string, kind Kind, against Against) []Alert {
	var out []Alert
	for _, a := range m.Alerts() {
		if a.Model == model && a.Detector == kind && a.Against == against {
			out = append(out, a)
		}
	}
	return out
}

func describeAlerts(as []Alert) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "  %s %s/%s %s %s: %s\n", a.ID, a.Category, a.Model, a.Detector, a.Against, a.Message)
	}
	return b.String()
}
