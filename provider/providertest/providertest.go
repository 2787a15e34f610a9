// Package providertest is the conformance suite every HTTP adapter passes. It replays recorded
// upstream answers (fixtures: wire bytes plus expectations, see ParseFixture) from an httptest
// server and checks what the adapter makes of them: answers, usage, tool calls, streams, every
// error shape with its failure class, retry-after, cut and malformed streams, reset connections,
// first-chunk timeouts, client cancellation (which the upstream must observe), request
// pass-through, and that no API key ever appears in an error.
//
// The fixture format is dialect-neutral: the expectations are on the canonical results
// (clearbar.Response, clearbar.Chunk, *clearbar.Error) and the request checks are gjson paths and
// header names, so each adapter adds a directory testdata/<dialect>/ of its own upstream's wire
// format. An adapter's test runs:
//
//	providertest.Run(t, func(t *testing.T, upstream *httptest.Server) clearbar.Provider {
//		// build the adapter with base URL upstream.URL+"/v1" and the key providertest.APIKey
//	}, providertest.Fixtures(t, "openai")...)
package providertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/tidwall/gjson"
)

// APIKey is the only key the adapter under test may hold. The suite checks that it reaches the
// upstream where a fixture says so, and that no error message, error string or cause ever
// contains it; some fixtures make the upstream echo it.
const APIKey = "sk-providertest-Zx81Qw0TEST0key0DO0NOT0LEAK"

// DefaultBody is the client request body of a fixture without call.body. It carries what must
// pass through unchanged (an unknown object with odd spacing, logit_bias, a user) and what must
// not (a metadata routing hint, and a client model name).
const DefaultBody = `{"model":"clearbar/auto","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Say hello."}],"temperature":0.2,"logit_bias":{"50256": -100},"x_custom": {"a":[1,2]},"metadata":{"clearbar_category":"greeting","team":"support"},"user":"user-42"}`

// NewProvider builds the adapter under test for one fixture, talking to upstream. It must
// configure APIKey as the provider's only key, and may be called from parallel tests.
type NewProvider func(t *testing.T, upstream *httptest.Server) clearbar.Provider

// Run runs every fixture as a parallel subtest, each against its own fake upstream.
func Run(t *testing.T, newProvider NewProvider, fixtures ...Fixture) {
	t.Helper()
	if len(fixtures) == 0 {
		t.Fatal("providertest.Run: no fixtures")
	}
	seen := map[string]bool{}
	for _, f := range fixtures {
		if seen[f.Name] {
			t.Fatalf("providertest.Run: two fixtures named %q", f.Name)
		}
		seen[f.Name] = true
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			runFixture(t, newProvider, f)
		})
	}
}

// chunk is a copy of a delivered chunk.
type chunk struct {
	Data         []byte
	Text         string
	FinishReason string
	Usage        *clearbar.Usage
}

// outcome is what the adapter made of a fixture.
type outcome struct {
	resp   *clearbar.Response
	chunks []chunk
	err    error
}

func runFixture(t *testing.T, newProvider NewProvider, f Fixture) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("fixture %s: %s", f.File, f.Description)
		}
	})
	rec := newRecorder()
	srv := httptest.NewServer(f.handler(rec))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	p := newProvider(t, srv)
	call := f.call()
	before := bytes.Clone(call.Request.Body)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if f.Call.Timeout > 0 {
		var c context.CancelFunc
		ctx, c = context.WithTimeout(ctx, f.Call.Timeout)
		defer c()
	}
	if f.Call.CancelAfter > 0 {
		timer := time.AfterFunc(f.Call.CancelAfter, cancel)
		defer timer.Stop()
	}
	out := exercise(t, ctx, cancel, p, call, f)

	if !bytes.Equal(call.Request.Body, before) {
		t.Errorf("the adapter modified the request body:\nbefore %s\nafter  %s", before, call.Request.Body)
	}
	checkError(t, f, p, out.err)
	checkResult(t, f, out)
	checkUpstream(t, f, rec)
}

