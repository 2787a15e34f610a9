package gateway

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/translate"
	"github.com/clearbar/clearbar/validate"
)

// Limits bound what a request may contain.
type Limits struct {
	// MaxBody is the largest body accepted, in bytes.
	MaxBody int64
	// MaxMessages is the most messages a request may have.
	MaxMessages int
	// Messages says the body was translated from a /v1/messages request: it may carry the
	// translation's Anthropic sidecar (translate.AnthropicKey), which a client's own body may
	// not, and OpenAI's bound of 4 stop sequences, which Anthropic does not share, is lifted.
	Messages bool
}

// DefaultLimits are used for settings the spec leaves out.
var DefaultLimits = Limits{MaxBody: 32 << 20, MaxMessages: 2000}

func badRequest(param, code, format string, args ...any) *clearbar.Error {
	return &clearbar.Error{Class: clearbar.ClientError, Status: 400, Type: "invalid_request_error", Param: param, Code: code,
		Message: fmt.Sprintf(format, args...)}
}

// routedKeys are the top-level fields routing reads, each with a bit for duplicate checks.
var routedKeys = map[string]uint16{
	"model": 1, "messages": 2, "stream": 4, "stream_options": 8, "tools": 16, "tool_choice": 32,
	"response_format": 64, "max_completion_tokens": 128, "max_tokens": 256, "n": 512, "metadata": 1024, "user": 2048,
	translate.AnthropicKey: 4096, "functions": 8192, "function_call": 16384,
}

