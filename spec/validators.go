package spec

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/clearbar/clearbar/internal/jsonkind"
)

// Validator is one output check of a route, written as a mapping with a single key that names
// its kind: {json_schema: schemas/intent.json}, {max_length: 200}, {judge: {...}}.
//
// The spec package decodes and checks each kind's settings; the checks themselves run in the
// gateway. Kinds are looked up in a registry, so adding one adds a type, not a switch.
type Validator struct {
	Kind   string
	Config ValidatorConfig
	Line   int
}

// ValidatorConfig is the settings of one validator kind, which decodes its own YAML value.
type ValidatorConfig interface {
	yaml.Unmarshaler
	// Summary describes the check in a few words, for routing documents and worksheets.
	Summary() string
	// check validates settings that need the rest of the spec (files, model names).
	check(c *checker, line int)
}

// validatorKinds maps a kind to a constructor of its settings. It is never modified.
var validatorKinds = map[string]func() ValidatorConfig{
	"json_schema":        func() ValidatorConfig { return &JSONSchema{} },
	"required_fields":    func() ValidatorConfig { return &RequiredFields{} },
	"regex":              func() ValidatorConfig { return &Regex{} },
	"max_length":         func() ValidatorConfig { return &MaxLength{} },
	"length":             func() ValidatorConfig { return &Length{} },
	"restricted_phrases": func() ValidatorConfig { return &RestrictedPhrases{} },
	"citations":          func() ValidatorConfig { return &Citations{} },
	"tool_calls":         func() ValidatorConfig { return &ToolCalls{} },
	"refusal":            func() ValidatorConfig { return &Refusal{} },
	"judge":              func() ValidatorConfig { return &Judge{} },
	"agree":              func() ValidatorConfig { return &Agree{} },
}

// ValidatorKinds lists the known validator kinds, sorted.
func ValidatorKinds() []string { return slices.Sorted(maps.Keys(validatorKinds)) }

// UnmarshalYAML implements yaml.Unmarshaler.
func (v *Validator) UnmarshalYAML(node *yaml.Node) error {
	node = resolveAlias(node)
	v.Line = node.Line
	if node.Kind != yaml.MappingNode || len(node.Content) != 2 {
		return typeError(node.Line, "a validator is a mapping with one key naming its kind, like {json_schema: schemas/x.json}; known kinds: %s", strings.Join(ValidatorKinds(), ", "))
	}
	k, body := node.Content[0], node.Content[1]
	newConfig, ok := validatorKinds[k.Value]
	if !ok {
		return typeError(k.Line, "unknown validator kind %q%s", k.Value, suggestFrom(k.Value, ValidatorKinds(), "known kinds"))
	}
	v.Kind = k.Value
	v.Config = newConfig()
	// Node.Decode calls no unmarshaler for an empty value ("json_schema:" with nothing after
	// it), which would leave the settings silently empty: each kind reads its value itself.
	return v.Config.UnmarshalYAML(body)
}

// MarshalYAML writes the validator back as {kind: summary}.
func (v Validator) MarshalYAML() (any, error) {
	return map[string]string{v.Kind: v.Config.Summary()}, nil
}

// Summary is "kind: settings".
func (v *Validator) Summary() string { return v.Config.Summary() }

// CallsModel reports whether the validator calls a model to reach its verdict: a judge, or an
// agreement check. Such validators cost a call for every answer they check, and run after the
// validators that call nothing, only when those passed.
func (v *Validator) CallsModel() bool {
	switch v.Config.(type) {
	case *Judge, *Agree:
		return true
	}
	return false
}

