package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"path"
	"strconv"
	"strings"
	"unsafe"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/geminimodel"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/translate"
	"github.com/tidwall/gjson"
)

// Wire types of a generateContent request. Values that pass through unchanged from the client's
// body (text, numbers, schemas, arguments) are json.RawMessage holding the client's own bytes.
type (
	genRequest struct {
		Contents          []content         `json:"contents"`
		SystemInstruction *content          `json:"systemInstruction,omitempty"`
		Tools             []toolSet         `json:"tools,omitempty"`
		ToolConfig        *toolConfig       `json:"toolConfig,omitempty"`
		GenerationConfig  *generationConfig `json:"generationConfig,omitempty"`
	}
	content struct {
		Role  string `json:"role,omitempty"`
		Parts []part `json:"parts"`
	}
	part struct {
		Text             json.RawMessage   `json:"text,omitempty"`
		InlineData       *blob             `json:"inlineData,omitempty"`
		FileData         *fileData         `json:"fileData,omitempty"`
		FunctionCall     *functionCall     `json:"functionCall,omitempty"`
		FunctionResponse *functionResponse `json:"functionResponse,omitempty"`
		ThoughtSignature string            `json:"thoughtSignature,omitempty"`
	}
	blob struct {
		MimeType string `json:"mimeType"`
		Data     string `json:"data"`
	}
	fileData struct {
		MimeType string `json:"mimeType,omitempty"`
		FileURI  string `json:"fileUri"`
	}
	functionCall struct {
		Name string          `json:"name"`
		Args json.RawMessage `json:"args"`
	}
	functionResponse struct {
		Name     string          `json:"name"`
		Response json.RawMessage `json:"response"`
	}
	toolSet struct {
		FunctionDeclarations []functionDeclaration `json:"functionDeclarations,omitempty"`
		// GoogleSearch turns on grounding with Google Search (web_search_options).
		GoogleSearch *googleSearch `json:"googleSearch,omitempty"`
	}
	// googleSearch is the Google Search tool, which takes no settings here.
	googleSearch struct{}

	functionDeclaration struct {
		Name        string          `json:"name"`
		Description json.RawMessage `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters,omitempty"`
	}
	toolConfig struct {
		FunctionCallingConfig *functionCallingConfig `json:"functionCallingConfig,omitempty"`
		// IncludeServerSideToolInvocations lets Gemini 3 search with Google and call the
		// client's functions in one request.
		IncludeServerSideToolInvocations bool `json:"includeServerSideToolInvocations,omitempty"`
	}
	functionCallingConfig struct {
		Mode                 string   `json:"mode"`
		AllowedFunctionNames []string `json:"allowedFunctionNames,omitempty"`
	}
	generationConfig struct {
		MaxOutputTokens  int64             `json:"maxOutputTokens,omitempty"`
		Temperature      json.RawMessage   `json:"temperature,omitempty"`
		TopP             json.RawMessage   `json:"topP,omitempty"`
		StopSequences    []json.RawMessage `json:"stopSequences,omitempty"`
		CandidateCount   int64             `json:"candidateCount,omitempty"`
		Seed             json.RawMessage   `json:"seed,omitempty"`
		PresencePenalty  json.RawMessage   `json:"presencePenalty,omitempty"`
		FrequencyPenalty json.RawMessage   `json:"frequencyPenalty,omitempty"`
		ResponseMimeType string            `json:"responseMimeType,omitempty"`
		ResponseSchema   json.RawMessage   `json:"responseSchema,omitempty"`
		ThinkingConfig   *thinkingConfig   `json:"thinkingConfig,omitempty"`
	}
	thinkingConfig struct {
		ThinkingLevel  string `json:"thinkingLevel,omitempty"`
		ThinkingBudget *int   `json:"thinkingBudget,omitempty"`
	}
)

// skipSignature is Google's documented placeholder for a function call whose thought signature
// is unknown (a history Gemini did not write): Gemini 3 then skips the signature check.
const skipSignature = "skip_thought_signature_validator"

