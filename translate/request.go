package translate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/internal/jsonstr"
	"github.com/tidwall/gjson"
)

// API versions of the Anthropic Messages API that change what a request may carry.
const (
	// Version20230601 is the version the v1 SDKs send; it takes temperature and top_p.
	Version20230601 = "2023-06-01"
	// Version20261021 is the version the newest SDKs send; temperature, top_p and top_k are
	// errors in it.
	Version20261021 = "2026-10-21"
)

// DefaultMaxTokens is the max_tokens of an Anthropic request translated from an OpenAI request
// that set neither max_completion_tokens nor max_tokens: Anthropic requires one, OpenAI lets
// the model decide. 4096 fits every current Claude model's output limit.
const DefaultMaxTokens = 4096

// jsonInstruction is added to the system prompt of a request that asked for
// response_format json_object, which Anthropic has no switch for.
const jsonInstruction = "Respond with a single valid JSON object and nothing else."

// samplingDropped reports whether an API version rejects temperature, top_p and top_k.
// Versions are dates, so they compare as strings.
func samplingDropped(version string) bool { return version >= Version20261021 }

// AnthropicOptions are the settings of an OpenAI to Anthropic request translation.
type AnthropicOptions struct {
	// Model replaces the body's model; "" keeps it.
	Model string
	// Version is the anthropic-version the upstream is called with; "" means Version20230601.
	Version string
	// Stream adds "stream": true. The body's own stream and stream_options are never copied:
	// the caller decides how it calls the upstream.
	Stream bool
	// MaxTokens is the max_tokens when the body sets none; 0 means DefaultMaxTokens.
	MaxTokens int
}

// AnthropicCall is an upstream Messages call translated from an OpenAI-form request: the body,
// and what the request's sidecar (AnthropicKey) says beyond it.
type AnthropicCall struct {
	// Body is the Messages request body.
	Body []byte
	// Beta is the anthropic-beta header the Anthropic client sent, for the upstream call; ""
	// for none.
	Beta string
	// Native says the request came from an Anthropic client (it has a sidecar): the answer
	// should carry the upstream's own message or events (AnswerOptions.Native,
	// OpenAIChunks.Native), which reach that client as they came.
	Native bool
	// Functions says the request offered the deprecated functions: the answer must call them
	// in the same form (AnswerOptions.Functions, OpenAIChunks.Functions).
	Functions bool
}

// ToAnthropicRequest translates an OpenAI chat completions request body into an Anthropic
// Messages request body: ToAnthropicCall's Body.
func ToAnthropicRequest(body []byte, opt AnthropicOptions) ([]byte, error) {
	c, err := ToAnthropicCall(body, opt)
	if err != nil {
		return nil, err
	}
	return c.Body, nil
}

