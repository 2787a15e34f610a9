package route

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

// In the price catalogue, watsonx/ibm/granite-3-8b-instruct says it takes no image or audio
// input and o3-mini no image input (supports_vision false); gpt-4o-mini and
// gpt-4o have it; my-local-llava is not in it at all.
const capabilityBase = `version: 1
name: capability-test
review: {last: 2026-11-01, cadence: monthly}
providers: {p: {type: simulated}, q: {type: simulated}}
models:
  nano:   {provider: p, model: watsonx/ibm/granite-3-8b-instruct, latency: {p50: 1s, p95: 2s}}
  mini:   {provider: p, model: o3-mini, latency: {p50: 1s, p95: 2s}}
  vision: {provider: q, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
  tiny:   {provider: q, model: gpt-4o, latency: {p50: 1s, p95: 2s}, context_window: 1000}
  local:  {provider: p, model: my-local-llava, price: {input: 0.1, output: 0.1}, latency: {p50: 1s, p95: 2s}}
categories:
  - name: cascade
    default: true
    share: 0.2
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {cascade: [nano, vision]}
    assume: {pass_rate: {nano: 0.9, vision: 0.9}}
  - name: fallback
    share: 0.2
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: nano}
    fallback: [mini, vision]
    assume: {pass_rate: {nano: 0.9, mini: 0.9, vision: 0.9}}
  - name: local
    share: 0.2
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: local}
    assume: {pass_rate: {local: 0.9}}
  - name: textonly
    share: 0.1
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {cascade: [nano, mini]}
    assume: {pass_rate: {nano: 0.9, mini: 0.9}}
  - name: tinyonly
    share: 0.1
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {cascade: [nano, tiny]}
    assume: {pass_rate: {nano: 0.9, tiny: 0.9}}
  - name: score
    share: 0.1
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route:
      score: {heuristic: {tiers: [0.2, 0.4]}, models: [nano, mini, vision]}
      validate: [{max_length: 2000}]
    assume: {pass_rate: {nano: 0.7, mini: 0.8, vision: 0.9}}
  - name: score-unvalidated
    share: 0.1
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {score: {heuristic: {tiers: [0.2, 0.4]}, models: [nano, mini, vision]}}
    assume: {pass_rate: {nano: 0.7, mini: 0.8, vision: 0.9}}
`

// multimodal is a two-turn request whose first user message carries parts of the given types.
func multimodal(text string, parts ...string) *Input {
	var att []clearbar.Attachment
	for _, p := range parts {
		att = append(att, clearbar.Attachment{Type: p, Size: 4000})
	}
	return &Input{Header: http.Header{}, Request: &clearbar.Request{Model: "m", Messages: []clearbar.Message{
		{Role: "user", Text: text, Attachments: att},
		{Role: "assistant", Text: "Got it."},
		{Role: "user", Text: "What is the capital of France?"},
	}}}
}

