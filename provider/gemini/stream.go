package gemini

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonstr"
	"github.com/clearbar/clearbar/provider/internal/inflight"
	"github.com/clearbar/clearbar/sse"
	"github.com/tidwall/gjson"
)

// stream is a streamed answer being read. Next, Chunk and Err belong to one goroutine; Close may
// also be called from another one to abort a blocked Next.
type stream struct {
	inflight.Stream
	a      *attempt
	events *sse.Reader
	tr     streamTranslator
}

func newStream(a *attempt, resp *http.Response) *stream {
	s := &stream{a: a, events: sse.NewReader(resp.Body), tr: streamTranslator{p: a.p, model: a.Call.Model}}
	s.Init(a.Attempt, resp)
	return s
}

// Next advances to the next chunk. See Provider.Stream for how a stream fails.
func (s *stream) Next() bool {
	if s.Over() {
		return false
	}
	for s.events.Next() {
		ev := s.events.Event()
		if ev.Type == "error" {
			return s.Fail(s.streamError(ev.Data))
		}
		kind, failure := s.tr.event(s.a, s.Resp.StatusCode, ev.Data, &s.Current)
		switch kind {
		case eventSkip:
			continue
		case eventChunk:
			if e := s.a.FirstChunk(); e != nil {
				return s.Fail(e)
			}
			return true
		case eventError:
			return s.Fail(s.streamError(ev.Data))
		case eventFailure:
			return s.Fail(failure)
		}
	}
	err := s.events.Err()
	if err == nil && s.tr.complete() && s.a.CtxFailure() == nil {
		if e := s.a.FirstChunk(); e != nil {
			return s.Fail(e)
		}
		s.Finish()
		return s.tr.final(&s.Current)
	}
	return s.Fail(s.ReadFailure(err, "the stream ended before Gemini sent a finish reason"))
}

// streamError is the error for an error event: class StreamCut, with Gemini's status.
func (s *stream) streamError(data []byte) *clearbar.Error {
	p := s.a.p
	f := parseErrorBody(data)
	msg := "the provider reported an error mid-stream"
	if m := p.redact(f.message); m != "" {
		msg += ": " + m
	}
	e := s.a.Fail(clearbar.StreamCut, s.Resp.StatusCode, inflight.Truncate(msg, maxMessage), errors.New(inflight.Truncate(p.redact(inflight.Truncate(string(data), 4096)), 512)))
	if f.status != "" {
		e.Code = p.keys.Field(strings.ToLower(f.status), keyLike)
	}
	return e
}

// UpstreamRequestID returns Gemini's responseId, once the first event has arrived. It is an
// optional capability, as in provider/openai.
func (s *stream) UpstreamRequestID() string { return s.tr.id }

// eventKind is what one Gemini event turned out to be.
type eventKind uint8

const (
	eventChunk   eventKind = iota // a chunk to deliver
	eventSkip                     // nothing to deliver (usage only, empty)
	eventError                    // an error object in the stream
	eventFailure                  // a block, a failing finish reason, or malformed data
)

// candState is what the stream knows of one candidate.
type candState struct {
	seen, roleSent, called, finished bool
	calls                            int
	// searches is the number of Google Search queries its answer was grounded in, from the
	// last groundingMetadata seen.
	searches int
	// text is the content sent so far, which grounding segments index into; grounding the
	// last groundingMetadata seen that ties text to sources, as sent; annotated says its
	// annotations were sent.
	text      []byte
	grounding []byte
	annotated bool
}

// streamTranslator turns Gemini events into OpenAI chunks. The id, model and created of the
// first event hold for the whole stream; usage is kept until the end.
type streamTranslator struct {
	p       *Provider
	model   string
	started bool
	id      string
	created int64
	cands   []candState
	// usageRaw is the last usageMetadata seen, as sent.
	usageRaw []byte
	buf      []byte
}

// cand returns the state of candidate i, growing the list as needed (indexes are small).
func (t *streamTranslator) cand(i int) *candState {
	for len(t.cands) <= i {
		t.cands = append(t.cands, candState{})
	}
	return &t.cands[i]
}

// complete reports whether the stream saw a candidate and every candidate it saw finished.
func (t *streamTranslator) complete() bool {
	seen := false
	for _, c := range t.cands {
		if c.seen {
			seen = true
			if !c.finished {
				return false
			}
		}
	}
	return seen
}

// appendHead appends the start of a chunk, up to and including `"choices":`.
func (t *streamTranslator) appendHead(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = jsonstr.Append(b, t.id)
	b = append(b, `,"object":"chat.completion.chunk","created":`...)
	b = strconv.AppendInt(b, t.created, 10)
	b = append(b, `,"model":`...)
	b = jsonstr.Append(b, t.model)
	return append(b, `,"choices":`...)
}

// maxCandidates bounds the candidate index a stream may use (OpenAI allows n up to 128).
const maxCandidates = 128

