package providertest

import (
	"context"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"
)

// holdLimit bounds how long a "hold" replay waits for the client to go away, so that a broken
// adapter fails its test instead of hanging it.
const holdLimit = 10 * time.Second

// upstreamRequest is what the fake upstream received.
type upstreamRequest struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         []byte
}

// recorder collects the requests a replay server receives and whether it saw a client go away.
type recorder struct {
	mu       sync.Mutex
	requests []upstreamRequest
	canceled chan struct{}
	once     sync.Once
}

func newRecorder() *recorder { return &recorder{canceled: make(chan struct{})} }

func (r *recorder) add(req upstreamRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, req)
}

func (r *recorder) all() []upstreamRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]upstreamRequest(nil), r.requests...)
}

func (r *recorder) sawCancel() { r.once.Do(func() { close(r.canceled) }) }

// eventEnd matches the blank line that ends an SSE event, so that the replay flushes event by
// event as a real upstream does.
var eventEnd = regexp.MustCompile(`(\r\n|\r|\n)(\r\n|\r|\n)`)

// handler replays the fixture's answer to every request.
func (f *Fixture) handler(rec *recorder) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.add(upstreamRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
		ctx := r.Context()
		rc := http.NewResponseController(w)
		if f.Replay.Mode == "reset" {
			resetConn(rc)
			return
		}
		for k, vs := range f.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(f.Status)
		_ = rc.Flush()
		if !pause(ctx, f.Replay.Delay) {
			rec.sawCancel()
			return
		}
		mt, _, _ := mime.ParseMediaType(f.Header.Get("Content-Type"))
		if mt == "text/event-stream" {
			rest := f.Body
			for i := 0; len(rest) > 0; i++ {
				if i > 0 && !pause(ctx, f.Replay.Interval) {
					rec.sawCancel()
					return
				}
				n := len(rest)
				if loc := eventEnd.FindIndex(rest); loc != nil {
					n = loc[1]
				}
				if _, err := w.Write(rest[:n]); err != nil {
					rec.sawCancel()
					return
				}
				if err := rc.Flush(); err != nil {
					rec.sawCancel()
					return
				}
				rest = rest[n:]
			}
		} else {
			_, _ = w.Write(f.Body)
		}
		switch f.Replay.After {
		case "hold":
			_ = rc.Flush()
			t := time.NewTimer(holdLimit)
			defer t.Stop()
			select {
			case <-ctx.Done():
				rec.sawCancel()
			case <-t.C:
			}
		case "reset":
			resetConn(rc)
		}
	}
}

// pause waits for d, and reports false if the client went away first.
func pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// resetConn takes over the connection and resets it (TCP RST), cutting whatever was sent.
func resetConn(rc *http.ResponseController) {
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
