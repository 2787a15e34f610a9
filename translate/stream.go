package translate

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonstr"
)

// OpenAIChunks turns an Anthropic event stream into OpenAI chat.completion.chunk documents, one
// event at a time:
//
//	message_start                    a role chunk, delta {"role":"assistant","content":""}
//	content_block_start text         a content chunk if the block starts with text
//	content_block_start tool_use     a tool-call delta: index k, id, type, name, arguments ""
//	content_block_delta text_delta   a content chunk
//	content_block_delta input_json   a tool-call delta: index k, an arguments fragment
//	content_block_delta citations    nothing yet: the citation waits for the block's end
//	content_block_stop               nothing (arguments "{}" for a call that had none); for a
//	                                 text block with web search citations, a chunk with
//	                                 delta.annotations: url_citation {url, title, start_index,
//	                                 end_index}, the block's span of the content
//	message_delta                    a chunk with delta {} and the finish_reason
//	message_stop                     the usage chunk, "choices": [], then the stream is done
//	ping, unknown events             nothing
//	error                            an error of class StreamCut with the event's type
//
// k counts the tool_use blocks (0, 1, …), not Anthropic's block index, which also counts text
// blocks. Every chunk has the message's id and model. A text block's web search citations
// (web_search_result_location, in content_block_start's block or in citations_delta events)
// are sent once the block has ended, when its span is known, as OpenAI sends annotations after
// the text they annotate: indices in Unicode code points of the whole content (end exclusive),
// one annotation per page the block cites, as in ToOpenAIAnswer. Thinking and signature
// deltas, other citations and server-tool blocks are dropped from the OpenAI form. Usage is in
// OpenAI's accounting (AnthropicUsage): the input counts of message_start, updated by any
// message_delta carries, and message_delta's cumulative output_tokens.
//
// With Native set (an Anthropic client's request, AnthropicCall.Native), every event but ping
// and error rides along: the first chunk an event makes carries the event's data under
// AnthropicKey, and an event that makes no chunk gets one of its own, with an empty delta, to
// carry it (a thinking_delta's carries the thinking as delta.reasoning_content, so that it
// counts as the answer's start). AnthropicEvents gives the client those events as they came.
//
// The zero value is ready to use. An OpenAIChunks is used by one goroutine.
type OpenAIChunks struct {
	// Created is the chunks' "created" (Unix seconds).
	Created int64
	// Native carries every event in the chunks (see above).
	Native bool
	// Functions streams the first tool call in the deprecated functions' form
	// (AnthropicCall.Functions): delta.function_call {name, arguments} fragments and
	// finish_reason function_call; the request allowed one call, and any later one is dropped.
	Functions bool

	started, done bool
	// prefix is every chunk's start, up to the delta of its choice.
	prefix []byte
	// head is every chunk's id, object, created and model members, for the usage chunk.
	head []byte
	// The usage counts as Anthropic reports them; message_delta overrides those it carries.
	input, cacheWrite, cacheRead, output, reasoning, searches int64
	// cacheWrite1h is the part of cacheWrite kept for an hour (cache_creation's split).
	cacheWrite1h int64
	tools        map[int64]*streamTool
	nTools       int
	// runes counts the code points of the content sent so far.
	runes int
	// The open text block, when inText: its index, where its text starts in the content (in
	// code points) and the pages it cites so far.
	inText    bool
	textIdx   int64
	textStart int
	cites     []urlCitation
	// buf holds the chunks of one event; scratch builds deltas.
	buf     []byte
	scratch jw
	out     []clearbar.Chunk
	// native is the event to carry in the next chunk (Native), nil once carried.
	native []byte
}

// streamTool is a tool_use block being streamed.
type streamTool struct {
	ordinal int
	// input is a non-empty input the block started with; args says arguments were sent.
	input string
	args  bool
}

// Done reports whether message_stop has arrived: the stream ended as it should.
func (t *OpenAIChunks) Done() bool { return t.done }

