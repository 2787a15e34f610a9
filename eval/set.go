package eval

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

// Set is an eval set: the items of one JSON Lines file, in file order, with their checks bound
// to graders. A Set is read-only once loaded and safe for concurrent reads.
type Set struct {
	// File is the name the set was read from, for messages.
	File  string
	Items []*Item
	// Warnings are problems that do not stop a run but spoil what it measures, each as
	// "name:line: item "id": what is wrong": a reference the category's validators fail, so
	// that they flag every answer that matches it.
	Warnings []string
}

// Item is one case of an eval set: the request every candidate model answers and the graders
// that judge the answers.
type Item struct {
	// ID identifies the item; it is unique within its set, and a resumed run matches the
	// rows it already has by it.
	ID string
	// Line is the item's line in the set file.
	Line int
	// Request is sent to every candidate model. Its Body is an OpenAI chat completions body
	// whose model is the category's alias, clearbar/CATEGORY (each adapter sets the model id
	// it calls); it is shared by concurrent calls and must not be modified.
	Request *clearbar.Request
	// Prompt is the text of the request's last user message. Rows record it (and its hash),
	// and the replay provider matches a recorded answer on it.
	Prompt string
	// Reference is the expected answer, "" when the item gives none.
	Reference string
	// ReferenceToolCalls are the tool calls the item expects (reference_tool_calls), nil
	// when it gives none, and empty (not nil) when it expects the answer to call no tool
	// ("reference_tool_calls": []); without checks, they grade its answers (see ToolCalls),
	// beside the reference when it expects no call.
	ReferenceToolCalls []ExpectedCall
	// ToolCallStrings is how the item's tool-call graders (its reference_tool_calls and
	// tool_calls checks) compare the strings of an answer's arguments: exactly (the zero value)
	// or as the Berkeley Function Calling Leaderboard does ("tool_call_strings": "bfcl").
	ToolCallStrings ToolCallStrings
	// Graders grade every answer, in order; an answer passes when every one passes, except
	// the category's validators beside other graders, whose verdict is recorded and does not
	// count (see Extras.GradedBy). Loading gives each item at least one.
	Graders []Grader
	// Grading fingerprints what grades the item's answers: its reference and checks as the
	// set writes them, and the category's validators as the spec sets them when they are among
	// its graders (see gradingFingerprint). Rows record it, so that a resumed run knows which
	// rows were graded by checks or validators that have changed since.
	Grading string
}

// Env is what binding an eval set's checks to graders needs.
type Env struct {
	// Spec and Category are the spec and the category the set belongs to. Spec may be nil
	// for a set that uses only reference checks (exact, normalized, contains, regex, numeric).
	Spec     *spec.Spec
	Category *spec.Category
	// Checker runs the category's validators (the default grader); nil means the category's
	// validators are not available, so items need a reference or explicit checks.
	Checker *validate.Checker
	// Caller calls judge models, for judge checks and judge validators.
	Caller validate.Caller
}

// maxItemLine is the longest line an eval set may have (16 MiB, as for outcomes tables).
const maxItemLine = outcomes.MaxLineSize

// LoadSet reads an eval set file; see ReadSet.
func LoadSet(path string, env Env) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval set: %w", err)
	}
	defer f.Close()
	return ReadSet(f, path, env)
}

