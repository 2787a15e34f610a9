package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// writeChoiceSet writes n multiple-choice items to a file.
func writeChoiceSet(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"id": "q%d", "prompt": "Question %d: which option is right?\nA) one\nB) two\nC) three\nD) four\nAnswer:"}`+"\n", i, i)
	}
	path := filepath.Join(t.TempDir(), "set.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// countingProvider counts the calls it passes on.
type countingProvider struct {
	clearbar.Provider
	calls atomic.Int64
}

func (p *countingProvider) Complete(ctx context.Context, call *clearbar.Call) (*clearbar.Response, error) {
	p.calls.Add(1)
	return p.Provider.Complete(ctx, call)
}

// counted wraps every provider of a fixture in a countingProvider, for the candidates' calls.
func counted(f *fixture) (map[string]clearbar.Provider, func() int64) {
	out := map[string]clearbar.Provider{}
	var all []*countingProvider
	for name, p := range f.providers {
		c := &countingProvider{Provider: p}
		out[name] = c
		all = append(all, c)
	}
	return out, func() int64 {
		var n int64
		for _, c := range all {
			n += c.calls.Load()
		}
		return n
	}
}

// TestAgreementCheckerModelIsNotFailed: a category validated by an agreement check with
// strong, evaluated on small and strong. strong checks small's answers, so small's pass rate is
// measured (the simulator's 0.7, recovered within its interval); nothing checks strong's own
// answers, so none of them is graded: strong has no pass rate, not 0%, the summary says how
// many answers could not be graded and why, --update writes no pass rate for strong, and a
// resumed run neither grades them again nor calls a model.
func TestAgreementCheckerModelIsNotFailed(t *testing.T) {
	f := loadFixture(t, "testdata/agree.yaml", "quiz")
	const n = 400
	set, err := LoadSet(writeChoiceSet(t, n), f.env)
	if err != nil {
		t.Fatal(err)
	}
	providers, calls := counted(f)
	models := f.models("small", "strong")
	path := filepath.Join(t.TempDir(), "out.jsonl")
	r := &Runner{Category: f.cat, Models: models, Providers: providers, Concurrency: 8}
	res, err := r.Run(context.Background(), set, openOutput(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if res.Ran != 2*n || res.Failed != 0 || calls() != 2*n {
		t.Fatalf("result %+v after %d candidate calls; want %d pairs run, none failed", res, calls(), 2*n)
	}
	sums := Summarize(f.cat, models, res.Rows)
	small, strong := sums[0], sums[1]
	if small.Graded != n || small.Unverified != 0 || small.PassRateCI[0] > 0.7 || small.PassRateCI[1] < 0.7 {
		t.Errorf("small: %d graded, %d unverified, pass rate %.3f (%.3f–%.3f); want all %d graded by strong's agreement, covering the true 0.7",
			small.Graded, small.Unverified, small.PassRate, small.PassRateCI[0], small.PassRateCI[1], n)
	}
	if strong.Graded != 0 || strong.Passed != 0 || strong.Unverified != n || strong.Ungraded != 0 || strong.AssumptionContradicted() ||
		!strings.Contains(strong.UnverifiedReason, "no independent checker: strong wrote the answer") {
		t.Errorf("strong: %d graded, %d passed, %d unverified (%q), %d ungraded; want its %d answers left ungraded as unverified, no pass rate",
			strong.Graded, strong.Passed, strong.Unverified, strong.UnverifiedReason, strong.Ungraded, n)
	}
	var text bytes.Buffer
	if err := WriteText(&text, sums); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), fmt.Sprintf("strong in quiz: %d answer(s) not graded, as the category's validators", n)) ||
		!strings.Contains(text.String(), "no independent checker") || regexp.MustCompile(`(?m)^quiz +strong +\d+ +0\.0% \(`).MatchString(text.String()) {
		t.Errorf("the summary must say how many of strong's answers were not graded and why, and give no 0%% rate:\n%s", text.String())
	}
	for _, rec := range readRecords(t, path) {
		if rec.Model == "gpt-4.1" && (rec.Pass != nil || !rec.Unverified || rec.GradedBy != "" || len(rec.Checks) != 1 || !rec.Checks[0].Unverified) {
			t.Fatalf("strong's row for %s: pass %v, unverified %v, graded by %q, checks %+v; want no pass, marked unverified", rec.Item, rec.Pass, rec.Unverified, rec.GradedBy, rec.Checks)
		}
	}

	data, err := os.ReadFile(f.spec.File)
	if err != nil {
		t.Fatal(err)
	}
	_, changes, notes, err := Update(data, f.spec, f.cat, sums, UpdateOptions{Today: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if c.Path == "assume.pass_rate.strong" {
			t.Errorf("--update writes %s, from no graded answer", c)
		}
	}
	if !strings.Contains(strings.Join(notes, "\n"), "strong: no graded answers: the category's validators could not judge its") {
		t.Errorf("notes %q; want one saying why strong's pass rate was not written", notes)
	}

	before := calls()
	res, err = r.Run(context.Background(), set, openOutput(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if res.Ran != 0 || res.Rerun != 0 || res.Regraded != 0 || res.Skipped != 2*n || calls() != before {
		t.Errorf("resumed: %+v after %d more calls; want every pair resumed as it is, without a call", res, calls()-before)
	}
	checkOnePerPair(t, path, 2*n)
}

// TestNeverVerifiedAnswersAreNotGradedByOtherValidators: beside the agreement check, a cheap
// validator fails some of strong's answers. Grading those alone would measure none of the
// answers that pass, and call strong's failures its pass rate: strong's answers are left
// ungraded, failed or not, while small's are graded by both validators.
func TestNeverVerifiedAnswersAreNotGradedByOtherValidators(t *testing.T) {
	data, err := os.ReadFile("testdata/agree.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(data), "validate: [{agree:", "validate: [{max_length: 60}, {agree:", 1)
	path := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	f := loadFixture(t, path, "quiz")
	const n = 200
	set, err := LoadSet(writeChoiceSet(t, n), f.env)
	if err != nil {
		t.Fatal(err)
	}
	models := f.models("small", "strong")
	r := &Runner{Category: f.cat, Models: models, Providers: f.providers, Concurrency: 8}
	res, err := r.Run(context.Background(), set, openOutput(t, filepath.Join(t.TempDir(), "out.jsonl")))
	if err != nil {
		t.Fatal(err)
	}
	tooLong := 0
	for _, rec := range res.Rows {
		if rec.Model == "gpt-4.1" && len(rec.Response) > 60 {
			tooLong++
		}
	}
	if tooLong == 0 {
		t.Fatal("no answer of strong fails max_length: the case is wrong")
	}
	sums := Summarize(f.cat, models, res.Rows)
	if s := sums[1]; s.Graded != 0 || s.Unverified != n {
		t.Errorf("strong: %d graded, %d unverified; want none graded, of the %d too long either", s.Graded, s.Unverified, tooLong)
	}
	if s := sums[0]; s.Graded != n || s.PassRateCI[0] > 0.7 || s.PassRateCI[1] < 0.7 {
		t.Errorf("small: %d graded, pass rate %.3f (%.3f–%.3f); want all graded, covering 0.7", s.Graded, s.PassRate, s.PassRateCI[0], s.PassRateCI[1])
	}
}

// TestUnverifiedRowsAreNoVerdict: a row the category's validators could not judge has no pass,
// so estimate --measured and the notes of replay and learn must not take it for a verdict of
// the validators, as they take the rows those validators graded alone (VerdictOnly).
func TestUnverifiedRowsAreNoVerdict(t *testing.T) {
	const checks = `"checks": [{"check": "validators (agrees with strong on the choice)", "pass": false, "score": 0, "reason": "no independent checker", "unverified": true}]`
	for _, tc := range []struct {
		line string
		want bool
	}{
		{`{"item": "q1", "model": "gpt-4.1", "prompt": "p", "source": "eval", "unverified": true, "grading": "g", ` + checks + `}`, false},
		{`{"item": "q1", "model": "gpt-4.1", "prompt": "p", "source": "eval", "pass": false, "graded_by": "validators", ` + checks + `}`, true},
	} {
		if got := VerdictOnly([]byte(tc.line)); got != tc.want {
			t.Errorf("VerdictOnly(%s) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

// TestNotApplicableAnswersAreNotGraded: a category validated by an agreement check on choice
// answers, evaluated on a set of which half the questions list their options on one line and
// half list none. The check compares small's answers to the first half with strong's, which
// grades them; it does not apply to the second half and passes those answers unchecked, which
// grades nothing: they are left ungraded, not passed, the summary says why, and --update
// writes no pass rate for strong, none of whose answers was checked. Rows written before
// verdicts said a validator did not apply, which hold a pass, are graded again on a resumed
// run without a call, and left ungraded.
func TestNotApplicableAnswersAreNotGraded(t *testing.T) {
	f := loadFixture(t, "testdata/agree.yaml", "quiz")
	const n = 80 // half of them multiple-choice
	var b strings.Builder
	for i := range n {
		prompt := fmt.Sprintf("Question %d: which option? A) one B) two C) three D) four. Answer with the letter.", i)
		if i%2 == 1 {
			prompt = fmt.Sprintf("Question %d: what is the capital of France? Answer in one word.", i)
		}
		fmt.Fprintf(&b, `{"id": "m%d", "prompt": %q}`+"\n", i, prompt)
	}
	setPath := filepath.Join(t.TempDir(), "quiz.jsonl")
	if err := os.WriteFile(setPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := LoadSet(setPath, f.env)
	if err != nil {
		t.Fatal(err)
	}
	providers, calls := counted(f)
	models := f.models("small", "strong")
	path := filepath.Join(t.TempDir(), "out.jsonl")
	r := &Runner{Category: f.cat, Models: models, Providers: providers, Concurrency: 8}
	res, err := r.Run(context.Background(), set, openOutput(t, path))
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, rows []Record) []Summary {
		t.Helper()
		sums := Summarize(f.cat, models, rows)
		small, strong := sums[0], sums[1]
		if small.Graded != n/2 || small.Unverified != n/2 || small.NotApplicable != n/2 ||
			!strings.Contains(small.UnverifiedReason, "no validator applies to the item: agrees with strong on the choice: not a multiple-choice question") {
			t.Errorf("%s: small: %d graded, %d unverified (%d not applicable: %q); want the %d multiple-choice answers graded, the others not",
				when, small.Graded, small.Unverified, small.NotApplicable, small.UnverifiedReason, n/2)
		}
		if strong.Graded != 0 || strong.Unverified != n || strong.NotApplicable != n/2 {
			t.Errorf("%s: strong: %d graded, %d unverified (%d not applicable); want none graded", when, strong.Graded, strong.Unverified, strong.NotApplicable)
		}
		return sums
	}
	sums := check("first run", res.Rows)
	for _, rec := range readRecords(t, path) {
		if strings.Contains(rec.Prompt, "capital") && (rec.Pass != nil || !rec.Unverified || len(rec.Checks) != 1 || !rec.Checks[0].NotApplicable) {
			t.Fatalf("row of %s for %s: pass %v, unverified %v, checks %+v; want no pass, a not-applicable verdict", rec.Model, rec.Item, rec.Pass, rec.Unverified, rec.Checks)
		}
	}
	var text bytes.Buffer
	if err := WriteText(&text, sums); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("small in quiz: %d answer(s) not graded, as none of the category's validators, which grade their items alone, applies to them", n/2); !strings.Contains(text.String(), want) {
		t.Errorf("the summary must say why small's answers were not graded (%q):\n%s", want, text.String())
	}
	data, err := os.ReadFile(f.spec.File)
	if err != nil {
		t.Fatal(err)
	}
	_, changes, _, err := Update(data, f.spec, f.cat, sums, UpdateOptions{Today: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	wrote := map[string]bool{}
	for _, c := range changes {
		wrote[c.Path] = true
	}
	if !wrote["assume.pass_rate.small"] || wrote["assume.pass_rate.strong"] {
		t.Errorf("--update wrote %v; want small's pass rate and not strong's", changes)
	}

	// Rows as written before verdicts said a validator did not apply: a pass, graded by the
	// validators.
	var old bytes.Buffer
	enc := json.NewEncoder(&old)
	for _, rec := range readRecords(t, path) {
		if rec.Unverified && rec.Checks[0].NotApplicable {
			pass, score := true, 1.0
			rec.Pass, rec.Score, rec.Unverified, rec.GradedBy = &pass, &score, false, GradeValidators
			rec.Checks[0] = Verdict{Check: rec.Checks[0].Check, Pass: true, Score: 1}
		}
		if err := enc.Encode(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, old.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	before := calls()
	res, err = r.Run(context.Background(), set, openOutput(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if res.Ran != 0 || res.Regraded != n || calls() != before {
		t.Errorf("resumed over older rows: %+v after %d more calls; want the %d not-applicable passes graded again, without a call", res, calls()-before, n)
	}
	check("resumed over older rows", res.Rows)
	res, err = r.Run(context.Background(), set, openOutput(t, path))
	if err != nil || res.Regraded != 0 || res.Skipped != 2*n {
		t.Errorf("resumed again: %+v, %v; want every pair skipped", res, err)
	}
	checkOnePerPair(t, path, 2*n)
}
