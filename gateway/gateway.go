// Package gateway is Clearbar's OpenAI-compatible HTTP gateway: it decodes requests, asks the
// router for a category and a plan, runs the plan against providers (retries, failover,
// cascades, circuit breakers), answers in the client's wire format with headers that explain
// the decision, and records every decision without slowing the answer.
package gateway

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/health"
	"github.com/clearbar/clearbar/internal/readall"
	"github.com/clearbar/clearbar/route"
	"github.com/clearbar/clearbar/shadow"
	"github.com/clearbar/clearbar/spec"
)

// Recorder takes finished decisions. Record must not block; it reports false when the
// decision was dropped.
type Recorder interface {
	Record(d *clearbar.Decision) bool
}

// DecisionStore looks decisions up for GET /v1/decisions/{id}.
type DecisionStore interface {
	Get(ctx context.Context, id string) (*clearbar.Decision, error)
}

// Options configure a Gateway. Spec and Providers are required.
type Options struct {
	Spec *spec.Spec
	// Providers are the spec's providers by name.
	Providers map[string]clearbar.Provider
	// Breakers are the circuit breakers; nil means health.NewSet(health.DefaultSettings(), Now).
	Breakers *health.Set
	// Recorder takes decisions; nil drops them. Decisions reads them back for the decision
	// endpoint; nil disables it. Requests refused for want of a valid key (401) are counted
	// and logged, not recorded (see finishDecision).
	Recorder  Recorder
	Decisions DecisionStore
	// RecorderLosses, if set, reports the decisions the recorder behind Recorder lost: dropped
	// (queue full, closed, abandoned) and failed (batches the store refused), for
	// GET /v1/admin/health. nil means the health endpoint counts only the decisions Record
	// refused. It must be safe for concurrent use.
	RecorderLosses func() (dropped, failed int64)
	// Checker validates answers of validated routes; nil accepts every answer unvalidated.
	Checker Checker
	// Registerer receives the gateway's metrics; nil means a fresh registry (see Gatherer).
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	Logger     *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Shadow, when set, gets every answered request of a category with shadow settings, after
	// its answer is written and its decision recorded. The caller closes it.
	Shadow *shadow.Shadower
	// CORSOrigins are the origins whose browser pages may call the gateway ("*" for any;
	// see cors); none means no CORS header is sent.
	CORSOrigins []string
}

// Gateway serves the HTTP API. It is safe for concurrent use.
type Gateway struct {
	spec *spec.Spec
	// timeScales are the time scales of simulated providers that run at one other than 1.
	timeScales map[string]float64
	router     *route.Router
	providers  map[string]clearbar.Provider
	breakers   *health.Set
	recorder   Recorder
	decisions  DecisionStore
	checker    Checker
	shadow     *shadow.Shadower
	metrics    *metrics
	gatherer   prometheus.Gatherer
	keys       *keyring
	aliases    aliases
	// upstreamIDs are the spec models by their upstream model id, for the names that are
	// not spec model names themselves.
	upstreamIDs    map[string][]string
	limits         Limits
	requestTimeout time.Duration
	// streamKeepalive is the wait for a stream's first content byte before keep-alive pings
	// start; 0 means none.
	streamKeepalive time.Duration
	// log takes the gateway's log lines: circuit breakers opening and closing (logBreaker),
	// providers rejecting the gateway's credentials (authRejected, rate-limited by
	// authWarnings).
	log          *slog.Logger
	authWarnings authWarnings
	now          func() time.Time
	ready        atomic.Bool
	dropped      atomic.Int64
	repeats      repeats
	mux          *http.ServeMux
	cors         *cors // nil without CORS origins
	// losses reports the recorder's losses (Options.RecorderLosses); nil without.
	losses func() (dropped, failed int64)
	// keyRefusals rate-limits the log lines about requests refused for their key.
	keyRefusals refusalLog
	// stop ends when Cut cuts the requests in flight (its cause is errShutdown); every
	// request's context ends with it. flight counts the requests being served.
	stop   context.Context
	cutAll context.CancelCauseFunc
	flight flight
	// started numbers the requests that make decisions, to tell each its Settled time.
	started started
}

