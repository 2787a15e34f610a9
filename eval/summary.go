package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/internal/stats"
	"github.com/clearbar/clearbar/spec"
)

// Summary is what an eval measured for one model in one category.
type Summary struct {
	Category string `json:"category"`
	// Model is the spec's name for the model, ModelID its provider model id. Rows name it by
	// its model id, or by its spec name when another spec model has the same id (RowModel).
	Model   string `json:"model"`
	ModelID string `json:"model_id"`
	// Items counts the model's rows; Graded those with a grade (the call was answered),
	// Passed those that passed, Errors those whose call failed after its retries, Ungraded
	// those answered but not graded (a judge could not be reached; the next run grades them).
	// Unverified counts the answers of items the category's validators grade alone that they
	// could not judge (Record.Unverified: an agreement check whose only checker is this
	// model, or that could not compare the answer), and UnverifiedReason says why, as the
	// validators said it for most of them; NotApplicable counts those of them none of the
	// validators applies to (Verdict.NotApplicable: an agreement check on choice answers to
	// questions without options). They are not graded, and the pass rate is not theirs: it is
	// of the graded answers alone.
	Items            int    `json:"items"`
	Graded           int    `json:"graded"`
	Passed           int    `json:"passed"`
	Errors           int    `json:"errors"`
	Ungraded         int    `json:"ungraded,omitempty"`
	Unverified       int    `json:"unverified,omitempty"`
	UnverifiedReason string `json:"unverified_reason,omitempty"`
	NotApplicable    int    `json:"not_applicable,omitempty"`
	// Retried counts the model's calls that failed with a provider error and were retried
	// (Record.Retries): not among Errors, the calls that still failed after their retries, but
	// failed calls all the same, which estimate --measured counts in the model's availability.
	Retried int `json:"retried,omitempty"`
	// PassRate is the share of graded answers that pass (0 when nothing was graded) and
	// PassRateCI its 95% Wilson score interval ([0, 1] when nothing was graded). Failed calls
	// are not in it: they are a matter of availability, which the spec assumes separately.
	//
	// ByValidators counts the answers graded by the category's validators alone, Accepted
	// those of them the validators accepted. They pass when the validators accept them,
	// which validators that miss bad answers or flag good ones (the category's assumed
	// strength, detect d and false alarm f) do for a share v = q(1−f) + (1−q)(1−d) of
	// answers, not the pass rate q the spec's pass_rate is. When some answers are graded
	// otherwise, PassRate is Passed/Graded, of those alone. When every graded answer is one
	// of them, Graded and Passed are ByValidators and Accepted, and PassRate and its interval
	// are not Passed/Graded and its interval but those corrected, q = (v − (1−d)) / (d − f),
	// as estimate --measured corrects validator verdicts (the same when the validators are
	// never wrong, d = 1 and f = 0). PassRateNote, a sentence, says which, and why the
	// verdicts give no pass rate when d − f is below 0.2, or when the share they accept lies
	// below 1−d or above 1−f, which no pass rate gives at that strength (Graded is then 0).
	// The interval's ends are clipped to [0, 1] each, and the note says so.
	PassRate     float64    `json:"pass_rate"`
	PassRateCI   [2]float64 `json:"pass_rate_ci95"`
	ByValidators int        `json:"by_validators,omitempty"`
	Accepted     int        `json:"accepted_by_validators,omitempty"`
	PassRateNote string     `json:"pass_rate_note,omitempty"`
	// Assumed is the spec's pass-rate assumption for the model in the category, nil when it
	// states none.
	Assumed *float64 `json:"assumed_pass_rate,omitempty"`
	// LatencyP50 and LatencyP95 are nearest-rank percentiles of the answered calls' latencies;
	// zero when no answered call has one. Latencies is how many there were.
	LatencyP50 time.Duration `json:"-"`
	LatencyP95 time.Duration `json:"-"`
	Latencies  int           `json:"latencies"`
	// TokensIn and TokensOut are the answered calls' mean prompt and completion tokens.
	TokensIn  float64 `json:"tokens_in"`
	TokensOut float64 `json:"tokens_out"`
	// Cost is what the model's calls cost in all; CostPerItem is Cost over Items.
	Cost        clearbar.Money `json:"cost_usd"`
	CostPerItem clearbar.Money `json:"cost_per_item_usd"`
}

