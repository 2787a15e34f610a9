package review

import (
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar/review/reviewtest"
)

// TestTimeScaledModelLatenciesShown: with traffic answered at a time scale, every model with
// answered calls and a latency assumption has its latency p50 and p95 rows, shown beside the
// assumption and not tested, as the category's note says.
func TestTimeScaledModelLatenciesShown(t *testing.T) {
	s := load(t, supportTriage)
	ds := traffic(s, 4000, 11, reviewtest.Traffic{})
	for _, d := range ds {
		d.TimeScale = 0.01
		d.Latency = time.Duration(float64(d.Latency) * 0.01)
		for i := range d.Attempts {
			d.Attempts[i].Latency = time.Duration(float64(d.Attempts[i].Latency) * 0.01)
		}
	}
	rep := analyze(t, s, ds, Options{Today: today})
	rows := 0
	for _, cv := range rep.Categories {
		if cv.Requests == 0 {
			continue
		}
		for _, c := range cv.Comparisons {
			if c.Model == "" && c.Metric == "latency p95" && !strings.Contains(c.Note, "shown below beside its assumption, not tested") {
				t.Errorf("%s: category latency note %q", cv.Name, c.Note)
			}
			if c.Model == "" || !strings.HasPrefix(c.Metric, "latency p") {
				continue
			}
			rows++
			if c.Tested || c.Note != timeScaledNote || c.N == 0 || !(c.Assumed > 0) {
				t.Errorf("%s %s %s: %+v; want it shown beside its assumption, not tested", cv.Name, c.Model, c.Metric, c)
			}
		}
	}
	if rows == 0 {
		t.Fatal("no model latency row on time-scaled traffic")
	}
}
