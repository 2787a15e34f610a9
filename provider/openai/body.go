package openai

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unsafe"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/translate"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// metadataPrefix starts the metadata keys that are routing hints for Clearbar.
const metadataPrefix = "clearbar"

// rewritten are the top-level keys upstreamBody edits.
var rewritten = [...]string{"model", "stream", "stream_options", "metadata"}

// upstreamBody returns the body to send for call (see the package documentation for what is
// changed). It never modifies call.Request.Body; the result may share its memory when nothing
// needs changing, so it must not be modified either.
func (p *Provider) upstreamBody(call *clearbar.Call, stream bool) ([]byte, error) {
	req := call.Request
	if req == nil {
		return nil, &clearbar.Error{Class: clearbar.Internal, Message: "call without a request", Provider: p.name, Model: call.Model}
	}
	body := bytes.TrimSpace(req.Body)
	if len(body) == 0 || (req.Dialect != "" && req.Dialect != clearbar.DialectOpenAI) {
		return p.canonicalBody(req, call.Model, stream)
	}
	// An Anthropic client's request carries what only Anthropic can take; it stays here, or
	// the call is refused naming what this model cannot honour.
	body, err := translate.ToOpenAIUpstream(body)
	if err != nil {
		e := *clearbar.AsError(err)
		e.Provider, e.Model = p.name, call.Model
		return nil, &e
	}
	out, err := editBody(body, call.Model, stream, p.limitKey())
	if err != nil {
		return nil, &clearbar.Error{Class: clearbar.ClientError, Message: err.Error(), Provider: p.name, Model: call.Model, Err: err}
	}
	if p.typ == TypeCompatible && !p.completionTokens {
		out = developerAsSystem(out)
	}
	return out, nil
}

// developerAsSystem gives the messages of role developer the role system, which every
// OpenAI-compatible server knows: developer is OpenAI's name for the system prompt of its
// newer models, and servers that follow the older API (vLLM's chat templates, Ollama, most
// hosted open models) refuse it or drop the message. It returns body itself when no message
// has that role, and otherwise a copy.
func developerAsSystem(body []byte) []byte {
	if !bytes.Contains(body, []byte(`"developer"`)) {
		return body
	}
	var idx []int
	gjson.GetBytes(body, "messages").ForEach(func(k, m gjson.Result) bool {
		if m.Get("role").Str == "developer" {
			idx = append(idx, int(k.Int()))
		}
		return true
	})
	for _, i := range idx {
		body, _ = sjson.SetBytes(body, "messages."+strconv.Itoa(i)+".role", "system")
	}
	return body
}

// limitKey is the name this upstream gives the answer's token limit: OpenAI and Azure OpenAI
// (PreferMaxCompletionTokens) take max_completion_tokens, as their reasoning models refuse
// max_tokens; other servers max_tokens, the name they all know.
func (p *Provider) limitKey() string {
	if p.typ == TypeOpenAI || p.completionTokens {
		return "max_completion_tokens"
	}
	return "max_tokens"
}

type bodyError string

func (e bodyError) Error() string { return string(e) }

