package health

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clearbar/clearbar"
)

// buckets is the number of buckets the failure-ratio window is split into.
const buckets = 10

// emptyBucket is the id of a bucket that holds no calls.
const emptyBucket = math.MinInt64

// bucket counts the calls of one Window/buckets slice of time.
type bucket struct {
	// id is the slice's number, the call time in Unix nanoseconds divided by the bucket
	// width; emptyBucket when the bucket was cleared.
	id atomic.Int64
	// counts holds failures in the high 32 bits and successes in the low 32 bits, so one
	// atomic add records a call.
	counts atomic.Uint64
}

const (
	oneSuccess = 1
	oneFailure = 1 << 32
)

// Breaker is the circuit breaker of one upstream. It is safe for concurrent use and must not
// be copied after first use. Create it with NewBreaker or Set.Get; the zero Breaker is not
// usable.
//
// While closed, Allow is one atomic load and the done function it returns a few atomic
// operations, with no locks and no allocations, except once per bucket width, when a bucket
// is recycled under a lock, and when a failure opens the breaker. Open, half-open and
// transitions take a mutex; a half-open probe allocates its done function.
//
// The window's counts are exact when calls are reported one at a time; under concurrency a
// call reported at a bucket boundary may be counted in the neighbouring bucket or dropped,
// which does not matter to a ratio over many calls.
type Breaker struct {
	s     Settings
	width int64 // bucket width in nanoseconds

	state         atomic.Uint32 // a State
	reopensAt     atomic.Int64  // Unix nanoseconds; meaningful while Open
	consecutive   atomic.Int64  // failures in a row while closed
	lastFailure   atomic.Uint32 // the class of the last failure reported; OK if none
	lastFailureAt atomic.Int64  // Unix nanoseconds of the last failure reported
	window        [buckets]bucket

	// doneClosed is recordClosed as a func value, made once so that Allow does not allocate.
	doneClosed func(clearbar.FailureClass, time.Time)

	// key is the breaker's key in its Set, and observer the Set's observer (see Set.Observe);
	// both are zero for a breaker made by NewBreaker.
	key      string
	observer *atomic.Pointer[func(Transition)]

	// mu guards the fields below, every change of state and the recycling of buckets.
	mu        sync.Mutex
	openedAt  time.Time     // when the breaker last opened; zero while closed
	cooldown  time.Duration // the current open period
	reason    string        // why the breaker last opened; empty while closed
	epoch     uint64        // bumped at every change of state, to recognise stale probes
	probes    int           // probes in flight while half-open
	succeeded int           // probes that succeeded while half-open
}

// NewBreaker returns a closed breaker with settings s; zero fields of s take their defaults
// (see Settings).
func NewBreaker(s Settings) *Breaker {
	s = s.withDefaults()
	b := &Breaker{s: s, width: max(int64(s.Window/buckets), 1), cooldown: s.Cooldown}
	for i := range b.window {
		b.window[i].id.Store(emptyBucket)
	}
	b.doneClosed = b.recordClosed
	return b
}

// Allow reports whether a call may go out at now. If ok, the caller must call done exactly
// once, when the call has finished, with the call's outcome class (OK for a success) and the
// time it finished. If not ok, done is a no-op that may be called or dropped.
//
// While closed every call is allowed. While open none is, until the cooldown has passed; then
// the breaker turns half-open and admits up to HalfOpenProbes probes at a time. A probe's
// done is idempotent; calling a closed breaker's done twice counts the outcome twice. A probe
// whose done is never called keeps its slot, so a breaker whose probes all leak stays
// half-open.
//
// How classes count:
//   - failures: every class whose IsProviderFailure is true;
//   - successes: OK, and Quality (the upstream delivered an answer; the gateway rejected it);
//   - neutral, not counted at all: Canceled, ClientError, ContextTooLong, ContentPolicy and
//     Internal. They do not reset a run of consecutive failures and do not close a half-open
//     breaker: a neutral probe frees its slot for the next probe.
//
// The outcome of a call admitted while closed is ignored if the breaker has opened since, and
// the outcome of a probe is ignored if the breaker has left that half-open period, except
// that every failure updates the last failure shown in Snapshot.
func (b *Breaker) Allow(now time.Time) (done func(class clearbar.FailureClass, now time.Time), ok bool) {
	switch State(b.state.Load()) {
	case Closed:
		return b.doneClosed, true
	case Open:
		if now.UnixNano() < b.reopensAt.Load() {
			return noop, false
		}
	}
	return b.allowSlow(now)
}

func noop(clearbar.FailureClass, time.Time) {}

// allowSlow is Allow for an open breaker whose cooldown has passed, and for a half-open one.
func (b *Breaker) allowSlow(now time.Time) (done func(clearbar.FailureClass, time.Time), ok bool) {
	var t Transition
	done, ok = b.allowLocked(now, &t)
	b.notify(t)
	return done, ok
}