// JSONSchema checks that the answer is JSON valid against a schema: a file (relative to the
// spec), the schema in the request's own response_format ("request"), or an inline schema.
// A schema's $ref and $schema resolve only inside the schema itself (and to the standard
// meta-schemas): external file, http or https references are never loaded, and a schema that
// has one does not compile.
type JSONSchema struct {
	Path        string
	FromRequest bool
	Inline      json.RawMessage
	line        int
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (j *JSONSchema) UnmarshalYAML(node *yaml.Node) error {
	node = resolveAlias(node)
	j.line = node.Line
	switch {
	case node.Kind == yaml.ScalarNode && strings.TrimSpace(node.Value) == "":
		return typeError(node.Line, "json_schema has no value: write a file path, request, or {inline: {...}}")
	case node.Kind == yaml.ScalarNode:
		if node.Value == "request" {
			j.FromRequest = true
		} else {
			j.Path = node.Value
		}
		return nil
	case node.Kind == yaml.MappingNode:
		var body struct {
			Inline yaml.Node `yaml:"inline"`
		}
		if err := decodeStrict(node, &body, nil, "json_schema"); err != nil {
			return err
		}
		var schema map[string]any
		if body.Inline.Kind != yaml.MappingNode {
			return typeError(node.Line, "json_schema inline takes a schema object, like {inline: {type: object, required: [id]}}")
		}
		if err := body.Inline.Decode(&schema); err != nil {
			return err
		}
		raw, err := json.Marshal(normalizeYAML(schema))
		if err != nil {
			return typeError(node.Line, "inline schema cannot be written as JSON: %v", err)
		}
		j.Inline = raw
		return nil
	}
	return typeError(node.Line, "json_schema takes a schema file path, the word request, or {inline: {...}}")
}

// normalizeYAML turns map[string]any trees from yaml into JSON-encodable values.
func normalizeYAML(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalizeYAML(e)
		}
	case []any:
		for i, e := range t {
			t[i] = normalizeYAML(e)
		}
	}
	return v
}

// Summary implements ValidatorConfig.
func (j *JSONSchema) Summary() string {
	switch {
	case j.FromRequest:
		return "JSON Schema from the request"
	case j.Path != "":
		return "JSON Schema " + j.Path
	}
	return "JSON Schema (inline)"
}

func (j *JSONSchema) check(c *checker, line int) {
	if j.Path == "" {
		return
	}
	p := j.Path
	if !filepath.IsAbs(p) && c.spec.File != "" {
		p = filepath.Join(filepath.Dir(c.spec.File), p)
	}
	data, err := c.opts.readFile(p)
	if err != nil {
		c.errorf(j.line, "json_schema file %s cannot be read (%v): the path is relative to the spec file", j.Path, shortErr(err))
		return
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		c.errorf(j.line, "json_schema file %s is not valid JSON: %v", j.Path, err)
		return
	}
	if _, ok := doc.(map[string]any); !ok {
		c.errorf(j.line, "json_schema file %s holds %s, not a schema: a schema is a JSON object, like {\"type\": \"object\", \"required\": [\"id\"]}", j.Path, jsonkind.Of(doc))
	}
}

