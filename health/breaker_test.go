package health

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type doneFunc = func(clearbar.FailureClass, time.Time)

// harness drives one breaker with a hand-moved clock.
type harness struct {
	b    *Breaker
	now  time.Time
	held []doneFunc // done functions of calls still in flight, oldest first
	last doneFunc   // the done function released last
}

// step is one action on a harness; it returns a non-empty string on failure.
type step struct {
	desc string
	run  func(h *harness) string
}

// calls makes n calls that finish at once with class.
func calls(n int, class clearbar.FailureClass) step {
	return step{fmt.Sprintf("%d × %s", n, class), func(h *harness) string {
		for i := range n {
			done, ok := h.b.Allow(h.now)
			if !ok {
				return fmt.Sprintf("call %d refused", i+1)
			}
			done(class, h.now)
		}
		return ""
	}}
}

// hold starts n calls and keeps them in flight.
func hold(n int) step {
	return step{fmt.Sprintf("hold %d", n), func(h *harness) string {
		for i := range n {
			done, ok := h.b.Allow(h.now)
			if !ok {
				return fmt.Sprintf("call %d refused", i+1)
			}
			h.held = append(h.held, done)
		}
		return ""
	}}
}

// release finishes the oldest call in flight with class.
func release(class clearbar.FailureClass) step {
	return step{"release " + class.String(), func(h *harness) string {
		if len(h.held) == 0 {
			return "no call in flight"
		}
		h.last, h.held = h.held[0], h.held[1:]
		h.last(class, h.now)
		return ""
	}}
}

// again calls the last released done function a second time.
func again(class clearbar.FailureClass) step {
	return step{"again " + class.String(), func(h *harness) string {
		h.last(class, h.now)
		return ""
	}}
}

func wait(d time.Duration) step {
	return step{"wait " + d.String(), func(h *harness) string {
		h.now = h.now.Add(d)
		return ""
	}}
}

func expect(want State) step {
	return step{"expect " + want.String(), func(h *harness) string {
		if got := h.b.State(h.now); got != want {
			return fmt.Sprintf("state %s", got)
		}
		return ""
	}}
}

func refused() step {
	return step{"refused", func(h *harness) string {
		done, ok := h.b.Allow(h.now)
		if ok {
			return "call allowed"
		}
		done(clearbar.OK, h.now) // a refused call's done is a harmless no-op
		return ""
	}}
}

func counts(failures, requests int64) step {
	return step{fmt.Sprintf("counts %d/%d", failures, requests), func(h *harness) string {
		st := h.b.status(h.now)
		if st.Failures != failures || st.Requests != requests {
			return fmt.Sprintf("counts %d/%d", st.Failures, st.Requests)
		}
		return ""
	}}
}

// open opens a default breaker by five failures in a row.
var open = calls(5, clearbar.Timeout)

