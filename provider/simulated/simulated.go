// Package simulated is a provider that needs no keys and no network: it answers every call
// the way the spec assumes the model would — with the model's latency distribution and
// availability — and injects the failures its simulate: settings ask for (503s, 429s with
// Retry-After, streams cut mid-way, invalid JSON).
//
// Answers are plausible OpenAI documents, not model output: a short text (or simulate.output),
// a JSON document generated from the request's response schema, or a call to the request's
// first (or named) tool with arguments generated from its parameters schema (as
// message.function_call, finish_reason "function_call", when the request offered the
// deprecated functions: clearbar.Request.Functions). Use it for demos,
// gateway tests and fault-injection drills; use the replay provider for recorded real answers.
//
// Usage follows the spec, while the text is a stand-in. In a category of the spec (the call's
// Category), a call reports the output tokens the category assumes, drawn from its tokens.out
// (the number, or the lognormal fitted to its {p50, p95}, as the estimator draws it); for a
// model that bills reasoning tokens, reasoning tokens drawn from tokens.reasoning, counted in
// completion tokens as OpenAI counts them; and, for a model with a cached-input price,
// round(cache_hit × prompt tokens) cached prompt tokens. A request's max tokens bounds the
// output and reasoning tokens together. The ttft latency form generates the drawn tokens, the
// reasoning tokens (which a client never sees) before the first chunk, as the estimator
// reckons time to first byte. So the gateway measures, on average, the cost per call the
// estimate assumed, and completion tokens per call of tokens.out (plus tokens.reasoning where
// billed), whatever the length of the stand-in text. Prompt tokens are always the request's own (PromptTokens), and outside a
// category usage is the stand-in text's (EstimateTokens).
//
// The package also renders answers as OpenAI chat.completion bodies and chat.completion.chunk
// streams (NewCompletion, NewChunkStream) for the replay provider.
package simulated

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/spec"
)

// Provider is a simulated provider. It is safe for concurrent use.
//
// Each call draws its fate from a PCG random source seeded by simulate.seed: with the same
// seed, the same sequence of calls gets the same failures, latencies, token counts and ids
// (concurrent calls take their turns in the order they reach the provider). A call with a Key
// (an eval item's) draws from the seed, the model (the spec model the call names, else the
// model id), the key and the attempt instead, so that it gets the same fate in any order, and
// in a resumed run; a judge's call draws from the id of the answer it judges.
type Provider struct {
	name   string
	sim    spec.Simulate
	scale  float64
	models map[string]*model // by model id: the first spec model with the id
	byName map[string]*model // by spec model name

	mu    sync.Mutex // guards rng and calls
	rng   *rand.Rand
	seed  uint64 // the seed of rng, and of the draws of calls with a key
	calls map[string]int

	quality qualities
}

// model is what the provider assumes about one spec model.
type model struct {
	spec     *spec.Model
	lat      latency
	failRate float64 // the probability of a 503
}

// New builds a simulated provider from its spec settings. Its models are the spec's models
// whose provider is this one. A call that names its spec model (clearbar.Call.SpecModel) is
// answered with that model's assumptions, so that spec models sharing a model id keep their
// own; a call that names only a model id is answered with the assumptions of the first spec
// model with that id. Each model answers with its resolved latency assumption (the default
// one when it has none) and fails with a 503 at simulate.error_rate, or at 1 − its
// availability when no error rate is set.
func New(cfg provider.Config) (clearbar.Provider, error) {
	if cfg.Provider == nil {
		return nil, fmt.Errorf("simulated: no provider settings")
	}
	p := &Provider{
		name:   cfg.Provider.Name,
		models: map[string]*model{},
		byName: map[string]*model{},
		calls:  map[string]int{},
	}
	if cfg.Provider.Simulate != nil {
		p.sim = *cfg.Provider.Simulate
	}
	p.scale = p.sim.TimeScale
	switch {
	case p.scale == 0:
		p.scale = 1
	case p.scale < 0:
		return nil, fmt.Errorf("simulate.time_scale %v cannot be negative", p.scale)
	}
	type rate struct {
		name string
		v    spec.Prob
	}
	rates := []rate{
		{"rate_limit_rate", p.sim.RateLimitRate}, {"cut_rate", p.sim.CutRate},
		{"invalid_json_rate", p.sim.InvalidJSONRate},
	}
	if p.sim.ErrorRate != nil {
		rates = append(rates, rate{"error_rate", *p.sim.ErrorRate})
	}
	for _, r := range rates {
		if !(r.v >= 0 && r.v <= 1) {
			return nil, fmt.Errorf("simulate.%s %v is not a probability between 0 and 1", r.name, float64(r.v))
		}
	}
	seed := p.sim.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	p.seed = seed
	p.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	p.quality = qualities{spec: cfg.Spec, read: cfg.Read}

	if cfg.Spec != nil {
		for _, m := range cfg.Spec.Models {
			if m.Provider.Name != p.name || m.Model == "" {
				continue
			}
			failRate := 1 - availability(m, cfg.Provider)
			if p.sim.ErrorRate != nil {
				failRate = float64(*p.sim.ErrorRate)
			}
			sm := &model{spec: m, lat: newLatency(latencyOf(m)), failRate: failRate}
			p.byName[m.Name] = sm
			if _, dup := p.models[m.Model]; !dup {
				p.models[m.Model] = sm
			}
		}
	}
	return p, nil
}

