package translate

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
)

// EmitFunc writes one Anthropic event: its type (the SSE event line) and its data. The data is
// valid only during the call.
type EmitFunc func(event string, data []byte) error

// AnthropicEvents turns OpenAI chat.completion.chunk documents into an Anthropic event stream.
// It is a state machine that opens and closes content blocks so that a client sees what
// Anthropic sends:
//
//   - message_start first, with the id and model of the first chunk and the input usage when
//     it is known in advance (InputUsage), else zeros;
//   - content blocks with indices contiguous from 0, each opened by content_block_start, fed by
//     deltas and closed by content_block_stop before the next one opens, so that a delta
//     always belongs to the last block started (the v1 Go SDK's accumulator appends deltas to
//     the last block, whatever their index);
//   - text in text blocks (text_delta), refusals included; tool calls in tool_use blocks
//     (start with input {}, then input_json_delta fragments);
//   - after [DONE] (End): message_delta with the stop_reason (StopReason) and the usage in
//     Anthropic's accounting, cumulative output_tokens and the input counts, then
//     message_stop.
//
// OpenAI streams may interleave the argument fragments of parallel tool calls. The first call
// streams live; a later call waits until the open call's arguments form a complete JSON object
// (then that block is closed and the next one opened, its waiting fragments sent at once) or
// until the finish_reason. Text that arrives while a tool call's arguments are incomplete waits
// the same way. Nothing is reordered within a block, and nothing is lost but fragments that
// arrive for a call whose arguments were already a complete object when a later block had to
// open: they could only have made its arguments invalid JSON.
//
// A chunk that carries an Anthropic event under AnthropicKey (an Anthropic upstream's stream
// for an Anthropic client, OpenAIChunks.Native) is not translated: its event is written as it
// came, thinking and signature deltas, block indices and usage included, and from then on
// chunks without one (a usage chunk of the gateway's) are skipped.
//
// Chunk, End and Fail return the first error emit returns (the client went away); the caller
// stops there. An AnthropicEvents is used by one goroutine.
type AnthropicEvents struct {
	// InputUsage, when set before the first chunk, gives message_start its input counts.
	InputUsage *clearbar.Usage

	emit    EmitFunc
	started bool
	ended   bool
	// native says the stream's chunks carry the upstream's own events.
	native bool
	id     string // raw JSON string
	model  string // raw JSON string
	// toolBase is the answer's own id, from which ids of tool calls that came without one are
	// made.
	toolBase string
	next     int64 // index of the next block to open
	// open is the kind of the open block: 0 none, 'T' text, 'U' tool_use; openTool its call.
	open     byte
	openTool *eventTool
	tools    []*eventTool
	byIndex  map[int64]*eventTool
	waiting  strings.Builder // text that arrived while a tool block could not be closed
	stop     string          // the stop_reason of the finish_reason seen, "" before it
	usage    clearbar.Usage
	hasUsage bool
	buf      jw
}

// eventTool is one OpenAI tool call on its way to a tool_use block.
type eventTool struct {
	id, name string
	args     []byte
	sent     int  // bytes of args sent
	state    byte // 'p' pending, 'o' open, 'c' closed
}

// NewAnthropicEvents returns a translator that writes events with emit.
func NewAnthropicEvents(emit EmitFunc) *AnthropicEvents {
	return &AnthropicEvents{emit: emit}
}

// Chunk translates one chunk (the data of an OpenAI stream event). Usage on any chunk is kept
// for message_delta. A chunk that is not a JSON object is skipped.
func (s *AnthropicEvents) Chunk(data []byte) error {
	root, ok := parseWrapper(data) // a carried event may be jsonguard.MaxDepth deep itself
	if !ok || s.ended {
		return nil
	}
	// One pass over the top level (this runs for every chunk); duplicate keys read as the last.
	var id, model, choices, usage, native gjson.Result
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "id":
			id = v
		case "model":
			model = v
		case "choices":
			choices = v
		case "usage":
			usage = v
		case AnthropicKey:
			native = v
		}
		return true
	})
	if native.IsObject() && (s.native || !s.started) {
		s.native, s.started = true, true
		typ := native.Get("type").String()
		if typ == "message_stop" {
			s.ended = true
		}
		return s.emit(typ, []byte(native.Raw))
	}
	if s.native {
		return nil
	}
	if !s.started {
		if err := s.start(id, model); err != nil {
			return err
		}
	}
	if usage.IsObject() {
		s.usage, s.hasUsage = OpenAIUsage(usage), true
	}
	var choice gjson.Result
	choices.ForEach(func(_, c gjson.Result) bool {
		if idx := c.Get("index"); !idx.Exists() || idx.Int() == 0 {
			choice = c
			return false
		}
		return true
	})
	if !choice.Exists() {
		return nil
	}
	d := choice.Get("delta")
	for _, k := range [...]string{"content", "refusal"} {
		if v := d.Get(k); v.Type == gjson.String && v.Str != "" {
			if err := s.text(v.Str); err != nil {
				return err
			}
		}
	}
	var err error
	d.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
		err = s.toolDelta(tc)
		return err == nil
	})
	if err != nil {
		return err
	}
	if fr := choice.Get("finish_reason"); fr.Type == gjson.String && fr.Str != "" {
		s.stop = StopReason(fr.Str)
		return s.flush()
	}
	return nil
}

