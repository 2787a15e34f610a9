package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/clearbar/clearbar"
)

// ExpectedCall is one tool call a reference expects: the function's name and its arguments,
// either exactly (Arguments) or, as the Berkeley Function Calling Leaderboard writes its
// answers, with the values each argument may take (Accept).
type ExpectedCall struct {
	Name string
	// Arguments, when Accept is nil, are the call's arguments exactly: an object compared as
	// a JSON value (see jsonEqual), so that no argument may be missing or extra.
	Arguments map[string]any
	// Accept maps each argument the call may have to the values it may take, any one of
	// them; "" among them means the argument may be left out. An argument not in Accept may
	// not be given.
	Accept map[string][]any
}

// expectedCallJSON is an expected call as written.
type expectedCallJSON struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
	Accept    json.RawMessage `json:"accept"`
}

// toolCallsForm is how expected calls are written, for messages.
const toolCallsForm = `[{"name": "f", "arguments": {"x": 1}}], or with the values each argument may take, [{"name": "f", "accept": {"x": [1, 2], "unit": ["cm", ""]}}] ("" for an argument that may be left out)`

// parseExpectedCalls reads expected tool calls: an array of {"name", "arguments"} or
// {"name", "accept"} objects; an empty array (a non-nil, empty slice) expects no call. what
// names the field, for messages.
func parseExpectedCalls(raw json.RawMessage, what string) ([]ExpectedCall, error) {
	var calls []json.RawMessage
	if err := json.Unmarshal(raw, &calls); err != nil || calls == nil {
		return nil, fmt.Errorf("%s must be an array of the calls expected, like %s, or [] when the answer must call no tool", what, toolCallsForm)
	}
	out := make([]ExpectedCall, 0, len(calls))
	for i, c := range calls {
		var in expectedCallJSON
		dec := json.NewDecoder(bytes.NewReader(c))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return nil, fmt.Errorf("%s: call %d must be {\"name\": ..., \"arguments\": {...}} or {\"name\": ..., \"accept\": {...}} (%v)", what, i+1, strings.TrimPrefix(err.Error(), "json: "))
		}
		if strings.TrimSpace(in.Name) == "" {
			return nil, fmt.Errorf("%s: call %d has no \"name\": give the function's name", what, i+1)
		}
		in.Arguments, in.Accept = nullToEmpty(in.Arguments), nullToEmpty(in.Accept)
		ec := ExpectedCall{Name: in.Name}
		switch {
		case len(in.Arguments) > 0 && len(in.Accept) > 0:
			return nil, fmt.Errorf("%s: call %d (%s) has both \"arguments\" and \"accept\": give one of them", what, i+1, in.Name)
		case len(in.Accept) > 0:
			v, err := decodeJSON(in.Accept)
			obj, ok := v.(map[string]any)
			if err != nil || !ok {
				return nil, fmt.Errorf("%s: call %d (%s): \"accept\" must map each argument to the values it may take, like {\"x\": [1, 2], \"unit\": [\"cm\", \"\"]}", what, i+1, in.Name)
			}
			ec.Accept = map[string][]any{}
			for k, vals := range obj {
				list, ok := vals.([]any)
				if !ok || len(list) == 0 {
					return nil, fmt.Errorf("%s: call %d (%s): \"accept\": argument %q must list the values it may take, like [1, 2] (\"\" among them when it may be left out)", what, i+1, in.Name, k)
				}
				ec.Accept[k] = list
			}
		default:
			ec.Arguments = map[string]any{}
			if len(in.Arguments) > 0 {
				v, err := decodeJSON(in.Arguments)
				obj, ok := v.(map[string]any)
				if err != nil || !ok {
					return nil, fmt.Errorf("%s: call %d (%s): \"arguments\" must be an object, like {\"x\": 1} (a call's arguments are an object, not the string a model sends)", what, i+1, in.Name)
				}
				ec.Arguments = obj
			}
		}
		out = append(out, ec)
	}
	return out, nil
}

// ToolCalls passes an answer whose tool calls are the expected ones: as many calls, each
// matched with one expected call of the same function name whose arguments it has (see
// ExpectedCall), in any order, so that parallel calls are compared as a multiset. Arguments
// are compared as JSON values: numbers by value (5 and 5.0 are equal; "5" is a string),
// objects whatever their key order, strings exactly, or as Strings says (the item's
// "tool_call_strings"; see ToolCallStrings). With no expected call (Want empty,
// written "reference_tool_calls": [] or {"tool_calls": []}), it passes an answer that calls
// no tool, as the Berkeley Function Calling Leaderboard's irrelevance items expect of a model
// offered tools that do not fit the request.
type ToolCalls struct {
	Want []ExpectedCall
	// Strings is how the arguments' strings are compared; the zero value, exactly.
	Strings ToolCallStrings
}

