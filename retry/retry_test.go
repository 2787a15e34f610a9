package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/clearbar/clearbar"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestDecideEveryClass(t *testing.T) {
	retried := map[clearbar.FailureClass]string{
		clearbar.RateLimited: "a 429 clears with time",
		clearbar.Overloaded:  "a 5xx overload usually clears with time",
		clearbar.Connection:  "the request may never have reached the upstream",
	}
	for _, tc := range []struct {
		class clearbar.FailureClass
		why   string
	}{
		{clearbar.OK, "nothing failed"},
		{clearbar.ClientError, "the same request fails the same way"},
		{clearbar.Auth, "the key is rotated instead"},
		{clearbar.RateLimited, retried[clearbar.RateLimited]},
		{clearbar.Overloaded, retried[clearbar.Overloaded]},
		{clearbar.Timeout, "a slow model stays slow: fall back"},
		{clearbar.Connection, retried[clearbar.Connection]},
		{clearbar.ContextTooLong, "the input will not shrink: fall back"},
		{clearbar.ContentPolicy, "the model refuses the same prompt again"},
		{clearbar.BadResponse, "a malformed answer: fall back"},
		{clearbar.StreamCut, "a cut stream: fall back"},
		{clearbar.Canceled, "the client is gone"},
		{clearbar.Quality, "validators escalate instead"},
		{clearbar.Internal, "Clearbar's own fault"},
	} {
		b := NewBudget(Policy{Attempts: 3, Backoff: time.Second}, t0.Add(time.Minute), rand.New(rand.NewPCG(1, 2)))
		_, ok, why := b.Decide(&clearbar.Error{Class: tc.class}, 0, t0)
		_, want := retried[tc.class]
		if ok != want {
			t.Errorf("%s: ok = %v, want %v (%s); why %q", tc.class, ok, want, tc.why, why)
		}
		if !ok && !strings.Contains(why, "not retried") {
			t.Errorf("%s: refusal reason %q does not say the class is not retried", tc.class, why)
		}
	}
	// Every class must be in the table above.
	for _, c := range clearbar.FailureClasses() {
		if _, ok := retried[c]; !ok && c.Action() == clearbar.RetrySame {
			t.Errorf("%s has action retry_same but the test does not expect it to retry", c)
		}
	}
	if n := len(clearbar.FailureClasses()); n != 14 {
		t.Errorf("%d failure classes; update the table above", n)
	}
}

