package eval

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/retry"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

func answer(text string) *Input {
	return &Input{Item: &Item{ID: "t"}, Response: &clearbar.Response{Choices: []clearbar.Choice{{Text: text}}}}
}

func TestReferenceGraders(t *testing.T) {
	tests := []struct {
		grader      Grader
		answer      string
		pass        bool
		explanation string
	}{
		{Exact{"Paris"}, "Paris\n", true, "exact ignores only surrounding white space (models end with newlines)"},
		{Exact{"Paris"}, "paris", false, "exact is case-sensitive"},
		{Exact{"Paris"}, "Paris.", false, "exact does not drop punctuation"},
		{Normalized{"The U.S.A."}, "  the   usa!", true, "normalized ignores case, punctuation and runs of white space"},
		{Normalized{"New York"}, "new\tyork", true, "any white space is one space"},
		{Normalized{"ＡＢＣ"}, "abc", true, "full-width letters fold to ASCII (NFKC)"},
		{Normalized{"42"}, "42 dollars", false, "normalized is still whole-answer equality"},
		{Contains{"refund"}, "Refund approved.", true, "contains matches normalized whole words"},
		{Contains{"full refund"}, "We issued a FULL, refund today", true, "a run of words, punctuation between them ignored"},
		{Contains{"no"}, "I know the answer", false, "contains needs whole words: 'no' is not in 'know'"},
		{Contains{"intent"}, `{"intent":"refund","confidence":0}`, true, "JSON punctuation separates words"},
		{Contains{"refund"}, `{"intent":"refund","confidence":0}`, true, "a JSON value is a word of its own"},
		{Contains{`"intent": "refund"`}, `{"intent":"refund","confidence":0}`, true, "the expected text is normalized the same way"},
		{Contains{"b"}, "Answer:B", true, "a colon separates words"},
		{Contains{"no"}, "yes/no", true, "so does a slash"},
		{Contains{"5"}, "about 3.5 hours", false, "a decimal number is one word"},
		{Normalized{`{"intent": "shipping"}`}, `{"intent":"shipping"}`, true, "spacing inside JSON does not matter"},
		{Normalized{"Answer: B"}, "answer:b", true, "punctuation is a word boundary on both sides"},
		{Regex{regexp.MustCompile(`^\d{3}-\d{4}$`)}, "555-1234", true, "regex anchored to the whole answer"},
		{Regex{regexp.MustCompile(`^\d{3}-\d{4}$`)}, "call 555-1234", false, "anchors stop a match inside the text"},
		{Regex{regexp.MustCompile(`(?i)approved`)}, "APPROVED", true, "(?i) ignores case"},
		{Regex{regexp.MustCompile(`^B$`)}, " B\n", true, "anchors match the answer without its surrounding white space, as exact does (models end with newlines, and $ does not skip one)"},
		{Numeric{Want: 42.5}, "The answer is 42.50.", true, "numeric compares numbers, not text: 42.50 is 42.5"},
		{Numeric{Want: 42.5, Tolerance: 0.01}, "about 42.509", true, "within the absolute tolerance"},
		{Numeric{Want: 42.5, Tolerance: 0.01}, "about 42.52", false, "outside the tolerance"},
		{Numeric{Want: 1234.5}, "It costs $1,234.5 in total", true, "thousands separators are read"},
		{Numeric{Want: 7}, "3 apples and 4 pears make 7", true, "the last number is the answer"},
		{Numeric{Want: -3}, "the result is -3", true, "negative numbers keep their sign"},
		{Numeric{Want: 0.3}, "0.3", true, "decimal-to-binary rounding does not fail an exact answer"},
		{Numeric{Want: 1500}, "1.5e3", true, "exponents are read"},
		{Numeric{Want: 42}, "forty-two", false, "no number in the answer fails"},
	}
	for _, tt := range tests {
		v := tt.grader.Grade(context.Background(), answer(tt.answer))
		if v.Pass != tt.pass {
			t.Errorf("%s on %q: pass = %v (%s), want %v: %s", tt.grader.Name(), tt.answer, v.Pass, v.Reason, tt.pass, tt.explanation)
		}
		if want := map[bool]float64{true: 1, false: 0}[tt.pass]; v.Score != want || v.Check != tt.grader.Name() {
			t.Errorf("%s: verdict %+v: a pass/fail check scores 1 or 0 and names itself", tt.grader.Name(), v)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want, explanation string }{
		{"  Hello,   World! ", "hello world", "case, punctuation and spacing"},
		{"don't", "dont", "an apostrophe inside a word joins it"},
		{`{"intent":"refund","confidence":0}`, "intent refund confidence 0", "JSON punctuation separates words"},
		{"Answer:B", "answer b", "a colon separates words"},
		{"yes/no", "yes no", "a slash separates words"},
		{"one,two;three--four", "one two three four", "runs of punctuation are one space"},
		{"'quoted'", "quoted", "an apostrophe that is a quote mark goes"},
		{"The U.S.A. and e.g. this", "the usa and eg this", "an abbreviation's full stops join its letters"},
		{"see file.txt", "see file txt", "a full stop between words separates them"},
		{"$1,234.50 or 3.5", "$1,234.50 or 3.5", "separators between digits stay, so numbers are one word"},
		{"C'est  l'été", "cest lété", "letters with accents stay letters"},
		{"", "", "empty stays empty"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q: %s", tt.in, got, tt.want, tt.explanation)
		}
	}
}

// TestNumericHyphens: the numeric check reads a hyphen after a letter or digit as a hyphen,
// not a minus sign, as validate.LastNumber does for agree's number answers.
func TestNumericHyphens(t *testing.T) {
	tests := []struct {
		answer string
		want   float64
	}{
		{"The range is 10-20", 20},
		{"Answer: 42 (see gpt-4)", 4},
		{"2024-05-01", 1},
		{"x = -3", -3},
		{"-7", -7},
	}
	for _, tt := range tests {
		if v := (Numeric{Want: tt.want}).Grade(context.Background(), answer(tt.answer)); !v.Pass {
			t.Errorf("numeric %v on %q fails: %s", tt.want, tt.answer, v.Reason)
		}
	}
}

func TestQuoteClipsLongText(t *testing.T) {
	got := Exact{strings.Repeat("é", 100)}.Name()
	if len(got) > 80 || !strings.HasSuffix(got, `…"`) {
		t.Errorf("a long reference is clipped on a rune boundary in the check's name: %q", got)
	}
}

func TestFormatLatency(t *testing.T) {
	tests := []struct {
		d           time.Duration
		want        string
		explanation string
	}{
		{1777 * time.Millisecond, "1.777s", "whole milliseconds print without float noise"},
		{812345 * time.Microsecond, "812ms", "rounded to the millisecond from 10ms up"},
		{8123456 * time.Nanosecond, "8.123ms", "below 10ms, to the microsecond"},
		{850 * time.Microsecond, "850µs", "a syntax the spec reads back"},
		{125500 * time.Millisecond, "2m5.5s", "minutes"},
	}
	for _, tt := range tests {
		got := FormatLatency(tt.d)
		if got != tt.want {
			t.Errorf("FormatLatency(%v) = %q, want %q: %s", tt.d, got, tt.want, tt.explanation)
		}
		if d, err := spec.ParseDuration(got); err != nil || d != roundLatency(tt.d) {
			t.Errorf("%q reads back as %v, %v", got, d, err)
		}
	}
}

// TestValidatorsCostlyWhenTheyCallAModel: a category's validators grade after the other checks
// when one of them calls a model, a judge or an agreement check.
func TestValidatorsCostlyWhenTheyCallAModel(t *testing.T) {
	for _, tt := range []struct {
		validate string
		costly   bool
	}{
		{"{max_length: 50}", false},
		{"{max_length: 50}, {agree: {model: b, answer: choice}}", true},
		{"{judge: {model: b, rubric: Correct.}}", true},
	} {
		src := `version: 1
name: v
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
  b: {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 2s}}
categories:
  - {name: c, share: 1, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: a, validate: [` + tt.validate + `]},
     assume: {pass_rate: {a: 0.9}, validator: {detect: 0.9, false_alarm: 0.1}}}
`
		s, err := spec.Parse([]byte(src), "v.yaml", spec.Options{})
		if err != nil {
			t.Fatal(err)
		}
		checker, err := validate.NewChecker(s, validate.Env{Recorded: true, Caller: validate.ProviderCaller{}})
		if err != nil {
			t.Fatal(err)
		}
		g, err := NewValidators(checker, s.Categories[0])
		if err != nil {
			t.Fatal(err)
		}
		if g.Costly() != tt.costly {
			t.Errorf("%s: costly %v, want %v", tt.validate, g.Costly(), tt.costly)
		}
	}
}

// TestRetryingCallerRetriesJudges: a judge call that is rate limited or overloaded is retried
// as a candidate's call is, each attempt's cost counted; one that fails for good, or with a
// class that is not retried, is returned as it failed.
func TestRetryingCallerRetriesJudges(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	m := f.spec.Model("strong")
	policy := retry.Policy{Attempts: 2, Backoff: time.Millisecond, MaxBackoff: time.Millisecond}
	tests := []struct {
		fails       []clearbar.FailureClass
		ok          bool
		calls       int
		explanation string
	}{
		{nil, true, 1, "an answered call is not repeated"},
		{[]clearbar.FailureClass{clearbar.RateLimited, clearbar.Overloaded}, true, 3, "two transient failures, then the answer, within two retries"},
		{[]clearbar.FailureClass{clearbar.Overloaded, clearbar.Overloaded, clearbar.Overloaded}, false, 3, "out of retries"},
		{[]clearbar.FailureClass{clearbar.ClientError}, false, 1, "a client error is not retried"},
	}
	for _, tt := range tests {
		next := &failingCaller{fails: tt.fails}
		c := RetryingCaller{Caller: next, Retry: policy}
		_, a, err := c.Call(context.Background(), m, &clearbar.Request{})
		if (err == nil) != tt.ok || next.calls != tt.calls || a.Cost != clearbar.Money(100*next.calls) {
			t.Errorf("fails %v: error %v after %d calls costing %v; want ok %v after %d, each call's cost counted: %s", tt.fails, err, next.calls, a.Cost, tt.ok, tt.calls, tt.explanation)
		}
	}
}

// failingCaller fails its first calls with the given classes, then answers; every call costs 100.
type failingCaller struct {
	fails []clearbar.FailureClass
	calls int
}

func (c *failingCaller) Call(_ context.Context, m *spec.Model, _ *clearbar.Request) (*clearbar.Response, clearbar.Attempt, error) {
	c.calls++
	a := clearbar.Attempt{Model: m.Name, Cost: 100}
	if c.calls <= len(c.fails) {
		return nil, a, &clearbar.Error{Class: c.fails[c.calls-1], Message: "failed"}
	}
	return &clearbar.Response{Choices: []clearbar.Choice{{Text: `{"score": 1}`}}}, a, nil
}

// TestValidatorsJudgeFailuresByClass: the category's validators grade as a judge check does
// when their judge fails: undecided only when it may answer later, stopping the run when its
// credentials are refused, and failing the answer when retrying would not help.
func TestValidatorsJudgeFailuresByClass(t *testing.T) {
	src := `version: 1
name: v
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
  b: {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 2s}}
categories:
  - {name: c, share: 1, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: a, validate: [{judge: {model: b, rubric: Correct.}}]},
     assume: {pass_rate: {a: 0.9}, validator: {detect: 0.9, false_alarm: 0.1}}}
`
	s, err := spec.Parse([]byte(src), "v.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := &Input{Item: &Item{ID: "q", Request: &clearbar.Request{Messages: []clearbar.Message{{Role: "user", Text: "What is 2 + 2?"}}}},
		Model: "a", Response: &clearbar.Response{Choices: []clearbar.Choice{{Text: "4"}}}}
	for _, tt := range []struct {
		class     clearbar.FailureClass
		undecided bool
		stops     bool
	}{
		{clearbar.Overloaded, true, false},
		{clearbar.Timeout, true, false},
		{clearbar.ClientError, false, false},
		{clearbar.Auth, false, true},
	} {
		checker, err := validate.NewChecker(s, validate.Env{Caller: failingJudge{class: tt.class}})
		if err != nil {
			t.Fatal(err)
		}
		g, err := NewValidators(checker, s.Categories[0])
		if err != nil {
			t.Fatal(err)
		}
		v := g.Grade(context.Background(), in)
		if v.Pass || v.Undecided != tt.undecided || (v.Stop != nil) != tt.stops ||
			tt.stops && !strings.Contains(v.Stop.Error(), "validator model b: "+tt.class.String()) {
			t.Errorf("%s: pass %v, undecided %v, stop %v; want a failed verdict, undecided %v, stopping the run %v", tt.class, v.Pass, v.Undecided, v.Stop, tt.undecided, tt.stops)
		}
	}
}
