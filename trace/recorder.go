package trace

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clearbar/clearbar"
)

// Reasons passed to RecorderOptions.OnDrop, one call per decision lost.
const (
	// DropQueueFull: Record found the queue full (the store is slower than the traffic).
	DropQueueFull = "queue_full"
	// DropClosed: Record was called after Close.
	DropClosed = "closed"
	// DropInvalid: Record was given a nil decision, one without an ID, or one holding a
	// failure class that has no name; no store could keep it.
	DropInvalid = "invalid"
	// DropWriteFailed: the store kept refusing the decision's batch until the queue filled
	// behind it, or refused it again on its final attempt after Close (see Recorder).
	DropWriteFailed = "write_failed"
	// DropAbandoned: Close's context ended before the decision could be written.
	DropAbandoned = "abandoned"
)

// RecorderOptions configure a Recorder. The zero value gives the defaults.
type RecorderOptions struct {
	// QueueSize is how many decisions can wait for the writer; Record drops decisions beyond
	// it. 0 means 10,000. The queue holds pointers, so its memory is that of the decisions
	// waiting in it.
	QueueSize int
	// BatchSize is the most decisions written in one Store.Write (one transaction). 0 means
	// 256.
	BatchSize int
	// FlushInterval is the longest a decision waits for its batch to fill before the batch is
	// written anyway, and the first pause before a failed batch is retried (the pause then
	// doubles, up to MaxRetryWait). 0 means 200ms.
	FlushInterval time.Duration
	// Logger receives write failures (the store's error, decision IDs and counts, never
	// decision contents), store panics with their stack, and, at most every 10 seconds, the
	// number of decisions dropped. nil means slog.Default().
	Logger *slog.Logger
	// OnDrop, if not nil, is called once per decision lost, with one of the Drop* reasons,
	// for metrics. It is called from Record's caller and from the writer goroutine, so it
	// must be safe for concurrent use, fast and non-blocking, and must not call back into
	// the Recorder.
	OnDrop func(reason string)
}

// Recorder option defaults.
const (
	DefaultQueueSize     = 10_000
	DefaultBatchSize     = 256
	DefaultFlushInterval = 200 * time.Millisecond
)

// dropReportInterval is the least time between two log lines about dropped decisions, and
// between two log lines about a batch the store keeps refusing.
const dropReportInterval = 10 * time.Second

// MaxRetryWait is the longest pause between two attempts at writing a batch the store refused.
const MaxRetryWait = 5 * time.Second

// maxLoggedIDs caps the decision IDs listed in one log line about a lost batch.
const maxLoggedIDs = 32

// Recorder queues decisions for a Store, off the request path.
//
// Record never blocks: it puts the decision on a bounded queue, or drops and counts it when
// the queue is full. One writer goroutine, started by NewRecorder and owned by the Recorder,
// takes decisions from the queue in arrival order and writes them in batches of up to
// BatchSize, every FlushInterval or as soon as a batch is full: a decision waits at most
// FlushInterval plus a write, and recording wakes no goroutine per request.
//
// A batch the store refuses (a database locked by another process, a full disk) is retried
// with backoff, FlushInterval doubling up to MaxRetryWait, for as long as the queue has room:
// new decisions keep queueing behind it, and nothing is lost while the store recovers within
// what the queue holds. The batch is given up, counted as failed (DropWriteFailed) and logged
// with its IDs only (never prompt or answer text) and the cause, when the queue is full (from
// then on Record would drop new decisions instead), or, once Close was called, when the store
// refuses it again on a final attempt after one more pause. A store that panics is treated as
// one that failed.
//
// Every decision passed to Record ends up counted exactly once in RecorderStats as Written,
// Dropped or Failed; until then it counts as Queued.
//
// A Recorder is safe for concurrent use. Close it (which drains the queue) before closing
// its Store.
type Recorder struct {
	store  Store
	opts   RecorderOptions
	log    *slog.Logger
	onDrop func(string)

	// mu is held shared by Record while it sends on queue, and exclusively by Close to close
	// queue, so that no send can reach a closed channel.
	mu     sync.RWMutex
	closed bool
	queue  chan *clearbar.Decision
	flushc chan chan struct{}
	// kick wakes the writer early when the queue holds a whole batch; stop tells it that
	// Close closed the queue. Otherwise it wakes every FlushInterval: a decision's arrival
	// does not wake it, so that recording costs the request path no goroutine wake-up.
	kick chan struct{}
	stop chan struct{}

	// ctx is passed to Store.Write; cancel ends it when Close gives up (and when the writer
	// returns).
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the writer goroutine has returned

	// Owned by the writer goroutine.
	pending        []*clearbar.Decision
	reportedDrops  int64
	lastDropReport time.Time

	accepted, written, dropped, failed, abandoned, batches, failedBatches atomic.Int64
}

