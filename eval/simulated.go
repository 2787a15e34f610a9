package eval

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/toolschema"
	"github.com/clearbar/clearbar/provider/simulated"
)

// simulatedAnswer fits an answer of the simulated provider to the item's reference checks
// (exact, normalized, contains, regex, numeric), and returns any other answer as it is.
//
// The simulator draws whether each answer is good with the spec's assumed pass rate and says
// so in the body, but its text is a stand-in that knows nothing of the item's expected answer:
// graded as it is, every answer would fail a reference, whatever the draw. So a good answer
// that fails a reference check is replaced by one that passes them all: the answer as it is
// with the expected words, numbers or a match of the pattern after it, or the reference alone
// (the item's reference when it passes every check). A bad answer that happens to pass them all
// is replaced by "I do not know.". The measured pass rate is then the assumed one. Of the
// answers that pass, those that keep the category's validators' verdict as the simulator drew
// it (accepting an answer it did not flag, failing one it did) come first, so that the verdict
// recorded beside the grade keeps measuring the validators' assumed strength where the checks
// allow it (an exact reference the validators accept cannot be failed by them). An item
// graded by the tool calls it expects is fitted by simulatedCalls, and one that expects no
// call by simulatedNoCall before its text is fitted; tool calls are otherwise left as they
// are.
func simulatedAnswer(it *Item, resp *clearbar.Response) *clearbar.Response {
	sim := simulationOf(resp)
	if len(resp.Choices) == 0 || sim == nil {
		return resp
	}
	if expectsNoCall(it) {
		var done bool
		if resp, done = simulatedNoCall(it, resp, sim); done {
			return resp
		}
	} else if slices.ContainsFunc(it.Graders, func(g Grader) bool { _, ok := g.(ToolCalls); return ok }) {
		return simulatedCalls(it, resp, sim)
	}
	if len(resp.Choices[0].ToolCalls) > 0 {
		return resp
	}
	var refs []Grader
	var validators *Validators // the category's, when they call no model
	for _, g := range it.Graders {
		switch g := g.(type) {
		case Exact, Normalized, Contains, Regex, Numeric, JSONEqual, JSONPath:
			refs = append(refs, g)
		case *Validators:
			if !g.Costly() {
				validators = g
			}
		}
	}
	if len(refs) == 0 {
		return resp
	}
	text := resp.Text()
	passes := func(answer string) bool {
		in := &Input{Item: it, Response: &clearbar.Response{Choices: []clearbar.Choice{{Text: answer}}}}
		for _, g := range refs {
			if !g.Grade(context.Background(), in).Pass {
				return false
			}
		}
		return true
	}
	var candidates []string
	if sim.Good {
		if passes(text) {
			return resp
		}
		expected := expectedParts(refs)
		parts := strings.Join(expected, " ")
		// A JSON answer takes the expected text as one of its values first, so that it
		// stays JSON, and valid, as the simulator drew it.
		candidates = append(jsonFits(refs, text), jsonCandidates(text, expected)...)
		candidates = append(candidates, it.Reference, strings.TrimSpace(text+" "+parts), parts)
		if validators != nil {
			valid := func(answer string) bool {
				in := &Input{Item: it, Response: &clearbar.Response{Choices: []clearbar.Choice{{Text: answer}}}}
				return validators.Grade(context.Background(), in).Pass
			}
			if drawn := !sim.Flagged; valid(text) == drawn {
				// Those that keep the validators' verdict on the drawn answer come first.
				slices.SortStableFunc(candidates, func(a, b string) int {
					return cmp.Compare(b2i(valid(a) != drawn), b2i(valid(b) != drawn))
				})
			}
		}
	} else {
		if !passes(text) {
			return resp
		}
		candidates = []string{"I do not know.", ""}
	}
	for _, c := range candidates {
		if (c != "" || !sim.Good) && passes(c) == sim.Good {
			out := *resp
			out.Choices = append([]clearbar.Choice(nil), resp.Choices...)
			out.Choices[0].Text = c
			return &out
		}
	}
	return resp
}

