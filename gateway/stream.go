package gateway

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/sse"
)

// stream runs a streaming request. Attempts are made until one stream delivers its first
// chunk: until then nothing has reached the client, so failures fall back transparently.
// From the first byte on the answer is committed; a failure after it ends the stream with an
// explicit error event, never with a clean end of a truncated answer.
//
// A step with validators is buffered: the whole answer is read and validated before its first
// byte is sent, so that a failed answer can still escalate. Its time to first byte is then the
// whole answer's time plus validation, which the decision records.
//
// While no content byte has gone out the keepalive may commit the stream and send pings (see
// keepalive): attempts still fall back as before, but a failure then ends the stream with an
// error event (failed).
func (r *run) stream(ctx context.Context, w http.ResponseWriter, start time.Time) (status int, err error) {
	r.ka.start(w, r.g.streamKeepalive, r.d)
	defer r.ka.stop()
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
				a, done := r.begin(m, si, ci, retried, 0)
				if a == nil {
					break // breaker open: fail over
				}
				cctx, cancel := callContext(ctx, m)
				s, err := prov.Stream(cctx, r.call(m, true))
				var usage clearbar.Usage
				if err == nil {
					if s.Next() {
						a.TTFT = r.g.now().Sub(a.Start)
						if !validated {
							status, err := r.relay(ctx, w, s, a, m, func(u clearbar.Usage, estimated bool, err error) {
								r.finish(a, m, u, err, done)
								a.UsageEstimated = estimated
							}, start)
							cancel()
							return status, err
						}
						buf, berr := bufferStream(s)
						usage = buf.usage
						if berr == nil {
							cancel()
							r.finish(a, m, usage, nil, done)
							switch r.judge(ctx, a, buf.response(), st, &qualityRetried) {
							case nextAccept:
								r.flushPending()
								a = &r.d.Attempts[a.N-1]
								status, err := r.relay(ctx, w, buf, a, m, func(clearbar.Usage, bool, error) {}, start)
								return status, err
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
				nx, ferr := r.afterFailure(ctx, err, retries)
				switch nx {
				case nextRetry:
					a.Outcome = "retried"
					retries++
					continue
				case nextFail:
					a.Outcome = "failed"
					return r.failed(w, r.failure(ferr))
				}
				a.Outcome = "fell back"
				break
			}
		}
	}
	if r.flagged != nil && !r.plan.FailWhenExhausted {
		// Every step failed validation: deliver the last answer, flagged, as the route says.
		resp, _ := r.exhausted()
		return r.replayFlagged(w, resp, start)
	}
	_, err = r.exhausted()
	return r.failed(w, err)
}

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
	texts  []string
	i      int
	cur    clearbar.Chunk
	usage  clearbar.Usage
	text   strings.Builder
	finish string
	calls  map[int]*clearbar.ToolCall
	order  []int
}

// bufferStream reads the rest of s (whose first chunk is current) into memory.
func bufferStream(s clearbar.Stream) (*buffered, error) {
	defer s.Close()
	b := &buffered{i: -1, calls: map[int]*clearbar.ToolCall{}}
	for {
		c := s.Chunk()
		b.chunks = append(b.chunks, append([]byte(nil), c.Data...))
		b.texts = append(b.texts, c.Text)
		b.text.WriteString(c.Text)
		if c.FinishReason != "" {
			b.finish = c.FinishReason
		}
		if c.Usage != nil {
			b.usage = *c.Usage
		}
		gjson.GetBytes(c.Data, "choices.0.delta.tool_calls").ForEach(func(_, tc gjson.Result) bool {
			idx := int(tc.Get("index").Int())
			call, ok := b.calls[idx]
			if !ok {
				call = &clearbar.ToolCall{}
				b.calls[idx] = call
				b.order = append(b.order, idx)
			}
			if id := tc.Get("id").Str; id != "" {
				call.ID = id
			}
			if n := tc.Get("function.name").Str; n != "" {
				call.Name = n
			}
			call.Arguments += tc.Get("function.arguments").Str
			return true
		})
		if !s.Next() {
			break
		}
	}
	return b, s.Err()
}

