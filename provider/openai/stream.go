package openai

import (
	"bytes"
	"errors"
	"net/http"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider/internal/inflight"
	"github.com/clearbar/clearbar/sse"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// stream is a streamed answer being read. Next, Chunk and Err belong to one goroutine; Close may
// also be called from another one to abort a blocked Next.
type stream struct {
	inflight.Stream
	a      *attempt
	events *sse.Reader
	parser chunkParser
}

func newStream(a *attempt, resp *http.Response) *stream {
	s := &stream{a: a, events: sse.NewReader(resp.Body), parser: chunkParser{search: requestedSearch(a.Call)}}
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
			return s.Fail(s.streamError(parseErrorBody(ev.Data), ev.Data))
		}
		kind, fields := s.parser.parse(ev.Data, &s.Current)
		switch kind {
		case chunkSkip:
			continue
		case chunkData:
			if e := s.a.FirstChunk(); e != nil {
				return s.Fail(e)
			}
			return true
		case chunkDone:
			if e := s.a.FirstChunk(); e != nil {
				return s.Fail(e)
			}
			s.Finish()
			return s.parser.final(&s.Current)
		case chunkError:
			return s.Fail(s.streamError(fields, ev.Data))
		case chunkMalformed:
			return s.Fail(s.a.Fail(clearbar.BadResponse, s.Resp.StatusCode, fields.message, nil))
		}
	}
	return s.Fail(s.ReadFailure(s.events.Err(), "the stream ended without [DONE]"))
}

// streamError is the error for an error event: class StreamCut, with the event's fields.
func (s *stream) streamError(f errorFields, data []byte) *clearbar.Error {
	p := s.a.p
	msg := p.redact(f.message)
	if msg == "" {
		msg = "the provider reported an error mid-stream"
	} else {
		msg = "the provider reported an error mid-stream: " + msg
	}
	e := s.a.Fail(clearbar.StreamCut, s.Resp.StatusCode, inflight.Truncate(msg, maxMessage), errors.New(inflight.Truncate(p.redact(inflight.Truncate(string(data), 4096)), 512)))
	e.Type, e.Code, e.Param = p.field(f.typ), p.field(f.code), p.field(f.param)
	return e
}

// UpstreamRequestID returns the upstream's x-request-id header, for support tickets. It is an
// optional capability: callers find it by type assertion on the clearbar.Stream.
func (s *stream) UpstreamRequestID() string { return s.Resp.Header.Get("X-Request-Id") }

// chunkKind is what one data event turned out to be.
type chunkKind uint8

const (
	// chunkData is a chunk to deliver.
	chunkData chunkKind = iota
	// chunkSkip is an event to drop: empty data, an Azure prompt-filter chunk.
	chunkSkip
	// chunkDone is the [DONE] terminator.
	chunkDone
	// chunkError is an error the upstream reported in a chunk.
	chunkError
	// chunkMalformed is data that is not a JSON object.
	chunkMalformed
)

var doneMarker = []byte("[DONE]")

// chunkParser turns the data of stream events into chunks. It keeps back usage found on chunks
// that have choices (cumulative usage), so that the stream reports usage once, at the end.
type chunkParser struct {
	// usageSent says a usage-only chunk was delivered.
	usageSent bool
	// held is the raw usage last kept back, heldUsage its parsed form, and heldID, heldModel
	// and heldCreated the raw id, model and created of its chunk, for the final chunk.
	held                           []byte
	heldUsage                      clearbar.Usage
	heldID, heldModel, heldCreated []byte
	// search is the web search the request asked for, counted into the usage.
	search webSearch
}