// view returns b as a string without copying. The string must not outlive b's contents: use
// it only for reading, and copy what is kept.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// editBody applies the upstream edits to a client body with sjson. sjson never writes into its
// input (ReplaceInPlace is off), so body is left as it was. A token limit given under the
// other name than limitKey is renamed to it ("" leaves it alone).
func editBody(body []byte, model string, stream bool, limitKey string) ([]byte, error) {
	if jsonguard.Check(body) != nil {
		return nil, bodyError("the request body is not valid JSON")
	}
	root := gjson.Parse(view(body))
	if !root.IsObject() {
		return nil, bodyError("the request body is not a JSON object")
	}
	var (
		counts                [len(rewritten)]int
		streamV, optsV, metaV gjson.Result
		maxV, maxCompletionV  gjson.Result
		dup                   bool
	)
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "max_tokens":
			maxV = v
		case "max_completion_tokens":
			maxCompletionV = v
		}
		for i, name := range rewritten {
			if k.Str == name {
				counts[i]++
				dup = dup || counts[i] > 1
				switch i {
				case 1:
					streamV = v
				case 2:
					optsV = v
				case 3:
					metaV = v
				}
			}
		}
		return true
	})
	if dup {
		return editBody(dedupe(root), model, stream, limitKey)
	}

	out, err := sjson.SetBytes(body, "model", model)
	if err != nil {
		return nil, err
	}
	if stream {
		if streamV.Type != gjson.True {
			out, _ = sjson.SetRawBytes(out, "stream", []byte("true"))
		}
		switch {
		case optsV.IsObject() && optsV.Get("include_usage").Type == gjson.True:
		case optsV.IsObject():
			out, _ = sjson.SetRawBytes(out, "stream_options.include_usage", []byte("true"))
		default:
			out, _ = sjson.SetRawBytes(out, "stream_options", []byte(`{"include_usage":true}`))
		}
	} else {
		if streamV.Exists() && streamV.Type != gjson.False {
			out, _ = sjson.SetRawBytes(out, "stream", []byte("false"))
		}
		if optsV.Exists() {
			out, _ = sjson.DeleteBytes(out, "stream_options")
		}
	}
	switch {
	case limitKey == "max_completion_tokens" && maxV.Exists() && !maxCompletionV.Exists():
		out, _ = sjson.SetRawBytes(out, "max_completion_tokens", []byte(maxV.Raw))
		out, _ = sjson.DeleteBytes(out, "max_tokens")
	case limitKey == "max_tokens" && maxCompletionV.Exists() && !maxV.Exists():
		out, _ = sjson.SetRawBytes(out, "max_tokens", []byte(maxCompletionV.Raw))
		out, _ = sjson.DeleteBytes(out, "max_completion_tokens")
	}
	if metaV.IsObject() {
		if kept, removed := withoutHints(metaV); removed {
			if kept == nil {
				out, _ = sjson.DeleteBytes(out, "metadata")
			} else {
				out, _ = sjson.SetRawBytes(out, "metadata", kept)
			}
		}
	}
	return out, nil
}

// withoutHints returns the metadata object without its clearbar keys (nil when none is left)
// and whether any was removed. The values kept are copied as they were.
func withoutHints(meta gjson.Result) ([]byte, bool) {
	var kept []byte
	removed, n := false, 0
	meta.ForEach(func(k, v gjson.Result) bool {
		if strings.HasPrefix(k.String(), metadataPrefix) {
			removed = true
			return true
		}
		if n == 0 {
			kept = append(kept, '{')
		} else {
			kept = append(kept, ',')
		}
		n++
		kept = append(kept, k.Raw...)
		kept = append(kept, ':')
		kept = append(kept, v.Raw...)
		return true
	})
	if kept != nil {
		kept = append(kept, '}')
	}
	return kept, removed
}

// dedupe rebuilds a top-level object whose rewritten keys appear more than once: every other
// member is copied as it was, and each rewritten key is kept once, with its last value, which is
// the one encoding/json and Python read.
func dedupe(root gjson.Result) []byte {
	var last [len(rewritten)]string
	out := []byte{'{'}
	first := true
	add := func(k, v string) {
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, k...)
		out = append(out, ':')
		out = append(out, v...)
	}
	root.ForEach(func(k, v gjson.Result) bool {
		for i, name := range rewritten {
			if k.Str == name {
				last[i] = v.Raw
				return true
			}
		}
		add(k.Raw, v.Raw)
		return true
	})
	for i, name := range rewritten {
		if last[i] != "" {
			add(`"`+name+`"`, last[i])
		}
	}
	return append(out, '}')
}

// Wire types for bodies built from canonical fields.
type (
	wireRequest struct {
		Model               string            `json:"model"`
		Messages            []wireMessage     `json:"messages"`
		Tools               []wireTool        `json:"tools,omitempty"`
		ToolChoice          json.RawMessage   `json:"tool_choice,omitempty"`
		Functions           []wireToolDef     `json:"functions,omitempty"`
		FunctionCall        json.RawMessage   `json:"function_call,omitempty"`
		ResponseFormat      json.RawMessage   `json:"response_format,omitempty"`
		MaxCompletionTokens int               `json:"max_completion_tokens,omitempty"`
		MaxTokens           int               `json:"max_tokens,omitempty"`
		N                   int               `json:"n,omitempty"`
		Metadata            map[string]string `json:"metadata,omitempty"`
		User                string            `json:"user,omitempty"`
		Stream              bool              `json:"stream,omitempty"`
		StreamOptions       *wireStreamOpts   `json:"stream_options,omitempty"`
	}
	wireStreamOpts struct {
		IncludeUsage bool `json:"include_usage"`
	}
	wireMessage struct {
		Role       string         `json:"role"`
		Content    *string        `json:"content"`
		ToolCalls  []wireToolCall `json:"tool_calls,omitempty"`
		ToolCallID string         `json:"tool_call_id,omitempty"`
	}
	wireToolCall struct {
		ID       string       `json:"id"`
		Type     string       `json:"type"`
		Function wireFunction `json:"function"`
	}
	wireFunction struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}
	wireTool struct {
		Type     string      `json:"type"`
		Function wireToolDef `json:"function"`
	}
	wireToolDef struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters,omitempty"`
		Strict      bool            `json:"strict,omitempty"`
	}
	wireNamedChoice struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	wireFormat struct {
		Type       string          `json:"type"`
		JSONSchema *wireJSONSchema `json:"json_schema,omitempty"`
	}
	wireJSONSchema struct {
		Name   string          `json:"name"`
		Schema json.RawMessage `json:"schema,omitempty"`
		Strict bool            `json:"strict,omitempty"`
	}
)

