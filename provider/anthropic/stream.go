package anthropic

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider/internal/inflight"
	"github.com/clearbar/clearbar/sse"
	"github.com/clearbar/clearbar/translate"
)

// stream is a streamed answer being read: Anthropic events in, OpenAI chunks out. One event
// may make several chunks (message_stop: none but the usage chunk; a tool_use block start:
// one), so the chunks of the last event are queued. Next, Chunk and Err belong to one
// goroutine; Close may also be called from another one to abort a blocked Next.
type stream struct {
	a       *attempt
	resp    *http.Response
	events  *sse.Reader
	tr      translate.OpenAIChunks
	queue   []clearbar.Chunk
	next    int
	chunk   clearbar.Chunk
	err     error
	done    bool
	closed  atomic.Bool
	release sync.Once
}

func newStream(a *attempt, resp *http.Response) *stream {
	s := &stream{a: a, resp: resp, events: sse.NewReader(resp.Body)}
	s.tr.Created = a.p.now().Unix()
	return s
}

// Next advances to the next chunk. See Provider.Stream for how a stream fails.
func (s *stream) Next() bool {
	if s.done || s.closed.Load() {
		return false
	}
	for {
		if s.next < len(s.queue) {
			if e := s.a.FirstChunk(); e != nil {
				return s.fail(e)
			}
			s.chunk = s.queue[s.next]
			s.next++
			return true
		}
		if s.tr.Done() {
			s.done = true
			s.drain()
			s.end()
			s.chunk = clearbar.Chunk{}
			return false
		}
		if !s.events.Next() {
			return s.fail(s.readFailure(s.events.Err()))
		}
		ev := s.events.Event()
		chunks, err := s.tr.Event(ev.Type, ev.Data)
		if err != nil {
			return s.fail(s.eventError(err, ev.Data))
		}
		s.queue, s.next = chunks, 0
	}
}

// eventError decorates a translation error with the call's names, redacting its message.
func (s *stream) eventError(err error, data []byte) *clearbar.Error {
	e := clearbar.AsError(err)
	out := s.a.Fail(e.Class, s.resp.StatusCode, inflight.Truncate(s.a.p.redact(e.Message), maxMessage), errors.New(inflight.Truncate(s.a.p.redact(string(data)), 512)))
	out.Type = e.Type
	return out
}

// readFailure classifies the end of the event stream before message_stop.
func (s *stream) readFailure(err error) *clearbar.Error {
	if e := s.a.CtxFailure(); e != nil {
		return e
	}
	if s.closed.Load() {
		// Close ran on another goroutine: the read failed because the body was closed.
		return s.a.Fail(clearbar.Canceled, 0, "the stream was closed before its end", context.Canceled)
	}
	status := s.resp.StatusCode
	switch {
	case err == nil:
		return s.a.Fail(clearbar.StreamCut, status, "the stream ended without message_stop", nil)
	case errors.Is(err, sse.ErrUnterminated):
		return s.a.Fail(clearbar.StreamCut, status, "the stream ended inside an event", err)
	case errors.Is(err, sse.ErrTooLong):
		return s.a.Fail(clearbar.BadResponse, status, "a stream event is longer than 32 MiB", err)
	}
	reason, _ := inflight.ConnReason(err)
	return s.a.Fail(clearbar.StreamCut, status, "the stream broke off: "+reason, err)
}

func (s *stream) fail(e *clearbar.Error) bool {
	s.err, s.done = error(e), true
	s.chunk = clearbar.Chunk{}
	s.end()
	return false
}

// drain reads what follows message_stop (normally only the end of the chunked body), so that
// the connection can be reused; at most 64 KiB and 100ms.
func (s *stream) drain() {
	t := time.AfterFunc(100*time.Millisecond, func() { s.resp.Body.Close() })
	io.Copy(io.Discard, io.LimitReader(s.resp.Body, 64<<10))
	t.Stop()
}

// end ends the call and closes the body, once. The call is ended first, so that a Next
// blocked on another goroutine that sees the body closed finds the call released (Canceled),
// not a broken stream.
func (s *stream) end() {
	s.release.Do(func() {
		s.a.End()
		s.resp.Body.Close()
	})
}

// Chunk returns the chunk Next advanced to; its Data is valid until the next call to Next.
func (s *stream) Chunk() *clearbar.Chunk { return &s.chunk }

// Err returns the error that ended the stream, nil after message_stop or before the end.
func (s *stream) Err() error { return s.err }

// UpstreamRequestID returns the upstream's request-id header. It is an optional capability:
// callers find it by type assertion on the clearbar.Stream.
func (s *stream) UpstreamRequestID() string { return s.resp.Header.Get("Request-Id") }

// Close releases the connection. It may be called at any time and more than once; a Next
// blocked on another goroutine then returns false with a Canceled error.
func (s *stream) Close() error {
	s.closed.Store(true)
	s.end()
	return nil
}

var (
	_ clearbar.Stream                         = (*stream)(nil)
	_ interface{ UpstreamRequestID() string } = (*stream)(nil)
)
