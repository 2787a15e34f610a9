package spec

import (
	"math"
	"strings"
	"testing"
	"time"
)

// fitBase is a spec whose one category's tokens, route, fallback and assumptions each test
// fills in. Models: small (gpt-4o-mini, a 128,000-token window), big (gpt-4.1-nano,
// 1,047,576 tokens) and strong (gpt-4o, 128,000 tokens and dearer than both).
const fitBase = `version: 1
name: fit
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
  big: {provider: sim, model: gpt-4.1-nano, latency: {p50: 1s, p95: 2s}}
  strong: {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 2s}}
categories:
  - name: docs
    share: 1
    tokens: TOKENS
    quality_bar: 0.5
    failure_impact: {bad_answer: 1}
    route: ROUTE
    fallback: FALLBACK
    assume:
      pass_rate: {small: 0.8, big: 0.8, strong: 0.9}
      score_share: {small: 0.5, strong: 0.5}
ASSUME
POLICIES`

func fitSpec(t *testing.T, tokens, route, fallback, assume, policies string) (*Spec, error) {
	t.Helper()
	src := strings.NewReplacer("TOKENS", tokens, "ROUTE", route, "FALLBACK", fallback, "ASSUME", assume, "POLICIES", policies).Replace(fitBase)
	src = strings.Replace(src, "      score_share: {small: 0.5, strong: 0.5}\n", map[bool]string{true: "      score_share: {small: 0.5, strong: 0.5}\n", false: ""}[strings.Contains(route, "score")], 1)
	return Parse([]byte(src), "fit.yaml", Options{Today: fixtureDay})
}

// warningsAt returns the warnings at line that contain text.
func warningsAt(s *Spec, line int, text string) []*Error {
	var out []*Error
	for _, w := range s.Warnings {
		if w.Line == line && strings.Contains(w.Msg, text) {
			out = append(out, w)
		}
	}
	return out
}

