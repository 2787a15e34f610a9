package translate

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
)

// The Responses API (POST /v1/responses) in the chat pipeline's terms.
//
// Clearbar serves a stateless subset of OpenAI's Responses API by translating its request into
// a chat completions request (ResponsesToChat), and the chat answer back: a completion into a
// response object (ToResponsesResponse), a stream of chat.completion.chunk documents into the
// Responses event stream (ResponsesEvents). What the subset holds:
//
//   - model, input (a string, or message items {role: user|assistant|system|developer,
//     content: a string or input_text/output_text/input_image parts, and refusal parts in an
//     assistant message, its refusal}, function_call and function_call_output items),
//     instructions (a leading system message), max_output_tokens, temperature, top_p, stream,
//     metadata, user, parallel_tool_calls, and the chat parameters of the same name
//     service_tier, safety_identifier, prompt_cache_key and prompt_cache_retention;
//   - function tools ({type: function, name, description, parameters, strict}) and
//     tool_choice (auto, none, required, a function, or allowed_tools naming function tools);
//     text.format (text, json_object, json_schema) as response_format, text.verbosity as
//     verbosity;
//   - store: false (Clearbar keeps no responses), stream_options.include_obfuscation,
//     truncation: "disabled" (Clearbar never drops input), include: reasoning.encrypted_content
//     (a Clearbar response has no reasoning items, so nothing is left out), and max_tool_calls
//     of at least 1 (it limits calls to built-in tools, which Clearbar does not offer).
//
// Everything else is a 400 naming the parameter, never dropped: previous_response_id,
// conversation, store: true, background, reasoning, any other include value (they ask for
// data Clearbar does not return), truncation: "auto", top_logprobs, built-in tools, prompt,
// and any other member. A null member counts as absent. As OpenAI does, max_output_tokens below 16 is
// a 400, and so is a function_call_output item answering no function_call earlier in input.
// The chat pipeline's own 400s name the chat parameter; ResponsesParam names the client's.

// ResponsesEcho is what a response object repeats of its request.
type ResponsesEcho struct {
	Instructions      json.RawMessage
	MaxOutputTokens   json.RawMessage
	Temperature       json.RawMessage
	TopP              json.RawMessage
	Metadata          json.RawMessage
	Tools             json.RawMessage
	ToolChoice        json.RawMessage
	ParallelToolCalls json.RawMessage
	Text              json.RawMessage
	User              json.RawMessage
	// Passed are the other members the response object repeats as they were sent
	// (safety_identifier, prompt_cache_key, prompt_cache_retention, max_tool_calls), in the
	// request's order.
	Passed []ResponsesMember
	// Sources says, for each message of the chat request, where in input it came from, so
	// that an error of the chat pipeline can name the client's parameter (ResponsesParam).
	Sources []ResponsesSource
}

// ResponsesMember is a member of a Responses request, as it was sent.
type ResponsesMember struct {
	Key string
	Raw json.RawMessage
}

// ResponsesSource is where a message of the translated chat request came from.
type ResponsesSource struct {
	// Item is the index of the input item the message translates, or -1: the system message
	// of instructions, or an assistant message made to hold function_call items.
	Item int
	// Calls is the index of the input item of the message's first tool call (function_call
	// items that follow each other join one assistant message), or -1 when it has none.
	Calls int
	// Output says the message is the tool message of a function_call_output item.
	Output bool
}

// ResponsesParam names, in the client's Responses terms, the parameter param of the chat
// request that src (ResponsesEcho.Sources) was translated into, for an error of the chat
// pipeline: max_completion_tokens and max_tokens are max_output_tokens; messages[i]… is the
// input item it came from, input[j]… (input when that is not one item); tools[i].function.X
// is tools[i].X; response_format.json_schema.X is text.format.X and response_format is
// text.format. Any other param is returned as it is.
func ResponsesParam(param string, src []ResponsesSource) string {
	switch param {
	case "max_completion_tokens", "max_tokens":
		return "max_output_tokens"
	case "messages":
		return "input"
	case "response_format", "response_format.json_schema":
		return "text.format"
	case "verbosity":
		return "text.verbosity"
	}
	if rest, ok := strings.CutPrefix(param, "response_format.json_schema."); ok {
		return "text.format." + rest
	}
	if rest, ok := strings.CutPrefix(param, "response_format."); ok {
		return "text.format." + rest
	}
	if i, rest, ok := paramIndex(param, "tools["); ok {
		return "tools[" + strconv.Itoa(i) + "]" + strings.TrimPrefix(rest, ".function")
	}
	i, rest, ok := paramIndex(param, "messages[")
	if !ok {
		return param
	}
	if i >= len(src) {
		return "input"
	}
	s := src[i]
	if k, call, ok := paramIndex(rest, ".tool_calls["); ok {
		if s.Calls < 0 {
			return "input"
		}
		switch call {
		case ".id":
			call = ".call_id"
		case ".function.name", ".function.arguments":
			call = strings.TrimPrefix(call, ".function")
		default:
			call = ""
		}
		return "input[" + strconv.Itoa(s.Calls+k) + "]" + call
	}
	if s.Item < 0 {
		return "input"
	}
	if s.Output {
		switch rest {
		case ".content":
			rest = ".output"
		case ".tool_call_id":
			rest = ".call_id"
		default:
			rest = ""
		}
	}
	return "input[" + strconv.Itoa(s.Item) + "]" + rest
}

