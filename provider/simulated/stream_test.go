package simulated_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider/simulated"
	"github.com/clearbar/clearbar/spec"
)

// chunkBody is an OpenAI chat.completion.chunk as a client decodes it. Usage and Choices stay
// raw so that null, [] and absent can be told apart.
type chunkBody struct {
	ID      string          `json:"id"`
	Object  string          `json:"object"`
	Created int64           `json:"created"`
	Model   string          `json:"model"`
	Choices json.RawMessage `json:"choices"`
	Usage   json.RawMessage `json:"usage"`
}

type chunkChoice struct {
	Index int `json:"index"`
	Delta struct {
		Role      string  `json:"role"`
		Content   *string `json:"content"`
		ToolCalls []struct {
			Index    *int   `json:"index"`
			ID       string `json:"id"`
			Type     string `json:"type"`
			Function struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
	} `json:"delta"`
	FinishReason *string `json:"finish_reason"`
}

// streamed is what a client reassembles from a stream, per choice.
type streamed struct {
	chunks   int
	content  []string
	args     []string
	tools    []string
	finishes [][]string
	usage    *clearbar.Usage
	err      error
}

// readStream reads a whole stream, checking the shape of every chunk as it goes.
func readStream(t *testing.T, s clearbar.Stream) streamed {
	t.Helper()
	defer s.Close()
	var out streamed
	var first chunkBody
	sawRole := map[int]bool{}
	for s.Next() {
		ch := s.Chunk()
		var b chunkBody
		if err := json.Unmarshal(ch.Data, &b); err != nil {
			t.Fatalf("chunk %d is not JSON: %s", out.chunks, ch.Data)
		}
		if out.chunks == 0 {
			first = b
			if !strings.HasPrefix(b.ID, "chatcmpl-") || b.Created == 0 || b.Model == "" {
				t.Fatalf("first chunk %s lacks an id, created time or model", ch.Data)
			}
		}
		if b.Object != "chat.completion.chunk" || b.ID != first.ID || b.Created != first.Created || b.Model != first.Model {
			t.Fatalf("chunk %d %s: every chunk is a chat.completion.chunk with the first one's id, created and model", out.chunks, ch.Data)
		}
		if out.usage != nil {
			t.Fatalf("chunk %d %s comes after the usage chunk, which must be last", out.chunks, ch.Data)
		}
		out.chunks++
		if string(b.Usage) != "null" {
			// The usage chunk: no choices, the usage, and Chunk.Usage set to match.
			var u struct {
				PromptTokens     int `json:"prompt_tokens"`
				CompletionTokens int `json:"completion_tokens"`
				TotalTokens      int `json:"total_tokens"`
			}
			if string(b.Choices) != "[]" || json.Unmarshal(b.Usage, &u) != nil || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
				t.Fatalf("usage chunk %s: want \"choices\": [] and a usage object", ch.Data)
			}
			if ch.Usage == nil || ch.Usage.PromptTokens != u.PromptTokens || ch.Usage.CompletionTokens != u.CompletionTokens {
				t.Fatalf("Chunk.Usage %+v does not match %s", ch.Usage, b.Usage)
			}
			out.usage = ch.Usage
			continue
		}
		if ch.Usage != nil {
			t.Fatalf("chunk %s has Chunk.Usage set but \"usage\": null", ch.Data)
		}
		var choices []chunkChoice
		if err := json.Unmarshal(b.Choices, &choices); err != nil || len(choices) != 1 {
			t.Fatalf("chunk %s: want exactly one choice", ch.Data)
		}
		c := choices[0]
		for len(out.content) <= c.Index {
			out.content, out.args = append(out.content, ""), append(out.args, "")
			out.tools, out.finishes = append(out.tools, ""), append(out.finishes, nil)
		}
		if !sawRole[c.Index] {
			if c.Delta.Role != "assistant" {
				t.Fatalf("chunk %s: a choice's first chunk carries the assistant role", ch.Data)
			}
			sawRole[c.Index] = true
		}
		if len(out.finishes[c.Index]) > 0 {
			t.Fatalf("chunk %s comes after its choice's finish chunk", ch.Data)
		}
		text := ""
		if c.Delta.Content != nil {
			text = *c.Delta.Content
		}
		// Chunk.Text and Chunk.FinishReason are the first choice's (clearbar.Chunk), as the
		// openai adapter reads them: validators and usage estimates see that choice alone.
		first := c.Index == 0
		if want := firstOnly(first, text); ch.Text != want {
			t.Fatalf("choice %d: Chunk.Text %q, delta content %q; want the first choice's content only", c.Index, ch.Text, text)
		}
		out.content[c.Index] += text
		for _, tc := range c.Delta.ToolCalls {
			if tc.Index == nil || *tc.Index != 0 {
				t.Fatalf("chunk %s: tool call deltas carry their index", ch.Data)
			}
			if tc.ID != "" {
				if tc.Type != "function" || tc.Function.Name == "" || !strings.HasPrefix(tc.ID, "call_") {
					t.Fatalf("chunk %s: the first tool call chunk has the id, type and name", ch.Data)
				}
				out.tools[c.Index] = tc.Function.Name
			}
			out.args[c.Index] += tc.Function.Arguments
		}
		if c.FinishReason != nil {
			out.finishes[c.Index] = append(out.finishes[c.Index], *c.FinishReason)
			if want := firstOnly(first, *c.FinishReason); ch.FinishReason != want {
				t.Fatalf("choice %d: Chunk.FinishReason %q, body %q; want the first choice's only", c.Index, ch.FinishReason, want)
			}
		}
	}
	out.err = s.Err()
	return out
}

