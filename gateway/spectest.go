package gateway

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/route"
	"github.com/clearbar/clearbar/spec"
)

// TestResult is one golden request's outcome.
type TestResult struct {
	Name     string
	Line     int
	Pass     bool
	Problems []string
	Decision *clearbar.Decision
}

// Lint is a finding about a spec's rules.
type Lint struct {
	Line int
	Msg  string
}

// CheckSpec runs a spec's golden tests through the decision layer (no model is called) and
// lints its rules: rules that can never fire (constant false, shadowed by a rule that always
// fires before them, or by an earlier rule with the same condition or one their condition
// implies), rules that always fire, rules no golden test exercises, rules that fail to
// evaluate for a golden test, matches patterns with a \b beside a letter outside ASCII, and
// rules that fire together at the same priority, where only file order decides. A golden
// request in a category that splits its traffic must get its expected model and plan on
// every arm.
func CheckSpec(g *Gateway) ([]TestResult, []Lint) {
	s := g.spec
	var results []TestResult
	fired := map[string]bool{}
	var lints []Lint
	overlaps := map[string]bool{}
	failed := map[string]bool{} // categories whose rule failed to evaluate for a test
	rules := g.router.Rules()
	ruleLine := map[string]int{}
	for _, ru := range rules {
		ruleLine[ru.Category] = ru.Line
	}
	for i, t := range s.Tests {
		name := t.Name
		if name == "" {
			name = fmt.Sprintf("test %d", i+1)
		}
		res := TestResult{Name: name, Line: t.Line(), Pass: true}
		d, err := DryRun(g, t.Request.JSON, t.Headers, t.Tier)
		res.Decision = d
		if err != nil {
			res.Problems = append(res.Problems, "the request fails: "+clearbar.AsError(err).Message)
		}
		if d != nil {
			if err == nil && d.Arm != "" && (t.Expect.Model != "" || len(t.Expect.Plan) > 0) {
				// The plan depends on the arm drawn: check the plan on every arm.
				checkExpect(&res, spec.TestExpect{Category: t.Expect.Category, By: t.Expect.By}, d)
				checkArms(g, &res, t, d)
			} else {
				checkExpect(&res, t.Expect, d)
			}
			for _, r := range d.Rules {
				if r.Error == "" {
					continue
				}
				if len(res.Problems) > 0 {
					res.Problems = append(res.Problems, fmt.Sprintf("the rule of %q failed to evaluate, so it did not fire: %s", r.Category, r.Error))
				}
				if !failed[r.Category] {
					failed[r.Category] = true
					lints = append(lints, Lint{Line: ruleLine[r.Category], Msg: fmt.Sprintf("the rule of %q fails to evaluate for %q (%s), and a rule that fails does not fire: guard what it reads (metadata[\"k\"] != nil and …) or fix the expression", r.Category, name, r.Error)})
				}
			}
			top := -1 << 31
			var together []string
			for _, r := range d.Rules {
				if !r.Fired {
					continue
				}
				fired[r.Category] = true
				if len(together) == 0 {
					top = r.Priority
				}
				if r.Priority == top {
					together = append(together, r.Category)
				}
			}
			if len(together) > 1 {
				key := strings.Join(together, ",")
				if !overlaps[key] {
					overlaps[key] = true
					lints = append(lints, Lint{Line: t.Line(), Msg: fmt.Sprintf("rules of %s all fire for %q at priority %d: file order decides; give them different priorities or make them exclusive", strings.Join(quoted(together), " and "), name, top)})
				}
			}
		}
		res.Pass = len(res.Problems) == 0
		results = append(results, res)
	}
	shadowedBy := ""
	forms := make([]ruleForm, len(rules))
	for i, ru := range rules {
		forms[i] = formOf(ru.Rule)
	}
	for j, ru := range rules {
		earlier, same := impliedBy(forms, j)
		switch {
		case shadowedBy != "":
			lints = append(lints, Lint{Line: ru.Line, Msg: fmt.Sprintf("the rule of %q can never fire: the rule of %q always fires first", ru.Category, shadowedBy)})
		case ru.Constant != nil && !*ru.Constant:
			lints = append(lints, Lint{Line: ru.Line, Msg: fmt.Sprintf("the rule of %q can never fire: it is false for every request", ru.Category)})
		case ru.Constant != nil && *ru.Constant:
			lints = append(lints, Lint{Line: ru.Line, Msg: fmt.Sprintf("the rule of %q fires for every request that reaches the rules: use default: true instead", ru.Category)})
			shadowedBy = ru.Category
		case earlier >= 0 && same:
			e := rules[earlier]
			lints = append(lints, Lint{Line: ru.Line, Msg: fmt.Sprintf("the rule of %q can never fire: the rule of %q (line %d, priority %d) has the same condition and is evaluated first; give one of them a different condition", ru.Category, e.Category, e.Line, e.Priority)})
		case earlier >= 0:
			e := rules[earlier]
			lints = append(lints, Lint{Line: ru.Line, Msg: fmt.Sprintf("the rule of %q can never fire: whenever it is true, so is the rule of %q (line %d, priority %d), which is evaluated first; give %q a higher priority or make the rules exclusive", ru.Category, e.Category, e.Line, e.Priority, ru.Category)})
		case len(s.Tests) > 0 && !fired[ru.Category] && !failed[ru.Category]:
			lints = append(lints, Lint{Line: ru.Line, Msg: fmt.Sprintf("the rule of %q fired in none of the %d golden tests: add a test that exercises it", ru.Category, len(s.Tests))})
		}
	}
	for _, ru := range rules {
		if at := asciiBoundary(ru.Rule); at != "" {
			lints = append(lints, Lint{Line: ru.Line, Msg: fmt.Sprintf("the rule of %q puts \\b beside %q, but RE2's \\b knows only ASCII letters, so it does not mark that word's edge (\\bcafé\\b matches \"cafés\", not \"café\"): write (^|\\PL) and ($|\\PL) instead", ru.Category, at)})
		}
	}
	slices.SortStableFunc(lints, func(a, b Lint) int { return a.Line - b.Line })
	return results, lints
}

