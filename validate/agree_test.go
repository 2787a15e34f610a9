package validate

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

const plantsQuestion = "Which gas do plants take in?\nA) oxygen\nB) carbon dioxide\nC) nitrogen\nD) helium\nAnswer:"

// TestAnswerKindsMatchSpec: the spec checks agree's answer kind against spec.AnswerKinds (it
// cannot import this package); AnswerKey must know exactly those kinds.
func TestAnswerKindsMatchSpec(t *testing.T) {
	if !slices.Equal(AnswerKinds, spec.AnswerKinds) || AnswerChoice != spec.AnswerChoice || AnswerNumber != spec.AnswerNumber || AnswerText != spec.AnswerText {
		t.Errorf("validate's answer kinds %v differ from the spec's %v", AnswerKinds, spec.AnswerKinds)
	}
	for _, k := range spec.AnswerKinds {
		if key, _ := AnswerKey(k, plantsQuestion, "B"); strings.Contains(key, "unknown answer kind") {
			t.Errorf("AnswerKey does not know the spec's answer kind %q", k)
		}
	}
}

func TestAgree(t *testing.T) {
	timeout := &clearbar.Error{Class: clearbar.Timeout, Message: "upstream timed out"}
	for _, tc := range []struct {
		kind, question, answer string
		reply                  string
		err                    error
		pass                   bool
		reason                 string
		called                 bool
		// unverified: the check could not compare the answer with an independent one, which
		// says nothing of the answer (clearbar.Verdict.Unverified).
		unverified  bool
		explanation string
	}{
		{"choice", plantsQuestion, "B", "The answer is (B).", nil, true, "agrees with judge: B", true, false,
			"both pick B, written differently"},
		{"choice", plantsQuestion, "B", "C) nitrogen", nil, false, "disagrees with judge: B vs C", true, false,
			"the checker picks another option: escalate"},
		{"choice", plantsQuestion, "A good guess is B", "B", nil, false, "no choice in the answer: the answer names options A and B", false, false,
			"an answer naming two options has no key, and the checker is not called for it: a finding"},
		{"choice", plantsQuestion, "B", "I cannot tell", nil, false, "judge's answer has no choice to compare with: the answer names none of options A–D; the answer is treated as unverified", true, true,
			"a checker answer without a key verifies nothing"},
		{"choice", plantsQuestion, "B", "", timeout, false, "judge could not be reached (timeout); the answer is treated as unverified", true, true,
			"a failed checker call leaves the answer unverified, which escalates it"},
		{"choice", "What is 2+2?", "4", "4", nil, true, "not a multiple-choice question: not checked", false, false,
			"a question without options is not checked, and passes without a call"},
		{"number", "How many?", "3 + 4 = 7, so\n#### 1,250", "The total is 1250.0", nil, true, "agrees with judge: 1250", true, false,
			"numbers compare by value"},
		{"number", "How many?", "#### 12", "13", nil, false, "disagrees with judge: 12 vs 13", true, false,
			"different final numbers"},
		{"text", "Capital of France?", " Paris. ", "paris", nil, true, `agrees with judge: "paris"`, true, false,
			"texts compare normalised"},
		{"text", "Capital of France?", "Paris", "Lyon", nil, false, `disagrees with judge: "paris" vs "lyon"`, true, false,
			"texts differ"},
	} {
		caller := &scriptedCaller{reply: tc.reply, err: tc.err}
		v := compile(t, `{agree: {model: judge, answer: `+tc.kind+`}}`, Env{Caller: caller})
		a := v.(*agree)
		req := userRequest(tc.question)
		got, att := a.check(context.Background(), &Input{Request: req, Response: answer(tc.answer)})
		if got.Pass != tc.pass || got.Reason != tc.reason || got.Validator != "agrees with judge on the "+tc.kind || got.Unverified != tc.unverified {
			t.Errorf("%s: verdict %+v; want pass %v, reason %q, unverified %v", tc.explanation, got, tc.pass, tc.reason, tc.unverified)
		}
		if called := caller.calls > 0; called != tc.called || (att != nil) != tc.called {
			t.Errorf("%s: checker called %d times, attempt %+v; want called %v", tc.explanation, caller.calls, att, tc.called)
			continue
		}
		if !tc.called {
			continue
		}
		if caller.last != req {
			t.Errorf("%s: the checker must get the client's request unchanged", tc.explanation)
		}
		wantOutcome := "compared"
		if tc.err != nil {
			wantOutcome = "failed"
		}
		if att.Kind != clearbar.AttemptCheck || att.Cost != 7 || att.Model != "judge" || att.Outcome != wantOutcome {
			t.Errorf("%s: the check's call must come back as a check attempt with its cost: %+v", tc.explanation, att)
		}
	}
}

