package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/health"
	"github.com/clearbar/clearbar/retry"
	"github.com/clearbar/clearbar/route"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

// Checker validates an answer against a step's validators. It returns the verdicts, whether
// the answer passes, and the records of any model calls it made (judges, agreement checks),
// which the gateway adds to the decision and its cost. Implementations must be safe for
// concurrent use.
type Checker interface {
	Check(ctx context.Context, model string, req *clearbar.Request, resp *clearbar.Response, validators []*spec.Validator) ([]clearbar.Verdict, bool, []clearbar.Attempt)
}

// run is one request's execution state: the plan, the budget and the decision being written.
// It is used by one goroutine.
type run struct {
	g      *Gateway
	req    *clearbar.Request
	plan   *route.Plan
	d      *clearbar.Decision
	budget *retry.Budget
	// primary is the first failure: if every fallback fails, the client gets it.
	primary error
	// upstream and waited accumulate time spent in provider calls and in backoff.
	upstream, waited time.Duration
	// flagged is the last answer that failed validation, delivered if every step fails;
	// flaggedStream is the same answer as it was streamed, for a streaming request.
	flagged        *clearbar.Response
	flaggedAttempt int
	flaggedStream  *buffered
	// pending are validator calls (judges, agreement checks) to append to the decision once the
	// attempt that caused them is complete: appending earlier would move the attempt being
	// written.
	pending []clearbar.Attempt
	// ka keeps a stream open with pings while its first content byte is slow.
	ka keepalive
	// held replays the blank chunks a stream's answer began with (awaitAnswer); scratch is
	// a stream's memory for them and for a usage chunk of the gateway's (nil until needed).
	held    heldStream
	scratch *streamScratch
}

// flushPending appends validator calls to the decision.
func (r *run) flushPending() {
	for _, a := range r.pending {
		a.N = len(r.d.Attempts) + 1
		r.d.Attempts = append(r.d.Attempts, a)
		r.upstream += a.Latency
	}
	r.pending = r.pending[:0]
}

func (g *Gateway) newRun(ctx context.Context, req *clearbar.Request, plan *route.Plan, d *clearbar.Decision) *run {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = g.now().Add(g.requestTimeout)
	}
	return &run{g: g, req: req, plan: plan, d: d,
		budget: retry.NewBudget(retry.Policy{Attempts: plan.Retries, Backoff: plan.Backoff}, deadline, nil)}
}

// next is what to do after an attempt.
type next uint8

const (
	nextAccept   next = iota // deliver this answer
	nextRetry                // same model again
	nextFailover             // next candidate of the step
	nextEscalate             // next step
	nextFail                 // give up with the error
	nextStop                 // the request is out of time: no further call, the plan ends
)

// afterFailure decides, from a failed attempt's class on model m, whether to retry the same
// model (and waits the backoff), fail over, or fail; with nextFail it returns the error to fail
// with: the attempt's, or, when the request ended during the backoff, why it ended (a cut, the
// client gone, the request out of time). When the request's time ran out during the attempt it
// returns nextStop: no later call could run, and one begun would be recorded as an attempt and
// charged to its model's breaker as a timeout it never had; the caller ends the plan as when
// every candidate failed. A model whose breaker the failure opened is not retried, since the
// breaker would refuse the call after the wait, unless retryOpen says it is retried whatever its
// breaker says: the plan's last resort (the only model it has), unless the plan failed open on
// it (see run.retriesOpen).
func (r *run) afterFailure(ctx context.Context, m *spec.Model, retryOpen bool, err error, retries int) (next, error) {
	e := clearbar.AsError(err)
	if r.primary == nil {
		r.primary = err
	}
	action := e.Class.Action()
	if action != clearbar.Fail && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nextStop, nil
	}
	switch action {
	case clearbar.Fail:
		return nextFail, err
	case clearbar.RetrySame:
		if e.Exhausted() {
			return nextFailover, nil // out of credit: another upstream may have some
		}
		if !retryOpen && r.g.breakers.Get(route.Key(m)).State(r.g.now()) == health.Open {
			return nextFailover, nil
		}
		wait, ok, _ := r.budget.Decide(e, retries, r.g.now())
		if !ok {
			return nextFailover, nil
		}
		if werr := retry.Wait(ctx, wait); werr != nil {
			r.primary = werr
			return nextFail, ctxError(ctx, err) // the backoff was cut short
		}
		r.waited += wait
		return nextRetry, nil
	}
	// FallBack, RotateKey (adapters rotate keys themselves; what reaches here is exhausted).
	return nextFailover, nil
}