// started tracks the requests that make decisions, in the order they started, so that each
// one's decision can say when the oldest request still in flight started as it finished
// (clearbar.Decision.Settled).
type started struct {
	mu     sync.Mutex
	next   uint64               // the number the next request gets
	low    uint64               // the lowest number still in flight; next when none is
	starts map[uint64]time.Time // of the requests in flight
}

// begin numbers a request starting now, and returns its number and start.
func (s *started) begin(now func() time.Time) (uint64, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.starts == nil {
		s.starts = map[uint64]time.Time{}
	}
	n, t := s.next, now()
	s.next++
	s.starts[n] = t
	return n, t
}

// end marks request n finished (again, it does nothing more) and returns when the oldest
// request still in flight started, or now when none is.
func (s *started) end(n uint64, now time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.starts, n)
	for ; s.low < s.next; s.low++ {
		if t, ok := s.starts[s.low]; ok {
			return t
		}
	}
	return now
}

// flight counts the requests being served, so that Cut can wait for them to finish.
type flight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0 while Cut waits
}

func (f *flight) enter() {
	f.mu.Lock()
	f.n++
	f.mu.Unlock()
}

func (f *flight) leave() {
	f.mu.Lock()
	f.n--
	if f.n == 0 && f.idle != nil {
		close(f.idle)
		f.idle = nil
	}
	f.mu.Unlock()
}

// wait returns a channel closed once no request is in flight, and how many are now.
func (f *flight) wait() (<-chan struct{}, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan struct{})
	if f.n == 0 {
		close(ch)
		return ch, 0
	}
	if f.idle == nil {
		f.idle = make(chan struct{})
	}
	return f.idle, f.n
}

// New builds a gateway for a loaded spec.
func New(o Options) (*Gateway, error) {
	if o.Spec == nil {
		return nil, errors.New("gateway: no spec")
	}
	for _, m := range o.Spec.Models {
		if _, ok := o.Providers[m.Provider.Name]; !ok {
			return nil, fmt.Errorf("gateway: no provider %q for model %q", m.Provider.Name, m.Name)
		}
	}
	router, err := route.NewWith(o.Spec, route.Options{Providers: o.Providers})
	if err != nil {
		return nil, err
	}
	g := &Gateway{spec: o.Spec, router: router, providers: o.Providers, breakers: o.Breakers,
		recorder: o.Recorder, decisions: o.Decisions, losses: o.RecorderLosses, checker: o.Checker, shadow: o.Shadow, log: o.Logger, now: o.Now,
		limits: DefaultLimits, requestTimeout: spec.DefaultRequestTimeout, streamKeepalive: DefaultStreamKeepalive}
	if g.now == nil {
		g.now = time.Now
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.breakers == nil {
		g.breakers = health.NewSet(health.DefaultSettings(), g.now)
	}
	g.breakers.Observe(g.logBreaker)
	reg, gat := o.Registerer, o.Gatherer
	if reg == nil {
		r := prometheus.NewRegistry()
		reg, gat = r, r
	}
	g.metrics = newMetrics(reg)
	g.gatherer = gat
	reg.MustRegister(&breakerCollector{set: g.breakers})
	sv := o.Spec.Server
	if sv.MaxBody != "" {
		g.limits.MaxBody, _ = spec.ParseSize(sv.MaxBody)
	}
	if sv.MaxMessages > 0 {
		g.limits.MaxMessages = sv.MaxMessages
	}
	if sv.RequestTimeout > 0 {
		g.requestTimeout = sv.RequestTimeout.D()
	}
	if sv.StreamKeepalive != nil {
		g.streamKeepalive = sv.StreamKeepalive.D()
	}
	g.repeats.threshold, g.repeats.window = cmp.Or(sv.FlagRepeats, repeatThreshold), cmp.Or(sv.FlagWindow.D(), repeatWindow)
	if g.keys, err = newKeyring(o.Spec.Keys); err != nil {
		return nil, err
	}
	g.aliases = newAliases(g.models())
	g.upstreamIDs = map[string][]string{}
	for _, m := range o.Spec.Models {
		if m.Model != "" && !g.aliases.known[m.Model] {
			g.upstreamIDs[m.Model] = append(g.upstreamIDs[m.Model], m.Name)
		}
	}
	if g.cors, err = newCORS(o.CORSOrigins); err != nil {
		return nil, err
	}
	g.routes()
	// Simulated providers run at a time scale other than 1: their decisions say so.
	for _, p := range o.Spec.Providers {
		if p.Simulate != nil && p.Simulate.TimeScale > 0 && p.Simulate.TimeScale != 1 {
			if g.timeScales == nil {
				g.timeScales = map[string]float64{}
			}
			g.timeScales[p.Name] = p.Simulate.TimeScale
		}
	}
	g.stop, g.cutAll = context.WithCancelCause(context.Background())
	g.ready.Store(true)
	return g, nil
}

// Router returns the gateway's router, for explain and tests.
func (g *Gateway) Router() *route.Router { return g.router }

// ServeHTTP implements http.Handler. Every response carries an X-Request-Id; chat
// completions replace it with their decision id. A request's context ends when the client
// goes away or when Cut cuts it.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(headerRequestID, newID(g.now()))
	if g.cors != nil && g.cors.serve(w, r) {
		return // a preflight
	}
	g.flight.enter()
	defer g.flight.leave()
	if r.Context().Value(stopKey{}) == g {
		// The server's base context is the gateway's (BaseContext): Cut reaches this request
		// through it, at no cost per request.
		g.mux.ServeHTTP(w, r)
		return
	}
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	unhook := context.AfterFunc(g.stop, func() { cancel(context.Cause(g.stop)) })
	defer unhook()
	g.mux.ServeHTTP(w, r.WithContext(ctx))
}