// paramIndex splits "prefix" N "]" rest, as param "messages[3].content" with prefix "messages[".
func paramIndex(param, prefix string) (int, string, bool) {
	rest, ok := strings.CutPrefix(param, prefix)
	if !ok {
		return 0, "", false
	}
	end := strings.IndexByte(rest, ']')
	if end < 0 {
		return 0, "", false
	}
	i, err := strconv.Atoi(rest[:end])
	if err != nil || i < 0 {
		return 0, "", false
	}
	return i, rest[end+1:], true
}

// responsesUnsupported says why a member of a Responses request outside the subset is refused.
var responsesUnsupported = map[string]string{
	"previous_response_id": "Clearbar keeps no responses: send the whole conversation in input",
	"conversation":         "Clearbar keeps no conversations: send the whole conversation in input",
	"background":           "Clearbar does not run responses in the background",
	"reasoning":            "Clearbar's /v1/responses does not translate reasoning settings",
	"prompt":               "Clearbar does not resolve stored prompts",
	"top_logprobs":         "Clearbar's /v1/responses returns no log probabilities",
}

// responsesIncludable are the include values Clearbar honours by returning nothing more:
// reasoning.encrypted_content asks for the encrypted content of reasoning items, and a
// Clearbar response holds no reasoning items. Every other value asks for data Clearbar would
// not return, and is refused, naming it (responsesNotIncluded says why, for those it knows).
var responsesIncludable = map[string]bool{"reasoning.encrypted_content": true}

// responsesNotIncluded says why an include value is refused.
var responsesNotIncluded = map[string]string{
	"message.output_text.logprobs":          "Clearbar's /v1/responses returns no log probabilities",
	"message.input_image.image_url":         "Clearbar keeps no responses, so it has no input items to return",
	"computer_call_output.output.image_url": "Clearbar's /v1/responses supports function tools only",
	"file_search_call.results":              "Clearbar's /v1/responses supports function tools only",
	"web_search_call.results":               "Clearbar's /v1/responses supports function tools only",
	"web_search_call.action.sources":        "Clearbar's /v1/responses supports function tools only",
	"code_interpreter_call.outputs":         "Clearbar's /v1/responses supports function tools only",
}

// responsesInclude checks include: an array of the values responsesIncludable holds, which
// ask for nothing a Clearbar response would have.
func responsesInclude(v gjson.Result) error {
	if !v.IsArray() {
		return withCode(invalid("include", "include must be an array of strings"), "invalid_type")
	}
	var err error
	i := -1
	v.ForEach(func(_, x gjson.Result) bool {
		i++
		switch {
		case x.Type != gjson.String:
			err = withCode(invalid("include", "include must be an array of strings, not holding %s (include[%d])", x.Raw, i), "invalid_type")
		case responsesIncludable[x.Str]:
		default:
			why, ok := responsesNotIncluded[x.Str]
			if !ok {
				why = "Clearbar's /v1/responses takes only reasoning.encrypted_content, which asks for nothing a Clearbar response has (it has no reasoning items)"
			}
			err = invalid("include", "include %q (include[%d]) is not supported: %s", x.Str, i, why)
		}
		return err == nil
	})
	return err
}