// outcomeOutOfTime is the outcome of an attempt during which the request ran out of time.
const outcomeOutOfTime = "the request ran out of time"

// Outcomes of an attempt that failed with a failure another model may not share: the request
// fell back to the next model of its plan, or there was none left to call (the plan ran out,
// or every model left had its breaker open), and the request failed.
const (
	outcomeFellBack    = "fell back"
	outcomeNoModelLeft = "failed; no model left"
)

// attemptKind names an attempt from where its model sits in the route (route.Step.Index and
// Position), not in the plan: a model called because the ones before it were left out (a
// breaker open) is a fallback or an escalation all the same.
func attemptKind(step, cand int, retried bool) string {
	switch {
	case retried:
		return clearbar.AttemptRetry
	case step > 0 && cand == 0:
		return clearbar.AttemptEscalation
	case cand > 0:
		return clearbar.AttemptFallback
	}
	return clearbar.AttemptPrimary
}

// begin takes a breaker slot and starts an attempt record for the cand'th candidate of the
// plan's step'th step st. When the model's breaker lets no call through — it is open (it may
// have opened since the plan was made, even during this request), or half-open with its probe
// already in flight (the plan keeps half-open models) — it records the skip and returns nil:
// the caller fails over without calling. The plan's last resort (a candidate kept although
// every breaker was open) is called anyway.
func (r *run) begin(st *route.Step, step, cand int, retried bool, waited time.Duration) (*clearbar.Attempt, func(clearbar.FailureClass, time.Time)) {
	m := st.Candidates[cand]
	b := r.g.breakers.Get(route.Key(m))
	now := r.g.now()
	done, ok := b.Allow(now)
	if !ok && !r.lastResort(step, cand) {
		reason := breakerOpenedReason
		if b.State(now) == health.HalfOpen {
			reason = route.ProbeInFlight
		}
		r.d.Skipped = append(r.d.Skipped, clearbar.Skip{Model: m.Name, Reason: reason})
		if r.primary == nil {
			r.primary = &clearbar.Error{Class: clearbar.Overloaded, Status: 503, Message: "every candidate's circuit breaker is open", Provider: m.Provider.Name, Model: m.Name}
		}
		return nil, nil
	}
	r.d.Attempts = append(r.d.Attempts, clearbar.Attempt{
		N: len(r.d.Attempts) + 1, Kind: attemptKind(st.Index, st.Position(cand), retried), Step: st.Index + 1,
		Model: m.Name, Provider: m.Provider.Name, UpstreamModel: m.Model, Start: r.g.now(), Waited: waited,
		Simulated: m.Resolved.Provider != nil && m.Resolved.Provider.Type == "simulated",
	})
	return &r.d.Attempts[len(r.d.Attempts)-1], done
}

// lastResort reports whether a candidate is the only one the plan has: it is called even with
// its breaker open, since refusing everything helps no one.
func (r *run) lastResort(step, cand int) bool {
	return len(r.plan.Steps) == 1 && len(r.plan.Steps[0].Candidates) == 1 && step == 0 && cand == 0
}

// retriesOpen reports whether a candidate is retried after a failure although its breaker is
// open (afterFailure): when it is the plan's last resort, unless the plan failed open on it
// while leaving other models of the route out (route.FailedOpen). A plan that fails open calls
// the model it kept once, since a wrong breaker costs one call; a route whose only model it is
// has nothing else to try, so its model is retried as the retry policy says. It reads the
// decision's skips, on a failure only.
func (r *run) retriesOpen(step, cand int) bool {
	if !r.lastResort(step, cand) {
		return false
	}
	kept := r.plan.Steps[0].Candidates[0].Name
	failedOpen, others := false, false
	for _, s := range r.d.Skipped {
		failedOpen = failedOpen || s.Model == kept && s.Reason == route.FailedOpen
		others = others || s.Model != kept
	}
	return !failedOpen || !others
}

