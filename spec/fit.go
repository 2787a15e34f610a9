package spec

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/stats"
)

// This file holds the checks of how well a route fits its category: whether its models'
// context windows hold the category's requests, whether a score route lists its models
// cheapest first at the category's tokens, and settings that nothing on the route uses.

// Mean is the band's mean: the number itself, or the mean of the lognormal fitted to p50 and
// p95, as the estimate uses it for cost (internal/stats, the estimator's distributions).
func (b Band) Mean() float64 { return stats.NewBand(b.P50, b.P95, b.Dist).Mean() }

// Over is the fraction of requests whose tokens are more than n: 0 or 1 for a number, the
// lognormal's tail for a distribution.
func (b Band) Over(n float64) float64 {
	l := stats.FitLognormal(b.P50, b.P95)
	if !b.Dist || l.Sigma == 0 {
		if b.P50 > n {
			return 1
		}
		return 0
	}
	if n <= 0 {
		return 1
	}
	return 1 - l.CDF(n)
}

// CallCost is the expected cost of one call of m at the category's tokens: the mean input
// (with its cache hits), output and, for a model that bills them, reasoning tokens.
func (c *Category) CallCost(m *Model) clearbar.Money {
	t := c.Tokens
	reasoning := 0.0
	if m.Resolved.Reasoning {
		reasoning = t.Reasoning.Mean()
	}
	return m.Resolved.Prices.ExpectedCost(t.In.Mean(), float64(t.CacheHit), t.Out.Mean(), reasoning)
}

// checkContextWindows warns when the category's input tokens are more than the context window
// of a model its route or fallbacks use: the gateway leaves such a model out of a request's
// plan and moves to the next candidate, and a request no candidate can take fails. A typical
// request (a number, or p50) over a window is the first warning; only the long tail (p95) over
// it, the softer second.
func (c *checker) checkContextWindows(cat *Category, r *Route, fallback []Ref, label string) {
	in := cat.Tokens.In
	if in.P50 <= 0 {
		return
	}
	line := in.Line
	if line == 0 {
		line = cat.Tokens.pos.Of("in")
	}
	cands := c.spec.RouteCandidates(r, fallback)
	largest, unknown := 0, false
	var over, tail []string
	for _, m := range cands {
		w := m.Resolved.ContextWindow
		if w <= 0 {
			unknown = true
			continue
		}
		largest = max(largest, w)
		desc := fmt.Sprintf("%s (%s, %s tokens", m.Name, m.Model, groupDigits(int64(w)))
		if in.Dist {
			desc += ", about " + shareText(in.Over(float64(w))) + " of requests too long"
		}
		desc += ")"
		switch {
		case in.P50 > float64(w):
			over = append(over, desc)
		case in.P95 > float64(w):
			tail = append(tail, desc)
		}
	}
	what := "tokens.in"
	if in.Dist {
		what = "tokens.in p50"
	}
	if len(over) > 0 {
		msg := fmt.Sprintf("%s %s %s is more than the context window of %s: the gateway leaves such a model out of the request's plan and moves to the next candidate", label, what, groupDigits(int64(in.P50)), joinAnd(over))
		if !unknown && float64(largest) < in.P50 {
			msg += "; no model on the route or its fallbacks can take these requests, so they fail: route the category to a model with a larger window, or correct tokens.in"
		} else {
			msg += "; route the category to models whose window holds its requests, or correct tokens.in"
		}
		c.warnf(line, "%s", msg)
	}
	if len(tail) > 0 {
		msg := fmt.Sprintf("%s tokens.in p95 %s is more than the context window of %s: the gateway leaves it out of the plan of those long requests and moves to the next candidate", label, groupDigits(int64(in.P95)), joinAnd(tail))
		if !unknown && float64(largest) < in.P95 {
			msg += fmt.Sprintf("; about %s of requests are too long for every model on the route and its fallbacks, and fail", shareText(in.Over(float64(largest))))
		}
		c.warnf(line, "%s", msg)
	}
}

