package spec

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar/catalog"
)

// checkBase is a small spec that loads without errors or warnings; the tests below edit it to
// show one problem each. Its line numbers are those the cases name.
const checkBase = `version: 1
name: checks
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers:
  sim: {type: simulated}
models:
  nano: {provider: sim, model: gpt-4.1-nano, latency: {p50: 1s, p95: 2s}}
  mini: {provider: sim, model: gpt-4.1-mini, latency: {p50: 1s, p95: 2s}}
  strong: {provider: sim, model: gpt-4.1, latency: {p50: 1s, p95: 2s}}
categories:
  - name: intent
    share: 0.5
    tokens: {in: 400, out: 20}
    quality_bar: 0.9
    failure_impact: {bad_answer: 1}
    route: {cascade: [nano, strong], validate: [{max_length: 100}]}
    fallback: [mini]
    assume:
      pass_rate: {nano: 0.8, mini: 0.85, strong: 0.95}
      validator: {detect: 0.9, false_alarm: 0.1}
    match: {header: {X-Task: intent}, metadata: {task: intent}}
  - name: draft
    share: 0.5
    tokens: {in: 1000, out: 200}
    quality_bar: 0.9
    failure_impact: {bad_answer: 1}
    route: {model: mini}
    fallback: [strong]
    assume:
      pass_rate: {mini: 0.9, strong: 0.95}
    match: {when: 'last_user matches "(?i)draft"'}
tests:
  - name: intent by header
    request: {model: clearbar/auto, messages: [{role: user, content: hi}]}
    headers: {X-Task: intent}
    expect: {category: intent, plan: [nano, mini, strong], model: nano, by: header}
`

// parseEdited parses checkBase with each old text (edits come in old, new pairs) replaced
// once by its new text.
func parseEdited(t *testing.T, opts Options, edits ...string) (*Spec, error) {
	t.Helper()
	src := checkBase
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(src, edits[i]) {
			t.Fatalf("checkBase has no %q to edit", edits[i])
		}
		src = strings.Replace(src, edits[i], edits[i+1], 1)
	}
	if opts.Today.IsZero() {
		opts.Today = fixtureDay
	}
	return Parse([]byte(src), "checks.yaml", opts)
}

// finding is one problem an edit of checkBase must be reported with, or, with none set, an
// edit that must not be reported with text.
type finding struct {
	name  string   // what the case shows, and why
	edits []string // old, new pairs applied to checkBase
	line  int      // the line the problem is reported at
	want  string   // text of the message
	warn  bool     // a warning (the spec still loads), not an error
	none  bool     // the edit must not be reported with want, at any line
	opts  Options
}

// check runs the findings as subtests.
func check(t *testing.T, findings []finding) {
	t.Helper()
	for _, f := range findings {
		t.Run(f.name, func(t *testing.T) {
			s, err := parseEdited(t, f.opts, f.edits...)
			var errs Errors
			if err != nil && !errors.As(err, &errs) {
				t.Fatalf("want spec.Errors, got %T %v", err, err)
			}
			got := errs
			switch {
			case f.none:
				if err != nil {
					t.Fatalf("the edited spec should load:\n%v", err)
				}
				for _, e := range s.Warnings {
					if strings.Contains(e.Msg, f.want) {
						t.Errorf("reported %q, which it must not be:\n%v", e, s.Warnings)
					}
				}
				return
			case f.warn && err != nil:
				t.Fatalf("want a warning, and no errors; got:\n%v", err)
			case f.warn:
				got = s.Warnings
			case err == nil:
				t.Fatalf("want an error at line %d with %q; the spec loaded, with warnings:\n%v", f.line, f.want, s.Warnings)
			}
			for _, e := range got {
				if e.Line == f.line && strings.Contains(e.Msg, f.want) {
					return
				}
			}
			t.Errorf("nothing at checks.yaml:%d says %q; got:\n%v", f.line, f.want, got)
		})
	}
}

func TestCheckBaseIsClean(t *testing.T) {
	s, err := parseEdited(t, Options{})
	if err != nil || len(s.Warnings) > 0 {
		t.Fatalf("checkBase should load cleanly: %v; warnings %v", err, s.Warnings)
	}
}

// TestNamesDeclaredTwice: a name written twice under models:, providers: or policies: (a
// duplicate YAML key, which YAML lets the last win) is an error at the second, as a category
// declared twice is.
func TestNamesDeclaredTwice(t *testing.T) {
	check(t, []finding{
		{name: "a model", edits: []string{"  strong: {", "  strong: {provider: sim, model: gpt-4o}\n  strong: {"}, line: 11,
			want: `model "strong" is declared twice (first at line 10): rename or remove one`},
		{name: "a provider", edits: []string{"  sim: {type: simulated}\n", "  sim: {type: simulated}\n  sim: {type: simulated}\n"}, line: 7,
			want: `provider "sim" is declared twice (first at line 6): rename or remove one`},
		{name: "a policy", edits: []string{"tests:\n", "policies:\n  p: {routes: {draft: {model: strong}}}\n  p: {routes: {draft: {model: nano}}}\ntests:\n"}, line: 35,
			want: `policy "p" is declared twice (first at line 34): rename or remove one`},
		{name: "a category, said the same way", edits: []string{"- name: draft", "- name: intent"}, line: 23,
			want: `category "intent" is declared twice (first at line 12): rename or remove one`},
	})
}

