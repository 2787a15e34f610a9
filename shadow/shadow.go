// Package shadow sends a sampled fraction of a category's live requests, after the client has
// its answer, to candidate models, validates their answers with the category's validators and
// records them as outcome rows beside the row of the answer the client got. The candidates'
// answers are never returned to anyone.
//
// Shadow traffic answers the question the estimator and replay cannot answer from benchmarks:
// how often would this cheaper model pass on our own traffic? The rows it writes are an
// outcomes table (JSON Lines) that `clearbar estimate --measured` and `clearbar replay` read
// directly: each shadowed request is one item, with one row for every model that answered it
// (the live route's attempts and the candidates). Under a time scale (serve --time-scale),
// their latencies are the simulated ones, and every row of a call answered at a time scale
// carries it (outcomes.Row.TimeScale), the candidates' as the live model's, so that readers
// show those latencies without measuring with them.
//
// Shadowing never delays or changes the client's answer: Submit is called after the answer
// is written, never blocks (a full queue drops the job and counts it), and the candidates are
// called on the shadow's own goroutines with a copy of the request.
//
// Close lets the queued requests finish while its context lasts; when it ends, the Shadower
// gives up on the rest: queued requests are dropped without calling a candidate, calls in
// flight are cancelled, and no row is written after Close returns.
//
// Each category has a daily budget in dollars (UTC days). Before a candidate is called its
// cost is reserved: the request's estimated input tokens with a margin, and an output capped
// by max_tokens on the shadow call, priced at the model's prices. A call whose reservation
// does not fit in what is left of the day's budget is not made, so spending stays within the
// budget as long as providers honour max_tokens and the input estimate's margin holds; the
// actual cost replaces the reservation when the answer arrives.
//
// The day's spending survives a restart: each candidate's row records when it was written and
// what its call charged the budget (shadowed_at, shadow_spent_usd, beside the outcome row),
// and New, given a file it can read, reads back today's rows from the end of the file and
// starts the day from their sum. Rows written before the time was recorded cannot be dated and
// are not counted, nor are calls abandoned at shutdown, whose rows are not written.
//
// Rows of calls answered by a simulated provider (a provider of type simulated, or serve
// --simulate) carry "simulated": true, the live answer's as a candidate's, as the rows of
// clearbar outcomes export do, so that what refuses to measure simulated answers knows them.
package shadow

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/moneymetric"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/provider/simulated"
	"github.com/clearbar/clearbar/route"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

// Checker validates an answer with a route's validators, as the gateway does.
type Checker interface {
	Check(ctx context.Context, model string, req *clearbar.Request, resp *clearbar.Response, validators []*spec.Validator) ([]clearbar.Verdict, bool, []clearbar.Attempt)
}

// Options configure a Shadower.
type Options struct {
	Spec *spec.Spec
	// Providers are the spec's providers by name.
	Providers map[string]clearbar.Provider
	// Checker validates the candidates' answers; nil records them unvalidated (no pass/fail).
	Checker Checker
	// Out receives the outcome rows as JSON Lines. Close flushes it; it is not closed. When
	// Out is a regular file open for reading too (an *os.File opened with os.O_RDWR), New
	// reads back what today's (UTC) candidate rows already spent and starts each category's
	// day from it.
	Out io.Writer
	// QueueSize bounds the jobs waiting per category; default 256.
	QueueSize int
	// CallTimeout bounds one candidate call; default 60s.
	CallTimeout time.Duration
	// Registerer receives the shadow metrics; nil registers none.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Now is the clock (budgets reset at UTC midnight); nil means time.Now. Sample returns a
	// uniform number in [0, 1) for sampling; nil means math/rand/v2.
	Now    func() time.Time
	Sample func() float64
}

// Stats counts what a Shadower did, per category.
type Stats struct {
	// Sampled requests were picked for shadowing and queued; Dropped were picked but the
	// queue was full or the Shadower closed.
	Sampled, Dropped int64
	// Calls were made to candidates; OverBudget calls were not made because the day's budget
	// could not hold their reservation.
	Calls, OverBudget int64
	// Spent is what today's calls cost so far (judges included), what an earlier run spent
	// today included (see Options.Out); Budget is the daily budget.
	Spent, Budget clearbar.Money
	// Rows counts outcome rows written.
	Rows int64
	// Abandoned requests were queued but given up when Close's context ended: never sent to
	// the candidates, or their calls cancelled. None of their rows is written.
	Abandoned int64
}

