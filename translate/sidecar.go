package translate

import (
	"bytes"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonstr"
)

// AnthropicKey is the top-level member of an OpenAI-form document in which Clearbar carries
// what only Anthropic's format can hold: the sidecar. ToOpenAIRequest writes it into every
// request it translates (an Anthropic client's), ToAnthropicRequest reads it back, and
// ToOpenAIUpstream takes it out before an OpenAI-format model sees the body. In an answer
// (AnswerOptions.Native) it holds the Anthropic upstream's own message, or in a stream chunk the
// event the chunk was made from, which ToAnthropicResponse and AnthropicEvents then give the
// client as they came.
//
// A request's sidecar is an object with these members, each left out when empty:
//
//	beta           the client's anthropic-beta header, a string
//	params         the top-level parameters that have no OpenAI form (thinking, top_k,
//	               cache_control, output_config, container, …), as they were sent
//	system_blocks  true when the system prompt was an array of blocks
//	tools          per OpenAI tool, null or the members of the Anthropic tool that the OpenAI
//	               form has no place for (cache_control, type, defer_loading, …)
//	messages       per OpenAI message, null or an annotation: "extra", the members of the block
//	               the message stands for that the OpenAI form has no place for (a system
//	               block's cache_control, a tool_result's is_error and cache_control); "parts",
//	               per content part, null or {"extra": …} or {"block": the block as sent} (a
//	               text-source document, which the OpenAI form holds as text); "blocks", the
//	               layout of an assistant message's content in its order: {"text": n, "extra"}
//	               for a text block of n bytes of the message's content, {"tool_use": true,
//	               "extra"} for the next tool call, {"block": …} for a block the OpenAI form
//	               cannot hold (thinking and redacted_thinking, with their signatures, and
//	               the blocks of Anthropic's server tools); a part's {"block": …} is also
//	               how a content block the OpenAI form cannot hold rides in a user message or
//	               a tool result, behind a text part that stands in for it
//	native_tools   the tools that run inside Anthropic's API or have a schema of Anthropic's
//	               (any type but custom: web search, code execution, computer use, …), each
//	               {"at": its index among the client's tools, "tool": the tool as sent}; the
//	               OpenAI form's tools are the client's others
//	tool_choice    the client's tool_choice as sent, when it has native tools
//	only           {"param", "what"}: the first tool or block that only an Anthropic model can
//	               take (a native tool, a server tool's block, an image in a tool result, a
//	               document by URL, …); routing leaves OpenAI-format models out for it
//
// The sidecar is Clearbar's internal protocol between its Anthropic ingress and its adapters:
// the gateway refuses a client body that carries one (gateway.DecodeChatRequest, unless
// Limits.Messages), since what it holds would reach an Anthropic upstream past every check.
const AnthropicKey = "clearbar_anthropic"

// ToolErrorPrefix starts the content of an OpenAI tool message translated from a tool_result
// with is_error true, since OpenAI's tool messages have no error flag: the model reads that the
// call failed. ToAnthropicRequest takes it off again when the sidecar says is_error.
const ToolErrorPrefix = "Error: "

// paramFate is what becomes of a top-level Messages parameter on its way to an OpenAI-format
// model.
type paramFate uint8

const (
	// translated: ToOpenAIRequest writes its OpenAI form (model, messages, …).
	translated paramFate = iota
	// dropped: carried to Anthropic in the sidecar; an OpenAI-format model goes without it,
	// and the answer means the same (hints about caching, sampling, thinking, capacity).
	dropped
	// refused: carried to Anthropic in the sidecar; an OpenAI-format model cannot honour it
	// without changing what the request means, so ToOpenAIUpstream refuses the call naming it.
	refused
)

// messagesParams are the top-level parameters of Anthropic's Messages API, those of
// anthropic-sdk-go v1.84 and v2.15 (MessageNewParams and BetaMessageNewParams) and stream, with
// their fate on the way to an OpenAI-format model. Any other member is a 400, as Anthropic
// answers ("foo: Extra inputs are not permitted").
var messagesParams = []struct {
	name string
	fate paramFate
}{
	{"model", translated}, {"messages", translated}, {"max_tokens", translated}, {"system", translated},
	{"stop_sequences", translated}, {"stream", translated}, {"temperature", translated}, {"top_p", translated},
	{"tools", translated}, {"tool_choice", translated}, {"metadata", translated},
	// output_config and output_format are carried as they are; their format is also translated
	// into response_format, and output_config.effort is dropped.
	{"output_config", dropped}, {"output_format", dropped},
	{"thinking", dropped}, {"top_k", dropped}, {"service_tier", dropped}, {"speed", dropped},
	{"cache_control", dropped}, {"diagnostics", dropped}, {"context_management", dropped},
	{"fallbacks", dropped}, {"fallback_credit_token", dropped},
	{"container", refused}, {"mcp_servers", refused}, {"compaction", refused}, {"thread", refused},
	{"billing_policy", refused}, {"inference_geo", refused},
}

