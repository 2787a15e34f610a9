package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/eval"
)

func writeEvalImportFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEvalImportBFCL converts a BFCL file through the command, with its answers found beside
// it, and runs clearbar eval on the set it wrote: the loop the README describes.
func TestEvalImportBFCL(t *testing.T) {
	dir, specPath, _ := evalDir(t, 0)
	q := writeEvalImportFile(t, filepath.Join(dir, "BFCL_v4_simple_python.json"),
		`{"id": "simple_python_1", "question": [[{"role": "user", "content": "What is 5 factorial?"}]], "function": [{"name": "math.factorial", "description": "Factorial.", "parameters": {"type": "dict", "properties": {"number": {"type": "integer"}}, "required": ["number"]}}]}`+"\n"+
			`{"id": "simple_python_2", "question": [[{"role": "user", "content": "Hypotenuse of 4 and 5?"}]], "function": [{"name": "math.hypot", "description": "Hypotenuse.", "parameters": {"type": "dict", "properties": {"x": {"type": "float"}, "y": {"type": "float"}}, "required": ["x", "y"]}}]}`+"\n")
	writeEvalImportFile(t, filepath.Join(dir, "possible_answer", "BFCL_v4_simple_python.json"),
		`{"id": "simple_python_1", "ground_truth": [{"math.factorial": {"number": [5]}}]}`+"\n"+
			`{"id": "simple_python_2", "ground_truth": [{"math.hypot": {"x": [4], "y": [5]}}]}`+"\n")
	setPath := filepath.Join(dir, "bfcl.jsonl")
	code, stdout, stderr := run(t, "eval", "import", "--bfcl", q, "--out", setPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout %q: the set goes to --out", stdout)
	}
	for _, want := range []string{
		"2 function name(s) of the file with dots were written with underscores (math.factorial as math_factorial, math.hypot as math_hypot)",
		"wrote 2 items to " + setPath + "; measure models on them with: clearbar eval SPEC --category C --set " + setPath,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	set, err := eval.LoadSet(setPath, eval.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Items) != 2 || set.Items[0].Request.Tools[0].Name != "math_factorial" || set.Items[0].ReferenceToolCalls[0].Name != "math_factorial" {
		t.Fatalf("the set read back: %+v", set.Items)
	}

	code, _, stderr = run(t, "eval", specPath, "--category", "extract", "--set", setPath, "--simulate", "--progress", "never", "--out", filepath.Join(dir, "bfcl.outcomes.jsonl"))
	if code != 0 {
		t.Fatalf("clearbar eval on the imported set: exit %d: %s", code, stderr)
	}
}

// TestEvalImportBanking77 converts a Banking77 CSV to standard output, sampled, and checks the
// sample is the same for the same seed.
func TestEvalImportBanking77(t *testing.T) {
	dir := t.TempDir()
	rows := writeEvalImportFile(t, filepath.Join(dir, "test.csv"), "text,category\n"+
		"How do I locate my card?,card_arrival\n"+
		"My card is not linked,card_linking\n"+
		"What exchange rate do you use?,exchange_rate\n"+
		"Where is my card?,card_arrival\n")
	cats := writeEvalImportFile(t, filepath.Join(dir, "labels.json"), `["card_arrival", "card_linking", "exchange_rate"]`)
	code, stdout, stderr := run(t, "eval", "import", "--banking77", rows, "--categories", cats, "--sample", "2", "--seed", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "# Banking77 (PolyAI-LDN/task-specific-datasets, CC BY 4.0): test.csv") {
		t.Fatalf("want a header and 2 items, got:\n%s", stdout)
	}
	_, again, _ := run(t, "eval", "import", "--banking77", rows, "--categories", cats, "--sample", "2", "--seed", "3")
	if again != stdout {
		t.Errorf("the same seed drew another sample:\n%s\n%s", stdout, again)
	}
	set, err := eval.ReadSet(strings.NewReader(stdout), "stdout", eval.Env{})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range set.Items {
		if !strings.HasPrefix(it.ID, "banking77-test-") {
			t.Errorf("item id %s", it.ID)
		}
	}
	code, stdout, _ = run(t, "eval", "import", "--banking77", rows, "--categories", cats, "--limit", "1")
	if code != 0 || strings.Count(stdout, `"id":`) != 1 || !strings.Contains(stdout, `"id":"banking77-test-0"`) {
		t.Errorf("--limit 1: exit %d:\n%s", code, stdout)
	}
}

func TestEvalImportUsage(t *testing.T) {
	dir := t.TempDir()
	rows := writeEvalImportFile(t, filepath.Join(dir, "test.csv"), "text,category\nhi,card_arrival\nhow?,card_lost\n")
	writeEvalImportFile(t, filepath.Join(dir, "categories.json"), `["card_arrival"]`)
	existing := writeEvalImportFile(t, filepath.Join(dir, "set.jsonl"), "kept\n")
	tests := []struct {
		name        string
		args        []string
		code        int
		want        string
		explanation string
	}{
		{"neither", nil, 2, "give one of --bfcl FILE or --banking77 FILE", ""},
		{"both", []string{"--bfcl", "a.json", "--banking77", rows}, 2, "give one of --bfcl FILE or --banking77 FILE", ""},
		{"answers alone", []string{"--banking77", rows, "--answers", "a.json"}, 2, "--answers is BFCL's possible_answer file: give it with --bfcl", ""},
		{"seed alone", []string{"--banking77", rows, "--seed", "4"}, 2, "--seed seeds --sample's draw: give --sample N too", ""},
		{"gzip out", []string{"--banking77", rows, "--out", "set.jsonl.gz"}, 2, "clearbar eval reads a set uncompressed", ""},
		{"csv out", []string{"--banking77", rows, "--out", "set.csv"}, 2, "an eval set is JSON Lines", ""},
		{"bad row", []string{"--banking77", rows, "--out", existing}, 1, `test.csv:3: category "card_lost" is not one of the 1 labels`, "a failed conversion leaves --out as it was"},
		{"missing file", []string{"--bfcl", filepath.Join(dir, "nope.json")}, 1, "nope.json: no such file", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, append([]string{"eval", "import"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "kept\n" {
		t.Errorf("a failed conversion replaced --out: %q", b)
	}
	code, stdout, _ := run(t, "eval", "import", "-h")
	if code != 0 || !strings.Contains(stdout, "Usage: "+evalImportUsage) || !strings.Contains(stdout, "--banking77") {
		t.Errorf("eval import -h: exit %d:\n%s", code, stdout)
	}
}