// MarshalJSON writes the latencies in milliseconds.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	return json.Marshal(struct {
		plain
		P50 float64 `json:"latency_p50_ms"`
		P95 float64 `json:"latency_p95_ms"`
	}{plain(s), ms(s.LatencyP50), ms(s.LatencyP95)})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// AssumptionContradicted reports whether the spec assumes a pass rate outside the measured
// interval: the estimate is built on a number the measurement rules out.
// An assumption on the interval's edge (within intervalTolerance) is inside it.
func (s Summary) AssumptionContradicted() bool {
	return s.Assumed != nil && s.Graded > 0 && (*s.Assumed < s.PassRateCI[0]-intervalTolerance || *s.Assumed > s.PassRateCI[1]+intervalTolerance)
}

// intervalTolerance is how far outside a measured interval an assumption may lie and still
// count as inside it: rounding in the interval's computation, not a disagreement.
const intervalTolerance = 1e-9

// Summarize summarises the records of the category, one Summary per model of models, in that
// order; records of other categories and models are ignored. A record is a model's when it
// names the model by its spec name, or by its model id when no other of models has that id. A record counts as graded when
// it has Pass, as failed when it has Error.
func Summarize(cat *spec.Category, models []*spec.Model, rows []Record) []Summary {
	out := make([]Summary, 0, len(models))
	for _, m := range models {
		s := Summary{Category: cat.Name, Model: m.Name, ModelID: m.Model}
		if p, ok := cat.PassRate(m); ok {
			s.Assumed = &p
		}
		var lat []float64
		var in, outTok int
		answered, verdictPasses := 0, 0
		reasons := map[string]int{} // of the unverified answers
		for _, r := range rows {
			if r.Category != cat.Name || !rowOf(r.Model, m, models) {
				continue
			}
			s.Items++
			s.Cost += r.Cost
			s.Retried += r.Retries
			if r.Error != "" {
				s.Errors++
				continue
			}
			answered++
			in += r.TokensIn
			outTok += r.TokensOut
			if r.LatencyMS > 0 {
				lat = append(lat, r.LatencyMS)
			}
			if r.Pass == nil && r.Unverified {
				s.Unverified++
				na := false
				for _, v := range r.Checks {
					if v.Unverified {
						reasons[v.Reason]++
						na = na || v.NotApplicable
					}
				}
				if na {
					s.NotApplicable++
				}
				continue
			}
			if r.Pass == nil {
				s.Ungraded++
				continue
			}
			if r.byValidatorsAlone() {
				s.ByValidators++
				if *r.Pass {
					verdictPasses++
				}
				continue
			}
			s.Graded++
			if *r.Pass {
				s.Passed++
			}
		}
		s.UnverifiedReason = mostCommon(reasons)
		s.passRate(cat.Strength(), verdictPasses)
		if answered > 0 {
			s.TokensIn, s.TokensOut = float64(in)/float64(answered), float64(outTok)/float64(answered)
		}
		if s.Items > 0 {
			s.CostPerItem = clearbar.Money(math.Round(float64(s.Cost) / float64(s.Items)))
		}
		slices.Sort(lat)
		s.Latencies = len(lat)
		s.LatencyP50, s.LatencyP95 = percentile(lat, 0.50), percentile(lat, 0.95)
		out = append(out, s)
	}
	return out
}

// rowOf reports whether a row's model name is candidate m's among models: its spec name, or
// its model id when no other candidate has that id (see RowModel).
func rowOf(name string, m *spec.Model, models []*spec.Model) bool {
	if name == m.Name {
		return true
	}
	if name != m.Model {
		return false
	}
	for _, o := range models {
		if o.Model == m.Model && o.Name != m.Name {
			return false
		}
	}
	return true
}

// mostCommon returns the key of counts with the highest count (the first in order of ties);
// "" for none.
func mostCommon(counts map[string]int) string {
	best := ""
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		if best == "" || counts[k] > counts[best] {
			best = k
		}
	}
	return best
}