// DecodeChatRequest reads an OpenAI chat completions request body into the canonical form,
// keeping the body itself for pass-through. It reads only what routing and validation need,
// with gjson, so unknown fields cost nothing and survive untouched. Errors are ClientError
// *clearbar.Error values naming the offending parameter. A body nesting arrays and objects
// deeper than jsonguard.MaxDepth is refused as invalid JSON (see checkJSON), and so are
// tool-call arguments and tool results whose text does (see decodeMessages).
func DecodeChatRequest(body []byte, lim Limits) (*clearbar.Request, error) {
	if err := checkJSON(body); err != nil {
		return nil, err
	}
	// The body is never modified after this point, so it is read in place rather than copied:
	// every string gjson returns aliases it.
	root := gjson.Parse(view(body))
	if !root.IsObject() {
		return nil, badRequest("", "invalid_json", "the request body must be a JSON object")
	}
	r := &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: body, N: 1}
	if lim.Messages {
		r.AnthropicOnly, r.AnthropicOnlyWhat = translate.AnthropicOnly(body)
	}
	var err *clearbar.Error
	var seen uint16
	// Checked once the whole body is read, since they depend on other parameters: tool_choice
	// on the tools, the deprecated functions and function_call on the tools and each other,
	// stream_options on stream, top_logprobs on logprobs.
	var tools, toolChoice, functions, functionCall, streamOptions, topLogprobs gjson.Result
	logprobs := false
	root.ForEach(func(k, v gjson.Result) bool {
		// A key given twice is read differently by different parsers (the upstream may take
		// the last, routing the first): refuse it.
		if bit, routed := routedKeys[k.Str]; routed {
			if seen&bit != 0 {
				err = badRequest(k.Str, "duplicate_key", "the request body has %q twice; send it once", k.Str)
				return false
			}
			seen |= bit
		}
		switch k.Str {
		case translate.AnthropicKey:
			if !lim.Messages {
				// It would reach an Anthropic upstream past every check made here.
				err = badRequest(k.Str, "unknown_parameter", "Unrecognized request argument supplied: %s (a name Clearbar keeps for requests it translates from /v1/messages)", k.Str)
				return false
			}
		case "model":
			if v.Type != gjson.String {
				err = badRequest("model", "invalid_type", "model must be a string")
				return false
			}
			r.Model = v.Str
		case "stream":
			if err = checkBool(k.Str, v); err == nil {
				r.Stream = v.Type == gjson.True
			}
		case "stream_options":
			if v.Type != gjson.Null && !v.IsObject() {
				err = invalidType(k.Str, "an object", v)
			} else if err = checkBool("stream_options.include_usage", v.Get("include_usage")); err == nil {
				r.IncludeUsage = v.Get("include_usage").Type == gjson.True
				streamOptions = v
			}
		case "messages":
			err = decodeMessages(r, v, lim)
		case "tools":
			tools = v
			err = decodeTools(r, v)
		case "tool_choice":
			toolChoice = v
		case "functions":
			functions = v
		case "function_call":
			functionCall = v
		case "response_format":
			err = decodeResponseFormat(r, v)
		case "stop":
			err = checkStop(v, lim.Messages)
		case "logprobs":
			if err = checkBool(k.Str, v); err == nil {
				logprobs = v.Type == gjson.True
			}
		case "top_logprobs":
			if _, err = checkInt(k.Str, v, 0, maxTopLogprobs); err == nil {
				topLogprobs = v
			}
		case "max_completion_tokens":
			var n int
			if n, err = checkInt(k.Str, v, 1, maxOutputTokens); err == nil && n > 0 {
				r.MaxTokens = n
			}
		case "max_tokens":
			var n int
			if n, err = checkInt(k.Str, v, 1, maxOutputTokens); err == nil && r.MaxTokens == 0 {
				r.MaxTokens = n
			}
		case "n":
			var n int
			if n, err = checkInt(k.Str, v, 1, maxChoices); err == nil && n > 0 {
				r.N = n
			}
		case "temperature":
			err = checkNumber(k.Str, v, 0, 2)
		case "top_p":
			err = checkNumber(k.Str, v, 0, 1)
		case "presence_penalty", "frequency_penalty":
			err = checkNumber(k.Str, v, -2, 2)
		case "metadata":
			if v.IsObject() {
				r.Metadata = make(map[string]string)
				v.ForEach(func(mk, mv gjson.Result) bool {
					r.Metadata[mk.Str] = mv.String()
					return true
				})
			}
		case "user":
			r.User = v.Str
		case "web_search_options":
			switch {
			case v.IsObject():
				r.WebSearch = true
			case v.Type != gjson.Null:
				err = invalidType(k.Str, "an object", v)
			}
		}
		return err == nil
	})
	if err == nil {
		err = decodeToolChoice(r, toolChoice)
	}
	if err == nil {
		err = decodeFunctions(r, functions, functionCall, tools.Exists() && tools.Type != gjson.Null)
	}
	if err == nil && streamOptions.Exists() && streamOptions.Type != gjson.Null && !r.Stream {
		err = badRequest("stream_options", "invalid_value", "Invalid value for 'stream_options': stream_options is only allowed when stream is true; leave it out (or null) for a request that is not streamed.")
	}
	if err == nil && topLogprobs.Exists() && topLogprobs.Type != gjson.Null && !logprobs {
		err = badRequest("top_logprobs", "invalid_value", "Invalid value for 'top_logprobs': top_logprobs is only allowed when logprobs is true; set \"logprobs\": true to get the most likely tokens.")
	}
	if err != nil {
		return nil, err
	}
	if r.Model == "" {
		return nil, badRequest("model", "missing_required_parameter", "model is required: name a model or a category alias such as clearbar/CATEGORY")
	}
	if len(r.Messages) == 0 {
		return nil, badRequest("messages", "missing_required_parameter", "messages is required and must not be empty")
	}
	return r, nil
}

// checkJSON validates a client's request body, in one pass that also bounds its nesting
// (jsonguard.Check), before gjson or any recursive parser reads it: deeper nesting would
// exhaust the stack of gjson's validator and end the process. Either failure is OpenAI's 400
// invalid_json.
func checkJSON(body []byte) *clearbar.Error {
	err := jsonguard.Check(body)
	if err == nil {
		return nil
	}
	msg := jsonguard.Describe(err, "the request body")
	if err == jsonguard.ErrTooDeep {
		msg += ", the gateway's limit"
	}
	return badRequest("", "invalid_json", "%s", msg)
}

// tooDeepText is the 400 for a string parameter whose text, which adapters parse as JSON
// (tool-call arguments, a tool's result), nests more than jsonguard.MaxDepth levels deep.
func tooDeepText(param string) *clearbar.Error {
	return badRequest(param, "invalid_value", "Invalid value for '%s': its JSON nests arrays and objects more than %d levels deep, the gateway's limit.", param, jsonguard.MaxDepth)
}