// canonicalBody marshals a body from a request's canonical fields, for requests built in code
// and requests in another dialect. Attachments cannot be rebuilt (the canonical form keeps only
// their type and size) and are left out. The token limit goes under limitKey. A request whose
// tools are the deprecated functions (clearbar.Request.Functions) sends them as functions and
// function_call, so that the answer comes in their form; tool choice "required", which that
// form lacks, is left out.
func (p *Provider) canonicalBody(req *clearbar.Request, model string, stream bool) ([]byte, error) {
	w := wireRequest{Model: model, User: req.User, Stream: stream, Messages: []wireMessage{}}
	if req.N > 1 {
		w.N = req.N
	}
	if stream {
		w.StreamOptions = &wireStreamOpts{IncludeUsage: true}
	}
	if req.MaxTokens > 0 {
		if p.limitKey() == "max_completion_tokens" {
			w.MaxCompletionTokens = req.MaxTokens
		} else {
			w.MaxTokens = req.MaxTokens
		}
	}
	for k, v := range req.Metadata {
		if !strings.HasPrefix(k, metadataPrefix) {
			if w.Metadata == nil {
				w.Metadata = map[string]string{}
			}
			w.Metadata[k] = v
		}
	}
	for _, m := range req.Messages {
		wm := wireMessage{Role: m.Role, ToolCallID: m.ToolCallID}
		if m.Text != "" || len(m.ToolCalls) == 0 {
			text := m.Text
			wm.Content = &text
		}
		for _, tc := range m.ToolCalls {
			wm.ToolCalls = append(wm.ToolCalls, wireToolCall{ID: tc.ID, Type: "function", Function: wireFunction{Name: tc.Name, Arguments: tc.Arguments}})
		}
		w.Messages = append(w.Messages, wm)
	}
	var err error
	if req.Functions {
		for _, t := range req.Tools {
			w.Functions = append(w.Functions, wireToolDef{Name: t.Name, Description: t.Description, Parameters: t.Parameters})
		}
		switch req.ToolChoice {
		case "", "required":
		case "auto", "none":
			w.FunctionCall, err = json.Marshal(req.ToolChoice)
		default:
			w.FunctionCall, err = json.Marshal(struct {
				Name string `json:"name"`
			}{req.ToolChoice})
		}
	} else {
		for _, t := range req.Tools {
			w.Tools = append(w.Tools, wireTool{Type: "function", Function: wireToolDef{Name: t.Name, Description: t.Description, Parameters: t.Parameters, Strict: t.Strict}})
		}
		switch req.ToolChoice {
		case "":
		case "auto", "none", "required":
			w.ToolChoice, err = json.Marshal(req.ToolChoice)
		default:
			var c wireNamedChoice
			c.Type, c.Function.Name = "function", req.ToolChoice
			w.ToolChoice, err = json.Marshal(c)
		}
	}
	if err == nil {
		switch rf := req.ResponseFormat; rf.Type {
		case "":
		case "json_schema":
			w.ResponseFormat, err = json.Marshal(wireFormat{Type: rf.Type, JSONSchema: &wireJSONSchema{Name: rf.Name, Schema: rf.Schema, Strict: rf.Strict}})
		default:
			w.ResponseFormat, err = json.Marshal(wireFormat{Type: rf.Type})
		}
	}
	var b []byte
	if err == nil {
		b, err = json.Marshal(w)
	}
	if err != nil {
		return nil, &clearbar.Error{Class: clearbar.ClientError, Message: "the request cannot be encoded: " + err.Error(), Provider: p.name, Model: model, Err: err}
	}
	return b, nil
}

// PreferMaxCompletionTokens makes an openai-compatible adapter send the token limit as
// max_completion_tokens, as OpenAI does, for upstreams whose reasoning models refuse
// max_tokens (Azure OpenAI's deployments). Call it before the first call.
func (p *Provider) PreferMaxCompletionTokens() { p.completionTokens = true }
