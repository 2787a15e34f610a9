package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/sse"
)

// stream runs a streaming request. Attempts are made until one stream delivers its first
// chunk that carries some of the answer (content, a tool call, a finish reason or usage):
// until then nothing has reached the client, so failures fall back transparently. Blank chunks
// before it (the role-only chunk that opens an OpenAI stream) are held back meanwhile (see
// awaitAnswer). From the first chunk sent on the answer is committed; a failure after it ends
// the stream with an explicit error event, never with a clean end of a truncated answer.
//
// A step with validators is buffered: the whole answer is read and validated before its first
// byte is sent, so that a failed answer can still escalate. Its time to first byte is then the
// whole answer's time plus validation, which the decision records. When every step fails
// validation and the route delivers the last answer flagged, that answer is sent as it came,
// chunk by chunk, as an accepted one would be.
//
// While no content byte has gone out the keepalive may commit the stream and send pings (see
// keepalive): attempts still fall back as before, but a failure then ends the stream with an
// error event (failed).
func (r *run) stream(ctx context.Context, w http.ResponseWriter, start time.Time) (status int, err error) {
	r.ka.start(w, r.g.streamKeepalive, r.d)
	defer r.ka.stop()
	defer r.releaseScratch()
steps:
	for si, st := range r.plan.Steps {
		qualityRetried := false
		validated := len(st.Validate) > 0 && r.g.checker != nil
		for ci := 0; ci < len(st.Candidates); ci++ {
			m := st.Candidates[ci]
			prov := r.g.providers[m.Provider.Name]
			retries := 0
			for {
				retried := retries > 0 || qualityRetried && ci == 0
				a, done := r.begin(&st, si, ci, retried, 0)
				if a == nil {
					break // breaker open: fail over
				}
				cctx, cancel := r.g.callContext(ctx, m)
				s, err := prov.Stream(cctx, r.call(m, true))
				var usage clearbar.Usage
				estimated := false
				if err == nil {
					// The upstream's request id, for support tickets, as a complete answer's.
					if id, ok := s.(interface{ UpstreamRequestID() string }); ok {
						a.UpstreamRequestID = id.UpstreamRequestID()
					}
					rs, _ := s.(recordedStream)
					s = &argsGuard{Stream: s}
					var answered bool
					if s, answered = r.awaitAnswer(s); answered {
						a.TTFT = r.g.now().Sub(a.Start)
						if !validated {
							status, err := r.relay(ctx, w, s, a, m, func(u clearbar.Usage, estimated bool, err error) {
								r.finish(a, m, u, err, done)
								a.UsageEstimated = estimated
								if err == nil && !estimated {
									recordedStreamUsage(a, rs)
								}
							}, start)
							cancel()
							return status, err
						}
						buf, berr := bufferStream(s)
						usage = buf.usage
						if berr == nil {
							cancel()
							if usage.IsZero() {
								usage, estimated = r.estimatedUsage(usage, buf.sent)
							}
							r.finish(a, m, usage, nil, done)
							a.UsageEstimated = estimated
							if !estimated {
								recordedStreamUsage(a, rs)
							}
							nx := r.judge(ctx, a, buf.response(), st, &qualityRetried)
							if r.flagged != nil && r.flaggedAttempt == a.N {
								r.flaggedStream = buf // the stream of the answer judge flagged
							}
							switch nx {
							case nextAccept:
								r.flushPending()
								a = &r.d.Attempts[a.N-1]
								return r.relay(ctx, w, buf, a, m, recorded, start)
							case nextRetry:
								a.Outcome = "retried after failed validation"
								r.flushPending()
								continue
							default:
								a.Outcome = "escalated after failed validation"
								r.flushPending()
								continue steps
							}
						}
						err = berr
						if buf.sent > 0 {
							// Part of the answer arrived before the failure: the upstream bills
							// it, as it does a relayed stream's cut.
							usage, estimated = r.estimatedUsage(usage, buf.sent)
						}
					} else {
						err = s.Err()
						if err == nil {
							err = &clearbar.Error{Class: clearbar.BadResponse, Message: "the upstream stream ended without a chunk"}
						}
						s.Close()
					}
				}
				cancel()
				if ctx.Err() != nil {
					err = ctxError(ctx, err)
				}
				r.finish(a, m, usage, err, done)
				a.UsageEstimated = estimated
				nx, ferr := r.afterFailure(ctx, m, r.retriesOpen(si, ci), err, retries)
				switch nx {
				case nextRetry:
					a.Outcome = "retried"
					retries++
					continue
				case nextFail:
					a.Outcome = "failed"
					return r.failed(w, r.failure(ferr))
				case nextStop:
					a.Outcome = outcomeOutOfTime
					break steps
				}
				a.Outcome = outcomeFellBack
				break
			}
		}
	}
	if r.flagged != nil && !r.plan.FailWhenExhausted {
		// Every step failed validation: the last answer goes out, flagged, as the route says.
		r.exhausted()
		a := &r.d.Attempts[r.flaggedAttempt-1]
		return r.relay(ctx, w, r.flaggedStream, a, r.g.spec.Model(a.Model), recorded, start)
	}
	_, err = r.exhausted()
	return r.failed(w, err)
}

