package health_test

import (
	"fmt"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/health"
)

// An upstream fails five times in a row, so its breaker opens; after the cooldown one probe
// goes through, and its success closes the breaker.
func ExampleSet() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	set := health.NewSet(health.DefaultSettings(), func() time.Time { return now })
	b := set.Get(health.Key("openai", "gpt-4o"))

	for range 5 {
		if done, ok := b.Allow(now); ok {
			done(clearbar.Overloaded, now) // the call's outcome, when it has finished
		}
	}
	_, ok := b.Allow(now)
	fmt.Println("allowed:", ok, b.State(now), set.Snapshot()[0].Reason)

	now = now.Add(10 * time.Second)
	done, ok := b.Allow(now)
	fmt.Println("probe allowed:", ok, b.State(now))
	done(clearbar.OK, now)
	fmt.Println(b.State(now))
	// Output:
	// allowed: false open 5 failures in a row (last: overloaded)
	// probe allowed: true half_open
	// closed
}
