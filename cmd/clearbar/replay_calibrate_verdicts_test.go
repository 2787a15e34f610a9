package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/eval"
	"github.com/clearbar/clearbar/outcomes"
)

// TestReplayCalibrateWritesNoPassRateFromVerdicts: rows of traffic (trace exports) have as
// their pass the validators' verdict, the share of answers they accept, which estimate
// --measured and review correct for the validators' strength. Calibrating on them writes no
// pass rate (as it writes no validator strength), says why and which command measures it,
// and the replay's notes say the rows' pass is a verdict.
func TestReplayCalibrateWritesNoPassRateFromVerdicts(t *testing.T) {
	file := quickstartIn(t, "[nano, mini]")
	table := filepath.Join(filepath.Dir(file), "o.jsonl")
	rows := intentRows(false)
	for i := range rows {
		rows[i].Source = outcomes.SourceTrace
	}
	writeRows(t, table, rows)
	before, _ := os.ReadFile(file)
	code, out, errOut := run(t, "replay", file, "--outcomes", table, "--category", "intent", "--calibrate", "--target", "strong-share=0.25")
	after, _ := os.ReadFile(file)
	if code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "200 rows of "+table+" are traffic (trace exports, shadow traffic)") {
		t.Errorf("the notes do not say the traffic rows' pass is a verdict:\n%s", out)
	}
	if strings.Contains(out, "assume.pass_rate set") {
		t.Errorf("a pass rate was written from verdicts:\n%s", out)
	}
	if !strings.Contains(out, "assume.pass_rate and assume.escalated_pass_rate were left as they are: 200 row(s) of "+table+" have as their pass the validators' own verdict") ||
		!strings.Contains(out, "clearbar estimate "+file+" --measured "+table) {
		t.Errorf("the output does not say why no pass rate was written, nor what measures it:\n%s", out)
	}
	// The route is written; the pass rates are the spec's.
	for _, line := range []string{"nano: 0.93", "mini: 0.96"} {
		if strings.Contains(string(before), line) && !strings.Contains(string(after), line) {
			t.Errorf("assume.pass_rate changed (%s gone):\n%s", line, after)
		}
	}
}

// TestEvalResumedHeadlineCountsRetries: a run that resumes every pair calls nothing, but the
// resumed rows' retries are still in the models' notes; the headline says they are among the
// resumed pairs, so that the two agree.
func TestEvalResumedHeadlineCountsRetries(t *testing.T) {
	var b strings.Builder
	res := &eval.Result{Total: 600, Skipped: 600}
	sums := []eval.Summary{{Model: "nano", Category: "intent", Retried: 2}, {Model: "strong", Category: "intent", Retried: 1}}
	if err := writeEvalText(&b, "s.yaml", "set.jsonl", "out.jsonl", 300, res, sums, nil, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "0 pairs run now (0 failed calls), 600 resumed from out.jsonl (3 retried call(s) among them)") {
		t.Errorf("the headline does not count the resumed rows' retries:\n%s", b.String())
	}
	// A run that made the calls says them once, among the run's, not among the resumed.
	b.Reset()
	res = &eval.Result{Total: 600, Ran: 600, Retried: 3}
	if err := writeEvalText(&b, "s.yaml", "set.jsonl", "out.jsonl", 300, res, sums, nil, nil); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); !strings.Contains(s, "600 pairs run now (0 failed calls, 3 failed and retried), 0 resumed") || strings.Contains(s, "among them") {
		t.Errorf("headline:\n%s", s)
	}
}
