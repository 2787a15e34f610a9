package providertest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// TestOpenAIFixtures checks the OpenAI fixture set itself: every file parses, every one
// explains itself, and the cases the suite promises are all there.
func TestOpenAIFixtures(t *testing.T) {
	fs := Fixtures(t, "openai")
	byName := map[string]Fixture{}
	for _, f := range fs {
		byName[f.Name] = f
		if f.Description == "" {
			t.Errorf("%s has no comment saying why it exists", f.File)
		}
	}
	for _, name := range []string{
		"complete_basic", "complete_tool_calls", "complete_malformed_json", "connection_reset",
		"error_401_key_echo", "error_429_retry_after_ms", "error_429_insufficient_quota",
		"error_400_context_length", "error_413", "error_503", "error_vllm_flat",
		"error_fastapi_detail", "error_numeric_code", "error_502_text_plain", "error_500_empty_body",
		"stream_basic", "stream_tool_calls", "stream_cumulative_usage", "stream_azure_first_chunk",
		"stream_cut_no_done", "stream_error_chunk", "stream_malformed_json", "stream_malformed_sse",
		"stream_slow_first_chunk", "stream_client_cancel",
	} {
		if _, ok := byName[name]; !ok {
			t.Errorf("fixture %s is missing", name)
		}
	}
	// The leak check is only meaningful if the upstream really echoes the key.
	if f := byName["error_401_key_echo"]; !bytes.Contains(f.Body, []byte(APIKey)) {
		t.Error("error_401_key_echo does not echo APIKey: update its body with the constant")
	}
}

func TestParseFixture(t *testing.T) {
	good := "# why\ncall.stream: true\ncall.ttft: 100ms\nexpect.class: stream_cut\nexpect.message: a: b\nexpect.message: c\n" +
		"expect.usage: prompt=5 completion=2 cached=1\nexpect.upstream.json: metadata.x !exists\n\n" +
		"HTTP/1.1 200 OK\nContent-Type: text/event-stream\nContent-Length: 99\n\ndata: x\r\n\r\n"
	f, err := ParseFixture("testdata/x/good.http", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case f.Name != "good" || f.Description != "why":
		t.Errorf("name %q, description %q", f.Name, f.Description)
	case !f.Call.Stream || f.Call.TTFT != 100*time.Millisecond || f.Call.Model != "upstream-model":
		t.Errorf("call %+v", f.Call)
	case f.Expect.Class != clearbar.StreamCut || strings.Join(f.Expect.Messages, "|") != "a: b|c":
		t.Errorf("expect %+v", f.Expect)
	case *f.Expect.Usage != (clearbar.Usage{PromptTokens: 5, CompletionTokens: 2, CachedTokens: 1}):
		t.Errorf("usage %+v", *f.Expect.Usage)
	case f.Status != 200 || f.Header.Get("Content-Type") != "text/event-stream" || f.Header.Get("Content-Length") != "":
		t.Errorf("status %d, header %v", f.Status, f.Header)
	case string(f.Body) != "data: x\r\n\r\n":
		t.Errorf("body %q: must be byte for byte", f.Body)
	case f.Expect.UpstreamRequests != 1 || f.Replay.Mode != "respond" || f.Replay.After != "end":
		t.Errorf("defaults %+v %+v", f.Expect, f.Replay)
	}

	bad := []struct{ explanation, in, want string }{
		{"unknown directive", "expect.colour: red\nHTTP/1.1 200 OK\n\n", "unknown directive"},
		{"bad class", "expect.class: flaky\nHTTP/1.1 200 OK\n\n", "unknown failure class"},
		{"bad duration", "call.ttft: soon\nHTTP/1.1 200 OK\n\n", "call.ttft"},
		{"no answer", "expect.class: ok\n", "no status line"},
		{"reset needs none", "replay.mode: reset\n", ""},
		{"stray text", "hello\nHTTP/1.1 200 OK\n\n", "neither a directive"},
		{"bad usage", "expect.usage: prompt=x\nHTTP/1.1 200 OK\n\n", "name=count"},
		{"bad header check", "expect.upstream.header: Authorization\nHTTP/1.1 200 OK\n\n", "Name = value"},
		{"bad status", "HTTP/1.1 OK\n\n", "bad status code"},
		{"cancel chunks without stream", "call.cancel-after-chunks: 1\nHTTP/1.1 200 OK\n\n", "needs call.stream"},
		{"bad replay mode", "replay.mode: explode\n", "not one of"},
	}
	for _, tt := range bad {
		_, err := ParseFixture("x.http", []byte(tt.in))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.explanation, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: err = %v, want %q", tt.explanation, err, tt.want)
		}
	}
}
