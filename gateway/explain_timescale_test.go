package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// TestExplainTimeScale: a decision answered by simulated providers at a time scale (serve
// --time-scale) is explained with its latencies divided by the scale, as outcomes export and
// review report them, and says so once, with the wall-clock total.
func TestExplainTimeScale(t *testing.T) {
	d := &clearbar.Decision{ID: "d1", Category: "c", Outcome: clearbar.OK, TimeScale: 0.01,
		Latency: 12 * time.Millisecond, Upstream: 11 * time.Millisecond, Overhead: time.Millisecond, TTFB: 5 * time.Millisecond,
		Attempts: []clearbar.Attempt{{N: 1, Model: "m", Provider: "sim", Latency: 11 * time.Millisecond, TTFT: 4 * time.Millisecond, TimeScale: 0.01, Outcome: "accepted"}}}
	var b strings.Builder
	if err := WriteExplanation(&b, d); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"latencies at --time-scale 0.01, divided by it",
		"wall-clock total 12ms",
		"total 1.101s, upstream 1.1s, gateway overhead 1ms, first byte 401ms",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the explanation lacks %q:\n%s", want, out)
		}
	}
	// The attempt's latency and time to first token.
	for line := range strings.SplitSeq(out, "\n") {
		if f := strings.Fields(line); len(f) > 5 && f[3] == "sim" && (f[4] != "1.1s" || f[5] != "400ms") {
			t.Errorf("the attempt shows latency %s and TTFT %s; want 1.1s and 400ms:\n%s", f[4], f[5], out)
		}
	}
	if n := strings.Count(out, "--time-scale"); n != 1 {
		t.Errorf("the time scale is named %d times, want once:\n%s", n, out)
	}

	// Without a time scale, latencies are shown as recorded, with no note.
	d.TimeScale, d.Attempts[0].TimeScale = 0, 0
	b.Reset()
	if err := WriteExplanation(&b, d); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); strings.Contains(out, "time-scale") || !strings.Contains(out, "total 12ms, upstream 11ms") {
		t.Errorf("a decision at no time scale:\n%s", out)
	}
}
