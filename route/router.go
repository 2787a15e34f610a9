// Package route decides where a request goes: which category it belongs to (by header,
// metadata, model alias or rules over request features) and which models, in which order,
// may answer it (static routes, cascades, weighted splits, fallback chains, context-window
// fit and circuit breakers).
//
// A Router is compiled once from a loaded spec and is safe for concurrent use. Classify and
// Plan allocate little: they run on every request. Classify does no I/O, nor does Plan, except
// for a score route whose learned router embeds the request (see Router.Plan).
package route

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// Router classifies and plans requests for one spec.
type Router struct {
	spec     *spec.Spec
	byName   map[string]*spec.Category
	byModel  map[string]*spec.Category // clearbar/NAME and match.models
	matchers []matcher                 // header and metadata matches, in file order
	rules    []*rule                   // priority descending, then file order
	needs    needs
	def      *spec.Category
	plans    map[*spec.Category]*catPlan
	// pinned are the plans for requests that name a spec model: that model, then its own
	// fallbacks.
	pinned map[string]*armPlan
	vms    sync.Pool
}

// matcher is one category's header and metadata values, each list sorted by name so that
// which of several matching values is recorded does not vary from request to request.
type matcher struct {
	cat      *spec.Category
	header   []pair
	metadata []pair
}

type pair struct{ key, value string }

func sortedPairs(m map[string]string) []pair {
	out := make([]pair, 0, len(m))
	for k, v := range m {
		out = append(out, pair{k, v})
	}
	slices.SortFunc(out, func(a, b pair) int { return strings.Compare(a.key, b.key) })
	return out
}

// rule is one category's compiled match.when expression.
type rule struct {
	cat      *spec.Category
	src      string
	priority int
	program  *vm.Program
	// constant is set when the rule's value does not depend on the request.
	constant *bool
}

// CategoryHeader is the request header that names a category outright; CategoryMetadata the
// metadata key that does the same.
const (
	CategoryHeader   = spec.CategoryHeader
	CategoryMetadata = spec.CategoryMetadata
	// AliasPrefix prefixes a category's name to make the model alias clients can send.
	AliasPrefix = "clearbar/"
)

// Options configure a Router beyond its spec.
type Options struct {
	// Providers are the spec's providers by name. A score route whose learned router was
	// trained with embeddings embeds requests through the provider of its embedding model,
	// which must implement clearbar.Embedder; without Providers (offline uses: replay, lint)
	// such a router always predicts without the embedding.
	Providers map[string]clearbar.Provider
}

// New compiles a spec's matching rules and routes, without providers (see NewWith). Rule errors
// are spec.Errors naming the spec file and line of the rule.
func New(s *spec.Spec) (*Router, error) { return NewWith(s, Options{}) }

