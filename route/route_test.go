package route

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

const base = `version: 1
name: route-test
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers: {p: {type: simulated}, q: {type: simulated}}
models:
  small:  {provider: p, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}, context_window: 2000}
  mid:    {provider: p, model: gpt-4.1-mini, latency: {p50: 1s, p95: 2s}, fallback: [mid-q]}
  mid-q:  {provider: q, model: gpt-4.1-mini, latency: {p50: 1s, p95: 2s}}
  strong: {provider: q, model: gpt-4o, latency: {p50: 1s, p95: 2s}}
categories:
  - name: a
    share: 0.25
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {cascade: [small, strong]}
    fallback: [mid]
    assume: {pass_rate: {small: 0.9, strong: 0.9, mid: 0.9, mid-q: 0.9}}
    match: {when: 'tools', priority: 1}
  - name: b
    share: 0.25
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: mid}
    assume: {pass_rate: {mid: 0.9, mid-q: 0.9}}
    match: {when: 'tokens_in > 100 && tier == "pro"', priority: 1}
  - name: c
    share: 0.25
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route:
      split:
        - {weight: 0.8, model: small}
        - {weight: 0.2, model: strong}
    assume: {pass_rate: {small: 0.9, strong: 0.9}}
    match: {when: 'headers["x-feature"] == "c" || metadata["feature"] == "c"', priority: 2}
  - name: d
    default: true
    share: 0.25
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: strong}
    assume: {pass_rate: {strong: 0.9}}
`

