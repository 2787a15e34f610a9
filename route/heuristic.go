package route

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/learn"
	"github.com/clearbar/clearbar/spec"
)

// DefaultHeuristicWeights are the built-in difficulty score's weights over the structural
// features of learn.Structural (each feature is scaled into [0, 1]; see learn.StructuralNames
// for how each is measured). The score is the weighted mean of the features, so it lies in
// [0, 1]; a spec's heuristic.weights replace any of them by name, and a weight of 0 drops a
// feature.
//
// The defaults favour what makes a request hard for small models on public routing
// benchmarks: long inputs, reasoning and multi-step cues, code and math.
var DefaultHeuristicWeights = map[string]float64{
	"length":      0.15,
	"context":     0.10,
	"reasoning":   0.15,
	"multistep":   0.10,
	"code":        0.15,
	"math":        0.15,
	"questions":   0.05,
	"constraints": 0.05,
	"compare":     0.05,
	"lines":       0.05,
}

// heuristicScorer is the built-in difficulty score, cut into tiers: a score below tiers[0]
// starts on the first model, below tiers[1] on the second, and so on.
type heuristicScorer struct {
	weights [learn.NumStructural]float64 // normalised to sum to 1
	tiers   []float64
	rule    string
	models  []*spec.Model
}

func newHeuristicScorer(sc *spec.ScoreRoute, models []*spec.Model) (*heuristicScorer, error) {
	h := &heuristicScorer{tiers: sc.Heuristic.Tiers, models: models}
	w := maps.Clone(DefaultHeuristicWeights)
	for name, v := range sc.Heuristic.Weights {
		if !slices.Contains(learn.StructuralNames[:], name) {
			return nil, fmt.Errorf("heuristic weight %q is not a feature: use one of %s", name, strings.Join(learn.StructuralNames[:], ", "))
		}
		if v < 0 {
			return nil, fmt.Errorf("heuristic weight %q is negative: weights are 0 or more", name)
		}
		w[name] = v
	}
	var sum float64
	for i, name := range learn.StructuralNames {
		h.weights[i] = w[name]
		sum += w[name]
	}
	if sum == 0 {
		return nil, fmt.Errorf("heuristic weights are all 0: give at least one feature a weight")
	}
	for i := range h.weights {
		h.weights[i] /= sum
	}
	parts := make([]string, len(h.tiers))
	for i, t := range h.tiers {
		parts[i] = strconv.FormatFloat(t, 'g', 4, 64)
	}
	h.rule = "tiers " + strings.Join(parts, ", ")
	return h, nil
}

// Difficulty is the weighted mean of a request's structural features.
func (h *heuristicScorer) difficulty(text, system string) float64 {
	f := learn.Structural(text, system)
	var d float64
	for i, w := range h.weights {
		d += w * f[i]
	}
	return d
}

func (h *heuristicScorer) Start(text, system string, _ int, sc *clearbar.Score) int {
	d := h.difficulty(text, system)
	i := 0
	for i < len(h.tiers) && d >= h.tiers[i] {
		i++
	}
	sc.Router, sc.Rule, sc.Difficulty, sc.Start = "heuristic", h.rule, d, h.models[i].Name
	return i
}
