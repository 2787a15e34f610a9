package route

import (
	"cmp"

	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/translate"
)

// Plan is the ordered list of steps a request may take. Each step has a model and its
// failover chain; a cascade has several steps, a static route one. The engine walks it: it
// fails over within a step on provider errors and moves to the next step on validation
// failures (or when a whole step's chain failed).
//
// A Plan may share its slices with the router's precomputed plans: it is read-only.
type Plan struct {
	Category *spec.Category
	// Route is the route followed (for a split, the chosen arm's route); Arm is the arm's index,
	// or -1.
	Route *spec.Route
	Arm   int
	Steps []Step
	// Retries and Backoff are the category's provider-failure retry policy.
	Retries int
	Backoff time.Duration
	// FailWhenExhausted says a request whose every step failed validation fails, rather than
	// delivering the last answer flagged.
	FailWhenExhausted bool
}

// Step is one step: the model to call and the models to fail over to, in order.
type Step struct {
	Candidates []*spec.Model
	Validate   []*spec.Validator
	RetryOnce  bool
	// Index is the step's place among the route's steps, from 0, and Positions are the
	// candidates' places in the step's failover chain (nil: as listed). They differ from the
	// places in the Plan when Plan left models out because their breakers were open (not
	// those it left out because they cannot take the request: a context window too small, an
	// input a model lacks), and they say what calling a candidate is: the first step's first
	// model is the primary, a later step's first model an escalation, any other model a
	// fallback, also when the models before it were left out for their breakers.
	Index     int
	Positions []int
}

// Position returns the place of the step's ith candidate in its failover chain.
func (s *Step) Position(i int) int {
	if s.Positions == nil {
		return i
	}
	return s.Positions[i]
}

// Health tells the planner which upstreams to leave out. Open reports whether the breaker of
// provider/model is open, and a reason for the decision record.
type Health interface {
	Open(key string) (open bool, reason string)
}

// Breakers is a Health that also admits the calls the router makes itself (a score route's
// embeddings call) and takes their outcomes, as the gateway's chat attempts report theirs.
// Plan uses it when its Health implements it.
type Breakers interface {
	Health
	// Allow reports whether a call to provider/model key may go out now (false while its
	// breaker is open). When ok, done must be called once, when the call has finished, with
	// its outcome class (OK for a success).
	Allow(key string) (done func(clearbar.FailureClass), ok bool)
}

// ProbeInFlight is the reason a decision records for a model that was not called because its
// circuit breaker is half-open and lets no call through: the probe request it admits to test
// the upstream is in flight.
const ProbeInFlight = "circuit breaker half-open: its probe request is in flight"

// FailedOpen is the reason a decision records for the model a plan kept although every
// candidate was left out (some for their open breakers): it is tried anyway.
const FailedOpen = "every candidate was left out; trying it anyway"

// Key is the health key of a model: "provider/model".
func Key(m *spec.Model) string { return m.Provider.Name + "/" + m.Name }

// catPlan is a category's precomputed plan: one per split arm (one arm for other routes).
type catPlan struct {
	arms    []armPlan
	weights []float64 // cumulative
	retries int
	backoff time.Duration
}

type armPlan struct {
	route *spec.Route
	steps []Step
	names []string // every candidate, in order, for the decision record
	label string
	desc  string // the route described for the decision record, built once
	// score, for score routes, holds the plans of each starting model; steps is then empty.
	score *scorePlan
}

func newCatPlan(s *spec.Spec, c *spec.Category, o Options) (*catPlan, error) {
	cp := &catPlan{}
	cp.retries, cp.backoff = s.RetryPolicy(c)
	if c.Route == nil {
		return cp, nil
	}
	if len(c.Route.Split) > 0 {
		var cum float64
		for i, a := range c.Route.Split {
			cum += a.Weight
			cp.weights = append(cp.weights, cum)
			ap, err := newArmPlan(s, c, &a.Route, o)
			if err != nil {
				return nil, err
			}
			ap.label = fmt.Sprintf("arm %d (%s): %s", i+1, spec.PercentText(a.Weight), describe(&a.Route))
			cp.arms = append(cp.arms, ap)
		}
		return cp, nil
	}
	ap, err := newArmPlan(s, c, c.Route, o)
	if err != nil {
		return nil, err
	}
	cp.arms = []armPlan{ap}
	cp.weights = []float64{1}
	return cp, nil
}

