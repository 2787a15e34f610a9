package review

import (
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/review/reviewtest"
)

// TestCanceledRequestsLeftOutOfLatencyAndCost: requests the gateway cut as it shut down, and
// those the client hung up on, ended part way: their latency is when they were cut and their
// cost a partial answer's. The category's latency and cost per request leave them out, as if
// they had not been recorded, and a note counts them.
func TestCanceledRequestsLeftOutOfLatencyAndCost(t *testing.T) {
	s := load(t, supportTriage)
	ds := traffic(s, 3000, 5, reviewtest.Traffic{})
	var kept []*clearbar.Decision
	cut := map[string][2]int{} // category → shutdown, client
	for i, d := range ds {
		if i%7 != 0 {
			kept = append(kept, d)
			continue
		}
		d.Outcome, d.Latency, d.Cost = clearbar.Canceled, 5*time.Second, clearbar.Money(1)
		n := cut[d.Category]
		if i%2 == 0 {
			d.Shutdown = true
			n[0]++
		} else {
			n[1]++
		}
		cut[d.Category] = n
	}
	all, without := analyze(t, s, ds, Options{Today: today}), analyze(t, s, kept, Options{Today: today})
	checked := 0
	for _, cv := range all.Categories {
		n := cut[cv.Name]
		if n[0]+n[1] == 0 {
			continue
		}
		for _, metric := range []string{"cost per request", "latency p50", "latency p95"} {
			got, want := comparison(all, cv.Name, "", metric), comparison(without, cv.Name, "", metric)
			if got == nil || want == nil {
				t.Fatalf("%s: no %s row", cv.Name, metric)
			}
			if got.Measured != want.Measured || got.N != want.N {
				t.Errorf("%s %s: measured %v over %d, want %v over %d as without the canceled requests", cv.Name, metric, got.Measured, got.N, want.Measured, want.N)
			}
			checked++
		}
		note := strings.Join(cv.Notes, "\n")
		for _, want := range []string{
			groupInt(n[0]+n[1]) + " canceled request(s)",
			groupInt(n[0]) + " cut by the gateway as it shut down",
			groupInt(n[1]) + " the client hung up on",
			"left out of the latency and the cost per request",
		} {
			if !strings.Contains(note, want) {
				t.Errorf("%s: notes %q do not say %q", cv.Name, cv.Notes, want)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no category had canceled requests")
	}
}