// TestTokenAndVolumeLimits: token counts above MaxTokens (TokenCount's range), wherever they
// are written, and a per-day volume whose monthly figure overflows are errors, not figures
// that wrap round to negative money.
func TestTokenAndVolumeLimits(t *testing.T) {
	check(t, []finding{
		{name: "tokens.out in exponent form", edits: []string{"{in: 400, out: 20}", "{in: 400, out: 1e19}"}, line: 14,
			want: "1e19 tokens is more than a spec can count: write a number of tokens up to 2,147,483,647"},
		{name: "tokens.in at the float range's end", edits: []string{"{in: 400, out: 20}", "{in: 1e308, out: 20}"}, line: 14,
			want: "1e308 tokens is more than a spec can count"},
		{name: "a band's p95", edits: []string{"{in: 400, out: 20}", "{in: {p50: 400, p95: 3000M}, out: 20}"}, line: 14,
			want: "p95: 3000M tokens is more than a spec can count"},
		{name: "a long-context threshold, a TokenCount as before", edits: []string{"gpt-4.1-nano,", "gpt-4.1-nano, price: {input: 1, output: 2, long_context: {above: 3e9, input: 2}},"}, line: 8,
			want: "3e9 tokens is more than a spec can count"},
		{name: "a model's context window", edits: []string{"gpt-4.1-nano,", "gpt-4.1-nano, context_window: 5000M,"}, line: 8,
			want: "context_window: 5000M tokens is more than a spec can count"},
		{name: "a per-day volume whose monthly figure overflows", edits: []string{"{per_month: 1000}", "{per_day: 9000000000000000000}"}, line: 4,
			want: "volume per_day 9,000,000,000,000,000,000 is too large: its monthly figure, 30 times it, would overflow; write at most 307,445,734,561,825,860"},
		{name: "the largest count is accepted", edits: []string{"{in: 400, out: 20}", "{in: 400, out: 2147483647}"}, none: true,
			want: "more than a spec can count"},
	})
	if got := (Volume{PerDay: math.MaxInt64}).Monthly(); got <= 0 {
		t.Errorf("Monthly of an unchecked huge per_day = %d: it must saturate, not wrap round", got)
	}
}

// TestRouteSettingsThatDoNothing: a cascade without validators escalates no answer (its later
// steps are used only when a step's call fails), and max_steps or on_exhausted that cap or
// change nothing are warned about, as on_fail already is.
func TestRouteSettingsThatDoNothing(t *testing.T) {
	check(t, []finding{
		{name: "a cascade without validators", edits: []string{"{cascade: [nano, strong], validate: [{max_length: 100}]}", "{cascade: [nano, strong]}", "      validator: {detect: 0.9, false_alarm: 0.1}\n", ""}, line: 17, warn: true,
			want: `category "intent" cascade has no validators, so no answer fails and the steps after "nano" are used only when a call to nano and its fallbacks fails with a provider error: add validate: [...] to the route or its steps`},
		{name: "a cascade whose first step validates escalates", edits: []string{"{cascade: [nano, strong], validate: [{max_length: 100}]}", "{cascade: [{model: nano, validate: [{max_length: 100}]}, strong]}"}, none: true,
			want: "cascade has no validators"},
		{name: "a policy's cascade is checked too", edits: []string{"tests:\n", "policies:\n  p: {routes: {draft: {cascade: [mini, strong]}}}\ntests:\n"}, line: 34, warn: true,
			want: `policy "p" route for "draft" cascade has no validators`},
		{name: "max_steps on a static route", edits: []string{"route: {model: mini}", "route: {model: mini, max_steps: 2}"}, line: 28, warn: true,
			want: `category "draft" route sets max_steps, but a route to one model has one step, so it caps nothing: remove max_steps`},
		{name: "max_steps as long as the cascade", edits: []string{"validate: [{max_length: 100}]}", "validate: [{max_length: 100}], max_steps: 5}"}, line: 17, warn: true,
			want: `category "intent" max_steps 5 caps nothing: the cascade has 2 steps; lower max_steps below 2, or remove it`},
		{name: "max_steps shorter than the cascade caps it", edits: []string{"validate: [{max_length: 100}]}", "validate: [{max_length: 100}], max_steps: 1}"}, none: true,
			want: "caps nothing"},
		{name: "on_exhausted where nothing is validated", edits: []string{"route: {model: mini}", "route: {model: mini, on_exhausted: fail}"}, line: 28, warn: true,
			want: `category "draft" route sets on_exhausted, but nothing on it is validated, so no answer ever fails and no request exhausts the route`},
		{name: "on_exhausted on a validated static route fails its failed answers", edits: []string{"route: {model: mini}", "route: {model: mini, validate: [{max_length: 10}], on_exhausted: fail}"}, none: true,
			want: "on_exhausted"},
	})
}

// TestScoreAssumptionsOutsideScoreRoutes: assume.score_share and score_pass_rate are used by
// score routes only; elsewhere they are warned about, and the models they name must exist.
func TestScoreAssumptionsOutsideScoreRoutes(t *testing.T) {
	const policy = "policies:\n  scored: {routes: {draft: {score: {heuristic: {tiers: [0.5]}, models: [mini, strong]}, validate: [{max_length: 10}]}}}\ntests:\n"
	check(t, []finding{
		{name: "score_share on a static route", edits: []string{"      pass_rate: {mini: 0.9, strong: 0.95}\n", "      pass_rate: {mini: 0.9, strong: 0.95}\n      score_share: {mini: 1}\n"}, line: 32, warn: true,
			want: `category "draft" states assume.score_share, which only a score route uses, but neither its route nor any policy's route for it is one, so it is never used`},
		{name: "score_pass_rate naming no model", edits: []string{"      pass_rate: {mini: 0.9, strong: 0.95}\n", "      pass_rate: {mini: 0.9, strong: 0.95}\n      score_pass_rate: {mimi: 0.9}\n"}, line: 32,
			want: `category "draft" assume.score_pass_rate names "mimi", which is not a model declared under models: (did you mean "mini"?)`},
		{name: "a policy's score route uses them", edits: []string{"      pass_rate: {mini: 0.9, strong: 0.95}\n", "      pass_rate: {mini: 0.9, strong: 0.95}\n      score_share: {mini: 1}\n", "tests:\n", policy}, none: true,
			want: "never used"},
		{name: "heuristic tiers out of order are shown", edits: []string{"route: {model: mini}", "route: {score: {heuristic: {tiers: [0.7, 0.35]}, models: [nano, mini, strong]}, validate: [{max_length: 10}]}"}, line: 28,
			want: `category "draft" heuristic tiers must rise strictly between 0 and 1 (got [0.7, 0.35]), like tiers: [0.35, 0.7]`},
	})
}