func newArmPlan(s *spec.Spec, c *spec.Category, r *spec.Route, o Options) (armPlan, error) {
	if r.Score != nil {
		sp, err := newScorePlan(s, c, r, o)
		if err != nil {
			return armPlan{}, err
		}
		return armPlan{route: r, score: sp, desc: describe(r)}, nil
	}
	return newStepsPlan(s, c, r, r.Steps(s)), nil
}

// newStepsPlan precomputes the plan of a route's steps, each with its failover chain.
func newStepsPlan(s *spec.Spec, c *spec.Category, r *spec.Route, steps []spec.PlanStep) armPlan {
	ap := armPlan{route: r, desc: describe(r)}
	later := map[string]bool{}
	for _, st := range steps {
		later[st.Model.Name] = true
	}
	for i, st := range steps {
		delete(later, st.Model.Name)
		isLater := func(m *spec.Model) bool { return later[m.Name] }
		cands := append([]*spec.Model{st.Model}, s.FailoverChain(st.Model, c.Fallback, isLater)...)
		ap.steps = append(ap.steps, Step{Candidates: cands, Validate: st.Validate, RetryOnce: st.RetryOnce, Index: i})
		for _, m := range cands {
			ap.names = append(ap.names, m.Name)
		}
	}
	return ap
}

func describe(r *spec.Route) string {
	switch r.Kind() {
	case "cascade":
		s := "cascade"
		for i, st := range r.Cascade {
			if i == 0 {
				s += " " + st.Model.Name
			} else {
				s += " → " + st.Model.Name
			}
		}
		return s
	case "split":
		return "split"
	case "score":
		return "score " + r.Score.Describe()
	}
	return r.Model.Name
}

type armKey struct{}

// WithArm returns a context under which Plan takes arm i (0 for the first) of a split route
// instead of drawing one, so that golden tests can check every arm's plan. Routes without a
// split, and an i they do not have, ignore it.
func WithArm(ctx context.Context, i int) context.Context {
	return context.WithValue(ctx, armKey{}, i)
}

