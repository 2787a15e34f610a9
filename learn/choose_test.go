package learn

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestThresholdRule(t *testing.T) {
	models := []string{"strong", "weak"}
	ch, err := Threshold{Strong: "strong", Weak: "weak", T: 0.7}.Bind(models)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		explanation string
		p           []float64
		want        string
	}{
		{"weak likely enough: weak", []float64{0.9, 0.8}, "weak"},
		{"exactly at the threshold: weak", []float64{0.9, 0.7}, "weak"},
		{"weak below the threshold: strong, whatever P(strong)", []float64{0.1, 0.69}, "strong"},
	}
	for _, tt := range tests {
		if got := models[ch.Choose(tt.p)]; got != tt.want {
			t.Errorf("%s: chose %s, want %s", tt.explanation, got, tt.want)
		}
	}
	for _, bad := range []Threshold{
		{Strong: "gpt", Weak: "weak", T: 0.5},
		{Strong: "strong", Weak: "strong", T: 0.5},
		{Strong: "strong", Weak: "weak", T: math.NaN()},
	} {
		if _, err := bad.Bind(models); err == nil {
			t.Errorf("%+v bound", bad)
		}
	}
}

func TestWillingnessToPay(t *testing.T) {
	models := []string{"big", "mid", "small"}
	costs := map[string]float64{"big": 0.01, "mid": 0.002, "small": 0.0005}
	tests := []struct {
		explanation string
		lambda      float64
		p           []float64
		want        string
	}{
		{"λ=0 picks the likeliest to pass", 0, []float64{0.9, 0.85, 0.5}, "big"},
		{"λ=0 ties go to the cheaper", 0, []float64{0.9, 0.9, 0.5}, "mid"},
		{"λ=10/$: big's 0.05 gain is worth $0.005 < its $0.008 extra", 10, []float64{0.9, 0.85, 0.5}, "mid"},
		{"λ=10/$: a 0.35 gain on mid over small pays its $0.0015", 10, []float64{0.5, 0.85, 0.5}, "mid"},
		{"a huge λ picks the cheapest", 1e9, []float64{0.9, 0.85, 0.5}, "small"},
	}
	for _, tt := range tests {
		ch, err := WillingnessToPay{Lambda: tt.lambda, Costs: costs}.Bind(models)
		if err != nil {
			t.Fatal(err)
		}
		if got := models[ch.Choose(tt.p)]; got != tt.want {
			t.Errorf("%s: chose %s, want %s", tt.explanation, got, tt.want)
		}
	}
	_, err := WillingnessToPay{Lambda: 1, Costs: map[string]float64{"big": 1}}.Bind(models)
	if err == nil || !strings.Contains(err.Error(), "mid") {
		t.Errorf("missing costs: error %v, want one naming mid", err)
	}
	if _, err := (WillingnessToPay{Lambda: -1, Costs: costs}).Bind(models); err == nil {
		t.Error("a negative λ bound")
	}
}

// twoModelSamples: items 0..n-1; the weak model (index 1) passes items whose P(weak) is
// above 0.5 and the strong one (index 0) passes all; predictions are perfect.
func twoModelSamples(n int) []Sample {
	s := make([]Sample, n)
	for i := range s {
		pw := float64(i) / float64(n)
		pass := 0.0
		if pw >= 0.5 {
			pass = 1
		}
		s[i] = Sample{P: []float64{0.99, pw}, Pass: []float64{1, pass}, Cost: []float64{1, 0.1}}
	}
	return s
}

