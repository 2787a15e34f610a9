package worksheet

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/spec"
)

// TestRoundTripEstimate is the package's promise to a user of clearbar estimate: for every
// example spec, the spec imported from its worksheet estimates to the same figures as the
// spec itself (cost, monthly cost, quality, p50 and p95, risk and monthly risk, per policy),
// the volume included. What a worksheet cannot carry must be said: a named policy has no
// row in the imported spec's estimate, so Omitted must name it, and the imported spec's header
// must say that named policies are not in a worksheet.
func TestRoundTripEstimate(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s := load(t, f)
			before, err := estimate.Run(context.Background(), s, estimateOpts)
			if err != nil {
				t.Fatal(err)
			}
			y, s2 := reimport(t, export(t, s), "../examples/imported.yaml")
			after, err := estimate.Run(context.Background(), s2, estimateOpts)
			if err != nil {
				t.Fatal(err)
			}
			if before.Volume != after.Volume {
				t.Errorf("requests a month: %d before, %d after the round trip", before.Volume, after.Volume)
			}
			omitted := strings.Join(Omitted(s), "\n")
			named := map[string]bool{}
			for _, p := range before.Policies {
				if p.Kind == estimate.KindNamed {
					named[p.Name] = true
					if !strings.Contains(omitted, "named policies (policies: ") || !strings.Contains(omitted, p.Name) {
						t.Errorf("named policy %s is lost on import, but Omitted does not say so: %q", p.Name, omitted)
					}
					continue
				}
				if len(s.Pipelines) > 0 {
					// The sheet rounds the derived shares of a spec with pipelines (shareCells).
					closePolicy(t, p, after, 1e-5)
					continue
				}
				samePolicy(t, p, after)
			}
			for _, r := range after.Policies {
				if r.Kind == estimate.KindNamed {
					t.Errorf("the imported spec has a named policy %s, which no worksheet holds", r.Name)
				}
			}
			if !named[before.Recommended] && before.Recommended != after.Recommended {
				t.Errorf("recommended %s before, %s after the round trip", before.Recommended, after.Recommended)
			}
			if len(named) > 0 && !bytes.Contains(y, []byte("Named policies (policies:)")) {
				t.Errorf("the imported spec's header does not say named policies are lost:\n%s", y)
			}
		})
	}
}

// samePolicy reports where policy p of an estimate before a round trip differs from its row
// in after, the estimate after it: every total figure must be the same.
func samePolicy(t *testing.T, p *estimate.PolicyResult, after *estimate.Report) {
	t.Helper()
	var q *estimate.PolicyResult
	for _, r := range after.Policies {
		if r.Name == p.Name {
			q = r
		}
	}
	if q == nil {
		t.Errorf("policy %s is missing after the round trip", p.Name)
		return
	}
	a, b := p.Total, q.Total
	for _, fig := range []struct {
		what          string
		before, after any
	}{
		{"cost per request", a.Cost, b.Cost},
		{"cost per month", a.CostPerMonth, b.CostPerMonth},
		{"quality", a.Quality, b.Quality},
		{"p50", a.Latency.P50, b.Latency.P50},
		{"p95", a.Latency.P95, b.Latency.P95},
		{"risk per request", a.Risk, b.Risk},
		{"risk per month", a.RiskPerMonth, b.RiskPerMonth},
	} {
		if fig.before != fig.after {
			t.Errorf("policy %s: %s %v before, %v after the round trip", p.Name, fig.what, fig.before, fig.after)
		}
	}
}

// closePolicy is samePolicy within a relative tolerance rel, for a spec whose shares the sheet
// rounds: money within rel or a nano-dollar per request (a cent a month), figures within rel.
func closePolicy(t *testing.T, p *estimate.PolicyResult, after *estimate.Report, rel float64) {
	t.Helper()
	var q *estimate.PolicyResult
	for _, r := range after.Policies {
		if r.Name == p.Name {
			q = r
		}
	}
	if q == nil {
		t.Errorf("policy %s is missing after the round trip", p.Name)
		return
	}
	a, b := p.Total, q.Total
	for _, fig := range []struct {
		what          string
		before, after float64
		abs           float64
	}{
		{"cost per request", float64(a.Cost), float64(b.Cost), 1},
		{"cost per month", float64(a.CostPerMonth), float64(b.CostPerMonth), 0.01},
		{"quality", a.Quality, b.Quality, 0},
		{"p50", a.Latency.P50, b.Latency.P50, 0},
		{"p95", a.Latency.P95, b.Latency.P95, 0},
		{"risk per request", float64(a.Risk), float64(b.Risk), 1},
		{"risk per month", float64(a.RiskPerMonth), float64(b.RiskPerMonth), 0.01},
	} {
		if d := math.Abs(fig.before - fig.after); d > fig.abs && d > rel*math.Abs(fig.before) {
			t.Errorf("policy %s: %s %v before, %v after the round trip", p.Name, fig.what, fig.before, fig.after)
		}
	}
}

