package review

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// replaySpec is a category answered from recorded outcomes (a replay provider answers in
// microseconds), its latency assumed as a real model's.
const replaySpec = `version: 1
name: replayed
review: {last: 2026-11-01}
providers:
  rb: {type: replay, outcomes: rb.jsonl}
models:
  gpt4: {provider: rb, model: gpt-4o, latency: {p50: 1s, p95: 3s}}
categories:
  - name: qa
    share: 1
    tokens: {in: 60, out: 5}
    quality_bar: 0.5
    route: {model: gpt4}
    assume:
      pass_rate: {gpt4: 0.88}
`

// TestSubMillisecondLatencyReestimates: latencies of a replay provider, a fraction of a
// millisecond, are written with microsecond precision, so the re-estimate loads; rounded to
// the millisecond they were zero, which the spec refuses.
func TestSubMillisecondLatencyReestimates(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "qa.yaml")
	if err := os.WriteFile(file, []byte(replaySpec), 0o644); err != nil {
		t.Fatal(err)
	}
	row := `{"item":"q1","prompt":"Which is a prime? A) 4 B) 5","model":"gpt-4o","answer":"B","pass":true}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "rb.jsonl"), []byte(row), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := spec.Load(file, spec.Options{Today: today})
	if err != nil {
		t.Fatal(err)
	}
	var ds []*clearbar.Decision
	for i := range 200 {
		lat := time.Duration(200+i) * time.Microsecond // 200µs to 399µs
		ds = append(ds, &clearbar.Decision{ID: fmt.Sprintf("r%04d", i), Time: windowStart.Add(time.Duration(i) * time.Minute),
			Path: "/v1/chat/completions", Category: "qa", Outcome: clearbar.OK, Status: 200, Model: "gpt4", Latency: lat + 50*time.Microsecond,
			Attempts: []clearbar.Attempt{{N: 1, Kind: clearbar.AttemptPrimary, Step: 1, Model: "gpt4", Provider: "rb", Latency: lat,
				Usage: clearbar.Usage{PromptTokens: 60, CompletionTokens: 5}, Outcome: "accepted"}}})
	}
	rep := runReview(t, s, ds)
	var e *Edit
	for i := range rep.Reestimate.Edits {
		if x := &rep.Reestimate.Edits[i]; x.What == "assume.latency.gpt4" {
			e = x
		}
	}
	if e == nil {
		t.Fatalf("no latency edit: %+v", rep.Reestimate.Edits)
	}
	var p50, p95 string
	if _, err := fmt.Sscanf(e.To, "{p50: %s p95: %s", &p50, &p95); err != nil {
		t.Fatalf("latency written as %s: %v", e.To, err)
	}
	d50, err50 := spec.ParseDuration(strings.TrimSuffix(p50, ","))
	d95, err95 := spec.ParseDuration(strings.TrimSuffix(p95, "}"))
	if err50 != nil || err95 != nil || d50 < 290*time.Microsecond || d50 > 310*time.Microsecond || d95 < 380*time.Microsecond || d95 > 400*time.Microsecond || d50%time.Microsecond != 0 {
		t.Errorf("latency written as %s (%v, %v), want p50 about 300µs and p95 about 390µs, to the microsecond", e.To, err50, err95)
	}
	if !strings.Contains(rep.Reestimate.Diff, "latency: {gpt4: "+e.To+"}") {
		t.Errorf("diff:\n%s", rep.Reestimate.Diff)
	}
}

// TestLatencyValue: a measured latency is written to the millisecond, and below one to the
// microsecond (and nanosecond), never as zero, in a form the spec reads back.
func TestLatencyValue(t *testing.T) {
	for _, c := range []struct {
		sec  float64
		want string
	}{
		{1.23456, "1.235s"},
		{0.0123456, "12ms"},
		{0.00035049, "350µs"},
		{0.0000004, "400ns"},
	} {
		d := latencyValue(c.sec)
		got := spec.FormatDuration(d)
		if got != c.want {
			t.Errorf("%gs written as %s, want %s", c.sec, got, c.want)
		}
		back, err := spec.ParseDuration(got)
		if err != nil || back != d || back <= 0 {
			t.Errorf("%s reads back as %v, %v", got, back, err)
		}
	}
}

// TestReestimateErrorSaysWhose: when the spec with the measured values written in does not
// load, the error says it is review's copy, what review changed, and that the file is
// unchanged, so that the line it names is not taken for a line the author wrote.
func TestReestimateErrorSaysWhose(t *testing.T) {
	cause := errors.New(`qa.yaml:50: category "qa" model "gpt4" latency needs both p50 and p95 above zero`)
	err := reestimateError("qa.yaml", []Edit{{Category: "qa", What: "assume.latency.gpt4", To: "{p50: 0s, p95: 0s}"}}, cause)
	msg := err.Error()
	for _, want := range []string{"review's copy of qa.yaml with the measured values written in does not load",
		"qa assume.latency.gpt4 → {p50: 0s, p95: 0s}", "qa.yaml is unchanged", "line numbers below are of review's copy", cause.Error()} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if !errors.Is(err, cause) {
		t.Error("the cause is not wrapped")
	}
}

// TestSubMillisecondShown: a latency below a millisecond is shown to the microsecond, not as
// 0ms beside an assumption it is far below.
func TestSubMillisecondShown(t *testing.T) {
	for sec, want := range map[float64]string{0.00035: "350µs", 0.0000002: "1µs", 0.0123: "12ms", 0: "0ms"} {
		if got := secs(sec); got != want {
			t.Errorf("secs(%g) = %s, want %s", sec, got, want)
		}
	}
}
