package translate

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"
)

// ResponsesEvents turns chat.completion.chunk documents into the Responses API's event stream:
// response.created and response.in_progress first; a message item (output_item.added,
// content_part.added, output_text.delta…, output_text.done, content_part.done,
// output_item.done) for the text, a refusal part for a refusal; a function_call item
// (function_call_arguments.delta…, .done) for each tool call; then response.completed (or
// response.incomplete when the answer was cut by its token limit), or response.failed (Fail).
// Every event carries its type and a sequence_number increasing from 0; there is no [DONE].
//
// A message item is closed when a tool call begins; tool call items stay open until the end,
// since an upstream may interleave the argument fragments of parallel calls. Chunk, End and
// Fail return the first error emit returns; a ResponsesEvents is used by one goroutine.
type ResponsesEvents struct {
	emit    EmitFunc
	s       responseState
	base    string // the id items' ids are made from
	seq     int64
	started bool
	ended   bool
	// msg is the open message item's index in s.output (-1 none); part its open part: 0 none,
	// 'T' output_text, 'R' refusal; text the open part's text.
	msg   int
	part  byte
	text  strings.Builder
	calls map[int64]*streamCall
	order []*streamCall
	nmsg  int
	// cut is the index in s.output of the item a token limit or content filter cut (-1 none),
	// known when End closes the open items.
	cut int
}

// streamCall is one tool call on its way to a function_call item.
type streamCall struct {
	index int // in s.output
	args  strings.Builder
	done  bool
}

// NewResponsesEvents returns a transcoder writing to emit, for the response "resp_"+id.
func NewResponsesEvents(emit EmitFunc, id string, echo ResponsesEcho) *ResponsesEvents {
	return &ResponsesEvents{emit: emit, s: responseState{echo: echo, id: "resp_" + id}, base: id, msg: -1, cut: -1, calls: map[int64]*streamCall{}}
}

// send writes one event; fields are its members besides type and sequence_number.
func (e *ResponsesEvents) send(typ string, fields map[string]any) error {
	fields["type"] = typ
	fields["sequence_number"] = e.seq
	e.seq++
	b, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	return e.emit(typ, b)
}

func (e *ResponsesEvents) start(chunk gjson.Result) error {
	if e.started {
		return nil
	}
	e.started = true
	if chunk.Exists() {
		e.s.model, e.s.created = chunk.Get("model").Str, chunk.Get("created").Int()
	}
	if err := e.send("response.created", map[string]any{"response": e.s.object("in_progress", nil)}); err != nil {
		return err
	}
	return e.send("response.in_progress", map[string]any{"response": e.s.object("in_progress", nil)})
}

// Chunk transcodes one chat.completion.chunk.
func (e *ResponsesEvents) Chunk(data []byte) error {
	if e.ended {
		return nil
	}
	c := gjson.ParseBytes(data)
	if err := e.start(c); err != nil {
		return err
	}
	if u := c.Get("usage"); u.IsObject() {
		e.s.usage = u
	}
	ch := c.Get("choices.0")
	if !ch.Exists() {
		return nil
	}
	d := ch.Get("delta")
	if t := d.Get("content"); t.Type == gjson.String && t.Str != "" {
		if err := e.textDelta('T', t.Str); err != nil {
			return err
		}
	}
	if t := d.Get("refusal"); t.Type == gjson.String && t.Str != "" {
		if err := e.textDelta('R', t.Str); err != nil {
			return err
		}
	}
	var err error
	d.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
		err = e.callDelta(tc)
		return err == nil
	})
	if err != nil {
		return err
	}
	if f := ch.Get("finish_reason"); f.Type == gjson.String {
		e.s.finish = f.Str
	}
	return nil
}

// textDelta adds text to the open message item's part of kind, opening what is needed.
func (e *ResponsesEvents) textDelta(kind byte, text string) error {
	if e.msg < 0 {
		e.msg = len(e.s.output)
		id := fmt.Sprintf("msg_%s", e.base)
		if e.nmsg > 0 {
			id = fmt.Sprintf("msg_%s_%d", e.base, e.nmsg)
		}
		e.nmsg++
		e.s.output = append(e.s.output, messageItem(id, "in_progress", []any{}))
		if err := e.send("response.output_item.added", map[string]any{"output_index": e.msg, "item": messageItem(id, "in_progress", []any{})}); err != nil {
			return err
		}
	}
	item := e.s.output[e.msg]
	if e.part != kind {
		if err := e.closePart(); err != nil {
			return err
		}
		e.part = kind
		var p map[string]any
		if kind == 'T' {
			p = textPart("")
		} else {
			p = refusalPart("")
		}
		if err := e.send("response.content_part.added", map[string]any{"item_id": item["id"], "output_index": e.msg,
			"content_index": len(item["content"].([]any)), "part": p}); err != nil {
			return err
		}
	}
	e.text.WriteString(text)
	ci := len(item["content"].([]any))
	if kind == 'T' {
		return e.send("response.output_text.delta", map[string]any{"item_id": item["id"], "output_index": e.msg, "content_index": ci, "delta": text, "logprobs": []any{}})
	}
	return e.send("response.refusal.delta", map[string]any{"item_id": item["id"], "output_index": e.msg, "content_index": ci, "delta": text})
}

