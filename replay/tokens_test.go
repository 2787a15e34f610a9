package replay_test

import (
	"testing"

	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/replay"
)

// TestTokenMeansLeaveEstimatesOut: a model's mean tokens are of the rows that counted them;
// rows whose counts are estimates (tokens_estimated: a replayed benchmark row's, whose
// recording had none) are left out, so a model with estimates alone has no mean.
func TestTokenMeansLeaveEstimatesOut(t *testing.T) {
	pass := true
	rows := []outcomes.Row{
		{Item: "a", Category: "qa", Prompt: "a", Model: "m", TokensIn: 100, TokensOut: 10, Cost: 1000, Pass: &pass},
		{Item: "b", Category: "qa", Prompt: "b", Model: "m", TokensIn: 300, TokensOut: 30, Cost: 1000, Pass: &pass},
		{Item: "c", Category: "qa", Prompt: "c", Model: "m", TokensIn: 9000, TokensOut: 900, TokensEstimated: true, Cost: 1000, Pass: &pass},
		{Item: "a", Category: "qa", Prompt: "a", Model: "e", TokensIn: 50, TokensOut: 5, TokensEstimated: true, Cost: 1000, Pass: &pass},
		{Item: "b", Category: "qa", Prompt: "b", Model: "e", TokensIn: 50, TokensOut: 5, TokensEstimated: true, Cost: 1000, Pass: &pass},
		{Item: "c", Category: "qa", Prompt: "c", Model: "e", TokensIn: 50, TokensOut: 5, TokensEstimated: true, Cost: 1000, Pass: &pass},
	}
	tb, err := replay.NewTable(rows, replay.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]float64{}
	for _, st := range tb.Stats() {
		got[st.Name] = [2]float64{st.TokensIn, st.TokensOut}
	}
	if got["m"] != [2]float64{200, 20} || got["e"] != [2]float64{0, 0} {
		t.Errorf("token means %v; want m 200 in, 20 out (its estimate left out) and none for e", got)
	}
}
