// Package validate checks model answers against a route's validators: JSON Schema, required
// fields, regular expressions, length bounds, restricted phrases, citations, tool calls,
// refusals, LLM judges and agreement checks. Each kind is a small type compiled from its spec
// settings; a Checker runs a step's validators on an answer and says why it passed or failed.
//
// Validators are deterministic where they can be (everything but the judge and the agreement
// check, which call models), cheap (they run on every validated answer) and safe for
// concurrent use.
package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// Input is what a validator sees: the client's request and the model's answer.
type Input struct {
	// Model is the spec model that wrote the answer; "" when it is not known. An agreement
	// check asks another model than this one.
	Model    string
	Request  *clearbar.Request
	Response *clearbar.Response
}

// Validator checks one answer.
type Validator interface {
	// Name is the validator's kind and settings in a few words, for verdicts.
	Name() string
	// Check returns the verdict on the answer. It must not modify in.
	Check(ctx context.Context, in *Input) clearbar.Verdict
}

// Caller calls a model for validators that need one (judges, agreement checks). It returns the
// answer and the attempt record, which the gateway adds to the decision; the attempt is filled
// in also when the call fails.
type Caller interface {
	Call(ctx context.Context, m *spec.Model, req *clearbar.Request) (*clearbar.Response, clearbar.Attempt, error)
}

// Env is what compiling validators needs.
type Env struct {
	Spec *spec.Spec
	// ReadFile reads schema files (paths already resolved against the spec's directory);
	// nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// Caller calls judge and agreement-check models; nil makes a spec with judges fail to
	// compile, and one with agreement checks too unless Recorded is set.
	Caller Caller
	// Recorded says agreement checks may compare with recorded answers instead of calling
	// their model: the answers WithRecorded puts in the context (replay and calibration over
	// outcomes tables). Judges still need Caller.
	Recorded bool
}

func (e Env) read(path string) ([]byte, error) {
	if e.ReadFile != nil {
		return e.ReadFile(path)
	}
	return os.ReadFile(path)
}

// resolve makes a path in the spec relative to the spec's directory.
func (e Env) resolve(p string) string {
	if filepath.IsAbs(p) || e.Spec == nil || e.Spec.File == "" {
		return p
	}
	return filepath.Join(filepath.Dir(e.Spec.File), p)
}

// factory compiles one kind of validator from its spec settings.
type factory func(cfg spec.ValidatorConfig, env Env) (Validator, error)

// factories maps each spec validator kind to its compiler. It is never modified.
var factories = map[string]factory{
	"json_schema":        newJSONSchema,
	"required_fields":    newRequiredFields,
	"regex":              newRegex,
	"max_length":         newMaxLength,
	"length":             newLength,
	"restricted_phrases": newRestrictedPhrases,
	"citations":          newCitations,
	"tool_calls":         newToolCalls,
	"refusal":            newRefusal,
	"judge":              newJudge,
	"agree":              newAgree,
}

// Compile builds the validator for one spec validator.
func Compile(v *spec.Validator, env Env) (Validator, error) {
	f, ok := factories[v.Kind]
	if !ok {
		return nil, fmt.Errorf("validator kind %q has no implementation", v.Kind)
	}
	return f(v.Config, env)
}

// Checker runs a spec's validators. It compiles every validator of the spec once; it is safe
// for concurrent use.
type Checker struct {
	compiled map[*spec.Validator]Validator
}

