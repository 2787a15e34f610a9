package estimate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// twoModels is a spec where break-evens can be computed by hand: one category, routed to a
// alone, unvalidated, with a second model b that also clears the 0.85 bar. Prices are the
// spec's and tokens fixed, so a call of a costs 1000 × $1/M + 100 × $2/M = $0.0012 and one of b
// $0.0024; both models are always available and their p95 is 1s, the closed form's (one call
// of one model), against a 2s budget. spec (= all-a, cheapest-passing and cascade-by-price)
// is recommended. It stays so while a costs at most twice as much (×2: a's call costs b's),
// while b costs at least half as much, while a's pass rate is at least the bar, 0.85, and
// while a's latency is at most twice as long (p95 2s); past each, all-b.
const twoModels = `version: 1
name: two
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini, price: {input: 1, output: 2}, latency: {p50: 500ms, p95: 1s}, availability: 1}
  b: {provider: sim, model: gpt-4o, price: {input: 2, output: 4}, latency: {p50: 500ms, p95: 1s}, availability: 1}
categories:
  - name: x
    share: 1
    tokens: {in: 1000, out: 100}
    quality_bar: 0.85
    latency_budget: 2s
    failure_impact: {bad_answer: 1}
    route: {model: a}
    assume:
      pass_rate: {a: 0.9, b: 0.95}
`

func breakEvens(t *testing.T, src string, opts Options) *Report {
	t.Helper()
	opts.Today, opts.Sensitivity = testDay, 0.2
	if opts.Samples == 0 {
		opts.Samples = 20_000
	}
	r, err := Run(context.Background(), parse(t, src), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := FindBreakEvens(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

func findBreakEven(t *testing.T, s *Sensitivity, input, direction string) BreakEven {
	t.Helper()
	for _, b := range s.BreakEvens {
		if b.Input == input && b.Direction == direction {
			return b
		}
	}
	t.Fatalf("no search of %s %s among %+v", input, direction, s.BreakEvens)
	return BreakEven{}
}

// TestSensitivityBreakEvenByHand: the break-evens of twoModels are where a's cost equals b's,
// where a's pass rate reaches the bar, where a's p95 reaches the budget, each within the
// tolerance the search reports (and that within BreakEvenTolerance); past each, all-b is
// recommended.
func TestSensitivityBreakEvenByHand(t *testing.T) {
	r := breakEvens(t, twoModels, Options{})
	s := r.Sensitivity
	if s.Baseline != "spec" || !s.BaselineClears {
		t.Fatalf("baseline %s (clears %v), want spec, clearing", s.Baseline, s.BaselineClears)
	}
	for _, tt := range []struct {
		input, direction string
		want, move       float64
	}{
		{"price of a", "up", 2, 1},
		{"price of b", "down", 0.5, -0.5},
		// The failure rate 0.1 rises to 0.15: +50%.
		{"pass rate of a in x", "down", 0.85, 0.5},
		{"latency of a", "up", 2, 1},
	} {
		b := findBreakEven(t, s, tt.input, tt.direction)
		if !b.Found || b.Value == nil {
			t.Errorf("%s %s: no break-even found, want %g", tt.input, tt.direction, tt.want)
			continue
		}
		scale := tt.want
		if b.Complement != "" {
			scale = 1 - tt.want
		}
		if tol := BreakEvenTolerance * scale; b.Tolerance > tol {
			t.Errorf("%s %s: tolerance %g, want at most %g", tt.input, tt.direction, b.Tolerance, tol)
		}
		if math.Abs(*b.Value-tt.want) > b.Tolerance+1e-9 {
			t.Errorf("%s %s: break-even %.6g ± %.2g, want %g", tt.input, tt.direction, *b.Value, b.Tolerance, tt.want)
		}
		if math.Abs(b.Move-tt.move) > 2*BreakEvenTolerance*math.Abs(tt.move) {
			t.Errorf("%s %s: move %.4g, want %g", tt.input, tt.direction, b.Move, tt.move)
		}
		if b.Recommended != "all-b" || !b.RecommendedClears {
			t.Errorf("%s %s: past the break-even %s (clears %v), want all-b, clearing", tt.input, tt.direction, b.Recommended, b.RecommendedClears)
		}
		if b.Estimates > breakEvenGrid+breakEvenMaxHalvings {
			t.Errorf("%s %s: %d estimates, more than the bound %d", tt.input, tt.direction, b.Estimates, breakEvenGrid+breakEvenMaxHalvings)
		}
	}
	if b := findBreakEven(t, s, "price of a", "up"); b.Detail != "$2/M in, $4/M out" || b.AssumedDetail != "$1/M in, $2/M out" {
		t.Errorf("price of a: detail %q, assumed %q: want a's prices at ×2 and ×1", b.Detail, b.AssumedDetail)
	}

	// Nearest first: found ones by the size of their move, then those not found.
	var moves []float64
	seenMissing := false
	for _, b := range s.BreakEvens {
		switch {
		case !b.Found:
			seenMissing = true
		case seenMissing:
			t.Errorf("%s %s is found but listed after a search that found none", b.Input, b.Direction)
		default:
			moves = append(moves, math.Abs(b.Move))
		}
	}
	if !slices.IsSorted(moves) {
		t.Errorf("break-evens not nearest first: moves %v", moves)
	}
	total := 0
	for _, b := range s.BreakEvens {
		total += b.Estimates
	}
	if s.BreakEvenRuns != total || total == 0 {
		t.Errorf("break_even_runs %d, searches made %d estimates", s.BreakEvenRuns, total)
	}

	var text bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Break-even points (each input moved alone until the recommendation changes,",
		"spec stays recommended while, nearest first:",
		"≥ 0.85",
		"≤ ×2 ($2/M in, $4/M out)",
		"failure rate +50%",
		"No change within the range for",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text report lacks %q:\n%s", want, text.String())
		}
	}
	var md, page bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| price of a | ≤ ×2 ($2/M in, $4/M out) | ×1 ($1/M in, $2/M out) | +100% | **all-b** |") {
		t.Errorf("the Markdown report lacks the price of a's break-even:\n%s", md.String())
	}
	if err := WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), "<td>price of a</td><td>≤ ×2 ($2/M in, $4/M out)</td>") {
		t.Error("the HTML report lacks the price of a's break-even")
	}
}