// asciiBoundary returns the first letter outside ASCII that a \b of one of the rule's
// matches patterns stands beside, "" for none.
func asciiBoundary(src string) string {
	tree, err := parser.Parse(src)
	if err != nil {
		return ""
	}
	found := ""
	ast.Find(tree.Node, func(n ast.Node) bool {
		b, ok := n.(*ast.BinaryNode)
		if !ok || b.Operator != "matches" || found != "" {
			return false
		}
		if pat, ok := b.Right.(*ast.StringNode); ok {
			found = nonASCIIBeside(pat.Value)
		}
		return false
	})
	return found
}

func nonASCIIBeside(pat string) string {
	rs := []rune(pat)
	for i := 0; i+1 < len(rs); i++ {
		if rs[i] != '\\' {
			continue
		}
		if rs[i+1] == 'b' {
			if i > 0 && rs[i-1] > unicode.MaxASCII && unicode.IsLetter(rs[i-1]) {
				return string(rs[i-1])
			}
			if i+2 < len(rs) && rs[i+2] > unicode.MaxASCII && unicode.IsLetter(rs[i+2]) {
				return string(rs[i+2])
			}
		}
		i++ // an escaped character: \\b is a backslash and a b
	}
	return ""
}

// ruleForm is a rule's condition in disjunctive form, as far as its text shows it: the rule
// is true when all the terms of one of its alternatives are. Terms are the expression's
// canonical text (expr's printer), so spacing and redundant parentheses do not matter.
type ruleForm [][]string

// formOf reads a rule's alternatives (its "or" operands) and their terms (their "and"
// operands); nil when the rule does not parse.
func formOf(src string) ruleForm {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	var f ruleForm
	for _, alt := range split(tree.Node, "or", "||") {
		var terms []string
		for _, t := range split(alt, "and", "&&") {
			terms = append(terms, t.String())
		}
		f = append(f, terms)
	}
	return f
}