// passRate sets the pass rate, its interval and how many answers it counts (see Summary): from
// the answers graded otherwise than by the category's validators alone when there are any, else
// from the validators' verdicts (verdictPasses of s.ByValidators accepted) corrected for their
// strength st.
func (s *Summary) passRate(st spec.Strength, verdictPasses int) {
	s.PassRateCI = [2]float64{0, 1}
	s.Accepted = verdictPasses
	d, f := float64(st.Detect), float64(st.FalseAlarm)
	switch {
	case s.ByValidators == 0:
	case s.Graded > 0:
		s.PassRateNote = fmt.Sprintf("the pass rate is from the %d answers graded by a reference or checks; the %d graded by the category's validators alone measure how often they accept an answer, not the pass rate", s.Graded, s.ByValidators)
	case d == 1 && f == 0:
		s.Graded, s.Passed = s.ByValidators, verdictPasses // validators that are never wrong
	case d-f < 0.2:
		s.PassRateNote = fmt.Sprintf("no pass rate: the %d answers were graded by the category's validators alone, which the spec says barely tell good answers from bad (detect %g, false alarm %g); give the items a reference or checks", s.ByValidators, d, f)
		return
	default:
		v := float64(verdictPasses) / float64(s.ByValidators)
		lo, hi := Wilson(verdictPasses, s.ByValidators)
		if hi < 1-d || lo > 1-f {
			// No pass rate gives that share at the assumed strength, beyond chance: the
			// correction would be clipped to 0 or 1, a figure that is no pass rate. Graded
			// stays 0. (Within chance, a few answers all accepted say, it is the boundary
			// pass rate, its interval clipped.)
			s.PassRateNote = strengthMisfit(s.Category, s.ByValidators, v, d, f)
			return
		}
		correct := func(v float64) float64 { return (v - (1 - d)) / (d - f) }
		s.Graded, s.Passed = s.ByValidators, verdictPasses
		s.PassRateCI = [2]float64{max(correct(lo), 0), min(correct(hi), 1)}
		s.PassRate = min(max(correct(v), s.PassRateCI[0]), s.PassRateCI[1])
		s.PassRateNote = fmt.Sprintf("the category's validators, which grade the %d answers alone, accept %s of them; corrected for their assumed strength (detect %g, false alarm %g), that is a pass rate of %s", s.ByValidators, pct(v), d, f, pct(s.PassRate))
		var clipped []string
		if correct(lo) < 0 {
			clipped = append(clipped, "lower end at 0%")
		}
		if correct(hi) > 1 {
			clipped = append(clipped, "upper end at 100%")
		}
		if len(clipped) > 0 {
			s.PassRateNote += " (its interval clipped: " + strings.Join(clipped, ", ") + ")"
		}
		return
	}
	if s.Graded > 0 {
		s.PassRate = float64(s.Passed) / float64(s.Graded)
		s.PassRateCI[0], s.PassRateCI[1] = Wilson(s.Passed, s.Graded)
	}
}

// strengthMisfit says why n verdicts of a category that accept a share v of the answers,
// beyond chance, give no pass rate: v lies below 1−d, the share validators of strength d, f
// accept of bad answers alone, or above 1−f, the share they accept of good ones: the assumed
// strength does not fit the answers.
func strengthMisfit(category string, n int, v, d, f float64) string {
	var s string
	if v < 1-d {
		s = fmt.Sprintf("no pass rate: the category's validators, which grade the %d answers alone, accept %s of them, fewer than the 1−detect = %s they accept of bad answers alone", n, pct(v), pct(1-d))
	} else {
		s = fmt.Sprintf("no pass rate: the category's validators, which grade the %d answers alone, accept %s of them, more than the 1−false alarm = %s they accept of good answers", n, pct(v), pct(1-f))
	}
	return s + fmt.Sprintf(": their assumed strength (detect %g, false alarm %g) does not fit these answers; calibrate it (clearbar validate calibrate SPEC --category %s OUTCOMES --update), or give the items a reference or checks", d, f, category)
}

// percentile returns the nearest-rank p-quantile of sorted millisecond values as a duration;
// 0 for no values.
func percentile(sorted []float64, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	i = min(max(i, 0), len(sorted)-1)
	return time.Duration(sorted[i] * float64(time.Millisecond))
}

// Wilson returns the 95% Wilson score interval of k successes in n trials (stats.Wilson);
// [0, 1] for n = 0. Unlike the normal approximation it stays inside [0, 1] and is honest near
// 0 and 1, where pass rates live.
//
// Its bounds at the ends are exact: the upper bound for k = n is 1 and the lower for k = 0 is
// 0 (the formula's rounding would put them a hair inside, and an assumed pass rate of 100%
// outside the interval of n passes in n).
func Wilson(k, n int) (lo, hi float64) {
	lo, hi = stats.Wilson(k, n, 0.95)
	if k <= 0 {
		lo = 0
	}
	if k >= n {
		hi = 1
	}
	return lo, hi
}