// RecorderStats are a Recorder's counters, in decisions unless said otherwise.
type RecorderStats struct {
	// Queued counts decisions accepted by Record that are not yet written, failed or
	// abandoned (in the queue or in the batch being written).
	Queued int64
	// Written counts decisions the store has committed.
	Written int64
	// Dropped counts decisions refused by Record (queue full, closed, invalid) and those
	// abandoned when Close's context ended.
	Dropped int64
	// Failed counts decisions lost because the store kept refusing their batch (see
	// Recorder).
	Failed int64
	// Batches and FailedBatches count Store.Write batches committed and lost.
	Batches, FailedBatches int64
}

// NewRecorder returns a Recorder writing to s (which must not be nil) and starts its writer
// goroutine. Call Close to stop it.
func NewRecorder(s Store, o RecorderOptions) *Recorder {
	if s == nil {
		panic("trace: NewRecorder with a nil Store")
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	r := &Recorder{
		store:   s,
		opts:    o,
		log:     o.Logger,
		onDrop:  o.OnDrop,
		queue:   make(chan *clearbar.Decision, o.QueueSize),
		flushc:  make(chan chan struct{}),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		pending: make([]*clearbar.Decision, 0, o.BatchSize),
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	go r.writeLoop()
	return r
}

// Record queues d to be written and reports whether it was accepted. It never waits for the
// writer or the store (its only lock is one Close holds just long enough to close the
// queue): when the queue is full, the Recorder is closed, or d cannot be stored (nil, no ID,
// a failure class without a name), d is dropped, counted, and Record returns false. After
// Record returns true the Recorder owns d: the caller must not modify it. Record does not
// allocate.
func (r *Recorder) Record(d *clearbar.Decision) bool {
	if validate(d) != nil {
		r.drop(DropInvalid, 1)
		return false
	}
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		r.drop(DropClosed, 1)
		return false
	}
	r.accepted.Add(1)
	select {
	case r.queue <- d:
		r.mu.RUnlock()
		if len(r.queue) >= r.opts.BatchSize {
			select {
			case r.kick <- struct{}{}:
			default:
			}
		}
		return true
	default:
		r.accepted.Add(-1)
		r.mu.RUnlock()
		r.drop(DropQueueFull, 1)
		return false
	}
}

// Flush waits until every decision Record accepted before the call has been through the
// store (written, or failed and counted), writing the pending batch at once instead of
// waiting for FlushInterval. It is for tests, and for a handler that must read a decision
// back right after recording it (GET /v1/decisions/{id} following the request): without
// Flush a decision becomes readable up to FlushInterval plus one write later.
//
// Flush does not report write failures (Stats does). It returns ctx's error if ctx ends
// first, and after Close it returns nil, or an error wrapping ErrClosed if Close abandoned
// decisions. Flush costs one batch write; calling it per request defeats batching.
func (r *Recorder) Flush(ctx context.Context) error {
	reply := make(chan struct{})
	select {
	case r.flushc <- reply:
	case <-r.done:
		return r.closedErr()
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-reply:
		return nil
	case <-r.done:
		return r.closedErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting decisions, writes what is queued and waits for the writer goroutine
// to return. If ctx ends first, Close cancels the write in progress, gives up the decisions
// still queued (counted as Dropped, reason DropAbandoned) and returns at once with an error
// wrapping ctx's; the writer then returns as soon as the store gives back control. Calling
// Close again waits again; Record returns false after the first call.
func (r *Recorder) Close(ctx context.Context) error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.queue)
		close(r.stop)
	}
	r.mu.Unlock()
	select {
	case <-r.done:
		return r.closedErr()
	default:
	}
	select {
	case <-r.done:
		return r.closedErr()
	case <-ctx.Done():
		r.cancel()
		return fmt.Errorf("trace: recorder close: %w (about %d queued decisions abandoned)", ctx.Err(), r.Stats().Queued)
	}
}

