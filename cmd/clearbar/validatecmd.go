package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/eval"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

func (m *Main) runValidate(ctx context.Context, args []string) error {
	const usage = "clearbar validate calibrate SPEC.yaml --category NAME OUTCOMES.jsonl [--model NAME] [--format text|json] [--update]"
	if len(args) == 0 || args[0] != "calibrate" {
		return usagef("usage: %s", usage)
	}
	fs := flag.NewFlagSet("calibrate", flag.ContinueOnError)
	category := fs.String("category", "", "the category whose validators to measure")
	model := fs.String("model", "", "only rows from this model: its name in the outcomes or in the spec (default: every row)")
	format := fs.String("format", "text", "text or json")
	update := fs.Bool("update", false, "write the measured strength into the category's assume.validator")
	pos, err := parseArgs(fs, args[1:], 2, 2, usage)
	if err != nil {
		return err
	}
	if *category == "" {
		return usagef("--category is required (usage: %s)", usage)
	}
	if *format != "text" && *format != "json" {
		return usagef("--format %q: use text or json", *format)
	}
	s, err := m.loadSpec(pos[0], m.Now())
	if err != nil {
		return err
	}
	cat := s.Category(*category)
	if cat == nil {
		return usagef("the spec has no category %q (categories: %s)", *category, strings.Join(categoryNames(s), ", "))
	}
	vs, _ := cat.Route.MainValidators()
	if len(vs) == 0 {
		return fmt.Errorf("category %q validates nothing: there is nothing to calibrate", *category)
	}
	providers, err := registry().NewAll(s, provider.Config{HTTP: provider.DefaultHTTPClient()})
	if err != nil {
		return err
	}
	checker, err := validate.NewChecker(s, validate.Env{Caller: validate.ProviderCaller{Providers: providers}, Recorded: true})
	if err != nil {
		return err
	}
	items, skipped, circular, simulatedRows, err := labelled(pos[1], *model, s, checkerModels(vs))
	if err != nil {
		return err
	}
	if len(items) == 0 {
		if circular > 0 {
			return fmt.Errorf("%s: the labels of its %d rows with a response were given by validators themselves (an eval set's items graded by the validators alone, with no reference or checks of their own; rows an eval run wrote before rows said how they were graded, whose pass needed the validators beside a reference or checks; or decision records, whose pass is their validators' verdicts), so they cannot measure those validators: give the items graded by the validators alone checks of their own (exact, contains or regex against a reference, or a judge), and run clearbar eval again, which also grades the older rows again by their reference or checks alone", pos[1], circular)
		}
		return fmt.Errorf("%s has no rows with a response and a gold pass/score label%s", pos[1], modelNote(*model))
	}
	if circular > 0 {
		fmt.Fprintf(m.Stderr, "clearbar validate: %d rows left out: their labels were given by validators themselves\n", circular)
	}
	res := validate.Calibrate(ctx, checker, vs, items)
	// Simulated answers are drawn from the spec's assumptions: the simulator draws whether
	// each answer is good (the assumed pass rate) and whether the validators fail it (the
	// assumed detection and false-alarm rates), and eval fits its text to the item's checks
	// keeping that verdict where it can, so they give the assumed strength back, more or less,
	// rather than measure the validator.
	simulatedWhy := ""
	if simulatedRows > 0 {
		simulatedWhy = fmt.Sprintf("%d of the %d labelled answers come from simulated providers (their rows say \"simulated\": true), whose answers are drawn from the spec's assumed pass rates and validator strength (whether each is good, and whether the validators fail it): measuring them gives back those assumptions, not the validators' real strength; calibrate on the rows of an eval run against the real models", simulatedRows, len(items))
	}
	if simulatedWhy != "" && *format == "json" {
		fmt.Fprintf(m.Stderr, "clearbar validate: %s\n", simulatedWhy)
	}
	if *format == "json" {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(m.Stdout, "Validator strength for %q on %d labelled answers (%d rows without a response or label skipped)\n\n", *category, len(items), skipped)
		tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "VALIDATOR\tBAD\tDETECTED\tDETECT (95% CI)\tGOOD\tFLAGGED\tFALSE ALARM (95% CI)")
		for _, r := range res {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f (%.3f–%.3f)\t%d\t%d\t%.3f (%.3f–%.3f)\n", r.Validator, r.Bad, r.Detected, r.Detect, r.DetectCI[0], r.DetectCI[1],
				r.Good, r.FalseAlarms, r.FalseAlarm, r.FalseAlarmCI[0], r.FalseAlarmCI[1])
		}
		tw.Flush()
		for i, r := range res {
			if r.Unchecked == 0 {
				continue
			}
			what := "its checker has no recorded answer to the same item, or the answer is the checker's own"
			if i == len(res)-1 {
				what = "an agreement check could not run on them and no other validator flags them"
			}
			noun := "answers"
			if r.Unchecked == 1 {
				noun = "answer"
			}
			fmt.Fprintf(m.Stdout, "%s: %d %s left out: %s\n", r.Validator, r.Unchecked, noun, what)
		}
		all := res[len(res)-1]
		if missing := unmeasured(all); missing != "" {
			fmt.Fprintf(m.Stdout, "\nNothing for the spec: %s\n", missing)
		} else if simulatedWhy != "" {
			fmt.Fprintf(m.Stdout, "\nNothing for the spec: %s\n", simulatedWhy)
		} else {
			fmt.Fprintf(m.Stdout, "\nFor the spec: assume: {validator: {detect: %s, false_alarm: %s}}\n", round3(all.Detect), round3(all.FalseAlarm))
		}
	}
	if *update {
		all := res[len(res)-1]
		if missing := unmeasured(all); missing != "" {
			return fmt.Errorf("%s was not updated: %s", pos[0], missing)
		}
		if simulatedWhy != "" {
			return fmt.Errorf("%s was not updated: %s", pos[0], simulatedWhy)
		}
		data, err := os.ReadFile(pos[0])
		if err != nil {
			return err
		}
		// Each setting is written on its own, so that a strength written as a block keeps its
		// layout and comments, and the diff shows the new values and the date, nothing more.
		out := data
		for _, kv := range []struct {
			key   string
			value any
		}{{"detect", round(all.Detect)}, {"false_alarm", round(all.FalseAlarm)}, {"calibrated", spec.Date{Time: m.Now()}}} {
			if out, err = spec.SetInCategory(out, *category, []string{"assume", "validator", kv.key}, kv.value); err != nil {
				return err
			}
		}
		if _, err := spec.Parse(out, pos[0], spec.Options{}); err != nil {
			return fmt.Errorf("the updated spec does not load, so it was not written: %w", err)
		}
		if err := os.WriteFile(pos[0], out, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "updated %s: category %q assume.validator\n", pos[0], *category)
	}
	return nil
}