// jsonFits returns, for JSON reference checks, answers that pass them: the expected document
// of a json check, and the answer (or an empty object) with the expected value set at each
// json_path check's path, which keeps the rest of a JSON answer as the simulator drew it.
func jsonFits(refs []Grader, text string) []string {
	var out []string
	doc, why := answerJSON(text)
	if why != "" {
		doc = map[string]any{}
	}
	paths := false
	for _, g := range refs {
		switch g := g.(type) {
		case JSONEqual:
			out = append(out, compactJSON(g.Want))
		case JSONPath:
			if d, ok := setPath(doc, g.Path, g.Equals); ok {
				doc, paths = d, true
			}
		}
	}
	if paths {
		out = append([]string{compactJSON(doc)}, out...)
	}
	return out
}

// simulatedCalls fits a simulated answer to an item graded by the tool calls it expects, as
// simulatedAnswer fits text: a good answer that does not make the expected calls makes them
// (each accepted argument with the first value it may take), and a bad one that does makes
// them with no arguments, or makes no call. Of the answers that fit, those that keep the
// category's validators' verdict as the simulator drew it come first.
func simulatedCalls(it *Item, resp *clearbar.Response, sim *simulated.Simulation) *clearbar.Response {
	var refs []ToolCalls
	var validators *Validators
	for _, g := range it.Graders {
		switch g := g.(type) {
		case ToolCalls:
			refs = append(refs, g)
		case *Validators:
			if !g.Costly() {
				validators = g
			}
		}
	}
	answer := func(calls []clearbar.ToolCall, text string) *clearbar.Response {
		out := *resp
		out.Choices = append([]clearbar.Choice(nil), resp.Choices...)
		out.Choices[0].ToolCalls, out.Choices[0].Text = calls, text
		out.Choices[0].FinishReason = "stop"
		if len(calls) > 0 {
			out.Choices[0].FinishReason = "tool_calls"
		}
		return &out
	}
	passes := func(r *clearbar.Response) bool {
		in := &Input{Item: it, Response: r}
		for _, g := range refs {
			if !g.Grade(context.Background(), in).Pass {
				return false
			}
		}
		return true
	}
	if passes(resp) == sim.Good {
		return resp
	}
	var candidates []*clearbar.Response
	if sim.Good {
		candidates = append(candidates, answer(drawnCalls(refs[0].Want), ""))
	} else {
		empty := drawnCalls(refs[0].Want)
		for i := range empty {
			empty[i].Arguments = "{}"
		}
		candidates = append(candidates, answer(empty, ""), answer(nil, "I do not know."))
	}
	if validators != nil {
		drawn := !sim.Flagged
		valid := func(r *clearbar.Response) bool {
			return validators.Grade(context.Background(), &Input{Item: it, Response: r}).Pass
		}
		slices.SortStableFunc(candidates, func(a, b *clearbar.Response) int {
			return cmp.Compare(b2i(valid(a) != drawn), b2i(valid(b) != drawn))
		})
	}
	for _, c := range candidates {
		if passes(c) == sim.Good {
			return c
		}
	}
	return resp
}

// noCallText is the text of a good simulated answer to an item that expects no tool call,
// when the simulator's answer was a call and so has none.
const noCallText = "None of the tools offered fits this request, so I answer it without calling one."