// noCall reports whether the grader expects the answer to call no tool.
func (g ToolCalls) noCall() bool { return len(g.Want) == 0 }

// Name implements Grader.
func (g ToolCalls) Name() string {
	if g.noCall() {
		return "tool_calls none"
	}
	names := make([]string, len(g.Want))
	for i, c := range g.Want {
		names[i] = c.Name
	}
	return "tool_calls " + quote(strings.Join(names, ", "))
}

// Grade implements Grader.
func (g ToolCalls) Grade(_ context.Context, in *Input) Verdict {
	var got []clearbar.ToolCall
	if len(in.Response.Choices) > 0 {
		got = in.Response.Choices[0].ToolCalls
	}
	if g.noCall() {
		switch {
		case len(in.Response.Choices) == 0:
			return passFail(g.Name(), false, "the answer has no choice")
		case len(got) > 0:
			return passFail(g.Name(), false, fmt.Sprintf("the answer calls %s; the reference expects no tool call", callNames(got)))
		}
		return passFail(g.Name(), true, "")
	}
	if len(got) == 0 {
		return passFail(g.Name(), false, "the answer makes no tool call (its text is "+quote(strings.TrimSpace(in.Response.Text()))+")")
	}
	if len(got) != len(g.Want) {
		return passFail(g.Name(), false, fmt.Sprintf("the answer makes %d call(s) (%s), the reference %d", len(got), callNames(got), len(g.Want)))
	}
	args := make([]map[string]any, len(got))
	for i, c := range got {
		a, why := callArguments(c)
		if why != "" {
			return passFail(g.Name(), false, why)
		}
		args[i] = a
	}
	// match[i][j]: answer call i is expected call j. A perfect matching is searched for by
	// backtracking: calls are few, and values an expected call accepts may overlap another's.
	match := make([][]bool, len(got))
	for i := range got {
		match[i] = make([]bool, len(g.Want))
		for j, w := range g.Want {
			match[i][j] = got[i].Name == w.Name && argumentsDiffer(args[i], w, g.Strings) == ""
		}
	}
	used := make([]bool, len(g.Want))
	var assign func(i int) bool
	assign = func(i int) bool {
		if i == len(got) {
			return true
		}
		for j := range g.Want {
			if !used[j] && match[i][j] {
				used[j] = true
				if assign(i + 1) {
					return true
				}
				used[j] = false
			}
		}
		return false
	}
	if assign(0) {
		return passFail(g.Name(), true, "")
	}
	return passFail(g.Name(), false, g.mismatch(got, args))
}

// mismatch says why the answer's calls are not the expected ones: the first expected call no
// answer call matches, and how the first call of its name differs from it.
func (g ToolCalls) mismatch(got []clearbar.ToolCall, args []map[string]any) string {
	for _, w := range g.Want {
		var why string
		for i, c := range got {
			if c.Name != w.Name {
				continue
			}
			d := argumentsDiffer(args[i], w, g.Strings)
			if d == "" {
				why = "" // matched; another expected call is the one left over
				break
			}
			if why == "" {
				why = fmt.Sprintf("call %s: %s", w.Name, d)
			}
		}
		if why != "" {
			return why
		}
		if !slices.ContainsFunc(got, func(c clearbar.ToolCall) bool { return c.Name == w.Name }) {
			return fmt.Sprintf("the answer calls %s, not %s", callNames(got), w.Name)
		}
	}
	return fmt.Sprintf("the answer's calls (%s) are not the expected ones, one for one", callNames(got))
}