func newRouter(t testing.TB, src string) *Router {
	t.Helper()
	s, err := spec.Parse([]byte(src), "route.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func input(text string) *Input {
	return &Input{Request: &clearbar.Request{Model: "m", Messages: []clearbar.Message{{Role: "user", Text: text}}}, Header: http.Header{}}
}

func TestClassifyOrder(t *testing.T) {
	r := newRouter(t, base)
	long := strings.Repeat("x", 800)
	for _, tc := range []struct {
		name string
		in   func() *Input
		want string
		by   string
	}{
		{"no rule fires: the default", func() *Input { return input("hi") }, "d", "default category"},
		{"higher priority first", func() *Input {
			in := input(long)
			in.Tier = "pro"
			in.Request.Metadata = map[string]string{"feature": "c"}
			return in
		}, "c", "rule of c"},
		{"equal priorities go in file order, not by name", func() *Input {
			in := input(long)
			in.Tier = "pro"
			in.Request.Tools = []clearbar.Tool{{Name: "f"}}
			return in
		}, "a", "rule of a"},
		{"headers are readable by rules", func() *Input {
			in := input("hi")
			in.Header.Set("X-Feature", "c")
			return in
		}, "c", "rule of c"},
		{"the alias beats rules", func() *Input {
			in := input("hi")
			in.Request.Model = "clearbar/b"
			in.Request.Tools = []clearbar.Tool{{Name: "f"}}
			return in
		}, "b", "model alias clearbar/b"},
	} {
		d := &clearbar.Decision{}
		c, err := r.Classify(tc.in(), d)
		if err != nil || c.Name != tc.want || !strings.HasPrefix(d.CategoryBy, tc.by) {
			t.Errorf("%s: got %v by %q (err %v), want %s by %q", tc.name, c.Name, d.CategoryBy, err, tc.want, tc.by)
		}
	}
}

func TestRuleCompileErrorsNameTheLine(t *testing.T) {
	src := strings.Replace(base, `match: {when: 'tools', priority: 1}`, `match: {when: 'tools &&& x', priority: 1}`, 1)
	s, err := spec.Parse([]byte(src), "route.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(s)
	if err == nil || !strings.HasPrefix(err.Error(), "route.yaml:") || !strings.Contains(err.Error(), `category "a" rule`) {
		t.Errorf("error %v", err)
	}
	line := strings.Count(src[:strings.Index(src, "tools &&&")], "\n") + 1
	if !strings.HasPrefix(err.Error(), "route.yaml:"+strconv.Itoa(line)+":") {
		t.Errorf("error %q should name line %d", err, line)
	}
	src = strings.Replace(base, `match: {when: 'tools', priority: 1}`, `match: {when: 'tokens > 3', priority: 1}`, 1)
	s, _ = spec.Parse([]byte(src), "route.yaml", spec.Options{})
	if _, err := New(s); err == nil || !strings.Contains(err.Error(), "unknown name tokens") {
		t.Errorf("an unknown identifier must be a compile error: %v", err)
	}
}

func TestPlanChains(t *testing.T) {
	r := newRouter(t, base)
	s := r.Spec()
	d := &clearbar.Decision{}
	in := input("hi")
	p, err := r.Plan(context.Background(), s.Category("a"), in, nil, d)
	if err != nil {
		t.Fatal(err)
	}
	// Step 1: small, then the category fallback mid and mid's own fallback mid-q (strong is a
	// later step, so it is not a failover target). Step 2: strong, then mid, mid-q.
	got := strings.Join(d.Plan, ",")
	if got != "small,mid,mid-q,strong,mid,mid-q" || len(p.Steps) != 2 {
		t.Errorf("plan %s (%d steps)", got, len(p.Steps))
	}
}

type openBreakers map[string]bool

func (o openBreakers) Open(key string) (bool, string) { return o[key], "breaker open" }

func TestPlanSkipsAndFailsOpen(t *testing.T) {
	r := newRouter(t, base)
	s := r.Spec()
	d := &clearbar.Decision{}
	p, err := r.Plan(context.Background(), s.Category("b"), input("hi"), openBreakers{"p/mid": true}, d)
	if err != nil || len(p.Steps) != 1 || p.Steps[0].Candidates[0].Name != "mid-q" || len(d.Skipped) != 1 {
		t.Errorf("open breaker: plan %v skipped %v err %v", d.Plan, d.Skipped, err)
	}
	d = &clearbar.Decision{}
	p, err = r.Plan(context.Background(), s.Category("b"), input("hi"), openBreakers{"p/mid": true, "q/mid-q": true}, d)
	if err != nil || p.Steps[0].Candidates[0].Name != "mid" || !strings.Contains(d.Skipped[len(d.Skipped)-1].Reason, "trying it anyway") {
		t.Errorf("every breaker open must fail open: plan %v skipped %v err %v", d.Plan, d.Skipped, err)
	}
	// Context window: small takes 2,000 tokens; a 3,000-token request skips it in both arms.
	d = &clearbar.Decision{}
	in := input(strings.Repeat("abcd", 3000))
	d.Features.TokensIn = EstimateTokens(in.Request)
	p, err = r.Plan(context.Background(), s.Category("a"), in, nil, d)
	if err != nil || p.Steps[0].Candidates[0].Name != "mid" || !strings.Contains(d.Skipped[0].Reason, "context window 2000") {
		t.Errorf("context window: plan %v skipped %v err %v", d.Plan, d.Skipped, err)
	}
}

// TestPlanKeepsPositions: a plan that left models out keeps each step's place in the route and
// each candidate's place in its failover chain, which say what calling it is (a fallback, not
// the primary, when the primary's breaker is open; an escalation when a cascade's first step
// is gone).
func TestPlanKeepsPositions(t *testing.T) {
	r := newRouter(t, base)
	s := r.Spec()
	type place struct {
		model     string
		step, pos int
	}
	places := func(p *Plan) []place {
		var out []place
		for _, st := range p.Steps {
			for i, m := range st.Candidates {
				out = append(out, place{m.Name, st.Index, st.Position(i)})
			}
		}
		return out
	}
	tests := []struct {
		explanation, category string
		open                  openBreakers
		want                  []place
	}{
		{"nothing left out: the route's own places", "a", nil,
			[]place{{"small", 0, 0}, {"mid", 0, 1}, {"mid-q", 0, 2}, {"strong", 1, 0}, {"mid", 1, 1}, {"mid-q", 1, 2}}},
		{"the primary's breaker is open: its fallback keeps place 1", "b", openBreakers{"p/mid": true},
			[]place{{"mid-q", 0, 1}}},
		{"a fallback in the middle of the chain is left out", "a", openBreakers{"p/mid": true},
			[]place{{"small", 0, 0}, {"mid-q", 0, 2}, {"strong", 1, 0}, {"mid-q", 1, 2}}},
		{"the cascade's first step is gone: the second keeps index 1", "a", openBreakers{"p/small": true, "p/mid": true, "q/mid-q": true},
			[]place{{"strong", 1, 0}}},
		{"every breaker open: the candidate tried anyway keeps its place", "b", openBreakers{"p/mid": true, "q/mid-q": true},
			[]place{{"mid", 0, 0}}},
	}
	// A model left out because the request is too large for it is as if the route did not
	// list it: the next model is the primary, not a fallback.
	in := input(strings.Repeat("abcd", 3000)) // above small's 2,000 tokens
	d := &clearbar.Decision{}
	d.Features.TokensIn = EstimateTokens(in.Request)
	p, err := r.Plan(context.Background(), s.Category("a"), in, nil, d)
	if err != nil {
		t.Fatal(err)
	}
	if got := places(p); len(got) == 0 || got[0] != (place{"mid", 0, 0}) {
		t.Errorf("the primary's context window is too small: places %v, want mid first at step 0, place 0", got)
	}
	for _, tt := range tests {
		d := &clearbar.Decision{}
		var h Health
		if tt.open != nil {
			h = tt.open
		}
		p, err := r.Plan(context.Background(), s.Category(tt.category), input("hi"), h, d)
		if err != nil {
			t.Fatalf("%s: %v", tt.explanation, err)
		}
		if got := places(p); !slices.Equal(got, tt.want) {
			t.Errorf("%s: places %v, want %v", tt.explanation, got, tt.want)
		}
	}
}

func TestPlanContextTooLong(t *testing.T) {
	src := strings.Replace(base, "strong: {provider: q, model: gpt-4o,", "strong: {provider: q, model: gpt-4o, context_window: 2000,", 1)
	r := newRouter(t, src)
	d := &clearbar.Decision{}
	in := input(strings.Repeat("abcd", 3000))
	d.Features.TokensIn = EstimateTokens(in.Request)
	_, err := r.Plan(context.Background(), r.Spec().Category("d"), in, nil, d)
	if clearbar.ClassOf(err) != clearbar.ContextTooLong {
		t.Errorf("err %v", err)
	}
}

func TestSplitWeights(t *testing.T) {
	r := newRouter(t, base)
	c := r.Spec().Category("c")
	n, small := 20000, 0
	for range n {
		d := &clearbar.Decision{}
		p, err := r.Plan(context.Background(), c, input("hi"), nil, d)
		if err != nil {
			t.Fatal(err)
		}
		if p.Steps[0].Candidates[0].Name == "small" {
			small++
		}
		if d.Arm == "" || p.Arm < 0 {
			t.Fatal("a split decision must name its arm")
		}
	}
	share := float64(small) / float64(n)
	if se := math.Sqrt(0.8 * 0.2 / float64(n)); math.Abs(share-0.8) > 5*se {
		t.Errorf("arm 1 got %.3f of traffic, want 0.8", share)
	}
}

func TestEstimateTokens(t *testing.T) {
	req := &clearbar.Request{Messages: []clearbar.Message{
		{Role: "system", Text: strings.Repeat("a", 400)},
		{Role: "user", Text: strings.Repeat("b", 40), Attachments: []clearbar.Attachment{{Type: "image_url"}}},
	}}
	if got, want := EstimateTokens(req), 100+4+10+4+765; got != want {
		t.Errorf("EstimateTokens = %d, want %d", got, want)
	}
}

// BenchmarkClassifyPlan is the routing decision for a rule route: features, every rule
// evaluated, and a plan. Target: ≤ 5 µs and ≤ 10 allocations.
func BenchmarkClassifyPlan(b *testing.B) {
	r := newRouter(b, base)
	in := input(strings.Repeat("Where is my order? ", 20))
	in.Tier = "pro"
	in.Request.Metadata = map[string]string{"feature": "x"}
	d := &clearbar.Decision{Rules: make([]clearbar.RuleResult, 0, 8)}
	b.ReportAllocs()
	for b.Loop() {
		d.Rules = d.Rules[:0]
		d.Skipped = d.Skipped[:0]
		c, err := r.Classify(in, d)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Plan(context.Background(), c, in, nil, d); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPlanMaxOutput: a model that writes fewer tokens than the request's max tokens (its
// catalogue's, or the spec's max_output) is left out, as one whose context window is too
// small: the vendors refuse such a request rather than cut it short. When no model on the
// route writes that many, the client gets a 400 naming the parameter it sent.
func TestPlanMaxOutput(t *testing.T) {
	src := strings.NewReplacer(
		"model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}, context_window: 2000}", "model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}, context_window: 2000, max_output: 1000}",
		"strong: {provider: q, model: gpt-4o,", "strong: {provider: q, model: gpt-4o, max_output: 1500,",
	).Replace(base)
	r := newRouter(t, src)
	a := r.Spec().Category("a") // cascade small → strong, fallback mid
	in := input("hi")
	in.Request.MaxTokens = 1200
	d := &clearbar.Decision{}
	p, err := r.Plan(context.Background(), a, in, nil, d)
	if err != nil || p.Steps[0].Candidates[0].Name != "mid" || !slices.ContainsFunc(d.Skipped, func(s clearbar.Skip) bool {
		return s.Model == "small" && s.Reason == "maximum output 1000 tokens < max tokens 1200"
	}) {
		t.Errorf("max tokens 1200: plan %v skipped %v err %v; want small left out, mid first", d.Plan, d.Skipped, err)
	}
	d = &clearbar.Decision{}
	in.Request.MaxTokens = 1000
	if p, err := r.Plan(context.Background(), a, in, nil, d); err != nil || p.Steps[0].Candidates[0].Name != "small" {
		t.Errorf("max tokens 1000: plan %v err %v; want small first", d.Plan, err)
	}
	// Category d's route is strong alone. An Anthropic client's max_tokens reaches the router
	// as max_completion_tokens, in a body with the Anthropic sidecar (the ingress translates
	// it), and is named as it was sent.
	for _, tc := range []struct{ body, param string }{
		{`{"max_tokens": 2000}`, "max_tokens"},
		{`{"max_completion_tokens": 2000}`, "max_completion_tokens"},
		{`{"max_completion_tokens": 2000, "clearbar_anthropic": {}}`, "max_tokens"},
	} {
		in := input("hi")
		in.Request.MaxTokens, in.Request.Body = 2000, []byte(tc.body)
		_, err := r.Plan(context.Background(), r.Spec().Category("d"), in, nil, &clearbar.Decision{})
		var e *clearbar.Error
		want := tc.param + ` is 2000, more than any model on category "d"'s route writes (the most is 1500 tokens): lower it`
		if !errors.As(err, &e) || e.Status != 400 || e.Param != tc.param || e.Code != "invalid_value" || e.Message != want {
			t.Errorf("%s: err %+v, want a 400 on %s: %s", tc.body, err, tc.param, want)
		}
	}
	// Category a: small's window is too small for a long request, and strong (with mid, the
	// fallback) writes too little for its max tokens. The error names both, and is not a
	// context-length error: strong's window holds the request.
	src = strings.Replace(src, "mid:    {provider: p, model: gpt-4.1-mini,", "mid:    {provider: p, model: gpt-4.1-mini, max_output: 1000,", 1)
	src = strings.Replace(src, "mid-q:  {provider: q, model: gpt-4.1-mini,", "mid-q:  {provider: q, model: gpt-4.1-mini, max_output: 1000,", 1)
	r = newRouter(t, src)
	long := input(strings.Repeat("abcd", 1500))
	long.Request.MaxTokens, long.Request.Body = 1600, []byte(`{"max_tokens": 1600}`)
	d = &clearbar.Decision{}
	d.Features.TokensIn = EstimateTokens(long.Request)
	_, err = r.Plan(context.Background(), r.Spec().Category("a"), long, nil, d)
	var e *clearbar.Error
	if !errors.As(err, &e) || e.Class != clearbar.ClientError || e.Param != "max_tokens" || !strings.Contains(e.Message, "some write fewer tokens than its max_tokens of 1600 (the most is 1500), the others are too small for its about") {
		t.Errorf("too small and writing too little: err %+v", err)
	}
}

// TestRuleRunErrorOneLine: a rule that fails at run time (here int() of a missing metadata
// value) does not fire, and the decision records why on one line, with the column, so that it
// fits the rules table of explain.
func TestRuleRunErrorOneLine(t *testing.T) {
	src := strings.Replace(base, `match: {when: 'tools', priority: 1}`, `match: {when: 'int(metadata["n"]) > 5', priority: 1}`, 1)
	r := newRouter(t, src)
	d := &clearbar.Decision{}
	c, err := r.Classify(input("hi"), d)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "d" {
		t.Errorf("category %q, want the default d", c.Name)
	}
	i := slices.IndexFunc(d.Rules, func(r clearbar.RuleResult) bool { return r.Category == "a" })
	if i < 0 {
		t.Fatalf("rule of a not recorded: %+v", d.Rules)
	}
	res := d.Rules[i]
	if res.Fired || res.Error == "" {
		t.Fatalf("rule of a: fired %v, error %q; want an error and not fired", res.Fired, res.Error)
	}
	if strings.Contains(res.Error, "\n") || !strings.Contains(res.Error, "(column 1)") {
		t.Errorf("error %q: want one line naming the column", res.Error)
	}
}

// TestMatchValuesInNameOrder: a request that carries two of a category's header values is
// recorded as matched by the first in name order, every time.
func TestMatchValuesInNameOrder(t *testing.T) {
	src := strings.Replace(base, `match: {when: 'tools', priority: 1}`, `match: {header: {X-Team-B: b, X-Team-A: a, X-Team-C: c, X-Team-D: d}}`, 1)
	r := newRouter(t, src)
	for range 50 {
		in := input("hi")
		for _, h := range []string{"X-Team-D", "X-Team-C", "X-Team-B", "X-Team-A"} {
			in.Header.Set(h, strings.ToLower(h[len(h)-1:]))
		}
		d := &clearbar.Decision{}
		if _, err := r.Classify(in, d); err != nil {
			t.Fatal(err)
		}
		if want := spec.ReasonHeader("X-Team-A", "a"); d.Category != "a" || d.CategoryBy != want {
			t.Fatalf("category %q by %q, want a by %q", d.Category, d.CategoryBy, want)
		}
	}
}

// TestWithArm: under WithArm a split route takes the arm asked for, every time.
func TestWithArm(t *testing.T) {
	r := newRouter(t, base)
	c := r.Spec().Category("c")
	for arm, want := range []string{"small", "strong"} {
		for range 200 {
			d := &clearbar.Decision{}
			p, err := r.Plan(WithArm(context.Background(), arm), c, input("hi"), nil, d)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Steps[0].Candidates[0].Name; got != want || p.Arm != arm {
				t.Fatalf("arm %d: plan starts on %s (arm %d), want %s", arm, got, p.Arm, want)
			}
		}
	}
}

// TestTimeRuleIsNotConstant: a rule over the time of the request (now()) reads no request
// field, yet its value changes: it is not reported as always or never firing.
func TestTimeRuleIsNotConstant(t *testing.T) {
	for _, when := range []string{`now().Hour() < 0`, `now().Hour() >= 0`, `now() > date("2020-01-01")`} {
		src := strings.Replace(base, `match: {when: 'tools', priority: 1}`, `match: {when: '`+when+`', priority: 1}`, 1)
		r := newRouter(t, src)
		for _, ru := range r.Rules() {
			if ru.Category == "a" && ru.Constant != nil {
				t.Errorf("%s: constant %v, want it evaluated per request", when, *ru.Constant)
			}
		}
	}
}

// TestRuleHeaderNameCase: headers are read by lower-case name; a rule that spells one
// otherwise could never fire, so it does not load, and the error gives the spelling to use.
func TestRuleHeaderNameCase(t *testing.T) {
	src := strings.Replace(base, `match: {when: 'tools', priority: 1}`, `match: {when: 'headers["X-Team"] == "legal"', priority: 1}`, 1)
	s, err := spec.Parse([]byte(src), "route.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(s)
	var se spec.Errors
	if !errors.As(err, &se) || len(se) != 1 || se[0].Line != s.Category("a").Match.WhenLine() || !strings.Contains(se[0].Msg, `write headers["x-team"]`) {
		t.Errorf("err %v: want the rule's line and the lower-case name", err)
	}
	ok := strings.Replace(base, `match: {when: 'tools', priority: 1}`, `match: {when: 'headers["x-team"] == "legal"', priority: 1}`, 1)
	r := newRouter(t, ok)
	in := input("hi")
	in.Header.Set("X-Team", "legal")
	d := &clearbar.Decision{}
	if c, err := r.Classify(in, d); err != nil || c.Name != "a" {
		t.Errorf("category %v, err %v: want a", c, err)
	}
}