// End finishes the message after the OpenAI stream's [DONE]: every open or waiting block is
// written and closed, then message_delta and message_stop.
func (s *AnthropicEvents) End() error {
	if s.ended {
		return nil
	}
	if s.native {
		// The upstream's events stopped short of message_stop, yet the stream ended cleanly
		// (which an Anthropic upstream's stream does not do): end the message.
		s.ended = true
		return s.emit("message_stop", []byte(`{"type":"message_stop"}`))
	}
	if !s.started {
		if err := s.start(gjson.Result{}, gjson.Result{}); err != nil {
			return err
		}
	}
	if err := s.flush(); err != nil {
		return err
	}
	s.ended = true
	w := s.w()
	w.open('{')
	w.kstr("type", "message_delta")
	w.key("delta")
	w.open('{')
	stop := s.stop
	if stop == "" {
		stop = StopReason("")
	}
	w.kstr("stop_reason", stop)
	w.kraw("stop_sequence", "null")
	w.close('}')
	w.key("usage")
	u := s.usage
	if !s.hasUsage && s.InputUsage != nil {
		u = *s.InputUsage
	}
	writeAnthropicUsage(w, u)
	w.close('}')
	if err := s.emit("message_delta", w.b); err != nil {
		return err
	}
	return s.emit("message_stop", []byte(`{"type":"message_stop"}`))
}

// Fail ends the stream with an error event, as Anthropic reports a failure after the answer
// began: {"type":"error","error":{"type":typ,"message":message}}. Open blocks are left as
// they are; clients treat the error as the end.
func (s *AnthropicEvents) Fail(typ, message string) error {
	if s.ended {
		return nil
	}
	s.ended = true
	return s.emit("error", ErrorBody(typ, message, ""))
}

func (s *AnthropicEvents) w() *jw {
	s.buf.b, s.buf.more = s.buf.b[:0], s.buf.more[:0]
	return &s.buf
}

func (s *AnthropicEvents) start(id, model gjson.Result) error {
	s.started = true
	s.id, s.model = messageID(id), strings.Clone(rawString(model))
	s.toolBase = strings.Clone(id.String())
	if s.toolBase == "" {
		s.toolBase = "msg_clearbar"
	}
	w := s.w()
	w.open('{')
	w.kstr("type", "message_start")
	w.key("message")
	w.open('{')
	w.kraw("id", s.id)
	w.kstr("type", "message")
	w.kstr("role", "assistant")
	w.kraw("model", s.model)
	w.kraw("content", "[]")
	w.kraw("stop_reason", "null")
	w.kraw("stop_sequence", "null")
	w.key("usage")
	var u clearbar.Usage
	if s.InputUsage != nil {
		u = *s.InputUsage
		u.CompletionTokens = 0
	}
	writeAnthropicUsage(w, u)
	w.close('}')
	w.close('}')
	return s.emit("message_start", w.b)
}

// text writes a text fragment: into the open text block, or a new one; it waits while a tool
// block with incomplete arguments is open.
func (s *AnthropicEvents) text(t string) error {
	if s.open == 'U' {
		if !completeObject(s.openTool.args) {
			s.waiting.WriteString(t)
			return nil
		}
		if err := s.closeBlock(); err != nil {
			return err
		}
	}
	if s.waiting.Len() > 0 {
		t = s.waiting.String() + t
		s.waiting.Reset()
	}
	if s.open == 0 {
		if err := s.openBlock(`{"type":"text","text":""}`); err != nil {
			return err
		}
		s.open = 'T'
	}
	return s.textDelta(t)
}

func (s *AnthropicEvents) textDelta(t string) error {
	w := s.w()
	w.open('{')
	w.kstr("type", "content_block_delta")
	w.kint("index", s.next-1)
	w.key("delta")
	w.open('{')
	w.kstr("type", "text_delta")
	w.kstr("text", t)
	w.close('}')
	w.close('}')
	return s.emit("content_block_delta", w.b)
}