func TestCalibrate(t *testing.T) {
	models := []string{"strong", "weak"}
	s := twoModelSamples(1000)
	tests := []struct {
		explanation string
		target      Target
		// quality and strong share the calibrated point must have
		wantQuality, wantShare float64
	}{
		{"full quality: everything weak fails goes to strong, nothing more", Target{Quality: 1}, 1, 0.5},
		{"90%: 40% of items may be lost to weak", Target{Quality: 0.9}, 0.9, 0.4},
		{"threshold, 90%", Target{Quality: 0.9, Strong: "strong", Weak: "weak"}, 0.9, 0.4},
		{"threshold by share: 20% to strong", Target{StrongShare: 0.2, Strong: "strong", Weak: "weak"}, 0.7, 0.2},
	}
	for _, tt := range tests {
		c, err := Calibrate(models, s, tt.target)
		if err != nil {
			t.Fatalf("%s: %v", tt.explanation, err)
		}
		if !c.Met || math.Abs(c.Point.Quality-tt.wantQuality) > 0.011 || math.Abs(c.Point.Share[0]-tt.wantShare) > 0.011 {
			t.Errorf("%s: met %v, quality %.3f, strong share %.3f; want %.2f and %.2f", tt.explanation, c.Met, c.Point.Quality, c.Point.Share[0], tt.wantQuality, tt.wantShare)
		}
		if c.Best != "strong" || c.BestQuality != 1 {
			t.Errorf("%s: best %s %.3f", tt.explanation, c.Best, c.BestQuality)
		}
	}
	// A margin of confidence costs more than the bare target.
	bare, _ := Calibrate(models, s, Target{Quality: 0.9})
	safe, _ := Calibrate(models, s, Target{Quality: 0.9, Confidence: 2})
	if safe.Point.Cost <= bare.Point.Cost {
		t.Errorf("with a 2-SE margin the cost is %v, without %v", safe.Point.Cost, bare.Point.Cost)
	}
	if _, err := Calibrate(models, s, Target{Quality: 0.9, StrongShare: 0.1}); err == nil {
		t.Error("a target with both quality and share calibrated")
	}
	free := twoModelSamples(10)
	for i := range free {
		free[i].Cost = []float64{0, 0}
	}
	if _, err := Calibrate(models, free, Target{Quality: 0.9}); err == nil || !strings.Contains(err.Error(), "no costs") {
		t.Errorf("willingness to pay without costs: error %v, want one saying the outcomes have no costs", err)
	}
}

func TestHullAIQAndCostAt(t *testing.T) {
	pts := []Point{
		{Cost: 1, Quality: 0.5},
		{Cost: 2, Quality: 0.55}, // under the segment (1,0.5)→(3,0.9): not a vertex
		{Cost: 3, Quality: 0.9},
		{Cost: 4, Quality: 0.8}, // dominated
		{Cost: 5, Quality: 1.0},
	}
	h := Hull(pts)
	if len(h) != 3 || h[1].Cost != 3 || h[2].Cost != 5 {
		t.Fatalf("hull %+v, want vertices at costs 1, 3, 5", h)
	}
	tests := []struct {
		explanation string
		got, want   float64
	}{
		{"quality halfway along the first segment", QualityAt(h, 2), 0.7},
		{"quality beyond the last vertex stays flat", QualityAt(h, 9), 1},
		{"cost to reach 0.95: halfway along the second segment", CostAt(h, 0.95), 4},
		{"AIQ over [1, 5]: trapezoids (0.5+0.9)/2·2 + (0.9+1)/2·2, over 4", AIQ(h, 1, 5), (1.4 + 1.9) / 4},
		{"AIQ over [1, 9] counts the flat part", AIQ(h, 1, 9), (1.4 + 1.9 + 4) / 8},
	}
	for _, tt := range tests {
		if math.Abs(tt.got-tt.want) > 1e-12 {
			t.Errorf("%s: %v, want %v", tt.explanation, tt.got, tt.want)
		}
	}
	if !math.IsInf(CostAt(h, 1.1), 1) || !math.IsNaN(QualityAt(h, 0.5)) {
		t.Error("unreachable quality or a cost below the hull should be +Inf and NaN")
	}
}

func TestAPGR(t *testing.T) {
	s := twoModelSamples(1000) // strong passes all; weak passes the upper half
	perfect := make([]float64, len(s))
	reversed := make([]float64, len(s))
	tied := make([]float64, len(s))
	for i := range s {
		perfect[i] = -s[i].P[1]
		reversed[i] = s[i].P[1]
	}
	tests := []struct {
		explanation string
		priority    []float64
		want        float64
	}{
		// Perfect: the 50% weak fails come first, recovering the gap linearly over x in
		// [0, 0.5], then flat: area 0.5·0.5 + 0.5·1 = 0.75.
		{"failures first", perfect, 0.75},
		{"random (all tied) is the diagonal", tied, 0.5},
		{"failures last", reversed, 0.25},
	}
	for _, tt := range tests {
		if got := APGR(s, tt.priority, 0, 1); math.Abs(got-tt.want) > 0.002 {
			t.Errorf("%s: APGR %.4f, want %.4f", tt.explanation, got, tt.want)
		}
	}
}