// upstreamBody returns the Gemini body for call. It never modifies call.Request.
func (p *Provider) upstreamBody(call *clearbar.Call) ([]byte, error) {
	req := call.Request
	if req == nil {
		return nil, &clearbar.Error{Class: clearbar.Internal, Message: "call without a request", Provider: p.name, Model: call.Model}
	}
	body := bytes.TrimSpace(req.Body)
	if len(body) == 0 || (req.Dialect != "" && req.Dialect != clearbar.DialectOpenAI) {
		var err error
		if body, err = canonicalBody(req); err != nil {
			return nil, &clearbar.Error{Class: clearbar.ClientError, Message: "the request cannot be encoded: " + err.Error(), Provider: p.name, Model: call.Model, Err: err}
		}
	}
	// An Anthropic client's request carries what only Anthropic can take (the sidecar); it is
	// not for Gemini, which must refuse what it cannot honour.
	body, err := translate.ToOpenAIUpstream(body)
	if err != nil {
		e := *clearbar.AsError(err)
		e.Provider, e.Model = p.name, call.Model
		return nil, &e
	}
	out, e := translateRequest(body, call.Model, p.sigs)
	if e != nil {
		e.Provider, e.Model = p.name, call.Model
		return nil, e
	}
	return out, nil
}

// badRequest is a ClientError about the client's request, naming the parameter.
func badRequest(param, format string, args ...any) *clearbar.Error {
	return &clearbar.Error{Class: clearbar.ClientError, Type: "invalid_request_error", Code: "unsupported_for_gemini", Param: param,
		Message: fmt.Sprintf(format, args...)}
}

// view returns b as a string without copying; it must only be read while b is unchanged.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// translator turns one OpenAI chat request into a Gemini request.
type translator struct {
	model string
	// sigs supplies the signatures of tool calls that come back without extra_content; nil
	// means none.
	sigs *signatureCache
	req  genRequest
	// calls maps the ids of the assistant tool calls seen so far to their function names.
	calls map[string]string
	err   *clearbar.Error
}