// recorded is relay's finish for a buffered answer: its attempt was completed when the answer
// was read, before validation.
func recorded(clearbar.Usage, bool, error) {}

// failed ends a stream that failed before its first content byte. Usually nothing has been
// written, and the caller answers with the error's status. When keep-alive pings committed
// the stream, the status is gone: the stream ends with the error as an OpenAI-shaped error
// event, never [DONE], and the decision headers that were still unknown go in the trailers.
func (r *run) failed(w http.ResponseWriter, err error) (int, error) {
	if !r.ka.stop() {
		return 0, err
	}
	e := clearbar.AsError(err)
	if e.Class != clearbar.Canceled || isShutdownCut(e) {
		sse.NewWriter(w).WriteData(errorJSON(e, statusFor(e)))
		r.d.Reason += "; keep-alive pings had already sent the status, so the stream ended with an error event"
	}
	r.trailers(w.Header())
	return http.StatusOK, err
}

// trailers sets the decision headers of a stream the keepalive committed: declared as
// trailers then (committedTrailer), they are sent after the body.
func (r *run) trailers(h http.Header) {
	r.g.decisionHeaders(h, r.d)
	h.Set(headerCost, r.totalCost().Decimal())
}

// buffered is a stream read to its end before validation, replayed as a clearbar.Stream.
type buffered struct {
	chunks [][]byte
	texts  []string // each chunk's text; the answer's is their concatenation (response)
	i      int
	cur    clearbar.Chunk
	usage  clearbar.Usage
	finish string
	calls  map[int]*bufferedCall
	order  []int
	// size is the bytes held, at most maxBuffered: the chunks, their text and the tool calls'
	// reassembled arguments.
	size int
	// sent is the bytes of content, reasoning and tool-call arguments, counted as relay counts them.
	sent int
}

// bufferedCall is a tool call reassembled from its fragments.
type bufferedCall struct {
	id, name string
	args     strings.Builder
}

// maxBuffered bounds the bytes a stream buffered for validation holds (its chunks, their text
// and its tool calls' arguments): 64 MiB, the bound provider/internal/inflight.MaxAnswer puts
// on an answer that is not streamed.
const maxBuffered = 64 << 20

// maxStreamCalls bounds the tool calls (a choice's call indexes) a stream's answer may make:
// each is tracked apart (argsGuard, bufferStream), and no real answer makes a thousand.
const maxStreamCalls = 1024

// errTooManyCalls is the failure of a stream whose answer makes more than maxStreamCalls
// tool calls.
func errTooManyCalls() *clearbar.Error {
	return &clearbar.Error{Class: clearbar.BadResponse,
		Message: fmt.Sprintf("the streamed answer makes more than %d tool calls, the most the gateway tracks", maxStreamCalls)}
}

