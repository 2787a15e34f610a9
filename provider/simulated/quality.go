package simulated

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

// Simulation is the ground truth of a simulated answer in a category whose assumptions name
// its model, reported in the response body as "x_clearbar_simulation" (and in a stream's last
// chunk, which a cut stream never sends). Clients ignore the unknown field; tests and demos
// read it to compare what the gateway delivered with what the estimator predicted.
type Simulation struct {
	Category string `json:"category"`
	// Good says whether the answer stands for a good one: drawn with the category's assumed
	// pass rate, and false when simulate.invalid_json_rate broke it. An answer drawn good
	// and Flagged (a false alarm) had its text changed so that the validator fails it: it
	// stands for a good answer that the validator wrongly rejects.
	Good bool `json:"good"`
	// Flagged says whether the answer was made to fail the category's validation: drawn to
	// fail its first validator (with the assumed detection rate for a bad answer, the
	// false-alarm rate for a good one), or broken by simulate.invalid_json_rate in a category
	// validated by json_schema or required_fields. It says nothing of the decision's flag for
	// review, which the gateway alone sets.
	Flagged bool `json:"flagged"`
}

// quality is what the spec assumes about one model in one category.
type quality struct {
	pass               float64
	detect, falseAlarm float64
	validators         []*spec.Validator
	text               []textCheck // the validators that read the answer's text, compiled
	schema             []byte      // the category's JSON Schema (file or inline), for well-formed answers
}

// qualities finds and caches per-category assumptions.
type qualities struct {
	mu     sync.Mutex
	m      map[[2]string]*quality
	tokens map[[2]string]*tokenModel
	spec   *spec.Spec
	read   func(string) ([]byte, error)
}

// lookup returns the assumptions for a spec model in a category, or nil when the spec states
// no pass rate for it there.
func (q *qualities) lookup(category string, m *spec.Model) *quality {
	if q.spec == nil || category == "" || m == nil {
		return nil
	}
	key := [2]string{category, m.Name}
	q.mu.Lock()
	defer q.mu.Unlock()
	if v, ok := q.m[key]; ok {
		return v
	}
	var out *quality
	if c := q.spec.Category(category); c != nil {
		if pass, ok := c.PassRate(m); ok {
			st := c.Strength()
			out = &quality{pass: pass, detect: float64(st.Detect), falseAlarm: float64(st.FalseAlarm)}
			out.validators, _ = c.Route.MainValidators()
			out.text = compileTextChecks(out.validators)
			for _, v := range out.validators {
				if js, ok := v.Config.(*spec.JSONSchema); ok {
					switch {
					case js.Path != "":
						out.schema, _ = q.read(js.Path)
					case len(js.Inline) > 0:
						out.schema = js.Inline
					}
				}
			}
		}
	}
	if q.m == nil {
		q.m = map[[2]string]*quality{}
	}
	q.m[key] = out
	return out
}

// tokenModel returns the token assumptions for a spec model in a category, or nil when the
// call names no category the spec has.
func (q *qualities) tokenModel(category string, m *spec.Model) *tokenModel {
	if q.spec == nil || category == "" || m == nil {
		return nil
	}
	key := [2]string{category, m.Name}
	q.mu.Lock()
	defer q.mu.Unlock()
	if v, ok := q.tokens[key]; ok {
		return v
	}
	var out *tokenModel
	if c := q.spec.Category(category); c != nil {
		out = newTokenModel(c, m)
	}
	if q.tokens == nil {
		q.tokens = map[[2]string]*tokenModel{}
	}
	q.tokens[key] = out
	return out
}

// checksJSON reports whether the category's validators fail an answer that is not valid
// JSON.
func (q *quality) checksJSON() bool {
	for _, v := range q.validators {
		switch v.Config.(type) {
		case *spec.JSONSchema, *spec.RequiredFields:
			return true
		}
	}
	return false
}

// draw decides whether an answer is good and whether it fails validation: good answers with
// the pass rate; a bad one is caught with the validator's detection rate, a good one flagged
// with its false-alarm rate (when the category validates at all).
func (q *quality) draw(r *rand.Rand) (good, flagged bool) {
	good = r.Float64() < q.pass
	if len(q.validators) == 0 {
		return good, false
	}
	if good {
		return good, r.Float64() < q.falseAlarm
	}
	return good, r.Float64() < q.detect
}

