package spec

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
)

// index holds name lookups, built once when a spec loads without errors.
type index struct {
	providers  map[string]*Provider
	models     map[string]*Model
	categories map[string]*Category
}

// Model returns the model declared as name, or nil.
func (s *Spec) Model(name string) *Model {
	if s.index == nil {
		for _, m := range s.Models {
			if m.Name == name {
				return m
			}
		}
		return nil
	}
	return s.index.models[name]
}

// Category returns the category named name, or nil.
func (s *Spec) Category(name string) *Category {
	if s.index == nil {
		for _, c := range s.Categories {
			if c.Name == name {
				return c
			}
		}
		return nil
	}
	return s.index.categories[name]
}

// Provider returns the provider named name, or nil.
func (s *Spec) Provider(name string) *Provider {
	if s.index == nil {
		for _, p := range s.Providers {
			if p.Name == name {
				return p
			}
		}
		return nil
	}
	return s.index.providers[name]
}

// Policy returns the named policy, or nil.
func (s *Spec) Policy(name string) *Policy {
	for _, p := range s.Policies {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// RouteCandidates returns every model a route can send a request to: its steps and each one's
// failover chain (with the category's fallback), each once, in order.
func (s *Spec) RouteCandidates(r *Route, fallback []Ref) []*Model {
	var out []*Model
	add := func(m *Model) {
		if m != nil && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	for _, ref := range r.Models() {
		m := s.Model(ref.Name)
		if m == nil {
			continue
		}
		add(m)
		for _, fm := range s.FailoverChain(m, fallback, nil) {
			add(s.Model(fm.Name))
		}
	}
	return out
}

// Models returns every model the route can call as a step (not fallbacks, judges or agreement
// checkers), in order of first appearance.
func (r *Route) Models() []Ref {
	var out []Ref
	seen := map[string]bool{}
	add := func(ref Ref) {
		if !seen[ref.Name] {
			seen[ref.Name] = true
			out = append(out, ref)
		}
	}
	if r.Model != nil {
		add(*r.Model)
	}
	for _, st := range r.Cascade {
		add(st.Model)
	}
	if r.Score != nil {
		for _, m := range r.Score.Models {
			add(m)
		}
		for _, m := range r.Score.Escalate {
			add(m)
		}
	}
	for _, a := range r.Split {
		for _, ref := range a.Route.Models() {
			add(ref)
		}
	}
	return out
}

// Validated reports whether any answer on the route is validated.
func (r *Route) Validated() bool {
	if len(r.Validate) > 0 {
		return true
	}
	for _, st := range r.Cascade {
		if len(st.Validate) > 0 {
			return true
		}
	}
	for _, a := range r.Split {
		if a.Route.Validated() {
			return true
		}
	}
	return false
}

// Judged says whether any validator of the route (its own, a step's or a split arm's) is an
// LLM judge.
func (r *Route) Judged() bool {
	isJudge := func(vs []*Validator) bool {
		return slices.ContainsFunc(vs, func(v *Validator) bool { _, ok := v.Config.(*Judge); return ok })
	}
	if isJudge(r.Validate) {
		return true
	}
	for _, st := range r.Cascade {
		if isJudge(st.Validate) {
			return true
		}
	}
	for _, a := range r.Split {
		if a.Route.Judged() {
			return true
		}
	}
	return false
}

// MainValidators returns the validators that stand for the route's validation: the route's
// own, else those of its first validated step (or split arm), with the on_fail setting that
// goes with them. It returns nil when nothing is validated.
func (r *Route) MainValidators() ([]*Validator, string) {
	if r == nil {
		return nil, ""
	}
	if len(r.Validate) > 0 {
		return r.Validate, r.OnFail
	}
	for _, st := range r.Cascade {
		if len(st.Validate) > 0 {
			onFail := st.OnFail
			if onFail == "" {
				onFail = r.OnFail
			}
			return st.Validate, onFail
		}
	}
	for _, a := range r.Split {
		if vs, of := a.Route.MainValidators(); len(vs) > 0 {
			return vs, of
		}
	}
	return nil, ""
}

// Kind names the route's form: "static", "cascade", "split" or "score".
func (r *Route) Kind() string {
	switch {
	case r.Score != nil:
		return "score"
	case len(r.Split) > 0:
		return "split"
	case len(r.Cascade) > 0:
		return "cascade"
	}
	return "static"
}

// PlanStep is one step of a route in normalised form.
type PlanStep struct {
	Model *Model
	// Validate is the step's validators (the step's own, else the route's).
	Validate []*Validator
	// RetryOnce says a failed validation retries the same model once before escalating.
	RetryOnce bool
}

// Steps returns a static or cascade route as a list of steps, resolving models through s, at
// most MaxSteps of them.
// A split route has no single list of steps; Steps returns nil for it (see Route.Split).
func (r *Route) Steps(s *Spec) []PlanStep {
	var refs []*Step
	switch {
	case r.Model != nil:
		refs = []*Step{{Model: *r.Model}}
	case len(r.Cascade) > 0:
		refs = r.Cascade
	default:
		return nil
	}
	if r.MaxSteps > 0 && len(refs) > r.MaxSteps {
		refs = refs[:r.MaxSteps]
	}
	out := make([]PlanStep, 0, len(refs))
	for _, st := range refs {
		ps := PlanStep{Model: s.Model(st.Model.Name), Validate: st.Validate}
		if len(ps.Validate) == 0 {
			ps.Validate = r.Validate
		}
		onFail := st.OnFail
		if onFail == "" {
			onFail = r.OnFail
		}
		ps.RetryOnce = onFail == OnFailRetryOnce
		out = append(out, ps)
	}
	return out
}

// FailsWhenExhausted reports whether a request fails (rather than delivering the last answer,
// flagged) when every step's answer failed validation.
func (r *Route) FailsWhenExhausted() bool { return r.OnExhausted == ExhaustedFail }

// FailoverChain returns the models tried, in order, when model's provider fails: the model's
// own fallbacks (depth first, so each fallback's fallbacks come right after it), then the
// category fallbacks in the same way. The model itself is not included, and no model appears
// twice. Skip lists models never to fail over to (for example later steps of a cascade, which
// will be tried anyway).
func (s *Spec) FailoverChain(model *Model, categoryFallback []Ref, skip func(*Model) bool) []*Model {
	seen := map[string]bool{model.Name: true}
	var out []*Model
	var expand func(m *Model)
	expand = func(m *Model) {
		for _, f := range m.Fallback {
			fm := s.Model(f.Name)
			if fm == nil || seen[fm.Name] {
				continue
			}
			seen[fm.Name] = true
			if skip == nil || !skip(fm) {
				out = append(out, fm)
			}
			expand(fm)
		}
	}
	expand(model)
	for _, f := range categoryFallback {
		fm := s.Model(f.Name)
		if fm == nil || seen[fm.Name] {
			continue
		}
		seen[fm.Name] = true
		if skip == nil || !skip(fm) {
			out = append(out, fm)
		}
		expand(fm)
	}
	return out
}

// RetryPolicy returns the effective retry attempts and backoff for a category.
func (s *Spec) RetryPolicy(c *Category) (attempts int, backoff time.Duration) {
	attempts, backoff = DefaultRetryAttempts, DefaultRetryBackoff
	for _, r := range []*Retry{&s.Retry, c.Retry} {
		if r == nil {
			continue
		}
		if r.Attempts != nil {
			attempts = *r.Attempts
		}
		if r.Backoff > 0 {
			backoff = r.Backoff.D()
		}
	}
	return attempts, backoff
}

// Strength returns the category's validator strength, or DefaultStrength.
func (c *Category) Strength() Strength {
	if c.Assume.Validator != nil {
		return *c.Assume.Validator
	}
	return DefaultStrength
}

// Bar returns the category's quality bar (0 if unset, which a loaded spec never has).
func (c *Category) Bar() float64 {
	if c.QualityBar == nil {
		return 0
	}
	return float64(*c.QualityBar)
}

// LatencyFor returns the latency assumption for model m in this category: the category's
// override, else the model's.
func (c *Category) LatencyFor(m *Model) Latency {
	if l, ok := c.Assume.Latency[m.Name]; ok && l != nil {
		return *l
	}
	return m.Resolved.Latency
}

// PassRate returns the assumed pass rate of model m in this category and whether one is given.
func (c *Category) PassRate(m *Model) (float64, bool) {
	p, ok := c.Assume.PassRate[m.Name]
	return float64(p), ok
}

// LastReview returns the category's last review date (its own, else the spec's) and the date
// the next review is due.
func (s *Spec) LastReview(c *Category) (last, due time.Time) {
	last = s.Review.Last.Time
	if c != nil && c.Review != nil && !c.Review.Last.IsZero() {
		last = c.Review.Last.Time
	}
	cad := s.Review.Cadence
	if c != nil && c.Review != nil && !c.Review.Cadence.IsZero() {
		cad = c.Review.Cadence
	}
	if last.IsZero() {
		return last, time.Time{}
	}
	return last, cad.Next(last)
}

// Line returns the line a category is declared on.
func (c *Category) Line() int { return c.pos.Line }

// Line returns the line a model is declared on.
func (m *Model) Line() int { return m.pos.Line }

// DefaultCategory returns the category of requests nothing else matches: the one marked
// default, else the first.
func (s *Spec) DefaultCategory() *Category {
	for _, c := range s.Categories {
		if c.Default {
			return c
		}
	}
	if len(s.Categories) == 0 {
		return nil
	}
	return s.Categories[0]
}

// Cost prices a call's usage at the model's effective prices. Usage follows OpenAI's
// accounting, where reasoning tokens are part of completion tokens; the catalogue bills them
// separately, so they are taken out of the output count. Prompt tokens written to the cache
// bill at the cache-write price where it is above the input price (Anthropic's), those written
// for an hour (part of the cache writes) at the 1-hour price; web searches at the catalogue's
// price per search, or per grounded prompt (catalog.Entry.WebSearchCost).
func (m *Model) Cost(u clearbar.Usage) clearbar.Money {
	if u.IsZero() {
		return 0
	}
	p := &m.Resolved.Prices
	out := max(u.CompletionTokens-u.ReasoningTokens, 0)
	write1h := min(max(u.CacheWrite1hTokens, 0), max(u.CacheWriteTokens, 0))
	return p.RequestCost(int64(u.PromptTokens), int64(u.CachedTokens), int64(out), int64(u.ReasoningTokens)) +
		p.CacheWriteCost(int64(u.PromptTokens), int64(u.CacheWriteTokens-write1h)) +
		p.CacheWrite1hCost(int64(u.PromptTokens), int64(write1h)) +
		p.WebSearchCost(int64(u.WebSearches), int64(u.GroundedPrompts), u.WebSearchContext)
}

// ScoreSteps returns the steps of a score route that starts on its i-th model: that model and
// every stronger one, or that model and the route's Escalate models (less the start), each
// validated as the route says.
func (r *Route) ScoreSteps(s *Spec, i int) []PlanStep {
	next := r.Score.Models[i+1:]
	if len(r.Score.Escalate) > 0 {
		next = r.Score.Escalate
	}
	start := r.Score.Models[i]
	var out []PlanStep
	for _, ref := range append([]Ref{start}, next...) {
		if len(out) > 0 && ref.Name == start.Name {
			continue
		}
		out = append(out, PlanStep{Model: s.Model(ref.Name), Validate: r.Validate, RetryOnce: r.OnFail == OnFailRetryOnce})
	}
	if !r.Validated() && len(out) > 1 {
		out = out[:1] // without validation nothing escalates
	}
	if r.MaxSteps > 0 && len(out) > r.MaxSteps {
		out = out[:r.MaxSteps]
	}
	return out
}

// Describe writes a score route for people: "learned router routers/chat.json, willingness to
// pay $0.50: small → strong" or "heuristic tiers 0.35, 0.7: small → mid → strong".
func (sc *ScoreRoute) Describe() string {
	var b strings.Builder
	if sc.Router != "" {
		fmt.Fprintf(&b, "learned router %s", sc.Router)
		switch {
		case sc.Threshold != nil:
			fmt.Fprintf(&b, ", threshold %g", float64(*sc.Threshold))
		case sc.WillingnessToPay != nil:
			fmt.Fprintf(&b, ", willingness to pay %s", clearbar.Money(*sc.WillingnessToPay))
			if mx := sc.Mix; mx != nil && mx.WillingnessToPay != nil && mx.Share != nil {
				fmt.Fprintf(&b, " (%s for %s of requests)", clearbar.Money(*mx.WillingnessToPay), PercentText(float64(*mx.Share)))
			}
		}
	} else if sc.Heuristic != nil {
		b.WriteString("heuristic tiers ")
		for i, t := range sc.Heuristic.Tiers {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%g", t)
		}
	}
	b.WriteString(": ")
	for i, m := range sc.Models {
		if i > 0 {
			b.WriteString(" → ")
		}
		b.WriteString(m.Name)
	}
	if len(sc.Escalate) > 0 {
		b.WriteString("; failed answers escalate to ")
		for i, m := range sc.Escalate {
			if i > 0 {
				b.WriteString(" → ")
			}
			b.WriteString(m.Name)
		}
	}
	return b.String()
}

// Settings returns the drift settings with defaults filled in.
func (d Drift) Settings() Drift {
	if d.Window == 0 {
		d.Window = DefaultDriftWindow
	}
	if d.Reference == 0 {
		d.Reference = max(DefaultDriftReference, 2*d.Window)
	}
	if d.FalseAlarm == 0 {
		d.FalseAlarm = DefaultDriftFalseAlarm
	}
	return d
}

// Workers returns how many shadow calls may be in flight.
func (sh *Shadow) Workers() int {
	if sh.Concurrency > 0 {
		return sh.Concurrency
	}
	return DefaultShadowConcurrency
}

// RouterLine is the line of a score route's router: key, for errors about the router file.
func (sc *ScoreRoute) RouterLine() int { return sc.pos.Of("router") }

// EmbedTimeoutOrDefault is how long the gateway waits for a request's embedding: EmbedTimeout,
// or DefaultEmbedTimeout when it is not set.
func (sc *ScoreRoute) EmbedTimeoutOrDefault() time.Duration {
	if sc.EmbedTimeout > 0 {
		return sc.EmbedTimeout.D()
	}
	return DefaultEmbedTimeout
}

// TracePath is the decision store the spec names (server.trace): a path relative to the
// directory of the spec file, as the spec's other files are, or "none"; "" when the spec names
// none.
func (s *Spec) TracePath() string {
	t := s.Server.Trace
	if t == "" || t == "none" || filepath.IsAbs(t) || s.File == "" {
		return t
	}
	return filepath.Join(filepath.Dir(s.File), t)
}

// RouterPath is the path of a score route's learned router file: Router, relative to the
// directory of the spec file.
func (sc *ScoreRoute) RouterPath(s *Spec) string {
	if sc.Router == "" || filepath.IsAbs(sc.Router) || s.File == "" {
		return sc.Router
	}
	return filepath.Join(filepath.Dir(s.File), sc.Router)
}

// Shadowing reports whether any category sends shadow traffic.
func (s *Spec) Shadowing() bool {
	for _, c := range s.Categories {
		if c.Shadow != nil {
			return true
		}
	}
	return false
}

// The header and metadata key that name a request's category outright.
const (
	CategoryHeader   = "X-Clearbar-Category"
	CategoryMetadata = "clearbar_category"
)

// The reasons the router gives for a request's category (Decision.CategoryBy), written here
// once for the router that gives them and for the spec tests that expect them (expect.by).
const (
	// ReasonDefault: no header, metadata, model alias or rule chose; the default category.
	ReasonDefault = "default category"
)

// ReasonNamed is the reason of a category named outright: by the CategoryHeader header or
// the CategoryMetadata key.
func ReasonNamed(byHeader bool) string {
	if byHeader {
		return "header " + CategoryHeader
	}
	return "metadata " + CategoryMetadata
}

// ReasonModelAlias is the reason of a category its model alias chose (clearbar/NAME, or a
// match.models name).
func ReasonModelAlias(model string) string { return "model alias " + model }

// ReasonHeader and ReasonMetadata are the reasons of a category a match.header or
// match.metadata value chose.
func ReasonHeader(name, value string) string  { return "header " + name + ": " + value }
func ReasonMetadata(key, value string) string { return "metadata " + key + ": " + value }

// ReasonRule is the reason of a category its match.when rule chose.
func ReasonRule(category, rule string) string { return "rule of " + category + ": " + rule }

// StatedMedian is the median a latency assumption states: its p50, else its median time to
// the first token, else its samples' median; 0 when it states none.
func (l *Latency) StatedMedian() time.Duration {
	switch {
	case l.P50 > 0:
		return l.P50.D()
	case l.TTFT != nil:
		return l.TTFT.P50.D()
	case len(l.Samples) > 0:
		ds := make([]time.Duration, len(l.Samples))
		for i, d := range l.Samples {
			ds[i] = d.D()
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	return 0
}

// KeyLine returns the line of the key path in the category, like ("tokens", "in") or
// ("assume", "pass_rate", "mini"), or, when the category does not set that key, of the nearest
// parent key it sets (its name's line when it sets none): the line to edit to change it.
func (c *Category) KeyLine(path ...string) int {
	if len(path) == 0 || !c.pos.Has(path[0]) {
		return c.pos.Line
	}
	parent := c.pos.Of(path[0])
	if len(path) < 2 {
		return parent
	}
	switch path[0] {
	case "tokens":
		if c.Tokens.pos.Has(path[1]) {
			return c.Tokens.pos.Of(path[1])
		}
	case "assume":
		a := &c.Assume
		if !a.pos.Has(path[1]) {
			return parent
		}
		if len(path) > 2 {
			if l := a.entryLines[path[1]][path[2]]; l > 0 {
				return l
			}
		}
		return a.pos.Of(path[1])
	}
	return parent
}
