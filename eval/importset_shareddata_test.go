package eval

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/clearbar/clearbar/gateway"
)

// These tests convert the project's shared benchmark data, which lives outside the module.
// They skip when it is absent (a fresh clone, CI without the data volume).

const (
	sharedBFCL      = "../../shared/data/function_calling_bfcl"
	sharedBanking77 = "../../shared/data/intent_classification/banking77"
)

func needShared(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); os.IsNotExist(err) {
		t.Skipf("shared data %s is not present; skipping the real-data check", path)
	}
}

// TestImportBFCLSharedData converts every BFCL file of the shared data, with its answers found
// beside it, and checks the counts of its SOURCE.md, that the set reads back, and that every
// request passes the gateway's checks with OpenAI's tool names enforced.
func TestImportBFCLSharedData(t *testing.T) {
	needShared(t, sharedBFCL)
	counts := map[string]int{ // SOURCE.md's table
		"BFCL_v4_irrelevance.json":       240,
		"BFCL_v4_live_simple.json":       258,
		"BFCL_v4_multiple.json":          200,
		"BFCL_v4_parallel.json":          200,
		"BFCL_v4_parallel_multiple.json": 200,
		"BFCL_v4_simple_python.json":     400,
	}
	for file, want := range counts {
		t.Run(file, func(t *testing.T) {
			set, err := ImportBFCL(filepath.Join(sharedBFCL, file), "")
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Items) != want {
				t.Fatalf("%d items, SOURCE.md says %d", len(set.Items), want)
			}
			var buf bytes.Buffer
			if err := set.Write(&buf); err != nil {
				t.Fatal(err)
			}
			read, err := ReadSet(&buf, file, Env{})
			if err != nil {
				t.Fatal(err)
			}
			if len(read.Items) != want {
				t.Fatalf("the set reads back %d items, want %d", len(read.Items), want)
			}
			irrelevance := file == "BFCL_v4_irrelevance.json"
			strict := gateway.DefaultLimits
			strict.ToolNames = true
			for i, it := range read.Items {
				if got := len(it.ReferenceToolCalls) == 0; got != irrelevance {
					t.Fatalf("item %s expects no call: %v, want %v", it.ID, got, irrelevance)
				}
				b, err := encodeItem(set.Items[i])
				if err != nil {
					t.Fatal(err)
				}
				if _, err := gateway.DecodeChatRequest(openAIBody(t, b), strict); err != nil {
					t.Fatalf("item %s: the gateway refuses its request: %v", it.ID, err)
				}
			}
		})
	}
}

// TestImportBanking77SharedData converts both Banking77 files and checks the sizes of the
// shared data's SOURCE.md, that the set reads back, and that no two of the 77 labels grade
// each other's answers as right.
func TestImportBanking77SharedData(t *testing.T) {
	needShared(t, sharedBanking77)
	for file, want := range map[string]int{"train.csv": 10003, "test.csv": 3080} {
		t.Run(file, func(t *testing.T) {
			set, err := ImportBanking77(filepath.Join(sharedBanking77, file), "")
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Items) != want {
				t.Fatalf("%d items, SOURCE.md says %d", len(set.Items), want)
			}
			var buf bytes.Buffer
			if err := set.Write(&buf); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadSet(&buf, file, Env{}); err != nil {
				t.Fatal(err)
			}
		})
	}
	b, err := os.ReadFile(filepath.Join(sharedBanking77, "categories.json"))
	if err != nil {
		t.Fatal(err)
	}
	labels, err := ReadLabels(b, "categories.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(labels) != 77 {
		t.Fatalf("%d labels, want 77", len(labels))
	}
	seen := map[string]string{}
	for _, l := range labels {
		if other, dup := seen[Normalize(l)]; dup {
			t.Errorf("labels %s and %s normalize alike: an answer naming one passes for the other", other, l)
		}
		seen[Normalize(l)] = l
	}
}
