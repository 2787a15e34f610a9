package gateway

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/provider/gemini"
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
	// ToolNames holds the names of function and custom tools to OpenAI's pattern,
	// ^[a-zA-Z0-9_-]{1,64}$ (Anthropic's {1,128} when Messages is set), as the deprecated
	// functions always are. It is not in DefaultLimits: eval and validate read data sets with
	// them, whose tools may have names only Gemini takes ("math.factorial", as in BFCL). Without
	// it a tool's name must still be a non-empty string.
	ToolNames bool
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
	logprobs, audioOut := false, false
	// refusable says what the messages carry that the Anthropic translation or the Gemini
	// adapter may refuse (see refusables), which their own checks (translate.AnthropicRefusal,
	// gemini.Refusal) decide once the body is read.
	var refusable refusables
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
			err = decodeMessages(r, v, lim, &refusable)
		case "tools":
			tools = v
			err = decodeTools(r, v, lim)
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
		case "modalities":
			if v.IsArray() {
				v.ForEach(func(_, m gjson.Result) bool {
					audioOut = m.Type == gjson.String && m.Str == "audio"
					return !audioOut
				})
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
			err = decodeMetadata(r, v, !lim.Messages)
		case "user":
			if v.Type != gjson.String && v.Type != gjson.Null {
				err = invalidType(k.Str, "a string", v)
			}
			r.User = v.Str
		case "seed":
			_, err = checkInt(k.Str, v, math.MinInt64, math.MaxInt64)
		case "parallel_tool_calls":
			err = checkBool(k.Str, v)
		case "logit_bias":
			err = checkLogitBias(v)
		case "reasoning_effort":
			err = checkEnum(k.Str, v, reasoningEfforts, "'none', 'minimal', 'low', 'medium', 'high', 'xhigh' and 'max'")
		case "service_tier":
			err = checkEnum(k.Str, v, serviceTiers, "'auto', 'default', 'flex', 'scale' and 'priority'")
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
	if err == nil && tools.IsArray() && len(r.Tools) == 0 {
		// After tool_choice, whose error says more ("tool_choice requires tools"). As OpenAI
		// does: an empty array offers nothing, yet marks the request as one with tools.
		err = badRequest("tools", "empty_array", "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.")
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
	// What the Anthropic translation or the Gemini adapter refuses, or the Anthropic and Gemini
	// adapters drop, once the body is known to be valid: routing leaves those models out for it.
	if !lim.Messages && (refusable.anthropic || r.N > 1 || toolChoice.IsObject() && toolChoice.Get("type").Str != "function" ||
		r.ResponseFormat.Type == "json_schema" && r.ResponseFormat.Schema == nil || customTool(r)) {
		r.AnthropicRefusal = translate.AnthropicRefusal(body)
	}
	if refusable.gemini || customTool(r) || geminiRefusesToolChoice(toolChoice) {
		r.GeminiRefusal = gemini.Refusal(body)
	}
	switch {
	case logprobs:
		r.OpenAIAnswer = "logprobs"
	case audioOut:
		r.OpenAIAnswer = "modalities"
	}
	if r.Model == "" {
		return nil, badRequest("model", "missing_required_parameter", "model is required: name a model or a category alias such as clearbar/CATEGORY")
	}
	if len(r.Messages) == 0 {
		return nil, badRequest("messages", "missing_required_parameter", "messages is required and must not be empty")
	}
	if err := checkToolResults(r.Messages); err != nil {
		return nil, err
	}
	return r, nil
}

// decodeMetadata reads metadata: null, or an object of strings. limits applies OpenAI's bounds
// (at most maxMetadataKeys members, keys of at most maxMetadataKey characters, values of at most
// maxMetadataValue), which a request translated from /v1/messages, whose metadata holds only
// Clearbar's routing hints, does not share.
func decodeMetadata(r *clearbar.Request, v gjson.Result, limits bool) *clearbar.Error {
	switch {
	case v.Type == gjson.Null:
		return nil
	case !v.IsObject():
		return invalidType("metadata", "an object", v)
	}
	var err *clearbar.Error
	n := 0
	v.ForEach(func(mk, mv gjson.Result) bool {
		n++
		switch {
		case mv.Type != gjson.String:
			err = invalidType("metadata."+mk.Str, "a string", mv)
		case !limits:
		case n > maxMetadataKeys:
			all := 0
			v.ForEach(func(_, _ gjson.Result) bool { all++; return true })
			err = badRequest("metadata", "object_above_max_properties", "Invalid 'metadata': too many properties. Expected an object with at most %d properties, but got an object with %d properties instead.", maxMetadataKeys, all)
		case utf8.RuneCountInString(mk.Str) > maxMetadataKey:
			err = badRequest("metadata", "string_above_max_length", "Invalid 'metadata': key too long. Expected keys with maximum length %d, but got a key with length %d instead (%q).", maxMetadataKey, utf8.RuneCountInString(mk.Str), mk.Str)
		case utf8.RuneCountInString(mv.Str) > maxMetadataValue:
			err = badRequest("metadata."+mk.Str, "string_above_max_length", "Invalid 'metadata.%s': string too long. Expected a string with maximum length %d, but got a string with length %d instead.", mk.Str, maxMetadataValue, utf8.RuneCountInString(mv.Str))
		}
		if err != nil {
			return false
		}
		if r.Metadata == nil {
			r.Metadata = make(map[string]string)
		}
		r.Metadata[mk.Str] = mv.Str
		return true
	})
	if err != nil {
		r.Metadata = nil
	}
	return err
}

// checkLogitBias accepts OpenAI's logit_bias: null, or an object mapping token ids to numbers
// from -100 to 100.
func checkLogitBias(v gjson.Result) *clearbar.Error {
	switch {
	case v.Type == gjson.Null:
		return nil
	case !v.IsObject():
		return invalidType("logit_bias", "an object", v)
	}
	var err *clearbar.Error
	v.ForEach(func(k, b gjson.Result) bool {
		if b.Type != gjson.Number || b.Num < -100 || b.Num > 100 {
			err = checkNumber("logit_bias."+k.Str, b, -100, 100)
		}
		return err == nil
	})
	return err
}

// The values reasoning_effort and service_tier take: OpenAI's, and for reasoning_effort max,
// which Gemini models take (their highest thinking budget).
var (
	reasoningEfforts = []string{"none", "minimal", "low", "medium", "high", "xhigh", "max"}
	serviceTiers     = []string{"auto", "default", "flex", "scale", "priority"}
)

// checkEnum accepts null, nothing, or a string among values (listed, quoted, in supported).
func checkEnum(param string, v gjson.Result, values []string, supported string) *clearbar.Error {
	switch {
	case !v.Exists() || v.Type == gjson.Null:
		return nil
	case v.Type != gjson.String:
		return invalidType(param, "a string", v)
	}
	for _, s := range values {
		if v.Str == s {
			return nil
		}
	}
	return badRequest(param, "invalid_value", "Invalid value for '%s': %q. Supported values are: %s.", param, v.Str, supported)
}

// checkToolResults pairs tool calls with their results, as OpenAI does: each tool message
// answers a call of the assistant message before it (tool messages between them), and each
// call of an assistant message is answered by the tool messages right after it. Upstreams
// refuse either mismatch, each in its own words (Anthropic: "tool_use ids were found without
// tool_result blocks immediately after"), or answer a history that never happened. The
// deprecated function_call, which has no id, is not paired.
func checkToolResults(msgs []clearbar.Message) *clearbar.Error {
	open := -1 // the assistant message whose calls the tool messages that follow answer
	for i := range msgs {
		m := &msgs[i]
		if m.Role == "tool" {
			if open < 0 {
				return badRequest(fmt.Sprintf("messages[%d].role", i), "invalid_value", "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.")
			}
			if !hasCall(msgs[open].ToolCalls, m.ToolCallID) {
				return badRequest(fmt.Sprintf("messages[%d].tool_call_id", i), "invalid_value", "Invalid parameter: 'tool_call_id' of '%s' not found in 'tool_calls' of previous message.", m.ToolCallID)
			}
			continue
		}
		if open >= 0 {
			if err := checkAnswered(msgs[open].ToolCalls, msgs[open+1:i]); err != nil {
				return err
			}
			open = -1
		}
		if m.Role == "assistant" && len(m.ToolCalls) > 0 && m.ToolCalls[0].ID != "" {
			open = i
		}
	}
	if open >= 0 {
		return checkAnswered(msgs[open].ToolCalls, msgs[open+1:])
	}
	return nil
}

// hasCall reports whether one of calls has the id.
func hasCall(calls []clearbar.ToolCall, id string) bool {
	for i := range calls {
		if calls[i].ID == id {
			return true
		}
	}
	return false
}

// checkAnswered refuses calls that the tool messages answers leave unanswered.
func checkAnswered(calls []clearbar.ToolCall, answers []clearbar.Message) *clearbar.Error {
	var answered map[string]bool // for many calls, not to compare each with each answer
	if len(calls)*len(answers) > 256 {
		answered = make(map[string]bool, len(answers))
		for i := range answers {
			answered[answers[i].ToolCallID] = true
		}
	}
	var missing []string
	for _, c := range calls {
		if c.ID == "" {
			continue // the deprecated function_call, answered by a function message
		}
		found := false
		if answered != nil {
			found = answered[c.ID]
		} else {
			for i := range answers {
				if answers[i].ToolCallID == c.ID {
					found = true
					break
				}
			}
		}
		if !found {
			missing = append(missing, c.ID)
		}
	}
	if missing == nil {
		return nil
	}
	return badRequest("messages", "invalid_value", "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: %s", strings.Join(missing, ", "))
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
//
// It records in ref what the messages carry that the Anthropic translation or the Gemini
// adapter may refuse (see refusables).
func decodeMessages(r *clearbar.Request, v gjson.Result, lim Limits, ref *refusables) *clearbar.Error {
	if !v.IsArray() {
		return badRequest("messages", "invalid_type", "messages must be an array")
	}
	var err *clearbar.Error
	n := 0
	content := false // a message has something the Gemini adapter sends (see refusables)
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
		tcs := m.Get("tool_calls")
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
				t := part.Get("type")
				switch {
				case !t.Exists() || t.Type == gjson.Null:
					param := at(fmt.Sprintf(".content[%d].type", j))
					err = badRequest(param, "missing_required_parameter", "Missing required parameter: '%s'. Supported values are: %s.", param, partTypes)
					return false
				case t.Type != gjson.String:
					err = invalidType(at(fmt.Sprintf(".content[%d].type", j)), "a string", t)
					return false
				}
				typ := t.Str
				if !ref.anthropic && !translate.AnthropicTakesPart(role.Str, typ, part) {
					ref.anthropic = true
				}
				if !ref.gemini && typ != "text" && !geminiTakesPart(role.Str, typ, part) {
					ref.gemini = true
				}
				switch typ {
				case "text", "input_text", "refusal":
					field := "text"
					if typ == "refusal" {
						field = "refusal"
					}
					switch v := part.Get(field); {
					case !v.Exists() || v.Type == gjson.Null:
						param := at(fmt.Sprintf(".content[%d].%s", j, field))
						err = badRequest(param, "missing_required_parameter", "Missing required parameter: '%s'.", param)
						return false
					case v.Type != gjson.String:
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
				case "image_url", "input_audio", "file", "output_text":
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
				default:
					param := at(fmt.Sprintf(".content[%d].type", j))
					err = badRequest(param, "invalid_value", "Invalid value for '%s': %q. Supported values are: %s.", param, typ, partTypes)
					return false
				}
				return true
			})
			if err != nil {
				return false
			}
			if j < 0 {
				err = badRequest(at(".content"), "empty_array", "Invalid '%s': empty array. Expected an array with minimum length 1, but got an empty array instead.", at(".content"))
				return false
			}
			msg.Text = b.String()
		case c.Exists() && c.Type != gjson.Null:
			err = invalidType(at(".content"), "one of a string or array of objects", c)
			return false
		case role.Str == "assistant":
			// An assistant message may leave content out when it says something else: tool
			// calls, a refusal, or audio.
			if tcs.IsArray() && !emptyArray(tcs) || m.Get("function_call").IsObject() || m.Get("refusal").Type == gjson.String || m.Get("audio").IsObject() {
				break
			}
			if tcs.Exists() && tcs.Type != gjson.Null && !tcs.IsArray() {
				// tool_calls of the wrong type is the error, not the content it would excuse.
				err = invalidType(at(".tool_calls"), "an array", tcs)
				return false
			}
			err = badRequest(at(".content"), "missing_required_parameter", "Missing required parameter: '%s'. An assistant message needs content unless it has tool_calls.", at(".content"))
			return false
		case role.Str == "function":
		case c.Exists() && (role.Str == "system" || role.Str == "developer"):
			// Null, an empty instruction: accepted, as it always was (OpenAI refuses it).
		case c.Exists(): // null
			err = invalidType(at(".content"), "one of a string or array of objects", c)
			return false
		default:
			err = badRequest(at(".content"), "missing_required_parameter", "Missing required parameter: '%s'.", at(".content"))
			return false
		}
		switch {
		case !tcs.Exists() || tcs.Type == gjson.Null:
		case !tcs.IsArray():
			err = invalidType(at(".tool_calls"), "an array", tcs)
			return false
		default:
			j := -1
			tcs.ForEach(func(_, tc gjson.Result) bool {
				j++
				var call clearbar.ToolCall
				if call, err = decodeToolCall(tc, n-1, j); err != nil {
					return false
				}
				if jsonguard.TooDeepString(call.Arguments, jsonguard.MaxDepth) {
					err = tooDeepText(at(fmt.Sprintf(".tool_calls[%d].function.arguments", j)))
					return false
				}
				// The Gemini adapter takes the calls the Anthropic translation takes: function
				// calls with a name and arguments that are a JSON object (it needs no id, which
				// every call has here).
				if (!ref.anthropic || !ref.gemini) && !translate.AnthropicTakesToolCall(tc.Get("type").Str, call.ID, call.Name, call.Arguments) {
					ref.anthropic, ref.gemini = true, true
				}
				msg.ToolCalls = append(msg.ToolCalls, call)
				return true
			})
			if err != nil {
				return false
			}
		}
		fc := m.Get("function_call")
		if role.Str == "function" || fc.Exists() && fc.Type != gjson.Null {
			// The deprecated form, whose calls and results the Anthropic translation pairs, and
			// whose function messages and calls the Gemini adapter checks.
			ref.anthropic, ref.gemini = true, true
		}
		if fc.IsObject() {
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
		content = content || msg.Text != "" || len(msg.ToolCalls) > 0 || role.Str == "tool" || hasMedia(msg.Attachments)
		r.Messages = append(r.Messages, msg)
		return true
	})
	if err == nil && !content {
		ref.gemini = true
	}
	return err
}

