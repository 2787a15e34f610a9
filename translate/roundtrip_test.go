package translate

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar/sse"
)

// canon is a request reduced to what both formats can express, in one shape, so that a round
// trip can be checked field by field. Conversation items are flattened ("user text:…",
// "assistant call:id name args", "tool result:id:text"), which makes message merging and
// system hoisting invisible, as they should be.
type canon struct {
	Model             string
	MaxTokens         int64
	Stop              []string
	Temperature, TopP string
	User              string
	Tools             []string
	ToolChoice        string
	NoParallel        bool
	Schema            string
	Stream            bool
	System            []string
	Items             []string
}

func texts(v gjson.Result) string {
	if v.Type == gjson.String {
		return v.Str
	}
	var b strings.Builder
	for _, p := range v.Array() {
		b.WriteString(p.Get("text").String())
	}
	return b.String()
}

// addItem appends a conversation item; an assistant's consecutive texts are one item, as the
// OpenAI format holds them.
func (c *canon) addItem(s string) {
	if n := len(c.Items); n > 0 && strings.HasPrefix(s, "assistant text:") && strings.HasPrefix(c.Items[n-1], "assistant text:") {
		c.Items[n-1] += strings.TrimPrefix(s, "assistant text:")
		return
	}
	c.Items = append(c.Items, s)
}

func canonOpenAI(t *testing.T, body []byte) canon {
	t.Helper()
	d := gjson.ParseBytes(body)
	c := canon{Model: d.Get("model").String(), Temperature: d.Get("temperature").Raw, TopP: d.Get("top_p").Raw,
		User: d.Get("user").String(), Stream: d.Get("stream").Bool(), NoParallel: d.Get("parallel_tool_calls").Type == gjson.False,
		Schema: compact(d.Get("response_format.json_schema.schema").Raw)}
	c.MaxTokens = d.Get("max_completion_tokens").Int()
	if c.MaxTokens == 0 {
		c.MaxTokens = d.Get("max_tokens").Int()
	}
	if s := d.Get("stop"); s.Type == gjson.String {
		c.Stop = []string{s.Str}
	} else {
		for _, v := range s.Array() {
			c.Stop = append(c.Stop, v.String())
		}
	}
	for _, tl := range d.Get("tools").Array() {
		f := tl.Get("function")
		params := compact(f.Get("parameters").Raw)
		if params == "" {
			params = `{"type":"object","properties":{}}`
		}
		c.Tools = append(c.Tools, f.Get("name").String()+"|"+f.Get("description").String()+"|"+params+"|"+f.Get("strict").String())
	}
	switch tc := d.Get("tool_choice"); {
	case tc.Type == gjson.String:
		c.ToolChoice = tc.Str
	case tc.IsObject():
		c.ToolChoice = "fn:" + tc.Get("function.name").String()
	}
	for _, m := range d.Get("messages").Array() {
		content := m.Get("content")
		switch role := m.Get("role").String(); role {
		case "system", "developer":
			c.System = append(c.System, texts(content))
		case "user":
			if content.Type == gjson.String {
				c.addItem("user text:" + content.Str)
			}
			for _, p := range content.Array() {
				switch p.Get("type").String() {
				case "text":
					c.addItem("user text:" + p.Get("text").String())
				case "image_url":
					c.addItem("user image:" + p.Get("image_url.url").String())
				case "file":
					c.addItem("user file:" + p.Get("file.filename").String() + ":" + p.Get("file.file_data").String())
				}
			}
		case "assistant":
			if s := texts(content); s != "" {
				c.addItem("assistant text:" + s)
			}
			for _, tc := range m.Get("tool_calls").Array() {
				args := compact(tc.Get("function.arguments").String())
				if args == "" {
					args = "{}"
				}
				c.addItem("assistant call:" + tc.Get("id").String() + " " + tc.Get("function.name").String() + " " + args)
			}
		case "tool":
			c.addItem("tool result:" + m.Get("tool_call_id").String() + ":" + texts(content))
		}
	}
	return c
}

