package gemini

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/internal/jsonstr"
	"github.com/clearbar/clearbar/provider/internal/inflight"
	"github.com/tidwall/gjson"
)

// callOut is a functionCall part in OpenAI terms.
type callOut struct {
	id, name string
	// args is the call's args as compact JSON ("{}" when Gemini sent none).
	args []byte
	sig  string
}

// partsOut is what a candidate's parts say, in OpenAI terms.
type partsOut struct {
	// text is the non-thought text, joined; rawText is the JSON token of the only text part
	// when there is exactly one (it can be copied as it is), "" otherwise.
	text      strings.Builder
	rawText   string
	nText     int
	reasoning strings.Builder
	calls     []callOut
	// textSig is the last thought signature found on a part that is not a function call.
	textSig string
}

// readParts reads a candidate's content.parts. Parts Gemini sends only for features the adapter
// does not ask for (inlineData from image models, executableCode, codeExecutionResult) are
// dropped.
func (p *Provider) readParts(parts gjson.Result, out *partsOut) {
	parts.ForEach(func(_, pt gjson.Result) bool {
		var text, fc, sig gjson.Result
		thought := false
		pt.ForEach(func(k, v gjson.Result) bool {
			switch k.Str {
			case "text":
				text = v
			case "thought":
				thought = v.Type == gjson.True
			case "thoughtSignature":
				sig = v
			case "functionCall":
				fc = v
			}
			return true
		})
		switch {
		case fc.IsObject():
			c := callOut{id: fc.Get("id").Str, name: strings.Clone(fc.Get("name").Str), args: []byte("{}"), sig: strings.Clone(sig.Str)}
			if c.id == "" {
				c.id = p.newID("call_")
			} else {
				c.id = strings.Clone(c.id)
			}
			if args := fc.Get("args"); args.IsObject() {
				c.args = compact(args.Raw)
			}
			p.sigs.put(c.id, c.sig)
			out.calls = append(out.calls, c)
			return true
		case thought:
			out.reasoning.WriteString(text.Str)
		case text.Type == gjson.String:
			out.nText++
			out.rawText = text.Raw
			out.text.WriteString(text.Str)
		}
		if sig.Str != "" {
			out.textSig = strings.Clone(sig.Str)
		}
		return true
	})
	if out.nText != 1 {
		out.rawText = ""
	}
}

// appendContent appends the text as a JSON string (the raw token when there is one).
func (o *partsOut) appendContent(b []byte) []byte {
	if o.rawText != "" {
		return append(b, o.rawText...)
	}
	return jsonstr.Append(b, o.text.String())
}

// appendCall appends a tool call in OpenAI's shape, with its index when index >= 0 (stream
// deltas) and its thought signature in extra_content.
func appendCall(b []byte, c callOut, index int) []byte {
	b = append(b, '{')
	if index >= 0 {
		b = append(b, `"index":`...)
		b = strconv.AppendInt(b, int64(index), 10)
		b = append(b, ',')
	}
	b = append(b, `"id":`...)
	b = jsonstr.Append(b, c.id)
	b = append(b, `,"type":"function","function":{"name":`...)
	b = jsonstr.Append(b, c.name)
	b = append(b, `,"arguments":`...)
	b = jsonstr.Append(b, view(c.args))
	b = append(b, '}')
	if c.sig != "" {
		b = appendSignature(b, c.sig)
	}
	return append(b, '}')
}

// appendSignature appends `,"extra_content":{"google":{"thought_signature":sig}}`.
func appendSignature(b []byte, sig string) []byte {
	b = append(b, `,"extra_content":{"google":{"thought_signature":`...)
	b = jsonstr.Append(b, sig)
	return append(b, "}}"...)
}

// finish is a Gemini finish reason in OpenAI terms: the finish_reason, or a failure.
type finish struct {
	reason string
	class  clearbar.FailureClass
}

// mapFinish maps a finish reason; called says the candidate made function calls.
func mapFinish(r string, called bool) finish {
	switch r {
	case "", "STOP", "FINISH_REASON_UNSPECIFIED":
		if called {
			return finish{reason: "tool_calls"}
		}
		return finish{reason: "stop"}
	case "MAX_TOKENS":
		return finish{reason: "length"}
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return finish{reason: "content_filter", class: clearbar.ContentPolicy}
	case "MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS", "OTHER", "NO_IMAGE", "IMAGE_OTHER":
		return finish{reason: "stop", class: clearbar.BadResponse}
	case "LANGUAGE", "MISSING_THOUGHT_SIGNATURE":
		return finish{reason: "stop", class: clearbar.ClientError}
	}
	if called {
		return finish{reason: "tool_calls"}
	}
	return finish{reason: "stop"}
}