// Shadower runs shadow traffic. Its methods are safe for concurrent use.
type Shadower struct {
	o    Options
	cats map[*spec.Category]*category
	// ctx is cancelled when Close gives up on the queued requests; the candidate calls derive
	// theirs from it.
	ctx    context.Context
	cancel context.CancelFunc
	// out buffers the output; enc writes one row at a time into line, to which a candidate
	// row's keys are added (appendKeys) before it goes to out.
	out    *bufio.Writer
	enc    *outcomes.Writer
	line   bytes.Buffer
	outErr error      // the output's first error; every later write returns it
	outMu  sync.Mutex // guards out, enc, line, outErr and outClosed, and ends each job (see finish)
	// outClosed is set by Close: no row is written afterwards.
	outClosed bool
	wg        sync.WaitGroup
	mu        sync.RWMutex // guards closed against Submit's sends
	closed    bool
	metrics   *metrics
}

// abandonWait bounds how long Close, once its context has ended, waits for the workers to drop
// the queued requests and return from their cancelled calls. Nothing is written after Close
// returns either way; the wait only lets calls that honour cancellation end first.
const abandonWait = time.Second

type category struct {
	c      *spec.Category
	models []*spec.Model
	jobs   chan job
	// validators are the route's main validators, which judge every candidate's answer.
	validators []*spec.Validator

	// pending counts the jobs queued or being shadowed: Submit adds, finish (under the
	// Shadower's outMu) subtracts.
	pending atomic.Int64

	mu       sync.Mutex
	settled  *sync.Cond // signalled when a reservation settles
	day      time.Time
	spent    clearbar.Money // today's actual cost
	reserved clearbar.Money // reservations of calls in flight
	stats    Stats
}

type job struct {
	req *clearbar.Request
	d   *clearbar.Decision
}

// shadowRow is a row to write: the live answer's or a candidate's.
type shadowRow struct {
	row outcomes.Row
	// simulated marks a call answered by a simulated provider ({"simulated": true}).
	simulated bool
	// candidate marks a candidate's row, which records when it was written and spent, what
	// its call charged the day's budget.
	candidate bool
	spent     clearbar.Money
}

