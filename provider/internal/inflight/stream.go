package inflight

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/sse"
)

// Stream is what every adapter's streamed answer keeps besides its parser: the call, the
// answer, the chunk Next advanced to, how the stream ended, and its release. An adapter's
// stream embeds it and implements Next; Chunk, Err and Close come from here. Next, Chunk and
// Err belong to one goroutine; Close may also be called from another one to abort a blocked
// Next, which then ends as Canceled.
type Stream struct {
	// Attempt is the call, Resp its answer (a 2xx event stream).
	Attempt *Attempt
	Resp    *http.Response
	// Current is the chunk Next advanced to.
	Current clearbar.Chunk

	err     error
	done    bool
	closed  atomic.Bool
	release sync.Once
}

// Init starts a stream on the call's answer.
func (s *Stream) Init(a *Attempt, resp *http.Response) { s.Attempt, s.Resp = a, resp }

// Over reports whether the stream has ended (its last event, a failure, or Close): Next
// returns false at once. A stream closed before its end has failed Canceled, whether Close
// ran while a Next was blocked reading or before the next call of Next: a closed stream never
// reads as one that ended cleanly.
func (s *Stream) Over() bool {
	if !s.done && s.closed.Load() {
		s.Fail(s.Attempt.Fail(clearbar.Canceled, 0, "the stream was closed before its end", context.Canceled))
	}
	return s.done
}

// Fail ends the stream with e and releases the call; it returns false, for Next to return.
func (s *Stream) Fail(e *clearbar.Error) bool {
	s.err, s.done = error(e), true
	s.Current = clearbar.Chunk{}
	s.End()
	return false
}

// Finish ends a stream whose last event arrived: it drains what follows and releases the call.
func (s *Stream) Finish() {
	s.done = true
	s.drain()
	s.End()
}

// drain reads what follows the last event (normally nothing but the end of the chunked body),
// so that an HTTP/1.1 connection goes back to the pool instead of being closed. It reads at
// most 64 KiB and waits at most 100ms: an upstream that keeps the body open after its last
// event loses its connection instead of holding the answer back.
func (s *Stream) drain() {
	t := time.AfterFunc(100*time.Millisecond, func() { s.Resp.Body.Close() })
	io.Copy(io.Discard, io.LimitReader(s.Resp.Body, 64<<10))
	t.Stop()
}

// End ends the call and closes the body, once. The call is ended first, so that a Next
// blocked on another goroutine that sees the body closed finds the call released (Canceled),
// not a broken stream.
func (s *Stream) End() {
	s.release.Do(func() {
		s.Attempt.End()
		s.Resp.Body.Close()
	})
}

// Chunk returns the chunk Next advanced to; its Data is valid until the next call to Next.
func (s *Stream) Chunk() *clearbar.Chunk { return &s.Current }

// Err returns the error that ended the stream, nil after its last event or before the end.
func (s *Stream) Err() error { return s.err }

// Close releases the connection. It may be called at any time and more than once; a Next
// blocked on another goroutine then returns false with a Canceled error.
func (s *Stream) Close() error {
	s.closed.Store(true)
	s.End()
	return nil
}

// ReadFailure classifies the end of the event stream before its last event: the call's own
// end or a Close decide first; then a clean end of the body is a StreamCut saying what was
// missing ("the stream ended without [DONE]"), an event cut short a StreamCut, an event over
// the reader's limit a BadResponse, and a broken connection a StreamCut naming the failure.
func (s *Stream) ReadFailure(err error, endedWithout string) *clearbar.Error {
	a := s.Attempt
	if e := a.CtxFailure(); e != nil {
		return e
	}
	if s.closed.Load() {
		// Close ran on another goroutine: the read failed because the body was closed.
		return a.Fail(clearbar.Canceled, 0, "the stream was closed before its end", context.Canceled)
	}
	status := s.Resp.StatusCode
	switch {
	case err == nil:
		return a.Fail(clearbar.StreamCut, status, endedWithout, nil)
	case errors.Is(err, sse.ErrUnterminated):
		return a.Fail(clearbar.StreamCut, status, "the stream ended inside an event", err)
	case errors.Is(err, sse.ErrTooLong):
		return a.Fail(clearbar.BadResponse, status, "a stream event is longer than 32 MiB", err)
	}
	reason, _ := ConnReason(err)
	return a.Fail(clearbar.StreamCut, status, "the stream broke off: "+reason, err)
}