// TestAgreeRecorded: with recorded answers in the context, the check compares with the
// checker's recorded answer and calls nothing; a checker without one leaves the answer
// unverified.
func TestAgreeRecorded(t *testing.T) {
	caller := &scriptedCaller{reply: "C"}
	v := compile(t, `{agree: {model: judge, answer: choice}}`, Env{Caller: caller}).(*agree)
	in := &Input{Request: userRequest(plantsQuestion), Response: answer("B")}
	rec := func(model string) (*clearbar.Response, clearbar.Attempt, error) {
		if model != "judge" {
			return nil, clearbar.Attempt{}, ErrNotRecorded
		}
		return answer("carbon dioxide"), clearbar.Attempt{Model: model, Cost: 11, Latency: 900}, nil
	}
	got, att := v.check(WithRecorded(context.Background(), rec), in)
	if !got.Pass || caller.calls != 0 || att == nil || att.Cost != 11 || att.Latency != 900 || att.Kind != clearbar.AttemptCheck {
		t.Errorf("recorded agreement: verdict %+v, calls %d, attempt %+v", got, caller.calls, att)
	}
	none := func(string) (*clearbar.Response, clearbar.Attempt, error) {
		return nil, clearbar.Attempt{}, ErrNotRecorded
	}
	got, att = v.check(WithRecorded(context.Background(), none), in)
	if got.Pass || !got.Unverified || att != nil || caller.calls != 0 || !strings.Contains(got.Reason, "judge has no recorded answer to this request; the answer is treated as unverified") {
		t.Errorf("no recorded answer: verdict %+v, attempt %+v, calls %d", got, att, caller.calls)
	}

	// Without a caller, agree compiles only for recorded answers.
	s := mustParse(t, `{agree: {model: judge, answer: choice}}`)
	if _, err := NewChecker(s, Env{}); err == nil || !strings.Contains(err.Error(), "no model caller") {
		t.Errorf("agree without a caller: %v", err)
	}
	c, err := NewChecker(s, Env{Recorded: true})
	if err != nil {
		t.Fatal(err)
	}
	verdicts, pass, calls := c.Check(context.Background(), in.Model, in.Request, in.Response, s.Categories[0].Route.Validate)
	if pass || len(calls) != 0 || len(verdicts) != 1 || !verdicts[0].Unverified || !strings.Contains(verdicts[0].Reason, "not available here") {
		t.Errorf("recorded-only checker without recorded answers: pass %v verdicts %+v", pass, verdicts)
	}
	verdicts, pass, calls = c.Check(WithRecorded(context.Background(), rec), in.Model, in.Request, in.Response, s.Categories[0].Route.Validate)
	if !pass || len(calls) != 1 || calls[0].Cost != 11 || len(verdicts) != 1 || verdicts[0].Unverified {
		t.Errorf("recorded-only checker with the recorded answer: pass %v verdicts %+v calls %+v", pass, verdicts, calls)
	}
}

// TestCheckerRunsAgreeLast: like a judge, an agreement check runs after the cheap checks and
// only when they pass, and its call is returned.
func TestCheckerRunsAgreeLast(t *testing.T) {
	s := mustParse(t, `{agree: {model: judge, answer: choice}}, {max_length: 5}`)
	caller := &scriptedCaller{reply: "B"}
	c, err := NewChecker(s, Env{Caller: caller})
	if err != nil {
		t.Fatal(err)
	}
	vs := s.Categories[0].Route.Validate
	verdicts, pass, calls := c.Check(context.Background(), "", userRequest(plantsQuestion), answer("B, carbon dioxide"), vs)
	if pass || caller.calls != 0 || len(calls) != 0 || len(verdicts) != 2 || verdicts[1].Reason != "not run: an earlier check already failed" {
		t.Errorf("a cheap failure must skip the check: pass %v calls %d verdicts %+v", pass, caller.calls, verdicts)
	}
	verdicts, pass, calls = c.Check(context.Background(), "", userRequest(plantsQuestion), answer("B"), vs)
	if !pass || caller.calls != 1 || len(calls) != 1 || calls[0].Kind != clearbar.AttemptCheck || len(verdicts) != 2 || !verdicts[1].Pass {
		t.Errorf("both pass: pass %v calls %+v verdicts %+v", pass, calls, verdicts)
	}
}

