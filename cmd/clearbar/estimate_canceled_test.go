package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEstimateMeasuredLeavesCanceledCallsOut: a call cut by the client going away or by the
// gateway shutting down ("error": "canceled", as outcomes export writes it) neither failed
// nor answered: it counts neither against the model's availability nor among its latencies.
func TestEstimateMeasuredLeavesCanceledCallsOut(t *testing.T) {
	var b strings.Builder
	for i := range 60 {
		switch {
		case i < 30:
			fmt.Fprintf(&b, `{"item": "d%d", "category": "draft", "prompt_hash": "%016x", "model": "mini", "latency_ms": 400, "source": "trace"}`+"\n", i, i)
		case i < 40:
			fmt.Fprintf(&b, `{"item": "d%d", "category": "draft", "prompt_hash": "%016x", "model": "mini", "latency_ms": 400, "error": "overloaded", "source": "trace"}`+"\n", i, i)
		default: // cut after 5 ms: a latency that measures nothing
			fmt.Fprintf(&b, `{"item": "d%d", "category": "draft", "prompt_hash": "%016x", "model": "mini", "latency_ms": 5, "error": "canceled", "source": "trace"}`+"\n", i, i)
		}
	}
	measured := filepath.Join(t.TempDir(), "trace.jsonl")
	if err := os.WriteFile(measured, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "estimate", "../../examples/quickstart.yaml", "--measured", measured, "--format", "json", "--samples", "6000")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Measured struct {
			Findings []struct {
				Category, Model, What string
				Measured              float64
				N                     int
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	found := 0
	for _, f := range rep.Measured.Findings {
		if f.Category != "draft" || f.Model != "mini" {
			continue
		}
		switch f.What {
		case "availability":
			found++
			if f.N != 40 || math.Abs(f.Measured-30.0/40) > 1e-9 {
				t.Errorf("availability %v of %d calls, want 30 of 40 (the 20 canceled left out)", f.Measured, f.N)
			}
		case "latency p50":
			found++
			if f.N != 30 || f.Measured < 0.3 {
				t.Errorf("latency p50 %v s of %d calls, want 0.4 s of the 30 answered", f.Measured, f.N)
			}
		}
	}
	if found != 2 {
		t.Errorf("want availability and latency p50 findings for mini in draft, got: %+v", rep.Measured.Findings)
	}
}