// finish completes an attempt record from the call's result.
func (r *run) finish(a *clearbar.Attempt, m *spec.Model, usage clearbar.Usage, err error, done func(clearbar.FailureClass, time.Time)) {
	end := r.g.now()
	a.Latency = end.Sub(a.Start)
	r.upstream += a.Latency
	if err != nil && usage.IsZero() {
		usage = clearbar.AsError(err).Usage // a failed call the upstream still billed
	}
	a.Usage = usage
	a.Cost = m.Cost(usage)
	if err != nil {
		e := clearbar.AsError(err)
		a.Class, a.Status, a.Error = e.Class, e.Status, e.Message
		if a.Error == "" {
			a.Error = e.Class.String()
		}
		if e.Class == clearbar.Auth {
			r.g.authRejected(m, e, end)
		}
	}
	if done != nil {
		class := a.Class
		if errors.Is(err, errAnswerOutOfTime) {
			class = clearbar.Canceled // neutral: the request's budget, not the model, ended it
		}
		done(class, end)
	}
}

// errAnswerOutOfTime marks a streamed answer the request's own time budget
// (server.request_timeout) cut while it was arriving: a timeout of the request, recorded as
// such, that its model's breaker does not count as the model's failure.
var errAnswerOutOfTime = errors.New("the request's time budget ended the answer while it was arriving")

// authWarnEvery is how often, at most, the gateway warns that one provider rejects its
// credentials: a revoked key fails every request, and one line a minute says so.
const authWarnEvery = time.Minute

// authWarnings rate-limits the warnings of providers that reject the gateway's credentials
// (authRejected): when each provider's was last logged, and how many rejections were not
// logged since.
type authWarnings struct {
	mu   sync.Mutex
	last map[string]authWarned
}

type authWarned struct {
	at         time.Time
	suppressed int
}

// authRejected logs, at most once per provider per authWarnEvery, that m's provider rejected
// the gateway's credentials (class Auth: every key the adapter could rotate to). The upstream's
// message is logged with the provider's keys and anything shaped like a key redacted; the keys
// are named by where they come from ("${OPENAI_API_KEY}"), never by value.
func (g *Gateway) authRejected(m *spec.Model, e *clearbar.Error, now time.Time) {
	p := m.Resolved.Provider
	if p == nil {
		p = &spec.Provider{Name: m.Provider.Name}
	}
	aw := &g.authWarnings
	aw.mu.Lock()
	w, seen := aw.last[p.Name]
	if seen && now.Sub(w.at) < authWarnEvery {
		w.suppressed++
		aw.last[p.Name] = w
		aw.mu.Unlock()
		return
	}
	if aw.last == nil {
		aw.last = map[string]authWarned{}
	}
	aw.last[p.Name] = authWarned{at: now}
	aw.mu.Unlock()
	keys := p.Keys()
	attrs := []any{"provider", p.Name, "model", m.Name, "status", e.Status, "error", redactKeys(e.Message, keys)}
	if len(keys) > 0 {
		names := make([]string, len(keys))
		for i, k := range keys {
			names[i] = k.String() // the redacted form: "${OPENAI_API_KEY}" or "[redacted]"
		}
		attrs = append(attrs, "keys", strings.Join(names, ","))
	}
	if w.suppressed > 0 {
		attrs = append(attrs, "not_logged", w.suppressed) // rejections since the last warning
	}
	g.log.Warn("a provider rejected the gateway's credentials (auth error): check its API keys", attrs...)
}

// keyShaped matches what looks like an API key or a bearer token in an upstream's message, as
// the adapters' redaction does: OpenAI- and Anthropic-style keys, whole or masked, Google API
// keys and "Bearer …".
var keyShaped = regexp.MustCompile(`sk-[A-Za-z0-9_*\-]{4,}|AIza[0-9A-Za-z_\-]{20,}|(?i:bearer)\s+\S+`)