// refusables says what a request carries that an adapter may refuse, for the adapter's own
// check to decide once the whole body is read and valid. Each flag may be set for a request
// the adapter takes, never left unset for one it refuses.
type refusables struct {
	// anthropic: a message has a content part or tool call the Anthropic translation may
	// refuse (translate.AnthropicTakesPart, AnthropicTakesToolCall), a function message or an
	// assistant's function_call (see translate.AnthropicRefusal).
	anthropic bool
	// gemini: a message has a content part or tool call the Gemini adapter may refuse (see
	// geminiTakesPart), a function message or an assistant's function_call, or no message has
	// anything the adapter sends, which it refuses (see gemini.Refusal).
	gemini bool
}

// geminiTakesPart reports whether the Gemini adapter takes the content part part, of a type
// other than text, in a message of role (see provider/gemini's package documentation): system
// and developer messages take input_text; assistant messages output_text and refusal parts;
// tool messages any part, whose text is the result; user messages input_text, an image by a
// base64 data: URL or an http(s) or gs:// URL, audio with its data and format, and a file by
// file_data (a base64 data: URL, or bare base64) or by a Gemini file id (files/… or its
// https:// URI). It may say no to a part the adapter takes (gemini.Refusal decides), never yes
// to one it refuses. It reads only the part's small fields and its URL's prefix.
func geminiTakesPart(role, typ string, part gjson.Result) bool {
	switch role {
	case "system", "developer":
		return typ == "input_text"
	case "assistant":
		return typ == "output_text" || typ == "refusal"
	case "tool":
		return true
	case "user":
	default:
		return false
	}
	switch typ {
	case "input_text":
		return true
	case "image_url":
		u := part.Get("image_url.url").Str
		if u == "" {
			u = part.Get("image_url").Str
		}
		return geminiTakesURL(u)
	case "input_audio":
		return part.Get("input_audio.data").Str != "" && part.Get("input_audio.format").Str != ""
	case "file":
		f := part.Get("file")
		if data := f.Get("file_data").Str; data != "" {
			return !strings.HasPrefix(data, "data:") || geminiTakesURL(data)
		}
		id := f.Get("file_id").Str
		return strings.HasPrefix(id, "files/") || strings.HasPrefix(id, "https://")
	}
	return false
}

