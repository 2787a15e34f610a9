package validate

import (
	"context"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// ProviderCaller calls models through the providers, for judges and agreement checks. It makes
// one attempt (no retries: a judge or checker that fails leaves the answer unverified, which
// escalates it). Its attempts are of kind clearbar.AttemptJudge; an agreement check marks its
// own clearbar.AttemptCheck.
type ProviderCaller struct {
	Providers map[string]clearbar.Provider
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Call implements Caller.
func (p ProviderCaller) Call(ctx context.Context, m *spec.Model, req *clearbar.Request) (*clearbar.Response, clearbar.Attempt, error) {
	now := p.Now
	if now == nil {
		now = time.Now
	}
	a := clearbar.Attempt{Kind: clearbar.AttemptJudge, Model: m.Name, Provider: m.Provider.Name, UpstreamModel: m.Model, Start: now()}
	prov, ok := p.Providers[m.Provider.Name]
	if !ok {
		err := &clearbar.Error{Class: clearbar.Internal, Message: "no provider " + m.Provider.Name + " for the validator's call"}
		a.Class, a.Error, a.Outcome = err.Class, err.Message, "failed"
		return nil, a, err
	}
	judged, _ := ctx.Value(judgedKey{}).(*clearbar.Response)
	call := &clearbar.Call{Request: req, Model: m.Model, SpecModel: m.Name, Judged: judged}
	if check, _ := ctx.Value(checkKey{}).(bool); check {
		call.Check = true
		call.Category, _ = ctx.Value(categoryKey{}).(string)
	}
	resp, err := prov.Complete(ctx, call)
	a.Latency = now().Sub(a.Start)
	if err != nil {
		e := clearbar.AsError(err)
		a.Class, a.Status, a.Error, a.Outcome = e.Class, e.Status, e.Message, "failed"
		return nil, a, err
	}
	a.Usage, a.Cost, a.Outcome = resp.Usage, m.Cost(resp.Usage), "scored"
	a.UpstreamRequestID = resp.UpstreamRequestID
	return resp, a, nil
}

// WithCategory returns ctx carrying the category of the request being checked, which an
// agreement check's call passes to its provider as the client's request would (the simulated
// provider answers with the category's assumptions).
func WithCategory(ctx context.Context, category string) context.Context {
	return context.WithValue(ctx, categoryKey{}, category)
}

type categoryKey struct{}
