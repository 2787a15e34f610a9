package eval

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

// noToolSet is a set of items whose right answer calls no tool (BFCL's irrelevance category:
// the tools offered do not fit the request), written every way the format allows.
const noToolSet = `{"id": "irrelevance_0", "prompt": "Calculate the area of a triangle given the base is 10 meters and height is 5 meters.", "tools": [{"type": "function", "function": {"name": "determine_body_mass_index", "parameters": {"type": "object", "properties": {"weight": {"type": "number"}, "height": {"type": "number"}}, "required": ["weight", "height"]}}}], "reference_tool_calls": []}
{"id": "check", "prompt": "What is the capital of France?", "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}], "checks": [{"tool_calls": []}]}
{"id": "check_and_text", "prompt": "What is the capital of France?", "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}], "checks": [{"tool_calls": []}, {"contains": "Paris"}]}
{"id": "reference_and_none", "prompt": "What is the capital of France?", "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}], "reference": "Paris", "reference_tool_calls": []}
`

func itemTextAnswer(it *Item, text string) *Input {
	return &Input{Item: it, Response: &clearbar.Response{Choices: []clearbar.Choice{{Text: text, FinishReason: "stop"}}}}
}

func itemCallAnswer(it *Item, calls ...clearbar.ToolCall) *Input {
	return &Input{Item: it, Response: &clearbar.Response{Choices: []clearbar.Choice{{ToolCalls: calls, FinishReason: "tool_calls"}}}}
}

// gradeAll runs an item's graders on an answer: it passes when every one passes.
func gradeAll(in *Input) (bool, []string) {
	pass := true
	var why []string
	for _, g := range in.Item.Graders {
		v := g.Grade(context.Background(), in)
		pass = pass && v.Pass
		if !v.Pass {
			why = append(why, v.Check+": "+v.Reason)
		}
	}
	return pass, why
}

// TestNoToolCallReference: "reference_tool_calls": [] and the check {"tool_calls": []} load,
// and pass an answer that calls no tool and fail one that calls a tool; beside a reference or
// text checks, the answer's text is graded too. The set warns about none of these items.
func TestNoToolCallReference(t *testing.T) {
	set, err := ReadSet(strings.NewReader(noToolSet), "notool.jsonl", Env{})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Warnings) > 0 {
		t.Errorf("warnings on items that say their answers call no tool: %q", set.Warnings)
	}
	byID := map[string]*Item{}
	for _, it := range set.Items {
		byID[it.ID] = it
	}
	if it := byID["irrelevance_0"]; it.ReferenceToolCalls == nil || len(it.ReferenceToolCalls) != 0 {
		t.Errorf("reference_tool_calls [] read as %#v: want an empty, non-nil list", it.ReferenceToolCalls)
	}
	if n := byID["irrelevance_0"].Graders[0].Name(); n != "tool_calls none" {
		t.Errorf("the grader is named %q, want \"tool_calls none\"", n)
	}
	bmi := call("determine_body_mass_index", `{"weight": 70, "height": 1.8}`)
	for _, tt := range []struct {
		item string
		in   func(*Item) *Input
		pass bool
		why  string
	}{
		{"irrelevance_0", func(it *Item) *Input {
			return itemTextAnswer(it, "None of these tools computes an area: it is 25 square meters.")
		}, true, ""},
		{"irrelevance_0", func(it *Item) *Input { return itemTextAnswer(it, "") }, true, ""},
		{"irrelevance_0", func(it *Item) *Input { return itemCallAnswer(it, bmi) }, false, "calls determine_body_mass_index; the reference expects no tool call"},
		{"check", func(it *Item) *Input { return itemTextAnswer(it, "Paris.") }, true, ""},
		{"check", func(it *Item) *Input { return itemCallAnswer(it, call("get_weather", `{"city": "Paris"}`)) }, false, "expects no tool call"},
		{"check_and_text", func(it *Item) *Input { return itemTextAnswer(it, "It is Paris.") }, true, ""},
		{"check_and_text", func(it *Item) *Input { return itemTextAnswer(it, "It is Lyon.") }, false, "contains"},
		{"check_and_text", func(it *Item) *Input { return itemCallAnswer(it, call("get_weather", `{"city": "Paris"}`)) }, false, "not text, and the item expects no tool call"},
		{"reference_and_none", func(it *Item) *Input { return itemTextAnswer(it, "paris") }, true, ""},
		{"reference_and_none", func(it *Item) *Input { return itemTextAnswer(it, "Lyon") }, false, "normalized"},
		{"reference_and_none", func(it *Item) *Input { return itemCallAnswer(it, call("get_weather", `{"city": "Paris"}`)) }, false, "expects no tool call"},
	} {
		it := byID[tt.item]
		pass, why := gradeAll(tt.in(it))
		if pass != tt.pass || !strings.Contains(strings.Join(why, "; "), tt.why) {
			t.Errorf("%s: pass %v (%q); want %v, a reason with %q", tt.item, pass, why, tt.pass, tt.why)
		}
		if strings.Contains(strings.Join(why, "; "), "give the expected calls") {
			t.Errorf("%s: %q tells to give the expected calls of an item that expects none", tt.item, why)
		}
	}
	// The fingerprint tells an item that expects no call from one without the field.
	plain, err := ReadSet(strings.NewReader(`{"id": "r", "prompt": "Capital of France?", "reference": "Paris"}`+"\n"), "p.jsonl", Env{})
	if err != nil {
		t.Fatal(err)
	}
	none, err := ReadSet(strings.NewReader(`{"id": "r", "prompt": "Capital of France?", "reference": "Paris", "reference_tool_calls": []}`+"\n"), "p.jsonl", Env{})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Items[0].Grading == none.Items[0].Grading {
		t.Error("adding \"reference_tool_calls\": [] does not change the grading fingerprint")
	}
}