// stopKey marks the contexts BaseContext returns, with the gateway whose Cut ends them.
type stopKey struct{}

// BaseContext is for http.Server.BaseContext: every request's context then derives from the
// one Cut cancels, so that the gateway need not hook each request to it. Without it, each
// request is hooked as it arrives.
func (g *Gateway) BaseContext(net.Listener) context.Context {
	return context.WithValue(g.stop, stopKey{}, g)
}

// SetReady marks the gateway ready or not for GET /readyz (not ready while draining).
func (g *Gateway) SetReady(ready bool) { g.ready.Store(ready) }

// RequestTimeout is the longest a request may take, retries and fallbacks included (the
// spec's server.request_timeout, else 120 s): a drain that waits this long (plus the time to
// read a request) lets every request in flight finish on its own.
func (g *Gateway) RequestTimeout() time.Duration { return g.requestTimeout }

// errShutdown is the cause of the requests Cut ends.
var errShutdown = errors.New("the gateway is shutting down")

// codeShuttingDown is the error code of a request Cut ended.
const codeShuttingDown = "gateway_shutting_down"

// Cut ends every request still in flight, for a drain whose time is up: a request still
// waiting for its answer gets a 503 gateway_shutting_down error (a stream the keep-alive
// already committed, an error event); a stream whose answer began ends with an explicit
// error event, never a clean end of a cut answer. Each decision is recorded, with outcome
// canceled (the upstream is not at fault: breakers do not count it) and a reason that says the
// gateway cut it. Cut waits until every such request has finished, or ctx ends; it returns how
// many requests were in flight when it cut them. Requests that arrive after Cut are cut at
// once.
func (g *Gateway) Cut(ctx context.Context) (int, error) {
	idle, n := g.flight.wait()
	g.cutAll(errShutdown)
	select {
	case <-idle:
		return n, nil
	case <-ctx.Done():
		_, left := g.flight.wait()
		return n, fmt.Errorf("%d of %d cut requests had not finished: %w", left, n, ctx.Err())
	}
}

// isShutdownCut reports whether e is the error of a request Cut ended.
func isShutdownCut(e *clearbar.Error) bool {
	return e.Class == clearbar.Canceled && e.Code == codeShuttingDown
}

// Decision headers. Every response carries them, errors included; on streams they are sent
// before the first byte, and the cost comes as a trailer. A stream that keep-alive pings
// committed before its model answered sends the decision id, category and route as headers and
// the model, provider, attempts and cost as trailers.
const (
	headerRequestID = "X-Request-Id"
	headerDecision  = "X-Clearbar-Decision-Id"
	headerCategory  = "X-Clearbar-Category"
	headerModel     = "X-Clearbar-Model"
	headerProvider  = "X-Clearbar-Provider"
	headerRoute     = "X-Clearbar-Route"
	headerAttempts  = "X-Clearbar-Attempts"
	headerCost      = "X-Clearbar-Cost-Usd"
)

