package spec

import (
	"errors"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/catalog"
)

// TestCategoryWithoutTraffic: a category with share 0 that no pipeline calls, or that only
// pipelines with share 0 call, receives no traffic, which is warned about at its share (or,
// with none written, at the category).
func TestCategoryWithoutTraffic(t *testing.T) {
	const (
		intentShare = "share: 0.5\n    tokens: {in: 400"
		draftShare  = "share: 0.5\n    tokens: {in: 1000"
	)
	check(t, []finding{
		{name: "share 0 and no pipelines", edits: []string{intentShare, "share: 0\n    tokens: {in: 400", draftShare, "share: 1\n    tokens: {in: 1000"}, line: 13, warn: true,
			want: `category "intent" has share 0 and no pipeline calls it, so it receives no traffic: the estimate shows its row, but its quality bar and latency budget decide no policy; write the share of traffic it carries, or remove the category`},
		{name: "called only by a pipeline with share 0", edits: []string{"    " + intentShare, "    tokens: {in: 400", draftShare, "share: 1\n    tokens: {in: 1000",
			"tests:\n", "pipelines:\n  - {name: p, share: 0, steps: [intent, draft]}\ntests:\n"}, line: 12, warn: true,
			want: `category "intent" receives no traffic: its share is 0 and the pipelines calling it (p) have share 0`},
		{name: "a pipeline step without a share of its own has traffic", edits: []string{"    " + intentShare, "    tokens: {in: 400", draftShare, "share: 0.5\n    tokens: {in: 1000",
			"tests:\n", "pipelines:\n  - {name: p, share: 0.5, steps: [intent, draft]}\ntests:\n"}, none: true,
			want: "no traffic"},
	})
}

// TestFormatCheckWarnedDespiteWhy: a format check assumed to catch every bad answer is warned
// about whatever the category's why says: a why is the route's rationale, not a measurement.
func TestFormatCheckWarnedDespiteWhy(t *testing.T) {
	check(t, []finding{
		{name: "with a why", edits: []string{"validator: {detect: 0.9, false_alarm: 0.1}", "validator: {detect: 1, false_alarm: 0}",
			"    match: {header", "    why: Every label outside the schema's enum is wrong, and the enum is the label set.\n    match: {header"}, line: 21, warn: true,
			want: `category "intent" assumes its validators (max_length) catch 100% of bad answers and flag no good one`},
	})
}

// TestScaledCachedInputPrice: a spec input price without cached_input scales the catalogue's
// cached-input price by as much, keeping the provider's discount; a cached_input written is
// kept as written, and one above the input price is warned about.
func TestScaledCachedInputPrice(t *testing.T) {
	entry, ok := catalog.Default().Get("gpt-4.1-nano")
	if !ok || entry.CachedInput == 0 || entry.Input == 0 {
		t.Fatalf("the catalogue has no cached-input price for gpt-4.1-nano: %+v", entry)
	}
	for _, tt := range []struct {
		price string
		want  clearbar.Price
	}{
		{"{input: 0.01, output: 2}", clearbar.Price(int64(entry.CachedInput) * 10_000 / int64(entry.Input))},
		{"{input: 1, output: 2}", clearbar.Price(int64(entry.CachedInput) * 1_000_000 / int64(entry.Input))},
		{"{input: 0.01, output: 2, cached_input: 0.004}", 4_000},
		{"{output: 2}", entry.CachedInput},
	} {
		s, err := parseEdited(t, Options{}, "gpt-4.1-nano,", "gpt-4.1-nano, price: "+tt.price+",")
		if err != nil {
			t.Fatalf("%s: %v", tt.price, err)
		}
		m := s.Model("nano")
		if got := m.Resolved.Prices.CachedInput; got != tt.want {
			t.Errorf("price %s: cached input %s, want %s", tt.price, got, tt.want)
		}
		if m.Resolved.Prices.CachedInput > m.Resolved.Prices.Input {
			t.Errorf("price %s: cached input %s is above input %s", tt.price, m.Resolved.Prices.CachedInput, m.Resolved.Prices.Input)
		}
	}
	s, err := parseEdited(t, Options{}, "gpt-4.1-nano,", "gpt-4.1-nano, price: {input: 0.01, output: 2},")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ModelPrices(s.Model("nano")) {
		if l.Name == "cached input" && (!l.Scaled || !l.Differs || !strings.Contains(l.Change(), "-90% vs catalogue") || !strings.Contains(l.Change(), "scaled with the input price")) {
			t.Errorf("cached input line %+v (%q): want it shown scaled, -90%% vs the catalogue", l, l.Change())
		}
	}
	check(t, []finding{
		{name: "cached_input above input", edits: []string{"gpt-4.1-nano,", "gpt-4.1-nano, price: {input: 0.1, output: 0.4, cached_input: 0.5},"}, line: 8, warn: true,
			want: `model "nano": price.cached_input $0.5/M is above its input price $0.1/M: input read from the prompt cache would cost more than uncached input`},
		{name: "cached_input at the input price", edits: []string{"gpt-4.1-nano,", "gpt-4.1-nano, price: {input: 0.1, output: 0.4, cached_input: 0.1},"}, none: true,
			want: "is above its input price"},
	})
}

