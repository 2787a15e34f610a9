package eval

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

func readSet(text string, env Env) (*Set, error) {
	return ReadSet(strings.NewReader(text), "set.jsonl", env)
}

func TestReadSetErrors(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	noValidators := Env{Spec: f.spec}
	tests := []struct {
		name        string
		text        string
		env         Env
		want        string
		explanation string
	}{
		{"unknown field", `{"id": "a", "promt": "hi"}`, f.env, `set.jsonl:1: unknown field "promt": an item has id, messages or prompt`, "a typo names the field and lists the real ones"},
		{"no id", `{"prompt": "hi", "reference": "x"}`, f.env, `set.jsonl:1: item: no id: give every item a unique "id"`, "ids are how a resumed run recognises finished items"},
		{"both", `{"id": "a", "prompt": "hi", "messages": [{"role": "user", "content": "hi"}]}`, f.env, `item "a": both "messages" and "prompt"`, ""},
		{"neither", `{"id": "a", "reference": "x"}`, f.env, `item "a": no "messages" or "prompt"`, ""},
		{"duplicate id", "{\"id\": \"a\", \"prompt\": \"x\"}\n\n{\"id\": \"a\", \"prompt\": \"y\"}", f.env, `set.jsonl:3: item "a": the id is already used on line 1`, "blank lines still count for line numbers"},
		{"bad message", `{"id": "a", "messages": [{"content": "hi"}]}`, f.env, `item "a": messages[0].role: every message needs a role`, "messages are decoded as the gateway decodes them"},
		{"no user message", `{"id": "a", "messages": [{"role": "system", "content": "hi"}]}`, f.env, `item "a": no user message`, ""},
		{"bad regex", `{"id": "a", "prompt": "x", "checks": [{"regex": "("}]}`, f.env, `check 1: "regex" "(" does not compile`, ""},
		{"unknown kind", `{"id": "a", "prompt": "x", "checks": [{"normalised": "x"}]}`, f.env, `check 1: unknown kind "normalised": did you mean "normalized"? (kinds: contains, exact, json, json_path, judge, normalized, numeric, regex, tool_calls, validators)`, "the British spelling is not a kind: the message names it and the nearest kind"},
		{"misspelt kind", `{"id": "a", "prompt": "x", "checks": [{"containz": "x"}]}`, f.env, `check 1: unknown kind "containz": did you mean "contains"?`, ""},
		{"far kind", `{"id": "a", "prompt": "x", "checks": [{"bleu": 0.5}]}`, f.env, `check 1: unknown kind "bleu": give one of contains, exact, json, json_path, judge, normalized, numeric, regex, tool_calls, validators`, "nothing near: list the kinds"},
		{"empty check", `{"id": "a", "prompt": "x", "checks": [{}]}`, f.env, `check 1 is empty: give one of contains, exact`, ""},
		{"misspelt setting", `{"id": "a", "prompt": "x", "checks": [{"numeric": 4, "tolerence": 1}]}`, f.env, `check 1 (numeric): unknown key "tolerence": did you mean "tolerance"?`, ""},
		{"two kinds", `{"id": "a", "prompt": "x", "checks": [{"exact": "x", "contains": "x"}]}`, f.env, `check 1 names 2 kinds (contains, exact)`, ""},
		{"stray key", `{"id": "a", "prompt": "x", "checks": [{"exact": "x", "tolerance": 1}]}`, f.env, `check 1 (exact): unknown key "tolerance"`, "tolerance belongs to numeric checks only"},
		{"numeric text", `{"id": "a", "prompt": "x", "checks": [{"numeric": "42"}]}`, f.env, `"numeric" must be a number`, ""},
		{"negative tolerance", `{"id": "a", "prompt": "x", "checks": [{"numeric": 4, "tolerance": -1}]}`, f.env, `"tolerance" must be a number of at least 0`, ""},
		{"empty contains", `{"id": "a", "prompt": "x", "checks": [{"contains": "?!"}]}`, f.env, `would match anything`, "a needle that normalizes to nothing is a mistake"},
		{"judge model", `{"id": "a", "prompt": "x", "checks": [{"judge": {"model": "gpt", "rubric": "r"}}]}`, f.env, `judge model "gpt" is not a model of the spec (models: small, strong)`, ""},
		{"judge rubric", `{"id": "a", "prompt": "x", "checks": [{"judge": {"model": "strong"}}]}`, f.env, `judge strong has no rubric`, ""},
		{"validators false", `{"id": "a", "prompt": "x", "checks": [{"validators": false}]}`, f.env, `write {"validators": true}`, ""},
		{"nothing grades", `{"id": "a", "prompt": "x"}`, noValidators, `item "a": nothing grades its answers`, "no reference, no checks and no validators: the item could never fail"},
		{"not json", `{"id": "a", "prompt": }`, f.env, `set.jsonl:1: not a JSON object`, ""},
		{"array line", `["a", "b"]`, f.env, `set.jsonl:1: the line is an array, but an item must be a JSON object`, "no Go type names: the user wrote JSON"},
		{"checks as text", `{"id": "a", "prompt": "x", "checks": "contains x"}`, f.env, `set.jsonl:1: field "checks" is a string, but it must be an array, like "checks": [{"contains": "refund"}]`, ""},
		{"judge threshold as text", `{"id": "a", "prompt": "x", "checks": [{"judge": {"model": "strong", "rubric": "r", "threshold": "high"}}]}`, f.env, `check 1: "judge": "threshold" is a string, but it must be a number`, ""},
		{"judge as text", `{"id": "a", "prompt": "x", "checks": [{"judge": "strong"}]}`, f.env, `check 1: "judge" must be {"model": NAME, "rubric": "...", "threshold": 0.7}, not a string`, ""},
		{"empty", "\n# only a comment\n", f.env, `set.jsonl: the eval set has no items`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readSet(tt.text, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v\nwant it to contain %q: %s", err, tt.want, tt.explanation)
			}
		})
	}
}