// exposed lists the decision headers, for CORS (see cors).
var exposed = strings.Join([]string{headerRequestID, headerDecision, headerCategory, headerModel, headerProvider, headerRoute, headerAttempts, headerCost}, ", ")

// decisionHeaders sets the decision headers. The names are already canonical, so they are
// assigned directly rather than through Header.Set.
func (g *Gateway) decisionHeaders(h http.Header, d *clearbar.Decision) {
	h[headerRequestID] = []string{d.ID}
	h[headerDecision] = []string{d.ID}
	if d.Category != "" {
		h[headerCategory] = []string{d.Category}
	}
	if d.Model != "" {
		h[headerModel] = []string{d.Model}
		h[headerProvider] = []string{d.Provider}
	}
	if d.Route != "" {
		h[headerRoute] = []string{headerSafe(d.Route)}
	}
	h[headerAttempts] = []string{strconv.Itoa(len(d.Attempts))}
}

// headerSafe keeps a header value to printable ASCII (route descriptions contain arrows).
func headerSafe(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	s = strings.ReplaceAll(s, "→", "->")
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

var idCounter atomic.Uint64

// newID returns a decision id: time-ordered, unique within the process and unlikely to collide
// across replicas ("dec_" + 12 hex digits of milliseconds + 14 of randomness and counter).
func newID(now time.Time) string {
	var b [15]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	binary.BigEndian.PutUint64(b[7:], rand.Uint64()^idCounter.Add(1))
	return "dec_" + hex.EncodeToString(b[2:])
}

// promptHash fingerprints the messages without keeping them: a 64-bit xxHash of every role
// and text, enough to group identical prompts and spot template changes (it is not a
// cryptographic commitment).
func promptHash(req *clearbar.Request) (hash string, chars int) {
	h := xxhash.New()
	for _, m := range req.Messages {
		h.WriteString(m.Role)
		h.Write([]byte{0})
		h.WriteString(m.Text)
		h.Write([]byte{0})
		chars += len(m.Text)
	}
	return hex64(h.Sum64()), chars
}

func templateHash(req *clearbar.Request) string {
	var h *xxhash.Digest
	for _, m := range req.Messages {
		if m.Role == "system" || m.Role == "developer" {
			if h == nil {
				h = xxhash.New()
			}
			h.WriteString(m.Text)
			h.Write([]byte{0})
		}
	}
	if h == nil {
		return ""
	}
	return hex64(h.Sum64())
}

func hex64(v uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return hex.EncodeToString(b[:])
}

// chatCompletions serves POST /v1/chat/completions.
func (g *Gateway) chatCompletions(w http.ResponseWriter, r *http.Request) {
	seq, start := g.started.begin(g.now)
	defer g.started.end(seq, start) // a request that panics is no longer in flight either
	d := &clearbar.Decision{ID: newID(start), Time: start, Dialect: clearbar.DialectOpenAI, Path: r.URL.Path}
	var sh shadowed
	status, err := g.serveChat(w, r, d, start, &sh)
	if err != nil && status == 0 {
		g.decisionHeaders(w.Header(), d)
		status = writeError(w, err)
	}
	g.finishDecision(d, status, err, start, seq)
	g.submitShadow(&sh, d, err)
}

// shadowed is what serveChat leaves for shadow traffic: the request and its category.
type shadowed struct {
	cat *spec.Category
	req *clearbar.Request
}

// submitShadow offers an answered request to the shadow traffic of its category, once the
// client has its answer and the decision is recorded.
func (g *Gateway) submitShadow(sh *shadowed, d *clearbar.Decision, err error) {
	if g.shadow != nil && err == nil && sh.cat != nil && sh.cat.Shadow != nil {
		g.shadow.Submit(sh.cat, sh.req, d)
	}
}

// serveChat runs the chat pipeline; it fills sh with the request and category for shadow
// traffic.
func (g *Gateway) serveChat(w http.ResponseWriter, r *http.Request, d *clearbar.Decision, start time.Time, sh *shadowed) (int, error) {
	client, err := g.keys.client(r)
	if err != nil {
		return 0, err
	}
	if client != nil {
		d.Client, d.Tier = client.name, client.tier
		if !client.allow(start) {
			return 0, client.overLimit(start)
		}
	}
	if n, _ := strconv.Atoi(r.Header.Get("X-Stainless-Retry-Count")); n > 0 {
		g.metrics.clientRetries.Inc()
	}
	lim := g.limits
	if r.Context().Value(messagesIngress{}) != nil {
		lim = g.messagesLimits()
	}
	if r.Context().Value(responsesIngress{}) != nil {
		// The client's body was held to MaxBody; its translation may be a little larger.
		lim.MaxBody *= 2
	}
	body, err := readBody(w, r, lim.MaxBody)
	if err != nil {
		return 0, err
	}
	req, err := DecodeChatRequest(body, lim)
	if err != nil {
		return 0, err
	}
	d.RequestedModel, d.Stream = req.Model, req.Stream
	d.PromptHash, d.PromptChars = promptHash(req)
	d.TemplateHash = templateHash(req)
	in := &route.Input{Request: req, Header: r.Header}
	if client != nil {
		in.Client, in.Tier = client.name, client.tier
	}
	cat, err := g.classify(in, d)
	if err != nil {
		return 0, err
	}
	if cat.RecordText {
		d.Prompt = req.Text("")
	}
	plan, err := g.router.Plan(r.Context(), cat, in, breakerView{g}, d)
	if err != nil {
		g.blameMaxTokens(err, req, d)
		d.Reason = "no plan: " + clearbar.AsError(err).Message
		d.Upstream = scoreEmbedTime(d) // a score route may have embedded the request first
		return 0, err
	}
	sh.cat, sh.req = cat, req
	ctx, cancel := context.WithTimeout(r.Context(), g.requestTimeout)
	defer cancel()
	run := g.newRun(ctx, req, plan, d)
	if req.Stream {
		status, err := run.stream(ctx, w, start)
		g.upstreamTimes(d, run)
		return status, err
	}
	resp, err := run.complete(ctx)
	g.upstreamTimes(d, run)
	if err != nil {
		return 0, err
	}
	if cat.RecordText {
		d.Answer = resp.Text()
	}
	h := w.Header()
	g.decisionHeaders(h, d)
	if cost := run.totalCost(); cost > 0 || resp.HasUsage {
		h.Set(headerCost, cost.Decimal())
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(resp.Body)
	return http.StatusOK, nil
}

// classify assigns a request to its category (route.Router.Classify), after refusing a name
// in Clearbar's namespace that names nothing. An unknown category named by the header or the
// metadata is a 400 whose param names that header or metadata key. A request classified by
// its rules or the default category although its model is the upstream id of a spec model
// says so in the decision's CategoryBy: naming the spec model pins it; the upstream id does
// not.
func (g *Gateway) classify(in *route.Input, d *clearbar.Decision) (*spec.Category, error) {
	model := in.Request.Model
	if err := g.aliases.check(model); err != nil {
		return nil, err
	}
	cat, err := g.router.Classify(in, d)
	if err != nil {
		if e := clearbar.AsError(err); e.Code == "unknown_category" {
			e.Param = "metadata." + route.CategoryMetadata
			if in.Header.Get(route.CategoryHeader) != "" {
				e.Param = route.CategoryHeader
			}
		}
		return nil, err
	}
	if names := g.upstreamIDs[model]; len(names) > 0 && (d.CategoryBy == "default category" || strings.HasPrefix(d.CategoryBy, "rule of ")) {
		d.CategoryBy += fmt.Sprintf(" (model %q is not a name the gateway routes by but the upstream id of spec model %s: name the spec model to pin it)", model, strings.Join(names, ", "))
	}
	return cat, nil
}

// blameMaxTokens rewrites the error of a request that no model on its route can take only
// for the output it asks for (its input alone fits a context window there) to name the
// ceiling that binds: for each model, the smaller of its maximum output and what its context
// window leaves after the input; the largest of those over the route. Whichever ceiling binds,
// it is the same error, as OpenAI gives for a max_tokens too large (invalid_request_error,
// code invalid_value, param the max tokens parameter the client sent), so that lowering
// max_tokens to the number it names is enough.
func (g *Gateway) blameMaxTokens(err error, req *clearbar.Request, d *clearbar.Decision) {
	e := clearbar.AsError(err)
	param := route.MaxTokensParam(req)
	switch {
	case req.MaxTokens <= 0:
		return
	case e.Class == clearbar.ContextTooLong:
	case e.Class == clearbar.ClientError && e.Param == param && e.Code == "invalid_value":
	default:
		return
	}
	in := d.Features.TokensIn
	ceiling, why := 0, ""
	for _, name := range d.Plan {
		m := g.spec.Model(name)
		if m == nil {
			continue
		}
		w, mo := m.Resolved.ContextWindow, m.Resolved.MaxOutput
		if w > 0 && in >= w {
			continue // the input alone does not fit this one
		}
		c, because := maxOutputTokens, ""
		if mo > 0 {
			c, because = mo, fmt.Sprintf("%s writes at most %d tokens", name, mo)
		}
		if w > 0 && w-in < c {
			c, because = w-in, fmt.Sprintf("%s's context window of %d tokens leaves about %d after the request's input of about %d", name, w, w-in, in)
		}
		if c > ceiling {
			ceiling, why = c, because
		}
	}
	if ceiling == 0 || ceiling >= req.MaxTokens {
		return
	}
	e.Class, e.Status, e.Type, e.Code, e.Param = clearbar.ClientError, http.StatusBadRequest, "invalid_request_error", "invalid_value", param
	where := fmt.Sprintf("category %q's route", d.Category)
	if m := g.spec.Model(req.Model); m != nil && len(d.Plan) > 0 && d.Plan[0] == m.Name {
		// The request named a spec model: its plan is that model and its fallbacks.
		where = fmt.Sprintf("the route of model %s, which the request names,", m.Name)
		if len(d.Plan) > 1 {
			where = fmt.Sprintf("the route of model %s (falling back to %s), which the request names,", m.Name, strings.Join(d.Plan[1:], ", "))
		}
	}
	e.Message = fmt.Sprintf("%s is too large: %d. No model on %s can write more than %d tokens for this request (%s), whereas you provided %d: lower it to %d or less.",
		param, req.MaxTokens, where, ceiling, why, req.MaxTokens, ceiling)
}

func (g *Gateway) upstreamTimes(d *clearbar.Decision, r *run) {
	d.Upstream = r.upstream + scoreEmbedTime(d)
	d.Overhead = -r.waited // completed in finishDecision, once the total is known
}

// scoreEmbedTime is the time of a score route's embeddings call: network time, like the
// upstream calls.
func scoreEmbedTime(d *clearbar.Decision) time.Duration {
	if sc := d.Score; sc != nil && sc.Embedding != nil {
		return sc.Embedding.Latency
	}
	return 0
}

// scoreEmbedCost is the cost of a score route's embeddings call.
func scoreEmbedCost(d *clearbar.Decision) clearbar.Money {
	if sc := d.Score; sc != nil && sc.Embedding != nil {
		return sc.Embedding.Cost
	}
	return 0
}

// finishDecision completes the record (outcome, usage, cost, times), ends request seq's
// flight (see started), observes metrics and hands the record to the recorder.
//
// A request refused before authentication (no key, or one that is none of the gateway's: a
// 401) is counted in the metrics (clearbar_refused_total{reason="key"}) and logged at a
// bounded rate (refusalLog), but not recorded: anyone can send them, as fast as they like, and
// one record each would let unauthenticated traffic fill the decision queue that real
// decisions use, and the store. The refusals of a known client (over its rate_limit, 429) are
// recorded: the client is known, and review and the dashboard count them per client.
func (g *Gateway) finishDecision(d *clearbar.Decision, status int, err error, start time.Time, seq uint64) {
	d.Status = status
	d.Outcome = clearbar.ClassOf(err)
	if err != nil {
		e := clearbar.AsError(err)
		if d.Reason == "" {
			d.Reason = e.Message
		}
		if isShutdownCut(e) {
			d.Shutdown = true // however early Cut reached the request
		}
	}
	d.Cost += scoreEmbedCost(d)
	for i := range d.Attempts {
		a := &d.Attempts[i]
		d.Cost += a.Cost
		if scale, ok := g.timeScales[a.Provider]; ok {
			a.TimeScale, d.TimeScale = scale, scale
		}
		switch {
		case a.Outcome == "accepted" || strings.HasPrefix(a.Outcome, "delivered"):
			d.Usage = a.Usage
		case !a.ValidatorCall():
			d.EscalationCost += a.Cost
			d.EscalationLatency += a.Latency
			if a.Outcome == "cut mid-stream" || a.Outcome == "client went away" {
				d.Usage = a.Usage // the part of the answer the client got
			}
		}
	}
	d.Latency = g.now().Sub(start)
	d.Settled = g.started.end(seq, start.Add(d.Latency))
	d.Overhead += d.Latency - d.Upstream
	if d.Overhead < 0 {
		d.Overhead = 0
	}
	if d.TTFB == 0 && status != 0 && !d.Stream {
		d.TTFB = d.Latency
	}
	g.metrics.observeDecision(d)
	if refusal(d) == refusedKey && d.Client == "" {
		g.keyRefusals.refused(g.log, g.now(), d)
		return
	}
	if g.recorder != nil && !g.recorder.Record(d) {
		g.dropped.Add(1)
	}
}

// readBody reads the whole body (a proxied request whose body was not fully read can cut the
// upstream's answer short), within the size limit: a larger body, declared or not, is a 413.
// The buffer grows with the bytes received (readall.Read): a Content-Length is only a claim,
// and trusting it would let a client that declares the limit and sends a few bytes hold that
// much memory per connection. A body that does not arrive before the connection's read
// deadline (clearbar serve --body-timeout) is a 408.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if err := checkEntity(r.Header); err != nil {
		return nil, err
	}
	declared := int64(-1)
	if n := r.ContentLength; n >= 0 && n <= limit {
		declared = n
	}
	body, err := readall.Read(http.MaxBytesReader(w, r.Body, limit), declared)
	if err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &clearbar.Error{Class: clearbar.ClientError, Status: 413, Code: "request_too_large",
				Message: fmt.Sprintf("the request body is larger than the gateway's limit of %d bytes (server.max_body)", limit)}
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, &clearbar.Error{Class: clearbar.ClientError, Status: 408, Code: "request_timeout",
				Message: "the request body did not arrive within the gateway's body timeout (clearbar serve --body-timeout)"}
		}
		return nil, &clearbar.Error{Class: clearbar.Canceled, Message: "reading the request body failed", Err: err}
	}
	return body, nil
}

