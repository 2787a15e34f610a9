package worksheet

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/estimate"
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
				var q *estimate.PolicyResult
				for _, r := range after.Policies {
					if r.Name == p.Name {
						q = r
					}
				}
				if q == nil {
					t.Errorf("policy %s is missing after the round trip", p.Name)
					continue
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
	if got := Omitted(load(t, "testdata/fixture.yaml")); strings.Contains(strings.Join(got, "\n"), "policies") {
		t.Errorf("the fixture has no named policies, but Omitted says %q", got)
	}
}
