package eval

import (
	"bytes"
	"strings"
	"testing"
)

// readOneItem reads a set of one item line and returns it.
func readOneItem(t *testing.T, line string) *Item {
	t.Helper()
	set, err := ReadSet(strings.NewReader(line+"\n"), "set.jsonl", Env{})
	if err != nil {
		t.Fatal(err)
	}
	return set.Items[0]
}

// TestBFCLStandardize: strings standardized as BFCL's standardize_string does (its regex
// [ \,\.\/\-\_\*\^] removed, then lower case, then ' made "), on the examples its docstring
// gives and on what it leaves alone.
func TestBFCLStandardize(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"April 1, 2024", "april12024"},
		{"April 1,2024", "april12024"},
		{"April 1 2024", "april12024"},
		{"New_York-City/NY.", "newyorkcityny"},
		{"2*x^2", "2x2"},
		{"'hello'", `"hello"`},
		{"a\tb\nc", "a\tb\nc"},             // only the space is removed, not other white space
		{"Who? Me! (yes)", "who?me!(yes)"}, // other punctuation stays
	} {
		if got := bfclStandardize(tt.in); got != tt.want {
			t.Errorf("bfclStandardize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// bfclItem offers a set of arguments of the kinds BFCL's checker treats apart: a string, a
// number, a list of strings, a dict, a list of dicts and a dict holding a list.
const bfclItemFields = `"prompt": "Plan it.", "reference_tool_calls": [{"name": "plan", "accept": {"city": ["New York City", "NYC"], "date": ["April 1, 2024"], "budget": [100.0, ""], "tags": [["Art Museum", "Jazz"]], "hotel": [{"name": "The Plaza", "stars": 5}, ""], "stops": [[{"city": "Boston"}], ""], "deck": [{"cards": ["2 of hearts"]}, ""], "quote": ["'hi'", ""]}}]`

// TestToolCallStringsBFCL: with "tool_call_strings": "bfcl", an answer's strings pass as BFCL's
// AST checker passes them (case, spaces, ,./-_*^ and quote style ignored), at the places its
// checker standardizes them (the argument, a list's elements, a dict's values, a list of
// dicts' values), an int where a float is expected passes, and strings that differ otherwise
// still fail. Without it, the same item compares strings exactly.
func TestToolCallStringsBFCL(t *testing.T) {
	bfcl := readOneItem(t, `{"id": "b", `+bfclItemFields+`, "tool_call_strings": "bfcl"}`)
	exact := readOneItem(t, `{"id": "e", `+bfclItemFields+`}`)
	exactNamed := readOneItem(t, `{"id": "x", `+bfclItemFields+`, "tool_call_strings": "exact"}`)
	if bfcl.ToolCallStrings != StringsBFCL || exact.ToolCallStrings != StringsExact || exactNamed.ToolCallStrings != StringsExact {
		t.Fatalf("tool_call_strings read as %q, %q, %q", bfcl.ToolCallStrings, exact.ToolCallStrings, exactNamed.ToolCallStrings)
	}
	const base = `"city": "NYC", "date": "April 1, 2024", "tags": ["Art Museum", "Jazz"]`
	for _, tt := range []struct {
		name       string
		args       string
		bfcl, want bool // passes with "bfcl", passes exactly
		reason     string
	}{
		{"as written", `{` + base + `}`, true, true, ""},
		{"case", `{"city": "new york city", "date": "APRIL 1, 2024", "tags": ["art museum", "JAZZ"]}`, true, false, `"city" is "new york city"`},
		{"spaces and punctuation", `{"city": "New-York_City", "date": "April 1 2024", "tags": ["Art_Museum", "Jazz."]}`, true, false, `"city" is "New-York_City"`},
		{"comma without space", `{"city": "NYC", "date": "april 1,2024", "tags": ["Art Museum", "Jazz"]}`, true, false, `"date" is "april 1,2024"`},
		{"single quotes for double", `{` + base + `, "quote": "\"hi\""}`, true, false, `"quote" is "\"hi\""`},
		{"an int for a float", `{` + base + `, "budget": 100}`, true, true, ""},
		{"a dict's values", `{` + base + `, "hotel": {"name": "the plaza", "stars": 5}}`, true, false, `"hotel"`},
		{"a list of dicts' values", `{` + base + `, "stops": [{"city": "BOSTON"}]}`, true, false, `"stops"`},
		{"another city", `{"city": "Newark", "date": "April 1, 2024", "tags": ["Art Museum", "Jazz"]}`, false, false, `"city" is "Newark"`},
		{"other punctuation", `{"city": "NYC!", "date": "April 1, 2024", "tags": ["Art Museum", "Jazz"]}`, false, false, `"city" is "NYC!"`},
		{"a tab is not a space", `{"city": "New York\tCity", "date": "April 1, 2024", "tags": ["Art Museum", "Jazz"]}`, false, false, `"city"`},
		{"a number as a string", `{` + base + `, "budget": "100"}`, false, false, `"budget" is "100"`},
		{"list elements in another order", `{"city": "NYC", "date": "April 1, 2024", "tags": ["jazz", "art museum"]}`, false, false, `"tags"`},
		{"a list within a dict stays exact", `{` + base + `, "deck": {"cards": ["2 Of Hearts"]}}`, false, false, `"deck"`},
	} {
		answer := call("plan", tt.args)
		if pass, why := gradeAll(itemCallAnswer(bfcl, answer)); pass != tt.bfcl || !strings.Contains(strings.Join(why, "; "), tt.reason) && !tt.bfcl {
			t.Errorf("%s, bfcl: pass %v (%v); want %v", tt.name, pass, why, tt.bfcl)
		}
		for _, it := range []*Item{exact, exactNamed} {
			if pass, why := gradeAll(itemCallAnswer(it, answer)); pass != tt.want || !tt.want && !strings.Contains(strings.Join(why, "; "), tt.reason) {
				t.Errorf("%s, item %s (exact): pass %v (%v); want %v, a reason with %q", tt.name, it.ID, pass, why, tt.want, tt.reason)
			}
		}
	}
}

// TestToolCallStringsForms: "tool_call_strings" applies to calls given with their arguments
// exactly and to a {"tool_calls": [...]} check, as to accepted values.
func TestToolCallStringsForms(t *testing.T) {
	for _, line := range []string{
		`{"id": "args", "prompt": "Weather?", "reference_tool_calls": [{"name": "weather", "arguments": {"city": "San Francisco, CA", "days": 2.0}}], "tool_call_strings": "bfcl"}`,
		`{"id": "check", "prompt": "Weather?", "checks": [{"tool_calls": [{"name": "weather", "arguments": {"city": "San Francisco, CA", "days": 2.0}}]}], "tool_call_strings": "bfcl"}`,
	} {
		it := readOneItem(t, line)
		if pass, why := gradeAll(itemCallAnswer(it, call("weather", `{"city": "san francisco ca", "days": 2}`))); !pass {
			t.Errorf("item %s: a standardized match fails: %v", it.ID, why)
		}
		if pass, _ := gradeAll(itemCallAnswer(it, call("weather", `{"city": "San Jose, CA", "days": 2}`))); pass {
			t.Errorf("item %s: another city passes", it.ID)
		}
	}
}

// TestToolCallStringsRefused: a bad "tool_call_strings", or one on an item with no tool-call
// reference, is refused at file:line, saying what to write.
func TestToolCallStringsRefused(t *testing.T) {
	const call = `"prompt": "x", "reference_tool_calls": [{"name": "f", "arguments": {"a": "b"}}]`
	for _, tt := range []struct{ line, want string }{
		{`{"id": "a", ` + call + `, "tool_call_strings": "BFCL"}`, `set.jsonl:2: item "a": "tool_call_strings" must be "exact" (the default: strings compared exactly) or "bfcl" (strings compared as the Berkeley Function Calling Leaderboard compares them: case, spaces and the punctuation ,./-_*^ ignored, ' read as "), not "BFCL": write "bfcl"`},
		{`{"id": "a", ` + call + `, "tool_call_strings": "lenient"}`, `set.jsonl:2: item "a": "tool_call_strings" must be "exact" (the default`},
		{`{"id": "a", ` + call + `, "tool_call_strings": true}`, `set.jsonl:2: field "tool_call_strings" is true or false, but it must be "exact" (the default) or "bfcl"`},
		{`{"id": "a", "prompt": "x", "reference": "y", "tool_call_strings": "bfcl"}`, `set.jsonl:2: item "a": "tool_call_strings" says how the arguments of tool calls are compared, and the item has no tool-call reference: give the calls expected, "reference_tool_calls": [...] or a {"tool_calls": [...]} check, or leave it out`},
	} {
		_, err := ReadSet(strings.NewReader("# a set\n"+tt.line+"\n"), "set.jsonl", Env{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s:\n error %v\n want one with %s", tt.line, err, tt.want)
		}
	}
}

// TestToolCallStringsFingerprint: "tool_call_strings": "bfcl" changes an item's grading
// fingerprint, so that a resumed run grades again the rows graded exactly; "exact" is the same
// as none.
func TestToolCallStringsFingerprint(t *testing.T) {
	const fields = `"id": "a", "prompt": "x", "reference_tool_calls": [{"name": "f", "arguments": {"a": "b"}}]`
	none := readOneItem(t, `{`+fields+`}`)
	exact := readOneItem(t, `{`+fields+`, "tool_call_strings": "exact"}`)
	bfcl := readOneItem(t, `{`+fields+`, "tool_call_strings": "bfcl"}`)
	if none.Grading != exact.Grading {
		t.Error(`"tool_call_strings": "exact" changes the grading fingerprint`)
	}
	if none.Grading == bfcl.Grading {
		t.Error(`"tool_call_strings": "bfcl" does not change the grading fingerprint`)
	}
}

// TestImportedBFCLGradedAsBFCL: every item eval import --bfcl writes says
// "tool_call_strings": "bfcl", and an imported item passes an answer whose strings BFCL's
// checker accepts though they differ in case and punctuation; the same item written by hand,
// without the field, fails it.
func TestImportedBFCLGradedAsBFCL(t *testing.T) {
	questions := `{"id": "simple_python_9", "question": [[{"role": "user", "content": "Population of New York City on April 1, 2024?"}]], "function": [{"name": "population.get", "description": "Population.", "parameters": {"type": "dict", "properties": {"city": {"type": "string"}, "date": {"type": "string"}, "ratio": {"type": "float"}}, "required": ["city", "date"]}}]}
{"id": "irrelevance_3", "question": [[{"role": "user", "content": "Hi"}]], "function": [{"name": "population.get", "description": "Population.", "parameters": {"type": "dict", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]}
`
	answers := `{"id": "simple_python_9", "ground_truth": [{"population.get": {"city": ["New York City", "NYC"], "date": ["April 1, 2024", "2024-04-01"], "ratio": [1.0, ""]}}]}
`
	imported, err := ReadBFCL(strings.NewReader(questions), "q.json", strings.NewReader(answers), "a.json")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := imported.Write(&buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	if n := strings.Count(text, `"tool_call_strings":"bfcl"`); n != 2 {
		t.Errorf(`%d items say "tool_call_strings":"bfcl", want 2:\n%s`, n, text)
	}
	set, err := ReadSet(strings.NewReader(text), "set.jsonl", Env{})
	if err != nil {
		t.Fatal(err)
	}
	answer := call("population_get", `{"city": "new york city", "date": "2024/04/01", "ratio": 1}`)
	if pass, why := gradeAll(itemCallAnswer(set.Items[0], answer)); !pass {
		t.Errorf("the imported item fails an answer BFCL passes: %v", why)
	}
	if pass, _ := gradeAll(itemCallAnswer(set.Items[0], call("population_get", `{"city": "Newark", "date": "April 1, 2024"}`))); pass {
		t.Error("the imported item passes another city")
	}
	byHand := strings.Replace(strings.Split(text, "\n")[1], `,"tool_call_strings":"bfcl"`, "", 1)
	it := readOneItem(t, byHand)
	if pass, _ := gradeAll(itemCallAnswer(it, answer)); pass {
		t.Error("an item written by hand, without tool_call_strings, compares strings leniently")
	}
}
