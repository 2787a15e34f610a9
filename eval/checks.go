package eval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/clearbar/clearbar/internal/textdist"
	"github.com/clearbar/clearbar/outcomes"
)

// checkKind is one kind of check in the set format.
type checkKind struct {
	// extra lists the keys a check of this kind may have besides its kind.
	extra []string
	bind  func(c rawCheck, it *Item, env Env) (Grader, error)
}

// rawCheck is a check as written: one key naming its kind, and its settings.
type rawCheck map[string]json.RawMessage

// checkKinds maps each check kind of the set format to its binder. It is never modified.
var checkKinds = map[string]checkKind{
	"exact": {bind: func(c rawCheck, _ *Item, _ Env) (Grader, error) {
		s, err := c.text("exact")
		return Exact{Want: s}, err
	}},
	"normalized": {bind: func(c rawCheck, _ *Item, _ Env) (Grader, error) {
		s, err := c.text("normalized")
		return Normalized{Want: s}, err
	}},
	"contains": {bind: func(c rawCheck, _ *Item, _ Env) (Grader, error) {
		s, err := c.text("contains")
		if err == nil && Normalize(s) == "" {
			err = fmt.Errorf(`"contains" %s is empty once normalized, so it would match anything`, quote(s))
		}
		return Contains{Want: s}, err
	}},
	"regex": {bind: func(c rawCheck, _ *Item, _ Env) (Grader, error) {
		s, err := c.text("regex")
		if err != nil {
			return nil, err
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf(`"regex" %s does not compile: %v (the syntax is Go's RE2)`, quote(s), err)
		}
		return Regex{Pattern: re}, nil
	}},
	"numeric": {extra: []string{"tolerance"}, bind: func(c rawCheck, _ *Item, _ Env) (Grader, error) {
		var g Numeric
		if err := json.Unmarshal(c["numeric"], &g.Want); err != nil {
			return nil, fmt.Errorf(`"numeric" must be a number, like {"numeric": 42.5, "tolerance": 0.01}`)
		}
		if t, ok := c["tolerance"]; ok {
			if err := json.Unmarshal(t, &g.Tolerance); err != nil || g.Tolerance < 0 {
				return nil, fmt.Errorf(`"tolerance" must be a number of at least 0 (the largest difference accepted)`)
			}
		}
		return g, nil
	}},
	"judge": {bind: func(c rawCheck, _ *Item, env Env) (Grader, error) {
		var j struct {
			Model     string  `json:"model"`
			Rubric    string  `json:"rubric"`
			Threshold float64 `json:"threshold"`
		}
		dec := json.NewDecoder(bytes.NewReader(c["judge"]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&j); err != nil {
			var te *json.UnmarshalTypeError
			switch {
			case errors.As(err, &te) && te.Field == "":
				return nil, fmt.Errorf(`"judge" must be {"model": NAME, "rubric": "...", "threshold": 0.7}, not %s`, outcomes.JSONKind(te.Value))
			case te != nil:
				want := "a string"
				if te.Field == "threshold" {
					want = "a number"
				}
				return nil, fmt.Errorf(`"judge": %q is %s, but it must be %s, as in {"model": NAME, "rubric": "...", "threshold": 0.7}`, te.Field, outcomes.JSONKind(te.Value), want)
			}
			return nil, fmt.Errorf(`"judge" must be {"model": NAME, "rubric": "...", "threshold": 0.7} (%v)`, strings.TrimPrefix(err.Error(), "json: "))
		}
		return NewJudge(env.Spec, env.Caller, j.Model, j.Rubric, j.Threshold)
	}},
	"tool_calls": {bind: func(c rawCheck, it *Item, _ Env) (Grader, error) {
		want, err := parseExpectedCalls(c["tool_calls"], `"tool_calls"`)
		return ToolCalls{Want: want, Strings: it.ToolCallStrings}, err
	}},
	"json": {bind: func(c rawCheck, it *Item, _ Env) (Grader, error) {
		v, _ := decodeJSON(c["json"])
		switch v.(type) {
		case map[string]any, []any:
			return JSONEqual{Want: v}, nil
		}
		if v != true {
			return nil, fmt.Errorf(`"json" must be true (the answer compared as JSON with the item's reference) or the expected object or array, like {"json": {"intent": "refund"}}`)
		}
		if strings.TrimSpace(it.Reference) == "" {
			return nil, fmt.Errorf(`{"json": true} compares the answer with the item's reference, and the item has none: give a "reference" (a JSON document), or the expected value, like {"json": {"intent": "refund"}}`)
		}
		want, err := decodeJSON([]byte(strings.TrimSpace(it.Reference)))
		if err != nil {
			return nil, fmt.Errorf(`{"json": true} compares the answer with the item's reference as JSON, and the reference is not JSON (%v): %s`, strings.TrimPrefix(err.Error(), "json: "), quote(it.Reference))
		}
		return JSONEqual{Want: want}, nil
	}},
	"json_path": {extra: []string{"equals"}, bind: func(c rawCheck, _ *Item, _ Env) (Grader, error) {
		path, err := c.text("json_path")
		const form = `{"json_path": "intent", "equals": "refund"}`
		if err != nil || strings.TrimSpace(path) == "" || strings.HasPrefix(path, ".") || strings.HasSuffix(path, ".") || strings.Contains(path, "..") {
			return nil, fmt.Errorf(`"json_path" must be keys separated by dots (array elements by their index from 0), like %s`, form)
		}
		raw, ok := c["equals"]
		if !ok {
			return nil, fmt.Errorf(`"json_path" needs "equals", the value expected there, like %s`, form)
		}
		want, err := decodeJSON(raw)
		if err != nil {
			return nil, fmt.Errorf(`"equals": %v`, err)
		}
		return JSONPath{Path: path, Equals: want}, nil
	}},
	"validators": {bind: func(c rawCheck, _ *Item, env Env) (Grader, error) {
		var on bool
		if err := json.Unmarshal(c["validators"], &on); err != nil || !on {
			return nil, fmt.Errorf(`write {"validators": true} to grade with the category's validators`)
		}
		return NewValidators(env.Checker, env.Category)
	}},
}

// text reads a string setting.
func (c rawCheck) text(key string) (string, error) {
	var s string
	if err := json.Unmarshal(c[key], &s); err != nil {
		return "", fmt.Errorf("%q must be a string", key)
	}
	return s, nil
}

// checkKindNames lists the check kinds, sorted, for messages.
func checkKindNames() string {
	names := make([]string, 0, len(checkKinds))
	for k := range checkKinds {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// bindChecks turns an item's checks into graders: the checks as written, or, without any, a
// normalized match with the reference; and, beside them, the category's validators, when it
// has any and they are available (once: {"validators": true} among the checks is they). The
// validators grade alone an item with neither checks nor a reference, or whose only check is
// {"validators": true}; beside others, their verdict is recorded, not counted (see
// Runner.grade). Costly graders go last.
func bindChecks(raws []json.RawMessage, it *Item, hasReference bool, env Env) ([]Grader, error) {
	var out []Grader
	var validators *Validators // the category's, nil when it has none or they are not available
	if env.Category != nil && env.Checker != nil {
		if vs, _ := env.Category.Route.MainValidators(); len(vs) > 0 {
			g, err := NewValidators(env.Checker, env.Category)
			if err != nil {
				return nil, err
			}
			validators = g
		}
	}
	if len(raws) == 0 {
		if validators != nil {
			out = append(out, validators)
		}
		if hasReference {
			out = append(out, Normalized{Want: it.Reference})
		}
		if it.ReferenceToolCalls != nil {
			out = append(out, ToolCalls{Want: it.ReferenceToolCalls, Strings: it.ToolCallStrings})
		}
		if len(out) == 0 {
			where := "its category validates nothing"
			if env.Category != nil {
				where = fmt.Sprintf("category %q validates nothing", env.Category.Name)
			}
			return nil, fmt.Errorf(`nothing grades its answers: %s, and the item has no "reference", "reference_tool_calls" or "checks"; add one of them`, where)
		}
	}
	for i, raw := range raws {
		var c rawCheck
		if err := json.Unmarshal(raw, &c); err != nil || c == nil {
			return nil, fmt.Errorf(`check %d is not an object: write checks like {"contains": "refund"}`, i+1)
		}
		var kinds []string
		for k := range c {
			if _, ok := checkKinds[k]; ok {
				kinds = append(kinds, k)
			}
		}
		switch {
		case len(kinds) > 1:
			slices.Sort(kinds)
			return nil, fmt.Errorf("check %d names %d kinds (%s): give exactly one of %s", i+1, len(kinds), strings.Join(kinds, ", "), checkKindNames())
		case len(c) == 0:
			return nil, fmt.Errorf("check %d is empty: give one of %s, like {\"contains\": \"refund\"}", i+1, checkKindNames())
		case len(kinds) == 0:
			unknown := slices.Sorted(maps.Keys(c))[0]
			if near, ok := textdist.Closest(unknown, slices.Sorted(maps.Keys(checkKinds))); ok {
				return nil, fmt.Errorf("check %d: unknown kind %q: did you mean %q? (kinds: %s)", i+1, unknown, near, checkKindNames())
			}
			return nil, fmt.Errorf("check %d: unknown kind %q: give one of %s", i+1, unknown, checkKindNames())
		}
		kind := checkKinds[kinds[0]]
		for _, k := range slices.Sorted(maps.Keys(c)) {
			if k != kinds[0] && !slices.Contains(kind.extra, k) {
				if near, ok := textdist.Closest(k, kind.extra); ok {
					return nil, fmt.Errorf("check %d (%s): unknown key %q: did you mean %q?", i+1, kinds[0], k, near)
				}
				return nil, fmt.Errorf("check %d (%s): unknown key %q (check kinds: %s)", i+1, kinds[0], k, checkKindNames())
			}
		}
		g, err := kind.bind(c, it, env)
		if err != nil {
			return nil, fmt.Errorf("check %d: %w", i+1, err)
		}
		out = append(out, g)
	}
	if len(raws) > 0 && validators != nil && !slices.ContainsFunc(out, func(g Grader) bool { _, ok := g.(*Validators); return ok }) {
		out = append(out, validators)
	}
	slices.SortStableFunc(out, func(a, b Grader) int {
		return boolInt(isCostly(a)) - boolInt(isCostly(b))
	})
	return out, nil
}

func isCostly(g Grader) bool {
	c, ok := g.(Costly)
	return ok && c.Costly()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