// WriteText writes summaries as a table, then a line for every assumption the measurement
// contradicts.
func WriteText(w io.Writer, sums []Summary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CATEGORY\tMODEL\tITEMS\tPASS RATE (95% CI)\tASSUMED\tERRORS\tP50\tP95\tTOKENS IN/OUT\tCOST/ITEM\tTOTAL")
	for _, s := range sums {
		rate, assumed := "-", "-"
		if s.Graded > 0 {
			rate = fmt.Sprintf("%s (%s–%s)", pct(s.PassRate), pct(s.PassRateCI[0]), pct(s.PassRateCI[1]))
			if s.Graded != s.Items {
				rate += fmt.Sprintf(" of %d", s.Graded) // the answers the rate is of, fewer than ITEMS
			}
		}
		if s.Assumed != nil {
			assumed = pct(*s.Assumed)
		}
		p50, p95 := "-", "-"
		if s.Latencies > 0 {
			p50, p95 = FormatLatency(s.LatencyP50), FormatLatency(s.LatencyP95)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\t%.0f/%.0f\t%s\t%s\n", s.Category, s.Model, s.Items, rate, assumed, s.Errors, p50, p95, s.TokensIn, s.TokensOut, s.CostPerItem, s.Cost)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range sums {
		if s.PassRateNote != "" {
			fmt.Fprintf(w, "%s in %s: %s\n", s.Model, s.Category, s.PassRateNote)
		}
		if s.Retried > 0 {
			fmt.Fprintf(w, "%s in %s: %d call(s) failed and were retried; ERRORS counts only calls that failed after their retries, estimate --measured counts every failed call in availability\n", s.Model, s.Category, s.Retried)
		}
		if s.Ungraded > 0 {
			fmt.Fprintf(w, "%s in %s: %d answer(s) not graded, as a judge or check model could not be reached; run the same command again to grade them\n", s.Model, s.Category, s.Ungraded)
		}
		if s.Unverified > 0 {
			fmt.Fprintf(w, "%s in %s: %s\n", s.Model, s.Category, s.UnverifiedNote())
		}
		if s.AssumptionContradicted() {
			then := "--update writes the measurement"
			if s.Graded < estimate.MinGraded {
				then = fmt.Sprintf("--update writes a measured pass rate only from at least %d graded answers, as estimate --measured uses one, and this is of %d: grade more items", estimate.MinGraded, s.Graded)
			}
			fmt.Fprintf(w, "%s in %s: the spec assumes a pass rate of %s, outside the measured %s–%s; %s\n", s.Model, s.Category, pct(*s.Assumed), pct(s.PassRateCI[0]), pct(s.PassRateCI[1]), then)
		}
	}
	return nil
}

// UnverifiedNote says, in a sentence, how many of the model's answers the category's
// validators could not judge and why (none of them applies, or an agreement check could not
// compare), what the pass rate is of, and what to change; "" when there are none.
func (s Summary) UnverifiedNote() string {
	if s.Unverified == 0 {
		return ""
	}
	of := fmt.Sprintf("the pass rate is of the %d graded answer(s)", s.Graded)
	if s.Graded == 0 {
		of = "no answer was graded, so there is no pass rate"
	}
	if s.NotApplicable == s.Unverified {
		return fmt.Sprintf("%d answer(s) not graded, as none of the category's validators, which grade their items alone, applies to them (%s); %s. To grade them, give those items a reference or checks",
			s.Unverified, s.UnverifiedReason, of)
	}
	return fmt.Sprintf("%d answer(s) not graded, as the category's validators, which grade their items alone, could not judge them (%s); %s. To grade them, give those items a reference or checks, or give the agreement check another model to check %s's answers (agree: {models: [CHECKER, OTHER]})",
		s.Unverified, s.UnverifiedReason, of, s.Model)
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }

// roundLatency rounds a latency for people and specs: to the millisecond from 10ms up, to the
// microsecond below.
func roundLatency(d time.Duration) time.Duration {
	if d >= 10*time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

// FormatLatency writes a latency rounded by roundLatency in the spec's duration syntax:
// "850µs", "812ms", "1.777s", "2m5.5s".
func FormatLatency(d time.Duration) string {
	d = roundLatency(d)
	switch {
	case d < 10*time.Millisecond || d >= time.Minute:
		return d.String()
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	// From whole milliseconds, so that 1.777s is not written 1.7770000000000001s.
	return strconv.FormatFloat(float64(d.Milliseconds())/1000, 'f', -1, 64) + "s"
}