// ToAnthropicCall translates an OpenAI chat completions request body into an Anthropic Messages
// call. It does not modify body. A request that Anthropic cannot express (n > 1, audio input,
// custom tools, …) is a *clearbar.Error of class ClientError naming the parameter; see the
// package documentation for every field's fate. A request with a sidecar (an Anthropic
// client's, see AnthropicKey) gets back what the OpenAI form could not hold: thinking blocks,
// cache_control marks, is_error, the system prompt's blocks, the parameters without an OpenAI
// form, and the anthropic-beta header.
func ToAnthropicCall(body []byte, opt AnthropicOptions) (AnthropicCall, error) {
	root, ok := parseObject(body)
	if !ok {
		return AnthropicCall{}, invalid("", "the request body is not a JSON object")
	}
	if opt.Version == "" {
		opt.Version = Version20230601
	}
	m := members(root, "model", "messages", "max_completion_tokens", "max_tokens", "stop", "temperature", "top_p",
		"n", "tools", "tool_choice", "parallel_tool_calls", "response_format", "user", "safety_identifier",
		"functions", "function_call", "web_search_options", AnthropicKey)

	if n := m["n"]; n.Exists() && n.Type != gjson.Null && n.Int() != 1 {
		return AnthropicCall{}, invalid("n", "n must be 1: Anthropic models answer with one choice (got %s)", n.Raw)
	}
	sc, err := readSidecar(m[AnthropicKey])
	if err != nil {
		return AnthropicCall{}, err
	}
	call := AnthropicCall{Beta: sc.beta, Native: sc.present}

	var w jw
	w.b = make([]byte, 0, len(body)+256)
	w.open('{')
	w.key("model")
	if opt.Model != "" {
		w.str(opt.Model)
	} else {
		w.strOf(m["model"])
	}

	maxTokens := int64(opt.MaxTokens)
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	for _, name := range []string{"max_tokens", "max_completion_tokens"} {
		v := m[name]
		if !v.Exists() || v.Type == gjson.Null {
			continue
		}
		if v.Type != gjson.Number || v.Int() < 1 || float64(v.Int()) != v.Num {
			return AnthropicCall{}, invalid(name, "%s must be a positive integer", name)
		}
		maxTokens = v.Int() // max_completion_tokens, read last, wins
	}
	w.kint("max_tokens", maxTokens)

	tr := requestTranslator{sc: sc}
	if err := tr.messages(m["messages"]); err != nil {
		return AnthropicCall{}, err
	}
	rf := m["response_format"]
	var schema gjson.Result
	switch t := rf.Get("type").String(); {
	case !rf.Exists() || rf.Type == gjson.Null || t == "text":
	case t == "json_object":
		tr.system = append(tr.system, systemPart{text: jsonInstruction})
	case t == "json_schema":
		schema = rf.Get("json_schema.schema")
		if !schema.IsObject() {
			return AnthropicCall{}, invalid("response_format.json_schema.schema", "response_format json_schema needs a schema object to be sent to Anthropic")
		}
	default:
		return AnthropicCall{}, invalid("response_format.type", "response_format type %q cannot be sent to Anthropic (text, json_object and json_schema can)", t)
	}
	tr.writeSystem(&w)
	w.key("messages")
	w.open('[')
	for _, t := range tr.turns {
		t.write(&w)
	}
	w.close(']')

	if stop := m["stop"]; stop.Exists() {
		switch {
		case stop.Type == gjson.String:
			w.key("stop_sequences")
			w.open('[')
			w.item()
			w.raw(stop.Raw)
			w.close(']')
		case stop.IsArray() && len(stop.Array()) > 0:
			w.kraw("stop_sequences", stop.Raw)
		case stop.Type == gjson.Null || stop.IsArray():
		default:
			return AnthropicCall{}, invalid("stop", "stop must be a string or an array of strings")
		}
	}
	if !samplingDropped(opt.Version) {
		if t := m["temperature"]; t.Type == gjson.Number {
			// OpenAI's range is 0 to 2, Anthropic's 0 to 1.
			if t.Num > 1 {
				w.kraw("temperature", "1")
			} else {
				w.kraw("temperature", t.Raw)
			}
		}
		if p := m["top_p"]; p.Type == gjson.Number {
			w.kraw("top_p", p.Raw)
		}
	}
	tools, choice := m["tools"], m["tool_choice"]
	if f := m["functions"]; f.Exists() && f.Type != gjson.Null {
		if tools.Exists() && tools.Type != gjson.Null {
			return AnthropicCall{}, invalid("functions", "send tools or the deprecated functions, not both")
		}
		if fc := m["function_call"]; fc.Exists() && fc.Type != gjson.Null {
			choice = fc
		}
		call.Functions = true
		err = writeFunctions(&w, f, choice)
	} else {
		if fc := m["function_call"]; fc.Exists() && fc.Type != gjson.Null {
			return AnthropicCall{}, invalid("function_call", "function_call needs the deprecated functions it chooses from; with tools, send tool_choice")
		}
		if wso := m["web_search_options"]; wso.IsObject() {
			// OpenAI's web search is Anthropic's web search tool, offered after the client's.
			tr.sc.nativeTools = append(tr.sc.nativeTools, gjson.Parse(`{"at":-1,"tool":`+webSearchTool(wso)+`}`))
		}
		err = writeTools(&w, &tr.sc, tools, choice, m["parallel_tool_calls"])
	}
	if err != nil {
		return AnthropicCall{}, err
	}
	// An Anthropic client's output_config (or output_format) comes back as it was, in the
	// parameters below.
	if schema.Exists() && !tr.sc.hasParam("output_config") && !tr.sc.hasParam("output_format") {
		w.key("output_config")
		w.open('{')
		w.key("format")
		w.open('{')
		w.kstr("type", "json_schema")
		w.kraw("schema", schema.Raw)
		w.close('}')
		w.close('}')
	}
	user := m["user"]
	if user.Type != gjson.String || user.Str == "" {
		user = m["safety_identifier"]
	}
	if user.Type == gjson.String && user.Str != "" {
		w.key("metadata")
		w.open('{')
		w.kraw("user_id", user.Raw)
		w.close('}')
	}
	if opt.Stream {
		w.kraw("stream", "true")
	}
	tr.sc.params.ForEach(func(k, v gjson.Result) bool {
		if k.Str == "top_k" && samplingDropped(opt.Version) {
			return true // as temperature and top_p
		}
		if fate, known := paramFateOf(k.Str); known && fate != translated {
			w.kraw(k.Str, v.Raw)
		}
		return true
	})
	w.close('}')
	call.Body = w.b
	return call, nil
}