// conform makes a text answer well-formed for the category's validators: JSON from the
// category's schema when the request gave none, a JSON object carrying the category's required
// fields, a citation of a supplied source, and text that every text validator (regex,
// length, max_length, restricted_phrases, refusal) passes (see shapeText).
func (q *quality) conform(out *output, req *clearbar.Request) {
	if len(out.choice.ToolCalls) > 0 {
		return
	}
	// The schema's sample first, whatever the validators' order, so that required fields
	// are added to it rather than replaced by it.
	for _, v := range q.validators {
		if _, ok := v.Config.(*spec.JSONSchema); ok && req.ResponseFormat.Type != "json_schema" && len(q.schema) > 0 {
			if doc, err := SampleJSON(q.schema); err == nil {
				out.choice.Text, out.json = string(doc), true
			}
		}
	}
	for _, v := range q.validators {
		switch c := v.Config.(type) {
		case *spec.RequiredFields:
			out.choice.Text, out.json = withFields(out.choice.Text, c.Fields), true
		case *spec.Citations:
			pattern := c.Pattern
			if pattern == "" {
				pattern = spec.DefaultCitationPattern
			}
			if re, err := regexp.Compile(pattern); err == nil {
				for _, m := range req.Messages {
					if sub := re.FindStringSubmatch(m.Text); m.Role != "assistant" && sub != nil {
						// The source cited as the prompt writes it, which the pattern finds:
						// "[doc-1]", or "(source: doc-1)" for a pattern of that form.
						out.choice.Text = withCitation(out.choice.Text, out.json, sub[0])
						break
					}
				}
			}
		}
	}
	if len(q.text) > 0 {
		// When no text passes them all, the answer stays as it was (and fails validation
		// whatever the draw): see shapeText.
		out.choice.Text, _ = q.shapeText(out.choice, out.json, req)
	}
}

// withCitation adds cite to an answer: after its text, or, to a JSON answer, at the end of its
// first string value, so that the answer stays JSON its schema and required fields accept.
func withCitation(text string, isJSON bool, cite string) string {
	if isJSON {
		var key string
		gjson.Parse(text).ForEach(func(k, v gjson.Result) bool {
			if v.Type == gjson.String {
				key = k.String()
				return false
			}
			return true
		})
		if key != "" {
			path := strings.NewReplacer(".", `\.`, "*", `\*`, "?", `\?`).Replace(key)
			if out, err := sjson.Set(text, path, gjson.Get(text, path).String()+" "+cite); err == nil {
				return out
			}
		}
	}
	return text + " " + cite
}

// violate changes an answer so that the category's first validator fails it, the way real
// models fail such checks.
func (q *quality) violate(out *output, req *clearbar.Request) {
	if len(q.validators) == 0 {
		return
	}
	c := &out.choice
	switch v := q.validators[0].Config.(type) {
	case *spec.JSONSchema, *spec.RequiredFields:
		if len(c.ToolCalls) == 0 {
			c.Text = breakJSON(c.Text)
		}
	case *spec.ToolCalls:
		if len(c.ToolCalls) > 0 {
			c.ToolCalls[0].Arguments = "{"
		} else if v.Mode == "none" {
			c.ToolCalls = []clearbar.ToolCall{{ID: "call_sim", Name: "unexpected_call", Arguments: "{}"}}
		}
	case *spec.MaxLength, *spec.Length, *spec.RestrictedPhrases, *spec.Refusal, *spec.Regex:
		q.violateText(c, req, q.validators[0])
	case *spec.Citations:
		// The answer's citations removed, and one of a source no message supplies written in
		// the form the category's pattern reads ("[999]", or "(source: 999)").
		pattern := v.Pattern
		if pattern == "" {
			pattern = spec.DefaultCitationPattern
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			break
		}
		bogus := "[999]"
		for _, m := range req.Messages {
			if loc := re.FindStringSubmatchIndex(m.Text); m.Role != "assistant" && loc != nil && len(loc) >= 4 && loc[2] >= 0 {
				bogus = m.Text[loc[0]:loc[2]] + "999" + m.Text[loc[3]:loc[1]]
				break
			}
		}
		c.Text = strings.TrimSpace(re.ReplaceAllString(c.Text, "")) + " " + bogus
	case *spec.Agree:
		// On a multiple-choice question, another option than the one every simulated model
		// names (and the checker answers): the check disagrees. Simulated answers to other
		// questions name their model, so number and text checks compare model ids: the
		// simulator supports agreement on multiple-choice questions only.
		question := req.LastUserText()
		if labels := validate.ChoiceLabels(question); len(labels) > 0 && len(c.ToolCalls) == 0 {
			right := slices.Index(labels, SimulatedChoice(labels, question))
			c.Text = "The answer is " + labels[(right+1)%len(labels)] + "."
		}
	}
}

