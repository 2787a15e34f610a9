package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Request is what a load generator sends: a POST of Body to URL as application/json.
type Request struct {
	URL  string
	Body []byte
	// Stream reads the answer as an event stream: it succeeds only when it ends with
	// "data: [DONE]" and, if WantEvents is not 0, has exactly WantEvents events.
	Stream     bool
	WantEvents int
}

// Durations is a sorted sample of durations.
type Durations []time.Duration

// Quantile returns the q-quantile (nearest rank), 0 for an empty sample.
func (d Durations) Quantile(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(d)))) - 1
	return d[min(max(i, 0), len(d)-1)]
}

// Result is one load phase against one target.
type Result struct {
	// Planned is the number of requests the phase meant to send (open loop) or sent (closed
	// loop); Completed those answered in full, Errors those that failed.
	Planned, Completed, Errors int
	// FirstErrors are up to three error messages, for the report.
	FirstErrors []string
	// Window is the measured time: the arrival schedule's length (open loop) or the run's
	// duration (closed loop). Elapsed runs until the last answer came back.
	Window, Elapsed time.Duration
	// Throughput is Completed per second of Window (closed loop: only the answers that came
	// back within the window count).
	Throughput float64
	// Latency runs from the moment the request is handed to the client to the last byte of
	// the answer; TTFB to the first byte of the answer's body. Lag (open loop) is how late
	// each request was sent after its scheduled arrival: the generator's own delay.
	// Scheduled is Lag + Latency: latency counted from the intended send time.
	Latency, TTFB, Lag, Scheduled Durations
}

type sample struct {
	lag, ttfb, lat time.Duration
	end            time.Time
	ok             bool
}

func (r *Result) collect(samples []sample, errs []string) {
	for _, s := range samples {
		if !s.ok {
			continue
		}
		r.Completed++
		r.Latency = append(r.Latency, s.lat)
		r.TTFB = append(r.TTFB, s.ttfb)
		r.Lag = append(r.Lag, s.lag)
		r.Scheduled = append(r.Scheduled, s.lag+s.lat)
	}
	r.Errors = r.Planned - r.Completed
	r.FirstErrors = errs
	for _, d := range []Durations{r.Latency, r.TTFB, r.Lag, r.Scheduled} {
		slices.Sort(d)
	}
}

// Merge adds o's requests to r: both must be the same load shape against the same target,
// run one after the other (a phase split into rounds).
func (r *Result) Merge(o *Result) {
	inWindow := r.Throughput*r.Window.Seconds() + o.Throughput*o.Window.Seconds()
	r.Planned += o.Planned
	r.Completed += o.Completed
	r.Errors += o.Errors
	for _, e := range o.FirstErrors {
		if len(r.FirstErrors) < 3 {
			r.FirstErrors = append(r.FirstErrors, e)
		}
	}
	r.Window += o.Window
	r.Elapsed += o.Elapsed
	if r.Window > 0 {
		r.Throughput = inWindow / r.Window.Seconds()
	}
	for _, p := range []struct {
		dst *Durations
		src Durations
	}{{&r.Latency, o.Latency}, {&r.TTFB, o.TTFB}, {&r.Lag, o.Lag}, {&r.Scheduled, o.Scheduled}} {
		*p.dst = append(*p.dst, p.src...)
		slices.Sort(*p.dst)
	}
}

type errorLog struct {
	mu    sync.Mutex
	first []string
}

func (e *errorLog) add(err error) {
	e.mu.Lock()
	if len(e.first) < 3 {
		e.first = append(e.first, err.Error())
	}
	e.mu.Unlock()
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

var errTruncated = errors.New("the event stream did not end with data: [DONE]")

// Do sends one request and reads the whole answer. It returns the time to the first byte of
// the body and the time to the last, both from the call.
func Do(ctx context.Context, client *http.Client, req *Request) (ttfb, latency time.Duration, err error) {
	start := time.Now()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return 0, 0, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	resp, err := client.Do(hr)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	if resp.StatusCode != http.StatusOK {
		n, _ := io.ReadFull(resp.Body, buf[:200])
		return 0, 0, fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(buf[:n]))
	}
	var total, events int
	var prev byte
	var tail [16]byte
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if total == 0 {
				ttfb = time.Since(start)
			}
			total += n
			if req.Stream {
				for _, c := range buf[:n] {
					if c == '\n' && prev == '\n' {
						events++
					}
					prev = c
				}
				if n >= len(tail) {
					copy(tail[:], buf[n-len(tail):n])
				} else {
					copy(tail[:], tail[n:])
					copy(tail[len(tail)-n:], buf[:n])
				}
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return 0, 0, fmt.Errorf("reading the answer after %d bytes: %w", total, rerr)
		}
	}
	latency = time.Since(start)
	switch {
	case total == 0:
		return 0, 0, errors.New("empty answer")
	case req.Stream && !bytes.HasSuffix(tail[:], []byte("data: [DONE]\n\n")):
		return 0, 0, errTruncated
	case req.Stream && req.WantEvents > 0 && events != req.WantEvents:
		return 0, 0, fmt.Errorf("the event stream had %d events, want %d", events, req.WantEvents)
	}
	return ttfb, latency, nil
}

