package eval

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// Limiter bounds the rate of calls to each provider: one token bucket per provider name,
// refilled at the given rate, holding one token, so calls are spaced evenly rather than sent in
// bursts. A nil *Limiter does not limit. A Limiter is safe for concurrent use.
type Limiter struct {
	every time.Duration

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// NewLimiter returns a limiter allowing r.N calls per r.Per to each provider.
func NewLimiter(r spec.Rate) *Limiter {
	return &Limiter{every: r.Per / time.Duration(r.N), buckets: map[string]*rate.Limiter{}}
}

// Wait blocks until a call to the named provider may start, or until ctx ends; then it
// returns an error of class Canceled or Timeout (also when the wait would outlast ctx's
// deadline).
func (l *Limiter) Wait(ctx context.Context, provider string) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	b, ok := l.buckets[provider]
	if !ok {
		b = rate.NewLimiter(rate.Every(l.every), 1)
		l.buckets[provider] = b
	}
	l.mu.Unlock()
	if err := b.Wait(ctx); err != nil {
		class := clearbar.Timeout
		if ctx.Err() != nil {
			class = clearbar.ClassOf(ctx.Err())
		}
		return &clearbar.Error{Class: class, Message: "waiting for the eval's rate limit: " + err.Error(), Provider: provider, Err: err}
	}
	return nil
}

// Wrap returns providers whose calls wait for the limiter first, sharing its buckets: for the
// calls an eval makes outside its runner (judges), so that they count against the same rate.
// A nil *Limiter returns providers unchanged.
func (l *Limiter) Wrap(providers map[string]clearbar.Provider) map[string]clearbar.Provider {
	if l == nil {
		return providers
	}
	out := make(map[string]clearbar.Provider, len(providers))
	for name, p := range providers {
		out[name] = &limitedProvider{Provider: p, l: l, name: name}
	}
	return out
}

// limitedProvider waits for its limiter before every call.
type limitedProvider struct {
	clearbar.Provider
	l    *Limiter
	name string
}

func (p *limitedProvider) Complete(ctx context.Context, call *clearbar.Call) (*clearbar.Response, error) {
	if err := p.l.Wait(ctx, p.name); err != nil {
		return nil, err
	}
	return p.Provider.Complete(ctx, call)
}

func (p *limitedProvider) Stream(ctx context.Context, call *clearbar.Call) (clearbar.Stream, error) {
	if err := p.l.Wait(ctx, p.name); err != nil {
		return nil, err
	}
	return p.Provider.Stream(ctx, call)
}

var _ clearbar.Provider = (*limitedProvider)(nil)