// geminiTakesURL reports whether the Gemini adapter takes a media URL: a base64 data: URL
// (data:<type>;base64,<data>), or an http(s) or gs:// URL, which Gemini fetches itself.
func geminiTakesURL(u string) bool {
	if rest, ok := strings.CutPrefix(u, "data:"); ok {
		meta, _, ok := strings.Cut(rest, ",")
		return ok && strings.HasSuffix(meta, ";base64")
	}
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "gs://")
}

// geminiRefusesToolChoice reports whether the Gemini adapter may refuse tool_choice: an object
// of another type than function and allowed_tools (or of none), or allowed_tools with another
// mode than auto and required. Decoding has refused the other tool choices it refuses.
func geminiRefusesToolChoice(v gjson.Result) bool {
	if !v.IsObject() {
		return false
	}
	switch v.Get("type").Str {
	case "function":
		return false
	case "allowed_tools":
		mode := v.Get("allowed_tools.mode").Str
		return mode != "" && mode != "auto" && mode != "required"
	}
	return true
}

// hasMedia reports whether attachments hold an image, audio or a file.
func hasMedia(attachments []clearbar.Attachment) bool {
	for i := range attachments {
		if attachments[i].Type != "output_text" {
			return true
		}
	}
	return false
}

// customTool reports whether r offers a custom tool (OpenAI's free-form tools, which
// decodeTools reads as tools without a name).
func customTool(r *clearbar.Request) bool {
	if r.Functions {
		return false
	}
	for i := range r.Tools {
		if r.Tools[i].Name == "" {
			return true
		}
	}
	return false
}