// allowLocked is allowSlow under b.mu; it sets t when the breaker turns half-open.
func (b *Breaker) allowLocked(now time.Time, t *Transition) (done func(clearbar.FailureClass, time.Time), ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch State(b.state.Load()) {
	case Closed:
		return b.doneClosed, true
	case Open:
		if now.UnixNano() < b.reopensAt.Load() {
			return noop, false
		}
		b.state.Store(uint32(HalfOpen))
		b.epoch++
		b.probes, b.succeeded = 0, 0
		*t = b.transition(Open, HalfOpen, now)
	}
	if b.probes+b.succeeded >= b.s.HalfOpenProbes {
		return noop, false
	}
	b.probes++
	epoch, called := b.epoch, false
	return func(class clearbar.FailureClass, now time.Time) {
		b.recordProbe(epoch, &called, class, now)
	}, true
}

// State returns the breaker's state at now. An open breaker whose cooldown has passed is
// reported half-open: the next Allow makes it so.
func (b *Breaker) State(now time.Time) State {
	st := State(b.state.Load())
	if st == Open && now.UnixNano() >= b.reopensAt.Load() {
		return HalfOpen
	}
	return st
}

// recordClosed is the done function of calls admitted while closed.
func (b *Breaker) recordClosed(class clearbar.FailureClass, now time.Time) {
	o := outcomeOf(class)
	switch o {
	case neutral:
		return
	case failure:
		b.noteFailure(class, now)
	}
	if State(b.state.Load()) != Closed {
		return
	}
	ns := now.UnixNano()
	if o == success {
		b.add(ns, oneSuccess)
		if b.consecutive.Load() != 0 {
			b.consecutive.Store(0)
		}
		return
	}
	b.add(ns, oneFailure)
	if run := b.consecutive.Add(1); b.s.ConsecutiveFailures > 0 && run >= int64(b.s.ConsecutiveFailures) {
		b.trip(now, class, run, 0, 0)
		return
	}
	if b.s.FailureRatio > 0 {
		failures, requests := b.counts(ns)
		if requests >= int64(b.s.MinRequests) && float64(failures) >= b.s.FailureRatio*float64(requests) {
			b.trip(now, class, 0, failures, requests)
		}
	}
}

// recordProbe is the done function of a probe admitted in half-open period epoch; called
// makes it idempotent.
func (b *Breaker) recordProbe(epoch uint64, called *bool, class clearbar.FailureClass, now time.Time) {
	o := outcomeOf(class)
	if o == failure {
		b.noteFailure(class, now)
	}
	var t Transition
	b.mu.Lock()
	if *called || b.epoch != epoch {
		b.mu.Unlock()
		return
	}
	*called = true
	b.probes--
	switch o {
	case failure:
		next := b.s.MaxCooldown
		if b.cooldown <= b.s.MaxCooldown/2 {
			next = 2 * b.cooldown
		}
		b.open(now, next, "probe failed: "+class.String())
		t = b.transition(HalfOpen, Open, now)
	case success:
		b.succeeded++
		if b.succeeded >= b.s.HalfOpenProbes {
			b.close()
			t = b.transition(HalfOpen, Closed, now)
		}
	}
	b.mu.Unlock()
	b.notify(t)
}

// noteFailure records the last failure, for Snapshot.
func (b *Breaker) noteFailure(class clearbar.FailureClass, now time.Time) {
	b.lastFailure.Store(uint32(class))
	b.lastFailureAt.Store(now.UnixNano())
}

// trip opens a closed breaker, because of a run of failures (run > 0) or of the failure
// ratio in the window.
func (b *Breaker) trip(now time.Time, class clearbar.FailureClass, run, failures, requests int64) {
	b.mu.Lock()
	if State(b.state.Load()) != Closed {
		b.mu.Unlock()
		return
	}
	reason := fmt.Sprintf("%d of %d calls failed within %v (last: %s)", failures, requests, b.s.Window, class)
	if run > 0 {
		reason = fmt.Sprintf("%d failures in a row (last: %s)", run, class)
	}
	b.open(now, b.s.Cooldown, reason)
	t := b.transition(Closed, Open, now)
	b.mu.Unlock()
	b.notify(t)
}

// Transition is a change of a breaker's state, as a Set's observer sees it (Set.Observe).
type Transition struct {
	// Key is the breaker's key in its Set, "provider/model".
	Key      string
	From, To State
	// At is when it changed.
	At time.Time
	// Reason says why the breaker opened ("5 failures in a row (last: overloaded)", "probe
	// failed: timeout"), and Cooldown how long it stays open; both are zero unless To is Open.
	Reason   string
	Cooldown time.Duration
}

