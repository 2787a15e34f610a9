package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/drift"
	"github.com/clearbar/clearbar/examples"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/health"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/simulated"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/trace"
	"github.com/clearbar/clearbar/validate"
)

// stack is a real gateway on the quick-start spec with simulated providers, a SQLite trace
// store, a drift monitor and the dashboard, mounted the way `clearbar serve` mounts them and
// served on loopback.
type stack struct {
	srv      *httptest.Server
	spec     *spec.Spec
	monitor  *drift.Monitor
	recorder *trace.Recorder
	breakers *health.Set

	mu   sync.Mutex
	hits map[string]int // requests served, by path
	// slow, if set, says how long to hold a request before serving it.
	slow func(*http.Request) time.Duration
}

// stackOptions change a stack.
type stackOptions struct {
	// edit, if not nil, changes the spec before the gateway is built.
	edit func(*spec.Spec)
	// noDecisions stores no decision records, as `clearbar serve --trace none` does.
	noDecisions bool
	// now is the dashboard's clock; nil means time.Now.
	now func() time.Time
	// cooldown, if not zero, is the circuit breakers' cooldown.
	cooldown time.Duration
}

// hitsOf returns how many requests for path the server has served since the last reset.
func (st *stack) hitsOf(path string) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.hits[path]
}

// resetHits forgets the requests counted so far.
func (st *stack) resetHits() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.hits = map[string]int{}
}

// setSlow sets the function that says how long to hold each request.
func (st *stack) setSlow(f func(*http.Request) time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.slow = f
}

// ServeHTTP counts the request, holds it if setSlow says so, and serves it.
func (st *stack) serve(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st.mu.Lock()
		st.hits[r.URL.Path]++
		slow := st.slow
		st.mu.Unlock()
		if slow != nil {
			if d := slow(r); d > 0 {
				select {
				case <-time.After(d):
				case <-r.Context().Done():
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// flushed reads decisions after flushing the recorder, so a decision can be looked up and
// listed right after its response.
type flushed struct {
	rec *trace.Recorder
	trace.Store
}

func (f flushed) Get(ctx context.Context, id string) (*clearbar.Decision, error) {
	f.rec.Flush(ctx)
	return f.Store.Get(ctx, id)
}

func (f flushed) List(ctx context.Context, filter trace.Filter) ([]*clearbar.Decision, error) {
	f.rec.Flush(ctx)
	return f.Store.List(ctx, filter)
}

// quickstart loads the embedded quick-start spec and returns it with the reader of the files
// it names.
func quickstart(t *testing.T) (*spec.Spec, func(string) ([]byte, error)) {
	t.Helper()
	data, err := fs.ReadFile(examples.FS, examples.Quickstart)
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string) ([]byte, error) { return fs.ReadFile(examples.FS, path.Clean(p)) }
	s, err := spec.Parse(data, examples.Quickstart, spec.Options{Today: time.Now(), ReadFile: read})
	if err != nil {
		t.Fatal(err)
	}
	return s, read
}

// newStack starts a stack. edit, if not nil, changes the spec before the gateway is built.
func newStack(t *testing.T, edit func(*spec.Spec)) *stack {
	t.Helper()
	return newStackWith(t, stackOptions{edit: edit})
}

// newStackWith starts a stack with options.
func newStackWith(t *testing.T, o stackOptions) *stack {
	t.Helper()
	s, read := quickstart(t)
	edit := o.edit
	for _, p := range s.Providers {
		// A hundredth of the assumed latencies: answers in milliseconds, reproducibly.
		p.Simulate = &spec.Simulate{TimeScale: 0.01, Seed: 7}
	}
	if edit != nil {
		edit(s)
	}
	reg := provider.NewRegistry()
	reg.Register("simulated", simulated.New)
	providers, err := reg.NewAll(s, provider.Config{ReadFile: read})
	if err != nil {
		t.Fatal(err)
	}
	checker, err := validate.NewChecker(s, validate.Env{ReadFile: read, Caller: validate.ProviderCaller{Providers: providers}})
	if err != nil {
		t.Fatal(err)
	}
	db, err := trace.OpenSQLite(filepath.Join(t.TempDir(), "clearbar.db"))
	if err != nil {
		t.Fatal(err)
	}
	rec := trace.NewRecorder(db, trace.RecorderOptions{FlushInterval: 50 * time.Millisecond})
	metrics := prometheus.NewRegistry()
	monitor, err := drift.New(drift.Options{Spec: s, Registerer: metrics})
	if err != nil {
		t.Fatal(err)
	}
	bs := health.DefaultSettings()
	if o.cooldown > 0 {
		bs.Cooldown = o.cooldown
	}
	breakers := health.NewSet(bs, nil)
	store := flushed{rec, db}
	gwo := gateway.Options{Spec: s, Providers: providers, Breakers: breakers, Checker: checker,
		Recorder: drift.Tee(rec, monitor), Decisions: store, Registerer: metrics, Gatherer: metrics}
	do := Options{Spec: s, Monitor: monitor, Breakers: breakers, Decisions: store, Now: o.now}
	if o.noDecisions { // as `clearbar serve --trace none`: the monitor only, nothing to look up
		gwo.Recorder, gwo.Decisions, do.Decisions = monitor, nil, nil
	}
	gw, err := gateway.New(gwo)
	if err != nil {
		t.Fatal(err)
	}
	do.Auth = gw.RequireAdmin
	dash, err := New(do)
	if err != nil {
		t.Fatal(err)
	}
	root := http.NewServeMux()
	root.Handle(Prefix, dash)
	root.Handle("/", gw)
	st := &stack{spec: s, monitor: monitor, recorder: rec, breakers: breakers, hits: map[string]int{}}
	st.srv = httptest.NewServer(st.serve(root))
	t.Cleanup(func() {
		st.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rec.Close(ctx)
		monitor.Close(ctx)
		db.Close()
	})
	return st
}

// prompts are requests of each quick-start category: by header, by rule, and the default.
var prompts = []struct{ content, task string }{
	{"Where is my parcel?", "intent"},
	{"This is unacceptable, I want a refund now.", ""},
	{"Can you help me write back to this customer?", ""},
	{"Has my order shipped yet?", "intent"},
}

// chat sends the i-th request of a round robin over prompts and returns its decision id.
func (st *stack) chat(t *testing.T, i int, headers ...string) string {
	t.Helper()
	p := prompts[i%len(prompts)]
	body := fmt.Sprintf(`{"model":"clearbar/auto","messages":[{"role":"user","content":%q}]}`, p.content)
	req, _ := http.NewRequest(http.MethodPost, st.srv.URL+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if p.task != "" {
		req.Header.Set("X-Clearbar-Task", p.task)
	}
	for j := 0; j+1 < len(headers); j += 2 {
		req.Header.Set(headers[j], headers[j+1])
	}
	resp, err := st.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	id := resp.Header.Get("X-Clearbar-Decision-Id")
	if resp.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("chat: status %d, decision %q: %s", resp.StatusCode, id, b)
	}
	return id
}

// get fetches a dashboard URL and decodes JSON answers into v (unless v is nil).
func (st *stack) get(t *testing.T, path string, v any, headers ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, st.srv.URL+path, nil)
	for j := 0; j+1 < len(headers); j += 2 {
		req.Header.Set(headers[j], headers[j+1])
	}
	resp, err := st.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %d %s: %v", path, resp.StatusCode, b, err)
		}
	}
	resp.Body = io.NopCloser(strings.NewReader(string(b)))
	return resp
}
