package review

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/eval"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/spec"
)

// misfitTraffic is the qa cascade's traffic with mixtral's answers failing the agreement check
// but for accepted of n (the check, yi34b, answers no step: an independent check), each failed
// one escalated to gpt4, which passes.
func misfitTraffic(s *spec.Spec, n, accepted int) []*clearbar.Decision {
	q := newQATraffic(s)
	q.repeat(n, func(i int) {
		if i < accepted {
			q.add("", call{1, clearbar.AttemptPrimary, "mixtral", agreed})
			return
		}
		q.add("", call{1, clearbar.AttemptPrimary, "mixtral", disagreed}, call{2, clearbar.AttemptEscalation, "gpt4", agreed})
	})
	return q.ds
}

// TestMisfitStrengthIsNoPassRate: when validators of the assumed strength (detect 0.9, false
// alarm 0.05) would accept at least 10% of answers, bad ones included, and they accept none of
// 100, the figure (v̂ − (1−d))/(d − f) is no pass rate: the row shows the verdicts' share with
// its interval, says the strength does not fit, is not tested, fires no trigger and writes
// nothing into assume.pass_rate; and no report shows a zero-width interval of a pass rate.
func TestMisfitStrengthIsNoPassRate(t *testing.T) {
	s := loadQA(t, qaCascade, "")
	rep := runReview(t, s, misfitTraffic(s, 100, 0))
	if c := comparison(rep, "qa", "mixtral", "pass rate"); c != nil {
		t.Errorf("mixtral's verdicts shown as a pass rate: %s (%s–%s), note %q", pct(float64(c.Measured)), pct(float64(c.Low)), pct(float64(c.High)), c.Note)
	}
	c := comparison(rep, "qa", "mixtral", "validator pass rate")
	if c == nil {
		t.Fatal("no validator pass rate row for mixtral")
	}
	if c.Tested || c.Trigger != "" || c.Measured != 0 || !(c.High > 0) || c.N != 100 || c.From != "spec" || !(c.Assumed > 0.6) {
		t.Errorf("mixtral: %+v; want the verdicts' share 0 of 100 with its interval, against the share the assumed pass rate implies, untested", c)
	}
	for _, want := range []string{"validators accepted 0.00% of answers, fewer than the 1−detect = 10.00% they accept of bad answers alone",
		"the assumed validator strength (detect 0.9, false alarm 0.05) does not fit this traffic", "clearbar validate calibrate SPEC --category qa"} {
		if !strings.Contains(c.Note, want) {
			t.Errorf("mixtral's note %q lacks %q", c.Note, want)
		}
	}
	if fired(rep, TriggerPassRate, "qa", "mixtral") {
		t.Errorf("a pass-rate trigger fired for mixtral: %+v", rep.Triggers)
	}
	for _, e := range passRateEdits(rep) {
		if strings.HasSuffix(e.What, ".mixtral") {
			t.Errorf("mixtral's pass rate written from verdicts the strength does not fit: %+v", e)
		}
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(md.String(), "\n") {
		if strings.Contains(line, "pass rate") && strings.Contains(line, "0.00%–0.00%") {
			t.Errorf("a pass rate with a zero-width interval: %s", line)
		}
	}
	if !strings.Contains(md.String(), "does not fit this traffic") {
		t.Errorf("the Markdown report does not say the strength does not fit:\n%s", md.String())
	}
}

// TestMisfitStrengthFewAnswers: none of 21 answers accepted lies below the 10% the strength
// allows, but the interval reaches it: chance can give that share, so the row is the boundary
// pass rate, 0%, with its interval (not a zero-width one), clipped and said to be, and untested.
func TestMisfitStrengthFewAnswers(t *testing.T) {
	s := loadQA(t, qaCascade, "")
	rep := analyze(t, s, misfitTraffic(s, 21, 0), Options{})
	if c := comparison(rep, "qa", "mixtral", "validator pass rate"); c != nil {
		t.Errorf("a share within chance of the allowed range shown as a misfit: %+v", c)
	}
	c := comparison(rep, "qa", "mixtral", "pass rate")
	if c == nil || c.Tested || c.Measured != 0 || c.Low != 0 || !(c.High > 0) || !strings.Contains(c.Note, "its interval clipped: lower end at 0%") {
		t.Errorf("mixtral: %+v; want an untested pass rate of 0%% with a clipped, not zero-width, interval", c)
	}
}

// TestPassRateIntervalClippedSaysSo: 15 of 100 accepted imply a pass rate of 5.9%, whose
// interval's lower end, below 0, is clipped to 0 alone, and the note says so.
func TestPassRateIntervalClippedSaysSo(t *testing.T) {
	s := loadQA(t, qaCascade, "")
	rep := analyze(t, s, misfitTraffic(s, 100, 15), Options{})
	c := comparison(rep, "qa", "mixtral", "pass rate")
	if c == nil {
		t.Fatal("no pass rate row for mixtral")
	}
	if c.Low != 0 || !(c.Measured > 0.05 && c.Measured < 0.06) || !(c.High > c.Measured) || !c.Tested {
		t.Errorf("mixtral: %+v; want 5.9%% tested, its interval from 0", c)
	}
	if !strings.Contains(c.Note, "its interval clipped: lower end at 0%") {
		t.Errorf("note %q does not say the interval was clipped", c.Note)
	}
	if lo, hi, why := clipInterval(-0.1, 1.2); lo != 0 || hi != 1 || why != " (its interval clipped: lower end at 0%, upper end at 100%)" {
		t.Errorf("clipInterval(-0.1, 1.2) = %v, %v, %q", lo, hi, why)
	}
}

// TestEvalMisfitStrengthIsNoPassRate: eval corrects verdicts the same way, and gives no pass
// rate (not 0.0% clipped) when the share the validators accept lies outside what their
// assumed strength allows, so that nothing contradicts or updates the assumption with it.
func TestEvalMisfitStrengthIsNoPassRate(t *testing.T) {
	s := loadQA(t, qaCascade, "")
	cat, m := s.Categories[0], s.Model("mixtral")
	rows := func(n, accepted int) []eval.Record {
		var out []eval.Record
		for i := range n {
			pass := i < accepted
			out = append(out, eval.Record{Row: outcomes.Row{Item: fmt.Sprint("q", i), Category: cat.Name, Model: "mixtral", LatencyMS: 300, Pass: &pass},
				Extras: eval.Extras{GradedBy: eval.GradeValidators}})
		}
		return out
	}
	for _, tt := range []struct {
		n, accepted int
		want        string
	}{
		{100, 0, "does not fit these answers"},
	} {
		sums := eval.Summarize(cat, []*spec.Model{m}, rows(tt.n, tt.accepted))
		sum := sums[0]
		if sum.Graded != 0 || sum.AssumptionContradicted() || !strings.Contains(sum.PassRateNote, "fewer than the 1−detect = 10.0%") || !strings.Contains(sum.PassRateNote, tt.want) {
			t.Errorf("%d of %d accepted: graded %d, pass rate %.3f (%.3f–%.3f), contradicted %v, note %q; want no pass rate and a note that says %q",
				tt.accepted, tt.n, sum.Graded, sum.PassRate, sum.PassRateCI[0], sum.PassRateCI[1], sum.AssumptionContradicted(), sum.PassRateNote, tt.want)
		}
		var b bytes.Buffer
		if err := eval.WriteText(&b, sums); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "0.0% (0.0%") {
			t.Errorf("%d of %d accepted: eval shows a clipped pass rate:\n%s", tt.accepted, tt.n, b.String())
		}
	}
	// 0 of 21 accepted: within chance of the 10% the strength allows, so the boundary pass
	// rate, 0%, with an interval that is clipped, not of zero width.
	few := eval.Summarize(cat, []*spec.Model{m}, rows(21, 0))[0]
	if few.Graded != 21 || few.PassRate != 0 || !(few.PassRateCI[1] > 0) || !strings.Contains(few.PassRateNote, "its interval clipped: lower end at 0%") {
		t.Errorf("0 of 21: graded %d, %.3f (%.3f–%.3f), note %q", few.Graded, few.PassRate, few.PassRateCI[0], few.PassRateCI[1], few.PassRateNote)
	}
	// 15 of 100 accepted: a pass rate of 5.9%, its interval's lower end clipped to 0.
	sum := eval.Summarize(cat, []*spec.Model{m}, rows(100, 15))[0]
	if sum.Graded != 100 || sum.PassRateCI[0] != 0 || !(sum.PassRate > 0.05) || !strings.Contains(sum.PassRateNote, "its interval clipped: lower end at 0%") {
		t.Errorf("15 of 100: graded %d, %.3f (%.3f–%.3f), note %q", sum.Graded, sum.PassRate, sum.PassRateCI[0], sum.PassRateCI[1], sum.PassRateNote)
	}
}