// TestEscalatedPassRates: assume.escalated_pass_rate must name declared models, and is used
// only for models a route can escalate to (a later step of a validated cascade, or its
// fallbacks); elsewhere it is warned about.
func TestEscalatedPassRates(t *testing.T) {
	const intent = "      pass_rate: {nano: 0.8, mini: 0.85, strong: 0.95}\n"
	check(t, []finding{
		{name: "the cascade's later step and its fallback", edits: []string{intent, intent + "      escalated_pass_rate: {strong: 0.7, mini: 0.6}\n"}, none: true,
			want: "escalated_pass_rate"},
		{name: "naming no model", edits: []string{intent, intent + "      escalated_pass_rate: {strnog: 0.7}\n"}, line: 21,
			want: `category "intent" assume.escalated_pass_rate names "strnog", which is not a model declared under models: (did you mean "strong"?)`},
		{name: "the cascade's first step is never escalated to", edits: []string{intent, intent + "      escalated_pass_rate: {nano: 0.7}\n"}, line: 21, warn: true,
			want: `category "intent" states assume.escalated_pass_rate for nano, but no route for it escalates to nano`},
		{name: "a static route escalates nothing", edits: []string{"      pass_rate: {mini: 0.9, strong: 0.95}\n", "      pass_rate: {mini: 0.9, strong: 0.95}\n      escalated_pass_rate: {strong: 0.8}\n"}, line: 32, warn: true,
			want: `category "draft" states assume.escalated_pass_rate for strong, but no route for it escalates to strong`},
		{name: "cascade-by-price escalates on a validated static route", edits: []string{"route: {model: mini}", "route: {model: mini, validate: [{max_length: 10}]}",
			"      pass_rate: {mini: 0.9, strong: 0.95}\n", "      pass_rate: {mini: 0.9, strong: 0.95}\n      escalated_pass_rate: {strong: 0.8}\n"}, none: true,
			want: "escalated_pass_rate"},
		{name: "a policy's cascade escalates", edits: []string{"      pass_rate: {mini: 0.9, strong: 0.95}\n", "      pass_rate: {mini: 0.9, strong: 0.95}\n      escalated_pass_rate: {strong: 0.8}\n",
			"tests:\n", "policies:\n  cheap-first: {routes: {draft: {cascade: [mini, strong], validate: [{max_length: 10}]}}}\ntests:\n"}, none: true,
			want: "escalated_pass_rate"},
	})
}

// TestTestExpectationsChecked: a golden request that expects a category, model or reason the
// spec does not have always fails, so spec check reports it, with the closest name.
func TestTestExpectationsChecked(t *testing.T) {
	check(t, []finding{
		{name: "an unknown category", edits: []string{"category: intent,", "category: intnet,"}, line: 37,
			want: `test "intent by header" expect.category "intnet" is not a category declared under categories: (did you mean "intent"?)`},
		{name: "an unknown first model", edits: []string{"model: nano,", "model: nanno,"}, line: 37,
			want: `test "intent by header" expect.model "nanno" is not a model declared under models: (did you mean "nano"?)`},
		{name: "an unknown model in the plan", edits: []string{"plan: [nano, mini, strong]", "plan: [nano, mimi, strong]"}, line: 37,
			want: `expect.plan model "mimi" is not a model declared under models: (did you mean "mini"?)`},
		{name: "a misspelt reason", edits: []string{"by: header}", "by: headr}"}, line: 37,
			want: `expect.by "headr" is part of no reason this spec can give for a request's category, so the test always fails (did you mean "header"?)`},
		{name: "the rule of a category that has none", edits: []string{"by: header}", "by: rule of intent}"}, line: 37,
			want: `expect.by "rule of intent" is part of no reason`},
		{name: "any part of a reason the spec can give", edits: []string{"by: header}", "by: 'X-Task: intent'}"}, none: true,
			want: "expect.by"},
		{name: "a rule the spec has", edits: []string{"by: header}", "by: rule of draft}"}, none: true,
			want: "expect.by"},
	})
}

// TestMatchClaimsChecked: a header or metadata value that an earlier category already claims
// never selects the later one, as a claimed model name does not.
func TestMatchClaimsChecked(t *testing.T) {
	check(t, []finding{
		{name: "the same header, in other letter case", edits: []string{`match: {when:`, `match: {header: {x-task: intent}, when:`}, line: 32,
			want: `category "draft" claims header x-task: intent, which already selects category "intent", so it never selects "draft"`},
		{name: "the same metadata", edits: []string{`match: {when:`, `match: {metadata: {task: intent}, when:`}, line: 32,
			want: `category "draft" claims metadata task: intent, which already selects category "intent"`},
		{name: "the same header with another value", edits: []string{`match: {when:`, `match: {header: {X-Task: draft}, when:`}, none: true,
			want: "claims header"},
	})
}

// TestMaxOutputWarning: a category whose answers are longer than a routed model can write is
// warned about at its tokens, as input over a context window is.
func TestMaxOutputWarning(t *testing.T) {
	check(t, []finding{
		{name: "over every model's maximum", edits: []string{"{in: 1000, out: 200}", "{in: 1000, out: 40k}"}, line: 25, warn: true,
			want: `category "draft" tokens.out 40,000 is more than the maximum output of mini (gpt-4.1-mini, 32,768 tokens) and strong (gpt-4.1, 32,768 tokens): such a model stops writing there and its answer is cut off, while the estimate prices every answer at tokens.out; no model on the route or its fallbacks can write answers this long`},
		{name: "a distribution's tail", edits: []string{"{in: 1000, out: 200}", "{in: 1000, out: {p50: 10k, p95: 40k}}"}, line: 25, warn: true,
			want: "tokens.out p95 40,000 is more than the maximum output of mini (gpt-4.1-mini, 32,768 tokens, about 8"},
		{name: "a model whose spec raises its maximum", edits: []string{"{in: 1000, out: 200}", "{in: 1000, out: 40k}", "gpt-4.1-mini,", "gpt-4.1-mini, max_output: 64k,"}, line: 25, warn: true,
			want: "the maximum output of strong (gpt-4.1, 32,768 tokens): such a model stops"},
		{name: "within the maximum", edits: []string{"{in: 1000, out: 200}", "{in: 1000, out: 32k}"}, none: true,
			want: "maximum output"},
	})
}

