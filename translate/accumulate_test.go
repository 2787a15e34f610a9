package translate

import (
	"fmt"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

// message is an Anthropic message as a client accumulates it from a stream, or reads it whole.
type message struct {
	ID, Model  string
	Content    []block
	StopReason string
	Usage      [4]int64 // input, cache_creation, cache_read, output
}

type block struct {
	Type, Text, ID, Name, Input string
}

func (m message) String() string { return fmt.Sprintf("%+v", struct{ M message }{m}) }

// accumulate reads Anthropic stream events as the strictest SDK would, and more: every event
// has its event line and a data type that matches it; message_start comes first and once;
// blocks start at the next index (contiguous from 0) only after the previous block stopped;
// deltas and stops address the open block, deltas of the block's kind; message_delta comes
// after every block stopped, message_stop last. Tool inputs must accumulate to a JSON object.
func accumulate(events []event) (message, error) {
	var m message
	started, stopped, delta := false, false, false
	open := -1
	inputs := map[int]*strings.Builder{}
	for i, e := range events {
		if e.typ == "" {
			return m, fmt.Errorf("event %d has no event line", i)
		}
		if !gjson.ValidBytes(e.data) {
			return m, fmt.Errorf("event %d (%s): data is not JSON: %s", i, e.typ, e.data)
		}
		d := gjson.ParseBytes(e.data)
		if dt := d.Get("type").String(); dt != e.typ {
			return m, fmt.Errorf("event %d: event line %q, data type %q", i, e.typ, dt)
		}
		if stopped {
			return m, fmt.Errorf("event %d (%s) after message_stop", i, e.typ)
		}
		if !started && e.typ != "message_start" && e.typ != "ping" {
			return m, fmt.Errorf("event %d (%s) before message_start", i, e.typ)
		}
		idx := int(d.Get("index").Int())
		switch e.typ {
		case "message_start":
			if started {
				return m, fmt.Errorf("event %d: a second message_start", i)
			}
			started = true
			msg := d.Get("message")
			m.ID, m.Model = msg.Get("id").String(), msg.Get("model").String()
			if msg.Get("type").String() != "message" || msg.Get("role").String() != "assistant" || !msg.Get("content").IsArray() {
				return m, fmt.Errorf("message_start's message is not an empty assistant message: %s", msg.Raw)
			}
			m.Usage = usageOf(msg.Get("usage"), m.Usage)
		case "content_block_start":
			if delta {
				return m, fmt.Errorf("event %d: a block starts after message_delta", i)
			}
			if open >= 0 {
				return m, fmt.Errorf("event %d: block %d starts while block %d is open", i, idx, open)
			}
			if idx != len(m.Content) {
				return m, fmt.Errorf("event %d: block index %d, want %d (indices must be contiguous from 0)", i, idx, len(m.Content))
			}
			cb := d.Get("content_block")
			b := block{Type: cb.Get("type").String(), Text: cb.Get("text").String(), ID: cb.Get("id").String(), Name: cb.Get("name").String()}
			switch b.Type {
			case "text":
			case "tool_use":
				if cb.Get("input").Raw != "{}" {
					return m, fmt.Errorf("event %d: tool_use starts with input %s, want {}", i, cb.Get("input").Raw)
				}
				if b.ID == "" || b.Name == "" {
					return m, fmt.Errorf("event %d: tool_use without id or name: %s", i, cb.Raw)
				}
				inputs[idx] = &strings.Builder{}
			default:
				return m, fmt.Errorf("event %d: unexpected block type %q", i, b.Type)
			}
			m.Content = append(m.Content, b)
			open = idx
		case "content_block_delta":
			if idx != open {
				return m, fmt.Errorf("event %d: delta for block %d, the open block is %d", i, idx, open)
			}
			b := &m.Content[idx]
			switch dt := d.Get("delta.type").String(); {
			case dt == "text_delta" && b.Type == "text":
				b.Text += d.Get("delta.text").String()
			case dt == "input_json_delta" && b.Type == "tool_use":
				inputs[idx].WriteString(d.Get("delta.partial_json").String())
			default:
				return m, fmt.Errorf("event %d: delta %q for a %s block", i, dt, b.Type)
			}
		case "content_block_stop":
			if idx != open {
				return m, fmt.Errorf("event %d: stop for block %d, the open block is %d", i, idx, open)
			}
			if in := inputs[idx]; in != nil {
				s := in.String()
				if s == "" {
					s = "{}"
				}
				if !gjson.Valid(s) || !gjson.Parse(s).IsObject() {
					return m, fmt.Errorf("block %d: the tool input %q is not a JSON object", idx, s)
				}
				m.Content[idx].Input = compact(s)
			}
			open = -1
		case "message_delta":
			if open >= 0 {
				return m, fmt.Errorf("event %d: message_delta while block %d is open", i, open)
			}
			delta = true
			m.StopReason = d.Get("delta.stop_reason").String()
			if !d.Get("usage.output_tokens").Exists() {
				return m, fmt.Errorf("event %d: message_delta without usage.output_tokens", i)
			}
			m.Usage = usageOf(d.Get("usage"), m.Usage)
		case "message_stop":
			if !delta {
				return m, fmt.Errorf("event %d: message_stop without message_delta", i)
			}
			stopped = true
		case "ping":
		case "error":
			return m, fmt.Errorf("error event: %s", e.data)
		default:
			return m, fmt.Errorf("event %d: unknown type %q", i, e.typ)
		}
	}
	if !stopped {
		return m, fmt.Errorf("the stream has no message_stop")
	}
	return m, nil
}

// usageOf overrides the counts a usage object carries.
func usageOf(u gjson.Result, prev [4]int64) [4]int64 {
	for i, k := range []string{"input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens"} {
		if v := u.Get(k); v.Exists() {
			prev[i] = v.Int()
		}
	}
	return prev
}

// readMessage reads a whole Anthropic message the way accumulate leaves a streamed one.
func readMessage(body []byte) message {
	d := gjson.ParseBytes(body)
	m := message{ID: d.Get("id").String(), Model: d.Get("model").String(), StopReason: d.Get("stop_reason").String(), Usage: usageOf(d.Get("usage"), [4]int64{})}
	d.Get("content").ForEach(func(_, b gjson.Result) bool {
		switch b.Get("type").String() {
		case "text":
			m.Content = append(m.Content, block{Type: "text", Text: b.Get("text").String()})
		case "tool_use":
			m.Content = append(m.Content, block{Type: "tool_use", ID: b.Get("id").String(), Name: b.Get("name").String(), Input: compact(b.Get("input").Raw)})
		}
		return true
	})
	return m
}

// completion is an OpenAI answer as a client accumulates it from chunks, or reads it whole.
type completion struct {
	ID, Model, Text, Finish string
	Calls                   []string // "id name arguments"
	Usage                   clearbar.Usage
	HasUsage                bool
}

// accumulateChunks reads OpenAI chunks as openai-go's accumulator does and checks what it
// needs: one id throughout, usage once, on a last chunk without choices; tool-call deltas by
// index, the first with id and name.
func accumulateChunks(chunks [][]byte) (completion, error) { return accumulateChunksAs(chunks, true) }

// accumulateChunksAs is accumulateChunks; without strict, usage may come on any chunk (the
// last wins), as some upstreams send it.
func accumulateChunksAs(chunks [][]byte, strict bool) (completion, error) {
	var c completion
	type call struct{ id, name, args string }
	calls := map[int64]*call{}
	var order []int64
	for i, data := range chunks {
		d := gjson.ParseBytes(data)
		if !d.IsObject() || d.Get("error").Exists() {
			return c, fmt.Errorf("chunk %d is not a clean chunk: %s", i, data)
		}
		if id := d.Get("id").String(); i == 0 {
			c.ID, c.Model = id, d.Get("model").String()
		} else if id != c.ID {
			return c, fmt.Errorf("chunk %d has id %q, the stream's is %q", i, id, c.ID)
		}
		choices := d.Get("choices").Array()
		if u := d.Get("usage"); u.IsObject() {
			if strict && (len(choices) > 0 || i != len(chunks)-1 || c.HasUsage) {
				return c, fmt.Errorf("chunk %d: usage must come once, on the last chunk, without choices", i)
			}
			c.Usage, c.HasUsage = OpenAIUsage(u), true
		}
		for _, ch := range choices {
			dl := ch.Get("delta")
			c.Text += dl.Get("content").String()
			if fr := ch.Get("finish_reason"); fr.Type == gjson.String {
				c.Finish = fr.Str
			}
			for _, tc := range dl.Get("tool_calls").Array() {
				idx := tc.Get("index").Int()
				k := calls[idx]
				if k == nil {
					if tc.Get("id").String() == "" || tc.Get("function.name").String() == "" {
						return c, fmt.Errorf("chunk %d: the first delta of tool call %d has no id or name", i, idx)
					}
					k = &call{}
					calls[idx] = k
					order = append(order, idx)
				}
				if id := tc.Get("id").String(); id != "" {
					k.id = id
				}
				k.name += tc.Get("function.name").String()
				k.args += tc.Get("function.arguments").String()
			}
		}
	}
	for _, idx := range order {
		k := calls[idx]
		c.Calls = append(c.Calls, k.id+" "+k.name+" "+args(k.args))
	}
	return c, nil
}

// readCompletion reads a whole chat.completion the way accumulateChunks leaves a stream.
func readCompletion(body []byte) completion {
	d := gjson.ParseBytes(body)
	ch := d.Get("choices.0")
	c := completion{ID: d.Get("id").String(), Model: d.Get("model").String(), Text: ch.Get("message.content").String(), Finish: ch.Get("finish_reason").String()}
	for _, tc := range ch.Get("message.tool_calls").Array() {
		c.Calls = append(c.Calls, tc.Get("id").String()+" "+tc.Get("function.name").String()+" "+args(tc.Get("function.arguments").String()))
	}
	if u := d.Get("usage"); u.IsObject() {
		c.Usage, c.HasUsage = OpenAIUsage(u), true
	}
	return c
}

// args is a tool call's arguments compacted, "" read as {} (no arguments).
func args(s string) string {
	if s = compact(s); s == "" {
		return "{}"
	}
	return s
}

// compact removes insignificant whitespace from JSON, so that inputs compare by value.
func compact(s string) string {
	if s == "" || !gjson.Valid(s) {
		return s
	}
	return string(gjson.Parse(s).Get("@ugly").Raw)
}
