package trace

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// listBenchRows is the size of the table BenchmarkList100k reads.
const listBenchRows = 100_000

// listBenchDecision returns the i-th decision of BenchmarkList100k's table: realistic
// decisions one 10 ms apart, in 10 categories of which "c0" is 40% and "rare" 0.2%, served by
// 4 models, 97% ok and 1% timeouts.
func listBenchDecision(tmpl *clearbar.Decision, i int) *clearbar.Decision {
	d := *tmpl
	d.ID = fmt.Sprintf("dec_%012x", i)
	d.Time = testTime.Add(time.Duration(i) * 10 * time.Millisecond)
	switch {
	case i%500 == 7:
		d.Category = "rare"
	case i%5 < 2:
		d.Category = "c0"
	default:
		d.Category = fmt.Sprint("c", 1+i%9)
	}
	d.Model = fmt.Sprint("model-", i%4)
	switch {
	case i%100 == 3:
		d.Outcome = clearbar.Timeout
	case i%100 == 4 || i%100 == 5:
		d.Outcome = clearbar.RateLimited
	default:
		d.Outcome = clearbar.OK
	}
	return &d
}

// BenchmarkList100k measures List on a table of 100,000 decisions (written once, outside
// the timer), newest first, limit 100 unless said otherwise.
func BenchmarkList100k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "trace.db")
	db, err := OpenSQLite(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tmpl := realisticDecision()
	batch := make([]*clearbar.Decision, 0, 256)
	for i := range listBenchRows {
		batch = append(batch, listBenchDecision(tmpl, i))
		if len(batch) == cap(batch) || i == listBenchRows-1 {
			if err := db.Write(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	at := func(i int) time.Time { return testTime.Add(time.Duration(i) * 10 * time.Millisecond) }
	for _, c := range []struct {
		name string
		f    Filter
		want int
	}{
		{"newest", Filter{}, 100},
		{"window", Filter{Since: at(50_000), Until: at(50_050)}, 50},
		{"category-40pct", Filter{Category: "c0"}, 100},
		{"category-0.2pct", Filter{Category: "rare"}, 100},
		{"category-absent", Filter{Category: "nope"}, 0},
		{"model-25pct", Filter{Model: "model-1"}, 100},
		{"outcome-1pct", Filter{Outcome: "timeout"}, 100},
		{"category-0.2pct-in-window", Filter{Category: "rare", Since: at(40_000), Until: at(60_000)}, 40},
		{"limit-1000", Filter{Limit: 1000}, 1000},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				got, err := db.List(context.Background(), c.f)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != c.want {
					b.Fatalf("List(%+v) returned %d decisions, want %d", c.f, len(got), c.want)
				}
			}
		})
	}
}
