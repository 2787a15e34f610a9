package loadtest

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// MockUpstream is an OpenAI-compatible upstream for load tests: POST /v1/chat/completions
// answers a small, realistic chat.completion (about 600 bytes, with usage), or, when the
// request has "stream": true, a server-sent event stream shaped like OpenAI's: a role chunk,
// Chunks content chunks, a finish chunk, a usage chunk when the request asks for
// stream_options.include_usage, and data: [DONE].
//
// The whole request body is read before anything is written: an upstream that answers before
// the body has reached it makes an HTTP/1 reverse proxy in front of it cut a share of its
// answers short (golang/go#40747), which would be measured as the proxy's failure.
//
// A MockUpstream is an http.Handler, safe for concurrent use; its fields must not change
// while it serves.
type MockUpstream struct {
	// Delay is waited before the answer, or before a stream's first chunk (time to first
	// token).
	Delay time.Duration
	// Chunks is the number of content chunks in a stream; 0 means 16.
	Chunks int
	// ChunkDelay is waited between two chunks of a stream.
	ChunkDelay time.Duration

	ids atomic.Uint64
}

// DefaultChunks is a stream's number of content chunks when MockUpstream.Chunks is 0.
const DefaultChunks = 16

// StreamEvents is the number of data events a stream of n content chunks has, [DONE] included,
// when the request asked for usage: role chunk, n content chunks, finish chunk, usage chunk,
// [DONE].
func StreamEvents(n int) int {
	if n <= 0 {
		n = DefaultChunks
	}
	return n + 4
}

const (
	mockModel       = "gpt-4o-mini-2024-07-18"
	mockFingerprint = "fp_560af6e559"
	mockCreated     = "1764244800"
	mockAnswer      = "Your order #48213 left our warehouse on Monday and is with the carrier; the tracking page updates once it reaches the local depot, usually within a day."
)

// ServeHTTP implements http.Handler.
func (m *MockUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":{"message":"unknown endpoint","type":"invalid_request_error","code":"unknown_url"}}`)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "reading the body failed", http.StatusBadRequest)
		return
	}
	id := m.ids.Add(1)
	if jsonBool(body, "stream") {
		m.stream(w, id, bytes.Contains(body, []byte(`"include_usage":true`)))
		return
	}
	if m.Delay > 0 {
		time.Sleep(m.Delay)
	}
	b := make([]byte, 0, 768)
	b = append(b, `{"id":"chatcmpl-`...)
	b = appendID(b, id)
	b = append(b, `","object":"chat.completion","created":`+mockCreated+`,"model":"`+mockModel+`","choices":[{"index":0,"message":{"role":"assistant","content":"`+mockAnswer+`","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":57,"completion_tokens":33,"total_tokens":90,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"`+mockFingerprint+`"}`...)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-Request-Id", "req_mock"+strconv.FormatUint(id, 10))
	w.Write(b)
}

// streamWords are the content chunks' texts, cycled.
var streamWords = []string{"Your ", "order ", "left ", "our ", "warehouse ", "on ", "Monday ", "and ", "is ", "with ", "the ", "carrier; ", "tracking ", "updates ", "within ", "a ", "day."}

func (m *MockUpstream) stream(w http.ResponseWriter, id uint64, usage bool) {
	n := m.Chunks
	if n <= 0 {
		n = DefaultChunks
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Request-Id", "req_mock"+strconv.FormatUint(id, 10))
	if m.Delay > 0 {
		time.Sleep(m.Delay)
	}
	b := make([]byte, 0, 512)
	chunk := func(delta, finish string, tail string) {
		b = append(b[:0], `data: {"id":"chatcmpl-`...)
		b = appendID(b, id)
		b = append(b, `","object":"chat.completion.chunk","created":`+mockCreated+`,"model":"`+mockModel+`","service_tier":"default","system_fingerprint":"`+mockFingerprint+`","choices":[{"index":0,"delta":`...)
		b = append(b, delta...)
		b = append(b, `,"logprobs":null,"finish_reason":`...)
		b = append(b, finish...)
		b = append(b, `}]`...)
		b = append(b, tail...)
		b = append(b, "}\n\n"...)
		w.Write(b)
		rc.Flush()
	}
	nullUsage := ""
	if usage {
		nullUsage = `,"usage":null`
	}
	chunk(`{"role":"assistant","content":"","refusal":null}`, "null", nullUsage)
	for i := range n {
		if m.ChunkDelay > 0 {
			time.Sleep(m.ChunkDelay)
		}
		chunk(`{"content":"`+streamWords[i%len(streamWords)]+`"}`, "null", nullUsage)
	}
	chunk(`{}`, `"stop"`, nullUsage)
	if usage {
		b = append(b[:0], `data: {"id":"chatcmpl-`...)
		b = appendID(b, id)
		b = append(b, `","object":"chat.completion.chunk","created":`+mockCreated+`,"model":"`+mockModel+`","service_tier":"default","system_fingerprint":"`+mockFingerprint+`","choices":[],"usage":{"prompt_tokens":57,"completion_tokens":`...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, `,"total_tokens":`...)
		b = strconv.AppendInt(b, int64(57+n), 10)
		b = append(b, `,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}`+"\n\n"...)
		w.Write(b)
	}
	io.WriteString(w, "data: [DONE]\n\n")
	rc.Flush()
}

// appendID appends a chat completion id's 20-character suffix.
func appendID(b []byte, id uint64) []byte {
	s := strconv.FormatUint(id, 36)
	for i := len(s); i < 20; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// jsonBool reports whether the top-level-looking key has the value true: it finds `"key"`,
// skips spaces and the colon and looks for true. It is enough for the request bodies the
// harness and Clearbar send, and costs nothing next to a JSON decoder.
func jsonBool(body []byte, key string) bool {
	k := []byte(`"` + key + `"`)
	for {
		i := bytes.Index(body, k)
		if i < 0 {
			return false
		}
		rest := bytes.TrimLeft(body[i+len(k):], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			rest = bytes.TrimLeft(rest[1:], " \t\r\n")
			return bytes.HasPrefix(rest, []byte("true"))
		}
		body = body[i+len(k):]
	}
}