// TestSensitivityBreakEvenNoneWithinRange: in twoModels nothing that makes b dearer or slower,
// or a cheaper or better, changes the recommendation: those searches find no break-even, make
// breakEvenGrid estimates each and one at the sensitivity's move, and say where they stopped.
func TestSensitivityBreakEvenNoneWithinRange(t *testing.T) {
	s := breakEvens(t, twoModels, Options{}).Sensitivity
	for _, tt := range []struct {
		input, direction string
		limit            float64
	}{
		{"price of b", "up", BreakEvenFactor},
		{"latency of b", "up", BreakEvenFactor},
		{"price of a", "down", 1.0 / BreakEvenFactor},
		{"pass rate of a in x", "up", 1},
		{"pass rate of b in x", "down", 0},
	} {
		b := findBreakEven(t, s, tt.input, tt.direction)
		if b.Found || b.Value != nil || b.Recommended != "" {
			t.Errorf("%s %s: %+v, want no break-even", tt.input, tt.direction, b)
		}
		if b.Limit != tt.limit || b.Estimates != breakEvenGrid+1 {
			t.Errorf("%s %s: searched to %g in %d estimates, want to %g in %d", tt.input, tt.direction, b.Limit, b.Estimates, tt.limit, breakEvenGrid+1)
		}
	}
	// Availability 1 cannot rise: there is no search up.
	for _, b := range s.BreakEvens {
		if strings.HasPrefix(b.Input, "availability of") && b.Direction == "up" {
			t.Errorf("searched %s up from 1", b.Input)
		}
	}
}

