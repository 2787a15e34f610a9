package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// TestExplainTimeScaleRealTime: at a time scale only the simulated upstream time is divided by
// it; the gateway's overhead and the backoff between attempts, which are real time slept at no
// scale, are shown as they were, in the total as in the overhead.
func TestExplainTimeScaleRealTime(t *testing.T) {
	// Two simulated attempts of 100ms and 164ms wall-clock at 0.01 (10s and 16.4s simulated),
	// a 200ms backoff between them and 404µs of the gateway's own work.
	d := &clearbar.Decision{ID: "d1", Category: "c", Outcome: clearbar.OK, TimeScale: 0.01,
		Latency: 464*time.Millisecond + 404*time.Microsecond, Upstream: 264 * time.Millisecond, Overhead: 404 * time.Microsecond,
		TTFB: 464*time.Millisecond + 404*time.Microsecond,
		Attempts: []clearbar.Attempt{
			{N: 1, Model: "m", Provider: "sim", Latency: 100 * time.Millisecond, TimeScale: 0.01, Outcome: "retried"},
			{N: 2, Model: "m", Provider: "sim", Latency: 164 * time.Millisecond, TimeScale: 0.01, Waited: 200 * time.Millisecond, Outcome: "accepted"},
		}}
	var b strings.Builder
	if err := WriteExplanation(&b, d); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	want := "time        total 26.6s, upstream 26.4s, gateway overhead 404µs, first byte 26.6s"
	if !strings.Contains(out, want) {
		t.Errorf("the explanation lacks %q:\n%s", want, out)
	}
	if !strings.Contains(out, "of which gateway overhead 404µs") {
		t.Errorf("the time scale note:\n%s", out)
	}
}

// TestExplainCutStream: a stream the client left after part of the answer says the answer was
// cut and how many tokens were streamed, not that an answer was delivered.
func TestExplainCutStream(t *testing.T) {
	d := &clearbar.Decision{ID: "d1", Category: "c", Outcome: clearbar.Canceled, Stream: true,
		Cost: clearbar.MoneyFromUSD(0.000297), EscalationCost: clearbar.MoneyFromUSD(0.000297), EscalationLatency: time.Second,
		Usage: clearbar.Usage{PromptTokens: 14, CompletionTokens: 17},
		Attempts: []clearbar.Attempt{{N: 1, Model: "m", Provider: "p", Latency: time.Second, Outcome: "client went away",
			Usage: clearbar.Usage{PromptTokens: 14, CompletionTokens: 17}, Cost: clearbar.MoneyFromUSD(0.000297)}}}
	var b strings.Builder
	if err := WriteExplanation(&b, d); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "the answer delivered") || !strings.Contains(out, "the answer was cut: 17 tokens streamed before the client went away (14 tokens in)") {
		t.Errorf("a cut stream's explanation:\n%s", out)
	}

	d.Attempts[0].Outcome = "cut mid-stream"
	d.Outcome = clearbar.StreamCut
	b.Reset()
	if err := WriteExplanation(&b, d); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "the answer was cut: 17 tokens streamed before the stream failed (14 tokens in)") {
		t.Errorf("a stream cut upstream:\n%s", out)
	}
}
