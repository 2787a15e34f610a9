package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// TestUnauthenticatedRefusalsAreNotRecorded: requests refused for want of a valid key (no
// key, or one that is none of the gateway's) are counted in clearbar_refused_total and logged
// at most once per interval with their number, but leave no decision record: a flood of bad
// keys must not fill the decision queue and the store. A known client's refusal (over its
// rate limit) is still recorded. Before, each 401 was a record.
func TestUnauthenticatedRefusalsAreNotRecorded(t *testing.T) {
	const key, admin = "client-flood-key", "admin-flood-key"
	f, logs, clock := newLoggingFixture(t, func(src string) string {
		return src + "keys:\n  admin: [\"" + HashKey(admin) + "\"]\n  clients:\n    - {name: app, hash: \"" + HashKey(key) + "\", rate_limit: 1/m}\n"
	})
	for i := range 20 {
		var resp *http.Response
		if i%2 == 0 {
			resp = f.post(t, hello)
		} else {
			resp = f.post(t, hello, "Authorization", "Bearer wrong-key")
		}
		if readAll(t, resp); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("request %d: status %d, want 401", i, resp.StatusCode)
		}
	}
	// The handler logs and records after it answers: wait for it to be done with the 20th.
	const line = "requests refused for want of a valid API key"
	_, metrics := f.get(t, "/metrics", admin)
	eventually(t, func() bool {
		_, metrics = f.get(t, "/metrics", admin)
		return strings.Contains(string(metrics), `clearbar_refused_total{reason="key"} 20`)
	})
	if n := recordedCount(f); n != 0 {
		t.Errorf("%d decisions recorded for 401s, want none: %+v", n, f.rec.last())
	}
	if got := logs.lines(line); len(got) != 1 || !strings.Contains(got[0], "refused=1 ") {
		t.Errorf("log lines about refusals %q, want one, for the first", got)
	}
	clock.add(refusalLogInterval)
	readAll(t, f.post(t, hello))
	eventually(t, func() bool { return len(logs.lines(line)) == 2 })
	got := logs.lines(line)
	if len(got) != 2 || !strings.Contains(got[1], "refused=20 ") || !strings.Contains(got[1], "without_key=10 ") || !strings.Contains(got[1], "with_unknown_key=10 ") || !strings.Contains(got[1], "total=21 ") {
		t.Errorf("log lines about refusals %q, want a second one counting the 20 since the first", got)
	}

	// A known client over its rate limit is recorded, with its name.
	readAll(t, f.post(t, hello, "Authorization", "Bearer "+key))
	resp := f.post(t, hello, "Authorization", "Bearer "+key)
	if readAll(t, resp); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", resp.StatusCode)
	}
	eventually(t, func() bool { return recordedCount(f) == 2 })
	if d := f.rec.last(); d == nil || d.Status != http.StatusTooManyRequests || d.Client != "app" {
		t.Errorf("last decision %+v; want the 429 recorded", d)
	}
	_, metrics = f.get(t, "/metrics", admin)
	for _, want := range []string{`clearbar_refused_total{reason="key"} 21`, `clearbar_refused_total{reason="rate_limit"} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(string(metrics), "clearbar_refused"))
		}
	}
}

// recordedCount returns the number of decisions f's recorder holds.
func recordedCount(f *fixture) int {
	f.rec.mu.Lock()
	defer f.rec.mu.Unlock()
	return len(f.rec.ds)
}

// eventually polls cond for up to 5 seconds, failing the test if it never holds.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
	}
}

// TestRefusalsDurationStreamUnknown: a request refused for its key before its body was read
// does not say whether it asked for a stream: its duration is labelled stream="unknown", not
// "false".
func TestRefusalsDurationStreamUnknown(t *testing.T) {
	const admin = "admin-stream-key"
	f := newFixture(t, func(src string) string { return src + "keys:\n  admin: [\"" + HashKey(admin) + "\"]\n" })
	readAll(t, f.post(t, `{"model":"clearbar/intent","stream":true,"messages":[{"role":"user","content":"hello"}]}`))
	var text string
	eventually(t, func() bool {
		_, metrics := f.get(t, "/metrics", admin)
		text = grepLines(string(metrics), "clearbar_request_duration_seconds_count")
		return text != ""
	})
	if !strings.Contains(text, `stream="unknown"} 1`) || strings.Contains(text, `stream="false"`) {
		t.Errorf("duration of a refused stream:\n%s", text)
	}
}

// TestShutdownCutsHaveTheirOwnOutcome: clearbar_requests_total tells a request the gateway
// cut as it shut down (outcome shutdown) from one the client gave up (canceled); the record
// keeps outcome canceled with Shutdown set.
func TestShutdownCutsHaveTheirOwnOutcome(t *testing.T) {
	f := newFixture(t, nil)
	g := f.gw
	for _, err := range []error{shutdownError(errors.New("cut")), &clearbar.Error{Class: clearbar.Canceled, Message: "the client closed the request"}} {
		seq, start := g.started.begin(g.now)
		d := &clearbar.Decision{ID: newID(start), Time: start, Category: "intent"}
		g.finishDecision(d, 0, err, start, seq)
	}
	if d := f.rec.ds[0]; !d.Shutdown || d.Outcome != clearbar.Canceled {
		t.Errorf("cut decision: outcome %s, shutdown %v; want canceled, true", d.Outcome, d.Shutdown)
	}
	if d := f.rec.ds[1]; d.Shutdown {
		t.Errorf("a client's cancel recorded as a shutdown cut")
	}
	_, metrics := f.get(t, "/metrics", "")
	text := grepLines(string(metrics), "clearbar_requests_total")
	for _, want := range []string{`outcome="shutdown"} 1`, `outcome="canceled"} 1`} {
		if !strings.Contains(text, want) {
			t.Errorf("requests lack %s:\n%s", want, text)
		}
	}
}

// TestCostCountersDoNotDrift: the cost counters add integer nano-dollars and export the sum
// in dollars, so that $0.1 and $0.2 make $0.3, not 0.30000000000000004.
func TestCostCountersDoNotDrift(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg)
	for _, usd := range []float64{0.1, 0.2, 0.000622, 0.000622, 0.000622} {
		m.observeDecision(&clearbar.Decision{Category: "intent", Model: "strong", Outcome: clearbar.OK, Client: "app",
			Attempts: []clearbar.Attempt{{Kind: clearbar.AttemptPrimary, Model: "strong", Provider: "sim", Cost: clearbar.MoneyFromUSD(usd)}}})
	}
	const want = 0.301866
	for _, name := range []string{"clearbar_cost_usd_total", "clearbar_client_cost_usd_total"} {
		series := gathered(t, reg, name)
		if len(series) != 1 || series[0].GetCounter().GetValue() != want {
			t.Errorf("%s = %v, want exactly %v", name, series, want)
		}
	}
	if got := gathered(t, reg, "clearbar_cost_usd_total"); len(got) == 1 && got[0].GetCounter() == nil {
		t.Errorf("clearbar_cost_usd_total is not a counter: %v", got[0])
	}
}

// recordLosses reports fixed losses, as a trace.Recorder's Stats would.
func recordLosses(dropped, failed int64) func() (int64, int64) {
	return func() (int64, int64) { return dropped, failed }
}

// TestHealthCountsStoreFailures: /v1/admin/health counts the decisions lost in batches the
// store refused, not only those the queue dropped. Before, it said 0 after batches were lost.
func TestHealthCountsStoreFailures(t *testing.T) {
	data, err := readFile("testdata/gw.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse(data, "testdata/gw.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Options{Spec: s, Providers: map[string]clearbar.Provider{"a": newFake("a"), "b": newFake("b")}, RecorderLosses: recordLosses(3, 48)})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "/v1/admin/health", nil)
	w := httptest.NewRecorder()
	g.ServeHTTP(w, req)
	body := w.Body.String()
	if gjson.Get(body, "decisions_dropped").Int() != 51 || gjson.Get(body, "decisions_dropped_by.queue").Int() != 3 || gjson.Get(body, "decisions_dropped_by.store").Int() != 48 {
		t.Errorf("health %s, want 51 dropped: 3 by the queue, 48 by the store", body)
	}
}

// TestKeyHashInUpperCase: a key hash written in upper-case hex matches its key, for a client
// and for an admin.
func TestKeyHashInUpperCase(t *testing.T) {
	upper := func(key string) string {
		return "sha256:" + strings.ToUpper(strings.TrimPrefix(HashKey(key), "sha256:"))
	}
	kr, err := newKeyring(&spec.Keys{Admin: []string{upper("admin-key")}, Clients: []*spec.ClientKey{{Name: "app", Hash: upper("client-key")}}})
	if err != nil {
		t.Fatal(err)
	}
	req := func(key string) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
		r.Header.Set("Authorization", "Bearer "+key)
		return r
	}
	if c, err := kr.client(req("client-key")); err != nil || c == nil || c.name != "app" {
		t.Errorf("client key: %v, %v; want client app", c, err)
	}
	if err := kr.admin(req("admin-key")); err != nil {
		t.Errorf("admin key: %v", err)
	}
}