// partTypes are the content part types a message may hold, as OpenAI lists them (the gateway
// also takes input_text and output_text, the Responses API's, which some clients send).
const partTypes = "'text', 'image_url', 'input_audio', 'file' and 'refusal'"

// decodeToolCall reads the tool call j of message i: an object with an id, and for a function
// call (any type but custom, OpenAI's free-form tools) a function with a name and its
// arguments, a string.
func decodeToolCall(tc gjson.Result, i, j int) (clearbar.ToolCall, *clearbar.Error) {
	at := func(field string) string { return fmt.Sprintf("messages[%d].tool_calls[%d]%s", i, j, field) }
	if !tc.IsObject() {
		return clearbar.ToolCall{}, invalidType(at(""), "an object", tc)
	}
	id := tc.Get("id")
	switch {
	case !id.Exists() || id.Type == gjson.Null || id.Type == gjson.String && id.Str == "":
		return clearbar.ToolCall{}, badRequest(at(".id"), "missing_required_parameter", "Missing required parameter: '%s'. A tool call needs the id its tool message answers with tool_call_id.", at(".id"))
	case id.Type != gjson.String:
		return clearbar.ToolCall{}, invalidType(at(".id"), "a string", id)
	}
	if tc.Get("type").Str == "custom" {
		return clearbar.ToolCall{ID: id.Str}, nil
	}
	fn := tc.Get("function")
	switch {
	case !fn.Exists() || fn.Type == gjson.Null:
		return clearbar.ToolCall{}, badRequest(at(".function"), "missing_required_parameter", "Missing required parameter: '%s'.", at(".function"))
	case !fn.IsObject():
		return clearbar.ToolCall{}, invalidType(at(".function"), "an object", fn)
	}
	name, args := fn.Get("name"), fn.Get("arguments")
	switch {
	case !name.Exists() || name.Type == gjson.Null:
		return clearbar.ToolCall{}, badRequest(at(".function.name"), "missing_required_parameter", "Missing required parameter: '%s'.", at(".function.name"))
	case name.Type != gjson.String:
		return clearbar.ToolCall{}, invalidType(at(".function.name"), "a string", name)
	case !args.Exists() || args.Type == gjson.Null:
		return clearbar.ToolCall{}, badRequest(at(".function.arguments"), "missing_required_parameter", "Missing required parameter: '%s'. Send the arguments as a string of JSON: \"{}\" for none.", at(".function.arguments"))
	case args.Type != gjson.String:
		return clearbar.ToolCall{}, invalidType(at(".function.arguments"), "a string", args)
	}
	return clearbar.ToolCall{ID: id.Str, Name: name.Str, Arguments: args.Str}, nil
}