// translateRequest translates an OpenAI chat completions body for model. Tool calls without a
// signature in extra_content get the one sigs remembers for their id (sigs may be nil). The
// body is not modified; errors are ClientErrors naming the parameter (Provider and Model unset).
func translateRequest(body []byte, model string, sigs *signatureCache) ([]byte, *clearbar.Error) {
	if jsonguard.Check(body) != nil {
		return nil, badRequest("", "the request body is not valid JSON")
	}
	root := gjson.Parse(view(body))
	if !root.IsObject() {
		return nil, badRequest("", "the request body is not a JSON object")
	}
	var messages, tools, toolChoice, format, maxTokens, maxCompletion, effort, search gjson.Result
	t := &translator{model: model, sigs: sigs}
	gc := &generationConfig{}
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "messages":
			messages = v
		case "tools":
			tools = v
		case "tool_choice":
			toolChoice = v
		case "response_format":
			format = v
		case "max_tokens":
			maxTokens = v
		case "max_completion_tokens":
			maxCompletion = v
		case "reasoning_effort":
			effort = v
		case "web_search_options":
			search = v
		case "temperature":
			gc.Temperature = t.number(v, "temperature")
		case "top_p":
			gc.TopP = t.number(v, "top_p")
		case "seed":
			gc.Seed = t.number(v, "seed")
		case "presence_penalty":
			gc.PresencePenalty = t.number(v, "presence_penalty")
		case "frequency_penalty":
			gc.FrequencyPenalty = t.number(v, "frequency_penalty")
		case "n":
			if n := t.integer(v, "n"); n > 1 {
				gc.CandidateCount = n
			}
		case "stop":
			gc.StopSequences = t.stop(v)
		case "functions", "function_call":
			// The deprecated functions would need their answers in the deprecated form too.
			if v.Type != gjson.Null {
				t.fail(badRequest(k.Str, "the deprecated %s cannot be sent to Gemini: send tools and tool_choice", k.Str))
			}
		}
		return t.err == nil
	})
	if t.err == nil {
		t.messages(messages)
	}
	if t.err == nil && tools.Exists() && tools.Type != gjson.Null {
		t.tools(tools)
	}
	if t.err == nil && toolChoice.Exists() && toolChoice.Type != gjson.Null {
		t.toolChoice(toolChoice)
	}
	if t.err == nil && search.Exists() && search.Type != gjson.Null {
		t.webSearch(search)
	}
	if t.err == nil {
		if n := t.integer(maxCompletion, "max_completion_tokens"); n > 0 {
			gc.MaxOutputTokens = n
		} else if n := t.integer(maxTokens, "max_tokens"); n > 0 {
			gc.MaxOutputTokens = n
		}
	}
	if t.err == nil && format.Exists() && format.Type != gjson.Null {
		t.responseFormat(format, gc)
	}
	if t.err == nil && effort.Exists() && effort.Type != gjson.Null {
		gc.ThinkingConfig = t.thinking(effort)
	}
	if t.err != nil {
		return nil, t.err
	}
	if !gc.empty() {
		t.req.GenerationConfig = gc
	}
	t.signatures()
	var buf bytes.Buffer
	buf.Grow(len(body) + 256)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&t.req); err != nil {
		return nil, badRequest("", "the request cannot be translated for Gemini: %v", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// empty reports whether no generation setting is set.
func (gc *generationConfig) empty() bool {
	return gc.MaxOutputTokens == 0 && gc.Temperature == nil && gc.TopP == nil && gc.StopSequences == nil &&
		gc.CandidateCount == 0 && gc.Seed == nil && gc.PresencePenalty == nil && gc.FrequencyPenalty == nil &&
		gc.ResponseMimeType == "" && gc.ResponseSchema == nil && gc.ThinkingConfig == nil
}

// number returns a numeric parameter's bytes; null or absent is nil.
func (t *translator) number(v gjson.Result, param string) json.RawMessage {
	switch v.Type {
	case gjson.Null:
		return nil
	case gjson.Number:
		return json.RawMessage(v.Raw)
	}
	if v.Exists() {
		t.fail(badRequest(param, "%s must be a number", param))
	}
	return nil
}

// integer returns an integer parameter; 0 when null or absent.
func (t *translator) integer(v gjson.Result, param string) int64 {
	if !v.Exists() || v.Type == gjson.Null {
		return 0
	}
	n, err := strconv.ParseInt(v.Raw, 10, 64)
	if v.Type != gjson.Number || err != nil || n < 0 {
		t.fail(badRequest(param, "%s must be a non-negative integer", param))
		return 0
	}
	return n
}

func (t *translator) fail(e *clearbar.Error) {
	if t.err == nil {
		t.err = e
	}
}

// stop reads stop: a string or an array of strings.
func (t *translator) stop(v gjson.Result) []json.RawMessage {
	switch {
	case v.Type == gjson.Null:
		return nil
	case v.Type == gjson.String:
		return []json.RawMessage{json.RawMessage(v.Raw)}
	case v.IsArray():
		var out []json.RawMessage
		v.ForEach(func(_, s gjson.Result) bool {
			if s.Type != gjson.String {
				t.fail(badRequest("stop", "stop must be a string or an array of strings"))
				return false
			}
			out = append(out, json.RawMessage(s.Raw))
			return true
		})
		return out
	}
	t.fail(badRequest("stop", "stop must be a string or an array of strings"))
	return nil
}

// add appends parts to the contents under a role, merging with the previous content when it
// has the same role (Gemini expects turns to alternate).
func (t *translator) add(role string, parts ...part) {
	if len(parts) == 0 {
		return
	}
	if n := len(t.req.Contents); n > 0 && t.req.Contents[n-1].Role == role {
		t.req.Contents[n-1].Parts = append(t.req.Contents[n-1].Parts, parts...)
		return
	}
	t.req.Contents = append(t.req.Contents, content{Role: role, Parts: parts})
}

// messages translates the message list.
func (t *translator) messages(v gjson.Result) {
	if !v.IsArray() {
		t.fail(badRequest("messages", "messages must be an array"))
		return
	}
	var system []part
	i := 0
	v.ForEach(func(_, m gjson.Result) bool {
		at := fmt.Sprintf("messages[%d]", i)
		switch role := m.Get("role").Str; role {
		case "system", "developer":
			system = append(system, t.textParts(m.Get("content"), at+".content")...)
		case "user":
			t.add("user", t.userParts(m.Get("content"), at+".content")...)
		case "assistant":
			t.add("model", t.assistantParts(m, at)...)
		case "tool":
			t.add("user", t.toolResult(m, at))
		default:
			t.fail(badRequest(at+".role", "role %q cannot be sent to Gemini (use system, developer, user, assistant or tool)", role))
		}
		i++
		return t.err == nil
	})
	if t.err != nil {
		return
	}
	switch {
	case len(t.req.Contents) == 0 && len(system) == 0:
		t.fail(badRequest("messages", "messages must contain at least one message with content"))
	case len(t.req.Contents) == 0:
		// Gemini needs a turn: the system text is the only prompt there is.
		t.add("user", system...)
	case len(system) > 0 && isGemma(t.model):
		// Gemma on the Gemini API refuses systemInstruction ("Developer instruction is not
		// enabled"): the system text opens the first user turn instead.
		if t.req.Contents[0].Role == "user" {
			t.req.Contents[0].Parts = append(system, t.req.Contents[0].Parts...)
		} else {
			t.req.Contents = append([]content{{Role: "user", Parts: system}}, t.req.Contents...)
		}
	case len(system) > 0:
		t.req.SystemInstruction = &content{Parts: system}
	}
}

// isGemma reports whether a model id names a Gemma model served by the Gemini API.
func isGemma(model string) bool {
	return strings.HasPrefix(model[strings.LastIndexByte(model, '/')+1:], "gemma-")
}

// textParts reads content that may only hold text: a string or text parts.
func (t *translator) textParts(c gjson.Result, at string) []part {
	switch {
	case c.Type == gjson.String:
		if c.Str == "" {
			return nil
		}
		return []part{{Text: json.RawMessage(c.Raw)}}
	case c.IsArray():
		var out []part
		j := 0
		c.ForEach(func(_, p gjson.Result) bool {
			switch typ := p.Get("type").Str; typ {
			case "text", "input_text":
				if txt := p.Get("text"); txt.Type == gjson.String && txt.Str != "" {
					out = append(out, part{Text: json.RawMessage(txt.Raw)})
				}
			default:
				t.fail(badRequest(fmt.Sprintf("%s[%d].type", at, j), "a %q part cannot go here: only text", typ))
			}
			j++
			return t.err == nil
		})
		return out
	case !c.Exists() || c.Type == gjson.Null:
		return nil
	}
	t.fail(badRequest(at, "content must be a string or an array of parts"))
	return nil
}

// userParts reads a user message's content: text and media parts.
func (t *translator) userParts(c gjson.Result, at string) []part {
	if !c.IsArray() {
		return t.textParts(c, at)
	}
	var out []part
	j := 0
	c.ForEach(func(_, p gjson.Result) bool {
		pat := fmt.Sprintf("%s[%d]", at, j)
		j++
		switch typ := p.Get("type").Str; typ {
		case "text", "input_text":
			if txt := p.Get("text"); txt.Type == gjson.String && txt.Str != "" {
				out = append(out, part{Text: json.RawMessage(txt.Raw)})
			}
		case "image_url":
			u := p.Get("image_url.url").Str
			if u == "" {
				u = p.Get("image_url").Str
			}
			if pt, ok := t.media(u, "", "image/jpeg", pat+".image_url.url"); ok {
				out = append(out, pt)
			}
		case "input_audio":
			data := p.Get("input_audio.data").Str
			format := p.Get("input_audio.format").Str
			if data == "" || format == "" {
				t.fail(badRequest(pat+".input_audio", "input_audio needs data and format"))
				return false
			}
			out = append(out, part{InlineData: &blob{MimeType: "audio/" + format, Data: data}})
		case "file":
			if pt, ok := t.file(p.Get("file"), pat+".file"); ok {
				out = append(out, pt)
			}
		default:
			t.fail(badRequest(pat+".type", "Gemini takes text, image_url, input_audio and file parts, not %q", typ))
		}
		return t.err == nil
	})
	return out
}

// media turns a URL into a part: a base64 data: URL → inlineData; an http(s) or gs:// URL →
// fileData (Gemini fetches it). hint is a file name that types bare data; def the type of a URL
// whose extension says nothing.
func (t *translator) media(u, hint, def, param string) (part, bool) {
	switch {
	case strings.HasPrefix(u, "data:"):
		meta, data, ok := strings.Cut(u[len("data:"):], ",")
		mt, isBase64 := strings.CutSuffix(meta, ";base64")
		if !ok || !isBase64 {
			t.fail(badRequest(param, "a data: URL must be base64 (data:<type>;base64,<data>)"))
			return part{}, false
		}
		if mt == "" {
			mt = mimeFor(hint, def)
		}
		return part{InlineData: &blob{MimeType: mt, Data: data}}, true
	case strings.HasPrefix(u, "https://"), strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "gs://"):
		base, _, _ := strings.Cut(u, "?")
		return part{FileData: &fileData{MimeType: mimeFor(cmpOr(hint, base), def), FileURI: u}}, true
	}
	t.fail(badRequest(param, "Gemini takes data: URLs and http(s) or gs:// URLs"))
	return part{}, false
}

// file reads an OpenAI file part: file_data (a data: URL, or bare base64 typed by filename) or
// a file_id that names a Gemini file ("files/…" or its URI).
func (t *translator) file(f gjson.Result, param string) (part, bool) {
	name := f.Get("filename").Str
	if data := f.Get("file_data").Str; data != "" {
		if strings.HasPrefix(data, "data:") {
			return t.media(data, name, "application/pdf", param+".file_data")
		}
		return part{InlineData: &blob{MimeType: mimeFor(name, "application/pdf"), Data: data}}, true
	}
	id := f.Get("file_id").Str
	switch {
	case strings.HasPrefix(id, "files/"):
		return part{FileData: &fileData{MimeType: mimeFor(name, ""), FileURI: DefaultBaseURL + apiVersion + "/" + id}}, true
	case strings.HasPrefix(id, "https://"):
		return part{FileData: &fileData{MimeType: mimeFor(name, ""), FileURI: id}}, true
	case id != "":
		t.fail(badRequest(param+".file_id", "file id %q is not a Gemini file (files/…): upload it to Gemini's Files API or send file_data", id))
	default:
		t.fail(badRequest(param, "a file part needs file_data or file_id"))
	}
	return part{}, false
}

// mimeFor guesses a media type from a file name or URL path; def when it cannot.
func mimeFor(name, def string) string {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case "":
		return def
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".mp3":
		return "audio/mp3"
	case ".md":
		return "text/markdown"
	}
	if mt := mime.TypeByExtension(ext); mt != "" {
		mt, _, _ = strings.Cut(mt, ";")
		return mt
	}
	return def
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// assistantParts reads an assistant message: text (and refusal) parts, then its tool calls as
// functionCall parts with their thought signatures restored.
func (t *translator) assistantParts(m gjson.Result, at string) []part {
	var out []part
	c := m.Get("content")
	if c.IsArray() {
		j := 0
		c.ForEach(func(_, p gjson.Result) bool {
			switch typ := p.Get("type").Str; typ {
			case "text", "output_text":
				if txt := p.Get("text"); txt.Type == gjson.String && txt.Str != "" {
					out = append(out, part{Text: json.RawMessage(txt.Raw)})
				}
			case "refusal":
				if txt := p.Get("refusal"); txt.Type == gjson.String && txt.Str != "" {
					out = append(out, part{Text: json.RawMessage(txt.Raw)})
				}
			default:
				t.fail(badRequest(fmt.Sprintf("%s.content[%d].type", at, j), "an assistant message holds text and refusal parts, not %q", typ))
			}
			j++
			return t.err == nil
		})
	} else {
		out = t.textParts(c, at+".content")
	}
	if len(out) == 0 {
		if r := m.Get("refusal"); r.Type == gjson.String && r.Str != "" {
			out = append(out, part{Text: json.RawMessage(r.Raw)})
		}
	}
	if sig := m.Get("extra_content.google.thought_signature").Str; sig != "" {
		for k := len(out) - 1; k >= 0; k-- {
			if out[k].Text != nil {
				out[k].ThoughtSignature = sig
				break
			}
		}
	}
	j := 0
	m.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
		tat := fmt.Sprintf("%s.tool_calls[%d]", at, j)
		j++
		if typ := tc.Get("type").Str; typ != "" && typ != "function" {
			t.fail(badRequest(tat+".type", "Gemini takes function tool calls, not %q", typ))
			return false
		}
		pt, name := t.call(tc.Get("function"), tat+".function")
		if t.err != nil {
			return false
		}
		id := tc.Get("id").Str
		pt.ThoughtSignature = tc.Get("extra_content.google.thought_signature").Str
		if pt.ThoughtSignature == "" {
			pt.ThoughtSignature = t.sigs.get(id)
		}
		if id != "" {
			if t.calls == nil {
				t.calls = map[string]string{}
			}
			t.calls[id] = name
		}
		out = append(out, pt)
		return true
	})
	if fc := m.Get("function_call"); fc.IsObject() && t.err == nil {
		if pt, _ := t.call(fc, at+".function_call"); t.err == nil {
			out = append(out, pt)
		}
	}
	return out
}

