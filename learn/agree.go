package learn

import (
	"fmt"
	"slices"

	"github.com/clearbar/clearbar/validate"
)

// The learned router combined with an agreement cascade, as a spec writes it:
//
//	route: {score: {model: router.json, ...}}
//	validate: [{agree: {model: CHECKER, answer: choice}}]
//
// The router picks the model to start with; when that model is not the best one and the
// request is a multiple-choice question, a checker model answers the same request, and the
// start's answer is delivered only when both name the same option (validate.AnswerKey);
// otherwise the best model answers. Every call is paid for: the start's, the checker's and,
// on a disagreement, the best model's. The checker of a start is Checkers[0], or Checkers[1]
// when the start is Checkers[0] itself. Requests that are not multiple-choice questions are
// delivered unchecked.
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
	// answer was checked, and escalated for a disagreement.
	Checked, Escalated float64
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
		if it.Answers == nil || !validate.ChoiceQuestion(it.Prompt) {
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

// withAgreement returns the samples as the cascade realises them: for each start j other than
// best on a multiple-choice item, the start's label when it agrees with its checker and the
// best model's otherwise, at the cost of every call made. P and Est, what the router decides
// on, are unchanged.
func withAgreement(in []Sample, keys [][]string, best int, chk [2]int) []Sample {
	out := make([]Sample, len(in))
	for n, s := range in {
		out[n] = s
		if keys[n] == nil {
			continue
		}
		pass, cost := slices.Clone(s.Pass), slices.Clone(s.Cost)
		for j := range pass {
			if j == best {
				continue
			}
			k := checkerOf(j, chk)
			cost[j] += s.Cost[k]
			if keys[n][j] == "" || keys[n][j] != keys[n][k] {
				pass[j] = s.Pass[best]
				cost[j] += s.Cost[best]
			}
		}
		out[n].Pass, out[n].Cost = pass, cost
	}
	return out
}

// cascadeRates are, per task and start, what the cascade does with the start's answers on
// the train half: agreement given the start passed (a1) and failed (a0), and the best model's
// pass rate on the disagreements given the start passed (b1) and failed (b0).
type cascadeRates struct{ a1, a0, b1, b0 float64 }

// fitCascadeRates measures cascadeRates per (task, start) on the samples of the items at idx,
// each shrunk towards its rate over all tasks by two pseudo-items.
func fitCascadeRates(ds *Dataset, idx []int, samples []Sample, keys [][]string, best int, chk [2]int) func(task string, j int) cascadeRates {
	k := len(ds.Models)
	type counts struct{ n1, agree1, n0, agree0, dis1, bp1, dis0, bp0 float64 }
	byTask := map[string][]counts{}
	all := make([]counts, k)
	for n, i := range idx {
		if keys[n] == nil {
			continue
		}
		task := ds.Items[i].Task
		if byTask[task] == nil {
			byTask[task] = make([]counts, k)
		}
		s := &samples[n]
		for j := range k {
			if j == best {
				continue
			}
			kk := checkerOf(j, chk)
			agree := keys[n][j] != "" && keys[n][j] == keys[n][kk]
			pass, bp := passOf(s.Pass[j]) >= 0.5, passOf(s.Pass[best])
			for _, c := range []*counts{&byTask[task][j], &all[j]} {
				switch {
				case pass && agree:
					c.n1++
					c.agree1++
				case pass:
					c.n1++
					c.dis1++
					c.bp1 += bp
				case agree:
					c.n0++
					c.agree0++
				default:
					c.n0++
					c.dis0++
					c.bp0 += bp
				}
			}
		}
	}
	const prior = 2.0
	rate := func(x, n, def float64) float64 { return (x + prior*def) / (n + prior) }
	return func(task string, j int) cascadeRates {
		g := all[j]
		gr := cascadeRates{a1: rate(g.agree1, g.n1, 0.5), a0: rate(g.agree0, g.n0, 0.5), b1: rate(g.bp1, g.dis1, 0.5), b0: rate(g.bp0, g.dis0, 0.5)}
		t, ok := byTask[task]
		if !ok {
			return gr
		}
		c := t[j]
		return cascadeRates{a1: rate(c.agree1, c.n1, gr.a1), a0: rate(c.agree0, c.n0, gr.a0), b1: rate(c.bp1, c.dis1, gr.b1), b0: rate(c.bp0, c.dis0, gr.b0)}
	}
}

// cascadeAware returns the samples with what the router decides on replaced by the cascade's
// expectation: for a checked start j with predicted P(pass) p, P'(pass) = p·(a1 + (1−a1)·b1)
// + (1−p)·(1−a0)·b0 and the decision cost est_j + est_checker + P(disagree)·est_best, with
// the rates of fitCascadeRates.
func cascadeAware(ds *Dataset, idx []int, in []Sample, keys [][]string, best int, chk [2]int, rates func(string, int) cascadeRates) []Sample {
	out := make([]Sample, len(in))
	for n, s := range in {
		out[n] = s
		if keys[n] == nil {
			continue
		}
		task := ds.Items[idx[n]].Task
		est := s.est()
		p, e := slices.Clone(s.P), slices.Clone(est)
		for j := range p {
			if j == best {
				continue
			}
			r := rates(task, j)
			pj := s.P[j]
			p[j] = pj*(r.a1+(1-r.a1)*r.b1) + (1-pj)*(1-r.a0)*r.b0
			dis := pj*(1-r.a1) + (1-pj)*(1-r.a0)
			e[j] = est[j] + est[checkerOf(j, chk)] + dis*est[best]
		}
		out[n].P, out[n].Est = p, e
	}
	return out
}

// agreementOutcome counts, at a calibrated rule's choices on the test samples, the shares of
// requests checked and escalated.
func agreementOutcome(ds *Dataset, idx []int, samples []Sample, keys [][]string, c *Calibration, best int, chk [2]int) (checked, escalated float64) {
	for n, i := range idx {
		s := &samples[n]
		lambda := c.WTP.Lambda
		if c.Mixed != nil {
			lambda = c.Mixed.Lambda(RequestShare(ds.Items[i].Prompt))
		}
		j := ChooseWTP(s.P, s.est(), lambda)
		if keys[n] == nil || j == best {
			continue
		}
		checked++
		if k := checkerOf(j, chk); keys[n][j] == "" || keys[n][j] != keys[n][k] {
			escalated++
		}
	}
	return checked / float64(len(idx)), escalated / float64(len(idx))
}

// cascade returns the samples of the items at idx as the cascade with checkers chk realises
// them (withAgreement) and as a router aware of it decides on them (cascadeAware, with rates
// measured on the train half).
func cascade(ds *Dataset, idx []int, in []Sample, keys [][]string, best int, chk [2]int, rates func(string, int) cascadeRates) []Sample {
	return cascadeAware(ds, idx, withAgreement(in, keys, best, chk), keys, best, chk, rates)
}

// calibrateAgreement picks the checker pair on the train half: every ordered pair of
// candidates other than best, the pair whose cascade meets the target at the least cost (or,
// when none meets it, reaches the most quality).
func calibrateAgreement(ds *Dataset, trainIdx []int, train []Sample, keys [][]string, best int, t Target) (*Calibration, [2]int, int, error) {
	models := ds.Models
	t.Reference = models[best]
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
			rates := fitCascadeRates(ds, trainIdx, train, keys, best, chk)
			cal, err := Calibrate(models, cascade(ds, trainIdx, train, keys, best, chk, rates), t)
			if err != nil {
				return nil, pick, 0, err
			}
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