// systemPart is one system or developer message's text, raw when it was a JSON string.
type systemPart struct {
	raw  string // the JSON string as sent, when the text is a whole string value
	text string // the text otherwise
	// extra are the members the sidecar adds to the text block (cache_control), as the inside
	// of an object; "" for none.
	extra string
}

func (p systemPart) write(w *jw) {
	if p.raw != "" {
		w.raw(p.raw)
	} else {
		w.str(p.text)
	}
}

// turn is one Anthropic message: consecutive OpenAI messages of the same Anthropic role.
type turn struct {
	role string
	// simple is the raw JSON string of a turn made of one message whose content was a
	// non-empty string: it is sent as a string, as it came.
	simple string
	// results are tool_result blocks, which Anthropic wants first in a user turn; blocks the
	// rest, in order.
	results, blocks [][]byte
}

func (t *turn) empty() bool { return t.simple == "" && len(t.results) == 0 && len(t.blocks) == 0 }

// unsimplify turns a simple string content into a text block, before another block joins it.
func (t *turn) unsimplify() {
	if t.simple == "" {
		return
	}
	t.blocks = append(t.blocks, textBlock(t.simple))
	t.simple = ""
}

func (t *turn) write(w *jw) {
	w.item()
	w.open('{')
	w.kstr("role", t.role)
	w.key("content")
	if t.simple != "" {
		w.raw(t.simple)
	} else {
		w.open('[')
		for _, b := range t.results {
			w.item()
			w.raw(string(b))
		}
		for _, b := range t.blocks {
			w.item()
			w.raw(string(b))
		}
		w.close(']')
	}
	w.close('}')
}

// textBlock returns {"type":"text","text":raw} for a raw JSON string.
func textBlock(raw string) []byte {
	b := make([]byte, 0, len(raw)+24)
	b = append(b, `{"type":"text","text":`...)
	b = append(b, raw...)
	return append(b, '}')
}

// requestTranslator collects the system prompt and the turns of a request.
type requestTranslator struct {
	system []systemPart
	turns  []*turn
	// sc is the request's sidecar (not present for an OpenAI client's request).
	sc sidecarIn
	// fnCalls are the deprecated function calls of the assistant turn just before that no
	// function message has answered yet; a user or assistant message ends them.
	fnCalls []fnCall
	// msgs are the request's messages, and clientIDs the ids of their tool calls and tool
	// results as they go to Anthropic (made when a function call needs an id).
	msgs      gjson.Result
	clientIDs map[string]bool
}

// turnFor returns the last turn when it has the role (made ready for more blocks), else a new
// turn with it.
func (tr *requestTranslator) turnFor(role string) *turn {
	if n := len(tr.turns); n > 0 && tr.turns[n-1].role == role {
		t := tr.turns[n-1]
		t.unsimplify()
		return t
	}
	t := &turn{role: role}
	tr.turns = append(tr.turns, t)
	return t
}

func (tr *requestTranslator) messages(msgs gjson.Result) error {
	if !msgs.IsArray() {
		return invalid("messages", "messages must be an array")
	}
	tr.msgs = msgs
	var err error
	i := -1
	msgs.ForEach(func(_, msg gjson.Result) bool {
		i++
		err = tr.message(i, msg)
		return err == nil
	})
	if err != nil {
		return err
	}
	// Function calls of the last assistant message may stay unanswered: the history ends.
	tr.fnCalls = nil
	// Turns left empty (messages without content) are dropped: Anthropic rejects empty
	// content, and merging makes the roles alternate again.
	kept := tr.turns[:0]
	for _, t := range tr.turns {
		if t.empty() {
			continue
		}
		if n := len(kept); n > 0 && kept[n-1].role == t.role {
			prev := kept[n-1]
			prev.unsimplify()
			t.unsimplify()
			prev.results = append(prev.results, t.results...)
			prev.blocks = append(prev.blocks, t.blocks...)
			continue
		}
		kept = append(kept, t)
	}
	tr.turns = kept
	return nil
}

