package gateway

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/sse"
)

// DefaultStreamKeepalive is how long a stream waits for its first content byte before the
// gateway commits it and starts sending keep-alive comments (spec server.stream_keepalive).
const DefaultStreamKeepalive = 10 * time.Second

// keepalive holds a stream open while its first content byte is slow to come (a slow first
// token, retries and fallbacks, a validated step holding its answer until it passes). Until
// then the gateway writes nothing, so that a failure can still fall back transparently and
// the headers can name the model that answers. Once the interval passes with nothing written,
// the keepalive commits the stream: status 200, the event-stream headers and the decision
// headers known so far (decision id, category, route), with the rest (model, provider,
// attempts, cost) declared as trailers; then it writes a ": ping" comment every interval until
// stop. Clients ignore comments, so the request can still fall back after a ping; but a
// failure after the commit has to end the stream with an error event, since the status is
// gone (see run.failed).
//
// The pings are written from a timer's goroutine while the request's goroutine waits on the
// upstream; stop hands the response writer back. A keepalive lives inside its run and is used
// by the run's goroutine and its timer only.
type keepalive struct {
	mu sync.Mutex
	w  http.ResponseWriter
	sw *sse.Writer
	pt *pingTimer
	// interval is the wait before the commit and between pings.
	interval time.Duration
	// id, category and route are the decision's, copied when the keepalive starts: the
	// decision itself belongs to the request's goroutine.
	id, category, route string
	stopped             bool
	committed           bool
	pings               int
}

// pingTimer is a timer whose function pings the keepalive it currently serves. Timers that
// never fired are reused (pingTimers), so that the common fast stream allocates nothing for
// its keepalive.
type pingTimer struct {
	t *time.Timer
	k atomic.Pointer[keepalive]
}

var pingTimers = sync.Pool{New: func() any {
	pt := &pingTimer{}
	pt.t = time.AfterFunc(time.Hour, pt.fire)
	pt.t.Stop()
	return pt
}}

func (pt *pingTimer) fire() {
	if k := pt.k.Load(); k != nil {
		k.tick()
	}
}

// start arms the keepalive for the stream of decision d; an interval of 0 leaves it off.
func (k *keepalive) start(w http.ResponseWriter, interval time.Duration, d *clearbar.Decision) {
	if interval <= 0 {
		return
	}
	k.w, k.interval = w, interval
	k.id, k.category, k.route = d.ID, d.Category, d.Route
	k.pt = pingTimers.Get().(*pingTimer)
	k.pt.k.Store(k)
	k.pt.t.Reset(interval)
}

// tick runs on the timer's goroutine: it commits the stream if need be and pings.
func (k *keepalive) tick() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopped {
		return
	}
	if !k.committed {
		k.commit()
	}
	if k.sw.WriteComment("ping") != nil {
		return // the client went away; the request's context ends with it
	}
	k.pings++
	k.pt.t.Reset(k.interval)
}

// committedTrailer declares the decision headers a committed stream sends as trailers.
var committedTrailer = []string{headerModel + ", " + headerProvider + ", " + headerAttempts + ", " + headerCost}

// commit sends the status and the headers known so far. k.mu is held.
func (k *keepalive) commit() {
	h := k.w.Header()
	h[headerRequestID] = []string{k.id}
	h[headerDecision] = []string{k.id}
	if k.category != "" {
		h[headerCategory] = []string{k.category}
	}
	if k.route != "" {
		h[headerRoute] = []string{headerSafe(k.route)}
	}
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h["Trailer"] = committedTrailer
	k.w.WriteHeader(http.StatusOK)
	k.sw = sse.NewWriter(k.w)
	k.committed = true
}

// stop ends the pings and hands the response writer back to the caller. It reports whether
// the stream was committed: then the status and headers are gone, and what is still unknown
// goes in the trailers. stop may be called more than once, and on a keepalive never started.
func (k *keepalive) stop() (committed bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stopped = true
	if pt := k.pt; pt != nil {
		k.pt = nil
		// A timer stopped before it ever fired has no call in flight: it can serve another
		// stream. One that fired may still have a call waiting for k.mu; it is left to the
		// collector.
		if pt.t.Stop() && k.pings == 0 && !k.committed {
			pt.k.Store(nil)
			pingTimers.Put(pt)
		}
	}
	return k.committed
}