// unmeasured says why a strength measures nothing, when it was measured on no bad answers
// (no detection rate) or no good ones (no false-alarm rate); "" when it has both.
func unmeasured(st validate.Strength) string {
	switch {
	case st.Bad == 0 && st.Good == 0:
		return "no answer was checked"
	case st.Bad == 0:
		return fmt.Sprintf("every labelled answer (%d) is good: without bad answers there is no detection rate to measure; add answers labelled bad (pass: false)", st.Good)
	case st.Good == 0:
		return fmt.Sprintf("every labelled answer (%d) is bad: without good answers there is no false-alarm rate to measure; add answers labelled good (pass: true)", st.Bad)
	}
	return ""
}

func round(f float64) float64 { return math.Round(f*1000) / 1000 }
func round3(f float64) string { return fmt.Sprintf("%.3f", f) }
func modelNote(m string) string {
	if m == "" {
		return ""
	}
	return " for model " + m
}

// checkerModels lists the models the validators' agreement checks compare with.
func checkerModels(vs []*spec.Validator) []string {
	var out []string
	for _, v := range vs {
		if ag, ok := v.Config.(*spec.Agree); ok {
			for _, r := range ag.Checkers() {
				if !slices.Contains(out, r.Name) {
					out = append(out, r.Name)
				}
			}
		}
	}
	return out
}