// Plan builds the plan for a request in category c: it picks a split arm (weighted, drawn at
// random for each request, so that the same request can take different arms; see WithArm),
// leaves out models whose context window is too small for the request, models whose catalogue
// entry says they cannot take one of its inputs (images; see modalities) and models whose breaker
// is open, and records the route, plan and skipped models in d. h may be nil.
//
// A score route whose learned router was trained with embeddings embeds the request first,
// within ctx and the route's embed_timeout (see Offline); no other route does I/O. It skips
// the call when h says the embedding model's breaker is open, and reports the call's outcome
// when h is also Breakers.
//
// When every candidate is left out because breakers are open, the plan keeps the first
// candidate anyway (failing open: a breaker that is wrong costs one call, a gateway that
// refuses everything costs the service); that candidate must still fit the context window and
// take the request's inputs. When no candidate does, Plan returns an error: of class
// ContextTooLong when only context windows left them out, else a 400 ClientError naming the
// input the catalogue says they lack.
func (r *Router) Plan(ctx context.Context, c *spec.Category, in *Input, h Health, d *clearbar.Decision) (*Plan, error) {
	cp := r.plans[c]
	if len(cp.arms) == 0 {
		return nil, &clearbar.Error{Class: clearbar.Internal, Message: fmt.Sprintf("category %q has no route", c.Name)}
	}
	arm := 0
	if len(cp.arms) > 1 {
		if i, ok := ctx.Value(armKey{}).(int); ok && i >= 0 && i < len(cp.arms) {
			arm = i
		} else {
			u := rand.Float64() * cp.weights[len(cp.weights)-1]
			for i, w := range cp.weights {
				if u < w {
					arm = i
					break
				}
			}
		}
		d.Arm = cp.arms[arm].label
	}
	ap := &cp.arms[arm]
	if pin, ok := r.pinned[in.Request.Model]; ok {
		// The client named one of the spec's models (as GET /v1/models lists them): it gets
		// that model, with its own fallbacks, unvalidated. The category still records why
		// the request is here.
		ap, arm = pin, 0
		d.Arm = ""
	}
	var scoreStarts []armPlan // a score route's plans by starting model, cheapest first
	scoreStart := 0
	if ap.score != nil {
		text, system := scoreText(in.Request)
		d.Score = new(clearbar.Score)
		if hs, ok := ap.score.scorer.(healthScorer); ok {
			scoreStart = hs.startHealth(ctx, h, text, system, d.Features.TokensIn, d.Score)
		} else {
			scoreStart = ap.score.scorer.Start(ctx, text, system, d.Features.TokensIn, d.Score)
		}
		scoreStarts = ap.score.starts
		ap = &scoreStarts[scoreStart]
	}
	p := &Plan{Category: c, Route: ap.route, Arm: -1, Steps: ap.steps, Retries: cp.retries, Backoff: cp.backoff,
		FailWhenExhausted: ap.route.FailsWhenExhausted()}
	if len(cp.arms) > 1 && ap != r.pinned[in.Request.Model] {
		p.Arm = arm
	}
	d.Route = ap.desc
	d.Plan = ap.names

	need := d.Features.TokensIn + in.Request.MaxTokens
	carries := modalitiesOf(in.Request)
	filtered, why := fitSteps(ap, h, d, need, carries, in.Request)
	// A score route whose start cannot take the request at all (too long, or an input the
	// start's models lack; not breakers, which fail open below) starts on the next dearer
	// model that can, and says so. fitSteps returns nil steps when it left nothing out.
	noneFit := func(steps []Step, why misfit) bool { return steps != nil && len(steps) == 0 && why.open == 0 }
	for next := scoreStart + 1; scoreStarts != nil && noneFit(filtered, why) && next < len(scoreStarts); next++ {
		alt := &scoreStarts[next]
		f, w := fitSteps(alt, h, d, need, carries, in.Request)
		if noneFit(f, w) {
			continue
		}
		d.Skipped = append(d.Skipped, clearbar.Skip{Model: ap.names[0], Reason: "the score's start cannot take the request; starting at " + alt.names[0]})
		ap, filtered, why = alt, f, w
		d.Route = ap.desc
		p.Route, p.Steps, p.FailWhenExhausted = ap.route, ap.steps, ap.route.FailsWhenExhausted()
		d.Plan = ap.names
	}
	if filtered == nil {
		return p, nil
	}
	if len(filtered) == 0 {
		if why.open == 0 {
			return nil, unfit(unfitWhere(c, r.pinned[in.Request.Model] == ap, ap), need, in.Request, why)
		}
		// Every breaker is open (or some mix): fail open on the first candidate that fits.
		for _, st := range ap.steps {
			for j, m := range st.Candidates {
				if w := m.Resolved.ContextWindow; (w == 0 || need <= w) && !writesLess(m, in.Request) && lacking(m, carries) == nil && func() bool { p, _ := refusedParam(m, in.Request); return p == "" }() {
					d.Skipped = append(d.Skipped, clearbar.Skip{Model: m.Name, Reason: FailedOpen})
					filtered = []Step{{Candidates: []*spec.Model{m}, Validate: st.Validate, RetryOnce: st.RetryOnce,
						Index: st.Index, Positions: []int{j}}}
					break
				}
			}
			if len(filtered) > 0 {
				break
			}
		}
		if len(filtered) == 0 {
			return nil, unfit(unfitWhere(c, r.pinned[in.Request.Model] == ap, ap), need, in.Request, why)
		}
	}
	p.Steps = filtered
	names := make([]string, 0, len(ap.names))
	for _, st := range filtered {
		for _, m := range st.Candidates {
			names = append(names, m.Name)
		}
	}
	d.Plan = names
	return p, nil
}