func (tr *requestTranslator) message(i int, msg gjson.Result) error {
	at := func(field string) string { return fmt.Sprintf("messages[%d]%s", i, field) }
	if !msg.IsObject() {
		return invalid(at(""), "each message must be an object")
	}
	content := msg.Get("content")
	ann := tr.sc.msg(i)
	role := msg.Get("role").String()
	if role == "user" || role == "assistant" {
		// A new turn: the function calls before it must all have had their result (Anthropic
		// rejects a tool_use without a tool_result in the next turn), and later function
		// messages answer only calls after it.
		if len(tr.fnCalls) > 0 {
			c := tr.fnCalls[0]
			return invalid(fmt.Sprintf("messages[%d].function_call", c.msg), "the deprecated function_call at messages[%d] (%q) has no function result after it: Anthropic needs one; send a function message with its result right after it", c.msg, c.name)
		}
	}
	switch role {
	case "system", "developer":
		switch {
		case content.Type == gjson.String:
			if content.Str != "" {
				tr.system = append(tr.system, systemPart{raw: content.Raw, extra: inside(ann.Get("extra"))})
			}
		case content.IsArray():
			var err error
			j := -1
			content.ForEach(func(_, part gjson.Result) bool {
				j++
				if part.Get("type").String() != "text" {
					err = invalid(at(fmt.Sprintf(".content[%d].type", j)), "%s messages can only have text parts", role)
					return false
				}
				if t := part.Get("text"); t.String() != "" {
					tr.system = append(tr.system, systemPart{raw: rawString(t)})
				}
				return true
			})
			return err
		}
		return nil
	case "user":
		t := tr.turnFor("user")
		if content.Type == gjson.String {
			if content.Str != "" {
				if t.empty() {
					t.simple = content.Raw
				} else {
					t.blocks = append(t.blocks, textBlock(content.Raw))
				}
			}
			return nil
		}
		if !content.IsArray() {
			if content.Exists() && content.Type != gjson.Null {
				return invalid(at(".content"), "content must be a string or an array of parts")
			}
			return nil
		}
		var err error
		parts := ann.Get("parts").Array()
		j := -1
		content.ForEach(func(_, part gjson.Result) bool {
			j++
			var b []byte
			b, err = userPart(part, at(fmt.Sprintf(".content[%d]", j)))
			if j < len(parts) {
				if whole := parts[j].Get("block"); whole.IsObject() {
					b = []byte(whole.Raw) // the block the part stands for, as the client sent it
				} else {
					b = withMembers(b, inside(parts[j].Get("extra")))
				}
			}
			if b != nil {
				t.blocks = append(t.blocks, b)
			}
			return err == nil
		})
		return err
	case "assistant":
		t := tr.turnFor("assistant")
		fc := msg.Get("function_call")
		hasFC := fc.Exists() && fc.Type != gjson.Null
		if layout := ann.Get("blocks"); layout.IsArray() && !hasFC {
			return t.layout(msg, layout, at)
		}
		if content.Type == gjson.String && content.Str != "" && t.empty() && !msg.Get("tool_calls").IsArray() && !hasRefusal(msg) && !hasFC {
			t.simple = content.Raw
			return nil
		}
		switch {
		case content.Type == gjson.String:
			if content.Str != "" {
				t.blocks = append(t.blocks, textBlock(content.Raw))
			}
		case content.IsArray():
			var err error
			j := -1
			content.ForEach(func(_, part gjson.Result) bool {
				j++
				switch typ := part.Get("type").String(); typ {
				case "text", "refusal":
					if v := part.Get(typ); v.String() != "" {
						t.blocks = append(t.blocks, textBlock(rawString(v)))
					}
				default:
					err = invalid(at(fmt.Sprintf(".content[%d].type", j)), "assistant content part type %q cannot be sent to Anthropic", typ)
				}
				return err == nil
			})
			if err != nil {
				return err
			}
		}
		if hasRefusal(msg) {
			t.blocks = append(t.blocks, textBlock(rawString(msg.Get("refusal"))))
		}
		var err error
		j := -1
		msg.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
			j++
			var b []byte
			b, err = toolUseBlock(tc, at(fmt.Sprintf(".tool_calls[%d]", j)))
			t.blocks = append(t.blocks, b)
			return err == nil
		})
		if err != nil || !hasFC {
			return err
		}
		b, call, err := functionCallBlock(i, tr.functionCallID(i), fc, at(".function_call"))
		if err != nil {
			return err
		}
		t.blocks = append(t.blocks, b)
		tr.fnCalls = append(tr.fnCalls, call)
		return nil
	case "tool":
		t := tr.turnFor("user")
		id := msg.Get("tool_call_id")
		if id.String() == "" {
			return invalid(at(".tool_call_id"), "tool messages need the tool_call_id of the call they answer")
		}
		extra := ann.Get("extra")
		// An Anthropic client's error result went to the OpenAI form with ToolErrorPrefix.
		isError := extra.Get("is_error").Type == gjson.True
		var w jw
		w.open('{')
		w.kstr("type", "tool_result")
		w.key("tool_use_id")
		w.toolID(id, openAIToolIDPrefix, anthropicToolIDPrefix)
		switch {
		case content.Type == gjson.String && isError:
			w.kstr("content", strings.TrimPrefix(content.Str, ToolErrorPrefix))
		case content.Type == gjson.String:
			w.kraw("content", content.Raw)
		case content.IsArray():
			w.key("content")
			w.open('[')
			var err error
			parts := ann.Get("parts").Array()
			j := -1
			content.ForEach(func(_, part gjson.Result) bool {
				j++
				if part.Get("type").String() != "text" {
					err = invalid(at(fmt.Sprintf(".content[%d].type", j)), "tool messages can only have text parts")
					return false
				}
				text := rawString(part.Get("text"))
				if j == 0 && isError {
					text = string(jsonstr.Append(nil, strings.TrimPrefix(part.Get("text").String(), ToolErrorPrefix)))
				}
				b := textBlock(text)
				if j < len(parts) {
					if whole := parts[j].Get("block"); whole.IsObject() {
						b = []byte(whole.Raw) // the image, document, … the text stood in for
					} else {
						b = withMembers(b, inside(parts[j].Get("extra")))
					}
				}
				w.item()
				w.raw(string(b))
				return true
			})
			if err != nil {
				return err
			}
			w.close(']')
		}
		w.close('}')
		t.results = append(t.results, withMembers(w.b, inside(extra)))
		return nil
	case "function":
		return tr.functionResult(msg, at)
	default:
		return invalid(at(".role"), "unknown message role %q", role)
	}
}

