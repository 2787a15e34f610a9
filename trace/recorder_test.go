package trace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/clearbar/clearbar"
)

// The recorder tests are not parallel: each checks that no goroutine outlives it.

// verifyNoLeaks checks, after every other cleanup of the test (stores closed), that no
// goroutine is left.
func verifyNoLeaks(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
}

// quietLogger discards log output.
var quietLogger = slog.New(slog.DiscardHandler)

// dropCounter counts OnDrop calls by reason.
type dropCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *dropCounter) onDrop(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[reason]++
}

func (c *dropCounter) get(reason string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[reason]
}

// TestRecorderConcurrentSlowStore records 10,000 decisions from 50 goroutines into a small
// queue in front of a slow SQLite store: every decision is either written or dropped, and
// exactly the accepted ones are stored.
func TestRecorderConcurrentSlowStore(t *testing.T) {
	verifyNoLeaks(t)
	db := openSQLite(t)
	slow := &funcStore{Store: db, write: func(ctx context.Context, ds []*clearbar.Decision) error {
		time.Sleep(2 * time.Millisecond)
		return db.Write(ctx, ds)
	}}
	var drops dropCounter
	r := NewRecorder(slow, RecorderOptions{QueueSize: 64, BatchSize: 16, FlushInterval: 5 * time.Millisecond,
		Logger: quietLogger, OnDrop: drops.onDrop})

	const goroutines, perGoroutine = 50, 200
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		accepted = map[string]bool{}
	)
	for g := range goroutines {
		wg.Go(func() {
			for i := range perGoroutine {
				id := fmt.Sprintf("g%02d-%03d", g, i)
				if r.Record(smallDecision(id, testTime.Add(time.Duration(g*perGoroutine+i)), "c", "m", clearbar.OK)) {
					mu.Lock()
					accepted[id] = true
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	st := r.Stats()
	const recorded = goroutines * perGoroutine
	if st.Written+st.Dropped != recorded || st.Failed != 0 || st.Queued != 0 {
		t.Errorf("stats %+v: written + dropped != %d recorded", st, recorded)
	}
	if st.Written != int64(len(accepted)) {
		t.Errorf("written %d, but Record accepted %d", st.Written, len(accepted))
	}
	if st.Dropped == 0 || st.Written == 0 {
		t.Errorf("stats %+v: the test should both write and drop", st)
	}
	if got := drops.get(DropQueueFull); int64(got) != st.Dropped {
		t.Errorf("OnDrop(queue_full) called %d times, Dropped = %d", got, st.Dropped)
	}
	stored, err := db.List(t.Context(), Filter{Limit: MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(accepted) {
		t.Errorf("store holds %d decisions, Record accepted %d", len(stored), len(accepted))
	}
	for _, d := range stored {
		if !accepted[d.ID] {
			t.Errorf("stored %s, which Record refused", d.ID)
		}
	}
	if st.Batches == 0 || st.Written/st.Batches > 16 {
		t.Errorf("stats %+v: batches must hold at most BatchSize decisions", st)
	}

	// After Close, Record refuses and counts.
	if r.Record(smallDecision("late", testTime, "c", "m", clearbar.OK)) {
		t.Error("Record after Close returned true")
	}
	if got := r.Stats().Dropped; got != st.Dropped+1 {
		t.Errorf("Dropped after a late Record = %d, want %d", got, st.Dropped+1)
	}
	if drops.get(DropClosed) != 1 {
		t.Errorf("OnDrop(closed) called %d times, want 1", drops.get(DropClosed))
	}
}

// TestRecorderFailingStore checks that, once Close was called, a batch the store refuses is
// tried a final time, then counted as failed.
func TestRecorderFailingStore(t *testing.T) {
	verifyNoLeaks(t)
	var calls atomic.Int64
	failing := &funcStore{write: func(ctx context.Context, ds []*clearbar.Decision) error {
		calls.Add(1)
		return errors.New("disk on fire")
	}}
	var drops dropCounter
	r := NewRecorder(failing, RecorderOptions{BatchSize: 4, FlushInterval: time.Millisecond, Logger: quietLogger, OnDrop: drops.onDrop})
	for i := range 10 {
		if !r.Record(smallDecision(fmt.Sprint("d-", i), testTime, "c", "m", clearbar.OK)) {
			t.Fatal("Record refused with an empty queue")
		}
	}
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.Failed != 10 || st.Written != 0 || st.Dropped != 0 || st.Queued != 0 || st.Batches != 0 {
		t.Errorf("stats %+v, want all 10 failed", st)
	}
	if st.FailedBatches < 3 || calls.Load() != 2*st.FailedBatches {
		t.Errorf("%d failed batches and %d Write calls, want at least 3 batches (of at most 4), each tried twice", st.FailedBatches, calls.Load())
	}
	if drops.get(DropWriteFailed) != 10 {
		t.Errorf("OnDrop(write_failed) called %d times, want 10", drops.get(DropWriteFailed))
	}
}

// TestRecorderRetrySucceeds checks that one failure is retried and not counted.
func TestRecorderRetrySucceeds(t *testing.T) {
	verifyNoLeaks(t)
	mem := NewMemory(0)
	var calls atomic.Int64
	flaky := &funcStore{Store: mem, write: func(ctx context.Context, ds []*clearbar.Decision) error {
		if calls.Add(1) == 1 {
			return errors.New("database is locked")
		}
		return mem.Write(ctx, ds)
	}}
	r := NewRecorder(flaky, RecorderOptions{FlushInterval: time.Millisecond, Logger: quietLogger})
	r.Record(fullDecision("d-1", testTime))
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Written != 1 || st.Failed != 0 || st.Batches != 1 || st.FailedBatches != 0 {
		t.Errorf("stats %+v, want the retry to write the decision", st)
	}
	if mem.Len() != 1 {
		t.Errorf("store holds %d decisions, want 1", mem.Len())
	}
}

// TestRecorderStorePanics checks that a panicking store costs its batches, not the process.
func TestRecorderStorePanics(t *testing.T) {
	verifyNoLeaks(t)
	mem := NewMemory(0)
	panicking := &funcStore{Store: mem, write: func(ctx context.Context, ds []*clearbar.Decision) error {
		if ds[0].ID == "boom" {
			panic("store bug")
		}
		return mem.Write(ctx, ds)
	}}
	r := NewRecorder(panicking, RecorderOptions{BatchSize: 1, FlushInterval: time.Millisecond, Logger: quietLogger})
	r.Record(smallDecision("boom", testTime, "c", "m", clearbar.OK))
	r.Record(smallDecision("fine", testTime, "c", "m", clearbar.OK))
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Failed != 1 || st.Written != 1 || st.FailedBatches != 1 {
		t.Errorf("stats %+v, want the panicking batch failed and the next one written", st)
	}
	if _, err := mem.Get(t.Context(), "fine"); err != nil {
		t.Errorf("the decision after the panic was not written: %v", err)
	}
}

func TestRecorderRefusesInvalidDecisions(t *testing.T) {
	verifyNoLeaks(t)
	var drops dropCounter
	r := NewRecorder(NewMemory(0), RecorderOptions{Logger: quietLogger, OnDrop: drops.onDrop})
	defer r.Close(t.Context())
	badClass := smallDecision("d", testTime, "c", "m", clearbar.OK)
	badClass.Attempts[0].Class = clearbar.FailureClass(99)
	for _, d := range []*clearbar.Decision{nil, smallDecision("", testTime, "c", "m", clearbar.OK), badClass} {
		if r.Record(d) {
			t.Errorf("Record(%v) accepted an invalid decision", d)
		}
	}
	if st := r.Stats(); st.Dropped != 3 || drops.get(DropInvalid) != 3 {
		t.Errorf("stats %+v, OnDrop(invalid) %d times; want 3 dropped", st, drops.get(DropInvalid))
	}
}

// TestRecorderFlush uses a FlushInterval longer than the test, so only Flush can write.
func TestRecorderFlush(t *testing.T) {
	verifyNoLeaks(t)
	db := openSQLite(t)
	r := NewRecorder(db, RecorderOptions{FlushInterval: time.Hour, Logger: quietLogger})
	defer r.Close(t.Context())
	ctx := t.Context()

	for round := range 3 {
		id := fmt.Sprint("d-", round)
		if !r.Record(fullDecision(id, testTime)) {
			t.Fatal("Record refused")
		}
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Get(ctx, id); err != nil {
			t.Fatalf("round %d: Get right after Flush: %v", round, err)
		}
	}
	// Flush with nothing pending returns at once.
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Written != 3 || st.Batches != 3 || st.Queued != 0 {
		t.Errorf("stats %+v, want 3 decisions in 3 batches", st)
	}
}

// TestRecorderFlushWritesEverythingBefore fills the queue behind a store that is blocked,
// then checks that one Flush covers all of it, in more than one batch.
func TestRecorderFlushWritesEverythingBefore(t *testing.T) {
	verifyNoLeaks(t)
	mem := NewMemory(0)
	release := make(chan struct{})
	var once sync.Once
	gated := &funcStore{Store: mem, write: func(ctx context.Context, ds []*clearbar.Decision) error {
		<-release
		return mem.Write(ctx, ds)
	}}
	r := NewRecorder(gated, RecorderOptions{BatchSize: 10, FlushInterval: time.Hour, Logger: quietLogger})
	defer r.Close(t.Context())
	defer once.Do(func() { close(release) })

	for i := range 45 {
		if !r.Record(smallDecision(fmt.Sprint("d-", i), testTime, "c", "m", clearbar.OK)) {
			t.Fatal("Record refused")
		}
	}
	// The writer is now blocked on the first full batch. A Flush with a short deadline
	// gives up.
	short, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := r.Flush(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Flush behind a blocked store = %v, want DeadlineExceeded", err)
	}
	once.Do(func() { close(release) })
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if mem.Len() != 45 {
		t.Errorf("after Flush the store holds %d decisions, want 45", mem.Len())
	}
}

// TestRecorderBatching runs in a synctest bubble, so FlushInterval passes on a fake clock.
func TestRecorderBatching(t *testing.T) {
	verifyNoLeaks(t)
	synctest.Test(t, func(t *testing.T) {
		mem := NewMemory(0)
		var batches []int
		var mu sync.Mutex
		counting := &funcStore{Store: mem, write: func(ctx context.Context, ds []*clearbar.Decision) error {
			mu.Lock()
			batches = append(batches, len(ds))
			mu.Unlock()
			return mem.Write(ctx, ds)
		}}
		r := NewRecorder(counting, RecorderOptions{BatchSize: 5, FlushInterval: 200 * time.Millisecond, Logger: quietLogger})
		next := 0
		rec := func(n int) {
			for range n {
				next++
				if !r.Record(smallDecision(fmt.Sprint("d-", next), testTime, "c", "m", clearbar.OK)) {
					t.Fatal("Record refused")
				}
			}
		}

		// Three decisions wait for the writer's tick, FlushInterval after it started.
		rec(3)
		time.Sleep(199 * time.Millisecond)
		synctest.Wait()
		if mem.Len() != 0 {
			t.Errorf("written %d before FlushInterval", mem.Len())
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if mem.Len() != 3 {
			t.Errorf("written %d at FlushInterval, want 3", mem.Len())
		}

		// A full batch is written without waiting; the rest waits for the next tick.
		rec(7)
		synctest.Wait()
		if mem.Len() != 8 {
			t.Errorf("written %d right after a full batch, want 8", mem.Len())
		}
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		if mem.Len() != 10 {
			t.Errorf("written %d after the interval, want 10", mem.Len())
		}

		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(batches) != "[3 5 2]" {
			t.Errorf("batch sizes %v, want [3 5 2]", batches)
		}
	})
}

// TestRecorderCloseDrains checks that Close writes what is queued without waiting for
// FlushInterval.
func TestRecorderCloseDrains(t *testing.T) {
	verifyNoLeaks(t)
	db := openSQLite(t)
	r := NewRecorder(db, RecorderOptions{BatchSize: 100, FlushInterval: time.Hour, Logger: quietLogger})
	for i := range 250 {
		r.Record(smallDecision(fmt.Sprint("d-", i), testTime, "c", "m", clearbar.OK))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Written != 250 || st.Batches != 3 {
		t.Errorf("stats %+v, want 250 written in 3 batches", st)
	}
	if err := r.Close(ctx); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Errorf("Flush after Close = %v, want nil (everything was written)", err)
	}
}

// TestRecorderCloseGivesUp checks that Close is bounded by its context even when the store
// hangs, and that the writer still exits once the store returns.
func TestRecorderCloseGivesUp(t *testing.T) {
	verifyNoLeaks(t)
	var drops dropCounter
	hanging := &funcStore{write: func(ctx context.Context, ds []*clearbar.Decision) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	r := NewRecorder(hanging, RecorderOptions{BatchSize: 2, FlushInterval: time.Millisecond, Logger: quietLogger, OnDrop: drops.onDrop})
	for i := range 5 {
		r.Record(smallDecision(fmt.Sprint("d-", i), testTime, "c", "m", clearbar.OK))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := r.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	// Waiting again lets the writer finish; every decision is accounted for.
	err = r.Close(t.Context())
	if !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed (decisions abandoned)", err)
	}
	st := r.Stats()
	if st.Dropped != 5 || st.Written != 0 || st.Failed != 0 || st.Queued != 0 {
		t.Errorf("stats %+v, want 5 dropped", st)
	}
	if drops.get(DropAbandoned) != 5 {
		t.Errorf("OnDrop(abandoned) called %d times, want 5", drops.get(DropAbandoned))
	}
	if err := r.Flush(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after an abandoning Close = %v, want ErrClosed", err)
	}
}

// lockedBuffer is a bytes.Buffer safe for the writer goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRecorderLogsIDsOnly makes a real SQLite store fail and checks that the log names the
// lost decisions by ID and never shows their text.
func TestRecorderLogsIDsOnly(t *testing.T) {
	verifyNoLeaks(t)
	db := openSQLite(t)
	if _, err := db.DB().Exec(`CREATE TRIGGER refuse BEFORE INSERT ON decisions
		BEGIN SELECT RAISE(ABORT, 'disk quota exceeded'); END`); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := NewRecorder(db, RecorderOptions{FlushInterval: time.Millisecond, Logger: logger})

	d := fullDecision("d-secret-test", testTime)
	secrets := []string{"sk-live-PROMPT-SECRET-123", "ANSWER-SECRET-456", "REASON-TEXT-789", "RULE-ERROR-TEXT"}
	d.Prompt = "My API key is " + secrets[0] + ", please help"
	d.Answer = "Here is " + secrets[1]
	d.Reason = secrets[2]
	d.Rules[0].Error = secrets[3]
	r.Record(d)
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Failed != 1 {
		t.Fatalf("stats %+v, want the decision failed", st)
	}
	out := logs.String()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("log output contains decision text %q:\n%s", s, out)
		}
	}
	for _, want := range []string{"d-secret-test", "disk quota exceeded", "retrying while the queue has room", "decisions lost: the recorder is closing"} {
		if !strings.Contains(out, want) {
			t.Errorf("log output lacks %q:\n%s", want, out)
		}
	}
}

// TestRecorderReportsDrops checks that dropped decisions are logged, not only counted.
func TestRecorderReportsDrops(t *testing.T) {
	verifyNoLeaks(t)
	var logs lockedBuffer
	mem := NewMemory(0)
	release := make(chan struct{})
	gated := &funcStore{Store: mem, write: func(ctx context.Context, ds []*clearbar.Decision) error {
		<-release
		return mem.Write(ctx, ds)
	}}
	r := NewRecorder(gated, RecorderOptions{QueueSize: 2, BatchSize: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for i := range 10 {
		r.Record(smallDecision(fmt.Sprint("d-", i), testTime, "c", "m", clearbar.OK))
	}
	close(release)
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.Dropped == 0 || st.Written+st.Dropped != 10 {
		t.Fatalf("stats %+v", st)
	}
	if !strings.Contains(logs.String(), "trace: decisions dropped") {
		t.Errorf("drops were not logged:\n%s", logs.String())
	}
}