// Event translates one event: its type (the event line's, or "" to read the data's "type")
// and its data. It returns the chunks to deliver, in order; they and their Data stay valid
// until the next call. Errors are *clearbar.Error values: StreamCut for an error event (Type
// and Message from it), BadResponse for data that is not an event Anthropic sends.
func (t *OpenAIChunks) Event(typ string, data []byte) ([]clearbar.Chunk, error) {
	t.buf, t.out, t.native = t.buf[:0], t.out[:0], nil
	ev, ok := parseObject(data)
	if !ok {
		return nil, badResponse("a stream event is not a JSON object")
	}
	if typ == "" || typ == "message" {
		typ = ev.Get("type").String()
	}
	if t.done && typ != "ping" {
		return nil, nil
	}
	switch typ {
	case "ping":
		return nil, nil
	case "error":
		f := ParseError(data)
		msg := "the provider reported an error mid-stream"
		if f.Message != "" {
			msg += ": " + f.Message
		}
		return nil, &clearbar.Error{Class: clearbar.StreamCut, Type: f.Type, Message: msg}
	case "message_start":
		if t.started {
			return nil, nil
		}
		msg := ev.Get("message")
		t.start(msg.Get("id"), msg.Get("model"))
		t.counts(msg.Get("usage"))
		t.carry(data)
		t.chunk([]byte(`{"role":"assistant","content":""}`), "", "")
		return t.out, nil
	}
	if !t.started {
		return nil, badResponse("the stream sent %q before message_start", typ)
	}
	t.carry(data)
	switch typ {
	case "content_block_start":
		idx := ev.Get("index").Int()
		b := ev.Get("content_block")
		switch b.Get("type").String() {
		case "text":
			t.inText, t.textIdx, t.textStart, t.cites = true, idx, t.runes, t.cites[:0]
			b.Get("citations").ForEach(func(_, c gjson.Result) bool {
				t.cite(c)
				return true
			})
			if tx := b.Get("text"); tx.String() != "" {
				t.text(tx)
			}
		case "tool_use":
			if t.tools == nil {
				t.tools = map[int64]*streamTool{}
			}
			st := &streamTool{ordinal: t.nTools}
			t.nTools++
			if in := b.Get("input"); in.IsObject() && len(in.Map()) > 0 {
				st.input = strings.Clone(in.Raw)
			}
			t.tools[idx] = st
			w := t.delta()
			switch {
			case t.Functions && st.ordinal > 0:
			case t.Functions:
				w.open('{')
				w.key("function_call")
				w.open('{')
				w.kraw("name", rawString(b.Get("name")))
				w.kraw("arguments", `""`)
				w.close('}')
				w.close('}')
				t.chunk(w.b, "", "")
			default:
				w.open('{')
				w.key("tool_calls")
				w.open('[')
				w.item()
				w.open('{')
				w.kint("index", int64(st.ordinal))
				w.kraw("id", rawString(b.Get("id")))
				w.kstr("type", "function")
				w.key("function")
				w.open('{')
				w.kraw("name", rawString(b.Get("name")))
				w.kraw("arguments", `""`)
				w.close('}')
				w.close('}')
				w.close(']')
				w.close('}')
				t.chunk(w.b, "", "")
			}
		}
	case "content_block_delta":
		d := ev.Get("delta")
		switch d.Get("type").String() {
		case "text_delta":
			if tx := d.Get("text"); tx.String() != "" {
				t.text(tx)
			}
		case "citations_delta":
			if t.inText && ev.Get("index").Int() == t.textIdx {
				t.cite(d.Get("citation"))
			}
		case "input_json_delta":
			st := t.tools[ev.Get("index").Int()]
			if p := d.Get("partial_json"); st != nil && p.String() != "" {
				st.args = true
				t.arguments(st, rawString(p))
			}
		case "thinking_delta":
			if tx := d.Get("thinking"); t.Native && tx.String() != "" {
				w := t.delta()
				w.raw(`{"reasoning_content":`)
				w.raw(rawString(tx))
				w.raw("}")
				t.chunk(w.b, "", "")
				t.out[len(t.out)-1].Reasoning = len(tx.String())
			}
		}
	case "content_block_stop":
		if idx := ev.Get("index").Int(); t.inText && idx == t.textIdx {
			t.inText = false
			t.annotations()
		}
		st := t.tools[ev.Get("index").Int()]
		if st != nil && !st.args {
			args := "{}"
			if st.input != "" {
				args = st.input
			}
			st.args = true
			t.arguments(st, string(jsonstr.Append(nil, args)))
		}
	case "message_delta":
		t.counts(ev.Get("usage"))
		if sr := ev.Get("delta.stop_reason"); sr.Type == gjson.String {
			finish := FinishReason(sr.Str)
			if finish == "tool_calls" && t.Functions {
				finish = "function_call"
			}
			t.chunk([]byte("{}"), finish, "")
		}
	case "message_stop":
		t.done = true
		start := len(t.buf)
		var w jw
		w.b = append(t.buf, t.head...)
		w.more = []bool{true} // head is an open object with members
		w.kraw("choices", "[]")
		w.key("usage")
		u := t.Usage()
		writeOpenAIUsage(&w, u)
		t.buf = w.b
		t.carried()
		t.buf = append(t.buf, '}')
		t.out = append(t.out, clearbar.Chunk{Data: t.buf[start:], Usage: &u})
	}
	if t.native != nil {
		t.chunk([]byte("{}"), "", "") // an event with no chunk of its own
	}
	return t.out, nil
}

// carry sets the event to carry in the next chunk, when Native.
func (t *OpenAIChunks) carry(data []byte) {
	if t.Native {
		t.native = bytes.TrimSpace(data)
	}
}

// carried appends the carried event, if any, as the member AnthropicKey of the chunk being
// written in buf, before its closing brace.
func (t *OpenAIChunks) carried() {
	if t.native == nil {
		return
	}
	t.buf = append(t.buf, `,"`+AnthropicKey+`":`...)
	t.buf = append(t.buf, t.native...)
	t.native = nil
}

