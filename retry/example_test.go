package retry_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/retry"
)

// A request with one retry per model and a 10-second deadline: the first model is rate
// limited twice, so the request falls back; the second model asks for a wait longer than the
// gateway honours, so the request falls back again without waiting.
func ExampleBudget() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	b := retry.NewBudget(retry.Policy{Attempts: 1, Backoff: 250 * time.Millisecond},
		now.Add(10*time.Second), rand.New(rand.NewPCG(1, 1)))

	limited := &clearbar.Error{Class: clearbar.RateLimited, RetryAfter: 2 * time.Second}
	for retries := 0; ; retries++ {
		wait, ok, why := b.Decide(limited, retries, now)
		fmt.Println("model A:", why)
		if !ok {
			break
		}
		now = now.Add(wait) // retry.Wait(ctx, wait) in the gateway
	}
	_, _, why := b.Decide(&clearbar.Error{Class: clearbar.Overloaded, RetryAfter: time.Minute}, 0, now)
	fmt.Println("model B:", why)
	retries, waited := b.Spent()
	fmt.Println("spent:", retries, "retry,", waited, "waiting;", b.Remaining(now), "left")
	// Output:
	// model A: rate_limited: retry 1 of 1 after 2s (retry-after)
	// model A: rate_limited: retries of this model exhausted (1 of 1)
	// model B: overloaded: retry-after 1m0s is longer than the 30s honoured: fall back
	// spent: 1 retry, 2s waiting; 8s left
}