// ResponsesToChat translates a Responses request body into a chat completions request body and
// returns what the response object echoes. A request outside the subset is a 400 naming the
// parameter.
func ResponsesToChat(body []byte) ([]byte, ResponsesEcho, error) {
	var echo ResponsesEcho
	// As the chat completions ingress answers a body that is not a JSON object.
	if err := jsonguard.Check(body); err != nil {
		msg := jsonguard.Describe(err, "the request body")
		if err == jsonguard.ErrTooDeep {
			msg += ", the gateway's limit"
		}
		return nil, echo, withCode(invalid("", "%s", msg), "invalid_json")
	}
	root := gjson.Parse(view(body))
	if !root.IsObject() {
		return nil, echo, withCode(invalid("", "the request body must be a JSON object"), "invalid_json")
	}
	if k := duplicateKey(root); k != "" {
		return nil, echo, invalid(k, "duplicate member %q in the request body", k)
	}
	chat := map[string]any{}
	var system []any
	var msgs []any
	var sources []ResponsesSource
	var err error
	stream := false
	root.ForEach(func(k, v gjson.Result) bool {
		key := k.Str
		if v.Type == gjson.Null {
			return true
		}
		switch key {
		case "model":
			if v.Type != gjson.String {
				err = withCode(invalid("model", "model must be a string"), "invalid_type")
				break
			}
			chat["model"] = v.Str
		case "input":
			msgs, sources, err = responsesInput(v)
		case "instructions":
			if v.Type != gjson.String {
				err = withCode(invalid("instructions", "instructions must be a string"), "invalid_type")
				break
			}
			echo.Instructions = json.RawMessage(v.Raw)
			if v.Str != "" {
				system = append(system, map[string]any{"role": "system", "content": v.Str})
			}
		case "max_output_tokens":
			// OpenAI's minimum for max_output_tokens; the chat pipeline checks the rest.
			if v.Type == gjson.Number && v.Num < responsesMinOutput && math.Trunc(v.Num) == v.Num {
				err = withCode(invalid(key, "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= %d, but got %s instead.", responsesMinOutput, v.Raw), "integer_below_min_value")
				break
			}
			echo.MaxOutputTokens = json.RawMessage(v.Raw)
			chat["max_completion_tokens"] = json.RawMessage(v.Raw)
		case "temperature", "top_p":
			if v.Type != gjson.Number {
				err = withCode(invalid(key, "%s must be a number", key), "invalid_type")
				break
			}
			if key == "temperature" {
				echo.Temperature = json.RawMessage(v.Raw)
			} else {
				echo.TopP = json.RawMessage(v.Raw)
			}
			chat[key] = json.RawMessage(v.Raw)
		case "stream":
			if !v.IsBool() {
				err = withCode(invalid("stream", "stream must be a boolean"), "invalid_type")
				break
			}
			stream = v.Bool()
		case "stream_options":
			v.ForEach(func(sk, _ gjson.Result) bool {
				if sk.Str != "include_obfuscation" {
					err = invalid("stream_options."+sk.Str, "Clearbar's /v1/responses does not support stream_options.%s", sk.Str)
				}
				return err == nil
			})
		case "metadata":
			echo.Metadata = json.RawMessage(v.Raw)
			chat["metadata"] = json.RawMessage(v.Raw)
		case "user":
			echo.User = json.RawMessage(v.Raw)
			chat["user"] = json.RawMessage(v.Raw)
		case "parallel_tool_calls":
			echo.ParallelToolCalls = json.RawMessage(v.Raw)
			chat["parallel_tool_calls"] = json.RawMessage(v.Raw)
		case "store":
			if v.Type != gjson.False {
				err = invalid("store", "Clearbar keeps no responses: store must be false or absent")
			}
		case "tools":
			var tools []any
			tools, err = responsesTools(v)
			if err == nil {
				echo.Tools = json.RawMessage(v.Raw)
				if len(tools) > 0 {
					chat["tools"] = tools
				}
			}
		case "tool_choice":
			var tc any
			tc, err = responsesToolChoice(v)
			if err == nil {
				echo.ToolChoice = json.RawMessage(v.Raw)
				chat["tool_choice"] = tc
			}
		case "text":
			var rf any
			var verbosity string
			rf, verbosity, err = responsesText(v)
			if err == nil {
				echo.Text = json.RawMessage(v.Raw)
				if rf != nil {
					chat["response_format"] = rf
				}
				if verbosity != "" {
					chat["verbosity"] = verbosity
				}
			}
		case "include":
			err = responsesInclude(v)
		case "service_tier", "safety_identifier", "prompt_cache_key", "prompt_cache_retention":
			// Chat completions parameters of the same name and meaning: the chat pipeline checks
			// them as it checks a chat request's, and each adapter forwards or drops them as it
			// does a chat request's (translate/doc.go).
			if v.Type != gjson.String {
				err = withCode(invalid(key, "%s must be a string", key), "invalid_type")
				break
			}
			if key != "service_tier" {
				// service_tier is left out: a response's is the tier that served it, which
				// the upstream's answer does not always say.
				echo.Passed = append(echo.Passed, ResponsesMember{Key: key, Raw: json.RawMessage(v.Raw)})
			}
			chat[key] = json.RawMessage(v.Raw)
		case "truncation":
			switch {
			case v.Type != gjson.String:
				err = withCode(invalid(key, "truncation must be a string"), "invalid_type")
			case v.Str == "auto":
				err = invalid(key, "truncation \"auto\" is not supported: Clearbar never drops input items to fit a model's context window; send truncation \"disabled\" (or leave it out), and a request too long for every model on the route is a 400")
			case v.Str != "disabled":
				err = invalid(key, "Invalid value for 'truncation': %q. Supported values are: 'auto' and 'disabled'.", v.Str)
			}
		case "max_tool_calls":
			// A limit on calls to built-in tools, which Clearbar does not offer (tools holds
			// function tools only): no answer can exceed it. Below 1 it is refused rather than
			// read as a limit on function calls, which Clearbar could not enforce.
			switch {
			case v.Type != gjson.Number || math.Trunc(v.Num) != v.Num:
				err = withCode(invalid(key, "max_tool_calls must be an integer"), "invalid_type")
			case v.Num < 1:
				err = withCode(invalid(key, "Invalid 'max_tool_calls': integer below minimum value. Expected a value >= 1, but got %s instead.", v.Raw), "integer_below_min_value")
			default:
				echo.Passed = append(echo.Passed, ResponsesMember{Key: key, Raw: json.RawMessage(v.Raw)})
			}
		default:
			if why, ok := responsesUnsupported[key]; ok {
				err = invalid(key, "%s is not supported: %s", key, why)
			} else {
				err = invalid(key, "Clearbar's /v1/responses does not support the parameter %s", key)
			}
		}
		return err == nil
	})
	if err == nil {
		err = responsesAllowedTools(root)
	}
	if err != nil {
		return nil, echo, err
	}
	if !root.Get("input").Exists() || root.Get("input").Type == gjson.Null {
		return nil, echo, invalid("input", "input is required: Clearbar keeps no responses or conversations to continue")
	}
	messages := append(system, msgs...)
	if messages == nil {
		messages = []any{} // an empty input: the chat pipeline's 400 names it (ResponsesParam)
	}
	chat["messages"] = messages
	if len(system) > 0 {
		sources = append([]ResponsesSource{{Item: -1, Calls: -1}}, sources...)
	}
	echo.Sources = sources
	if stream {
		chat["stream"] = true
		chat["stream_options"] = map[string]any{"include_usage": true}
	}
	out, merr := json.Marshal(chat)
	if merr != nil {
		return nil, echo, invalid("", "the request cannot be translated: %v", merr)
	}
	return out, echo, nil
}