// bufferStream reads the rest of s (whose first chunk is current) into memory. A stream that
// makes the buffer hold more than maxBuffered bytes (its chunks, their text and the tool
// calls' arguments), or more than maxStreamCalls tool calls, fails as BadResponse. The tool
// calls are reassembled from the first choice's delta.tool_calls (firstDelta), or, in a
// stream answering the deprecated functions, from delta.function_call, which is the call at
// index 0.
func bufferStream(s clearbar.Stream) (*buffered, error) {
	defer s.Close()
	b := &buffered{i: -1, calls: map[int]*bufferedCall{}}
	for {
		c := s.Chunk()
		if b.size += len(c.Data) + len(c.Text); b.size > maxBuffered {
			return b, errTooLarge()
		}
		b.chunks = append(b.chunks, append([]byte(nil), c.Data...))
		b.texts = append(b.texts, c.Text)
		b.sent += len(c.Text) + c.Reasoning + toolArgBytes(c)
		if c.FinishReason != "" {
			b.finish = c.FinishReason
		}
		if c.Usage != nil {
			b.usage = *c.Usage
		}
		if mayCall(c) {
			var err *clearbar.Error
			delta := firstDelta(c.Data)
			delta.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
				err = b.addCall(int(tc.Get("index").Int()), tc.Get("id").Str, tc.Get("function.name").Str, tc.Get("function.arguments").Str)
				return err == nil
			})
			if fc := delta.Get("function_call"); fc.IsObject() && err == nil {
				err = b.addCall(0, "", fc.Get("name").Str, fc.Get("arguments").Str)
			}
			if err != nil {
				return b, err
			}
		}
		if !s.Next() {
			break
		}
	}
	return b, s.Err()
}

// firstDelta returns the delta of a chunk's first choice, the one with index 0 (or none):
// the answer validators check, as Chunk.Text is its text. A stream answering n > 1
// interleaves its choices, each with tool calls from index 0.
func firstDelta(data []byte) gjson.Result {
	var delta gjson.Result
	gjson.GetBytes(data, "choices").ForEach(func(_, ch gjson.Result) bool {
		if i := ch.Get("index"); !i.Exists() || i.Int() == 0 {
			delta = ch.Get("delta")
			return false
		}
		return true
	})
	return delta
}

// errTooLarge is the failure of a stream too large to buffer (maxBuffered).
func errTooLarge() *clearbar.Error {
	return &clearbar.Error{Class: clearbar.BadResponse,
		Message: "the streamed answer is larger than 64 MiB, the most the gateway buffers to validate an answer"}
}

// addCall adds a fragment of the call at index idx: its id and name when given, and a piece
// of its arguments, which count towards maxBuffered. It fails past maxStreamCalls calls or
// maxBuffered bytes.
func (b *buffered) addCall(idx int, id, name, args string) *clearbar.Error {
	if b.size += len(args); b.size > maxBuffered {
		return errTooLarge()
	}
	call, ok := b.calls[idx]
	if !ok {
		if len(b.calls) >= maxStreamCalls {
			return errTooManyCalls()
		}
		call = &bufferedCall{}
		b.calls[idx] = call
		b.order = append(b.order, idx)
	}
	if id != "" {
		call.id = id
	}
	if name != "" {
		call.name = name
	}
	call.args.WriteString(args)
	return nil
}

// mayCall reports whether a chunk may carry part of a tool call: whether it holds "tool_calls"
// or "function_call" with their quotes, a member of that name or a string value equal to it
// (a string with those words inside it has its quotes escaped). A false match only costs a
// parse that finds no call.
func mayCall(c *clearbar.Chunk) bool {
	return bytes.Contains(c.Data, []byte(`"tool_calls"`)) || bytes.Contains(c.Data, []byte(`"function_call"`))
}

// response is the buffered answer as validators see it.
func (b *buffered) response() *clearbar.Response {
	ch := clearbar.Choice{Text: strings.Join(b.texts, ""), FinishReason: b.finish}
	for _, i := range b.order {
		c := b.calls[i]
		ch.ToolCalls = append(ch.ToolCalls, clearbar.ToolCall{ID: c.id, Name: c.name, Arguments: c.args.String()})
	}
	return &clearbar.Response{Choices: []clearbar.Choice{ch}, Usage: b.usage, HasUsage: !b.usage.IsZero()}
}

// Next implements clearbar.Stream: the buffer is replayed from its first chunk, which relay
// expects to be current already.
func (b *buffered) Next() bool {
	if b.i+1 >= len(b.chunks) {
		return false
	}
	b.i++
	b.cur = clearbar.Chunk{Data: b.chunks[b.i], Text: b.texts[b.i]}
	if b.i == len(b.chunks)-1 && !b.usage.IsZero() {
		u := b.usage
		b.cur.Usage = &u
	}
	return true
}

func (b *buffered) Chunk() *clearbar.Chunk {
	if b.i < 0 {
		b.Next()
	}
	return &b.cur
}
func (b *buffered) Err() error   { return nil }
func (b *buffered) Close() error { return nil }

