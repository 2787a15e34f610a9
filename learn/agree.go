package learn

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/clearbar/clearbar/validate"
)

// The learned router combined with an agreement cascade, as a spec writes it:
//
//	route:
//	  score: {router: router.json, models: [...], willingness_to_pay: W, escalate: [BEST]}
//	  validate: [{agree: {models: [CHECKER1, CHECKER2], answer: choice}}]
//
// The router picks the model to start with on its P(pass) and price, with one willingness to
// pay, as a score route does; when that model is not the best one and the request is a
// multiple-choice question, a checker model answers the same request, and the start's answer
// is delivered only when both name the same option (validate.AnswerKey); otherwise the best
// model answers. Every call is paid for: the start's, the checker's and, on a disagreement,
// the best model's. The checker of a start is Checkers[0], or Checkers[1] when the start is
// Checkers[0] itself. Requests that are not multiple-choice questions are delivered unchecked.
//
// Its evaluation replays this on the recorded answers of an outcomes table (Item.Answers):
// nothing is simulated, the agreement of two models on an item is what their recorded
// answers say.

// Agreement is the learned router with an agreement cascade, evaluated by Evaluate when
// EvalOptions.Agree is set.
type Agreement struct {
	// Checkers are the two checker models, chosen on the train half: the pair whose cascade
	// meets the target there at the least cost.
	Checkers [2]string
	// Learned and Lookup are the learned router and the category lookup with the cascade,
	// calibrated on the train half for the evaluation's target, relative to the best model.
	Learned, Lookup *Calibration
	// Operating and LookupOperating are their operating points on the test half; the Share
	// is of the models started with.
	Operating, LookupOperating Point
	// Frontier is the learned router with the cascade: its cost–quality hull on the test half.
	Frontier []Point
	// Checked and Escalated are the shares of test requests at the operating point whose
	// answer was checked (the best model's answers too), and that escalated (a disagreement,
	// or an answer naming no option).
	Checked, Escalated float64
	// AIQ and LookupAIQ are the AIQ of the learned router's and the lookup's hulls with the
	// cascade on the test half.
	AIQ, LookupAIQ float64
	// Pairs counts the checker pairs tried on the train half.
	Pairs int
}

// answerKeys reduces each candidate's recorded answer to the option it picks, per item at idx
// (in idx order): nil for an item that is not a multiple-choice question or has no recorded
// answers, "" for an answer that picks no single option.
func answerKeys(ds *Dataset, idx []int) (keys [][]string, choice int) {
	keys = make([][]string, len(idx))
	for n, i := range idx {
		it := &ds.Items[i]
		if !slices.ContainsFunc(it.Answers, func(a string) bool { return a != "" }) || !validate.ChoiceQuestion(it.Prompt) {
			continue
		}
		choice++
		keys[n] = make([]string, len(it.Answers))
		for j, a := range it.Answers {
			if key, ok := validate.AnswerKey(validate.AnswerChoice, it.Prompt, a); ok {
				keys[n][j] = key
			}
		}
	}
	return keys, choice
}

// checkerOf is the checker of start j.
func checkerOf(j int, chk [2]int) int {
	if j == chk[0] {
		return chk[1]
	}
	return chk[0]
}

// cascadeOutcome is what the cascade does on a multiple-choice item started on j, as the
// gateway runs a score route whose validators (the agreement check) apply to every step and
// whose failures escalate to best: the label delivered, every call's cost, whether the start's
// answer was checked, and whether it escalated. An answer with a key is checked by its checker
// (the best model's too, though it is delivered whatever the check says); one without a key
// fails without a call.
func cascadeOutcome(s *Sample, keys []string, j, best int, chk [2]int) (pass, cost float64, checked, escalated bool) {
	check := func(m int) (agree bool, cost float64) {
		if keys[m] == "" {
			return false, 0
		}
		k := checkerOf(m, chk)
		return keys[m] == keys[k], s.Cost[k]
	}
	pass, cost = s.Pass[j], s.Cost[j]
	agree, c := check(j)
	cost += c
	checked = keys[j] != ""
	if j == best || agree {
		return pass, cost, checked, false
	}
	_, c = check(best)
	return s.Pass[best], cost + s.Cost[best] + c, checked, true
}

// withAgreement returns the samples as the cascade realises them (cascadeOutcome) for every
// start on a multiple-choice item. P and Est, what the router decides on, are unchanged.
func withAgreement(in []Sample, keys [][]string, best int, chk [2]int) []Sample {
	out := make([]Sample, len(in))
	for n, s := range in {
		out[n] = s
		if keys[n] == nil {
			continue
		}
		pass, cost := slices.Clone(s.Pass), slices.Clone(s.Cost)
		for j := range pass {
			pass[j], cost[j], _, _ = cascadeOutcome(&in[n], keys[n], j, best, chk)
		}
		out[n].Pass, out[n].Cost = pass, cost
	}
	return out
}

// agreementOutcome counts, at a calibrated rule's choices on the test samples (as they were
// before withAgreement), the shares of requests whose answer was checked and escalated.
func agreementOutcome(ds *Dataset, idx []int, samples []Sample, keys [][]string, c *Calibration, best int, chk [2]int) (checked, escalated float64) {
	for n, i := range idx {
		if keys[n] == nil {
			continue
		}
		s := &samples[n]
		_, _, ch, esc := cascadeOutcome(s, keys[n], ChooseWTP(s.P, s.est(), c.lambdaFor(ds.Items[i].Prompt)), best, chk)
		if ch {
			checked++
		}
		if esc {
			escalated++
		}
	}
	return checked / float64(len(idx)), escalated / float64(len(idx))
}

// calibrateAgreement picks the checker pair on the train half: every ordered pair of
// candidates other than best, the pair whose cascade meets the target at the least cost (or,
// when none meets it, reaches the most quality).
func calibrateAgreement(ds *Dataset, train []Sample, keys [][]string, best int, t Target) (*Calibration, [2]int, int, error) {
	models := ds.Models
	t.Reference = models[best]
	_, costs := singles(train, len(models))
	bestCost := costs[best]
	var (
		bestCal *Calibration
		pick    [2]int
		pairs   int
	)
	for a := range models {
		for b := range models {
			if a == b || a == best || b == best {
				continue
			}
			pairs++
			chk := [2]int{a, b}
			cal, err := Calibrate(models, withAgreement(train, keys, best, chk), t)
			if err != nil {
				return nil, pick, 0, err
			}
			cal.BestCost = bestCost // the best model alone, without the checks of its answers
			better := bestCal == nil ||
				(cal.Met && (!bestCal.Met || cal.Point.Cost < bestCal.Point.Cost)) ||
				(!cal.Met && !bestCal.Met && cal.Point.Quality > bestCal.Point.Quality)
			if better {
				bestCal, pick = cal, chk
			}
		}
	}
	if bestCal == nil {
		return nil, pick, 0, fmt.Errorf("agreement cascade: %d candidates leave no pair of checkers besides the best model", len(models))
	}
	return bestCal, pick, pairs, nil
}

// Route writes the calibrated cascade as a spec route: ScoreRoute's score route, with
// escalation to the best model and the agreement check with its two checkers.
func (ag *Agreement) Route() string {
	return ScoreRoute(ag.Learned, "escalate: ["+strconv.Quote(ag.Learned.Best)+"]") +
		fmt.Sprintf("  validate: [{agree: {models: [%q, %q], answer: choice}}]\n", ag.Checkers[0], ag.Checkers[1])
}
