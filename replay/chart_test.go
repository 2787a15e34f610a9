package replay_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/replay"
)

// TestChartZeroRouterFollowsTheMixes: the zero router is every random mix of the single
// models, so on the chart it passes through the points of the mix curve between them, on a
// logarithmic cost axis too (costs 100 times apart), and the axis says it is logarithmic.
func TestChartZeroRouterFollowsTheMixes(t *testing.T) {
	tests := []struct {
		name  string
		cheap float64 // micro-dollars per item of the weak model; the strong one's is 1000
	}{
		{name: "log axis", cheap: 10},
		{name: "linear axis", cheap: 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rows []outcomes.Row
			for i := range 100 {
				id := fmt.Sprintf("i%d", i)
				weak, strong := i%10 < 6, i%10 < 9
				rows = append(rows,
					outcomes.Row{Item: id, Prompt: id, Model: "weak", Cost: clearbar.MoneyFromUSD(tc.cheap / 1e6), Pass: &weak},
					outcomes.Row{Item: id, Prompt: id, Model: "strong", Cost: clearbar.MoneyFromUSD(1000 / 1e6), Pass: &strong})
			}
			rep, err := replay.Run(context.Background(), nil, source(rows), replay.Options{Include: []string{replay.KindMix}})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := rep.WriteHTML(&b); err != nil {
				t.Fatal(err)
			}
			page := b.String()
			num := func(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f }
			m := regexp.MustCompile(`<polyline points="([^"]*)"[^>]*><title>zero router`).FindStringSubmatch(page)
			if m == nil {
				t.Fatal("the chart has no zero router")
			}
			var xs, ys []float64
			for _, p := range strings.Fields(m[1]) {
				x, y, _ := strings.Cut(p, ",")
				xs, ys = append(xs, num(x)), append(ys, num(y))
			}
			at := func(x float64) float64 { // the drawn line's y at x
				for k := 0; k+1 < len(xs); k++ {
					if x >= xs[k] && x <= xs[k+1] && xs[k+1] > xs[k] {
						return ys[k] + (x-xs[k])/(xs[k+1]-xs[k])*(ys[k+1]-ys[k])
					}
				}
				return math.NaN()
			}
			points := regexp.MustCompile(`<circle cx="([\d.]+)" cy="([\d.]+)" r="1.8" fill="[^"]*"><title>mix weak/strong (\d+)%`).FindAllStringSubmatch(page, -1)
			if len(points) != 11 {
				t.Fatalf("%d points of the mix curve, want 11", len(points))
			}
			for _, p := range points {
				if y := at(num(p[1])); !(math.Abs(y-num(p[2])) <= 1.5) {
					t.Errorf("mix %s%%: at x %s the zero router is drawn at y %.1f, the mix at %s", p[3], p[1], y, p[2])
				}
			}
			if log := strings.Contains(page, "mean cost per item (USD, log scale)"); log != (tc.cheap == 10) {
				t.Errorf("the x axis says log scale: %v, want %v", log, tc.cheap == 10)
			}
		})
	}
}

// TestChartTooltipsWithoutCosts: when the data has no costs the x axis is the share of calls to the
// strong model, and the marks' tooltips say that share, not a cost of $0.
func TestChartTooltipsWithoutCosts(t *testing.T) {
	var rows []outcomes.Row
	for i := range 20 {
		id := fmt.Sprintf("i%d", i)
		weak, strong := i%10 < 6, i%10 < 9
		rows = append(rows,
			outcomes.Row{Item: id, Prompt: id, Model: "weak", Pass: &weak},
			outcomes.Row{Item: id, Prompt: id, Model: "strong", Pass: &strong})
	}
	rep, err := replay.Run(context.Background(), nil, source(rows), replay.Options{Include: []string{replay.KindMix}})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"<title>strong: quality 90%, 100% of calls to the strong model</title>", "<title>mix weak/strong 50%: quality 75%, 50% of calls to the strong model</title>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the chart lacks %q", want)
		}
	}
	if strings.Contains(page, "$0 per item") {
		t.Errorf("a tooltip prices a policy at $0 though the data has no costs")
	}
}

// TestChartDrawsTheFrontier: the chart draws the frontier as a staircase through its points,
// from the cheapest (the weak model) to the best (the strong one), and names it in the legend.
func TestChartDrawsTheFrontier(t *testing.T) {
	var rows []outcomes.Row
	for i := range 100 {
		id := fmt.Sprintf("i%d", i)
		weak, strong := i%10 < 6, i%10 < 9
		rows = append(rows,
			outcomes.Row{Item: id, Prompt: id, Model: "weak", Cost: clearbar.MoneyFromUSD(0.001), Pass: &weak},
			outcomes.Row{Item: id, Prompt: id, Model: "strong", Cost: clearbar.MoneyFromUSD(0.004), Pass: &strong})
	}
	rep, err := replay.Run(context.Background(), nil, source(rows), replay.Options{Include: []string{replay.KindMix}})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	m := regexp.MustCompile(`<polyline points="([^"]*)"[^>]*><title>frontier`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "┈ frontier") {
		t.Fatal("the chart does not draw the frontier, or its legend does not name it")
	}
	pts := strings.Fields(m[1])
	if len(pts) != 2*len(rep.Frontier)-1 {
		t.Errorf("%d points for a frontier of %d: want a step up at each point after the first", len(pts), len(rep.Frontier))
	}
	mark := func(model string) string {
		c := regexp.MustCompile(`<circle cx="([\d.]+)" cy="([\d.]+)" r="4.5" fill="#333"><title>` + model + `:`).FindStringSubmatch(page)
		if c == nil {
			t.Fatalf("no mark for %s", model)
		}
		return c[1] + "," + c[2]
	}
	if pts[0] != mark("weak") || pts[len(pts)-1] != mark("strong") {
		t.Errorf("the frontier runs from %s to %s; want from weak's mark %s to strong's %s", pts[0], pts[len(pts)-1], mark("weak"), mark("strong"))
	}
}