// responsesMinOutput is the least max_output_tokens OpenAI's Responses API takes.
const responsesMinOutput = 16

// withCode sets the code of an error of the translation (none when code is "").
func withCode(e *clearbar.Error, code string) *clearbar.Error {
	e.Code = code
	return e
}

// responsesInput translates input into chat messages, and says where each came from.
func responsesInput(v gjson.Result) ([]any, []ResponsesSource, error) {
	if v.Type == gjson.String {
		return []any{map[string]any{"role": "user", "content": v.Str}}, []ResponsesSource{{Item: 0, Calls: -1}}, nil
	}
	if !v.IsArray() {
		return nil, nil, withCode(invalid("input", "input must be a string or an array of input items"), "invalid_type")
	}
	var msgs []any
	var src []ResponsesSource
	var err error
	i := -1
	// open is the assistant message function_call items join, while nothing else came between.
	var open map[string]any
	// calls are the call_ids of the function_call items so far.
	calls := map[string]bool{}
	v.ForEach(func(_, item gjson.Result) bool {
		i++
		at := fmt.Sprintf("input[%d]", i)
		if !item.IsObject() {
			err = withCode(invalid(at, "an input item must be an object"), "invalid_type")
			return false
		}
		typ := item.Get("type").Str
		if typ == "" && item.Get("role").Exists() {
			typ = "message"
		}
		switch typ {
		case "message":
			var m map[string]any
			m, err = responsesMessage(item, at)
			if err != nil {
				return false
			}
			msgs = append(msgs, m)
			src = append(src, ResponsesSource{Item: i, Calls: -1})
			open = nil
			if m["role"] == "assistant" {
				open = m
			}
		case "function_call":
			call := map[string]any{"id": item.Get("call_id").Str, "type": "function",
				"function": map[string]any{"name": item.Get("name").Str, "arguments": item.Get("arguments").Str}}
			if item.Get("call_id").Str == "" || item.Get("name").Str == "" {
				err = invalid(at, "a function_call item needs call_id and name")
				return false
			}
			if open == nil {
				open = map[string]any{"role": "assistant", "content": nil}
				msgs = append(msgs, open)
				src = append(src, ResponsesSource{Item: -1, Calls: -1})
			}
			if s := &src[len(src)-1]; s.Calls < 0 {
				s.Calls = i
			}
			calls[item.Get("call_id").Str] = true
			calls, _ := open["tool_calls"].([]any)
			open["tool_calls"] = append(calls, call)
		case "function_call_output":
			out := item.Get("output")
			var text string
			switch {
			case out.Type == gjson.String:
				text = out.Str
			case out.IsArray():
				text, err = responsesPartsText(out, at+".output")
				if err != nil {
					return false
				}
			default:
				err = withCode(invalid(at+".output", "output must be a string or an array of input_text parts"), "invalid_type")
				return false
			}
			if item.Get("call_id").Str == "" {
				err = invalid(at+".call_id", "a function_call_output item needs call_id")
				return false
			}
			if !calls[item.Get("call_id").Str] {
				// OpenAI's answer: the output must answer a function_call earlier in input.
				err = withCode(invalid("input", "No tool call found for function call output with call_id %s.", item.Get("call_id").Str), "")
				return false
			}
			msgs = append(msgs, map[string]any{"role": "tool", "tool_call_id": item.Get("call_id").Str, "content": text})
			src = append(src, ResponsesSource{Item: i, Calls: -1, Output: true})
			open = nil
		default:
			err = invalid(at+".type", "Clearbar's /v1/responses does not support input items of type %q", typ)
		}
		return err == nil
	})
	return msgs, src, err
}

