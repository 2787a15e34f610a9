package openai

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
)

// nested returns n arrays nested around 1.
func nested(n int) string { return strings.Repeat("[", n) + "1" + strings.Repeat("]", n) }

// deepAnswer is a chat completion whose extra member x holds n levels of arrays: the answer
// nests n+1 levels deep.
func deepAnswer(n int) string {
	return `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,` +
		`"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"x":` + nested(n) + `}`
}

// callAnswer is a chat completion calling f with the given arguments.
func callAnswer(args string) string {
	return `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,` +
		`"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"` +
		args + `"}}]},"finish_reason":"tool_calls"}]}`
}

func plainCall() *clearbar.Call {
	return &clearbar.Call{Model: "m", Request: &clearbar.Request{Dialect: clearbar.DialectOpenAI, Model: "m",
		Messages: []clearbar.Message{{Role: "user", Text: "hi"}}, Body: []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`)}}
}

// TestDeepAnswer: an answer nested deeper than jsonguard.MaxDepth, in itself or in a call's
// arguments, is a BadResponse failure, not a crash (ten million levels took the process down
// in gjson's validator); at the limit it is an answer.
func TestDeepAnswer(t *testing.T) {
	tests := []struct {
		explanation string
		answer      string
		ok          bool
	}{
		{"nested to the limit", deepAnswer(jsonguard.MaxDepth - 1), true},
		{"one level more", deepAnswer(jsonguard.MaxDepth), false},
		{"ten million levels", deepAnswer(10_000_000), false},
		{"unterminated, ten million levels", deepAnswer(10_000_000)[:10_000_000], false},
		{"arguments nested to the limit", callAnswer(nested(jsonguard.MaxDepth)), true},
		{"arguments one level more", callAnswer(nested(jsonguard.MaxDepth + 1)), false},
		{"arguments of ten million levels", callAnswer(nested(10_000_000)), false},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, tt.answer)
		}))
		p := newTestProvider(t, srv, TypeOpenAI, "k-000000000001")
		start := time.Now()
		resp, err := p.Complete(context.Background(), plainCall())
		srv.Close()
		if tt.ok {
			if err != nil || len(resp.Choices) != 1 {
				t.Errorf("%s: %v, want an answer", tt.explanation, err)
			}
			continue
		}
		var e *clearbar.Error
		if !errors.As(err, &e) || e.Class != clearbar.BadResponse || !strings.Contains(e.Message, "512 levels deep") {
			t.Errorf("%s: %v, want a BadResponse saying the nesting is too deep", tt.explanation, err)
		}
		// Not a speed target (those are benchmarks): a scan that is not linear in the answer
		// would take hours on millions of levels, a linear one (and the drain of the rest of
		// the body) well under this even under -race on a busy machine.
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("%s: took %v, as a scan that is not linear would", tt.explanation, d)
		}
	}
}

// TestDeepChunk: a stream chunk nested deeper than jsonguard.MaxDepth is malformed, whatever
// its size; at the limit it is delivered.
func TestDeepChunk(t *testing.T) {
	chunk := func(n int) string {
		return `{"id":"c","choices":[{"index":0,"delta":{"content":"a"}}],"x":` + nested(n) + `}`
	}
	var cp chunkParser
	var c clearbar.Chunk
	if kind, _ := cp.parse([]byte(chunk(jsonguard.MaxDepth-1)), &c); kind != chunkData || c.Text != "a" {
		t.Errorf("a chunk at the limit: kind %d, text %q", kind, c.Text)
	}
	for _, n := range []int{jsonguard.MaxDepth, 10_000_000} {
		kind, f := cp.parse([]byte(chunk(n)), &c)
		if kind != chunkMalformed || !strings.Contains(f.message, "a stream chunk nests arrays and objects more than 512 levels deep") {
			t.Errorf("%d levels: kind %d, %q; want malformed, too deep", n+1, kind, f.message)
		}
	}
}