func TestTransitions(t *testing.T) {
	noRun := Settings{ConsecutiveFailures: -1}
	cooldown := DefaultSettings().Cooldown
	for _, tc := range []struct {
		name        string
		settings    Settings
		steps       []step
		explanation string
	}{
		{"ratio opens", noRun,
			[]step{calls(10, clearbar.OK), calls(9, clearbar.Overloaded), expect(Closed), calls(1, clearbar.Overloaded), expect(Open)},
			"10 of 20 calls failed: the 0.5 ratio is reached with the minimum of 20 calls"},
		{"ratio needs min requests", noRun,
			[]step{calls(19, clearbar.Timeout), expect(Closed), counts(19, 19), calls(1, clearbar.Timeout), expect(Open)},
			"19 failures of 19 calls are too few calls to judge; the 20th opens it"},
		{"ratio below threshold", noRun,
			[]step{calls(11, clearbar.OK), calls(9, clearbar.RateLimited), expect(Closed), counts(9, 20)},
			"9 of 20 is below 0.5"},
		{"consecutive failures open", Settings{},
			[]step{calls(4, clearbar.Timeout), expect(Closed), calls(1, clearbar.Connection), expect(Open)},
			"5 failures in a row, far below the 20 calls the ratio needs"},
		{"success resets the run", Settings{},
			[]step{calls(4, clearbar.Timeout), calls(1, clearbar.OK), calls(4, clearbar.Timeout), expect(Closed)},
			"two runs of 4 are not a run of 5"},
		{"quality is a success", Settings{},
			[]step{calls(4, clearbar.Timeout), calls(1, clearbar.Quality), calls(4, clearbar.Timeout), expect(Closed)},
			"a rejected answer still proves the upstream answers"},
		{"neutral classes are not counted", Settings{},
			[]step{
				calls(4, clearbar.Timeout),
				calls(3, clearbar.Canceled), calls(3, clearbar.ClientError), calls(3, clearbar.ContextTooLong),
				calls(3, clearbar.ContentPolicy), calls(3, clearbar.Internal),
				expect(Closed), counts(4, 4), calls(1, clearbar.Timeout), expect(Open),
			},
			"neutral calls neither enter the window nor break the run of failures"},
		{"every provider failure counts", Settings{ConsecutiveFailures: 7},
			[]step{
				calls(1, clearbar.RateLimited), calls(1, clearbar.Overloaded), calls(1, clearbar.Timeout), calls(1, clearbar.Connection),
				calls(1, clearbar.BadResponse), calls(1, clearbar.StreamCut), expect(Closed), calls(1, clearbar.Auth), expect(Open),
			},
			"the seven classes with IsProviderFailure make a run of 7"},
		{"both triggers disabled", Settings{ConsecutiveFailures: -1, FailureRatio: -1},
			[]step{calls(100, clearbar.Overloaded), expect(Closed), counts(100, 100)},
			"negative settings disable each way of opening"},
		{"old calls leave the window", noRun,
			[]step{calls(19, clearbar.Timeout), wait(30 * time.Second), counts(0, 0), calls(1, clearbar.Timeout), expect(Closed), counts(1, 1)},
			"19 failures a full window ago are forgotten"},
		{"recent calls stay in the window", noRun,
			[]step{calls(10, clearbar.Timeout), wait(15 * time.Second), calls(9, clearbar.OK), counts(10, 19), calls(1, clearbar.Timeout), expect(Open)},
			"failures from half a window ago still count: 11 of 20"},
		{"the window slides by buckets", noRun,
			[]step{calls(10, clearbar.Timeout), wait(26 * time.Second), counts(10, 10), wait(3 * time.Second), counts(10, 10), wait(time.Second), counts(0, 0)},
			"calls leave the window a 3s bucket at a time, one full window later"},
		{"late reports are dropped", noRun,
			[]step{calls(1, clearbar.Timeout), wait(30 * time.Second), calls(1, clearbar.OK), wait(-30 * time.Second), calls(1, clearbar.Timeout), wait(30 * time.Second), counts(0, 1)},
			"a call reported with a time older than its recycled bucket is outside the window"},
		{"open refuses until the cooldown", Settings{},
			[]step{open, expect(Open), refused(), wait(cooldown - time.Millisecond), refused(), expect(Open), wait(time.Millisecond), expect(HalfOpen)},
			"open for exactly the 10s cooldown, then half-open"},
		{"half-open success closes", Settings{},
			[]step{open, wait(cooldown), calls(1, clearbar.OK), expect(Closed), counts(0, 0), calls(4, clearbar.Timeout), expect(Closed)},
			"closing starts a fresh window and a fresh run"},
		{"half-open failure doubles the cooldown", Settings{},
			[]step{
				open, wait(cooldown), calls(1, clearbar.Overloaded), expect(Open),
				wait(2*cooldown - time.Millisecond), refused(), wait(time.Millisecond), calls(1, clearbar.Overloaded),
				wait(4*cooldown - time.Millisecond), refused(), wait(time.Millisecond), calls(1, clearbar.OK), expect(Closed),
				open, wait(cooldown), expect(HalfOpen),
			},
			"10s, 20s, 40s; closing resets the cooldown to 10s"},
		{"cooldown is capped", Settings{Cooldown: 10 * time.Second, MaxCooldown: 25 * time.Second},
			[]step{
				open, wait(10 * time.Second), calls(1, clearbar.Timeout), wait(20 * time.Second), calls(1, clearbar.Timeout),
				wait(25*time.Second - time.Millisecond), refused(), wait(time.Millisecond), expect(HalfOpen),
			},
			"the third cooldown would be 40s; MaxCooldown caps it at 25s"},
		{"one probe at a time", Settings{},
			[]step{open, wait(cooldown), hold(1), refused(), release(clearbar.OK), expect(Closed)},
			"HalfOpenProbes 1 admits one probe until it finishes"},
		{"neutral probe frees its slot", Settings{},
			[]step{
				open, wait(cooldown), hold(1), release(clearbar.Canceled), expect(HalfOpen),
				calls(1, clearbar.ClientError), expect(HalfOpen), calls(1, clearbar.OK), expect(Closed),
			},
			"a canceled or invalid probe says nothing: the breaker stays half-open and admits another"},
		{"several probes", Settings{HalfOpenProbes: 3},
			[]step{
				open, wait(cooldown), hold(3), refused(), release(clearbar.OK), refused(), expect(HalfOpen),
				release(clearbar.OK), release(clearbar.OK), expect(Closed),
			},
			"3 probes at once; a finished successful probe does not free its slot; 3 successes close"},
		{"one failed probe reopens", Settings{HalfOpenProbes: 2},
			[]step{open, wait(cooldown), hold(2), release(clearbar.OK), release(clearbar.StreamCut), expect(Open), refused()},
			"the first probe failure reopens, even after a success"},
		{"late probes are ignored", Settings{HalfOpenProbes: 2},
			[]step{
				open, wait(cooldown), hold(2), release(clearbar.Overloaded), release(clearbar.OK), expect(Open),
				wait(2 * cooldown), hold(2), release(clearbar.OK), expect(HalfOpen), release(clearbar.OK), expect(Closed),
			},
			"a probe finishing after the breaker reopened neither closes it nor takes a slot later"},
		{"a probe's done is idempotent", Settings{HalfOpenProbes: 2},
			[]step{open, wait(cooldown), hold(2), release(clearbar.OK), again(clearbar.OK), expect(HalfOpen), release(clearbar.OK), expect(Closed)},
			"a second call of the same done is not a second success"},
		{"a stale success does not close", Settings{},
			[]step{hold(1), open, release(clearbar.OK), expect(Open)},
			"a call admitted while closed that succeeds after the breaker opened is ignored"},
		{"a stale failure does not reopen", Settings{},
			[]step{hold(1), open, wait(cooldown), hold(1), release(clearbar.Overloaded), expect(HalfOpen), release(clearbar.OK), expect(Closed)},
			"a call admitted while closed that fails during the half-open probe is not a probe"},
	} {
		h := &harness{b: NewBreaker(tc.settings), now: t0}
		for i, s := range tc.steps {
			if msg := s.run(h); msg != "" {
				t.Errorf("%s: step %d (%s): %s (%s)", tc.name, i+1, s.desc, msg, tc.explanation)
				break
			}
		}
	}
}