// regexSample returns a string the pattern matches, or the pattern itself.
func regexSample(pattern string) string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return pattern
	}
	var b strings.Builder
	writeRegexpSample(&b, re.Simplify())
	return b.String()
}

// simulationJSON renders the ground truth for the response body.
func simulationJSON(s *Simulation) json.RawMessage {
	if s == nil {
		return nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("simulated: %v", err))
	}
	return b
}

// judgeOutput is a simulated judge's reply on an answer: a low score when the simulator drew
// that answer to fail validation (so a judge validator detects bad answers and flags good ones
// at the category's assumed rates, like every other simulated validator), a high one
// otherwise, and a passing score, saying so, for an answer with no simulation record (one a
// real provider gave).
func judgeOutput(judged *clearbar.Response) output {
	var body struct {
		Simulation *Simulation `json:"x_clearbar_simulation"`
	}
	score, reason := 0.9, "the answer meets the rubric (simulated judge)"
	switch _ = json.Unmarshal(judged.Body, &body); {
	case body.Simulation == nil:
		reason = "no simulation record of the answer; scored as meeting the rubric (simulated judge)"
	case body.Simulation.Flagged:
		score, reason = 0.1, "the answer does not meet the rubric (simulated judge: the answer was drawn to fail validation)"
	}
	b, _ := json.Marshal(struct {
		Score  float64 `json:"score"`
		Reason string  `json:"reason"`
	}{score, reason})
	return output{choice: clearbar.Choice{Text: string(b)}, json: true}
}

// fieldStandIn is the value withFields gives a required field the answer lacks.
const fieldStandIn = "simulated"

// withFields returns a JSON object that carries every required field path (dots and [] for
// arrays, as required_fields writes them) with a non-null value: the answer itself when it
// is a JSON object that has them all, that object with the missing ones added, or, for an
// answer that is not a JSON object, one that holds it as "answer" besides the fields.
func withFields(text string, fields []string) string {
	var doc map[string]any
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil || doc == nil || d.More() {
		doc = map[string]any{"answer": text}
		addFields(doc, fields)
	} else if !addFields(doc, fields) {
		return text
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return text
	}
	return string(b)
}

// addFields sets each field path doc lacks, or holds null, to a stand-in, and reports whether
// it changed doc.
func addFields(doc map[string]any, fields []string) bool {
	changed := false
	for _, f := range fields {
		if addField(doc, strings.Split(f, ".")) {
			changed = true
		}
	}
	return changed
}

func addField(obj map[string]any, path []string) bool {
	key, array := strings.CutSuffix(path[0], "[]")
	rest := path[1:]
	val := obj[key]
	if !array {
		if len(rest) == 0 {
			if val == nil {
				obj[key] = fieldStandIn
				return true
			}
			return false
		}
		inner, ok := val.(map[string]any)
		if !ok {
			inner = map[string]any{}
			obj[key] = inner
		}
		return addField(inner, rest) || !ok
	}
	items, ok := val.([]any)
	if !ok {
		items = []any{}
	}
	changed := !ok
	if len(rest) == 0 {
		if !ok {
			items = append(items, fieldStandIn)
		}
		obj[key] = items
		return changed
	}
	if len(items) == 0 {
		items, changed = append(items, map[string]any{}), true
	}
	for i, item := range items {
		inner, isObj := item.(map[string]any)
		if !isObj {
			inner, changed = map[string]any{}, true
			items[i] = inner
		}
		if addField(inner, rest) {
			changed = true
		}
	}
	obj[key] = items
	return changed
}