// firstOnly is s for the first choice and "" for the others.
func firstOnly(first bool, s string) string {
	if first {
		return s
	}
	return ""
}

func TestStreamChunkShapes(t *testing.T) {
	const reply = "Your refund of 20 euros is on its way; it should reach your card within five working days. ☺"
	tests := []struct {
		name        string
		req         func(*clearbar.Request)
		check       func(*testing.T, streamed)
		explanation string
	}{
		{"text", nil, func(t *testing.T, s streamed) {
			if s.content[0] != reply || s.finishes[0][0] != "stop" || s.chunks < 5 {
				t.Errorf("content %q in %d chunks, finish %v", s.content[0], s.chunks, s.finishes)
			}
		}, "role chunk, the text in several pieces (a multi-byte character intact), finish, usage"},
		{"tool call", withTools("search"), func(t *testing.T, s streamed) {
			if s.tools[0] != "search" || s.finishes[0][0] != "tool_calls" || s.content[0] != "" {
				t.Errorf("tool %q, finish %v, content %q", s.tools[0], s.finishes, s.content[0])
			}
			checkAgainst(t, []byte(searchParams), []byte(s.args[0]))
		}, "the call's id and name first, then its arguments in pieces"},
		{"n=2", func(r *clearbar.Request) { r.N = 2 }, func(t *testing.T, s streamed) {
			if len(s.content) != 2 || s.content[1] != reply || s.usage.CompletionTokens != 2*simulated.EstimateTokens(reply) {
				t.Errorf("choices %q, usage %+v", s.content, s.usage)
			}
		}, "each choice streams with its index; the usage counts both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newSim(t, &spec.Simulate{TimeScale: fast, Output: reply}, constModel("m", time.Second))
			req := userRequest("where is my refund?")
			if tt.req != nil {
				tt.req(req)
			}
			s, err := p.Stream(context.Background(), &clearbar.Call{Request: req, Model: "m", Stream: true})
			if err != nil {
				t.Fatal(err)
			}
			got := readStream(t, s)
			if got.err != nil || got.usage == nil {
				t.Fatalf("stream ended with %v, usage %v; want a clean end with a usage chunk", got.err, got.usage)
			}
			for i, f := range got.finishes {
				if len(f) != 1 {
					t.Errorf("choice %d has finish chunks %v, want exactly one", i, f)
				}
			}
			tt.check(t, got)
			if t.Failed() {
				t.Log(tt.explanation)
			}
		})
	}
}