// NewWith is New with options: the gateway passes its providers, through which learned
// routers trained with embeddings embed requests.
func NewWith(s *spec.Spec, o Options) (*Router, error) {
	r := &Router{spec: s, byName: map[string]*spec.Category{}, byModel: map[string]*spec.Category{},
		def: s.DefaultCategory(), plans: map[*spec.Category]*catPlan{}}
	r.vms.New = func() any { return &vm.VM{} }
	var errs spec.Errors
	for _, c := range s.Categories {
		r.byName[c.Name] = c
		r.byModel[AliasPrefix+c.Name] = c
		m := c.Match
		if m == nil {
			continue
		}
		for _, name := range m.Models {
			r.byModel[name] = c
		}
		if len(m.Header) > 0 || len(m.Metadata) > 0 {
			mt := matcher{cat: c, header: sortedPairs(m.Header), metadata: sortedPairs(m.Metadata)}
			r.matchers = append(r.matchers, mt)
		}
		if strings.TrimSpace(m.When) == "" {
			continue
		}
		ru, n, err := compileRule(c, m.When)
		if err != nil {
			errs = append(errs, &spec.Error{File: s.File, Line: m.WhenLine(), Msg: fmt.Sprintf("category %q rule: %v", c.Name, err)})
			continue
		}
		ru.priority = m.Priority
		r.rules = append(r.rules, ru)
		r.needs.text = r.needs.text || n.text
		r.needs.system = r.needs.system || n.system
		r.needs.headers = r.needs.headers || n.headers
	}
	if len(errs) > 0 {
		return nil, errs
	}
	slices.SortStableFunc(r.rules, func(a, b *rule) int { return b.priority - a.priority })
	for _, c := range s.Categories {
		cp, err := newCatPlan(s, c, o)
		if err != nil {
			errs = append(errs, &spec.Error{File: s.File, Line: c.Line(), Msg: fmt.Sprintf("category %q: %v", c.Name, err)})
			var se *spec.Error
			if errors.As(err, &se) {
				errs[len(errs)-1] = se
			}
			continue
		}
		r.plans[c] = cp
	}
	if len(errs) > 0 {
		return nil, errs
	}
	r.pinned = map[string]*armPlan{}
	for _, m := range s.Models {
		if _, alias := r.byModel[m.Name]; alias {
			continue // a category claims this name
		}
		cands := append([]*spec.Model{m}, s.FailoverChain(m, nil, nil)...)
		ap := &armPlan{route: &spec.Route{Model: &spec.Ref{Name: m.Name}}, steps: []Step{{Candidates: cands}}, label: "model named by the client", desc: "model " + m.Name + ", named by the client"}
		for _, c := range cands {
			ap.names = append(ap.names, c.Name)
		}
		r.pinned[m.Name] = ap
	}
	return r, nil
}

func compileRule(c *spec.Category, src string) (*rule, needs, error) {
	var n needs
	program, err := expr.Compile(src, expr.Env(Env{}), expr.AsBool())
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			return nil, n, fmt.Errorf("%s (column %d): fix the expression %q", fe.Message, fe.Column+1, src)
		}
		return nil, n, err
	}
	// Header names are lower-case in the rule environment: a rule that reads one by another
	// spelling would never see it.
	var upper string
	ast.Find(program.Node(), func(node ast.Node) bool {
		if m, ok := node.(*ast.MemberNode); ok {
			id, isID := m.Node.(*ast.IdentifierNode)
			key, isStr := m.Property.(*ast.StringNode)
			if isID && id.Value == "headers" && isStr && key.Value != strings.ToLower(key.Value) && upper == "" {
				upper = key.Value
			}
		}
		return false
	})
	if upper != "" {
		return nil, n, fmt.Errorf("headers are read by lower-case name, so headers[%q] is never set: write headers[%q]", upper, strings.ToLower(upper))
	}
	ru := &rule{cat: c, src: src, program: program}
	// Find which costly fields the rule reads, and whether it reads the request at all.
	reads := false
	ast.Find(program.Node(), func(node ast.Node) bool {
		if b, ok := node.(*ast.BuiltinNode); ok && b.Name == "now" {
			reads = true // the time of the request: not a constant either
		}
		if id, ok := node.(*ast.IdentifierNode); ok {
			reads = true
			switch id.Value {
			case "text":
				n.text = true
			case "system":
				n.system = true
			case "headers":
				n.headers = true
			}
		}
		return false
	})
	if !reads {
		v, err := expr.Run(program, Env{})
		if b, ok := v.(bool); ok && err == nil {
			ru.constant = &b
		}
	}
	return ru, n, nil
}

// Spec returns the spec the router was built from.
func (r *Router) Spec() *spec.Spec { return r.spec }

// ClassifyError is returned for a request that names a category that does not exist.
type ClassifyError struct{ Msg string }

func (e *ClassifyError) Error() string { return e.Msg }

