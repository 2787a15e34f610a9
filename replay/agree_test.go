package replay_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/replay"
	"github.com/clearbar/clearbar/spec"
)

// TestSpecRouteAgree replays a cascade whose first step is checked by agree on a table built
// here: the check compares mixtral's recorded answer with yi's recorded answer to the same
// item, whatever order the rows come in, and the cost and latency of yi's row count whenever
// the check runs; with the assumed validator strength instead, every validation pays for yi's
// row.
//
//	item  mixtral        yi             gpt4        the check             delivered
//	q1    B (pass)       "(B)"          B (pass)    agrees: accepted      mixtral, good
//	q2    C (fail)       B              B (pass)    disagrees: escalates  gpt4, good
//	q3    A (pass)       (no row)       A (pass)    unverified: escalates gpt4, good
//	q4    D (fail)       D              B (pass)    agrees: accepted      mixtral, bad
//	q5    "A or B"       B              B (pass)    no key: escalates,    gpt4, good
//	      (fail)                                    yi's row not used
func TestSpecRouteAgree(t *testing.T) {
	s, err := spec.Parse([]byte(`version: 1
name: agree
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers: {sim: {type: simulated}}
models:
  mixtral: {provider: sim, model: gpt-4.1-nano, latency: {p50: 300ms, p95: 900ms}}
  yi: {provider: sim, model: gpt-4.1-mini, latency: {p50: 500ms, p95: 1.5s}}
  gpt4: {provider: sim, model: gpt-4.1, latency: {p50: 1.2s, p95: 4s}}
categories:
  - name: arc
    share: 1
    tokens: {in: 300, out: 5}
    quality_bar: 0.7
    route:
      cascade: [{model: mixtral, validate: [{agree: {model: yi, answer: choice}}]}, gpt4]
    assume:
      pass_rate: {mixtral: 0.7, gpt4: 0.95}
      validator: {detect: 0.9, false_alarm: 0.1}
`), "agree.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const question = "Which gas do plants take in?\nA) oxygen\nB) carbon dioxide\nC) nitrogen\nD) helium\nAnswer:"
	// Costs in micro-dollars and latencies in milliseconds, distinct per model.
	const (
		mCost, yCost, gCost = 10, 30, 200
		mLat, yLat, gLat    = 100, 400, 2000
	)
	r := func(item, model, answer string, pass bool) outcomes.Row {
		cost := map[string]float64{"mixtral": mCost, "yi": yCost, "gpt4": gCost}[model]
		lat := map[string]float64{"mixtral": mLat, "yi": yLat, "gpt4": gLat}[model]
		return outcomes.Row{Item: item, Category: "arc", Prompt: question, Model: model, Response: answer, Pass: &pass,
			Cost: clearbar.MoneyFromUSD(cost / 1e6), LatencyMS: lat}
	}
	rows := []outcomes.Row{
		r("q1", "yi", "(B)", true), // the checker's row before the answer it checks
		r("q1", "mixtral", "B", true),
		r("q1", "gpt4", "B", true),
		r("q2", "mixtral", "C", false),
		r("q2", "gpt4", "B", true),
		r("q3", "mixtral", "A", true),
		r("q3", "gpt4", "A", true),
		r("q4", "mixtral", "D", false),
		r("q4", "yi", "D", false),
		r("q4", "gpt4", "B", true),
		r("q5", "mixtral", "A or B", false),
		r("q5", "yi", "B", true),
		r("q5", "gpt4", "B", true),
		r("q2", "yi", "B", true), // the checker's row after every other row of the table
	}
	usd := func(micro float64) clearbar.Money { return clearbar.MoneyFromUSD(micro / 1e6) }
	wantCost := usd(mCost+yCost) + usd(mCost+yCost) + usd(gCost) + usd(mCost) + usd(gCost) + usd(mCost+yCost) + usd(mCost) + usd(gCost)
	lats := []float64{mLat + yLat, mLat + yLat + gLat, mLat + gLat, mLat + yLat, mLat + gLat}
	var wantLat float64
	for _, l := range lats {
		wantLat += l / float64(len(lats))
	}
	const name = "spec: mixtral → gpt4 (validators)"
	for _, order := range []string{"as listed", "reversed"} {
		rs := slices.Clone(rows)
		if order == "reversed" {
			slices.Reverse(rs)
		}
		rep, err := replay.Run(context.Background(), s, source(rs), replay.Options{Category: "arc"})
		if err != nil {
			t.Fatal(err)
		}
		got := rep.Result(name)
		if got == nil {
			t.Fatalf("%s: no %q; results %v; notes %v", order, name, names(rep.All()), rep.Notes)
		}
		if got.Items != 5 || got.Quality != 4.0/5 || got.Escalation != 3.0/5 || got.Cost != wantCost {
			t.Errorf("%s: items %d quality %v escalation %v cost %v; want 5, 0.8, 0.6, %v (yi's rows counted where the check ran)",
				order, got.Items, got.Quality, got.Escalation, got.Cost, wantCost)
		}
		if got.LatencyItems != 5 || math.Abs(got.LatencyMeanMS-wantLat) > 1e-9 {
			t.Errorf("%s: latency over %d items, mean %v ms; want 5 and %v (yi's latency added after mixtral's where it checked)", order, got.LatencyItems, got.LatencyMeanMS, wantLat)
		}
		if got.Calls["yi"] != 0 || got.Calls["mixtral"] != 1 || got.Calls["gpt4"] != 3.0/5 {
			t.Errorf("%s: calls %v: the checker's calls are validation, not a step of the route", order, got.Calls)
		}
		// With the assumed strength (detect 0.9, false alarm 0.1) every validation pays for
		// yi's row too; q3, without one, is skipped. mixtral passes on q1 only, so it
		// escalates with probability 0.1 there and 0.9 on q2, q4 and q5.
		assumed := rep.Result("spec: mixtral → gpt4 (assumed d=0.9 f=0.1)")
		esc := 0.1 + 3*0.9
		if assumed == nil || assumed.Items != 4 || assumed.Skipped != 1 ||
			math.Abs(assumed.CostUSD()*4-(4*(mCost+yCost)+esc*gCost)/1e6) > 1e-12 ||
			math.Abs(assumed.LatencyMeanMS-(mLat+yLat+esc/4*gLat)) > 1e-9 || math.Abs(assumed.Quality-(1+3*0.9)/4) > 1e-12 {
			t.Errorf("%s: assumed-strength route %+v: want 4 items (q3 skipped), yi's cost and latency at every validation", order, assumed)
		}
		// The generic cascade of the table's cheapest and best models validates as the
		// category does, so every validation pays for yi's row too: gpt4's answers included.
		generic := rep.Result("cascade mixtral → gpt4 (d=0.9 f=0.1)")
		if generic == nil || generic.Items != 4 || math.Abs(generic.CostUSD()*4-(4*(mCost+yCost)+esc*(gCost+yCost))/1e6) > 1e-12 {
			t.Errorf("%s: generic cascade %+v: want 4 items and yi's cost at every validation", order, generic)
		}
		if !slices.ContainsFunc(rep.Notes, func(n string) bool {
			return strings.HasPrefix(n, name+": 1 agreement check with yi found no recorded answer of the checking model to the item")
		}) {
			t.Errorf("%s: no note counting the check without yi's row (q3): %v", order, rep.Notes)
		}
	}
}

