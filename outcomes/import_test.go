package outcomes_test

import (
	"errors"
	"io"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
)

func importFile(t *testing.T, name string, imp func(r *os.File) error) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := imp(f); err != nil {
		t.Fatal(err)
	}
}

func collect(t *testing.T, name string, imp func(*os.File, func(outcomes.Row) error) error) []outcomes.Row {
	t.Helper()
	var rows []outcomes.Row
	importFile(t, name, func(f *os.File) error {
		return imp(f, func(r outcomes.Row) error { rows = append(rows, r); return nil })
	})
	return rows
}

func importRouterBench(f *os.File, emit func(outcomes.Row) error) error {
	return outcomes.ImportRouterBench(f, emit)
}

func importRouteLLM(f *os.File, emit func(outcomes.Row) error) error {
	return outcomes.ImportRouteLLM(f, emit)
}

func TestImportRouterBenchFixture(t *testing.T) {
	rows := collect(t, "testdata/routerbench.jsonl", importRouterBench)
	if len(rows) != 9 {
		t.Fatalf("got %d rows, want 3 prompts × 3 models", len(rows))
	}
	var models []string
	for _, r := range rows[:3] {
		models = append(models, r.Model)
	}
	if want := []string{"m-big", "m-small", "m-odd"}; !reflect.DeepEqual(models, want) {
		t.Errorf("models %v, want file order %v", models, want)
	}
	first := outcomes.Row{
		Item: "arc-challenge.test.1", Task: "arc-challenge", Prompt: "Q1?\nA) x\nB) y",
		PromptHash: outcomes.HashPrompt("Q1?\nA) x\nB) y"), Model: "m-big", Response: "B",
		Cost: clearbar.Money(5_000_000), Score: ptr(1.0), Pass: ptr(true), Source: "routerbench",
	}
	if !reflect.DeepEqual(rows[0], first) {
		t.Errorf("first row\n got %+v\nwant %+v", rows[0], first)
	}
	tests := []struct {
		row         int
		check       func(outcomes.Row) bool
		explanation string
	}{
		{2, func(r outcomes.Row) bool { return r.Score == nil && r.Pass == nil && r.Cost == 300_000 },
			"a null score is not graded: no Score, no Pass, but the cost stays"},
		{4, func(r outcomes.Row) bool { return *r.Score == 0 && !*r.Pass && r.Cost == 50_000 },
			"a 0 score fails; 5e-05 USD is 50,000 nano-dollars"},
		{3, func(r outcomes.Row) bool { return r.Response == "def add(a, b):\n    return a + b" && r.Task == "mbpp" },
			"responses keep their newlines; Task is the eval name"},
		{6, func(r outcomes.Row) bool { return r.Item == "arc-challenge.test.1#2" },
			"a reused sample id with another prompt gets a suffix, so (item, model) stays unique"},
	}
	for _, tt := range tests {
		if !tt.check(rows[tt.row]) {
			t.Errorf("row %d = %+v: %s", tt.row, rows[tt.row], tt.explanation)
		}
	}
}

func TestImportRouteLLMFixture(t *testing.T) {
	rows := collect(t, "testdata/routellm.jsonl", importRouteLLM)
	if len(rows) != 6 {
		t.Fatalf("got %d rows, want 3 prompts × 2 models", len(rows))
	}
	tests := []struct {
		row                    int
		item, task, model, rsp string
		score                  float64
		pass                   bool
		explanation            string
	}{
		{0, "mmlu.abstract_algebra.0", "mmlu/abstract_algebra", "weak", "", 1, true, "MMLU: task/subject, no response"},
		{2, "gsm8k.0", "gsm8k/test", "weak", "3", 0, false, "GSM8K has responses"},
		{4, "mt_bench.81.turn1", "mt_bench/writing", "strong", "", 1, true, "MT-Bench: score_0_1 replaces the 1-10 score"},
		{5, "mt_bench.81.turn1", "mt_bench/writing", "weak", "", 1.0 / 3, false, "a 4/10 judge score is (4-1)/9 and fails"},
	}
	for _, tt := range tests {
		r := rows[tt.row]
		if r.Item != tt.item || r.Task != tt.task || r.Model != tt.model || r.Response != tt.rsp ||
			r.Score == nil || math.Abs(*r.Score-tt.score) > 1e-12 || *r.Pass != tt.pass || r.Source != "routellm" {
			t.Errorf("row %d = %+v: %s", tt.row, r, tt.explanation)
		}
		if r.PromptHash != outcomes.HashPrompt(r.Prompt) {
			t.Errorf("row %d: prompt hash does not match the prompt", tt.row)
		}
	}
}