// checkTokenMagnitude warns when the category's typical input (a number, or p50) is more than
// any model in the price catalogue takes, while a model its route or fallbacks use has no known
// context window, so that checkContextWindows cannot say so: such a count is most likely not
// the tokens of one request.
func (c *checker) checkTokenMagnitude(cat *Category, label string) {
	in := cat.Tokens.In
	if in.P50 <= 0 || cat.Route == nil {
		return
	}
	var unknown []string
	for _, m := range c.spec.RouteCandidates(cat.Route, cat.Fallback) {
		if m.Resolved.ContextWindow <= 0 {
			unknown = append(unknown, m.Name)
		}
	}
	if len(unknown) == 0 {
		return
	}
	largest := 0
	for e := range c.opts.catalog().All() {
		largest = max(largest, e.MaxInputTokens)
	}
	if largest == 0 || in.P50 <= float64(largest) {
		return
	}
	what := "tokens.in"
	if in.Dist {
		what = "tokens.in p50"
	}
	c.warnf(cmp.Or(in.Line, cat.Tokens.pos.Of("in")), "%s %s %s is more than any model in the price catalogue takes (the largest context window there is %s tokens), and %s %s no known context window: tokens.in is the input tokens of one request; correct it, or set context_window on the models if they take this much",
		label, what, groupDigits(int64(in.P50)), groupDigits(int64(largest)), joinAnd(unknown), map[bool]string{true: "has", false: "have"}[len(unknown) == 1])
}

