package trace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// waitFor polls cond until it holds, failing the test after a while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRecorderOutlastsALockedStore: a store that refuses several writes in a row (a database
// another process holds locked for longer than the busy timeout, twice over) loses nothing
// while the queue has room: the batch is retried with backoff until the store takes it, and
// the decisions behind it wait in the queue. Before, a batch refused twice was lost for good.
func TestRecorderOutlastsALockedStore(t *testing.T) {
	verifyNoLeaks(t)
	mem := NewMemory(0)
	var calls atomic.Int64
	locked := &funcStore{Store: mem, write: func(ctx context.Context, ds []*clearbar.Decision) error {
		if calls.Add(1) <= 6 {
			return errors.New("database is locked (5) (SQLITE_BUSY)")
		}
		return mem.Write(ctx, ds)
	}}
	var drops dropCounter
	r := NewRecorder(locked, RecorderOptions{BatchSize: 4, FlushInterval: time.Millisecond, Logger: quietLogger, OnDrop: drops.onDrop})
	for i := range 50 {
		if !r.Record(smallDecision(fmt.Sprint("d-", i), testTime, "c", "m", clearbar.OK)) {
			t.Fatal("Record refused with room in the queue")
		}
	}
	waitFor(t, "the store to be refused six times", func() bool { return calls.Load() > 6 })
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.Written != 50 || st.Failed != 0 || st.Dropped != 0 || st.FailedBatches != 0 {
		t.Errorf("stats %+v, want all 50 written once the store took writes again", st)
	}
	if mem.Len() != 50 || drops.get(DropWriteFailed) != 0 {
		t.Errorf("store holds %d decisions, %d dropped as write_failed; want 50 and 0", mem.Len(), drops.get(DropWriteFailed))
	}
}

// TestRecorderGivesUpWhenTheQueueFills: a batch the store keeps refusing is given up only
// when the queue behind it is full, counted as failed and logged with that cause; the
// decisions queued behind it are written once the store recovers.
func TestRecorderGivesUpWhenTheQueueFills(t *testing.T) {
	verifyNoLeaks(t)
	mem := NewMemory(0)
	var calls atomic.Int64
	var healthy atomic.Bool
	store := &funcStore{Store: mem, write: func(ctx context.Context, ds []*clearbar.Decision) error {
		calls.Add(1)
		if !healthy.Load() {
			return errors.New("disk I/O error")
		}
		return mem.Write(ctx, ds)
	}}
	var logs lockedBuffer
	var drops dropCounter
	r := NewRecorder(store, RecorderOptions{QueueSize: 8, BatchSize: 2, FlushInterval: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), OnDrop: drops.onDrop})
	r.Record(smallDecision("first-0", testTime, "c", "m", clearbar.OK))
	r.Record(smallDecision("first-1", testTime, "c", "m", clearbar.OK))
	waitFor(t, "the first batch to be retried", func() bool { return calls.Load() >= 3 })
	if st := r.Stats(); st.Failed != 0 {
		t.Fatalf("stats %+v: the batch was given up with room in the queue", st)
	}
	for i := range 8 {
		if !r.Record(smallDecision(fmt.Sprint("later-", i), testTime, "c", "m", clearbar.OK)) {
			t.Fatalf("Record refused decision %d of 8 with a queue of 8", i)
		}
	}
	waitFor(t, "the first batch to be given up", func() bool { return r.Stats().Failed > 0 })
	healthy.Store(true)
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.Failed != 2 || st.FailedBatches != 1 || st.Written != 8 || st.Dropped != 0 {
		t.Errorf("stats %+v, want the first batch (2) failed and the 8 behind it written", st)
	}
	if drops.get(DropWriteFailed) != 2 {
		t.Errorf("OnDrop(write_failed) called %d times, want 2", drops.get(DropWriteFailed))
	}
	if _, err := mem.Get(t.Context(), "first-0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the given-up batch was stored after all: %v", err)
	}
	out := logs.String()
	for _, want := range []string{"decisions lost: the queue filled while the store refused the batch", "first-0", "disk I/O error"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// TestRecorderCloseMakesAFinalAttempt: at Close, a batch the store refuses gets one final
// attempt after a pause, which writes it when the store has recovered by then.
func TestRecorderCloseMakesAFinalAttempt(t *testing.T) {
	verifyNoLeaks(t)
	mem := NewMemory(0)
	var calls atomic.Int64
	store := &funcStore{Store: mem, write: func(ctx context.Context, ds []*clearbar.Decision) error {
		if calls.Add(1) == 1 {
			return errors.New("database is locked")
		}
		return mem.Write(ctx, ds)
	}}
	r := NewRecorder(store, RecorderOptions{FlushInterval: 20 * time.Millisecond, Logger: quietLogger})
	r.Record(smallDecision("d", testTime, "c", "m", clearbar.OK))
	start := time.Now()
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Written != 1 || st.Failed != 0 {
		t.Errorf("stats %+v, want the final attempt to write the decision", st)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
}