// decodeMessages reads the messages. Tool-call arguments, and the text of tool and function
// messages, are JSON in a string that adapters parse (Gemini's args and functionResponse, an
// Anthropic tool_use's input): text nesting more than jsonguard.MaxDepth levels is refused
// here (tooDeepText). The translators check such text with jsonguard themselves; this is a
// second line of defence, which refuses it before routing, with a 400 that names the
// parameter and says why.
func decodeMessages(r *clearbar.Request, v gjson.Result, lim Limits) *clearbar.Error {
	if !v.IsArray() {
		return badRequest("messages", "invalid_type", "messages must be an array")
	}
	var err *clearbar.Error
	n := 0
	v.ForEach(func(_, m gjson.Result) bool {
		n++
		if lim.MaxMessages > 0 && n > lim.MaxMessages {
			err = badRequest("messages", "too_many_messages", "the request has more than %d messages, the gateway's limit", lim.MaxMessages)
			return false
		}
		if !m.IsObject() {
			err = badRequest(fmt.Sprintf("messages[%d]", n-1), "invalid_type", "each message must be an object")
			return false
		}
		at := func(field string) string { return fmt.Sprintf("messages[%d]%s", n-1, field) }
		role := m.Get("role")
		switch {
		case !role.Exists() || role.Type == gjson.Null || role.Type == gjson.String && role.Str == "":
			err = badRequest(at(".role"), "missing_required_parameter", "every message needs a role")
			return false
		case role.Type != gjson.String:
			err = invalidType(at(".role"), "a string", role)
			return false
		case !knownRole(role.Str):
			err = badRequest(at(".role"), "invalid_value", "Invalid value for '%s': %q. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool' and 'function'.", at(".role"), role.Str)
			return false
		}
		if role.Str == "tool" {
			// A tool message answers one call; without its id no upstream can pair them
			// (OpenAI refuses it, and the Anthropic translation needs it for tool_use_id).
			switch id := m.Get("tool_call_id"); {
			case !id.Exists() || id.Type == gjson.Null || id.Type == gjson.String && id.Str == "":
				err = badRequest(at(".tool_call_id"), "missing_required_parameter", "Missing required parameter: '%s'. A tool message needs the tool_call_id of the call it answers.", at(".tool_call_id"))
				return false
			case id.Type != gjson.String:
				err = invalidType(at(".tool_call_id"), "a string", id)
				return false
			}
		}
		msg := clearbar.Message{Role: role.Str}
		c := m.Get("content")
		switch {
		case c.Type == gjson.String:
			msg.Text = c.Str
		case c.IsArray():
			var b strings.Builder
			j := -1
			c.ForEach(func(_, part gjson.Result) bool {
				j++
				if !part.IsObject() {
					err = invalidType(at(fmt.Sprintf(".content[%d]", j)), "an object", part)
					return false
				}
				typ := part.Get("type").Str
				switch typ {
				case "text", "input_text", "refusal":
					field := "text"
					if typ == "refusal" {
						field = "refusal"
					}
					if v := part.Get(field); v.Exists() && v.Type != gjson.String {
						err = invalidType(at(fmt.Sprintf(".content[%d].%s", j, field)), "a string", v)
						return false
					}
					if b.Len() > 0 {
						b.WriteByte('\n')
					}
					b.WriteString(part.Get("text").Str)
					if typ == "refusal" {
						b.WriteString(part.Get("refusal").Str)
					}
				default:
					a := clearbar.Attachment{Type: typ}
					switch typ {
					case "image_url":
						if u := part.Get("image_url.url").Str; strings.HasPrefix(u, "data:") {
							a.Size = len(u)
						}
					case "input_audio":
						a.Size = len(part.Get("input_audio.data").Str)
					case "file":
						a.Size = len(part.Get("file.file_data").Str)
					}
					msg.Attachments = append(msg.Attachments, a)
				}
				return true
			})
			if err != nil {
				return false
			}
			msg.Text = b.String()
		case c.Exists() && c.Type != gjson.Null:
			err = invalidType(at(".content"), "one of a string or array of objects", c)
			return false
		}
		if tcs := m.Get("tool_calls"); tcs.IsArray() {
			j := -1
			tcs.ForEach(func(_, tc gjson.Result) bool {
				j++
				args := tc.Get("function.arguments").Str
				if jsonguard.TooDeepString(args, jsonguard.MaxDepth) {
					err = tooDeepText(at(fmt.Sprintf(".tool_calls[%d].function.arguments", j)))
					return false
				}
				msg.ToolCalls = append(msg.ToolCalls, clearbar.ToolCall{ID: tc.Get("id").Str, Name: tc.Get("function.name").Str, Arguments: args})
				return true
			})
			if err != nil {
				return false
			}
		}
		if fc := m.Get("function_call"); fc.IsObject() {
			// A call made in the deprecated form, which has no id.
			args := fc.Get("arguments").Str
			if jsonguard.TooDeepString(args, jsonguard.MaxDepth) {
				err = tooDeepText(at(".function_call.arguments"))
				return false
			}
			msg.ToolCalls = append(msg.ToolCalls, clearbar.ToolCall{Name: fc.Get("name").Str, Arguments: args})
		}
		if (role.Str == "tool" || role.Str == "function") && jsonguard.TooDeepString(msg.Text, jsonguard.MaxDepth) {
			err = tooDeepText(at(".content"))
			return false
		}
		msg.ToolCallID = m.Get("tool_call_id").Str
		if !utf8.ValidString(msg.Text) {
			msg.Text = strings.ToValidUTF8(msg.Text, "\uFFFD")
		}
		r.Messages = append(r.Messages, msg)
		return true
	})
	return err
}