// New builds a Shadower for the spec's categories that have shadow settings, and starts
// their workers. It returns nil and no error when no category shadows.
func New(o Options) (*Shadower, error) {
	if o.Spec == nil {
		return nil, errors.New("shadow: no spec")
	}
	if o.Out == nil {
		return nil, errors.New("shadow: no output for the outcome rows")
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 60 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sample == nil {
		o.Sample = rand.Float64
	}
	s := &Shadower{o: o, cats: map[*spec.Category]*category{}, out: bufio.NewWriterSize(o.Out, 64<<10)}
	s.enc = outcomes.NewWriter(&s.line)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for _, c := range o.Spec.Categories {
		if c.Shadow == nil {
			continue
		}
		cat := &category{c: c, jobs: make(chan job, o.QueueSize)}
		cat.settled = sync.NewCond(&cat.mu)
		cat.validators, _ = c.Route.MainValidators()
		for _, ref := range c.Shadow.Models {
			m := o.Spec.Model(ref.Name)
			if _, ok := o.Providers[m.Provider.Name]; !ok {
				return nil, fmt.Errorf("shadow: category %q: no provider %q for model %q", c.Name, m.Provider.Name, m.Name)
			}
			cat.models = append(cat.models, m)
		}
		s.cats[c] = cat
	}
	if len(s.cats) == 0 {
		s.cancel()
		return nil, nil
	}
	today := utcDay(o.Now())
	prior, err := readBack(o.Out, today)
	if err != nil {
		s.cancel()
		return nil, err
	}
	for c, cat := range s.cats {
		cat.day = today
		if prior == nil {
			continue
		}
		cat.spent = prior.byCategory[c.Name]
		if cat.spent > 0 {
			o.Logger.Info("shadow: today's spending read back from the outcome rows", "category", c.Name, "spent_usd", cat.spent.Decimal(), "daily_budget_usd", clearbar.Money(c.Shadow.DailyBudget).Decimal())
		}
	}
	if prior != nil && prior.undated {
		o.Logger.Info("shadow: the outcome file holds candidate rows without a time (written by an earlier version): they are not counted against today's budget")
	}
	s.metrics = newMetrics(o.Registerer)
	for _, cat := range s.cats {
		for range cat.c.Shadow.Workers() {
			s.wg.Add(1)
			go s.work(cat)
		}
	}
	return s, nil
}

// Submit offers a finished request for shadowing: d is its decision record, complete, and req
// the request, which must not be modified afterwards. It samples, queues and returns at once;
// it reports whether the request was queued. A nil Shadower takes nothing.
func (s *Shadower) Submit(c *spec.Category, req *clearbar.Request, d *clearbar.Decision) bool {
	if s == nil || c == nil || c.Shadow == nil {
		return false
	}
	cat := s.cats[c]
	if cat == nil || d.DryRun || s.o.Sample() >= float64(c.Shadow.Sample) {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	queued := false
	if !s.closed {
		cat.pending.Add(1) // before the send, so that a worker never finishes a job not counted
		select {
		case cat.jobs <- job{req: req, d: d}:
			queued = true
		default:
			cat.pending.Add(-1)
		}
	}
	cat.mu.Lock()
	if queued {
		cat.stats.Sampled++
	} else {
		cat.stats.Dropped++
	}
	cat.mu.Unlock()
	s.metrics.requests.WithLabelValues(c.Name, map[bool]string{true: "queued", false: "dropped"}[queued]).Inc()
	return queued
}

// Close stops taking requests, lets the queued ones finish and flushes the rows. When ctx
// ends first, it gives up on the rest: the queued requests are dropped without calling a
// candidate, the calls in flight are cancelled, and their rows are not written; Close then
// returns an error that wraps ctx's error and says how many requests were abandoned. No row is
// written after Close returns. A nil Shadower closes at once.
func (s *Shadower) Close(ctx context.Context) error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		for _, cat := range s.cats {
			close(cat.jobs)
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		// The workers see the cancellation at their next job or call, and the output closes
		// now: every job not finished yet is abandoned.
		s.cancel()
		n := s.closeOut()
		t := time.NewTimer(abandonWait)
		select {
		case <-done:
		case <-t.C:
			s.o.Logger.Warn("shadow: candidate calls did not return when cancelled; their rows will not be written", "wait", abandonWait)
		}
		t.Stop()
		err = fmt.Errorf("shadow: closing: %w: %d queued shadow requests were abandoned", ctx.Err(), n)
	}
	s.cancel()
	s.closeOut()
	s.outMu.Lock()
	defer s.outMu.Unlock()
	return errors.Join(err, s.flush())
}

// flush flushes the output; outMu is held.
func (s *Shadower) flush() error {
	if s.outErr == nil {
		s.outErr = s.out.Flush()
	}
	return s.outErr
}

// closeOut stops the writing of rows and returns the number of requests abandoned: those given
// up already and those not finished, which will not write theirs.
func (s *Shadower) closeOut() int64 {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	s.outClosed = true
	var n int64
	for _, cat := range s.cats {
		cat.mu.Lock()
		n += cat.stats.Abandoned
		cat.mu.Unlock()
		n += cat.pending.Load()
	}
	return n
}

// Stats returns the counts of a category ("" or unknown: zero Stats).
func (s *Shadower) Stats(category string) Stats {
	if s == nil {
		return Stats{}
	}
	for c, cat := range s.cats {
		if c.Name == category {
			cat.mu.Lock()
			defer cat.mu.Unlock()
			st := cat.stats
			st.Spent, st.Budget = cat.spent, clearbar.Money(c.Shadow.DailyBudget)
			if !cat.day.Equal(utcDay(s.o.Now())) {
				st.Spent = 0
			}
			return st
		}
	}
	return Stats{}
}

func (s *Shadower) work(cat *category) {
	defer s.wg.Done()
	for j := range cat.jobs {
		if s.ctx.Err() != nil {
			s.finish(cat, nil, true) // Close gave up: drop the job without calling anyone
			continue
		}
		s.shadow(cat, j)
	}
}

// shadow calls every candidate for one request and writes the item's rows: the live route's
// attempts first, then each candidate that was called. When Close gives up meanwhile, the
// request is abandoned: no further candidate is called and no row is written.
func (s *Shadower) shadow(cat *category, j job) {
	req := shadowRequest(j.req, cat.c)
	var rows []shadowRow
	for _, m := range cat.models {
		if s.ctx.Err() != nil {
			s.finish(cat, nil, true)
			return
		}
		reserve := reservation(m, j.req, req.MaxTokens)
		if !cat.reserve(utcDay(s.o.Now()), reserve) {
			cat.mu.Lock()
			cat.stats.OverBudget++
			cat.mu.Unlock()
			s.metrics.calls.WithLabelValues(cat.c.Name, m.Name, "over_budget").Inc()
			continue
		}
		if s.ctx.Err() != nil { // reserve may have waited for calls that Close cancelled
			cat.settle(reserve, 0)
			s.finish(cat, nil, true)
			return
		}
		row, cost := s.call(cat, m, req, j.d)
		sim := m.Resolved.Provider != nil && m.Resolved.Provider.Type == "simulated"
		cat.settle(reserve, cost)
		s.metrics.spent.Add(cost, cat.c.Name)
		if s.ctx.Err() != nil {
			// The call may have been cancelled: its row would record the cancellation, not the
			// candidate.
			s.metrics.calls.WithLabelValues(cat.c.Name, m.Name, "abandoned").Inc()
			s.finish(cat, nil, true)
			return
		}
		result := "ok"
		if row.Error != "" {
			result = row.Error
		} else if row.Pass != nil && !*row.Pass {
			result = "failed_validation"
		}
		s.metrics.calls.WithLabelValues(cat.c.Name, m.Name, result).Inc()
		rows = append(rows, shadowRow{row: row, simulated: sim, candidate: true, spent: cost})
	}
	if len(rows) == 0 {
		s.finish(cat, nil, false)
		return
	}
	live := outcomes.FromDecision(j.d)
	for i := range live {
		live[i].Item = j.d.ID // FromDecision suffixes repeated models; the shadow item is the request
	}
	var out []shadowRow
	for _, r := range dedupe(live) {
		out = append(out, shadowRow{row: r, simulated: outcomes.DecisionSimulated(j.d, r.Model)})
	}
	s.finish(cat, append(out, rows...), false)
}

// dedupe keeps the last row of each model (a retried or failed-over model's final attempt).
func dedupe(rows []outcomes.Row) []outcomes.Row {
	seen := map[string]int{}
	var out []outcomes.Row
	for _, r := range rows {
		if i, ok := seen[r.Model]; ok {
			out[i] = r
			continue
		}
		seen[r.Model] = len(out)
		out = append(out, r)
	}
	return out
}

// finish ends a job: it writes the job's rows, unless the job was abandoned or Close has
// closed the output, which abandons it. Ending every job under outMu lets Close count the
// abandoned jobs exactly when it closes the output.
func (s *Shadower) finish(cat *category, rows []shadowRow, abandoned bool) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	cat.pending.Add(-1)
	if abandoned || s.outClosed {
		cat.mu.Lock()
		cat.stats.Abandoned++
		cat.mu.Unlock()
		return
	}
	if len(rows) > 0 {
		s.write(cat, rows)
	}
}