// misfit says why fitSteps left models out: what the request carries that some lack, a
// parameter some refuse (see refusedParam), how many models were too small for it and how
// many write fewer tokens than its max tokens (the most of those in writes), and how many
// breakers were open.
type misfit struct {
	lacked *modality
	param  string
	// simulated says a simulated provider refused param (a thread, which it cannot keep).
	simulated bool
	// refusal is the adapter's own error when a model was left out for param by its adapter's
	// check (the translation into Anthropic's form, or the Gemini adapter's: see refusal).
	refusal         *clearbar.Error
	tooSmall, short int
	writes          int
	open            int
}

// MaxTokensParam names the max tokens parameter as the client sent it: max_completion_tokens
// when an OpenAI client sent that, else max_tokens. An Anthropic client's max_tokens reaches
// the router translated into max_completion_tokens, in a body that carries the Anthropic
// sidecar (translate.AnthropicKey).
func MaxTokensParam(req *clearbar.Request) string {
	if gjson.GetBytes(req.Body, "max_completion_tokens").Type == gjson.Number && !gjson.GetBytes(req.Body, translate.AnthropicKey).Exists() {
		return "max_completion_tokens"
	}
	return "max_tokens"
}

// writesLess reports whether m's maximum output (the catalogue's, or the spec's max_output)
// is below the request's max tokens: the vendors refuse such a request rather than cut it
// short.
// sizeFit says whether m can hold req as the request's size and inputs go, the first way it
// cannot (fitWindow: its context window is under need; fitOutput: it writes fewer tokens than
// the request's max tokens; fitInput: it takes no input of a kind carries holds, which it
// returns), or fitOK. Planning (fitSteps) says why; avoidsDropping needs only whether.
func sizeFit(m *spec.Model, need int, carries modalitySet, req *clearbar.Request) (fitKind, *modality) {
	if w := m.Resolved.ContextWindow; w > 0 && need > w {
		return fitWindow, nil
	}
	if writesLess(m, req) {
		return fitOutput, nil
	}
	if l := lacking(m, carries); l != nil {
		return fitInput, l
	}
	return fitOK, nil
}

// fitKind is how a model fails to hold a request (see sizeFit).
type fitKind uint8

const (
	fitOK fitKind = iota
	fitWindow
	fitOutput
	fitInput
)

func writesLess(m *spec.Model, req *clearbar.Request) bool {
	mo := m.Resolved.MaxOutput
	return mo > 0 && req.MaxTokens > mo
}