// response is the buffered answer as validators see it.
func (b *buffered) response() *clearbar.Response {
	ch := clearbar.Choice{Text: b.text.String(), FinishReason: b.finish}
	for _, i := range b.order {
		ch.ToolCalls = append(ch.ToolCalls, *b.calls[i])
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

// replayFlagged sends a flagged answer (every step failed validation) as a stream.
func (r *run) replayFlagged(w http.ResponseWriter, resp *clearbar.Response, start time.Time) (int, error) {
	h := w.Header()
	committed := r.ka.stop()
	if committed {
		defer r.trailers(h)
	} else {
		r.g.decisionHeaders(h, r.d)
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
	}
	sw := sse.NewWriter(w)
	chunk, _ := sjson.SetBytes([]byte(`{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":"stop"}]}`), "choices.0.delta.content", resp.Text())
	chunk, _ = sjson.SetBytes(chunk, "id", resp.ID)
	chunk, _ = sjson.SetBytes(chunk, "model", resp.Model)
	r.d.TTFB = r.g.now().Sub(start)
	if err := sw.WriteData(chunk); err != nil {
		return http.StatusOK, &clearbar.Error{Class: clearbar.Canceled, Message: "the client closed the stream", Err: err}
	}
	sw.WriteDone()
	return http.StatusOK, nil
}

// relay sends a stream whose first chunk has arrived to the client: headers, then every
// chunk as it comes, then [DONE], or an error event if the stream is cut mid-way: by the
// upstream, by the request's time running out, or by the gateway shutting down (Cut). A
// client that goes away gets nothing more.
//
// finish completes the attempt with the stream's usage. A stream cut after its answer began
// never reaches the usage the upstream reports at its end: the attempt then records the
// prompt's estimated tokens and the output's, estimated from the bytes sent (marked
// estimated), since the upstream bills them.
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
	var text, sent int // content bytes; content and tool-call argument bytes sent
	var werr error
	for {
		c := s.Chunk()
		if c.Usage != nil {
			usage = *c.Usage
		}
		text += len(c.Text)
		if data, ok := r.clientChunk(c); ok {
			if werr = sw.WriteData(data); werr != nil {
				break
			}
			sent += len(c.Text) + toolArgBytes(c)
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
	switch {
	case werr != nil:
		// The client went away: not the upstream's fault.
		err = &clearbar.Error{Class: clearbar.Canceled, Message: "the client closed the stream", Err: werr}
	case ctx.Err() != nil:
		err = ctxError(ctx, s.Err())
		switch e := clearbar.AsError(err); {
		case isShutdownCut(e):
			event = &clearbar.Error{Class: e.Class, Status: e.Status, Code: e.Code, Message: "the gateway shut down before the answer finished (its drain window ended); the answer is incomplete"}
		case e.Class == clearbar.Canceled:
			err = &clearbar.Error{Class: clearbar.Canceled, Message: "the client closed the stream", Err: err}
		default:
			event = &clearbar.Error{Class: e.Class, Code: "stream_cut", Message: "the request ran out of time (server.request_timeout) after the answer began; the answer is incomplete"}
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
		werr = sw.WriteDone()
	}
	if event != nil {
		// The answer is committed: tell the client explicitly that it is incomplete.
		status := statusFor(event)
		if !isShutdownCut(event) {
			status = http.StatusBadGateway
		}
		sw.WriteData(errorJSON(event, status))
	}
	estimated := false
	if err != nil && r.d.TTFB > 0 {
		usage, estimated = r.partialUsage(usage, sent)
	}
	finish(usage, estimated, err)
	if err != nil {
		a.Outcome = "cut mid-stream"
		r.d.Reason = "the stream failed after the first byte reached the client; it ended with an error event"
		switch e := clearbar.AsError(err); {
		case isShutdownCut(e):
			r.d.Reason = "cut: the gateway shut down (its drain window ended) after the first byte reached the client; the stream ended with an error event"
		case e.Class == clearbar.Canceled:
			a.Outcome = "client went away"
			r.d.Reason = "the client closed the stream"
		}
	} else {
		a.Outcome = "accepted"
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

// partialUsage completes the usage of a stream that ended after its answer began but before
// the upstream reported usage: the prompt's tokens by the gateway's estimate (the features'
// tokens_in) and the output's from the bytes sent so far (clearbar.TokensOfBytes). It reports
// whether it estimated anything.
func (r *run) partialUsage(u clearbar.Usage, sent int) (clearbar.Usage, bool) {
	estimated := false
	if u.PromptTokens == 0 && r.d.Features.TokensIn > 0 {
		u.PromptTokens, estimated = r.d.Features.TokensIn, true
	}
	if u.CompletionTokens == 0 && sent > 0 {
		u.CompletionTokens, estimated = clearbar.TokensOfBytes(sent), true
	}
	return u, estimated
}

// toolArgBytes is the length of the tool-call argument fragments a chunk carries.
func toolArgBytes(c *clearbar.Chunk) int {
	if c.Text != "" || !bytes.Contains(c.Data, []byte(`"arguments"`)) {
		return 0
	}
	n := 0
	gjson.GetBytes(c.Data, "choices.0.delta.tool_calls").ForEach(func(_, tc gjson.Result) bool {
		n += len(tc.Get("function.arguments").Str)
		return true
	})
	return n
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