// call reads a function call ({name, arguments}) into a functionCall part.
func (t *translator) call(fn gjson.Result, at string) (part, string) {
	name := fn.Get("name").Str
	if name == "" {
		t.fail(badRequest(at+".name", "a tool call needs a function name"))
		return part{}, ""
	}
	args := strings.TrimSpace(fn.Get("arguments").Str)
	if args == "" {
		args = "{}"
	}
	if jsonguard.CheckString(args) != nil || !gjson.Parse(args).IsObject() {
		t.fail(badRequest(at+".arguments", "the arguments of a call to %s must be a JSON object (Gemini's args)", name))
		return part{}, ""
	}
	return part{FunctionCall: &functionCall{Name: name, Args: json.RawMessage(args)}}, name
}

// toolResult reads a tool message into a functionResponse part, named after the call it answers.
func (t *translator) toolResult(m gjson.Result, at string) part {
	id := m.Get("tool_call_id").Str
	name, ok := t.calls[id]
	if !ok {
		name = m.Get("name").Str // some clients name the function on the tool message
		ok = name != ""
	}
	if !ok {
		t.fail(badRequest(at+".tool_call_id", "no earlier assistant tool call has id %q; Gemini needs the function's name", id))
		return part{}
	}
	var text string
	switch c := m.Get("content"); {
	case c.Type == gjson.String:
		text = c.Str
	case c.IsArray():
		var b strings.Builder
		c.ForEach(func(_, p gjson.Result) bool {
			if txt := p.Get("text"); txt.Type == gjson.String {
				if b.Len() > 0 {
					b.WriteByte('\n')
				}
				b.WriteString(txt.Str)
			}
			return true
		})
		text = b.String()
	}
	resp := json.RawMessage(strings.TrimSpace(text))
	if jsonguard.CheckString(string(resp)) != nil || !gjson.Parse(string(resp)).IsObject() {
		resp, _ = json.Marshal(struct {
			Result string `json:"result"`
		}{text})
	}
	return part{FunctionResponse: &functionResponse{Name: name, Response: resp}}
}