func TestDecide(t *testing.T) {
	base := Policy{Attempts: 2, Backoff: 100 * time.Millisecond, MaxBackoff: time.Second, MaxRetryAfter: 5 * time.Second}
	for _, tc := range []struct {
		name     string
		policy   Policy
		err      *clearbar.Error
		retries  int
		deadline time.Duration // from t0; 0 means no deadline
		// The wait must be in [minWait, maxWait); equal bounds mean exactly minWait.
		minWait, maxWait time.Duration
		ok               bool
		whyHas           string
		explanation      string
	}{
		{"first retry", base, &clearbar.Error{Class: clearbar.Overloaded}, 0, time.Minute,
			0, 100 * time.Millisecond, true, "retry 1 of 2", "full jitter below the base backoff"},
		{"second retry doubles", base, &clearbar.Error{Class: clearbar.Connection}, 1, time.Minute,
			0, 200 * time.Millisecond, true, "retry 2 of 2", "the ceiling doubles per retry"},
		{"attempts exhausted", base, &clearbar.Error{Class: clearbar.Overloaded}, 2, time.Minute,
			0, 0, false, "exhausted (2 of 2)", "Attempts counts retries after the first call"},
		{"no attempts", Policy{}, &clearbar.Error{Class: clearbar.RateLimited}, 0, time.Minute,
			0, 0, false, "exhausted (0 of 0)", "the zero Policy never retries"},
		{"negative retries", base, &clearbar.Error{Class: clearbar.Overloaded}, -3, time.Minute,
			0, 100 * time.Millisecond, true, "retry 1 of 2", "a negative count is read as 0"},
		{"retry-after honoured", base, &clearbar.Error{Class: clearbar.RateLimited, RetryAfter: 3 * time.Second}, 0, time.Minute,
			3 * time.Second, 3 * time.Second, true, "after 3s (retry-after)", "the upstream's wait, even above MaxBackoff"},
		{"retry-after at the limit", base, &clearbar.Error{Class: clearbar.RateLimited, RetryAfter: 5 * time.Second}, 0, time.Minute,
			5 * time.Second, 5 * time.Second, true, "retry-after", "MaxRetryAfter itself is honoured"},
		{"retry-after too long", base, &clearbar.Error{Class: clearbar.RateLimited, RetryAfter: 6 * time.Second}, 0, time.Minute,
			0, 0, false, "retry-after 6s is longer than the 5s honoured: fall back", "a long wait means another model is better"},
		{"retry-after default limit", Policy{Attempts: 1}, &clearbar.Error{Class: clearbar.Overloaded, RetryAfter: 31 * time.Second}, 0, 0,
			0, 0, false, "longer than the 30s honoured", "MaxRetryAfter defaults to 30s"},
		{"retry-after on a non-retryable class", base, &clearbar.Error{Class: clearbar.Timeout, RetryAfter: time.Second}, 0, time.Minute,
			0, 0, false, "not retried (action fall_back)", "Retry-After never makes a class retryable"},
		{"retry-after past the deadline", base, &clearbar.Error{Class: clearbar.RateLimited, RetryAfter: 2 * time.Second}, 0, 2 * time.Second,
			0, 0, false, "would reach the deadline (2s left)", "no time would be left for the call"},
		{"retry-after before the deadline", base, &clearbar.Error{Class: clearbar.RateLimited, RetryAfter: 2 * time.Second}, 0, 2*time.Second + time.Millisecond,
			2 * time.Second, 2 * time.Second, true, "retry-after", "a millisecond left is enough to start"},
		{"backoff past the deadline", Policy{Attempts: 1, Backoff: time.Hour, MaxBackoff: time.Hour}, &clearbar.Error{Class: clearbar.Overloaded}, 0, time.Nanosecond,
			0, 0, false, "would reach the deadline", "a jittered wait is still checked against the deadline"},
		{"deadline passed", base, &clearbar.Error{Class: clearbar.Overloaded}, 0, -time.Second,
			0, 0, false, "(0s left)", "nothing is retried after the deadline, not even without a wait"},
		{"no deadline", base, &clearbar.Error{Class: clearbar.Overloaded}, 0, 0,
			0, 100 * time.Millisecond, true, "backoff", "a zero deadline is no deadline"},
		{"max backoff caps", Policy{Attempts: 10, Backoff: time.Second, MaxBackoff: 2 * time.Second}, &clearbar.Error{Class: clearbar.Overloaded}, 5, time.Minute,
			0, 2 * time.Second, true, "retry 6 of 10", "1s·2^5 is capped at 2s"},
		{"default max backoff", Policy{Attempts: 100, Backoff: time.Second}, &clearbar.Error{Class: clearbar.Overloaded}, 90, time.Minute,
			0, 8 * time.Second, true, "backoff", "MaxBackoff defaults to 8s; a huge shift does not overflow"},
		{"zero backoff", Policy{Attempts: 1}, &clearbar.Error{Class: clearbar.Connection}, 0, time.Minute,
			0, 0, true, "after 0s (backoff)", "no base backoff retries at once"},
		{"nil error", base, nil, 0, time.Minute,
			0, 0, false, "ok is not retried", "nothing failed"},
	} {
		var deadline time.Time
		if tc.deadline != 0 {
			deadline = t0.Add(tc.deadline)
		}
		b := NewBudget(tc.policy, deadline, rand.New(rand.NewPCG(7, 7)))
		wait, ok, why := b.Decide(tc.err, tc.retries, t0)
		if ok != tc.ok || !strings.Contains(why, tc.whyHas) {
			t.Errorf("%s: ok = %v, why %q; want %v and %q (%s)", tc.name, ok, why, tc.ok, tc.whyHas, tc.explanation)
		}
		inRange := wait >= tc.minWait && wait < tc.maxWait || wait == tc.minWait && tc.minWait == tc.maxWait
		if !inRange {
			t.Errorf("%s: wait %v, want in [%v, %v) (%s)", tc.name, wait, tc.minWait, tc.maxWait, tc.explanation)
		}
		wantRetries := 0
		if tc.ok {
			wantRetries = 1
		}
		if n, w := b.Spent(); n != wantRetries || w != wait {
			t.Errorf("%s: Spent() = %d, %v; want %d, %v", tc.name, n, w, wantRetries, wait)
		}
	}
}

func TestBudgetIsSharedAcrossModels(t *testing.T) {
	b := NewBudget(Policy{Attempts: 2, TotalRetries: 3, Backoff: time.Millisecond}, t0.Add(time.Minute), rand.New(rand.NewPCG(3, 4)))
	overloaded := &clearbar.Error{Class: clearbar.Overloaded}
	now := t0
	var total time.Duration
	// Model A: two retries; model B: its first retry is the request's third.
	for i, step := range []struct {
		retries int
		ok      bool
		why     string
	}{
		{0, true, "model A, retry 1"},
		{1, true, "model A, retry 2"},
		{2, false, "model A has no attempts left"},
		{0, true, "model B, retry 1: the request's third"},
		{1, false, "model B still has an attempt, but the request's budget is spent"},
	} {
		wait, ok, why := b.Decide(overloaded, step.retries, now)
		if ok != step.ok {
			t.Fatalf("step %d (%s): ok = %v (%s)", i, step.why, ok, why)
		}
		total += wait
		now = now.Add(wait)
	}
	if n, w := b.Spent(); n != 3 || w != total {
		t.Errorf("Spent() = %d, %v; want 3, %v", n, w, total)
	}
	if _, _, why := b.Decide(overloaded, 0, now); !strings.Contains(why, "retry budget is spent (3 of 3)") {
		t.Errorf("refusal reason %q", why)
	}
}