// TestCalibrateAgree: agreement checks are calibrated on recorded checker answers; an item
// whose checker has no recorded answer is left out and counted, unless another validator flags
// it anyway.
//
//	answer                  good  checker's recorded answer   agree       max_length 3
//	"B"                     yes   "B"                         -           -
//	"C"                     no    "B"                         flags       -
//	"D"                     no    "D"                         - (missed)  -
//	"A"                     yes   "C"                         flags       -
//	"B"                     yes   (none)                      unchecked   -
//	"A) oxygen"             no    (none)                      unchecked   flags
func TestCalibrateAgree(t *testing.T) {
	s := mustParse(t, `{agree: {model: judge, answer: choice}}, {max_length: 3}`)
	c, err := NewChecker(s, Env{Recorded: true})
	if err != nil {
		t.Fatal(err)
	}
	var items []Labeled
	for _, it := range []struct {
		text, checker string
		good          bool
	}{
		{"B", "B", true}, {"C", "B", false}, {"D", "D", false}, {"A", "C", true}, {"B", "", true}, {"A) oxygen", "", false},
	} {
		rec := func(string) (*clearbar.Response, clearbar.Attempt, error) {
			if it.checker == "" {
				return nil, clearbar.Attempt{}, ErrNotRecorded
			}
			return answer(it.checker), clearbar.Attempt{Cost: 5}, nil
		}
		items = append(items, Labeled{Request: userRequest(plantsQuestion), Response: answer(it.text), Good: it.good, Recorded: rec})
	}
	got := Calibrate(context.Background(), c, s.Categories[0].Route.Validate, items)
	ag, ml, all := got[0], got[1], got[2]
	if ag.Validator != "agree: agrees with judge on the choice" || ag.Good != 2 || ag.Bad != 2 || ag.Detected != 1 || ag.FalseAlarms != 1 ||
		ag.Unchecked != 2 || ag.CheckCalls != 4 || ag.CheckCost != 20 || ag.JudgeCalls != 0 {
		t.Errorf("agree: %+v; want 2 good (1 flagged), 2 bad (1 detected), 2 unchecked, 4 recorded answers used at 5 each", ag)
	}
	if ml.Unchecked != 0 || ml.Good+ml.Bad != 6 || ml.Detected != 1 {
		t.Errorf("max_length needs no checker: %+v", ml)
	}
	if all.Unchecked != 1 || all.Good != 2 || all.Bad != 3 || all.Detected != 2 || all.FalseAlarms != 1 {
		t.Errorf("all together: %+v; want the unchecked good answer left out and the long bad one flagged", all)
	}
}