// TestNoToolCallRefusals: a reference beside expected calls, and reference_tool_calls beside
// checks, are still refused, and their messages say how to expect no call.
func TestNoToolCallRefusals(t *testing.T) {
	for _, tt := range []struct{ line, want string }{
		{`{"id": "a", "prompt": "x", "reference": "y", "reference_tool_calls": [{"name": "f", "arguments": {}}]}`, `"reference_tool_calls": [] beside a reference`},
		{`{"id": "a", "prompt": "x", "reference_tool_calls": [], "checks": [{"contains": "y"}]}`, `{"tool_calls": []} for none`},
		{`{"id": "a", "prompt": "x", "reference_tool_calls": {}}`, "or [] when the answer must call no tool"},
	} {
		_, err := ReadSet(strings.NewReader(tt.line+"\n"), "s.jsonl", Env{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want one with %q", tt.line, err, tt.want)
		}
	}
}

// TestTextChecksOnToolsWarning: an item that offers tools and is graded by text alone is
// warned about, and the warning (and a tool-call answer's failure) says how to expect no call
// as well as how to expect calls.
func TestTextChecksOnToolsWarning(t *testing.T) {
	line := `{"id": "irrelevance_1", "prompt": "What is the capital of France?", "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}], "checks": [{"regex": "(?s).+"}]}`
	set, err := ReadSet(strings.NewReader(line+"\n"), "s.jsonl", Env{})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Warnings) != 1 || !strings.Contains(set.Warnings[0], `when the right answer calls no tool, "reference_tool_calls": []`) || !strings.Contains(set.Warnings[0], `{"tool_calls": []}`) {
		t.Errorf("warnings %q: want one that says how to expect no tool call", set.Warnings)
	}
	_, why := gradeAll(itemCallAnswer(set.Items[0], call("get_weather", `{"city": "Paris"}`)))
	if !strings.Contains(strings.Join(why, "; "), `"reference_tool_calls": []`) {
		t.Errorf("a tool-call answer fails the text check with %q: want it to say how to expect no call too", why)
	}
}