// The bounds OpenAI gives n, stop and top_logprobs, and a bound on output tokens that keeps
// them an int32 (the context window check names max_tokens when a model cannot give that
// many).
const (
	maxChoices       = 128
	maxStopSequences = 4
	maxTopLogprobs   = 20
	maxOutputTokens  = 1<<31 - 1
	// maxName is the longest response_format.json_schema.name or function name OpenAI takes.
	maxName = 64
)

// checkStop accepts OpenAI's stop: null, a string, or an array of strings, at most
// maxStopSequences of them unless any is set.
func checkStop(v gjson.Result, any bool) *clearbar.Error {
	switch {
	case v.Type == gjson.Null || v.Type == gjson.String:
		return nil
	case !v.IsArray():
		return invalidType("stop", "one of a string or array of strings", v)
	}
	var err *clearbar.Error
	n := 0
	v.ForEach(func(_, s gjson.Result) bool {
		if s.Type != gjson.String {
			err = invalidType(fmt.Sprintf("stop[%d]", n), "a string", s)
			return false
		}
		n++
		return true
	})
	if err == nil && n > maxStopSequences && !any {
		err = badRequest("stop", "array_above_max_length", "Invalid 'stop': array too long. Expected an array with maximum length %d, but got an array with length %d instead.", maxStopSequences, n)
	}
	return err
}

// decodeResponseFormat reads response_format: null, or an object whose type is text,
// json_object or json_schema; json_schema needs json_schema.name, as OpenAI requires
// (^[a-zA-Z0-9_-]{1,64}$). Other types are the 400 OpenAI gives, not an upstream's guess.
func decodeResponseFormat(r *clearbar.Request, v gjson.Result) *clearbar.Error {
	switch {
	case v.Type == gjson.Null:
		return nil
	case !v.IsObject():
		return invalidType("response_format", "an object", v)
	}
	t := v.Get("type")
	switch {
	case !t.Exists() || t.Type == gjson.Null:
		return badRequest("response_format.type", "missing_required_parameter", "Missing required parameter: 'response_format.type'. Supported values are: 'text', 'json_object' and 'json_schema'.")
	case t.Type != gjson.String:
		return invalidType("response_format.type", "a string", t)
	}
	switch t.Str {
	case "text", "json_object":
	case "json_schema":
		js := v.Get("json_schema")
		switch {
		case !js.Exists() || js.Type == gjson.Null:
			return badRequest("response_format.json_schema", "missing_required_parameter", "Missing required parameter: 'response_format.json_schema'. A json_schema response_format needs {\"name\": NAME, \"schema\": {…}}.")
		case !js.IsObject():
			return invalidType("response_format.json_schema", "an object", js)
		}
		if err := checkName("response_format.json_schema.name", "format", js.Get("name")); err != nil {
			return err
		}
		r.ResponseFormat.Name = js.Get("name").Str
		if s := js.Get("schema"); s.Exists() {
			r.ResponseFormat.Schema = []byte(s.Raw)
		}
		r.ResponseFormat.Strict = js.Get("strict").Type == gjson.True
	default:
		return badRequest("response_format.type", "invalid_value", "Invalid value for 'response_format.type': %q. Supported values are: 'text', 'json_object' and 'json_schema'.", t.Str)
	}
	r.ResponseFormat.Type = t.Str
	return nil
}

