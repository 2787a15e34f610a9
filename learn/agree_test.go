package learn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
)

// TestWithAgreement: the cascade's accounting on one item per case, as the gateway runs a
// route whose agreement check applies to every step — an agreeing start keeps its own label
// and pays for its checker; a disagreeing one gets the best model's label and pays for its
// call, its checker, the best model and the best model's checker; the checker's own answer is
// checked by the second checker; the best model started on pays for its check and keeps its
// label; an answer that names no option escalates without a check call; items that are not
// multiple-choice questions are untouched.
func TestWithAgreement(t *testing.T) {
	const best = 3
	chk := [2]int{1, 2}
	in := []Sample{
		{Pass: []float64{1, 1, 0, 1}, Cost: []float64{1, 2, 4, 100}},
		{Pass: []float64{0, 1, 0, 1}, Cost: []float64{1, 2, 4, 100}},
	}
	keys := [][]string{{"B", "B", "C", "B"}, nil}
	out := withAgreement(in, keys, best, chk)
	want := Sample{Pass: []float64{1, 1, 1, 1}, Cost: []float64{1 + 2, 2 + 4 + 100 + 2, 4 + 2 + 100 + 2, 100 + 2}}
	for j := range 4 {
		if out[0].Pass[j] != want.Pass[j] || out[0].Cost[j] != want.Cost[j] {
			t.Errorf("start %d: pass %v cost %v, want %v and %v", j, out[0].Pass[j], out[0].Cost[j], want.Pass[j], want.Cost[j])
		}
	}
	keys[0] = []string{"", "B", "C", "B"} // start 0 names no option: escalated without a check call
	if out := withAgreement(in, keys, best, chk); out[0].Pass[0] != 1 || out[0].Cost[0] != 1+100+2 {
		t.Errorf("an answer without a key: pass %v cost %v, want the escalation's 1 and 103", out[0].Pass[0], out[0].Cost[0])
	}
	if out[1].Pass[0] != 0 || out[1].Cost[0] != 1 {
		t.Errorf("an item that is not a multiple-choice question was changed: %+v", out[1])
	}
	if in[0].Pass[0] != 1 || in[0].Cost[1] != 2 {
		t.Errorf("the input samples were modified: %+v", in[0])
	}
}

// mcOutcomes is a multiple-choice set on which a router cannot tell easy from hard questions
// (the difficulty is not in the words) but an agreement check can: weak is right on 70% of
// items and mid on 80%, independently, each picking a random wrong option otherwise; strong is
// always right at 50 times weak's price.
func mcOutcomes(n int) []outcomes.Row {
	rng := rand.New(rand.NewPCG(3, 5))
	var rows []outcomes.Row
	for i := range n {
		correct := rng.IntN(3)
		prompt := fmt.Sprintf("Which option is right for question %d?\nA) first\nB) second\nC) third\nAnswer:", i)
		answer := func(p float64) (string, bool) {
			if rng.Float64() < p {
				return string(rune('A' + correct)), true
			}
			return string(rune('A' + (correct+1+rng.IntN(2))%3)), false
		}
		item := fmt.Sprintf("mc-%d", i)
		for _, m := range []struct {
			name       string
			p, costUSD float64
		}{{"weak", 0.7, 0.0002}, {"mid", 0.8, 0.0004}, {"strong", 1, 0.01}} {
			text, ok := answer(m.p)
			rows = append(rows, outcomes.Row{Item: item, Task: "mc", Prompt: prompt, Model: m.name, Pass: &ok, Response: text + "\n", Cost: clearbar.MoneyFromUSD(m.costUSD)})
		}
	}
	return rows
}

// TestEvaluateAgreement: with the recorded answers, the learned router with an agreement
// cascade reaches 95% of the best model's quality on the test half at a fraction of the cost
// the router alone needs, everything chosen on the train half.
func TestEvaluateAgreement(t *testing.T) {
	rows := mcOutcomes(2000)
	ds := GroupRows("multiple choice", sliceSeq(rows), nil, true)
	ev, err := Evaluate(ds, EvalOptions{Seed: 1, Agree: true})
	if err != nil {
		t.Fatal(err)
	}
	ag := ev.Agreement
	if ag == nil {
		t.Fatal("no agreement cascade in the evaluation")
	}
	q, c := ag.Operating.Quality/ev.BestQuality, ag.Operating.Cost/ev.BestCost
	t.Logf("cascade %.1f%% at %.1f%% (checkers %v, %.1f%% checked, %.1f%% escalated); router alone %.1f%% at %.1f%%", 100*q, 100*c, ag.Checkers,
		100*ag.Checked, 100*ag.Escalated, 100*ev.Operating.Quality/ev.BestQuality, 100*ev.Operating.Cost/ev.BestCost)
	if q < 0.94 || c > 0.6 {
		t.Errorf("the cascade's operating point is %.1f%% of the quality at %.1f%% of the cost; want ≥ 94%% at ≤ 60%%", 100*q, 100*c)
	}
	if c >= ev.Operating.Cost/ev.BestCost {
		t.Errorf("the cascade costs %.1f%%, no less than the router alone (%.1f%%)", 100*c, 100*ev.Operating.Cost/ev.BestCost)
	}
	if ag.Checkers[0] == "strong" || ag.Checkers[1] == "strong" || ag.Checked == 0 || ag.Escalated == 0 || ag.Escalated >= ag.Checked {
		t.Errorf("checkers %v, checked %.2f, escalated %.2f", ag.Checkers, ag.Checked, ag.Escalated)
	}
	// Escalations are the disagreements: about 1 − (0.7·0.8 + 0.3·0.2/2) = 41% of checked weak answers.
	if r := ag.Escalated / ag.Checked; math.Abs(r-0.41) > 0.08 {
		t.Errorf("%.2f of the checked answers escalated; independent 70%% and 80%% answerers disagree on about 0.41", r)
	}
	if md := ev.Markdown(); !strings.Contains(md, "With an agreement cascade") || !strings.Contains(md, "learned + agreement cascade") {
		t.Errorf("the report does not show the cascade:\n%s", md)
	}

	// Without recorded answers there is nothing to replay: answers not kept, or none recorded.
	if _, err := Evaluate(NewDataset("no answers", sliceSeq(rows), nil), EvalOptions{Seed: 1, Agree: true}); err == nil || !strings.Contains(err.Error(), "recorded answers") {
		t.Errorf("answers not kept: %v", err)
	}
	for i := range rows {
		rows[i].Response = ""
	}
	if _, err := Evaluate(GroupRows("no responses", sliceSeq(rows), nil, true), EvalOptions{Seed: 1, Agree: true}); err == nil || !strings.Contains(err.Error(), "recorded answers") {
		t.Errorf("no responses recorded: %v", err)
	}
}