// TestSimulatedNoCall: the simulator calls the first tool offered whatever its draw; for an
// item that expects no call, a good answer answers in text instead, and a bad one calls a
// tool (the first function offered, with arguments from its schema, when it answered in text).
func TestSimulatedNoCall(t *testing.T) {
	set, err := ReadSet(strings.NewReader(noToolSet), "notool.jsonl", Env{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*Item{}
	for _, it := range set.Items {
		byID[it.ID] = it
	}
	good := []byte(`{"x_clearbar_simulation":{"category":"c","good":true,"flagged":false}}`)
	bad := []byte(`{"x_clearbar_simulation":{"category":"c","good":false,"flagged":true}}`)
	called := func(body []byte) *clearbar.Response {
		return &clearbar.Response{Body: body, Choices: []clearbar.Choice{{ToolCalls: []clearbar.ToolCall{call("determine_body_mass_index", `{"weight": 1, "height": 1}`)}, FinishReason: "tool_calls"}}}
	}
	texted := func(body []byte) *clearbar.Response {
		return &clearbar.Response{Body: body, Choices: []clearbar.Choice{{Text: "This is a simulated answer.", FinishReason: "stop"}}}
	}
	for _, tt := range []struct {
		name string
		item string
		resp *clearbar.Response
		pass bool
	}{
		{"good, called", "irrelevance_0", called(good), true},
		{"good, text", "irrelevance_0", texted(good), true},
		{"bad, called", "irrelevance_0", called(bad), false},
		{"bad, text", "irrelevance_0", texted(bad), false},
		{"good, called, text check", "check_and_text", called(good), true},
		{"bad, called, text check", "check_and_text", called(bad), false},
		{"good, called, reference", "reference_and_none", called(good), true},
		{"bad, text, reference", "reference_and_none", texted(bad), false},
	} {
		it := byID[tt.item]
		orig := tt.resp.Choices[0]
		got := simulatedAnswer(it, tt.resp)
		pass, why := gradeAll(&Input{Item: it, Response: got})
		if pass != tt.pass {
			t.Errorf("%s: the fitted answer (text %q, calls %v) passes %v (%q); want %v", tt.name, got.Text(), got.Choices[0].ToolCalls, pass, why, tt.pass)
		}
		c := got.Choices[0]
		if (len(c.ToolCalls) > 0) != (c.FinishReason == "tool_calls") {
			t.Errorf("%s: finish reason %q with %d call(s)", tt.name, c.FinishReason, len(c.ToolCalls))
		}
		if tt.resp.Choices[0].Text != orig.Text || len(tt.resp.Choices[0].ToolCalls) != len(orig.ToolCalls) {
			t.Errorf("%s: the simulator's answer was modified", tt.name)
		}
	}
	// A bad text answer calls the first function offered, with arguments its schema accepts.
	got := simulatedAnswer(byID["irrelevance_0"], texted(bad))
	if calls := got.Choices[0].ToolCalls; len(calls) != 1 || calls[0].Name != "determine_body_mass_index" || !strings.Contains(calls[0].Arguments, `"weight"`) {
		t.Errorf("a bad answer's calls are %+v: want one call of determine_body_mass_index with its required arguments", calls)
	}
	// Items that expect calls are fitted as before.
	calls, err := ReadSet(strings.NewReader(`{"id": "t", "prompt": "BMI of 70 kg, 1.8 m?", "tools": [{"type": "function", "function": {"name": "determine_body_mass_index", "parameters": {"type": "object", "properties": {"weight": {"type": "number"}, "height": {"type": "number"}}}}}], "reference_tool_calls": [{"name": "determine_body_mass_index", "arguments": {"weight": 70, "height": 1.8}}]}`+"\n"), "c.jsonl", Env{})
	if err != nil {
		t.Fatal(err)
	}
	if pass, why := gradeAll(&Input{Item: calls.Items[0], Response: simulatedAnswer(calls.Items[0], called(good))}); !pass {
		t.Errorf("a good answer to an item that expects a call fails: %q", why)
	}
}

// TestSimulatedNoCallRecoversPassRates runs irrelevance items (and items that expect calls)
// against simulated providers with known pass rates (0.7 and 0.95): every row's grade agrees
// with the simulator's ground truth, so the measured pass rates are the assumed ones.
func TestSimulatedNoCallRecoversPassRates(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	tools := `"tools": [{"type": "function", "function": {"name": "determine_body_mass_index", "parameters": {"type": "object", "properties": {"weight": {"type": "number"}, "height": {"type": "number"}}, "required": ["weight", "height"]}}}]`
	kinds := []string{
		tools + `, "reference_tool_calls": []`,
		tools + `, "checks": [{"tool_calls": []}, {"contains": "ticket %d"}]`,
		tools + `, "reference": "T-%d", "reference_tool_calls": []`,
		tools + `, "reference_tool_calls": [{"name": "determine_body_mass_index", "accept": {"weight": [%d], "height": [1.8]}}]`,
	}
	path, models, res := runKinds(t, f, 2100, kinds, truthGrader{})
	truth := map[string]float64{"small": 0.7, "strong": 0.95}
	// The rows' grades agree with the simulator's draws (below), which are seeded: the
	// measured rates are within sampling error of the assumed ones (about 1 and 0.5 points
	// for 2,100 items; without the fit, answers to items that expect no call all fail).
	for _, s := range Summarize(f.cat, models, res.Rows) {
		if p := truth[s.Model]; math.Abs(s.PassRate-p) > 0.03 {
			t.Errorf("%s: measured %.4f (%.4f–%.4f), far from the assumed pass rate %v", s.Model, s.PassRate, s.PassRateCI[0], s.PassRateCI[1], p)
		}
	}
	for _, rec := range readRecords(t, path) {
		n := len(rec.Checks)
		pass := true
		for _, v := range rec.Checks[:n-1] {
			pass = pass && (v.Pass || strings.HasPrefix(v.Check, validatorsPrefix))
		}
		if pass != rec.Checks[n-1].Pass {
			t.Fatalf("item %s on %s answered %q, calls %v: the checks and the ground truth disagree: %+v", rec.Item, rec.Model, rec.Response, rec.ToolCalls, rec.Checks)
		}
	}
}