// TestCalibrateLeavesOutUnverifiedChecks: a check that could not compare the answer (the
// checker's recorded call failed, or its recorded answer names no option) says nothing of it:
// the answer is unchecked, neither detected nor a false alarm, as one without a recorded
// answer is.
func TestCalibrateLeavesOutUnverifiedChecks(t *testing.T) {
	s := mustParse(t, `{agree: {model: judge, answer: choice}}`)
	c, err := NewChecker(s, Env{Recorded: true})
	if err != nil {
		t.Fatal(err)
	}
	failed := func(string) (*clearbar.Response, clearbar.Attempt, error) {
		return nil, clearbar.Attempt{Class: clearbar.RateLimited}, &clearbar.Error{Class: clearbar.RateLimited, Message: "the recorded call failed"}
	}
	keyless := func(string) (*clearbar.Response, clearbar.Attempt, error) {
		return answer("I cannot tell"), clearbar.Attempt{}, nil
	}
	agrees := func(string) (*clearbar.Response, clearbar.Attempt, error) {
		return answer("B"), clearbar.Attempt{}, nil
	}
	items := []Labeled{
		{Request: userRequest(plantsQuestion), Response: answer("C"), Good: false, Recorded: failed},
		{Request: userRequest(plantsQuestion), Response: answer("B"), Good: true, Recorded: keyless},
		{Request: userRequest(plantsQuestion), Response: answer("C"), Good: false, Recorded: agrees},
	}
	ag := Calibrate(context.Background(), c, s.Categories[0].Route.Validate, items)[0]
	if ag.Unchecked != 2 || ag.Bad != 1 || ag.Good != 0 || ag.Detected != 1 || ag.FalseAlarms != 0 {
		t.Errorf("agree: %+v; want the two answers it could not compare unchecked, and the one it could detected", ag)
	}
}

// TestAgreeCheckers: with models: [a, judge], every answer is checked by a, but a's own by
// judge; an answer by the only checker cannot be checked independently and is unverified.
func TestAgreeCheckers(t *testing.T) {
	caller := &scriptedCaller{reply: "B"}
	v := compile(t, `{agree: {models: [a, judge], answer: choice}}`, Env{Caller: caller})
	if v.Name() != "agrees with a (judge for a's answers) on the choice" {
		t.Errorf("name %q", v.Name())
	}
	for _, tc := range []struct{ answerer, checker string }{{"", "a"}, {"judge", "a"}, {"other", "a"}, {"a", "judge"}} {
		got, att := v.(*agree).check(context.Background(), &Input{Model: tc.answerer, Request: userRequest(plantsQuestion), Response: answer("B")})
		if !got.Pass || att == nil || att.Model != tc.checker || got.Reason != "agrees with "+tc.checker+": B" {
			t.Errorf("answer by %q: verdict %+v, attempt %+v; want checked by %s", tc.answerer, got, att, tc.checker)
		}
	}
	one := compile(t, `{agree: {model: judge, answer: choice}}`, Env{Caller: caller})
	calls := caller.calls
	got, att := one.(*agree).check(context.Background(), &Input{Model: "judge", Request: userRequest(plantsQuestion), Response: answer("B")})
	if got.Pass || !got.Unverified || att != nil || caller.calls != calls || !strings.Contains(got.Reason, "no independent checker: judge wrote the answer") {
		t.Errorf("an answer by the only checker: verdict %+v, attempt %+v, %d calls", got, att, caller.calls-calls)
	}
}

// TestProviderCallerPassesTheCheckedCategory: an agreement check's call answers the client's
// request, so the provider gets the request's category and is told it is a check; a judge's
// call, a request of its own, gets neither.
func TestProviderCallerPassesTheCheckedCategory(t *testing.T) {
	prov := &recordingProvider{}
	m := &spec.Model{Name: "judge", Model: "gpt-4o-mini", Provider: spec.Ref{Name: "p"}}
	pc := ProviderCaller{Providers: map[string]clearbar.Provider{"p": prov}}
	ctx := WithCategory(context.Background(), "arc")
	if _, _, err := pc.Call(context.WithValue(ctx, checkKey{}, true), m, userRequest(plantsQuestion)); err != nil {
		t.Fatal(err)
	}
	if c := prov.last; c.Category != "arc" || !c.Check {
		t.Errorf("check call: category %q, check %v; want arc, true", c.Category, c.Check)
	}
	if _, _, err := pc.Call(ctx, m, userRequest("Rate this answer.")); err != nil {
		t.Fatal(err)
	}
	if c := prov.last; c.Category != "" || c.Check {
		t.Errorf("judge call: category %q, check %v; want neither", c.Category, c.Check)
	}
}

type recordingProvider struct{ last *clearbar.Call }

func (p *recordingProvider) Name() string { return "p" }

func (p *recordingProvider) Stream(context.Context, *clearbar.Call) (clearbar.Stream, error) {
	panic("not streamed")
}

func (p *recordingProvider) Complete(_ context.Context, c *clearbar.Call) (*clearbar.Response, error) {
	p.last = c
	return &clearbar.Response{Choices: []clearbar.Choice{{Text: "B"}}}, nil
}