// labelled reads outcome rows with a response and a gold label. Agreement checks compare with
// the checker models' rows of the same item (grouped by item, else prompt hash, else prompt),
// which are kept as they are read; an answer is never checked against its own model's row.
// Rows an eval run graded with the validators themselves are left out and counted
// (circular): their label is what the validators said. Rows of simulated answers are counted
// (simulated). The table is JSON Lines or CSV, as outcomes.ReadFileLines reads it.
func labelled(path, model string, s *spec.Spec, checkers []string) (items []validate.Labeled, skipped, circular, simulated int, err error) {
	// The spec models a row's model fills: the model of that name, else every model whose
	// provider model id it is.
	specNames := func(rowModel string) []string {
		if s.Model(rowModel) != nil {
			return []string{rowModel}
		}
		var names []string
		for _, m := range s.Models {
			if m.Model == rowModel {
				names = append(names, m.Name)
			}
		}
		return names
	}
	type recordedRow struct {
		text      string
		cost      clearbar.Money
		latencyMS float64
		err       string
	}
	answers := map[string]map[string]*recordedRow{} // item → checker model → its row
	itemOf := func(row *outcomes.Row) string {
		switch {
		case row.Item != "":
			return row.Item
		case row.PromptHash != "":
			return row.PromptHash
		}
		return outcomes.HashPrompt(row.Prompt)
	}
	n := 0 // rows read
	err = outcomes.ReadFileLines(path, func(row outcomes.Row, raw []byte) error {
		n++
		if len(checkers) > 0 {
			for _, name := range specNames(row.Model) {
				if !slices.Contains(checkers, name) {
					continue
				}
				id := itemOf(&row)
				if answers[id] == nil {
					answers[id] = map[string]*recordedRow{}
				}
				if answers[id][name] != nil {
					continue // the first row of an item and model counts, as in replay
				}
				cost := row.Cost
				if cost == 0 && row.TokensIn+row.TokensOut > 0 {
					cost = s.Model(name).Cost(row.Usage())
				}
				answers[id][name] = &recordedRow{text: row.Response, cost: cost, latencyMS: row.LatencyMS, err: row.Error}
			}
		}
		if model != "" && row.Model != model && !slices.Contains(specNames(row.Model), model) {
			return nil // --model names the row's model, or the spec model it fills
		}
		good, graded := row.Passed()
		if !graded {
			skipped++
			return nil
		}
		if row.Response == "" && len(row.ToolCalls) == 0 {
			skipped++
			return nil
		}
		// A label the validators gave: an eval run's grade by the category's validators, or a
		// decision record's pass, which is its validators' verdicts (outcomes export).
		if raw != nil && eval.GradedByValidators(raw) || row.Source == outcomes.SourceTrace && len(row.Verdicts) > 0 {
			circular++
			return nil
		}
		// The whole request when the row has it (system messages, tools, a response format:
		// what tool-call, schema and citation validators check against), else the prompt.
		req := &clearbar.Request{Dialect: clearbar.DialectOpenAI, Model: row.Model, N: 1,
			Messages: []clearbar.Message{{Role: "user", Text: row.Prompt}}}
		if len(row.Request) > 0 {
			r, err := gateway.DecodeChatRequest(row.Request, gateway.DefaultLimits)
			if err != nil {
				return fmt.Errorf("%s: row %d (item %q): request: %v", path, n, row.Item, err)
			}
			req = r
		}
		choice := clearbar.Choice{Text: row.Response, ToolCalls: row.AnswerToolCalls(), FinishReason: "stop"}
		if len(choice.ToolCalls) > 0 {
			choice.FinishReason = "tool_calls"
		}
		resp := &clearbar.Response{Model: row.Model, Choices: []clearbar.Choice{choice}}
		it := validate.Labeled{Request: req, Response: resp, Good: good}
		if names := specNames(row.Model); len(names) == 1 {
			it.Model = names[0]
		}
		if len(checkers) > 0 {
			id, own := itemOf(&row), specNames(row.Model)
			it.Recorded = func(name string) (*clearbar.Response, clearbar.Attempt, error) {
				r := answers[id][name]
				if r == nil || slices.Contains(own, name) {
					return nil, clearbar.Attempt{}, validate.ErrNotRecorded
				}
				a := clearbar.Attempt{Model: name, Cost: r.cost, Latency: time.Duration(r.latencyMS * float64(time.Millisecond))}
				if r.err != "" {
					if a.Class.UnmarshalText([]byte(r.err)) != nil {
						a.Class = clearbar.Internal
					}
					return nil, a, &clearbar.Error{Class: a.Class, Message: "the recorded call failed: " + r.err}
				}
				return &clearbar.Response{Model: name, Choices: []clearbar.Choice{{Text: r.text, FinishReason: "stop"}}}, a, nil
			}
		}
		if raw != nil && eval.SimulatedRow(raw) {
			simulated++
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		return nil, 0, 0, 0, err
	}
	return items, skipped, circular, simulated, nil
}