// parse reads one event's data into out. The chunk's Data is data itself unless it had to be
// edited; Text and FinishReason are copies. For chunkError and chunkMalformed the fields
// describe the failure.
func (cp *chunkParser) parse(data []byte, out *clearbar.Chunk) (chunkKind, errorFields) {
	*out = clearbar.Chunk{}
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0:
		return chunkSkip, errorFields{}
	case bytes.HasPrefix(data, doneMarker):
		return chunkDone, errorFields{}
	case jsonFailure(data, "a stream chunk") != "":
		return chunkMalformed, errorFields{message: jsonFailure(data, "a stream chunk")}
	}
	root := gjson.Parse(view(data))
	if !root.IsObject() {
		return chunkMalformed, errorFields{message: "a stream chunk is not a JSON object"}
	}
	var choices, usage, errv, filters, id, model, created gjson.Result
	dup := false
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "choices":
			dup = dup || choices.Exists()
			choices = v
		case "usage":
			dup = dup || usage.Exists()
			usage = v
		case "error":
			dup = dup || errv.Exists()
			errv = v
		case "prompt_filter_results":
			filters = v
		case "id":
			id = v
		case "model":
			model = v
		case "created":
			created = v
		}
		return true
	})
	if dup {
		// Parsers disagree on which duplicate wins (gjson the first, encoding/json the last),
		// so no edit of such a chunk can be trusted.
		return chunkMalformed, errorFields{message: "a stream chunk has duplicate choices, usage or error keys"}
	}
	if errv.Exists() && errv.Type != gjson.Null {
		return chunkError, errorObject(errv)
	}
	first, n := firstChoice(choices)
	if n == 0 && filters.Exists() && !usage.IsObject() {
		return chunkSkip, errorFields{}
	}
	if n > 0 {
		out.Text = strings.Clone(first.Get("delta.content").Str)
		out.Reasoning = len(first.Get("delta.reasoning_content").Str)
		if fr := first.Get("finish_reason"); fr.Type == gjson.String {
			out.FinishReason = finishReason(fr.Str)
		}
	}
	out.Data = data
	if usage.IsObject() {
		u := parseUsage(usage)
		cp.search.count(&u, model.Str)
		if n > 0 {
			cp.held = append(cp.held[:0], usage.Raw...)
			cp.heldUsage = u
			cp.heldID = append(cp.heldID[:0], id.Raw...)
			cp.heldModel = append(cp.heldModel[:0], model.Raw...)
			cp.heldCreated = append(cp.heldCreated[:0], created.Raw...)
			out.Data, _ = sjson.SetRawBytes(out.Data, "usage", []byte("null"))
		} else {
			out.Usage = &u
			cp.usageSent = true
		}
	}
	if errv.Exists() {
		// "error": null: openai-go would stop the stream at any error key.
		out.Data, _ = sjson.DeleteBytes(out.Data, "error")
	}
	return chunkData, errorFields{}
}

// final fills out with the usage kept back, as a last chunk with no choices, and reports
// whether there was one to send (none when a usage-only chunk was already delivered).
func (cp *chunkParser) final(out *clearbar.Chunk) bool {
	*out = clearbar.Chunk{}
	if cp.held == nil || cp.usageSent {
		return false
	}
	cp.usageSent = true
	raw := func(b []byte, def string) []byte {
		if len(b) == 0 {
			return []byte(def)
		}
		return b
	}
	var d []byte
	d = append(d, `{"id":`...)
	d = append(d, raw(cp.heldID, `""`)...)
	d = append(d, `,"object":"chat.completion.chunk","created":`...)
	d = append(d, raw(cp.heldCreated, `0`)...)
	d = append(d, `,"model":`...)
	d = append(d, raw(cp.heldModel, `""`)...)
	d = append(d, `,"choices":[],"usage":`...)
	d = append(d, cp.held...)
	d = append(d, '}')
	u := cp.heldUsage
	*out = clearbar.Chunk{Data: d, Usage: &u}
	return true
}

// firstChoice returns the choice with index 0 (or without an index) and the number of choices.
func firstChoice(choices gjson.Result) (gjson.Result, int) {
	var first gjson.Result
	n, found := 0, false
	choices.ForEach(func(_, c gjson.Result) bool {
		n++
		if !found {
			if idx := c.Get("index"); !idx.Exists() || idx.Int() == 0 {
				first, found = c, true
			}
		}
		return true
	})
	return first, n
}

// finishReason returns a copy of a finish reason, without allocating for the usual ones.
func finishReason(s string) string {
	for _, known := range [...]string{"stop", "length", "tool_calls", "content_filter", "function_call"} {
		if s == known {
			return known
		}
	}
	return strings.Clone(s)
}

// errorObject reads a chunk's error value: an object with message, type, code and param, or a
// bare string. It copies what it keeps.
func errorObject(v gjson.Result) errorFields {
	e := gjson.Parse(strings.Clone(v.Raw))
	if !e.IsObject() {
		return errorFields{message: e.String(), found: true}
	}
	f := errorFields{found: true, message: e.Get("message").String(), typ: e.Get("type").String()}
	switch c := e.Get("code"); c.Type {
	case gjson.String:
		f.code = c.Str
	case gjson.Number:
		f.numCode = int(c.Int())
	}
	if p := e.Get("param"); p.Type == gjson.String {
		f.param = p.Str
	}
	return f
}

var (
	_ clearbar.Stream                         = (*stream)(nil)
	_ interface{ UpstreamRequestID() string } = (*stream)(nil)
)