// TestNotApplicable: a validator that does not apply to a request passes its answers without
// checking them and says so in its verdict (clearbar.Verdict.NotApplicable), as
// Checker.NotApplicable says it beforehand, without a call; where it applies, it does not.
func TestNotApplicable(t *testing.T) {
	const inline = "Question 0: which option? A) one B) two C) three D) four. Answer with the letter."
	schema := userRequest("x")
	schema.ResponseFormat = clearbar.ResponseFormat{Type: "json_schema", Schema: []byte(`{"type":"object"}`)}
	for _, tc := range []struct {
		validator string
		req       *clearbar.Request
		answer    string
		na        bool
		why       string
	}{
		{`{agree: {model: judge, answer: choice}}`, userRequest("What is 2+2?"), "4", true, "a question without options"},
		{`{agree: {model: judge, answer: choice}}`, userRequest(plantsQuestion), "B", false, "options on lines of their own"},
		{`{agree: {model: judge, answer: choice}}`, userRequest(inline), "B", false, "options on one line"},
		{`{agree: {model: judge, answer: number}}`, userRequest("What is 2+2?"), "4", false, "number answers apply to any question"},
		{`{json_schema: request}`, userRequest("x"), "prose", true, "a request that asks for no JSON"},
		{`{json_schema: request}`, schema, `{"a": 1}`, false, "a request with a schema"},
		{`{max_length: 20}`, userRequest("x"), "short", false, "a validator that checks every answer"},
	} {
		caller := &scriptedCaller{reply: tc.answer}
		s := mustParse(t, tc.validator)
		c, err := NewChecker(s, Env{Caller: caller})
		if err != nil {
			t.Fatal(err)
		}
		v := s.Categories[0].Route.Validate[0]
		verdicts, pass, _ := c.Check(context.Background(), "a", tc.req, answer(tc.answer), []*spec.Validator{v})
		if got := verdicts[0]; got.NotApplicable != tc.na || !pass || tc.na && (caller.calls != 0 || got.Reason == "") {
			t.Errorf("%s: %s: verdict %+v, pass %v, %d calls; want not applicable %v, a pass", tc.why, tc.validator, got, pass, caller.calls, tc.na)
		}
		if why := c.NotApplicable(v, tc.req); (why != "") != tc.na || tc.na && why != verdicts[0].Reason {
			t.Errorf("%s: Checker.NotApplicable = %q; want the verdict's reason %q when not applicable (%v)", tc.why, why, verdicts[0].Reason, tc.na)
		}
	}
}

// TestCalibrateNotApplicable: an agreement check passes the answers to questions without
// options unchecked, as the gateway does: calibration counts them as answers it does not flag
// (a bad one undetected, a good one no false alarm) and says how many there were.
func TestCalibrateNotApplicable(t *testing.T) {
	s := mustParse(t, `{agree: {model: judge, answer: choice}}`)
	caller := &scriptedCaller{reply: "C"}
	c, err := NewChecker(s, Env{Caller: caller})
	if err != nil {
		t.Fatal(err)
	}
	items := []Labeled{
		{Model: "a", Request: userRequest(plantsQuestion), Response: answer("B"), Good: false},    // disagrees: detected
		{Model: "a", Request: userRequest(plantsQuestion), Response: answer("C"), Good: true},     // agrees
		{Model: "a", Request: userRequest("What is 2+2?"), Response: answer("5"), Good: false},    // not applicable
		{Model: "a", Request: userRequest("Name a colour."), Response: answer("red"), Good: true}, // not applicable
	}
	got := Calibrate(context.Background(), c, s.Categories[0].Route.Validate, items)
	for _, g := range got {
		if g.Bad != 2 || g.Good != 2 || g.Detected != 1 || g.FalseAlarms != 0 || g.NotApplicable != 2 || g.Unchecked != 0 {
			t.Errorf("%s: %+v; want 2 bad (1 detected), 2 good (no false alarm), 2 not applicable", g.Validator, g)
		}
	}
	if caller.calls != 2 {
		t.Errorf("%d checker calls; want 2, for the multiple-choice questions only", caller.calls)
	}
}
