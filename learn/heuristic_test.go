package learn

import (
	"strings"
	"testing"
)

func TestHeuristicIsMonotoneInObviousCues(t *testing.T) {
	h, err := NewHeuristic(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := "Tell me about the history of the bicycle."
	tests := []struct {
		explanation string
		harder      string
	}{
		{"a longer request", base + strings.Repeat(" Include details about frames, gears and tyres.", 20)},
		{"a reasoning cue", base + " Explain why it spread, step by step."},
		{"code", base + "\n```python\ndef wheel():\n    return 2\n```"},
		{"math", base + " Calculate how many were sold if sales grew 5% a year: solve the equation."},
		{"more questions", base + " Who invented it? When? Where?"},
		{"a comparison", base + " Compare it with the car and contrast their impact."},
		{"multi-step instructions", base + " First list the eras, then describe each, finally summarise."},
	}
	easy := h.Score(base, "")
	for _, tt := range tests {
		if got := h.Score(tt.harder, ""); got <= easy {
			t.Errorf("%s: score %.3f is not above the plain request's %.3f", tt.explanation, got, easy)
		}
	}
	if easy >= DefaultTiers[0] || h.Tier(easy) != 0 {
		t.Errorf("a one-line question scores %.3f (tier %d), want tier 0", easy, h.Tier(easy))
	}
	hard := "Explain step by step, and prove, why this Go code deadlocks; compare it with a mutex version. First trace the goroutines, then fix it. How many goroutines block?\n" +
		"```go\nfunc main() {\n    ch := make(chan int)\n    ch <- 1;\n    fmt.Println(<-ch)\n}\n```\n" + strings.Repeat("Also consider the channel capacity and the scheduler. ", 30)
	if s := h.Score(hard, ""); h.Tier(s) != 2 {
		t.Errorf("a long code question with reasoning cues scores %.3f (tier %d), want tier 2", s, h.Tier(s))
	}
}

func TestHeuristicConfig(t *testing.T) {
	tests := []struct {
		explanation string
		weights     map[string]float64
		tiers       []float64
		wantErr     string
	}{
		{"defaults", nil, nil, ""},
		{"one weight overridden", map[string]float64{"code": 0.5}, nil, ""},
		{"an unknown feature is named with the valid ones", map[string]float64{"lenght": 1}, nil, "unknown feature lenght (did you mean length?); the features are length"},
		{"each of several unknown features gets its suggestion", map[string]float64{"lenght": 1, "mth": 1, "cleverness": 1}, nil, "unknown features cleverness, lenght (did you mean length?), mth (did you mean math?); the features are length"},
		{"tiers must increase", nil, []float64{0.7, 0.35}, "must increase"},
		{"tiers within (0, 1)", nil, []float64{1.5}, "outside"},
	}
	for _, tt := range tests {
		_, err := NewHeuristic(tt.weights, tt.tiers)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.explanation, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: error %v, want one containing %q", tt.explanation, err, tt.wantErr)
		}
	}
	h, _ := NewHeuristic(map[string]float64{"length": 0, "code": 1}, []float64{0.5})
	if w := h.Weights(); w["code"] != 1 || w["reasoning"] != 0.25 {
		t.Errorf("weights %v: the override and the other defaults should both be there", w)
	}
	if s := h.Score("```\nx\n```\n```\ny\n```\n```", ""); s != 1 || h.Tier(s) != 1 {
		t.Errorf("code-only weights: score %v tier %d", s, h.Tier(s))
	}
}

func TestHeuristicScoreDoesNotAllocate(t *testing.T) {
	h, _ := NewHeuristic(nil, nil)
	if n := testing.AllocsPerRun(100, func() { h.Score(prompt400, "system") }); n != 0 {
		t.Errorf("Score allocates %v times", n)
	}
}

func BenchmarkHeuristicScore(b *testing.B) {
	h, _ := NewHeuristic(nil, nil)
	b.ReportAllocs()
	for b.Loop() {
		h.Score(prompt400, "You are a helpful assistant.")
	}
}
