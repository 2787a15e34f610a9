package estimate

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

const threeCategories = `version: 1
name: three
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers: {openai: {type: openai, api_key: "${OPENAI_API_KEY}"}}
models:
  nano: {provider: openai, model: gpt-4.1-nano, latency: {ttft: {p50: 300ms, p95: 900ms}, tokens_per_second: 150}}
categories:
  - {name: a, share: 0.4, tokens: {in: 100, out: 50}, quality_bar: 0.5, route: {cascade: [nano]}, assume: {pass_rate: {nano: 0.9}}}
  - {name: b, share: 0.3, tokens: {in: 100, out: 50}, quality_bar: 0.5, route: {cascade: [nano]}, assume: {pass_rate: {nano: 0.9}}}
  - {name: c, share: 0.3, tokens: {in: 100, out: 50}, quality_bar: 0.5, route: {cascade: [nano]}, assume: {pass_rate: {nano: 0.9}}}
`

// TestSamplesAsAsked: a policy draws exactly the Monte Carlo samples asked for when they do
// not divide evenly over the categories (the first categories take one more each), and the
// report says that number; a number below the per-category floor is raised, and says so.
func TestSamplesAsAsked(t *testing.T) {
	s := parse(t, threeCategories)
	for _, tt := range []struct {
		asked, drawn int
		note         bool
	}{
		{0, DefaultSamples, false},
		{100_000, 100_000, false},
		{100_001, 100_001, false},
		{1_000, 3 * MinCategorySamples, true},
	} {
		r, err := Run(context.Background(), s, Options{Samples: tt.asked, Today: testDay})
		if err != nil {
			t.Fatal(err)
		}
		if r.Samples != tt.drawn {
			t.Errorf("asked %d: the report says %d samples per policy; want %d", tt.asked, r.Samples, tt.drawn)
		}
		for _, p := range r.Policies {
			n := 0
			for _, c := range p.Categories {
				n += c.Simulated.Samples
			}
			if n != tt.drawn {
				t.Errorf("asked %d: policy %s drew %d samples; want %d", tt.asked, p.Name, n, tt.drawn)
			}
		}
		noted := strings.Contains(strings.Join(r.Notes, "\n"), "Monte Carlo samples per policy, not the")
		if noted != tt.note {
			t.Errorf("asked %d: notes %q; want a note of the samples drawn %v", tt.asked, r.Notes, tt.note)
		}
		var b bytes.Buffer
		if err := WriteText(&b, r); err != nil {
			t.Fatal(err)
		}
		if want := groupInt(int64(tt.drawn)) + " Monte Carlo samples per policy"; !strings.Contains(b.String(), want) {
			t.Errorf("asked %d: the text report does not say %q", tt.asked, want)
		}
	}
}