func TestReadSetReportsEveryProblem(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	_, err := readSet("{\"id\": \"a\"}\n{\"id\": \"b\", \"prompt\": \"ok\"}\n{\"prompt\": \"x\"}\n", f.env)
	if err == nil || !strings.Contains(err.Error(), "set.jsonl:1:") || !strings.Contains(err.Error(), "set.jsonl:3:") || strings.Contains(err.Error(), "set.jsonl:2:") {
		t.Errorf("every bad line is reported, each with its line: %v", err)
	}
}

// TestReadSetWarnsOfReferencesTheValidatorsFail: an item graded by its reference, or by a check
// that asks for it, with the category's JSON Schema (which requires "id") beside it, has its
// right answers flagged by the validators when the reference lacks "id".
func TestReadSetWarnsOfReferencesTheValidatorsFail(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	text := `{"id": "bad", "prompt": "x", "reference": "{\"name\": \"a\"}"}
{"id": "good", "prompt": "x", "reference": "{\"id\": \"a\"}"}
{"id": "checks", "prompt": "x", "reference": "{\"name\": \"a\"}", "checks": [{"contains": "a"}, {"validators": true}]}
{"id": "normalized", "prompt": "x", "reference": "{\"name\": \"a\"}", "checks": [{"normalized": "{\"name\": \"a\"}"}]}
`
	set, err := readSet(text, f.env)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Warnings) != 2 || !strings.HasPrefix(set.Warnings[0], `set.jsonl:1: item "bad": the category's validators fail the reference itself (`) ||
		!strings.Contains(set.Warnings[0], "so they flag every answer that matches it") || !strings.HasPrefix(set.Warnings[1], `set.jsonl:4: item "normalized": `) {
		t.Errorf("warnings %q: want two, for the items whose answers must match a reference the schema fails", set.Warnings)
	}
}