// checkName checks a name OpenAI restricts to ^[a-zA-Z0-9_-]{1,64}$ (response_format's
// json_schema.name, a function's name): required, a string, and a-z, A-Z, 0-9, underscores and
// dashes, at most maxName long. what is the thing named, for the message.
func checkName(param, what string, name gjson.Result) *clearbar.Error {
	switch {
	case !name.Exists() || name.Type == gjson.Null:
		return badRequest(param, "missing_required_parameter", "Missing required parameter: '%s'. Name the %s with a-z, A-Z, 0-9, underscores and dashes, at most %d characters.", param, what, maxName)
	case name.Type != gjson.String:
		return invalidType(param, "a string", name)
	case len(name.Str) > maxName:
		return badRequest(param, "string_above_max_length", "Invalid '%s': string too long. Expected a string with maximum length %d, but got a string with length %d instead.", param, maxName, len(name.Str))
	}
	ok := name.Str != ""
	for i := 0; ok && i < len(name.Str); i++ {
		c := name.Str[i]
		ok = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
	}
	if !ok {
		return badRequest(param, "invalid_value", "Invalid '%s': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{1,%d}$', but got %q.", param, maxName, name.Str)
	}
	return nil
}

// knownRole reports whether role is one of the chat completions message roles.
func knownRole(role string) bool {
	switch role {
	case "system", "developer", "user", "assistant", "tool", "function":
		return true
	}
	return false
}

// jsonType names the JSON type of v for an error message, as OpenAI does.
func jsonType(v gjson.Result) string {
	switch v.Type {
	case gjson.String:
		return "a string"
	case gjson.Number:
		if math.Trunc(v.Num) == v.Num {
			return "an integer"
		}
		return "a decimal"
	case gjson.True, gjson.False:
		return "a boolean"
	case gjson.Null:
		return "null"
	}
	if v.IsArray() {
		return "an array"
	}
	return "an object"
}

// invalidType is OpenAI's 400 for a parameter of the wrong JSON type.
func invalidType(param, want string, got gjson.Result) *clearbar.Error {
	return badRequest(param, "invalid_type", "Invalid type for '%s': expected %s, but got %s instead.", param, want, jsonType(got))
}

// checkBool accepts a boolean, null or nothing.
func checkBool(param string, v gjson.Result) *clearbar.Error {
	if !v.Exists() || v.Type == gjson.Null || v.Type == gjson.True || v.Type == gjson.False {
		return nil
	}
	return invalidType(param, "a boolean", v)
}

// checkInt reads an optional integer parameter within [lo, hi]; null or nothing is 0.
func checkInt(param string, v gjson.Result, lo, hi int64) (int, *clearbar.Error) {
	if !v.Exists() || v.Type == gjson.Null {
		return 0, nil
	}
	if v.Type != gjson.Number || math.Trunc(v.Num) != v.Num || math.IsInf(v.Num, 0) {
		return 0, invalidType(param, "an integer", v)
	}
	switch {
	case v.Num < float64(lo):
		return 0, badRequest(param, "integer_below_min_value", "Invalid '%s': integer below minimum value. Expected a value >= %d, but got %s instead.", param, lo, v.Raw)
	case v.Num > float64(hi):
		return 0, badRequest(param, "integer_above_max_value", "Invalid '%s': integer above maximum value. Expected a value <= %d, but got %s instead.", param, hi, v.Raw)
	}
	return int(v.Num), nil
}

// checkNumber checks an optional number parameter is within [lo, hi].
func checkNumber(param string, v gjson.Result, lo, hi float64) *clearbar.Error {
	switch {
	case !v.Exists() || v.Type == gjson.Null:
		return nil
	case v.Type != gjson.Number:
		return invalidType(param, "a number", v)
	case v.Num < lo:
		return badRequest(param, "decimal_below_min_value", "Invalid '%s': decimal below minimum value. Expected a value >= %g, but got %s instead.", param, lo, v.Raw)
	case v.Num > hi:
		return badRequest(param, "decimal_above_max_value", "Invalid '%s': decimal above maximum value. Expected a value <= %g, but got %s instead.", param, hi, v.Raw)
	}
	return nil
}