func TestBucketOf(t *testing.T) {
	b := &Breaker{width: 3}
	for _, tc := range []struct {
		ns, want int64
		why      string
	}{
		{0, 0, "the epoch starts bucket 0"},
		{2, 0, "the end of bucket 0"},
		{3, 1, "the start of bucket 1"},
		{-1, -1, "before the epoch rounds down, not toward zero"},
		{-3, -1, "the start of bucket -1"},
		{-4, -2, "the end of bucket -2"},
	} {
		if got := b.bucketOf(tc.ns); got != tc.want {
			t.Errorf("bucketOf(%d) = %d, want %d (%s)", tc.ns, got, tc.want, tc.why)
		}
	}
}

func TestOutcomeOfEveryClass(t *testing.T) {
	want := map[clearbar.FailureClass]struct {
		outcome outcome
		why     string
	}{
		clearbar.OK:             {success, "the upstream answered"},
		clearbar.ClientError:    {neutral, "the request's fault; the gateway may have rejected it before any call"},
		clearbar.Auth:           {failure, "the upstream cannot be used with our credentials"},
		clearbar.RateLimited:    {failure, "the upstream is saturated"},
		clearbar.Overloaded:     {failure, "the upstream is unable to serve"},
		clearbar.Timeout:        {failure, "the upstream is too slow"},
		clearbar.Connection:     {failure, "the upstream is unreachable"},
		clearbar.ContextTooLong: {neutral, "the request is too long for the model"},
		clearbar.ContentPolicy:  {neutral, "the prompt was refused, not the upstream broken"},
		clearbar.BadResponse:    {failure, "the upstream answered garbage"},
		clearbar.StreamCut:      {failure, "the upstream dropped the stream"},
		clearbar.Canceled:       {neutral, "the client left"},
		clearbar.Quality:        {success, "the answer arrived; the validators rejected it"},
		clearbar.Internal:       {neutral, "Clearbar's own fault"},
	}
	for _, c := range clearbar.FailureClasses() {
		w, ok := want[c]
		if !ok {
			t.Errorf("%s: not in the table", c)
			continue
		}
		if got := outcomeOf(c); got != w.outcome {
			t.Errorf("%s: outcome %d, want %d (%s)", c, got, w.outcome, w.why)
		}
		if (w.outcome == failure) != c.IsProviderFailure() {
			t.Errorf("%s: failure must be exactly IsProviderFailure", c)
		}
	}
}