func hasRefusal(msg gjson.Result) bool {
	r := msg.Get("refusal")
	return r.Type == gjson.String && r.Str != ""
}

// rawString returns v as a JSON string: its own bytes when it is one.
func rawString(v gjson.Result) string {
	if v.Type == gjson.String {
		return v.Raw
	}
	return string(jsonstr.Append(nil, v.String()))
}

// userPart translates one content part of a user message into an Anthropic block; nil for a
// part that carries nothing (empty text).
func userPart(part gjson.Result, at string) ([]byte, error) {
	var w jw
	switch typ := part.Get("type").String(); typ {
	case "text":
		t := part.Get("text")
		if t.String() == "" {
			return nil, nil
		}
		return textBlock(rawString(t)), nil
	case "image_url":
		url := part.Get("image_url.url")
		if url.Type != gjson.String {
			url = part.Get("image_url") // some clients send the URL as a string
		}
		u := url.String()
		w.open('{')
		w.kstr("type", "image")
		w.key("source")
		w.open('{')
		switch {
		case strings.HasPrefix(u, "data:"):
			media, data, ok := parseDataURL(u)
			if !ok {
				return nil, invalid(at+".image_url.url", "an image data URL must be base64: data:<media type>;base64,<data>")
			}
			w.kstr("type", "base64")
			w.kstr("media_type", media)
			w.kstr("data", data)
		case strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://"):
			w.kstr("type", "url")
			w.key("url")
			w.strOf(url)
		default:
			return nil, invalid(at+".image_url.url", "an image must be an http(s) URL or a base64 data URL")
		}
		w.close('}')
		w.close('}')
		return w.b, nil
	case "file":
		f := part.Get("file")
		if f.Get("file_id").String() != "" && f.Get("file_data").String() == "" {
			return nil, invalid(at+".file.file_id", "files uploaded to OpenAI (file_id) cannot be sent to Anthropic: send file_data")
		}
		media, data := "application/pdf", f.Get("file_data").String()
		if strings.HasPrefix(data, "data:") {
			var ok bool
			if media, data, ok = parseDataURL(data); !ok {
				return nil, invalid(at+".file.file_data", "file_data must be base64 or a base64 data URL")
			}
		}
		if data == "" {
			return nil, invalid(at+".file.file_data", "a file part needs file_data")
		}
		if media != "application/pdf" {
			return nil, invalid(at+".file.file_data", "only PDF files can be sent to Anthropic as documents (got %s)", media)
		}
		w.open('{')
		w.kstr("type", "document")
		w.key("source")
		w.open('{')
		w.kstr("type", "base64")
		w.kstr("media_type", media)
		w.kstr("data", data)
		w.close('}')
		if name := f.Get("filename"); name.String() != "" {
			w.key("title")
			w.strOf(name)
		}
		w.close('}')
		return w.b, nil
	case "input_audio":
		return nil, invalid(at+".type", "audio input cannot be sent to Anthropic models")
	default:
		return nil, invalid(at+".type", "content part type %q cannot be sent to Anthropic", typ)
	}
}

// parseDataURL splits "data:<media type>[;params];base64,<data>".
func parseDataURL(u string) (media, data string, ok bool) {
	meta, data, found := strings.Cut(strings.TrimPrefix(u, "data:"), ",")
	if !found {
		return "", "", false
	}
	params := strings.Split(meta, ";")
	if len(params) < 2 || params[len(params)-1] != "base64" || params[0] == "" {
		return "", "", false
	}
	return params[0], data, true
}

// fnCall is a deprecated function call of the history (an assistant message's function_call)
// that no function message has answered yet: the id its tool_use block was given, the
// function's name, and the index of its message.
type fnCall struct {
	id, name string
	msg      int
}

