package anthropic

import (
	"errors"
	"net/http"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/provider/internal/inflight"
	"github.com/clearbar/clearbar/sse"
	"github.com/clearbar/clearbar/translate"
)

// stream is a streamed answer being read: Anthropic events in, OpenAI chunks out. One event
// may make several chunks (message_stop: none but the usage chunk; a tool_use block start:
// one), so the chunks of the last event are queued. Next, Chunk and Err belong to one
// goroutine; Close may also be called from another one to abort a blocked Next.
type stream struct {
	inflight.Stream
	a      *attempt
	events *sse.Reader
	tr     translate.OpenAIChunks
	queue  []clearbar.Chunk
	next   int
}

func newStream(a *attempt, resp *http.Response, ac translate.AnthropicCall) *stream {
	s := &stream{a: a, events: sse.NewReader(resp.Body)}
	s.Init(a.Attempt, resp)
	s.tr.Created, s.tr.Native, s.tr.Functions = a.p.now().Unix(), ac.Native, ac.Functions
	return s
}

// Next advances to the next chunk. See Provider.Stream for how a stream fails.
func (s *stream) Next() bool {
	if s.Over() {
		return false
	}
	for {
		if s.next < len(s.queue) {
			if e := s.a.FirstChunk(); e != nil {
				return s.Fail(e)
			}
			s.Current = s.queue[s.next]
			s.next++
			return true
		}
		if s.tr.Done() {
			s.Finish()
			s.Current = clearbar.Chunk{}
			return false
		}
		if !s.events.Next() {
			return s.Fail(s.ReadFailure(s.events.Err(), "the stream ended without message_stop"))
		}
		ev := s.events.Event()
		chunks, err := s.tr.Event(ev.Type, ev.Data)
		if err != nil {
			if jerr := jsonguard.Check(ev.Data); jerr == jsonguard.ErrTooDeep {
				// Refused by the translation before any recursive parser read it.
				return s.Fail(s.a.Fail(clearbar.BadResponse, s.Resp.StatusCode, jsonguard.Describe(jerr, "a stream event"), nil))
			}
			return s.Fail(s.eventError(err, ev.Data))
		}
		s.queue, s.next = chunks, 0
	}
}

// eventError decorates a translation error with the call's names, redacting its message.
func (s *stream) eventError(err error, data []byte) *clearbar.Error {
	e := clearbar.AsError(err)
	out := s.a.Fail(e.Class, s.Resp.StatusCode, inflight.Truncate(s.a.p.redact(e.Message), maxMessage), errors.New(inflight.Truncate(s.a.p.redact(inflight.Truncate(string(data), 4096)), 512)))
	out.Type = e.Type
	return out
}

// UpstreamRequestID returns the upstream's request-id header. It is an optional capability:
// callers find it by type assertion on the clearbar.Stream.
func (s *stream) UpstreamRequestID() string { return s.Resp.Header.Get("Request-Id") }

var (
	_ clearbar.Stream                         = (*stream)(nil)
	_ interface{ UpstreamRequestID() string } = (*stream)(nil)
)
