package clearbar

import (
	"encoding/json"
)

// Dialects are the wire formats clients and providers speak.
const (
	DialectOpenAI    = "openai"
	DialectAnthropic = "anthropic"
)

// Request is one client request in canonical form: the fields that routing, validation and
// recording need, decoded, and the client's original body for faithful pass-through.
//
// A Request is read-only once the ingress has built it: every attempt of a cascade or fallback
// chain builds its own upstream request from it, and none may modify it. It is safe for
// concurrent reads.
type Request struct {
	// Dialect is the wire format the client spoke (DialectOpenAI).
	Dialect string
	// AnthropicOnly names, for a request translated from /v1/messages, the first parameter,
	// tool or content block it carries that only Anthropic models take
	// (translate.AnthropicOnly); "" for none. Routing leaves OpenAI-format models out for it.
	// AnthropicOnlyWhat names it in messages: the parameter, or a tool's or block's place and
	// type ("tools[0] (type web_search_20250305)").
	AnthropicOnly, AnthropicOnlyWhat string
	// AnthropicRefusal is, for a request in OpenAI's form, the error the translation into
	// Anthropic's Messages API gives it, when it carries what that translation refuses (n over
	// 1, audio input, a custom tool, …: translate.AnthropicRefusal); nil for none. Routing
	// leaves Anthropic models out for it, and answers it when the route has no other model.
	AnthropicRefusal *Error
	// GeminiRefusal is the error the Gemini adapter answers the request with, when it carries
	// what that adapter refuses for every Gemini model (a custom tool, a file by an id that is
	// not a Gemini file, a content part its message's role cannot hold, …: gemini.Refusal);
	// nil for none. Routing leaves Gemini models out for it, and answers it when the route has
	// no other model.
	GeminiRefusal *Error
	// OpenAIAnswer names a parameter that asks for something in the answer that the Anthropic
	// and Gemini adapters drop ("logprobs", or "modalities" with audio); "" for none. Routing
	// leaves those models out for it while the route has another model that can take the
	// request.
	OpenAIAnswer string
	// Model is the model name the client asked for: a model, a category alias such as
	// "clearbar/intent", or anything else (routing decides what it means).
	Model string
	// Stream says the client asked for a server-sent event stream; IncludeUsage that it asked
	// for the final usage chunk (stream_options.include_usage).
	Stream       bool
	IncludeUsage bool
	Messages     []Message
	// Tools are the functions the client offers; ToolChoice is "auto", "none", "required" or
	// the name of the function the model must call ("" when not set).
	Tools      []Tool
	ToolChoice string
	// Functions says the client offered its functions in the deprecated functions parameter
	// (and chose with function_call): they are in Tools and ToolChoice all the same, but the
	// client expects the deprecated answer form, one call as message.function_call (a stream's
	// delta.function_call) with finish_reason "function_call".
	Functions bool
	// WebSearch says the client asked for a web search (OpenAI's web_search_options), which
	// the adapters carry each as their vendor has it.
	WebSearch bool
	// ResponseFormat is the structured output the client asked for (Type "" when not set).
	ResponseFormat ResponseFormat
	// MaxTokens is max_completion_tokens, or the deprecated max_tokens; 0 when not set.
	MaxTokens int
	// N is the number of choices asked for (1 when not set).
	N int
	// Metadata is the client's metadata map; keys starting with "clearbar" are routing hints
	// for the gateway and are not forwarded.
	Metadata map[string]string
	// User is the end-user identifier the client sent, if any.
	User string
	// Body is the request body exactly as the client sent it. Adapters that speak the client's
	// dialect build the upstream body from it, changing only what Clearbar must (the model,
	// its own metadata keys, stream options), so fields Clearbar does not know survive.
	Body []byte
}

// Message is one chat message, reduced to what routing and validation read.
type Message struct {
	Role string
	// Text is the message's text content; text parts of a multi-part message are joined
	// with newlines.
	Text string
	// Attachments are the message's non-text content parts (images, audio, files), in order.
	Attachments []Attachment
	// ToolCalls are the calls an assistant message made (one made in the deprecated form,
	// function_call, has no ID); ToolCallID names the call a tool message answers.
	ToolCalls  []ToolCall
	ToolCallID string
}

// Attachment is a non-text content part.
type Attachment struct {
	// Type is the part type: "image_url", "input_audio", "file", or another the client sent.
	Type string
	// Size is the length of the part's inline data in bytes (0 for URLs and file ids).
	Size int
}

// Tool is a function offered to the model.
type Tool struct {
	Name        string
	Description string
	// Parameters is the function's JSON Schema, as sent.
	Parameters json.RawMessage
	Strict     bool
}

// ToolCall is a function call made by a model.
type ToolCall struct {
	ID   string
	Name string
	// Arguments is the call's arguments, a JSON document as a string (as OpenAI sends it).
	Arguments string
}

// ResponseFormat is a request's structured-output setting.
type ResponseFormat struct {
	// Type is "text", "json_object" or "json_schema"; "" when the client set none.
	Type   string
	Name   string
	Schema json.RawMessage
	Strict bool
}

// Text returns the text of every message with the given role ("" for all roles), joined by
// newlines.
func (r *Request) Text(role string) string {
	n := 0
	for _, m := range r.Messages {
		if role == "" || m.Role == role {
			n += len(m.Text) + 1
		}
	}
	b := make([]byte, 0, n)
	for _, m := range r.Messages {
		if role != "" && m.Role != role {
			continue
		}
		if len(b) > 0 {
			b = append(b, '\n')
		}
		b = append(b, m.Text...)
	}
	return string(b)
}

// LastUserText returns the text of the last user message, or "".
func (r *Request) LastUserText() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Text
		}
	}
	return ""
}

// SystemText returns the system and developer messages' text, the prompt template, joined.
func (r *Request) SystemText() string {
	var s string
	for _, m := range r.Messages {
		if m.Role == "system" || m.Role == "developer" {
			if s != "" {
				s += "\n"
			}
			s += m.Text
		}
	}
	return s
}
