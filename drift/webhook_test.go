package drift

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// lockedBuffer is a log sink safe for the webhook goroutine and the test.
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

// webhookMonitor builds a Monitor on simSpec that posts to url.
func webhookMonitor(t *testing.T, w *world, url string, logs io.Writer) (*Monitor, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := New(Options{Spec: loadSimSpec(t, 200, 2000, 0.001, ", webhook: '"+url+"'"), Now: func() time.Time { return w.t },
		Registerer: reg, Logger: slog.New(slog.NewTextHandler(logs, nil)), WebhookTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		m.Close(ctx)
	})
	return m, reg
}

// metricValue returns the value of the gauge or counter name with the given labels (a
// label left out must be empty), or -1 when the registry has no such series.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want[lp.GetName()] != lp.GetValue() {
					continue series
				}
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return -1
}

func webhookCount(t *testing.T, reg *prometheus.Registry, result string) float64 {
	return max(0, metricValue(t, reg, "clearbar_drift_webhook_total", "result", result))
}

// TestWebhookReceivesAlert injects a latency change and checks that the alert reaches a
// webhook on loopback as JSON, and that the webhook's token never reaches the logs.
func TestWebhookReceivesAlert(t *testing.T) {
	got := make(chan payload, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var p payload
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&p) != nil {
			rw.WriteHeader(http.StatusBadRequest)
			return
		}
		got <- p
		rw.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	logs := &lockedBuffer{}
	w := newWorld(3)
	m, _ := webhookMonitor(t, w, srv.URL+"/hooks/T0KEN-s3cret?sig=abc", logs)
	for range 3200 {
		m.Observe(w.decision())
	}
	w.small.slowdown = 2
	for range 400 {
		m.Observe(w.decision())
	}
	select {
	case p := <-got:
		if p.Spec != "drift-sim" || p.Alert.ID == "" || p.Alert.Category != "extract" || p.Alert.Detector != Latency ||
			!strings.HasPrefix(p.Text, "Clearbar drift: ") || !strings.Contains(p.Text, p.Alert.Message) {
			t.Errorf("payload %+v", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no alert reached the webhook; alerts:\n%s", describeAlerts(m.Alerts()))
	}
	if l := logs.String(); strings.Contains(l, "T0KEN") || strings.Contains(l, "sig=abc") {
		t.Errorf("the webhook URL's secret parts reached the logs:\n%s", l)
	}
}

// TestSlowWebhookNeverBlocksObserve points the webhook at a server that never answers in
// time, floods it with alerts, and checks that Observe stays fast, that the queue overflow is
// counted as drops, and that Close gives up on time.
func TestSlowWebhookNeverBlocksObserve(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	defer close(release)
	w := newWorld(4)
	m, reg := webhookMonitor(t, w, srv.URL, io.Discard)
	for range 3200 {
		m.Observe(w.decision())
	}
	w.small.slowdown, w.small.pass, w.startStrong = 3, 0.6, 0.6
	var slowest time.Duration
	for range 3000 {
		d := w.decision()
		start := time.Now()
		m.Observe(d)
		slowest = max(slowest, time.Since(start))
	}
	if len(m.Alerts()) == 0 {
		t.Fatal("the changes raised no alert")
	}
	// Flood the queue directly: far more alerts than it holds.
	a := m.Alerts()[0]
	start := time.Now()
	for range 10 * webhookQueue {
		m.hook.enqueue(&a)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("queueing %d alerts took %v", 10*webhookQueue, d)
	}
	if slowest > 250*time.Millisecond {
		t.Errorf("the slowest Observe took %v with the webhook hanging", slowest)
	}
	if n := webhookCount(t, reg, "dropped"); n < float64(9*webhookQueue) {
		t.Errorf("dropped %v alerts, want at least %d", n, 9*webhookQueue)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	if err := m.Close(ctx); err == nil {
		t.Error("Close reported no abandoned alerts")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v past its deadline", d)
	}
	t.Logf("slowest Observe %v; sent %v, failed %v, dropped %v", slowest, webhookCount(t, reg, "sent"), webhookCount(t, reg, "failed"), webhookCount(t, reg, "dropped"))
}

// TestWebhookRetries checks that 5xx answers are retried with backoff until one succeeds, and
// that a 4xx is not retried.
func TestWebhookRetries(t *testing.T) {
	var calls atomic.Int32
	status := []int{503, 502, 204}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1)) - 1
		rw.WriteHeader(status[min(n, len(status)-1)])
	}))
	t.Cleanup(srv.Close)
	w := newWorld(5)
	m, reg := webhookMonitor(t, w, srv.URL, io.Discard)
	m.hook.backoff = time.Millisecond
	a := &Alert{ID: "drift-1", Category: "extract", Detector: PassRate, Against: Reference, Message: "pass rate fell"}
	m.hook.enqueue(a)
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 || webhookCount(t, reg, "sent") != 1 || webhookCount(t, reg, "failed") != 0 {
		t.Errorf("calls %d, sent %v, failed %v; want 3 calls, 1 sent", calls.Load(), webhookCount(t, reg, "sent"), webhookCount(t, reg, "failed"))
	}

	calls.Store(0)
	status = []int{400}
	m, reg = webhookMonitor(t, w, srv.URL, io.Discard)
	m.hook.backoff = time.Millisecond
	m.hook.enqueue(a)
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 || webhookCount(t, reg, "failed") != 1 {
		t.Errorf("a 400: calls %d, failed %v; want 1 call, 1 failed", calls.Load(), webhookCount(t, reg, "failed"))
	}
}

// TestAlertMetrics checks the firing gauge and the alert counter on the registry.
func TestAlertMetrics(t *testing.T) {
	w := newWorld(6)
	reg := prometheus.NewRegistry()
	m, err := New(Options{Spec: loadSimSpec(t, 200, 2000, 0.001, ""), Now: func() time.Time { return w.t }, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	for range 3200 {
		m.Observe(w.decision())
	}
	w.small.slowdown = 2
	for range 400 {
		m.Observe(w.decision())
	}
	small := []string{"category", "extract", "model", "small", "detector", "latency", "against", "reference"}
	if v := metricValue(t, reg, "clearbar_drift_firing", small...); v != 1 {
		t.Errorf("firing gauge %v, want 1", v)
	}
	if v := metricValue(t, reg, "clearbar_drift_alerts_total", small...); v != 1 {
		t.Errorf("alert counter %v, want 1", v)
	}
	if v := metricValue(t, reg, "clearbar_drift_firing", "category", "extract", "detector", "pass_rate", "against", "reference"); v != 0 {
		t.Errorf("an unchanged detector's gauge is %v, want 0", v)
	}
}