// TestUnusedWarnings: a model nothing uses is left out of the estimate, a provider no model
// uses is dead weight, and a category without failure_impact has its risk counted as $0; each
// is warned about. Every way of using a model counts.
func TestUnusedWarnings(t *testing.T) {
	const spare = "  spare: {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 2s}}\ncategories:\n"
	const unused = `model "spare" is not used by any route`
	router := Options{ReadFile: func(string) ([]byte, error) {
		return []byte(`{"kind": "clearbar-router", "features": {"embedding": {"model": "gpt-4o", "dims": 8}}}`), nil
	}}
	check(t, []finding{
		{name: "a model nothing uses", edits: []string{"categories:\n", spare}, line: 11, warn: true,
			want: `model "spare" is not used by any route: no route, fallback, validator or shadow calls it, and no category assumes a pass rate for it, so it is left out of the estimate; remove it, or route to it`},
		{name: "a provider no model uses", edits: []string{"  sim: {type: simulated}\n", "  sim: {type: simulated}\n  idle: {type: simulated}\n"}, line: 7, warn: true,
			want: `provider "idle" is not used by any model: remove it, or declare a model on it with provider: idle`},
		{name: "a category without failure_impact", edits: []string{"    failure_impact: {bad_answer: 1}\n    route: {model: mini}", "    route: {model: mini}"}, line: 23, warn: true,
			want: `category "draft" has no failure_impact: the estimate counts its bad answers and failed requests as costing nothing, so its risk is $0`},
		{name: "a judge", edits: []string{"categories:\n", spare, "validate: [{max_length: 100}]", "validate: [{judge: {model: spare, rubric: ok}}]"}, none: true, want: unused},
		{name: "an agreement checker", edits: []string{"categories:\n", spare, "validate: [{max_length: 100}]", "validate: [{agree: {model: spare, answer: text}}]"}, none: true, want: unused},
		{name: "a shadow", edits: []string{"categories:\n", spare, "    fallback: [strong]\n", "    fallback: [strong]\n    shadow: {models: [spare], sample: 0.1, daily_budget: 1}\n"}, none: true, want: unused},
		{name: "a model's own fallback", edits: []string{"categories:\n", spare, "gpt-4.1-nano,", "gpt-4.1-nano, fallback: [spare],"}, none: true, want: unused},
		{name: "a policy's route", edits: []string{"categories:\n", spare, "      pass_rate: {mini: 0.9, strong: 0.95}", "      pass_rate: {mini: 0.9, strong: 0.95, spare: 0.9}", "tests:\n", "policies:\n  p: {routes: {draft: {model: spare}}}\ntests:\n"}, none: true, want: unused},
		{name: "a pass rate alone puts it in the estimate's policies", edits: []string{"categories:\n", spare, "      pass_rate: {mini: 0.9, strong: 0.95}", "      pass_rate: {mini: 0.9, strong: 0.95, spare: 0.9}"}, none: true, want: unused},
		{name: "a learned router's embedding model, by its model id", opts: router, edits: []string{"categories:\n", spare,
			"route: {model: mini}", "route: {score: {router: r.json, models: [mini, strong], threshold: 0.5}}"}, none: true, want: unused},
	})
}

// TestJudgeTokensChecked: a negative judge token count is an error, where it was replaced by
// the default without a word.
func TestJudgeTokensChecked(t *testing.T) {
	const judge = "validate: [{judge: {model: mini, rubric: ok, tokens: {in: IN, out: OUT}}}]"
	check(t, []finding{
		{name: "negative input", edits: []string{"validate: [{max_length: 100}]", strings.NewReplacer("IN", "-5", "OUT", "10").Replace(judge)}, line: 17,
			want: "judge tokens.in -5 is outside 0 to 2,147,483,647: write how many tokens the judge reads besides the request and the answer, like in: 300 (the default)"},
		{name: "negative output", edits: []string{"validate: [{max_length: 100}]", strings.NewReplacer("IN", "5", "OUT", "-1").Replace(judge)}, line: 17,
			want: "judge tokens.out -1 is outside 0 to 2,147,483,647: write how many tokens the judge writes, like out: 20 (the default)"},
	})
	s, err := parseEdited(t, Options{}, "validate: [{max_length: 100}]", strings.NewReplacer("IN", "0", "OUT", "40").Replace(judge))
	if err != nil {
		t.Fatal(err)
	}
	j := s.Category("intent").Route.Validate[0].Config.(*Judge)
	if in, out := j.ExtraTokens(); in != DefaultJudgeExtraIn || out != 40 {
		t.Errorf("ExtraTokens = %v, %v; want the default for 0 and 40 as written", in, out)
	}
}

// TestYAMLSyntaxErrorsPlaced: a tab in indentation is reported on its own line, with what to
// do (yaml.v3 reports it on another line, as a character that "cannot start any token"), and
// an alias of an undefined anchor on the line of the alias (yaml.v3 gives no line).
func TestYAMLSyntaxErrorsPlaced(t *testing.T) {
	check(t, []finding{
		{name: "a tab at the start of a line", edits: []string{"  mini: {", "\tmini: {"}, line: 9,
			want: "a tab indents this line: indent with spaces"},
		{name: "a tab after spaces, where YAML reports an earlier line", edits: []string{"    share: 0.5\n    tokens: {in: 400", "    share: 0.5\n  \t  tokens: {in: 400"}, line: 14,
			want: "a tab indents this line: indent with spaces"},
		{name: "an undefined anchor", edits: []string{"[nano, strong]", "[nano, *strongest]"}, line: 17,
			want: "*strongest refers to no anchor: mark the value it stands for with &strongest before this line, or write the value out here"},
		{name: "a tab inside a block of text is text", edits: []string{"name: checks\n", "name: checks\ndescription: |\n  a table:\n  \tone\n"}, none: true,
			want: "tab"},
	})
	_, err := parseEdited(t, Options{}, "  mini: {", "\tmini: {", "  strong: {", "\tstrong: {")
	if n := strings.Count(err.Error(), "a tab indents this line"); n != 2 {
		t.Errorf("two tab-indented lines: %d errors, want one for each:\n%v", n, err)
	}
}

// TestTypeErrorsNameTheKey: a value of the wrong kind is reported with the key it is written
// for and how to write it; context_window and max_output take token counts like 1M and 64k.
func TestTypeErrorsNameTheKey(t *testing.T) {
	check(t, []finding{
		{name: "a name where a list is needed", edits: []string{"fallback: [strong]", "fallback: strong"}, line: 29,
			want: "fallback is a list: write fallback: [strong]"},
		{name: "a list where text is needed", edits: []string{"name: checks", "name: [checks]"}, line: 2,
			want: "name takes a single value (text), not a list: write name: checks"},
		{name: "a mapping where a list is needed", edits: []string{"fallback: [strong]", "fallback: {strong: 1}"}, line: 29,
			want: "fallback is a list, not a mapping: write fallback: [...]"},
		{name: "text where a whole number is needed", edits: []string{"tests:\n", "server: {max_messages: lots}\ntests:\n"}, line: 33,
			want: "max_messages takes a whole number, not the text `lots`: write max_messages: N"},
		{name: "a key written twice in one mapping", edits: []string{"{in: 400, out: 20}", "{in: 400, out: 20, in: 500}"}, line: 14,
			want: `key "in" is written twice in one mapping (first at line 14): remove one`},
		{name: "a context window that is no token count", edits: []string{"gpt-4.1-nano,", "gpt-4.1-nano, context_window: lots,"}, line: 8,
			want: `context_window: "lots" is not a whole number of tokens: write one like 200000 or 200k`},
	})
	s, err := parseEdited(t, Options{}, "gpt-4.1-nano,", "gpt-4.1-nano, context_window: 1M, max_output: 64k,")
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Model("nano").Resolved; r.ContextWindow != 1_000_000 || r.MaxOutput != 64_000 {
		t.Errorf("context_window: 1M, max_output: 64k resolved as %d and %d", r.ContextWindow, r.MaxOutput)
	}
}