// TestMaxStepsLeavesStepsUnreached: a cascade's max_steps below its length stops every request
// before the later steps, which are never called; the routing document says so.
func TestMaxStepsLeavesStepsUnreached(t *testing.T) {
	check(t, []finding{
		{name: "max_steps 1", edits: []string{"validate: [{max_length: 100}]}", "validate: [{max_length: 100}], max_steps: 1}"}, line: 17, warn: true,
			want: `category "intent" max_steps 1 stops every request at the cascade's first step, nano: strong is never called, so the route is nano alone and escalates no answer; write route: {model: nano} (with its validate) if that is meant, or remove max_steps to escalate`},
		{name: "max_steps 2 of 3", edits: []string{"{cascade: [nano, strong], validate: [{max_length: 100}]}", "{cascade: [nano, mini, strong], validate: [{max_length: 100}], max_steps: 2}", "    fallback: [mini]\n    assume:\n      pass_rate: {nano", "    assume:\n      pass_rate: {nano"}, line: 17, warn: true,
			want: `category "intent" max_steps 2 stops every request by the cascade's step 2, mini: strong is never called; remove strong from the cascade if that is meant, or raise max_steps to 3 or remove it`},
	})
	s, err := parseEdited(t, Options{}, "validate: [{max_length: 100}]}", "validate: [{max_length: 100}], max_steps: 1}")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := routeText(s.Category("intent").Route), "cascade nano → strong (max_steps 1: strong never called)"; got != want {
		t.Errorf("routing document's route %q, want %q", got, want)
	}
}

// TestInputHints: messages about category inputs say what to write, and inputs that the
// estimate reads differently from what they suggest are warned about.
func TestInputHints(t *testing.T) {
	const intent = "      validator: {detect: 0.9, false_alarm: 0.1}\n"
	check(t, []finding{
		{name: "tokens.out of 0", edits: []string{"{in: 400, out: 20}", "{in: 400, out: 0}"}, line: 14,
			want: `category "intent" tokens.out must be above zero: write the average output tokens per answer, like out: 200, or a spread, like out: {p50: 200, p95: 800}`},
		{name: "tokens.in of 0", edits: []string{"{in: 400, out: 20}", "{in: 0, out: 20}"}, line: 14,
			want: `category "intent" tokens.in must be above zero: write the average input tokens per request, like in: 400`},
		{name: "route written as a model's name", edits: []string{"route: {model: mini}", "route: mini"}, line: 28,
			want: `route must be a mapping, not the value "mini": write route: {model: mini} to send every request to mini`},
		{name: "route written as a list", edits: []string{"route: {model: mini}", "route: [mini, strong]"}, line: 28,
			want: `route must be a mapping, not a list: write route: {cascade: [mini, strong], validate: [...]} to try the models in order`},
		{name: "route written as a list of one", edits: []string{"route: {model: mini}", "route: [mini]"}, line: 28,
			want: `route must be a mapping, not a list: write route: {model: mini}`},
		{name: "escalated pass rate above the pass rate", edits: []string{intent, intent + "      escalated_pass_rate: {strong: 0.97}\n"}, line: 22, warn: true,
			want: `category "intent" assume.escalated_pass_rate 0.97 for strong is above its pass_rate 0.95: escalated requests are those an earlier step's answer failed, harder than the category's average`},
		{name: "escalated pass rate at most the pass rate", edits: []string{intent, intent + "      escalated_pass_rate: {strong: 0.95}\n"}, none: true,
			want: "is above its pass_rate"},
		{name: "reasoning tokens no model bills", edits: []string{"{in: 400, out: 20}", "{in: 400, out: 20, reasoning: 300}"}, line: 14, warn: true,
			want: `category "intent" sets tokens.reasoning, but none of the models that can answer it (nano, mini and strong) bills reasoning tokens`},
		{name: "reasoning tokens a model bills", edits: []string{"{in: 400, out: 20}", "{in: 400, out: 20, reasoning: 300}", "model: gpt-4.1, latency", "model: gpt-4.1, reasoning: true, latency"}, none: true,
			want: "tokens.reasoning"},
	})
}

// TestRouteScalarErrorIsAnError: a route written as a scalar is still an error (not a
// warning), so the spec does not load.
func TestRouteScalarErrorIsAnError(t *testing.T) {
	_, err := parseEdited(t, Options{}, "route: {model: mini}", "route: mini")
	var errs Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		t.Fatalf("want spec.Errors, got %v", err)
	}
}