// finishError is the error for a candidate that stopped on a failure.
func (a *attempt) finishError(f finish, reason string, cand gjson.Result, status int) *clearbar.Error {
	var msg string
	switch f.class {
	case clearbar.ContentPolicy:
		msg = "Gemini stopped the answer on content-policy grounds (finish reason " + reason + blockedCategories(cand.Get("safetyRatings")) + ")"
	case clearbar.ClientError:
		msg = "Gemini could not answer this request (finish reason " + reason + ")"
	default:
		msg = "Gemini could not finish the answer (finish reason " + reason + ")"
	}
	if m := cand.Get("finishMessage").Str; m != "" {
		msg += ": " + a.p.redact(m)
	}
	e := a.Fail(f.class, status, inflight.Truncate(msg, maxMessage), nil)
	if f.class == clearbar.ContentPolicy {
		e.Code = "content_filter"
	}
	return e
}

// promptBlocked is the error for a prompt Gemini refused (promptFeedback.blockReason).
func (a *attempt) promptBlocked(feedback gjson.Result, status int) *clearbar.Error {
	msg := "Gemini blocked the prompt on content-policy grounds (block reason " + feedback.Get("blockReason").Str +
		blockedCategories(feedback.Get("safetyRatings")) + ")"
	if m := feedback.Get("blockReasonMessage").Str; m != "" {
		msg += ": " + a.p.redact(m)
	}
	e := a.Fail(clearbar.ContentPolicy, status, inflight.Truncate(msg, maxMessage), nil)
	e.Code = "content_filter"
	return e
}

// blockedCategories lists the harm categories whose rating says blocked, as ": A, B".
func blockedCategories(ratings gjson.Result) string {
	var cats []string
	ratings.ForEach(func(_, r gjson.Result) bool {
		if r.Get("blocked").Type == gjson.True {
			cats = append(cats, r.Get("category").Str)
		}
		return true
	})
	if len(cats) == 0 {
		return ""
	}
	return ": " + strings.Join(cats, ", ")
}

// parseUsage reads usageMetadata in OpenAI's accounting, in one pass over its keys.
func parseUsage(u gjson.Result) clearbar.Usage {
	var prompt, toolUse, candidates, cached, thoughts int
	u.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "promptTokenCount":
			prompt = int(v.Int())
		case "toolUsePromptTokenCount":
			toolUse = int(v.Int())
		case "candidatesTokenCount":
			candidates = int(v.Int())
		case "cachedContentTokenCount":
			cached = int(v.Int())
		case "thoughtsTokenCount":
			thoughts = int(v.Int())
		}
		return true
	})
	return clearbar.Usage{PromptTokens: prompt + toolUse, CompletionTokens: candidates + thoughts, CachedTokens: cached, ReasoningTokens: thoughts}
}

// groundingQueries returns the number of Google Search queries a candidate's answer was
// grounded in (groundingMetadata.webSearchQueries).
func groundingQueries(c gjson.Result) int {
	return len(c.Get("groundingMetadata.webSearchQueries").Array())
}

// countSearches adds a call's grounding queries to its usage: WebSearches the queries, and
// one grounded prompt when there were any. Gemini 2.x bills a grounded prompt, Gemini 3 each
// query (the price catalogue says which, catalog.Entry.WebSearchPerQuery). Gemini's free
// daily allowance of grounded prompts is not known to Clearbar: every one is priced.
func countSearches(u *clearbar.Usage, queries int) {
	if queries <= 0 {
		return
	}
	u.WebSearches += queries
	u.GroundedPrompts = 1
}

// candidateFields are the parts of a candidate the translation reads, found in one pass.
type candidateFields struct {
	parts, finishReason, index, grounding gjson.Result
}

func readCandidate(c gjson.Result) candidateFields {
	var f candidateFields
	c.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "content":
			f.parts = v.Get("parts")
		case "finishReason":
			f.finishReason = v
		case "index":
			f.index = v
		case "groundingMetadata":
			f.grounding = v
		}
		return true
	})
	return f
}

// grounded reports whether a candidate's groundingMetadata ties text to sources
// (groundingSupports), so that it makes annotations.
func grounded(g gjson.Result) bool {
	return len(g.Get("groundingSupports").Array()) > 0
}