// ReadSet reads an eval set: JSON Lines, one item per line, blank lines and lines starting
// with # skipped. An item is
//
//	{"id": "q1",
//	 "messages": [OpenAI chat messages] or "prompt": "text",
//	 "reference": "the expected answer",
//	 "checks": [{"exact": "..."}, {"normalized": "..."}, {"contains": "..."}, {"regex": "..."},
//	            {"numeric": 42.5, "tolerance": 0.01}, {"judge": {"model": NAME, "rubric": "...",
//	            "threshold": 0.7}}, {"validators": true}],
//	 "tools": [...], "tool_choice": ..., "response_format": {...}}
//
// or, for tool calls, "reference_tool_calls": [{"name": "f", "arguments": {...}}] (or
// {"name": "f", "accept": {...}}) instead of "reference", and the check {"tool_calls": [...]};
// an empty list, [] (beside a reference, or as a check beside others), expects the answer to
// call no tool. "tool_call_strings": "bfcl" has them compare the arguments' strings as the
// Berkeley Function Calling Leaderboard does ("exact", the default, compares them exactly;
// see ToolCallStrings); only an item with reference_tool_calls or a tool_calls check may set it. The other check kinds are {"json": true} or {"json": {...}} and
// {"json_path": "a.b", "equals": ...}.
//
// id and one of messages and prompt are required; the rest is optional. tools, tool_choice and
// response_format are passed through to the models as written. Without checks, an answer is
// graded by a normalized match with the item's reference and by its reference_tool_calls,
// when it has them, else by the category's validators; with checks, by those checks only. The category's validators run on
// every answer: they grade it only when nothing else does (no reference or checks, or
// {"validators": true} as the only check); beside a reference or checks their verdict is
// recorded, not counted: the pass rate is the model's, and the validators' strength is
// assumed apart (assume.validator) and measured from those verdicts (validate calibrate).
// The check kinds are described on their graders: Exact, Normalized, Contains, Regex,
// Numeric, Judge and Validators.
//
// Unknown fields, duplicate ids and items that nothing could grade are errors. ReadSet
// reports every problem it finds, each as "name:line: item "id": what to change".
func ReadSet(r io.Reader, name string, env Env) (*Set, error) {
	set := &Set{File: name}
	var errs []string
	seen := map[string]int{}
	jsonText, firstJSONText := 0, (*Item)(nil)                  // items whose JSON reference is compared as text
	toolText, firstToolText, toolTextWhy := 0, (*Item)(nil), "" // items that offer tools and are graded by text
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxItemLine)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\ufeff")) // a byte order mark, as some editors write
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 || b[0] == '#' {
			continue
		}
		it, err := parseItem(b, line, env)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s:%d: %v", name, line, err))
			continue
		}
		if first, dup := seen[it.ID]; dup {
			errs = append(errs, fmt.Sprintf("%s:%d: item %q: the id is already used on line %d; give every item its own id", name, line, it.ID, first))
			continue
		}
		seen[it.ID] = line
		set.Items = append(set.Items, it)
		if w := referenceConflict(it); w != "" {
			set.Warnings = append(set.Warnings, fmt.Sprintf("%s:%d: item %q: %s", name, line, it.ID, w))
		}
		if w := textReferenceForTools(it); w != "" {
			if toolText == 0 {
				firstToolText, toolTextWhy = it, w
			}
			toolText++
		}
		if jsonAsText(it) {
			if jsonText == 0 {
				firstJSONText = it
			}
			jsonText++
		}
	}
	if toolText > 0 {
		set.Warnings = append(set.Warnings, fmt.Sprintf("%s:%d: %s: %s", name, firstToolText.Line, itemAndMore(firstToolText.ID, toolText-1), toolTextWhy))
	}
	if jsonText > 0 {
		set.Warnings = append(set.Warnings, fmt.Sprintf("%s:%d: %s: a JSON reference on an item that asks for JSON answers is compared as text, normalized (case, punctuation and spacing ignored, so that {\"intent\": \"REFUND\"} and even intent: refund match {\"intent\":\"refund\"}): add \"checks\": [{\"json\": true}] to compare the answers with the reference as JSON values", name, firstJSONText.Line, itemAndMore(firstJSONText.ID, jsonText-1)))
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("longer than %d MiB", maxItemLine>>20)
		}
		errs = append(errs, fmt.Sprintf("%s:%d: %v", name, line+1, err))
	}
	if len(errs) > 0 {
		const most = 20
		if len(errs) > most {
			errs = append(errs[:most], fmt.Sprintf("... and %d more", len(errs)-most))
		}
		return nil, errors.New(strings.Join(errs, "\n"))
	}
	if len(set.Items) == 0 {
		return nil, fmt.Errorf("%s: the eval set has no items: write one JSON object per line, like {\"id\": \"q1\", \"prompt\": \"...\", \"reference\": \"...\"}", name)
	}
	return set, nil
}