// tools translates function tools into one functionDeclarations list.
func (t *translator) tools(v gjson.Result) {
	if !v.IsArray() {
		t.fail(badRequest("tools", "tools must be an array"))
		return
	}
	var decls []functionDeclaration
	i := 0
	v.ForEach(func(_, tool gjson.Result) bool {
		at := fmt.Sprintf("tools[%d]", i)
		i++
		if typ := tool.Get("type").Str; typ != "function" {
			t.fail(badRequest(at+".type", "Gemini takes function tools, not %q", typ))
			return false
		}
		fn := tool.Get("function")
		d := functionDeclaration{Name: fn.Get("name").Str}
		if d.Name == "" {
			t.fail(badRequest(at+".function.name", "every function tool needs a name"))
			return false
		}
		if desc := fn.Get("description"); desc.Type == gjson.String {
			d.Description = json.RawMessage(desc.Raw)
		}
		if ps := fn.Get("parameters"); ps.IsObject() {
			if s := convertSchema(ps); !emptyObjectSchema(s) {
				d.Parameters = s
			}
		}
		decls = append(decls, d)
		return true
	})
	if len(decls) > 0 {
		t.req.Tools = []toolSet{{FunctionDeclarations: decls}}
	}
}

// toolChoice translates tool_choice into functionCallingConfig.
func (t *translator) toolChoice(v gjson.Result) {
	mode, names := "", []string(nil)
	switch {
	case v.Type == gjson.String:
		switch v.Str {
		case "none":
			mode = "NONE"
		case "auto":
			mode = "AUTO"
		case "required":
			mode = "ANY"
		default:
			t.fail(badRequest("tool_choice", "tool_choice %q is not none, auto or required", v.Str))
			return
		}
	case v.IsObject():
		switch typ := v.Get("type").Str; typ {
		case "function":
			name := v.Get("function.name").Str
			if name == "" {
				t.fail(badRequest("tool_choice.function.name", "a named tool_choice needs the function's name"))
				return
			}
			mode, names = "ANY", []string{name}
		case "allowed_tools":
			v.Get("allowed_tools.tools").ForEach(func(_, tool gjson.Result) bool {
				if n := tool.Get("function.name").Str; n != "" {
					names = append(names, n)
				} else if n := tool.Get("name").Str; n != "" {
					names = append(names, n)
				}
				return true
			})
			switch m := v.Get("allowed_tools.mode").Str; m {
			case "required":
				mode = "ANY"
			case "auto", "":
				// Gemini restricts names only in mode ANY: declare only the allowed ones.
				mode = "AUTO"
				t.keepTools(names)
				names = nil
			default:
				t.fail(badRequest("tool_choice.allowed_tools.mode", "allowed_tools mode %q is not auto or required", m))
				return
			}
		default:
			t.fail(badRequest("tool_choice.type", "Gemini takes function tool choices, not %q", typ))
			return
		}
	default:
		t.fail(badRequest("tool_choice", "tool_choice must be a string or an object"))
		return
	}
	t.req.ToolConfig = &toolConfig{FunctionCallingConfig: &functionCallingConfig{Mode: mode, AllowedFunctionNames: names}}
}