// unfit is the error for a request that no model on c's route can take: need tokens are more
// than every context window, or its max tokens more than every model writes, or (lacked
// non-nil) some models cannot take the lacked input and the others are too small, or (param
// not "") it carries a parameter the route's models refuse (see refusedParam) and those that
// take it, if any, could not take the request either.
func unfit(where string, need int, req *clearbar.Request, why misfit) error {
	lacked, param, tooSmall := why.lacked, why.param, why.tooSmall
	if param == "" && lacked == nil && why.short > 0 {
		name := MaxTokensParam(req)
		msg := fmt.Sprintf("%s is %d, more than any model on %s writes (the most is %d tokens): lower it", name, req.MaxTokens, where, why.writes)
		if tooSmall > 0 {
			msg = fmt.Sprintf("no model on %s can take the request: some write fewer tokens than its %s of %d (the most is %d), the others are too small for its about %d tokens: lower %s",
				where, name, req.MaxTokens, why.writes, need, name)
		}
		return &clearbar.Error{Class: clearbar.ClientError, Status: 400, Type: "invalid_request_error", Param: name, Code: "invalid_value", Message: msg}
	}
	if why.refusal != nil {
		// As the adapter answers it.
		e := *why.refusal
		return &e
	}
	switch param {
	case "":
	case "functions":
		return &clearbar.Error{Class: clearbar.ClientError, Status: 400, Type: "invalid_request_error", Param: param, Code: "unsupported_parameter",
			Message: fmt.Sprintf("the request has the deprecated functions, which no model on %s takes (Gemini models take tools): send tools and tool_choice", where)}
	case "thread":
		// Code is Anthropic's error_code for a request Threads cannot serve, which the Anthropic
		// SDKs read to send it again without thread (gateway.writeAnthropicError puts it in
		// error.details).
		if why.simulated {
			return &clearbar.Error{Class: clearbar.ClientError, Status: 400, Type: "invalid_request_error", Param: param, Code: "thread_unsupported_request",
				Message: fmt.Sprintf("the request has thread, which continues a conversation Anthropic's API keeps, and the models on %s are simulated, which keep none: send the whole conversation in messages, or route to an Anthropic model", where)}
		}
		return &clearbar.Error{Class: clearbar.ClientError, Status: 400, Type: "invalid_request_error", Param: param, Code: "thread_unsupported_request",
			Message: fmt.Sprintf("the request has %s, which only Anthropic models take, and no Anthropic model on %s can take it", cmp.Or(req.AnthropicOnlyWhat, param), where)}
	case "web_search_options":
		return &clearbar.Error{Class: clearbar.ClientError, Status: 400, Type: "invalid_request_error", Param: param, Code: "unsupported_parameter",
			Message: fmt.Sprintf("the request asks for a web search (web_search_options) and offers tools, which no model on %s takes together (Gemini models before Gemini 3 refuse the two in one request): send one of them, or route to a model that takes both", where)}
	default:
		return &clearbar.Error{Class: clearbar.ClientError, Status: 400, Type: "invalid_request_error", Param: param, Code: "unsupported_parameter",
			Message: fmt.Sprintf("the request has %s, which only Anthropic models take, and no Anthropic model on %s can take it", cmp.Or(req.AnthropicOnlyWhat, param), where)}
	}
	if lacked == nil {
		return &clearbar.Error{Class: clearbar.ContextTooLong, Status: 400, Param: "messages", Code: "context_length_exceeded",
			Message: fmt.Sprintf("the request needs about %d tokens, more than any model on %s can take", need, where)}
	}
	msg := fmt.Sprintf("the request has %s, which no model on %s takes (by the price catalogue's %s)", lacked.name, where, lacked.flag)
	if tooSmall > 0 {
		msg = fmt.Sprintf("no model on %s can take the request: some lack %s (by the price catalogue's %s), the others are too small for its about %d tokens", where, lacked.name, lacked.flag, need)
	}
	return &clearbar.Error{Class: clearbar.ClientError, Status: 400, Type: "invalid_request_error", Param: "messages", Code: "unsupported_input", Message: msg}
}

// unfitWhere names, for unfit's errors, the models a request was planned on: category c's
// route, or, when the request named one of the spec's models, that model and its fallbacks.
func unfitWhere(c *spec.Category, pinned bool, ap *armPlan) string {
	switch {
	case pinned && len(ap.names) == 1:
		return fmt.Sprintf("the route of model %s, which the request names,", ap.names[0])
	case pinned && len(ap.names) > 1:
		return fmt.Sprintf("the route of model %s (falling back to %s), which the request names,", ap.names[0], strings.Join(ap.names[1:], ", "))
	}
	return fmt.Sprintf("category %q's route", c.Name)
}

// scoreText returns what a score router reads: the last user message and the system prompt.
func scoreText(r *clearbar.Request) (text, system string) {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			text = r.Messages[i].Text
			break
		}
	}
	for i := range r.Messages {
		if m := &r.Messages[i]; m.Role == "system" || m.Role == "developer" {
			system = m.Text
			break
		}
	}
	return text, system
}

