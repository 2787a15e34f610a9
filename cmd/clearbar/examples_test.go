package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/trace"
)

// TestExamplesRunEndToEnd serves the support-triage and batch-extraction examples on the
// simulator with their real validators (JSON Schema files, required fields, tool calls against
// a function-calling schema) and checks that cheap answers that fail validation escalate, with
// the validators' reasons in the decision records.
func TestExamplesRunEndToEnd(t *testing.T) {
	orderTool := `"tools":[{"type":"function","function":{"name":"get_order_status","description":"Look up an order.","parameters":{"type":"object","properties":{"order_id":{"type":"string","description":"The order id, like AB-123456."}},"required":["order_id"]}}}]`
	for _, ex := range []struct {
		file     string
		requests map[string]string // header task → body
	}{
		{"support-triage.yaml", map[string]string{
			"intent":        `{"model":"clearbar/auto","messages":[{"role":"user","content":"Where is my parcel?"}]}`,
			"extract-order": `{"model":"clearbar/auto","messages":[{"role":"user","content":"Order AB-123456: 2 mugs, total 19.90"}]}`,
			"order-status":  `{"model":"clearbar/auto","messages":[{"role":"user","content":"Status of AB-123456?"}],` + orderTool + `}`,
			"":              `{"model":"clearbar/auto","messages":[{"role":"user","content":"Please draft a reply about the delay."}]}`,
		}},
		{"batch-extraction.yaml", map[string]string{
			"invoice":       `{"model":"clearbar/invoice","messages":[{"role":"user","content":"INVOICE 2026-114 from ACME GmbH, VAT DE123456789, total 1,200.00 EUR"}]}`,
			"delivery-note": `{"model":"clearbar/delivery-note","response_format":{"type":"json_schema","json_schema":{"name":"note","schema":{"type":"object","required":["note_number","lines"],"properties":{"note_number":{"type":"string"},"lines":{"type":"array","minItems":1,"items":{"type":"object"}}}}}},"messages":[{"role":"user","content":"Delivery note DN-77, 3 pallets"}]}`,
		}},
	} {
		t.Run(ex.file, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "d.db")
			addr, logs, stop := startServe(t, "../../examples/"+ex.file, "--simulate", "--time-scale", "0.0005", "--trace", db)
			const perCategory = 150
			for task, body := range ex.requests {
				for range perCategory {
					var hs []string
					if task != "" && !strings.Contains(body, "clearbar/"+task) {
						hs = []string{"X-Clearbar-Task", task}
					}
					resp, b := chat(t, addr, body, hs...)
					if resp.StatusCode != 200 {
						t.Fatalf("%s: status %d: %s", task, resp.StatusCode, b)
					}
				}
			}
			if code := stop(); code != 0 {
				t.Fatalf("serve exit %d: %s", code, logs.String())
			}
			store, err := trace.OpenSQLite(db)
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			ds, err := store.List(context.Background(), trace.Filter{Limit: 10000})
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != perCategory*len(ex.requests) {
				t.Fatalf("%d decisions for %d requests", len(ds), perCategory*len(ex.requests))
			}
			escalations := map[string]int{}
			var reasons []string
			for _, d := range ds {
				for _, a := range d.Attempts {
					if a.Class == clearbar.Quality && len(a.Verdicts) > 0 {
						escalations[d.Category]++
						for _, v := range a.Verdicts {
							if !v.Pass {
								reasons = append(reasons, d.Category+": "+v.Validator+": "+v.Reason)
							}
						}
					}
				}
			}
			t.Logf("failed validations by category: %v", escalations)
			if len(reasons) == 0 {
				t.Fatal("no answer failed validation: the example shows no escalation")
			}
			// Validators that keep failing in a category flag decisions for review.
			code, out, errOut := run(t, "flagged", "--trace", db)
			if code != 0 || !strings.Contains(out, "flagged for review") {
				t.Errorf("clearbar flagged: exit %d\n%s%s", code, out, errOut)
			}
			// The decision records export as an outcomes table, one row per model call.
			code, out, errOut = run(t, "outcomes", "export", "--trace", db, "--format", "csv")
			if code != 0 || !strings.HasPrefix(out, "item,category,task,prompt_hash,model") || strings.Count(out, "\n") < len(ds)+1 {
				t.Errorf("outcomes export: exit %d, %d lines for %d decisions\n%s", code, strings.Count(out, "\n"), len(ds), errOut)
			}
			for _, r := range reasons {
				if strings.Contains(r, "not compiled") || strings.Contains(r, "does not compile") {
					t.Errorf("a validator could not run: %s", r)
				}
			}
			t.Logf("e.g. %s", reasons[0])
			if ex.file == "support-triage.yaml" {
				found := false
				for _, r := range reasons {
					if strings.HasPrefix(r, "order-status: valid tool call required: arguments of get_order_status") {
						found = true
					}
				}
				if !found {
					t.Errorf("no tool call failed validation among %d failures: %v", len(reasons), fmt.Sprint(reasons[:min(5, len(reasons))]))
				}
			}
		})
	}
}