func TestImportErrors(t *testing.T) {
	type importer func(r *strings.Reader, emit func(outcomes.Row) error) error
	rb := func(r *strings.Reader, emit func(outcomes.Row) error) error {
		return outcomes.ImportRouterBench(r, emit)
	}
	rl := func(r *strings.Reader, emit func(outcomes.Row) error) error { return outcomes.ImportRouteLLM(r, emit) }
	good := `{"sample_id":"a","eval_name":"mbpp","prompt":"p","models":{"m":{"score":1,"cost_usd":0.1,"response":"r"}}}`
	tests := []struct {
		name        string
		imp         importer
		input, want string
		explanation string
	}{
		{"truncated", rb, good + "\n" + `{"sample_id":`, "routerbench: line 2:", "malformed JSON names its line"},
		{"wrong file", rb, `{"task":"mmlu","id":"x","prompt":"p","models":{}}`, "no sample_id (is this the RouterBench", "a RouteLLM file given to the RouterBench import"},
		{"wrong file 2", rl, good, "no id (is this the RouteLLM", "a RouterBench file given to the RouteLLM import"},
		{"models not object", rb, `{"sample_id":"a","prompt":"p","models":[1]}`, "models is not an object", ""},
		{"no models", rl, `{"id":"a","prompt":"p"}`, "line 1: no models", ""},
		{"bad score", rb, `{"sample_id":"a","prompt":"p","models":{"m":{"score":"x"}}}`, `model "m": json: cannot unmarshal`, "names the model"},
		{"raw judge score", rl, `{"id":"a","prompt":"p","models":{"m":{"score":9}}}`, `model "m": score 9 is outside 0..1`, "a 1-10 score without score_0_1 cannot be a grade"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.imp(strings.NewReader(tt.input), func(outcomes.Row) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q %s", err, tt.want, tt.explanation)
			}
		})
	}
}

// TestImportRawFile: a dataset's raw files (RouterBench's CSVs, RouteLLM's archives) are not
// the normalised outcomes.jsonl.gz the importers read; the error says so, and which file to
// give, instead of a JSON syntax error.
func TestImportRawFile(t *testing.T) {
	tests := []struct {
		name, input, want string
		imp               func(io.Reader, func(outcomes.Row) error) error
	}{
		{"routerbench csv", ",sample_id,prompt,eval_name,gpt-4|model_response\n0,mbpp.1,\"['Write a function']\",mbpp,x\n", `line 1 is a CSV header (",sample_id,prompt`, outcomes.ImportRouterBench},
		{"routellm archive", "mmlu_responses/\x00\x00\x00\x000000755\n", "line 1 is binary data", outcomes.ImportRouteLLM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.imp(strings.NewReader(tt.input), func(outcomes.Row) error { return nil })
			if !errors.Is(err, outcomes.ErrNotJSONLines) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "/outcomes.jsonl.gz") {
				t.Errorf("error = %v; want ErrNotJSONLines saying %q and naming the dataset's outcomes.jsonl.gz", err, tt.want)
			}
		})
	}
}

func TestImportStopsOnEmitError(t *testing.T) {
	stop := errors.New("enough")
	n := 0
	f, err := os.Open("testdata/routerbench.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = outcomes.ImportRouterBench(f, func(outcomes.Row) error {
		n++
		if n == 4 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 4 || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("after %d rows err = %v; want the emit error, wrapped with line 2, and no more rows", n, err)
	}
}