// NewChecker compiles every validator of every route of s (categories and named policies).
// Errors name the spec file and the validator's line.
func NewChecker(s *spec.Spec, env Env) (*Checker, error) {
	env.Spec = s
	c := &Checker{compiled: map[*spec.Validator]Validator{}}
	var errs spec.Errors
	add := func(vs []*spec.Validator) {
		for _, v := range vs {
			if _, done := c.compiled[v]; done {
				continue
			}
			val, err := Compile(v, env)
			if err != nil {
				errs = append(errs, &spec.Error{File: s.File, Line: v.Line, Msg: err.Error()})
				continue
			}
			c.compiled[v] = val
		}
	}
	var walk func(r *spec.Route)
	walk = func(r *spec.Route) {
		if r == nil {
			return
		}
		add(r.Validate)
		for _, st := range r.Cascade {
			add(st.Validate)
		}
		for _, a := range r.Split {
			walk(&a.Route)
		}
	}
	for _, cat := range s.Categories {
		walk(cat.Route)
	}
	for _, p := range s.Policies {
		for _, pr := range p.Routes {
			walk(&pr.Route)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// reader is a Validator that checks with what it read from outside the spec (a schema file).
type reader interface {
	Reads() json.RawMessage
}

// Reads returns what the validator v checks with besides its settings in the spec, in a
// canonical form that changes when what it checks does: a json_schema file's content, keys
// sorted and compact. It is nil for every other validator, and for one this Checker did not
// compile.
func (c *Checker) Reads(v *spec.Validator) json.RawMessage {
	if r, ok := c.compiled[v].(reader); ok {
		return r.Reads()
	}
	return nil
}

// applier is implemented by validators that apply to some requests only, and pass the answers
// to the others without checking them (their verdicts are NotApplicable).
type applier interface {
	// notApplicable says why the validator does not apply to req, or returns "" when it does.
	notApplicable(req *clearbar.Request) string
}

var (
	_ applier = (*agree)(nil)
	_ applier = (*jsonSchemaValidator)(nil)
)

// NotApplicable says why validator v does not apply to req, as the NotApplicable verdict it
// gives every answer to req says it (clearbar.Verdict.NotApplicable), or returns "" when it
// applies, or when this Checker did not compile it. It makes no call.
func (c *Checker) NotApplicable(v *spec.Validator, req *clearbar.Request) string {
	if a, ok := c.compiled[v].(applier); ok && req != nil {
		return a.notApplicable(req)
	}
	return ""
}

// Check runs validators on an answer. Cheap validators run first and all of them run, so the
// record shows every reason; the validators that call a model (judges, agreement checks) run
// after them, in order, each only when every check before it passed, because its call costs
// money and a failed answer escalates anyway. It returns the verdicts, whether the answer
// passed, and the attempts of the calls made. model is the spec model that wrote the answer
// ("" when unknown): an agreement check asks another.
func (c *Checker) Check(ctx context.Context, model string, req *clearbar.Request, resp *clearbar.Response, vs []*spec.Validator) ([]clearbar.Verdict, bool, []clearbar.Attempt) {
	in := &Input{Model: model, Request: req, Response: resp}
	verdicts := make([]clearbar.Verdict, 0, len(vs))
	pass := true
	var costly []Validator
	for _, v := range vs {
		val, ok := c.compiled[v]
		if !ok {
			verdicts = append(verdicts, clearbar.Verdict{Validator: v.Kind, Pass: false, Reason: "this validator was not compiled (the spec changed after the checker was built)"})
			pass = false
			continue
		}
		switch val.(type) {
		case *judge, *agree:
			costly = append(costly, val)
			continue
		}
		vd := val.Check(ctx, in)
		verdicts = append(verdicts, vd)
		pass = pass && vd.Pass
	}
	var calls []clearbar.Attempt
	for _, val := range costly {
		if !pass {
			verdicts = append(verdicts, clearbar.Verdict{Validator: val.Name(), Pass: false, Reason: "not run: an earlier check already failed"})
			continue
		}
		var vd clearbar.Verdict
		switch v := val.(type) {
		case *judge:
			var call clearbar.Attempt
			vd, call = v.judge(ctx, in)
			calls = append(calls, call)
		case *agree:
			var call *clearbar.Attempt
			if vd, call = v.check(ctx, in); call != nil {
				calls = append(calls, *call)
			}
		}
		verdicts = append(verdicts, vd)
		pass = pass && vd.Pass
	}
	return verdicts, pass, calls
}

// schemaCache compiles JSON Schemas sent in requests once per distinct schema.
type schemaCache struct {
	mu sync.Mutex
	m  map[string]*compiledSchema
}

const maxCachedSchemas = 1024

func (sc *schemaCache) get(raw []byte) (*compiledSchema, error) {
	key := string(raw)
	sc.mu.Lock()
	if s, ok := sc.m[key]; ok {
		sc.mu.Unlock()
		return s, nil
	}
	sc.mu.Unlock()
	s, err := compileSchema(raw, "request")
	if err != nil {
		return nil, err
	}
	sc.mu.Lock()
	if sc.m == nil || len(sc.m) >= maxCachedSchemas {
		sc.m = map[string]*compiledSchema{}
	}
	sc.m[key] = s
	sc.mu.Unlock()
	return s, nil
}