// TestStreamCut: a cut stream delivers at least one chunk, never a finish or usage chunk, and
// ends with a StreamCut error.
func TestStreamCut(t *testing.T) {
	p := newSim(t, &spec.Simulate{TimeScale: fast, CutRate: 1, Seed: 9}, constModel("m", time.Second))
	seen := map[int]bool{}
	for range 200 {
		s, err := p.Stream(context.Background(), &clearbar.Call{Request: userRequest("hi"), Model: "m", Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		got := readStream(t, s)
		e := clearbar.AsError(got.err)
		if got.err == nil || e.Class != clearbar.StreamCut || e.Provider != "sim" || e.Model != "m" {
			t.Fatalf("err = %v, want a StreamCut from sim/m", got.err)
		}
		if got.chunks < 1 || got.usage != nil || len(got.finishes) != 1 || len(got.finishes[0]) != 0 {
			t.Fatalf("%d chunks, usage %v, finishes %v: want some chunks and no finish or usage", got.chunks, got.usage, got.finishes)
		}
		seen[got.chunks] = true
	}
	if len(seen) < 3 {
		t.Errorf("cuts came after %v chunks only; want them spread over the stream", seen)
	}
}

// TestPacing checks, in a synctest bubble (fake time), when answers and chunks arrive.
func TestPacing(t *testing.T) {
	const out = "0123456789012345678901234567890123456789" // 40 bytes: 10 tokens
	tests := []struct {
		name        string
		lat         spec.Latency
		scale       float64
		complete    time.Duration // Complete's duration
		first, last time.Duration // stream: first chunk, usage chunk
		explanation string
	}{
		{"quantiles", spec.Latency{P50: spec.Duration(time.Second), P95: spec.Duration(time.Second)}, 1,
			time.Second, 250 * time.Millisecond, time.Second,
			"a whole-response time: the first chunk after TTFTShare of it, the last at the end"},
		{"ttft", spec.Latency{TTFT: &spec.Quantiles{P50: spec.Duration(400 * time.Millisecond), P95: spec.Duration(400 * time.Millisecond)}, TokensPerSecond: 10}, 1,
			1400 * time.Millisecond, 400 * time.Millisecond, 1400 * time.Millisecond,
			"ttft, then 10 tokens at 10 tokens/s"},
		{"scaled", spec.Latency{P50: spec.Duration(time.Second), P95: spec.Duration(time.Second)}, 0.01,
			10 * time.Millisecond, 2500 * time.Microsecond, 10 * time.Millisecond,
			"time_scale multiplies every duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := constModel("m", 0)
				m.Latency = &tt.lat
				p := newSim(t, &spec.Simulate{TimeScale: tt.scale, Output: out}, m)
				ctx := context.Background()
				start := time.Now()
				if _, err := p.Complete(ctx, &clearbar.Call{Request: userRequest("hi"), Model: "m"}); err != nil {
					t.Fatal(err)
				}
				if d := time.Since(start); d != tt.complete {
					t.Errorf("Complete took %v, want %v: %s", d, tt.complete, tt.explanation)
				}

				start = time.Now()
				s, err := p.Stream(ctx, &clearbar.Call{Request: userRequest("hi"), Model: "m", Stream: true})
				if err != nil {
					t.Fatal(err)
				}
				if d := time.Since(start); d != 0 {
					t.Errorf("Stream returned after %v; it returns at once, the wait is for the first chunk", d)
				}
				var times []time.Duration
				for s.Next() {
					times = append(times, time.Since(start))
				}
				if s.Err() != nil {
					t.Fatal(s.Err())
				}
				if times[0] != tt.first || times[len(times)-1] != tt.last {
					t.Errorf("first chunk at %v, last at %v; want %v and %v: %s", times[0], times[len(times)-1], tt.first, tt.last, tt.explanation)
				}
				if times[1] != times[0] {
					t.Errorf("the first content chunk came %v after the role chunk; want them together", times[1]-times[0])
				}
				for i := 2; i < len(times)-1; i++ {
					if times[i] <= times[i-1] {
						t.Errorf("chunk %d at %v, not after chunk %d at %v: the generation time is spread", i, times[i], i-1, times[i-1])
					}
				}
			})
		})
	}
}

