package spec

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"net"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/catalog"
)

// checker validates a decoded spec section by section, resolves references and models, and
// collects every error and warning with its line.
type checker struct {
	spec      *Spec
	opts      Options
	errs      Errors
	warns     Errors
	providers map[string]*Provider
	models    map[string]*Model
	cats      map[string]*Category
	// routers holds the learned router files read, by path, so that each is read once.
	routers map[string]routerFile
}

type routerFile struct {
	data []byte
	err  error
}

// readRouter reads a score route's router file, once per check.
func (c *checker) readRouter(path string) ([]byte, error) {
	if f, ok := c.routers[path]; ok {
		return f.data, f.err
	}
	data, err := c.opts.readFile(path)
	if c.routers == nil {
		c.routers = map[string]routerFile{}
	}
	c.routers[path] = routerFile{data, err}
	return data, err
}

func newChecker(s *Spec, opts Options) *checker {
	return &checker{spec: s, opts: opts}
}

func (c *checker) errorf(line int, format string, args ...any) {
	c.errs = append(c.errs, &Error{File: c.spec.File, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) warnf(line int, format string, args ...any) {
	c.warnAt("", line, format, args...)
}

// warnAt records a warning of a kind, which lets readers of Spec.Warnings that say the same
// thing their own way (spec doc's overdue reviews) leave it out.
func (c *checker) warnAt(kind string, line int, format string, args ...any) {
	c.warns = append(c.warns, &Error{File: c.spec.File, Line: line, Msg: fmt.Sprintf(format, args...), kind: kind})
}

// Warning kinds.
const warnOverdue = "overdue"

func (c *checker) run() {
	s := c.spec
	c.checkHeader()
	c.checkProviders()
	c.checkModels()
	c.checkModelFallbackCycles()
	c.checkCategories()
	c.checkPipelines()
	c.checkNoTraffic()
	c.checkMatches()
	c.checkPolicies()
	c.checkZeroPassRates()
	c.checkUnusedStrength()
	c.checkUnusedScoreAssumptions()
	c.checkUnusedEscalatedPassRates()
	c.checkUnused()
	c.checkKeys()
	c.checkServer()
	c.checkLatencyTimeouts()
	c.checkDrift()
	c.checkTests()
	if len(c.errs) == 0 {
		s.index = &index{providers: c.providers, models: c.models, categories: c.cats}
	}
	sortErrors(c.errs)
	sortErrors(c.warns)
}

func (c *checker) checkHeader() {
	s := c.spec
	switch {
	case !s.pos.Has("version"):
		c.errorf(s.pos.Line, "the spec has no version: add version: %d as its first line", Version)
	case s.Version != Version:
		c.errorf(s.pos.Of("version"), "version %d is not supported: this Clearbar reads version %d", s.Version, Version)
	}
	if strings.TrimSpace(s.Name) == "" {
		c.errorf(s.pos.Line, "the spec has no name: add name: followed by what this routing policy is for")
	}
	if s.Review.Cadence.IsZero() {
		s.Review.Cadence, _ = ParseCadence("monthly")
	}
	if s.Review.Last.IsZero() {
		c.warnf(s.pos.Of("review"), "no review date: add review: {last: %s, cadence: monthly} so overdue reviews can be flagged", c.opts.today().Format(time.DateOnly))
	} else if s.Review.Last.After(c.opts.today()) {
		c.errorf(s.Review.pos.Of("last"), "review date %s is in the future: write the date of the last review, today (%s) or earlier", s.Review.Last, c.opts.today().Format(time.DateOnly))
	} else {
		last, due := s.LastReview(nil)
		c.checkOverdue(reviewStatus(last, due, s.Review.Cadence, c.opts.today()), "the spec's review", "review.last", s.Review.pos.Of("last"))
	}
	v := s.Volume
	switch {
	case v.PerMonth < 0 || v.PerDay < 0:
		key := "per_month"
		if v.PerMonth >= 0 {
			key = "per_day"
		}
		c.errorf(v.pos.Of(key), "volume %s cannot be negative: write the number of requests, like per_month: 1000000", key)
	case v.PerMonth > 0 && v.PerDay > 0:
		c.errorf(v.pos.Line, "volume sets both per_month and per_day: keep one")
	case v.PerDay > MaxPerDay:
		c.errorf(v.pos.Of("per_day"), "volume per_day %s is too large: its monthly figure, 30 times it, would overflow; write at most %s, or the real number of requests a day", groupDigits(v.PerDay), groupDigits(MaxPerDay))
	case v.pos.Has("per_month") && v.PerMonth == 0 || v.pos.Has("per_day") && v.PerDay == 0:
		key := "per_month"
		if !v.pos.Has(key) || v.PerMonth != 0 {
			key = "per_day"
		}
		c.errorf(v.pos.Of(key), "volume %s must be more than 0: write the number of requests, like per_month: 1000000, or leave volume out (monthly figures then assume %s requests a month)", key, groupDigits(DefaultMonthlyVolume))
	case v.PerMonth == 0 && v.PerDay == 0:
		c.warnf(s.pos.Of("volume"), "no traffic volume: monthly figures assume %d requests a month; add volume: {per_month: N}", DefaultMonthlyVolume)
	}
	c.checkRetry(&s.Retry)
}

// checkOverdue warns about a review that is overdue by rs, at line: what is "the spec's
// review" or a category's, and key is the setting to update once reviewed. spec doc judges
// reviews the same way (reviewStatus).
func (c *checker) checkOverdue(rs ReviewStatus, what, key string, line int) {
	if !rs.Overdue {
		return
	}
	c.warnAt(warnOverdue, line, "%s is overdue: last %s, due %s (%s), %d day(s) ago; re-run the estimate with current prices and measurements, review the routes, then set %s to the day you did", what, rs.Last, rs.Due, rs.Cadence, rs.DaysOverdue, key)
}

func (c *checker) checkRetry(r *Retry) {
	if r.Attempts != nil && (*r.Attempts < 0 || *r.Attempts > 10) {
		c.errorf(r.pos.Of("attempts"), "retry attempts %d is outside 0–10: retries multiply load during incidents", *r.Attempts)
	}
}

// ProviderType describes one provider adapter's settings.
type ProviderType struct {
	Name string
	// Needs lists the settings the type requires; Allows those it accepts besides type.
	Needs, Allows []string
	// KeyEnv is the environment variable the adapter reads when api_key is not set.
	KeyEnv string
	// Embeds says the adapter serves embeddings (implements clearbar.Embedder), so that a
	// spec can be checked for them without building providers; a test of the provider
	// registry (cmd/clearbar) checks it against the adapters.
	Embeds bool
}

// ProviderTypes are the provider adapters a spec may name.
var ProviderTypes = []ProviderType{
	{Name: "openai", Allows: []string{"base_url", "api_key", "api_keys", "availability", "timeout"}, KeyEnv: "OPENAI_API_KEY", Embeds: true},
	{Name: "anthropic", Allows: []string{"base_url", "api_key", "api_keys", "api_version", "availability", "timeout"}, KeyEnv: "ANTHROPIC_API_KEY"},
	{Name: "gemini", Allows: []string{"base_url", "api_key", "api_keys", "availability", "timeout"}, KeyEnv: "GEMINI_API_KEY", Embeds: true},
	{Name: "azure-openai", Needs: []string{"base_url", "api_version"}, Allows: []string{"base_url", "api_key", "api_keys", "api_version", "availability", "timeout"}, KeyEnv: "AZURE_OPENAI_API_KEY", Embeds: true},
	{Name: "openai-compatible", Needs: []string{"base_url"}, Allows: []string{"base_url", "api_key", "api_keys", "availability", "timeout"}, Embeds: true},
	{Name: "simulated", Allows: []string{"availability", "timeout", "simulate"}},
	{Name: "replay", Needs: []string{"outcomes"}, Allows: []string{"outcomes", "availability", "timeout", "simulate"}},
}

func providerType(name string) (ProviderType, bool) {
	for _, t := range ProviderTypes {
		if t.Name == name {
			return t, true
		}
	}
	return ProviderType{}, false
}

// ServesEmbeddings reports whether the adapter of a provider of type typ serves embeddings
// (see ProviderType.Embeds).
func ServesEmbeddings(typ string) bool {
	t, ok := providerType(typ)
	return ok && t.Embeds
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// ValidName reports whether s may name a provider, model, category or policy: letters,
// digits, '.', '_' and '-', starting with a letter or digit.
func ValidName(s string) bool { return nameRE.MatchString(s) }

func (c *checker) checkName(name, what string, line int) {
	if !nameRE.MatchString(name) {
		c.errorf(line, "%s name %q: use letters, digits, '.', '_' and '-' only, starting with a letter or digit", what, name)
	}
}

func (c *checker) checkProviders() {
	s := c.spec
	c.providers = make(map[string]*Provider, len(s.Providers))
	var typeNames []string
	for _, t := range ProviderTypes {
		typeNames = append(typeNames, t.Name)
	}
	for _, p := range s.Providers {
		c.checkName(p.Name, "provider", p.pos.Line)
		c.providers[p.Name] = p
		t, ok := providerType(p.Type)
		if !ok {
			if p.Type == "" {
				c.errorf(p.pos.Line, "provider %q has no type: add type: one of %s", p.Name, strings.Join(typeNames, ", "))
			} else {
				c.errorf(p.pos.Of("type"), "provider %q: unknown type %q%s", p.Name, p.Type, suggestFrom(p.Type, typeNames, "known types"))
			}
			continue
		}
		for _, need := range t.Needs {
			if !p.pos.Has(need) {
				c.errorf(p.pos.Line, "provider %q (type %s) needs %s", p.Name, p.Type, need)
			}
		}
		for key := range p.pos.keys {
			if key != "type" && !slices.Contains(t.Allows, key) {
				c.errorf(p.pos.Of(key), "provider %q: %s does not apply to type %s (it takes %s)", p.Name, key, p.Type, strings.Join(t.Allows, ", "))
			}
		}
		for _, k := range append([]SecretRef{p.APIKey}, p.APIKeys...) {
			if k.Literal && k.IsSet() {
				c.warnf(k.Line, "provider %q: the API key is written into the spec; reference an environment variable instead, like api_key: ${%s}", p.Name, cmpOr(t.KeyEnv, "PROVIDER_API_KEY"))
			}
		}
		if sim := p.Simulate; sim != nil {
			if sim.TimeScale < 0 {
				c.errorf(sim.pos.Of("time_scale"), "provider %q: simulate.time_scale cannot be negative", p.Name)
			}
			if sim.RateLimitRate > 0 && sim.RetryAfter == 0 {
				sim.RetryAfter = Duration(time.Second)
			}
		}
		if u := p.BaseURL.Value; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			// A value from the environment may carry a token: name the variable, never the value.
			shown := fmt.Sprintf("%q", u)
			if p.BaseURL.Raw != u {
				shown = fmt.Sprintf("%q (its value from the environment is not shown)", p.BaseURL.Raw)
			}
			c.errorf(p.BaseURL.Line, "provider %q: base_url %s must start with http:// or https://", p.Name, shown)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (c *checker) checkModels() {
	s := c.spec
	c.models = make(map[string]*Model, len(s.Models))
	if len(s.Models) == 0 {
		c.errorf(s.pos.Of("models"), "the spec declares no models: add models: with at least one {provider: NAME, model: ID}")
	}
	for _, m := range s.Models {
		c.checkName(m.Name, "model", m.pos.Line)
		if _, dup := c.providers[m.Name]; dup {
			// Same name as a provider is allowed but confusing only in messages; nothing to do.
		}
		c.models[m.Name] = m
	}
	for _, m := range s.Models {
		c.resolveModel(m)
	}
}

func (c *checker) resolveModel(m *Model) {
	r := &m.Resolved
	if m.Provider.Name == "" {
		c.errorf(m.pos.Line, "model %q has no provider: add provider: NAME, one of those under providers:", m.Name)
	} else if p, ok := c.providers[m.Provider.Name]; !ok {
		c.errorf(m.Provider.Line, "model %q: provider %q is not declared under providers:%s", m.Name, m.Provider.Name, suggestFrom(m.Provider.Name, c.providerNames(), "declared providers"))
	} else {
		r.Provider = p
	}
	if strings.TrimSpace(m.Model) == "" {
		c.errorf(m.pos.Line, "model %q has no model id: add model: the id the provider knows it by, like gpt-4o-mini", m.Name)
		return
	}
	cat := c.opts.catalog()
	var entry catalog.Entry
	var found bool
	if m.Catalog != "" {
		entry, found = cat.Get(m.Catalog)
		if !found {
			c.errorf(m.pos.Of("catalog"), "model %q: %q is not a key of the price catalogue (%s)%s", m.Name, m.Catalog, cat.SourceDate(), didYouMean(cat.Suggest(m.Catalog, 3)))
			return
		}
	} else {
		ptype := ""
		if r.Provider != nil {
			ptype = r.Provider.Type
		}
		entry, found = cat.Lookup(ptype, m.Model)
	}
	hasOwnPrice := m.Price != nil && m.Price.Input != nil && m.Price.Output != nil
	if !found && !hasOwnPrice {
		c.errorf(m.pos.Of("model"), "model %q: %q is not in the price catalogue (%s)%s; set catalog: KEY, or give price: {input: N, output: N} in dollars per million tokens",
			m.Name, m.Model, cat.SourceDate(), didYouMean(cat.Suggest(m.Model, 3)))
		return
	}
	r.InCatalog = found
	r.Catalog = entry
	r.Prices = entry
	if !found {
		r.Prices = catalog.Entry{Key: m.Model}
	}
	if p := m.Price; p != nil {
		set := func(dst *clearbar.Price, v *PerMillion) {
			if v != nil {
				*dst = clearbar.Price(*v)
			}
		}
		set(&r.Prices.Input, p.Input)
		set(&r.Prices.Output, p.Output)
		set(&r.Prices.CachedInput, p.CachedInput)
		set(&r.Prices.CacheWrite, p.CacheWrite)
		set(&r.Prices.CacheWrite1h, p.CacheWrite1h)
		set(&r.Prices.Reasoning, p.Reasoning)
		if scaled, ok := scaledCachedInput(m, entry); ok {
			r.Prices.CachedInput = scaled
		}
		c.checkLongContext(m, r, entry)
		c.checkPriceUnits(m)
		c.checkCachedAboveInput(m)
	}
	r.ContextWindow = entry.MaxInputTokens
	if m.ContextWindow > 0 {
		r.ContextWindow = m.ContextWindow
	}
	r.MaxOutput = entry.MaxOutputTokens
	if m.MaxOutput > 0 {
		r.MaxOutput = m.MaxOutput
	}
	r.Reasoning = entry.SupportsReasoning
	if m.Reasoning != nil {
		r.Reasoning = *m.Reasoning
	}
	switch {
	case m.Latency != nil:
		c.checkLatency(m.Latency, fmt.Sprintf("model %q", m.Name))
		r.Latency = *m.Latency
	default:
		r.Latency, r.LatencyDefault = DefaultLatency, true
		if !(r.InCatalog && r.Catalog.IsEmbedding()) { // no chat answer to time
			d := DefaultLatency
			p50, p95 := time.Duration(d.TTFT.P50), time.Duration(d.TTFT.P95)
			c.warnf(m.pos.Line, "model %q has no latency assumption: assuming time to first token p50 %v, p95 %v, and %v tokens/s; add latency: {ttft: {p50: %v, p95: %v}, tokens_per_second: %v}, the same assumption, and edit it to your model's figures, or measure it",
				m.Name, p50, p95, d.TokensPerSecond, p50, p95, d.TokensPerSecond)
		}
	}
	r.Availability = DefaultAvailability
	if r.Provider != nil && r.Provider.Availability != nil {
		r.Availability = float64(*r.Provider.Availability)
	}
	if m.Availability != nil {
		r.Availability = float64(*m.Availability)
	}
	if r.Availability == 0 {
		c.errorf(m.pos.Of("availability"), "model %q: availability 0 means no call ever succeeds; write the fraction of calls without a provider error, like 0.995", m.Name)
	}
	if d := entry.DeprecationDate; found && d != "" {
		if t, err := time.Parse(time.DateOnly, d); err == nil && !t.After(c.opts.today()) {
			c.warnf(m.pos.Of("model"), "model %q: the catalogue lists %s as deprecated since %s; plan a replacement", m.Name, entry.Key, d)
		}
	}
	for _, f := range m.Fallback {
		if c.model(f, fmt.Sprintf("model %q fallback", m.Name)) != nil && f.Name == m.Name {
			c.errorf(f.Line, "model %q falls back to itself", m.Name)
		}
	}
}

func didYouMean(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	return " (did you mean " + strings.Join(quoteAll(keys), " or ") + "?)"
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func (c *checker) providerNames() []string {
	var names []string
	for _, p := range c.spec.Providers {
		names = append(names, p.Name)
	}
	return names
}

func (c *checker) modelNames() []string {
	var names []string
	for _, m := range c.spec.Models {
		names = append(names, m.Name)
	}
	return names
}

// model resolves a reference to a declared model, reporting a dangling one.
func (c *checker) model(r Ref, what string) *Model {
	m, ok := c.models[r.Name]
	if !ok {
		c.errorf(r.Line, "%s %q is not a model declared under models:%s", what, r.Name, suggestFrom(r.Name, c.modelNames(), "declared models"))
		return nil
	}
	return m
}

func (c *checker) checkLatency(l *Latency, what string) {
	forms := 0
	if l.pos.Has("p50") || l.pos.Has("p95") {
		forms++
		if l.P50 <= 0 || l.P95 <= 0 {
			c.errorf(l.pos.Line, "%s latency needs both p50 and p95 above zero, like {p50: 800ms, p95: 2s}", what)
		} else if l.P95 < l.P50 {
			c.errorf(l.pos.Of("p95"), "%s latency p95 (%s) is below p50 (%s): raise p95 to at least %s, or lower p50", what, FormatDuration(l.P95.D()), FormatDuration(l.P50.D()), FormatDuration(l.P50.D()))
		}
	}
	if l.TTFT != nil || l.pos.Has("tokens_per_second") {
		forms++
		switch {
		case l.pos.Has("tokens_per_second") && l.TokensPerSecond <= 0:
			c.errorf(l.pos.Of("tokens_per_second"), "%s latency tokens_per_second must be more than 0: write how many output tokens a second the model writes, like 80", what)
		case l.TTFT == nil || l.TokensPerSecond <= 0:
			c.errorf(l.pos.Line, "%s latency: ttft and tokens_per_second go together, like {ttft: {p50: 400ms, p95: 1.2s}, tokens_per_second: 80}", what)
		case l.TTFT.P50 <= 0 || l.TTFT.P95 <= 0:
			c.errorf(l.TTFT.pos.Line, "%s latency ttft needs both p50 and p95 above zero", what)
		case l.TTFT.P95 < l.TTFT.P50:
			c.errorf(l.TTFT.pos.Of("p95"), "%s latency ttft p95 (%s) is below its p50 (%s): raise p95 to at least %s, or lower p50", what, FormatDuration(l.TTFT.P95.D()), FormatDuration(l.TTFT.P50.D()), FormatDuration(l.TTFT.P50.D()))
		}
	}
	if len(l.Samples) > 0 {
		forms++
		for _, d := range l.Samples {
			if d <= 0 {
				c.errorf(l.pos.Of("samples"), "%s latency samples must be above zero", what)
				break
			}
		}
	}
	switch forms {
	case 0:
		c.errorf(l.pos.Line, "%s latency is empty: give {p50, p95}, {ttft, tokens_per_second} or samples: [...]", what)
	case 1:
	default:
		c.errorf(l.pos.Line, "%s latency mixes forms: give one of {p50, p95}, {ttft, tokens_per_second} or samples", what)
	}
}

// DefaultRequestTimeout is server.request_timeout's default: the longest the gateway lets a
// request take, retries and fallbacks included.
const DefaultRequestTimeout = 120 * time.Second

// CallBound returns the bound on one call to m in the gateway: the model's timeout, else its
// provider's, cut at server.request_timeout (DefaultRequestTimeout without one), which bounds
// the whole request. from says whose timeout m has, "model" or "provider" ("" when neither
// sets one); byRequest that the bound is the request's timeout (m has no timeout of its own
// shorter than it), so that a call cut by it leaves the request no time for another.
func (s *Spec) CallBound(m *Model) (d time.Duration, from string, byRequest bool) {
	req := s.Server.RequestTimeout.D()
	if req <= 0 {
		req = DefaultRequestTimeout
	}
	own := m.Timeout.D()
	if own > 0 {
		from = "model"
	} else if m.Resolved.Provider != nil {
		if own = m.Resolved.Provider.Timeout.D(); own > 0 {
			from = "provider"
		}
	}
	if own > 0 && own < req {
		return own, from, false
	}
	return req, from, true
}

// callLimit returns the longest a call to m may take in the gateway (Spec.CallBound), the
// setting that bounds it and how it is set.
func (c *checker) callLimit(m *Model) (limit time.Duration, setting, how string) {
	limit, from, byRequest := c.spec.CallBound(m)
	if !byRequest {
		setting = fmt.Sprintf("the timeout of model %q", m.Name)
		if from == "provider" {
			setting = fmt.Sprintf("the timeout of provider %q", m.Provider.Name)
		}
		return limit, setting, FormatDuration(limit)
	}
	setting, how = "server.request_timeout", FormatDuration(limit)
	if c.spec.Server.RequestTimeout.D() <= 0 {
		how += " by default"
	}
	if from == "" {
		how += ", as neither the model nor its provider sets a timeout"
	}
	return limit, setting, how
}

// checkLatencyTimeouts warns about a latency assumption, a model's or a category's for it,
// whose median or 95th percentile is more than a call to the model may take (callLimit): such
// calls time out. A median of a hundred seconds or more, written in whole seconds, that would
// fit as milliseconds is most likely written in the wrong unit.
func (c *checker) checkLatencyTimeouts() {
	for _, m := range c.spec.Models {
		if m.Latency != nil {
			c.checkLatencyTimeout(m, m.Latency, fmt.Sprintf("model %q", m.Name))
		}
	}
	for _, cat := range c.spec.Categories {
		for _, name := range slices.Sorted(maps.Keys(cat.Assume.Latency)) {
			if m, l := c.models[name], cat.Assume.Latency[name]; m != nil && l != nil {
				c.checkLatencyTimeout(m, l, fmt.Sprintf("category %q model %q", cat.Name, name))
			}
		}
	}
}

func (c *checker) checkLatencyTimeout(m *Model, l *Latency, what string) {
	type quantile struct {
		key  string
		d    time.Duration
		line int
	}
	var qs [2]quantile // p50, p95
	hint := "p50: %dms, p95: %dms"
	switch {
	case l.P50 > 0:
		qs = [2]quantile{{"p50", l.P50.D(), l.pos.Of("p50")}, {"p95", l.P95.D(), l.pos.Of("p95")}}
	case l.TTFT != nil:
		qs = [2]quantile{{"ttft p50", l.TTFT.P50.D(), l.TTFT.pos.Of("p50")}, {"ttft p95", l.TTFT.P95.D(), l.TTFT.pos.Of("p95")}}
		hint = "ttft: {p50: %dms, p95: %dms}"
	case len(l.Samples) > 0:
		ds := make([]time.Duration, len(l.Samples))
		for i, d := range l.Samples {
			ds[i] = d.D()
		}
		slices.Sort(ds)
		line := l.pos.Of("samples")
		qs = [2]quantile{{"samples' median", l.StatedMedian(), line}, {"samples' 95th percentile", ds[(len(ds)-1)*95/100], line}}
		hint = ""
	default:
		return
	}
	limit, setting, how := c.callLimit(m)
	q, share := qs[0], "most of its calls"
	switch {
	case qs[0].d > limit:
	case qs[1].d > limit:
		q, share = qs[1], "more than 5% of its calls"
	default:
		return
	}
	msg := fmt.Sprintf("%s latency %s %s is more than the %s a call to %s may take (%s, %s): %s would time out",
		what, q.key, FormatDuration(q.d), FormatDuration(limit), m.Name, setting, how, share)
	whole := func(d time.Duration) bool { return d > 0 && d%time.Second == 0 }
	if hint != "" && whole(qs[0].d) && whole(qs[1].d) && qs[0].d >= 100*time.Second && q.d/1000 <= limit {
		msg += "; if the latency is in milliseconds, write " + fmt.Sprintf(hint, qs[0].d/time.Second, qs[1].d/time.Second) + "; else raise " + setting
	} else {
		msg += "; raise " + setting + ", or correct the latency"
	}
	c.warnf(q.line, "%s", msg)
}

// checkModelFallbackCycles finds cycles in models' own fallback lists.
func (c *checker) checkModelFallbackCycles() {
	const (
		unvisited = iota
		onStack
		done
	)
	state := make(map[string]int, len(c.models))
	var stack []string
	var visit func(m *Model) bool
	visit = func(m *Model) bool {
		state[m.Name] = onStack
		stack = append(stack, m.Name)
		for _, f := range m.Fallback {
			next, ok := c.models[f.Name]
			if !ok || next == m {
				continue
			}
			switch state[next.Name] {
			case onStack:
				i := slices.Index(stack, next.Name)
				cycle := append(slices.Clone(stack[i:]), next.Name)
				c.errorf(f.Line, "fallback cycle: %s; remove one of these fallbacks", strings.Join(cycle, " → "))
				return true
			case unvisited:
				if visit(next) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[m.Name] = done
		return false
	}
	for _, m := range c.spec.Models {
		if state[m.Name] == unvisited {
			stack = stack[:0]
			visit(m)
		}
	}
}

func (c *checker) checkCategories() {
	s := c.spec
	c.cats = make(map[string]*Category, len(s.Categories))
	if len(s.Categories) == 0 {
		c.errorf(s.pos.Of("categories"), "the spec has no categories: add categories: with at least one {name, share, tokens, quality_bar, route}")
		return
	}
	var sum float64
	for i, cat := range s.Categories {
		label := fmt.Sprintf("categories[%d]", i)
		if cat.Name == "" {
			c.errorf(cat.pos.Line, "%s has no name: add name:", label)
		} else {
			c.checkName(cat.Name, "category", cat.pos.Of("name"))
			if prev, dup := c.cats[cat.Name]; dup {
				c.errorf(cat.pos.Of("name"), "category %q is declared twice (first at line %d): rename or remove one", cat.Name, prev.pos.Of("name"))
			}
			c.cats[cat.Name] = cat
			label = fmt.Sprintf("category %q", cat.Name)
		}
		switch {
		case cat.pos.Has("share") || s.pipelineStep(cat.Name):
		case len(s.Pipelines) > 0:
			c.errorf(cat.pos.Line, "%s has no share and is no pipeline's step: add share: the fraction of user requests that call it alone, outside any pipeline (like 0.25), or add it to a pipeline's steps", label)
		default:
			c.errorf(cat.pos.Line, "%s has no share: add share: the fraction of traffic it carries, like 0.25", label)
		}
		cat.DirectShare = cat.Share
		sum += float64(cat.Share)
		c.checkCategory(cat, label)
	}
	if math.Abs(sum-1) > 1e-6 && len(s.Pipelines) == 0 { // with pipelines, checkPipelines sums
		var parts []string
		var shares []float64
		for _, cat := range s.Categories {
			parts = append(parts, fmt.Sprintf("%s %s", cat.Name, fraction(float64(cat.Share))))
			shares = append(shares, float64(cat.Share))
		}
		c.errorf(s.pos.Of("categories"), "category shares sum to %s, not 1 (%s): %s", fraction(sum), strings.Join(parts, ", "), sumFix(sum, shares...))
	}
}

func (c *checker) checkCategory(cat *Category, label string) {
	t := cat.Tokens
	if !cat.pos.Has("tokens") {
		c.errorf(cat.pos.Line, "%s has no tokens: add tokens: {in: N, out: N}, the average input and output tokens per request", label)
	} else {
		if !t.pos.Has("in") || t.In.P50 <= 0 {
			c.errorf(t.pos.Of("in"), "%s tokens.in must be above zero: write the average input tokens per request, like in: 400, or a spread, like in: {p50: 400, p95: 1600}", label)
		}
		if !t.pos.Has("out") || t.Out.P50 <= 0 {
			c.errorf(t.pos.Of("out"), "%s tokens.out must be above zero: write the average output tokens per answer, like out: 200, or a spread, like out: {p50: 200, p95: 800}", label)
		}
	}
	if cat.QualityBar == nil {
		c.errorf(cat.pos.Line, "%s has no quality_bar: add quality_bar: the minimum acceptable pass rate, like 0.95", label)
	}
	if cat.pos.Has("latency_budget") && cat.LatencyBudget == 0 {
		c.errorf(cat.pos.Of("latency_budget"), "%s latency_budget must be more than 0, like 2s (the p95 response time the category must meet); leave latency_budget out for no budget", label)
	}
	if cat.Route == nil {
		c.errorf(cat.pos.Line, "%s has no route: add route: {model: NAME}, route: {cascade: [CHEAP, STRONG]} or route: {split: [...]}", label)
	} else {
		c.checkRoute(cat.Route, label, true)
		c.checkAgreement(cat.Route, cat.Fallback, label)
		c.checkScoreOrder(cat, cat.Route, label)
		c.checkContextWindows(cat, cat.Route, cat.Fallback, label)
		c.checkMaxOutput(cat, cat.Route, cat.Fallback, label)
		c.checkTokenMagnitude(cat, label)
		c.checkReasoningBilled(cat, label)
	}
	if !cat.pos.Has("failure_impact") {
		c.warnf(cat.pos.Line, "%s has no failure_impact: the estimate counts its bad answers and failed requests as costing nothing, so its risk is $0 and policies are compared on its cost alone; add failure_impact: {bad_answer: USD}, what a wrong answer costs the business", label)
	}
	c.checkFallbacks(cat.Fallback, cat.Route, label)
	if cat.Retry != nil {
		c.checkRetry(cat.Retry)
	}
	if cat.Review != nil && cat.Review.Last.After(c.opts.today()) {
		c.errorf(cat.Review.pos.Of("last"), "%s review date %s is in the future: write the date of its last review, today (%s) or earlier", label, cat.Review.Last, c.opts.today().Format(time.DateOnly))
	} else if cat.Review != nil && (!cat.Review.Last.IsZero() || !cat.Review.Cadence.IsZero()) {
		cadence := cat.Review.Cadence
		if cadence.IsZero() {
			cadence = c.spec.Review.Cadence
		}
		if last, due := c.spec.LastReview(cat); !last.IsZero() {
			c.checkOverdue(reviewStatus(last, due, cadence, c.opts.today()), label+"'s review", "its review.last", cat.Review.pos.Of("last"))
		}
	}
	c.checkAssumptions(cat, label)
	c.checkStrength(cat, label)
	if cat.Shadow != nil {
		c.checkShadow(cat, label)
		c.checkShadowBudget(cat, label)
	}
}

func (c *checker) checkShadow(cat *Category, label string) {
	sh := cat.Shadow
	if len(sh.Models) == 0 {
		c.errorf(sh.pos.Line, "%s shadow names no models: add models: [CANDIDATE] to shadow", label)
	}
	routed := cat.Route.Models()
	validators, _ := cat.Route.MainValidators()
	for _, m := range sh.Models {
		c.model(m, label+" shadow model")
		if slices.ContainsFunc(routed, func(r Ref) bool { return r.Name == m.Name }) {
			c.warnf(m.Line, "%s shadows %q, which its route already uses: its outcomes are recorded on real traffic already", label, m.Name)
		}
		if _, ok := AgreementCheckers(validators, m.Name); !ok {
			c.warnf(m.Line, "%s shadows %q, the only checker of its agreement check: every shadow answer would be checked by its own model and recorded as failing; add a second checker (agree models: [%s, OTHER])", label, m.Name, m.Name)
		}
	}
	at := func(key string) int {
		if sh.pos.Has(key) {
			return sh.pos.Of(key)
		}
		return sh.pos.Line
	}
	if !sh.pos.Has("sample") || sh.Sample <= 0 {
		c.errorf(at("sample"), "%s shadow needs sample: a fraction of requests in (0, 1], like 0.05", label)
	}
	if !sh.pos.Has("daily_budget") || sh.DailyBudget <= 0 {
		c.errorf(at("daily_budget"), "%s shadow needs daily_budget: the most shadow calls may cost per day, like 5.00 (dollars)", label)
	}
	if sh.Concurrency < 0 {
		c.errorf(sh.pos.Of("concurrency"), "%s shadow concurrency cannot be negative", label)
	}
}

func (c *checker) checkDrift() {
	d := &c.spec.Drift
	if d.Window < 0 || d.Reference < 0 {
		c.errorf(d.pos.Line, "drift window and reference are request counts and cannot be negative")
	}
	if d.Window > 0 && d.Reference > 0 && d.Reference < d.Window {
		c.errorf(d.pos.Of("reference"), "drift.reference (%d) is shorter than drift.window (%d): the reference should hold several windows", d.Reference, d.Window)
	}
	if d.pos.Has("false_alarm") && (d.FalseAlarm <= 0 || d.FalseAlarm >= 0.5) {
		c.errorf(d.pos.Of("false_alarm"), "drift.false_alarm must be in (0, 0.5), like 0.001")
	}
	if d.Webhook != "" {
		if u, err := url.Parse(d.Webhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			c.errorf(d.pos.Of("webhook"), "drift.webhook %q: write an http or https URL", d.Webhook)
		}
	}
}

func (c *checker) checkFallbacks(fallback []Ref, route *Route, label string) {
	seen := map[string]int{}
	for _, f := range fallback {
		if c.model(f, label+" fallback") == nil {
			continue
		}
		if first, dup := seen[f.Name]; dup {
			c.errorf(f.Line, "%s fallback lists %q twice (first at line %d): each model is tried once", label, f.Name, first)
		}
		seen[f.Name] = f.Line
		if route != nil && route.Model != nil && route.Model.Name == f.Name {
			c.errorf(f.Line, "%s falls back to %q, its own route model: a model cannot fall back to itself", label, f.Name)
		}
	}
}

func (c *checker) checkRoute(r *Route, label string, allowSplit bool) {
	forms := 0
	if r.Model != nil {
		forms++
		c.model(*r.Model, label+" route model")
	}
	if r.pos.Has("cascade") {
		forms++
		if len(r.Cascade) == 0 {
			c.errorf(r.pos.Of("cascade"), "%s cascade is empty: list the models to try, cheapest first", label)
		}
		switch {
		case len(r.Cascade) == 1:
			c.warnf(r.pos.Of("cascade"), "%s cascade has one step: it validates but has nowhere to escalate", label)
		case len(r.Cascade) > 1 && !r.Validated():
			// A step moves on when its answer fails validation, or when its model and every
			// fallback of it fail with provider errors (see route.Plan and the estimate's plans).
			c.warnf(r.pos.Of("cascade"), "%s cascade has no validators, so no answer fails and the steps after %q are used only when a call to %s and its fallbacks fails with a provider error: add validate: [...] to the route or its steps to escalate failed answers, or route to one model with fallback: [...]",
				label, r.Cascade[0].Model.Name, r.Cascade[0].Model.Name)
		}
		seen := map[string]bool{}
		for _, st := range r.Cascade {
			c.model(st.Model, label+" cascade step")
			if seen[st.Model.Name] {
				c.errorf(st.Model.Line, "%s cascade lists %s twice: a cascade tries each model once; to call a model again on a failed answer, use on_fail: retry_once", label, st.Model.Name)
			}
			seen[st.Model.Name] = true
			c.checkOnFail(st.OnFail, st.pos.Of("on_fail"), label)
			if st.OnFail != "" && len(st.Validate) == 0 && len(r.Validate) == 0 {
				c.warnf(st.pos.Of("on_fail"), "%s cascade step %s sets on_fail, but its answers are not validated, so none ever fails: add validate: [...] to the step or the route, or remove on_fail", label, st.Model.Name)
			}
			for _, v := range st.Validate {
				v.Config.check(c, v.Line)
			}
		}
	}
	if r.Score != nil {
		forms++
		c.checkScore(r, label)
	}
	if r.pos.Has("split") {
		forms++
		if !allowSplit {
			c.errorf(r.pos.Of("split"), "%s: a split arm cannot split again; flatten the weights into one split", label)
		}
		if len(r.Split) < 2 {
			c.errorf(r.pos.Of("split"), "%s split needs at least two arms", label)
		}
		var sum float64
		weights := make([]float64, 0, len(r.Split))
		for i, a := range r.Split {
			sum += a.Weight
			weights = append(weights, a.Weight)
			c.checkRoute(&a.Route, fmt.Sprintf("%s split arm %d", label, i+1), false)
		}
		if len(r.Split) > 0 && math.Abs(sum-1) > 1e-6 {
			c.errorf(r.pos.Of("split"), "%s split weights sum to %s, not 1: %s", label, fraction(sum), sumFix(sum, weights...))
		}
		if len(r.Validate) > 0 {
			c.errorf(r.pos.Of("validate"), "%s: put validate inside each split arm, not beside split", label)
		}
	}
	switch forms {
	case 0:
		c.errorf(r.pos.Line, "%s route names no model: use model: NAME, cascade: [CHEAP, STRONG], split: [...] or score: {...}", label)
	case 1:
	default:
		c.errorf(r.pos.Line, "%s route mixes model, cascade, split and score: use exactly one", label)
	}
	for _, v := range r.Validate {
		v.Config.check(c, v.Line)
	}
	c.checkOnFail(r.OnFail, r.pos.Of("on_fail"), label)
	switch {
	case r.OnFail == "":
	case len(r.Split) > 0:
		c.warnf(r.pos.Of("on_fail"), "%s sets on_fail beside split, where it does nothing: put on_fail inside each split arm that validates", label)
	case !r.Validated():
		c.warnf(r.pos.Of("on_fail"), "%s route sets on_fail, but nothing on it is validated, so no answer ever fails: add validate: [...] to the route, or remove on_fail", label)
	}
	switch {
	case r.MaxSteps < 0:
		c.errorf(r.pos.Of("max_steps"), "%s max_steps cannot be negative", label)
	case r.MaxSteps == 0:
	case len(r.Split) > 0:
		c.warnf(r.pos.Of("max_steps"), "%s sets max_steps beside split, where it does nothing: put max_steps inside each split arm that cascades", label)
	case r.Model != nil:
		c.warnf(r.pos.Of("max_steps"), "%s route sets max_steps, but a route to one model has one step, so it caps nothing: remove max_steps", label)
	case len(r.Cascade) > 0 && r.MaxSteps >= len(r.Cascade):
		c.warnf(r.pos.Of("max_steps"), "%s max_steps %d caps nothing: the cascade has %d steps; lower max_steps below %d, or remove it", label, r.MaxSteps, len(r.Cascade), len(r.Cascade))
	case len(r.Cascade) > 0:
		c.warnUnreachableSteps(r, label)
	}
	switch {
	case r.OnExhausted != "" && r.OnExhausted != ExhaustedDeliver && r.OnExhausted != ExhaustedFail:
		c.errorf(r.pos.Of("on_exhausted"), "%s on_exhausted %q: write %s (deliver the last answer, flagged) or %s (fail the request)", label, r.OnExhausted, ExhaustedDeliver, ExhaustedFail)
	case r.OnExhausted == "":
	case len(r.Split) > 0:
		c.warnf(r.pos.Of("on_exhausted"), "%s sets on_exhausted beside split, where it does nothing: put on_exhausted inside each split arm that validates", label)
	case !r.Validated():
		c.warnf(r.pos.Of("on_exhausted"), "%s route sets on_exhausted, but nothing on it is validated, so no answer ever fails and no request exhausts the route: add validate: [...] to the route, or remove on_exhausted", label)
	}
}

// warnUnreachableSteps warns about a cascade whose max_steps is shorter than it: a cascade
// tries its steps in order, so every request stops by step max_steps and the steps after it
// are never called, whatever the validators say.
func (c *checker) warnUnreachableSteps(r *Route, label string) {
	var never []string
	for _, st := range r.Cascade[r.MaxSteps:] {
		never = append(never, st.Model.Name)
	}
	last := r.Cascade[r.MaxSteps-1].Model.Name
	verb := "is"
	if len(never) > 1 {
		verb = "are"
	}
	if r.MaxSteps == 1 {
		c.warnf(r.pos.Of("max_steps"), "%s max_steps 1 stops every request at the cascade's first step, %s: %s %s never called, so the route is %s alone and escalates no answer; write route: {model: %s} (with its validate) if that is meant, or remove max_steps to escalate",
			label, last, strings.Join(never, ", "), verb, last, last)
		return
	}
	c.warnf(r.pos.Of("max_steps"), "%s max_steps %d stops every request by the cascade's step %d, %s: %s %s never called; remove %s from the cascade if that is meant, or raise max_steps to %d or remove it to escalate",
		label, r.MaxSteps, r.MaxSteps, last, strings.Join(never, ", "), verb, strings.Join(never, ", "), len(r.Cascade))
}

// checkAgreement reports agreement checks that cannot be independent. A step whose own model is
// its agree model would compare an answer with the same model's second answer: an error. A step
// that can fail over to its agree model (through the model's or the category's fallbacks)
// compares the fallback's answer with its own when it does: a warning, since it happens only
// when the step's model fails.
func (c *checker) checkAgreement(r *Route, fallback []Ref, label string) {
	for i, a := range r.Split {
		c.checkAgreement(&a.Route, fallback, fmt.Sprintf("%s split arm %d", label, i+1))
	}
	type checked struct {
		model Ref
		vs    []*Validator
	}
	var steps []checked
	switch {
	case r.Model != nil:
		steps = append(steps, checked{*r.Model, r.Validate})
	case r.Score != nil:
		for _, m := range r.Score.Models {
			steps = append(steps, checked{m, r.Validate})
		}
		for _, m := range r.Score.Escalate {
			if !slices.ContainsFunc(r.Score.Models, func(s Ref) bool { return s.Name == m.Name }) {
				steps = append(steps, checked{m, r.Validate})
			}
		}
	default:
		for _, st := range r.Cascade {
			vs := st.Validate
			if len(vs) == 0 {
				vs = r.Validate
			}
			steps = append(steps, checked{st.Model, vs})
		}
	}
	later := map[string]int{} // models that later steps call, which a step does not fail over to
	for _, st := range steps {
		later[st.model.Name]++
	}
	for _, st := range steps {
		later[st.model.Name]--
		m := c.models[st.model.Name]
		for _, v := range st.vs {
			ag, ok := v.Config.(*Agree)
			if !ok || len(ag.Checkers()) == 0 {
				continue
			}
			chk, ok := ag.CheckerFor(st.model.Name)
			if !ok {
				line := ag.Checkers()[0].Line
				c.errorf(line, "%s: step %s is checked by agree with %s itself, which is no independent check: name another model (or models: [%s, OTHER], OTHER checking %s's own answers), or validate this step otherwise", label, st.model.Name, st.model.Name, st.model.Name, st.model.Name)
				continue
			}
			if m == nil {
				continue
			}
			chain := c.spec.FailoverChain(m, fallback, func(fm *Model) bool { return later[fm.Name] > 0 })
			if slices.ContainsFunc(chain, func(fm *Model) bool { return fm.Name == chk.Name }) {
				if _, other := ag.CheckerFor(chk.Name); !other {
					c.warnf(chk.Line, "%s: when %s fails over to %s, agree compares %s's answer with a second answer of %s, which is no independent check", label, st.model.Name, chk.Name, chk.Name, chk.Name)
				}
			}
		}
	}
}

func (c *checker) checkOnFail(v string, line int, label string) {
	if v != "" && v != OnFailEscalate && v != OnFailRetryOnce {
		c.errorf(line, "%s on_fail %q: write %s or %s", label, v, OnFailEscalate, OnFailRetryOnce)
	}
}

func (c *checker) checkAssumptions(cat *Category, label string) {
	a := cat.Assume
	for name := range a.PassRate {
		if _, ok := c.models[name]; !ok {
			c.errorf(a.entryLine("pass_rate", name), "%s assume.pass_rate names %q, which is not a model declared under models:%s", label, name, suggestFrom(name, c.modelNames(), "declared models"))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(a.EscalatedPassRate)) {
		if _, ok := c.models[name]; !ok {
			c.errorf(a.entryLine("escalated_pass_rate", name), "%s assume.escalated_pass_rate names %q, which is not a model declared under models:%s", label, name, suggestFrom(name, c.modelNames(), "declared models"))
			continue
		}
		if pr, ok := a.PassRate[name]; ok && a.EscalatedPassRate[name] > pr {
			c.warnf(a.entryLine("escalated_pass_rate", name), "%s assume.escalated_pass_rate %s for %s is above its pass_rate %s: escalated requests are those an earlier step's answer failed, harder than the category's average, so a model does no better on them; write an escalated pass rate at most %s, or measure it with clearbar replay --calibrate",
				label, fraction(float64(a.EscalatedPassRate[name])), name, fraction(float64(pr)), fraction(float64(pr)))
		}
	}
	for name, l := range a.Latency {
		if _, ok := c.models[name]; !ok {
			c.errorf(l.pos.Line, "%s assume.latency names %q, which is not a model declared under models:%s", label, name, suggestFrom(name, c.modelNames(), "declared models"))
			continue
		}
		c.checkLatency(l, fmt.Sprintf("%s model %q", label, name))
	}
	if cat.Route == nil {
		return
	}
	needed := map[string]int{}
	for _, r := range cat.Route.Models() {
		needed[r.Name] = r.Line
	}
	for _, f := range cat.Fallback {
		needed[f.Name] = f.Line
	}
	for _, name := range c.modelNames() {
		line, ok := needed[name]
		if !ok {
			continue
		}
		if _, known := c.models[name]; !known {
			continue
		}
		if _, ok := a.PassRate[name]; !ok {
			c.errorf(line, "%s routes to %q but assume.pass_rate has no value for it: add assume: {pass_rate: {%s: 0.9}} with your best estimate, or measure it", label, name, name)
		}
	}
	if sc := cat.Route.Score; sc != nil {
		var sum float64
		for name, v := range a.ScoreShare {
			sum += float64(v)
			if !slices.ContainsFunc(sc.Models, func(r Ref) bool { return r.Name == name }) {
				c.errorf(a.entryLine("score_share", name), "%s assume.score_share names %q, which is not a model of its score route", label, name)
			}
		}
		for name := range a.ScorePassRate {
			if !slices.ContainsFunc(sc.Models, func(r Ref) bool { return r.Name == name }) {
				c.errorf(a.entryLine("score_pass_rate", name), "%s assume.score_pass_rate names %q, which is not a model of its score route", label, name)
			}
		}
		switch {
		case len(a.ScoreShare) == 0:
			c.warnf(cat.Route.pos.Line, "%s is routed by score but assume.score_share is not given: estimates assume an equal share per model; measure it with clearbar replay", label)
		case math.Abs(sum-1) > 1e-6:
			c.errorf(a.pos.Of("score_share"), "%s assume.score_share sums to %.4g, not 1", label, sum)
		}
	} else {
		// Not checked against a score route's models: a split arm's or a policy's score route
		// may use them, and checkUnusedScoreAssumptions warns when none does.
		for _, m := range []struct {
			key   string
			rates map[string]Prob
		}{{"score_share", a.ScoreShare}, {"score_pass_rate", a.ScorePassRate}} {
			for _, name := range slices.Sorted(maps.Keys(m.rates)) {
				if _, ok := c.models[name]; !ok {
					c.errorf(a.entryLine(m.key, name), "%s assume.%s names %q, which is not a model declared under models:%s", label, m.key, name, suggestFrom(name, c.modelNames(), "declared models"))
				}
			}
		}
	}
	if cat.Route.Validated() && a.Validator == nil {
		c.warnf(cat.Route.pos.Line, "%s validates answers but states no validator strength: assuming detect %.2f, false_alarm %.2f; add assume: {validator: {detect: D, false_alarm: F}} or calibrate it", label, DefaultStrength.Detect, DefaultStrength.FalseAlarm)
	}
	if cat.Route.Judged() && (a.Validator == nil || a.Validator.Calibrated.IsZero()) {
		c.warnf(cat.Route.pos.Line, "%s trusts an LLM judge whose strength is assumed, not measured: label a few dozen answers and run clearbar validate calibrate SPEC --category %s OUTCOMES --update before relying on it", label, cat.Name)
	}
}

// DefaultStrength is assumed for a validated route with no stated validator strength: a
// validator that catches half the bad answers and flags 2% of good ones.
var DefaultStrength = Strength{Detect: 0.5, FalseAlarm: 0.02}

// checkStrength checks a category's stated validator strength for plausibility. Detect below
// false_alarm flags good answers more often than bad ones, most likely the two swapped: an
// error, or a warning when validate calibrate measured it so. Detect equal to false_alarm tells
// good answers from bad no better than chance. A near-perfect strength of checks that call no
// model (json_schema, max_length, regex, …), which see an answer's form and not whether it is
// right, is warned about unless it was measured (calibrated): a category's why is its route's
// rationale, not a measurement, so it does not silence the warning.
func (c *checker) checkStrength(cat *Category, label string) {
	v := cat.Assume.Validator
	if v == nil {
		return
	}
	d, f := float64(v.Detect), float64(v.FalseAlarm)
	line := v.pos.Of("detect")
	switch {
	case d < f && v.Calibrated.IsZero():
		c.errorf(line, "%s assume.validator detect %s is below false_alarm %s: the validator flags good answers more often than bad ones; did you swap detect and false_alarm? detect is the share of bad answers it flags, false_alarm the share of good ones: write {detect: %s, false_alarm: %s}",
			label, fraction(d), fraction(f), fraction(f), fraction(d))
	case d < f:
		c.warnf(line, "%s assume.validator, calibrated on %s, has detect %s below false_alarm %s: the validator flags good answers more often than bad ones, so escalating on it fails good answers and keeps bad ones; check the labels it was calibrated on, or fix or remove the validator",
			label, v.Calibrated, fraction(d), fraction(f))
	case d == f && d > 0:
		c.warnf(line, "%s assume.validator detect and false_alarm are both %s: the validator flags good and bad answers alike, no better than chance, so escalating on it adds cost and no quality; write the rates it has (detect is the share of bad answers it flags, false_alarm the share of good ones), or remove the validator",
			label, fraction(d))
	}
	if d < 0.999 || f > 0 || !v.Calibrated.IsZero() {
		return
	}
	var vs []*Validator
	if cat.Route != nil {
		vs = routeValidators(cat.Route)
	}
	for _, p := range c.spec.Policies {
		if pr, ok := p.Routes[cat.Name]; ok {
			vs = append(vs, routeValidators(&pr.Route)...)
		}
	}
	if len(vs) == 0 || slices.ContainsFunc(vs, (*Validator).CallsModel) {
		return
	}
	var kinds []string
	for _, v := range vs {
		if !slices.Contains(kinds, v.Kind) {
			kinds = append(kinds, v.Kind)
		}
	}
	c.warnf(line, "%s assumes its validators (%s) catch %s of bad answers and flag no good one, but they check an answer's form, not whether it is right, and a format check rarely catches every wrong answer: the estimate then delivers almost no bad answer; write the share they catch (like detect: 0.9), or measure it (clearbar validate calibrate SPEC --category %s OUTCOMES --update)",
		label, strings.Join(kinds, ", "), shareText(d), cat.Name)
}

// checkPolicyValidation warns about a named policy's route that validates answers with a
// strength nobody measured, as checkAssumptions does about a category's own route. The strength
// is the category's (one per category), so a policy's route is warned about only where the
// category's own route is not: one that validates while the category states no strength, and
// one that trusts an LLM judge while the category's own route has none, whose strength (stated,
// calibrated or not) then describes other validators. validate calibrate measures the
// validators of a category's own route only.
func (c *checker) checkPolicyValidation(cat *Category, r *Route, label string) {
	a, own := cat.Assume, cat.Route
	if r.Validated() && a.Validator == nil && (own == nil || !own.Validated()) {
		c.warnf(r.pos.Line, "%s validates answers, but category %q states no validator strength: assuming detect %.2f, false_alarm %.2f; add assume: {validator: {detect: D, false_alarm: F}} to category %q, or calibrate it",
			label, cat.Name, DefaultStrength.Detect, DefaultStrength.FalseAlarm, cat.Name)
	}
	if !r.Judged() || own != nil && own.Judged() {
		return
	}
	var strength string
	switch {
	case a.Validator == nil:
		strength = "states none, so the default is assumed"
	case a.Validator.Calibrated.IsZero():
		strength = "is an assumption"
	default:
		strength = "was calibrated on its own route's validators, which include no judge"
	}
	c.warnf(r.pos.Line, "%s trusts an LLM judge whose strength is assumed, not measured: category %q's assume.validator %s; label a few dozen answers and run clearbar validate calibrate SPEC --category %s OUTCOMES --update with this route as the category's (calibrate measures the category's own route) before relying on the policy",
		label, cat.Name, strength, cat.Name)
}

// checkZeroPassRates warns about a pass rate of exactly 0 assumed for a model that a category's
// route, its fallbacks or a named policy's route for it uses: every answer of the model counts
// as bad, which is most likely a slip for an unknown pass rate.
func (c *checker) checkZeroPassRates() {
	for _, cat := range c.spec.Categories {
		if cat.Route == nil {
			continue
		}
		users := map[string]string{} // model name → what uses it
		for _, r := range cat.Route.Models() {
			users[r.Name] = "its route"
		}
		for _, m := range c.spec.RouteCandidates(cat.Route, cat.Fallback) {
			if _, ok := users[m.Name]; !ok {
				users[m.Name] = "its fallbacks"
			}
		}
		for _, p := range c.spec.Policies {
			pr, ok := p.Routes[cat.Name]
			if !ok {
				continue
			}
			fallback := cat.Fallback
			if pr.HasFallback {
				fallback = pr.Fallback
			}
			for _, m := range c.spec.RouteCandidates(&pr.Route, fallback) {
				if _, ok := users[m.Name]; !ok {
					users[m.Name] = fmt.Sprintf("policy %q's route for it", p.Name)
				}
			}
		}
		for _, name := range slices.Sorted(maps.Keys(cat.Assume.PassRate)) {
			use, ok := users[name]
			if !ok || cat.Assume.PassRate[name] != 0 {
				continue
			}
			c.warnf(cat.Assume.entryLine("pass_rate", name), "category %q assumes a pass rate of 0 for %s, used by %s: a pass rate of 0 means every answer of %s is bad; if it is unknown, measure it with clearbar eval or assume a value, like %s: 0.9",
				cat.Name, name, use, name, name)
		}
	}
}

// Built-in policies: clearbar estimate compares the spec's routes (PolicySpec), every category
// on one model (PolicySinglePrefix and the model's name), the cheapest single model that clears
// per category (PolicyCheapestPassing) and a cascade in price order (PolicyCascadeByPrice). A
// named policy may not take one of these names, nor any name that starts with
// PolicySinglePrefix.
const (
	PolicySpec            = "spec"
	PolicySinglePrefix    = "all-"
	PolicyCheapestPassing = "cheapest-passing"
	PolicyCascadeByPrice  = "cascade-by-price"
)

// ReservedPolicyName reports whether name is taken by a built-in policy (see PolicySpec).
func ReservedPolicyName(name string) bool {
	switch name {
	case PolicySpec, PolicyCheapestPassing, PolicyCascadeByPrice:
		return true
	}
	return strings.HasPrefix(name, PolicySinglePrefix)
}

func (c *checker) checkPolicies() {
	for _, p := range c.spec.Policies {
		c.checkName(p.Name, "policy", p.pos.Line)
		if ReservedPolicyName(p.Name) {
			c.errorf(cmp.Or(p.nameLine, p.pos.Line), "policy %q has the name of a policy clearbar estimate builds itself: %s, %sMODEL, %s and %s are reserved; rename it", p.Name, PolicySpec, PolicySinglePrefix, PolicyCheapestPassing, PolicyCascadeByPrice)
		}
		if len(p.Routes) == 0 {
			c.errorf(p.pos.Line, "policy %q changes no routes: add routes: {CATEGORY: {model: NAME}}", p.Name)
		}
		for catName, pr := range p.Routes {
			label := fmt.Sprintf("policy %q route for %q", p.Name, catName)
			if _, ok := c.cats[catName]; !ok {
				c.errorf(p.routeLines[catName], "policy %q routes category %q, which is not declared under categories:%s", p.Name, catName, suggestFrom(catName, c.categoryNames(), "categories"))
				continue
			}
			c.checkRoute(&pr.Route, label, true)
			if pr.HasFallback {
				c.checkFallbacks(pr.Fallback, &pr.Route, label)
			}
			cat := c.cats[catName]
			fallback := cat.Fallback
			if pr.HasFallback {
				fallback = pr.Fallback
			}
			c.checkAgreement(&pr.Route, fallback, label)
			c.checkScoreOrder(cat, &pr.Route, label)
			c.checkContextWindows(cat, &pr.Route, fallback, label)
			c.checkMaxOutput(cat, &pr.Route, fallback, label)
			c.checkPolicyValidation(cat, &pr.Route, label)
			for _, r := range pr.Route.Models() {
				if _, ok := cat.Assume.PassRate[r.Name]; !ok {
					if _, known := c.models[r.Name]; known {
						c.errorf(r.Line, "%s uses %q, but category %q has no assume.pass_rate for it", label, r.Name, catName)
					}
				}
			}
		}
	}
}

func (c *checker) categoryNames() []string {
	var names []string
	for _, cat := range c.spec.Categories {
		names = append(names, cat.Name)
	}
	return names
}

func (c *checker) checkMatches() {
	defaults := 0
	aliases := map[string]string{}
	for _, cat := range c.spec.Categories {
		if cat.Default {
			defaults++
			if defaults > 1 {
				c.errorf(cat.pos.Of("default"), "category %q is a second default category: only one category may have default: true", cat.Name)
			}
		}
		aliases["clearbar/"+cat.Name] = cat.Name
	}
	// Header and metadata values select the first category that claims them (route.Classify
	// tries categories in file order), so a second claim would never select its category.
	headers, metadata := map[[2]string]string{}, map[[2]string]string{}
	for _, cat := range c.spec.Categories {
		m := cat.Match
		if m == nil {
			continue
		}
		for _, a := range m.Models {
			if strings.TrimSpace(a) == "" {
				c.errorf(m.pos.Of("models"), "category %q match.models has an empty name", cat.Name)
				continue
			}
			if other, dup := aliases[a]; dup && other != cat.Name {
				c.errorf(m.pos.Of("models"), "category %q claims model name %q, which already selects category %q", cat.Name, a, other)
			}
			aliases[a] = cat.Name
		}
		for _, h := range slices.Sorted(maps.Keys(m.Header)) {
			v := m.Header[h]
			if !validHeaderName(h) || v == "" {
				c.errorf(m.pos.Of("header"), "category %q match.header %q: write a header name and the value that selects this category", cat.Name, h)
				continue
			}
			claim := [2]string{textproto.CanonicalMIMEHeaderKey(h), v}
			if other, dup := headers[claim]; dup && other != cat.Name {
				c.errorf(m.pos.Of("header"), "category %q claims header %s: %s, which already selects category %q, so it never selects %q: give one of them another value", cat.Name, h, v, other, cat.Name)
				continue
			}
			headers[claim] = cat.Name
		}
		for _, k := range slices.Sorted(maps.Keys(m.Metadata)) {
			v := m.Metadata[k]
			if k == "" || v == "" {
				c.errorf(m.pos.Of("metadata"), "category %q match.metadata needs non-empty keys and values", cat.Name)
				continue
			}
			claim := [2]string{k, v}
			if other, dup := metadata[claim]; dup && other != cat.Name {
				c.errorf(m.pos.Of("metadata"), "category %q claims metadata %s: %s, which already selects category %q, so it never selects %q: give one of them another value", cat.Name, k, v, other, cat.Name)
				continue
			}
			metadata[claim] = cat.Name
		}
		if m.pos.Has("priority") && strings.TrimSpace(m.When) == "" {
			c.errorf(m.pos.Of("priority"), "category %q match.priority orders rules, but the category has no rule: add match.when", cat.Name)
		}
	}
}

func validHeaderName(h string) bool {
	if h == "" {
		return false
	}
	for _, r := range h {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

var hashRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

func (c *checker) checkKeys() {
	k := c.spec.Keys
	if k == nil {
		return
	}
	// A hash names one key, and a key can be only one client or an admin: the gateway finds a
	// key by its hash, so a hash written twice would let one entry silently stand for the
	// other (the last client's tier and rate limit, or a client key that reads /metrics).
	admins := map[string]int{} // hash → line of its first entry
	// Hex digits are hex digits in either case: a hash written in upper case (as some tools
	// print SHA-256) is the same hash, kept in the lower case the gateway looks keys up by.
	for i := range k.Admin {
		k.Admin[i] = strings.ToLower(k.Admin[i])
	}
	for _, ck := range k.Clients {
		ck.Hash = strings.ToLower(ck.Hash)
	}
	for i, h := range k.Admin {
		line := k.adminLine(i)
		if !hashRE.MatchString(h) {
			c.errorf(line, "admin key %q is not a key hash: write sha256: and 64 hex digits (clearbar keys hash prints it); never the key itself", redactHash(h))
			continue
		}
		if first, ok := admins[h]; ok {
			c.errorf(line, "admin key hash is listed twice (first at line %d): remove one", first)
			continue
		}
		admins[h] = line
	}
	names := map[string]bool{}
	hashes := map[string]*ClientKey{}
	for _, ck := range k.Clients {
		if ck.Name == "" {
			c.errorf(ck.pos.Line, "client key has no name: add name:")
		} else if names[ck.Name] {
			c.errorf(ck.pos.Of("name"), "client key %q is declared twice", ck.Name)
		}
		names[ck.Name] = true
		if !hashRE.MatchString(ck.Hash) {
			c.errorf(ck.pos.Of("hash"), "client key %q: hash %q is not a key hash: write sha256: and 64 hex digits (clearbar keys hash prints it); never the key itself", ck.Name, redactHash(ck.Hash))
		} else if line, ok := admins[ck.Hash]; ok {
			c.errorf(ck.pos.Of("hash"), "client key %q has the hash of an admin key (line %d): a key is either a client's or an admin's; give the client its own key (clearbar keys hash < key.txt), or remove the entry to keep it an admin key", ck.Name, line)
		} else if prev, ok := hashes[ck.Hash]; ok {
			c.errorf(ck.pos.Of("hash"), "client key %q has the same hash as client key %q (line %d): each client needs its own key; hash a new one for one of them (clearbar keys hash < key.txt)", ck.Name, prev.Name, prev.pos.Of("hash"))
		} else {
			hashes[ck.Hash] = ck
		}
		if ck.RateLimit != "" {
			if _, err := ParseRate(ck.RateLimit); err != nil {
				c.errorf(ck.pos.Of("rate_limit"), "client key %q: %v", ck.Name, err)
			}
		}
	}
	if len(k.Clients) > 0 && len(k.Admin) == 0 {
		c.warnf(k.pos.Line, "client keys are configured but no admin key: the admin and decision endpoints, /metrics and the dashboard's API will refuse every request")
	}
	if len(k.Admin) > 0 && len(k.Clients) == 0 {
		c.warnf(k.pos.Line, "admin keys are configured but no client key: every request needs a key, so only callers with an admin key can use the gateway; add clients: entries (clearbar keys hash < key.txt) for applications")
	}
}

// redactHash shows the start of a value that may be a key written by mistake.
func redactHash(s string) string {
	if len(s) > 10 {
		return s[:6] + "…"
	}
	return s
}

func (c *checker) checkServer() {
	sv := &c.spec.Server
	if sv.Listen != "" {
		if _, port, err := net.SplitHostPort(sv.Listen); err != nil || port == "" {
			c.errorf(sv.pos.Of("listen"), "server.listen %q: write host:port, like 127.0.0.1:8080 or :8080", sv.Listen)
		}
	}
	if sv.MaxBody != "" {
		if n, err := ParseSize(sv.MaxBody); err != nil || n <= 0 {
			c.errorf(sv.pos.Of("max_body"), "server.max_body %q: write a size like 20MB or 512KB", sv.MaxBody)
		}
	}
	if sv.MaxMessages < 0 {
		c.errorf(sv.pos.Of("max_messages"), "server.max_messages cannot be negative")
	}
	if sv.FlagRepeats < 0 || (sv.pos.Has("flag_repeats") && sv.FlagRepeats == 0) {
		c.errorf(sv.pos.Of("flag_repeats"), "server.flag_repeats must be at least 1, like 5")
	}
	if sv.pos.Has("flag_window") && sv.FlagWindow <= 0 {
		c.errorf(sv.pos.Of("flag_window"), "server.flag_window must be a positive duration, like 10m")
	}
	if sv.DrainTimeout != nil && *sv.DrainTimeout <= 0 {
		c.errorf(sv.pos.Of("drain_timeout"), "server.drain_timeout must be a positive duration, like 2m; leave it out for request_timeout plus 10s")
	}
}

// ParseSize parses a byte size such as "20MB", "512KB", "1GB" or "1048576" (units are powers
// of 1024).
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q: write a number with KB, MB or GB", s)
	}
	return n * mult, nil
}

// Rate is a request rate: N requests per Per.
type Rate struct {
	N   int
	Per time.Duration
}

// ParseRate parses "20/s", "600/m" or "10000/h".
func ParseRate(s string) (Rate, error) {
	n, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	v, err := strconv.Atoi(strings.TrimSpace(n))
	per := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[strings.TrimSpace(unit)]
	if !ok || err != nil || v <= 0 || per == 0 {
		return Rate{}, fmt.Errorf("rate limit %q: write requests per second, minute or hour, like 20/s or 600/m", s)
	}
	return Rate{N: v, Per: per}, nil
}

func (c *checker) checkScore(r *Route, label string) {
	sc := r.Score
	if len(sc.Models) < 2 {
		c.errorf(sc.pos.Of("models"), "%s score route needs at least two models, cheapest first", label)
	}
	seenModel := map[string]bool{}
	for _, m := range sc.Models {
		c.model(m, label+" score model")
		if seenModel[m.Name] {
			c.errorf(m.Line, "%s score models list %s twice: name each model once, cheapest first", label, m.Name)
		}
		seenModel[m.Name] = true
	}
	seen := map[string]bool{}
	for _, m := range sc.Escalate {
		c.model(m, label+" score escalate model")
		if seen[m.Name] {
			c.errorf(m.Line, "%s score escalate lists %s twice: each model once, in the order failed answers try them", label, m.Name)
		}
		seen[m.Name] = true
		// A model the score can start on after m, being dearer, would escalate to a cheaper one.
		if i := slices.IndexFunc(sc.Models, func(r Ref) bool { return r.Name == m.Name }); i >= 0 && i < len(sc.Models)-1 {
			c.warnf(m.Line, "%s score escalate names %s, cheaper than %s (models are cheapest first): answers of the dearer models that fail go to a cheaper one", label, m.Name, sc.Models[len(sc.Models)-1].Name)
		}
	}
	switch {
	case sc.pos.Has("escalate") && len(sc.Escalate) == 0:
		c.errorf(sc.pos.Of("escalate"), "%s score escalate lists no models: name where failed answers go, like escalate: [strong], or remove it", label)
	case len(sc.Escalate) > 0 && !r.Validated():
		c.errorf(sc.pos.Of("escalate"), "%s score route escalate names where failed answers go, which needs validators on the route: add validate: [...] to the route, or remove escalate", label)
	}
	switch {
	case sc.Router != "" && sc.Heuristic != nil:
		c.errorf(sc.pos.Line, "%s score route names both a router and a heuristic: keep one", label)
	case sc.Router == "" && sc.Heuristic == nil:
		c.errorf(sc.pos.Line, "%s score route needs router: FILE (from clearbar learn train) or heuristic: {tiers: [...]}", label)
	case sc.Router != "":
		if _, err := c.readRouter(sc.RouterPath(c.spec)); err != nil {
			c.errorf(sc.pos.Of("router"), "%s score router %s cannot be read (%v): train one with clearbar learn train", label, sc.Router, shortErr(err))
		}
		switch {
		case sc.Threshold != nil && sc.WillingnessToPay != nil:
			c.errorf(sc.pos.Line, "%s score route sets both threshold and willingness_to_pay: keep one", label)
		case sc.Threshold == nil && sc.WillingnessToPay == nil:
			c.errorf(sc.pos.Line, "%s score route needs threshold: P (two models) or willingness_to_pay: USD", label)
		case sc.Threshold != nil && len(sc.Models) != 2:
			c.errorf(sc.pos.Of("threshold"), "%s score threshold works with two models; with %d use willingness_to_pay", label, len(sc.Models))
		}
		if mx := sc.Mix; mx != nil {
			switch {
			case sc.WillingnessToPay == nil && sc.Threshold != nil:
				c.errorf(mx.pos.Line, "%s score mix is a second willingness to pay, which goes with willingness_to_pay, not threshold: use willingness_to_pay on the score route, or remove mix", label)
			case sc.WillingnessToPay == nil:
				c.errorf(mx.pos.Line, "%s score mix is a second willingness to pay: set willingness_to_pay on the score route too", label)
			case mx.WillingnessToPay == nil || mx.Share == nil:
				c.errorf(mx.pos.Line, "%s score mix needs willingness_to_pay (USD per unit (1.0) of P(pass)) and share (the fraction of requests it decides), like mix: {willingness_to_pay: 0.08, share: 0.3}", label)
			case *mx.WillingnessToPay == 0:
				c.errorf(mx.pos.Of("willingness_to_pay"), "%s score mix willingness_to_pay is zero: give what a unit (1.0) of P(pass) is worth in USD, above zero", label)
			case *mx.Share == 0:
				c.errorf(mx.pos.Of("share"), "%s score mix share is 0, which decides no request: give the fraction of requests it decides, above 0, or remove mix", label)
			}
		}
		if sc.WillingnessToPay != nil && *sc.WillingnessToPay == 0 {
			c.errorf(sc.pos.Of("willingness_to_pay"), "%s score willingness_to_pay is zero: give what a unit (1.0) of P(pass) is worth in USD, above zero", label)
		}
		if t := sc.EmbedTimeout.D(); sc.pos.Has("embed_timeout") && (t < time.Millisecond || t > MaxEmbedTimeout) {
			c.errorf(sc.pos.Of("embed_timeout"), "%s score route embed_timeout %s must be between 1ms and %s: every request waits for the embedding before it is routed (default %s)",
				label, FormatDuration(t), FormatDuration(MaxEmbedTimeout), FormatDuration(DefaultEmbedTimeout))
		}
	case sc.Heuristic != nil:
		for _, key := range []string{"threshold", "willingness_to_pay"} {
			if sc.pos.Has(key) {
				c.errorf(sc.pos.Of(key), "%s score route sets %s, which only a learned router (router: FILE) uses: the heuristic starts each request on the model its tiers pick; remove %s", label, key, key)
			}
		}
		if sc.Mix != nil {
			c.errorf(sc.Mix.pos.Line, "%s score mix mixes two willingness-to-pay values of a learned router (router: FILE): remove it from the heuristic route", label)
		}
		if sc.pos.Has("embed_timeout") {
			c.errorf(sc.pos.Of("embed_timeout"), "%s score route sets embed_timeout, which only a learned router (router: FILE) trained with embeddings uses: remove it", label)
		}
		h := sc.Heuristic
		if len(h.Tiers) != len(sc.Models)-1 {
			c.errorf(h.pos.Of("tiers"), "%s heuristic needs %d tier boundaries for %d models, like tiers: [0.35, 0.7] for three", label, len(sc.Models)-1, len(sc.Models))
		}
		for i, t := range h.Tiers {
			if t <= 0 || t >= 1 || i > 0 && t <= h.Tiers[i-1] {
				got := make([]string, len(h.Tiers))
				for j, t := range h.Tiers {
					got[j] = strconv.FormatFloat(t, 'g', -1, 64)
				}
				c.errorf(h.pos.Of("tiers"), "%s heuristic tiers must rise strictly between 0 and 1 (got [%s]), like tiers: [0.35, 0.7]", label, strings.Join(got, ", "))
				break
			}
		}
	}
}

// fraction formats a share or weight as written, without the noise of its float sum (three
// shares of 33.3% sum to 0.9990000000000001).
func fraction(x float64) string {
	return strconv.FormatFloat(x, 'g', 10, 64)
}

// sumFix says how far shares or weights that should add up to 1 are off, and what to do: with
// a hint at writing thirds when they look like rounded ones, off by at most 0.01 with (when
// the values are given) two of them equal, as 0.333 three times is 0.001 short.
func sumFix(sum float64, values ...float64) string {
	dir := "short"
	if sum > 1 {
		dir = "over"
	}
	off := math.Abs(1 - sum)
	msg := fmt.Sprintf("they are %s %s; adjust them so they add up to 1 exactly", fraction(off), dir)
	if off <= 0.01+1e-9 && (len(values) == 0 || repeats(values)) {
		msg += " (thirds, for example, as 0.3334, 0.3333 and 0.3333)"
	}
	return msg
}

// repeats reports whether two of the values are equal.
func repeats(values []float64) bool {
	for i, v := range values {
		if slices.Contains(values[i+1:], v) {
			return true
		}
	}
	return false
}

// checkLongContext sets a model's long-context tier from its price override. A spec price of
// input or output replaces the catalogue's schedule, so the catalogue's tier, priced against
// the catalogue's base prices, is dropped, with a warning that says how to keep one, unless the
// override gives its own tier or says none.
func (c *checker) checkLongContext(m *Model, r *ResolvedModel, entry catalog.Entry) {
	p, lc := m.Price, m.Price.LongContext
	switch {
	case lc != nil && lc.None:
		r.Prices.TierThreshold = 0
	case lc != nil:
		switch {
		case lc.pos.Has("above") && lc.Above <= 0:
			c.errorf(lc.pos.Of("above"), "model %q: price.long_context above must be more than 0 tokens: the input tokens over which its prices apply, like above: 200k (or write long_context: none)", m.Name)
			return
		case lc.Above <= 0:
			c.errorf(lc.pos.Line, "model %q: price.long_context needs above: the input tokens over which its prices apply, like above: 200k (or write long_context: none)", m.Name)
			return
		}
		if lc.Input == nil && lc.Output == nil && lc.CachedInput == nil {
			c.errorf(lc.pos.Line, "model %q: price.long_context sets no price: give input, output or cached_input in dollars per million tokens", m.Name)
			return
		}
		r.Prices.TierThreshold = int(lc.Above)
		r.Prices.InputAbove, r.Prices.OutputAbove, r.Prices.CachedInputAbove, r.Prices.CacheWriteAbove, r.Prices.CacheWrite1hAbove = 0, 0, 0, 0, 0
		for _, f := range []struct {
			dst *clearbar.Price
			v   *PerMillion
		}{{&r.Prices.InputAbove, lc.Input}, {&r.Prices.OutputAbove, lc.Output}, {&r.Prices.CachedInputAbove, lc.CachedInput}} {
			if f.v != nil {
				*f.dst = clearbar.Price(*f.v)
			}
		}
	case p.Input != nil || p.Output != nil:
		r.Prices.TierThreshold = 0
		if entry.TierThreshold > 0 {
			c.warnf(p.pos.Line, "model %q: the spec's price replaces the catalogue's, and with it the catalogue's long-context tier (above %s input tokens: %s in, %s out); give price.long_context: {above: %d, input: N, output: N} to keep a tier, or long_context: none to say there is none",
				m.Name, TokensK(entry.TierThreshold), cmp.Or(entry.InputAbove, entry.Input), cmp.Or(entry.OutputAbove, entry.Output), entry.TierThreshold)
		}
	}
}

// checkTests checks what the golden requests expect against the spec: a category, model or
// way of choosing the category that the spec does not have would fail the test however
// routing behaves, so it is reported where it is written.
func (c *checker) checkTests() {
	reasons := c.categoryReasons()
	for i, t := range c.spec.Tests {
		label := fmt.Sprintf("test %q", t.Name)
		if t.Name == "" {
			label = fmt.Sprintf("tests[%d]", i)
		}
		e := t.Expect
		if _, ok := c.cats[e.Category]; e.Category != "" && !ok {
			c.errorf(e.pos.Of("category"), "%s expect.category %q is not a category declared under categories:%s", label, e.Category, suggestFrom(e.Category, c.categoryNames(), "categories"))
		}
		if e.Model != "" {
			c.model(Ref{Name: e.Model, Line: e.pos.Of("model")}, label+" expect.model")
		}
		for _, name := range e.Plan {
			c.model(Ref{Name: name, Line: e.pos.Of("plan")}, label+" expect.plan model")
		}
		if e.By != "" && !slices.ContainsFunc(reasons, func(r string) bool { return strings.Contains(r, e.By) }) {
			c.errorf(e.pos.Of("by"), "%s expect.by %q is part of no reason this spec can give for a request's category, so the test always fails%s",
				label, e.By, suggestFrom(e.By, []string{"rule", "header", "metadata", "model alias", "default"}, "write a part of one of"))
		}
	}
}

// categoryReasons returns every reason the router can give for a request's category in this
// spec (Decision.CategoryBy, as route.Classify writes it), which a test's expect.by is a part
// of.
func (c *checker) categoryReasons() []string {
	reasons := []string{ReasonNamed(true), ReasonNamed(false), ReasonDefault}
	for _, cat := range c.spec.Categories {
		reasons = append(reasons, ReasonModelAlias("clearbar/"+cat.Name))
		m := cat.Match
		if m == nil {
			continue
		}
		for _, alias := range m.Models {
			reasons = append(reasons, ReasonModelAlias(alias))
		}
		for h, v := range m.Header {
			reasons = append(reasons, ReasonHeader(h, v))
		}
		for k, v := range m.Metadata {
			reasons = append(reasons, ReasonMetadata(k, v))
		}
		if strings.TrimSpace(m.When) != "" {
			reasons = append(reasons, ReasonRule(cat.Name, m.When))
		}
	}
	return reasons
}
