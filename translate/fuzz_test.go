package translate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

// FuzzRequests feeds arbitrary bodies to both request translations: they never panic, and
// what they return is a JSON object or a ClientError.
func FuzzRequests(f *testing.F) {
	for _, b := range openAIRequests {
		f.Add([]byte(b))
	}
	for _, b := range anthropicRequests {
		f.Add([]byte(b))
	}
	f.Add([]byte(`{"messages":[{"role":"tool"},{"role":"assistant","content":[{"type":"refusal","refusal":"no"}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		before := bytes.Clone(body)
		for name, fn := range map[string]func([]byte) ([]byte, error){
			"to anthropic": func(b []byte) ([]byte, error) { return ToAnthropicRequest(b, AnthropicOptions{}) },
			"to openai":    func(b []byte) ([]byte, error) { return ToOpenAIRequest(b, OpenAIOptions{}) },
		} {
			out, err := fn(body)
			if err != nil {
				if clearbar.ClassOf(err) != clearbar.ClientError {
					t.Fatalf("%s: %v is not a ClientError", name, err)
				}
				continue
			}
			if !json.Valid(out) || !gjson.ParseBytes(out).IsObject() {
				t.Fatalf("%s: output is not a JSON object: %s\ninput %s", name, out, body)
			}
		}
		if !bytes.Equal(body, before) {
			t.Fatal("the input was modified")
		}
	})
}

// FuzzAnthropicEvents builds OpenAI streams from a script (text fragments, tool calls started
// and continued in any interleaving, refusals, a finish) and checks that the Anthropic events
// are what the strictest client accepts and hold the same text and tool calls, in order.
func FuzzAnthropicEvents(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte{1, 1, 9, 2, 10, 6, 11, 0, 3})
	f.Add([]byte{0, 0, 1, 9, 17, 25, 2, 10, 18})
	fragments := []string{`{"a":`, `1`, `}`, `"x y"`, `[`, `]`, ``, `{}`}
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) > 200 {
			script = script[:200]
		}
		var chunks []string
		var text strings.Builder
		args := map[int]*strings.Builder{}
		var order []int
		chunk := func(delta string, finish string) {
			fr := "null"
			if finish != "" {
				fr = `"` + finish + `"`
			}
			chunks = append(chunks, `{"id":"cf","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":`+delta+`,"finish_reason":`+fr+`}]}`)
		}
		for _, op := range script {
			k := int(op>>3) % 3
			switch op % 8 {
			case 0, 1:
				s := fmt.Sprintf("t%d ", op)
				text.WriteString(s)
				chunk(`{"content":"`+s+`"}`, "")
			case 2:
				s := fmt.Sprintf("r%d ", op)
				text.WriteString(s)
				chunk(`{"refusal":"`+s+`"}`, "")
			default:
				frag := fragments[int(op>>3)%len(fragments)]
				b, seen := args[k]
				if !seen {
					b = &strings.Builder{}
					args[k] = b
					order = append(order, k)
					js, _ := json.Marshal(frag)
					chunk(fmt.Sprintf(`{"tool_calls":[{"index":%d,"id":"call_%d","type":"function","function":{"name":"f%d","arguments":%s}}]}`, k, k, k, js), "")
				} else {
					js, _ := json.Marshal(frag)
					chunk(fmt.Sprintf(`{"tool_calls":[{"index":%d,"function":{"arguments":%s}}]}`, k, js), "")
				}
				b.WriteString(frag)
			}
		}
		chunk(`{}`, "stop")
		var events []event
		s := NewAnthropicEvents(func(typ string, data []byte) error {
			events = append(events, event{typ, bytes.Clone(data)})
			return nil
		})
		for _, c := range chunks {
			if err := s.Chunk([]byte(c)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.End(); err != nil {
			t.Fatal(err)
		}
		m, err := accumulateLenient(events)
		if err != nil {
			t.Fatalf("%v\nchunks %q", err, chunks)
		}
		var gotText strings.Builder
		gotArgs := map[string]string{}
		var gotOrder []string
		for _, b := range m.Content {
			switch b.Type {
			case "text":
				gotText.WriteString(b.Text)
			case "tool_use":
				gotArgs[b.ID] = b.Input
				gotOrder = append(gotOrder, b.ID)
			}
		}
		if gotText.String() != text.String() {
			t.Fatalf("text %q, want %q", gotText.String(), text.String())
		}
		if len(gotOrder) != len(order) {
			t.Fatalf("%d tool blocks, want %d", len(gotOrder), len(order))
		}
		for i, k := range order {
			id := fmt.Sprintf("toolu_%d", k) // call_k, with Anthropic's prefix (toolids.go)
			if gotOrder[i] != id {
				t.Fatalf("tool block %d is %s, want %s", i, gotOrder[i], id)
			}
			// Every fragment arrives, unless the arguments were a complete object already when
			// a later block had to open: then the rest is dropped.
			got, sent := gotArgs[id], args[k].String()
			if got != sent && (!strings.HasPrefix(sent, got) || !gjson.Valid(got) || !gjson.Parse(got).IsObject()) {
				t.Fatalf("%s input %q, want %q", id, got, sent)
			}
		}
	})
}

// accumulateLenient is accumulate for fuzzed tool arguments, which need not be JSON: it checks
// the event structure and returns tool inputs as the raw concatenated fragments.
func accumulateLenient(events []event) (message, error) {
	raw := map[int]*strings.Builder{}
	cur := -1
	var fixed []event
	for _, e := range events {
		d := gjson.ParseBytes(e.data)
		switch {
		case e.typ == "content_block_start" && d.Get("content_block.type").String() == "tool_use":
			cur = int(d.Get("index").Int())
			raw[cur] = &strings.Builder{}
		case e.typ == "content_block_delta" && d.Get("delta.type").String() == "input_json_delta":
			raw[int(d.Get("index").Int())].WriteString(d.Get("delta.partial_json").String())
			continue // kept out, so accumulate does not parse fuzzed JSON
		}
		fixed = append(fixed, e)
	}
	m, err := accumulate(fixed)
	if err != nil {
		return m, err
	}
	for i := range m.Content {
		if b := raw[i]; b != nil {
			m.Content[i].Input = b.String()
		}
	}
	return m, nil
}

// FuzzOpenAIChunks feeds arbitrary event data to the Anthropic stream reader, plain and carrying
// the events (Native) in the deprecated functions' form or not: it never panics, and every
// chunk it makes is a JSON object with the stream's one id.
func FuzzOpenAIChunks(f *testing.F) {
	f.Add("message_start", []byte(`{"type":"message_start","message":{"id":"msg_1","model":"c","usage":{"input_tokens":1}}}`), []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}`))
	f.Add("", []byte(`{"type":"message_start","message":{"id":"m\"x","model":7}}`), []byte(`{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":3,"name":null,"input":[]}}`))
	f.Fuzz(func(t *testing.T, typ string, first, second []byte) {
		tr := OpenAIChunks{Native: len(first)%2 == 1, Functions: len(second)%2 == 1}
		id := ""
		for _, data := range [][]byte{first, second, []byte(`{"type":"message_stop"}`)} {
			chunks, _ := tr.Event(typ, data)
			for _, c := range chunks {
				d := gjson.ParseBytes(c.Data)
				if !json.Valid(c.Data) || !d.IsObject() {
					t.Fatalf("chunk is not a JSON object: %s", c.Data)
				}
				if id == "" {
					id = d.Get("id").Raw
				} else if d.Get("id").Raw != id {
					t.Fatalf("chunk id %s, stream id %s", d.Get("id").Raw, id)
				}
			}
			typ = ""
		}
	})
}