// TestPacingSlowReader: chunks are due at their times counted from the first Next, so that a
// reader that takes a while over each chunk (a gateway writing it to its client), or timers
// that fire late at a small time scale, do not add up over the chunks: the answer still ends
// at the simulated response time, and the gateway measures the latency the spec assumes.
func TestPacingSlowReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := constModel("m", 0)
		m.Latency = &spec.Latency{TTFT: &spec.Quantiles{P50: spec.Duration(400 * time.Millisecond), P95: spec.Duration(400 * time.Millisecond)}, TokensPerSecond: 10}
		const out = "0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 012" // 80 bytes: 20 tokens
		p := newSim(t, &spec.Simulate{Output: out}, m)
		start := time.Now()
		s, err := p.Stream(context.Background(), &clearbar.Call{Request: userRequest("hi"), Model: "m", Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var finished time.Duration
		chunks := 0
		for s.Next() {
			chunks++
			if s.Chunk().FinishReason != "" {
				finished = time.Since(start)
			}
			time.Sleep(50 * time.Millisecond) // less than the time between chunks
		}
		if s.Err() != nil {
			t.Fatal(s.Err())
		}
		if want := 2400 * time.Millisecond; finished != want {
			t.Errorf("the finish chunk, after %d chunks, came at %v, want %v (400ms ttft, then 20 tokens at 10 tokens/s): the reader's time over the chunks delayed the stream", chunks, finished, want)
		}
	})
}

func TestTTFTTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := constModel("m", 0)
		m.Latency = &spec.Latency{TTFT: &spec.Quantiles{P50: spec.Duration(time.Second), P95: spec.Duration(time.Second)}, TokensPerSecond: 100}
		p := newSim(t, &spec.Simulate{}, m)
		tests := []struct {
			timeout     time.Duration
			wantClass   clearbar.FailureClass
			wantAfter   time.Duration
			explanation string
		}{
			{300 * time.Millisecond, clearbar.Timeout, 300 * time.Millisecond, "a first chunk due after the timeout fails at the timeout"},
			{2 * time.Second, clearbar.OK, time.Second, "a longer timeout lets the first chunk through"},
			{0, clearbar.OK, time.Second, "no timeout"},
		}
		for _, tt := range tests {
			start := time.Now()
			s, err := p.Stream(context.Background(), &clearbar.Call{Request: userRequest("hi"), Model: "m", Stream: true, TTFTTimeout: tt.timeout})
			if err != nil {
				t.Fatal(err)
			}
			s.Next()
			if d, c := time.Since(start), clearbar.ClassOf(s.Err()); d != tt.wantAfter || c != tt.wantClass {
				t.Errorf("timeout %v: first Next after %v with %v, want %v with %v: %s", tt.timeout, d, c, tt.wantAfter, tt.wantClass, tt.explanation)
			}
			s.Close()
		}
	})
}

func TestFailuresTakeFailAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := constModel("m", time.Second)
		m.Latency.FailAfter = spec.Duration(200 * time.Millisecond)
		p := newSim(t, &spec.Simulate{ErrorRate: ptr(spec.Prob(1))}, m)
		for _, stream := range []bool{false, true} {
			start := time.Now()
			var err error
			if stream {
				_, err = p.Stream(context.Background(), &clearbar.Call{Request: userRequest("hi"), Model: "m", Stream: true})
			} else {
				_, err = p.Complete(context.Background(), &clearbar.Call{Request: userRequest("hi"), Model: "m"})
			}
			e := clearbar.AsError(err)
			if d := time.Since(start); d != 200*time.Millisecond || e.Class != clearbar.Overloaded || e.Status != 503 {
				t.Errorf("stream=%v: %v after %v; want a 503 Overloaded after fail_after (200ms)", stream, err, d)
			}
		}
	})
}