// toolDelta takes one tool-call delta and writes what can be written.
func (s *AnthropicEvents) toolDelta(tc gjson.Result) error {
	idx := tc.Get("index").Int()
	if idx < 0 {
		idx = 0 // Bedrock's OpenAI-compatible output sends -1; openai-go clamps it the same way
	}
	if s.byIndex == nil {
		s.byIndex = map[int64]*eventTool{}
	}
	t := s.byIndex[idx]
	if t == nil {
		t = &eventTool{state: 'p'}
		s.byIndex[idx] = t
		s.tools = append(s.tools, t)
	}
	// Strings read from data alias it, and the caller reuses its buffer: copy what is kept.
	if id := tc.Get("id").String(); id != "" && t.id == "" {
		t.id = anthropicToolID(id)
	}
	if name := tc.Get("function.name").String(); name != "" && t.state == 'p' {
		t.name = strings.Clone(t.name + name)
	}
	t.args = append(t.args, tc.Get("function.arguments").String()...)
	return s.advance(false)
}

// advance writes what the state allows: the open tool's new fragments; the next waiting tool
// once the open block can be closed. With all set (the finish), every block is written and
// closed.
func (s *AnthropicEvents) advance(all bool) error {
	for {
		if s.open == 'U' {
			t := s.openTool
			if t.sent < len(t.args) {
				if err := s.argsDelta(t); err != nil {
					return err
				}
			}
			if !all && (!s.hasPending() || !completeObject(t.args)) {
				return nil
			}
			if err := s.closeBlock(); err != nil {
				return err
			}
			continue
		}
		t := s.nextPending()
		if t == nil {
			return nil
		}
		if s.open == 'T' {
			if err := s.closeBlock(); err != nil {
				return err
			}
		}
		if err := s.openToolBlock(t); err != nil {
			return err
		}
	}
}

// completeObject reports whether tool-call arguments are a whole JSON object, which nothing
// more can be added to without making them invalid.
func completeObject(args []byte) bool {
	return jsonguard.Check(args) == nil && gjson.Parse(view(args)).IsObject()
}

func (s *AnthropicEvents) hasPending() bool { return s.nextPending() != nil }

func (s *AnthropicEvents) nextPending() *eventTool {
	for _, t := range s.tools {
		if t.state == 'p' {
			return t
		}
	}
	return nil
}

func (s *AnthropicEvents) openToolBlock(t *eventTool) error {
	if t.id == "" {
		// Anthropic tool ids match ^[a-zA-Z0-9_-]+$; one made from the message id and the
		// block index is unique within the conversation.
		t.id = "toolu_" + strings.Map(func(r rune) rune {
			if r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
				return r
			}
			return -1
		}, s.toolBase) + "_" + strconv.FormatInt(s.next, 10)
	}
	var b jw
	b.open('{')
	b.kstr("type", "tool_use")
	b.kstr("id", t.id)
	b.kstr("name", t.name)
	b.kraw("input", "{}")
	b.close('}')
	if err := s.openBlock(string(b.b)); err != nil {
		return err
	}
	s.open, s.openTool, t.state = 'U', t, 'o'
	return nil
}

func (s *AnthropicEvents) argsDelta(t *eventTool) error {
	w := s.w()
	w.open('{')
	w.kstr("type", "content_block_delta")
	w.kint("index", s.next-1)
	w.key("delta")
	w.open('{')
	w.kstr("type", "input_json_delta")
	w.kstr("partial_json", string(t.args[t.sent:]))
	w.close('}')
	w.close('}')
	t.sent = len(t.args)
	return s.emit("content_block_delta", w.b)
}

func (s *AnthropicEvents) openBlock(block string) error {
	w := s.w()
	w.open('{')
	w.kstr("type", "content_block_start")
	w.kint("index", s.next)
	w.kraw("content_block", block)
	w.close('}')
	s.next++
	return s.emit("content_block_start", w.b)
}

func (s *AnthropicEvents) closeBlock() error {
	if s.open == 'U' {
		s.openTool.state = 'c'
		s.openTool = nil
	}
	s.open = 0
	w := s.w()
	w.open('{')
	w.kstr("type", "content_block_stop")
	w.kint("index", s.next-1)
	w.close('}')
	return s.emit("content_block_stop", w.b)
}

// flush writes and closes every block: the open one, the waiting tool calls, the waiting text.
func (s *AnthropicEvents) flush() error {
	if err := s.advance(true); err != nil {
		return err
	}
	if s.waiting.Len() > 0 {
		if err := s.text(""); err != nil {
			return err
		}
	}
	if s.open != 0 {
		return s.closeBlock()
	}
	return nil
}
