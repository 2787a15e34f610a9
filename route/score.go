package route

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/catalog"
	"github.com/clearbar/clearbar/learn"
	"github.com/clearbar/clearbar/spec"
)

// A Scorer decides where a score route starts: Start returns the index, among the route's
// models (cheapest first), of the first model to try, and fills sc with the scores and the
// rule that chose it. text is the request's last user message, system its system prompt and
// tokensIn its estimated input tokens. ctx bounds the one call a scorer may make: the
// request's embedding, for a learned router trained with embeddings (see Offline). Scorers
// are safe for concurrent use.
type Scorer interface {
	Start(ctx context.Context, text, system string, tokensIn int, sc *clearbar.Score) int
}

// healthScorer is a Scorer that makes a call of its own (the request's embedding) and
// consults, and reports to, the breakers of the upstream it calls.
type healthScorer interface {
	startHealth(ctx context.Context, h Health, text, system string, tokensIn int, sc *clearbar.Score) int
}

type offlineKey struct{}

// Offline returns a context under which score routes make no call: a learned router trained
// with embeddings predicts without the request's embedding, and its record says so. Dry runs
// plan under it.
func Offline(ctx context.Context) context.Context {
	return context.WithValue(ctx, offlineKey{}, true)
}

func isOffline(ctx context.Context) bool {
	off, _ := ctx.Value(offlineKey{}).(bool)
	return off
}

// NewScorer builds the scorer of score route r in category c without providers (see
// NewScorerWith). Errors are *spec.Error at the route's line.
func NewScorer(s *spec.Spec, c *spec.Category, r *spec.Route) (Scorer, error) {
	return NewScorerWith(s, c, r, Options{})
}

// NewScorerWith builds the scorer of score route r in category c: its learned router, loaded
// from the file the spec names, or its heuristic. A learned router trained with embeddings
// embeds requests through o.Providers; without them it predicts without the embedding.
// Errors are *spec.Error at the route's line.
func NewScorerWith(s *spec.Spec, c *spec.Category, r *spec.Route, o Options) (Scorer, error) {
	sc := r.Score
	models := make([]*spec.Model, len(sc.Models))
	for i, ref := range sc.Models {
		models[i] = s.Model(ref.Name)
	}
	var (
		scorer Scorer
		err    error
	)
	if sc.Router != "" {
		scorer, err = newLearnedScorer(s, c, sc, models, o)
	} else {
		scorer, err = newHeuristicScorer(sc, models)
	}
	if err != nil {
		return nil, &spec.Error{File: s.File, Line: sc.RouterLine(), Msg: fmt.Sprintf("category %q %v", c.Name, err)}
	}
	return scorer, nil
}

// scorePlan is a score route's precomputed plans: one per starting model.
type scorePlan struct {
	scorer Scorer
	starts []armPlan
}

// newScorePlan builds a score route's scorer and precomputes the plan of each starting model.
func newScorePlan(s *spec.Spec, c *spec.Category, r *spec.Route, o Options) (*scorePlan, error) {
	scorer, err := NewScorerWith(s, c, r, o)
	if err != nil {
		return nil, err
	}
	sp := &scorePlan{scorer: scorer}
	for i := range r.Score.Models {
		ap := newStepsPlan(s, c, r, r.ScoreSteps(s, i))
		sp.starts = append(sp.starts, ap)
	}
	return sp, nil
}

// learnedScorer is a learned router: P(pass) of each of the route's models from a model file,
// turned into a starting model by a threshold (two models) or willingness to pay.
type learnedScorer struct {
	model *learn.Model
	name  string // file and version, for the decision record
	task  string // the category name, a feature the router may have been trained with
	// warning, when not nil, says the router was not trained with the category's name as
	// its task feature, which the gateway passes (see Router.Warnings).
	warning *spec.Error
	// idx[i] is the router's index of the route's i-th model.
	idx []int
	// threshold rule: start on the cheaper model when its P(pass) ≥ t.
	threshold float64
	useWTP    bool
	// willingness to pay, in USD per unit of P(pass) (the rule's lambda is 1/wtp); cost per
	// request is priced from the request's own input tokens and the category's typical output.
	wtp float64
	// mix: requests whose learn.RequestShare is below mixShare are decided with mixWTP.
	mixWTP, mixShare float64
	costs            []DecisionCost // of each model, for a willingness to pay
	// rule is the choice rule for the record; with a mix, ruleMixed is the rule of the
	// requests decided with the mix's value, and rule says the others are not among them.
	rule, ruleMixed string
	models          []*spec.Model
	predictionSize  int
	// embed is the embeddings call of a router trained with embeddings; nil otherwise.
	embed *embedding
}