// call builds the fixture's call; the canonical fields are filled from the body the way the
// ingress would, as far as adapters read them.
func (f *Fixture) call() *clearbar.Call {
	req := &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: bytes.Clone(f.Call.Body), N: 1}
	var b struct {
		Model    string `json:"model"`
		Stream   bool   `json:"stream"`
		Messages []struct {
			Role    string `json:"role"`
			Content any    `json:"content"`
		} `json:"messages"`
		Metadata      map[string]string `json:"metadata"`
		User          string            `json:"user"`
		MaxTokens     int               `json:"max_tokens"`
		MaxCompletion int               `json:"max_completion_tokens"`
		StreamOptions *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	if json.Unmarshal(f.Call.Body, &b) == nil {
		req.Model, req.Stream, req.Metadata, req.User = b.Model, b.Stream, b.Metadata, b.User
		req.MaxTokens = max(b.MaxCompletion, b.MaxTokens)
		req.IncludeUsage = b.StreamOptions != nil && b.StreamOptions.IncludeUsage
		for _, m := range b.Messages {
			text, _ := m.Content.(string)
			req.Messages = append(req.Messages, clearbar.Message{Role: m.Role, Text: text})
		}
	}
	return &clearbar.Call{Request: req, Model: f.Call.Model, Stream: f.Call.Stream, TTFTTimeout: f.Call.TTFT, Attempt: 1}
}