// checkEntity refuses a body the gateway cannot read: a media type other than JSON (media types
// are case-insensitive and may carry parameters, as in "Application/JSON; charset=utf-8"), or
// a compressed body, which the gateway does not decompress.
func checkEntity(h http.Header) error {
	if ct := h.Get("Content-Type"); ct != "" && ct != "application/json" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &clearbar.Error{Class: clearbar.ClientError, Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
				Message: fmt.Sprintf("the request's Content-Type is %q: send the request as application/json", ct)}
		}
	}
	if ce := strings.TrimSpace(h.Get("Content-Encoding")); ce != "" && !strings.EqualFold(ce, "identity") {
		return &clearbar.Error{Class: clearbar.ClientError, Status: http.StatusUnsupportedMediaType, Code: "unsupported_content_encoding",
			Message: fmt.Sprintf("Content-Encoding %q is not supported: send the request body uncompressed", ce)}
	}
	return nil
}

// breakerView lets the router see breaker states, and put the calls it makes itself (a score
// route's embeddings call) under them: it is a route.Breakers.
type breakerView struct{ g *Gateway }

// Allow takes a breaker slot for a call of the router's, as an attempt does.
func (b breakerView) Allow(key string) (func(clearbar.FailureClass), bool) {
	done, ok := b.g.breakers.Get(key).Allow(b.g.now())
	if !ok {
		return nil, false
	}
	return func(c clearbar.FailureClass) { done(c, b.g.now()) }, true
}

func (b breakerView) Open(key string) (bool, string) {
	if b.g.breakers.Get(key).State(b.g.now()) == health.Open {
		return true, breakerOpenReason
	}
	return false, ""
}

// routeInput builds a router input from a request and plain headers.
func routeInput(req *clearbar.Request, header map[string]string, tier string) *route.Input {
	h := http.Header{}
	for k, v := range header {
		h.Set(k, v)
	}
	return &route.Input{Request: req, Header: h, Tier: tier}
}