func TestStateString(t *testing.T) {
	for _, tc := range []struct {
		s    State
		want string
	}{{Closed, "closed"}, {Open, "open"}, {HalfOpen, "half_open"}, {7, "state(7)"}} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("State(%d).String() = %q, want %q", tc.s, got, tc.want)
		}
		if b, _ := tc.s.MarshalText(); string(b) != tc.want {
			t.Errorf("State(%d).MarshalText() = %q, want %q", tc.s, b, tc.want)
		}
	}
}

func TestSettings(t *testing.T) {
	d := DefaultSettings()
	for _, tc := range []struct {
		name    string
		in      Settings
		want    Settings // after defaults
		invalid string   // part of Validate's error; empty if valid
		why     string
	}{
		{"zero", Settings{}, d, "", "every zero field takes its default"},
		{"one field", Settings{Cooldown: time.Minute}, func() Settings { s := d; s.Cooldown = time.Minute; return s }(), "",
			"a zero field keeps its default while others are set"},
		{"disabled triggers", Settings{FailureRatio: -1, ConsecutiveFailures: -1},
			func() Settings { s := d; s.FailureRatio, s.ConsecutiveFailures = -1, -1; return s }(), "",
			"negative values disable, and are kept"},
		{"max below cooldown", Settings{Cooldown: 10 * time.Minute},
			func() Settings { s := d; s.Cooldown, s.MaxCooldown = 10*time.Minute, 10*time.Minute; return s }(),
			"", "a default MaxCooldown below Cooldown is raised to it"},
		{"explicit max below cooldown", Settings{Cooldown: 10 * time.Minute, MaxCooldown: time.Minute},
			func() Settings { s := d; s.Cooldown, s.MaxCooldown = 10*time.Minute, 10*time.Minute; return s }(),
			"max cooldown 1m0s is below the cooldown 10m0s", "raised as well, but a written MaxCooldown below Cooldown is a mistake"},
		{"ratio above 1", Settings{FailureRatio: 1.5}, func() Settings { s := d; s.FailureRatio = 1.5; return s }(),
			"failure ratio 1.5: must be at most 1", "a ratio above 1 can never be reached"},
		{"tiny window", Settings{Window: time.Millisecond}, func() Settings { s := d; s.Window = time.Millisecond; return s }(),
			"window 1ms: must be at least 10ms", "too short to split into buckets"},
		{"negative counts", Settings{MinRequests: -1, HalfOpenProbes: -2}, d,
			"min requests -1", "negative counts are read as defaults but reported"},
	} {
		if got := tc.in.withDefaults(); got != tc.want {
			t.Errorf("%s: withDefaults() = %+v, want %+v (%s)", tc.name, got, tc.want, tc.why)
		}
		err := tc.in.Validate()
		switch {
		case tc.invalid == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil (%s)", tc.name, err, tc.why)
		case tc.invalid != "" && (err == nil || !strings.Contains(err.Error(), tc.invalid)):
			t.Errorf("%s: Validate() = %v, want %q (%s)", tc.name, err, tc.invalid, tc.why)
		}
	}
}

