package replay_test

import (
	"context"
	"slices"
	"strings"
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

// TestTimeScaledRowsAreNoted: rows answered at a time scale (serve --time-scale) hold
// latencies divided by it, which magnifies the gateway's own overhead: the replay says so.
func TestTimeScaledRowsAreNoted(t *testing.T) {
	pass := true
	var rows []outcomes.Row
	for _, it := range []string{"a", "b"} {
		for _, m := range []string{"x", "y"} {
			rows = append(rows, outcomes.Row{Item: it, Category: "qa", Prompt: it, Model: m, LatencyMS: 900, TimeScale: 0.05, Cost: 1000, Pass: &pass})
		}
	}
	rep, err := replay.Run(context.Background(), nil, source(rows), replay.Options{Category: "qa"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.HasPrefix(n, "4 rows answered at a time scale") }) {
		t.Errorf("notes %q: want one saying the 4 rows' latencies were answered at a time scale", rep.Notes)
	}
	for i := range rows {
		rows[i].TimeScale = 0
	}
	if rep, err = replay.Run(context.Background(), nil, source(rows), replay.Options{Category: "qa"}); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "time scale") }) {
		t.Errorf("notes of real-time rows %q mention a time scale", rep.Notes)
	}
}