// checkReasoningBilled warns about a category's tokens.reasoning that no model able to answer
// it bills: the models its route, fallbacks and named policies can call, and those with a pass
// rate in it (the estimate's single-model policies). A model bills reasoning tokens when the
// catalogue lists it as a reasoning model or the spec says reasoning: true; the others' costs
// leave tokens.reasoning out, so it changes no figure.
func (c *checker) checkReasoningBilled(cat *Category, label string) {
	rt := cat.Tokens.Reasoning
	if rt.P50 <= 0 && rt.P95 <= 0 || cat.Route == nil {
		return
	}
	var names []string
	add := func(m *Model) bool {
		if m == nil {
			return false
		}
		if m.Resolved.Reasoning {
			return true
		}
		if !slices.Contains(names, m.Name) {
			names = append(names, m.Name)
		}
		return false
	}
	for _, m := range c.spec.RouteCandidates(cat.Route, cat.Fallback) {
		if add(m) {
			return
		}
	}
	for _, p := range c.spec.Policies {
		if pr, ok := p.Routes[cat.Name]; ok {
			for _, m := range c.spec.RouteCandidates(&pr.Route, cat.Fallback) {
				if add(m) {
					return
				}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cat.Assume.PassRate)) {
		if add(c.models[name]) {
			return
		}
	}
	if len(names) == 0 {
		return
	}
	c.warnf(cmp.Or(rt.Line, cat.Tokens.pos.Of("reasoning")), "%s sets tokens.reasoning, but none of the models that can answer it (%s) bills reasoning tokens, by the catalogue or a model's reasoning: setting, so every estimate leaves them out; set reasoning: true on a model that bills them, or remove tokens.reasoning",
		label, joinAnd(names))
}

// shareText writes a fraction of requests as a percentage with two significant digits.
func shareText(f float64) string {
	p := f * 100
	switch {
	case p >= 99.5 && p < 100:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", p), "0"), ".") + "%"
	case p >= 10:
		return fmt.Sprintf("%.0f%%", p)
	case p >= 0.01:
		return fmt.Sprintf("%.2g%%", p)
	}
	return "under 0.01%"
}

func joinAnd(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// checkScoreOrder warns when a score route (or a split arm's) does not list its models
// cheapest first at the category's tokens. The order means something: a score starts easy
// requests on the first models and hard ones on the last (a heuristic's tiers map to the
// models in order), and a failed answer escalates to the models after the one that answered.
func (c *checker) checkScoreOrder(cat *Category, r *Route, label string) {
	for i, a := range r.Split {
		c.checkScoreOrder(cat, &a.Route, fmt.Sprintf("%s split arm %d", label, i+1))
	}
	sc := r.Score
	if sc == nil || len(sc.Models) < 2 {
		return
	}
	type priced struct {
		name string
		cost clearbar.Money
	}
	var ms []priced
	for _, ref := range sc.Models {
		m := c.models[ref.Name]
		if m == nil || m.Resolved.Prices.Input == 0 && m.Resolved.Prices.Output == 0 {
			return
		}
		ms = append(ms, priced{m.Name, cat.CallCost(m)})
	}
	ordered := slices.IsSortedFunc(ms, func(a, b priced) int { return cmp.Compare(a.cost, b.cost) })
	if ordered {
		return
	}
	var got []string
	for _, m := range ms {
		got = append(got, fmt.Sprintf("%s %s", m.name, m.cost))
	}
	slices.SortStableFunc(ms, func(a, b priced) int { return cmp.Compare(a.cost, b.cost) })
	var want []string
	for _, m := range ms {
		want = append(want, m.name)
	}
	how := "failed answers escalate to the models after the one that answered"
	switch {
	case sc.Heuristic != nil:
		how = "the heuristic's tiers map to the models in order, the easiest requests to the first, and " + how
	case sc.Threshold != nil:
		how = "the threshold sends a request to the first model when it is likely to pass there, and " + how
	}
	c.warnf(sc.pos.Of("models"), "%s score models are not cheapest first at its tokens (a request costs %s): the order matters, since %s; list them cheapest first, models: [%s]",
		label, strings.Join(got, ", "), how, strings.Join(want, ", "))
}

// checkUnusedStrength warns about a category that states its validators' strength when
// nothing validates its answers: not its route, nor any named policy's route for it.
func (c *checker) checkUnusedStrength() {
	for _, cat := range c.spec.Categories {
		if cat.Assume.Validator == nil || cat.Route == nil || cat.Route.Validated() {
			continue
		}
		used := false
		for _, p := range c.spec.Policies {
			if pr, ok := p.Routes[cat.Name]; ok && pr.Route.Validated() {
				used = true
			}
		}
		if !used {
			c.warnf(cat.Assume.pos.Of("validator"), "category %q states assume.validator, but its route validates nothing, so the strength is never used: add validate: [...] to the route, or remove assume.validator", cat.Name)
		}
	}
}

// checkMaxOutput warns when the category's output tokens are more than the maximum output of a
// model its route or fallbacks use: such a model stops writing there, so its answers are cut
// off, while the estimate prices every answer at tokens.out. It looks at the tokens of a long
// answer (a number, or p95), as checkContextWindows does at those of a long request.
func (c *checker) checkMaxOutput(cat *Category, r *Route, fallback []Ref, label string) {
	out := cat.Tokens.Out
	if out.P95 <= 0 {
		return
	}
	all := true // every candidate's maximum is known and below the answers
	var over []string
	for _, m := range c.spec.RouteCandidates(r, fallback) {
		limit := m.Resolved.MaxOutput
		if limit <= 0 || out.P95 <= float64(limit) {
			all = false
			continue
		}
		desc := fmt.Sprintf("%s (%s, %s tokens", m.Name, m.Model, groupDigits(int64(limit)))
		if out.Dist {
			desc += ", about " + shareText(out.Over(float64(limit))) + " of answers too long"
		}
		over = append(over, desc+")")
	}
	if len(over) == 0 {
		return
	}
	what := "tokens.out"
	if out.Dist {
		what = "tokens.out p95"
	}
	msg := fmt.Sprintf("%s %s %s is more than the maximum output of %s: such a model stops writing there and its answer is cut off, while the estimate prices every answer at tokens.out", label, what, groupDigits(int64(out.P95)), joinAnd(over))
	if all {
		msg += "; no model on the route or its fallbacks can write answers this long"
	}
	c.warnf(cmp.Or(out.Line, cat.Tokens.pos.Of("out")), "%s; route the category to models that can, set max_output if the catalogue's is wrong, or correct tokens.out", msg)
}

// scored reports whether a route, or one of its split arms, is a score route: one that uses a
// category's assume.score_share and score_pass_rate.
func scored(r *Route) bool {
	return r.Score != nil || slices.ContainsFunc(r.Split, func(a *Arm) bool { return a.Route.Score != nil })
}

// checkUnusedScoreAssumptions warns about a category that states assume.score_share or
// score_pass_rate when no score route uses them: not its route, nor any named policy's route
// for it.
func (c *checker) checkUnusedScoreAssumptions() {
	for _, cat := range c.spec.Categories {
		a := cat.Assume
		if cat.Route == nil || len(a.ScoreShare)+len(a.ScorePassRate) == 0 || scored(cat.Route) {
			continue
		}
		if slices.ContainsFunc(c.spec.Policies, func(p *Policy) bool {
			pr, ok := p.Routes[cat.Name]
			return ok && scored(&pr.Route)
		}) {
			continue
		}
		for _, key := range []string{"score_share", "score_pass_rate"} {
			if a.pos.Has(key) {
				c.warnf(a.pos.Of(key), "category %q states assume.%s, which only a score route uses, but neither its route nor any policy's route for it is one, so it is never used: remove assume.%s, or route by score", cat.Name, key, key)
			}
		}
	}
}

// checkUnusedEscalatedPassRates warns about an assume.escalated_pass_rate entry for a model
// that no request of the category can be escalated to: neither its route nor any policy's
// route for it has the model (or a fallback of it) on a step after a validated one, nor, for a
// category whose route validates, is it a rated model dearer than the cheapest, which the
// estimate's cascade-by-price escalates to.
func (c *checker) checkUnusedEscalatedPassRates() {
	for _, cat := range c.spec.Categories {
		a := cat.Assume
		if cat.Route == nil || len(a.EscalatedPassRate) == 0 {
			continue
		}
		reached := map[string]bool{}
		c.escalatedTo(cat.Route, cat.Fallback, reached)
		for _, p := range c.spec.Policies {
			if pr, ok := p.Routes[cat.Name]; ok {
				c.escalatedTo(&pr.Route, cat.Fallback, reached)
			}
		}
		// The estimate's cascade-by-price cascades the category's rated models in price order,
		// with its validators: a rated model dearer than the cheapest is escalated to there.
		if cat.Route.Validated() {
			var cheapest clearbar.Money = -1
			for name := range a.PassRate {
				if m := c.spec.Model(name); m != nil && (cheapest < 0 || cat.CallCost(m) < cheapest) {
					cheapest = cat.CallCost(m)
				}
			}
			for name := range a.PassRate {
				if m := c.spec.Model(name); m != nil && cat.CallCost(m) > cheapest {
					reached[name] = true
				}
			}
		}
		for _, name := range slices.Sorted(maps.Keys(a.EscalatedPassRate)) {
			if _, declared := c.models[name]; declared && !reached[name] {
				c.warnf(a.entryLine("escalated_pass_rate", name), "category %q states assume.escalated_pass_rate for %s, but no route for it escalates to %s (a step after a validated one), so it is never used: remove it, or put %s on a later step of a validated cascade", cat.Name, name, name, name)
			}
		}
	}
}

// escalatedTo adds to reached the models route r can escalate a request to: those on a step
// after a validated step, with their failover chains.
func (c *checker) escalatedTo(r *Route, fallback []Ref, reached map[string]bool) {
	mark := func(steps []PlanStep) {
		for i := 1; i < len(steps); i++ {
			if len(steps[i-1].Validate) == 0 || steps[i].Model == nil {
				continue
			}
			reached[steps[i].Model.Name] = true
			for _, m := range c.spec.FailoverChain(steps[i].Model, fallback, nil) {
				reached[m.Name] = true
			}
		}
	}
	switch {
	case len(r.Split) > 0:
		for _, arm := range r.Split {
			c.escalatedTo(&arm.Route, fallback, reached)
		}
	case r.Score != nil:
		for i := range r.Score.Models {
			mark(r.ScoreSteps(c.spec, i))
		}
	default:
		mark(r.Steps(c.spec))
	}
}

// checkUnused warns about models and providers nothing uses. A model is used when a route (a
// category's or a policy's), a fallback, a validator (a judge, an agreement check) or a shadow
// calls it, when a learned router embeds requests with it, or when a category assumes a pass
// rate for it, which puts it in the estimate's single-model and cheapest-passing policies. Any
// other model is left out of the estimate.
func (c *checker) checkUnused() {
	used := map[string]bool{}
	var answering []Ref // every use of a model to answer a chat request
	addRefs := func(refs []Ref) {
		for _, r := range refs {
			used[r.Name] = true
			answering = append(answering, r)
		}
	}
	var routers []string
	var addRoute func(r *Route)
	addRoute = func(r *Route) {
		addRefs(r.Models())
		vs := slices.Clone(r.Validate)
		for _, st := range r.Cascade {
			vs = append(vs, st.Validate...)
		}
		for _, v := range vs {
			switch cfg := v.Config.(type) {
			case *Judge:
				addRefs([]Ref{cfg.Model})
			case *Agree:
				addRefs(cfg.Checkers())
			}
		}
		for _, a := range r.Split {
			addRoute(&a.Route)
		}
		if r.Score != nil && r.Score.Router != "" {
			routers = append(routers, r.Score.RouterPath(c.spec))
		}
	}
	for _, cat := range c.spec.Categories {
		if cat.Route != nil {
			addRoute(cat.Route)
		}
		addRefs(cat.Fallback)
		if cat.Shadow != nil {
			addRefs(cat.Shadow.Models)
		}
		for name := range cat.Assume.PassRate {
			used[name] = true
		}
	}
	for _, p := range c.spec.Policies {
		for _, pr := range p.Routes {
			addRoute(&pr.Route)
			addRefs(pr.Fallback)
		}
	}
	for _, m := range c.spec.Models {
		for _, f := range m.Fallback {
			used[f.Name] = true // answering as m does: checked below
		}
	}
	var embedded []string
	for _, path := range routers {
		if data, err := c.readRouter(path); err == nil {
			embedded = append(embedded, routerEmbedModel(data))
		}
	}
	embeds := func(m *Model) bool { return m.Resolved.InCatalog && m.Resolved.Catalog.IsEmbedding() }
	for _, r := range answering {
		if m := c.models[r.Name]; m != nil && embeds(m) {
			c.errorf(r.Line, "model %q (%s) is an embedding model in the price catalogue: it turns text into vectors and cannot answer chat requests; name a chat model here", m.Name, m.Model)
		}
	}
	for _, m := range c.spec.Models {
		for _, f := range m.Fallback {
			if fm := c.models[f.Name]; fm != nil && embeds(fm) != embeds(m) {
				kind := map[bool]string{true: "an embedding model", false: "a chat model"}
				c.errorf(f.Line, "model %q (%s) is %s and falls back to %q (%s), %s: a fallback answers the same requests; name %s", m.Name, m.Model, kind[embeds(m)], fm.Name, fm.Model, kind[embeds(fm)], kind[embeds(m)])
			}
		}
	}
	providers := map[string]bool{}
	for _, m := range c.spec.Models {
		providers[m.Provider.Name] = true
		if embeds(m) && !used[m.Name] {
			// Served on /v1/embeddings, or a learned router's: used as it is meant to be.
			if m.Resolved.Provider != nil && !ServesEmbeddings(m.Resolved.Provider.Type) {
				c.warnf(m.pos.Line, "model %q (%s) is an embedding model, but its provider %q (type %s) serves no embeddings: /v1/embeddings cannot reach it", m.Name, m.Model, m.Provider.Name, m.Resolved.Provider.Type)
			}
			continue
		}
		if !used[m.Name] && !slices.Contains(embedded, m.Name) && !slices.Contains(embedded, m.Model) {
			c.warnf(m.pos.Line, "model %q is not used by any route: no route, fallback, validator or shadow calls it, and no category assumes a pass rate for it, so it is left out of the estimate; remove it, or route to it", m.Name)
		}
	}
	for _, p := range c.spec.Providers {
		if !providers[p.Name] {
			c.warnf(p.pos.Line, "provider %q is not used by any model: remove it, or declare a model on it with provider: %s", p.Name, p.Name)
		}
	}
}

// routerEmbedModel returns the model a learned router file embeds requests with (the model of
// the embedding block of its features, learn.EmbeddingConfig: a spec model's name or its
// provider model id), or "" when it has none or is not a router file.
func routerEmbedModel(data []byte) string {
	// A router file is megabytes of weights after a short header: read members up to
	// "features" only (learn writes it second), rather than the whole document.
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return ""
		}
		if key != "features" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return ""
			}
			continue
		}
		var f struct {
			Embedding *struct {
				Model string `json:"model"`
			} `json:"embedding"`
		}
		if dec.Decode(&f) != nil || f.Embedding == nil {
			return ""
		}
		return f.Embedding.Model
	}
	return ""
}

