package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar/outcomes"
)

// TestEstimateMeasuredEscalatedPassRate: estimate --measured measures a cascade's later model
// on the items its earlier model fails (weighted by the validation's chance of escalating
// each), so that the estimate's quality is what the cascade gets on those outcomes, not what
// the later model's overall pass rate would give.
func TestEstimateMeasuredEscalatedPassRate(t *testing.T) {
	dir := t.TempDir()
	specFile := smallStrongSpec(t, dir, "0.85", "{cascade: [small, strong], validate: [{max_length: 10}]}",
		"{pass_rate: {small: 0.6, strong: 0.9}, escalated_pass_rate: {strong: 0.95}, validator: {detect: 1, false_alarm: 0}}")
	// small passes 60 of 100 items; strong all of those and 30 of the other 40: 90 overall,
	// 75% of the items small fails, which a perfect validator escalates.
	var rows []outcomes.Row
	for i := range 100 {
		small, strong := i < 60, i < 90
		rows = append(rows,
			outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", Prompt: fmt.Sprint("question ", i), Model: "small", Pass: &small},
			outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", Prompt: fmt.Sprint("question ", i), Model: "strong", Pass: &strong})
	}
	table := filepath.Join(dir, "qa.jsonl")
	writeRows(t, table, rows)
	code, out, errOut := run(t, "estimate", specFile, "--measured", table, "--format", "json", "--samples", "2000")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Policies []struct {
			Name       string
			Categories []struct{ Quality float64 }
		}
		Measured struct {
			Findings []struct {
				Model, What, Note string
				Assumed, Measured float64
				N                 int
				Contradicts, Used bool
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range rep.Measured.Findings {
		if f.What != "escalated pass rate" {
			continue
		}
		found = true
		if f.Model != "strong" || f.Measured != 0.75 || f.N != 40 || !f.Used || !f.Contradicts || f.Assumed != 0.95 {
			t.Errorf("escalated pass rate finding %+v; want strong's 30 of 40, used, contradicting the assumed 0.95", f)
		}
	}
	if !found {
		t.Fatalf("no escalated pass rate among the findings: %+v", rep.Measured.Findings)
	}
	// 60 answers of small delivered good, and strong's 75% of the 40 escalated: 90%.
	if q := rep.Policies[0].Categories[0].Quality; rep.Policies[0].Name != "spec" || math.Abs(q-0.90) > 1e-9 {
		t.Errorf("%s quality %.6f with the measurements, want 0.90 (0.96 with strong at its overall pass rate)", rep.Policies[0].Name, q)
	}
}

// TestInterruptedCommandSaysSo: a command stopped by Ctrl-C says it was interrupted, not the
// bare "context canceled", and exits 130 as a shell's interrupted command does.
func TestInterruptedCommandSaysSo(t *testing.T) {
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""), Now: time.Now}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code := m.Run(ctx, []string{"estimate", "../../examples/quickstart.yaml", "--samples", "50000000"})
	if code != 130 || !strings.Contains(errb.String(), "clearbar estimate: interrupted (Ctrl-C or SIGTERM) before it finished") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}