// simulatedNoCall fits a simulated answer to an item that expects the answer to call no tool
// ("reference_tool_calls": [] or {"tool_calls": []}). The simulator calls the first function
// tool a request offers, whatever the draw, so every answer would fail such an item: a good
// answer that calls a tool answers in text instead (noCallText), and a bad one that calls
// none calls the first function tool offered, with arguments drawn from its parameters schema,
// as the simulator does. done reports that the answer is final: a bad answer that calls a
// tool fails the item whatever its text. Otherwise the answer, which calls no tool, is left
// for simulatedAnswer to fit to the item's text checks, if any (a bad answer to an item that
// offers no function tool can only fail those).
func simulatedNoCall(it *Item, resp *clearbar.Response, sim *simulated.Simulation) (_ *clearbar.Response, done bool) {
	calls := resp.Choices[0].ToolCalls
	switch {
	case sim.Good && len(calls) > 0:
		text := resp.Text()
		if strings.TrimSpace(text) == "" {
			text = noCallText
		}
		out := *resp
		out.Choices = append([]clearbar.Choice(nil), resp.Choices...)
		out.Choices[0].ToolCalls, out.Choices[0].Text, out.Choices[0].FinishReason = nil, text, "stop"
		return &out, false
	case sim.Good:
		return resp, false
	case len(calls) > 0:
		return resp, true
	}
	i := slices.IndexFunc(it.Request.Tools, func(t clearbar.Tool) bool { return t.Name != "" })
	if i < 0 {
		return resp, false
	}
	tool := it.Request.Tools[i]
	args, err := simulated.SampleJSON(toolschema.Normalize(tool.Parameters))
	if err != nil {
		args = []byte("{}")
	}
	out := *resp
	out.Choices = append([]clearbar.Choice(nil), resp.Choices...)
	out.Choices[0].ToolCalls = []clearbar.ToolCall{{ID: "call_sim_1", Name: tool.Name, Arguments: string(args)}}
	out.Choices[0].Text, out.Choices[0].FinishReason = "", "tool_calls"
	return &out, true
}

// judgedAsDrawn returns a simulated answer as a judge grader should see it: with its
// simulation record saying it fails validation exactly when the simulator drew it bad. The
// simulated judge scores an answer by that record, which on the gateway makes a judge
// validator detect bad answers and flag good ones at the category's assumed strength; an eval's
// judge grades the answer instead, so that it measures the pass rate, as reference checks do.
// Any other answer is returned as it is.
func judgedAsDrawn(resp *clearbar.Response) *clearbar.Response {
	sim := simulationOf(resp)
	if sim == nil || sim.Flagged == !sim.Good {
		return resp
	}
	var body map[string]json.RawMessage
	if json.Unmarshal(resp.Body, &body) != nil {
		return resp
	}
	drawn := *sim
	drawn.Flagged = !drawn.Good
	rec, err := json.Marshal(drawn)
	if err != nil {
		return resp
	}
	body["x_clearbar_simulation"] = rec
	b, err := json.Marshal(body)
	if err != nil {
		return resp
	}
	out := *resp
	out.Body = b
	return &out
}

// simulationOf returns the ground truth the simulated provider reports in an answer's body
// (x_clearbar_simulation), or nil for an answer of another provider.
func simulationOf(resp *clearbar.Response) *simulated.Simulation {
	var body struct {
		Sim *simulated.Simulation `json:"x_clearbar_simulation"`
	}
	if len(resp.Body) == 0 || json.Unmarshal(resp.Body, &body) != nil {
		return nil
	}
	return body.Sim
}

// jsonCandidates returns, for an answer that is a JSON object and a single expected text, the
// answer with each of its top-level string values in turn (by key) replaced by that text,
// unquoted: a reference check on a JSON answer usually wants a value of it.
func jsonCandidates(text string, expected []string) []string {
	var obj map[string]any
	if len(expected) != 1 || json.Unmarshal([]byte(text), &obj) != nil {
		return nil
	}
	want := strings.Trim(expected[0], `"`)
	var out []string
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if _, ok := obj[k].(string); !ok {
			continue
		}
		old := obj[k]
		obj[k] = want
		if b, err := json.Marshal(obj); err == nil {
			out = append(out, string(b))
		}
		obj[k] = old
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// expectedParts returns, for each reference check, text that passes it on its own.
func expectedParts(refs []Grader) []string {
	var parts []string
	for _, g := range refs {
		switch g := g.(type) {
		case Exact:
			parts = append(parts, g.Want)
		case Normalized:
			parts = append(parts, g.Want)
		case Contains:
			parts = append(parts, g.Want)
		case Numeric:
			parts = append(parts, strconv.FormatFloat(g.Want, 'f', -1, 64))
		case Regex:
			schema, _ := json.Marshal(map[string]string{"type": "string", "pattern": g.Pattern.String()})
			var s string
			if doc, err := simulated.SampleJSON(schema); err == nil && json.Unmarshal(doc, &s) == nil {
				parts = append(parts, s)
			}
		}
	}
	return parts
}
