package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
)

// quickstartIn copies the quick start spec (with its schemas) into a temporary directory,
// with its intent route's cascade replaced by cascade when not "", and returns its path.
func quickstartIn(t *testing.T, cascade string) string {
	t.Helper()
	dir := t.TempDir()
	doc, err := os.ReadFile("../../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cascade != "" {
		const route = "cascade: [nano, strong]"
		if !strings.Contains(string(doc), route) {
			t.Fatalf("the quick start's intent route is no longer %s", route)
		}
		doc = []byte(strings.Replace(string(doc), route, "cascade: "+cascade, 1))
	}
	if err := os.MkdirAll(filepath.Join(dir, "schemas"), 0o755); err != nil {
		t.Fatal(err)
	}
	schema, err := os.ReadFile("../../examples/schemas/intent.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "schemas", "intent.json"), schema, 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "qs.yaml")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestReplayCalibrateRefusesNarrowPolicies is the reported table of four items where nano
// has a grade on three: the policies through nano are marked *, left out of the calibration,
// and nothing is written into the spec; the command says why.
func TestReplayCalibrateRefusesNarrowPolicies(t *testing.T) {
	file := quickstartIn(t, "")
	table := filepath.Join(filepath.Dir(file), "tiny.jsonl")
	yes, no := true, false
	ok := `{"intent":"refund","confidence":0.9}`
	writeRows(t, table, []outcomes.Row{
		{Item: "t1", Category: "intent", Prompt: "p1", Model: "gpt-4.1-nano", Response: ok, LatencyMS: 100, Pass: &yes},
		{Item: "t1", Category: "intent", Prompt: "p1", Model: "strong", Response: ok, LatencyMS: 500, Pass: &yes},
		{Item: "t2", Category: "intent", Prompt: "p2", Model: "gpt-4.1-nano", Response: ok, LatencyMS: 100, Pass: &no},
		{Item: "t2", Category: "intent", Prompt: "p2", Model: "strong", Response: ok, LatencyMS: 500, Pass: &yes},
		{Item: "t3", Category: "intent", Prompt: "p3", Model: "gpt-4.1-nano", Response: ok, LatencyMS: 100},
		{Item: "t3", Category: "intent", Prompt: "p3", Model: "strong", Response: ok, Pass: &no},
		{Item: "t4", Category: "intent", Prompt: "p4", Model: "gpt-4.1-nano", Error: "timeout", LatencyMS: 100},
		{Item: "t4", Category: "intent", Prompt: "p4", Model: "strong", Response: ok, LatencyMS: 500, Pass: &yes},
	})
	before, _ := os.ReadFile(file)
	code, out, errOut := run(t, "replay", file, "--outcomes", table, "--category", "intent", "--calibrate")
	after, _ := os.ReadFile(file)
	if !strings.Contains(out, "3*") {
		t.Fatalf("the policies through nano should be marked *:\n%s", out)
	}
	if code == 0 || strings.Contains(out, "Calibration (") || strings.Contains(out, "calibrated choice") {
		t.Errorf("exit %d: a policy marked * was calibrated:\n%s\n%s", code, out, errOut)
	}
	if string(before) != string(after) {
		t.Errorf("the spec was rewritten from policies measured on 3 of 4 items:\n%s", after)
	}
	if !strings.Contains(errOut, "nothing to write") || !strings.Contains(errOut, "left out for covering too few items") || !strings.Contains(errOut, "(3 of 4 items)") {
		t.Errorf("stderr should say nothing was written, for the coverage of the policies left: %q", errOut)
	}
}

// intentRows: nano passes 70% of the items and answers the schema's JSON, except on a fifth of
// them (misses the schema check catches); mini passes 90%, strong every item. Without strong,
// the reference pair is nano → mini.
func intentRows(withStrong bool) []outcomes.Row {
	ok := `{"intent":"refund","confidence":0.9}`
	var rows []outcomes.Row
	for i := range 100 {
		id := fmt.Sprintf("q%d", i)
		prompt := fmt.Sprintf("Ticket %d", i)
		nano, mini, strong := i%10 < 7, i%10 != 9, true
		nanoAns := ok
		if i%10 >= 8 {
			nanoAns = "oops"
		}
		rows = append(rows,
			outcomes.Row{Item: id, Category: "intent", Prompt: prompt, Model: "nano", Response: nanoAns, Cost: clearbar.MoneyFromUSD(0.00001), LatencyMS: 100, Pass: &nano},
			outcomes.Row{Item: id, Category: "intent", Prompt: prompt, Model: "mini", Response: ok, Cost: clearbar.MoneyFromUSD(0.00004), LatencyMS: 200, Pass: &mini})
		if withStrong {
			rows = append(rows, outcomes.Row{Item: id, Category: "intent", Prompt: prompt, Model: "strong", Response: ok, Cost: clearbar.MoneyFromUSD(0.0004), LatencyMS: 500, Pass: &strong})
		}
	}
	return rows
}

// TestReplayCalibrateStrongShareNamesTheModel: the reference pair's strong model is mini,
// not the spec's model named strong; the calibration's heading names it.
func TestReplayCalibrateStrongShareNamesTheModel(t *testing.T) {
	file := quickstartIn(t, "[nano, mini]")
	table := filepath.Join(filepath.Dir(file), "o.jsonl")
	writeRows(t, table, intentRows(false))
	code, out, errOut := run(t, "replay", file, "--outcomes", table, "--category", "intent", "--calibrate", "--target", "strong-share=0.25")
	if code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "reference pair nano → mini") || !strings.Contains(out, "TO mini") {
		t.Fatalf("want the pair nano → mini:\n%s", out)
	}
	if !strings.Contains(out, "Calibration (at most 25.0% mini calls, best quality)") {
		t.Errorf("the calibration's heading should name mini:\n%s", out)
	}
}

// TestReplayCalibrateJudgesCascadeByMeasuredValidators: the route is nano → mini, and the
// reference pair's cascade nano → strong at the assumed strength (d=0.8 f=0.02) would deliver
// 94% with a quarter of the items sent to strong; the spec's schema check, replayed on the
// recorded answers, catches only the answers that are not JSON, and the same cascade delivers
// 90%. The calibration writes the cascade at what the validators measured.
func TestReplayCalibrateJudgesCascadeByMeasuredValidators(t *testing.T) {
	file := quickstartIn(t, "[nano, mini]")
	table := filepath.Join(filepath.Dir(file), "o.jsonl")
	writeRows(t, table, intentRows(true))
	code, out, errOut := run(t, "replay", file, "--outcomes", table, "--category", "intent", "--calibrate", "--target", "strong-share=0.3")
	if code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Calibration (at most 30.0% strong calls, best quality): cascade nano → strong (validators)") {
		t.Errorf("want the cascade nano → strong with the spec's validators chosen:\n%s", out)
	}
	if !strings.Contains(out, "Wrote the calibrated route of \"intent\" into "+file+": cascade nano → strong (validators) (quality 90.00%") {
		t.Errorf("the cascade written should be judged by the validators' 90%%:\n%s", out)
	}
	doc, _ := os.ReadFile(file)
	if !strings.Contains(string(doc), "cascade: [nano, strong]") {
		t.Errorf("the spec should route intent through nano → strong:\n%s", doc)
	}
}
