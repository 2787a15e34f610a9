package route

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/learn"
	"github.com/clearbar/clearbar/spec"
)

// A Scorer decides where a score route starts: Start returns the index, among the route's
// models (cheapest first), of the first model to try, and fills sc with the scores and the
// rule that chose it. text is the request's last user message, system its system prompt and
// tokensIn its estimated input tokens. Scorers are safe for concurrent use.
type Scorer interface {
	Start(text, system string, tokensIn int, sc *clearbar.Score) int
}

// NewScorer builds the scorer of score route r in category c: its learned router, loaded from
// the file the spec names, or its heuristic. Errors are *spec.Error at the route's line.
func NewScorer(s *spec.Spec, c *spec.Category, r *spec.Route) (Scorer, error) {
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
		scorer, err = newLearnedScorer(s, c, sc, models)
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
func newScorePlan(s *spec.Spec, c *spec.Category, r *spec.Route) (*scorePlan, error) {
	scorer, err := NewScorer(s, c, r)
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
	// idx[i] is the router's index of the route's i-th model.
	idx []int
	// threshold rule: start on the cheaper model when its P(pass) ≥ t.
	threshold float64
	useWTP    bool
	// willingness to pay: lambda = 1/WTP; cost per request is priced from the request's own
	// input tokens and the category's typical output.
	lambda         float64
	inPrice        []float64 // USD per input token
	outCost        []float64 // USD per request for the output
	rule           string
	models         []*spec.Model
	predictionSize int
}

func newLearnedScorer(s *spec.Spec, c *spec.Category, sc *spec.ScoreRoute, models []*spec.Model) (*learnedScorer, error) {
	path := sc.RouterPath(s)
	m, err := learn.Load(path)
	if err != nil {
		return nil, fmt.Errorf("score router %s: %v: train one with clearbar learn train", sc.Router, err)
	}
	ls := &learnedScorer{model: m, task: c.Name, models: models, predictionSize: len(m.Models())}
	ls.name = sc.Router
	if info := m.Info(); info.Data != "" {
		ls.name += " (trained on " + info.Data + ")"
	}
	for _, mod := range models {
		k := m.Index(mod.Name)
		if k < 0 {
			k = m.Index(mod.Model) // outcomes from benchmarks name models by their upstream id
		}
		if k < 0 {
			return nil, fmt.Errorf("score router %s has no prediction for model %q (it predicts %s): retrain it on outcomes that include %q",
				sc.Router, mod.Name, strings.Join(m.Models(), ", "), mod.Name)
		}
		ls.idx = append(ls.idx, k)
	}
	switch {
	case sc.Threshold != nil:
		ls.threshold = float64(*sc.Threshold)
		ls.rule = "threshold " + strconv.FormatFloat(ls.threshold, 'g', 4, 64) + " on P(pass) of " + models[0].Name
	case sc.WillingnessToPay != nil:
		wtp := clearbar.Money(*sc.WillingnessToPay).USD()
		ls.useWTP = true
		ls.lambda = 1 / wtp
		ls.rule = "willingness to pay " + clearbar.Money(*sc.WillingnessToPay).String() + " per point of P(pass)"
		out := int64(c.Tokens.Out.P50)
		for _, mod := range models {
			p := mod.Resolved.Prices
			ls.inPrice = append(ls.inPrice, p.RequestCost(1_000_000, 0, 0, 0).USD()/1e6)
			reasoning := int64(0)
			if mod.Resolved.Reasoning {
				reasoning = int64(c.Tokens.Reasoning.P50)
			}
			ls.outCost = append(ls.outCost, p.RequestCost(0, 0, out, reasoning).USD())
		}
	}
	return ls, nil
}

func (ls *learnedScorer) Start(text, system string, tokensIn int, sc *clearbar.Score) int {
	var buf [16]float64
	all := append(buf[:0], make([]float64, ls.predictionSize)...)
	ls.model.Predict(text, system, ls.task, all)
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
		var pBuf, costBuf [16]float64
		p, cost := pBuf[:0], costBuf[:0]
		for i, k := range ls.idx {
			p = append(p, all[k])
			cost = append(cost, ls.inPrice[i]*float64(tokensIn)+ls.outCost[i])
		}
		best = learn.ChooseWTP(p, cost, ls.lambda)
	}
	sc.Start = ls.models[best].Name
	return best
}
