package validate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// agree checks an answer against a second model's answer to the same request: both are
// reduced with AnswerKey and the answer passes only when both have a key and the keys are
// equal. The answer's own key is read first: an answer without one fails without a call. The
// checker's call goes through the Caller, like a judge's, and is recorded as an attempt of
// kind clearbar.AttemptCheck with its cost and latency. Over an outcomes table (replay,
// calibration) the checker's recorded answer to the same item stands in for the call (see
// WithRecorded).
//
// A check that cannot compare the answer with an independent one fails it, since an
// unverified answer escalates, and marks the verdict Unverified: the answer's model is its
// only checker, the checker has no recorded answer or none is available, the checker could
// not be reached, or the checker's own answer has no key. Such a verdict says nothing of the
// answer; only a disagreement, or an answer without a key, is a finding.
type agree struct {
	name     string
	cfg      *spec.Agree
	checkers map[string]*spec.Model
	kind     string
	caller   Caller
}

func newAgree(cfg spec.ValidatorConfig, env Env) (Validator, error) {
	c := cfg.(*spec.Agree)
	refs := c.Checkers()
	if len(refs) == 0 {
		return nil, errors.New("agree has no checker model")
	}
	if env.Caller == nil && !env.Recorded {
		return nil, fmt.Errorf("agree with %s: no model caller to run the check with", refs[0].Name)
	}
	a := &agree{name: c.Summary(), cfg: c, checkers: map[string]*spec.Model{}, kind: c.Answer, caller: env.Caller}
	for _, r := range refs {
		m := env.Spec.Model(r.Name)
		if m == nil {
			return nil, fmt.Errorf("agree model %q is not declared", r.Name)
		}
		a.checkers[r.Name] = m
	}
	if !slices.Contains(AnswerKinds, c.Answer) {
		return nil, fmt.Errorf("agree answer %q is not one of %s", c.Answer, strings.Join(AnswerKinds, ", "))
	}
	return a, nil
}

func (a *agree) Name() string { return a.name }

// Check is unused: the Checker calls check directly so it can record the call.
func (a *agree) Check(ctx context.Context, in *Input) clearbar.Verdict {
	v, _ := a.check(ctx, in)
	return v
}

// check returns the verdict and, when the checker was called (or its recorded answer used),
// the attempt record of that call.
func (a *agree) check(ctx context.Context, in *Input) (clearbar.Verdict, *clearbar.Attempt) {
	fail := func(reason string) clearbar.Verdict {
		return clearbar.Verdict{Validator: a.name, Pass: false, Reason: reason}
	}
	unverified := func(reason string) clearbar.Verdict {
		return clearbar.Verdict{Validator: a.name, Pass: false, Reason: reason, Unverified: true}
	}
	var opts []option // the question's options, found once for both answers
	if a.kind == AnswerChoice {
		if opts = multipleChoice(in.Request.LastUserText()); len(opts) == 0 {
			return clearbar.Verdict{Validator: a.name, Pass: true, Reason: notMultipleChoice, NotApplicable: true}, nil
		}
	}
	ref, ok := a.cfg.CheckerFor(in.Model)
	if !ok {
		return unverified(fmt.Sprintf("no independent checker: %s wrote the answer and is the only checker; the answer is treated as unverified", in.Model)), nil
	}
	m := a.checkers[ref.Name]
	own, ok := answerKey(a.kind, opts, in.Response.Text())
	if !ok {
		return fail(fmt.Sprintf("no %s in the answer: %s", a.kind, own)), nil
	}
	var (
		resp *clearbar.Response
		att  clearbar.Attempt
		err  error
	)
	switch rec, _ := ctx.Value(recordedKey{}).(Recorded); {
	case rec != nil:
		resp, att, err = rec(m.Name)
		if errors.Is(err, ErrNotRecorded) {
			return unverified(fmt.Sprintf("%s has no recorded answer to this request; the answer is treated as unverified", m.Name)), nil
		}
	case a.caller != nil:
		resp, att, err = a.caller.Call(context.WithValue(ctx, checkKey{}, true), m, in.Request)
	default:
		return unverified(fmt.Sprintf("%s's answer is not available here (no recorded answers, no model caller); the answer is treated as unverified", m.Name)), nil
	}
	att.Kind = clearbar.AttemptCheck
	if err != nil {
		att.Outcome = "failed"
		e := clearbar.AsError(err)
		return unverified(fmt.Sprintf("%s could not be reached (%s); the answer is treated as unverified", m.Name, e.Class)), &att
	}
	att.Outcome = "compared"
	theirs, ok := answerKey(a.kind, opts, resp.Text())
	if !ok {
		return unverified(fmt.Sprintf("%s's answer has no %s to compare with: %s; the answer is treated as unverified", m.Name, a.kind, theirs)), &att
	}
	if own != theirs {
		return fail(fmt.Sprintf("disagrees with %s: %s vs %s", m.Name, a.show(own), a.show(theirs))), &att
	}
	return clearbar.Verdict{Validator: a.name, Pass: true, Reason: fmt.Sprintf("agrees with %s: %s", m.Name, a.show(own))}, &att
}

// notMultipleChoice is the reason of an agreement check on choice answers that does not apply.
const notMultipleChoice = "not a multiple-choice question: not checked"

// notApplicable implements applier: an agreement check on choice answers does not apply to a
// question that lists no options.
func (a *agree) notApplicable(req *clearbar.Request) string {
	if a.kind == AnswerChoice && len(multipleChoice(req.LastUserText())) == 0 {
		return notMultipleChoice
	}
	return ""
}

// OnlyUnverified reports whether verdicts fail an answer only for want of a verdict: one of
// them fails it, and every one that does is Unverified (see clearbar.Verdict). Such an answer
// was not judged wanting, though the gateway escalates it.
func OnlyUnverified(verdicts []clearbar.Verdict) bool {
	failed := false
	for _, v := range verdicts {
		if !v.Pass {
			if !v.Unverified {
				return false
			}
			failed = true
		}
	}
	return failed
}

// show writes a key for a verdict: option letters and numbers as they are, text quoted and
// clipped.
func (a *agree) show(key string) string {
	if a.kind != AnswerText {
		return key
	}
	const most = 40
	if utf8.RuneCountInString(key) > most {
		key = string([]rune(key)[:most]) + "…"
	}
	return strconv.Quote(key)
}

// Recorded returns a model's recorded answer to the request being validated, and the record of
// the recorded call (its cost and latency; for a call that failed, its class and the error).
// It returns ErrNotRecorded when the model has no recorded answer to it.
type Recorded func(model string) (*clearbar.Response, clearbar.Attempt, error)

// ErrNotRecorded is what a Recorded returns for a model without a recorded answer.
var ErrNotRecorded = errors.New("no recorded answer")

type recordedKey struct{}

// WithRecorded returns a context in which agreement checks take the checker model's answer
// from rec instead of calling the model: an outcomes table holds every model's answer to each
// item, so replay and calibration compare recorded answers and count the checker row's cost
// and latency. A check whose checker has no recorded answer fails: the answer is unverified.
// Judges are not affected.
func WithRecorded(ctx context.Context, rec Recorded) context.Context {
	return context.WithValue(ctx, recordedKey{}, rec)
}

// checkKey marks the context of an agreement check's call: the checker answers the client's
// own request, so ProviderCaller passes the request's category on (WithCategory), which a
// judge's call, a request of its own, does not take.
type checkKey struct{}
