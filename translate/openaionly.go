package translate

import (
	"errors"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
)

// AnthropicRefusal returns the error ToAnthropicCall gives an OpenAI chat completions body
// that carries what Anthropic's Messages API cannot express (see the package documentation's
// Refused: n over 1, input_audio parts, file_id parts, custom tools, …), so that routing can
// leave Anthropic models out for it; nil when the translation takes body. It runs the whole
// translation, so a caller reading the body calls it only when AnthropicTakesPart or
// AnthropicTakesToolCall said no for one of its parts or calls, or the body has n over 1, a
// custom tool, a tool_choice of another type than function, a json_schema response format
// without a schema, a function message or an assistant's function_call.
func AnthropicRefusal(body []byte) *clearbar.Error {
	_, err := ToAnthropicCall(body, AnthropicOptions{})
	var e *clearbar.Error
	if err == nil || !errors.As(err, &e) || e.Class != clearbar.ClientError {
		return nil
	}
	return e
}

// AnthropicTakesPart reports whether ToAnthropicCall takes the content part part, of type
// typ, in a message of role: system, developer and tool messages text parts only, assistant
// messages text and refusal parts, user messages text, images by http(s) URL or base64 data
// URL and PDF files sent as data (not by file_id); a function message takes no parts.
func AnthropicTakesPart(role, typ string, part gjson.Result) bool {
	switch role {
	case "system", "developer", "tool":
		return typ == "text"
	case "assistant":
		return typ == "text" || typ == "refusal"
	case "user":
	default:
		return false
	}
	switch typ {
	case "text":
		return true
	case "image_url":
		url := part.Get("image_url.url")
		if url.Type != gjson.String {
			url = part.Get("image_url")
		}
		u := url.String()
		if strings.HasPrefix(u, "data:") {
			_, _, ok := parseDataURL(u)
			return ok
		}
		return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")
	case "file":
		f := part.Get("file")
		data := f.Get("file_data").String()
		media := "application/pdf"
		if strings.HasPrefix(data, "data:") {
			var ok bool
			if media, data, ok = parseDataURL(data); !ok {
				return false
			}
		}
		return data != "" && media == "application/pdf"
	}
	return false
}

// AnthropicTakesToolCall reports whether ToAnthropicCall takes an assistant message's tool
// call, given its type, id, function name and arguments as decoded: a function call (type
// function, or none) with an id, a name and arguments that are a JSON object (see
// AnthropicTakesArguments).
func AnthropicTakesToolCall(typ, id, name, args string) bool {
	return (typ == "" || typ == "function") && id != "" && name != "" && AnthropicTakesArguments(args)
}

// AnthropicTakesArguments reports whether ToAnthropicCall takes a tool call's arguments (or a
// deprecated function_call's): a JSON object, or nothing, read as {}. Anthropic's tool_use
// takes its input as an object.
func AnthropicTakesArguments(args string) bool {
	args = strings.TrimSpace(args)
	return args == "" || jsonguard.CheckString(args) == nil && gjson.Parse(args).IsObject()
}
