package openai

import (
	"bytes"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/tidwall/gjson"
)

func TestChunkParser(t *testing.T) {
	type result struct {
		kind      chunkKind
		text      string
		finish    string
		usage     *clearbar.Usage
		data      string // "" means the input, unchanged
		reasoning int
	}
	tests := []struct {
		name, explanation, in string
		want                  result
	}{
		{"content", "a content delta", `{"id":"1","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}`,
			result{kind: chunkData, text: "Hi"}},
		{"reasoning", "a reasoning delta's length is counted, apart from the text", `{"id":"1","choices":[{"index":0,"delta":{"reasoning_content":"Let me see."},"finish_reason":null}]}`,
			result{kind: chunkData, reasoning: len("Let me see.")}},
		{"finish", "a finish reason", `{"id":"1","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}`,
			result{kind: chunkData, finish: "length"}},
		{"escaped content", "JSON escapes are decoded in Text, kept in Data", `{"id":"1","choices":[{"index":0,"delta":{"content":"a\nb \u00e9"}}]}`,
			result{kind: chunkData, text: "a\nb é"}},
		{"second choice only", "Text is choice 0's: a chunk for choice 1 has none", `{"id":"1","choices":[{"index":1,"delta":{"content":"other"}}]}`,
			result{kind: chunkData}},
		{"choices out of order", "choice 0 is found by index", `{"id":"1","choices":[{"index":1,"delta":{"content":"b"}},{"index":0,"delta":{"content":"a"}}]}`,
			result{kind: chunkData, text: "a"}},
		{"usage chunk", "the usage-only chunk carries the usage", `{"id":"1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":1},"completion_tokens_details":{"reasoning_tokens":1}}}`,
			result{kind: chunkData, usage: &clearbar.Usage{PromptTokens: 3, CompletionTokens: 2, CachedTokens: 1, ReasoningTokens: 1}}},
		{"cumulative usage", "usage on a chunk with choices is kept back and nulled", `{"id":"1","choices":[{"index":0,"delta":{"content":"x"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}`,
			result{kind: chunkData, text: "x", data: `{"id":"1","choices":[{"index":0,"delta":{"content":"x"}}],"usage":null}`}},
		{"error null", "a null error key is removed", `{"id":"1","choices":[{"index":0,"delta":{"content":"x"}}],"error":null}`,
			result{kind: chunkData, text: "x", data: `{"id":"1","choices":[{"index":0,"delta":{"content":"x"}}]}`}},
		{"error object", "an error object ends the stream", `{"error":{"message":"boom","type":"server_error"}}`,
			result{kind: chunkError}},
		{"error string", "an error string too", `{"error":"boom"}`, result{kind: chunkError}},
		{"azure filter chunk", "Azure's prompt-filter chunk is skipped", `{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0}]}`,
			result{kind: chunkSkip}},
		{"done", "the terminator", `[DONE]`, result{kind: chunkDone}},
		{"done with spaces", "whitespace around it does not matter", " [DONE] ", result{kind: chunkDone}},
		{"empty", "an empty data line is skipped", ``, result{kind: chunkSkip}},
		{"not JSON", "broken JSON", `{"id":`, result{kind: chunkMalformed}},
		{"not an object", "JSON that is not an object", `[1,2]`, result{kind: chunkMalformed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cp chunkParser
			var c clearbar.Chunk
			in := []byte(tt.in)
			kind, _ := cp.parse(in, &c)
			if kind != tt.want.kind {
				t.Fatalf("%s: kind = %d, want %d", tt.explanation, kind, tt.want.kind)
			}
			if kind != chunkData {
				return
			}
			wantData := tt.want.data
			if wantData == "" {
				wantData = tt.in
			}
			if string(c.Data) != wantData {
				t.Errorf("%s: data = %s, want %s", tt.explanation, c.Data, wantData)
			}
			if c.Text != tt.want.text || c.FinishReason != tt.want.finish || c.Reasoning != tt.want.reasoning {
				t.Errorf("%s: text %q finish %q reasoning %d, want %q %q %d", tt.explanation, c.Text, c.FinishReason, c.Reasoning, tt.want.text, tt.want.finish, tt.want.reasoning)
			}
			switch {
			case (c.Usage == nil) != (tt.want.usage == nil):
				t.Errorf("%s: usage = %v, want %v", tt.explanation, c.Usage, tt.want.usage)
			case c.Usage != nil && *c.Usage != *tt.want.usage:
				t.Errorf("%s: usage = %+v, want %+v", tt.explanation, *c.Usage, *tt.want.usage)
			}
		})
	}
}

