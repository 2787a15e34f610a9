package gemini

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

// deepGemini is a generateContent answer whose extra member x holds n levels of arrays: the
// answer nests n+1 levels deep.
func deepGemini(n int) string {
	return `{"candidates":[{"content":{"role":"model","parts":[{"text":"ok"}]},"finishReason":"STOP","index":0}],` +
		`"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1},"x":` +
		strings.Repeat("[", n) + "1" + strings.Repeat("]", n) + `}`
}

// TestDeepAnswer: an answer or a stream event nested deeper than jsonguard.MaxDepth is a
// BadResponse failure, not a crash (ten million levels end the process in gjson's validator);
// at the limit it is an answer.
func TestDeepAnswer(t *testing.T) {
	for _, stream := range []bool{false, true} {
		for _, tt := range []struct {
			levels int
			ok     bool
		}{{jsonguard.MaxDepth - 1, true}, {jsonguard.MaxDepth, false}, {10_000_000, false}} {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if stream {
					w.Header().Set("Content-Type", "text/event-stream")
					io.WriteString(w, "data: "+deepGemini(tt.levels)+"\r\n\r\n")
					return
				}
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, deepGemini(tt.levels))
			}))
			p := newTestProvider(t, srv, "k-000000000001")
			call := &clearbar.Call{Model: "gemini-2.5-flash", Stream: stream, Request: &clearbar.Request{Dialect: clearbar.DialectOpenAI, Model: "m",
				Messages: []clearbar.Message{{Role: "user", Text: "hi"}}, Body: []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`)}}
			start := time.Now()
			var err error
			if stream {
				var s clearbar.Stream
				if s, err = p.Stream(context.Background(), call); err == nil {
					for s.Next() {
					}
					err = s.Err()
					s.Close()
				}
			} else {
				_, err = p.Complete(context.Background(), call)
			}
			srv.Close()
			if tt.ok {
				if err != nil {
					t.Errorf("stream %v, %d levels: %v, want an answer", stream, tt.levels+1, err)
				}
				continue
			}
			var e *clearbar.Error
			if !errors.As(err, &e) || e.Class != clearbar.BadResponse || !strings.Contains(e.Message, "512 levels deep") {
				t.Errorf("stream %v, %d levels: %v, want a BadResponse saying the nesting is too deep", stream, tt.levels+1, err)
			}
			// Not a speed target (those are benchmarks): a scan that is not linear in the
			// answer would take hours on millions of levels, a linear one (and the drain of
			// the rest of the body) well under this even under -race on a busy machine.
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("stream %v, %d levels: took %v, as a scan that is not linear would", stream, tt.levels+1, d)
			}
		}
	}
}
