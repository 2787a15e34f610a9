package drift

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Webhook delivery settings.
const (
	// webhookQueue is how many alerts may wait for delivery; more are dropped and counted.
	webhookQueue = 64
	// webhookTries is how many times one alert is posted before it is given up.
	webhookTries = 4
	// webhookBackoff is the wait before the first retry; it doubles for each further one,
	// with full jitter.
	webhookBackoff = time.Second
	// DefaultWebhookTimeout bounds one POST.
	DefaultWebhookTimeout = 5 * time.Second
)

// webhook posts alerts to drift.webhook from one goroutine, which the Monitor owns: enqueue
// never blocks, a full queue drops the alert (counted), and each alert is posted up to
// webhookTries times with backoff. The URL is never logged (webhook URLs often carry a
// token in their path or query); logs name its host.
type webhook struct {
	url, host string
	client    *http.Client
	timeout   time.Duration
	backoff   time.Duration
	log       *slog.Logger
	queue     chan []byte
	closing   atomic.Bool
	quit      chan struct{} // closed by close: drain the queue and return
	done      chan struct{} // closed when the goroutine has returned
	// ctx bounds every POST and backoff; cancel ends them when close gives up waiting.
	ctx                   context.Context
	cancel                context.CancelFunc
	sent, failed, dropped prometheus.Counter
	// payload renders an alert.
	payload func(*Alert) []byte
}

func newWebhook(raw string, client *http.Client, timeout time.Duration, log *slog.Logger, results *prometheus.CounterVec, payload func(*Alert) []byte) (*webhook, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("drift: the webhook is not an http or https URL")
	}
	if client == nil {
		client = http.DefaultClient
	}
	if timeout <= 0 {
		timeout = DefaultWebhookTimeout
	}
	w := &webhook{url: raw, host: u.Host, client: client, timeout: timeout, backoff: webhookBackoff, log: log,
		queue: make(chan []byte, webhookQueue), quit: make(chan struct{}), done: make(chan struct{}),
		sent: results.WithLabelValues("sent"), failed: results.WithLabelValues("failed"), dropped: results.WithLabelValues("dropped"),
		payload: payload}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	return w, nil
}

// start starts the delivery goroutine.
func (w *webhook) start() { go w.loop() }

// enqueue queues an alert for delivery without blocking; a full queue drops it.
func (w *webhook) enqueue(a *Alert) {
	if w.closing.Load() {
		w.dropped.Inc()
		return
	}
	select {
	case w.queue <- w.payload(a):
	default:
		w.dropped.Inc()
		w.log.Warn("drift webhook queue full: alert dropped", "host", w.host, "id", a.ID)
	}
}

func (w *webhook) loop() {
	defer close(w.done)
	for {
		select {
		case body := <-w.queue:
			w.deliver(body)
		case <-w.quit:
			for w.ctx.Err() == nil { // until close gives up
				select {
				case body := <-w.queue:
					w.deliver(body)
				default:
					return
				}
			}
			return
		}
	}
}

// deliver posts one alert, retrying failures that may pass (network errors, 429, 5xx).
func (w *webhook) deliver(body []byte) {
	defer func() {
		if p := recover(); p != nil {
			w.failed.Inc()
			w.log.Error("drift webhook panicked", "host", w.host, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	var last string
	for try := range webhookTries {
		if try > 0 {
			wait := time.Duration(rand.Int64N(int64(w.backoff << (try - 1))))
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-w.ctx.Done():
				t.Stop()
				w.failed.Inc()
				return
			}
		}
		retry, err := w.post(body)
		if err == nil {
			w.sent.Inc()
			return
		}
		last = err.Error()
		if !retry {
			break
		}
	}
	w.failed.Inc()
	w.log.Warn("drift webhook gave up on an alert", "host", w.host, "error", last)
}

// post sends one POST. It reports whether a failure is worth retrying. Errors mention the
// host, never the URL.
func (w *webhook) post(body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(w.ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("building the request to %s failed", w.host)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "clearbar-drift")
	resp, err := w.client.Do(req)
	if err != nil {
		return true, fmt.Errorf("POST to %s failed (no response)", w.host)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("%s answered %d", w.host, resp.StatusCode)
	}
	return false, fmt.Errorf("%s answered %d", w.host, resp.StatusCode)
}

// close stops taking alerts, delivers those queued and waits for the goroutine. When ctx ends
// first it abandons the delivery in progress and what is still queued (counted as dropped).
func (w *webhook) close(ctx context.Context) error {
	if w.closing.Swap(true) {
		<-w.done
		return nil
	}
	close(w.quit)
	var err error
	select {
	case <-w.done:
	case <-ctx.Done():
		w.cancel()
		<-w.done
		err = fmt.Errorf("drift: webhook alerts abandoned: %w", ctx.Err())
	}
	w.cancel()
	for {
		select {
		case <-w.queue:
			w.dropped.Inc()
		default:
			return err
		}
	}
}