// paramFateOf returns a Messages parameter's fate, and false for a name that is not one.
func paramFateOf(name string) (paramFate, bool) {
	for _, p := range messagesParams {
		if p.name == name {
			return p.fate, true
		}
	}
	return 0, false
}

// refusalReason says why an OpenAI-format model cannot take a refused parameter.
var refusalReason = map[string]string{
	"container":      "it names a container of Anthropic's code execution",
	"mcp_servers":    "Anthropic's API calls the MCP servers; an OpenAI-format model cannot",
	"compaction":     "a compaction request is answered with Anthropic's compaction block",
	"thread":         "the conversation is held by Anthropic's API, not sent in messages",
	"billing_policy": "it bills another organization at Anthropic",
	"inference_geo":  "Clearbar cannot promise where an OpenAI-format model runs",
}

// ToOpenAIUpstream returns an OpenAI-form body as an OpenAI-format model takes it: without the
// sidecar (AnthropicKey). A sidecar parameter such a model cannot honour (see the package
// documentation) is a *clearbar.Error of class ClientError naming it. A body without a sidecar
// is returned as it is, without being parsed beyond a byte search; the result may share body's
// memory and must not be modified. It does not modify body.
func ToOpenAIUpstream(body []byte) ([]byte, error) {
	if !bytes.Contains(body, []byte(`"`+AnthropicKey+`"`)) {
		return body, nil
	}
	root, ok := parseObject(body)
	if !ok {
		return body, nil // the adapter reports what is wrong with the body
	}
	if err := anthropicOnly(root); err != nil {
		return nil, err
	}
	out, derr := sjson.DeleteBytes(body, AnthropicKey)
	if derr != nil {
		return nil, invalid("", "the request body cannot be edited: %v", derr)
	}
	return out, nil
}

// AnthropicOnly returns the first parameter of a body translated from /v1/messages (one
// that carries the sidecar) that only Anthropic models take — a parameter OpenAI-format
// models have no place for, a tool or content block only Anthropic's API takes, or more
// than 4 stop sequences — or "" when there is none, so that routing can leave
// OpenAI-format models out for it. what names it for a message: the parameter, or for a
// tool or block its place and type ("tools[0] (type web_search_20250305)").
func AnthropicOnly(body []byte) (param, what string) {
	if !bytes.Contains(body, []byte(`"`+AnthropicKey+`"`)) {
		return "", ""
	}
	root, ok := parseObject(body)
	if !ok {
		return "", ""
	}
	if err := anthropicOnly(root); err != nil {
		what = err.Param
		if o := members(root, AnthropicKey)[AnthropicKey].Get("only"); o.Get("param").String() == err.Param {
			what = o.Get("what").String()
		}
		return err.Param, what
	}
	return "", ""
}