// MinShadowOutputCap is the fewest output tokens a shadow call is capped at (ShadowOutputCap).
const MinShadowOutputCap = 2048

// ShadowOutputCap is the output, in tokens, a shadow call is capped at when the client's
// request sets no max_tokens, so that a reservation bounds its cost: four times the category's
// typical output (p95 when given) and at least MinShadowOutputCap tokens, far enough above what
// the category answers (reasoning included) that the cap does not cut answers short and bias
// the candidate's pass rate.
func (c *Category) ShadowOutputCap() int {
	return max(int(4*max(c.Tokens.Out.P50, c.Tokens.Out.P95)), MinShadowOutputCap)
}

// ShadowReservation is what a shadow call to m reserves of the daily budget before it is
// made: inTokens estimated input tokens with a quarter more for the estimate's error, and
// outCap output tokens, at m's prices.
func ShadowReservation(m *Model, inTokens, outCap int) clearbar.Money {
	in := int64(inTokens)
	in += in/4 + 16
	return m.Resolved.Prices.RequestCost(in, 0, int64(outCap), 0)
}

// checkShadowBudget warns of a shadow candidate whose every call would reserve more than the
// daily budget at the category's typical input: it would never be called.
func (c *checker) checkShadowBudget(cat *Category, label string) {
	sh := cat.Shadow
	if sh == nil || sh.DailyBudget <= 0 {
		return
	}
	in := int(max(cat.Tokens.In.P50, cat.Tokens.In.P95))
	budget := clearbar.Money(sh.DailyBudget)
	for _, ref := range sh.Models {
		m := c.models[ref.Name]
		if m == nil {
			continue
		}
		if r := ShadowReservation(m, in, cat.ShadowOutputCap()); r > budget {
			c.warnf(ref.Line, "%s shadows %q, but one call to it reserves %s of the daily budget before it is made (%d input tokens and the %d output tokens shadow calls are capped at, at its prices), more than daily_budget %s: it would never be called; raise daily_budget above %s",
				label, ref.Name, r, in, cat.ShadowOutputCap(), budget, r)
		}
	}
}