// TestCancel checks that every wait ends when the context does, in real time, and (through
// TestMain's goleak check) leaves no goroutine behind.
func TestCancel(t *testing.T) {
	slow := constModel("m", time.Hour)
	slow.Latency.FailAfter = spec.Duration(time.Hour)
	tests := []struct {
		name        string
		sim         spec.Simulate
		deadline    bool
		call        func(ctx context.Context, p *simulated.Provider) error
		want        clearbar.FailureClass
		explanation string
	}{
		{"complete", spec.Simulate{}, false, func(ctx context.Context, p *simulated.Provider) error {
			_, err := p.Complete(ctx, &clearbar.Call{Request: userRequest("hi"), Model: "m"})
			return err
		}, clearbar.Canceled, "the client went away during the answer"},
		{"deadline", spec.Simulate{}, true, func(ctx context.Context, p *simulated.Provider) error {
			_, err := p.Complete(ctx, &clearbar.Call{Request: userRequest("hi"), Model: "m"})
			return err
		}, clearbar.Timeout, "a deadline is a timeout, not a cancellation"},
		{"failure wait", spec.Simulate{ErrorRate: ptr(spec.Prob(1))}, false, func(ctx context.Context, p *simulated.Provider) error {
			_, err := p.Stream(ctx, &clearbar.Call{Request: userRequest("hi"), Model: "m", Stream: true})
			return err
		}, clearbar.Canceled, "cancellation wins over a failure still being waited for"},
		{"stream next", spec.Simulate{}, false, func(ctx context.Context, p *simulated.Provider) error {
			s, err := p.Stream(ctx, &clearbar.Call{Request: userRequest("hi"), Model: "m", Stream: true})
			if err != nil {
				return err
			}
			defer s.Close()
			for s.Next() {
			}
			return s.Err()
		}, clearbar.Canceled, "a stream waiting for its next chunk stops"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newSim(t, &tt.sim, slow)
			ctx, cancel := context.WithCancel(context.Background())
			if tt.deadline {
				ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
			} else {
				time.AfterFunc(20*time.Millisecond, cancel)
			}
			defer cancel()
			start := time.Now()
			err := tt.call(ctx, p)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("returned after %v; want soon after the 20ms cancel", d)
			}
			if c := clearbar.ClassOf(err); c != tt.want {
				t.Errorf("err = %v (%v), want class %v: %s", err, c, tt.want, tt.explanation)
			}
		})
	}
}

func TestCanceledBeforeStart(t *testing.T) {
	p := newSim(t, &spec.Simulate{TimeScale: fast}, constModel("m", time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Complete(ctx, &clearbar.Call{Request: userRequest("hi"), Model: "m"}); clearbar.ClassOf(err) != clearbar.Canceled {
		t.Errorf("Complete = %v, want Canceled even with no wait", err)
	}
	if _, err := p.Stream(ctx, &clearbar.Call{Request: userRequest("hi"), Model: "m", Stream: true}); clearbar.ClassOf(err) != clearbar.Canceled {
		t.Errorf("Stream = %v, want Canceled", err)
	}
}

// TestCloseUnblocksNext: Close from another goroutine ends a Next that is waiting, without an
// error (the consumer chose to stop).
func TestCloseUnblocksNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newSim(t, &spec.Simulate{}, constModel("m", time.Hour))
		s, err := p.Stream(context.Background(), &clearbar.Call{Request: userRequest("hi"), Model: "m", Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(time.Second, func() { s.Close() })
		start := time.Now()
		if s.Next() {
			t.Fatal("Next returned a chunk after Close")
		}
		if d := time.Since(start); d != time.Second || s.Err() != nil {
			t.Errorf("Next returned after %v with %v; want at the Close (1s) with no error", d, s.Err())
		}
		if s.Next() {
			t.Error("Next after Close returned a chunk")
		}
		if err := s.Close(); err != nil {
			t.Errorf("a second Close = %v", err)
		}
	})
}