// TestEmptyValidatorSettings: a validator written without its settings is an error saying what
// to write, where the settings were left empty (a schema that is "not JSON: EOF", a length of
// 0 characters); kinds whose settings have defaults take an empty value as them.
func TestEmptyValidatorSettings(t *testing.T) {
	check(t, []finding{
		{name: "json_schema", edits: []string{"[{max_length: 100}]", "[{json_schema: }]"}, line: 17,
			want: "json_schema has no value: write a file path, request, or {inline: {...}}"},
		{name: "max_length", edits: []string{"[{max_length: 100}]", "[{max_length: }]"}, line: 17,
			want: "max_length takes a positive number of characters, like max_length: 200"},
		{name: "refusal and citations take their defaults", edits: []string{"[{max_length: 100}]", "[{refusal: }, {citations: }]"}, none: true,
			want: "refusal"},
	})
}

// TestMessagesSayWhatToChange: errors that were placed right but did not say what to change.
func TestMessagesSayWhatToChange(t *testing.T) {
	check(t, []finding{
		{name: "the spec's review in the future", edits: []string{"last: 2026-11-01", "last: 2099-11-01"}, line: 3,
			want: "review date 2099-11-01 is in the future: write the date of the last review, today (2026-11-27) or earlier"},
		{name: "a category's review in the future", edits: []string{"    failure_impact: {bad_answer: 1}\n    route: {model: mini}", "    failure_impact: {bad_answer: 1}\n    review: {last: 2099-01-01}\n    route: {model: mini}"}, line: 28,
			want: `category "draft" review date 2099-01-01 is in the future: write the date of its last review, today (2026-11-27) or earlier`},
		{name: "ttft p95 below p50", edits: []string{"gpt-4.1-nano, latency: {p50: 1s, p95: 2s}", "gpt-4.1-nano, latency: {ttft: {p50: 250ms, p95: 100ms}, tokens_per_second: 100}"}, line: 8,
			want: `model "nano" latency ttft p95 (100ms) is below its p50 (250ms): raise p95 to at least 250ms, or lower p50`},
	})
}

// TestShadowBudgetWarning: a shadow call reserves its worst case (the category's input and
// the output cap) before it is made, so a candidate whose one call reserves more than the
// daily budget is never called; spec check says so, with the budget that would do.
func TestShadowBudgetWarning(t *testing.T) {
	shadow := func(budget string) []string {
		return []string{"    route: {model: mini}\n", "    route: {model: mini}\n    shadow: {models: [strong], sample: 0.5, daily_budget: " + budget + "}\n"}
	}
	check(t, []finding{
		{name: "one call reserves more than the day's budget", edits: shadow("0.002"), line: 29, warn: true,
			want: `category "draft" shadows "strong", but one call to it reserves $0.0189 of the daily budget before it is made (1000 input tokens and the 2048 output tokens shadow calls are capped at, at its prices), more than daily_budget $0.00200: it would never be called; raise daily_budget above $0.0189`},
		{name: "a budget that covers many calls", edits: shadow("5"), none: true, want: "would never be called"},
	})
}

// TestEmbeddingModelsDoNotAnswerChat: an embedding model in the catalogue cannot answer a chat
// request, so routing to one (or falling back to one) is an error; one declared for
// /v1/embeddings is not "unused", unless its provider serves no embeddings.
func TestEmbeddingModelsDoNotAnswerChat(t *testing.T) {
	emb := func(provider string, more ...string) []string {
		return append([]string{"  strong: {provider: sim, model: gpt-4.1, latency: {p50: 1s, p95: 2s}}\n",
			"  strong: {provider: sim, model: gpt-4.1, latency: {p50: 1s, p95: 2s}}\n  emb: {provider: " + provider + ", model: text-embedding-3-small}\n",
			"  sim: {type: simulated}\n", "  sim: {type: simulated}\n  up: {type: openai, base_url: \"http://127.0.0.1:9/v1\"}\n"}, more...)
	}
	check(t, []finding{
		{name: "a route to an embedding model", edits: emb("up", "    route: {model: mini}\n", "    route: {model: emb}\n"), line: 30,
			want: `model "emb" (text-embedding-3-small) is an embedding model in the price catalogue: it turns text into vectors and cannot answer chat requests; name a chat model here`},
		{name: "a fallback to one", edits: emb("up", "    fallback: [strong]\n", "    fallback: [strong, emb]\n"), line: 31, want: "is an embedding model in the price catalogue"},
		{name: "declared for /v1/embeddings on a provider that serves them", edits: emb("up"), none: true, want: `model "emb"`},
		{name: "an embedding model falling back to a chat model", edits: emb("up", "model: text-embedding-3-small}", "model: text-embedding-3-small, fallback: [strong]}"), line: 12,
			want: `model "emb" (text-embedding-3-small) is an embedding model and falls back to "strong" (gpt-4.1), a chat model: a fallback answers the same requests; name an embedding model`},
		{name: "declared on a provider that serves no embeddings", edits: emb("sim"), line: 12, warn: true,
			want: `model "emb" (text-embedding-3-small) is an embedding model, but its provider "sim" (type simulated) serves no embeddings`},
	})
}

