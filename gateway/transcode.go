package gateway

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/clearbar/clearbar/sse"
)

// transcoder is the http.ResponseWriter the chat pipeline writes to on behalf of a client of
// another API (anthropicWriter for /v1/messages, responsesWriter for /v1/responses). The
// pipeline writes OpenAI: either a chat.completion JSON body, or a text/event-stream of
// chat.completion.chunk data events ending with [DONE] or with an error event. A JSON body is
// kept back (status, body) for the handler to translate once the pipeline returns. An event
// stream is passed through: its status and headers go to the client at once (begin starts the
// transcoding on the client's SSE writer), and each complete event is handed to onEvent as soon
// as it is written. A writer of the client's that fails sets err, and writes stop.
type transcoder struct {
	w http.ResponseWriter
	// status is the status of a kept-back answer, body the answer.
	status int
	body   bytes.Buffer
	// passed says the answer is an event stream whose status went to the client.
	passed  bool
	out     *sse.Writer
	partial []byte
	// failed says the pipeline wrote an error event; failMsg is its message.
	failed  bool
	failMsg string
	// err is the first error writing to the client: the client went away.
	err error

	begin   func(out *sse.Writer)
	onEvent func(ev []byte)
}

func (t *transcoder) Header() http.Header { return t.w.Header() }

// WriteHeader passes the status of an event stream through and keeps any other back.
func (t *transcoder) WriteHeader(code int) {
	if t.passed || t.status != 0 {
		return
	}
	if ct := t.w.Header().Get("Content-Type"); code == http.StatusOK && strings.HasPrefix(ct, "text/event-stream") {
		t.passed = true
		t.w.WriteHeader(code)
		t.out = sse.NewWriter(t.w)
		t.begin(t.out)
		return
	}
	t.status = code
}

// Write keeps a JSON body back, or hands the complete events of a stream to onEvent. After the
// client went away it returns that error, so that the pipeline stops.
func (t *transcoder) Write(p []byte) (int, error) {
	if !t.passed && t.status == 0 {
		t.WriteHeader(http.StatusOK)
	}
	if !t.passed {
		return t.body.Write(p)
	}
	if t.err != nil {
		return 0, t.err
	}
	t.partial = append(t.partial, p...)
	for t.err == nil {
		i := bytes.Index(t.partial, []byte("\n\n"))
		if i < 0 {
			break
		}
		t.onEvent(t.partial[:i])
		n := copy(t.partial, t.partial[i+2:])
		t.partial = t.partial[:n]
	}
	if t.err != nil {
		return 0, t.err
	}
	return len(p), nil
}

// FlushError is what http.ResponseController calls to flush: every transcoded event is flushed
// as it is written, so there is nothing left but to report a client that went away.
func (t *transcoder) FlushError() error { return t.err }

var (
	_ http.ResponseWriter             = (*transcoder)(nil)
	_ interface{ FlushError() error } = (*transcoder)(nil)
)
