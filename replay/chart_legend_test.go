package replay_test

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/replay"
)

// boundReport replays a weak and a strong model whose cascade with a perfect validator, a
// bound, is cheaper and better than the strong model, as on RouterBench.
func boundReport(t *testing.T) (*replay.Report, string) {
	t.Helper()
	var rows []outcomes.Row
	for i := range 100 {
		id := fmt.Sprintf("i%d", i)
		weak, strong := i%10 < 6, i%10 < 9
		rows = append(rows,
			outcomes.Row{Item: id, Prompt: id, Model: "vendor/weak", Cost: clearbar.MoneyFromUSD(0.0001), Pass: &weak},
			outcomes.Row{Item: id, Prompt: id, Model: "vendor/strong", Cost: clearbar.MoneyFromUSD(0.005), Pass: &strong})
	}
	rep, err := replay.Run(context.Background(), nil, source(rows), replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	return rep, b.String()
}

// TestChartLegendNamesEveryMark: the chart's legend has an entry for each kind of mark it
// draws (single model, oracle, cascade), each with its mark, and none for a kind it does not
// draw (the spec's routes, without a spec).
func TestChartLegendNamesEveryMark(t *testing.T) {
	_, page := boundReport(t)
	svg := regexp.MustCompile(`(?s)<svg.*?</svg>`).FindString(page)
	for _, want := range []string{
		`<circle cx="[\d.]+" cy="[\d.]+" r="4.5" fill="#333"/><text x="[\d.]+" y="[\d.]+" fill="#333">single model</text>`,
		`<path d="M[\d.]+ [\d.]+l6 6l-6 6l-6 -6z" fill="#f2c200" stroke="#333"/><text [^>]*>oracle \(a bound\)</text>`,
		`<rect [^>]*fill="none" stroke="#555"/><text [^>]*>cascade \(or a bound, as with a perfect validator\)</text>`,
	} {
		if !regexp.MustCompile(want).MatchString(svg) {
			t.Errorf("the legend lacks %s", want)
		}
	}
	if strings.Contains(svg, "spec's route") {
		t.Error("the legend names the spec's routes, which the chart does not draw")
	}
}

// TestChartLabelsTheBound: the cascade with a perfect validator, above and left of the strong
// model, is labelled on the chart as a bound, its models without their vendor prefix; the
// frontier note says that bounds are left out of the frontier.
func TestChartLabelsTheBound(t *testing.T) {
	rep, page := boundReport(t)
	bound := rep.Result("cascade vendor/weak → vendor/strong (perfect validator, a bound)")
	if bound == nil || bound.Realisable {
		t.Fatalf("no bound among %d results", len(rep.Results))
	}
	if strong := rep.Result("vendor/strong"); !(bound.Quality >= strong.Quality && bound.CostUSD() < strong.CostUSD()) {
		t.Fatalf("the bound (%v, %v) is not cheaper and better than the strong model (%v, %v)", bound.Quality, bound.CostUSD(), strong.Quality, strong.CostUSD())
	}
	if !regexp.MustCompile(`<text x="[\d.]+" y="[\d.]+" text-anchor="[a-z]+" fill="#555">weak → strong \(perfect validator, a bound\)</text>`).MatchString(page) {
		t.Error("the chart does not label the bound")
	}
	note := regexp.MustCompile(`<h2>Frontier</h2>\s*<p class="note">([^<]*)</p>`).FindStringSubmatch(page)
	if note == nil {
		t.Fatal("no frontier note")
	}
	for _, want := range []string{"left out of the frontier", "oracle", "perfect validator, a bound"} {
		if !strings.Contains(note[1], want) {
			t.Errorf("the frontier note %q does not say %q", note[1], want)
		}
	}
}