// TestRoundTripEstimatePrices: a spec's own prices survive the round trip in the "model
// price" column, so that its imported spec estimates to the same figures: a catalogue model
// priced below the catalogue, with and without a long-context tier, and models the catalogue
// does not list at all, which the import would otherwise refuse.
func TestRoundTripEstimatePrices(t *testing.T) {
	tests := []struct {
		name, src, why string
	}{
		{"override", `version: 1
name: override
volume: {per_month: 1000000}
providers: {openai: {type: openai}}
models:
  small: {provider: openai, model: gpt-4.1-nano, price: {input: 0.05, output: 0.2}, latency: {p50: 300ms, p95: 800ms}}
  mid: {provider: openai, model: gpt-4.1-mini, latency: {p50: 800ms, p95: 2s}}
  pro: {provider: openai, model: gpt-4o, price: {cached_input: 0.3, cache_write: 3.5, cache_write_1h: 5.5, long_context: {above: 1k, input: 5, output: 20}}, latency: {p50: 2s, p95: 5s}}
categories:
  - name: intent
    share: 0.7
    tokens: {in: 500, out: 20}
    quality_bar: 0.9
    route: {cascade: [small, mid], validate: [{max_length: 200}]}
    assume: {pass_rate: {small: 0.9, mid: 0.97}, validator: {detect: 0.5, false_alarm: 0.05}}
  - name: long
    share: 0.3
    tokens: {in: {p50: 800, p95: 4000}, out: 200, cache_hit: 0.4}
    quality_bar: 0.9
    route: {model: pro}
    fallback: [mid]
    assume: {pass_rate: {pro: 0.95, mid: 0.9}}
`, "a cheaper price for a catalogue model, and another's long-context tier and cached-input price"},
		{"outside the catalogue", `version: 1
name: own-models
volume: {per_month: 1000000}
retry: {attempts: 0}
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: small-x, price: {input: 0.10, output: 0.40}, latency: {p50: 300ms, p95: 800ms}, availability: 1}
  mid: {provider: sim, model: mid-x, price: {input: 0.40, output: 1.60}, latency: {p50: 800ms, p95: 2s}, availability: 1}
  strong: {provider: sim, model: strong-x, price: {input: 3, output: 15, reasoning: 20, long_context: none}, latency: {p50: 2s, p95: 6s}, availability: 1}
categories:
  - name: intent
    share: 0.6
    tokens: {in: 500, out: 20}
    quality_bar: 0.95
    failure_impact: {bad_answer: 0.10}
    route: {cascade: [small, mid], validate: [{required_fields: [label]}]}
    assume: {pass_rate: {small: 0.90, mid: 0.97, strong: 0.98}, validator: {detect: 0.8, false_alarm: 0.05}}
  - name: refund
    share: 0.4
    tokens: {in: 3000, out: 400}
    quality_bar: 0.95
    failure_impact: {bad_answer: 20}
    route: {model: strong}
    assume: {pass_rate: {small: 0.70, mid: 0.88, strong: 0.97}}
`, "models the catalogue does not list, priced by the spec alone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := spec.Parse([]byte(tt.src), "prices.yaml", spec.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if gaps := Gaps(s); len(gaps) > 0 {
				t.Fatalf("%s: outside the round-trip class: %s", tt.why, strings.Join(gaps, "; "))
			}
			before, err := estimate.Run(context.Background(), s, estimateOpts)
			if err != nil {
				t.Fatal(err)
			}
			sheet := export(t, s)
			y, s2 := reimport(t, sheet, "imported.yaml")
			after, err := estimate.Run(context.Background(), s2, estimateOpts)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range before.Policies {
				samePolicy(t, p, after)
			}
			if t.Failed() {
				t.Logf("%s\nworksheet:\n%s\nimported spec:\n%s", tt.why, sheet, y)
			}
			for _, m := range s.Models {
				if got, want := priceOf(s2.Model(m.Name)), priceOf(m); got != want {
					t.Errorf("model %s: prices %q after the round trip, want %q", m.Name, got, want)
				}
				// Every price the model is billed at, those the column may not name too.
				if got, want := spec.ModelPrices(s2.Model(m.Name)), spec.ModelPrices(m); !slices.Equal(got, want) {
					t.Errorf("model %s: billed at %+v after the round trip, want %+v", m.Name, got, want)
				}
			}
			if second := export(t, s2); !bytes.Equal(sheet, second) {
				t.Errorf("round trip changed the worksheet\nfirst:\n%s\nsecond:\n%s", sheet, second)
			}
		})
	}
}

// priceOf writes a model's price overrides as the "model price" column does; "" for none.
func priceOf(m *spec.Model) string {
	if m == nil || m.Price == nil {
		return ""
	}
	return formatPrice(*m.Price)
}

// TestOmitted checks that the sections no worksheet holds are named for a spec that has them.
func TestOmitted(t *testing.T) {
	got := strings.Join(Omitted(load(t, "../examples/support-triage.yaml")), "\n")
	for _, want := range []string{
		"named policies (policies: before-routing) are not in a worksheet: the estimate of a spec imported from it has no rows for them",
		"match rules (match: in intent, extract-order, order-status, sensitive) are not in a worksheet",
		"the default category (draft-reply) is not in a worksheet: the first category becomes the default",
		"golden tests (tests:, 4 of them) are not in a worksheet",
		"descriptions and success criteria are not in a worksheet",
		"review cadences and owners are not in a worksheet",
		"the settings of providers openai, anthropic (API keys, base URLs, timeouts) are not in a worksheet",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Omitted lacks %q:\n%s", want, got)
		}
	}
	if got := strings.Join(Omitted(load(t, "../examples/rag-assistant.yaml")), "\n"); !strings.Contains(got, "pipelines (qa-small-context, qa-many-docs, qa-synthesis) are not in a worksheet") {
		t.Errorf("Omitted does not name the RAG assistant's pipelines:\n%s", got)
	}
	if got := Omitted(load(t, "testdata/fixture.yaml")); strings.Contains(strings.Join(got, "\n"), "policies") {
		t.Errorf("the fixture has no named policies, but Omitted says %q", got)
	}
}