// exercise makes the call and collects the outcome; a stream is read to its end and closed
// twice (Close must be idempotent).
func exercise(t *testing.T, ctx context.Context, cancel context.CancelFunc, p clearbar.Provider, call *clearbar.Call, f Fixture) outcome {
	if !f.Call.Stream {
		resp, err := p.Complete(ctx, call)
		if err == nil && resp == nil {
			t.Fatal("Complete returned neither a response nor an error")
		}
		return outcome{resp: resp, err: err}
	}
	s, err := p.Stream(ctx, call)
	if err != nil {
		return outcome{err: err}
	}
	if s == nil {
		t.Fatal("Stream returned neither a stream nor an error")
	}
	var out outcome
	for s.Next() {
		c := s.Chunk()
		cp := chunk{Data: bytes.Clone(c.Data), Text: c.Text, FinishReason: c.FinishReason}
		if c.Usage != nil {
			u := *c.Usage
			cp.Usage = &u
		}
		out.chunks = append(out.chunks, cp)
		if f.Call.CancelAfterChunks > 0 && len(out.chunks) == f.Call.CancelAfterChunks {
			cancel()
		}
	}
	out.err = s.Err()
	if s.Next() {
		t.Error("Next returned true after the stream ended")
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	return out
}

// checkError checks the error against the expectations, and that it never leaks the key.
func checkError(t *testing.T, f Fixture, p clearbar.Provider, err error) {
	t.Helper()
	want := f.Expect
	if err == nil {
		if want.Class != clearbar.OK {
			t.Errorf("no error, want class %s", want.Class)
		}
		return
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(s, APIKey) {
			t.Errorf("the API key leaks in the error: %s", s)
		}
	}
	var e *clearbar.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *clearbar.Error", err, err)
	}
	for _, s := range []string{e.Message, fmt.Sprint(e.Err), e.Type, e.Code, e.Param} {
		if strings.Contains(s, APIKey) {
			t.Errorf("the API key leaks in the error's fields: %s", s)
		}
	}
	if want.Class == clearbar.OK {
		t.Fatalf("unexpected error: %v (cause: %v)", err, e.Err)
	}
	if e.Class != want.Class {
		t.Errorf("class = %s, want %s (error: %v; cause: %v)", e.Class, want.Class, err, e.Err)
	}
	if e.Provider != p.Name() {
		t.Errorf("error names provider %q, want %q", e.Provider, p.Name())
	}
	if e.Model != f.Call.Model {
		t.Errorf("error names model %q, want %q", e.Model, f.Call.Model)
	}
	if want.Status != 0 && e.Status != want.Status {
		t.Errorf("status = %d, want %d", e.Status, want.Status)
	}
	if e.Message == "" {
		t.Error("the error has no message")
	}
	for _, m := range want.Messages {
		if !strings.Contains(e.Message, m) {
			t.Errorf("message %q does not contain %q", e.Message, m)
		}
	}
	for _, c := range []struct{ name, got, want string }{{"type", e.Type, want.Type}, {"code", e.Code, want.Code}, {"param", e.Param, want.Param}} {
		if c.want != "" && c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if want.HasRetryAfter && e.RetryAfter != want.RetryAfter {
		t.Errorf("retry-after = %s, want %s", e.RetryAfter, want.RetryAfter)
	}
}

// checkResult checks the answer (or the part of a stream before its error).
func checkResult(t *testing.T, f Fixture, out outcome) {
	t.Helper()
	want := f.Expect
	if !f.Call.Stream {
		r := out.resp
		if r == nil {
			return
		}
		if len(r.Body) == 0 {
			t.Error("Response.Body is empty")
		}
		var calls []string
		var finish string
		if len(r.Choices) > 0 {
			finish = r.Choices[0].FinishReason
			for _, c := range r.Choices[0].ToolCalls {
				calls = append(calls, c.ID+" "+c.Name+" "+c.Arguments)
			}
		}
		checkAnswer(t, want, r.Text(), r.ID, r.Model, finish, calls)
		switch {
		case want.Usage != nil && (!r.HasUsage || r.Usage != *want.Usage):
			t.Errorf("usage = %+v (has %v), want %+v", r.Usage, r.HasUsage, *want.Usage)
		case want.NoUsage && r.HasUsage:
			t.Errorf("usage = %+v, want none", r.Usage)
		}
		if want.UpstreamRequestID != "" && r.UpstreamRequestID != want.UpstreamRequestID {
			t.Errorf("upstream request id = %q, want %q", r.UpstreamRequestID, want.UpstreamRequestID)
		}
		return
	}

	if want.HasChunks && len(out.chunks) != want.Chunks {
		t.Errorf("%d chunks, want %d", len(out.chunks), want.Chunks)
	}
	checkChunkInvariants(t, out.chunks)
	if out.err != nil {
		return
	}
	var text strings.Builder
	var finish string
	var usage []clearbar.Usage
	for _, c := range out.chunks {
		text.WriteString(c.Text)
		if c.FinishReason != "" {
			finish = c.FinishReason
		}
		if c.Usage != nil {
			usage = append(usage, *c.Usage)
		}
	}
	id, model := "", ""
	if len(out.chunks) > 0 {
		id = gjson.GetBytes(out.chunks[0].Data, "id").String()
		model = gjson.GetBytes(out.chunks[0].Data, "model").String()
	}
	checkAnswer(t, want, text.String(), id, model, finish, streamToolCalls(out.chunks))
	switch {
	case want.Usage != nil && (len(usage) != 1 || usage[0] != *want.Usage):
		t.Errorf("usage reported %+v, want once %+v", usage, *want.Usage)
	case want.NoUsage && len(usage) > 0:
		t.Errorf("usage reported %+v, want none", usage)
	}
}

func checkAnswer(t *testing.T, want Expect, text, id, model, finish string, calls []string) {
	t.Helper()
	if want.HasText && text != want.Text {
		t.Errorf("text = %q, want %q", text, want.Text)
	}
	if want.ID != "" && id != want.ID {
		t.Errorf("id = %q, want %q", id, want.ID)
	}
	if want.Model != "" && model != want.Model {
		t.Errorf("model = %q, want %q", model, want.Model)
	}
	if want.Finish != "" && finish != want.Finish {
		t.Errorf("finish reason = %q, want %q", finish, want.Finish)
	}
	if want.ToolCalls != nil && !slices.Equal(calls, want.ToolCalls) {
		t.Errorf("tool calls:\n got %q\nwant %q", calls, want.ToolCalls)
	}
}

// checkChunkInvariants checks what every OpenAI-dialect client needs of a stream's chunks:
// each is a JSON object without an "error" key; all share one non-empty id; usage appears on
// at most one chunk, the last, which has no choices; chunks with choices carry no usage.
func checkChunkInvariants(t *testing.T, chunks []chunk) {
	t.Helper()
	var id string
	for i, c := range chunks {
		if !gjson.ValidBytes(c.Data) || !gjson.ParseBytes(c.Data).IsObject() {
			t.Errorf("chunk %d is not a JSON object: %s", i, c.Data)
			continue
		}
		if gjson.GetBytes(c.Data, "error").Exists() {
			t.Errorf("chunk %d has an error key (openai-go stops the stream at it): %s", i, c.Data)
		}
		cid := gjson.GetBytes(c.Data, "id").String()
		switch {
		case cid == "":
			t.Errorf("chunk %d has no id: %s", i, c.Data)
		case id == "":
			id = cid
		case cid != id:
			t.Errorf("chunk %d has id %q, the stream's is %q (openai-go's accumulator drops it)", i, cid, id)
		}
		hasChoices := len(gjson.GetBytes(c.Data, "choices").Array()) > 0
		if u := gjson.GetBytes(c.Data, "usage"); hasChoices && u.IsObject() {
			t.Errorf("chunk %d has choices and usage (clients add up every usage): %s", i, c.Data)
		}
		if c.Usage != nil {
			if i != len(chunks)-1 {
				t.Errorf("chunk %d carries usage but is not the last chunk", i)
			}
			if hasChoices {
				t.Errorf("chunk %d carries usage and choices", i)
			}
			if !gjson.GetBytes(c.Data, "usage").IsObject() {
				t.Errorf("chunk %d reports usage its data does not have: %s", i, c.Data)
			}
		}
	}
}

// streamToolCalls reassembles the first choice's tool calls from a stream's deltas, by index.
func streamToolCalls(chunks []chunk) []string {
	type call struct{ id, name, args string }
	calls := map[int64]*call{}
	for _, c := range chunks {
		gjson.GetBytes(c.Data, "choices").ForEach(func(_, ch gjson.Result) bool {
			if ch.Get("index").Int() != 0 {
				return true
			}
			ch.Get("delta.tool_calls").ForEach(func(_, d gjson.Result) bool {
				idx := d.Get("index").Int()
				tc := calls[idx]
				if tc == nil {
					tc = &call{}
					calls[idx] = tc
				}
				if id := d.Get("id").String(); id != "" {
					tc.id = id
				}
				tc.name += d.Get("function.name").String()
				tc.args += d.Get("function.arguments").String()
				return true
			})
			return true
		})
	}
	if len(calls) == 0 {
		return nil
	}
	idx := make([]int64, 0, len(calls))
	for i := range calls {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	out := make([]string, 0, len(idx))
	for _, i := range idx {
		out = append(out, calls[i].id+" "+calls[i].name+" "+calls[i].args)
	}
	return out
}

// checkUpstream checks what the upstream received.
func checkUpstream(t *testing.T, f Fixture, rec *recorder) {
	t.Helper()
	want := f.Expect
	if want.UpstreamCanceled {
		select {
		case <-rec.canceled:
		case <-time.After(5 * time.Second):
			t.Error("the upstream never saw its request canceled: the adapter did not abort the upstream call")
		}
	}
	reqs := rec.all()
	if len(reqs) != want.UpstreamRequests {
		t.Errorf("the upstream got %d requests, want %d", len(reqs), want.UpstreamRequests)
	}
	if len(reqs) == 0 {
		return
	}
	req := reqs[0]
	if want.UpstreamMethod != "" && req.Method != want.UpstreamMethod {
		t.Errorf("upstream method = %s, want %s", req.Method, want.UpstreamMethod)
	}
	if want.UpstreamPath != "" && req.Path != want.UpstreamPath {
		t.Errorf("upstream path = %s, want %s", req.Path, want.UpstreamPath)
	}
	for _, h := range want.UpstreamHeaders {
		if name, ok := strings.CutSuffix(h, " !exists"); ok {
			if v := req.Header.Values(name); len(v) > 0 {
				t.Errorf("upstream header %s = %q, want none", name, v)
			}
			continue
		}
		name, value, _ := strings.Cut(h, " = ")
		value = strings.ReplaceAll(value, "$KEY", APIKey)
		if got := req.Header.Get(name); got != value {
			t.Errorf("upstream header %s = %q, want %q", name, got, value)
		}
	}
	for _, q := range want.UpstreamQuery {
		if name, ok := strings.CutSuffix(q, " !exists"); ok {
			if req.Query.Has(name) {
				t.Errorf("upstream query %s = %q, want none", name, req.Query[name])
			}
			continue
		}
		name, value, _ := strings.Cut(q, " = ")
		if got := req.Query[name]; len(got) != 1 || got[0] != value {
			t.Errorf("upstream query %s = %q, want %q", name, got, value)
		}
	}
	if len(want.UpstreamJSON) > 0 && !gjson.ValidBytes(req.Body) {
		t.Fatalf("the upstream body is not valid JSON: %s", req.Body)
	}
	for _, c := range want.UpstreamJSON {
		checkJSON(t, req.Body, c)
	}
}

// checkJSON applies one "path == raw", "path exists" or "path !exists" check to body.
func checkJSON(t *testing.T, body []byte, check string) {
	t.Helper()
	if p, ok := strings.CutSuffix(check, " !exists"); ok {
		if v := gjson.GetBytes(body, p); v.Exists() {
			t.Errorf("upstream body has %s = %s, want none", p, v.Raw)
		}
		return
	}
	if p, ok := strings.CutSuffix(check, " exists"); ok {
		if !gjson.GetBytes(body, p).Exists() {
			t.Errorf("upstream body lacks %s: %s", p, body)
		}
		return
	}
	p, raw, _ := strings.Cut(check, " == ")
	v := gjson.GetBytes(body, p)
	if !v.Exists() {
		t.Errorf("upstream body lacks %s, want %s: %s", p, raw, body)
		return
	}
	if v.Raw != raw {
		// Say whether only the formatting differs, which is still a failure: values must
		// survive byte for byte.
		var a, b any
		same := json.Unmarshal([]byte(v.Raw), &a) == nil && json.Unmarshal([]byte(raw), &b) == nil && reflect.DeepEqual(a, b)
		t.Errorf("upstream body %s = %s, want %s byte for byte (same value, other bytes: %v)", p, v.Raw, raw, same)
	}
}
