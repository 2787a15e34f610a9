package eval

import (
	"context"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

func callsAnswer(calls ...clearbar.ToolCall) *Input {
	return &Input{Item: &Item{ID: "x"}, Response: &clearbar.Response{Choices: []clearbar.Choice{{ToolCalls: calls, FinishReason: "tool_calls"}}}}
}

func call(name, args string) clearbar.ToolCall {
	return clearbar.ToolCall{ID: "c", Name: name, Arguments: args}
}

// TestToolCallsGrader: the answer's calls are matched with the expected ones by function name
// and arguments compared as JSON values (numbers by value, key order ignored), parallel calls
// in any order; BFCL's accepted values, "" for an argument that may be left out.
func TestToolCallsGrader(t *testing.T) {
	exact, err := parseExpectedCalls([]byte(`[{"name": "area", "arguments": {"base": 10, "dims": {"h": 5, "w": 2.5}}}]`), "t")
	if err != nil {
		t.Fatal(err)
	}
	accept, err := parseExpectedCalls([]byte(`[{"name": "area", "accept": {"base": [10], "height": [5], "unit": ["units", ""]}}]`), "t")
	if err != nil {
		t.Fatal(err)
	}
	parallel, err := parseExpectedCalls([]byte(`[{"name": "play", "arguments": {"artist": "Taylor Swift", "duration": 20}}, {"name": "play", "arguments": {"artist": "Maroon 5", "duration": 15}}]`), "t")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		want   []ExpectedCall
		in     *Input
		pass   bool
		reason string
	}{
		{"numbers by value, keys in any order", exact, callsAnswer(call("area", `{"dims": {"w": 2.50, "h": 5.0}, "base": 1e1}`)), true, ""},
		{"a number as a string", exact, callsAnswer(call("area", `{"base": "10", "dims": {"h": 5, "w": 2.5}}`)), false, `"base" is "10"`},
		{"an extra argument", exact, callsAnswer(call("area", `{"base": 10, "dims": {"h": 5, "w": 2.5}, "x": 1}`)), false, `has key "x"`},
		{"another function", exact, callsAnswer(call("volume", `{}`)), false, "calls volume, not area"},
		{"accepted values, optional left out", accept, callsAnswer(call("area", `{"height": 5, "base": 10}`)), true, ""},
		{"accepted values, optional given", accept, callsAnswer(call("area", `{"height": 5, "base": 10, "unit": "units"}`)), true, ""},
		{"a value not accepted", accept, callsAnswer(call("area", `{"height": 5, "base": 10, "unit": "cm"}`)), false, `"unit" is "cm"`},
		{"a required argument missing", accept, callsAnswer(call("area", `{"base": 10}`)), false, `"height" is missing`},
		{"arguments not JSON", accept, callsAnswer(call("area", `{base:`)), false, "not a JSON object"},
		{"parallel calls in another order", parallel, callsAnswer(call("play", `{"artist": "Maroon 5", "duration": 15}`), call("play", `{"duration": 20, "artist": "Taylor Swift"}`)), true, ""},
		{"parallel calls, one twice", parallel, callsAnswer(call("play", `{"artist": "Maroon 5", "duration": 15}`), call("play", `{"artist": "Maroon 5", "duration": 15}`)), false, ""},
		{"fewer calls", parallel, callsAnswer(call("play", `{"artist": "Maroon 5", "duration": 15}`)), false, "makes 1 call(s)"},
		{"no call", exact, &Input{Item: &Item{}, Response: &clearbar.Response{Choices: []clearbar.Choice{{Text: "It is 25."}}}}, false, "makes no tool call"},
	} {
		v := ToolCalls{Want: tt.want}.Grade(context.Background(), tt.in)
		if v.Pass != tt.pass || !strings.Contains(v.Reason, tt.reason) {
			t.Errorf("%s: pass %v (%s); want %v, a reason with %q", tt.name, v.Pass, v.Reason, tt.pass, tt.reason)
		}
	}
}

