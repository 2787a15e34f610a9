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
	resp, err := prov.Complete(ctx, &clearbar.Call{Request: req, Model: m.Model, Judged: judged})
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