// redactKeys removes from s, an upstream's message, every one of keys and anything shaped
// like a key (keyShaped), for a log line. The adapters redact their messages already
// (provider/internal/inflight.Keys.Redact); this is a second line of defence, for providers
// that do not.
func redactKeys(s string, keys []spec.SecretRef) string {
	for _, k := range keys {
		if v := k.Reveal(); len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return keyShaped.ReplaceAllString(s, "[redacted]")
}

// logBreaker logs a change of a circuit breaker's state (health.Set.Observe): a warning when
// it opens, with why and for how long, an info line when it closes again, and a debug line
// when its cooldown is over and it lets probes through.
func (g *Gateway) logBreaker(t health.Transition) {
	provider, model, _ := strings.Cut(t.Key, "/")
	switch t.To {
	case health.Open:
		msg := "circuit breaker opened: the model is left out of plans until its cooldown is over"
		if t.From == health.HalfOpen {
			msg = "circuit breaker opened again: its probe failed"
		}
		g.log.Warn(msg, "model", model, "provider", provider, "why", t.Reason, "cooldown", t.Cooldown)
	case health.Closed:
		g.log.Info("circuit breaker closed: the model is back in plans", "model", model, "provider", provider)
	case health.HalfOpen:
		g.log.Debug("circuit breaker half-open: probing the model", "model", model, "provider", provider)
	}
}

// recordedUsage marks an attempt whose usage is the provider's estimate (a replayed answer
// whose row records no tokens) and, when the provider knows what the answer cost when it was
// recorded, charges that rather than the estimate at the spec's prices.
func recordedUsage(a *clearbar.Attempt, estimated bool, cost clearbar.Money) {
	if !estimated {
		return
	}
	a.UsageEstimated = true
	if cost > 0 {
		a.Cost = cost
	}
}

// recordedStream is a stream that says what recordedUsage needs (a replayed answer's).
type recordedStream interface {
	RecordedUsage() (estimated bool, cost clearbar.Money)
}

// recordedStreamUsage is recordedUsage for a stream that says it (rs; nil for one that does not).
func recordedStreamUsage(a *clearbar.Attempt, rs recordedStream) {
	if rs != nil {
		estimated, cost := rs.RecordedUsage()
		recordedUsage(a, estimated, cost)
	}
}

func (r *run) call(m *spec.Model, stream bool) *clearbar.Call {
	c := &clearbar.Call{Request: r.req, Model: m.Model, SpecModel: m.Name, Stream: stream, Attempt: len(r.d.Attempts), Category: r.plan.Category.Name}
	if m.TTFTTimeout > 0 {
		c.TTFTTimeout = m.TTFTTimeout.D()
	}
	return c
}

// callContext bounds one call to m as the spec bounds it (spec.Spec.CallBound, which the spec
// check and the estimate use too): by the model's timeout, else its provider's, when that is
// shorter than the request's; else only by the request's deadline, which ctx carries. The
// call's deadline has a cause of its own (callTimeout), so that an adapter names the bound that
// fired rather than the request's.
func (g *Gateway) callContext(ctx context.Context, m *spec.Model) (context.Context, context.CancelFunc) {
	d, _, byRequest := g.spec.CallBound(m)
	if byRequest {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, d, &callTimeout{d})
}

// callTimeout is the cause of a call's own deadline (a model's or provider's timeout); its
// words are the adapters' for the same bound.
type callTimeout struct{ d time.Duration }

func (e *callTimeout) Error() string { return fmt.Sprintf("no complete answer within %s", e.d) }

// complete runs a non-streaming request through its plan.
func (r *run) complete(ctx context.Context) (*clearbar.Response, error) {
steps:
	for si, st := range r.plan.Steps {
		qualityRetried := false
		for ci := 0; ci < len(st.Candidates); ci++ {
			m := st.Candidates[ci]
			prov := r.g.providers[m.Provider.Name]
			retries := 0
			for {
				retried := retries > 0 || qualityRetried && ci == 0
				a, done := r.begin(&st, si, ci, retried, 0)
				if a == nil {
					break // breaker open: fail over
				}
				cctx, cancel := r.g.callContext(ctx, m)
				resp, err := prov.Complete(cctx, r.call(m, false))
				cancel()
				var usage clearbar.Usage
				if resp != nil {
					usage = resp.Usage
					a.UpstreamRequestID = resp.UpstreamRequestID
				}
				if err != nil && ctx.Err() != nil {
					err = ctxError(ctx, err)
				}
				r.finish(a, m, usage, err, done)
				if err == nil {
					recordedUsage(a, resp.UsageEstimated, resp.RecordedCost)
					switch r.judge(ctx, a, resp, st, &qualityRetried) {
					case nextAccept:
						a.Outcome = "accepted"
						r.accept(a, m, resp)
						r.flushPending()
						return resp, nil
					case nextRetry:
						a.Outcome = "retried after failed validation"
						r.flushPending()
						continue
					default:
						a.Outcome = "escalated after failed validation"
						r.flushPending()
						continue steps
					}
				}
				nx, ferr := r.afterFailure(ctx, m, r.retriesOpen(si, ci), err, retries)
				switch nx {
				case nextRetry:
					a.Outcome = "retried"
					retries++
					continue
				case nextFail:
					a.Outcome = "failed"
					return nil, r.failure(ferr)
				case nextStop:
					a.Outcome = outcomeOutOfTime
					break steps
				}
				a.Outcome = outcomeFellBack
				break
			}
		}
	}
	return r.exhausted()
}

// judge validates an answer and says what to do with it.
func (r *run) judge(ctx context.Context, a *clearbar.Attempt, resp *clearbar.Response, st route.Step, qualityRetried *bool) next {
	if len(st.Validate) == 0 {
		return nextAccept
	}
	if r.g.checker == nil {
		r.d.Reason = "accepted without validation: the route names validators but this gateway runs none"
		return nextAccept
	}
	if hasAgree(st.Validate) {
		// An agreement check's model answers the client's request: its provider gets the
		// category, as the answer's did.
		ctx = validate.WithCategory(ctx, r.plan.Category.Name)
	}
	verdicts, ok, calls := r.g.checker.Check(ctx, a.Model, r.req, resp, st.Validate)
	if !r.plan.Category.RecordText {
		// The record keeps no text of this category: not in the verdicts' reasons either.
		validate.RedactAnswer(verdicts, resp.Text())
	}
	a.Verdicts = verdicts
	r.pending = append(r.pending, calls...)
	r.flagRepeats(a.Model, verdicts)
	if ok {
		return nextAccept
	}
	a.Class = clearbar.Quality
	a.Error = failedVerdicts(verdicts)
	r.flagged, r.flaggedAttempt = resp, a.N
	if st.RetryOnce && !*qualityRetried {
		*qualityRetried = true
		return nextRetry
	}
	return nextEscalate
}

// hasAgree reports whether validators include an agreement check.
func hasAgree(validators []*spec.Validator) bool {
	return slices.ContainsFunc(validators, func(v *spec.Validator) bool { _, ok := v.Config.(*spec.Agree); return ok })
}

func failedVerdicts(vs []clearbar.Verdict) string {
	s := ""
	for _, v := range vs {
		if !v.Pass {
			if s != "" {
				s += "; "
			}
			s += v.Validator + ": " + v.Reason
		}
	}
	return "failed validation: " + s
}

// exhausted ends a request whose every step failed: the flagged answer if there is one and
// the route delivers flagged answers, else the primary's error.
func (r *run) exhausted() (*clearbar.Response, error) {
	if n := len(r.d.Attempts); n > 0 && r.d.Attempts[n-1].Outcome == outcomeFellBack {
		// The last call failed over, but nothing followed it: the plan had no model left (or
		// none whose breaker let a call through).
		r.d.Attempts[n-1].Outcome = outcomeNoModelLeft
	}
	var why string
	if r.flagged != nil {
		why = r.exhaustedWhy()
		r.d.Flagged = true
		r.d.FlagReason = why + "; last: " + r.d.Attempts[r.flaggedAttempt-1].Error
	}
	if r.flagged != nil && !r.plan.FailWhenExhausted {
		a := &r.d.Attempts[r.flaggedAttempt-1]
		a.Outcome = "delivered flagged: " + why
		m := r.g.spec.Model(a.Model)
		r.accept(a, m, r.flagged)
		r.d.Reason = why + "; the last answer that failed validation was delivered, flagged for review"
		return r.flagged, nil
	}
	if r.flagged != nil {
		r.d.Reason = why + ", and the route fails exhausted requests"
		return nil, &clearbar.Error{Class: clearbar.Quality, Message: "no answer passed validation"}
	}
	if r.primary == nil {
		r.primary = &clearbar.Error{Class: clearbar.Internal, Message: "the plan had no model to call"}
	}
	return nil, r.exhaustedError(r.failure(r.primary))
}

// exhaustedWhy says why no step's answer was delivered: "every step failed validation" when
// every step that was called answered and failed validation, else which steps failed
// validation and which failed otherwise, with the class of their last failure ("step 1
// (nano) failed validation; step 2 (strong) failed: stream_cut").
func (r *run) exhaustedWhy() string {
	type stepEnd struct {
		model      string
		validation bool
		class      clearbar.FailureClass
	}
	var steps []int
	ends := map[int]*stepEnd{}
	for i := range r.d.Attempts {
		a := &r.d.Attempts[i]
		if a.ValidatorCall() || a.Step == 0 {
			continue
		}
		e, ok := ends[a.Step]
		if !ok {
			e = &stepEnd{}
			ends[a.Step] = e
			steps = append(steps, a.Step)
		}
		e.model, e.class = a.Model, a.Class
		e.validation = e.validation || a.Class == clearbar.Quality
	}
	var parts []string
	other := false
	for _, st := range steps {
		e := ends[st]
		if e.validation {
			parts = append(parts, fmt.Sprintf("step %d (%s) failed validation", st, e.model))
			continue
		}
		other = true
		parts = append(parts, fmt.Sprintf("step %d (%s) failed: %s", st, e.model, e.class))
	}
	if !other {
		return "every step failed validation"
	}
	return "no step's answer passed validation: " + strings.Join(parts, "; ")
}

func (r *run) failure(err error) error {
	e := clearbar.AsError(err)
	if isShutdownCut(e) {
		r.d.Shutdown = true
		if r.d.Reason == "" {
			r.d.Reason = "cut: " + e.Message
		}
	}
	if r.d.Reason == "" {
		r.d.Reason = fmt.Sprintf("failed: %s", e.Class)
		if n := len(r.d.Attempts); n > 1 {
			r.d.Reason += fmt.Sprintf(" after %d attempts; the client gets the first failure", n)
		}
	}
	return err
}

// shutdownError is the error of a request Gateway.Cut ended. Its words hold whether the drain
// window ended or a second signal cut the drain short: Cut does not say which.
func shutdownError(err error) *clearbar.Error {
	return &clearbar.Error{Class: clearbar.Canceled, Status: http.StatusServiceUnavailable, Code: codeShuttingDown, RetryAfter: time.Second,
		Message: "the gateway shut down before the request finished; retry it", Err: err}
}

// accept records the final answer.
func (r *run) accept(a *clearbar.Attempt, m *spec.Model, resp *clearbar.Response) {
	r.d.Model, r.d.Provider = m.Name, m.Provider.Name
	if r.d.Reason == "" {
		switch {
		case len(a.Verdicts) > 0:
			r.d.Reason = fmt.Sprintf("accepted: %s passed every validator", m.Name)
		case a.N == 1 && a.Kind != clearbar.AttemptPrimary:
			r.d.Reason = fmt.Sprintf("accepted: %s answered on the first attempt, as the %s: the models before it were left out (see skipped)", m.Name, a.Kind)
		case a.N == 1:
			r.d.Reason = fmt.Sprintf("accepted: %s answered on the first attempt; the route does not validate", m.Name)
		default:
			r.d.Reason = fmt.Sprintf("accepted: %s answered after %d earlier attempt(s) failed", m.Name, a.N-1)
		}
	}
	if resp != nil {
		r.d.AnswerChars = len(resp.Text())
	}
}

// ctxError classifies an error that happened because the request's context ended: the client
// going away is Canceled, the request's time budget running out is Timeout, and the gateway
// cutting the request on shutdown (Gateway.Cut) is Canceled with status 503 and code
// gateway_shutting_down: not the upstream's fault, but an answer the client must get.
func ctxError(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), errShutdown) {
		return shutdownError(err)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return &clearbar.Error{Class: clearbar.Canceled, Message: "the client closed the request", Err: err}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &clearbar.Error{Class: clearbar.Timeout, Status: 504, Message: "the request ran out of time", Err: err}
	}
	return err
}