// TestPriceUnitMistakes: a price override written per token, per thousand or per billion
// tokens, or in cents, passed silently and priced every request in nano-dollars (a per-token
// price below a spec's precision even counted as free). One that differs from the catalogue's
// price for the model by 100 times or more, or, for a model the catalogue lacks, one outside
// $0.001–$1,000 per million tokens, is warned about with the unit it was likely written in.
func TestPriceUnitMistakes(t *testing.T) {
	mini := func(price string) []string {
		return []string{"model: gpt-4.1-mini, latency", "model: gpt-4.1-mini, price: " + price + ", latency"}
	}
	own := func(price string) []string {
		return []string{"model: gpt-4.1, latency", "model: in-house-70b, price: " + price + ", latency"}
	}
	const unit = "prices are USD per million tokens"
	check(t, []finding{
		{name: "per token, below a spec's precision", edits: mini("{input: 0.0000004}"), line: 9, warn: true,
			want: `model "mini": price.input 0.0000004 is 1/1,000,000 of the catalogue's $0.4/M for gpt-4.1-mini input: prices are USD per million tokens; did you write it per token? 0.0000004 per token is 0.4 per million; write the price per million tokens, or leave price.input out to use the catalogue's`},
		{name: "per billion tokens", edits: mini("{output: 1600}"), line: 9, warn: true,
			want: "price.output 1600 is 1,000 times the catalogue's $1.6/M for gpt-4.1-mini output: prices are USD per million tokens; did you write it per billion tokens? 1600 per billion tokens is 1.6 per million"},
		{name: "in cents", edits: mini("{input: 40}"), line: 9, warn: true,
			want: "price.input 40 is 100 times the catalogue's $0.4/M for gpt-4.1-mini input: prices are USD per million tokens; did you write it in cents? 40 cents is 0.4 dollars"},
		{name: "a long-context price the catalogue lacks", edits: mini("{input: 0.4, output: 1.6, long_context: {above: 128k, input: 0.0000008}}"), line: 9, warn: true,
			want: "price.long_context.input 0.0000008 is below $0.001 per million tokens, far cheaper than models are sold for: prices are USD per million tokens; did you write it per token? 0.0000008 per token is 0.8 per million"},
		{name: "a discount", edits: mini("{input: 0.01, output: 0.5}"), none: true, want: unit},
		{name: "a self-hosted model is free", edits: mini("{input: 0, output: 0}"), none: true, want: unit},
		{name: "per token, not in the catalogue", edits: own("{input: 0.000003, output: 0.000015}"), line: 10, warn: true,
			want: `model "strong": price.input 0.000003 is below $0.001 per million tokens, far cheaper than models are sold for: prices are USD per million tokens; did you write it per token? 0.000003 per token is 3 per million; write the price per million tokens, or 0 for a model that costs nothing to call`},
		{name: "per billion tokens, not in the catalogue", edits: own("{input: 3000, output: 15}"), line: 10, warn: true,
			want: `model "strong": price.input 3000 is above $1,000 per million tokens, far dearer than models are sold for: prices are USD per million tokens; did you write it per billion tokens? 3000 per billion tokens is 3 per million; write the price per million tokens`},
		{name: "plausible, not in the catalogue", edits: own("{input: 0.002, output: 900}"), none: true, want: unit},
	})
	// An override that corrects a catalogue price far outside the plausible range (some
	// catalogue entries are themselves off by a thousand) is not the spec's mistake.
	cat, err := catalog.Parse(strings.NewReader(`{"header":{"source":"s","source_date":"2026-11-01","license":"MIT","generated_by":"hand"},"entries":[
{"key":"gpt-4.1-nano","provider":"openai","mode":"chat","input":"100","output":"400"},
{"key":"gpt-4.1-mini","provider":"openai","mode":"chat","input":"0.4","output":"1.6"},
{"key":"gpt-4.1","provider":"openai","mode":"chat","input":"5000","output":"8"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	check(t, []finding{
		{name: "correcting the catalogue", opts: Options{Catalog: cat}, edits: []string{"model: gpt-4.1, latency", "model: gpt-4.1, price: {input: 2}, latency"}, none: true, want: unit},
		{name: "the catalogue's plausible prices still count", opts: Options{Catalog: cat}, edits: []string{"model: gpt-4.1, latency", "model: gpt-4.1, price: {output: 0.000008}, latency"}, line: 10, warn: true,
			want: "price.output 0.000008 is 1/1,000,000 of the catalogue's $8/M for gpt-4.1 output"},
	})
}

// TestValidatorStrengthPlausibility: detect below false_alarm flags good answers more often than
// bad ones, most likely the two swapped: an error, unless validate calibrate measured it so.
// Equal rates tell good answers from bad no better than chance. A near-perfect strength of
// format checks is warned about unless it was measured (TestFormatCheckWarnedDespiteWhy).
func TestValidatorStrengthPlausibility(t *testing.T) {
	strength := func(s string, more ...string) []string {
		return append([]string{"validator: {detect: 0.9, false_alarm: 0.1}", "validator: " + s}, more...)
	}
	const perfect = "and flag no good one"
	check(t, []finding{
		{name: "swapped", edits: strength("{detect: 0.1, false_alarm: 0.9}"), line: 21,
			want: `category "intent" assume.validator detect 0.1 is below false_alarm 0.9: the validator flags good answers more often than bad ones; did you swap detect and false_alarm? detect is the share of bad answers it flags, false_alarm the share of good ones: write {detect: 0.9, false_alarm: 0.1}`},
		{name: "measured worse than chance", edits: strength("{detect: 0.1, false_alarm: 0.9, calibrated: 2026-11-20}"), line: 21, warn: true,
			want: `category "intent" assume.validator, calibrated on 2026-11-20, has detect 0.1 below false_alarm 0.9: the validator flags good answers more often than bad ones`},
		{name: "uninformative", edits: strength("{detect: 0.3, false_alarm: 0.3}"), line: 21, warn: true,
			want: `category "intent" assume.validator detect and false_alarm are both 0.3: the validator flags good and bad answers alike, no better than chance`},
		{name: "flags nothing", edits: strength("{detect: 0, false_alarm: 0}"), none: true, want: "alike"},
		{name: "a format check that catches every bad answer", edits: strength("{detect: 0.999, false_alarm: 0}"), line: 21, warn: true,
			want: `category "intent" assumes its validators (max_length) catch 99.9% of bad answers and flag no good one, but they check an answer's form, not whether it is right, and a format check rarely catches every wrong answer`},
		{name: "measured", edits: strength("{detect: 1, false_alarm: 0, calibrated: 2026-11-20}"), none: true, want: perfect},
		{name: "a judge reads the content", edits: strength("{detect: 1, false_alarm: 0}", "validate: [{max_length: 100}]", "validate: [{judge: {model: strong, rubric: ok}}]"),
			none: true, want: perfect},
		{name: "nearly perfect", edits: strength("{detect: 0.99, false_alarm: 0}"), none: true, want: perfect},
	})
}