// The bounds OpenAI gives n, stop and top_logprobs, and a bound on output tokens that keeps
// them an int32 (the context window check names max_tokens when a model cannot give that
// many).
const (
	maxChoices       = 128
	maxStopSequences = 4
	maxTopLogprobs   = 20
	maxOutputTokens  = 1<<31 - 1
	// maxName is the longest response_format.json_schema.name or function name OpenAI takes;
	// maxAnthropicName the longest tool name Anthropic takes (^[a-zA-Z0-9_-]{1,128}$).
	maxName          = 64
	maxAnthropicName = 128
	// OpenAI's bounds on metadata: members, and the characters of a key and of a value.
	maxMetadataKeys  = 16
	maxMetadataKey   = 64
	maxMetadataValue = 512
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
		switch s := js.Get("schema"); {
		case !s.Exists() || s.Type == gjson.Null:
		case !s.IsObject():
			return invalidType("response_format.json_schema.schema", "an object", s)
		default:
			// As a function's parameters are checked (checkParameters), once per schema.
			if serr := validate.CheckSchema(s.Raw); serr != nil {
				return badRequest("response_format.json_schema.schema", "invalid_value", "Invalid schema for response_format '%s': %s.", r.ResponseFormat.Name, serr)
			}
			r.ResponseFormat.Schema = []byte(s.Raw)
		}
		strict := js.Get("strict")
		if err := checkBool("response_format.json_schema.strict", strict); err != nil {
			return err
		}
		r.ResponseFormat.Strict = strict.Type == gjson.True
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
	return checkNameMax(param, what, name, maxName)
}