// availability returns a model's resolved availability, or, for a model built in code that
// the spec loader never resolved, the same fallbacks the loader uses.
func availability(m *spec.Model, p *spec.Provider) float64 {
	if a := m.Resolved.Availability; a > 0 {
		return a
	}
	a := spec.DefaultAvailability
	if p.Availability != nil {
		a = float64(*p.Availability)
	}
	if m.Availability != nil {
		a = float64(*m.Availability)
	}
	return a
}

// latencyOf returns a model's resolved latency assumption, with the loader's fallbacks for a
// model it never resolved.
func latencyOf(m *spec.Model) spec.Latency {
	if l := m.Resolved.Latency; !isZeroLatency(l) {
		return l
	}
	if m.Latency != nil && !isZeroLatency(*m.Latency) {
		return *m.Latency
	}
	return spec.DefaultLatency
}

// Name returns the provider's name in the spec.
func (p *Provider) Name() string { return p.name }

// model returns the assumptions a call is answered with: those of the spec model the call
// names, when it is one of this provider's with the call's model id, else those of the first
// spec model with the id.
func (p *Provider) model(call *clearbar.Call) (*model, bool) {
	if m, ok := p.byName[call.SpecModel]; ok && m.spec.Model == call.Model {
		return m, true
	}
	m, ok := p.models[call.Model]
	return m, ok
}

// Calls returns how many calls the provider has received for a model id: every call to
// Complete and Stream, failed ones and ones for unknown models included.
func (p *Provider) Calls(model string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[model]
}

// plan is one call's fate, drawn before any waiting.
type plan struct {
	fail      *clearbar.Error
	failAfter time.Duration
	answer    Answer
	ttft, gen time.Duration
	cut       bool
	cutAt     float64
}