// webSearch translates web_search_options into the Google Search tool, in the one tool set
// beside the function declarations. Its settings are not sent: Gemini's search takes no
// context size, and no approximate location (its retrievalConfig takes coordinates, for Google
// Maps). Without function declarations a functionCallingConfig means nothing and Gemini
// refuses it, so it is left out. With them, Gemini 3 needs includeServerSideToolInvocations,
// and earlier models refuse the combination in generateContent, which is a ClientError naming
// both parameters rather than a silent loss of either.
func (t *translator) webSearch(v gjson.Result) {
	if !v.IsObject() {
		t.fail(badRequest("web_search_options", "web_search_options must be an object"))
		return
	}
	if len(t.req.Tools) == 0 {
		t.req.Tools = []toolSet{{GoogleSearch: &googleSearch{}}}
		t.req.ToolConfig = nil
		return
	}
	if !geminimodel.SearchesWithFunctions(t.model) {
		t.fail(badRequest("web_search_options", "%s cannot search the web with Google and call the request's functions in one request: "+
			"send web_search_options or tools, not both, or use a Gemini 3 model, which takes both", t.model[strings.LastIndexByte(t.model, '/')+1:]))
		return
	}
	t.req.Tools[0].GoogleSearch = &googleSearch{}
	if t.req.ToolConfig == nil {
		t.req.ToolConfig = &toolConfig{}
	}
	t.req.ToolConfig.IncludeServerSideToolInvocations = true
}