// awaitAnswer reads s up to its first chunk that carries some of the answer, holding the
// blank chunks before it (see blank; the role-only chunk that opens an OpenAI stream) in
// memory: until that chunk nothing need reach the client, so that a stream that fails after
// them still falls back transparently. It returns the stream to relay, on its first chunk
// (the held ones are replayed first), or s and false when s failed, or ended without a chunk,
// before any answer: the caller reads the error from s and closes it. A stream that ends
// cleanly after blank chunks, or whose blank chunks pile up past maxHeld, is relayed as it is.
func (r *run) awaitAnswer(s clearbar.Stream) (clearbar.Stream, bool) {
	if !s.Next() {
		return s, false
	}
	if !blank(s.Chunk()) {
		return s, true // the usual first chunk of most providers, and nothing to hold
	}
	sc := r.scratchpad()
	sc.held, sc.ends = sc.held[:0], sc.ends[:0]
	h := &r.held
	*h = heldStream{Stream: s, sc: sc}
	for {
		sc.held = append(sc.held, s.Chunk().Data...)
		sc.ends = append(sc.ends, len(sc.held))
		if !s.Next() {
			if s.Err() != nil {
				return s, false
			}
			h.ended = true
			break
		}
		if !blank(s.Chunk()) || len(sc.held) >= maxHeld {
			break
		}
	}
	h.cur = clearbar.Chunk{Data: sc.chunk(0)}
	return h, true
}

// maxHeld bounds the bytes of blank chunks a stream holds back before its answer.
const maxHeld = 64 << 10

// blank reports whether a chunk carries nothing of the answer: no usage, and in every choice
// no finish reason and a delta with nothing in it but a role and empty or null fields, as in
// the role-only chunk that opens an OpenAI stream.
func blank(c *clearbar.Chunk) bool {
	if c.Text != "" || c.FinishReason != "" || c.Usage != nil {
		return false
	}
	empty := true
	gjson.Get(view(c.Data), "choices").ForEach(func(_, choice gjson.Result) bool {
		choice.ForEach(func(k, v gjson.Result) bool {
			switch k.Str {
			case "delta":
				v.ForEach(func(dk, dv gjson.Result) bool {
					empty = dk.Str == "role" || dv.Type == gjson.Null || dv.Type == gjson.String && dv.Str == ""
					return empty
				})
			case "finish_reason":
				empty = v.Type == gjson.Null || v.Type == gjson.String && v.Str == ""
			}
			return empty
		})
		return empty
	})
	return empty
}

// heldStream is a stream read ahead past its blank leading chunks (awaitAnswer): it replays
// them, then goes on with the upstream's stream, whose current chunk is the first one past
// them (unless the upstream ended there).
type heldStream struct {
	clearbar.Stream // the upstream's; Err and Close are its own
	sc              *streamScratch
	i               int  // the held chunk current; len(sc.ends) once past them
	ended           bool // the upstream ended, cleanly, after the held chunks
	cur             clearbar.Chunk
}

func (h *heldStream) Next() bool {
	switch n := len(h.sc.ends); {
	case h.i+1 < n:
		h.i++
		h.cur = clearbar.Chunk{Data: h.sc.chunk(h.i)}
		return true
	case h.i+1 == n:
		h.i++
		return !h.ended // the upstream's current chunk
	case h.ended:
		return false
	}
	return h.Stream.Next()
}

func (h *heldStream) Chunk() *clearbar.Chunk {
	if h.i < len(h.sc.ends) {
		return &h.cur
	}
	return h.Stream.Chunk()
}

// streamScratch is a stream's memory beyond its upstream's: the blank chunks held back before
// its answer (held, each ending at its offset in ends) and the start of a chunk of the stream
// (head, see appendChunkHead), for a usage chunk of the gateway's. Scratches are recycled, so
// that the usual stream allocates nothing for them.
type streamScratch struct {
	held []byte
	ends []int
	head []byte
}

var scratches = sync.Pool{New: func() any { return new(streamScratch) }}

// chunk returns the ith held chunk.
func (sc *streamScratch) chunk(i int) []byte {
	from := 0
	if i > 0 {
		from = sc.ends[i-1]
	}
	return sc.held[from:sc.ends[i]:sc.ends[i]]
}

// scratchpad returns the run's stream scratch, taken from the pool the first time.
func (r *run) scratchpad() *streamScratch {
	if r.scratch == nil {
		r.scratch = scratches.Get().(*streamScratch)
	}
	return r.scratch
}

