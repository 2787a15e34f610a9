package gateway

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

// sliceStream is a stream of given chunks that ends with err (nil: cleanly). Like a
// provider's, it reads every chunk into one buffer: a chunk's data is valid until the next
// call to Next.
type sliceStream struct {
	chunks []clearbar.Chunk
	i      int
	err    error
	cur    clearbar.Chunk
	buf    []byte
}

func (s *sliceStream) Next() bool {
	if s.i >= len(s.chunks) {
		return false
	}
	s.cur = s.chunks[s.i]
	s.buf = append(s.buf[:0], s.cur.Data...)
	s.cur.Data = s.buf
	s.i++
	return true
}
func (s *sliceStream) Chunk() *clearbar.Chunk { return &s.cur }
func (s *sliceStream) Err() error {
	if s.i >= len(s.chunks) {
		return s.err
	}
	return nil
}
func (s *sliceStream) Close() error { return nil }

// oaChunk is a chunk whose choices are given, as the OpenAI adapter delivers it.
func oaChunk(choices string) clearbar.Chunk {
	c := clearbar.Chunk{Data: []byte(`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":` + choices + `}`)}
	var parsed []struct {
		Delta        struct{ Content string }
		FinishReason string `json:"finish_reason"`
	}
	json.Unmarshal([]byte(choices), &parsed)
	if len(parsed) > 0 {
		c.Text, c.FinishReason = parsed[0].Delta.Content, parsed[0].FinishReason
	}
	return c
}

// TestBlankChunks: what a chunk must carry to commit a stream. A role, empty content and
// null fields are nothing the client needs before the answer; content, a refusal, a tool call,
// any choice's finish reason and usage are.
func TestBlankChunks(t *testing.T) {
	u := clearbar.Usage{PromptTokens: 1}
	tests := []struct {
		explanation string
		chunk       clearbar.Chunk
		blank       bool
	}{
		{"the role-only chunk", oaChunk(`[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]`), true},
		{"role, null content and refusal", oaChunk(`[{"index":0,"delta":{"role":"assistant","content":null,"refusal":null}}]`), true},
		{"an empty delta", oaChunk(`[{"index":0,"delta":{}}]`), true},
		{"no choices and no usage", oaChunk(`[]`), true},
		{"content", oaChunk(`[{"index":0,"delta":{"content":"Hi"}}]`), false},
		{"a refusal", oaChunk(`[{"index":0,"delta":{"refusal":"I can't"}}]`), false},
		{"a tool call", oaChunk(`[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]}}]`), false},
		{"a finish reason", oaChunk(`[{"index":0,"delta":{},"finish_reason":"stop"}]`), false},
		{"the second choice's content", oaChunk(`[{"index":0,"delta":{"role":"assistant"}},{"index":1,"delta":{"content":"x"}}]`), false},
		{"the second choice's finish", oaChunk(`[{"index":0,"delta":{}},{"index":1,"delta":{},"finish_reason":"length"}]`), false},
		{"usage", clearbar.Chunk{Data: []byte(`{"choices":[],"usage":{"prompt_tokens":1}}`), Usage: &u}, false},
	}
	for _, tt := range tests {
		if got := blank(&tt.chunk); got != tt.blank {
			t.Errorf("%s: blank %v, want %v", tt.explanation, got, tt.blank)
		}
	}
}

// TestAwaitAnswer: the blank chunks before the answer are held, in order and intact although
// the upstream reuses its buffer, and replayed before it; a stream that fails after them has
// sent nothing; one that ends cleanly after them is relayed as it is; and past maxHeld the
// stream is relayed as it is.
func TestAwaitAnswer(t *testing.T) {
	role := oaChunk(`[{"index":0,"delta":{"role":"assistant","content":""}}]`)
	empty := oaChunk(`[{"index":0,"delta":{}}]`)
	hi := oaChunk(`[{"index":0,"delta":{"content":"Hi"}}]`)
	stop := oaChunk(`[{"index":0,"delta":{},"finish_reason":"stop"}]`)
	cut := &clearbar.Error{Class: clearbar.StreamCut, Message: "cut"}
	many := make([]clearbar.Chunk, 0, 2000)
	for range cap(many) - 1 {
		many = append(many, role)
	}
	many = append(many, hi)
	tests := []struct {
		explanation string
		chunks      []clearbar.Chunk
		err         error
		answered    bool
	}{
		{"content first: nothing held", []clearbar.Chunk{hi, stop}, nil, true},
		{"role, empty delta, then content", []clearbar.Chunk{role, empty, hi, stop}, nil, true},
		{"role, then a cut", []clearbar.Chunk{role}, cut, false},
		{"role, empty delta, then a cut", []clearbar.Chunk{role, empty}, cut, false},
		{"role, then a clean end", []clearbar.Chunk{role}, nil, true},
		{"nothing at all", nil, nil, false},
		{"blank chunks past maxHeld", many, nil, true},
	}
	for _, tt := range tests {
		var want []string
		for _, c := range tt.chunks {
			want = append(want, string(c.Data))
		}
		r := &run{}
		up := &sliceStream{chunks: tt.chunks, err: tt.err, buf: make([]byte, 0, 1<<10)}
		s, answered := r.awaitAnswer(up)
		if answered != tt.answered {
			t.Errorf("%s: answered %v, want %v", tt.explanation, answered, tt.answered)
			continue
		}
		if !answered {
			if s.Err() != tt.err {
				t.Errorf("%s: error %v, want %v", tt.explanation, s.Err(), tt.err)
			}
			r.releaseScratch()
			continue
		}
		var got []string
		for {
			got = append(got, string(s.Chunk().Data))
			if !s.Next() {
				break
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") || s.Err() != nil {
			t.Errorf("%s: relayed %d chunks (err %v), want the %d sent, in order", tt.explanation, len(got), s.Err(), len(want))
		}
		if tt.explanation == "blank chunks past maxHeld" {
			if held := len(r.held.sc.ends); held == 0 || held == len(many)-1 {
				t.Errorf("%s: %d chunks held, want fewer than the %d blank ones", tt.explanation, held, len(many)-1)
			}
		}
		r.releaseScratch()
	}
}