// split returns the operands of a chain of binary operators ops (a or b or c), or n itself.
func split(n ast.Node, ops ...string) []ast.Node {
	if b, ok := n.(*ast.BinaryNode); ok && slices.Contains(ops, b.Operator) {
		return append(split(b.Left, ops...), split(b.Right, ops...)...)
	}
	return []ast.Node{n}
}

// implies reports whether b is true whenever a is: every alternative of a has all the terms
// of some alternative of b. It is a sufficient test, not a complete one: it sees that x and y
// implies x, or that x implies x or y, not that tokens_in > 9000 implies tokens_in > 8000.
func (a ruleForm) implies(b ruleForm) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	for _, alt := range a {
		if !slices.ContainsFunc(b, func(balt []string) bool { return subset(balt, alt) }) {
			return false
		}
	}
	return true
}

func subset(sub, set []string) bool {
	for _, t := range sub {
		if !slices.Contains(set, t) {
			return false
		}
	}
	return true
}

// impliedBy returns the first rule evaluated before rule j that is true whenever rule j is
// (so rule j can never be the first to fire), and whether the two have the same condition;
// -1 when there is none.
func impliedBy(forms []ruleForm, j int) (int, bool) {
	for i := range j {
		if forms[j].implies(forms[i]) {
			return i, forms[i].implies(forms[j])
		}
	}
	return -1, false
}

func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// checkArms checks a golden request whose category splits its traffic against every arm's
// plan, not only the arm its dry run drew: the gateway draws an arm at random for each
// request, so an expected model that one arm lacks would pass or fail from run to run.
func checkArms(g *Gateway, res *TestResult, t *spec.Test, d *clearbar.Decision) {
	req, err := DecodeChatRequest(t.Request.JSON, g.limits)
	if err != nil {
		return
	}
	in := routeInput(req, t.Headers, t.Tier)
	cat := g.spec.Category(d.Category)
	if cat == nil {
		return
	}
	var failing []string
	for i := range cat.Route.Split {
		ad := &clearbar.Decision{DryRun: true}
		if _, err := g.classify(in, ad); err != nil {
			return
		}
		if _, err := g.router.Plan(route.WithArm(route.Offline(context.Background()), i), cat, in, nil, ad); err != nil {
			failing = append(failing, fmt.Sprintf("arm %d: %s", i+1, clearbar.AsError(err).Message))
			continue
		}
		var ar TestResult
		checkExpect(&ar, spec.TestExpect{Model: t.Expect.Model, Plan: t.Expect.Plan}, ad)
		if len(ar.Problems) > 0 {
			failing = append(failing, fmt.Sprintf("%s: %s", ad.Arm, strings.Join(ar.Problems, "; ")))
		}
	}
	if len(failing) > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("category %q splits its traffic, drawing an arm at random for each request, and not every arm gives what the test expects (%s): expect only what every arm shares", d.Category, strings.Join(failing, "; ")))
	}
}

func checkExpect(res *TestResult, e spec.TestExpect, d *clearbar.Decision) {
	if e.Category != "" && d.Category != e.Category {
		res.Problems = append(res.Problems, fmt.Sprintf("category %q, want %q (by %s)", d.Category, e.Category, d.CategoryBy))
	}
	if e.By != "" && !strings.Contains(d.CategoryBy, e.By) {
		res.Problems = append(res.Problems, fmt.Sprintf("category chosen by %q, want it chosen by %q", d.CategoryBy, e.By))
	}
	if e.Model != "" && (len(d.Plan) == 0 || d.Plan[0] != e.Model) {
		res.Problems = append(res.Problems, fmt.Sprintf("first model %q, want %q", first(d.Plan), e.Model))
	}
	if len(e.Plan) > 0 && !slices.Equal(d.Plan, e.Plan) {
		res.Problems = append(res.Problems, fmt.Sprintf("plan %s, want %s", strings.Join(d.Plan, " → "), strings.Join(e.Plan, " → ")))
	}
}

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}
