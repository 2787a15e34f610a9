package simulated_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/simulated"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

const judgeSpec = `version: 1
name: judged
review: {last: 2026-11-01, cadence: monthly}
providers: {sim: {type: simulated, simulate: {time_scale: 0.00001}}}
models:
  small: {provider: sim, model: gpt-4.1-nano}
  judge: {provider: sim, model: gpt-4.1-mini}
categories:
  - name: answer
    share: 1
    tokens: {in: 100, out: 50}
    quality_bar: 0.5
    route:
      cascade: [small]
      validate: [{judge: {model: judge, rubric: "The answer is correct and complete.", threshold: 0.7}}]
    assume:
      pass_rate: {small: 0.6}
      validator: {detect: 0.8, false_alarm: 0.1}
`

// simulatedChecker parses a spec with one simulated provider, sim, and returns it, the
// provider and a checker whose validators call models through it.
func simulatedChecker(t *testing.T, src string) (*spec.Spec, clearbar.Provider, *validate.Checker) {
	t.Helper()
	s, err := spec.Parse([]byte(src), "sim.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := simulated.New(provider.Config{Provider: s.Provider("sim"), Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	checker, err := validate.NewChecker(s, validate.Env{Caller: validate.ProviderCaller{Providers: map[string]clearbar.Provider{"sim": p}}})
	if err != nil {
		t.Fatal(err)
	}
	return s, p, checker
}

// TestSimulatedJudge: a judge model on the simulator fails exactly the answers the simulator
// drew to fail validation, so that a judged route behaves as its assumed validator strength
// says; an answer with no simulation record (from a real provider) passes, and says why.
func TestSimulatedJudge(t *testing.T) {
	s, p, checker := simulatedChecker(t, judgeSpec)
	vs, _ := s.Category("answer").Route.MainValidators()
	ctx := context.Background()
	flagged, failed := 0, 0
	const n = 300
	for i := range n {
		req := &clearbar.Request{Model: "clearbar/answer", N: 1, Messages: []clearbar.Message{{Role: "user", Text: "Question " + string(rune('A'+i%26))}}}
		resp, err := p.Complete(ctx, &clearbar.Call{Request: req, Model: "gpt-4.1-nano", Category: "answer", Attempt: i + 1})
		if err != nil {
			continue // the simulator's own provider failures
		}
		var body struct {
			Sim *simulated.Simulation `json:"x_clearbar_simulation"`
		}
		if err := json.Unmarshal(resp.Body, &body); err != nil || body.Sim == nil {
			t.Fatalf("answer without a simulation record: %s", resp.Body)
		}
		verdicts, pass, attempts := checker.Check(ctx, "", req, resp, vs)
		if len(attempts) != 1 || attempts[0].Kind != clearbar.AttemptJudge || len(verdicts) != 1 {
			t.Fatalf("verdicts %+v, attempts %+v: want one judge call", verdicts, attempts)
		}
		if strings.Contains(verdicts[0].Reason, "could not be reached") {
			continue // the judge's own simulated provider failure
		}
		if pass == body.Sim.Flagged {
			t.Fatalf("answer %d: flagged %v, judge pass %v (%s)", i, body.Sim.Flagged, pass, verdicts[0].Reason)
		}
		if body.Sim.Flagged {
			flagged++
		}
		if !pass {
			failed++
		}
	}
	// P(flagged) = 0.4·0.8 + 0.6·0.1 = 0.38: the judge's rejections follow the assumptions.
	if flagged < 80 || flagged > 150 || failed != flagged {
		t.Errorf("%d of %d flagged, %d rejected; want about 0.38 of them, all rejected", flagged, n, failed)
	}

	real := &clearbar.Response{Choices: []clearbar.Choice{{Text: "An answer from elsewhere."}}}
	req := &clearbar.Request{Model: "clearbar/answer", N: 1, Messages: []clearbar.Message{{Role: "user", Text: "Q"}}}
	verdicts, pass, _ := checker.Check(ctx, "", req, real, vs)
	if !pass || len(verdicts) != 1 || !strings.Contains(verdicts[0].Reason, "score 0.90") {
		t.Errorf("an answer with no simulation record: pass %v, verdicts %+v", pass, verdicts)
	}
}

const agreeSpec = `version: 1
name: agreed
review: {last: 2026-11-01, cadence: monthly}
providers: {sim: {type: simulated, simulate: {time_scale: 0.00001}}}
models:
  small: {provider: sim, model: gpt-4.1-nano}
  checker: {provider: sim, model: gpt-4.1-mini}
categories:
  - name: quiz
    share: 1
    tokens: {in: 100, out: 5}
    quality_bar: 0.5
    route:
      cascade: [small]
      validate: [{agree: {model: checker, answer: choice}}]
    assume:
      pass_rate: {small: 0.6}
      validator: {detect: 0.8, false_alarm: 0.1}
`

// TestSimulatedAgreement: on multiple-choice questions, simulated models name the same option
// unless an answer is drawn to fail validation, so an agreement check on the simulator fails
// exactly the flagged answers, at the category's assumed strength, like a judge.
func TestSimulatedAgreement(t *testing.T) {
	s, p, checker := simulatedChecker(t, agreeSpec)
	vs, _ := s.Category("quiz").Route.MainValidators()
	ctx := context.Background()
	flagged, compared := 0, 0
	const n = 300
	for i := range n {
		q := fmt.Sprintf("Question %d: which is largest?\nA) %d\nB) %d\nC) %d\nAnswer:", i, i, 2*i, 3*i)
		req := &clearbar.Request{Model: "clearbar/quiz", N: 1, Messages: []clearbar.Message{{Role: "user", Text: q}}}
		resp, err := p.Complete(ctx, &clearbar.Call{Request: req, Model: "gpt-4.1-nano", Category: "quiz", Attempt: i + 1})
		if err != nil {
			continue
		}
		var body struct {
			Sim *simulated.Simulation `json:"x_clearbar_simulation"`
		}
		if err := json.Unmarshal(resp.Body, &body); err != nil || body.Sim == nil {
			t.Fatalf("answer without a simulation record: %s", resp.Body)
		}
		if key, ok := validate.AnswerKey(validate.AnswerChoice, q, resp.Text()); !ok {
			t.Fatalf("the simulated answer %q names no option: %s", resp.Text(), key)
		}
		verdicts, pass, attempts := checker.Check(ctx, "small", req, resp, vs)
		if len(attempts) != 1 || attempts[0].Kind != clearbar.AttemptCheck || attempts[0].Model != "checker" {
			t.Fatalf("verdicts %+v, attempts %+v: want one check call to checker", verdicts, attempts)
		}
		if strings.Contains(verdicts[0].Reason, "could not be reached") {
			continue // the checker's own simulated provider failure
		}
		compared++
		if pass == body.Sim.Flagged {
			t.Fatalf("answer %d %q: flagged %v, agreement pass %v (%s)", i, resp.Text(), body.Sim.Flagged, pass, verdicts[0].Reason)
		}
		if body.Sim.Flagged {
			flagged++
		}
	}
	// P(flagged) = 0.4·0.8 + 0.6·0.1 = 0.38.
	if compared < 250 || flagged < 80 || flagged > 150 {
		t.Errorf("%d compared, %d flagged; want about 0.38 of them flagged", compared, flagged)
	}
}
