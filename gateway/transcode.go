package gateway

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar/sse"
)

// transcoder is the http.ResponseWriter the chat pipeline writes to on behalf of a client of
// another API (anthropicWriter for /v1/messages, responsesWriter for /v1/responses). The
// pipeline writes OpenAI: either a chat.completion JSON body, or a text/event-stream of
// chat.completion.chunk data events ending with [DONE] or with an error event. A JSON body is
// kept back (status, body) for the handler to translate once the pipeline returns. An event
// stream is passed through: its status and headers go to the client at once (begin starts the
// transcoding on the client's SSE writer), and each complete event is read as soon as it is
// written (see event): its chunks go to chunk, its end to end, its keep-alive comments to ping.
// A writer of the client's that fails sets err, and writes stop.
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
	// data is one event's data, reused.
	data []byte

	// begin starts the transcoding on the client's writer, and sets chunk, end and ping: the
	// client's API's way to write a chunk, the end of the stream and a keep-alive.
	begin     func(out *sse.Writer)
	chunk     func(data []byte) error
	end, ping func() error
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
		t.event(t.partial[:i])
		n := copy(t.partial, t.partial[i+2:])
		t.partial = t.partial[:n]
	}
	if t.err != nil {
		return 0, t.err
	}
	return len(p), nil
}

// event transcodes one event of the pipeline's stream (its lines, without the blank line): a
// keep-alive comment goes to ping, [DONE] to end and a chunk to chunk; an error event is kept
// back (failed, failMsg) for the handler, which ends the client's stream from the pipeline's
// error.
func (t *transcoder) event(ev []byte) {
	data := t.data[:0]
	lines, comment := 0, false
	for len(ev) > 0 {
		line := ev
		if i := bytes.IndexByte(ev, '\n'); i >= 0 {
			line, ev = ev[:i], ev[i+1:]
		} else {
			ev = nil
		}
		switch {
		case len(line) > 0 && line[0] == ':':
			comment = true
		case bytes.HasPrefix(line, []byte("data:")):
			if lines > 0 {
				data = append(data, '\n')
			}
			data = append(data, bytes.TrimPrefix(line[len("data:"):], []byte(" "))...)
			lines++
		}
	}
	t.data = data
	switch {
	case lines == 0 && comment:
		t.err = t.ping()
	case lines == 0:
	case string(data) == "[DONE]":
		t.err = t.end()
	case gjson.GetBytes(data, "error").Exists():
		t.failed = true
		t.failMsg = gjson.GetBytes(data, "error.message").String()
	default:
		t.err = t.chunk(data)
	}
}

// FlushError is what http.ResponseController calls to flush: every transcoded event is flushed
// as it is written, so there is nothing left but to report a client that went away.
func (t *transcoder) FlushError() error { return t.err }

var (
	_ http.ResponseWriter             = (*transcoder)(nil)
	_ interface{ FlushError() error } = (*transcoder)(nil)
)