// argumentsDiffer says how a call's arguments differ from an expected call's, their strings
// compared as strs says, "" when they match.
func argumentsDiffer(got map[string]any, w ExpectedCall, strs ToolCallStrings) string {
	if w.Accept == nil {
		g, want := got, w.Arguments
		if strs != StringsExact {
			g, want = map[string]any{}, map[string]any{}
			for k, v := range got {
				g[k] = strs.standardize(v)
			}
			for k, v := range w.Arguments {
				want[k] = strs.standardize(v)
			}
		}
		if jsonEqual(g, want) {
			return ""
		}
		return jsonDifference(g, want, "")
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		vals, ok := w.Accept[k]
		if !ok {
			return fmt.Sprintf("argument %q is not one the reference accepts", k)
		}
		g := strs.standardize(got[k])
		if !slices.ContainsFunc(vals, func(v any) bool { return v != "" && jsonEqual(g, strs.standardize(v)) }) {
			return fmt.Sprintf("argument %q is %s, not one of %s", k, showJSON(got[k]), showJSON(vals))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(w.Accept)) {
		if _, ok := got[k]; !ok && !slices.Contains(w.Accept[k], any("")) {
			return fmt.Sprintf("argument %q is missing", k)
		}
	}
	return ""
}

// callArguments decodes a call's arguments, which must be a JSON object ("" is none).
func callArguments(c clearbar.ToolCall) (map[string]any, string) {
	if strings.TrimSpace(c.Arguments) == "" {
		return map[string]any{}, ""
	}
	v, err := decodeJSON([]byte(c.Arguments))
	obj, ok := v.(map[string]any)
	if err != nil || !ok {
		return nil, fmt.Sprintf("call %s: its arguments are not a JSON object: %s", c.Name, quote(c.Arguments))
	}
	return obj, ""
}

// callNames lists calls' function names, for messages.
func callNames(calls []clearbar.ToolCall) string {
	names := make([]string, len(calls))
	for i, c := range calls {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// drawnCalls returns calls that the expected ones accept: each with its arguments, or the
// first value each accepted argument may take (left out when it may only be left out).
func drawnCalls(want []ExpectedCall) []clearbar.ToolCall {
	out := make([]clearbar.ToolCall, len(want))
	for i, w := range want {
		args := w.Arguments
		if w.Accept != nil {
			args = map[string]any{}
			for k, vals := range w.Accept {
				if j := slices.IndexFunc(vals, func(v any) bool { return v != "" }); j >= 0 {
					args[k] = vals[j]
				}
			}
		}
		b, _ := json.Marshal(args)
		out[i] = clearbar.ToolCall{ID: fmt.Sprintf("call_ref_%d", i+1), Name: w.Name, Arguments: string(b)}
	}
	return out
}

// toolCallsInstead returns why, or, when the answer is tool calls with no text, says that a
// text or JSON reference cannot grade it: how to say what calls are expected, unless the
// item already expects no call, which such an answer rightly fails.
func toolCallsInstead(in *Input, why string) string {
	if len(in.Response.Choices) == 0 || len(in.Response.Choices[0].ToolCalls) == 0 || strings.TrimSpace(in.Response.Text()) != "" {
		return why
	}
	names := callNames(in.Response.Choices[0].ToolCalls)
	if in.Item != nil && expectsNoCall(in.Item) {
		return fmt.Sprintf("the answer is tool calls (%s), not text, and the item expects no tool call", names)
	}
	return fmt.Sprintf("the answer is tool calls (%s), which have no text to compare: %s", names, ToolCallsAdvice)
}

// ToolCallsAdvice says how to grade the answers of an item that offers tools by their calls,
// for messages.
const ToolCallsAdvice = `give the calls expected as "reference_tool_calls": [{"name": ..., "arguments": {...}}] (or a {"tool_calls": [...]} check), or, when the right answer calls no tool, "reference_tool_calls": [] beside the reference (or a {"tool_calls": []} check beside the checks), which fails an answer that calls one`

// expectsNoCall reports whether an item is graded by a check that its answers call no tool
// ("reference_tool_calls": [] or {"tool_calls": []}).
func expectsNoCall(it *Item) bool {
	return slices.ContainsFunc(it.Graders, func(g Grader) bool { tc, ok := g.(ToolCalls); return ok && tc.noCall() })
}

var _ Grader = ToolCalls{}

// ToolCallsGradedAsText counts the rows of the set's items whose answers are tool calls with
// no text and whose item is graded by a text reference or text checks, which such an answer
// fails for having no text (see textReferenceForTools).
func ToolCallsGradedAsText(set *Set, rows []Record) int {
	items := map[string]*Item{}
	for _, it := range set.Items {
		items[it.ID] = it
	}
	n := 0
	for _, r := range rows {
		it := items[r.Item]
		if it == nil || r.Error != "" || len(r.ToolCalls) == 0 || strings.TrimSpace(r.Response) != "" {
			continue
		}
		if textReferenceForTools(it) != "" {
			n++
		}
	}
	return n
}