// TestSensitivityBreakEvenJSON: the break-evens are in the sensitivity's JSON, with these
// fields; a search that found none has no value; without the search, neither key is written.
func TestSensitivityBreakEvenJSON(t *testing.T) {
	r := breakEvens(t, twoModels, Options{})
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Sensitivity struct {
			BreakEvens []map[string]any `json:"break_evens"`
			Runs       float64          `json:"break_even_runs"`
		} `json:"sensitivity"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Sensitivity.BreakEvens) == 0 || doc.Sensitivity.Runs == 0 {
		t.Fatalf("no break_evens or break_even_runs in the JSON:\n%s", buf.String())
	}
	keys := func(m map[string]any) string { return strings.Join(slices.Sorted(maps.Keys(m)), ",") }
	var found, missing map[string]any
	for _, b := range doc.Sensitivity.BreakEvens {
		switch {
		case b["input"] == "price of a" && b["direction"] == "up":
			found = b
		case b["input"] == "price of b" && b["direction"] == "up":
			missing = b
		}
	}
	if want := "assumed,assumed_detail,detail,direction,estimates,found,input,kind,limit,recommended,recommended_clears,relative_move,tolerance,value"; found == nil || keys(found) != want {
		t.Errorf("price of a, up: keys %s, want %s", keys(found), want)
	}
	if found["kind"] != "price" || found["found"] != true || found["recommended"] != "all-b" || math.Abs(found["value"].(float64)-2) > 0.002 {
		t.Errorf("price of a, up: %v", found)
	}
	if want := "assumed,assumed_detail,direction,estimates,found,input,kind,limit"; missing == nil || keys(missing) != want {
		t.Errorf("price of b, up: keys %s, want %s", keys(missing), want)
	}
	for _, b := range doc.Sensitivity.BreakEvens {
		if b["input"] == "pass rate of a in x" && b["direction"] == "down" {
			if b["kind"] != "probability" || b["complement"] != "failure rate" || b["assumed"] != 0.9 || b["limit"] != 0.0 {
				t.Errorf("pass rate of a, down: %v", b)
			}
		}
	}

	plain, _ := runText(t, twoModels, Options{Sensitivity: 0.2})
	buf.Reset()
	if err := WriteJSON(&buf, plain); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "break_even") {
		t.Error("a report without the search writes break-even keys")
	}
	if err := FindBreakEvens(context.Background(), &Report{}); err == nil {
		t.Error("FindBreakEvens on a report without a sensitivity analysis does not fail")
	}
}

// TestSensitivityBreakEvenDeterministic: the searches give the same report whatever the
// parallelism.
func TestSensitivityBreakEvenDeterministic(t *testing.T) {
	var outs []string
	for _, workers := range []int{1, 4} {
		r := breakEvens(t, cascade(t), Options{Workers: workers, Samples: 6_000})
		var buf bytes.Buffer
		if err := WriteJSON(&buf, r); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, buf.String())
	}
	if outs[0] != outs[1] {
		t.Error("break-evens differ between 1 and 4 workers")
	}
}

// TestSensitivityBreakEvenTextShowsTen: the text report lists the ten nearest break-evens and
// counts the rest.
func TestSensitivityBreakEvenTextShowsTen(t *testing.T) {
	s := &Sensitivity{Move: 0.2, Baseline: "spec", BaselineClears: true}
	for i := range 13 {
		v := 1 + float64(i+1)/10
		s.BreakEvens = append(s.BreakEvens, BreakEven{Input: fmt.Sprintf("price of m%02d", i), Kind: "price", Direction: "up",
			Assumed: 1, Limit: 10, Found: true, Value: &v, Tolerance: 1e-4, Move: v - 1, Recommended: "all-b", RecommendedClears: true, Estimates: 9})
	}
	s.BreakEvens = append(s.BreakEvens, BreakEven{Input: "price of z", Kind: "price", Direction: "up", Assumed: 1, Limit: 10, Estimates: 6})
	var buf bytes.Buffer
	writeSensitivityText(&buf, s)
	out := buf.String()
	if !strings.Contains(out, "price of m09") || strings.Contains(out, "price of m10") {
		t.Errorf("want the ten nearest, m00 to m09:\n%s", out)
	}
	if !strings.Contains(out, "and 3 more, farther (--format json lists them all)") || !strings.Contains(out, "No change within the range for 1 of 14 searches") {
		t.Errorf("the rest are not counted:\n%s", out)
	}
}

// TestBreakEvenThenNoPolicyClears: a break-even past which the recommended policy stays
// recommended but no policy clears any more says so in its own words, not as if the policy
// changed to itself.
func TestBreakEvenThenNoPolicyClears(t *testing.T) {
	v := 1.5
	s := &Sensitivity{Move: 0.2, Baseline: "spec", BaselineClears: true, BreakEvens: []BreakEven{{Input: "latency of strong", Kind: "latency",
		Direction: "up", Assumed: 1, Limit: 10, Found: true, Value: &v, Tolerance: 1e-4, Move: 0.5, Recommended: "spec", RecommendedClears: false, Estimates: 9}}}
	var buf bytes.Buffer
	writeSensitivityText(&buf, s)
	if out := buf.String(); !strings.Contains(out, "spec comes closest, but no policy clears every bar and budget") {
		t.Errorf("the row does not say that no policy clears past the break-even:\n%s", out)
	}
}

// twoCategories routes both categories to b; a clears x's bar, not y's, so cheapest-passing
// (a in x, b in y) is recommended over spec (b in both), which it differs from only in x.
const twoCategories = `version: 1
name: two-categories
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini, price: {input: 1, output: 2}, latency: {p50: 500ms, p95: 1s}, availability: 1}
  b: {provider: sim, model: gpt-4o, price: {input: 2, output: 4}, latency: {p50: 500ms, p95: 1s}, availability: 1}
