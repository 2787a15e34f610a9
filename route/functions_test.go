package route_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/route"
	"github.com/clearbar/clearbar/spec"
)

const functionsSpec = `version: 1
name: route-functions
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers: {p: {type: simulated}}
models:
  small: {provider: p, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
categories:
  - name: agent
    share: 0.5
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: small}
    assume: {pass_rate: {small: 0.9}}
    match: {when: 'tools', priority: 1}
  - name: chat
    default: true
    share: 0.5
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: small}
    assume: {pass_rate: {small: 0.9}}
`

// TestFunctionsRouteAsTools: a request offering the deprecated functions, as the gateway
// decodes it, has the tools feature (a 'tools' rule fires) and its definitions count in the
// token estimate, as the same functions sent as tools do.
func TestFunctionsRouteAsTools(t *testing.T) {
	s, err := spec.Parse([]byte(functionsSpec), "route-functions.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := route.New(s)
	if err != nil {
		t.Fatal(err)
	}
	const (
		fn   = `{"name":"lookup_order","description":"Find an order by its number","parameters":{"type":"object","properties":{"order":{"type":"string"}}}}`
		msgs = `"messages":[{"role":"user","content":"Where is order 1234?"}]`
	)
	decode := func(body string) *clearbar.Request {
		t.Helper()
		req, err := gateway.DecodeChatRequest([]byte(body), gateway.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	functions := decode(`{"model":"m","functions":[` + fn + `],"function_call":"auto",` + msgs + `}`)
	tools := decode(`{"model":"m","tools":[{"type":"function","function":` + fn + `}],` + msgs + `}`)
	plain := decode(`{"model":"m",` + msgs + `}`)

	d := &clearbar.Decision{}
	c, err := r.Classify(&route.Input{Request: functions, Header: http.Header{}}, d)
	if err != nil || c.Name != "agent" || !d.Features.Tools {
		t.Errorf("functions: category %v (err %v), features %+v; want agent by the 'tools' rule, tools true", c, err, d.Features)
	}
	want := route.EstimateTokens(plain) + clearbar.TokensOfBytes(len("lookup_order")+len("Find an order by its number")+len(`{"type":"object","properties":{"order":{"type":"string"}}}`)) + 4
	if got := route.EstimateTokens(functions); got != want || got != route.EstimateTokens(tools) {
		t.Errorf("EstimateTokens with functions = %d, want %d, as with tools (%d)", got, want, route.EstimateTokens(tools))
	}
	if d.Features.TokensIn != want {
		t.Errorf("features tokens_in %d, want %d", d.Features.TokensIn, want)
	}
}

// TestFunctionsSkipGemini: the Gemini adapter refuses the deprecated functions, so planning
// leaves a route's Gemini models out of a request that offers them, saying why, and a route of
// Gemini models alone answers 400 naming functions. The same functions sent as tools go to
// Gemini as routed.
func TestFunctionsSkipGemini(t *testing.T) {
	const src = `version: 1
name: route-functions-gemini
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers:
  ge: {type: gemini, api_key: "k"}
  oa: {type: openai, api_key: "k"}
models:
  flash: {provider: ge, model: gemini-2.0-flash, latency: {p50: 1s, p95: 2s}}
  mini: {provider: oa, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
  big: {provider: oa, model: gpt-4o, latency: {p50: 1s, p95: 2s}}
categories:
  - name: agent
    share: 0.5
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: flash}
    fallback: [mini]
    assume: {pass_rate: {flash: 0.9, mini: 0.9}}
  - name: solo
    share: 0.5
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: flash}
    assume: {pass_rate: {flash: 0.9}}
  - name: steps
    share: 0
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {cascade: [mini, big], validate: [{refusal: true}]}
    fallback: [flash]
    assume: {pass_rate: {flash: 0.9, mini: 0.9, big: 0.95}}
`
	s, err := spec.Parse([]byte(src), "route-functions-gemini.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := route.New(s)
	if err != nil {
		t.Fatal(err)
	}
	const fn = `{"name":"lookup_order","parameters":{"type":"object","properties":{"order":{"type":"string"}}}}`
	const msgs = `"messages":[{"role":"user","content":"Where is order 1234?"}]`
	plan := func(category, body string) (*route.Plan, *clearbar.Decision, error) {
		t.Helper()
		req, err := gateway.DecodeChatRequest([]byte(body), gateway.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		d := &clearbar.Decision{}
		p, err := r.Plan(context.Background(), s.Category(category), &route.Input{Request: req, Header: http.Header{}}, nil, d)
		return p, d, err
	}
	p, d, err := plan("agent", `{"model":"m","functions":[`+fn+`],`+msgs+`}`)
	if err != nil || len(p.Steps) != 1 || p.Steps[0].Candidates[0].Name != "mini" {
		t.Fatalf("functions on flash, fallback mini: plan %+v, err %v; want mini alone", p, err)
	}
	if len(d.Skipped) != 1 || d.Skipped[0].Model != "flash" || !strings.Contains(d.Skipped[0].Reason, "deprecated functions") {
		t.Errorf("skips %+v; want flash skipped for the deprecated functions", d.Skipped)
	}
	// flash, the fallback of both steps of a cascade, is left out of each, and the record
	// says so once.
	if _, d, err := plan("steps", `{"model":"m","functions":[`+fn+`],`+msgs+`}`); err != nil || len(d.Skipped) != 1 || d.Skipped[0].Model != "flash" {
		t.Errorf("functions on a cascade with flash as fallback: skips %+v, err %v; want flash once", d.Skipped, err)
	}
	p, _, err = plan("agent", `{"model":"m","tools":[{"type":"function","function":`+fn+`}],`+msgs+`}`)
	if err != nil || p.Steps[0].Candidates[0].Name != "flash" {
		t.Errorf("tools: plan %+v, err %v; want flash first", p, err)
	}
	_, _, err = plan("solo", `{"model":"m","functions":[`+fn+`],`+msgs+`}`)
	var ce *clearbar.Error
	if !errors.As(err, &ce) || ce.Status != 400 || ce.Param != "functions" || !strings.Contains(ce.Message, "send tools") {
		t.Errorf("functions on a Gemini-only route: err %v; want a 400 naming functions", err)
	}

	// Simulated (serve --simulate), the providers route as the types the spec gave them.
	for _, p := range s.Providers {
		p.SimulatedType, p.Type = p.Type, "simulated"
	}
	if r, err = route.New(s); err != nil {
		t.Fatal(err)
	}
	p, d, err = plan("agent", `{"model":"m","functions":[`+fn+`],`+msgs+`}`)
	if err != nil || len(p.Steps) != 1 || p.Steps[0].Candidates[0].Name != "mini" || len(d.Skipped) != 1 || d.Skipped[0].Model != "flash" {
		t.Errorf("simulated: functions on flash, fallback mini: plan %+v, skips %+v, err %v; want mini alone", p, d.Skipped, err)
	}
}