// closedErr is what Flush and Close report once the writer has returned.
func (r *Recorder) closedErr() error {
	if n := r.abandoned.Load(); n > 0 {
		return fmt.Errorf("%w: %d decisions abandoned when the recorder closed", ErrClosed, n)
	}
	return nil
}

// Stats returns the counters. They are read one by one, so while decisions are moving they
// may be off by the decisions in flight; once Close has returned nil they add up exactly.
func (r *Recorder) Stats() RecorderStats {
	s := RecorderStats{
		Written:       r.written.Load(),
		Dropped:       r.dropped.Load(),
		Failed:        r.failed.Load(),
		Batches:       r.batches.Load(),
		FailedBatches: r.failedBatches.Load(),
	}
	s.Queued = max(0, r.accepted.Load()-s.Written-s.Failed-r.abandoned.Load())
	return s
}

// drop counts n decisions lost for reason and tells OnDrop.
func (r *Recorder) drop(reason string, n int) {
	switch reason {
	case DropWriteFailed:
		r.failed.Add(int64(n))
	case DropAbandoned:
		r.abandoned.Add(int64(n))
		r.dropped.Add(int64(n))
	default:
		r.dropped.Add(int64(n))
	}
	if r.onDrop != nil {
		for range n {
			r.onDrop(reason)
		}
	}
}

// writeLoop is the writer goroutine. It wakes every FlushInterval, when the queue holds a
// whole batch (kick), for Flush, and for Close, and writes what is queued in batches of up to
// BatchSize. It returns when the queue is closed and drained.
func (r *Recorder) writeLoop() {
	defer close(r.done)
	defer r.cancel()
	defer r.recoverWriter()

	tick := time.NewTicker(r.opts.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			r.take()
			r.writePending()
		case <-r.kick:
			r.take() // whole batches only; the rest waits for the tick
		case reply := <-r.flushc:
			// Everything accepted before Flush was called is in the queue or pending: only
			// this goroutine receives from the queue.
			r.take()
			r.writePending()
			close(reply)
			continue
		case <-r.stop:
			for d := range r.queue {
				r.pending = append(r.pending, d)
				if len(r.pending) == r.opts.BatchSize {
					r.writePending()
				}
			}
			r.writePending()
			return
		}
	}
}

// take moves the queued decisions to pending, writing each batch as it fills.
func (r *Recorder) take() {
	for n := len(r.queue); n > 0; n-- {
		d, ok := <-r.queue
		if !ok {
			return
		}
		r.pending = append(r.pending, d)
		if len(r.pending) == r.opts.BatchSize {
			r.writePending()
		}
	}
}

// recoverWriter keeps a fault in the writer loop from taking the process down: it logs the
// panic, closes the Recorder so that Record refuses further decisions, and counts the pending
// and queued decisions as abandoned.
func (r *Recorder) recoverWriter() {
	p := recover()
	if p == nil {
		return
	}
	r.log.Error("trace: recorder writer panicked; recording stopped", "panic", p, "stack", string(debug.Stack()))
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.queue)
		close(r.stop)
	}
	r.mu.Unlock()
	n := len(r.pending)
	r.pending = nil
	for range r.queue {
		n++
	}
	r.drop(DropAbandoned, n)
}