// TestChunkTextOutlivesBuffer: Text and FinishReason are copies, not views of the event buffer
// that the next event overwrites.
func TestChunkTextOutlivesBuffer(t *testing.T) {
	var cp chunkParser
	var c clearbar.Chunk
	buf := []byte(`{"id":"1","choices":[{"index":0,"delta":{"content":"first"},"finish_reason":"custom_reason"}]}`)
	cp.parse(buf, &c)
	text, finish := c.Text, c.FinishReason
	copy(buf, bytes.Repeat([]byte("x"), len(buf)))
	if text != "first" || finish != "custom_reason" {
		t.Errorf("text %q, finish %q changed with the buffer", text, finish)
	}
}

func TestChunkParserFinal(t *testing.T) {
	var cp chunkParser
	var c clearbar.Chunk
	cp.parse([]byte(`{"id":"x1","created":5,"model":"m","choices":[{"index":0,"delta":{"content":"a"}}],"usage":{"prompt_tokens":4,"completion_tokens":1}}`), &c)
	cp.parse([]byte(`{"id":"x1","created":5,"model":"m","choices":[{"index":0,"delta":{"content":"b"}}],"usage":{"prompt_tokens":4,"completion_tokens":2}}`), &c)
	if !cp.final(&c) {
		t.Fatal("no final chunk for kept-back usage")
	}
	want := `{"id":"x1","object":"chat.completion.chunk","created":5,"model":"m","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2}}`
	if string(c.Data) != want {
		t.Errorf("final chunk %s\nwant %s", c.Data, want)
	}
	if c.Usage == nil || *c.Usage != (clearbar.Usage{PromptTokens: 4, CompletionTokens: 2}) {
		t.Errorf("usage %v", c.Usage)
	}
	if cp.final(&c) {
		t.Error("a second final chunk")
	}

	var sent chunkParser
	sent.parse([]byte(`{"id":"y","choices":[{"index":0,"delta":{}}],"usage":{"prompt_tokens":4}}`), &c)
	sent.parse([]byte(`{"id":"y","choices":[],"usage":{"prompt_tokens":4}}`), &c)
	if sent.final(&c) {
		t.Error("a final chunk after the upstream's own usage chunk")
	}
}

// FuzzStreamChunk checks the chunk parser on any data: it never panics, never changes its
// input, and every chunk it delivers is what a client can take: a JSON object without an error
// key, with usage only where there are no choices.
func FuzzStreamChunk(f *testing.F) {
	for _, s := range []string{
		`{"id":"1","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}`,
		`{"id":"1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}`,
		`{"id":"1","choices":[{"index":0,"delta":{"content":"x"}}],"usage":{"prompt_tokens":3}}`,
		`{"id":"1","choices":[{"index":0,"delta":{}}],"error":null}`,
		`{"error":{"message":"boom"}}`,
		`{"choices":[],"id":"","prompt_filter_results":[]}`,
		`{"id":"1","choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\""}}]}}]}`,
		`[DONE]`, `{"id":`, `[]`, `"s"`, `{"usage":{},"usage":null,"choices":[{}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var cp chunkParser
		var c clearbar.Chunk
		before := bytes.Clone(data)
		kind, _ := cp.parse(data, &c)
		if !bytes.Equal(data, before) {
			t.Fatalf("parse modified its input: %q -> %q", before, data)
		}
		if kind == chunkData {
			checkDeliverable(t, c)
		}
		if cp.final(&c) {
			checkDeliverable(t, c)
		}
	})
}

func checkDeliverable(t *testing.T, c clearbar.Chunk) {
	t.Helper()
	if !gjson.ValidBytes(c.Data) || !gjson.ParseBytes(c.Data).IsObject() {
		t.Fatalf("delivered a chunk that is not a JSON object: %q", c.Data)
	}
	if gjson.GetBytes(c.Data, "error").Exists() {
		t.Fatalf("delivered a chunk with an error key: %s", c.Data)
	}
	hasChoices := len(gjson.GetBytes(c.Data, "choices").Array()) > 0
	if hasChoices && gjson.GetBytes(c.Data, "usage").IsObject() {
		t.Fatalf("delivered usage on a chunk with choices: %s", c.Data)
	}
	if c.Usage != nil && hasChoices {
		t.Fatalf("reported usage on a chunk with choices: %s", c.Data)
	}
}