func TestReadSetItems(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	text := `# comments and blank lines are skipped

{"id": "plain", "prompt": "What is 6 x 7?", "reference": "42"}
{"id": "chat", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Refund?"}]}], "response_format": {"type": "json_object"}, "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]}
{"id": "checks", "prompt": "x", "checks": [{"judge": {"model": "strong", "rubric": "is it right"}}, {"numeric": 42.5, "tolerance": 0.01}, {"validators": true}]}
`
	set, err := readSet(text, f.env)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Items) != 3 {
		t.Fatalf("%d items, want 3", len(set.Items))
	}
	names := func(it *Item) []string {
		var out []string
		for _, g := range it.Graders {
			out = append(out, strings.SplitN(g.Name(), " ", 2)[0])
		}
		return out
	}
	plain, chat, checks := set.Items[0], set.Items[1], set.Items[2]
	tests := []struct {
		got, want   any
		explanation string
	}{
		{plain.Line, 3, "lines count from 1, comments and blank lines included"},
		{names(plain), []string{"validators", "normalized"}, "without checks: the category's validators, then a normalized match with the reference"},
		{plain.Request.LastUserText(), "What is 6 x 7?", "a prompt is one user message"},
		{string(plain.Request.Body), `{"model":"clearbar/extract","messages":[{"role":"user","content":"What is 6 x 7?"}]}`, "the body names the category's alias: each adapter sets its own model id"},
		{chat.Prompt, "Refund?", "the prompt is the last user message's text"},
		{chat.Request.SystemText(), "Be brief.", "messages pass through as written"},
		{chat.Request.ResponseFormat.Type, "json_object", "response_format passes through"},
		{len(chat.Request.Tools), 1, "tools pass through"},
		{names(chat), []string{"validators"}, "no reference: validators only"},
		{names(checks), []string{"numeric", "validators", "judge"}, "checks as written, the judge (a model call) moved last"},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("got %v, want %v: %s", tt.got, tt.want, tt.explanation)
		}
	}
}

// judgeCaller answers every judge call with a fixed reply at a fixed cost.
type judgeCaller struct {
	reply string
	calls int
}

func (c *judgeCaller) Call(_ context.Context, m *spec.Model, _ *clearbar.Request) (*clearbar.Response, clearbar.Attempt, error) {
	c.calls++
	return &clearbar.Response{Choices: []clearbar.Choice{{Text: c.reply}}}, clearbar.Attempt{Model: m.Name, Cost: 2500}, nil
}

func TestJudgeChecks(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	tests := []struct {
		reply, answer string
		pass          bool
		score         float64
		calls         int
		explanation   string
	}{
		{`{"score": 0.9, "reason": "right"}`, "42", true, 0.9, 1, "a score over the threshold passes, and the row's score is the judge's"},
		{`{"score": 0.6}`, "42", false, 0.6, 1, "a score under the 0.7 threshold fails"},
		{`I cannot grade this`, "42", false, 0, 1, "a reply without a score fails the answer"},
		{`{"score": 1}`, "41", false, 0, 0, "the judge is not called once a cheap check has failed"},
	}
	for _, tt := range tests {
		caller := &judgeCaller{reply: tt.reply}
		env := f.env
		env.Caller = caller
		set, err := readSet(`{"id": "j", "prompt": "6 x 7?", "checks": [{"judge": {"model": "strong", "rubric": "correct"}}, {"numeric": 42}]}`, env)
		if err != nil {
			t.Fatal(err)
		}
		r := &Runner{Category: f.cat, Models: f.models("small"), Providers: map[string]clearbar.Provider{"sim-a": answerProvider(tt.answer)}}
		rec, cost, err := r.runPair(context.Background(), pair{item: set.Items[0], model: f.spec.Model("small")})
		if err != nil || rec == nil {
			t.Fatalf("runPair: %v", err)
		}
		if *rec.Pass != tt.pass || *rec.Score != tt.score || caller.calls != tt.calls {
			t.Errorf("reply %s on %q: pass %v score %v after %d judge calls; want %v, %v, %d: %s", tt.reply, tt.answer, *rec.Pass, *rec.Score, caller.calls, tt.pass, tt.score, tt.calls, tt.explanation)
		}
		if want := clearbar.Money(2500 * tt.calls); cost != want || checkNamed(t, rec.Checks, "judge ").Cost != want {
			t.Errorf("grading cost %v (verdict %v), want %v: a judge's calls are the grading's cost", cost, checkNamed(t, rec.Checks, "judge ").Cost, want)
		}
	}
}

// answerProvider answers every call with a fixed text.
type answerProvider string

