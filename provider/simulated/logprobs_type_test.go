package simulated_test

import (
	"context"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/simulated"
	"github.com/clearbar/clearbar/spec"
)

// TestLogprobsAsTheProviderTypeGives: under serve --simulate a provider keeps the type the spec
// gave it, and the simulator answers as its adapter would: logprobs for an OpenAI-type
// provider, none for an Anthropic or Gemini one, whose adapters answer without them.
func TestLogprobsAsTheProviderTypeGives(t *testing.T) {
	for typ, want := range map[string]bool{"": true, "openai": true, "anthropic": false, "gemini": false} {
		s, err := spec.Parse([]byte(tokenSpec), "tokens.yaml", spec.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s.Provider("sim").SimulatedType = typ
		p, err := simulated.New(provider.Config{Provider: s.Provider("sim"), Spec: s})
		if err != nil {
			t.Fatal(err)
		}
		req := promptOf(20)
		req.Body = []byte(`{"logprobs": true}`)
		resp, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: "sim-plain", Category: "fixed"})
		if err != nil {
			t.Fatal(err)
		}
		if got := gjson.GetBytes(resp.Body, "choices.0.logprobs").IsObject(); got != want {
			t.Errorf("provider type %q: logprobs given %v, want %v: %s", typ, got, want, resp.Body)
		}
	}
}