// OpenLoop fires requests at a fixed mean rate whatever the answers: a slow answer does not
// delay the next request, so queueing in the target shows in the latencies (no coordinated
// omission). Each request is sent from a goroutine of its own at its scheduled arrival.
type OpenLoop struct {
	// Rate is the mean number of requests per second.
	Rate float64
	// Duration is the length of the arrival schedule. Requests still in flight at its end
	// are waited for (up to the client's timeout).
	Duration time.Duration
	// Uniform spaces arrivals evenly; otherwise they are a Poisson process (exponential gaps),
	// as independent users make them.
	Uniform bool
	// Seed seeds the arrival schedule.
	Seed uint64
}

// Arrivals returns the schedule: offsets from the start of the phase.
func (o OpenLoop) Arrivals() []time.Duration {
	if o.Rate <= 0 || o.Duration <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	gap := float64(time.Second) / o.Rate
	out := make([]time.Duration, 0, int(o.Rate*o.Duration.Seconds()*1.1)+16)
	t := 0.0
	for {
		if o.Uniform {
			t += gap
		} else {
			t += rng.ExpFloat64() * gap
		}
		if time.Duration(t) >= o.Duration {
			return out
		}
		out = append(out, time.Duration(t))
	}
}

// Run runs the phase.
func (o OpenLoop) Run(ctx context.Context, client *http.Client, req *Request) *Result {
	arrivals := o.Arrivals()
	samples := make([]sample, len(arrivals))
	var errs errorLog
	var wg sync.WaitGroup
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	start := time.Now().Add(2 * time.Millisecond)
	planned := 0
loop:
	for i, off := range arrivals {
		at := start.Add(off)
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				break loop
			}
		}
		planned++
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &samples[i]
			s.lag = time.Since(at)
			ttfb, lat, err := Do(ctx, client, req)
			if err != nil {
				errs.add(err)
				return
			}
			s.ttfb, s.lat, s.ok = ttfb, lat, true
		}()
	}
	wg.Wait()
	r := &Result{Planned: planned, Window: o.Duration, Elapsed: time.Since(start)}
	r.collect(samples[:planned], errs.first)
	r.Throughput = float64(r.Completed) / o.Duration.Seconds()
	return r
}

// ClosedLoop runs Conns workers, each sending its next request as soon as its last one is
// answered, for Duration: the target's maximum throughput at that concurrency. The client's
// transport must keep at least Conns idle connections per host.
type ClosedLoop struct {
	Conns    int
	Duration time.Duration
}

// Run runs the phase.
func (c ClosedLoop) Run(ctx context.Context, client *http.Client, req *Request) *Result {
	var errs errorLog
	per := make([][]sample, c.Conns)
	start := time.Now()
	deadline := start.Add(c.Duration)
	var wg sync.WaitGroup
	for w := range c.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]sample, 0, 4096)
			for ctx.Err() == nil && time.Now().Before(deadline) {
				ttfb, lat, err := Do(ctx, client, req)
				if err != nil {
					errs.add(err)
					out = append(out, sample{})
					continue
				}
				out = append(out, sample{ttfb: ttfb, lat: lat, end: time.Now(), ok: true})
			}
			per[w] = out
		}()
	}
	wg.Wait()
	var all []sample
	inWindow := 0
	for _, s := range per {
		all = append(all, s...)
		for _, x := range s {
			if x.ok && !x.end.After(deadline) {
				inWindow++
			}
		}
	}
	r := &Result{Planned: len(all), Window: c.Duration, Elapsed: time.Since(start)}
	r.collect(all, errs.first)
	r.Throughput = float64(inWindow) / c.Duration.Seconds()
	return r
}