// releaseScratch gives the stream scratch back, once the stream is over; one grown past
// maxHeld is left to the collector.
func (r *run) releaseScratch() {
	sc := r.scratch
	if sc == nil {
		return
	}
	r.scratch, r.held = nil, heldStream{}
	if cap(sc.held) <= maxHeld {
		sc.held, sc.ends, sc.head = sc.held[:0], sc.ends[:0], sc.head[:0]
		scratches.Put(sc)
	}
}

// appendChunkHead appends to b the start of a chunk of the stream that data, a chunk, is
// from: {"id":…,"object":"chat.completion.chunk","created":…,"model":…, with data's own id,
// created and model, so that a chunk the gateway adds belongs to the stream (SDK accumulators
// drop a chunk whose id changed).
func appendChunkHead(b, data []byte) []byte {
	var id, created, model gjson.Result
	gjson.Parse(view(data)).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "id":
			id = v
		case "created":
			created = v
		case "model":
			model = v
		}
		return true
	})
	raw := func(v gjson.Result, typ gjson.Type, def string) string {
		if v.Type == typ {
			return v.Raw
		}
		return def
	}
	b = append(b, `{"id":`...)
	b = append(b, raw(id, gjson.String, `""`)...)
	b = append(b, `,"object":"chat.completion.chunk","created":`...)
	b = append(b, raw(created, gjson.Number, `0`)...)
	b = append(b, `,"model":`...)
	b = append(b, raw(model, gjson.String, `""`)...)
	return b
}