// closePart ends the open message part, if any.
func (e *ResponsesEvents) closePart() error {
	if e.part == 0 {
		return nil
	}
	item := e.s.output[e.msg]
	ci := len(item["content"].([]any))
	text := e.text.String()
	e.text.Reset()
	var p map[string]any
	var err error
	if e.part == 'T' {
		p = textPart(text)
		err = e.send("response.output_text.done", map[string]any{"item_id": item["id"], "output_index": e.msg, "content_index": ci, "text": text, "logprobs": []any{}})
	} else {
		p = refusalPart(text)
		err = e.send("response.refusal.done", map[string]any{"item_id": item["id"], "output_index": e.msg, "content_index": ci, "refusal": text})
	}
	e.part = 0
	if err != nil {
		return err
	}
	item["content"] = append(item["content"].([]any), p)
	return e.send("response.content_part.done", map[string]any{"item_id": item["id"], "output_index": e.msg, "content_index": ci, "part": p})
}

// itemStatus is the status an item ends with: incomplete for the one the answer's cut ended.
func (e *ResponsesEvents) itemStatus(index int) string {
	if index == e.cut {
		return "incomplete"
	}
	return "completed"
}

// closeMessage ends the open message item, if any.
func (e *ResponsesEvents) closeMessage() error {
	if e.msg < 0 {
		return nil
	}
	if err := e.closePart(); err != nil {
		return err
	}
	item := e.s.output[e.msg]
	item["status"] = e.itemStatus(e.msg)
	i := e.msg
	e.msg = -1
	return e.send("response.output_item.done", map[string]any{"output_index": i, "item": item})
}

// callDelta handles one tool_calls fragment.
func (e *ResponsesEvents) callDelta(tc gjson.Result) error {
	idx := tc.Get("index").Int()
	c := e.calls[idx]
	if c == nil {
		if err := e.closeMessage(); err != nil {
			return err
		}
		callID := tc.Get("id").Str
		if callID == "" {
			callID = fmt.Sprintf("call_%s_%d", e.base, len(e.order))
		}
		c = &streamCall{index: len(e.s.output)}
		e.calls[idx] = c
		e.order = append(e.order, c)
		id := fmt.Sprintf("fc_%s_%d", e.base, len(e.order)-1)
		e.s.output = append(e.s.output, callItem(id, callID, tc.Get("function.name").Str, "", "in_progress"))
		if err := e.send("response.output_item.added", map[string]any{"output_index": c.index, "item": callItem(id, callID, tc.Get("function.name").Str, "", "in_progress")}); err != nil {
			return err
		}
	}
	item := e.s.output[c.index]
	if n := tc.Get("function.name").Str; n != "" && item["name"] == "" {
		item["name"] = n
	}
	if a := tc.Get("function.arguments").Str; a != "" && !c.done {
		c.args.WriteString(a)
		return e.send("response.function_call_arguments.delta", map[string]any{"item_id": item["id"], "output_index": c.index, "delta": a})
	}
	return nil
}

// closeCalls ends every open function_call item, in order.
func (e *ResponsesEvents) closeCalls() error {
	for _, c := range e.order {
		if c.done {
			continue
		}
		c.done = true
		item := e.s.output[c.index]
		item["arguments"] = c.args.String()
		item["status"] = e.itemStatus(c.index)
		if err := e.send("response.function_call_arguments.done", map[string]any{"item_id": item["id"], "output_index": c.index, "name": item["name"], "arguments": item["arguments"]}); err != nil {
			return err
		}
		if err := e.send("response.output_item.done", map[string]any{"output_index": c.index, "item": item}); err != nil {
			return err
		}
	}
	return nil
}

// End closes the open items and sends response.completed (response.incomplete when the answer
// was cut by its token limit or a content filter).
func (e *ResponsesEvents) End() error {
	if e.ended {
		return nil
	}
	if err := e.start(gjson.Result{}); err != nil {
		return err
	}
	status := e.s.finalStatus()
	if status == "incomplete" {
		e.cut = len(e.s.output) - 1
	}
	if err := e.closeMessage(); err != nil {
		return err
	}
	if err := e.closeCalls(); err != nil {
		return err
	}
	e.ended = true
	return e.send("response."+status, map[string]any{"response": e.s.object(status, nil)})
}

// Fail ends the stream with response.failed, carrying the error's code and message, and in
// its output what was streamed so far: the items still open, with their text (tool call
// arguments) as far as it came and status incomplete, as OpenAI's failed responses carry
// their partial output. It sends no done events for them: the items did not finish.
func (e *ResponsesEvents) Fail(code, message string) error {
	if e.ended {
		return nil
	}
	if err := e.start(gjson.Result{}); err != nil {
		return err
	}
	e.ended = true
	e.cutOpenItems()
	return e.send("response.failed", map[string]any{"response": e.s.object("failed", map[string]any{"code": code, "message": message})})
}

// cutOpenItems ends the open items of a stream that failed where they stand: the open message
// part with the text streamed so far, the open tool calls with the arguments so far, each
// item with status incomplete.
func (e *ResponsesEvents) cutOpenItems() {
	if e.msg >= 0 {
		item := e.s.output[e.msg]
		switch e.part {
		case 'T':
			item["content"] = append(item["content"].([]any), textPart(e.text.String()))
		case 'R':
			item["content"] = append(item["content"].([]any), refusalPart(e.text.String()))
		}
		e.part = 0
		e.text.Reset()
		item["status"] = "incomplete"
		e.msg = -1
	}
	for _, c := range e.order {
		if c.done {
			continue
		}
		c.done = true
		item := e.s.output[c.index]
		item["arguments"] = c.args.String()
		item["status"] = "incomplete"
	}
}