func shortErr(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// RequiredFields checks that the answer is a JSON object with every listed field present and
// non-null. Paths use dots and [] for arrays: "order.id", "items[].sku".
type RequiredFields struct {
	Fields []string
	line   int
}

var fieldPathRE = regexp.MustCompile(`^[A-Za-z_$][\w$-]*(\[\])?(\.[A-Za-z_$][\w$-]*(\[\])?)*$`)

// UnmarshalYAML implements yaml.Unmarshaler.
func (r *RequiredFields) UnmarshalYAML(node *yaml.Node) error {
	r.line = resolveAlias(node).Line
	if err := node.Decode(&r.Fields); err != nil {
		return typeError(r.line, "required_fields takes a list of field paths, like [order.id, items[].sku]")
	}
	return nil
}

// Summary implements ValidatorConfig.
func (r *RequiredFields) Summary() string { return "required fields " + strings.Join(r.Fields, ", ") }

func (r *RequiredFields) check(c *checker, line int) {
	if len(r.Fields) == 0 {
		c.errorf(r.line, "required_fields is empty: list the fields the answer must contain")
	}
	for _, f := range r.Fields {
		if !fieldPathRE.MatchString(f) {
			c.errorf(r.line, "required_fields: %q is not a field path: use names joined by dots, with [] after arrays, like items[].sku", f)
		}
	}
}

// Regex checks that the answer matches every Must pattern and none of the MustNot patterns
// (RE2 syntax).
type Regex struct {
	Must    []string `yaml:"must"`
	MustNot []string `yaml:"must_not"`
	line    int
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (r *Regex) UnmarshalYAML(node *yaml.Node) error {
	type plain Regex
	node = resolveAlias(node)
	r.line = node.Line
	if node.Kind == yaml.ScalarNode && !isNull(node) {
		p := "'" + strings.ReplaceAll(node.Value, "'", "''") + "'"
		return typeError(node.Line, "regex takes the patterns an answer must match and those it must not, not one pattern: write regex: {must: [%s]}, or regex: {must_not: [%s]} to fail answers that match it", p, p)
	}
	return decodeStrict(node, (*plain)(r), nil, "regex")
}

// Summary implements ValidatorConfig.
func (r *Regex) Summary() string {
	var parts []string
	for _, m := range r.Must {
		parts = append(parts, "matches /"+m+"/")
	}
	for _, m := range r.MustNot {
		parts = append(parts, "does not match /"+m+"/")
	}
	return "regex: " + strings.Join(parts, ", ")
}

func (r *Regex) check(c *checker, line int) {
	if len(r.Must)+len(r.MustNot) == 0 {
		c.errorf(r.line, "regex has no patterns: add must: [...] or must_not: [...]")
	}
	for _, p := range append(slices.Clone(r.Must), r.MustNot...) {
		if _, err := regexp.Compile(p); err != nil {
			c.errorf(r.line, "regex %q does not compile: %v", p, err)
		}
	}
}

// MaxLength is shorthand for a maximum answer length in characters.
type MaxLength struct {
	Chars int
	line  int
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (m *MaxLength) UnmarshalYAML(node *yaml.Node) error {
	node = resolveAlias(node)
	m.line = node.Line
	n, err := strconv.Atoi(node.Value)
	if node.Kind != yaml.ScalarNode || err != nil || n <= 0 {
		return typeError(node.Line, "max_length takes a positive number of characters, like max_length: 200")
	}
	m.Chars = n
	return nil
}

// Summary implements ValidatorConfig.
func (m *MaxLength) Summary() string { return fmt.Sprintf("at most %d characters", m.Chars) }

func (m *MaxLength) check(*checker, int) {}

// Length bounds the answer's length in characters and tokens; zero means no bound.
type Length struct {
	MinChars  int `yaml:"min_chars"`
	MaxChars  int `yaml:"max_chars"`
	MinTokens int `yaml:"min_tokens"`
	MaxTokens int `yaml:"max_tokens"`
	line      int
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (l *Length) UnmarshalYAML(node *yaml.Node) error {
	type plain Length
	l.line = resolveAlias(node).Line
	return decodeStrict(node, (*plain)(l), nil, "length")
}

// Summary implements ValidatorConfig.
func (l *Length) Summary() string {
	var parts []string
	add := func(lo, hi int, unit string) {
		switch {
		case lo > 0 && hi > 0:
			parts = append(parts, fmt.Sprintf("%d–%d %s", lo, hi, unit))
		case lo > 0:
			parts = append(parts, fmt.Sprintf("at least %d %s", lo, unit))
		case hi > 0:
			parts = append(parts, fmt.Sprintf("at most %d %s", hi, unit))
		}
	}
	add(l.MinChars, l.MaxChars, "characters")
	add(l.MinTokens, l.MaxTokens, "tokens")
	return "length " + strings.Join(parts, ", ")
}

func (l *Length) check(c *checker, line int) {
	if l.MinChars < 0 || l.MaxChars < 0 || l.MinTokens < 0 || l.MaxTokens < 0 {
		c.errorf(l.line, "length bounds cannot be negative")
	}
	if l.MinChars+l.MaxChars+l.MinTokens+l.MaxTokens == 0 {
		c.errorf(l.line, "length sets no bound: add min_chars, max_chars, min_tokens or max_tokens")
	}
	if l.MaxChars > 0 && l.MinChars > l.MaxChars || l.MaxTokens > 0 && l.MinTokens > l.MaxTokens {
		c.errorf(l.line, "length minimum is above its maximum")
	}
}

// RestrictedPhrases fails answers that contain any phrase as whole words, compared
// case-insensitively after Unicode normalisation (compatibility forms, accents, invisible
// characters and TR39 look-alike letters folded; see validate.Normalize). "legal advice"
// matches "LEGAL  advice." but not "paralegal advice" or "legal advices": list inflected forms
// as phrases of their own.
type RestrictedPhrases struct {
	Phrases []string
	line    int
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (r *RestrictedPhrases) UnmarshalYAML(node *yaml.Node) error {
	r.line = resolveAlias(node).Line
	if err := node.Decode(&r.Phrases); err != nil {
		if n := resolveAlias(node); n.Kind == yaml.ScalarNode {
			return typeError(r.line, "restricted_phrases takes a list of phrases, not one: write restricted_phrases: [%s]", n.Value)
		}
		return typeError(r.line, "restricted_phrases takes a list of phrases, like [legal advice, guaranteed]")
	}
	return nil
}

// Summary implements ValidatorConfig.
func (r *RestrictedPhrases) Summary() string {
	return fmt.Sprintf("none of %d restricted phrases", len(r.Phrases))
}

func (r *RestrictedPhrases) check(c *checker, line int) {
	if len(r.Phrases) == 0 {
		c.errorf(r.line, "restricted_phrases is empty: list the phrases an answer must not contain")
	}
	for _, p := range r.Phrases {
		if strings.TrimSpace(p) == "" {
			c.errorf(r.line, "restricted_phrases contains an empty phrase")
		}
	}
}

// Citations checks that the answer cites sources and that every cited source was supplied in
// the request's context. Pattern finds citations; its first group is the source id.
type Citations struct {
	Required *bool  `yaml:"required"`
	Pattern  string `yaml:"pattern"`
	line     int
}

// DefaultCitationPattern matches citations written as [1] or [doc-7].
const DefaultCitationPattern = `\[([\w.-]+)\]`

// UnmarshalYAML implements yaml.Unmarshaler. "citations: true" is shorthand for {required: true}.
func (c *Citations) UnmarshalYAML(node *yaml.Node) error {
	node = resolveAlias(node)
	c.line = node.Line
	if isNull(node) {
		return nil // the defaults, as {}
	}
	if node.Kind == yaml.ScalarNode {
		b, err := strconv.ParseBool(node.Value)
		if err != nil {
			return typeError(node.Line, "citations takes true, false or {required: true, pattern: ...}")
		}
		c.Required = &b
		return nil
	}
	type plain Citations
	return decodeStrict(node, (*plain)(c), nil, "citations")
}

// IsRequired reports whether answers without citations fail (the default).
func (c *Citations) IsRequired() bool { return c.Required == nil || *c.Required }

// Summary implements ValidatorConfig.
func (c *Citations) Summary() string {
	if c.IsRequired() {
		return "citations required, to supplied sources"
	}
	return "citations, if any, to supplied sources"
}

func (c *Citations) check(ck *checker, line int) {
	if c.Pattern == "" {
		return
	}
	re, err := regexp.Compile(c.Pattern)
	if err != nil {
		ck.errorf(c.line, "citations pattern %q does not compile: %v", c.Pattern, err)
		return
	}
	if re.NumSubexp() < 1 {
		ck.errorf(c.line, "citations pattern %q needs a group that captures the source id, like %s", c.Pattern, DefaultCitationPattern)
	}
}

// ToolCalls checks tool calls: Mode "required" (a call must be made), "allowed" (calls are
// checked if made) or "none" (no call may be made). Called functions must exist in the
// request's tools and their arguments must validate against the tool's schema.
type ToolCalls struct {
	Mode string `yaml:"mode"`
	line int
}

var toolCallModes = []string{"required", "allowed", "none"}

// UnmarshalYAML implements yaml.Unmarshaler. "tool_calls: required" is shorthand for {mode: required}.
func (t *ToolCalls) UnmarshalYAML(node *yaml.Node) error {
	node = resolveAlias(node)
	t.line = node.Line
	if node.Kind == yaml.ScalarNode {
		t.Mode = node.Value
		return nil
	}
	type plain ToolCalls
	return decodeStrict(node, (*plain)(t), nil, "tool_calls")
}

// Summary implements ValidatorConfig.
func (t *ToolCalls) Summary() string {
	switch t.Mode {
	case "none":
		return "no tool calls"
	case "allowed":
		return "tool calls, if any, valid"
	}
	return "valid tool call required"
}

func (t *ToolCalls) check(c *checker, line int) {
	if t.Mode == "" {
		t.Mode = "required"
	}
	if !slices.Contains(toolCallModes, t.Mode) {
		c.errorf(t.line, "tool_calls mode %q is not one of %s", t.Mode, strings.Join(toolCallModes, ", "))
	}
}

// Refusal fails answers that refuse, or that answer a different question than asked. A
// refusal is a provider refusal or content-filter stop, a cut-off or empty answer, or an
// answer that opens by declining ("Unfortunately, I can't help with that", "As an AI…"). A
// mismatch is read from the request's structure: prose where response_format asks for JSON, no
// call (or a call to another function) where tool_choice requires one, a call where it is
// "none", and an answer naming none of the options of a lettered multiple-choice question.
// The checks are deterministic; validate's refusal type documents them in full.
type Refusal struct {
	// NoMismatch turns the mismatch checks off (mismatch: false): only refusals fail.
	NoMismatch bool
	line       int
}

// UnmarshalYAML implements yaml.Unmarshaler; it takes "true", an empty value or mapping, or
// {mismatch: BOOL}.
func (r *Refusal) UnmarshalYAML(node *yaml.Node) error {
	node = resolveAlias(node)
	r.line = node.Line
	switch {
	case isNull(node) || node.Kind == yaml.ScalarNode && node.Value == "true" || node.Kind == yaml.MappingNode && len(node.Content) == 0:
		return nil
	case node.Kind == yaml.MappingNode && len(node.Content) == 2 && node.Content[0].Value == "mismatch":
		var on bool
		if err := node.Content[1].Decode(&on); err != nil {
			return typeError(node.Content[1].Line, "refusal.mismatch takes true or false")
		}
		r.NoMismatch = !on
		return nil
	}
	return typeError(node.Line, "refusal takes true, or {mismatch: false} to check refusals only")
}

// Summary implements ValidatorConfig.
func (r *Refusal) Summary() string {
	if r.NoMismatch {
		return "no refusal"
	}
	return "no refusal or mismatch"
}

func (r *Refusal) check(*checker, int) {}

// Judge asks a model to score the answer against a rubric; answers scoring below Threshold
// fail. The judge's call costs tokens and time, which the estimator counts.
type Judge struct {
	Model     Ref    `yaml:"model"`
	Rubric    string `yaml:"rubric"`
	Threshold *Prob  `yaml:"threshold"`
	// Tokens the judge reads beyond the request and answer (the rubric and instructions), and
	// writes. Defaults: 300 in, 20 out.
	Tokens *JudgeTokens `yaml:"tokens"`
	line   int
}

// JudgeTokens are a judge call's extra input and its output tokens; zero means the default.
type JudgeTokens struct {
	In  float64 `yaml:"in"`
	Out float64 `yaml:"out"`
}

// UnmarshalYAML implements yaml.Unmarshaler. A count must be from 0 to MaxTokens: a negative
// one would otherwise be replaced by the default without a word.
func (j *JudgeTokens) UnmarshalYAML(node *yaml.Node) error {
	type plain JudgeTokens
	var pos Pos
	if err := decodeStrict(node, (*plain)(j), &pos, "judge tokens"); err != nil {
		return err
	}
	var errs []string
	for _, f := range []struct {
		key, does string
		v         float64
		def       int
	}{
		{"in", "reads besides the request and the answer", j.In, DefaultJudgeExtraIn},
		{"out", "writes", j.Out, DefaultJudgeOut},
	} {
		if f.v < 0 || f.v > MaxTokens {
			errs = append(errs, lineError(pos.Of(f.key), "judge tokens.%s %g is outside 0 to %s: write how many tokens the judge %s, like %s: %d (the default)",
				f.key, f.v, groupDigits(MaxTokens), f.does, f.key, f.def))
		}
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	return nil
}

// Default judge settings.
const (
	DefaultJudgeThreshold = 0.7
	DefaultJudgeExtraIn   = 300
	DefaultJudgeOut       = 20
)

// UnmarshalYAML implements yaml.Unmarshaler.
func (j *Judge) UnmarshalYAML(node *yaml.Node) error {
	type plain Judge
	j.line = resolveAlias(node).Line
	return decodeStrict(node, (*plain)(j), nil, "judge")
}

// Summary implements ValidatorConfig.
func (j *Judge) Summary() string {
	return fmt.Sprintf("judge %s scores ≥ %.2f", j.Model.Name, j.ThresholdValue())
}

// ThresholdValue returns the threshold with its default.
func (j *Judge) ThresholdValue() float64 {
	if j.Threshold == nil {
		return DefaultJudgeThreshold
	}
	return float64(*j.Threshold)
}

// ExtraTokens returns the judge's extra input and output tokens with their defaults.
func (j *Judge) ExtraTokens() (in, out float64) {
	in, out = DefaultJudgeExtraIn, DefaultJudgeOut
	if j.Tokens != nil {
		if j.Tokens.In > 0 {
			in = j.Tokens.In
		}
		if j.Tokens.Out > 0 {
			out = j.Tokens.Out
		}
	}
	return in, out
}

func (j *Judge) check(c *checker, line int) {
	if j.Model.Name == "" {
		c.errorf(j.line, "judge has no model: add model: NAME, a model declared under models:")
	} else {
		c.model(j.Model, "judge model")
	}
	if strings.TrimSpace(j.Rubric) == "" {
		c.errorf(j.line, "judge has no rubric: write what a passing answer does")
	}
}

// Answer kinds of an agreement check: what two answers are reduced to before they are
// compared. The validate package's AnswerKey implements them (validate.AnswerKinds lists the
// same kinds).
const (
	// AnswerChoice is the option a multiple-choice answer picks ("B", "(b)", "Answer: C.").
	AnswerChoice = "choice"
	// AnswerNumber is the answer's last number ("#### 1,250" and "1250.0" are 1250).
	AnswerNumber = "number"
	// AnswerText is the whole answer, lower case, with spaces collapsed and trailing
	// punctuation trimmed.
	AnswerText = "text"
)

// AnswerKinds lists the answer kinds an agreement check compares by.
var AnswerKinds = []string{AnswerChoice, AnswerNumber, AnswerText}

// Agree checks an answer against a second model's: Model is called with the client's request,
// unchanged, and the answer passes only when both answers reduce to the same key of kind
// Answer (the same option letter, the same final number, the same normalised text). An answer
// without a key (a choice answer naming two options, an answer without a number) fails, and so
// does a checker call that fails: the answer is then unverified. On multiple-choice and numeric
// tasks two cheap models that agree are rarely both wrong, so a cascade can accept the cheap
// answer when they agree and escalate when they do not.
//
// The check's call answers the whole request: it costs the checker model's price at the
// request's tokens in and out, and adds its latency after the answer's, which the estimator
// counts. Answer has no default: agreeing on a choice and agreeing on the text are different
// checks. With answer choice, a request that is not a multiple-choice question (no run of
// lettered options in its last user message) is not checked: it passes without a call.
//
// Models, instead of Model, lists checkers in order: the first that did not write the answer
// checks it. A score route, which can start on any of its models, needs two when its checker
// is one of them: {agree: {models: [yi, mixtral], answer: choice}} checks every answer with
// yi, and yi's own with mixtral.
type Agree struct {
	Model  Ref    `yaml:"model"`
	Models []Ref  `yaml:"models"`
	Answer string `yaml:"answer"`
	pos    Pos
}

// Checkers returns the checker models in order: Model, or Models.
func (a *Agree) Checkers() []Ref {
	if a.Model.Name != "" {
		return []Ref{a.Model}
	}
	return a.Models
}

// AgreementCheckers returns the models the agreement checks among validators ask to check an
// answer model wrote, each once, in order. ok is false when one of them has no checker but
// model itself: a step the spec check rejects.
func AgreementCheckers(validators []*Validator, model string) (checkers []string, ok bool) {
	for _, v := range validators {
		ag, isAgree := v.Config.(*Agree)
		if !isAgree {
			continue
		}
		chk, found := ag.CheckerFor(model)
		if !found {
			return nil, false
		}
		if !slices.Contains(checkers, chk.Name) {
			checkers = append(checkers, chk.Name)
		}
	}
	return checkers, true
}

// CheckerFor returns the checker of an answer model wrote: the first checker that is not
// model. ok is false when every checker is model.
func (a *Agree) CheckerFor(model string) (Ref, bool) {
	for _, r := range a.Checkers() {
		if r.Name != model {
			return r, true
		}
	}
	return Ref{}, false
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (a *Agree) UnmarshalYAML(node *yaml.Node) error {
	type plain Agree
	return decodeStrict(node, (*plain)(a), &a.pos, "agree")
}

// Summary implements ValidatorConfig.
func (a *Agree) Summary() string {
	cs := a.Checkers()
	if len(cs) < 2 {
		return fmt.Sprintf("agrees with %s on the %s", a.Model.Name, a.Answer)
	}
	names := make([]string, len(cs)-1)
	for i, r := range cs[1:] {
		names[i] = fmt.Sprintf("%s for %s's answers", r.Name, cs[i].Name)
	}
	return fmt.Sprintf("agrees with %s (%s) on the %s", cs[0].Name, strings.Join(names, ", "), a.Answer)
}

func (a *Agree) check(c *checker, line int) {
	switch {
	case a.Model.Name != "" && a.pos.Has("models"):
		c.errorf(a.pos.Of("models"), "agree names both model and models: keep model: NAME for one checker, or models: [A, B] for a checker and the one that checks A's own answers")
	case a.Model.Name == "" && len(a.Models) == 0:
		c.errorf(a.pos.Line, "agree has no model: add model: NAME, a model declared under models: that answers the same request for comparison")
	case a.Model.Name != "":
		c.model(a.Model, "agree model")
	default:
		seen := map[string]bool{}
		for _, r := range a.Models {
			c.model(r, "agree model")
			if seen[r.Name] {
				c.errorf(r.Line, "agree models lists %s twice: each checker once, in the order they are asked", r.Name)
			}
			seen[r.Name] = true
		}
		if len(a.Models) < 2 {
			c.errorf(a.pos.Of("models"), "agree models needs two or more checkers (the second checks the first's own answers); for one, write model: NAME")
		}
	}
	switch {
	case a.Answer == "":
		c.errorf(a.pos.Line, "agree has no answer kind: add answer: choice (the option picked), number (the last number) or text (the whole answer)")
	case !slices.Contains(AnswerKinds, a.Answer):
		c.errorf(a.pos.Of("answer"), "agree answer %q is not an answer kind%s", a.Answer, suggestFrom(a.Answer, AnswerKinds, "answer kinds"))
	}
}
