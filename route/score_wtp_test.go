package route

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/learn"
)

// TestScoreRecordsWhatTheRuleWeighed: a willingness-to-pay score route records the value that
// decided the request (the mix's for the requests the mix decides) and, for each model, the
// cost it reckoned (DecisionCost of the request's input tokens) and the utility it
// maximised, P(pass) − cost ÷ willingness to pay, so that the start can be checked by hand: it
// is the model of the highest utility. A threshold route records none of them.
func TestScoreRecordsWhatTheRuleWeighed(t *testing.T) {
	dir := t.TempDir()
	trainRouter(t, filepath.Join(dir, "router.json"))
	texts := []string{
		"Question 1001: what is the capital of country 1001?",
		"Question 1002: prove the theorem about prime gaps number 1002 step by step.",
		hardPrompt,
	}
	for i := range 40 {
		texts = append(texts, strings.Repeat("Some context. ", i)+texts[i%2])
	}
	r, err := scoreRouter(t, dir, "{router: router.json, models: [small, strong], willingness_to_pay: 0.01, mix: {willingness_to_pay: 0.0002, share: 0.5}}")
	if err != nil {
		t.Fatal(err)
	}
	s := r.Spec()
	c := s.Category("qa")
	byValue := map[float64]int{}
	for _, text := range texts {
		d, _ := planScore(t, r, text)
		sc := d.Score
		wtp := 0.01
		if learn.RequestShare(text) < 0.5 {
			wtp = 0.0002
		}
		byValue[wtp]++
		if sc.WillingnessToPay != wtp {
			t.Fatalf("%.40q: willingness to pay %v recorded, want %v", text, sc.WillingnessToPay, wtp)
		}
		if len(sc.PPass) != 2 {
			t.Fatalf("%.40q: %+v", text, sc.PPass)
		}
		best := 0
		for i, m := range sc.PPass {
			want := NewDecisionCost(c, s.Model(m.Model)).USD(d.Features.TokensIn)
			if m.Cost != want || m.Cost <= 0 {
				t.Errorf("%.40q: %s cost %v recorded, want %v", text, m.Model, m.Cost, want)
			}
			if u := m.P - m.Cost/wtp; math.Abs(m.Utility-u) > 1e-9 {
				t.Errorf("%.40q: %s utility %v recorded, want P(pass) − cost ÷ %v = %v", text, m.Model, m.Utility, wtp, u)
			}
			if m.Utility > sc.PPass[best].Utility {
				best = i
			}
		}
		if sc.Start != sc.PPass[best].Model {
			t.Errorf("%.40q: starts on %s, but the highest utility is %s's: %+v", text, sc.Start, sc.PPass[best].Model, sc.PPass)
		}
	}
	if byValue[0.01] == 0 || byValue[0.0002] == 0 {
		t.Errorf("requests by the value that decided them: %v; want both values", byValue)
	}

	r, err = scoreRouter(t, dir, "{router: router.json, models: [small, strong], threshold: 0.5}")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := planScore(t, r, texts[0])
	if sc := d.Score; sc.WillingnessToPay != 0 || len(sc.PPass) != 2 || sc.PPass[0].Cost != 0 || sc.PPass[0].Utility != 0 || sc.PPass[1].Cost != 0 {
		t.Errorf("threshold route records %+v: want no willingness to pay, costs or utilities", sc)
	}
}