// prepare counts a call and draws its fate. The draws happen in a fixed order, so that a seed
// reproduces a run.
func (p *Provider) prepare(call *clearbar.Call) (*plan, error) {
	key := call.Key
	if key == "" && call.Judged != nil && call.Judged.ID != "" {
		key = "judge of " + call.Judged.ID
	}
	var s1, s2 uint64
	p.mu.Lock()
	p.calls[call.Model]++
	if key == "" {
		s1, s2 = p.rng.Uint64(), p.rng.Uint64()
	}
	p.mu.Unlock()
	m, ok := p.model(call)
	if key != "" {
		who := call.Model
		if ok && call.SpecModel != "" && m.spec.Name == call.SpecModel {
			who = call.SpecModel
		}
		s1, s2 = keyedSeeds(p.seed, who, key, call.Attempt)
	}
	if !ok {
		e := p.clientError(call.Model, 404, "invalid_request_error", "model %q not found: no model of provider %q has this id in the spec", call.Model, p.name)
		e.Code = "model_not_found"
		return nil, e
	}
	r := rand.New(rand.NewPCG(s1, s2))
	failDraw := r.Float64()

	req := call.Request
	if req == nil {
		req = &clearbar.Request{}
	}
	n := req.N
	if n <= 0 {
		n = 1
	}
	if n > maxChoices {
		return nil, p.clientError(call.Model, 400, "invalid_request_error", "n is %d; at most %d choices can be asked for", n, maxChoices)
	}
	if limit := maxOutput(m.spec); limit > 0 && req.MaxTokens > limit {
		// The vendors refuse what their model cannot write rather than cut it short.
		param := "max_tokens"
		if gjson.GetBytes(req.Body, "max_completion_tokens").Type == gjson.Number {
			param = "max_completion_tokens"
		}
		e := p.clientError(call.Model, 400, "invalid_request_error", "%s is too large: %d. This model supports at most %d completion tokens, whereas you provided %d.", param, req.MaxTokens, limit, req.MaxTokens)
		e.Param, e.Code = param, "invalid_value"
		return nil, e
	}
	out, err := p.makeOutput(req, call.Model, r)
	if err != nil {
		return nil, err
	}
	if call.Judged != nil {
		out = judgeOutput(call.Judged)
	}
	// In a category whose assumptions name this model, the answer is good with the assumed
	// pass rate and fails validation with the assumed detection and false-alarm rates.
	var truth *Simulation
	q := p.quality.lookup(call.Category, m.spec)
	if q != nil {
		q.conform(&out, req)
		if !call.Check { // an agreement check's answer names the question's own option
			good, flagged := q.draw(r)
			if flagged {
				q.violate(&out, req)
			}
			truth = &Simulation{Category: call.Category, Good: good, Flagged: flagged}
		}
	}
	if jsonDraw := r.Float64(); out.json && jsonDraw < float64(p.sim.InvalidJSONRate) {
		out.choice.Text = breakJSON(out.choice.Text)
		// The truth is the answer's as sent: a broken answer is a bad one, and the category's
		// JSON validators fail it.
		if truth != nil {
			truth.Good = false
			truth.Flagged = truth.Flagged || q.checksJSON()
		}
	}
	stopped := stopAt(&out.choice, req.Body)
	limitTokens(&out.choice, req.MaxTokens)
	// Usage: the stand-in answer's own token count, or, in a category of the spec, the tokens
	// the spec assumes (drawn from their own stream; see tokenSalt).
	textTokens := completionTokens(&out.choice)
	// Per choice: the visible and reasoning tokens drawn, and their sum as the estimate reckons.
	tokens, reasoning, meanTokens := textTokens, 0, float64(textTokens)
	usage := clearbar.Usage{PromptTokens: PromptTokens(req), CompletionTokens: tokens * n}
	if tm := p.quality.tokenModel(call.Category, m.spec); tm != nil {
		d := tm.draw(rand.New(rand.NewPCG(s1, s2^tokenSalt)), textTokens, usage.PromptTokens, req.MaxTokens)
		// In OpenAI's accounting completion tokens include reasoning tokens; n choices are
		// n answers generated from one prompt.
		if stopped && out.choice.FinishReason != "length" {
			// A stop sequence ended the answer where the text was cut: the tokens up to it
			// are all it has, however long the answer the spec's tokens would have been.
			d.out, d.capped = min(d.out, textTokens), false
		}
		tokens, reasoning, meanTokens = d.out, d.reasoning, tm.meanTokens(textTokens)
		usage.CompletionTokens, usage.ReasoningTokens, usage.CachedTokens = (d.out+d.reasoning)*n, d.reasoning*n, d.cached
		if d.capped && len(out.choice.ToolCalls) == 0 {
			// The answer the spec's tokens would have given ran into max tokens.
			out.choice.FinishReason = "length"
		}
	}
	choices := make([]clearbar.Choice, n)
	for i := range choices {
		choices[i] = out.choice
		if i > 0 && len(out.choice.ToolCalls) > 0 {
			// Each choice's calls have ids of their own, as a model's do: a client answers
			// the calls of the choice it keeps by their ids.
			choices[i].ToolCalls = slices.Clone(out.choice.ToolCalls)
			for j := range choices[i].ToolCalls {
				choices[i].ToolCalls[j].ID = newID("call_", r)
			}
		}
	}
	ttft, gen := m.lat.sample(r, tokens, reasoning)
	pl := &plan{
		answer: Answer{
			ID:          newID("chatcmpl-", r),
			Model:       call.Model,
			Choices:     choices,
			Functions:   req.Functions,
			Logprobs:    gjson.GetBytes(req.Body, "logprobs").Type == gjson.True && !dropsLogprobs(m.spec),
			TopLogprobs: int(gjson.GetBytes(req.Body, "top_logprobs").Int()),
			Usage:       usage,
			Simulation:  truth,
			LatencyMS:   (ttft + gen) * 1000,
		},
		ttft:      scaled(ttft, p.scale),
		gen:       scaled(gen, p.scale),
		failAfter: scaled(m.lat.failure(meanTokens), p.scale),
		cut:       r.Float64() < float64(p.sim.CutRate),
		cutAt:     r.Float64(),
	}
	switch {
	case failDraw < m.failRate:
		pl.fail = &clearbar.Error{
			Class: clearbar.Overloaded, Status: 503, Type: "server_error",
			Message:  "simulated overload: the model is temporarily unavailable",
			Provider: p.name, Model: call.Model,
		}
	case failDraw < m.failRate+float64(p.sim.RateLimitRate):
		retry := scaled(time.Duration(p.sim.RetryAfter).Seconds(), p.scale)
		pl.fail = &clearbar.Error{
			Class: clearbar.RateLimited, Status: 429, Type: "requests", Code: "rate_limit_exceeded",
			Message:    fmt.Sprintf("simulated rate limit: retry after %s", retry),
			RetryAfter: retry, Provider: p.name, Model: call.Model,
		}
	}
	// A request may ask for a model to fail, to watch a fallback happen (the gateway does not
	// forward clearbar_ metadata to real providers).
	if v := req.Metadata[FailMetadata]; v != "" && (v == call.Model || (m.spec != nil && v == m.spec.Name)) {
		pl.fail = &clearbar.Error{
			Class: clearbar.Overloaded, Status: 503, Type: "server_error",
			Message:  fmt.Sprintf("simulated overload of %s, asked for by the request's %s metadata", v, FailMetadata),
			Provider: p.name, Model: call.Model,
		}
	}
	return pl, nil
}