func canonAnthropic(t *testing.T, body []byte) canon {
	t.Helper()
	d := gjson.ParseBytes(body)
	c := canon{Model: d.Get("model").String(), MaxTokens: d.Get("max_tokens").Int(), Temperature: d.Get("temperature").Raw,
		TopP: d.Get("top_p").Raw, User: d.Get("metadata.user_id").String(), Stream: d.Get("stream").Bool(),
		NoParallel: d.Get("tool_choice.disable_parallel_tool_use").Bool(), Schema: compact(d.Get("output_config.format.schema").Raw)}
	for _, v := range d.Get("stop_sequences").Array() {
		c.Stop = append(c.Stop, v.String())
	}
	for _, tl := range d.Get("tools").Array() {
		c.Tools = append(c.Tools, tl.Get("name").String()+"|"+tl.Get("description").String()+"|"+compact(tl.Get("input_schema").Raw)+"|"+tl.Get("strict").String())
	}
	switch tc := d.Get("tool_choice"); tc.Get("type").String() {
	case "auto", "none":
		c.ToolChoice = tc.Get("type").String()
	case "any":
		c.ToolChoice = "required"
	case "tool":
		c.ToolChoice = "fn:" + tc.Get("name").String()
	}
	if c.ToolChoice == "auto" && c.NoParallel {
		c.ToolChoice = "" // {type: auto, disable_parallel_tool_use} is how "no choice, no parallel calls" reads
	}
	if s := d.Get("system"); s.Type == gjson.String {
		c.System = []string{s.Str}
	} else {
		for _, b := range s.Array() {
			c.System = append(c.System, b.Get("text").String())
		}
	}
	for _, m := range d.Get("messages").Array() {
		role, content := m.Get("role").String(), m.Get("content")
		if content.Type == gjson.String {
			c.addItem(role + " text:" + content.Str)
			continue
		}
		for _, b := range content.Array() {
			switch b.Get("type").String() {
			case "text":
				c.addItem(role + " text:" + b.Get("text").String())
			case "image":
				src := b.Get("source")
				if src.Get("type").String() == "url" {
					c.addItem("user image:" + src.Get("url").String())
				} else {
					c.addItem("user image:data:" + src.Get("media_type").String() + ";base64," + src.Get("data").String())
				}
			case "document":
				src := b.Get("source")
				c.addItem("user file:" + b.Get("title").String() + ":data:" + src.Get("media_type").String() + ";base64," + src.Get("data").String())
			case "tool_use":
				c.addItem("assistant call:" + b.Get("id").String() + " " + b.Get("name").String() + " " + compact(b.Get("input").Raw))
			case "tool_result":
				c.addItem("tool result:" + b.Get("tool_use_id").String() + ":" + texts(b.Get("content")))
			}
		}
	}
	return c
}

// openAIRequests are requests whose every field Anthropic can express, besides the dropped
// ones TestDropped lists.
var openAIRequests = map[string]string{
	"plain": `{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":50,"temperature":0.5,"top_p":0.9,"stop":"END","user":"u-1"}`,
	"tools": `{"model":"m","max_completion_tokens":900,"stream":true,"messages":[
		{"role":"developer","content":"Use tools."},
		{"role":"user","content":"Weather in Paris and Rome?"},
		{"role":"assistant","content":"Checking both.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"w","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_2","type":"function","function":{"name":"w","arguments":"{\"city\":\"Rome\"}"}}]},
		{"role":"tool","tool_call_id":"call_1","content":"20C"},
		{"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"25C"}]},
		{"role":"user","content":"Which is warmer?"}],
		"tools":[{"type":"function","function":{"name":"w","description":"weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true}}],
		"tool_choice":"required","parallel_tool_calls":false}`,
	"multimodal":   `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"Look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},{"type":"image_url","image_url":{"url":"https://x.test/a.png"}},{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBE"}}]},{"role":"assistant","content":"A logo."},{"role":"user","content":"Sure?"}],"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{"type":"object","properties":{"ok":{"type":"boolean"}}}}},"tool_choice":"none","tools":[{"type":"function","function":{"name":"f"}}]}`,
	"named choice": `{"model":"m","messages":[{"role":"user","content":"x"},{"role":"user","content":"y"},{"role":"system","content":"late system"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"f"}}}`,
}

