package replay_test

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/replay"
)

func syntheticTable(t testing.TB, n, k int, seed uint64) (*replay.Table, map[string][]float64) {
	t.Helper()
	rows, scores := synthetic(n, k, seed)
	tb, err := replay.NewTable(rows, replay.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tb, scores
}

func mustEval(t *testing.T, p replay.Policy, tb *replay.Table) *replay.Result {
	t.Helper()
	r, err := p.Evaluate(tb)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// TestCascadePerfectValidatorIsBetterOfTwo: with a validator that catches every failing
// answer and never flags a passing one, a cascade a → b delivers the better of the two answers
// on every item, and pays for b exactly where a failed.
func TestCascadePerfectValidatorIsBetterOfTwo(t *testing.T) {
	tb, _ := syntheticTable(t, 2000, 4, 1)
	for _, pair := range [][2]string{{"m0", "m3"}, {"m1", "m2"}, {"m3", "m0"}} {
		a, b := tb.Index(pair[0]), tb.Index(pair[1])
		var passes float64
		var cost clearbar.Money
		escalated := 0
		for i := 0; i < tb.Len(); i++ {
			ca, cb := tb.Cell(i, a), tb.Cell(i, b)
			passes += math.Max(ca.Quality, cb.Quality)
			cost += ca.Cost
			if ca.Quality == 0 {
				cost += cb.Cost
				escalated++
			}
		}
		got := mustEval(t, replay.NewCascade(replay.Strength{Detect: 1, FalseAlarm: 0}, pair[0], pair[1]), tb)
		n := float64(tb.Len())
		if got.Quality != passes/n || got.Cost != cost || got.Escalation != float64(escalated)/n {
			t.Errorf("cascade %s → %s with a perfect validator: quality %v cost %v escalation %v; better of two gives %v, %v, %v",
				pair[0], pair[1], got.Quality, got.Cost, got.Escalation, passes/n, cost, float64(escalated)/n)
		}
	}
}

// TestCascadeSimulatedStrength checks the simulated validator against the closed form item by
// item: P(escalate | pass) = f, P(escalate | fail) = d.
func TestCascadeSimulatedStrength(t *testing.T) {
	tb, _ := syntheticTable(t, 1000, 3, 2)
	a, b := tb.Index("m0"), tb.Index("m2")
	tests := []struct {
		name        string
		explanation string
		cascade     *replay.Cascade
		// want returns an item's expected quality, cost (nano-dollars), escalation and failure
		// from its two cells.
		want func(q1, q2, c1, c2, d, f float64) (q, c, esc, failed float64)
	}{
		{
			name:        "escalate",
			explanation: "DESIGN.md: P(esc) = q1·f + (1−q1)·d, quality = q1·(1−f) + P(esc)·q2, cost = c1 + P(esc)·c2",
			cascade: &replay.Cascade{Strength: &replay.Strength{Detect: 0.9, FalseAlarm: 0.05},
				Steps: []replay.Step{{Model: "m0", Validated: true}, {Model: "m2", Validated: true}}},
			want: func(q1, q2, c1, c2, d, f float64) (float64, float64, float64, float64) {
				e := q1*f + (1-q1)*d
				return q1*(1-f) + e*q2, c1 + e*c2, e, 0
			},
		},
		{
			name:        "retry once",
			explanation: "a flagged answer is retried on the same model (same recorded answer, a fresh validator draw) before escalating",
			cascade: &replay.Cascade{Strength: &replay.Strength{Detect: 0.7, FalseAlarm: 0.2},
				Steps: []replay.Step{{Model: "m0", Validated: true, RetryOnce: true}, {Model: "m2", Validated: true}}},
			want: func(q1, q2, c1, c2, d, f float64) (float64, float64, float64, float64) {
				e := q1*f + (1-q1)*d
				return q1*(1-f)*(1+e) + e*e*q2, c1*(1+e) + e*e*c2, e * e, 0
			},
		},
		{
			name:        "fail when exhausted",
			explanation: "a flagged last answer fails the item instead of being delivered",
			cascade: &replay.Cascade{Strength: &replay.Strength{Detect: 0.6, FalseAlarm: 0.1}, FailExhausted: true,
				Steps: []replay.Step{{Model: "m0", Validated: true}, {Model: "m2", Validated: true}}},
			want: func(q1, q2, c1, c2, d, f float64) (float64, float64, float64, float64) {
				e := q1*f + (1-q1)*d
				return q1*(1-f) + e*q2*(1-f), c1 + e*c2, e, e * (q2*f + (1-q2)*d)
			},
		},
		{
			name:        "unvalidated second step",
			explanation: "an unvalidated last step delivers whatever it answers",
			cascade: &replay.Cascade{Strength: &replay.Strength{Detect: 0.5, FalseAlarm: 0.3},
				Steps: []replay.Step{{Model: "m0", Validated: true}, {Model: "m2"}}},
			want: func(q1, q2, c1, c2, d, f float64) (float64, float64, float64, float64) {
				e := q1*f + (1-q1)*d
				return q1*(1-f) + e*q2, c1 + e*c2, e, 0
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustEval(t, tt.cascade, tb)
			var q, c, esc, failed float64
			d, f := tt.cascade.Strength.Detect, tt.cascade.Strength.FalseAlarm
			for i := 0; i < tb.Len(); i++ {
				c1, c2 := tb.Cell(i, a), tb.Cell(i, b)
				iq, ic, ie, ifl := tt.want(c1.Quality, c2.Quality, float64(c1.Cost), float64(c2.Cost), d, f)
				q, c, esc, failed = q+iq, c+ic, esc+ie, failed+ifl
			}
			n := float64(tb.Len())
			if !near(got.Quality, q/n) || got.Cost != clearbar.Money(math.Round(c)) || !near(got.Escalation, esc/n) || !near(got.Failed, failed/n) {
				t.Errorf("quality %v cost %v escalation %v failed %v; closed form %v %v %v %v (%s)",
					got.Quality, got.Cost, got.Escalation, got.Failed, q/n, clearbar.Money(math.Round(c)), esc/n, failed/n, tt.explanation)
			}
		})
	}
}

// TestCascadeEscalatedPassRate: a cascade's later model is measured on the items escalated to
// it, each weighted by the probability its earlier answer was flagged: Σ P(esc)·q2 / Σ P(esc).
// These items are harder than the model's on the whole, and the estimate needs its rate there.
func TestCascadeEscalatedPassRate(t *testing.T) {
	tb, _ := syntheticTable(t, 1000, 3, 2)
	a, b := tb.Index("m0"), tb.Index("m2")
	for _, retry := range []bool{false, true} {
		const d, f = 0.8, 0.1
		c := &replay.Cascade{Strength: &replay.Strength{Detect: d, FalseAlarm: f},
			Steps: []replay.Step{{Model: "m0", Validated: true, RetryOnce: retry}, {Model: "m2", Validated: true}}}
		got := mustEval(t, c, tb)
		var w, wq, all float64
		for i := 0; i < tb.Len(); i++ {
			q1, q2 := tb.Cell(i, a).Quality, tb.Cell(i, b).Quality
			e := q1*f + (1-q1)*d
			if retry {
				e *= e // the retry's same answer is flagged again
			}
			w, wq, all = w+e, wq+e*q2, all+q2
		}
		ep, ok := got.EscalatedPass["m2"]
		if !ok || !near(ep.Rate, wq/w) || !near(ep.Answers, w) {
			t.Fatalf("retry %v: escalated pass rate of m2 %+v, want %v on %v answers", retry, got.EscalatedPass, wq/w, w)
		}
		if ep.Rate >= all/float64(tb.Len()) {
			t.Errorf("retry %v: m2's rate on escalated items %v is not below its rate on all items %v: the synthetic table's items should share a difficulty", retry, ep.Rate, all/float64(tb.Len()))
		}
		if _, first := got.EscalatedPass["m0"]; first {
			t.Errorf("the first step is never escalated to: %+v", got.EscalatedPass)
		}
	}
}

// TestMixIsLinear: a random mix's quality and cost are exactly linear in its share, and its
// ends are the two single models.
func TestMixIsLinear(t *testing.T) {
	tb, _ := syntheticTable(t, 1500, 3, 3)
	weak, strong := mustEval(t, replay.Single{Model: "m0"}, tb), mustEval(t, replay.Single{Model: "m2"}, tb)
	for _, s := range []float64{0, 0.1, 0.25, 0.5, 0.9, 1} {
		got := mustEval(t, replay.Mix{First: "m0", Second: "m2", Share: s}, tb)
		wantQ := (1-s)*weak.Quality + s*strong.Quality
		wantC := (1-s)*float64(weak.Cost) + s*float64(strong.Cost)
		if !near(got.Quality, wantQ) || math.Abs(float64(got.Cost)-wantC) > 1 || !near(got.Share("m2"), s) {
			t.Errorf("share %v: quality %v cost %v strong calls %v; linear gives %v %v %v", s, got.Quality, got.Cost, got.Share("m2"), wantQ, wantC, s)
		}
	}
	for _, end := range []struct {
		share float64
		want  *replay.Result
	}{{0, weak}, {1, strong}} {
		got := mustEval(t, replay.Mix{First: "m0", Second: "m2", Share: end.share}, tb)
		if got.Quality != end.want.Quality || got.Cost != end.want.Cost || got.LatencyP95MS != end.want.LatencyP95MS {
			t.Errorf("mix at share %v = %+v, want exactly %s %+v", end.share, got, end.want.Name, end.want)
		}
	}
}

// TestPolicyErrors checks that bad settings are rejected with a message naming the fix.
func TestPolicyErrors(t *testing.T) {
	tb, _ := syntheticTable(t, 10, 2, 4)
	tests := []struct {
		name   string
		policy replay.Policy
		want   string
	}{
		{"unknown model", replay.Single{Model: "gpt-9"}, `model "gpt-9" is not in the outcomes table (its models: m0, m1)`},
		{"share outside 0..1", replay.Mix{First: "m0", Second: "m1", Share: 1.5}, "share 1.5 is outside 0..1"},
		{"bad strength", replay.NewCascade(replay.Strength{Detect: 2}, "m0", "m1"), "both must be within 0..1"},
		{"validated without strength or verdicts", &replay.Cascade{Steps: []replay.Step{{Model: "m0", Validated: true}, {Model: "m1"}}}, "set Strength or Verdicts"},
		{"empty split", &replay.Split{}, "weights must add up to more than 0"},
		{"no scores", replay.Threshold{Weak: "m0", Strong: "m1"}, "compute them with ScoreTable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.policy.Evaluate(tb)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// TestSplitOfArms: a split's result is the weighted combination of its arms.
func TestSplitOfArms(t *testing.T) {
	tb, _ := syntheticTable(t, 800, 3, 5)
	arms := []replay.Arm{
		{Weight: 3, Policy: replay.Single{Model: "m0"}},
		{Weight: 1, Policy: replay.NewCascade(replay.Strength{Detect: 0.8, FalseAlarm: 0.1}, "m1", "m2")},
	}
	got := mustEval(t, &replay.Split{Arms: arms}, tb)
	a, b := mustEval(t, arms[0].Policy, tb), mustEval(t, arms[1].Policy, tb)
	if !near(got.Quality, 0.75*a.Quality+0.25*b.Quality) || !near(got.Escalation, 0.25*b.Escalation) ||
		math.Abs(float64(got.Cost)-(0.75*float64(a.Cost)+0.25*float64(b.Cost))) > 1 {
		t.Errorf("split %+v, want 3:1 of %+v and %+v", got, a, b)
	}
}

// TestStartPassLeavesOutFailedCalls: a router's and a mix's pass rate per model (what
// replay --calibrate writes as assume.score_pass_rate or pass_rate) is over the calls that
// answered, as the estimate applies each model's availability separately; the policy's
// quality still counts a failed call as a failed item.
func TestStartPassLeavesOutFailedCalls(t *testing.T) {
	var rows []outcomes.Row
	// 20 items; the threshold router sends items 0–9 to weak and 10–19 to strong. weak
	// passes items 0–5, fails 6–7 and its calls on 8–9 failed; strong passes 10–17 and its
	// call on 18 failed.
	for i := range 20 {
		item := fmt.Sprint("i", i)
		for _, m := range []string{"weak", "strong"} {
			pass := m == "weak" && i < 6 || m == "strong" && i >= 10 && i < 18
			r := outcomes.Row{Item: item, Category: "qa", Prompt: item, Model: m, Cost: 1000, Pass: &pass}
			if m == "weak" && (i == 8 || i == 9) || m == "strong" && i == 18 {
				r.Pass, r.Error = nil, "rate_limited"
			}
			rows = append(rows, r)
		}
	}
	tb, err := replay.NewTable(rows, replay.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float64, 2*tb.Len())
	weak := tb.Index("weak")
	for i := range tb.Len() {
		if n, _ := strconv.Atoi(strings.TrimPrefix(tb.Item(i).ID, "i")); n < 10 {
			v[i*2+weak] = 1
		}
	}
	sc, err := replay.NewScores(tb, v)
	if err != nil {
		t.Fatal(err)
	}
	got := mustEval(t, replay.Threshold{Weak: "weak", Strong: "strong", Scores: sc, Threshold: 0.5}, tb)
	if want := map[string]float64{"weak": 6.0 / 8, "strong": 8.0 / 9}; !near(got.StartPass["weak"], want["weak"]) || !near(got.StartPass["strong"], want["strong"]) {
		t.Errorf("threshold router's pass rates %v, want %v (failed calls left out)", got.StartPass, want)
	}
	if !near(got.Quality, 14.0/20) || !near(got.Failed, 3.0/20) {
		t.Errorf("threshold router: quality %v failed %v, want 0.7 and 0.15", got.Quality, got.Failed)
	}
	mix := mustEval(t, replay.Mix{First: "weak", Second: "strong", Share: 0.5}, tb)
	if want := map[string]float64{"weak": 6.0 / 18, "strong": 8.0 / 19}; !near(mix.StartPass["weak"], want["weak"]) || !near(mix.StartPass["strong"], want["strong"]) {
		t.Errorf("mix's pass rates %v, want %v (failed calls left out)", mix.StartPass, want)
	}
}