// write writes a job's rows; outMu is held. Candidates' rows record the time they are
// written, which, taken under outMu, never decreases along the file.
func (s *Shadower) write(cat *category, rows []shadowRow) {
	n := 0
	at := s.o.Now().UTC()
	for _, r := range rows {
		if err := s.writeRow(r, at); err != nil {
			s.o.Logger.Error("shadow: writing outcome row", "category", cat.c.Name, "item", r.row.Item, "model", r.row.Model, "err", err)
			continue
		}
		n++
	}
	// A request's rows reach the file together, so that it can be read while the gateway
	// runs and a crash loses no more than the rows being written.
	if err := s.flush(); err != nil {
		s.o.Logger.Error("shadow: writing outcome rows", "category", cat.c.Name, "err", err)
	}
	cat.mu.Lock()
	cat.stats.Rows += int64(n)
	cat.mu.Unlock()
}

// writeRow writes one row to the output's buffer, with its keys; outMu is held.
func (s *Shadower) writeRow(r shadowRow, at time.Time) error {
	if s.outErr != nil {
		return s.outErr
	}
	var extra []byte
	if r.simulated {
		extra = []byte(`{"simulated":true}`)
	}
	s.line.Reset()
	if err := s.enc.WriteLine(r.row, extra); err != nil {
		return err
	}
	if err := s.enc.Flush(); err != nil {
		return err
	}
	if r.candidate {
		if err := appendKeys(&s.line, at, r.spent); err != nil {
			return err
		}
	}
	if _, err := s.out.Write(s.line.Bytes()); err != nil {
		s.outErr = err
		return err
	}
	return nil
}