func TestSplitIsSeededAndBalanced(t *testing.T) {
	n, same := 10000, 0
	test := 0
	for i := range n {
		id := "item-" + string(rune('a'+i%26)) + strings.Repeat("x", i%7) + string(rune(i))
		if SplitTest(1, id) {
			test++
		}
		if SplitTest(1, id) == SplitTest(2, id) {
			same++
		}
	}
	if test < 4800 || test > 5200 {
		t.Errorf("%d of %d items in the test half", test, n)
	}
	if same > 5200 || same < 4800 {
		t.Errorf("seeds 1 and 2 agree on %d of %d items; the seed should reshuffle", same, n)
	}
}

// stepSamples: half the items are of a task where the weak model (index 1) passes every
// other item with a flat prediction of 0.5, the other half of a task where it passes 90%
// (predicted 0.9); the strong model (index 0) passes everything. Strong costs 1, weak 0.1,
// so that the willingness-to-pay curve has two steps: all weak (quality 0.7, cost 0.1),
// the first task to strong (0.95, 0.55), everything to strong (1, 1).
func stepSamples() []Sample {
	s := make([]Sample, 1000)
	for i := range s {
		pw, pass := 0.5, float64(i%2)
		if i >= 500 {
			pw, pass = 0.9, 1
			if i%10 == 0 {
				pass = 0
			}
		}
		s[i] = Sample{P: []float64{1, pw}, Pass: []float64{1, pass}, Cost: []float64{1, 0.1}}
	}
	return s
}

