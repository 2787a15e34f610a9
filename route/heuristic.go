package route

import (
	"context"
	"strconv"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/learn"
	"github.com/clearbar/clearbar/spec"
)

// heuristicScorer is the built-in difficulty score (learn.Heuristic, with the spec's weights
// and tiers), cut into tiers: a score below tiers[0] starts on the first model, below
// tiers[1] on the second, and so on.
type heuristicScorer struct {
	h      *learn.Heuristic
	rule   string
	models []*spec.Model
}

func newHeuristicScorer(sc *spec.ScoreRoute, models []*spec.Model) (*heuristicScorer, error) {
	h, err := learn.NewHeuristic(sc.Heuristic.Weights, sc.Heuristic.Tiers)
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(h.Tiers()))
	for i, t := range h.Tiers() {
		parts[i] = strconv.FormatFloat(t, 'g', 4, 64)
	}
	return &heuristicScorer{h: h, rule: "tiers " + strings.Join(parts, ", "), models: models}, nil
}

func (hs *heuristicScorer) Start(_ context.Context, text, system string, _ int, sc *clearbar.Score) int {
	d := hs.h.Score(text, system)
	i := min(hs.h.Tier(d), len(hs.models)-1)
	sc.Router, sc.Rule, sc.Difficulty, sc.Start = "heuristic", hs.rule, d, hs.models[i].Name
	return i
}