categories:
  - name: x
    share: 0.5
    tokens: {in: 1000, out: 100}
    quality_bar: 0.85
    latency_budget: 2s
    route: {model: b}
    assume: {pass_rate: {a: 0.9, b: 0.95}}
  - name: y
    share: 0.5
    tokens: {in: 1000, out: 100}
    quality_bar: 0.9
    latency_budget: 2s
    route: {model: b}
    assume: {pass_rate: {a: 0.8, b: 0.95}}
`

// TestSensitivityBreakEvenShareTie: as x's share falls to 0, cheapest-passing and spec, which
// differ only in x, come to the same figures, and recommend keeps spec, the earlier; that tie
// is no break-even. Nor is y's share rising to 1, which takes x's traffic to 0.
func TestSensitivityBreakEvenShareTie(t *testing.T) {
	r := breakEvens(t, twoCategories, Options{})
	if r.Recommended != "cheapest-passing" {
		t.Fatalf("fixture: recommended %s, want cheapest-passing", r.Recommended)
	}
	for _, in := range [][2]string{{"share of x", "down"}, {"share of y", "up"}} {
		if b := findBreakEven(t, r.Sensitivity, in[0], in[1]); b.Found {
			t.Errorf("%s %s: break-even at %v → %s, a tie at the end of the range", in[0], in[1], *b.Value, b.Recommended)
		}
	}
}

// TestBreakEvensDropTheEstimator: the report keeps its estimator (every evaluated cell) only
// for FindBreakEvens, which drops it: a second search fails rather than hold it alive.
func TestBreakEvensDropTheEstimator(t *testing.T) {
	r := breakEvens(t, twoModels, Options{})
	if r.Sensitivity.est != nil || r.Sensitivity.knobs != nil {
		t.Error("the report still holds the estimator after FindBreakEvens")
	}
	if err := FindBreakEvens(context.Background(), r); err == nil {
		t.Error("a second FindBreakEvens on the same report does not fail")
	}
}

// TestBreakEvenFindsRoutesChange: in reroute with a's pass rate in x at 0.93, cheapest-passing
// (a in x, b in y) is recommended over every input's range in these directions, but its route
// in x moves from a to c, which clears too, where a stops clearing (its pass rate below the
// 0.9 bar: failure rate 0.07 to 0.1, +43%), where a costs more than c (a's prices ×3: $0.0036
// a call, c's) and where c costs less than a (c's ×1/3). Each search finds no break-even but
// says where the routes change, within its tolerance, and what they change to; every format
// shows it apart from the break-evens.
func TestBreakEvenFindsRoutesChange(t *testing.T) {
	src := strings.Replace(reroute, "pass_rate: {a: 0.9, c: 0.95, b: 0.97}", "pass_rate: {a: 0.93, c: 0.95, b: 0.97}", 1)
	r := breakEvens(t, src, Options{})
	s := r.Sensitivity
	if s.Baseline != "cheapest-passing" || !s.BaselineClears {
		t.Fatalf("baseline %s (clears %v), want cheapest-passing, clearing", s.Baseline, s.BaselineClears)
	}
	for _, tt := range []struct {
		input, direction string
		want, move       float64
	}{
		{"pass rate of a in x", "down", 0.9, 0.1/0.07 - 1},
		{"price of a", "up", 3, 2},
		{"price of c", "down", 1.0 / 3, -2.0 / 3},
	} {
		b := findBreakEven(t, s, tt.input, tt.direction)
		if b.Found {
			t.Errorf("%s %s: break-even at %v → %s, want none (cheapest-passing stays recommended)", tt.input, tt.direction, *b.Value, b.Recommended)
		}
		c := b.RoutesChange
		if c == nil {
			t.Errorf("%s %s: no change of routes found, want one at %g", tt.input, tt.direction, tt.want)
			continue
		}
		if !slices.Equal(c.Routes, []string{"x: a → c"}) {
			t.Errorf("%s %s: routes past the change %q, want x: a → c", tt.input, tt.direction, c.Routes)
		}
		scale := tt.want
		if b.Complement != "" {
			scale = 1 - tt.want
		}
		if c.Tolerance > RoutesChangeTolerance*scale || math.Abs(c.Value-tt.want) > c.Tolerance+1e-9 {
			t.Errorf("%s %s: routes change at %.6g ± %.2g, want %g within %g", tt.input, tt.direction, c.Value, c.Tolerance, tt.want, RoutesChangeTolerance*scale)
		}
		if math.Abs(c.Move-tt.move) > 2*RoutesChangeTolerance*math.Abs(tt.move) {
			t.Errorf("%s %s: move %.4g, want %.4g", tt.input, tt.direction, c.Move, tt.move)
		}
		if b.Estimates > breakEvenGrid+breakEvenMaxHalvings {
			t.Errorf("%s %s: %d estimates, more than the bound %d", tt.input, tt.direction, b.Estimates, breakEvenGrid+breakEvenMaxHalvings)
		}
	}
	// The spec's own routes never change: no search on a policy that is not derived finds a
	// change of routes.
	for _, b := range breakEvens(t, twoModels, Options{}).Sensitivity.BreakEvens {
		if b.RoutesChange != nil {
			t.Errorf("twoModels, %s %s: routes change %+v, but spec's routes are fixed", b.Input, b.Direction, *b.RoutesChange)
		}
	}

	var text, md, page, js bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	lead := "cheapest-passing keeps its routes while, nearest first (past it, it stays recommended, on other routes):"
	if !strings.Contains(text.String(), "  "+lead+"\n    INPUT") || !regexpMatch(`\n    price of a +≤ ×3 \(\$3/M in, \$6(\.01)?/M out\) +×1 \(\$1/M in, \$2/M out\) +\+200% +x: a → c\n`, text.String()) {
		t.Errorf("the text report does not list the routes' changes:\n%s", text.String())
	}
	if table, _, _ := strings.Cut(text.String(), lead); strings.Contains(table, "price of a") {
		t.Errorf("the text report lists a change of routes among the break-evens:\n%s", text.String())
	}
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), lead+"\n\n| Input | While | Assumed | Move | Routes then |") ||
		!regexpMatch(`\n\| price of a \| ≤ ×3 \(\$3/M in, \$6(\.01)?/M out\) \| ×1 \(\$1/M in, \$2/M out\) \| \+200% \| x: a → c \|\n`, md.String()) {
		t.Errorf("the Markdown report does not list the routes' changes:\n%s", md.String())
	}
	if err := WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), "<p>"+lead+"</p>") || !regexpMatch(`<td>price of a</td><td>≤ ×3 \(\$3/M in, \$6(\.01)?/M out\)</td><td>×1 \(\$1/M in, \$2/M out\)</td><td class="num">&#43;200%</td><td>x: a → c</td>`, page.String()) {
		t.Error("the HTML report does not list the routes' changes")
	}
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Sensitivity struct {
			BreakEvens []struct {
				Input, Direction string
				RoutesChange     map[string]any `json:"routes_change"`
			} `json:"break_evens"`
		} `json:"sensitivity"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, b := range doc.Sensitivity.BreakEvens {
		if b.Input == "price of a" && b.Direction == "up" {
			keys := strings.Join(slices.Sorted(maps.Keys(b.RoutesChange)), ",")
			if want := "detail,relative_move,routes_changed,tolerance,value"; keys != want {
				t.Errorf("price of a, up: routes_change keys %s, want %s", keys, want)
			}
		}
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