// anthropicOnly returns the error ToOpenAIUpstream gives for the first parameter of the
// translated request root that an OpenAI-format model cannot take, or nil.
func anthropicOnly(root gjson.Result) *clearbar.Error {
	sc := members(root, AnthropicKey)[AnthropicKey]
	if !sc.Exists() {
		return nil
	}
	var err *clearbar.Error
	sc.Get("params").ForEach(func(k, _ gjson.Result) bool {
		switch fate, known := paramFateOf(k.Str); {
		case !known || fate == translated:
			err = invalid(k.Str, "%s cannot be sent to an OpenAI-format model", k.Str)
		case fate == refused:
			err = invalid(k.Str, "%s cannot be sent to an OpenAI-format model: %s; route the request to an Anthropic model", k.Str, refusalReason[k.Str])
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	if o := sc.Get("only"); o.IsObject() {
		return invalid(o.Get("param").String(), "%s cannot be sent to an OpenAI-format model: only Anthropic's API takes it; route the request to an Anthropic model", o.Get("what").String())
	}
	// Anthropic takes any number of stop sequences; OpenAI-format models take 4.
	if n := len(members(root, "stop")["stop"].Array()); n > maxOpenAIStops {
		return invalid("stop_sequences", "stop_sequences: %d cannot be sent to an OpenAI-format model, which takes at most %d; send fewer, or route the request to an Anthropic model", n, maxOpenAIStops)
	}
	return nil
}

// maxOpenAIStops is the most stop sequences OpenAI-format models take.
const maxOpenAIStops = 4

// extraMembers returns the members of the object obj other than the carried ones, as the
// inside of a JSON object (without braces), or "" when there are none: what the OpenAI form has
// no place for.
func extraMembers(obj gjson.Result, carried ...string) string {
	var b []byte
	obj.ForEach(func(k, v gjson.Result) bool {
		for _, c := range carried {
			if k.Str == c {
				return true
			}
		}
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = append(b, k.Raw...)
		b = append(b, ':')
		b = append(b, v.Raw...)
		return true
	})
	return string(b)
}

// withMembers returns the JSON object block with extra (the inside of an object, as
// extraMembers gives it) added at its end; block unchanged when extra is empty.
func withMembers(block []byte, extra string) []byte {
	extra = strings.TrimSpace(extra)
	if extra == "" || len(block) < 2 || block[len(block)-1] != '}' {
		return block
	}
	out := make([]byte, 0, len(block)+len(extra)+1)
	out = append(out, block[:len(block)-1]...)
	if len(bytes.TrimSpace(block[1:len(block)-1])) > 0 {
		out = append(out, ',')
	}
	out = append(out, extra...)
	return append(out, '}')
}

// inside returns the members of a JSON object as extraMembers gives them: its text without the
// braces; "" for anything but an object.
func inside(obj gjson.Result) string {
	if !obj.IsObject() {
		return ""
	}
	raw := strings.TrimSpace(obj.Raw)
	return strings.TrimSpace(raw[1 : len(raw)-1])
}

// sidecarOut collects a request's sidecar while ToOpenAIRequest translates it. Annotations are
// kept only for the tools and messages that have one, so that a request with none allocates
// nothing for them.
type sidecarOut struct {
	params       []byte // the inside of the params object
	systemBlocks bool
	// nTools and nMsgs count the OpenAI tools and messages written; tools and msgs are the
	// annotations of those that have one.
	nTools, nMsgs int
	tools, msgs   []indexed
	// nativeTools are the client's tools with an Anthropic type, as {"at", "tool"} objects;
	// toolChoice the client's tool_choice, kept when there are any.
	nativeTools []string
	toolChoice  string
	// onlyParam and onlyWhat name the first tool or block only an Anthropic model can take.
	onlyParam, onlyWhat string
}

// only records a tool or block that only an Anthropic model can take, unless one already is:
// param is its place, what names it for a message.
func (s *sidecarOut) only(param, what string) {
	if s.onlyParam == "" {
		s.onlyParam, s.onlyWhat = param, what
	}
}

// indexed is the annotation of the ith tool or message.
type indexed struct {
	i   int
	ann string
}

// param carries a top-level parameter as it was sent.
func (s *sidecarOut) param(name, raw string) {
	if len(s.params) > 0 {
		s.params = append(s.params, ',')
	}
	s.params = jsonstr.Append(s.params, name)
	s.params = append(s.params, ':')
	s.params = append(s.params, raw...)
}

// tool records the annotation of the next OpenAI tool: the inside of an object, or "".
func (s *sidecarOut) tool(extra string) {
	if extra != "" {
		s.tools = append(s.tools, indexed{s.nTools, "{" + extra + "}"})
	}
	s.nTools++
}

// message records the annotation of the next OpenAI message: an object, or "".
func (s *sidecarOut) message(ann string) {
	if ann != "" {
		s.msgs = append(s.msgs, indexed{s.nMsgs, ann})
	}
	s.nMsgs++
}

// write writes the sidecar as the last member of the request object w is in.
func (s *sidecarOut) write(w *jw, beta string) {
	w.key(AnthropicKey)
	w.open('{')
	if beta != "" {
		w.kstr("beta", beta)
	}
	if len(s.params) > 0 {
		w.kraw("params", "{"+string(s.params)+"}")
	}
	if s.systemBlocks {
		w.kraw("system_blocks", "true")
	}
	writeAnnotations := func(key string, anns []indexed, n int) {
		if len(anns) == 0 {
			return
		}
		w.key(key)
		w.open('[')
		for i := 0; i < n; i++ {
			w.item()
			if len(anns) > 0 && anns[0].i == i {
				w.raw(anns[0].ann)
				anns = anns[1:]
			} else {
				w.null()
			}
		}
		w.close(']')
	}
	writeAnnotations("tools", s.tools, s.nTools)
	writeAnnotations("messages", s.msgs, s.nMsgs)
	if len(s.nativeTools) > 0 {
		w.kraw("native_tools", "["+strings.Join(s.nativeTools, ",")+"]")
	}
	if s.toolChoice != "" {
		w.kraw("tool_choice", s.toolChoice)
	}
	if s.onlyParam != "" {
		w.key("only")
		w.open('{')
		w.kstr("param", s.onlyParam)
		w.kstr("what", s.onlyWhat)
		w.close('}')
	}
	w.close('}')
}

// annotation builds one message's annotation object.
type annotation struct {
	extra  string   // the inside of "extra"
	parts  []string // per part: an object, or ""
	blocks []string // the layout's entries (objects), nil for none
	any    bool     // a part annotation is set
}

func (a *annotation) part(p string) {
	a.parts = append(a.parts, p)
	a.any = a.any || p != ""
}

// partExtra is a part annotation carrying members of its block ("" for none).
func partExtra(extra string) string {
	if extra == "" {
		return ""
	}
	return `{"extra":{` + extra + `}}`
}

// String returns the annotation as a JSON object, or "" when it carries nothing.
func (a *annotation) String() string {
	if a.extra == "" && !a.any && a.blocks == nil {
		return ""
	}
	var w jw
	w.open('{')
	if a.extra != "" {
		w.kraw("extra", "{"+a.extra+"}")
	}
	if a.any {
		w.key("parts")
		w.open('[')
		for _, p := range a.parts {
			w.item()
			if p == "" {
				w.null()
			} else {
				w.raw(p)
			}
		}
		w.close(']')
	}
	if a.blocks != nil {
		w.key("blocks")
		w.open('[')
		for _, b := range a.blocks {
			w.item()
			w.raw(b)
		}
		w.close(']')
	}
	w.close('}')
	return string(w.b)
}

// sidecarIn is a request's sidecar as ToAnthropicRequest reads it.
type sidecarIn struct {
	present      bool
	beta         string
	params       gjson.Result
	systemBlocks bool
	tools, msgs  []gjson.Result
	// nativeTools and toolChoice are the sidecar's native_tools and tool_choice.
	nativeTools []gjson.Result
	toolChoice  gjson.Result
}

func readSidecar(v gjson.Result) (sidecarIn, error) {
	if !v.Exists() || v.Type == gjson.Null {
		return sidecarIn{}, nil
	}
	if !v.IsObject() {
		return sidecarIn{}, invalid(AnthropicKey, "%s must be an object", AnthropicKey)
	}
	s := sidecarIn{present: true, beta: v.Get("beta").String(), systemBlocks: v.Get("system_blocks").Bool()}
	if strings.IndexFunc(s.beta, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		// It becomes a header of the upstream call, which must not break it.
		return sidecarIn{}, invalid(AnthropicKey+".beta", "the anthropic-beta header must not hold control characters")
	}
	if p := v.Get("params"); p.IsObject() {
		s.params = p
	}
	s.tools = v.Get("tools").Array()
	s.msgs = v.Get("messages").Array()
	s.nativeTools = v.Get("native_tools").Array()
	s.toolChoice = v.Get("tool_choice")
	return s, nil
}

// msg returns the annotation of the ith OpenAI message (an empty Result for none).
func (s *sidecarIn) msg(i int) gjson.Result {
	if s == nil || i >= len(s.msgs) {
		return gjson.Result{}
	}
	return s.msgs[i]
}

// tool returns the members to add to the ith tool ("" for none).
func (s *sidecarIn) tool(i int) string {
	if s == nil || i >= len(s.tools) {
		return ""
	}
	return inside(s.tools[i])
}

// hasParam reports whether the sidecar carries a top-level parameter (name has no gjson path
// characters).
func (s *sidecarIn) hasParam(name string) bool {
	return s != nil && s.params.Get(name).Exists()
}