func (p answerProvider) Name() string { return "fixed" }
func (p answerProvider) Complete(context.Context, *clearbar.Call) (*clearbar.Response, error) {
	return &clearbar.Response{Choices: []clearbar.Choice{{Text: string(p)}}}, nil
}
func (p answerProvider) Stream(context.Context, *clearbar.Call) (clearbar.Stream, error) {
	return nil, clearbar.Errorf(clearbar.ClientError, "no streams")
}

// TestReadSetSkipsByteOrderMark: a set saved by an editor that starts files with a UTF-8 byte
// order mark (and ends lines with CRLF) reads like the same set without them.
func TestReadSetSkipsByteOrderMark(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	set, err := readSet("\ufeff{\"id\": \"a\", \"prompt\": \"x\", \"reference\": \"1\"}\r\n{\"id\": \"b\", \"prompt\": \"y\", \"reference\": \"2\"}\r\n", f.env)
	if err != nil || len(set.Items) != 2 || set.Items[0].ID != "a" {
		t.Fatalf("set %+v, error %v; want items a and b", set, err)
	}
}

// TestValidatorsBesideChecks: the category's validators run on every answer and their verdict
// is recorded, once, beside an item's checks as beside its reference, without counting; alone,
// {"validators": true} grades. Rows of items with checks written before the validators ran
// beside them are graded again on a resumed run, without a call, and gain their verdict.
func TestValidatorsBesideChecks(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	dir := t.TempDir()
	setFile := filepath.Join(dir, "set.jsonl")
	items := `{"id": "reference", "prompt": "Extract the id from ticket 1.", "reference": "ok"}
{"id": "checks", "prompt": "Extract the id from ticket 2.", "checks": [{"contains": "ok"}]}
{"id": "named", "prompt": "Extract the id from ticket 3.", "checks": [{"contains": "ok"}, {"validators": true}]}
{"id": "alone", "prompt": "Extract the id from ticket 4.", "checks": [{"validators": true}]}
`
	if err := os.WriteFile(setFile, []byte(items), 0o644); err != nil {
		t.Fatal(err)
	}
	fake := &fakeProvider{name: "sim-a"} // answers "ok", which the JSON Schema fails
	res, _ := runSmall(t, f, setFile, filepath.Join(dir, "out.jsonl"), fake)
	for _, rec := range res.Rows {
		v := checkNamed(t, rec.Checks, validatorsPrefix)
		wantPass, wantBy := true, GradeChecks
		if rec.Item == "alone" {
			wantPass, wantBy = false, GradeValidators
		}
		if v.Pass || !strings.Contains(v.Reason, "not valid JSON") || rec.Pass == nil || *rec.Pass != wantPass || rec.GradedBy != wantBy {
			t.Errorf("item %s: pass %v, graded by %q, checks %+v; want pass %v by %s, with the validators' failure recorded", rec.Item, rec.Pass, rec.GradedBy, rec.Checks, wantPass, wantBy)
		}
	}

	// Rows written when the validators did not run beside checks.
	older := filepath.Join(dir, "older.jsonl")
	oldSet := filepath.Join(dir, "checks.jsonl")
	if err := os.WriteFile(oldSet, []byte(writeSetText(3, `, "checks": [{"contains": "ok"}]`)), 0o644); err != nil {
		t.Fatal(err)
	}
	without := *f
	without.env.Checker = nil
	if res, _ := runSmall(t, &without, oldSet, older, fake); res.Ran != 3 {
		t.Fatalf("older rows: %+v", res)
	}
	calls := fake.calls.Load()
	res, _ = runSmall(t, f, oldSet, older, fake)
	if res.Ran != 0 || res.Regraded != 3 || fake.calls.Load() != calls {
		t.Errorf("resumed over older rows: ran %d, regraded %d, %d calls; want the 3 graded again, without a call", res.Ran, res.Regraded, fake.calls.Load()-calls)
	}
	for _, rec := range readRecords(t, older) {
		if v := checkNamed(t, rec.Checks, validatorsPrefix); v.Pass || rec.Pass == nil || !*rec.Pass {
			t.Errorf("item %s graded again: pass %v, checks %+v; want the checks' pass and the validators' verdict beside", rec.Item, rec.Pass, rec.Checks)
		}
	}
}