// TestRoundTripOpenAI sends OpenAI requests to Anthropic's format and back: every field both
// sides express survives (system messages hoisted and same-role messages merged, which the
// flattened form does not see).
func TestRoundTripOpenAI(t *testing.T) {
	for name, body := range openAIRequests {
		t.Run(name, func(t *testing.T) {
			a, err := ToAnthropicRequest([]byte(body), AnthropicOptions{Stream: gjson.Get(body, "stream").Bool()})
			if err != nil {
				t.Fatal(err)
			}
			back, err := ToOpenAIRequest(a, OpenAIOptions{})
			if err != nil {
				t.Fatalf("%v\n%s", err, a)
			}
			want := canonOpenAI(t, []byte(body))
			if want.MaxTokens == 0 {
				want.MaxTokens = DefaultMaxTokens
			}
			if got := canonOpenAI(t, back); !reflect.DeepEqual(got, want) {
				t.Errorf("round trip changed the request:\n got %+v\nwant %+v\nvia %s\nback %s", got, want, a, back)
			}
		})
	}
}

// anthropicRequests are requests whose every field OpenAI can express, besides the dropped
// ones TestDropped lists.
var anthropicRequests = map[string]string{
	"plain": `{"model":"claude","max_tokens":100,"system":"S","messages":[{"role":"user","content":"Hi"}],"stop_sequences":["a","b"],"temperature":0.3,"top_p":0.8,"metadata":{"user_id":"u"},"stream":true}`,
	"tools": `{"model":"claude","max_tokens":100,"system":[{"type":"text","text":"A"},{"type":"text","text":"B"}],
		"tools":[{"name":"w","description":"weather","input_schema":{"type":"object","properties":{"c":{"type":"string"}}},"strict":true}],
		"tool_choice":{"type":"tool","name":"w","disable_parallel_tool_use":true},
		"messages":[{"role":"user","content":"Go"},
		{"role":"assistant","content":[{"type":"text","text":"On it. "},{"type":"text","text":"Calling."},{"type":"tool_use","id":"toolu_1","name":"w","input":{"c":"Oslo"}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"cold"},{"type":"text","text":"Thanks"}]}]}`,
	"media": `{"model":"claude","max_tokens":10,"output_config":{"format":{"type":"json_schema","schema":{"type":"object"}}},"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/gif","data":"R0lG"}},{"type":"image","source":{"type":"url","url":"https://x.test/b.png"}},{"type":"document","title":"d.pdf","source":{"type":"base64","media_type":"application/pdf","data":"JVBE"}},{"type":"text","text":"What?"}]}],"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"any"}}`,
}

// TestRoundTripAnthropic sends Anthropic requests to the OpenAI format and back.
func TestRoundTripAnthropic(t *testing.T) {
	for name, body := range anthropicRequests {
		t.Run(name, func(t *testing.T) {
			o, err := ToOpenAIRequest([]byte(body), OpenAIOptions{})
			if err != nil {
				t.Fatal(err)
			}
			back, err := ToAnthropicRequest(o, AnthropicOptions{Stream: gjson.GetBytes(o, "stream").Bool()})
			if err != nil {
				t.Fatalf("%v\n%s", err, o)
			}
			want, got := canonAnthropic(t, []byte(body)), canonAnthropic(t, back)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip changed the request:\n got %+v\nwant %+v\nvia %s\nback %s", got, want, o, back)
			}
		})
	}
}