// TestSpecRouteUsesRecordedVerdicts: rows from decision records carry no answer text unless the
// category records it, but they carry the gateway's verdicts: the spec's validated cascade is
// replayed on those (escalating where they failed), and the report says so; rows with neither
// text nor the verdicts of the route's own validators are validated as empty answers, and the
// report says that too.
func TestSpecRouteUsesRecordedVerdicts(t *testing.T) {
	s, err := spec.Parse([]byte(`version: 1
name: verdicts
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers: {sim: {type: simulated}}
models:
  mini: {provider: sim, model: gpt-4.1-mini}
  strong: {provider: sim, model: gpt-4.1}
categories:
  - name: chat
    share: 1
    tokens: {in: 100, out: 50}
    quality_bar: 0.7
    route: {cascade: [mini, strong], validate: [{max_length: 2000}]}
    assume: {pass_rate: {mini: 0.7, strong: 0.95}, validator: {detect: 0.9, false_alarm: 0.1}}
`), "verdicts.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var rows []outcomes.Row
	for i := range 30 {
		item := fmt.Sprint("d", i)
		ok := i%3 != 0
		mini := outcomes.Row{Item: item, Category: "chat", PromptHash: item, Model: "gpt-4.1-mini", Pass: &ok, Cost: 1000, Source: outcomes.SourceTrace,
			Verdicts: []clearbar.Verdict{{Validator: "at most 2000 characters", Pass: ok}}}
		yes := true
		strong := outcomes.Row{Item: item, Category: "chat", PromptHash: item, Model: "gpt-4.1", Pass: &yes, Cost: 10_000, Source: outcomes.SourceTrace,
			Verdicts: []clearbar.Verdict{{Validator: "at most 2000 characters", Pass: true}}}
		rows = append(rows, mini, strong)
	}
	const name = "spec: mini → strong (validators)"
	rep, err := replay.Run(context.Background(), s, source(rows), replay.Options{Category: "chat"})
	if err != nil {
		t.Fatal(err)
	}
	got := rep.Result(name)
	if got == nil || got.Quality != 1 || got.Escalation != 10.0/30 {
		t.Fatalf("%+v; want quality 1 and escalation 1/3: the recorded verdicts escalate mini's failures (results %v)", got, names(rep.All()))
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.HasPrefix(n, name+": 60 answers recorded no answer text") }) {
		t.Errorf("no note on the recorded verdicts: %v", rep.Notes)
	}
	// Recorded traffic has strong's row only where the gateway escalated: the spec's cascade is
	// still replayed on every item, each needing the rows of the steps it reaches.
	var traced []outcomes.Row
	for _, r := range rows {
		if r.Model == "gpt-4.1-mini" || !*rows[slices.IndexFunc(rows, func(m outcomes.Row) bool { return m.Item == r.Item && m.Model == "gpt-4.1-mini" })].Pass {
			traced = append(traced, r)
		}
	}
	rep, err = replay.Run(context.Background(), s, source(traced), replay.Options{Category: "chat"})
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Result(name); got == nil || got.Items != 30 || got.Quality != 1 || got.Escalation != 10.0/30 {
		t.Errorf("on recorded traffic (%d rows): %+v; want 30 items, quality 1, escalation 1/3", len(traced), got)
	}
	// Verdicts of other validators say nothing of these, and without verdicts there is
	// nothing to go on: either way the validators see empty answers.
	for _, verdicts := range [][]clearbar.Verdict{{{Validator: "at most 100 characters", Pass: false}}, nil} {
		for i := range rows {
			rows[i].Verdicts = verdicts
		}
		if rep, err = replay.Run(context.Background(), s, source(rows), replay.Options{Category: "chat"}); err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(rep.Notes, func(n string) bool {
			return strings.HasPrefix(n, name+": 60 answers recorded neither answer text nor the verdicts of the route's validators")
		}) {
			t.Errorf("verdicts %v: no note on the answers without text or their verdicts: %v", verdicts, rep.Notes)
		}
		if got := rep.Result(name); got == nil || got.Escalation != 0 {
			t.Errorf("verdicts %v: %+v; want the empty answers to pass the length check", verdicts, got)
		}
	}
}