func TestCalibrateMixReachesTheHull(t *testing.T) {
	models := []string{"strong", "weak"}
	single, err := Calibrate(models, stepSamples(), Target{Quality: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	if single.Mixed != nil || math.Abs(single.Point.Cost-0.55) > 1e-9 {
		t.Fatalf("a single λ must send the first task to strong: cost %v, mixed %+v", single.Point.Cost, single.Mixed)
	}
	mix, err := Calibrate(models, stepSamples(), Target{Quality: 0.9, Mix: true})
	if err != nil {
		t.Fatal(err)
	}
	m := mix.Mixed
	// Quality 0.9 lies 80% of the way from (0.1, 0.7) to (0.55, 0.95): cost 0.1 + 0.8×0.45.
	if m == nil || !mix.Met || math.Abs(m.Share-0.8) > 1e-6 || math.Abs(mix.Point.Cost-0.46) > 1e-6 || math.Abs(mix.Point.Quality-0.9) > 1e-6 {
		t.Fatalf("mixed rule %+v at %+v, want share 0.8 at cost 0.46 and quality 0.9", m, mix.Point)
	}
	// Lambda1 sends everything to weak; Lambda2 sends the first task (gain 0.5 for 0.9 more
	// dollars) to strong but not the second (gain 0.1).
	if !(m.Lambda1 > 0.5/0.9) || !(m.Lambda2 < 0.5/0.9 && m.Lambda2 > 0.1/0.9) {
		t.Errorf("λ1 = %v, λ2 = %v: want λ1 > %.3f > λ2 > %.3f", m.Lambda1, m.Lambda2, 0.5/0.9, 0.1/0.9)
	}
	if mix.WTP == nil || mix.WTP.Lambda != single.WTP.Lambda || m.Costs["strong"] != 1 {
		t.Errorf("WTP %+v should stay the single-λ rule %v, and the mix carry the costs %v", mix.WTP, single.WTP.Lambda, m.Costs)
	}
	if !strings.Contains(mix.String(), "share 0.800") {
		t.Errorf("description %q does not give the share", mix.String())
	}
	// A margin sends more requests to the dearer λ: the least share s whose mean per-item
	// difference beats 2 standard errors, the variance adding the mix's own coin,
	// s(1−s)·(pass with λ2 − pass with λ1)², to that across items.
	safe, _ := Calibrate(models, stepSamples(), Target{Quality: 0.9, Mix: true, Confidence: 2})
	want, samples := 1.0, stepSamples()
	for s := 0.8; s <= 1; s += 1e-5 {
		var sum, sq, flip float64
		for i, x := range samples {
			a, b := x.Pass[1], x.Pass[1]
			if i < 500 {
				b = 1 // λ2 sends the first task to strong
			}
			d := (1-s)*a + s*b - 0.9
			sum, sq, flip = sum+d, sq+d*d, flip+(b-a)*(b-a)
		}
		mean := sum / 1000
		v := (sq/1000-mean*mean)*1000/999 + s*(1-s)*flip/1000
		if mean >= 2*math.Sqrt(v/1000) {
			want = s
			break
		}
	}
	if math.Abs(safe.Mixed.Share-want) > 1e-4 || safe.Mixed.Lambda2 != m.Lambda2 {
		t.Errorf("with a 2-SE margin the share is %v (λ2 %v), want %.4f on the same segment", safe.Mixed.Share, safe.Mixed.Lambda2, want)
	}
	// When a vertex meets the target exactly, every request is decided by its λ.
	vertex, _ := Calibrate(models, stepSamples(), Target{Quality: 0.95, Mix: true})
	if v := vertex.Mixed; v.Share != 1 && v.Lambda1 != v.Lambda2 {
		t.Errorf("target on a vertex: mixed %+v", vertex.Mixed)
	}
	if math.Abs(vertex.Point.Cost-0.55) > 1e-9 {
		t.Errorf("target on a vertex: cost %v, want 0.55", vertex.Point.Cost)
	}
	if _, err := Calibrate(models, stepSamples(), Target{Quality: 0.9, Mix: true, Strong: "strong", Weak: "weak"}); err == nil {
		t.Error("a mixed threshold rule calibrated")
	}
}

func TestMixedWTP(t *testing.T) {
	models := []string{"big", "small"}
	costs := map[string]float64{"big": 0.01, "small": 0.001}
	rule := MixedWTP{Lambda1: 1e9, Lambda2: 0, Share: 0.3, Costs: costs}
	ch, err := rule.Bind(models)
	if err != nil {
		t.Fatal(err)
	}
	p := []float64{0.9, 0.5}
	big := 0
	const n = 20000
	for i := range n {
		text := fmt.Sprintf("request %d", i)
		got := ch.Choose(text, p)
		want := 1 // λ1 is huge: the cheapest
		if RequestShare(text) < 0.3 {
			want = 0 // λ2 = 0: the likeliest to pass
		}
		if got != want {
			t.Fatalf("%q (share %v): chose %d, want %d", text, RequestShare(text), got, want)
		}
		if got != ch.Choose(text, p) {
			t.Fatalf("%q: two choices for one text", text)
		}
		if got == 0 {
			big++
		}
	}
	if f := float64(big) / n; math.Abs(f-0.3) > 0.015 {
		t.Errorf("%.3f of requests decided with λ2, want 0.3", f)
	}
	if rule.Lambda(0.29) != 0 || rule.Lambda(0.3) != 1e9 {
		t.Errorf("Lambda(0.29) = %v, Lambda(0.3) = %v", rule.Lambda(0.29), rule.Lambda(0.3))
	}
	for _, bad := range []MixedWTP{
		{Lambda1: 1, Lambda2: 2, Share: 1.5, Costs: costs},
		{Lambda1: math.NaN(), Lambda2: 2, Share: 0.5, Costs: costs},
		{Lambda1: 1, Lambda2: -2, Share: 0.5, Costs: costs},
		{Lambda1: 1, Lambda2: 2, Share: 0.5, Costs: map[string]float64{"big": 1}},
	} {
		if _, err := bad.Bind(models); err == nil {
			t.Errorf("%+v bound", bad)
		}
	}
}

func TestRequestShare(t *testing.T) {
	texts := []string{"", "a", "abcdefgh", "abcdefghi", prompt400, prompt400 + " ", strings.Repeat("x", 5000)}
	seen := map[float64]string{}
	for _, s := range texts {
		u := RequestShare(s)
		if u < 0 || u >= 1 || u != RequestShare(strings.Clone(s)) {
			t.Errorf("RequestShare(%.20q) = %v: want a stable number in [0, 1)", s, u)
		}
		if prev, ok := seen[u]; ok {
			t.Errorf("%.20q and %.20q share %v", s, prev, u)
		}
		seen[u] = s
	}
	// Uniform: the deciles of 10,000 texts differing in one character each hold about 1,000.
	var bins [10]int
	for i := range 10000 {
		bins[int(10*RequestShare(fmt.Sprintf("%s%d", prompt400[:37], i)))]++
	}
	for d, c := range bins {
		if c < 880 || c > 1120 {
			t.Errorf("decile %d holds %d of 10,000 shares", d, c)
		}
	}
	if n := testing.AllocsPerRun(100, func() { RequestShare(prompt400) }); n != 0 {
		t.Errorf("RequestShare allocates %v times", n)
	}
}

// TestCalibrateBudget: a budget target takes the most quality whose cost fits, a vertex of the
// sweep or, mixed, the point of the hull where the cost meets the budget.
func TestCalibrateBudget(t *testing.T) {
	models := []string{"strong", "weak"}
	// The hull of stepSamples: (cost 0.1, quality 0.7), (0.55, 0.95), (1, 1); strong costs 1.
	single, err := Calibrate(models, stepSamples(), Target{Budget: 0.46})
	if err != nil {
		t.Fatal(err)
	}
	if !single.Met || single.Mixed != nil || math.Abs(single.Point.Cost-0.1) > 1e-9 || math.Abs(single.Point.Quality-0.7) > 1e-9 {
		t.Errorf("single λ within 46%%: %+v (met %v), want the all-weak point (0.1, 0.7)", single.Point, single.Met)
	}
	mix, err := Calibrate(models, stepSamples(), Target{Budget: 0.46, Mix: true})
	if err != nil {
		t.Fatal(err)
	}
	// 0.46 lies 80% of the way from 0.1 to 0.55: quality 0.7 + 0.8×0.25.
	if m := mix.Mixed; m == nil || math.Abs(m.Share-0.8) > 1e-6 || math.Abs(mix.Point.Cost-0.46) > 1e-6 || math.Abs(mix.Point.Quality-0.9) > 1e-6 {
		t.Errorf("mixed within 46%%: %+v at %+v, want share 0.8 at cost 0.46, quality 0.9", mix.Mixed, mix.Point)
	}
	// A margin spends less: the mean cost plus one standard error must fit.
	safe, _ := Calibrate(models, stepSamples(), Target{Budget: 0.46, Mix: true, Confidence: 1})
	if safe.Mixed == nil || !(safe.Mixed.Share < 0.8) || safe.Point.Cost > 0.46 {
		t.Errorf("with a margin: %+v at %+v, want a smaller share and a cost under 0.46", safe.Mixed, safe.Point)
	}
	all, _ := Calibrate(models, stepSamples(), Target{Budget: 1, Mix: true})
	if math.Abs(all.Point.Quality-1) > 1e-9 {
		t.Errorf("the whole budget: %+v, want quality 1", all.Point)
	}
	none, _ := Calibrate(models, stepSamples(), Target{Budget: 0.05})
	if none.Met || math.Abs(none.Point.Cost-0.1) > 1e-9 {
		t.Errorf("a budget under the cheapest rule: met %v at %+v, want not met, the cheapest point", none.Met, none.Point)
	}
	for _, bad := range []Target{{Budget: 0.3, Quality: 0.9}, {Budget: 1.5}, {Budget: 0.3, Strong: "strong", Weak: "weak"}} {
		if _, err := Calibrate(models, stepSamples(), bad); err == nil {
			t.Errorf("target %+v accepted", bad)
		}
	}
}

// TestRequestShareIsBounded: a text the learned routers read whole is hashed whole; a longer
// one by its start, its end and its length only, so that the cost is bounded; the share stays
// spread evenly and nothing is allocated.
func TestRequestShareIsBounded(t *testing.T) {
	if def := DefaultFeatures(); def.MaxTextBytes != defaultTextBytes || def.TailBytes != defaultTailBytes {
		t.Errorf("RequestShare reads %d bytes with a tail of %d; the features %d and %d", defaultTextBytes, defaultTailBytes, def.MaxTextBytes, def.TailBytes)
	}
	short := strings.Repeat("a", defaultTextBytes)
	if RequestShare(short) != shareOf(short) {
		t.Errorf("a text of at most %d bytes should be hashed whole", defaultTextBytes)
	}
	long := []byte(strings.Repeat(prompt400, 3000)) // 1.2 MB
	share := RequestShare(string(long))
	long[len(long)/2] ^= 1
	if RequestShare(string(long)) != share {
		t.Errorf("a change in the middle of a long text changed its share")
	}
	for _, changed := range []string{"x" + string(long[1:]), string(long[:len(long)-1]) + "x", string(long) + " "} {
		if RequestShare(changed) == share {
			t.Errorf("a change at the start, at the end or of the length kept the share")
		}
	}
	below := 0
	const n = 2000
	for i := range n {
		if RequestShare(fmt.Sprintf("request %d: ", i)+prompt400+strings.Repeat(" and again", 200)) < 0.3 {
			below++
		}
	}
	if below < n*25/100 || below > n*35/100 {
		t.Errorf("%d of %d long texts have a share below 0.3", below, n)
	}
	text := string(long)
	if a := testing.AllocsPerRun(100, func() { RequestShare(text) }); a != 0 {
		t.Errorf("RequestShare allocates %v times", a)
	}
}
