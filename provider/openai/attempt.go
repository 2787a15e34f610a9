package openai

import (
	"context"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider/internal/inflight"
)

// attempt is one call in flight (see inflight.Attempt) and the adapter that makes it.
type attempt struct {
	*inflight.Attempt
	p *Provider
}

// begin starts an attempt with the model's timeout. ttft, when positive, cancels it unless
// FirstChunk is called in time.
func (p *Provider) begin(parent context.Context, call *clearbar.Call, ttft time.Duration) *attempt {
	return &attempt{Attempt: inflight.Begin(parent, p.name, call, p.timeouts.For(call.Model), ttft), p: p}
}