// decodeToolChoice reads tool_choice, after the tools: "none", "auto" or "required", or an
// object; {"type":"function","function":{"name":…}} must name one of the request's function
// tools, and every string needs tools ("'tool_choice' is only allowed when 'tools' are
// specified", as OpenAI answers; the deprecated functions take function_call instead). Anything
// else is the 400 OpenAI gives, rather
// than an upstream's 400 that reads the value as a function name (or an upstream that drops a
// tool_choice without tools and answers in text). Other object types (allowed_tools, custom)
// are left to the upstream.
func decodeToolChoice(r *clearbar.Request, v gjson.Result) *clearbar.Error {
	switch {
	case !v.Exists() || v.Type == gjson.Null:
		return nil
	case v.Type == gjson.String:
		switch v.Str {
		case "required":
			if len(r.Tools) == 0 {
				return badRequest("tool_choice", "invalid_value", "Invalid value for 'tool_choice': \"required\" makes the model call a tool, but the request has no tools: tool_choice requires tools.")
			}
			fallthrough
		case "none", "auto":
			if len(r.Tools) == 0 {
				return badRequest("tool_choice", "invalid_value", "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.")
			}
			r.ToolChoice = v.Str
			return nil
		}
		return badRequest("tool_choice", "invalid_value", "Invalid value for 'tool_choice': %q. Supported values are: 'none', 'auto' and 'required', or an object naming a function: {\"type\": \"function\", \"function\": {\"name\": \"NAME\"}}.", v.Str)
	case !v.IsObject():
		return invalidType("tool_choice", "one of a string or an object", v)
	}
	if t := v.Get("type"); t.Exists() && t.Str != "function" {
		return nil
	}
	name := v.Get("function.name")
	if name.Type != gjson.String || name.Str == "" {
		return badRequest("tool_choice.function.name", "missing_required_parameter", "tool_choice of type function needs function.name, the name of one of the request's tools")
	}
	for i := range r.Tools {
		if r.Tools[i].Name == name.Str {
			r.ToolChoice = name.Str
			return nil
		}
	}
	if len(r.Tools) == 0 {
		return badRequest("tool_choice", "invalid_value", "Invalid value for 'tool_choice': function %q is named, but the request has no tools: tool_choice requires tools.", name.Str)
	}
	return badRequest("tool_choice", "invalid_value", "Invalid value for 'tool_choice': function %q is not among the request's tools (%s).", name.Str, toolNames(r.Tools))
}

// toolNames lists the names of tools for an error message.
func toolNames(tools []clearbar.Tool) string {
	var b strings.Builder
	for i, t := range tools {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.Name)
	}
	return b.String()
}

func decodeTools(r *clearbar.Request, v gjson.Result) *clearbar.Error {
	if !v.IsArray() {
		return badRequest("tools", "invalid_type", "tools must be an array")
	}
	var err *clearbar.Error
	i := 0
	v.ForEach(func(_, t gjson.Result) bool {
		fn := t.Get("function")
		name := fn.Get("name").Str
		if t.Get("type").Str == "function" && name == "" {
			err = badRequest(fmt.Sprintf("tools[%d].function.name", i), "missing_required_parameter", "every function tool needs a name")
			return false
		}
		tool := clearbar.Tool{Name: name, Description: fn.Get("description").Str, Strict: fn.Get("strict").Type == gjson.True}
		if p := fn.Get("parameters"); p.Exists() {
			if err = checkParameters("tools[%d].function.parameters", i, name, p); err != nil {
				return false
			}
			tool.Parameters = []byte(p.Raw)
		}
		r.Tools = append(r.Tools, tool)
		i++
		return true
	})
	return err
}

// checkParameters refuses a function's parameters that are not a JSON Schema, with the 400
// OpenAI gives ("Invalid schema for function 'NAME': …", code invalid_function_parameters),
// before any model is called: every model would be sent a schema it cannot honour, and a
// tool_calls validator could check no answer against it. Null is no schema. The schemas are
// compiled as the validators compile them (validate.CheckSchema), once per distinct schema.
// param is the parameter's path, with a %d for the function's index i.
func checkParameters(param string, i int, name string, p gjson.Result) *clearbar.Error {
	if p.Type == gjson.Null {
		return nil
	}
	if err := validate.CheckSchema(p.Raw); err != nil {
		return badRequest(fmt.Sprintf(param, i), "invalid_function_parameters", "Invalid schema for function '%s': %s.", name, err)
	}
	return nil
}