func TestCapabilityRouting(t *testing.T) {
	r := newRouter(t, capabilityBase)
	for _, tc := range []struct {
		name, category string
		parts          []string
		text           string // first message; "" for a short one
		open           openBreakers
		plan           string // d.Plan after skips
		skipped        string // "model: reason" of each skip, joined by " | " (reasons may be prefixes)
		err            clearbar.FailureClass
		errHas         string
		why            string
	}{
		{name: "image skips text-only cascade step", category: "cascade", parts: []string{"image_url"},
			plan: "vision", skipped: "nano: no image input (catalogue entry watsonx/ibm/granite-3-8b-instruct: supports_vision false)",
			why: "the catalogue entry exists and lacks supports_vision, so the cascade starts at the next step"},
		{name: "image skips text-only fallbacks", category: "fallback", parts: []string{"image_url"},
			plan: "vision", skipped: "nano: no image input | mini: no image input (catalogue entry o3-mini",
			why: "the same skip applies inside a failover chain: the plan goes to the first capable fallback"},
		{name: "text-only request unaffected", category: "fallback",
			plan: "nano,mini,vision",
			why:  "no image parts, so no catalogue flag is consulted"},
		{name: "model absent from the catalogue not skipped", category: "local", parts: []string{"image_url"},
			plan: "local",
			why:  "a model priced in the spec has no catalogue entry; unknown means capable"},
		{name: "audio skips a model that says it takes none", category: "fallback", parts: []string{"input_audio"},
			plan: "mini,vision", skipped: "nano: no audio input (catalogue entry watsonx/ibm/granite-3-8b-instruct: supports_audio_input false)",
			why: "granite's entry sets supports_audio_input false; o3-mini's leaves it out, which says nothing, so mini stays"},
		{name: "file not stated", category: "fallback", parts: []string{"file"},
			plan: "nano,mini,vision",
			why:  "no entry here sets supports_pdf_input, and a flag left out never skips a model"},
		{name: "image with audio", category: "cascade", parts: []string{"input_audio", "image_url"},
			plan: "vision", skipped: "nano: no image input",
			why: "the first lacking input names the skip; its position among the parts does not matter"},
		{name: "score route start skipped", category: "score", parts: []string{"image_url"},
			plan: "vision", skipped: "nano: no image input | mini: no image input",
			why: "the heuristic starts at nano for an easy prompt; the skip applies to the start's plan"},
		{name: "unvalidated score route moves its start", category: "score-unvalidated", parts: []string{"image_url"},
			plan: "vision", skipped: "nano: no image input | mini: no image input | nano: the score's start cannot take the request; starting at vision",
			why: "without validation a score route's plan is its start alone; a start that cannot take the request gives way to the next dearer model that can"},
		{name: "no capable model", category: "textonly", parts: []string{"image_url"},
			err: clearbar.ClientError, errHas: `image input, which no model on category "textonly"'s route takes`,
			why: "as when no context window fits: no call is made and the client gets a 400"},
		{name: "no capable model, the rest too small", category: "tinyonly", parts: []string{"image_url"}, text: strings.Repeat("abcd", 1000),
			err: clearbar.ClientError, errHas: "some lack image input (by the price catalogue's supports_vision), the others are too small",
			why: "nano lacks vision, tiny's 1,000-token window is too small: nothing can take it"},
		{name: "every breaker open fails open on a capable model", category: "fallback", parts: []string{"image_url"}, open: openBreakers{"q/vision": true},
			plan: "vision", skipped: "nano: no image input | mini: no image input | vision: breaker open | vision: every candidate was left out; trying it anyway",
			why: "failing open never picks a model the catalogue says cannot take the request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := tc.text
			if text == "" {
				text = "Describe this."
			}
			in := multimodal(text, tc.parts...)
			d := &clearbar.Decision{}
			features(in, &d.Features)
			var h Health
			if tc.open != nil {
				h = tc.open
			}
			p, err := r.Plan(context.Background(), r.Spec().Category(tc.category), in, h, d)
			if tc.err != clearbar.OK {
				if clearbar.ClassOf(err) != tc.err || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("err %v (class %v), want %v containing %q (%s)", err, clearbar.ClassOf(err), tc.err, tc.errHas, tc.why)
				}
				return
			}
			if err != nil {
				t.Fatalf("err %v (%s)", err, tc.why)
			}
			if got := strings.Join(d.Plan, ","); got != tc.plan {
				t.Errorf("plan %s, want %s (%s)", got, tc.plan, tc.why)
			}
			var names []string
			for _, st := range p.Steps {
				for _, m := range st.Candidates {
					names = append(names, m.Name)
				}
			}
			if got := strings.Join(names, ","); got != tc.plan {
				t.Errorf("plan steps %s, decision plan %s (%s)", got, tc.plan, tc.why)
			}
			want := []string{}
			if tc.skipped != "" {
				want = strings.Split(tc.skipped, " | ")
			}
			if len(d.Skipped) != len(want) {
				t.Fatalf("skipped %v, want %q (%s)", d.Skipped, tc.skipped, tc.why)
			}
			for i, s := range d.Skipped {
				if got := s.Model + ": " + s.Reason; !strings.HasPrefix(got, want[i]) {
					t.Errorf("skip %d: %q, want prefix %q (%s)", i, got, want[i], tc.why)
				}
			}
		})
	}
}

// A text-only request adds no allocations to a plan that skips nothing.
func TestCapabilityTextOnlyAllocs(t *testing.T) {
	r := newRouter(t, capabilityBase)
	c := r.Spec().Category("fallback")
	in := multimodal("Describe this.")
	d := &clearbar.Decision{}
	features(in, &d.Features)
	if n := testing.AllocsPerRun(100, func() {
		d.Skipped = d.Skipped[:0]
		if _, err := r.Plan(context.Background(), c, in, nil, d); err != nil {
			t.Fatal(err)
		}
	}); n > 1 {
		t.Errorf("%v allocations per plan, want 1 (the Plan)", n)
	}
}
