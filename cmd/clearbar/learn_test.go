package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/learn"
	"github.com/clearbar/clearbar/outcomes"
)

// TestLearnFilterErrors: a category, task or model that matches no row of the table is an
// error that names it and lists what the table has, not "the outcomes table is empty" or a
// row's model that "is not a candidate".
func TestLearnFilterErrors(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	writeQAOutcomes(t, table, 20)
	for _, cmd := range []string{"train", "evaluate"} {
		for _, tc := range []struct {
			args []string
			want []string
		}{
			{[]string{"--category", "nope"}, []string{`--category "nope"`, "none of the 40 rows", "categories in the table: qa"}},
			{[]string{"--task", "nope"}, []string{`--task "nope"`, "none of the 40 rows"}},
			{[]string{"--models", "gpt-4o-mini,strong"}, []string{`model "strong"`, "gpt-4o, gpt-4o-mini"}},
			{[]string{"--category", "qa", "--task", "bench"}, []string{"--category qa and --task bench: give one"}},
		} {
			args := append([]string{"learn", cmd, "--outcomes", table, "--out", filepath.Join(dir, "out")}, tc.args...)
			code, _, errOut := run(t, args...)
			if code != 2 {
				t.Errorf("learn %s %v: exit %d, want 2: %s", cmd, tc.args, code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("learn %s %v: %q does not say %q", cmd, tc.args, errOut, w)
				}
			}
		}
	}
}

// TestLearnTrainAdvice: the route learn train suggests is one the spec accepts for the
// router's number of models (a threshold decides between two, a willingness to pay among
// more), and the learn evaluate it suggests measures the router it trained: on the same
// category, task and models.
func TestLearnTrainAdvice(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	writeQAOutcomes(t, table, 100)
	router := filepath.Join(dir, "qa.json")
	code, out, errOut := run(t, "learn", "train", "--outcomes", table, "--category", "qa", "--models", "gpt-4o-mini,gpt-4o", "--out", router, "--folds", "2")
	if code != 0 {
		t.Fatalf("learn train: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"models: [CHEAP, STRONG], threshold: 0.5}}", "pick the threshold on",
		"clearbar learn evaluate --outcomes " + table + " --category qa --models gpt-4o-mini,gpt-4o\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("two models: learn train's advice does not say %q:\n%s", want, out)
		}
	}

	var rows []outcomes.Row
	for i := range 60 {
		pass := i%3 != 0
		for _, m := range []string{"nano", "mini", "large"} {
			rows = append(rows, outcomes.Row{Item: fmt.Sprint("t", i), Task: "bench/x", Prompt: fmt.Sprintf("Question %d?", i), Model: m, Cost: 10_000, Pass: &pass})
		}
	}
	three := filepath.Join(dir, "three.jsonl")
	writeRows(t, three, rows)
	code, out, errOut = run(t, "learn", "train", "--outcomes", three, "--task", "bench", "--out", filepath.Join(dir, "three.json"), "--folds", "2")
	if code != 0 {
		t.Fatalf("learn train of three models: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"models: [CHEAPEST, …, DEAREST], willingness_to_pay: 0.01}}", "pick the willingness to pay on",
		"clearbar learn evaluate --outcomes " + three + " --task bench\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("three models: learn train's advice does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "threshold") {
		t.Errorf("three models: learn train suggests a threshold, which decides between two:\n%s", out)
	}
}

