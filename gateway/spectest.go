package gateway

import (
	"fmt"
	"slices"
	"strings"

	"github.com/clearbar/clearbar"
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
// lints its rules: rules that can never fire (constant false, or shadowed by a rule that
// always fires before them), rules that always fire, rules no golden test exercises, and
// rules that fire together at the same priority, where only file order decides.
func CheckSpec(g *Gateway) ([]TestResult, []Lint) {
	s := g.spec
	var results []TestResult
	fired := map[string]bool{}
	var lints []Lint
	overlaps := map[string]bool{}
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
			checkExpect(&res, t.Expect, d)
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
	for _, ru := range g.router.Rules() {
		switch {
		case shadowedBy != "":
			lints = append(lints, Lint{Line: ru.Line, Msg: fmt.Sprintf("the rule of %q can never fire: the rule of %q always fires first", ru.Category, shadowedBy)})
		case ru.Constant != nil && !*ru.Constant:
			lints = append(lints, Lint{Line: ru.Line, Msg: fmt.Sprintf("the rule of %q can never fire: it is false for every request", ru.Category)})
		case ru.Constant != nil && *ru.Constant:
			lints = append(lints, Lint{Line: ru.Line, Msg: fmt.Sprintf("the rule of %q fires for every request that reaches the rules: use default: true instead", ru.Category)})
			shadowedBy = ru.Category
		case len(s.Tests) > 0 && !fired[ru.Category]:
			lints = append(lints, Lint{Line: ru.Line, Msg: fmt.Sprintf("the rule of %q fired in none of the %d golden tests: add a test that exercises it", ru.Category, len(s.Tests))})
		}
	}
	slices.SortStableFunc(lints, func(a, b Lint) int { return a.Line - b.Line })
	return results, lints
}

func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
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