// TestContextWindowWarnings: a category whose input tokens are more than the context window of
// a model its route or fallbacks use is warned about at the line of its tokens: a typical
// request over the window first, the long tail (p95) over it more softly, and requests no
// model can take as failing.
func TestContextWindowWarnings(t *testing.T) {
	for _, tt := range []struct {
		name, tokens, route, fallback string
		want                          []string // warnings at line 13, the tokens line
		not                           []string
	}{
		{"fits", "{in: 100k, out: 10}", "{model: small}", "[big]", nil, []string{"context window"}},
		{"over the route model, the fallback takes it", "{in: 300k, out: 10}", "{model: small}", "[big]",
			[]string{`category "docs" tokens.in 300,000 is more than the context window of small (gpt-4o-mini, 128,000 tokens): the gateway leaves such a model out`, "route the category to models whose window holds its requests"},
			[]string{"they fail", "big (gpt-4.1-nano"}},
		{"over every model", "{in: 3M, out: 10}", "{cascade: [small, strong]}", "[big]",
			[]string{"tokens.in 3,000,000 is more than the context window of small (gpt-4o-mini, 128,000 tokens), big (gpt-4.1-nano, 1,047,576 tokens) and strong (gpt-4o, 128,000 tokens)", "no model on the route or its fallbacks can take these requests, so they fail"},
			nil},
		{"a model's own fallback counts", "{in: 300k, out: 10}", "{model: big}", "[]",
			nil, []string{"context window"}},
		{"p50 over", "{in: {p50: 200k, p95: 2M}, out: 10}", "{model: small}", "[big]",
			[]string{"tokens.in p50 200,000 is more than the context window of small (gpt-4o-mini, 128,000 tokens, about 63% of requests too long)",
				"tokens.in p95 2,000,000 is more than the context window of big (gpt-4.1-nano, 1,047,576 tokens, about 12% of requests too long): the gateway leaves it out of the plan of those long requests",
				"about 12% of requests are too long for every model on the route and its fallbacks, and fail"},
			nil},
		{"only the tail over", "{in: {p50: 20k, p95: 200k}, out: 10}", "{model: small}", "[big]",
			[]string{"tokens.in p95 200,000 is more than the context window of small (gpt-4o-mini, 128,000 tokens, about 9.2% of requests too long)"},
			[]string{"tokens.in p50", "fail"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := fitSpec(t, tt.tokens, tt.route, tt.fallback, "", "")
			if err != nil {
				t.Fatal(err)
			}
			all := Errors(s.Warnings).Error()
			for _, w := range tt.want {
				if len(warningsAt(s, 13, w)) == 0 {
					t.Errorf("no warning at line 13 with %q in:\n%s", w, all)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(all, w) {
					t.Errorf("a warning says %q:\n%s", w, all)
				}
			}
		})
	}
}

func TestBandOver(t *testing.T) {
	b := Band{P50: 1000, P95: 4000, Dist: true}
	if got := b.Over(1000); math.Abs(got-0.5) > 1e-12 {
		t.Errorf("Over(p50) = %v, want 0.5", got)
	}
	if got := b.Over(4000); math.Abs(got-0.05) > 1e-9 {
		t.Errorf("Over(p95) = %v, want 0.05", got)
	}
	if got := (Band{P50: 300, P95: 300}).Over(299); got != 1 {
		t.Errorf("a number over n: Over = %v, want 1", got)
	}
	if got := (Band{P50: 300, P95: 300}).Mean(); got != 300 {
		t.Errorf("the mean of a number = %v", got)
	}
	sigma := math.Log(4) / 1.6448536269514722 // ln(p95/p50) / z(0.95)
	if got, want := b.Mean(), 1000*math.Exp(sigma*sigma/2); math.Abs(got-want) > 1e-9 {
		t.Errorf("Mean = %v, want %v", got, want)
	}
}

// TestSettingsThatDoNothingAreWarned: on_fail where nothing is validated, a validator strength
// no validator uses and a score route whose models are not cheapest first are warned about
// where they are written.
func TestSettingsThatDoNothingAreWarned(t *testing.T) {
	for _, tt := range []struct {
		name, route, assume, policies string
		line                          int
		want                          string
	}{
		{"on_fail on a static route", "{model: small, on_fail: retry_once}", "", "", 16,
			`category "docs" route sets on_fail, but nothing on it is validated, so no answer ever fails: add validate: [...] to the route, or remove on_fail`},
		{"on_fail on an unvalidated step", "{cascade: [{model: small, on_fail: retry_once}, strong]}", "", "", 16,
			`category "docs" cascade step small sets on_fail, but its answers are not validated`},
		{"on_fail beside split", "{split: [{weight: 50%, model: small}, {weight: 50%, model: strong}], on_fail: retry_once}", "", "", 16,
			`category "docs" sets on_fail beside split, where it does nothing: put on_fail inside each split arm`},
		{"validator strength without validators", "{model: small}", "      validator: {detect: 0.9, false_alarm: 0.1}", "", 20,
			`category "docs" states assume.validator, but its route validates nothing, so the strength is never used`},
		{"score models dearest first", "{score: {heuristic: {tiers: [0.5]}, models: [strong, small]}, validate: [{max_length: 100}]}", "      validator: {detect: 0.9, false_alarm: 0.1}", "", 16,
			`category "docs" score models are not cheapest first at its tokens (a request costs strong $0.000350, small $0.0000210): the order matters, since the heuristic's tiers map to the models in order, the easiest requests to the first, and failed answers escalate to the models after the one that answered; list them cheapest first, models: [small, strong]`},
		{"a policy's score route too", "{model: small}", "", "policies:\n  flip:\n    routes: {docs: {score: {heuristic: {tiers: [0.5]}, models: [strong, small]}}}\n", 23,
			`policy "flip" route for "docs" score models are not cheapest first`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := fitSpec(t, "{in: 100, out: 10}", tt.route, "[]", tt.assume, tt.policies)
			if err != nil {
				t.Fatal(err)
			}
			if len(warningsAt(s, tt.line, tt.want)) == 0 {
				t.Errorf("no warning at line %d with %q in:\n%s", tt.line, tt.want, Errors(s.Warnings).Error())
			}
		})
	}
	// Each setting, where it does something, is not warned about.
	for _, tt := range []struct{ route, assume, policies string }{
		{"{model: small, validate: [{max_length: 100}], on_fail: retry_once}", "      validator: {detect: 0.9, false_alarm: 0.1}", ""},
		{"{cascade: [{model: small, validate: [{max_length: 100}], on_fail: retry_once}, strong]}", "      validator: {detect: 0.9, false_alarm: 0.1}", ""},
		{"{model: small}", "      validator: {detect: 0.9, false_alarm: 0.1}", "policies:\n  checked:\n    routes: {docs: {cascade: [small, strong], validate: [{max_length: 100}]}}\n"},
		{"{score: {heuristic: {tiers: [0.5]}, models: [small, strong]}, validate: [{max_length: 100}], on_fail: retry_once}", "      validator: {detect: 0.9, false_alarm: 0.1}", ""},
	} {
		s, err := fitSpec(t, "{in: 100, out: 10}", tt.route, "[]", tt.assume, tt.policies)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Warnings) > 0 {
			t.Errorf("%s %s: unexpected warnings:\n%s", tt.route, tt.policies, Errors(s.Warnings).Error())
		}
	}
}

