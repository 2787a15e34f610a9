package replay_test

import (
	"fmt"
	"testing"

	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/replay"
)

// TestCascadeMeasuresValidatorStrength: a cascade judged by its validators' verdicts tallies
// them against the answers' pass verdicts, each answer once (a retry gets the same verdict on
// the same answer), the unvalidated last step's answers not at all; a cascade with a simulated
// strength measures none.
func TestCascadeMeasuresValidatorStrength(t *testing.T) {
	var rows []outcomes.Row
	for i := range 200 {
		id := fmt.Sprint("q", i)
		weak, strong := i%4 != 0, i%7 != 0
		rows = append(rows,
			outcomes.Row{Item: id, Category: "qa", Prompt: id, Model: "weak", Cost: 1000, Pass: &weak},
			outcomes.Row{Item: id, Category: "qa", Prompt: id, Model: "strong", Cost: 10_000, Pass: &strong})
	}
	tb, err := replay.NewTable(rows, replay.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	weak := tb.Index("weak")
	v := replay.NewVerdicts(2)
	var failing, passing, detected, falseAlarms float64
	for i := range tb.Len() {
		pass := tb.Cell(i, weak).Pass
		flag := !pass && i%3 != 0 || pass && i%10 == 1
		v.Set(i, 0, !flag, 0)
		switch {
		case pass:
			passing++
			if flag {
				falseAlarms++
			}
		default:
			failing++
			if flag {
				detected++
			}
		}
	}
	c := &replay.Cascade{Steps: []replay.Step{{Model: "weak", Validated: true, RetryOnce: true}, {Model: "strong"}}, Verdicts: v}
	got := mustEval(t, c, tb).Validator
	if got == nil || got.Failing != failing || got.Passing != passing || !near(got.Detect, detected/failing) || !near(got.FalseAlarm, falseAlarms/passing) {
		t.Errorf("measured %+v; want detect %v of %v failing answers, false_alarm %v of %v passing ones", got, detected/failing, failing, falseAlarms/passing, passing)
	}
	if got.Enough() != (failing >= replay.MinStrengthAnswers && passing >= replay.MinStrengthAnswers) {
		t.Errorf("Enough() = %v with %v failing and %v passing answers", got.Enough(), failing, passing)
	}
	if r := mustEval(t, replay.NewCascade(replay.Strength{Detect: 0.9, FalseAlarm: 0.1}, "weak", "strong"), tb); r.Validator != nil {
		t.Errorf("a simulated strength measured %+v", r.Validator)
	}
}
