package replay_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/replay"
	"github.com/clearbar/clearbar/provider/simulated"
	"github.com/clearbar/clearbar/spec"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newReplay builds a replay provider "rec" for an outcomes file relative to testdata/.
func newReplay(t testing.TB, outcomesFile string, sim *spec.Simulate) *replay.Provider {
	t.Helper()
	prov := &spec.Provider{Name: "rec", Type: "replay", Outcomes: outcomesFile, Simulate: sim}
	p, err := replay.New(provider.Config{Provider: prov, Spec: &spec.Spec{File: "testdata/spec.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*replay.Provider)
}

func ask(messages ...clearbar.Message) *clearbar.Request {
	return &clearbar.Request{Messages: messages}
}

func user(text string) clearbar.Message { return clearbar.Message{Role: "user", Text: text} }

func TestReplay(t *testing.T) {
	p := newReplay(t, "outcomes.jsonl", nil)
	if p.Len() != 4 {
		t.Fatalf("Len = %d, want 4 answers (the repeated row is dropped)", p.Len())
	}
	tests := []struct {
		name        string
		req         *clearbar.Request
		model       string
		want        string // the answer, or the error's message fragment
		wantClass   clearbar.FailureClass
		wantUsage   clearbar.Usage
		explanation string
	}{
		{"hit", ask(user("What is 2+2?")), "gpt-4o-mini", "4", clearbar.OK, clearbar.Usage{PromptTokens: 12, CompletionTokens: 1},
			"the recorded response with its recorded tokens; the later duplicate row (\"5\") is ignored"},
		{"other model", ask(user("What is 2+2?")), "claude-x", "Four.", clearbar.OK, clearbar.Usage{PromptTokens: 7, CompletionTokens: 2},
			"the same prompt answered by another model; tokens estimated as the simulator does (ceil(12/4)+4, ceil(5/4))"},
		{"last user message", ask(clearbar.Message{Role: "system", Text: "Be terse."}, user("Say hi"),
			clearbar.Message{Role: "assistant", Text: "Hello!"}, user("What is 2+2?")), "gpt-4o-mini", "4", clearbar.OK,
			clearbar.Usage{PromptTokens: 12, CompletionTokens: 1},
			"only the last user message is the prompt; system and earlier turns do not matter"},
		{"miss", ask(user("What is 3+3?")), "gpt-4o-mini", `no recorded answer for this prompt from model "gpt-4o-mini" (prompt hash ` + outcomes.HashPrompt("What is 3+3?"),
			clearbar.ClientError, clearbar.Usage{}, "an unrecorded prompt is a 404 naming the model and the hash"},
		{"exact match", ask(user("What is 2+2?\n")), "gpt-4o-mini", "no recorded answer", clearbar.ClientError, clearbar.Usage{},
			"no normalisation: a trailing newline is another prompt"},
		{"unknown model", ask(user("What is 2+2?")), "gpt-5", `model "gpt-5" not found: the outcomes table outcomes.jsonl records no answers from it`,
			clearbar.ClientError, clearbar.Usage{}, "a model absent from the table"},
		{"recorded error", ask(user("Summarise this ticket.")), "gpt-4o-mini", "recorded failure (rate_limited) replayed",
			clearbar.RateLimited, clearbar.Usage{}, "a recorded failure comes back as an error of its class"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := p.Complete(context.Background(), &clearbar.Call{Request: tt.req, Model: tt.model})
			if tt.wantClass != clearbar.OK {
				e := clearbar.AsError(err)
				if err == nil || e.Class != tt.wantClass || !strings.Contains(e.Message, tt.want) || e.Provider != "rec" || e.Model != tt.model {
					t.Fatalf("err = %#v, want class %v containing %q: %s", err, tt.wantClass, tt.want, tt.explanation)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v: %s", err, tt.explanation)
			}
			if resp.Text() != tt.want || resp.Usage != tt.wantUsage || resp.Model != tt.model {
				t.Errorf("answer %q, usage %+v, model %q; want %q, %+v: %s", resp.Text(), resp.Usage, resp.Model, tt.want, tt.wantUsage, tt.explanation)
			}
			var body struct {
				Object  string `json:"object"`
				Choices []struct {
					Message struct {
						Content string `json:"content"`
					} `json:"message"`
					FinishReason string `json:"finish_reason"`
				} `json:"choices"`
			}
			if err := json.Unmarshal(resp.Body, &body); err != nil || body.Object != "chat.completion" ||
				body.Choices[0].Message.Content != tt.want || body.Choices[0].FinishReason != "stop" {
				t.Errorf("body %s is not the chat.completion of %q", resp.Body, tt.want)
			}
		})
	}
	if n := p.Calls("gpt-4o-mini"); n != 5 {
		t.Errorf("Calls = %d, want 5: answered and unanswered calls count", n)
	}
	e := clearbar.AsError(func() error {
		_, err := p.Complete(context.Background(), &clearbar.Call{Request: ask(user("Summarise this ticket.")), Model: "gpt-4o-mini"})
		return err
	}())
	if e.Status != 429 {
		t.Errorf("recorded rate_limited replays with status %d, want 429", e.Status)
	}
}

func TestReplayStream(t *testing.T) {
	p := newReplay(t, "outcomes.jsonl", nil)
	const want = "Hi there! How can I help you today? Ask me anything about your order."
	s, err := p.Stream(context.Background(), &clearbar.Call{Request: ask(user("Say hi")), Model: "gpt-4o-mini", Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var text strings.Builder
	var ids []string
	chunks, finish := 0, ""
	var usage *clearbar.Usage
	for s.Next() {
		chunks++
		var c struct {
			ID     string `json:"id"`
			Object string `json:"object"`
		}
		if err := json.Unmarshal(s.Chunk().Data, &c); err != nil || c.Object != "chat.completion.chunk" {
			t.Fatalf("chunk %s", s.Chunk().Data)
		}
		ids = append(ids, c.ID)
		text.WriteString(s.Chunk().Text)
		if f := s.Chunk().FinishReason; f != "" {
			finish = f
		}
		usage = s.Chunk().Usage
	}
	if s.Err() != nil {
		t.Fatal(s.Err())
	}
	if text.String() != want || finish != "stop" || chunks < 5 {
		t.Errorf("streamed %q in %d chunks, finish %q; want the recorded answer in pieces", text.String(), chunks, finish)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("ids %v: one id for every chunk", ids)
		}
	}
	if usage == nil || usage.CompletionTokens != (len(want)+3)/4 {
		t.Errorf("last chunk usage %+v; want the usage chunk last, with estimated tokens", usage)
	}

	_, err = p.Stream(context.Background(), &clearbar.Call{Request: ask(user("Summarise this ticket.")), Model: "gpt-4o-mini", Stream: true})
	if clearbar.ClassOf(err) != clearbar.RateLimited {
		t.Errorf("Stream of a recorded failure = %v, want the RateLimited error from Stream itself", err)
	}
}

// TestReplayLatency: answers come at once unless the provider has simulate settings, which
// make it wait the recorded latency times the scale (synctest: fake time).
func TestReplayLatency(t *testing.T) {
	tests := []struct {
		name        string
		sim         *spec.Simulate
		complete    time.Duration
		firstChunk  time.Duration
		explanation string
	}{
		{"at once", nil, 0, 0, "recorded latencies are ignored by default"},
		{"scaled", &spec.Simulate{TimeScale: 0.5}, 150 * time.Millisecond, 37500 * time.Microsecond,
			"300ms recorded × 0.5; a stream's first chunk after a quarter of it"},
		{"unscaled", &spec.Simulate{}, 300 * time.Millisecond, 75 * time.Millisecond, "time_scale 0 means 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newReplay(t, "outcomes.jsonl", tt.sim)
				call := &clearbar.Call{Request: ask(user("What is 2+2?")), Model: "gpt-4o-mini"}
				start := time.Now()
				if _, err := p.Complete(context.Background(), call); err != nil {
					t.Fatal(err)
				}
				if d := time.Since(start); d != tt.complete {
					t.Errorf("Complete took %v, want %v: %s", d, tt.complete, tt.explanation)
				}
				start = time.Now()
				s, err := p.Stream(context.Background(), call)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				s.Next()
				if d := time.Since(start); d != tt.firstChunk {
					t.Errorf("first chunk after %v, want %v: %s", d, tt.firstChunk, tt.explanation)
				}
				for s.Next() {
				}
				if d := time.Since(start); d != tt.complete {
					t.Errorf("stream took %v, want %v", d, tt.complete)
				}
			})
		})
	}
}

// TestReplayReportsLatency: an answer whose row records a latency reports it in the body, as
// the simulated provider reports its own, whether or not the provider waits it, so that a
// caller records the model's latency rather than the replay's; a row without one reports none.
func TestReplayReportsLatency(t *testing.T) {
	tests := []struct {
		name        string
		sim         *spec.Simulate
		prompt      string
		want        time.Duration
		explanation string
	}{
		{"at once", nil, "What is 2+2?", 300 * time.Millisecond, "the row's latency, though the replay answers at once"},
		{"scaled", &spec.Simulate{TimeScale: 0.01}, "What is 2+2?", 300 * time.Millisecond, "the row's latency, not the scaled wait"},
		{"no latency", nil, "Say hi", 0, "a row without a latency reports none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newReplay(t, "outcomes.jsonl", tt.sim)
			resp, err := p.Complete(context.Background(), &clearbar.Call{Request: ask(user(tt.prompt)), Model: "gpt-4o-mini"})
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := simulated.LatencyOf(resp); got != tt.want || ok != (tt.want > 0) {
				t.Errorf("reported latency %v (%v), want %v: %s\n%s", got, ok, tt.want, tt.explanation, resp.Body)
			}
		})
	}
}

func TestReplayCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newReplay(t, "outcomes.jsonl", &spec.Simulate{TimeScale: 1000}) // 300ms becomes 5 minutes
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		_, err := p.Complete(ctx, &clearbar.Call{Request: ask(user("What is 2+2?")), Model: "gpt-4o-mini"})
		if clearbar.ClassOf(err) != clearbar.Timeout || time.Since(start) != time.Second {
			t.Errorf("err %v after %v; want a Timeout at the 1s deadline", err, time.Since(start))
		}
	})
}

// TestReplayToolCalls: an answer recorded with tool calls is served with them, whole and as
// a stream, so that tool-call validators see what the model did.
func TestReplayToolCalls(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tools.jsonl")
	row := `{"item":"1","prompt":"Where is order 7?","model":"m","tool_calls":[{"id":"call_1","name":"get_order","arguments":"{\"id\":7}"}]}`
	if err := os.WriteFile(path, []byte(row+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := newReplay(t, path, nil)
	call := &clearbar.Call{Request: ask(user("Where is order 7?")), Model: "m"}
	resp, err := p.Complete(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	c := resp.Choices[0]
	if len(c.ToolCalls) != 1 || c.ToolCalls[0].Name != "get_order" || c.ToolCalls[0].Arguments != `{"id":7}` || c.FinishReason != "tool_calls" {
		t.Errorf("choice %+v, want the recorded get_order call", c)
	}
	if !strings.Contains(string(resp.Body), `"tool_calls":[{`) || resp.Usage.CompletionTokens == 0 {
		t.Errorf("body %s (usage %+v) lacks the tool call or its estimated tokens", resp.Body, resp.Usage)
	}
	call.Stream = true
	st, err := p.Stream(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var data strings.Builder
	for st.Next() {
		data.Write(st.Chunk().Data)
	}
	if err := st.Err(); err != nil || !strings.Contains(data.String(), "get_order") || !strings.Contains(data.String(), `"finish_reason":"tool_calls"`) {
		t.Errorf("stream (err %v) lacks the recorded call: %s", err, data.String())
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name, outcomes, want, explanation string
	}{
		{"no setting", "", "replay needs an outcomes file", "the spec loader requires it too"},
		{"missing file", "nope.jsonl", "nope.jsonl: no such file", "relative to the spec's directory"},
		{"bad row", write("bad.jsonl", `{"prompt":"p","model":"m"}`+"\n"+`{"prompt":"p"}`), "bad.jsonl: line 2: row has no model", "names file and line"},
		{"empty", write("empty.jsonl", "\n"), "the outcomes table has no rows", "an empty table is a mistake"},
		{"trace export", write("trace.jsonl", `{"item":"dec_1","prompt_hash":"e70010ae4cd50869","model":"mini","tokens_in":560,"source":"trace"}`+"\n"),
			"none of its 1 rows can be replayed: they name prompts by the gateway's fingerprint", "decision records' prompt fingerprints match no call"},
		{"benchmark file", write("rb.jsonl", `{"sample_id":"a","prompt":"p","models":{"m":{"score":1}}}`), "convert it with clearbar outcomes import --routerbench FILE", "a raw benchmark file"},
	}
	for _, tt := range tests {
		prov := &spec.Provider{Name: "rec", Type: "replay", Outcomes: tt.outcomes}
		_, err := replay.New(provider.Config{Provider: prov, Spec: &spec.Spec{File: "testdata/spec.yaml"}})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q (%s)", tt.name, err, tt.want, tt.explanation)
		}
	}
}

// TestSpecAndRegistry loads a YAML spec with a replay provider and builds it through the
// registry, as cmd/clearbar does.
func TestSpecAndRegistry(t *testing.T) {
	s, err := spec.Load("testdata/spec.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := provider.NewRegistry()
	reg.Register("replay", replay.New)
	provs, err := reg.NewAll(s, provider.Config{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := provs["rec"].Complete(context.Background(), &clearbar.Call{Request: ask(user("What is 2+2?")), Model: s.Model("mini").Model})
	if err != nil || resp.Text() != "4" {
		t.Errorf("answer %v, %v; want the recorded 4", resp, err)
	}
}

// TestRouterBench replays a real RouterBench answer: the shared benchmark file is imported
// into a gzip table (one model, to keep it quick), and a prompt from it is asked again.
func TestRouterBench(t *testing.T) {
	const src = "../../../shared/data/routerbench_subset/outcomes.jsonl.gz"
	f, err := os.Open(src)
	if os.IsNotExist(err) {
		t.Skipf("shared data %s is not present; skipping the real-data replay", src)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	table := filepath.Join(t.TempDir(), "routerbench.jsonl.gz")
	out, err := os.Create(table)
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(out, gzip.BestSpeed)
	w := outcomes.NewWriter(zw)
	var picked []outcomes.Row
	err = outcomes.ImportRouterBench(f, func(r outcomes.Row) error {
		if r.Model != "gpt-4-1106-preview" {
			return nil
		}
		// One prompt per task: ARC (5-shot, a letter), MBPP (code), Winogrande.
		if len(picked) == 0 || picked[len(picked)-1].Task != r.Task {
			picked = append(picked, r)
		}
		return w.Write(r)
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	p := newReplay(t, table, nil) // an absolute path is used as is
	if p.Len() < 3170 {
		t.Errorf("Len = %d, want about 3,178 answers (fewer only where prompts repeat)", p.Len())
	}
	if len(picked) < 3 {
		t.Fatalf("picked %d prompts, want one per task", len(picked))
	}
	for _, row := range picked {
		req := ask(clearbar.Message{Role: "system", Text: "You are a careful assistant."}, user(row.Prompt))
		resp, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: "gpt-4-1106-preview"})
		if err != nil {
			t.Fatalf("%s: %v", row.Item, err)
		}
		if resp.Text() != row.Response {
			t.Errorf("%s: replayed %q, recorded %q", row.Item, resp.Text(), row.Response)
		}
	}
	_, err = p.Complete(context.Background(), &clearbar.Call{Request: ask(user(picked[0].Prompt)), Model: "claude-v2"})
	if clearbar.ClassOf(err) != clearbar.ClientError {
		t.Errorf("a model left out of the table: err = %v, want a ClientError", err)
	}
}

// TestReplayCSV: a table written as CSV (clearbar outcomes convert --out x.csv) is served as
// its JSON Lines form is.
func TestReplayCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "answers.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := outcomes.NewCSVWriter(f)
	for _, row := range []outcomes.Row{
		{Item: "q1", Prompt: "What is 2+2?", Model: "m", Response: "4", TokensIn: 12, TokensOut: 1},
		{Item: "q2", Prompt: "Summarise this ticket.", Model: "m", Error: "overloaded"},
	} {
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	p := newReplay(t, path, nil)
	resp, err := p.Complete(context.Background(), &clearbar.Call{Request: ask(user("What is 2+2?")), Model: "m"})
	if err != nil || resp.Text() != "4" || resp.Usage != (clearbar.Usage{PromptTokens: 12, CompletionTokens: 1}) {
		t.Errorf("answer %v, %v; want the recorded 4 with its 12/1 tokens", resp, err)
	}
	_, err = p.Complete(context.Background(), &clearbar.Call{Request: ask(user("Summarise this ticket.")), Model: "m"})
	if clearbar.ClassOf(err) != clearbar.Overloaded {
		t.Errorf("err = %v, want the recorded overloaded failure", err)
	}
}

// TestReplayRecordedUsage: the cached and reasoning tokens a row records are reported with its
// prompt and completion tokens, so that the gateway prices cached tokens at the cache's price.
func TestReplayRecordedUsage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage.jsonl")
	row := `{"item":"1","prompt":"Plan my week.","model":"m","response":"Monday: rest.","tokens_in":1000,"tokens_cached":800,"tokens_out":300,"tokens_reasoning":250}`
	if err := os.WriteFile(path, []byte(row+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := newReplay(t, path, nil)
	resp, err := p.Complete(context.Background(), &clearbar.Call{Request: ask(user("Plan my week.")), Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	want := clearbar.Usage{PromptTokens: 1000, CachedTokens: 800, CompletionTokens: 300, ReasoningTokens: 250}
	if resp.Usage != want {
		t.Errorf("usage %+v, want the recorded %+v", resp.Usage, want)
	}
	if body := string(resp.Body); !strings.Contains(body, `"cached_tokens":800`) || !strings.Contains(body, `"reasoning_tokens":250`) {
		t.Errorf("body %s lacks the recorded cached and reasoning tokens", body)
	}
}

// TestReplayFunctions: a request that offered the deprecated functions gets a recorded tool
// call in their form (message.function_call), as an upstream answers it.
func TestReplayFunctions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tools.jsonl")
	row := `{"item":"1","prompt":"Where is order 7?","model":"m","tool_calls":[{"id":"call_1","name":"get_order","arguments":"{\"id\":7}"}]}`
	if err := os.WriteFile(path, []byte(row+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := newReplay(t, path, nil)
	req := ask(user("Where is order 7?"))
	req.Functions = true
	resp, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if body := string(resp.Body); !strings.Contains(body, `"function_call":{"name":"get_order"`) || !strings.Contains(body, `"finish_reason":"function_call"`) {
		t.Errorf("body %s: want the recorded call as message.function_call", body)
	}
}

// TestReplaySource: a replayed answer names the table and row it came from, as its upstream
// request id (which decision records keep), and a replayed failure names them in its message.
func TestReplaySource(t *testing.T) {
	p := newReplay(t, "outcomes.jsonl", nil)
	resp, err := p.Complete(context.Background(), &clearbar.Call{Request: ask(user("What is 2+2?")), Model: "claude-x"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "replay outcomes.jsonl item q1"; resp.UpstreamRequestID != want {
		t.Errorf("UpstreamRequestID = %q, want %q", resp.UpstreamRequestID, want)
	}
	// A stream names it too.
	s, err := p.Stream(context.Background(), &clearbar.Call{Request: ask(user("What is 2+2?")), Model: "claude-x"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if id, ok := s.(interface{ UpstreamRequestID() string }); !ok || id.UpstreamRequestID() != "replay outcomes.jsonl item q1" {
		t.Errorf("the stream names no row (%v)", ok)
	}
	_, err = p.Complete(context.Background(), &clearbar.Call{Request: ask(user("Summarise this ticket.")), Model: "gpt-4o-mini"})
	if e := clearbar.AsError(err); e == nil || !strings.Contains(e.Message, "replayed from outcomes.jsonl item q2") {
		t.Errorf("err = %v, want the recorded failure naming outcomes.jsonl item q2", err)
	}
}

// TestReplayMissSaysWhy: a call the table has no answer to says what the table does have: the
// models it records, for a model it does not; for a prompt recorded with other white space,
// that prompt's hash.
func TestReplayMissSaysWhy(t *testing.T) {
	p := newReplay(t, "outcomes.jsonl", nil)
	tests := []struct {
		name, prompt, model, want, dontWant string
	}{
		{"unknown model", "What is 2+2?", "gpt-5", "records no answers from it; it records answers from claude-x, gpt-4o-mini", ""},
		{"other white space", "What  is\n2+2? \n", "gpt-4o-mini",
			"differs from this one only in white space (prompt hash " + outcomes.HashPrompt("What is 2+2?") + ")", ""},
		{"other white space, no answer from the model", " Say hi", "claude-x", "no recorded answer", "white space"},
		{"other words", "What is 2+3?", "gpt-4o-mini", "no recorded answer", "white space"},
	}
	for _, tt := range tests {
		_, err := p.Complete(context.Background(), &clearbar.Call{Request: ask(user(tt.prompt)), Model: tt.model})
		e := clearbar.AsError(err)
		if e == nil || e.Status != 404 || !strings.Contains(e.Message, tt.want) || tt.dontWant != "" && strings.Contains(e.Message, tt.dontWant) {
			t.Errorf("%s: err = %v, want a 404 saying %q", tt.name, err, tt.want)
		}
	}
}

// TestReplayEstimatedUsageAndRecordedCost: a row without token counts (an imported benchmark
// row, which records its cost) is answered with estimated counts, which the response says are
// estimates, and with the row's recorded cost; a row with its counts is not estimated. For n
// choices the completion's share of the recorded cost counts n times, as its tokens do. The
// client's body carries the usage as before, and nothing of either.
func TestReplayEstimatedUsageAndRecordedCost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rb.jsonl")
	rows := `{"item":"a","prompt":"Which is right? A) x B) y","model":"m","response":"B","cost_usd":0.000120,"source":"routerbench"}
{"item":"b","prompt":"Say hi","model":"m","response":"Hi!","tokens_in":9,"tokens_out":3,"cost_usd":0.000030,"source":"eval"}
{"item":"c","prompt":"Say bye","model":"m","response":"Bye!","tokens_in":9,"tokens_out":3,"source":"eval"}
{"item":"d","prompt":"Again","model":"m","response":"Again!","tokens_in":9,"tokens_out":3,"tokens_estimated":true,"source":"eval"}
`
	if err := os.WriteFile(path, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	p := newReplay(t, path, nil)
	for _, tc := range []struct {
		prompt      string
		n           int
		estimated   bool
		cost        clearbar.Money
		explanation string
	}{
		{"Which is right? A) x B) y", 0, true, 120_000, "no counts: estimated, at the recorded cost"},
		{"Which is right? A) x B) y", 3, true, 0, "three choices: the prompt's share once, the completion's three times"},
		{"Say hi", 0, false, 30_000, "recorded counts and cost"},
		{"Say bye", 0, false, 0, "recorded counts, no recorded cost"},
		{"Again", 0, true, 0, "a row whose counts are themselves estimates"},
	} {
		req := ask(user(tc.prompt))
		req.N = tc.n
		resp, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: "m"})
		if err != nil {
			t.Fatalf("%s: %v", tc.explanation, err)
		}
		want := tc.cost
		if tc.n == 3 {
			u := resp.Usage // the completion tokens of three choices
			one := u.CompletionTokens / 3
			want = clearbar.Money(120_000).Scale(float64(u.PromptTokens+3*one) / float64(u.PromptTokens+one))
			if want <= 120_000 || want >= 3*120_000 {
				t.Fatalf("%s: usage %+v makes %v; the case is wrong", tc.explanation, u, want)
			}
		}
		if resp.UsageEstimated != tc.estimated || resp.RecordedCost != want || resp.Usage.PromptTokens == 0 || resp.Usage.CompletionTokens == 0 {
			t.Errorf("%s: usage %+v, estimated %v, recorded cost %v; want estimated %v, cost %v", tc.explanation, resp.Usage, resp.UsageEstimated, resp.RecordedCost, tc.estimated, want)
		}
		var body map[string]any
		if err := json.Unmarshal(resp.Body, &body); err != nil {
			t.Fatal(err)
		}
		usage, _ := json.Marshal(body["usage"])
		if strings.Contains(string(resp.Body), "estimated") || strings.Contains(string(resp.Body), "cost") ||
			!strings.Contains(string(usage), `"prompt_tokens":`) {
			t.Errorf("%s: body %s; want the usage as before, and nothing of estimates or costs", tc.explanation, resp.Body)
		}
	}
}
