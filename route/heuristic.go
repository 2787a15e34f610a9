package route

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/learn"
	"github.com/clearbar/clearbar/spec"
)

// heuristicScorer is the built-in difficulty score (learn.Heuristic, with the spec's weights
// and tiers), cut into tiers: a score below tiers[0] starts on the first model, below
// tiers[1] on the second, and so on. It scores the features of heuristicStructure.
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
	return &heuristicScorer{h: h, rule: heuristicRule(h), models: models}, nil
}

// heuristicRule describes a heuristic for the decision record: its tiers and the weights that
// differ from the defaults, like "tiers 0.35, 0.7; weights code 1 (default 0.2), math 0
// (default 0.2)", in the order of learn.StructuralNames.
func heuristicRule(h *learn.Heuristic) string {
	var b strings.Builder
	b.WriteString("tiers ")
	for i, t := range h.Tiers() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatFloat(t, 'g', 4, 64))
	}
	def, w := learn.DefaultHeuristicWeights(), h.Weights()
	sep := "; weights "
	for _, name := range learn.StructuralNames {
		if w[name] == def[name] {
			continue
		}
		b.WriteString(sep)
		sep = ", "
		b.WriteString(name + " " + strconv.FormatFloat(w[name], 'g', 4, 64) + " (default " + strconv.FormatFloat(def[name], 'g', 4, 64) + ")")
	}
	return b.String()
}

func (hs *heuristicScorer) Start(_ context.Context, text, system string, tokensIn int, sc *clearbar.Score) int {
	st := heuristicStructure(text, system, tokensIn)
	d := hs.h.ScoreStructure(&st)
	i := min(hs.h.Tier(d), len(hs.models)-1)
	sc.Router, sc.Rule, sc.Difficulty, sc.Start = clearbar.HeuristicRouter, hs.rule, d, hs.models[i].Name
	return i
}

// contextFeature is the index of the "context" feature in a learn.Structure.
var contextFeature = slices.Index(learn.StructuralNames[:], "context")

// contextFullTokens is where the heuristic's context feature reaches 1: the 128 KiB at which
// learn's context feature (bytes of the user text and system prompt) does, in tokens.
var contextFullTokens = clearbar.TokensOfBytes(131072)

// heuristicStructure returns the structural features the heuristic scores a request by (see
// learn.StructuralNames): learn.StructuralWindow of the last user message (text) and the system
// prompt, but for context, the size of the whole prompt: log(1 + tokensIn) / log(1 + 32768),
// capped at 1, from the request's estimated input tokens (every message, tool definition and
// attachment; see EstimateTokens), so that a short question about a long conversation or
// document counts as the large request it is. It does not allocate.
func heuristicStructure(text, system string, tokensIn int) learn.Structure {
	st := learn.StructuralWindow(text, system)
	st[contextFeature] = min(math.Log1p(float64(max(tokensIn, 0)))/math.Log1p(float64(contextFullTokens)), 1)
	return st
}