// transition describes a change of state from to to at now, with the reason and cooldown of
// an opening; b.mu must be held. It is zero when nobody observes the breaker.
func (b *Breaker) transition(from, to State, now time.Time) Transition {
	if b.observer == nil || b.observer.Load() == nil {
		return Transition{}
	}
	t := Transition{Key: b.key, From: from, To: to, At: now}
	if to == Open {
		t.Reason, t.Cooldown = b.reason, b.cooldown
	}
	return t
}

// notify hands t to the Set's observer, if t is a change (not zero) and there is an observer.
// b.mu must not be held: the observer may read the breaker.
func (b *Breaker) notify(t Transition) {
	if t.Key == "" || b.observer == nil {
		return
	}
	if f := b.observer.Load(); f != nil {
		(*f)(t)
	}
}

// open opens the breaker for cooldown. b.mu must be held.
func (b *Breaker) open(now time.Time, cooldown time.Duration, reason string) {
	b.openedAt, b.cooldown, b.reason = now, cooldown, reason
	b.reopensAt.Store(now.Add(cooldown).UnixNano())
	b.epoch++
	b.probes, b.succeeded = 0, 0
	b.state.Store(uint32(Open))
}

// close closes the breaker with a fresh window and the base cooldown. b.mu must be held.
func (b *Breaker) close() {
	b.openedAt, b.cooldown, b.reason = time.Time{}, b.s.Cooldown, ""
	b.epoch++
	b.probes, b.succeeded = 0, 0
	for i := range b.window {
		b.window[i].counts.Store(0)
		b.window[i].id.Store(emptyBucket)
	}
	b.consecutive.Store(0)
	b.state.Store(uint32(Closed))
}

// bucketOf returns the number of the bucket holding Unix nanosecond ns.
func (b *Breaker) bucketOf(ns int64) int64 {
	id := ns / b.width
	if ns < 0 && ns%b.width != 0 {
		id--
	}
	return id
}

// add counts a call at Unix nanosecond ns, recycling its bucket if it holds an older slice of
// time. A call older than the bucket's contents is outside the window and dropped.
func (b *Breaker) add(ns int64, delta uint64) {
	id := b.bucketOf(ns)
	bk := &b.window[uint64(id)%buckets]
	for {
		switch cur := bk.id.Load(); {
		case cur == id:
			bk.counts.Add(delta)
			return
		case cur > id:
			return
		}
		b.mu.Lock()
		if bk.id.Load() < id {
			bk.counts.Store(0)
			bk.id.Store(id)
		}
		b.mu.Unlock()
	}
}

// counts returns the failures and the counted calls in the window ending at Unix nanosecond ns.
func (b *Breaker) counts(ns int64) (failures, requests int64) {
	id := b.bucketOf(ns)
	for i := range b.window {
		bk := &b.window[i]
		if bid := bk.id.Load(); bid > id-buckets && bid <= id {
			c := bk.counts.Load()
			failures += int64(c >> 32)
			requests += int64(c>>32) + int64(c&math.MaxUint32)
		}
	}
	return failures, requests
}

// Status is one breaker's state as shown by GET /v1/admin/health.
type Status struct {
	// Key is the breaker's key in its Set, "provider/model".
	Key   string `json:"key"`
	State State  `json:"state"`
	// Requests and Failures count the calls in the window: successes and failures, not
	// neutral outcomes. Calls finished while the breaker is not closed are not counted.
	Requests int64 `json:"requests"`
	Failures int64 `json:"failures"`
	// ConsecutiveFailures is the current run of failures while closed.
	ConsecutiveFailures int64 `json:"consecutive_failures"`
	// OpenedAt is when the breaker last opened, zero while closed; Reason says why.
	OpenedAt time.Time `json:"opened_at,omitzero"`
	Reason   string    `json:"reason,omitempty"`
	// ReopensAt is when an open breaker will let a probe through; zero unless open.
	ReopensAt time.Time `json:"reopens_at,omitzero"`
	// LastFailureClass and LastFailureAt describe the last failure reported, in any state;
	// zero if there was none.
	LastFailureClass clearbar.FailureClass `json:"last_failure_class,omitzero"`
	LastFailureAt    time.Time             `json:"last_failure_at,omitzero"`
}

// status returns the breaker's Status at now, without its key. Times are in UTC.
func (b *Breaker) status(now time.Time) Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := Status{State: b.State(now), ConsecutiveFailures: b.consecutive.Load(), Reason: b.reason}
	st.Failures, st.Requests = b.counts(now.UnixNano())
	if !b.openedAt.IsZero() {
		st.OpenedAt = b.openedAt.UTC()
	}
	if st.State == Open {
		st.ReopensAt = b.openedAt.Add(b.cooldown).UTC()
	}
	if c := clearbar.FailureClass(b.lastFailure.Load()); c != clearbar.OK {
		st.LastFailureClass = c
		st.LastFailureAt = time.Unix(0, b.lastFailureAt.Load()).UTC()
	}
	return st
}