// TestOverdueReviewIsAWarning: spec check and estimate show the spec's warnings, so an overdue
// review is one, judged as spec doc judges it; the document, which flags overdue reviews its own
// way as of its own day, does not list it again.
func TestOverdueReviewIsAWarning(t *testing.T) {
	src := strings.NewReplacer("TOKENS", "{in: 100, out: 10}", "ROUTE", "{model: small}", "FALLBACK", "[]", "ASSUME", "", "POLICIES", "").Replace(fitBase)
	src = strings.Replace(src, "      score_share: {small: 0.5, strong: 0.5}\n", "", 1)
	src = strings.Replace(src, "    share: 1\n", "    share: 1\n    review: {last: 2026-10-01, cadence: 2w}\n", 1)
	for _, tt := range []struct {
		today string
		want  []string
	}{
		{"2026-11-27", []string{
			"fit.yaml:13: category \"docs\"'s review is overdue: last 2026-10-01, due 2026-10-15 (2w), 43 day(s) ago",
		}},
		{"2026-12-05", []string{
			"fit.yaml:3: the spec's review is overdue: last 2026-11-01, due 2026-12-01 (monthly), 4 day(s) ago; re-run the estimate with current prices and measurements, review the routes, then set review.last to the day you did",
			"fit.yaml:13: category \"docs\"'s review is overdue",
		}},
	} {
		day, _ := time.Parse(time.DateOnly, tt.today)
		s, err := Parse([]byte(src), "fit.yaml", Options{Today: day})
		if err != nil {
			t.Fatal(err)
		}
		all := Errors(s.Warnings).Error()
		for _, w := range tt.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: no warning %q in:\n%s", tt.today, w, all)
			}
		}
		if n := strings.Count(all, "overdue"); n != len(tt.want) {
			t.Errorf("%s: %d overdue warnings, want %d:\n%s", tt.today, n, len(tt.want), all)
		}
		d := NewDocument(s, day)
		if strings.Contains(strings.Join(d.Warnings, "\n"), "overdue") || len(d.Overdue) != len(tt.want) {
			t.Errorf("%s: document warnings %q, overdue %q", tt.today, d.Warnings, d.Overdue)
		}
	}
	s, err := Parse([]byte(src), "fit.yaml", Options{Today: time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)})
	if err == nil || !strings.Contains(err.Error(), "in the future") {
		// The spec's review (2026-11-01) is after this day: an error, not an overdue warning.
		t.Errorf("a review after today: %v, warnings %v", err, s.Warnings)
	}
}