// keepTools leaves only the named functions declared.
func (t *translator) keepTools(names []string) {
	if len(t.req.Tools) == 0 {
		return
	}
	var kept []functionDeclaration
	for _, d := range t.req.Tools[0].FunctionDeclarations {
		for _, n := range names {
			if d.Name == n {
				kept = append(kept, d)
				break
			}
		}
	}
	if len(kept) == 0 {
		t.req.Tools = nil
		return
	}
	t.req.Tools[0].FunctionDeclarations = kept
}

// responseFormat translates response_format into responseMimeType and responseSchema.
func (t *translator) responseFormat(v gjson.Result, gc *generationConfig) {
	switch typ := v.Get("type").Str; typ {
	case "text":
	case "json_object":
		gc.ResponseMimeType = "application/json"
	case "json_schema":
		gc.ResponseMimeType = "application/json"
		if s := v.Get("json_schema.schema"); s.IsObject() {
			if conv := convertSchema(s); !emptyObjectSchema(conv) {
				gc.ResponseSchema = conv
			}
		}
	default:
		t.fail(badRequest("response_format.type", "response_format %q is not text, json_object or json_schema", typ))
	}
}

// Thinking budgets for reasoning_effort on models that take a budget (Gemini 2.5).
var thinkingBudgets = map[string]int{"none": 0, "minimal": 512, "low": 1024, "medium": 8192, "high": 24576, "xhigh": 32768, "max": 32768}