// checkNameMax is checkName for names of at most max characters.
func checkNameMax(param, what string, name gjson.Result, maxName int) *clearbar.Error {
	switch {
	case !name.Exists() || name.Type == gjson.Null:
		return badRequest(param, "missing_required_parameter", "Missing required parameter: '%s'. Name the %s with a-z, A-Z, 0-9, underscores and dashes, at most %d characters.", param, what, maxName)
	case name.Type != gjson.String:
		return invalidType(param, "a string", name)
	case len(name.Str) > maxName:
		return badRequest(param, "string_above_max_length", "Invalid '%s': string too long. Expected a string with maximum length %d, but got a string with length %d instead.", param, maxName, len(name.Str))
	}
	if !validName(name.Str, maxName) {
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

// decodeTools reads tools, as OpenAI checks them: an array (empty is refused after
// tool_choice, in DecodeChatRequest) of objects of type function, with a function whose name
// is a non-empty string, or custom (OpenAI's free-form tools, which the OpenAI upstreams take),
// with a custom.name; with lim.ToolNames, the names are checkName's, up to maxAnthropicName
// long in a body translated from /v1/messages.
func decodeTools(r *clearbar.Request, v gjson.Result, lim Limits) *clearbar.Error {
	if !v.IsArray() {
		return badRequest("tools", "invalid_type", "tools must be an array")
	}
	maxLen := maxName
	if lim.Messages {
		maxLen = maxAnthropicName
	}
	goodName := func(name gjson.Result) bool {
		return name.Type == gjson.String && name.Str != "" && (!lim.ToolNames || validName(name.Str, maxLen))
	}
	var err *clearbar.Error
	i := 0
	v.ForEach(func(_, t gjson.Result) bool {
		at := func(field string) string { return fmt.Sprintf("tools[%d]%s", i, field) }
		if !t.IsObject() {
			err = invalidType(at(""), "an object", t)
			return false
		}
		typ := t.Get("type")
		switch {
		case !typ.Exists() || typ.Type == gjson.Null:
			err = badRequest(at(".type"), "missing_required_parameter", "Missing required parameter: '%s'. Supported values are: 'function' and 'custom'.", at(".type"))
			return false
		case typ.Type != gjson.String:
			err = invalidType(at(".type"), "a string", typ)
			return false
		case typ.Str == "custom":
			c := t.Get("custom")
			switch {
			case !c.Exists() || c.Type == gjson.Null:
				err = badRequest(at(".custom"), "missing_required_parameter", "Missing required parameter: '%s'. A custom tool needs {\"name\": NAME}.", at(".custom"))
			case !c.IsObject():
				err = invalidType(at(".custom"), "an object", c)
			default:
				if cn := c.Get("name"); !goodName(cn) {
					err = checkNameMax(at(".custom.name"), "tool", cn, maxLen)
				}
			}
			if err != nil {
				return false
			}
			// A custom tool has no function name or parameters: nothing can call it as one.
			r.Tools = append(r.Tools, clearbar.Tool{})
			i++
			return true
		case typ.Str != "function":
			err = badRequest(at(".type"), "invalid_value", "Invalid value for '%s': %q. Supported values are: 'function' and 'custom'.", at(".type"), typ.Str)
			return false
		}
		fn := t.Get("function")
		switch {
		case !fn.Exists() || fn.Type == gjson.Null:
			err = badRequest(at(".function"), "missing_required_parameter", "Missing required parameter: '%s'. A function tool needs {\"name\": NAME, \"parameters\": {…}}.", at(".function"))
			return false
		case !fn.IsObject():
			err = invalidType(at(".function"), "an object", fn)
			return false
		}
		nm := fn.Get("name")
		if !goodName(nm) {
			err = checkNameMax(at(".function.name"), "function", nm, maxLen)
			return false
		}
		name := nm.Str
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

// emptyArray reports whether the array v has no elements, without gjson's Array.
func emptyArray(v gjson.Result) bool {
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(v.Raw, "["), "]")) == ""
}

// validName reports whether name matches ^[a-zA-Z0-9_-]{1,max}$, without checkName's error
// (whose parameter path would cost an allocation for every good name).
func validName(name string, max int) bool {
	if name == "" || len(name) > max {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
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