// responsesMessage translates a message input item.
func responsesMessage(item gjson.Result, at string) (map[string]any, error) {
	role := item.Get("role").Str
	switch role {
	case "user", "assistant", "system", "developer":
	default:
		return nil, invalid(at+".role", "Invalid value for '%s.role': %q. Supported values are: 'user', 'assistant', 'system' and 'developer'.", at, role)
	}
	c := item.Get("content")
	if c.Type == gjson.String {
		return map[string]any{"role": role, "content": c.Str}, nil
	}
	if !c.IsArray() {
		return nil, withCode(invalid(at+".content", "content must be a string or an array of content parts"), "invalid_type")
	}
	if role == "assistant" {
		return responsesAssistant(c, at+".content")
	}
	if role != "user" {
		text, err := responsesPartsText(c, at+".content")
		if err != nil {
			return nil, err
		}
		return map[string]any{"role": role, "content": text}, nil
	}
	var parts []any
	var err error
	j := -1
	c.ForEach(func(_, p gjson.Result) bool {
		j++
		pat := fmt.Sprintf("%s.content[%d]", at, j)
		switch p.Get("type").Str {
		case "input_text", "output_text":
			parts = append(parts, map[string]any{"type": "text", "text": p.Get("text").Str})
		case "input_image":
			u := p.Get("image_url")
			if u.Type != gjson.String {
				err = invalid(pat+".file_id", "Clearbar's /v1/responses takes images by image_url only")
				return false
			}
			img := map[string]any{"url": u.Str}
			if d := p.Get("detail").Str; d != "" {
				img["detail"] = d
			}
			parts = append(parts, map[string]any{"type": "image_url", "image_url": img})
		default:
			err = invalid(pat+".type", "Clearbar's /v1/responses does not support content parts of type %q", p.Get("type").Str)
		}
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"role": role, "content": parts}, nil
}

// responsesAssistant translates the content parts of an assistant message: its output_text
// (and input_text) parts are the chat message's content, its refusal parts, which a response's
// message item holds when the model refused, the chat message's refusal.
func responsesAssistant(c gjson.Result, at string) (map[string]any, error) {
	var text, refusal strings.Builder
	hasText, hasRefusal := false, false
	var err error
	j := -1
	c.ForEach(func(_, p gjson.Result) bool {
		j++
		switch p.Get("type").Str {
		case "input_text", "output_text":
			text.WriteString(p.Get("text").Str)
			hasText = true
		case "refusal":
			r := p.Get("refusal")
			if r.Type != gjson.String {
				err = withCode(invalid(fmt.Sprintf("%s[%d].refusal", at, j), "a refusal part needs refusal, a string"), "invalid_type")
				break
			}
			refusal.WriteString(r.Str)
			hasRefusal = true
		default:
			err = invalid(fmt.Sprintf("%s[%d].type", at, j), "Clearbar's /v1/responses takes only output_text and refusal parts in an assistant message, not %q", p.Get("type").Str)
		}
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	m := map[string]any{"role": "assistant"}
	if hasText || !hasRefusal {
		m["content"] = text.String()
	}
	if hasRefusal {
		m["refusal"] = refusal.String()
	}
	return m, nil
}

// responsesPartsText joins the text of an array of input_text/output_text parts.
func responsesPartsText(c gjson.Result, at string) (string, error) {
	var b strings.Builder
	var err error
	j := -1
	c.ForEach(func(_, p gjson.Result) bool {
		j++
		switch p.Get("type").Str {
		case "input_text", "output_text":
			b.WriteString(p.Get("text").Str)
		default:
			err = invalid(fmt.Sprintf("%s[%d].type", at, j), "Clearbar's /v1/responses takes only text parts here, not %q", p.Get("type").Str)
		}
		return err == nil
	})
	return b.String(), err
}

// responsesTools translates function tools, flat in the Responses API, into chat tools.
func responsesTools(v gjson.Result) ([]any, error) {
	if !v.IsArray() {
		return nil, withCode(invalid("tools", "tools must be an array"), "invalid_type")
	}
	var tools []any
	var err error
	i := -1
	v.ForEach(func(_, t gjson.Result) bool {
		i++
		at := fmt.Sprintf("tools[%d]", i)
		if typ := t.Get("type").Str; typ != "function" {
			err = invalid(at+".type", "Clearbar's /v1/responses supports function tools only, not %q", typ)
			return false
		}
		fn := map[string]any{}
		var ferr error
		t.ForEach(func(k, f gjson.Result) bool {
			switch k.Str {
			case "type":
			case "name", "description", "parameters", "strict":
				if f.Type != gjson.Null {
					fn[k.Str] = json.RawMessage(f.Raw)
				}
			default:
				ferr = invalid(at+"."+k.Str, "Clearbar's /v1/responses does not support the tool member %s", k.Str)
			}
			return ferr == nil
		})
		if ferr != nil {
			err = ferr
			return false
		}
		if t.Get("name").Str == "" {
			err = invalid(at+".name", "a function tool needs a name")
			return false
		}
		tools = append(tools, map[string]any{"type": "function", "function": fn})
		return true
	})
	return tools, err
}

// responsesToolChoice translates tool_choice.
func responsesToolChoice(v gjson.Result) (any, error) {
	if v.Type == gjson.String {
		switch v.Str {
		case "auto", "none", "required":
			return v.Str, nil
		}
		return nil, invalid("tool_choice", "Invalid value for 'tool_choice': %q", v.Str)
	}
	if v.Get("type").Str == "function" && v.Get("name").Str != "" {
		return map[string]any{"type": "function", "function": map[string]any{"name": v.Get("name").Str}}, nil
	}
	if v.Get("type").Str == "allowed_tools" {
		return responsesAllowedChoice(v)
	}
	return nil, invalid("tool_choice", "Clearbar's /v1/responses supports tool_choice auto, none, required, a function or allowed_tools")
}

// responsesAllowedChoice translates tool_choice {type: allowed_tools, mode, tools: [{type:
// function, name}]} into chat's {type: allowed_tools, allowed_tools: {mode, tools: [{type:
// function, function: {name}}]}}. That each name is one of the request's function tools is
// checked once the whole body is read (responsesAllowedTools).
func responsesAllowedChoice(v gjson.Result) (any, error) {
	var err error
	v.ForEach(func(k, _ gjson.Result) bool {
		switch k.Str {
		case "type", "mode", "tools":
		default:
			err = invalid("tool_choice."+k.Str, "Clearbar's /v1/responses does not support tool_choice.%s", k.Str)
		}
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	mode := v.Get("mode")
	if mode.Type != gjson.String || mode.Str != "auto" && mode.Str != "required" {
		return nil, invalid("tool_choice.mode", "Invalid value for 'tool_choice.mode': %s. Supported values are: 'auto' and 'required'.", rawOrNothing(mode))
	}
	list := v.Get("tools")
	if !list.IsArray() || len(list.Array()) == 0 {
		return nil, invalid("tool_choice.tools", "tool_choice of type allowed_tools needs tools, an array naming at least one of the request's function tools")
	}
	var tools []any
	i := -1
	list.ForEach(func(_, t gjson.Result) bool {
		i++
		at := fmt.Sprintf("tool_choice.tools[%d]", i)
		if typ := t.Get("type").Str; typ != "function" {
			err = invalid(at+".type", "Clearbar's /v1/responses supports function tools only, not %q", typ)
			return false
		}
		if name := t.Get("name"); name.Type != gjson.String || name.Str == "" {
			err = invalid(at+".name", "an allowed function tool needs a name")
			return false
		}
		tools = append(tools, map[string]any{"type": "function", "function": map[string]any{"name": t.Get("name").Str}})
		return true
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"type": "allowed_tools", "allowed_tools": map[string]any{"mode": mode.Str, "tools": tools}}, nil
}

// rawOrNothing is a value for an error message: its JSON, or "nothing" when it is absent.
func rawOrNothing(v gjson.Result) string {
	if !v.Exists() {
		return "nothing"
	}
	return v.Raw
}

// responsesAllowedTools checks that the tools tool_choice allowed_tools names are among the
// request's function tools, once both are read (either may come first).
func responsesAllowedTools(root gjson.Result) error {
	tc := root.Get("tool_choice")
	if !tc.IsObject() || tc.Get("type").Str != "allowed_tools" {
		return nil
	}
	have := map[string]bool{}
	root.Get("tools").ForEach(func(_, t gjson.Result) bool {
		have[t.Get("name").Str] = true
		return true
	})
	var err error
	i := -1
	tc.Get("tools").ForEach(func(_, t gjson.Result) bool {
		i++
		if name := t.Get("name").Str; !have[name] {
			err = invalid(fmt.Sprintf("tool_choice.tools[%d].name", i), "Invalid value for 'tool_choice': function %q is not among the request's tools", name)
		}
		return err == nil
	})
	return err
}

// responsesText translates text.format into a response_format (nil for plain text), and
// returns text.verbosity, chat's verbosity ("" when absent or null).
func responsesText(v gjson.Result) (any, string, error) {
	var err error
	verbosity := ""
	v.ForEach(func(k, x gjson.Result) bool {
		switch k.Str {
		case "format":
		case "verbosity":
			switch {
			case x.Type == gjson.Null:
			case x.Type != gjson.String:
				err = withCode(invalid("text.verbosity", "text.verbosity must be a string"), "invalid_type")
			case x.Str == "low" || x.Str == "medium" || x.Str == "high":
				verbosity = x.Str
			default:
				err = invalid("text.verbosity", "Invalid value for 'text.verbosity': %q. Supported values are: 'low', 'medium' and 'high'.", x.Str)
			}
		default:
			err = invalid("text."+k.Str, "Clearbar's /v1/responses does not support text.%s", k.Str)
		}
		return err == nil
	})
	if err != nil {
		return nil, "", err
	}
	f := v.Get("format")
	switch f.Get("type").Str {
	case "", "text":
		return nil, verbosity, nil
	case "json_object":
		return map[string]any{"type": "json_object"}, verbosity, nil
	case "json_schema":
		js := map[string]any{}
		for _, k := range []string{"name", "description", "schema", "strict"} {
			if m := f.Get(k); m.Exists() && m.Type != gjson.Null {
				js[k] = json.RawMessage(m.Raw)
			}
		}
		return map[string]any{"type": "json_schema", "json_schema": js}, verbosity, nil
	}
	return nil, "", invalid("text.format.type", "Clearbar's /v1/responses does not support text.format.type %q", f.Get("type").Str)
}

// responseState is a response object being built, from a completion or a stream.
type responseState struct {
	echo    ResponsesEcho
	id      string
	model   string
	created int64
	output  []map[string]any
	finish  string
	usage   gjson.Result
}

// object renders the response object with the given status.
func (s *responseState) object(status string, failure map[string]any) map[string]any {
	raw := func(r json.RawMessage, def string) json.RawMessage {
		if len(r) == 0 {
			return json.RawMessage(def)
		}
		return r
	}
	out := s.output
	if out == nil {
		out = []map[string]any{}
	}
	o := map[string]any{
		"id": s.id, "object": "response", "created_at": s.created, "status": status,
		"error": failure, "incomplete_details": nil,
		"instructions": raw(s.echo.Instructions, "null"), "max_output_tokens": raw(s.echo.MaxOutputTokens, "null"),
		"model": s.model, "output": out, "parallel_tool_calls": raw(s.echo.ParallelToolCalls, "true"),
		"previous_response_id": nil, "store": false, "temperature": raw(s.echo.Temperature, "null"),
		"text": raw(s.echo.Text, `{"format":{"type":"text"}}`), "tool_choice": raw(s.echo.ToolChoice, `"auto"`),
		"tools": raw(s.echo.Tools, "[]"), "top_p": raw(s.echo.TopP, "null"), "truncation": "disabled",
		"usage": nil, "metadata": raw(s.echo.Metadata, "{}"), "user": raw(s.echo.User, "null"),
	}
	for _, m := range s.echo.Passed {
		o[m.Key] = m.Raw
	}
	if status == "incomplete" {
		reason := "max_output_tokens"
		if s.finish == "content_filter" {
			reason = "content_filter"
		}
		o["incomplete_details"] = map[string]any{"reason": reason}
	}
	if s.usage.Exists() && s.usage.IsObject() {
		u := s.usage
		o["usage"] = map[string]any{
			"input_tokens": u.Get("prompt_tokens").Int(),
			"input_tokens_details": map[string]any{
				"cached_tokens":      u.Get("prompt_tokens_details.cached_tokens").Int(),
				"cache_write_tokens": u.Get("prompt_tokens_details.cache_write_tokens").Int(),
			},
			"output_tokens":         u.Get("completion_tokens").Int(),
			"output_tokens_details": map[string]any{"reasoning_tokens": u.Get("completion_tokens_details.reasoning_tokens").Int()},
			"total_tokens":          u.Get("total_tokens").Int(),
		}
	}
	return o
}

// finalStatus is the status of a finished response: incomplete when the answer was cut by its
// token limit or a content filter. The item the cut ended, the last of its output, is
// incomplete too, as OpenAI marks it.
func (s *responseState) finalStatus() string {
	if s.finish == "length" || s.finish == "content_filter" {
		return "incomplete"
	}
	return "completed"
}

func messageItem(id, status string, parts []any) map[string]any {
	return map[string]any{"type": "message", "id": id, "status": status, "role": "assistant", "content": parts}
}

func textPart(text string) map[string]any {
	return map[string]any{"type": "output_text", "text": text, "annotations": []any{}, "logprobs": []any{}}
}

func refusalPart(text string) map[string]any {
	return map[string]any{"type": "refusal", "refusal": text}
}

func callItem(id, callID, name, args, status string) map[string]any {
	return map[string]any{"type": "function_call", "id": id, "call_id": callID, "name": name, "arguments": args, "status": status}
}

// ToResponsesResponse translates a chat completion into a response object whose id is
// "resp_"+id.
func ToResponsesResponse(chat []byte, id string, echo ResponsesEcho) ([]byte, error) {
	root, ok := parseObject(chat)
	if !ok {
		return nil, badResponse("the completion is not a JSON object")
	}
	s := &responseState{echo: echo, id: "resp_" + id, model: root.Get("model").Str, created: root.Get("created").Int(), usage: root.Get("usage")}
	choice := root.Get("choices.0")
	if !choice.Exists() {
		return nil, badResponse("the completion has no choices")
	}
	s.finish = choice.Get("finish_reason").Str
	m := choice.Get("message")
	var parts []any
	if t := m.Get("content"); t.Type == gjson.String && t.Str != "" {
		parts = append(parts, textPart(t.Str))
	}
	if r := m.Get("refusal"); r.Type == gjson.String && r.Str != "" {
		parts = append(parts, refusalPart(r.Str))
	}
	if parts != nil {
		s.output = append(s.output, messageItem("msg_"+id, "completed", parts))
	}
	n := 0
	m.Get("tool_calls").ForEach(func(_, c gjson.Result) bool {
		s.output = append(s.output, callItem(fmt.Sprintf("fc_%s_%d", id, n), c.Get("id").Str, c.Get("function.name").Str, c.Get("function.arguments").Str, "completed"))
		n++
		return true
	})
	status := s.finalStatus()
	if status == "incomplete" && len(s.output) > 0 {
		s.output[len(s.output)-1]["status"] = "incomplete"
	}
	return json.Marshal(s.object(status, nil))
}