// Thinking levels for reasoning_effort on Gemini 3 and later.
var thinkingLevels = map[string]string{"none": "minimal", "minimal": "minimal", "low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}

// thinking translates reasoning_effort for the call's model.
func (t *translator) thinking(v gjson.Result) *thinkingConfig {
	budget, ok := thinkingBudgets[v.Str]
	if v.Type != gjson.String || !ok {
		t.fail(badRequest("reasoning_effort", "reasoning_effort %s is not none, minimal, low, medium, high, xhigh or max", v.Raw))
		return nil
	}
	major, minor, known := geminimodel.Version(t.model)
	switch {
	case known && major >= 3:
		return &thinkingConfig{ThinkingLevel: fitLevel(t.model, major, minor, thinkingLevels[v.Str])}
	case known && (major < 2 || major == 2 && minor < 5):
		return nil // no thinking before Gemini 2.5
	}
	budget = fitBudget(t.model, budget)
	return &thinkingConfig{ThinkingBudget: &budget}
}

// fitLevel brings a thinking level into the set the model takes (400 "Thinking level MEDIUM
// is not supported for this model"): Flash models take minimal, low, medium and high; Pro
// models think at least at low, and Gemini 3.0 Pro has no medium, which goes up to high, so
// that asking for more thought never gets less. Other models' levels are left as they are.
func fitLevel(model string, major, minor int, level string) string {
	name := model[strings.LastIndexByte(model, '/')+1:]
	if !strings.Contains(name, "-pro") {
		return level
	}
	switch {
	case level == "minimal":
		return "low"
	case level == "medium" && major == 3 && minor == 0:
		return "high"
	}
	return level
}

// Thinking budget ranges Gemini enforces (400 "thinking_budget is out of range"): Pro models
// think with 128 to 32768 tokens and cannot turn thinking off; Flash and Flash-Lite take at
// most 24576 (0 turns thinking off).
const (
	minProBudget   = 128
	maxFlashBudget = 24576
)

// fitBudget brings a thinking budget into the range of the model's family, read from its id:
// at least minProBudget for a Pro model, at most maxFlashBudget for a Flash model; other
// models' budgets are left as they are.
func fitBudget(model string, budget int) int {
	name := model[strings.LastIndexByte(model, '/')+1:]
	switch {
	case strings.Contains(name, "-pro"):
		return max(budget, minProBudget)
	case strings.Contains(name, "-flash"):
		return min(budget, maxFlashBudget)
	}
	return budget
}

// signatures gives the first function call of each model turn the placeholder signature when
// none of the turn's calls has one, for models that check signatures (Gemini 3) and models
// whose version is unknown.
func (t *translator) signatures() {
	if major, _, known := geminimodel.Version(t.model); known && major < 3 {
		return
	}
	for ci := range t.req.Contents {
		c := &t.req.Contents[ci]
		if c.Role != "model" {
			continue
		}
		first, signed := -1, false
		for pi := range c.Parts {
			if c.Parts[pi].FunctionCall == nil {
				continue
			}
			if first < 0 {
				first = pi
			}
			signed = signed || c.Parts[pi].ThoughtSignature != ""
		}
		if first >= 0 && !signed {
			c.Parts[first].ThoughtSignature = skipSignature
		}
	}
}

// Wire types of an OpenAI body built from canonical fields.
type (
	oaRequest struct {
		Messages       []oaMessage     `json:"messages"`
		Tools          []oaTool        `json:"tools,omitempty"`
		ToolChoice     json.RawMessage `json:"tool_choice,omitempty"`
		ResponseFormat json.RawMessage `json:"response_format,omitempty"`
		MaxTokens      int             `json:"max_completion_tokens,omitempty"`
		N              int             `json:"n,omitempty"`
	}
	oaMessage struct {
		Role       string       `json:"role"`
		Content    string       `json:"content"`
		ToolCalls  []oaToolCall `json:"tool_calls,omitempty"`
		ToolCallID string       `json:"tool_call_id,omitempty"`
	}
	oaToolCall struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	}
	oaTool struct {
		Type     string `json:"type"`
		Function struct {
			Name        string          `json:"name"`
			Description string          `json:"description,omitempty"`
			Parameters  json.RawMessage `json:"parameters,omitempty"`
		} `json:"function"`
	}
	oaNamedChoice struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	oaFormat struct {
		Type       string        `json:"type"`
		JSONSchema *oaJSONSchema `json:"json_schema,omitempty"`
	}
	oaJSONSchema struct {
		Name   string          `json:"name"`
		Schema json.RawMessage `json:"schema,omitempty"`
	}
)

// canonicalBody writes a request's canonical fields as an OpenAI body, for requests built in
// code and requests in another dialect. Attachments are not kept by the canonical form and are
// left out.
func canonicalBody(req *clearbar.Request) ([]byte, error) {
	w := oaRequest{MaxTokens: req.MaxTokens, Messages: []oaMessage{}}
	if req.N > 1 {
		w.N = req.N
	}
	for _, m := range req.Messages {
		om := oaMessage{Role: m.Role, Content: m.Text, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			c := oaToolCall{ID: tc.ID, Type: "function"}
			c.Function.Name, c.Function.Arguments = tc.Name, tc.Arguments
			om.ToolCalls = append(om.ToolCalls, c)
		}
		w.Messages = append(w.Messages, om)
	}
	for _, tl := range req.Tools {
		ot := oaTool{Type: "function"}
		ot.Function.Name, ot.Function.Description, ot.Function.Parameters = tl.Name, tl.Description, tl.Parameters
		w.Tools = append(w.Tools, ot)
	}
	var err error
	switch req.ToolChoice {
	case "":
	case "auto", "none", "required":
		w.ToolChoice, err = json.Marshal(req.ToolChoice)
	default:
		c := oaNamedChoice{Type: "function"}
		c.Function.Name = req.ToolChoice
		w.ToolChoice, err = json.Marshal(c)
	}
	if err != nil {
		return nil, err
	}
	switch rf := req.ResponseFormat; rf.Type {
	case "":
	case "json_schema":
		w.ResponseFormat, err = json.Marshal(oaFormat{Type: rf.Type, JSONSchema: &oaJSONSchema{Name: rf.Name, Schema: rf.Schema}})
	default:
		w.ResponseFormat, err = json.Marshal(oaFormat{Type: rf.Type})
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(w)
}