// TestDropped is the table of what each direction drops: the field is in the input and must
// not reach the output, for the reason given. The package documentation lists the same. An
// Anthropic request's output is what an OpenAI-format model gets (ToOpenAIUpstream): the
// sidecar still carries these fields to an Anthropic upstream (TestAnthropicFidelity), and
// the parameters refused for an OpenAI-format model are in TestAnthropicToOpenAIUpstream.
func TestDropped(t *testing.T) {
	openAI := `{"model":"m","messages":[{"role":"user","name":"bob","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"https://x.test/i.png","detail":"low"}}]}],
		"metadata":{"team":"a"},"stream_options":{"include_usage":true},"logprobs":true,"top_logprobs":2,"logit_bias":{"1":1},"seed":1,
		"frequency_penalty":0.1,"presence_penalty":0.2,"reasoning_effort":"low","verbosity":"low","modalities":["text"],"audio":{"voice":"x"},
		"prediction":{"type":"content","content":"p"},"store":true,"service_tier":"flex","prompt_cache_key":"k",
		"prompt_cache_retention":"24h","x_custom":1,"response_format":{"type":"json_schema","json_schema":{"name":"nm","description":"ds","schema":{"type":"object"},"strict":true}}}`
	anthropic := `{"model":"c","max_tokens":2000,"top_k":3,"thinking":{"type":"enabled","budget_tokens":1024},"service_tier":"auto",
		"context_management":{},"metadata":{"user_id":"u"},"output_config":{"effort":"low"},
		"system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral"}}],
		"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JV"},"citations":{"enabled":true}},{"type":"tool_result","tool_use_id":"t","content":"r","is_error":true}]},
		{"role":"assistant","content":[{"type":"redacted_thinking","data":"xx"},{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"text","text":"ok"}]}]}`
	tests := []struct {
		direction, field, explanation string
	}{
		{"to anthropic", "metadata", "Anthropic's metadata takes only user_id"},
		{"to anthropic", "team", "metadata values other than user"},
		{"to anthropic", "stream_options", "the caller decides how the upstream streams"},
		{"to anthropic", "logprobs", "no Anthropic counterpart"},
		{"to anthropic", "top_logprobs", "no Anthropic counterpart"},
		{"to anthropic", "logit_bias", "no Anthropic counterpart"},
		{"to anthropic", "seed", "no Anthropic counterpart"},
		{"to anthropic", "frequency_penalty", "no Anthropic counterpart"},
		{"to anthropic", "presence_penalty", "no Anthropic counterpart"},
		{"to anthropic", "reasoning_effort", "thinking would need its blocks sent back on every tool turn, which OpenAI clients never do"},
		{"to anthropic", "verbosity", "OpenAI-only"},
		{"to anthropic", "modalities", "OpenAI-only"},
		{"to anthropic", "audio", "OpenAI-only"},
		{"to anthropic", "prediction", "OpenAI-only"},
		{"to anthropic", "store", "OpenAI-only"},
		{"to anthropic", "service_tier", "tiers differ between the vendors"},
		{"to anthropic", "prompt_cache_key", "Anthropic caches by cache_control, not by key"},
		{"to anthropic", "prompt_cache_retention", "as prompt_cache_key"},
		{"to anthropic", "x_custom", "Anthropic rejects unknown fields"},
		{"to anthropic", "name", "Anthropic messages have no author name"},
		{"to anthropic", "detail", "Anthropic has no image detail setting"},
		{"to anthropic", "nm", "json_schema's name has no Anthropic counterpart"},
		{"to anthropic", "description", "json_schema's description has no Anthropic counterpart"},
		{"to anthropic", "strict", "Anthropic's JSON outputs are always strict"},
		{"to openai", "top_k", "OpenAI has no top_k"},
		{"to openai", "thinking", "the OpenAI format has no thinking blocks"},
		{"to openai", "budget_tokens", "as thinking"},
		{"to openai", "redacted_thinking", "as thinking"},
		{"to openai", "signature", "as thinking"},
		{"to openai", "service_tier", "tiers differ between the vendors"},
		{"to openai", "context_management", "Anthropic-only; the model sees the whole context"},
		{"to openai", "effort", "reasoning settings differ between models"},
		{"to openai", "cache_control", "OpenAI caches automatically"},
		{"to openai", "citations", "the OpenAI format has no citations"},
		{"to openai", "is_error", "tool messages have no error flag: the content says it (ToolErrorPrefix)"},
	}
	toA, err := ToAnthropicRequest([]byte(openAI), AnthropicOptions{})
	if err != nil {
		t.Fatal(err)
	}
	toO, err := ToOpenAIRequest([]byte(anthropic), OpenAIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(toO, []byte(AnthropicKey)) {
		t.Fatalf("no sidecar: %s", toO)
	}
	if toO, err = ToOpenAIUpstream(toO); err != nil || bytes.Contains(toO, []byte(AnthropicKey)) {
		t.Fatalf("the sidecar reached an OpenAI-format model (%v): %s", err, toO)
	}
	for _, tt := range tests {
		in, out := openAI, toA
		if tt.direction == "to openai" {
			in, out = anthropic, toO
		}
		key := `"` + tt.field + `"`
		if !strings.Contains(in, key) {
			t.Errorf("%s: the input lacks %s, so the test proves nothing", tt.direction, key)
		}
		if bytes.Contains(out, []byte(key)) {
			t.Errorf("%s: %s reached the output (%s):\n%s", tt.direction, key, tt.explanation, out)
		}
	}
}

// TestRoundTripResponses translates the golden inputs' answers to the other format and back.
func TestRoundTripResponses(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/to_openai_response/*.json")
	for _, in := range inputs {
		body, _ := os.ReadFile(in)
		r, err := ToOpenAIResponse(body, 1)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ToAnthropicResponse(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := joinText(readMessage(back)), joinText(readMessage(body)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Anthropic → OpenAI → Anthropic:\n got %v\nwant %v", in, got, want)
		}
	}
	inputs, _ = filepath.Glob("testdata/to_anthropic_response/*.json")
	for _, in := range inputs {
		body, _ := os.ReadFile(in)
		a, err := ToAnthropicResponse(body)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ToOpenAIResponse(a, 1)
		if err != nil {
			t.Fatal(err)
		}
		want := readCompletion(body)
		want.Usage.ReasoningTokens = 0 // dropped: Anthropic's usage has no reasoning count
		want.ID = "msg_" + want.ID     // Anthropic's message ids start with msg_
		want.Calls = anthropicCallIDs(want.Calls)
		if gjson.GetBytes(body, "choices.0.message.content").IsArray() {
			want.Text = texts(gjson.GetBytes(body, "choices.0.message.content"))
		}
		got := readCompletion(r.Body)
		if !want.HasUsage {
			got.HasUsage = false // Anthropic always reports usage: zeros come back
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: OpenAI → Anthropic → OpenAI:\n got %+v\nwant %+v", in, got, want)
		}
	}
}

// anthropicCallIDs returns tool calls ("id name arguments") with their ids as an OpenAI answer
// that went through Anthropic's format has them: call_X became toolu_X there, an id of
// Anthropic's that the way back leaves as it is (see toolids.go).
func anthropicCallIDs(calls []string) []string {
	var out []string
	for _, c := range calls {
		out = append(out, anthropicToolID(c))
	}
	return out
}

// joinText merges consecutive text blocks, which the OpenAI format joins.
func joinText(m message) message {
	var out []block
	for _, b := range m.Content {
		if n := len(out); n > 0 && b.Type == "text" && out[n-1].Type == "text" {
			out[n-1].Text += b.Text
			continue
		}
		out = append(out, b)
	}
	m.Content = out
	return m
}

// TestRoundTripStreams translates the golden inputs' streams to the other format and back,
// through the wire format (event lines included), and compares what a client accumulates.
func TestRoundTripStreams(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/to_openai_stream/*.sse")
	for _, in := range inputs {
		stream, _ := os.ReadFile(in)
		want, err := accumulate(readEvents(t, stream))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var wire bytes.Buffer
		for _, c := range anthropicToChunks(t, stream) {
			wire.WriteString("data: " + string(c) + "\n\n")
		}
		wire.WriteString("data: [DONE]\n\n")
		got, err := accumulate(chunksToAnthropic(t, wire.Bytes()))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !reflect.DeepEqual(joinText(got), joinText(want)) {
			t.Errorf("%s: Anthropic → OpenAI → Anthropic:\n got %v\nwant %v", in, got, want)
		}
	}
	inputs, _ = filepath.Glob("testdata/to_anthropic_stream/*.sse")
	for _, in := range inputs {
		stream, _ := os.ReadFile(in)
		var chunks [][]byte
		for _, e := range readEvents(t, stream) {
			if string(e.data) != "[DONE]" {
				chunks = append(chunks, e.data)
			}
		}
		want, err := accumulateChunksAs(chunks, false)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		want.ID = "msg_" + want.ID // Anthropic's message ids start with msg_
		want.Calls = anthropicCallIDs(want.Calls)
		var wire bytes.Buffer
		for _, e := range chunksToAnthropic(t, stream) {
			wire.WriteString("event: " + e.typ + "\ndata: " + string(e.data) + "\n\n")
		}
		got, err := accumulateChunks(anthropicToChunks(t, wire.Bytes()))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: OpenAI → Anthropic → OpenAI:\n got %+v\nwant %+v", in, got, want)
		}
	}
}

func readEvents(t *testing.T, stream []byte) []event {
	t.Helper()
	var out []event
	r := sse.NewReader(bytes.NewReader(stream))
	for r.Next() {
		e := r.Event()
		out = append(out, event{e.Type, bytes.Clone(e.Data)})
	}
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	return out
}
