package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
)

// bfclQuestions is a BFCL question file in small: a dotted function name; float, tuple, any and
// nested dict types; an array of dicts; a character HTML escapes; an irrelevance item.
const bfclQuestions = `{"id": "simple_python_1", "question": [[{"role": "user", "content": "What is 5 factorial?"}]], "function": [{"name": "math.factorial", "description": "Factorial of a number.", "parameters": {"type": "dict", "properties": {"number": {"type": "integer", "description": "The number."}}, "required": ["number"]}}]}
{"id": "simple_python_7", "question": [[{"role": "user", "content": "Plan a trip of <2 days> to Paris."}]], "function": [{"name": "plan_trip", "description": "Plan a trip.", "parameters": {"type": "dict", "properties": {"budget": {"type": "float", "description": "In euros.", "default": 100.50}, "dates": {"type": "tuple", "items": {"type": "string"}}, "options": {"type": "dict", "properties": {"mode": {"type": "string", "enum": ["train", "plane"]}, "extra": {"type": "any"}}}, "stops": {"type": "array", "items": {"type": "dict", "properties": {"city": {"type": "string"}, "nights": {"type": "integer"}}}}}, "required": ["dates"]}}]}

{"id": "irrelevance_0", "question": [[{"role": "user", "content": "Area of a triangle, base 10 m, height 5 m?"}]], "function": [{"name": "determine_body_mass_index", "description": "BMI.", "parameters": {"type": "dict", "properties": {"weight": {"type": "float"}}, "required": ["weight"]}}]}
`

const bfclAnswers = `{"id": "simple_python_1", "ground_truth": [{"math.factorial": {"number": [5]}}]}
{"id": "simple_python_7", "ground_truth": [{"plan_trip": {"dates": [["2026-01-01", "2026-01-03"]], "budget": ["", 100.50], "options": [{"mode": ["train", ""]}], "stops": [[{"city": ["Paris"], "nights": [2]}]]}}]}
`

// bfclWant is the set the two files make, line by line.
var bfclWant = []string{
	`# Berkeley Function Calling Leaderboard (ShishirPatil/gorilla, Apache-2.0): questions.json, converted by clearbar eval import`,
	`{"id":"simple_python_1","messages":[{"role":"user","content":"What is 5 factorial?"}],"tools":[{"type":"function","function":{"name":"math_factorial","description":"Factorial of a number.","parameters":{"properties":{"number":{"description":"The number.","type":"integer"}},"required":["number"],"type":"object"}}}],"reference_tool_calls":[{"name":"math_factorial","accept":{"number":[5]}}],"tool_call_strings":"bfcl"}`,
	`{"id":"simple_python_7","messages":[{"role":"user","content":"Plan a trip of <2 days> to Paris."}],"tools":[{"type":"function","function":{"name":"plan_trip","description":"Plan a trip.","parameters":{"properties":{"budget":{"default":100.50,"description":"In euros.","type":"number"},"dates":{"items":{"type":"string"},"type":"array"},"options":{"properties":{"extra":{},"mode":{"enum":["train","plane"],"type":"string"}},"type":"object"},"stops":{"items":{"properties":{"city":{"type":"string"},"nights":{"type":"integer"}},"type":"object"},"type":"array"}},"required":["dates"],"type":"object"}}}],"reference_tool_calls":[{"name":"plan_trip","accept":{"budget":["",100.50],"dates":[["2026-01-01","2026-01-03"]],"options":[{"mode":"train"},{}],"stops":[[{"city":"Paris","nights":2}]]}}],"tool_call_strings":"bfcl"}`,
	`{"id":"irrelevance_0","messages":[{"role":"user","content":"Area of a triangle, base 10 m, height 5 m?"}],"tools":[{"type":"function","function":{"name":"determine_body_mass_index","description":"BMI.","parameters":{"properties":{"weight":{"type":"number"}},"required":["weight"],"type":"object"}}}],"reference_tool_calls":[],"tool_call_strings":"bfcl"}`,
}

func writeImportFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkSetLines compares a written set with the lines wanted, and reads it as clearbar eval
// does.
func checkSetLines(t *testing.T, set *ImportedSet, want []string) *Set {
	t.Helper()
	var buf bytes.Buffer
	if err := set.Write(&buf); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(got), len(want), buf.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
	}
	read, err := ReadSet(&buf, "set.jsonl", Env{})
	if err != nil {
		t.Fatalf("the set does not read: %v", err)
	}
	return read
}

// openAIBody is an item's line as a chat completions request, as eval sends it.
func openAIBody(t *testing.T, line []byte) []byte {
	t.Helper()
	var it map[string]json.RawMessage
	if err := json.Unmarshal(line, &it); err != nil {
		t.Fatal(err)
	}
	body := map[string]json.RawMessage{"model": json.RawMessage(`"gpt-4o-mini"`), "messages": it["messages"]}
	if tools, ok := it["tools"]; ok {
		body["tools"] = tools
	}
	b, _ := json.Marshal(body)
	return b
}

func gradeCalls(t *testing.T, it *Item, calls ...clearbar.ToolCall) bool {
	t.Helper()
	resp := &clearbar.Response{Choices: []clearbar.Choice{{ToolCalls: calls, FinishReason: "tool_calls"}}}
	pass := true
	for _, g := range it.Graders {
		pass = pass && g.Grade(context.Background(), &Input{Item: it, Response: resp}).Pass
	}
	return pass
}

func gradeText(t *testing.T, it *Item, text string) bool {
	t.Helper()
	resp := &clearbar.Response{Choices: []clearbar.Choice{{Text: text, FinishReason: "stop"}}}
	pass := true
	for _, g := range it.Graders {
		pass = pass && g.Grade(context.Background(), &Input{Item: it, Response: resp}).Pass
	}
	return pass
}

func TestImportBFCL(t *testing.T) {
	dir := t.TempDir()
	q := writeImportFile(t, dir, "questions.json", bfclQuestions)
	writeImportFile(t, dir, "possible_answer/questions.json", bfclAnswers)
	set, err := ImportBFCL(q, "") // the answers are found beside the questions
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Notes) != 1 || !strings.Contains(set.Notes[0], "math.factorial as math_factorial") {
		t.Errorf("notes %q: want the dotted name's rewrite said", set.Notes)
	}
	read := checkSetLines(t, set, bfclWant)

	// OpenAI's checks of tool names and schemas, which the gateway enforces when asked to.
	strict := gateway.DefaultLimits
	strict.ToolNames = true
	for _, it := range set.Items {
		b, _ := encodeItem(it)
		if _, err := gateway.DecodeChatRequest(openAIBody(t, b), strict); err != nil {
			t.Errorf("item %s: the gateway refuses its request: %v", it.ID, err)
		}
	}

	// The converted references grade answers as BFCL means them.
	tc := func(name, args string) clearbar.ToolCall {
		return clearbar.ToolCall{ID: "c", Name: name, Arguments: args}
	}
	fact, trip, irrelevant := read.Items[0], read.Items[1], read.Items[2]
	tests := []struct {
		name        string
		item        *Item
		calls       []clearbar.ToolCall
		pass        bool
		explanation string
	}{
		{"renamed call", fact, []clearbar.ToolCall{tc("math_factorial", `{"number": 5}`)}, true, "the expected call is renamed as the tool is"},
		{"wrong value", fact, []clearbar.ToolCall{tc("math_factorial", `{"number": 6}`)}, false, ""},
		{"optional left out", trip, []clearbar.ToolCall{tc("plan_trip", `{"dates": ["2026-01-01", "2026-01-03"], "options": {"mode": "train"}, "stops": [{"nights": 2, "city": "Paris"}]}`)}, true, `"" lets budget be left out`},
		{"required left out", trip, []clearbar.ToolCall{tc("plan_trip", `{"dates": ["2026-01-01", "2026-01-03"], "stops": [{"nights": 2, "city": "Paris"}]}`)}, false, `options has no "" among its values: it must be given`},
		{"nested choice", trip, []clearbar.ToolCall{tc("plan_trip", `{"dates": ["2026-01-01", "2026-01-03"], "budget": 100.5, "options": {"mode": "train"}, "stops": [{"city": "Paris", "nights": 2}]}`)}, true, "a dict argument matches one of its spelled-out alternatives"},
		{"nested key left out", trip, []clearbar.ToolCall{tc("plan_trip", `{"dates": ["2026-01-01", "2026-01-03"], "options": {}, "stops": [{"city": "Paris", "nights": 2}]}`)}, true, `"" inside a dict lets its key be left out`},
		{"nested wrong", trip, []clearbar.ToolCall{tc("plan_trip", `{"dates": ["2026-01-01", "2026-01-03"], "options": {"mode": "plane"}, "stops": [{"city": "Paris", "nights": 2}]}`)}, false, ""},
		{"irrelevance call", irrelevant, []clearbar.ToolCall{tc("determine_body_mass_index", `{"weight": 1}`)}, false, "an irrelevance item expects no call"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gradeCalls(t, tt.item, tt.calls...); got != tt.pass {
				t.Errorf("pass = %v, want %v (%s)", got, tt.pass, tt.explanation)
			}
		})
	}
	if !gradeText(t, irrelevant, "Half of base times height: 25 m².") {
		t.Error("an irrelevance item fails an answer in text")
	}
}