// TestLearnTrainTasks: a router trained on a category's rows learns the category's name as
// the task feature, which is what the gateway passes, and its file says so; one trained on
// rows without a category learns their tasks, which the gateway never passes: learn train and
// learn evaluate warn, and replaying it for a category says its task features are not the
// category's. learn train advises calibrating on outcomes the router was not trained on.
func TestLearnTrainTasks(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	writeQAOutcomes(t, table, 200)
	router := filepath.Join(dir, "qa.json")
	code, out, errOut := run(t, "learn", "train", "--outcomes", table, "--category", "qa", "--out", router, "--folds", "2")
	if code != 0 || strings.Contains(errOut, "warning") {
		t.Fatalf("learn train --category qa: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"on outcomes it was not trained on", "--outcomes HELD-OUT --category qa --router " + router + " --calibrate", "clearbar learn evaluate --outcomes " + table} {
		if !strings.Contains(out, want) {
			t.Errorf("learn train's advice does not say %q:\n%s", want, out)
		}
	}
	if m, err := learn.Load(router); err != nil || !slices.Equal(m.Info().Tasks, []string{"qa"}) {
		t.Errorf("the router's tasks: %v (%v); want [qa]", m.Info().Tasks, err)
	}

	// Rows of benchmark tasks, without a category.
	var rows []outcomes.Row
	for i := range 200 {
		easy := i%5 < 3
		prompt := fmt.Sprintf("What is the capital of country number %d?", i)
		if !easy {
			prompt = fmt.Sprintf("Prove step by step that the sequence %d has a closed form and derive it.", i)
		}
		task := fmt.Sprintf("bench/subject%d", i%4)
		for _, m := range []struct {
			name string
			pass bool
			cost clearbar.Money
		}{{"gpt-4o-mini", easy, 15_000}, {"gpt-4o", true, 325_000}} {
			rows = append(rows, outcomes.Row{Item: fmt.Sprint("b", i), Task: task, Prompt: prompt, Model: m.name, TokensIn: 50, TokensOut: 20, Cost: m.cost, Pass: &m.pass})
		}
	}
	bench := filepath.Join(dir, "bench.jsonl")
	writeRows(t, bench, rows)
	benchRouter := filepath.Join(dir, "bench.json")
	code, _, errOut = run(t, "learn", "train", "--outcomes", bench, "--task", "bench", "--out", benchRouter, "--folds", "2")
	if code != 0 || !strings.Contains(errOut, `warning: 200 of the 200 items have no category, so the router learned their rows' task as a feature ("bench/subject0", "bench/subject1", "bench/subject2", … (4 tasks))`) ||
		!strings.Contains(errOut, "outcomes convert --category NAME) and train with --category NAME") {
		t.Errorf("learn train on rows without a category: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := run(t, "learn", "evaluate", "--outcomes", bench, "--task", "bench"); code != 0 || !strings.Contains(errOut, "so these figures overstate") {
		t.Errorf("learn evaluate on rows without a category: exit %d\n%s", code, errOut)
	}
	specFile := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specFile, []byte(learnSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		router string
		note   bool
	}{{benchRouter, true}, {router, false}} {
		code, out, errOut := run(t, "replay", specFile, "--outcomes", table, "--category", "qa", "--router", tc.router, "--include", "threshold")
		if code != 0 {
			t.Fatalf("replay --router %s: exit %d\n%s", tc.router, code, errOut)
		}
		if got := strings.Contains(out, `was trained with the task features "bench/subject0", "bench/subject1", "bench/subject2", … (4 tasks), not "qa"`); got != tc.note {
			t.Errorf("replay --router %s: task note %v, want %v:\n%s", tc.router, got, tc.note, out)
		}
		// A spec that routes the category with the router is warned, at the router's line,
		// by every command that loads it.
		scoreSpec := strings.Replace(learnSpec, "      cascade: [small, strong]\n", "      score: {router: "+tc.router+", models: [small, strong], threshold: 0.5}\n", 1)
		os.WriteFile(specFile, []byte(scoreSpec), 0o644)
		_, _, warnings := run(t, "spec", "check", specFile)
		want := specFile + `:14: category "qa": score router ` + tc.router + ` was trained with other task features than "qa" ("bench/subject0", "bench/subject1", "bench/subject2", … (4 tasks))`
		if got := strings.Contains(warnings, want); got != tc.note {
			t.Errorf("spec check with %s: warned %v, want %v (%q):\n%s", tc.router, got, tc.note, want, warnings)
		}
		// A replay of the spec's own router is warned by the route, not again in the report.
		code, out, errOut = run(t, "replay", specFile, "--outcomes", table, "--category", "qa", "--include", "threshold")
		if code != 0 {
			t.Fatalf("replay of the spec's router %s: exit %d\n%s", tc.router, code, errOut)
		}
		if strings.Contains(out, "was trained with the task features") {
			t.Errorf("replay of the spec's router %s repeats the route's task warning in the report:\n%s", tc.router, out)
		}
		os.WriteFile(specFile, []byte(learnSpec), 0o644)
	}
}

// TestLearnEvaluatePriceCoversTheCalls: --price must price every part of every call the
// table does not: output prices without --output-tokens, and a model with neither a price nor
// recorded costs (which would be free beside the priced ones, and so the best and the
// cheapest model at once), are errors that say what to add. A model whose calls the table
// prices needs no --price.
func TestLearnEvaluatePriceCoversTheCalls(t *testing.T) {
	dir := t.TempDir()
	var rows []outcomes.Row
	for i := range 60 {
		small, strong := i%5 < 3, i%20 != 7
		prompt := fmt.Sprintf("Question %d: what is the capital of country %d?", i, i)
		rows = append(rows,
			outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", Prompt: prompt, Model: "gpt-4o-mini", Pass: &small},
			outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", Prompt: prompt, Model: "gpt-4o", Pass: &strong})
	}
	unpriced := filepath.Join(dir, "unpriced.jsonl")
	writeRows(t, unpriced, rows)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--price", "gpt-4o-mini=0.15/0.6", "--output-tokens", "50"}, "records no cost for gpt-4o and --price gives none, so beside the priced models gpt-4o would cost nothing: give --price for every model"},
		{[]string{"--price", "gpt-4o-mini=0.15/0.6", "--price", "gpt-4o=2.5/10"}, "--price gpt-4o=2.5/10 prices output tokens, but --output-tokens is 0"},
	} {
		code, _, errOut := run(t, append([]string{"learn", "evaluate", "--outcomes", unpriced}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want 2 and %q:\n%s", tc.args, code, tc.want, errOut)
		}
	}
	if code, _, errOut := run(t, "learn", "evaluate", "--outcomes", unpriced, "--price", "gpt-4o-mini=0.15/0", "--price", "gpt-4o=2.5/0"); code != 0 {
		t.Errorf("input prices alone: exit %d\n%s", code, errOut)
	}
	priced := filepath.Join(dir, "priced.jsonl")
	writeQAOutcomes(t, priced, 60)
	if code, _, errOut := run(t, "learn", "evaluate", "--outcomes", priced, "--price", "gpt-4o-mini=0.15/0.6", "--output-tokens", "20"); code != 0 {
		t.Errorf("a model priced by the table, the other by --price: exit %d\n%s", code, errOut)
	}
}

// TestLearnTrainWarnsFewItems: learn train trains on a handful of items, as it must for a
// first try, but warns that the router will be noisy and how many more graded items would
// help; with learn.MinItemsPerModel items per model it does not warn.
func TestLearnTrainWarnsFewItems(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		items int
		warn  string
	}{
		{3, "clearbar learn train: warning: few graded items per model (gpt-4o-mini 3, gpt-4o 3), fewer than 200: a router learned from so few is noisy, its P(pass) off by about ±0.58 (1/√n) or more, so its threshold or willingness to pay will route by the noise; grade at least 197 more items per model"},
		{150, "few graded items per model (gpt-4o-mini 150, gpt-4o 150), fewer than 200"},
		{learn.MinItemsPerModel, ""},
	} {
		table := filepath.Join(dir, fmt.Sprint(tc.items, ".jsonl"))
		writeQAOutcomes(t, table, tc.items)
		code, out, errOut := run(t, "learn", "train", "--outcomes", table, "--category", "qa", "--out", filepath.Join(dir, fmt.Sprint(tc.items, ".json")), "--folds", "2")
		if code != 0 || !strings.Contains(out, "Wrote ") {
			t.Fatalf("%d items: exit %d\n%s%s", tc.items, code, out, errOut)
		}
		if tc.warn == "" {
			if strings.Contains(errOut, "few graded items") {
				t.Errorf("%d items: warns %q", tc.items, errOut)
			}
			continue
		}
		if !strings.Contains(errOut, tc.warn) {
			t.Errorf("%d items: stderr %q, want it to say %q", tc.items, errOut, tc.warn)
		}
	}
}

// TestLearnReadsTheSystemPromptAsTheGateway: training reads a recorded request's system
// prompt (learn.RequestSystem) as the gateway decodes it for a score route (the first system
// or developer message, its text parts joined), so that a router's features match at
// training and serving time.
func TestLearnReadsTheSystemPromptAsTheGateway(t *testing.T) {
	for _, body := range []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"developer","content":"Dev."},{"role":"system","content":"Sys."},{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yes"},{"role":"system","content":"Late."},{"role":"user","content":"again"}]}`,
		`{"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"One."},{"type":"image_url","image_url":{"url":"https://x/y.png"}},{"type":"text","text":"Two."}]},{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"system","content":[{"type":"text","text":""},{"type":"input_text","text":"After an empty part."}]},{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"system","content":null},{"role":"system","content":"Second."},{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"system","content":"Ünïcödé \u2028 \"quoted\"\n\tline"},{"role":"user","content":"hi"}]}`,
	} {
		req, err := gateway.DecodeChatRequest([]byte(body), gateway.DefaultLimits)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		want := ""
		for _, m := range req.Messages {
			if m.Role == "system" || m.Role == "developer" {
				want = m.Text
				break
			}
		}
		if got := learn.RequestSystem([]byte(body)); got != want {
			t.Errorf("%s: training reads %q, the gateway %q", body, got, want)
		}
	}
}