// TestPolicyRouteValidationWarned: a named policy's route that validates with a default or
// unmeasured strength, or trusts an unmeasured judge, is warned about as a category's own route
// is, naming the policy; not again where the category's own route is warned about already.
func TestPolicyRouteValidationWarned(t *testing.T) {
	policy := func(cat, route string) string {
		return "policies:\n  p: {routes: {" + cat + ": " + route + "}}\ntests:\n"
	}
	const judged = "{cascade: [mini, strong], validate: [{judge: {model: strong, rubric: ok}}]}"
	check(t, []finding{
		{name: "validates with no strength", edits: []string{"tests:\n", policy("draft", judged)}, line: 34, warn: true,
			want: `policy "p" route for "draft" validates answers, but category "draft" states no validator strength: assuming detect 0.50, false_alarm 0.02; add assume: {validator: {detect: D, false_alarm: F}} to category "draft", or calibrate it`},
		{name: "an uncalibrated judge", edits: []string{"tests:\n", policy("draft", judged)}, line: 34, warn: true,
			want: `policy "p" route for "draft" trusts an LLM judge whose strength is assumed, not measured: category "draft"'s assume.validator states none, so the default is assumed; label a few dozen answers and run clearbar validate calibrate SPEC --category draft OUTCOMES --update with this route as the category's`},
		{name: "a strength calibrated on other validators", edits: []string{"false_alarm: 0.1}", "false_alarm: 0.1, calibrated: 2026-11-20}", "tests:\n", policy("intent", judged)}, line: 34, warn: true,
			want: `category "intent"'s assume.validator was calibrated on its own route's validators, which include no judge`},
		{name: "the category states a strength", edits: []string{"tests:\n", policy("intent", "{cascade: [mini, strong], validate: [{max_length: 10}]}")}, none: true,
			want: "states no validator strength"},
		{name: "the category's own route is warned about", edits: []string{"validate: [{max_length: 100}]", "validate: [{judge: {model: strong, rubric: ok}}]", "tests:\n", policy("intent", judged)}, none: true,
			want: `policy "p" route for "intent" trusts`},
	})
}

// TestZeroPassRateWarned: a pass rate of exactly 0 for a model a route uses says every answer
// of it is bad, which is rarely meant (a placeholder for "unknown"), so spec check asks for a
// value.
func TestZeroPassRateWarned(t *testing.T) {
	check(t, []finding{
		{name: "a route's model", edits: []string{"pass_rate: {nano: 0.8,", "pass_rate: {nano: 0,"}, line: 20, warn: true,
			want: `category "intent" assumes a pass rate of 0 for nano, used by its route: a pass rate of 0 means every answer of nano is bad; if it is unknown, measure it with clearbar eval or assume a value, like nano: 0.9`},
		{name: "a fallback", edits: []string{"mini: 0.85,", "mini: 0,"}, line: 20, warn: true,
			want: `category "intent" assumes a pass rate of 0 for mini, used by its fallbacks`},
		{name: "a policy's route", edits: []string{"pass_rate: {mini: 0.9, strong: 0.95}", "pass_rate: {mini: 0.9, strong: 0.95, nano: 0}", "tests:\n", "policies:\n  p: {routes: {draft: {model: nano}}}\ntests:\n"}, line: 31, warn: true,
			want: `category "draft" assumes a pass rate of 0 for nano, used by policy "p"'s route for it`},
		{name: "a model no route uses", edits: []string{"pass_rate: {mini: 0.9, strong: 0.95}", "pass_rate: {mini: 0.9, strong: 0.95, nano: 0}"}, none: true,
			want: "pass rate of 0"},
	})
}

// TestTokensBeyondEveryContextWindow: input tokens more than any model in the catalogue takes
// are most likely not the tokens of one request; where a routed model's window is unknown,
// checkContextWindows cannot say so, and this check does.
func TestTokensBeyondEveryContextWindow(t *testing.T) {
	const own = "model: in-house-70b, price: {input: 1, output: 2}, latency"
	const beyond = "more than any model in the price catalogue takes"
	check(t, []finding{
		{name: "a model without a known window", edits: []string{"model: gpt-4.1, latency", own, "{in: 1000, out: 200}", "{in: 500M, out: 200}"}, line: 25, warn: true,
			want: `category "draft" tokens.in 500,000,000 is ` + beyond},
		{name: "its message names it", edits: []string{"model: gpt-4.1, latency", own, "{in: 1000, out: 200}", "{in: 500M, out: 200}"}, line: 25, warn: true,
			want: "and strong has no known context window: tokens.in is the input tokens of one request; correct it, or set context_window on the models if they take this much"},
		{name: "known windows: the context window warning says it", edits: []string{"{in: 1000, out: 200}", "{in: 500M, out: 200}"}, line: 25, warn: true,
			want: "no model on the route or its fallbacks can take these requests"},
		{name: "known windows, no second warning", edits: []string{"{in: 1000, out: 200}", "{in: 500M, out: 200}"}, none: true, want: beyond},
		{name: "within the largest window", edits: []string{"model: gpt-4.1, latency", own, "{in: 1000, out: 200}", "{in: 2M, out: 200}"}, none: true, want: beyond},
	})
}

