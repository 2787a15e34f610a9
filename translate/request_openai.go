package translate

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
)

// HintPrefix starts the metadata keys that are Clearbar's routing hints. ToOpenAIRequest keeps
// them (the gateway routes on them); every other Anthropic metadata key but user_id is dropped.
const HintPrefix = "clearbar"

// OpenAIOptions are the settings of an Anthropic to OpenAI request translation.
type OpenAIOptions struct {
	// Version is the anthropic-version the client sent; "" means Version20230601. With
	// Version20261021 and later, temperature, top_p and top_k are errors, as Anthropic makes
	// them.
	Version string
	// Beta is the client's anthropic-beta header (its values joined with commas), carried in
	// the sidecar for an Anthropic upstream; "" for none.
	Beta string
	// CountTokens translates a count_tokens request: max_tokens is not required, and the
	// translation has no token limit.
	CountTokens bool
}

// MaxRequestDepth is the deepest nesting of arrays and objects ToOpenAIRequest accepts:
// jsonguard.MaxDepth, less a margin for the translation, whose sidecar holds blocks and
// parameters two levels deeper than the client sent them, so that the OpenAI form stays
// within jsonguard.MaxDepth for everything that reads it after.
const MaxRequestDepth = jsonguard.MaxDepth - 8

// ToOpenAIRequest translates an Anthropic Messages request body into an OpenAI chat
// completions request body. It does not modify body. A member that is not a parameter of the
// Messages API is a 400, as Anthropic answers it; a request OpenAI cannot express (server
// tools, images inside tool results, documents by URL, …) is a *clearbar.Error of class
// ClientError naming the parameter; see the package documentation for every field's fate.
//
// The result always ends with the sidecar (AnthropicKey): what only an Anthropic upstream can
// take, for ToAnthropicRequest, and the mark of an Anthropic client. ToOpenAIUpstream takes it
// out for an OpenAI-format model.
//
// A streaming request asks for stream_options.include_usage, so that the answer can be
// translated back with its usage, which Anthropic's stream always carries. A body nesting
// arrays and objects more than MaxRequestDepth levels deep is a 400 invalid_json.
func ToOpenAIRequest(body []byte, opt OpenAIOptions) ([]byte, error) {
	switch err := jsonguard.CheckDepth(body, MaxRequestDepth); err {
	case nil:
	case jsonguard.ErrTooDeep:
		return nil, &clearbar.Error{Class: clearbar.ClientError, Status: http.StatusBadRequest, Type: ErrInvalidRequest, Code: "invalid_json",
			Message: jsonguard.DescribeDepth(err, "the request body", MaxRequestDepth) + ", the gateway's limit"}
	default:
		return nil, invalid("", "the request body is not a JSON object")
	}
	root := gjson.Parse(view(body))
	if !root.IsObject() {
		return nil, invalid("", "the request body is not a JSON object")
	}
	// Blocks can reach an Anthropic upstream as they were sent, where the member a parser
	// keeps of two with one name may not be the one routing and validators read.
	if path := duplicateKey(root); path != "" {
		return nil, invalid(path, "%s: the same member is written twice in one object; send it once", path)
	}
	if opt.Version == "" {
		opt.Version = Version20230601
	}
	var err error
	root.ForEach(func(k, _ gjson.Result) bool {
		if _, known := paramFateOf(k.Str); !known {
			err = invalid(k.Str, "%s: Extra inputs are not permitted", k.Str)
		}
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	m := members(root, messagesParamNames...)

	model := m["model"]
	if model.Type != gjson.String || model.Str == "" {
		return nil, invalid("model", "model: Field required")
	}
	mt := m["max_tokens"]
	switch {
	case !mt.Exists() && opt.CountTokens:
	case !mt.Exists():
		return nil, invalid("max_tokens", "max_tokens: Field required")
	case mt.Type != gjson.Number || mt.Int() < 1 || float64(mt.Int()) != mt.Num:
		return nil, invalid("max_tokens", "max_tokens must be a positive integer")
	}
	if samplingDropped(opt.Version) {
		for _, name := range []string{"temperature", "top_p", "top_k"} {
			if v := m[name]; v.Exists() && v.Type != gjson.Null {
				return nil, invalid(name, "%s: not supported with anthropic-version %s", name, opt.Version)
			}
		}
	}
	if err := checkAnthropicTypes(m); err != nil {
		return nil, err
	}
	if err := checkThinking(m["thinking"], mt); err != nil {
		return nil, err
	}
	if err := checkMetadata(m["metadata"]); err != nil {
		return nil, err
	}

	var (
		w  jw
		sc sidecarOut
	)
	w.b = make([]byte, 0, len(body)+256)
	w.open('{')
	w.kraw("model", model.Raw)
	w.key("messages")
	w.open('[')
	if err := writeSystemMessages(&w, &sc, m["system"], "system"); err != nil {
		return nil, err
	}
	msgs := m["messages"]
	if !msgs.IsArray() || len(msgs.Array()) == 0 {
		return nil, invalid("messages", "messages: at least one message is required")
	}
	i, n := -1, len(msgs.Array())
	msgs.ForEach(func(_, msg gjson.Result) bool {
		i++
		err = writeOpenAIMessage(&w, &sc, i, msg, i == n-1)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	w.close(']')
	if mt.Exists() {
		w.kraw("max_completion_tokens", mt.Raw)
	}

	if s := m["stop_sequences"]; s.IsArray() && len(s.Array()) > 0 {
		w.kraw("stop", s.Raw)
	}
	for _, name := range []string{"temperature", "top_p"} {
		if v := m[name]; v.Type == gjson.Number {
			w.kraw(name, v.Raw)
		}
	}
	if err := writeOpenAITools(&w, &sc, m["tools"], m["tool_choice"]); err != nil {
		return nil, err
	}
	// output_config.format, or the deprecated output_format of the structured-outputs beta.
	format, formatParam := m["output_config"].Get("format"), "output_config.format"
	if !format.Exists() || format.Type == gjson.Null {
		format, formatParam = m["output_format"], "output_format"
	}
	if format.Exists() && format.Type != gjson.Null {
		if format.Get("type").String() != "json_schema" || !format.Get("schema").IsObject() {
			return nil, invalid(formatParam, "%s must be {\"type\":\"json_schema\",\"schema\":{…}}", formatParam)
		}
		w.key("response_format")
		w.open('{')
		w.kstr("type", "json_schema")
		w.key("json_schema")
		w.open('{')
		w.kstr("name", "output")
		w.kraw("schema", format.Get("schema").Raw)
		w.kraw("strict", "true")
		w.close('}')
		w.close('}')
	}
	meta := m["metadata"]
	if u := meta.Get("user_id"); u.Type == gjson.String && u.Str != "" {
		w.kraw("user", u.Raw)
	}
	// Clearbar's routing hints ride in metadata (clearbar_category, …) in both dialects; the
	// gateway reads them from the OpenAI metadata and no adapter forwards them.
	first := true
	meta.ForEach(func(k, v gjson.Result) bool {
		if strings.HasPrefix(k.Str, HintPrefix) && v.Type == gjson.String {
			if first {
				w.key("metadata")
				w.open('{')
				first = false
			}
			w.kraw(k.Str, v.Raw)
		}
		return true
	})
	if !first {
		w.close('}')
	}
	if m["stream"].Type == gjson.True {
		w.kraw("stream", "true")
		w.kraw("stream_options", `{"include_usage":true}`)
	}
	for _, p := range messagesParams {
		if v := m[p.name]; p.fate != translated && v.Exists() {
			sc.param(p.name, v.Raw)
		}
	}
	sc.write(&w, opt.Beta)
	w.close('}')
	return w.b, nil
}

// messagesParamNames are the names of messagesParams, for members.
var messagesParamNames = func() []string {
	names := make([]string, len(messagesParams))
	for i, p := range messagesParams {
		names[i] = p.name
	}
	return names
}()

// Anthropic's bounds on thinking.budget_tokens: at least minThinkingBudget, and less than
// max_tokens.
const minThinkingBudget = 1024

// checkThinking refuses a thinking setting Anthropic refuses, in its words: thinking must be
// an object; with type enabled, budget_tokens is an integer of at least 1024 and less than
// max_tokens (when the request has one: a count_tokens request has not). Other types
// (disabled, adaptive, …) are left to the upstream.
func checkThinking(th, maxTokens gjson.Result) error {
	switch {
	case !th.Exists() || th.Type == gjson.Null:
		return nil
	case !th.IsObject():
		return wrongType("thinking", "a valid dictionary")
	case th.Get("type").String() != "enabled":
		return nil
	}
	b := th.Get("budget_tokens")
	switch {
	case !b.Exists():
		return invalid("thinking.budget_tokens", "thinking.enabled.budget_tokens: Field required")
	case b.Type != gjson.Number || b.Num != float64(int64(b.Num)):
		return wrongType("thinking.budget_tokens", "a valid integer")
	case b.Num < minThinkingBudget:
		return invalid("thinking.budget_tokens", "thinking.enabled.budget_tokens: Input should be greater than or equal to %d", minThinkingBudget)
	case maxTokens.Type == gjson.Number && b.Num >= maxTokens.Num:
		return invalid("thinking.budget_tokens", "`max_tokens` must be greater than `thinking.budget_tokens`.")
	}
	return nil
}

// checkMetadata refuses metadata Anthropic refuses: anything but an object, or a member other
// than user_id and Clearbar's routing hints (metadata.clearbar_*).
func checkMetadata(meta gjson.Result) error {
	switch {
	case !meta.Exists() || meta.Type == gjson.Null:
		return nil
	case !meta.IsObject():
		return wrongType("metadata", "a valid dictionary")
	}
	var err error
	meta.ForEach(func(k, _ gjson.Result) bool {
		if k.Str != "user_id" && !strings.HasPrefix(k.Str, HintPrefix) {
			err = invalid("metadata."+k.Str, "metadata.%s: Extra inputs are not permitted", k.Str)
		}
		return err == nil
	})
	return err
}

// checkAnthropicTypes refuses the top-level parameters of a Messages request that have the
// wrong type or are out of Anthropic's range, as Anthropic does, naming the parameter:
// stream a boolean; stop_sequences an array of strings; tools an array; temperature and top_p
// numbers from 0 to 1 (Anthropic's range, narrower than OpenAI's 0 to 2 for temperature);
// top_k a non-negative integer.
func checkAnthropicTypes(m map[string]gjson.Result) error {
	if v := m["stream"]; v.Exists() && v.Type != gjson.Null && v.Type != gjson.True && v.Type != gjson.False {
		return wrongType("stream", "a valid boolean")
	}
	if v := m["stop_sequences"]; v.Exists() && v.Type != gjson.Null {
		if !v.IsArray() {
			return wrongType("stop_sequences", "a valid list")
		}
		var err error
		i := -1
		v.ForEach(func(_, s gjson.Result) bool {
			i++
			if s.Type != gjson.String {
				err = wrongType(fmt.Sprintf("stop_sequences.%d", i), "a valid string")
			}
			return err == nil
		})
		if err != nil {
			return err
		}
	}
	if v := m["tools"]; v.Exists() && v.Type != gjson.Null && !v.IsArray() {
		return wrongType("tools", "a valid list")
	}
	for _, name := range []string{"temperature", "top_p"} {
		v := m[name]
		switch {
		case !v.Exists() || v.Type == gjson.Null:
		case v.Type != gjson.Number:
			return wrongType(name, "a valid number")
		case v.Num < 0 || v.Num > 1:
			return invalid(name, "%s: Input should be between 0 and 1 (got %s)", name, v.Raw)
		}
	}
	if v := m["top_k"]; v.Exists() && v.Type != gjson.Null && (v.Type != gjson.Number || v.Num < 0 || v.Num != float64(int64(v.Num))) {
		return invalid("top_k", "top_k: Input should be a non-negative integer (got %s)", v.Raw)
	}
	return nil
}

// wrongType is the 400 for a parameter of the wrong JSON type, worded as Anthropic words it
// ("temperature: Input should be a valid number").
func wrongType(param, want string) error {
	return invalid(param, "%s: Input should be %s", param, want)
}

// writeSystemMessages writes a system prompt, or the content of a system message, as system
// messages: one for a string, one per text block for an array, each block's other members
// (cache_control) in its annotation. field names it in errors.
func writeSystemMessages(w *jw, sc *sidecarOut, sys gjson.Result, field string) error {
	switch {
	case !sys.Exists() || sys.Type == gjson.Null:
	case sys.Type == gjson.String:
		if sys.Str != "" {
			w.item()
			w.open('{')
			w.kstr("role", "system")
			w.kraw("content", sys.Raw)
			w.close('}')
			sc.message("")
		}
	case sys.IsArray():
		sc.systemBlocks = true
		var err error
		i := -1
		sys.ForEach(func(_, b gjson.Result) bool {
			i++
			if b.Get("type").String() != "text" {
				err = invalid(fmt.Sprintf("%s[%d].type", field, i), "system blocks must be text")
				return false
			}
			if b.Get("text").Type != gjson.String {
				err = wrongType(fmt.Sprintf("%s[%d].text", field, i), "a valid string")
				return false
			}
			w.item()
			w.open('{')
			w.kstr("role", "system")
			w.kraw("content", rawString(b.Get("text")))
			w.close('}')
			a := annotation{extra: extraMembers(b, "type", "text")}
			sc.message(a.String())
			return true
		})
		return err
	default:
		return invalid(field, "%s must be a string or an array of text blocks", field)
	}
	return nil
}

// writeOpenAIMessage writes one Anthropic message as OpenAI messages: tool_result blocks of a
// user message become tool messages (before the rest of the user message, as Anthropic puts
// them first); an assistant's tool_use blocks become tool_calls. What the OpenAI form has no
// place for goes into the messages' annotations in the sidecar: block members such as
// cache_control and citations, the thinking blocks of an assistant message and the order of
// its blocks.
func writeOpenAIMessage(w *jw, sc *sidecarOut, i int, msg gjson.Result, last bool) error {
	at := func(field string) string { return fmt.Sprintf("messages[%d]%s", i, field) }
	if !msg.IsObject() {
		return invalid(at(""), "each message must be an object")
	}
	var err error
	msg.ForEach(func(k, _ gjson.Result) bool {
		if k.Str != "role" && k.Str != "content" {
			err = invalid(at("."+k.Str), "%s: Extra inputs are not permitted", at("."+k.Str))
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	role := msg.Get("role").String()
	if role == "system" {
		// A system message inside the conversation, which Anthropic and its SDKs accept: a
		// system message in its place.
		return writeSystemMessages(w, sc, msg.Get("content"), at(".content"))
	}
	if role != "user" && role != "assistant" {
		return invalid(at(".role"), "%s: Input should be 'user', 'assistant' or 'system' (got %q)", at(".role"), role)
	}
	content := msg.Get("content")
	if (content.Type == gjson.String && content.Str == "" || content.IsArray() && len(content.Array()) == 0) && !(role == "assistant" && last) {
		// Anthropic's rule: an empty prefill is allowed, nothing else is.
		return invalid(at(".content"), "messages.%d: all messages must have non-empty content except for the optional final assistant message", i)
	}
	if content.Type == gjson.String {
		w.item()
		w.open('{')
		w.kstr("role", role)
		w.kraw("content", content.Raw)
		w.close('}')
		sc.message("")
		return nil
	}
	if !content.IsArray() {
		return invalid(at(".content"), "content must be a string or an array of content blocks")
	}
	var (
		parts, calls jw
		nParts       int
		nCalls       int
		ann          annotation
		// An assistant's text blocks are joined into one string, the form OpenAI answers
		// in, so that an assistant turn survives a round trip as it was; the annotation's
		// layout keeps where each block was, when there is more to keep than that string.
		text    strings.Builder
		hasText bool
		nTexts  int
		layout  bool
	)
	parts.open('[')
	calls.open('[')
	j := -1
	content.ForEach(func(_, b gjson.Result) bool {
		j++
		bat := at(fmt.Sprintf(".content[%d]", j))
		switch typ := b.Get("type").String(); typ {
		case "text":
			if t := b.Get("text"); t.Type != gjson.String {
				err = wrongType(bat+".text", "a valid string")
				return false
			}
			extra := extraMembers(b, "type", "text")
			if role == "assistant" {
				text.WriteString(b.Get("text").String())
				hasText = true
				nTexts++
				layout = layout || extra != "" || nTexts > 1 || nCalls > 0
				return true
			}
			parts.item()
			parts.open('{')
			parts.kstr("type", "text")
			parts.kraw("text", rawString(b.Get("text")))
			parts.close('}')
			nParts++
			ann.part(partExtra(extra))
		case "image":
			if role != "user" {
				err = invalid(bat+".type", "images can only be sent in user messages")
				return false
			}
			if st := b.Get("source.type").String(); st != "base64" && st != "url" {
				// An image from Anthropic's Files API (source file), which no URL can stand for.
				standIn(&parts, &ann, sc, b, bat)
				nParts++
				return true
			}
			var url string
			if url, err = imageURL(b.Get("source"), bat+".source"); err != nil {
				return false
			}
			parts.item()
			parts.open('{')
			parts.kstr("type", "image_url")
			parts.key("image_url")
			parts.open('{')
			parts.kstr("url", url)
			parts.close('}')
			parts.close('}')
			nParts++
			ann.part(partExtra(extraMembers(b, "type", "source")))
		case "document":
			if role != "user" {
				err = invalid(bat+".type", "documents can only be sent in user messages")
				return false
			}
			src := b.Get("source")
			switch st := src.Get("type").String(); {
			case st == "base64" && src.Get("media_type").String() == "application/pdf":
				parts.item()
				parts.open('{')
				parts.kstr("type", "file")
				parts.key("file")
				parts.open('{')
				parts.kstr("file_data", "data:application/pdf;base64,"+src.Get("data").String())
				if t := b.Get("title"); t.String() != "" {
					parts.kraw("filename", rawString(t))
				}
				parts.close('}')
				parts.close('}')
				ann.part(partExtra(extraMembers(b, "type", "source", "title")))
			case st == "text":
				parts.item()
				parts.open('{')
				parts.kstr("type", "text")
				parts.kraw("text", rawString(src.Get("data")))
				parts.close('}')
				// The OpenAI form holds the document as text; Anthropic gets it back whole.
				ann.part(`{"block":` + b.Raw + `}`)
			default:
				// A document by URL, from the Files API, of custom content, or another
				// type than PDF.
				standIn(&parts, &ann, sc, b, bat)
			}
			nParts++
		case "tool_use":
			if role != "assistant" {
				err = invalid(bat+".type", "tool_use blocks belong in assistant messages")
				return false
			}
			input := b.Get("input")
			args := "{}"
			if input.Exists() && input.Type != gjson.Null {
				args = input.Raw
			}
			calls.item()
			calls.open('{')
			calls.key("id")
			calls.toolID(b.Get("id"), anthropicToolIDPrefix, openAIToolIDPrefix)
			calls.kstr("type", "function")
			calls.key("function")
			calls.open('{')
			calls.kraw("name", rawString(b.Get("name")))
			calls.kstr("arguments", args)
			calls.close('}')
			calls.close('}')
			nCalls++
			layout = layout || extraMembers(b, "type", "id", "name", "input") != ""
		case "tool_result":
			if role != "user" {
				err = invalid(bat+".type", "tool_result blocks belong in user messages")
				return false
			}
			err = writeToolMessage(w, sc, b, bat)
			return err == nil
		case "thinking", "redacted_thinking":
			if role != "assistant" {
				err = invalid(bat+".type", "%s blocks belong in assistant messages", typ)
				return false
			}
			// The OpenAI format cannot hold thinking; the sidecar keeps the block, with its
			// signature, for an Anthropic upstream, which needs it back on tool-use turns.
			layout = true
		default:
			// A block of Anthropic's server tools (server_tool_use, web_search_tool_result,
			// …), a search result, or a block type newer than Clearbar: carried as it was
			// sent, for an Anthropic model, which checks it.
			if typ == "" {
				err = invalid(bat+".type", "%s.type: Field required", bat)
				return false
			}
			if role == "assistant" {
				layout = true
				sc.only(bat, fmt.Sprintf("%s (type %s)", bat, typ))
				return true
			}
			standIn(&parts, &ann, sc, b, bat)
			nParts++
		}
		return true
	})
	if err != nil {
		return err
	}
	parts.close(']')
	calls.close(']')
	if layout {
		ann.blocks = assistantLayout(content)
	}
	if nParts == 0 && nCalls == 0 && !hasText && !layout {
		return nil
	}
	w.item()
	w.open('{')
	w.kstr("role", role)
	w.key("content")
	switch {
	case hasText:
		w.str(text.String())
	case nParts > 0:
		w.raw(string(parts.b))
	case nCalls == 0:
		w.str("") // an assistant message of thinking alone
	default:
		w.null()
	}
	if nCalls > 0 {
		w.kraw("tool_calls", string(calls.b))
	}
	w.close('}')
	sc.message(ann.String())
	return nil
}

// assistantLayout returns the layout of an assistant message's content blocks (checked by
// writeOpenAIMessage): the sidecar's "blocks" entries, in order (see AnthropicKey).
func assistantLayout(content gjson.Result) []string {
	var entries []string
	content.ForEach(func(_, b gjson.Result) bool {
		var member, extra string
		switch b.Get("type").String() {
		case "text":
			member, extra = `"text":`+strconv.Itoa(len(b.Get("text").String())), extraMembers(b, "type", "text")
		case "tool_use":
			member, extra = `"tool_use":true`, extraMembers(b, "type", "id", "name", "input")
		default: // thinking, redacted_thinking
			entries = append(entries, `{"block":`+b.Raw+`}`)
			return true
		}
		if extra != "" {
			member += `,"extra":{` + extra + "}"
		}
		entries = append(entries, "{"+member+"}")
		return true
	})
	return entries
}

// writeToolMessage writes a tool_result block as a tool message. Its content is a string or
// text blocks. is_error has no OpenAI counterpart: an error result's content starts with
// ToolErrorPrefix, and the sidecar keeps is_error (and cache_control) for an Anthropic upstream.
func writeToolMessage(w *jw, sc *sidecarOut, b gjson.Result, at string) error {
	isError := b.Get("is_error").Type == gjson.True
	ann := annotation{extra: extraMembers(b, "type", "tool_use_id", "content")}
	w.item()
	w.open('{')
	w.kstr("role", "tool")
	w.key("tool_call_id")
	w.toolID(b.Get("tool_use_id"), anthropicToolIDPrefix, openAIToolIDPrefix)
	c := b.Get("content")
	switch {
	case c.Type == gjson.String && isError:
		w.kstr("content", ToolErrorPrefix+c.Str)
	case c.Type == gjson.String:
		w.kraw("content", c.Raw)
	case c.IsArray() && len(c.Array()) > 0:
		w.key("content")
		w.open('[')
		var err error
		k := -1
		c.ForEach(func(_, part gjson.Result) bool {
			k++
			if typ := part.Get("type").String(); typ != "text" {
				// An image, a document or a search result: OpenAI's tool messages hold text
				// only, so a text part stands in for it and the sidecar carries it.
				if typ == "" {
					err = invalid(fmt.Sprintf("%s.content[%d].type", at, k), "%s.content[%d].type: Field required", at, k)
					return false
				}
				standIn(w, &ann, sc, part, fmt.Sprintf("%s.content[%d]", at, k))
				return true
			}
			if part.Get("text").Type != gjson.String {
				err = wrongType(fmt.Sprintf("%s.content[%d].text", at, k), "a valid string")
				return false
			}
			w.item()
			w.open('{')
			w.kstr("type", "text")
			if k == 0 && isError {
				w.kstr("text", ToolErrorPrefix+part.Get("text").Str)
			} else {
				w.kraw("text", rawString(part.Get("text")))
			}
			w.close('}')
			ann.part(partExtra(extraMembers(part, "type", "text")))
			return true
		})
		if err != nil {
			return err
		}
		w.close(']')
	case isError:
		w.kstr("content", ToolErrorPrefix)
	default:
		w.kstr("content", "")
	}
	w.close('}')
	sc.message(ann.String())
	return nil
}

// standIn writes, as the next part in w, a text part standing in for the content block b at
// at, which the OpenAI form cannot hold, and has the sidecar carry the block whole (the part's
// {"block": …}) for an Anthropic model: the only kind that can take the request. The text is
// what the gateway reads of the block (its validators, token estimates and score routes): a
// search result's title and text, or the block's type in brackets.
func standIn(w *jw, ann *annotation, sc *sidecarOut, b gjson.Result, at string) {
	typ := b.Get("type").String()
	what := fmt.Sprintf("%s (type %s)", at, typ)
	if st := b.Get("source.type").String(); st != "" && (typ == "image" || typ == "document") {
		what = fmt.Sprintf("%s (type %s, source %s)", at, typ, st)
	}
	sc.only(at, what)
	var text strings.Builder
	if t := b.Get("title").String(); t != "" {
		text.WriteString(t)
	}
	b.Get("content").ForEach(func(_, c gjson.Result) bool {
		if c.Get("type").String() == "text" {
			if text.Len() > 0 {
				text.WriteString("\n\n")
			}
			text.WriteString(c.Get("text").String())
		}
		return true
	})
	if text.Len() == 0 {
		text.WriteString("[" + typ + "]")
	}
	w.item()
	w.open('{')
	w.kstr("type", "text")
	w.kstr("text", text.String())
	w.close('}')
	ann.part(`{"block":` + b.Raw + `}`)
}

// imageURL returns an image source as an OpenAI image URL: a data URL for base64 data.
func imageURL(src gjson.Result, at string) (string, error) {
	switch src.Get("type").String() {
	case "base64":
		media, data := src.Get("media_type").String(), src.Get("data").String()
		if media == "" || data == "" {
			return "", invalid(at, "a base64 image source needs media_type and data")
		}
		return "data:" + media + ";base64," + data, nil
	case "url":
		if u := src.Get("url").String(); u != "" {
			return u, nil
		}
		return "", invalid(at+".url", "a url image source needs a url")
	}
	return "", invalid(at+".type", "image source type %q cannot be sent to an OpenAI-format model (base64 and url can)", src.Get("type").String())
}

// writeOpenAITools writes Anthropic tools as function tools and tool_choice as OpenAI's; each
// tool's other members (cache_control, …) go into the sidecar. Server tools (web search, code
// execution, …) run inside Anthropic's API and cannot be offered to another model. A
// tool_choice that forces a tool (any, tool) without tools is the 400 Anthropic gives.
func writeOpenAITools(w *jw, sc *sidecarOut, tools, choice gjson.Result) error {
	if !tools.IsArray() || len(tools.Array()) == 0 {
		if typ := choice.Get("type").String(); choice.IsObject() && (typ == "any" || typ == "tool") {
			return invalid("tool_choice", "tool_choice may only be specified while providing tools.")
		}
		return nil
	}
	// A tool of Anthropic's own type (web search, code execution, computer use, …) has no
	// OpenAI form: the sidecar carries it, and the tool_choice as sent, to an Anthropic model.
	start := w.mark()
	w.key("tools")
	w.open('[')
	var err error
	nFn := 0
	native := map[string]bool{}
	var names []string // the function tools' names
	i := -1
	tools.ForEach(func(_, t gjson.Result) bool {
		i++
		if typ := t.Get("type").String(); typ != "" && typ != "custom" {
			if !t.IsObject() {
				err = invalid(fmt.Sprintf("tools[%d]", i), "tools[%d] must be an object", i)
				return false
			}
			native[t.Get("name").String()] = true
			sc.nativeTools = append(sc.nativeTools, fmt.Sprintf(`{"at":%d,"tool":%s}`, i, t.Raw))
			sc.only(fmt.Sprintf("tools[%d]", i), fmt.Sprintf("tools[%d] (type %s)", i, typ))
			return true
		}
		name := t.Get("name")
		if name.String() == "" {
			err = invalid(fmt.Sprintf("tools[%d].name", i), "tools[%d].name: Field required", i)
			return false
		}
		if !validToolName(name.String()) {
			err = invalid(fmt.Sprintf("tools[%d].name", i), "tools[%d].name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$' (got %q)", i, name.String())
			return false
		}
		names = append(names, name.String())
		w.item()
		w.open('{')
		w.kstr("type", "function")
		w.key("function")
		w.open('{')
		w.kraw("name", rawString(name))
		if d := t.Get("description"); d.String() != "" {
			w.kraw("description", rawString(d))
		}
		if s := t.Get("input_schema"); s.IsObject() {
			w.kraw("parameters", s.Raw)
		}
		if t.Get("strict").Type == gjson.True {
			w.kraw("strict", "true")
		}
		w.close('}')
		w.close('}')
		nFn++
		sc.tool(extraMembers(t, "name", "description", "input_schema", "strict"))
		return true
	})
	if err != nil {
		return err
	}
	w.close(']')
	if nFn == 0 {
		w.undo(start) // no tool has an OpenAI form
	}
	if !choice.IsObject() {
		return nil
	}
	typ := choice.Get("type").String()
	switch typ {
	case "auto", "any", "none", "tool":
	default:
		return invalid("tool_choice.type", "tool_choice type %q is not auto, any, tool or none", typ)
	}
	if name := choice.Get("name").String(); typ == "tool" && !native[name] && !slices.Contains(names, name) {
		return invalid("tool_choice.name", "tool_choice.name: %q is not the name of a tool in tools (%s)", name, strings.Join(append(names, slices.Sorted(maps.Keys(native))...), ", "))
	}
	if len(native) > 0 {
		sc.toolChoice = choice.Raw
		if nFn == 0 || typ == "tool" && native[choice.Get("name").String()] {
			return nil // the OpenAI form has no tool to choose
		}
	}
	switch typ {
	case "auto":
		w.kstr("tool_choice", "auto")
	case "any":
		w.kstr("tool_choice", "required")
	case "none":
		w.kstr("tool_choice", "none")
	case "tool":
		w.key("tool_choice")
		w.open('{')
		w.kstr("type", "function")
		w.key("function")
		w.open('{')
		w.kraw("name", rawString(choice.Get("name")))
		w.close('}')
		w.close('}')
	}
	if choice.Get("disable_parallel_tool_use").Type == gjson.True {
		w.kraw("parallel_tool_calls", "false")
	}
	return nil
}

// validToolName reports whether name is a tool name Anthropic takes: 1 to 128 letters, digits,
// underscores and hyphens.
func validToolName(name string) bool {
	if len(name) == 0 || len(name) > 128 {
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