// referenceConflict says why the category's validators, run beside the checks of an item
// whose reference is a right answer, fail that answer (a reference without a field the
// schema requires, say): the answers are graded by the reference, but the validators' verdicts
// recorded beside, and the gateway's on such answers, are false alarms. A right answer is the
// reference when the item's checks compare the whole answer with it (the default normalised
// match, an exact one, {"json": true} or a json check of the same value, or json_path checks of
// a JSON reference) and it passes every one of them; without a reference, the value of a json
// check. "" when the validators pass it, or when the item is not graded that way (a tool-call
// reference, a reference that fails its own checks). Validators that call a model are not run
// for this.
func referenceConflict(it *Item) string {
	var vals *Validators
	var checks []Grader // the checks that compare the answer's text
	answer, what, shown := it.Reference, "reference", "reference"
	whole := false // a check compares the whole answer with the reference
	jsonRef := jsonReference(it.Reference)
	for _, g := range it.Graders {
		switch g := g.(type) {
		case *Validators:
			vals = g
		case ToolCalls:
			if !g.noCall() {
				return "" // the right answer is its tool calls
			}
		case Normalized:
			whole = whole || g.Want == it.Reference
		case Exact:
			whole = whole || g.Want == it.Reference
		case JSONEqual:
			whole = whole || it.Reference != ""
			if it.Reference == "" && answer == "" {
				answer, what, shown, whole = compactJSON(g.Want), "expected JSON", "expected JSON "+showJSON(g.Want), true
			}
		case JSONPath:
			whole = whole || jsonRef
		}
		switch g.(type) {
		case Exact, Normalized, Contains, Regex, Numeric, JSONEqual, JSONPath:
			checks = append(checks, g)
		}
	}
	if vals == nil || vals.Costly() || !whole || answer == "" {
		return ""
	}
	in := &Input{Item: it, Response: &clearbar.Response{Choices: []clearbar.Choice{{Text: answer, FinishReason: "stop"}}}}
	for _, g := range checks {
		if !g.Grade(context.Background(), in).Pass {
			return "" // not a right answer by the item's own checks
		}
	}
	v := vals.Grade(context.Background(), in)
	if v.Pass {
		return ""
	}
	return fmt.Sprintf("the category's validators fail the %s itself (%s), so they flag every answer that matches it (the gateway would too): make the %s an answer they pass", shown, v.Reason, what)
}

// textReferenceForTools says, for an item that offers tools (and does not forbid calling them)
// and is graded by a text reference or text checks, that an answer that calls a tool has no
// text to match them; "" otherwise.
func textReferenceForTools(it *Item) string {
	if len(it.Request.Tools) == 0 || it.Request.ToolChoice == "none" {
		return ""
	}
	text := false
	for _, g := range it.Graders {
		switch g.(type) {
		case ToolCalls:
			return ""
		case Exact, Normalized, Contains, Regex, Numeric, JSONEqual, JSONPath:
			text = true
		}
	}
	if !text {
		return ""
	}
	return "the item offers tools, and its reference or checks compare the answer's text: an answer that calls a tool has none, so it fails them; " + ToolCallsAdvice
}

// jsonAsText reports whether an item that asks for JSON answers (a response format of
// json_object or json_schema) has a JSON reference (an object or array) that its default
// check, a normalized match, compares as text.
func jsonAsText(it *Item) bool {
	if it.Reference == "" || (it.Request.ResponseFormat.Type != "json_object" && it.Request.ResponseFormat.Type != "json_schema") || !jsonReference(it.Reference) {
		return false
	}
	return slices.ContainsFunc(it.Graders, func(g Grader) bool { n, ok := g.(Normalized); return ok && n.Want == it.Reference })
}

