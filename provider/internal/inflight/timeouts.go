package inflight

import (
	"time"

	"github.com/clearbar/clearbar/spec"
)

// Timeouts are a provider's call timeouts: each spec model's own, by the model id it calls on
// the provider, else the provider's. When several spec models name the same model id with
// different timeouts, the longest holds.
type Timeouts struct {
	provider time.Duration
	models   map[string]time.Duration
}

// TimeoutsOf returns the call timeouts of provider sp in spec s (s may be nil: the provider's
// timeout only).
func TimeoutsOf(sp *spec.Provider, s *spec.Spec) Timeouts {
	t := Timeouts{provider: sp.Timeout.D(), models: map[string]time.Duration{}}
	if s != nil {
		for _, m := range s.Models {
			if m.Provider.Name == sp.Name && m.Model != "" && m.Timeout > 0 {
				t.models[m.Model] = max(t.models[m.Model], m.Timeout.D())
			}
		}
	}
	return t
}

// For returns the call timeout for a model id, 0 for none.
func (t Timeouts) For(model string) time.Duration {
	if d, ok := t.models[model]; ok {
		return d
	}
	return t.provider
}