// usageChunk is the usage chunk the gateway sends a client that asked for usage when the
// upstream reported none: the stream's head (relay keeps it from the first chunk), no choices,
// and the usage u.
func (r *run) usageChunk(u clearbar.Usage) []byte {
	sc := r.scratchpad()
	b := sc.head
	b = append(b, `,"choices":[],"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(u.PromptTokens), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CompletionTokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(u.Total()), 10)
	b = append(b, "}}"...)
	sc.head = b[:len(sc.head)] // the head, in the buffer grown for the chunk
	return b
}

// view returns b as a string without copying, for reading it with gjson; b must not change
// while the string is used.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// relay sends a stream whose first chunk has arrived to the client: headers, then every
// chunk as it comes, then [DONE], or an error event if the stream is cut mid-way: by the
// upstream, by the request's time running out, or by the gateway shutting down (Cut). A
// client that goes away gets nothing more.
//
// finish completes the attempt with the stream's usage. A stream cut after its answer began
// never reaches the usage the upstream reports at its end, and some upstreams never report it
// (an OpenAI-compatible server that ignores stream_options): the attempt then records the
// prompt's estimated tokens and the output's, estimated from the bytes sent (marked
// estimated), since the upstream bills them; a client that asked for usage gets a usage chunk
// of the estimate, in the stream's id, before [DONE], or, when the stream was cut (by the
// upstream, the request's time or the gateway shutting down), before the error event.
//
// The attempt is accepted when the stream ends whole, unless its outcome is already set (a
// flagged answer delivered keeps saying so).
func (r *run) relay(ctx context.Context, w http.ResponseWriter, s clearbar.Stream, a *clearbar.Attempt, m *spec.Model, finish func(u clearbar.Usage, estimated bool, err error), start time.Time) (int, error) {
	defer s.Close()
	r.d.Model, r.d.Provider = m.Name, m.Provider.Name
	h := w.Header()
	committed := r.ka.stop()
	if !committed {
		r.g.decisionHeaders(h, r.d)
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
		h.Set("Trailer", headerCost)
		w.WriteHeader(http.StatusOK)
	}
	sw := sse.NewWriter(w)
	var usage clearbar.Usage
	reported := false          // a chunk carried the upstream's usage
	head := r.req.IncludeUsage // the first chunk's id, created and model are kept, for a usage chunk
	var text, sent int         // content bytes; content, reasoning and tool-call argument bytes sent
	var werr error
	for {
		c := s.Chunk()
		if c.Usage != nil {
			usage, reported = *c.Usage, true
		}
		if head {
			sc := r.scratchpad()
			sc.head, head = appendChunkHead(sc.head[:0], c.Data), false
		}
		text += len(c.Text)
		if data, ok := r.clientChunk(c); ok {
			if werr = sw.WriteData(data); werr != nil {
				break
			}
			sent += len(c.Text) + c.Reasoning + toolArgBytes(c)
			if r.d.TTFB == 0 {
				r.d.TTFB = r.g.now().Sub(start)
			}
		}
		if !s.Next() {
			break
		}
	}
	r.d.AnswerChars = text
	var err error
	var event *clearbar.Error // the error event that tells the client the answer is incomplete
	estimated := false
	switch {
	case werr != nil:
		// The client went away: not the upstream's fault.
		err = &clearbar.Error{Class: clearbar.Canceled, Message: "the client closed the stream", Err: werr}
	case ctx.Err() != nil:
		err = ctxError(ctx, s.Err())
		switch e := clearbar.AsError(err); {
		case isShutdownCut(e):
			event = &clearbar.Error{Class: e.Class, Status: e.Status, Code: e.Code, Message: "the gateway shut down before the answer finished; the answer is incomplete"}
		case e.Class == clearbar.Canceled:
			err = &clearbar.Error{Class: clearbar.Canceled, Message: "the client closed the stream", Err: err}
		default:
			event = &clearbar.Error{Class: e.Class, Code: "stream_cut", Message: "the request ran out of time (server.request_timeout) after the answer began; the answer is incomplete"}
			if _, own := context.Cause(ctx).(*callTimeout); !own {
				// The request's own budget ended an answer that was arriving: the model was
				// answering, and its breaker is not charged with a failure (see run.finish).
				err = &clearbar.Error{Class: e.Class, Status: e.Status, Code: e.Code, Message: e.Message, Err: errors.Join(errAnswerOutOfTime, err)}
			}
		}
	case s.Err() != nil:
		err = s.Err()
		e := clearbar.AsError(err)
		if usage.IsZero() {
			usage = e.Usage
		}
		if e.Class == clearbar.OK || e.Class == clearbar.Internal {
			e = &clearbar.Error{Class: clearbar.StreamCut, Message: "the upstream stream failed", Err: err}
			err = e
		}
		event = &clearbar.Error{Class: e.Class, Message: "the upstream stream failed after the answer began: " + e.Message, Code: "stream_cut"}
	default:
		if !reported {
			usage, estimated = r.estimatedUsage(usage, sent)
			if r.req.IncludeUsage {
				werr = sw.WriteData(r.usageChunk(usage))
			}
		}
		if werr == nil {
			werr = sw.WriteDone()
		}
	}
	if err != nil && r.d.TTFB > 0 {
		usage, estimated = r.estimatedUsage(usage, sent)
	}
	if event != nil {
		// The answer is committed: tell the client explicitly that it is incomplete. A client
		// that asked for usage gets what the attempt records first, as a complete stream's
		// would: the upstream's usage never came.
		if r.req.IncludeUsage && !reported && !usage.IsZero() {
			sw.WriteData(r.usageChunk(usage))
		}
		status := statusFor(event)
		if !isShutdownCut(event) {
			status = http.StatusBadGateway
		}
		sw.WriteData(errorJSON(event, status))
	}
	finish(usage, estimated, err)
	if err != nil {
		a.Outcome = "cut mid-stream"
		r.d.Reason = "the stream failed after the first byte reached the client; it ended with an error event"
		switch e := clearbar.AsError(err); {
		case isShutdownCut(e):
			r.d.Shutdown = true
			r.d.Reason = "cut: the gateway shut down after the first byte reached the client; the stream ended with an error event"
		case e.Class == clearbar.Canceled:
			a.Outcome = "client went away"
			r.d.Reason = "the client closed the stream"
		}
	} else {
		if a.Outcome == "" {
			a.Outcome = "accepted"
		}
		r.accept(a, m, nil)
		r.d.AnswerChars = text
	}
	if committed {
		r.trailers(h)
	} else if cost := r.totalCost(); cost > 0 || !usage.IsZero() {
		h.Set(headerCost, cost.Decimal())
	}
	return http.StatusOK, err
}

// estimatedUsage completes the usage of a stream the upstream reported none for: one that
// ended after its answer began but before the usage came, or one whose upstream never sends
// it. The prompt's tokens are the gateway's estimate (the features' tokens_in), the output's
// come from the bytes of answer sent (clearbar.TokensOfBytes). It reports whether it estimated
// anything.
func (r *run) estimatedUsage(u clearbar.Usage, sent int) (clearbar.Usage, bool) {
	estimated := false
	if u.PromptTokens == 0 && r.d.Features.TokensIn > 0 {
		u.PromptTokens, estimated = r.d.Features.TokensIn, true
	}
	if u.CompletionTokens == 0 && sent > 0 {
		u.CompletionTokens, estimated = clearbar.TokensOfBytes(sent), true
	}
	return u, estimated
}

// toolArgBytes is the length of the tool-call argument fragments a chunk carries, in
// delta.tool_calls or, answering the deprecated functions, delta.function_call.
func toolArgBytes(c *clearbar.Chunk) int {
	if c.Text != "" || !bytes.Contains(c.Data, []byte(`"arguments"`)) {
		return 0
	}
	delta := gjson.GetBytes(c.Data, "choices.0.delta")
	n := len(delta.Get("function_call.arguments").Str)
	delta.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
		n += len(tc.Get("function.arguments").Str)
		return true
	})
	return n
}

// argsGuard is an upstream's stream that fails, as BadResponse, once the arguments of one of
// its tool calls, added up across their fragments, nest arrays and objects more than
// jsonguard.MaxDepth levels deep, or once it makes more than maxStreamCalls tool calls (each
// is tracked apart). Translators that parse the arguments as they accumulate (an Anthropic
// client's tool_use input) check them with jsonguard first, and refuse what is too deep
// rather than recurse into it; the guard is a second line of defence that fails the stream
// early, at the fragment that goes too deep, with a message that says why. Chunks without
// arguments pass at the cost of one bytes.Contains.
type argsGuard struct {
	clearbar.Stream
	nesting map[callKey]*jsonguard.Nesting
	err     error
}

// callKey names a tool call of a stream: its choice and its index there (a deprecated
// function_call is index -1).
type callKey struct{ choice, call int64 }

func (g *argsGuard) Next() bool {
	if g.err != nil || !g.Stream.Next() {
		return false
	}
	c := g.Stream.Chunk()
	if !bytes.Contains(c.Data, []byte(`"arguments"`)) {
		return true
	}
	deep := false
	gjson.GetBytes(c.Data, "choices").ForEach(func(_, choice gjson.Result) bool {
		i := choice.Get("index").Int()
		delta := choice.Get("delta")
		if fc := delta.Get("function_call.arguments"); fc.Type == gjson.String {
			deep = g.add(callKey{i, -1}, fc.Str)
		}
		delta.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
			deep = deep || g.add(callKey{i, tc.Get("index").Int()}, tc.Get("function.arguments").Str)
			return !deep
		})
		return !deep
	})
	if deep {
		if g.err == nil {
			g.err = &clearbar.Error{Class: clearbar.BadResponse,
				Message: jsonguard.Describe(jsonguard.ErrTooDeep, "a tool call's streamed arguments")}
		}
		return false
	}
	return true
}

// add adds a fragment to the arguments of call k, reporting whether they are now too deep,
// or whether k would be the stream's call past maxStreamCalls (then g.err says so).
func (g *argsGuard) add(k callKey, fragment string) bool {
	if fragment == "" {
		return false
	}
	if g.nesting == nil {
		g.nesting = map[callKey]*jsonguard.Nesting{}
	}
	n := g.nesting[k]
	if n == nil {
		if len(g.nesting) >= maxStreamCalls {
			g.err = errTooManyCalls()
			return true
		}
		n = new(jsonguard.Nesting)
		g.nesting[k] = n
	}
	return n.Add(fragment, jsonguard.MaxDepth)
}

func (g *argsGuard) Err() error {
	if g.err != nil {
		return g.err
	}
	return g.Stream.Err()
}

// clientChunk returns the chunk as the client should see it. The gateway always asks the
// upstream for usage so it can price the answer; a client that did not ask for usage gets no
// usage chunk and no usage fields.
func (r *run) clientChunk(c *clearbar.Chunk) ([]byte, bool) {
	if c.Usage == nil || r.req.IncludeUsage {
		return c.Data, true
	}
	if gjson.GetBytes(c.Data, "choices.#").Int() == 0 {
		return nil, false
	}
	out, err := sjson.DeleteBytes(c.Data, "usage")
	if err != nil {
		return c.Data, true
	}
	return out, true
}

func (r *run) totalCost() clearbar.Money {
	c := scoreEmbedCost(r.d)
	for i := range r.d.Attempts {
		c += r.d.Attempts[i].Cost
	}
	return c
}