// itemJSON is an item as written in the set file.
type itemJSON struct {
	ID             string            `json:"id"`
	Messages       json.RawMessage   `json:"messages"`
	Prompt         *string           `json:"prompt"`
	Reference      *string           `json:"reference"`
	ReferenceCalls json.RawMessage   `json:"reference_tool_calls"`
	ToolCallStrs   *string           `json:"tool_call_strings"`
	Checks         []json.RawMessage `json:"checks"`
	Tools          json.RawMessage   `json:"tools"`
	ToolChoice     json.RawMessage   `json:"tool_choice"`
	ResponseFormat json.RawMessage   `json:"response_format"`
}

// requestBody is the body built from an item: what the model sees.
type requestBody struct {
	Model          string          `json:"model"`
	Messages       json.RawMessage `json:"messages"`
	Tools          json.RawMessage `json:"tools,omitempty"`
	ToolChoice     json.RawMessage `json:"tool_choice,omitempty"`
	ResponseFormat json.RawMessage `json:"response_format,omitempty"`
}

type promptMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// parseItem reads one line of a set. Errors say what to change, without the file and line.
func parseItem(b []byte, line int, env Env) (*Item, error) {
	var in itemJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, itemJSONError(err)
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value on the line: write one item per line")
	}
	what := "item"
	if in.ID != "" {
		what = fmt.Sprintf("item %q", in.ID)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", what, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(in.ID) == "" {
		return nil, fail(`no id: give every item a unique "id" (a resumed run recognises finished items by it)`)
	}
	// The model is the category's alias, as a client of the gateway would write it; each
	// adapter replaces it with the model id it calls.
	alias := "clearbar/eval"
	if env.Category != nil {
		alias = "clearbar/" + env.Category.Name
	}
	body := requestBody{Model: alias, Messages: in.Messages, Tools: nullToEmpty(in.Tools), ToolChoice: nullToEmpty(in.ToolChoice), ResponseFormat: nullToEmpty(in.ResponseFormat)}
	switch {
	case len(nullToEmpty(in.Messages)) > 0 && in.Prompt != nil:
		return nil, fail(`both "messages" and "prompt": give one of them`)
	case in.Prompt != nil:
		msgs, err := json.Marshal([]promptMessage{{Role: "user", Content: *in.Prompt}})
		if err != nil {
			return nil, fail("%v", err)
		}
		body.Messages = msgs
	case len(nullToEmpty(in.Messages)) == 0:
		return nil, fail(`no "messages" or "prompt": give the request as OpenAI chat messages or as a prompt text`)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fail("%v", err)
	}
	req, err := gateway.DecodeChatRequest(raw, gateway.DefaultLimits)
	if err != nil {
		e := clearbar.AsError(err)
		if e.Param != "" {
			return nil, fail("%s: %s", e.Param, e.Message)
		}
		return nil, fail("%s", e.Message)
	}
	if !slices.ContainsFunc(req.Messages, func(m clearbar.Message) bool { return m.Role == "user" }) {
		return nil, fail("no user message: the request needs one for the model to answer (and for the outcomes table to record as the prompt)")
	}
	it := &Item{ID: in.ID, Line: line, Request: req, Prompt: req.LastUserText()}
	if in.Reference != nil {
		it.Reference = *in.Reference
	}
	var refCalls any // the expected calls as written, for the fingerprint
	if raw := nullToEmpty(in.ReferenceCalls); len(raw) > 0 {
		if len(in.Checks) > 0 {
			return nil, fail(`both "reference_tool_calls" and "checks", which alone grade an item that has them: give the expected calls as a check, {"tool_calls": [...]}, among the checks ({"tool_calls": []} for none)`)
		}
		calls, err := parseExpectedCalls(raw, `"reference_tool_calls"`)
		if err != nil {
			return nil, fail("%v", err)
		}
		if in.Reference != nil && len(calls) > 0 {
			// A text reference beside no call is the answer expected in text; beside calls,
			// it would have no text to match.
			return nil, fail(`both "reference" and "reference_tool_calls": give the expected text or the expected tool calls ("reference_tool_calls": [] beside a reference expects that text and no tool call)`)
		}
		it.ReferenceToolCalls = calls
		refCalls, _ = decodeJSON(raw)
	}
	if in.ToolCallStrs != nil {
		strs, err := parseToolCallStrings(*in.ToolCallStrs)
		if err != nil {
			return nil, fail("%v", err)
		}
		it.ToolCallStrings = strs
	}
	graders, err := bindChecks(in.Checks, it, in.Reference != nil, env)
	if err != nil {
		return nil, fail("%v", err)
	}
	if in.ToolCallStrs != nil && !slices.ContainsFunc(graders, func(g Grader) bool { _, ok := g.(ToolCalls); return ok }) {
		return nil, fail(`"tool_call_strings" says how the arguments of tool calls are compared, and the item has no tool-call reference: give the calls expected, "reference_tool_calls": [...] or a {"tool_calls": [...]} check, or leave it out`)
	}
	it.Graders = graders
	it.Grading = gradingFingerprint(in.Reference, refCalls, in.Checks, it.ToolCallStrings, graders)
	return it, nil
}

