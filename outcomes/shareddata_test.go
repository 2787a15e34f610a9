package outcomes_test

import (
	"bytes"
	"compress/gzip"
	"math"
	"os"
	"testing"

	"github.com/clearbar/clearbar/outcomes"
)

// These tests read the project's shared benchmark data, which lives outside the module. They
// skip when it is absent (a fresh clone, CI without the data volume).

const (
	routerBenchFile = "../../shared/data/routerbench_subset/outcomes.jsonl.gz"
	routeLLMFile    = "../../shared/data/routellm_evals/outcomes.jsonl.gz"
)

func openShared(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(name)
	if os.IsNotExist(err) {
		t.Skipf("shared data %s is not present; skipping the real-data check", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

type modelStats struct {
	rows, graded int
	scoreSum     float64
	costUSD      float64
}

// TestRouterBenchSharedData checks the import against the figures in
// shared/data/routerbench_subset/SOURCE.md. It also writes one model's rows as a gzip table and
// reads them back with Reader, the path the replay provider takes. (One model keeps it fast: the
// 5-shot ARC prompts make the whole table about 140 MB before compression.)
func TestRouterBenchSharedData(t *testing.T) {
	t.Parallel()
	f := openShared(t, routerBenchFile)
	var table bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&table, gzip.BestSpeed)
	w := outcomes.NewWriter(zw)
	stats := map[string]*modelStats{}
	items := map[string]bool{}
	rows, ungraded := 0, 0
	err := outcomes.ImportRouterBench(f, func(r outcomes.Row) error {
		rows++
		items[r.Item] = true
		s := stats[r.Model]
		if s == nil {
			s = &modelStats{}
			stats[r.Model] = s
		}
		s.rows++
		s.costUSD += r.Cost.USD()
		if r.Model == "gpt-4-1106-preview" {
			if err := w.Write(r); err != nil {
				return err
			}
		}
		if r.Score == nil {
			ungraded++
		} else {
			s.graded++
			s.scoreSum += *r.Score
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != 3178*11 || len(stats) != 11 {
		t.Errorf("%d rows for %d models; SOURCE.md says 3,178 prompts × 11 models", rows, len(stats))
	}
	if len(items) != 3178 {
		t.Errorf("%d distinct items, want 3,178 (the 14 reused sample ids are made unique)", len(items))
	}
	if ungraded != 154 {
		t.Errorf("%d rows without a score, SOURCE.md counts 154 missing score cells", ungraded)
	}
	gpt4 := stats["gpt-4-1106-preview"]
	if gpt4 == nil {
		t.Fatal("no rows for gpt-4-1106-preview")
	}
	if mean := gpt4.scoreSum / float64(gpt4.graded); math.Abs(mean-0.8799) > 0.00006 {
		t.Errorf("gpt-4-1106-preview mean score %.5f, SOURCE.md says 0.8799", mean)
	}
	if math.Abs(gpt4.costUSD-16.0058) > 0.0001 {
		t.Errorf("gpt-4-1106-preview total cost $%.4f, SOURCE.md says $16.0058", gpt4.costUSD)
	}

	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	r := outcomes.NewReader(&table)
	n := 0
	for r.Next() {
		n++
	}
	if r.Err() != nil || n != gpt4.rows {
		t.Errorf("read back %d of the %d rows written: %v", n, gpt4.rows, r.Err())
	}
}

// TestRouteLLMSharedData checks the import against shared/data/routellm_evals/SOURCE.md.
func TestRouteLLMSharedData(t *testing.T) {
	t.Parallel()
	f := openShared(t, routeLLMFile)
	rows := 0
	perTask := map[string]*modelStats{} // "task model" → stats, over the mmlu subjects
	err := outcomes.ImportRouteLLM(f, func(r outcomes.Row) error {
		rows++
		if r.Score == nil || r.Pass == nil {
			t.Fatalf("%s/%s is not graded; every RouteLLM row has a score", r.Item, r.Model)
		}
		if len(r.Task) > 5 && r.Task[:5] == "mmlu/" {
			s := perTask[r.Model]
			if s == nil {
				s = &modelStats{}
				perTask[r.Model] = s
			}
			s.rows++
			s.scoreSum += *r.Score
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != 15521*2 {
		t.Errorf("%d rows; SOURCE.md says 15,521 prompts × 2 models", rows)
	}
	for model, want := range map[string]float64{"mixtral-8x7b-instruct-v0.1": 0.6808, "gpt-4-1106-preview": 0.8058} {
		s := perTask[model]
		if s == nil || s.rows != 14042 {
			t.Errorf("%s: MMLU rows %v, want 14,042", model, s)
			continue
		}
		if mean := s.scoreSum / float64(s.rows); math.Abs(mean-want) > 0.00006 {
			t.Errorf("%s: MMLU mean score %.5f, SOURCE.md says %.4f", model, mean, want)
		}
	}
}