// functionCallID returns the id for the deprecated function_call of the assistant message at
// index i, the same for the same history: "toolu_clearbar_fn_<i>", with "_" added while a
// client's tool call or tool result of the request has that id as it goes to Anthropic (a
// client's id may be any string: call_X goes as toolu_X, and other ids as they are, so no
// prefix alone is safe from them).
func (tr *requestTranslator) functionCallID(i int) string {
	if tr.clientIDs == nil {
		tr.clientIDs = map[string]bool{}
		tr.msgs.ForEach(func(_, msg gjson.Result) bool {
			if id := msg.Get("tool_call_id"); id.Type == gjson.String {
				tr.clientIDs[anthropicToolID(id.Str)] = true
			}
			msg.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
				if id := tc.Get("id"); id.Type == gjson.String {
					tr.clientIDs[anthropicToolID(id.Str)] = true
				}
				return true
			})
			return true
		})
	}
	id := fmt.Sprintf("%sclearbar_fn_%d", anthropicToolIDPrefix, i)
	for tr.clientIDs[id] {
		id += "_"
	}
	return id
}

// functionCallBlock translates the deprecated function_call of the assistant message at index
// i into a tool_use block with the id (see functionCallID), which the function message
// answering it gets too (see functionResult). Its arguments must be a JSON object (or empty,
// read as {}).
func functionCallBlock(i int, id string, fc gjson.Result, at string) ([]byte, fnCall, error) {
	if !fc.IsObject() {
		return nil, fnCall{}, invalid(at, "function_call must be an object with a name and arguments")
	}
	name := fc.Get("name")
	if name.Type != gjson.String || name.Str == "" {
		return nil, fnCall{}, invalid(at+".name", "a function call needs a function name")
	}
	args := strings.TrimSpace(fc.Get("arguments").String())
	if args == "" {
		args = "{}"
	}
	if jsonguard.CheckString(args) != nil || !gjson.Parse(args).IsObject() {
		return nil, fnCall{}, invalid(at+".arguments", "function call arguments must be a JSON object to be sent to Anthropic")
	}
	call := fnCall{id: id, name: name.Str, msg: i}
	var w jw
	w.open('{')
	w.kstr("type", "tool_use")
	w.kstr("id", call.id)
	w.key("name")
	w.strOf(name)
	w.kraw("input", args)
	w.close('}')
	return w.b, call, nil
}

// functionResult translates a deprecated function message, the result of a function call,
// into a tool_result block answering the earliest unanswered function_call with its name of
// the assistant message just before: the tool_use block functionCallBlock wrote for it. A
// function message answering no such call is refused (a 400 naming it and the calls it could
// answer), not paired with another call.
func (tr *requestTranslator) functionResult(msg gjson.Result, at func(string) string) error {
	name, content := msg.Get("name").String(), msg.Get("content")
	if len(tr.fnCalls) == 0 {
		return invalid(at(".role"), "a function message (deprecated) must answer the function_call of the assistant message just before it, and there is none left to answer")
	}
	k := slices.IndexFunc(tr.fnCalls, func(c fnCall) bool { return c.name == name })
	if k < 0 {
		names := make([]string, len(tr.fnCalls))
		for j, c := range tr.fnCalls {
			names[j] = strconv.Quote(c.name)
		}
		return invalid(at(".name"), "the function message at %s names %q, which matches no function_call of the assistant message just before it waiting for its result (%s)", at(""), name, strings.Join(names, ", "))
	}
	call := tr.fnCalls[k]
	tr.fnCalls = slices.Delete(tr.fnCalls, k, k+1)
	var w jw
	w.open('{')
	w.kstr("type", "tool_result")
	w.kstr("tool_use_id", call.id)
	switch {
	case content.Type == gjson.String:
		w.kraw("content", content.Raw)
	case content.Exists() && content.Type != gjson.Null:
		return invalid(at(".content"), "a function message's content must be a string")
	}
	w.close('}')
	t := tr.turnFor("user")
	t.results = append(t.results, w.b)
	return nil
}

// toolUseBlock translates an assistant's tool call into a tool_use block; its arguments must
// be a JSON object (or empty, read as {}).
func toolUseBlock(tc gjson.Result, at string) ([]byte, error) {
	if typ := tc.Get("type").String(); typ != "" && typ != "function" {
		return nil, invalid(at+".type", "tool call type %q cannot be sent to Anthropic", typ)
	}
	id, name := tc.Get("id"), tc.Get("function.name")
	if id.String() == "" || name.String() == "" {
		return nil, invalid(at, "a tool call needs an id and a function name")
	}
	args := strings.TrimSpace(tc.Get("function.arguments").String())
	if args == "" {
		args = "{}"
	}
	if jsonguard.CheckString(args) != nil || !gjson.Parse(args).IsObject() {
		return nil, invalid(at+".function.arguments", "tool call arguments must be a JSON object to be sent to Anthropic")
	}
	var w jw
	w.open('{')
	w.kstr("type", "tool_use")
	w.key("id")
	w.toolID(id, openAIToolIDPrefix, anthropicToolIDPrefix)
	w.key("name")
	w.strOf(name)
	w.kraw("input", args)
	w.close('}')
	return w.b, nil
}