// decodeFunctions reads the deprecated functions and function_call, after tools and
// tool_choice. The functions become Tools, with Functions set, so that routing, estimates,
// validators and simulations see them as tools; function_call becomes ToolChoice: "none",
// "auto", or {"name": …} naming one of the functions. As OpenAI does, each function is an
// object with a name of a-z, A-Z, 0-9, underscores and dashes, at most 64 long, an empty
// array is refused, and function_call needs functions. functions together with tools (withTools) is refused, as the
// Anthropic translation refuses it: the answer cannot be in both forms.
func decodeFunctions(r *clearbar.Request, functions, call gjson.Result, withTools bool) *clearbar.Error {
	if !functions.Exists() || functions.Type == gjson.Null {
		if call.Exists() && call.Type != gjson.Null {
			return badRequest("function_call", "invalid_value", "Invalid value for 'function_call': 'function_call' is only allowed when 'functions' are specified (with tools, send tool_choice).")
		}
		return nil
	}
	switch {
	case withTools:
		return badRequest("functions", "invalid_value", "Invalid value for 'functions': send tools or the deprecated functions, not both.")
	case !functions.IsArray():
		return invalidType("functions", "an array", functions)
	case len(functions.Array()) == 0:
		// As OpenAI does ("[] is too short - 'functions'"): an empty array would offer nothing
		// yet mark the request as one for functions, which Gemini models refuse.
		return badRequest("functions", "empty_array", "Invalid 'functions': empty array. Expected an array with minimum length 1, but got an empty array instead.")
	}
	var err *clearbar.Error
	var fns []clearbar.Tool
	i := 0
	functions.ForEach(func(_, f gjson.Result) bool {
		at := fmt.Sprintf("functions[%d]", i)
		i++
		if !f.IsObject() {
			err = invalidType(at, "an object", f)
			return false
		}
		name, desc, params := f.Get("name"), f.Get("description"), f.Get("parameters")
		if err = checkName(at+".name", "function", name); err != nil {
			return false
		}
		if desc.Exists() && desc.Type != gjson.Null && desc.Type != gjson.String {
			err = invalidType(at+".description", "a string", desc)
			return false
		}
		tool := clearbar.Tool{Name: name.Str, Description: desc.Str}
		switch {
		case params.IsObject():
			if err = checkParameters("functions[%d].parameters", i-1, name.Str, params); err != nil {
				return false
			}
			tool.Parameters = []byte(params.Raw)
		case params.Exists() && params.Type != gjson.Null:
			err = invalidType(at+".parameters", "an object", params)
			return false
		}
		fns = append(fns, tool)
		return true
	})
	if err != nil {
		return err
	}
	switch {
	case !call.Exists() || call.Type == gjson.Null:
	case call.Type == gjson.String:
		if call.Str != "none" && call.Str != "auto" {
			return badRequest("function_call", "invalid_value", "Invalid value for 'function_call': %q. Supported values are: 'none' and 'auto', or an object naming a function: {\"name\": \"NAME\"}.", call.Str)
		}
		r.ToolChoice = call.Str
	case !call.IsObject():
		return invalidType("function_call", "one of a string or an object", call)
	default:
		name := call.Get("name")
		switch {
		case !name.Exists() || name.Type == gjson.Null || name.Type == gjson.String && name.Str == "":
			return badRequest("function_call.name", "missing_required_parameter", "Missing required parameter: 'function_call.name'. Name one of the request's functions.")
		case name.Type != gjson.String:
			return invalidType("function_call.name", "a string", name)
		}
		found := false
		for _, f := range fns {
			found = found || f.Name == name.Str
		}
		if !found {
			return badRequest("function_call", "invalid_value", "Invalid value for 'function_call': function %q is not among the request's functions (%s).", name.Str, toolNames(fns))
		}
		r.ToolChoice = name.Str
	}
	r.Tools, r.Functions = fns, true
	return nil
}