// writePending writes the pending batch, retrying as Recorder describes, and settles its
// count.
func (r *Recorder) writePending() {
	batch := r.pending
	if len(batch) == 0 {
		return
	}
	defer func() {
		clear(batch)
		r.pending = batch[:0]
		r.reportDrops()
	}()
	if r.ctx.Err() != nil {
		r.drop(DropAbandoned, len(batch))
		return
	}
	wait := r.opts.FlushInterval
	final := false // the next attempt is the last one: Close was called
	var firstErr time.Time
	var lastLog time.Time
	for attempt := 1; ; attempt++ {
		err := r.write(batch)
		switch {
		case err == nil:
			if attempt > 1 {
				r.log.Info("trace: batch written after the store refused it", "decisions", len(batch),
					"attempts", attempt, "after", time.Since(firstErr).Round(time.Millisecond))
			}
			r.written.Add(int64(len(batch)))
			r.batches.Add(1)
			return
		case r.ctx.Err() != nil:
			r.drop(DropAbandoned, len(batch))
			return
		case final:
			r.lose(batch, attempt, err, "the recorder is closing and the store refused the batch on its final attempt")
			return
		case !r.stopping() && r.queueFull():
			r.lose(batch, attempt, err, "the queue filled while the store refused the batch")
			return
		}
		now := time.Now()
		if attempt == 1 {
			firstErr = now
		}
		if attempt == 1 || now.Sub(lastLog) >= dropReportInterval {
			r.log.Warn("trace: batch write failed; retrying while the queue has room", "decisions", len(batch),
				"attempts", attempt, "queued", len(r.queue), "queue_size", cap(r.queue), "next_in", wait, "err", err)
			lastLog = now
		}
		final = r.stopping()
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
			r.drop(DropAbandoned, len(batch))
			return
		}
		wait = min(2*wait, max(MaxRetryWait, r.opts.FlushInterval))
	}
}

// queueFull reports whether Record would now drop a decision for want of room.
func (r *Recorder) queueFull() bool { return len(r.queue) >= cap(r.queue) }

// stopping reports whether Close has been called (or the writer stopped).
func (r *Recorder) stopping() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// lose counts a batch the store refused as failed and logs its IDs (never its text) with the
// cause and the store's last error.
func (r *Recorder) lose(batch []*clearbar.Decision, attempts int, err error, cause string) {
	ids := make([]string, 0, min(len(batch), maxLoggedIDs))
	for _, d := range batch[:cap(ids)] {
		ids = append(ids, d.ID)
	}
	r.log.Error("trace: decisions lost: "+cause, "decisions", len(batch), "attempts", attempts,
		"ids", ids, "ids_not_listed", len(batch)-len(ids), "err", err)
	r.failedBatches.Add(1)
	r.drop(DropWriteFailed, len(batch))
}

// write calls Store.Write, turning a panic into an error.
func (r *Recorder) write(batch []*clearbar.Decision) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("trace: store panicked in Write", "decisions", len(batch), "stack", string(debug.Stack()))
			err = fmt.Errorf("trace: store panicked: %v", p)
		}
	}()
	return r.store.Write(r.ctx, batch)
}

// reportDrops logs the number of decisions dropped since the last report, at most once per
// dropReportInterval.
func (r *Recorder) reportDrops() {
	total := r.dropped.Load() + r.failed.Load()
	if total == r.reportedDrops {
		return
	}
	now := time.Now()
	if !r.lastDropReport.IsZero() && now.Sub(r.lastDropReport) < dropReportInterval {
		return
	}
	s := r.Stats()
	r.log.Warn("trace: decisions dropped", "since_last_report", total-r.reportedDrops,
		"dropped", s.Dropped, "failed", s.Failed, "written", s.Written, "queued", s.Queued)
	r.reportedDrops, r.lastDropReport = total, now
}