// layout adds an assistant message's blocks in the order its sidecar annotation gives (see
// AnthropicKey): text blocks cut from the message's content by their lengths, its tool calls
// in turn, and the blocks the OpenAI form cannot hold (thinking, with its signature) as the
// client sent them, each with the members the annotation adds. A layout that does not match
// the message is a ClientError naming the sidecar.
func (t *turn) layout(msg, layout gjson.Result, at func(string) string) error {
	text := msg.Get("content").String()
	calls := msg.Get("tool_calls").Array()
	mismatch := func() error {
		return invalid(AnthropicKey, "%s: the sidecar's layout does not match %s", AnthropicKey, at(""))
	}
	next := 0
	var err error
	k := -1
	layout.ForEach(func(_, e gjson.Result) bool {
		k++
		extra := inside(e.Get("extra"))
		switch {
		case e.Get("block").IsObject():
			t.blocks = append(t.blocks, []byte(e.Get("block").Raw))
		case e.Get("text").Type == gjson.Number:
			n := int(e.Get("text").Int())
			if n < 0 || n > len(text) {
				err = mismatch()
				return false
			}
			t.blocks = append(t.blocks, withMembers(textBlock(string(jsonstr.Append(nil, text[:n]))), extra))
			text = text[n:]
		case e.Get("tool_use").Exists():
			if next >= len(calls) {
				err = mismatch()
				return false
			}
			var b []byte
			if b, err = toolUseBlock(calls[next], at(fmt.Sprintf(".tool_calls[%d]", next))); err != nil {
				return false
			}
			next++
			t.blocks = append(t.blocks, withMembers(b, extra))
		default:
			err = mismatch()
			return false
		}
		return true
	})
	if err == nil && (text != "" || next < len(calls)) {
		err = mismatch()
	}
	return err
}

// writeSystem writes the system prompt: a string for one part, text blocks for several, for a
// part with members to add (cache_control) or when an Anthropic client sent blocks.
func (tr *requestTranslator) writeSystem(w *jw) {
	blocks := len(tr.system) > 1 || tr.sc.systemBlocks
	for _, p := range tr.system {
		blocks = blocks || p.extra != ""
	}
	switch {
	case len(tr.system) == 0:
	case !blocks:
		w.key("system")
		tr.system[0].write(w)
	default:
		w.key("system")
		w.open('[')
		for _, p := range tr.system {
			w.item()
			var b jw
			b.open('{')
			b.kstr("type", "text")
			b.key("text")
			p.write(&b)
			b.close('}')
			w.raw(string(withMembers(b.b, p.extra)))
		}
		w.close(']')
	}
}

// writeTools writes tools and tool_choice, each tool with the members its sidecar annotation
// adds (cache_control, …). Without tools, tool_choice and parallel_tool_calls mean nothing and
// are left out (Anthropic rejects a tool_choice without tools).
func writeTools(w *jw, sc *sidecarIn, tools, choice, parallel gjson.Result) error {
	if (!tools.IsArray() || len(tools.Array()) == 0) && len(sc.nativeTools) == 0 {
		return nil
	}
	if err := writeToolList(w, sc, tools, false); err != nil {
		return err
	}
	if sc.toolChoice.IsObject() {
		// With tools of Anthropic's own types, the client's tool_choice as it was sent.
		w.kraw("tool_choice", sc.toolChoice.Raw)
		return nil
	}
	typ, name := "", gjson.Result{}
	switch {
	case !choice.Exists() || choice.Type == gjson.Null:
	case choice.Type == gjson.String:
		switch choice.Str {
		case "auto":
			typ = "auto"
		case "required":
			typ = "any"
		case "none":
			typ = "none"
		default:
			return invalid("tool_choice", "tool_choice %q is not auto, required or none", choice.Str)
		}
	case choice.IsObject():
		switch ct := choice.Get("type").String(); ct {
		case "function":
			typ, name = "tool", choice.Get("function.name")
			if name.String() == "" {
				return invalid("tool_choice.function.name", "a named tool_choice needs the function's name")
			}
		default:
			return invalid("tool_choice.type", "tool_choice type %q cannot be sent to Anthropic (auto, required, none and a named function can)", ct)
		}
	default:
		return invalid("tool_choice", "tool_choice must be a string or an object")
	}
	noParallel := parallel.Type == gjson.False && typ != "none"
	if typ == "" && !noParallel {
		return nil
	}
	if typ == "" {
		typ = "auto"
	}
	writeToolChoice(w, typ, name, noParallel)
	return nil
}