// event translates one event's data into out.
func (t *streamTranslator) event(a *attempt, status int, data []byte, out *clearbar.Chunk) (eventKind, *clearbar.Error) {
	*out = clearbar.Chunk{}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return eventSkip, nil
	}
	if msg := jsonFailure(data, "a stream event"); msg != "" {
		return eventFailure, a.Fail(clearbar.BadResponse, status, msg, nil)
	}
	root := gjson.Parse(view(data))
	if root.IsArray() && parseErrorBody(data).found {
		return eventError, nil
	}
	if !root.IsObject() {
		return eventFailure, a.Fail(clearbar.BadResponse, status, "a stream event is not a JSON object", nil)
	}
	var cands, feedback, usage, errv, id, model gjson.Result
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "candidates":
			cands = v
		case "promptFeedback":
			feedback = v
		case "usageMetadata":
			usage = v
		case "error":
			errv = v
		case "responseId":
			id = v
		case "modelVersion":
			model = v
		}
		return true
	})
	if errv.Exists() && errv.Type != gjson.Null {
		return eventError, nil
	}
	if !t.started {
		t.started = true
		t.id, t.created = strings.Clone(strings.ToValidUTF8(id.Str, "\uFFFD")), t.p.now().Unix()
		if t.id == "" {
			t.id = t.p.newID("chatcmpl-")
		}
		if model.Str != "" {
			t.model = strings.Clone(strings.ToValidUTF8(model.Str, "\uFFFD"))
		}
	}
	if usage.IsObject() {
		// Cumulative: only the last counts, so it is parsed once, at the end.
		t.usageRaw = append(t.usageRaw[:0], usage.Raw...)
	}
	if feedback.Get("blockReason").Str != "" {
		return eventFailure, a.promptBlocked(feedback, status)
	}

	b := t.appendHead(t.buf[:0])
	b = append(b, '[')
	n := 0
	var failure *clearbar.Error
	pos := 0
	cands.ForEach(func(_, c gjson.Result) bool {
		cf := readCandidate(c)
		idx := pos
		pos++
		if cf.index.Exists() {
			idx = int(cf.index.Int())
		}
		if idx < 0 || idx >= maxCandidates {
			failure = a.Fail(clearbar.BadResponse, status, "a stream event has a candidate index out of range", nil)
			return false
		}
		st := t.cand(idx)
		st.seen = true
		if n := groundingQueries(c); n > 0 {
			st.searches = n
		}
		if grounded(cf.grounding) {
			// Gemini sends the whole metadata again, not a delta: the last one counts.
			st.grounding = append(st.grounding[:0], cf.grounding.Raw...)
		}
		var po partsOut
		t.p.readParts(cf.parts, &po)
		reason := cf.finishReason.Str
		st.called = st.called || len(po.calls) > 0
		var f finish
		if reason != "" {
			f = mapFinish(reason, st.called)
			if f.class != clearbar.OK {
				failure = a.finishError(f, reason, c, status)
				return false
			}
			st.finished = true
		}
		hasText := po.nText > 0 && po.text.Len() > 0
		if hasText {
			st.text = append(st.text, po.text.String()...)
		}
		// The annotations go out once the candidate has finished, when its text is whole (the
		// segments index into all of it), in the delta of the event that finishes it or of a
		// later one that brings the metadata.
		var anns []byte
		if st.finished && !st.annotated && st.grounding != nil {
			st.annotated = true
			if a, ok := appendAnnotations(nil, gjson.Parse(view(st.grounding)), view(st.text)); ok {
				anns = a
			}
		}
		if !hasText && po.reasoning.Len() == 0 && len(po.calls) == 0 && po.textSig == "" && reason == "" && anns == nil && st.roleSent {
			return true
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, int64(idx), 10)
		b = append(b, `,"delta":{`...)
		sep := false
		field := func(name string) {
			if sep {
				b = append(b, ',')
			}
			sep = true
			b = append(b, name...)
		}
		if !st.roleSent {
			st.roleSent = true
			field(`"role":"assistant"`)
		}
		if hasText {
			field(`"content":`)
			b = po.appendContent(b)
		}
		if po.reasoning.Len() > 0 {
			field(`"reasoning_content":`)
			b = jsonstr.Append(b, po.reasoning.String())
		}
		if len(po.calls) > 0 {
			field(`"tool_calls":[`)
			for k, call := range po.calls {
				if k > 0 {
					b = append(b, ',')
				}
				b = appendCall(b, call, st.calls)
				st.calls++
			}
			b = append(b, ']')
		}
		if anns != nil {
			field(`"annotations":`)
			b = append(b, anns...)
		}
		if po.textSig != "" {
			if !sep {
				// appendSignature writes a leading comma.
				b = append(b, `"extra_content":{"google":{"thought_signature":`...)
				b = jsonstr.Append(b, po.textSig)
				b = append(b, "}}"...)
			} else {
				b = appendSignature(b, po.textSig)
			}
		}
		b = append(b, `},"finish_reason":`...)
		if f.reason != "" {
			b = jsonstr.Append(b, f.reason)
		} else {
			b = append(b, "null"...)
		}
		b = append(b, '}')
		if idx == 0 {
			if hasText {
				out.Text = po.text.String()
			}
			out.FinishReason = f.reason
		}
		return true
	})
	if failure != nil {
		return eventFailure, failure
	}
	if n == 0 {
		return eventSkip, nil
	}
	b = append(b, "]}"...)
	t.buf = b
	out.Data = b
	return eventChunk, nil
}

// final fills out with the usage kept back, as a last chunk with no choices, and reports
// whether there was one.
func (t *streamTranslator) final(out *clearbar.Chunk) bool {
	*out = clearbar.Chunk{}
	if t.usageRaw == nil {
		return false
	}
	u := parseUsage(gjson.Parse(view(t.usageRaw)))
	searches := 0
	for _, c := range t.cands {
		searches += c.searches
	}
	countSearches(&u, searches)
	b := t.appendHead(t.buf[:0])
	b = append(b, `[],"usage":`...)
	b = appendUsage(b, u)
	b = append(b, '}')
	t.buf = b
	*out = clearbar.Chunk{Data: b, Usage: &u}
	return true
}

var (
	_ clearbar.Stream                         = (*stream)(nil)
	_ interface{ UpstreamRequestID() string } = (*stream)(nil)
)
