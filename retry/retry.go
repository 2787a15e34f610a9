// Package retry decides whether and when to retry a failed upstream call, and reads and writes
// Retry-After.
//
// One [Budget] is created per request and shared by every model the request tries, so the
// gateway's retries and its fallbacks are bounded together: each model gets at most
// [Policy.Attempts] retries, the request as a whole at most [Policy.TotalRetries], and no wait
// may run past the request's deadline. The decision is made from the failure's class
// ([clearbar.FailureClass.Action]), never from a bare status code.
//
// The package does no I/O and reads no clock: callers pass the current time.
package retry

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/clearbar/clearbar"
)

// Defaults for the zero fields of a [Policy].
const (
	// DefaultMaxBackoff caps one backoff wait when Policy.MaxBackoff is zero.
	DefaultMaxBackoff = 8 * time.Second
	// DefaultMaxRetryAfter is the longest upstream Retry-After honoured when
	// Policy.MaxRetryAfter is zero.
	DefaultMaxRetryAfter = 30 * time.Second
)

// noDeadline is what Remaining reports for a budget without a deadline.
const noDeadline = time.Duration(math.MaxInt64)

// Policy is a request's retry settings. The zero Policy never retries.
type Policy struct {
	// Attempts is the number of retries of the same model after its first call; 0 (or a
	// negative number) disables retries.
	Attempts int
	// Backoff is the base backoff before the first retry; it doubles with each further retry
	// of the same model, up to MaxBackoff, and the actual wait is drawn uniformly from
	// [0, that ceiling) ("full jitter"). Zero retries without waiting unless the upstream
	// sent a Retry-After.
	Backoff time.Duration
	// MaxBackoff caps the ceiling of one backoff wait. Zero means DefaultMaxBackoff.
	MaxBackoff time.Duration
	// MaxRetryAfter is the longest upstream Retry-After honoured. A longer one refuses the
	// retry, so that the request falls back to another model instead of waiting. Zero means
	// DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration
	// TotalRetries caps the retries of the whole request, summed over every model it tries
	// (its fallbacks included). Zero means no cap beyond Attempts per model and the deadline.
	TotalRetries int
}

// withDefaults returns p with its zero and negative fields replaced by their defaults.
func (p Policy) withDefaults() Policy {
	p.Attempts = max(p.Attempts, 0)
	p.Backoff = max(p.Backoff, 0)
	p.TotalRetries = max(p.TotalRetries, 0)
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = DefaultMaxRetryAfter
	}
	return p
}

// ceiling returns the backoff ceiling before retry number retries+1 of one model:
// min(MaxBackoff, Backoff·2^retries), without overflowing.
func (p Policy) ceiling(retries int) time.Duration {
	d := p.Backoff
	for i := 0; i < retries && d > 0 && d < p.MaxBackoff; i++ {
		if d > p.MaxBackoff/2 {
			d = p.MaxBackoff
			break
		}
		d *= 2
	}
	return min(d, p.MaxBackoff)
}

// Budget is one request's retry and time budget. It counts the retries it approved and the
// waits it handed out, across every model the request tries.
//
// A Budget is not safe for concurrent use: a request runs on one goroutine. Create it with
// [NewBudget]; the zero Budget never retries.
type Budget struct {
	policy   Policy
	deadline time.Time
	rnd      *rand.Rand

	retries int
	waited  time.Duration
}

// NewBudget returns the budget of a request that must finish by deadline; a zero deadline
// means the request has none, and only the retry counts bound it. rnd draws the backoff
// jitter; nil means the package's own source (math/rand/v2's global generator, safe and
// randomly seeded). The Budget uses rnd from the request's goroutine only, so a *rand.Rand
// must not be shared with other goroutines.
func NewBudget(p Policy, deadline time.Time, rnd *rand.Rand) *Budget {
	return &Budget{policy: p.withDefaults(), deadline: deadline, rnd: rnd}
}

// Decide is called after a failed attempt on one model, with retries the number of retries
// already made for that model (0 after its first call). It reports whether to retry the same
// model, how long to wait first, and why, in words fit for a decision record.
//
// The rules, in order:
//   - a class whose Action is not RetrySame is never retried (a nil err is treated as OK);
//   - no retry once retries >= Attempts, or once the request spent TotalRetries;
//   - an err.RetryAfter longer than MaxRetryAfter refuses the retry, so the caller falls back;
//     a shorter positive one is the wait;
//   - otherwise the wait is a full-jitter backoff, uniform in [0, min(MaxBackoff, Backoff·2^retries));
//   - the retry is refused when the wait would reach the deadline, since no time would be left
//     for the call.
//
// An approved retry is counted as spent at once, wait included (see Spent). A refusal
// returns a zero wait. Decide draws from the random source only for a backoff wait.
func (b *Budget) Decide(err *clearbar.Error, retries int, now time.Time) (wait time.Duration, ok bool, why string) {
	class := clearbar.OK
	if err != nil {
		class = err.Class
	}
	if a := class.Action(); a != clearbar.RetrySame {
		return 0, false, fmt.Sprintf("%s is not retried (action %s)", class, a)
	}
	p := b.policy
	retries = max(retries, 0)
	if retries >= p.Attempts {
		return 0, false, fmt.Sprintf("%s: retries of this model exhausted (%d of %d)", class, retries, p.Attempts)
	}
	if p.TotalRetries > 0 && b.retries >= p.TotalRetries {
		return 0, false, fmt.Sprintf("%s: the request's retry budget is spent (%d of %d)", class, b.retries, p.TotalRetries)
	}
	how := "backoff"
	if ra := err.RetryAfter; ra > 0 {
		if ra > p.MaxRetryAfter {
			return 0, false, fmt.Sprintf("%s: retry-after %v is longer than the %v honoured: fall back", class, ra, p.MaxRetryAfter)
		}
		wait, how = ra, "retry-after"
	} else {
		wait = b.jitter(p.ceiling(retries))
	}
	if left := b.Remaining(now); wait >= left {
		return 0, false, fmt.Sprintf("%s: waiting %v (%s) would reach the deadline (%v left)", class, wait, how, left)
	}
	b.retries++
	b.waited += wait
	return wait, true, fmt.Sprintf("%s: retry %d of %d after %v (%s)", class, retries+1, p.Attempts, wait, how)
}

// jitter returns a wait drawn uniformly from [0, ceiling); 0 when ceiling is not positive.
func (b *Budget) jitter(ceiling time.Duration) time.Duration {
	if ceiling <= 0 {
		return 0
	}
	if b.rnd != nil {
		return time.Duration(b.rnd.Int64N(int64(ceiling)))
	}
	return time.Duration(rand.Int64N(int64(ceiling)))
}

// Remaining returns the time left before the deadline at now: zero once it has passed, and
// math.MaxInt64 (about 292 years) when the budget has no deadline. Callers use it to bound
// the next attempt and to decide whether a fallback is still worth trying.
func (b *Budget) Remaining(now time.Time) time.Duration {
	if b.deadline.IsZero() {
		return noDeadline
	}
	return max(b.deadline.Sub(now), 0)
}

// Spent returns the retries Decide approved so far, over every model, and the sum of the
// waits it handed out (whether or not the caller slept them in full).
func (b *Budget) Spent() (retries int, waited time.Duration) {
	return b.retries, b.waited
}

// Wait sleeps for d, or until ctx ends, whichever comes first. It returns nil after a full
// sleep and ctx.Err() when ctx ended first. A d of zero or less does not sleep and returns
// ctx.Err(). Wait uses a timer that it stops before returning, so nothing outlives it.
func Wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