// gradingFingerprint returns a short hash of an item's reference and checks, each check with
// its keys sorted and its values compacted, how they compare tool-call strings when not
// exactly, and, when its graders include the category's
// validators (no checks, or {"validators": true}), of their settings (Validators.Settings):
// reformatting a line or the spec changes nothing, changing what a check or a validator wants
// does. An item graded without the validators hashes as it did before validators counted.
func gradingFingerprint(reference *string, toolCalls any, checks []json.RawMessage, strs ToolCallStrings, graders []Grader) string {
	canon := struct {
		Reference  *string          `json:"reference"`
		ToolCalls  any              `json:"reference_tool_calls,omitempty"`
		Strings    ToolCallStrings  `json:"tool_call_strings,omitempty"`
		Checks     []map[string]any `json:"checks"`
		Validators json.RawMessage  `json:"validators,omitempty"`
	}{Reference: reference, ToolCalls: toolCalls, Strings: strs}
	for _, g := range graders {
		if v, ok := g.(*Validators); ok {
			canon.Validators = v.Settings()
		}
	}
	for _, raw := range checks {
		var c map[string]any
		if json.Unmarshal(raw, &c) != nil {
			c = map[string]any{"": string(raw)} // bindChecks refused it; never reached
		}
		canon.Checks = append(canon.Checks, c)
	}
	b, _ := json.Marshal(canon)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// itemJSONError rewrites encoding/json's errors in the set format's terms.
func itemJSONError(err error) error {
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Errorf("unknown field %s: an item has id, messages or prompt, reference or reference_tool_calls, tool_call_strings, checks, tools, tool_choice and response_format", f)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Errorf(`the line is %s, but an item must be a JSON object: write one item per line, like {"id": "q1", "prompt": "...", "reference": "..."}`, outcomes.JSONKind(te.Value))
		}
		want := "a string"
		switch te.Field {
		case "checks":
			want = `an array, like "checks": [{"contains": "refund"}]`
		case "tool_call_strings":
			want = `"exact" (the default) or "bfcl"`
		}
		return fmt.Errorf("field %q is %s, but it must be %s", te.Field, outcomes.JSONKind(te.Value), want)
	}
	return fmt.Errorf("not a JSON object (%v): write one item per line", strings.TrimPrefix(msg, "json: "))
}

// nullToEmpty treats a JSON null as absent.
func nullToEmpty(b json.RawMessage) json.RawMessage {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	return b
}

// itemAndMore names an item a warning is about and how many more it is about: `item "q1"`,
// `item "q1" and 3 more`.
func itemAndMore(id string, more int) string {
	if more == 0 {
		return fmt.Sprintf("item %q", id)
	}
	return fmt.Sprintf("item %q and %d more", id, more)
}