// start builds the chunk prefix from the message's id and model.
func (t *OpenAIChunks) start(id, model gjson.Result) {
	t.started = true
	var w jw
	w.open('{')
	w.kraw("id", rawString(id))
	w.kstr("object", "chat.completion.chunk")
	w.kint("created", t.Created)
	w.kraw("model", rawString(model))
	t.head = append([]byte(nil), w.b...)
	w.key("choices")
	w.raw(`[{"index":0,"delta":`)
	t.prefix = w.b
}

// counts reads the usage counts an event carries.
func (t *OpenAIChunks) counts(u gjson.Result) {
	for _, c := range []struct {
		name string
		dst  *int64
	}{{"input_tokens", &t.input}, {"cache_creation_input_tokens", &t.cacheWrite}, {"cache_read_input_tokens", &t.cacheRead}, {"output_tokens", &t.output}} {
		if v := u.Get(c.name); v.Exists() {
			*c.dst = v.Int()
		}
	}
	if u.Get("output_tokens_details").Exists() {
		t.reasoning = int64(AnthropicUsage(u).ReasoningTokens)
	}
	if v := u.Get("cache_creation.ephemeral_1h_input_tokens"); v.Exists() {
		t.cacheWrite1h = v.Int()
	}
	if v := u.Get("server_tool_use.web_search_requests"); v.Exists() {
		t.searches = v.Int()
	}
}

// Usage returns the usage reported so far, in OpenAI's accounting.
func (t *OpenAIChunks) Usage() clearbar.Usage {
	return clearbar.Usage{
		PromptTokens:     int(t.input + t.cacheWrite + t.cacheRead),
		CompletionTokens: int(t.output),
		CachedTokens:     int(t.cacheRead),
		CacheWriteTokens: int(t.cacheWrite),
		// Capped at the total, which a later event may have lowered, so that no write bills
		// twice.
		CacheWrite1hTokens: int(min(max(t.cacheWrite1h, 0), max(t.cacheWrite, 0))),
		ReasoningTokens:    int(t.reasoning),
		WebSearches:        int(t.searches),
	}
}

// delta returns the scratch writer, emptied, to build a delta in.
func (t *OpenAIChunks) delta() *jw {
	t.scratch.b, t.scratch.more = t.scratch.b[:0], t.scratch.more[:0]
	return &t.scratch
}

// cite adds a citation of the open text block, if it is a web search citation.
func (t *OpenAIChunks) cite(c gjson.Result) {
	if uc, ok := webCitation(c); ok {
		t.cites = addCitation(t.cites, uc)
	}
}

// annotations adds a chunk with the ended text block's web search citations as
// delta.annotations, if it cites any.
func (t *OpenAIChunks) annotations() {
	if len(t.cites) == 0 {
		return
	}
	w := t.delta()
	w.open('{')
	w.key("annotations")
	w.open('[')
	for _, c := range t.cites {
		writeAnnotation(w, c, t.textStart, t.runes)
	}
	w.close(']')
	w.close('}')
	t.chunk(w.b, "", "")
	t.cites = t.cites[:0]
}

// text adds a content chunk for a text fragment.
func (t *OpenAIChunks) text(tx gjson.Result) {
	t.runes += utf8.RuneCountInString(tx.String())
	w := t.delta()
	w.raw(`{"content":`)
	w.raw(rawString(tx))
	w.raw("}")
	t.chunk(w.b, "", strings.Clone(tx.String()))
}

// arguments adds a tool-call delta with an arguments fragment (a raw JSON string).
func (t *OpenAIChunks) arguments(st *streamTool, raw string) {
	w := t.delta()
	if t.Functions {
		if st.ordinal == 0 {
			w.raw(`{"function_call":{"arguments":`)
			w.raw(raw)
			w.raw("}}")
			t.chunk(w.b, "", "")
		}
		return
	}
	w.open('{')
	w.key("tool_calls")
	w.open('[')
	w.item()
	w.open('{')
	w.kint("index", int64(st.ordinal))
	w.key("function")
	w.open('{')
	w.kraw("arguments", raw)
	w.close('}')
	w.close('}')
	w.close(']')
	w.close('}')
	t.chunk(w.b, "", "")
}

// chunk appends a chunk with one choice whose delta is raw JSON and whose finish_reason is
// finish ("" for null).
func (t *OpenAIChunks) chunk(delta []byte, finish, text string) {
	start := len(t.buf)
	t.buf = append(t.buf, t.prefix...)
	t.buf = append(t.buf, delta...)
	t.buf = append(t.buf, `,"logprobs":null,"finish_reason":`...)
	if finish == "" {
		t.buf = append(t.buf, "null"...)
	} else {
		t.buf = jsonstr.Append(t.buf, finish)
	}
	t.buf = append(t.buf, "}]"...)
	t.carried()
	t.buf = append(t.buf, '}')
	t.out = append(t.out, clearbar.Chunk{Data: t.buf[start:len(t.buf):len(t.buf)], Text: text, FinishReason: finish})
}