func TestImportBFCLErrors(t *testing.T) {
	q1 := `{"id": "simple_python_1", "question": [[{"role": "user", "content": "5!?"}]], "function": [{"name": "math.factorial", "parameters": {"type": "dict", "properties": {"number": {"type": "integer"}}}}]}` + "\n"
	tests := []struct {
		name, questions, answers, want string
		noAnswers                      bool
	}{
		{"no answer file", q1, "", `questions.json:1: question "simple_python_1": no answer: BFCL's answers are in possible_answer/questions.json`, true},
		{"not answered", q1, `{"id": "simple_python_2", "ground_truth": [{"math.factorial": {"number": [5]}}]}`, `questions.json:1: question "simple_python_1": no answer in answers.json`, false},
		{"other function", q1, `{"id": "simple_python_1", "ground_truth": [{"math.gamma": {"number": [5]}}]}`, `expects a call of math_gamma, which is not among its functions (math_factorial)`, false},
		{"answer without question", "", `{"id": "simple_python_9", "ground_truth": []}`, `answers.json:1: answer "simple_python_9" answers no question of questions.json`, false},
		{"multi-turn answer", q1, `{"id": "simple_python_1", "ground_truth": [["math.factorial(number=5)"]]}`, `answers.json:1: answer "simple_python_1": call 1: each call must be {"function_name": {"argument": [the values it may take]}}`, false},
		{"unknown type", strings.Replace(q1, `"integer"`, `"HashMap"`, 1), `{"id": "simple_python_1", "ground_truth": []}`, `questions.json:1: question "simple_python_1": function math.factorial: parameters.number: type "HashMap" is neither a JSON Schema type nor one of BFCL's Python type names`, false},
		{"bad name", strings.Replace(q1, "math.factorial", "math factorial", 1), `{"id": "simple_python_1", "ground_truth": []}`, `function "math factorial": the name is not an OpenAI tool name`, false},
		{"duplicate id", q1 + q1, `{"id": "simple_python_1", "ground_truth": [{"math.factorial": {"number": [5]}}]}`, `questions.json:2: question "simple_python_1": the id is already used on line 1`, false},
		{"not a question", `{"id": 3}`, "", `questions.json:1: not a BFCL question`, true},
		{"no user message", strings.Replace(q1, `"role": "user"`, `"role": "system"`, 1), `{"id": "simple_python_1", "ground_truth": [{"math.factorial": {"number": [5]}}]}`, `questions.json:1: item "simple_python_1": no user message`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var answers *strings.Reader
			if !tt.noAnswers {
				answers = strings.NewReader(tt.answers)
			}
			var err error
			if answers == nil {
				_, err = ReadBFCL(strings.NewReader(tt.questions), "questions.json", nil, "")
			} else {
				_, err = ReadBFCL(strings.NewReader(tt.questions), "questions.json", answers, "answers.json")
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestImportBFCLNoAnswerFile checks that a question file with no answers beside it says where
// they were looked for.
func TestImportBFCLNoAnswerFile(t *testing.T) {
	dir := t.TempDir()
	q := writeImportFile(t, dir, "questions.json", bfclQuestions)
	_, err := ImportBFCL(q, "")
	if err == nil || !strings.Contains(err.Error(), "no answer file was found at "+filepath.Join(dir, "possible_answer", "questions.json")+": give BFCL's possible_answer file of this category with --answers") {
		t.Fatalf("error %v, want where the answers were looked for", err)
	}
	// The irrelevance item alone needs none.
	set, err := ReadBFCL(strings.NewReader(strings.Split(bfclQuestions, "\n")[3]), "irrelevance.json", nil, "")
	if err != nil || len(set.Items) != 1 {
		t.Fatalf("irrelevance alone: %v", err)
	}
}

const banking77CSV = "text,category\n" +
	"How do I locate my card?,card_arrival\n" +
	"\"I linked my card, but it says \"\"pending\"\" & <nothing> else.\",card_linking\n" +
	"\"What rate do you\nuse?\",exchange_rate\n"

func TestImportBanking77(t *testing.T) {
	dir := t.TempDir()
	rows := writeImportFile(t, dir, "test.csv", banking77CSV)
	writeImportFile(t, dir, "categories.json", `["card_arrival", "card_linking", "exchange_rate"]`)
	set, err := ImportBanking77(rows, "")
	if err != nil {
		t.Fatal(err)
	}
	system := `Classify the intent of a bank customer's message. The intents are:\ncard_arrival\ncard_linking\nexchange_rate\nAnswer with the one intent that fits the message, written exactly as in the list, and nothing else.`
	want := []string{
		`# Banking77 (PolyAI-LDN/task-specific-datasets, CC BY 4.0): test.csv, converted by clearbar eval import`,
		`{"id":"banking77-test-0","messages":[{"role":"system","content":"` + system + `"},{"role":"user","content":"How do I locate my card?"}],"reference":"card_arrival"}`,
		`{"id":"banking77-test-1","messages":[{"role":"system","content":"` + system + `"},{"role":"user","content":"I linked my card, but it says \"pending\" & <nothing> else."}],"reference":"card_linking"}`,
		`{"id":"banking77-test-2","messages":[{"role":"system","content":"` + system + `"},{"role":"user","content":"What rate do you\nuse?"}],"reference":"exchange_rate"}`,
	}
	read := checkSetLines(t, set, want)
	for _, tt := range []struct {
		answer      string
		pass        bool
		explanation string
	}{
		{"card_arrival", true, "the label as listed"},
		{"Card_Arrival.\n", true, "case, punctuation and spacing do not matter"},
		{"card arrival", true, "underscores are punctuation"},
		{"card_linking", false, "another label"},
		{"The intent is card_arrival", false, "the label alone was asked for"},
		{"cardarrival", false, ""},
	} {
		if got := gradeText(t, read.Items[0], tt.answer); got != tt.pass {
			t.Errorf("answer %q: pass = %v, want %v (%s)", tt.answer, got, tt.pass, tt.explanation)
		}
	}
}

func TestImportBanking77Errors(t *testing.T) {
	labels := []string{"card_arrival"}
	tests := []struct{ name, csv, want string }{
		{"header", "sentence,label\nhi,card_arrival\n", `test.csv:1: the header is "sentence,label", but Banking77's names the columns text and category`},
		{"unknown label", "text,category\nhi,card_arrival\nhow?,card_lost\n", `test.csv:3: category "card_lost" is not one of the 1 labels: give the categories file of this data set with --categories`},
		{"empty text", "text,category\n\"\",card_arrival\n", `test.csv:2: the text is empty`},
		{"bad quote", "text,category\n\"hi,card_arrival\n", `test.csv:`},
		{"no rows", "text,category\n", `test.csv: no rows below the header`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadBanking77(strings.NewReader(tt.csv), "test.csv", labels)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := ReadLabels([]byte(`["Card_Arrival", "card arrival"]`), "categories.json"); err == nil || !strings.Contains(err.Error(), `label "card arrival" is given twice`) {
		t.Errorf("labels that normalize alike: %v", err)
	}
	if _, err := ImportBanking77(writeImportFile(t, t.TempDir(), "test.csv", banking77CSV), ""); err == nil || !strings.Contains(err.Error(), "no categories.json beside") {
		t.Errorf("no categories: %v", err)
	}
}

func TestImportedSetSelect(t *testing.T) {
	items := func(n int) *ImportedSet {
		s := &ImportedSet{}
		for i := range n {
			s.Items = append(s.Items, ImportedItem{ID: string(rune('a' + i))})
		}
		return s
	}
	ids := func(s *ImportedSet) string {
		var b strings.Builder
		for _, it := range s.Items {
			b.WriteString(it.ID)
		}
		return b.String()
	}
	s := items(10)
	s.Select(Selection{Limit: 3})
	if got := ids(s); got != "abc" {
		t.Errorf("limit 3: %s", got)
	}
	a, b := items(20), items(20)
	a.Select(Selection{Sample: 5, Seed: 7})
	b.Select(Selection{Sample: 5, Seed: 7})
	if ids(a) != ids(b) || len(a.Items) != 5 {
		t.Errorf("the same seed draws %s and %s", ids(a), ids(b))
	}
	// The draw is fixed by the seed, whatever the Go version: a change here changes every
	// sampled set users have made.
	if got := ids(a); got != sampleGolden {
		t.Errorf("sample 5 of 20, seed 7: %s, want %s", got, sampleGolden)
	}
	for i := 1; i < len(a.Items); i++ {
		if a.Items[i-1].ID >= a.Items[i].ID {
			t.Errorf("the sample is not in file order: %s", ids(a))
		}
	}
	c := items(20)
	c.Select(Selection{Sample: 5, Seed: 8})
	if ids(c) == ids(a) {
		t.Errorf("seeds 7 and 8 draw the same items %s", ids(a))
	}
	d := items(20)
	d.Select(Selection{Sample: 5, Seed: 7, Limit: 2})
	if got := ids(d); got != sampleGolden[:2] {
		t.Errorf("sample then limit: %s, want %s", got, sampleGolden[:2])
	}
	e := items(4)
	if n := e.Select(Selection{Sample: 10}); n != 4 || len(e.Items) != 4 {
		t.Errorf("a sample larger than the set keeps it whole: %d of %d", len(e.Items), n)
	}
}

const sampleGolden = "hnrst"

// TestImportBFCLEmptyAccept checks BFCL's answers that list no value for an argument: a list
// argument accepts the empty list, which no answer could otherwise give; another is an error.
func TestImportBFCLEmptyAccept(t *testing.T) {
	q := `{"id": "live_simple_1", "question": [[{"role": "user", "content": "Sort my queries."}]], "function": [{"name": "record", "parameters": {"type": "dict", "properties": {"hours": {"type": "array", "items": {"type": "string"}}, "count": {"type": "integer"}}, "required": ["hours"]}}]}`
	set, err := ReadBFCL(strings.NewReader(q), "q.json", strings.NewReader(`{"id": "live_simple_1", "ground_truth": [{"record": {"hours": []}}]}`), "a.json")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := encodeItem(set.Items[0])
	if !strings.Contains(string(b), `"reference_tool_calls":[{"name":"record","accept":{"hours":[[]]}}]`) || len(set.Notes) != 1 {
		t.Errorf("an argument given no value: %s, notes %q", b, set.Notes)
	}
	_, err = ReadBFCL(strings.NewReader(q), "q.json", strings.NewReader(`{"id": "live_simple_1", "ground_truth": [{"record": {"count": []}}]}`), "a.json")
	if err == nil || !strings.Contains(err.Error(), `q.json:1: question "live_simple_1": a.json:1: call record: argument "count" accepts no value, so no answer could pass`) {
		t.Errorf("a non-list argument given no value: %v", err)
	}
}
