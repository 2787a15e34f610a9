package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/translate"
)

// metadataPrefix starts the metadata keys that are routing hints for Clearbar; they are never
// sent upstream (translation drops OpenAI's metadata anyway; a native body loses them here).
const metadataPrefix = "clearbar"

// upstreamBody returns the Messages call for call (see the package documentation): the body,
// and the beta header and answer form the request's sidecar asks for. It never modifies
// call.Request.Body.
func (p *Provider) upstreamBody(call *clearbar.Call, stream bool) (translate.AnthropicCall, error) {
	req := call.Request
	if req == nil {
		return translate.AnthropicCall{}, &clearbar.Error{Class: clearbar.Internal, Message: "call without a request", Provider: p.name, Model: call.Model}
	}
	body := bytes.TrimSpace(req.Body)
	opt := translate.AnthropicOptions{Model: call.Model, Version: p.version, Stream: stream}
	var (
		out translate.AnthropicCall
		err error
	)
	switch {
	case len(body) > 0 && req.Dialect == clearbar.DialectAnthropic:
		out.Body, err = nativeBody(body, call.Model, stream)
	case len(body) > 0 && (req.Dialect == "" || req.Dialect == clearbar.DialectOpenAI):
		out, err = translate.ToAnthropicCall(body, opt)
	default:
		var oa []byte
		if oa, err = canonicalOpenAI(req); err == nil {
			out, err = translate.ToAnthropicCall(oa, opt)
		}
	}
	if err != nil {
		e := clearbar.AsError(err)
		if e.Class == clearbar.Internal {
			e = &clearbar.Error{Class: clearbar.ClientError, Status: 400, Message: err.Error(), Err: err}
		}
		cp := *e
		cp.Provider, cp.Model = p.name, call.Model
		return translate.AnthropicCall{}, &cp
	}
	return out, nil
}

// nativeBody edits an Anthropic client's body for the upstream: model and stream are set, and
// Clearbar's routing hints leave metadata (Anthropic accepts only user_id there).
func nativeBody(body []byte, model string, stream bool) ([]byte, error) {
	if jsonguard.Check(body) != nil || !gjson.ParseBytes(body).IsObject() {
		return nil, errors.New("the request body is not a JSON object")
	}
	out, err := sjson.SetBytes(body, "model", model)
	if err != nil {
		return nil, err
	}
	var hints []string
	gjson.GetBytes(out, "metadata").ForEach(func(k, _ gjson.Result) bool {
		if strings.HasPrefix(k.String(), metadataPrefix) {
			hints = append(hints, k.String())
		}
		return true
	})
	for _, k := range hints {
		if out, err = sjson.DeleteBytes(out, "metadata."+escapePath(k)); err != nil {
			return nil, err
		}
	}
	if stream {
		return sjson.SetRawBytes(out, "stream", []byte("true"))
	}
	if gjson.GetBytes(out, "stream").Exists() {
		return sjson.DeleteBytes(out, "stream")
	}
	return out, nil
}

// escapePath escapes a key for a gjson/sjson path.
func escapePath(k string) string {
	var b strings.Builder
	for _, r := range k {
		switch r {
		case '.', '*', '?', '|', '#', '@', '\\', '!', '=', '<', '>', '%', ':':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// canonicalOpenAI marshals an OpenAI body from a request's canonical fields, for requests built
// in code. Attachments cannot be rebuilt from the canonical form and are left out.
func canonicalOpenAI(req *clearbar.Request) ([]byte, error) {
	type function struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters,omitempty"`
		Strict      bool            `json:"strict,omitempty"`
		Arguments   *string         `json:"arguments,omitempty"`
	}
	type toolCall struct {
		ID       string   `json:"id"`
		Type     string   `json:"type"`
		Function function `json:"function"`
	}
	type message struct {
		Role       string     `json:"role"`
		Content    *string    `json:"content"`
		ToolCalls  []toolCall `json:"tool_calls,omitempty"`
		ToolCallID string     `json:"tool_call_id,omitempty"`
	}
	type tool struct {
		Type     string   `json:"type"`
		Function function `json:"function"`
	}
	w := struct {
		Model          string          `json:"model"`
		Messages       []message       `json:"messages"`
		Tools          []tool          `json:"tools,omitempty"`
		ToolChoice     any             `json:"tool_choice,omitempty"`
		ResponseFormat json.RawMessage `json:"response_format,omitempty"`
		MaxTokens      int             `json:"max_tokens,omitempty"`
		N              int             `json:"n,omitempty"`
		User           string          `json:"user,omitempty"`
	}{Model: req.Model, MaxTokens: req.MaxTokens, User: req.User, Messages: []message{}}
	if req.N > 1 {
		w.N = req.N
	}
	for _, m := range req.Messages {
		wm := message{Role: m.Role, ToolCallID: m.ToolCallID}
		if m.Text != "" || len(m.ToolCalls) == 0 {
			text := m.Text
			wm.Content = &text
		}
		for _, tc := range m.ToolCalls {
			args := tc.Arguments
			wm.ToolCalls = append(wm.ToolCalls, toolCall{ID: tc.ID, Type: "function", Function: function{Name: tc.Name, Arguments: &args}})
		}
		w.Messages = append(w.Messages, wm)
	}
	for _, t := range req.Tools {
		w.Tools = append(w.Tools, tool{Type: "function", Function: function{Name: t.Name, Description: t.Description, Parameters: t.Parameters, Strict: t.Strict}})
	}
	switch c := req.ToolChoice; c {
	case "":
	case "auto", "none", "required":
		w.ToolChoice = c
	default:
		w.ToolChoice = map[string]any{"type": "function", "function": map[string]string{"name": c}}
	}
	switch rf := req.ResponseFormat; rf.Type {
	case "":
	case "json_schema":
		w.ResponseFormat, _ = json.Marshal(map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": rf.Name, "schema": rf.Schema, "strict": rf.Strict}})
	default:
		w.ResponseFormat, _ = json.Marshal(map[string]string{"type": rf.Type})
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, &clearbar.Error{Class: clearbar.ClientError, Message: "the request cannot be encoded: " + err.Error(), Err: err}
	}
	return b, nil
}