// embedding is a learned router's embeddings call: the request's last user message, cut as
// the model's EmbeddingConfig says, embedded by a spec model within a timeout.
type embedding struct {
	cfg   *learn.EmbeddingConfig
	model *spec.Model
	// emb is nil when the router cannot embed, and unavailable then says why for the record.
	emb         clearbar.Embedder
	unavailable string
	timeout     time.Duration
}

func newLearnedScorer(s *spec.Spec, c *spec.Category, sc *spec.ScoreRoute, models []*spec.Model, o Options) (*learnedScorer, error) {
	b, err := os.ReadFile(sc.RouterPath(s))
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the file is named once, as the spec names it
		}
		return nil, fmt.Errorf("score router %s cannot be read (%v): train one with clearbar learn train", sc.Router, err)
	}
	m, err := learn.Decode(b)
	if err != nil {
		// Decode names what is wrong, and says to retrain when the file is of another version.
		hint := "; train one with clearbar learn train"
		if strings.Contains(err.Error(), "retrain") {
			hint = ""
		}
		return nil, fmt.Errorf("score router %s: %v%s", sc.Router, err, hint)
	}
	ls := &learnedScorer{model: m, task: c.Name, models: models, predictionSize: len(m.Models())}
	ls.name = sc.Router
	info := m.Info()
	if info.Data != "" {
		ls.name += " (trained on " + info.Data + ")"
	}
	if trained, known := info.TrainedOn(c.Name); known && !trained {
		ls.warning = &spec.Error{File: s.File, Line: sc.RouterLine(), Msg: fmt.Sprintf(
			"category %q: score router %s was trained with other task features than %q (%s), which the gateway passes for this category: its P(pass) may be off; retrain it with clearbar learn train --category %s on outcomes recorded with that category",
			c.Name, sc.Router, c.Name, info.TaskSummary(3), c.Name)}
	}
	var missing []string
	for _, mod := range models {
		k := m.IndexOf(mod.Name, mod.Model)
		if k < 0 {
			missing = append(missing, mod.Name)
		}
		ls.idx = append(ls.idx, k)
	}
	if len(missing) > 0 {
		return nil, errors.New(m.NoPrediction(sc.Router, missing))
	}
	if e := m.Embedding(); e != nil {
		em, emb, unavailable, err := embeddingModel(s, e.Model, o)
		if err != nil {
			return nil, fmt.Errorf("score router %s was trained with embeddings of %s: %v", sc.Router, e.Model, err)
		}
		ls.embed = &embedding{cfg: e, model: em, emb: emb, unavailable: unavailable, timeout: sc.EmbedTimeoutOrDefault()}
	}
	switch {
	case sc.Threshold != nil:
		ls.threshold = float64(*sc.Threshold)
		ls.rule = "threshold " + strconv.FormatFloat(ls.threshold, 'g', 4, 64) + " on P(pass) of " + models[0].Name
	case sc.WillingnessToPay != nil:
		wtp := clearbar.Money(*sc.WillingnessToPay).USD()
		ls.useWTP = true
		ls.wtp = wtp
		ls.rule = "willingness to pay " + clearbar.Money(*sc.WillingnessToPay).String() + " per unit (1.0) of P(pass)"
		if mx := sc.Mix; mx != nil && mx.WillingnessToPay != nil && mx.Share != nil {
			ls.mixWTP, ls.mixShare = clearbar.Money(*mx.WillingnessToPay).USD(), float64(*mx.Share)
			ls.rule += fmt.Sprintf(", %s for the %s of requests the text's hash picks", clearbar.Money(*mx.WillingnessToPay), spec.PercentText(ls.mixShare))
			ls.rule, ls.ruleMixed = ls.rule+" (this request is not)", ls.rule+" (this request is among them)"
		}
		for _, mod := range models {
			ls.costs = append(ls.costs, NewDecisionCost(c, mod))
		}
	}
	return ls, nil
}

// DecisionCost is what a score route with a willingness to pay reckons a request to a model
// costs, to weigh it against the request's P(pass): the model's price of the request's input
// tokens (its long-context tier's above the threshold) and of the category's typical output
// (tokens.out p50, and tokens.reasoning p50 for a model that bills reasoning). Replay prices
// requests with it too, so that a calibrated willingness to pay decides as in the gateway.
type DecisionCost struct {
	prices         catalog.Entry
	out, reasoning float64
}