// call sends the shadow request to one candidate and turns the result into an outcome row.
func (s *Shadower) call(cat *category, m *spec.Model, req *clearbar.Request, d *clearbar.Decision) (outcomes.Row, clearbar.Money) {
	ctx, cancel := context.WithTimeout(s.ctx, s.o.CallTimeout)
	defer cancel()
	row := outcomes.Row{Item: d.ID, Category: cat.c.Name, PromptHash: d.PromptHash, Prompt: d.Prompt, Model: m.Name, Source: outcomes.SourceShadow}
	start := time.Now()
	resp, err := s.o.Providers[m.Provider.Name].Complete(ctx, &clearbar.Call{Request: req, Model: m.Model, SpecModel: m.Name, Attempt: 1, Category: cat.c.Name})
	row.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	if p := s.o.Spec.Provider(m.Provider.Name); p != nil && p.Simulate != nil && p.Simulate.TimeScale > 0 {
		// A simulated provider at a time scale answers in scaled wall-clock time: the row
		// holds the simulated latency, which the spec's assumptions speak of. The answer
		// reports it, when it does; wall-clock time divided by the scale would add this
		// process's overhead, multiplied by 1/scale.
		if d, ok := simulated.LatencyOf(resp); ok && err == nil {
			row.LatencyMS = float64(d.Microseconds()) / 1000
		} else {
			row.LatencyMS /= p.Simulate.TimeScale
		}
		// Either way the latency measures no model: the row says so as the live rows of
		// the same request do (the gateway marks a scale other than 1), so that readers
		// that measure latencies (estimate --measured) show it and leave it out.
		if p.Simulate.TimeScale != 1 {
			row.TimeScale = p.Simulate.TimeScale
		}
	}
	cat.mu.Lock()
	cat.stats.Calls++
	cat.mu.Unlock()
	if err != nil {
		row.Error = clearbar.ClassOf(err).String()
		return row, 0
	}
	cost := m.Cost(resp.Usage)
	row.SetUsage(resp.Usage)
	row.Cost = cost
	if cat.c.RecordText {
		row.Response = resp.Text()
	}
	if s.o.Checker != nil && len(cat.validators) > 0 {
		verdicts, pass, judges := s.o.Checker.Check(ctx, m.Name, req, resp, cat.validators)
		if !cat.c.RecordText {
			validate.RedactAnswer(verdicts, resp.Text()) // the row keeps no text of the answer
		}
		for _, a := range judges {
			cost += a.Cost
		}
		row.Verdicts, row.Pass = verdicts, &pass
	}
	return row, cost
}

// reserve books amount against the day's budget. It reports false when what is already spent
// today leaves no room for it; when only the reservations of calls in flight are in the way,
// it waits for them to settle.
func (cat *category) reserve(day time.Time, amount clearbar.Money) bool {
	cat.mu.Lock()
	defer cat.mu.Unlock()
	budget := clearbar.Money(cat.c.Shadow.DailyBudget)
	for {
		if !cat.day.Equal(day) {
			cat.day, cat.spent = day, 0
		}
		switch {
		case cat.spent+amount > budget:
			return false
		case cat.spent+cat.reserved+amount <= budget:
			cat.reserved += amount
			return true
		}
		cat.settled.Wait()
	}
}

// settle replaces a reservation with the actual cost.
func (cat *category) settle(reserved, actual clearbar.Money) {
	cat.mu.Lock()
	defer cat.mu.Unlock()
	cat.reserved -= reserved
	cat.spent += actual
	cat.settled.Broadcast()
}

// shadowRequest is the request the candidates get: the client's request, non-streaming, with
// its output capped (at the client's max_tokens if it set one, else at the category's
// ShadowOutputCap), so that a reservation bounds its cost. The client's raw body is dropped so
// that providers build the body from the canonical request, cap included.
func shadowRequest(req *clearbar.Request, c *spec.Category) *clearbar.Request {
	r := *req
	r.Body = nil
	r.Stream, r.IncludeUsage = false, false
	if r.MaxTokens <= 0 {
		r.MaxTokens = c.ShadowOutputCap()
	}
	return &r
}

// reservation prices a shadow call before it is made (spec.ShadowReservation), from the
// request's estimated input tokens and its output cap (reasoning included).
func reservation(m *spec.Model, req *clearbar.Request, outCap int) clearbar.Money {
	return spec.ShadowReservation(m, route.EstimateTokens(req), outCap)
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

type metrics struct {
	requests *prometheus.CounterVec
	calls    *prometheus.CounterVec
	spent    *moneymetric.Vec
}

func newMetrics(r prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clearbar_shadow_requests_total",
			Help: "Requests sampled for shadow traffic, by category and whether they were queued or dropped (queue full)."}, []string{"category", "result"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clearbar_shadow_calls_total",
			Help: "Shadow calls to candidate models, by category, model and result (ok, failed_validation, a failure class, over_budget when not made, or abandoned when cancelled at shutdown)."}, []string{"category", "model", "result"}),
		spent: moneymetric.New("clearbar_shadow_cost_usd_total",
			"What shadow calls cost, judges included, by category.", "category"),
	}
	if r != nil {
		r.MustRegister(m.requests, m.calls, m.spent)
	}
	return m
}