func TestRemaining(t *testing.T) {
	for _, tc := range []struct {
		deadline time.Time
		now      time.Time
		want     time.Duration
		why      string
	}{
		{t0.Add(time.Second), t0, time.Second, "time left"},
		{t0, t0, 0, "at the deadline"},
		{t0, t0.Add(time.Second), 0, "past the deadline is zero, not negative"},
		{time.Time{}, t0, noDeadline, "no deadline"},
	} {
		if got := NewBudget(Policy{}, tc.deadline, nil).Remaining(tc.now); got != tc.want {
			t.Errorf("Remaining = %v, want %v (%s)", got, tc.want, tc.why)
		}
	}
}

// TestJitter draws many backoff waits from a seeded source and checks that each lies in
// [0, ceiling) and that together they spread over the interval.
func TestJitter(t *testing.T) {
	p := Policy{Attempts: 10, Backoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	overloaded := &clearbar.Error{Class: clearbar.Overloaded}
	for retries, ceiling := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		ceiling *= time.Millisecond
		rnd := rand.New(rand.NewPCG(uint64(retries), 42))
		var low, high int
		for range 2000 {
			b := NewBudget(p, time.Time{}, rnd)
			wait, ok, _ := b.Decide(overloaded, retries, t0)
			if !ok || wait < 0 || wait >= ceiling {
				t.Fatalf("retries %d: wait %v, ok %v; want in [0, %v)", retries, wait, ok, ceiling)
			}
			if wait < ceiling/10 {
				low++
			}
			if wait >= ceiling-ceiling/10 {
				high++
			}
		}
		// Each tenth of the interval should get about 200 of 2000 draws.
		if low < 100 || high < 100 {
			t.Errorf("retries %d: %d draws in the lowest tenth, %d in the highest; want about 200 each", retries, low, high)
		}
	}
	// The same seed gives the same waits.
	a := NewBudget(p, time.Time{}, rand.New(rand.NewPCG(9, 9)))
	b := NewBudget(p, time.Time{}, rand.New(rand.NewPCG(9, 9)))
	for i := range 5 {
		wa, _, _ := a.Decide(overloaded, i, t0)
		wb, _, _ := b.Decide(overloaded, i, t0)
		if wa != wb {
			t.Fatalf("retry %d: seeded waits differ: %v and %v", i, wa, wb)
		}
	}
	// A nil source uses the package's own.
	if wait, ok, _ := NewBudget(p, time.Time{}, nil).Decide(overloaded, 0, t0); !ok || wait < 0 || wait >= 100*time.Millisecond {
		t.Errorf("nil source: wait %v, ok %v", wait, ok)
	}
}

func TestWait(t *testing.T) {
	for _, tc := range []struct {
		name     string
		wait     time.Duration
		cancelAt time.Duration // 0: never canceled; negative: canceled before Wait
		wantErr  error
		wantTook time.Duration
		why      string
	}{
		{"full sleep", 10 * time.Second, 0, nil, 10 * time.Second, "the timer fires"},
		{"canceled midway", 10 * time.Second, time.Second, context.Canceled, time.Second, "the context ends first"},
		{"canceled before", 10 * time.Second, -1, context.Canceled, 0, "an ended context returns at once"},
		{"zero wait", 0, 0, nil, 0, "nothing to wait for"},
		{"zero wait, canceled", 0, -1, context.Canceled, 0, "a zero wait still reports the ended context"},
		{"negative wait", -time.Second, 0, nil, 0, "a negative wait does not sleep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				switch {
				case tc.cancelAt < 0:
					cancel()
				case tc.cancelAt > 0:
					time.AfterFunc(tc.cancelAt, cancel)
				}
				start := time.Now()
				err := Wait(ctx, tc.wait)
				if took := time.Since(start); took != tc.wantTook || !errors.Is(err, tc.wantErr) {
					t.Errorf("Wait took %v and returned %v; want %v and %v (%s)", took, err, tc.wantTook, tc.wantErr, tc.why)
				}
			})
		})
	}
	t.Run("deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			if err := Wait(ctx, time.Minute); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Wait returned %v, want context.DeadlineExceeded", err)
			}
		})
	})
}