// NewDecisionCost returns how a score route in category c prices a request to m.
func NewDecisionCost(c *spec.Category, m *spec.Model) DecisionCost {
	d := DecisionCost{prices: m.Resolved.Prices, out: float64(int64(c.Tokens.Out.P50))}
	if m.Resolved.Reasoning {
		d.reasoning = float64(int64(c.Tokens.Reasoning.P50))
	}
	return d
}

// USD returns the cost of a request of tokensIn input tokens, in dollars.
func (d DecisionCost) USD(tokensIn int) float64 {
	return d.prices.ExpectedCost(float64(tokensIn), 0, d.out, d.reasoning).USD()
}

// embeddingModel finds the spec model a router's embeddings come from: by its name in the
// spec, else by its provider model id (one model on a provider that serves embeddings). Its
// provider must be of a type that serves embeddings (spec.ServesEmbeddings), with or without
// providers, so that a spec that is only checked fails as the gateway would. With providers,
// it returns the model's provider as an Embedder, which it must be; without them, or when the
// provider was turned into the simulator (serve --simulate: spec.Provider.SimulatedType), no
// Embedder and why the router cannot embed, for the record.
func embeddingModel(s *spec.Spec, name string, o Options) (m *spec.Model, emb clearbar.Embedder, unavailable string, err error) {
	// typ is the type the spec gave a model's provider, also when serve --simulate turned it
	// into the simulator.
	typ := func(m *spec.Model) string {
		if p := m.Resolved.Provider; p != nil {
			return cmp.Or(p.SimulatedType, p.Type)
		}
		return ""
	}
	m = s.Model(name)
	if m == nil {
		var byID []string
		for _, c := range s.Models {
			if c.Model == name && spec.ServesEmbeddings(typ(c)) {
				m = c
				byID = append(byID, c.Name)
			}
		}
		switch {
		case len(byID) == 0:
			return nil, nil, "", fmt.Errorf("the spec has no model %s: add it to models: (on a provider that serves embeddings), or retrain with --embed naming one of the spec's models", name)
		case len(byID) > 1:
			return nil, nil, "", fmt.Errorf("several spec models have the model id %s (%s): retrain with --embed naming one of them", name, strings.Join(byID, ", "))
		}
	}
	doesNot := func(typ string) error {
		return fmt.Errorf("model %s is served by provider %s (type %s), which does not serve embeddings", m.Name, m.Provider.Name, typ)
	}
	t := typ(m)
	switch {
	case !spec.ServesEmbeddings(t):
		return nil, nil, "", doesNot(t)
	case o.Providers == nil:
		return m, nil, "not embedded: the router runs without providers", nil
	case m.Resolved.Provider.SimulatedType != "":
		return m, nil, "not embedded: provider " + m.Provider.Name + " is simulated (serve --simulate), and the simulator serves no embeddings", nil
	}
	emb, _ = o.Providers[m.Provider.Name].(clearbar.Embedder)
	if emb == nil {
		return nil, nil, "", doesNot(t)
	}
	return m, emb, "", nil
}