// appendAnnotations appends the annotations array of a candidate grounded with Google Search,
// made from its groundingMetadata: for each of groundingSupports, one url_citation {url,
// title, start_index, end_index} per source it names (groundingChunkIndices into
// groundingChunks, web.uri and web.title), spanning its segment of text, the candidate's
// content. Gemini gives a segment's startIndex (0 when absent) and endIndex in bytes of UTF-8;
// OpenAI's indices count characters, Unicode code points (end exclusive), so they are counted
// in text. A segment whose indices do not hold its text (they may count from the start of its
// part, partIndex) is found by its text; one found neither way, and sources that are not web
// pages, make none. ok is false, and b unchanged, when there are none.
func appendAnnotations(b []byte, g gjson.Result, text string) (_ []byte, ok bool) {
	chunks := g.Get("groundingChunks").Array()
	type span struct {
		url        string
		start, end int
	}
	var seen []span
	n := len(b)
	b = append(b, '[')
	g.Get("groundingSupports").ForEach(func(_, s gjson.Result) bool {
		seg := s.Get("segment")
		start, end := int(seg.Get("startIndex").Int()), int(seg.Get("endIndex").Int())
		segText := seg.Get("text").String()
		switch {
		case 0 <= start && start <= end && end <= len(text) && (segText == "" || text[start:end] == segText):
		case segText != "" && strings.Contains(text, segText):
			start = strings.Index(text, segText)
			end = start + len(segText)
		default:
			return true
		}
		if start == end {
			return true
		}
		rs := utf8.RuneCountInString(text[:start])
		re := rs + utf8.RuneCountInString(text[start:end])
		s.Get("groundingChunkIndices").ForEach(func(_, ci gjson.Result) bool {
			k := int(ci.Int())
			if k < 0 || k >= len(chunks) {
				return true
			}
			web := chunks[k].Get("web")
			url := web.Get("uri").String()
			if url == "" {
				return true
			}
			sp := span{url, rs, re}
			for _, have := range seen {
				if have == sp {
					return true
				}
			}
			seen = append(seen, sp)
			if len(seen) > 1 {
				b = append(b, ',')
			}
			b = append(b, `{"type":"url_citation","url_citation":{"end_index":`...)
			b = strconv.AppendInt(b, int64(re), 10)
			b = append(b, `,"start_index":`...)
			b = strconv.AppendInt(b, int64(rs), 10)
			b = append(b, `,"title":`...)
			b = jsonstr.Append(b, web.Get("title").String())
			b = append(b, `,"url":`...)
			b = jsonstr.Append(b, url)
			b = append(b, "}}"...)
			return true
		})
		return true
	})
	if len(seen) == 0 {
		return b[:n], false
	}
	return append(b, ']'), true
}

// appendUsage appends an OpenAI usage object.
func appendUsage(b []byte, u clearbar.Usage) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(u.PromptTokens), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CompletionTokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(u.Total()), 10)
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CachedTokens), 10)
	b = append(b, `},"completion_tokens_details":{"reasoning_tokens":`...)
	b = strconv.AppendInt(b, int64(u.ReasoningTokens), 10)
	return append(b, "}}"...)
}

