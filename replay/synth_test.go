package replay_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/replay"
)

// synthetic returns rows for n items × k models named m0…m(k−1): each model costs more and is
// more capable than the one before; each item has a difficulty, and a model passes when its
// skill plus noise beats it. Latencies grow with the model. It also returns a scorer's
// precomputed scores per item: a noisy P(pass) for every model, higher for the models that
// tend to pass. Deterministic for a seed.
func synthetic(n, k int, seed uint64) ([]outcomes.Row, map[string][]float64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	rows := make([]outcomes.Row, 0, n*k)
	scores := make(map[string][]float64, n)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("s%06d", i)
		hash := outcomes.HashPrompt(id)
		difficulty := rng.NormFloat64()
		sc := make([]float64, k)
		for j := 0; j < k; j++ {
			skill := -1 + 3*float64(j)/float64(max(k-1, 1))
			pass := skill+rng.NormFloat64()*0.8 > difficulty
			p := 1 / (1 + math.Exp(-(skill - difficulty + rng.NormFloat64()*0.7)))
			sc[j] = p
			score := 0.0
			if pass {
				score = 1
			}
			cost := clearbar.Money(20_000 * math.Pow(2.2, float64(j)) * (0.5 + rng.Float64()))
			rows = append(rows, outcomes.Row{
				Item: id, Task: "synthetic", PromptHash: hash, Model: fmt.Sprintf("m%d", j),
				Cost: cost, LatencyMS: 200 + 150*float64(j) + 400*rng.Float64(), Score: &score, Pass: &pass,
			})
		}
		scores[id] = sc
	}
	return rows, scores
}

// indexedScorer serves precomputed scores by item id; the table's columns must be m0…m(k−1)
// in order, as synthetic rows build them.
type indexedScorer map[string][]float64

func (s indexedScorer) Score(item *replay.Item, out []float64) { copy(out, s[item.ID]) }

var _ replay.Scorer = indexedScorer{}