// vector embeds text, recording the call in rec; it returns nil, with rec.Error saying why,
// when there is no vector to predict with. It makes no call while h says the embedding
// model's breaker is open or, when h is Breakers, while the breaker lets no call through (also
// half-open, its probe in flight), and then reports the call's outcome to it. The call's input
// tokens, as the upstream reports them, are priced at the model's input price.
func (e *embedding) vector(ctx context.Context, h Health, text string, rec *clearbar.ScoreEmbedding) []float32 {
	switch {
	case e.emb == nil:
		rec.Error = e.unavailable
		return nil
	case isOffline(ctx):
		rec.Error = "not embedded: a dry run calls no model"
		return nil
	case text == "":
		rec.Error = "not embedded: the request has no user message"
		return nil
	}
	done := func(clearbar.FailureClass) {}
	if b, ok := h.(Breakers); ok {
		d, allowed := b.Allow(Key(e.model))
		if !allowed {
			rec.Error = "not embedded: circuit breaker open"
			if open, _ := b.Open(Key(e.model)); !open {
				rec.Error = "not embedded: " + ProbeInFlight
			}
			return nil
		}
		done = d
	} else if h != nil {
		if open, why := h.Open(Key(e.model)); open {
			rec.Error = "not embedded: " + why
			return nil
		}
	}
	cctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	start := time.Now()
	resp, err := e.emb.Embed(cctx, &clearbar.EmbedCall{Model: e.model.Model, Input: []string{e.cfg.Input(text)},
		EncodingFormat: clearbar.EncodingBase64, Dimensions: e.cfg.Dimensions})
	rec.Latency = time.Since(start)
	if err != nil {
		class := clearbar.AsError(err).Class
		switch {
		case ctx.Err() != nil:
			rec.Error = "the embeddings call ended with the request: " + ctx.Err().Error()
			class = clearbar.Canceled
		case errors.Is(cctx.Err(), context.DeadlineExceeded):
			rec.Error = "the embeddings call timed out after " + spec.FormatDuration(e.timeout) + " (embed_timeout)"
			class = clearbar.Timeout
		default:
			ce := clearbar.AsError(err)
			rec.Error = "the embeddings call failed: " + ce.Message
			if ce.Status != 0 {
				rec.Error += " (HTTP " + strconv.Itoa(ce.Status) + ")"
			}
		}
		done(class)
		return nil
	}
	if resp.HasUsage || resp.UsageEstimated {
		rec.Tokens, rec.TokensEstimated = resp.Usage.PromptTokens, resp.UsageEstimated
		rec.Cost = e.model.Cost(clearbar.Usage{PromptTokens: resp.Usage.PromptTokens})
	}
	vs, err := resp.Vectors()
	switch {
	case err != nil:
		rec.Error = "the embeddings answer is unreadable: " + err.Error()
		done(clearbar.BadResponse)
		return nil
	case len(vs) != 1:
		rec.Error = fmt.Sprintf("the embeddings answer has %d vectors for one input", len(vs))
		done(clearbar.BadResponse)
		return nil
	}
	// The upstream answered: a vector the router cannot use (another model's length) is a
	// mismatch of router and model, not a failure of the upstream.
	done(clearbar.OK)
	if err := e.cfg.CheckVector(vs[0]); err != nil {
		rec.Error = err.Error()
		return nil
	}
	return vs[0]
}

func (ls *learnedScorer) Start(ctx context.Context, text, system string, tokensIn int, sc *clearbar.Score) int {
	return ls.startHealth(ctx, nil, text, system, tokensIn, sc)
}

// startHealth is Start with the breakers of the embeddings call (h may be nil).
func (ls *learnedScorer) startHealth(ctx context.Context, h Health, text, system string, tokensIn int, sc *clearbar.Score) int {
	var buf [16]float64
	all := append(buf[:0], make([]float64, ls.predictionSize)...)
	if ls.embed == nil {
		ls.model.Predict(text, system, ls.task, all)
	} else {
		rec := &clearbar.ScoreEmbedding{Model: ls.embed.model.Name}
		sc.Embedding = rec
		rec.Used = ls.model.PredictWith(text, system, ls.task, ls.embed.vector(ctx, h, text, rec), all)
		if !rec.Used && rec.Error == "" {
			rec.Error = "the vector could not be used"
		}
	}
	sc.Router, sc.Rule = ls.name, ls.rule
	sc.PPass = make([]clearbar.ModelScore, len(ls.idx))
	for i, k := range ls.idx {
		sc.PPass[i] = clearbar.ModelScore{Model: ls.models[i].Name, P: all[k]}
	}
	best := len(ls.idx) - 1
	if !ls.useWTP {
		if all[ls.idx[0]] >= ls.threshold {
			best = 0
		}
	} else {
		var pBuf, costBuf, uBuf [16]float64
		p, cost, u := pBuf[:0], costBuf[:0], uBuf[:0]
		for i, k := range ls.idx {
			p = append(p, all[k])
			cost = append(cost, ls.costs[i].USD(tokensIn))
			u = append(u, 0)
		}
		wtp := ls.wtp
		if ls.mixShare > 0 && learn.RequestShare(text) < ls.mixShare {
			wtp = ls.mixWTP
			sc.Rule = ls.ruleMixed
		}
		best = learn.ChooseWTPUtility(p, cost, 1/wtp, u)
		// The record has what the rule weighed, so that the choice can be checked by hand.
		sc.WillingnessToPay = wtp
		for i := range sc.PPass {
			sc.PPass[i].Cost, sc.PPass[i].Utility = cost[i], u[i]
		}
	}
	sc.Start = ls.models[best].Name
	return best
}