// parseResponse translates a 2xx generateContent answer into a chat completion. An answer
// nested more than jsonguard.MaxDepth levels deep is BadResponse (see jsonFailure).
func (p *Provider) parseResponse(a *attempt, resp *http.Response, data []byte) (*clearbar.Response, error) {
	status := resp.StatusCode
	if msg := jsonFailure(data, "the answer"); msg != "" {
		return nil, a.Fail(clearbar.BadResponse, status, msg, nil)
	}
	root := gjson.Parse(view(data))
	if !root.IsObject() {
		if parseErrorBody(data).found {
			return nil, p.upstreamError(a, status, resp.Header, data)
		}
		return nil, a.Fail(clearbar.BadResponse, status, "the answer is not a JSON object", nil)
	}
	var cands, feedback, usage, errv gjson.Result
	var id, model string
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "candidates":
			cands = v
		case "promptFeedback":
			feedback = v
		case "usageMetadata":
			usage = v
		case "responseId":
			id = v.Str
		case "modelVersion":
			model = v.Str
		case "error":
			errv = v
		}
		return true
	})
	if errv.Exists() && errv.Type != gjson.Null {
		return nil, p.upstreamError(a, status, resp.Header, data)
	}
	n := len(cands.Array())
	if n == 0 {
		if feedback.Get("blockReason").Str != "" {
			e := a.promptBlocked(feedback, status)
			if usage.IsObject() {
				e.Usage = parseUsage(usage) // the prompt's tokens are billed
			}
			return nil, e
		}
		return nil, a.Fail(clearbar.BadResponse, status, "the answer has no candidates", nil)
	}
	r := &clearbar.Response{ID: strings.Clone(strings.ToValidUTF8(id, "\uFFFD")), Model: strings.Clone(strings.ToValidUTF8(model, "\uFFFD"))}
	if r.ID == "" {
		r.ID = p.newID("chatcmpl-")
	}
	if r.Model == "" {
		r.Model = a.Call.Model
	}
	r.UpstreamRequestID = r.ID

	b := make([]byte, 0, len(data)/2+256)
	b = append(b, `{"id":`...)
	b = jsonstr.Append(b, r.ID)
	b = append(b, `,"object":"chat.completion","created":`...)
	b = strconv.AppendInt(b, p.now().Unix(), 10)
	b = append(b, `,"model":`...)
	b = jsonstr.Append(b, r.Model)
	b = append(b, `,"choices":[`...)
	var firstFailure *clearbar.Error
	failed := 0
	for i, c := range cands.Array() {
		cf := readCandidate(c)
		var po partsOut
		p.readParts(cf.parts, &po)
		idx := i
		if cf.index.Exists() {
			idx = int(cf.index.Int())
		}
		reason := cf.finishReason.Str
		f := mapFinish(reason, len(po.calls) > 0)
		if f.class != clearbar.OK {
			failed++
			if firstFailure == nil {
				firstFailure = a.finishError(f, reason, c, status)
			}
			if f.class != clearbar.ContentPolicy {
				f.reason = "stop"
			}
		}
		ch := clearbar.Choice{Index: idx, Text: po.text.String(), FinishReason: f.reason}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, int64(idx), 10)
		b = append(b, `,"message":{"role":"assistant","content":`...)
		if po.nText == 0 && len(po.calls) > 0 {
			b = append(b, "null"...)
		} else {
			b = po.appendContent(b)
		}
		b = append(b, `,"refusal":null`...)
		if grounded(cf.grounding) {
			n := len(b)
			var ok bool
			if b, ok = appendAnnotations(append(b, `,"annotations":`...), cf.grounding, ch.Text); !ok {
				b = b[:n]
			}
		}
		if po.reasoning.Len() > 0 {
			b = append(b, `,"reasoning_content":`...)
			b = jsonstr.Append(b, po.reasoning.String())
		}
		if len(po.calls) > 0 {
			b = append(b, `,"tool_calls":[`...)
			for k, call := range po.calls {
				if k > 0 {
					b = append(b, ',')
				}
				b = appendCall(b, call, -1)
				ch.ToolCalls = append(ch.ToolCalls, clearbar.ToolCall{ID: call.id, Name: call.name, Arguments: string(call.args)})
			}
			b = append(b, ']')
		}
		if po.textSig != "" {
			b = appendSignature(b, po.textSig)
		}
		b = append(b, `},"logprobs":null,"finish_reason":`...)
		b = jsonstr.Append(b, f.reason)
		b = append(b, '}')
		r.Choices = append(r.Choices, ch)
	}
	if failed == n {
		if usage.IsObject() {
			firstFailure.Usage = parseUsage(usage) // a blocked answer is still billed
		}
		return nil, firstFailure
	}
	b = append(b, ']')
	if usage.IsObject() {
		r.Usage, r.HasUsage = parseUsage(usage), true
		searches := 0
		for _, c := range cands.Array() {
			searches += groundingQueries(c)
		}
		countSearches(&r.Usage, searches)
		b = append(b, `,"usage":`...)
		b = appendUsage(b, r.Usage)
	}
	r.Body = append(b, '}')
	return r, nil
}

// checkStreamType rejects a 2xx answer to a stream request that is plainly not an event stream:
// JSON (Gemini's answer without alt=sse, or an error object) or HTML (a proxy page).
func (p *Provider) checkStreamType(a *attempt, resp *http.Response) *clearbar.Error {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "application/json" && mt != "text/html" {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	if err != nil {
		return a.TransportError(err, "reading the answer")
	}
	if f := parseErrorBody(data); f.found {
		return p.upstreamError(a, resp.StatusCode, resp.Header, data)
	}
	return a.Fail(clearbar.BadResponse, resp.StatusCode, "the provider answered a stream request with "+mt+", not an event stream", nil)
}

// jsonFailure checks the JSON of an answer or a stream chunk or event (what names it) before
// gjson reads it: "" when it is valid and nested at most jsonguard.MaxDepth levels deep
// (deeper nesting would exhaust the stack of gjson's validator and end the process), else the
// failure in jsonguard.Describe's words.
func jsonFailure(data []byte, what string) string {
	return jsonguard.Describe(jsonguard.Check(data), what)
}