// writeToolChoice writes Anthropic's tool_choice: its type, the tool's name when name exists,
// and disable_parallel_tool_use when noParallel.
func writeToolChoice(w *jw, typ string, name gjson.Result, noParallel bool) {
	w.key("tool_choice")
	w.open('{')
	w.kstr("type", typ)
	if name.Exists() {
		w.key("name")
		w.strOf(name)
	}
	if noParallel {
		w.kraw("disable_parallel_tool_use", "true")
	}
	w.close('}')
}

// writeToolList writes the tools member from OpenAI's function tools, or from the deprecated
// functions (legacy: each item is the function itself), with the sidecar's native tools
// back in their places among them.
func writeToolList(w *jw, sc *sidecarIn, tools gjson.Result, legacy bool) error {
	w.key("tools")
	w.open('[')
	var native []gjson.Result
	if sc != nil && !legacy {
		native = sc.nativeTools
	}
	written := 0
	// putNative writes the native tools that came before the next tool the client sent.
	putNative := func(all bool) {
		for len(native) > 0 && (all || native[0].Get("at").Int() <= int64(written) && native[0].Get("at").Int() >= 0) {
			w.item()
			w.raw(native[0].Get("tool").Raw)
			native = native[1:]
			written++
		}
	}
	var err error
	i := -1
	tools.ForEach(func(_, t gjson.Result) bool {
		i++
		putNative(false)
		written++
		fn, at := t, fmt.Sprintf("functions[%d]", i)
		if !legacy {
			if typ := t.Get("type").String(); typ != "function" && typ != "" {
				err = invalid(fmt.Sprintf("tools[%d].type", i), "tool type %q cannot be sent to Anthropic (function tools can)", typ)
				return false
			}
			fn, at = t.Get("function"), fmt.Sprintf("tools[%d].function", i)
		}
		name := fn.Get("name")
		if name.String() == "" {
			err = invalid(at+".name", "every function tool needs a name")
			return false
		}
		w.item()
		w.open('{')
		w.key("name")
		w.strOf(name)
		if d := fn.Get("description"); d.String() != "" {
			w.key("description")
			w.strOf(d)
		}
		if p := fn.Get("parameters"); p.IsObject() {
			w.kraw("input_schema", p.Raw)
		} else {
			w.kraw("input_schema", `{"type":"object","properties":{}}`)
		}
		if fn.Get("strict").Type == gjson.True {
			w.kraw("strict", "true")
		}
		if extra := sc.tool(i); extra != "" {
			w.raw("," + extra)
		}
		w.close('}')
		return true
	})
	if err != nil {
		return err
	}
	putNative(true)
	w.close(']')
	return nil
}

// webSearchTool returns Anthropic's web search tool for OpenAI's web_search_options: its
// approximate user location (city, region, country, timezone) carried over; the search
// context size has no Anthropic counterpart and is dropped.
func webSearchTool(wso gjson.Result) string {
	var w jw
	w.open('{')
	w.kstr("type", "web_search_20250305")
	w.kstr("name", "web_search")
	if loc := wso.Get("user_location.approximate"); loc.IsObject() {
		w.key("user_location")
		w.open('{')
		w.kstr("type", "approximate")
		for _, k := range []string{"city", "region", "country", "timezone"} {
			if v := loc.Get(k); v.Type == gjson.String && v.Str != "" {
				w.kraw(k, v.Raw)
			}
		}
		w.close('}')
	}
	w.close('}')
	return string(w.b)
}

// writeFunctions writes the deprecated functions as tools and function_call as tool_choice:
// "auto" → auto, "none" → none, {"name": …} → {type: tool, name}. The deprecated form calls one
// function at a time, so parallel tool use is off.
func writeFunctions(w *jw, functions, choice gjson.Result) error {
	if !functions.IsArray() {
		return invalid("functions", "functions must be an array")
	}
	if len(functions.Array()) == 0 {
		return nil
	}
	if err := writeToolList(w, nil, functions, true); err != nil {
		return err
	}
	typ, name := "auto", gjson.Result{}
	switch {
	case !choice.Exists() || choice.Type == gjson.Null || choice.Type == gjson.String && choice.Str == "auto":
	case choice.Type == gjson.String && choice.Str == "none":
		typ = "none"
	case choice.IsObject() && choice.Get("name").String() != "":
		typ, name = "tool", choice.Get("name")
	default:
		return invalid("function_call", `function_call must be "auto", "none" or {"name": …}`)
	}
	writeToolChoice(w, typ, name, typ != "none")
	return nil
}
