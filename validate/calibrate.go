package validate

import (
	"context"
	"errors"
	"math"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// Labeled is an answer with a gold label: whether it is actually good.
type Labeled struct {
	// Model is the spec model that wrote the answer, when known: agreement checks ask
	// another.
	Model    string
	Request  *clearbar.Request
	Response *clearbar.Response
	Good     bool
	// Recorded, when set, gives other models' recorded answers to the same request: what
	// agreement checks compare with instead of calling their model.
	Recorded Recorded
}

// Strength is a validator's measured strength: how often it flags bad answers (Detect) and
// good ones (FalseAlarm), with 95% Wilson score intervals.
type Strength struct {
	Validator    string         `json:"validator"`
	Bad          int            `json:"bad"`
	Good         int            `json:"good"`
	Detected     int            `json:"detected"`
	FalseAlarms  int            `json:"false_alarms"`
	Detect       float64        `json:"detect"`
	DetectCI     [2]float64     `json:"detect_ci95"`
	FalseAlarm   float64        `json:"false_alarm"`
	FalseAlarmCI [2]float64     `json:"false_alarm_ci95"`
	JudgeCalls   int            `json:"judge_calls,omitempty"`
	JudgeCost    clearbar.Money `json:"judge_cost_usd,omitempty"`
	// CheckCalls and CheckCost count agreement checks' calls (or recorded answers used).
	CheckCalls int            `json:"check_calls,omitempty"`
	CheckCost  clearbar.Money `json:"check_cost_usd,omitempty"`
	// Unchecked counts answers left out because an agreement check could not judge them (its
	// model has no recorded answer to the same request, is the answer's own, failed, or
	// answered with nothing to compare): such a verdict says nothing about the answer, so it
	// neither detects nor raises a false alarm.
	Unchecked int `json:"unchecked,omitempty"`
	// NotApplicable counts answers the validator does not apply to (a NotApplicable verdict:
	// an agreement check on choice answers to a question without options), which it passes
	// without checking them, as the gateway does: they are counted, as answers it does not
	// flag, so that a bad one is not detected and a good one raises no false alarm, and the
	// strength is the one the category's traffic sees. All together, it counts the answers
	// no validator applies to.
	NotApplicable int `json:"not_applicable,omitempty"`
}

// Calibrate runs validators over labelled answers and measures each validator's strength, and
// that of all of them together (an answer is flagged when any validator fails it, which is
// what a route does). Judges are measured the same way: their calls go through the Checker's
// caller and their cost is reported. Agreement checks compare with the item's Recorded answers
// when it has them (else they call their model through the Checker's caller); an answer whose
// checker has no recorded answer, or whose own model is its only checker, or that the check
// could not judge otherwise (an Unverified verdict: the checker failed, or its answer had
// nothing to compare), is left out of that validator's counts, and counted as Unchecked; all
// together, it is left out (and counted) unless another validator fails it. A validator that
// does not apply to an answer's request passes the answer unchecked, as on the gateway: the
// answer counts as one it does not flag, and as NotApplicable.
func Calibrate(ctx context.Context, c *Checker, vs []*spec.Validator, items []Labeled) []Strength {
	per := make([]Strength, len(vs)+1)
	for i, v := range vs {
		// A summary that starts with its kind ("regex: matches /…/") has it written once.
		per[i].Validator = v.Kind + ": " + strings.TrimPrefix(v.Summary(), v.Kind+": ")
	}
	all := &per[len(vs)]
	all.Validator = "all validators together"
	for _, it := range items {
		ictx := ctx
		missing := false
		if it.Recorded != nil {
			ictx = WithRecorded(ctx, func(model string) (*clearbar.Response, clearbar.Attempt, error) {
				resp, a, err := it.Recorded(model)
				missing = missing || errors.Is(err, ErrNotRecorded)
				return resp, a, err
			})
		}
		anyFail, unchecked, applies := false, false, false
		for i, v := range vs {
			missing = false
			if ag, ok := v.Config.(*spec.Agree); ok && (ag.Answer != AnswerChoice || ChoiceQuestion(it.Request.LastUserText())) {
				if _, ok := ag.CheckerFor(it.Model); !ok {
					// The answer's own model is its only checker: nothing to measure.
					per[i].Unchecked++
					unchecked = true
					continue
				}
			}
			verdicts, pass, calls := c.Check(ictx, it.Model, it.Request, it.Response, []*spec.Validator{v})
			for _, a := range calls {
				if a.Kind == clearbar.AttemptCheck {
					per[i].CheckCalls++
					per[i].CheckCost += a.Cost
				} else {
					per[i].JudgeCalls++
					per[i].JudgeCost += a.Cost
				}
			}
			if missing || OnlyUnverified(verdicts) {
				// A check that could not compare the answer (its checker failed, or answered
				// with nothing to compare) says nothing of it either.
				per[i].Unchecked++
				unchecked = true
				continue
			}
			if len(verdicts) == 1 && verdicts[0].NotApplicable {
				per[i].NotApplicable++
			} else {
				applies = true
			}
			count(&per[i], it.Good, !pass)
			anyFail = anyFail || !pass
		}
		if !applies && !unchecked {
			all.NotApplicable++
		}
		if unchecked && !anyFail {
			all.Unchecked++ // another validator's failure flags it anyway; else it is unknown
			continue
		}
		count(all, it.Good, anyFail)
	}
	for i := range per {
		s := &per[i]
		s.Detect, s.DetectCI = rate(s.Detected, s.Bad)
		s.FalseAlarm, s.FalseAlarmCI = rate(s.FalseAlarms, s.Good)
	}
	return per
}

func count(s *Strength, good, flagged bool) {
	if good {
		s.Good++
		if flagged {
			s.FalseAlarms++
		}
		return
	}
	s.Bad++
	if flagged {
		s.Detected++
	}
}

// rate returns k/n and its 95% Wilson score interval; with n = 0 the rate is 0 and the
// interval [0, 1].
func rate(k, n int) (float64, [2]float64) {
	if n == 0 {
		return 0, [2]float64{0, 1}
	}
	const z = 1.959963984540054
	p := float64(k) / float64(n)
	nn := float64(n)
	den := 1 + z*z/nn
	center := (p + z*z/(2*nn)) / den
	half := z * math.Sqrt(p*(1-p)/nn+z*z/(4*nn*nn)) / den
	return p, [2]float64{math.Max(0, center-half), math.Min(1, center+half)}
}