// TestSpecRouteAgreeCheckerLeftOut: an agreement check whose checker has no row for an item
// escalates it, and the note says what to do: record the checker's answers, or, when the
// table has them but the models to replay leave the checker out, name it among them.
func TestSpecRouteAgreeCheckerLeftOut(t *testing.T) {
	s, err := spec.Parse([]byte(`version: 1
name: agree
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers: {sim: {type: simulated}}
models:
  mixtral: {provider: sim, model: gpt-4.1-nano}
  yi: {provider: sim, model: gpt-4.1-mini}
  gpt4: {provider: sim, model: gpt-4.1}
categories:
  - name: arc
    share: 1
    tokens: {in: 300, out: 5}
    quality_bar: 0.7
    route:
      cascade: [{model: mixtral, validate: [{agree: {model: yi, answer: choice}}]}, gpt4]
    assume:
      pass_rate: {mixtral: 0.7, gpt4: 0.95}
`), "agree.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const question = "Which gas do plants take in?\nA) oxygen\nB) carbon dioxide\nC) nitrogen\nD) helium\nAnswer:"
	pass := true
	var rows []outcomes.Row
	for i := range 4 {
		for _, m := range []string{"mixtral", "yi", "gpt4"} {
			if m == "yi" && i == 3 {
				continue // the checker did not answer q3
			}
			rows = append(rows, outcomes.Row{Item: fmt.Sprintf("q%d", i), Category: "arc", Prompt: question, Model: m, Response: "B", Pass: &pass})
		}
	}
	tests := []struct {
		name   string
		models []string
		want   string
	}{
		{"checker without a row", nil, "1 agreement check with yi found no recorded answer of the checking model to the item; those answers were left unverified and escalated, as when the check's call fails (add the checker's rows to replay those checks)"},
		{"checker left out of the models", []string{"mixtral", "gpt4"}, "4 agreement checks with yi found no recorded answer of the checking model to the item; those answers were left unverified and escalated, as when the check's call fails (the models to replay leave out yi: name them too (--models) to replay those checks)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := replay.Run(context.Background(), s, source(rows), replay.Options{Category: "arc", Models: tt.models})
			if err != nil {
				t.Fatal(err)
			}
			if notes := strings.Join(rep.Notes, "\n"); !strings.Contains(notes, tt.want) {
				t.Errorf("the notes lack %q:\n%s", tt.want, notes)
			}
		})
	}
}