// fitSteps returns ap's steps without the candidates that cannot take the request (its need
// in tokens is over their context window, it carries an input they lack, or a parameter their
// adapter refuses: see refusedParam; or, while another model can take the request, it asks for
// something in the answer their adapter drops: see drops) or whose breaker is open,
// recording each skip in d. It returns nil steps when nothing was left out (the precomputed
// steps are shared), with what was lacking, the parameter when a model was left out for it,
// how many models were too small and how many breakers were open. A model left out because its breaker is open keeps its place:
// the candidates after it keep theirs (Step.Positions) and, when a whole step goes, the steps
// after it theirs (Step.Index), so that calling them is a fallback or an escalation. A model
// left out because it cannot take the request (its context window, an input it lacks) is as if
// the route did not list it.
func fitSteps(ap *armPlan, h Health, d *clearbar.Decision, need int, carries modalitySet, req *clearbar.Request) (filtered []Step, why misfit) {
	dropped := 0 // earlier steps left out whole for what they cannot take, none for a breaker
	avoid := avoidsDropping(ap, h, need, carries, req)
	for i, st := range ap.steps {
		var keep []*spec.Model
		var positions []int // of keep, once a candidate was left out
		unfit := 0          // candidates left out so far for what they cannot take
		broken := false     // a candidate was left out for its open breaker
		for j, m := range st.Candidates {
			reason, breaker := "", false
			size, l := sizeFit(m, need, carries, req)
			if size == fitWindow {
				reason = fmt.Sprintf("context window %d tokens < %d needed (estimated input %d + max tokens %d)", m.Resolved.ContextWindow, need, d.Features.TokensIn, need-d.Features.TokensIn)
				why.tooSmall++
			} else if size == fitOutput {
				reason = fmt.Sprintf("maximum output %d tokens < max tokens %d", m.Resolved.MaxOutput, req.MaxTokens)
				why.short++
				why.writes = max(why.writes, m.Resolved.MaxOutput)
			} else if size == fitInput {
				reason = fmt.Sprintf("no %s (catalogue entry %s: %s false)", l.name, m.Resolved.Catalog.Key, l.flag)
				why.lacked = l
			} else if pa, refused, e := refusal(m, req); pa != "" {
				reason, why.param, why.refusal = refused, pa, e
				why.simulated = why.simulated || m.Resolved.Provider != nil && cmp.Or(m.Resolved.Provider.SimulatedType, m.Resolved.Provider.Type) == "simulated"
			} else if kind := drops(m, req); avoid && kind != "" {
				reason = dropReason(kind, req)
			} else if h != nil {
				if isOpen, openWhy := h.Open(Key(m)); isOpen {
					reason, breaker = openWhy, true
					why.open++
					broken = true
				}
			}
			if reason == "" {
				if keep != nil {
					keep = append(keep, m)
					positions = append(positions, j-unfit)
				}
				continue
			}
			// A model on several steps (a fallback of each) is left out of each for the same
			// reason; the record says so once.
			if skip := (clearbar.Skip{Model: m.Name, Reason: reason}); !slices.Contains(d.Skipped, skip) {
				d.Skipped = append(d.Skipped, skip)
			}
			if keep == nil {
				keep = append(make([]*spec.Model, 0, len(st.Candidates)), st.Candidates[:j]...)
				positions = make([]int, j, len(st.Candidates))
				for k := range positions {
					positions[k] = k
				}
			}
			// A model that cannot take the request is as if the route did not list it; one
			// whose breaker is open keeps its place, so that the next is a fallback.
			if !breaker {
				unfit++
			}
		}
		if keep == nil && filtered == nil && dropped == 0 {
			continue // nothing skipped so far: keep sharing the precomputed steps
		}
		if filtered == nil {
			filtered = append(make([]Step, 0, len(ap.steps)), ap.steps[:i]...)
		}
		if keep == nil {
			st.Index -= dropped
			filtered = append(filtered, st)
			continue
		}
		if len(keep) > 0 {
			filtered = append(filtered, Step{Candidates: keep, Validate: st.Validate, RetryOnce: st.RetryOnce, Index: st.Index - dropped, Positions: positions})
		} else if !broken {
			dropped++
		}
	}
	return filtered, why
}