// maxOutput is the most output tokens a spec model writes (the catalogue's, or the spec's
// max_output), 0 when unknown.
func maxOutput(m *spec.Model) int {
	if m == nil {
		return 0
	}
	return m.Resolved.MaxOutput
}

// FailMetadata is the request metadata key that makes a simulated model fail: every call to
// the model it names (the spec's name or the model id) is answered with a 503, so that the
// request retries and falls back as it would in an outage.
const FailMetadata = "clearbar_simulate_fail"

func (p *Provider) clientError(model string, status int, typ, format string, args ...any) *clearbar.Error {
	e := clearbar.Errorf(clearbar.ClientError, format, args...)
	e.Status, e.Type, e.Provider, e.Model = status, typ, p.name, model
	return e
}

// Complete answers a call after the model's simulated response time (scaled by
// simulate.time_scale), or fails it after the time a failure takes. When ctx ends first, it
// returns at once with an error of class Canceled, or Timeout for a deadline.
//
// Failures are drawn per call, from one draw so that the rates are shares of all calls: a 503
// (class Overloaded) with the model's error rate, a 429 (class RateLimited, with RetryAfter =
// simulate.retry_after, scaled) with simulate.rate_limit_rate (or whatever the error rate
// leaves, when the two add up to more than 1). A JSON answer is truncated into invalid JSON with
// simulate.invalid_json_rate, and its ground truth (Simulation) says so. A call to a model id the spec does not give this provider fails at
// once with a 404 ClientError.
func (p *Provider) Complete(ctx context.Context, call *clearbar.Call) (*clearbar.Response, error) {
	pl, err := p.prepare(call)
	if err != nil {
		return nil, err
	}
	if pl.fail != nil {
		if err := wait(ctx, nil, pl.failAfter); err != nil {
			return nil, ctxError(err, p.name, call.Model)
		}
		return nil, pl.fail
	}
	if err := wait(ctx, nil, pl.ttft+pl.gen); err != nil {
		return nil, ctxError(err, p.name, call.Model)
	}
	return NewCompletion(pl.answer)
}

// Stream answers a call as a stream. Failures are drawn as for Complete and returned by Stream
// itself, after the time a failure takes; a successful stream is returned at once, and its
// first chunk comes after the simulated time to first token, which in the ttft latency form
// includes the time to generate the call's reasoning tokens (failing with a Timeout error
// instead when call.TTFTTimeout is shorter), the rest spread over the generation time. With
// simulate.cut_rate a stream ends part-way with a StreamCut error. The stream honours ctx.
func (p *Provider) Stream(ctx context.Context, call *clearbar.Call) (clearbar.Stream, error) {
	pl, err := p.prepare(call)
	if err != nil {
		return nil, err
	}
	if pl.fail != nil {
		if err := wait(ctx, nil, pl.failAfter); err != nil {
			return nil, ctxError(err, p.name, call.Model)
		}
		return nil, pl.fail
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxError(err, p.name, call.Model)
	}
	return NewChunkStream(ctx, pl.answer, StreamConfig{
		TTFT: pl.ttft, Generation: pl.gen, TTFTTimeout: call.TTFTTimeout,
		Cut: pl.cut, CutAt: pl.cutAt, Provider: p.name,
	}), nil
}

var (
	_ clearbar.Provider    = (*Provider)(nil)
	_ provider.Constructor = New
)

// keyedSeeds derives a call's two PCG seeds from the provider's seed, the model, the call's
// key and its attempt: FNV-1a over them, spread by SplitMix64's finaliser.
func keyedSeeds(seed uint64, model, key string, attempt int) (uint64, uint64) {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(model))
	h.Write([]byte{0})
	h.Write([]byte(key))
	binary.LittleEndian.PutUint64(b[:], uint64(attempt))
	h.Write(b[:])
	x := h.Sum64()
	return splitmix(x), splitmix(x ^ 0x9e3779b97f4a7c15)
}

// splitmix is SplitMix64's finaliser: a bijection that spreads every input bit over the output.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// dropsLogprobs reports whether the model's provider, under serve --simulate, stands for an
// adapter that answers without logprobs (anthropic, gemini): the simulator answers as it
// would, so that a simulated run shows what the real one gives.
func dropsLogprobs(m *spec.Model) bool {
	if m == nil || m.Resolved.Provider == nil {
		return false
	}
	switch m.Resolved.Provider.SimulatedType {
	case "anthropic", "gemini":
		return true
	}
	return false
}