// TestLatencyBeyondTimeout: an assumed latency whose median or 95th percentile is more than a
// call to the model may take (its timeout, its provider's, or server.request_timeout) means
// calls time out; seconds written for milliseconds are the usual cause.
func TestLatencyBeyondTimeout(t *testing.T) {
	strong := func(latency string) []string {
		return []string{"model: gpt-4.1, latency: {p50: 1s, p95: 2s}", "model: gpt-4.1, " + latency}
	}
	check(t, []finding{
		{name: "seconds for milliseconds", edits: strong("latency: {p50: 2000s, p95: 6000s}"), line: 10, warn: true,
			want: `model "strong" latency p50 33m20s is more than the 2m a call to strong may take (server.request_timeout, 2m by default, as neither the model nor its provider sets a timeout): most of its calls would time out; if the latency is in milliseconds, write p50: 2000ms, p95: 6000ms; else raise server.request_timeout`},
		{name: "the tail over the model's timeout", edits: strong("latency: {p50: 2s, p95: 6s}, timeout: 3s"), line: 10, warn: true,
			want: `model "strong" latency p95 6s is more than the 3s a call to strong may take (the timeout of model "strong", 3s): more than 5% of its calls would time out; raise the timeout of model "strong", or correct the latency`},
		{name: "the provider's timeout", edits: []string{"sim: {type: simulated}", "sim: {type: simulated, timeout: 1500ms}"}, line: 10, warn: true,
			want: `model "strong" latency p95 2s is more than the 1.5s a call to strong may take (the timeout of provider "sim", 1.5s)`},
		{name: "server.request_timeout", edits: []string{"tests:\n", "server: {request_timeout: 1500ms}\ntests:\n"}, line: 8, warn: true,
			want: `model "nano" latency p95 2s is more than the 1.5s a call to nano may take (server.request_timeout, 1.5s, as neither the model nor its provider sets a timeout)`},
		{name: "a model's timeout above request_timeout", edits: strong("latency: {p50: 200s, p95: 300s}, timeout: 10m"), line: 10, warn: true,
			want: "is more than the 2m a call to strong may take (server.request_timeout, 2m by default)"},
		{name: "time to first token", edits: strong("latency: {ttft: {p50: 150s, p95: 300s}, tokens_per_second: 50}"), line: 10, warn: true,
			want: "latency ttft p50 2m30s is more than the 2m a call to strong may take"},
		{name: "a category's assumption", edits: []string{"      pass_rate: {mini: 0.9, strong: 0.95}\n", "      pass_rate: {mini: 0.9, strong: 0.95}\n      latency: {strong: {p50: 200s, p95: 400s}}\n"}, line: 32, warn: true,
			want: `category "draft" model "strong" latency p50 3m20s is more than the 2m a call to strong may take`},
		{name: "long timeouts cover it", edits: append(strong("latency: {p50: 200s, p95: 400s}, timeout: 10m"), "tests:\n", "server: {request_timeout: 15m}\ntests:\n"), none: true,
			want: "would time out"},
	})
}

// TestAdminKeysOnlyWarned: keys with admin keys alone leave applications no key to call the
// gateway with, since every request needs one.
func TestAdminKeysOnlyWarned(t *testing.T) {
	const hash = "sha256:" + "0000000000000000000000000000000000000000000000000000000000000000"
	const src = `version: 1
name: keys
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers: {p: {type: simulated}}
models:
  small: {provider: p, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
categories:
  - name: chat
    share: 1
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    failure_impact: {bad_answer: 0.01}
    route: {model: small}
    assume: {pass_rate: {small: 0.9}}
keys:
  admin: ["` + hash + `"]
`
	s, err := Parse([]byte(src), "keys.yaml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range s.Warnings {
		found = found || w.Line == 17 && strings.Contains(w.Msg, "admin keys are configured but no client key")
	}
	if !found {
		t.Errorf("no warning at keys.yaml:17 (keys:) about admin keys alone; got %v", s.Warnings)
	}
}

// TestKeyHashesDeclaredTwice: the gateway finds a key by its hash, so a hash written for two
// clients, for a client and an admin, or twice as an admin is an error at the second entry
// naming the first, as a client name written twice is; without it the last entry would win.
func TestKeyHashesDeclaredTwice(t *testing.T) {
	hash := func(d string) string { return "sha256:" + strings.Repeat(d, 64) }
	last := "expect: {category: intent, plan: [nano, mini, strong], model: nano, by: header}\n"
	keys := func(lines ...string) []string { // appended to checkBase from line 38 on
		return []string{last, last + strings.Join(lines, "\n") + "\n"}
	}
	check(t, []finding{
		{name: "two clients with one hash", line: 44,
			edits: keys("keys:", "  admin:", "    - "+hash("a"), "  clients:",
				"    - {name: alpha, hash: "+hash("1")+", tier: pro, rate_limit: 3/h}",
				"    - name: beta",
				"      hash: "+hash("1"),
				"      tier: free"),
			want: `client key "beta" has the same hash as client key "alpha" (line 42): each client needs its own key`},
		{name: "a client with an admin's hash", line: 43,
			edits: keys("keys:", "  admin:", "    - "+hash("a"), "    - "+hash("b"), "  clients:",
				"    - {name: alpha, hash: "+hash("b")+"}"),
			want: `client key "alpha" has the hash of an admin key (line 41): a key is either a client's or an admin's`},
		{name: "an admin hash listed twice", line: 41,
			edits: keys("keys:", "  admin:", "    - "+hash("a"), "    - "+hash("a"), "  clients:",
				"    - {name: alpha, hash: "+hash("1")+"}"),
			want: `admin key hash is listed twice (first at line 40): remove one`},
		{name: "distinct hashes load", none: true,
			edits: keys("keys:", "  admin: ["+hash("a")+"]", "  clients:",
				"    - {name: alpha, hash: "+hash("1")+"}",
				"    - {name: beta, hash: "+hash("2")+"}"),
			want: "hash"},
	})
}

// TestCallBound: a call is bounded by the model's timeout, else its provider's, when shorter
// than the request's (server.request_timeout, DefaultRequestTimeout by default); else by the
// request's, which then leaves the request no time for another call.
func TestCallBound(t *testing.T) {
	prov := &Provider{Timeout: Duration(200 * time.Second)}
	for _, tc := range []struct {
		name      string
		s         *Spec
		m         *Model
		d         time.Duration
		from      string
		byRequest bool
	}{
		{"model's", &Spec{}, &Model{Timeout: Duration(30 * time.Second), Resolved: ResolvedModel{Provider: prov}}, 30 * time.Second, "model", false},
		{"provider's, longer than the request's", &Spec{}, &Model{Resolved: ResolvedModel{Provider: prov}}, DefaultRequestTimeout, "provider", true},
		{"provider's, shorter", &Spec{Server: Server{RequestTimeout: Duration(300 * time.Second)}}, &Model{Resolved: ResolvedModel{Provider: prov}}, 200 * time.Second, "provider", false},
		{"none", &Spec{}, &Model{}, DefaultRequestTimeout, "", true},
	} {
		d, from, byRequest := tc.s.CallBound(tc.m)
		if d != tc.d || from != tc.from || byRequest != tc.byRequest {
			t.Errorf("%s: CallBound = %v, %q, %v; want %v, %q, %v", tc.name, d, from, byRequest, tc.d, tc.from, tc.byRequest)
		}
	}
}
