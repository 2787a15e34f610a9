package learn

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/clearbar/clearbar/internal/textdist"
)

// Heuristic scores how hard a request looks, from 0 (easy) to 1 (hard), from its structural
// features alone (see StructuralNames), for teams that have no outcomes to train on yet. The
// score is a weighted sum of the features, clamped to [0, 1]:
//
//	score = clamp(Σ weight[name] × feature[name], 0, 1)
//
// and Tier maps it to a tier by ascending cut points: with the default tiers [0.35, 0.7],
// tier 0 is below 0.35, tier 1 from 0.35 to below 0.7 and tier 2 from 0.7 up; a spec maps
// tiers to models. The default weights (DefaultHeuristicWeights) are:
//
//	length 0.20   context 0.05   system 0      lines 0.05        digits 0.05
//	code 0.20     math 0.20      questions 0.10  options 0       list 0.05
//	reasoning 0.25  compare 0.10  multistep 0.10  constraints 0.05
//	stem 0        numeric_options 0
//
// They were set by hand, not fitted: a short question scores about 0.1, a long request with
// code, several questions and reasoning cues 0.6–0.9. Weights may be negative. Once outcomes
// exist, a trained Model predicts better.
//
// A Heuristic is immutable and safe for concurrent use; Score does not allocate.
type Heuristic struct {
	weights Structure
	tiers   []float64
}

// DefaultTiers are the default tier cut points.
var DefaultTiers = []float64{0.35, 0.7}

// DefaultHeuristicWeights returns the default weights, one per structural feature, as a new
// map the caller may change.
func DefaultHeuristicWeights() map[string]float64 {
	return map[string]float64{
		"length": 0.20, "context": 0.05, "system": 0, "lines": 0.05, "digits": 0.05,
		"code": 0.20, "math": 0.20, "questions": 0.10, "options": 0, "list": 0.05,
		"reasoning": 0.25, "compare": 0.10, "multistep": 0.10, "constraints": 0.05,
		"stem": 0, "numeric_options": 0,
	}
}

// NewHeuristic returns a Heuristic. weights overrides the default weight of each feature it
// names (nil keeps every default); a name that is not a structural feature is an error that
// lists the valid ones. tiers are the ascending cut points in (0, 1); nil means DefaultTiers.
func NewHeuristic(weights map[string]float64, tiers []float64) (*Heuristic, error) {
	h := &Heuristic{}
	def := DefaultHeuristicWeights()
	for j, name := range StructuralNames {
		h.weights[j] = def[name]
	}
	var unknown []string
	for name, w := range weights {
		j := slices.Index(StructuralNames[:], name)
		if j < 0 {
			unknown = append(unknown, name)
			continue
		}
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("heuristic: weight of %q is %v; give a finite number", name, w)
		}
		h.weights[j] = w
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		for i, name := range unknown {
			if near, ok := textdist.Closest(name, StructuralNames[:]); ok {
				unknown[i] += fmt.Sprintf(" (did you mean %s?)", near)
			}
		}
		what := "feature"
		if len(unknown) > 1 {
			what = "features"
		}
		return nil, fmt.Errorf("heuristic: unknown %s %s; the features are %s",
			what, strings.Join(unknown, ", "), strings.Join(StructuralNames[:], ", "))
	}
	if tiers == nil {
		tiers = DefaultTiers
	}
	for i, t := range tiers {
		if !(t > 0 && t < 1) {
			return nil, fmt.Errorf("heuristic: tier cut point %v is outside (0, 1)", t)
		}
		if i > 0 && t <= tiers[i-1] {
			return nil, fmt.Errorf("heuristic: tier cut points %v must increase", tiers)
		}
	}
	h.tiers = slices.Clone(tiers)
	return h, nil
}

// Score returns the difficulty score of a request: text is the last user message, system the
// system prompt.
func (h *Heuristic) Score(text, system string) float64 {
	st := Structural(text, system)
	return h.ScoreStructure(&st)
}

// ScoreStructure is Score for features already extracted.
func (h *Heuristic) ScoreStructure(st *Structure) float64 {
	var s float64
	for j, x := range st {
		s += h.weights[j] * x
	}
	return min(max(s, 0), 1)
}

// Tier returns the tier of a score: the number of cut points at or below it, from 0 to
// len(Tiers()).
func (h *Heuristic) Tier(score float64) int {
	n := 0
	for _, t := range h.tiers {
		if score >= t {
			n++
		}
	}
	return n
}

// Tiers returns the cut points. The caller must not modify the slice.
func (h *Heuristic) Tiers() []float64 { return h.tiers }

// Weights returns the weight of every structural feature, as a new map.
func (h *Heuristic) Weights() map[string]float64 {
	m := make(map[string]float64, NumStructural)
	for j, name := range StructuralNames {
		m[name] = h.weights[j]
	}
	return m
}
