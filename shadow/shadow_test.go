package shadow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/simulated"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

const testSpec = `version: 1
name: shadow-test
review: {last: 2026-11-01, cadence: monthly}
providers:
  sim: {type: simulated, simulate: {seed: 7, error_rate: 0}}
models:
  strong: {provider: sim, model: gpt-4o, latency: {p50: 1ms, p95: 2ms}}
  cand:   {provider: sim, model: gpt-4o-mini, latency: {p50: 1ms, p95: 2ms}}
categories:
  - name: x
    share: 1
    tokens: {in: 50, out: 20}
    quality_bar: 0.9
    route: {model: strong, validate: [{max_length: 400}]}
    assume:
      pass_rate: {strong: 0.97, cand: 0.7}
      validator: {detect: 1, false_alarm: 0}
    shadow: {models: [cand], sample: SAMPLE, daily_budget: BUDGET}
`

type fixture struct {
	s         *spec.Spec
	providers map[string]clearbar.Provider
	checker   *validate.Checker
}

func newFixture(t *testing.T, sample, budget string) *fixture {
	t.Helper()
	return fixtureOf(t, strings.NewReplacer("SAMPLE", sample, "BUDGET", budget).Replace(testSpec))
}

// fixtureOf is the fixture of the spec src.
func fixtureOf(t *testing.T, src string) *fixture {
	t.Helper()
	s, err := spec.Parse([]byte(src), "shadow.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := provider.NewRegistry()
	reg.Register("simulated", simulated.New)
	providers, err := reg.NewAll(s, provider.Config{})
	if err != nil {
		t.Fatal(err)
	}
	checker, err := validate.NewChecker(s, validate.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{s: s, providers: providers, checker: checker}
}

// request returns a request and the decision of its live answer (strong, accepted).
func request(i int) (*clearbar.Request, *clearbar.Decision) {
	req := &clearbar.Request{Model: "clearbar/x", Stream: true, Messages: []clearbar.Message{{Role: "user", Text: fmt.Sprintf("question %d", i)}}}
	pass := clearbar.Verdict{Validator: "max_length", Pass: true}
	d := &clearbar.Decision{ID: fmt.Sprintf("dec_%04d", i), Category: "x", PromptHash: fmt.Sprintf("%016x", i), Model: "strong",
		Attempts: []clearbar.Attempt{{N: 1, Kind: clearbar.AttemptPrimary, Step: 1, Model: "strong", Class: clearbar.OK,
			Usage: clearbar.Usage{PromptTokens: 10, CompletionTokens: 12}, Cost: 150_000, Outcome: "accepted", Verdicts: []clearbar.Verdict{pass}}}}
	return req, d
}

// TestShadowMeasuresTheCandidate: shadowed requests get one row for the live model and one for
// the candidate under the same item, and the candidate's measured pass rate recovers the
// simulated one.
func TestShadowMeasuresTheCandidate(t *testing.T) {
	f := newFixture(t, "0.5", "100")
	var out bytes.Buffer
	sh, err := New(Options{Spec: f.s, Providers: f.providers, Checker: f.checker, Out: &out, QueueSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	queued := 0
	for i := range n {
		req, d := request(i)
		if sh.Submit(f.s.Category("x"), req, d) {
			queued++
		}
	}
	if err := sh.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Sampling: Binomial(2000, 0.5) is within 4.5 standard deviations of 1000.
	if sd := math.Sqrt(n * 0.25); math.Abs(float64(queued)-n/2) > 4.5*sd {
		t.Errorf("queued %d of %d at sample 0.5", queued, n)
	}
	rows, err := readRows(&out)
	if err != nil {
		t.Fatal(err)
	}
	byItem := map[string][]outcomes.Row{}
	for _, r := range rows {
		byItem[r.Item] = append(byItem[r.Item], r)
	}
	if len(byItem) != queued || len(rows) != 2*queued {
		t.Fatalf("%d rows over %d items for %d shadowed requests: want two rows per request", len(rows), len(byItem), queued)
	}
	pass := 0
	for item, rs := range byItem {
		if rs[0].Model != "strong" || rs[0].Source != outcomes.SourceTrace || rs[1].Model != "cand" || rs[1].Source != outcomes.SourceShadow {
			t.Fatalf("item %s rows %+v: want the live row, then the candidate's", item, rs)
		}
		c := rs[1]
		if c.Pass == nil || c.Error != "" || c.Cost <= 0 || c.TokensOut == 0 || c.Category != "x" || c.PromptHash != rs[0].PromptHash {
			t.Fatalf("candidate row %+v", c)
		}
		if *c.Pass {
			pass++
		}
	}
	p := float64(pass) / float64(queued)
	if se := math.Sqrt(0.7 * 0.3 / float64(queued)); math.Abs(p-0.7) > 4.5*se {
		t.Errorf("candidate pass rate %.3f on %d shadowed requests, simulated 0.7", p, queued)
	}
	st := sh.Stats("x")
	if st.Sampled != int64(queued) || st.Calls != int64(queued) || st.Rows != int64(len(rows)) || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func readRows(b *bytes.Buffer) ([]outcomes.Row, error) {
	var rows []outcomes.Row
	r := outcomes.NewReader(bytes.NewReader(b.Bytes()))
	for r.Next() {
		rows = append(rows, r.Row())
	}
	return rows, r.Err()
}

// TestShadowStaysWithinBudget: with a budget for a few calls, shadowing stops when the day's
// budget cannot hold another call, spends no more than the budget, and starts again the next
// UTC day.
func TestShadowStaysWithinBudget(t *testing.T) {
	f := newFixture(t, "1", "0.003")
	now := time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	var out bytes.Buffer
	sh, err := New(Options{Spec: f.s, Providers: f.providers, Checker: f.checker, Out: &out, QueueSize: 4096, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	submitAll := func(from, n int) {
		for i := range n {
			req, d := request(from + i)
			sh.Submit(f.s.Category("x"), req, d)
		}
	}
	submitAll(0, 500)
	waitIdle(t, sh, "x", 500)
	st := sh.Stats("x")
	if st.Spent > st.Budget || st.Calls == 0 || st.OverBudget == 0 || st.Calls+st.OverBudget != 500 {
		t.Fatalf("day 1: %+v: want some calls, the rest over budget, spent ≤ budget", st)
	}
	day1 := st.Calls
	mu.Lock()
	now = now.Add(2 * time.Hour) // the next UTC day
	mu.Unlock()
	submitAll(500, 500)
	if err := sh.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st = sh.Stats("x")
	if st.Spent > st.Budget || st.Calls-day1 == 0 || st.Spent == 0 {
		t.Errorf("day 2: %+v: the budget should have reset at midnight", st)
	}
	t.Logf("budget %v: %d calls on day 1, %d on day 2, spent %v on day 2", st.Budget, day1, st.Calls-day1, st.Spent)
}

// waitIdle waits until n sampled requests of a category have been handled.
func waitIdle(t *testing.T, sh *Shadower, cat string, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := sh.Stats(cat)
		if st.Calls+st.OverBudget >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("shadow did not finish: %+v", st)
		}
		time.Sleep(time.Millisecond)
	}
}

// blockingProvider never answers until released.
type blockingProvider struct {
	clearbar.Provider
	release chan struct{}
}

func (b blockingProvider) Complete(ctx context.Context, _ *clearbar.Call) (*clearbar.Response, error) {
	select {
	case <-b.release:
		return nil, errors.New("released")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestSubmitNeverBlocks: with a candidate that never answers, Submit still returns at once;
// what the queue cannot hold is dropped and counted, and Close gives up when its context ends.
func TestSubmitNeverBlocks(t *testing.T) {
	f := newFixture(t, "1", "100")
	bp := blockingProvider{Provider: f.providers["sim"], release: make(chan struct{})}
	defer close(bp.release)
	var out bytes.Buffer
	sh, err := New(Options{Spec: f.s, Providers: map[string]clearbar.Provider{"sim": bp}, Checker: f.checker, Out: &out, QueueSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 1000 {
		req, d := request(i)
		sh.Submit(f.s.Category("x"), req, d)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("1000 submits took %v with a stuck candidate", el)
	}
	st := sh.Stats("x")
	// Four workers hold one job each and the queue eight: the rest is dropped.
	if st.Sampled+st.Dropped != 1000 || st.Sampled > 8+4 || st.Dropped < 1000-12 {
		t.Errorf("stats %+v: want at most 12 queued, the rest dropped", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := sh.Close(ctx); err == nil || !strings.Contains(err.Error(), "abandoned") {
		t.Errorf("Close with stuck candidates: %v", err)
	}
	req, d := request(2000)
	if sh.Submit(f.s.Category("x"), req, d) {
		t.Error("Submit after Close queued a request")
	}
}

func TestNoShadowCategories(t *testing.T) {
	f := newFixture(t, "1", "100")
	f.s.Categories[0].Shadow = nil
	sh, err := New(Options{Spec: f.s, Providers: f.providers, Out: &bytes.Buffer{}})
	if sh != nil || err != nil {
		t.Fatalf("New without shadowing categories = %v, %v; want nil, nil", sh, err)
	}
	req, d := request(1)
	if sh.Submit(f.s.Category("x"), req, d) || sh.Close(context.Background()) != nil {
		t.Error("a nil Shadower takes nothing and closes cleanly")
	}
}

// lockedBuffer is a buffer written by the shadower's workers and read by the test.
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

// TestRowsReachTheFileAsTheyAreMade: a shadowed request's rows are written out as soon as they
// are made, not held until Close, so the file can be read while the gateway runs and a crash
// loses no more than the rows being written.
func TestRowsReachTheFileAsTheyAreMade(t *testing.T) {
	f := newFixture(t, "1", "100")
	var out lockedBuffer
	sh, err := New(Options{Spec: f.s, Providers: f.providers, Checker: f.checker, Out: &out, QueueSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close(context.Background())
	for i := range 5 {
		req, d := request(i)
		if !sh.Submit(f.s.Category("x"), req, d) {
			t.Fatal("a request was not shadowed at sample 1")
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for sh.Stats("x").Rows < 10 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := strings.Count(out.String(), "\n"); got != 10 {
		t.Errorf("%d rows written before Close, want the 10 of the 5 requests shadowed (stats %+v)", got, sh.Stats("x"))
	}
}

// stuckProvider answers only when released, or with an error when its context ends; it counts
// the calls, and those it saw cancelled.
type stuckProvider struct {
	clearbar.Provider
	release         chan struct{}
	calls, canceled atomic.Int64
}

func (p *stuckProvider) Complete(ctx context.Context, _ *clearbar.Call) (*clearbar.Response, error) {
	p.calls.Add(1)
	select {
	case <-p.release:
		return nil, errors.New("released")
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			p.canceled.Add(1)
		}
		return nil, ctx.Err()
	}
}

// closedWriter counts the writes made after the test marks it closed, as a file closed by
// serve after Shadower.Close returns.
type closedWriter struct {
	closed, late atomic.Bool
	writes       atomic.Int64
}

func (w *closedWriter) Write(p []byte) (int, error) {
	w.writes.Add(1)
	if w.closed.Load() {
		w.late.Store(true)
		return 0, errors.New("file already closed")
	}
	return len(p), nil
}

// TestCloseAbandonsQueuedShadowRequests: when Close's context ends with candidates still
// answering and requests queued, Close cancels the calls in flight, drops the queued requests
// without calling the candidates, counts them all as abandoned, returns promptly with an error
// that says so, and nothing is written after it returns.
func TestCloseAbandonsQueuedShadowRequests(t *testing.T) {
	f := newFixture(t, "1", "100")
	sp := &stuckProvider{Provider: f.providers["sim"], release: make(chan struct{})}
	var out closedWriter
	sh, err := New(Options{Spec: f.s, Providers: map[string]clearbar.Provider{"sim": sp}, Checker: f.checker, Out: &out, QueueSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	workers := int64(f.s.Category("x").Shadow.Workers())
	for i := range 100 {
		req, d := request(i)
		sh.Submit(f.s.Category("x"), req, d)
	}
	deadline := time.Now().Add(10 * time.Second)
	for sp.calls.Load() < workers && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	sampled := sh.Stats("x").Sampled
	if got := sp.calls.Load(); got != workers || sampled <= workers {
		t.Fatalf("%d calls in flight and %d requests queued, want one call per worker (%d) and more queued", got, sampled, workers)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = sh.Close(ctx)
	took := time.Since(start)
	out.closed.Store(true) // serve closes the file now
	close(sp.release)      // a call that was not cancelled would answer now and write its rows

	if took > 50*time.Millisecond+abandonWait/2 {
		t.Errorf("Close took %v with a 50ms context", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), fmt.Sprintf("%d queued shadow requests were abandoned", sampled)) {
		t.Errorf("Close = %v, want a deadline error saying %d requests were abandoned", err, sampled)
	}
	if got := sp.canceled.Load(); got != workers {
		t.Errorf("%d of the %d calls in flight saw their context cancelled", got, workers)
	}
	time.Sleep(200 * time.Millisecond) // let anything still running show itself
	if got := sp.calls.Load(); got != workers {
		t.Errorf("%d calls after Close, want only the %d in flight when it began: queued requests called the candidate", got-workers, workers)
	}
	if out.late.Load() {
		t.Error("a row was written after Close returned")
	}
	if n := out.writes.Load(); n != 0 {
		t.Errorf("%d writes, want none: no request finished", n)
	}
	st := sh.Stats("x")
	if st.Abandoned != sampled || st.Rows != 0 {
		t.Errorf("stats %+v: want all %d queued requests abandoned and no rows", st, sampled)
	}
}

// TestCloseWritesWhatFinishesInTime: requests that finish while Close's context lasts write
// their rows and are not counted as abandoned.
func TestCloseWritesWhatFinishesInTime(t *testing.T) {
	f := newFixture(t, "1", "100")
	var out lockedBuffer
	sh, err := New(Options{Spec: f.s, Providers: f.providers, Checker: f.checker, Out: &out, QueueSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		req, d := request(i)
		sh.Submit(f.s.Category("x"), req, d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sh.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st := sh.Stats("x")
	if st.Abandoned != 0 || st.Rows != 40 || strings.Count(out.String(), "\n") != 40 {
		t.Errorf("stats %+v, %d lines: want the 40 rows of the 20 requests and none abandoned", st, strings.Count(out.String(), "\n"))
	}
}

// TestTimeScaledLatenciesAreTheSimulatedOnes: under serve --time-scale, simulated providers
// answer in scaled wall-clock time and the live decision says so (TimeScale). The rows must
// hold the simulated latencies the spec speaks of, as clearbar review reads the decisions,
// since estimate --measured compares them with the spec: the live row's latency and the
// candidate's, each divided by its provider's scale, and each row with the scale, which tells
// estimate --measured that the latency is shown, not tested.
func TestTimeScaledLatenciesAreTheSimulatedOnes(t *testing.T) {
	const scale = 0.0001
	src := strings.NewReplacer("SAMPLE", "1", "BUDGET", "100", "error_rate: 0}", "error_rate: 0, time_scale: 0.0001}",
		"cand:   {provider: sim, model: gpt-4o-mini, latency: {p50: 1ms, p95: 2ms}}",
		"cand:   {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 1100ms}}").Replace(testSpec)
	s, err := spec.Parse([]byte(src), "shadow.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := provider.NewRegistry()
	reg.Register("simulated", simulated.New)
	providers, err := reg.NewAll(s, provider.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sh, err := New(Options{Spec: s, Providers: providers, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	for i := range n {
		req, d := request(i)
		d.TimeScale = scale
		d.Attempts[0].Latency = 50 * time.Microsecond // 500ms simulated
		sh.Submit(s.Category("x"), req, d)
	}
	if err := sh.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows, err := readRows(&out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2*n {
		t.Fatalf("%d rows, want %d", len(rows), 2*n)
	}
	for _, r := range rows {
		// Every row says its latency was answered at a time scale, the candidate's as the
		// live model's, so that estimate --measured shows it and does not measure with it.
		if r.TimeScale != scale {
			t.Errorf("%s row (source %s): time_scale %g, want %g", r.Model, r.Source, r.TimeScale, scale)
		}
		switch r.Model {
		case "strong":
			if math.Abs(r.LatencyMS-500) > 1e-9 {
				t.Errorf("live row latency %gms, want the simulated 500ms", r.LatencyMS)
			}
		case "cand":
			// Simulated about 1s to 1.1s, as the answer reports it: wall-clock 100µs to
			// 110µs plus this process's overhead, which the scale would magnify 10,000 times.
			if r.LatencyMS < 800 || r.LatencyMS > 1300 {
				t.Errorf("candidate row latency %gms, want about the simulated 1s", r.LatencyMS)
			}
		}
	}
}

// TestShadowReasonsKeepNoTextUnlessRecorded: a candidate's verdict whose reason quotes its
// answer keeps the quote in the row only when the category records text, as the row keeps the
// answer itself only then.
func TestShadowReasonsKeepNoTextUnlessRecorded(t *testing.T) {
	for _, record := range []bool{false, true} {
		src := strings.NewReplacer("SAMPLE", "1", "BUDGET", "100", "validate: [{max_length: 400}]", `validate: [{regex: {must_not: ['\w{3}']}}]`).Replace(testSpec)
		if record {
			src = strings.Replace(src, "    shadow:", "    record_text: true\n    shadow:", 1)
		}
		f := fixtureOf(t, src)
		var out bytes.Buffer
		sh, err := New(Options{Spec: f.s, Providers: f.providers, Checker: f.checker, Out: &out, QueueSize: 8})
		if err != nil {
			t.Fatal(err)
		}
		req, d := request(1)
		sh.Submit(f.s.Category("x"), req, d)
		if err := sh.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		rows, err := readRows(&out)
		if err != nil || len(rows) != 2 || len(rows[1].Verdicts) != 1 {
			t.Fatalf("record_text %v: rows %+v, %v", record, rows, err)
		}
		reason := rows[1].Verdicts[0].Reason
		if redacted := strings.Contains(reason, `at "…"`); redacted == record || record && rows[1].Response == "" {
			t.Errorf("record_text %v: reason %q, response %q", record, reason, rows[1].Response)
		}
	}
}
