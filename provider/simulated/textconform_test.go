package simulated_test

import (
	"testing"

	"github.com/clearbar/clearbar"
)

// textSpec has categories validated by text validators only: a whole-answer pattern with
// restricted phrases (the stand-in answer must become one of three words); an anchored
// pattern, a pattern to hold anywhere, a minimum length, a pattern the answer must not match
// and a restricted phrase the stand-in answer itself holds; a maximum length before a
// refusal check; and a must_not pattern first.
const textSpec = `version: 1
name: text
review: {last: 2026-11-01, cadence: monthly}
providers: {sim: {type: simulated, simulate: {time_scale: 0.00001, error_rate: 0, seed: 7}}}
models:
  m: {provider: sim, model: gpt-4.1-mini}
categories:
  - name: diet
    share: 0.25
    tokens: {in: 100, out: 50}
    quality_bar: 0.5
    route:
      cascade: [m]
      validate:
        - {regex: {must: ["^(vegan|vegetarian|omnivore)$"]}}
        - {restricted_phrases: [meat, guaranteed]}
    assume:
      pass_rate: {m: 0.8}
      validator: {detect: 0.9, false_alarm: 0.05}
  - name: essay
    share: 0.25
    tokens: {in: 100, out: 200}
    quality_bar: 0.5
    route:
      cascade: [m]
      validate:
        - {regex: {must: ["^Summary: [A-Z][a-z]+", "\\b(ISBN|DOI) \\d{3}-\\d+\\b"], must_not: ["(?i)\\bgpt-[0-9.]+"]}}
        - {length: {min_chars: 400, max_chars: 2000}}
        - {restricted_phrases: [simulated answer, legal advice]}
    assume:
      pass_rate: {m: 0.7}
      validator: {detect: 0.9, false_alarm: 0.1}
  - name: short
    share: 0.25
    tokens: {in: 100, out: 20}
    quality_bar: 0.5
    route:
      cascade: [m]
      validate: [{max_length: 60}, {refusal: true}, {regex: {must: ["[0-9]+ items?$"]}}]
    assume:
      pass_rate: {m: 0.6}
      validator: {detect: 0.8, false_alarm: 0.2}
  - name: clean
    share: 0.25
    tokens: {in: 100, out: 50}
    quality_bar: 0.5
    route:
      cascade: [m]
      validate: [{regex: {must_not: ["(?i)^this is"]}}, {length: {min_tokens: 40}}]
    assume:
      pass_rate: {m: 0.9}
      validator: {detect: 0.7, false_alarm: 0.02}
`

// TestTextValidatorAnswers: in a category validated by regex, length, restricted_phrases,
// max_length and refusal checks, a simulated answer drawn to pass passes the real validators
// and one drawn to be flagged fails one of them, so that the share of answers the gateway
// flags is the one the spec assumes; and the usage reported is the category's tokens, not the
// shaped text's.
func TestTextValidatorAnswers(t *testing.T) {
	s, p := loadSpec(t, textSpec)
	for _, tc := range []struct {
		category string
		flagRate float64 // pass·false_alarm + (1−pass)·detect
	}{
		{"diet", 0.8*0.05 + 0.2*0.9},
		{"essay", 0.7*0.1 + 0.3*0.9},
		{"short", 0.6*0.2 + 0.4*0.8},
		{"clean", 0.9*0.02 + 0.1*0.7},
	} {
		const n = 2000
		flagged, _, outTokens := draws(t, s, p, tc.category, n, func() *clearbar.Request { return userRequest("What should I eat?") })
		got := float64(flagged) / n
		if d := got - tc.flagRate; d < -0.04 || d > 0.04 {
			t.Errorf("%s: %.3f of answers flagged; want about %.3f", tc.category, got, tc.flagRate)
		}
		want := float64(s.Category(tc.category).Tokens.Out.P50)
		if mean := float64(outTokens) / n; mean < want*0.9 || mean > want*1.1 {
			t.Errorf("%s: %.1f completion tokens on average; want about the category's %v", tc.category, mean, want)
		}
	}
}

// citeSpec cites the prompt's sources: after a JSON answer's schema and required field (the
// citation goes into a string of the JSON, which must stay JSON), and in a form of its own
// pattern, "(source: ID)".
const citeSpec = `version: 1
name: cite
review: {last: 2026-11-01, cadence: monthly}
providers: {sim: {type: simulated, simulate: {time_scale: 0.00001, error_rate: 0, seed: 7}}}
models:
  m: {provider: sim, model: gpt-4.1-mini}
categories:
  - name: json-cited
    share: 0.5
    tokens: {in: 100, out: 50}
    quality_bar: 0.5
    route:
      cascade: [m]
      validate:
        - {json_schema: {inline: {type: object, properties: {answer: {type: string}}, required: [answer]}}}
        - {citations: true}
    assume:
      pass_rate: {m: 0.8}
      validator: {detect: 0.9, false_alarm: 0.05}
  - name: own-pattern
    share: 0.5
    tokens: {in: 100, out: 50}
    quality_bar: 0.5
    route:
      cascade: [m]
      validate: [{citations: {pattern: '\(source: ([\w-]+)\)'}}]
    assume:
      pass_rate: {m: 0.8}
      validator: {detect: 0.9, false_alarm: 0.05}
`

// TestCitedAnswers: a simulated answer drawn to pass cites a supplied source the way the
// category's pattern reads citations, inside a JSON answer's text when the answer is JSON, so
// that the validators pass it whatever their order; one drawn to be flagged fails them.
func TestCitedAnswers(t *testing.T) {
	s, p := loadSpec(t, citeSpec)
	for _, tc := range []struct{ category, source string }{
		{"json-cited", "Sources: [doc-1] the parcel left on Monday."},
		{"own-pattern", "Sources: (source: doc-1) the parcel left on Monday."},
	} {
		_, passed, _ := draws(t, s, p, tc.category, 300, func() *clearbar.Request {
			return &clearbar.Request{Messages: []clearbar.Message{{Role: "system", Text: tc.source}, {Role: "user", Text: "Where is my parcel?"}}}
		})
		if passed < 150 {
			t.Errorf("%s: %d of 300 answers pass; want about 69%%", tc.category, passed)
		}
	}
}

// TestJSONAnswerMeetsAPattern: a JSON answer whose category also requires a pattern anywhere
// in it gets the pattern's sample inside its text, so that both the schema and the pattern
// pass an answer drawn to pass.
func TestJSONAnswerMeetsAPattern(t *testing.T) {
	s, p := loadSpec(t, `version: 1
name: json-pattern
review: {last: 2026-11-01, cadence: monthly}
providers: {sim: {type: simulated, simulate: {time_scale: 0.00001, error_rate: 0, seed: 7}}}
models:
  m: {provider: sim, model: gpt-4.1-mini}
categories:
  - name: order
    share: 1
    tokens: {in: 100, out: 50}
    quality_bar: 0.5
    route:
      cascade: [m]
      validate:
        - {json_schema: {inline: {type: object, properties: {answer: {type: string}}, required: [answer]}}}
        - {regex: {must: ['ORDER-\d{4}']}}
    assume:
      pass_rate: {m: 0.8}
      validator: {detect: 0.9, false_alarm: 0.05}
`)
	_, passed, _ := draws(t, s, p, "order", 300, func() *clearbar.Request { return userRequest("Which order is it?") })
	if passed < 150 {
		t.Errorf("%d of 300 answers pass; want about 69%%", passed)
	}
}
