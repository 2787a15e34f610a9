package route

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/learn"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/spec"
)

const scoreBase = `version: 1
name: score-test
review: {last: 2026-11-01, cadence: monthly}
providers: {p: {type: simulated}}
models:
  small:  {provider: p, model: gpt-4o-mini}
  mid:    {provider: p, model: gpt-4.1-mini}
  strong: {provider: p, model: gpt-4o}
categories:
  - name: qa
    share: 1
    tokens: {in: 200, out: 50}
    quality_bar: 0.8
    route:
      score: ROUTE
      validate: [{max_length: 2000}]
    assume: {pass_rate: {small: 0.7, mid: 0.8, strong: 0.9}}
`

func scoreRouter(t *testing.T, dir, route string) (*Router, error) {
	t.Helper()
	file := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(file, []byte(strings.Replace(scoreBase, "ROUTE", route, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := spec.Load(file, spec.Options{})
	if err != nil {
		return nil, err
	}
	return New(s)
}

func planScore(t *testing.T, r *Router, text string) (*clearbar.Decision, *Plan) {
	t.Helper()
	d := &clearbar.Decision{}
	p, err := r.Plan(context.Background(), r.Spec().Category("qa"), input(text), nil, d)
	if err != nil {
		t.Fatal(err)
	}
	return d, p
}

const hardPrompt = "First, explain step by step why the integral of x^2 from 0 to 3 equals 9. Then implement it:\n" +
	"```python\ndef integrate(f, a, b):\n    return sum(f(a + i*(b-a)/1000) for i in range(1000)) * (b-a)/1000\n```\n" +
	"Finally, compare the result with the exact equation and justify the difference. How many steps are needed? Why?"

func TestHeuristicScoreRoute(t *testing.T) {
	r, err := scoreRouter(t, t.TempDir(), "{heuristic: {tiers: [0.2, 0.4]}, models: [small, mid, strong]}")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text, start, plan string
	}{
		{"What is the capital of France?", "small", "small,mid,strong"},
		{hardPrompt, "strong", "strong"},
	} {
		d, p := planScore(t, r, tc.text)
		if d.Score == nil || d.Score.Start != tc.start || d.Score.Router != "heuristic" || d.Score.Rule != "tiers 0.2, 0.4" {
			t.Errorf("%.30q: score %+v, want start %s", tc.text, d.Score, tc.start)
			continue
		}
		if got := strings.Join(d.Plan, ","); got != tc.plan || len(p.Steps) != strings.Count(tc.plan, ",")+1 {
			t.Errorf("%.30q: plan %s, want %s (escalating through the stronger models)", tc.text, got, tc.plan)
		}
		if d.Score.Difficulty <= 0 || d.Score.Difficulty >= 1 {
			t.Errorf("difficulty %v outside (0, 1)", d.Score.Difficulty)
		}
	}
	easy, _ := planScore(t, r, "What is the capital of France?")
	hard, _ := planScore(t, r, hardPrompt)
	if easy.Score.Difficulty >= 0.2 || hard.Score.Difficulty < 0.4 {
		t.Errorf("difficulty easy %.3f, hard %.3f: tiers 0.2 and 0.4 should separate them", easy.Score.Difficulty, hard.Score.Difficulty)
	}
}

// TestScoreEscalate: with escalate, a failed answer of any start goes straight to the named
// models instead of through every stronger one, and a start that is itself among them is not
// tried twice.
func TestScoreEscalate(t *testing.T) {
	r, err := scoreRouter(t, t.TempDir(), "{heuristic: {tiers: [0.2, 0.4]}, models: [small, mid, strong], escalate: [strong]}")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ text, plan string }{
		{"What is the capital of France?", "small,strong"},
		{hardPrompt, "strong"},
	} {
		d, p := planScore(t, r, tc.text)
		if got := strings.Join(d.Plan, ","); got != tc.plan || len(p.Steps) != strings.Count(tc.plan, ",")+1 {
			t.Errorf("%.30q: plan %s, want %s", tc.text, got, tc.plan)
		}
	}
	if got := r.Spec().Category("qa").Route.Score.Describe(); !strings.HasSuffix(got, "small → mid → strong; failed answers escalate to strong") {
		t.Errorf("Describe() = %q", got)
	}
}

func TestHeuristicWeights(t *testing.T) {
	dir := t.TempDir()
	// Only code counts: a math question without code starts on the small model, a code
	// question on the strong one.
	var weights []string
	for _, name := range learn.StructuralNames {
		w := "0"
		if name == "code" {
			w = "1"
		}
		weights = append(weights, name+": "+w)
	}
	r, err := scoreRouter(t, dir, "{heuristic: {tiers: [0.5], weights: {"+strings.Join(weights, ", ")+"}}, models: [small, strong]}")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := planScore(t, r, "Solve the equation: how many integer solutions does x^2 + y^2 = 25 have? Calculate the probability.")
	if d.Score.Start != "small" || d.Score.Difficulty != 0 {
		t.Errorf("math-only prompt with only code weighted: %+v", d.Score)
	}
	d, _ = planScore(t, r, "Fix this:\n```go\nfunc main() {\n\tx := 1;\n\treturn x;\n}\n```\nimport the package and compile it.")
	if d.Score.Start != "strong" {
		t.Errorf("code prompt with only code weighted: %+v", d.Score)
	}
	// The rule names the weights that differ from the defaults, with the defaults, in feature
	// order, and only those.
	if rule := d.Score.Rule; !strings.HasPrefix(rule, "tiers 0.5; weights length 0 (default 0.2), context 0 (default 0.05), lines 0 (default 0.05)") ||
		!strings.Contains(rule, ", code 1 (default 0.2), math 0 (default 0.2),") || strings.Contains(rule, "options") || strings.Contains(rule, "system") {
		t.Errorf("rule %q", rule)
	}
	_, err = scoreRouter(t, dir, "{heuristic: {tiers: [0.5], weights: {cleverness: 1}}, models: [small, strong]}")
	if err == nil || !strings.Contains(err.Error(), `unknown feature cleverness; the features are length`) || !strings.Contains(err.Error(), "spec.yaml:") {
		t.Errorf("unknown weight: %v", err)
	}
}

// plannedScore classifies and plans in into category qa, as the gateway does (the features,
// such as the estimated input tokens, come from Classify), and returns the score.
func plannedScore(t *testing.T, r *Router, in *Input) *clearbar.Score {
	t.Helper()
	d := &clearbar.Decision{}
	if _, err := r.Classify(in, d); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Plan(context.Background(), r.Spec().Category("qa"), in, nil, d); err != nil {
		t.Fatal(err)
	}
	return d.Score
}

// TestHeuristicContextIsThePrompt: the heuristic's context feature is the size of the whole
// prompt, not of the last user message and the system prompt: a short question at the end
// of a long conversation scores as the long request it is.
func TestHeuristicContextIsThePrompt(t *testing.T) {
	history := []clearbar.Message{{Role: "system", Text: "You are a helpful assistant."}}
	for i := range 40 {
		history = append(history,
			clearbar.Message{Role: "user", Text: fmt.Sprintf("Here is part %d of the report. ", i) + strings.Repeat("The committee met on Tuesday and reviewed the budget of the library. ", 36)},
			clearbar.Message{Role: "assistant", Text: "Noted."})
	}
	long := input("Summarize it.")
	long.Request.Messages = append(history, long.Request.Messages...)
	short := input("Summarize it.")
	if n := EstimateTokens(long.Request); n < 25_000 || n > 28_000 {
		t.Fatalf("the conversation has %d tokens, want about 26,600", n)
	}
	if st := heuristicStructure("Summarize it.", "You are a helpful assistant.", EstimateTokens(long.Request)); st[contextFeature] < 0.95 {
		t.Errorf("context feature %.3f of a 26,600-token prompt, want about 1", st[contextFeature])
	}

	r, err := scoreRouter(t, t.TempDir(), "{heuristic: {tiers: [0.35, 0.7]}, models: [small, mid, strong]}")
	if err != nil {
		t.Fatal(err)
	}
	dl, ds := plannedScore(t, r, long).Difficulty, plannedScore(t, r, short).Difficulty
	// The default weight of context is 0.05: the long prompt's feature is about 1 where the
	// short one's is about 0.25.
	if dl-ds < 0.035 {
		t.Errorf("difficulty %.3f with a 26,600-token history, %.3f without: the history should count", dl, ds)
	}
	// Weighted as a spec may weigh it, the context decides the start.
	r, err = scoreRouter(t, t.TempDir(), "{heuristic: {tiers: [0.5], weights: {context: 0.6}}, models: [small, strong]}")
	if err != nil {
		t.Fatal(err)
	}
	if l, s := plannedScore(t, r, long), plannedScore(t, r, short); l.Start != "strong" || s.Start != "small" {
		t.Errorf("with context weighted 0.6: the long conversation starts on %s (%.3f), the short one on %s (%.3f)", l.Start, l.Difficulty, s.Start, s.Difficulty)
	}
}

// TestHeuristicReadsTheEnd: the heuristic reads a long prompt's start and end, as the learned
// routers' features do, so a question after a long document counts as much as one before it,
// and the same few kilobytes are read whatever the length.
func TestHeuristicReadsTheEnd(t *testing.T) {
	doc := strings.Repeat("The river runs past the old mill near the square of the town. ", 320) // 20 KB
	const question = "Explain step by step why the mill closed, and compare it with the bakery. Why?"
	r, err := scoreRouter(t, t.TempDir(), "{heuristic: {tiers: [0.35, 0.7]}, models: [small, mid, strong]}")
	if err != nil {
		t.Fatal(err)
	}
	difficulty := func(text string) float64 { return plannedScore(t, r, input(text)).Difficulty }
	plain, start, end := difficulty(doc), difficulty(question+"\n\n"+doc), difficulty(doc+"\n\n"+question)
	if end < plain+0.25 || math.Abs(end-start) > 0.02 {
		t.Errorf("difficulty of the document %.3f, with the question before it %.3f, after it %.3f: the question should count wherever it is", plain, start, end)
	}
	// The middle of a long text is not read.
	if mid := difficulty(doc[:10_000] + question + doc[10_000:]); math.Abs(mid-plain) > 0.01 {
		t.Errorf("a question in the middle of the document moved its difficulty from %.3f to %.3f", plain, mid)
	}
	if n := testing.AllocsPerRun(100, func() { heuristicStructure(doc, doc, 10_000) }); n != 0 {
		t.Errorf("heuristicStructure allocates %v times per request", n)
	}
}

// TestHeuristicStructureIsLearns: for a text the window holds whole, the heuristic's features
// are learn.Structural's (to float32 precision, as a Featurizer keeps them), but for context.
func TestHeuristicStructureIsLearns(t *testing.T) {
	for _, tc := range []struct{ text, system string }{
		{hardPrompt, ""},
		{"What is 2 + 2?\nA) 3\nB) 4\nC) 5", "Answer with the letter only. Use JSON format."},
		{"", "You are a helpful assistant."},
	} {
		got, want := heuristicStructure(tc.text, tc.system, 0), learn.Structural(tc.text, tc.system)
		for j, name := range learn.StructuralNames {
			if j != contextFeature && float32(got[j]) != float32(want[j]) {
				t.Errorf("%.20q: feature %s is %v, learn.Structural says %v", tc.text, name, got[j], want[j])
			}
		}
	}
}

// trainRouter trains a tiny learned router on synthetic outcomes where the small model passes
// exactly the prompts that mention "capital" and the strong model passes everything.
func trainRouter(t testing.TB, path string) {
	t.Helper()
	var rows []outcomes.Row
	yes, no := true, false
	for i := range 400 {
		easy := i%2 == 0
		text := fmt.Sprintf("Question %d: what is the capital of country %d?", i, i)
		if !easy {
			text = fmt.Sprintf("Question %d: prove the theorem about prime gaps number %d step by step.", i, i)
		}
		item := fmt.Sprintf("q%d", i)
		small := &no
		if easy {
			small = &yes
		}
		rows = append(rows,
			outcomes.Row{Item: item, Category: "qa", Prompt: text, Model: "small", Pass: small},
			outcomes.Row{Item: item, Category: "qa", Prompt: text, Model: "strong", Pass: &yes})
	}
	m, _, err := learn.Train(slices.Values(rows), learn.TrainOptions{Seed: 1, Folds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
}

func TestLearnedScoreRoute(t *testing.T) {
	dir := t.TempDir()
	trainRouter(t, filepath.Join(dir, "router.json"))
	for _, rule := range []string{"threshold: 0.5", "willingness_to_pay: 0.01"} {
		r, err := scoreRouter(t, dir, "{router: router.json, models: [small, strong], "+rule+"}")
		if err != nil {
			t.Fatal(err)
		}
		easy, _ := planScore(t, r, "Question 1001: what is the capital of country 1001?")
		hard, _ := planScore(t, r, "Question 1002: prove the theorem about prime gaps number 1002 step by step.")
		if easy.Score.Start != "small" || hard.Score.Start != "strong" {
			t.Errorf("%s: easy starts on %s (%+v), hard on %s (%+v)", rule, easy.Score.Start, easy.Score.PPass, hard.Score.Start, hard.Score.PPass)
		}
		if len(easy.Score.PPass) != 2 || easy.Score.PPass[0].Model != "small" || easy.Score.PPass[0].P < 0.5 || hard.Score.PPass[0].P > 0.5 {
			t.Errorf("%s: P(pass) easy %+v, hard %+v", rule, easy.Score.PPass, hard.Score.PPass)
		}
		if !strings.HasPrefix(easy.Score.Router, "router.json") || easy.Score.Rule == "" {
			t.Errorf("%s: record names router %q rule %q", rule, easy.Score.Router, easy.Score.Rule)
		}
	}
	// A router that knows nothing of a route's model is an error at the router's line.
	_, err := scoreRouter(t, dir, "{router: router.json, models: [small, mid], threshold: 0.5}")
	if err == nil || !strings.Contains(err.Error(), `no prediction for model "mid"`) || !strings.Contains(err.Error(), "spec.yaml:") {
		t.Errorf("router without the route's model: %v", err)
	}
}

// TestScoreMix: a mixed willingness to pay decides exactly the requests whose text hashes
// below the share (learn.RequestShare, as the evaluation decides them, of a
// bounded part of a long text) with the second value, and the same request the same way
// every time.
func TestScoreMix(t *testing.T) {
	dir := t.TempDir()
	trainRouter(t, filepath.Join(dir, "router.json"))
	// The second value is so low that whatever it decides starts on the cheaper model.
	r, err := scoreRouter(t, dir, "{router: router.json, models: [small, strong], willingness_to_pay: 0.01, mix: {willingness_to_pay: 0.0000001, share: 0.5}}")
	if err != nil {
		t.Fatal(err)
	}
	mixed := 0
	const n = 200
	for i := range n {
		text := fmt.Sprintf("Question %d: prove the theorem about prime gaps number %d step by step.", 3000+i, 3000+i)
		if i%2 == 1 { // a long text, of which a bounded part decides
			text = strings.Repeat("Some context. ", 200) + text
		}
		d, _ := planScore(t, r, text)
		want, which := "strong", " (this request is not)"
		if learn.RequestShare(text) < 0.5 {
			want, which = "small", " (this request is among them)"
			mixed++
		}
		if d.Score.Start != want {
			t.Fatalf("%.40q (share %.3f): starts on %s, want %s", text, learn.RequestShare(text), d.Score.Start, want)
		}
		if again, _ := planScore(t, r, text); again.Score.Start != d.Score.Start {
			t.Fatalf("%q is decided differently the second time", text)
		}
		// The record says which of the two values decided the request.
		if d.Score.Rule != "willingness to pay $0.01 per unit (1.0) of P(pass), $0.000000100 for the 50% of requests the text's hash picks"+which {
			t.Fatalf("%.40q (share %.3f): rule %q", text, learn.RequestShare(text), d.Score.Rule)
		}
	}
	if mixed < 70 || mixed > 130 {
		t.Errorf("%d of %d requests decided by the second value, with share 0.5", mixed, n)
	}
	for _, tc := range []struct{ route, want string }{
		{"{router: router.json, models: [small, strong], threshold: 0.5, mix: {willingness_to_pay: 0.001, share: 0.5}}", "goes with willingness_to_pay, not threshold"},
		{"{router: router.json, models: [small, strong], willingness_to_pay: 0.01, mix: {willingness_to_pay: 0.001, share: 0}}", "score mix share is 0, which decides no request"},
		{"{router: router.json, models: [small, strong], willingness_to_pay: 0.01, mix: {willingness_to_pay: 0, share: 0.5}}", "score mix willingness_to_pay is zero: give what a unit (1.0) of P(pass) is worth in USD, above zero"},
		{"{router: router.json, models: [small, strong], willingness_to_pay: 0, mix: {willingness_to_pay: 0.01, share: 0.5}}", "score willingness_to_pay is zero: give what a unit (1.0) of P(pass) is worth in USD, above zero"},
		{"{router: router.json, models: [small, strong], willingness_to_pay: 0.01, mix: {share: 0.5}}", "score mix needs willingness_to_pay (USD per unit (1.0) of P(pass))"},
	} {
		if _, err := scoreRouter(t, dir, tc.route); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "spec.yaml:") {
			t.Errorf("%s: %v; want %q at the spec's line", tc.route, err, tc.want)
		}
	}
}

func BenchmarkScorePlan(b *testing.B) {
	dir := b.TempDir()
	trainRouter(b, filepath.Join(dir, "router.json"))
	long := strings.Repeat(hardPrompt, 12) // about 5 KB
	for _, tc := range []struct{ name, route, text string }{
		{"heuristic", "{heuristic: {tiers: [0.2, 0.4]}, models: [small, mid, strong]}", hardPrompt},
		{"learned", "{router: router.json, models: [small, strong], willingness_to_pay: 0.01}", hardPrompt},
		{"learned-5KB", "{router: router.json, models: [small, strong], willingness_to_pay: 0.01}", long},
		{"learned-mix", "{router: router.json, models: [small, strong], willingness_to_pay: 0.01, mix: {willingness_to_pay: 0.05, share: 0.3}}", hardPrompt},
	} {
		b.Run(tc.name, func(b *testing.B) { benchPlan(b, dir, tc.route, input(tc.text)) })
	}
}

// BenchmarkScorePlanLong is BenchmarkScorePlan on long prompts: a score route reads a bounded
// window of each text (see heuristicStructure) and hashes a bounded part of it for score.mix
// (learn.RequestShare), so its cost should not grow with the prompt.
func BenchmarkScorePlanLong(b *testing.B) {
	dir := b.TempDir()
	trainRouter(b, filepath.Join(dir, "router.json"))
	sized := func(n int) string { return strings.Repeat(hardPrompt, n/len(hardPrompt)+1)[:n] }
	withSystem := func(n int) *Input {
		in := input(sized(n))
		in.Request.Messages = append([]clearbar.Message{{Role: "system", Text: sized(n)}}, in.Request.Messages...)
		return in
	}
	const (
		heuristic = "{heuristic: {tiers: [0.2, 0.4]}, models: [small, mid, strong]}"
		mix       = "{router: router.json, models: [small, strong], willingness_to_pay: 0.01, mix: {willingness_to_pay: 0.05, share: 0.3}}"
	)
	for _, tc := range []struct {
		name, route string
		in          *Input
	}{
		{"heuristic-5KB", heuristic, input(sized(5_000))},
		{"heuristic-16KB", heuristic, input(sized(16_384))},
		{"heuristic-100KB", heuristic, input(sized(100_000))},
		{"heuristic-5KB+system-5KB", heuristic, withSystem(5_000)},
		{"heuristic-100KB+system-100KB", heuristic, withSystem(100_000)},
		{"learned-mix-5KB", mix, input(sized(5_000))},
		{"learned-mix-100KB", mix, input(sized(100_000))},
		{"learned-mix-100KB+system-100KB", mix, withSystem(100_000)},
	} {
		b.Run(tc.name, func(b *testing.B) { benchPlan(b, dir, tc.route, tc.in) })
	}
}

// benchPlan measures planning in for category qa of scoreBase routed by route (routers in dir).
func benchPlan(b *testing.B, dir, route string, in *Input) {
	file := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(file, []byte(strings.Replace(scoreBase, "ROUTE", route, 1)), 0o644); err != nil {
		b.Fatal(err)
	}
	s, err := spec.Load(file, spec.Options{})
	if err != nil {
		b.Fatal(err)
	}
	r, err := New(s)
	if err != nil {
		b.Fatal(err)
	}
	c := s.Category("qa")
	b.ReportAllocs()
	for b.Loop() {
		d := clearbar.Decision{}
		if _, err := r.Plan(context.Background(), c, in, nil, &d); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDecisionCostKeepsTheTier: a score route prices a request at the input price of its own
// size: the base price under a model's long-context threshold, the tier's above it.
func TestDecisionCostKeepsTheTier(t *testing.T) {
	s, err := spec.Parse([]byte(`version: 1
name: tier
providers: {sim: {type: simulated}}
models:
  long: {provider: sim, model: gemini/gemini-2.5-pro, latency: {p50: 1s, p95: 2s}}
categories:
  - {name: c, share: 1, tokens: {in: 1000, out: 100}, quality_bar: 0.5, route: {model: long}, assume: {pass_rate: {long: 0.9}}}
`), "tier.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := s.Model("long")
	e := m.Resolved.Prices
	if e.TierThreshold != 200_000 || e.InputAbove == e.Input {
		t.Fatal("gemini-2.5-pro has no 200k tier in the catalogue: pick another model")
	}
	d := NewDecisionCost(s.Category("c"), m)
	for _, in := range []int{1_000, 300_000} {
		if got, want := d.USD(in), e.RequestCost(int64(in), 0, 100, 0).USD(); math.Abs(got-want) > 1e-9 {
			t.Errorf("%d input tokens: %v, want %v", in, got, want)
		}
	}
}