// TestConcurrentAllowDone hammers one breaker from many goroutines with a mix of classes
// while the clock moves, for the race detector, then checks the breaker still recovers: no
// probe slot leaked.
func TestConcurrentAllowDone(t *testing.T) {
	s := Settings{Window: 100 * time.Millisecond, MinRequests: 10, Cooldown: time.Millisecond, MaxCooldown: 8 * time.Millisecond, HalfOpenProbes: 2}
	b := NewBreaker(s)
	var clock atomic.Int64 // nanoseconds since t0
	classes := []clearbar.FailureClass{clearbar.OK, clearbar.OK, clearbar.OK, clearbar.Overloaded, clearbar.Canceled, clearbar.Timeout}
	var allowed, states [3]atomic.Int64
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(g), 1))
			for range 2000 {
				now := t0.Add(time.Duration(clock.Add(int64(10 * time.Microsecond))))
				st := b.State(now)
				states[st].Add(1)
				done, ok := b.Allow(now)
				if !ok {
					continue
				}
				allowed[st].Add(1)
				done(classes[rnd.IntN(len(classes))], now.Add(time.Duration(rnd.IntN(100))*time.Microsecond))
			}
		})
	}
	wg.Wait()
	t.Logf("states seen: closed %d, open %d, half-open %d; allowed %d, %d, %d",
		states[Closed].Load(), states[Open].Load(), states[HalfOpen].Load(),
		allowed[Closed].Load(), allowed[Open].Load(), allowed[HalfOpen].Load())
	if states[Open].Load() == 0 || allowed[HalfOpen].Load() == 0 {
		t.Errorf("the breaker never opened or never probed: the test does not exercise transitions")
	}
	// Every done has been called, so after the longest cooldown the breaker must admit
	// HalfOpenProbes probes and close.
	now := t0.Add(time.Duration(clock.Load()) + s.MaxCooldown)
	for range 2 {
		done, ok := b.Allow(now)
		if !ok {
			t.Fatalf("state %s: probe refused after the cooldown", b.State(now))
		}
		done(clearbar.OK, now)
	}
	if st := b.State(now); st != Closed {
		t.Errorf("state %s after two successful probes, want closed", st)
	}
}

// TestConcurrentProbes lets many goroutines race for the probes of a half-open breaker.
func TestConcurrentProbes(t *testing.T) {
	b := NewBreaker(Settings{HalfOpenProbes: 3})
	h := &harness{b: b, now: t0}
	open.run(h)
	now := t0.Add(DefaultSettings().Cooldown)
	start := make(chan struct{})
	dones := make(chan doneFunc, 100)
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			<-start
			if done, ok := b.Allow(now); ok {
				dones <- done
			}
		})
	}
	close(start)
	wg.Wait()
	close(dones)
	n := 0
	for done := range dones {
		n++
		done(clearbar.OK, now)
	}
	if n != 3 {
		t.Errorf("%d probes admitted, want 3", n)
	}
	if st := b.State(now); st != Closed {
		t.Errorf("state %s after 3 successful probes, want closed", st)
	}
}

func TestClosedPathDoesNotAllocate(t *testing.T) {
	b := NewBreaker(Settings{})
	now := t0
	allocs := testing.AllocsPerRun(1000, func() {
		now = now.Add(time.Millisecond)
		done, _ := b.Allow(now)
		done(clearbar.OK, now)
		done, _ = b.Allow(now)
		done(clearbar.Canceled, now)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per closed Allow and done, want 0", allocs)
	}
}

func BenchmarkAllowDone(b *testing.B) {
	br := NewBreaker(Settings{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now := t0.Add(time.Duration(i) * time.Microsecond)
		i++
		done, ok := br.Allow(now)
		if !ok {
			b.Fatal("refused")
		}
		done(clearbar.OK, now)
	}
}

// BenchmarkAllowDoneMixed has one failure in ten calls: below both thresholds, but every
// failure sums the window.
func BenchmarkAllowDoneMixed(b *testing.B) {
	br := NewBreaker(Settings{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now := t0.Add(time.Duration(i) * time.Microsecond)
		class := clearbar.OK
		if i%10 == 0 {
			class = clearbar.Overloaded
		}
		i++
		done, ok := br.Allow(now)
		if !ok {
			b.Fatal("refused")
		}
		done(class, now)
	}
}

func BenchmarkAllowDoneParallel(b *testing.B) {
	br := NewBreaker(Settings{})
	var clock atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			now := t0.Add(time.Duration(clock.Add(1000)))
			done, ok := br.Allow(now)
			if !ok {
				b.Fatal("refused")
			}
			done(clearbar.OK, now)
		}
	})
}
