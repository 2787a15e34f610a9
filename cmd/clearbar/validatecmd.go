package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"text/tabwriter"

	"github.com/clearbar/clearbar"
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
	model := fs.String("model", "", "only rows from this model (default: every row)")
	format := fs.String("format", "text", "text or json")
	update := fs.Bool("update", false, "write the measured strength into the category's assume.validator")
	pos, err := parseArgs(fs, args[1:], 2, 2, usage)
	if err != nil {
		return err
	}
	if *category == "" {
		return usagef("--category is required (usage: %s)", usage)
	}
	s, err := m.loadSpec(pos[0], m.Now())
	if err != nil {
		return err
	}
	cat := s.Category(*category)
	if cat == nil {
		return usagef("the spec has no category %q", *category)
	}
	vs, _ := cat.Route.MainValidators()
	if len(vs) == 0 {
		return fmt.Errorf("category %q validates nothing: there is nothing to calibrate", *category)
	}
	providers, err := registry().NewAll(s, provider.Config{HTTP: provider.DefaultHTTPClient()})
	if err != nil {
		return err
	}
	checker, err := validate.NewChecker(s, validate.Env{Caller: validate.ProviderCaller{Providers: providers}})
	if err != nil {
		return err
	}
	items, skipped, err := labelled(pos[1], *model)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return fmt.Errorf("%s has no rows with a response and a gold pass/score label%s", pos[1], modelNote(*model))
	}
	res := validate.Calibrate(ctx, checker, vs, items)
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
		all := res[len(res)-1]
		fmt.Fprintf(m.Stdout, "\nFor the spec: assume: {validator: {detect: %s, false_alarm: %s}}\n", round3(all.Detect), round3(all.FalseAlarm))
	}
	if *update {
		all := res[len(res)-1]
		data, err := os.ReadFile(pos[0])
		if err != nil {
			return err
		}
		out, err := spec.SetInCategory(data, *category, []string{"assume", "validator"}, map[string]any{
			"detect": round(all.Detect), "false_alarm": round(all.FalseAlarm), "calibrated": spec.Date{Time: m.Now()}})
		if err != nil {
			return err
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

func round(f float64) float64 { return math.Round(f*1000) / 1000 }
func round3(f float64) string { return fmt.Sprintf("%.3f", f) }
func modelNote(m string) string {
	if m == "" {
		return ""
	}
	return " for model " + m
}

// labelled reads outcome rows with a response and a gold label.
func labelled(path, model string) ([]validate.Labeled, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	rd := outcomes.NewReader(f)
	var items []validate.Labeled
	skipped := 0
	for rd.Next() {
		row := rd.Row()
		if model != "" && row.Model != model {
			continue
		}
		var good bool
		switch {
		case row.Pass != nil:
			good = *row.Pass
		case row.Score != nil:
			good = *row.Score >= 0.5
		default:
			skipped++
			continue
		}
		if row.Response == "" && len(row.ToolCalls) == 0 {
			skipped++
			continue
		}
		// The whole request when the row has it (system messages, tools, a response format:
		// what tool-call, schema and citation validators check against), else the prompt.
		req := &clearbar.Request{Dialect: clearbar.DialectOpenAI, Model: row.Model, N: 1,
			Messages: []clearbar.Message{{Role: "user", Text: row.Prompt}}}
		if len(row.Request) > 0 {
			r, err := gateway.DecodeChatRequest(row.Request, gateway.DefaultLimits)
			if err != nil {
				return nil, 0, fmt.Errorf("%s:%d: request: %v", path, rd.Line(), err)
			}
			req = r
		}
		choice := clearbar.Choice{Text: row.Response, ToolCalls: row.AnswerToolCalls(), FinishReason: "stop"}
		if len(choice.ToolCalls) > 0 {
			choice.FinishReason = "tool_calls"
		}
		resp := &clearbar.Response{Model: row.Model, Choices: []clearbar.Choice{choice}}
		items = append(items, validate.Labeled{Request: req, Response: resp, Good: good})
	}
	return items, skipped, rd.Err()
}