// Classify assigns the request to a category and records how, the features rules saw and
// every rule's result in d. It returns an error of class ClientError when the request names an
// unknown category.
func (r *Router) Classify(in *Input, d *clearbar.Decision) (*spec.Category, error) {
	features(in, &d.Features)
	req := in.Request
	if name := in.Header.Get(CategoryHeader); name != "" {
		return r.named(name, spec.ReasonNamed(true), d)
	}
	if name := req.Metadata[CategoryMetadata]; name != "" {
		return r.named(name, spec.ReasonNamed(false), d)
	}
	if c, ok := r.byModel[req.Model]; ok {
		d.Category, d.CategoryBy = c.Name, spec.ReasonModelAlias(req.Model)
		return c, nil
	}
	for _, m := range r.matchers {
		for _, p := range m.header {
			if in.Header.Get(p.key) == p.value {
				d.Category, d.CategoryBy = m.cat.Name, spec.ReasonHeader(p.key, p.value)
				return m.cat, nil
			}
		}
		for _, p := range m.metadata {
			if req.Metadata[p.key] == p.value {
				d.Category, d.CategoryBy = m.cat.Name, spec.ReasonMetadata(p.key, p.value)
				return m.cat, nil
			}
		}
	}
	if len(r.rules) > 0 {
		var env Env
		fillEnv(&env, &d.Features, in, r.needs)
		machine := r.vms.Get().(*vm.VM)
		defer r.vms.Put(machine)
		var chosen *rule
		if cap(d.Rules) < len(r.rules) {
			d.Rules = make([]clearbar.RuleResult, 0, len(r.rules))
		}
		for _, ru := range r.rules {
			res := clearbar.RuleResult{Category: ru.cat.Name, Rule: ru.src, Priority: ru.priority}
			out, err := machine.Run(ru.program, &env)
			if err != nil {
				res.Error = runError(err)
			} else if fired, _ := out.(bool); fired {
				res.Fired = true
				if chosen == nil {
					chosen = ru
				}
			}
			d.Rules = append(d.Rules, res)
		}
		if chosen != nil {
			d.Category, d.CategoryBy = chosen.cat.Name, spec.ReasonRule(chosen.cat.Name, chosen.src)
			return chosen.cat, nil
		}
	}
	d.Category, d.CategoryBy = r.def.Name, spec.ReasonDefault
	return r.def, nil
}

// runError is a rule's run-time error on one line: expr's message and the column it points
// at, without the multi-line snippet of the expression, which the decision records beside it.
func runError(err error) string {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return err.Error()
	}
	msg := fe.Message
	if fe.Prev != nil && !strings.Contains(msg, fe.Prev.Error()) {
		msg += ": " + fe.Prev.Error()
	}
	if fe.Snippet == "" {
		return msg
	}
	return fmt.Sprintf("%s (column %d)", msg, fe.Column+1)
}

func (r *Router) named(name, by string, d *clearbar.Decision) (*spec.Category, error) {
	c, ok := r.byName[name]
	if !ok {
		return nil, &clearbar.Error{Class: clearbar.ClientError, Status: 400, Param: "model",
			Code: "unknown_category", Message: fmt.Sprintf("%s names category %q, which the routing spec does not declare", by, name)}
	}
	d.Category, d.CategoryBy = c.Name, by
	return c, nil
}

// RuleInfo describes one compiled rule, for lints and documents.
type RuleInfo struct {
	Category string
	Rule     string
	Priority int
	Line     int
	// Constant is set when the rule does not read the request: it always (true) or never
	// (false) fires.
	Constant *bool
}

// Rules returns the compiled rules in evaluation order.
func (r *Router) Rules() []RuleInfo {
	out := make([]RuleInfo, len(r.rules))
	for i, ru := range r.rules {
		out[i] = RuleInfo{Category: ru.cat.Name, Rule: ru.src, Priority: ru.priority, Line: ru.cat.Match.WhenLine(), Constant: ru.constant}
	}
	return out
}

// Warnings are what compiling the routes found that works but is likely wrong: a learned
// router trained with other task features than the category's name, which the gateway passes.
// They are in the spec's category order.
func (r *Router) Warnings() spec.Errors {
	var out spec.Errors
	for _, c := range r.spec.Categories {
		cp := r.plans[c]
		if cp == nil {
			continue
		}
		for _, a := range cp.arms {
			if a.score == nil {
				continue
			}
			if ls, ok := a.score.scorer.(*learnedScorer); ok && ls.warning != nil {
				out = append(out, ls.warning)
			}
		}
	}
	return out
}
