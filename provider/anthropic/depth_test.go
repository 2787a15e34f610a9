package anthropic

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

// deepMessage is a Messages answer whose extra member x holds n levels of arrays: the answer
// nests n+1 levels deep.
func deepMessage(n int) string {
	return `{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"ok"}],` +
		`"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1},"x":` +
		strings.Repeat("[", n) + "1" + strings.Repeat("]", n) + `}`
}

// TestDeepAnswer: an answer or a stream event nested deeper than jsonguard.MaxDepth is a
// BadResponse failure, not a crash (ten million levels end the process in gjson's validator);
// at the limit it is an answer.
func TestDeepAnswer(t *testing.T) {
	for _, stream := range []bool{false, true} {
		for _, tt := range []struct {
			levels int // of the answer, or of the stream's message_start event
			ok     bool
		}{{jsonguard.MaxDepth, true}, {jsonguard.MaxDepth + 1, false}, {10_000_000, false}} {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if stream {
					// The message is one level inside the event.
					msg := strings.Replace(deepMessage(tt.levels-2), `"content":[{"type":"text","text":"ok"}]`, `"content":[]`, 1)
					w.Header().Set("Content-Type", "text/event-stream")
					io.WriteString(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":"+msg+"}\n\n"+
						"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n"+
						"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
					return
				}
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, deepMessage(tt.levels-1))
			}))
			p := newTestProvider(t, srv, "", "k-000000000001")
			call := &clearbar.Call{Model: "claude-sonnet-4-5", Stream: stream, Request: &clearbar.Request{Dialect: clearbar.DialectOpenAI, Model: "m",
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
			took := time.Since(start)
			if tt.ok {
				if err != nil {
					t.Errorf("stream %v, %d levels: %v, want an answer", stream, tt.levels, err)
				}
				continue
			}
			var e *clearbar.Error
			if !errors.As(err, &e) || e.Class != clearbar.BadResponse {
				t.Errorf("stream %v, %d levels: %v, want a BadResponse", stream, tt.levels, err)
			} else if !strings.Contains(e.Message, "512 levels deep") {
				t.Errorf("%d levels: %q, want it to say the nesting is too deep", tt.levels, e.Message)
			}
			// Not a speed target (those are benchmarks): a scan that is not linear in the
			// answer would take hours on millions of levels, a linear one well under this
			// even under -race on a busy machine.
			if took > 30*time.Second {
				t.Errorf("stream %v, %d levels: took %v, as a scan that is not linear would", stream, tt.levels, took)
			}
		}
	}
}