// TestReadSetToolCalls: reference_tool_calls grade an item's answers, tool_choice reaches the
// request, and a text reference on an item that offers tools is warned about, and says, on a
// tool-call answer, why it fails.
func TestReadSetToolCalls(t *testing.T) {
	set, err := LoadSet("testdata/tools_set.jsonl", Env{})
	if err != nil {
		t.Fatal(err)
	}
	first := set.Items[0]
	if len(first.Graders) != 1 || first.Request.ToolChoice != "required" {
		t.Fatalf("graders %v, tool_choice %q: want the expected calls alone, and tool_choice required", first.Graders, first.Request.ToolChoice)
	}
	if _, ok := first.Graders[0].(ToolCalls); !ok {
		t.Fatalf("grader %T, want ToolCalls", first.Graders[0])
	}
	good := callsAnswer(call("calculate_triangle_area", `{"base": 10, "height": 5}`))
	if v := first.Graders[0].Grade(context.Background(), good); !v.Pass {
		t.Errorf("the expected call fails: %s", v.Reason)
	}
	if len(set.Warnings) != 1 || !strings.Contains(set.Warnings[0], `item "text_ref"`) || !strings.Contains(set.Warnings[0], "reference_tool_calls") {
		t.Errorf("warnings %q: want one, for the text reference on the item offering tools", set.Warnings)
	}
	// Several such items: one warning, naming the first and counting the others.
	line := `{"id": "ID", "prompt": "Calculate the factorial of 5.", "tools": [{"type": "function", "function": {"name": "math.factorial", "parameters": {"type": "object"}}}], "reference": "120"}`
	many := strings.Join([]string{strings.Replace(line, "ID", "f1", 1), strings.Replace(line, "ID", "f2", 1), strings.Replace(line, "ID", "f3", 1)}, "\n")
	several, err := ReadSet(strings.NewReader(many), "many.jsonl", Env{})
	if err != nil {
		t.Fatal(err)
	}
	if len(several.Warnings) != 1 || !strings.HasPrefix(several.Warnings[0], `many.jsonl:1: item "f1" and 2 more: the item offers tools`) {
		t.Errorf("warnings %q: want one, for f1 and 2 more", several.Warnings)
	}
	text := set.Items[2].Graders[0].Grade(context.Background(), callsAnswer(call("math.factorial", `{"number": 5}`)))
	if text.Pass || !strings.Contains(text.Reason, "the answer is tool calls (math.factorial)") {
		t.Errorf("a text reference on a tool-call answer: %+v; want a failure that says the answer is tool calls", text)
	}
	if set.Items[0].Grading == set.Items[1].Grading {
		t.Errorf("two items with other expected calls have the same grading fingerprint")
	}

	for _, tt := range []struct{ line, want string }{
		{`{"id": "a", "prompt": "p", "reference": "x", "reference_tool_calls": [{"name": "f"}]}`, `both "reference" and "reference_tool_calls"`},
		{`{"id": "a", "prompt": "p", "checks": [{"contains": "x"}], "reference_tool_calls": [{"name": "f"}]}`, `{"tool_calls": [...]}, among the checks`},
		{`{"id": "a", "prompt": "p", "reference_tool_calls": [{"name": "f", "arguments": "{\"x\": 1}"}]}`, `"arguments" must be an object`},
		{`{"id": "a", "prompt": "p", "reference_tool_calls": {}}`, `must be an array`}, // [] expects no call: see notool_test.go
		{`{"id": "a", "prompt": "p", "checks": [{"tool_calls": [{"arguments": {}}]}]}`, `has no "name"`},
	} {
		_, err := ReadSet(strings.NewReader(tt.line), "set.jsonl", Env{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to contain %q", tt.line, err, tt.want)
		}
	}
}

// TestSimulatedToolCallAnswers: a simulated answer to an item graded by the calls it expects
// makes them when it was drawn good, and fails them when it was drawn bad.
func TestSimulatedToolCallAnswers(t *testing.T) {
	set, err := LoadSet("testdata/tools_set.jsonl", Env{})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range set.Items[:2] {
		for _, good := range []bool{true, false} {
			body := `{"x_clearbar_simulation":{"category":"c","good":false,"flagged":false}}`
			if good {
				body = strings.Replace(body, `"good":false`, `"good":true`, 1)
			}
			resp := &clearbar.Response{Body: []byte(body), Choices: []clearbar.Choice{{ToolCalls: []clearbar.ToolCall{call("f", `{"x": 1}`)}}}}
			got := simulatedAnswer(it, resp)
			v := it.Graders[0].Grade(context.Background(), &Input{Item: it, Response: got})
			if v.Pass != good {
				t.Errorf("%s drawn good=%v: graded %v (%s)", it.ID, good, v.Pass, v.Reason)
			}
		}
	}
}
