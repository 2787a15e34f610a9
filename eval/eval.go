// Package eval measures candidate models on a category's eval set: it sends every item of the
// set to every candidate model through the provider layer, grades the answers (the category's
// validators, reference matches, rubric judges), writes one outcomes row per (item, model) as
// it completes, and summarises pass rates with confidence intervals, latency, tokens and cost
// per model, which Update writes back into the spec as measured assumptions.
//
// A run is resumable: the output file is read first and the pairs it already holds are
// skipped, so a run that was killed or interrupted continues where it stopped, repeating no
// finished call. A row graded by checks or a reference the set has changed since, or by
// category validators the spec has changed since, is graded again, on its recorded answer,
// without calling the model; so is a row left ungraded because a judge could not be reached.
//
// The simulated provider draws each answer good or bad with the spec's assumed pass rate, but
// answers with stand-in text. Against it, a good answer is made to pass the item's reference
// checks and a bad one to fail them, so that a simulated run measures the assumed pass rates.
package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/provider/simulated"
	"github.com/clearbar/clearbar/retry"
	"github.com/clearbar/clearbar/spec"
)

// Defaults of a Runner's zero fields, and the retry policy the command uses.
const (
	DefaultConcurrency = 8
	// DefaultCallTimeout bounds one call when neither the model nor its provider sets a
	// timeout: the gateway's default.
	DefaultCallTimeout = 60 * time.Second
)

// DefaultRetry is the retry policy for eval calls: more patient than the gateway's, since no
// user is waiting, so that a burst of rate limiting does not turn into failed rows.
var DefaultRetry = retry.Policy{Attempts: 4, Backoff: time.Second, MaxBackoff: 30 * time.Second, MaxRetryAfter: 2 * time.Minute}

// Runner runs eval sets against candidate models. Set its fields, then call Run. Run does not
// modify the Runner, and a Runner may serve several runs one after another.
type Runner struct {
	// Category is the category the set measures. Calls carry it (the simulated provider
	// answers with its assumptions) and rows record it.
	Category *spec.Category
	// Models are the candidates, each called through its provider. Rows name a candidate by
	// its provider model id, or by its spec name when it shares its id with another model of
	// Spec or another candidate (see RowModel).
	Models []*spec.Model
	// Spec is the spec the candidates are of; nil names them by their model ids, except
	// candidates that share one.
	Spec *spec.Spec
	// Providers are the spec's providers by name.
	Providers map[string]clearbar.Provider
	// Concurrency bounds the calls in flight (grading included); 0 means DefaultConcurrency.
	Concurrency int
	// Limiter bounds the rate of calls to each provider; nil means no bound. The wait for it
	// is not counted in a call's latency.
	Limiter *Limiter
	// Retry says how calls that fail with a retryable class (rate limited, overloaded,
	// connection) are retried; the zero Policy never retries (DefaultRetry is the command's).
	// A call that fails with Auth or an exhausted quota stops the run: every further call
	// would fail too.
	Retry retry.Policy
	// CallTimeout bounds one call; 0 means the model's timeout, else its provider's, else
	// DefaultCallTimeout.
	CallTimeout time.Duration
	// TimeScales maps a provider name to the time scale its answers run at (simulated and
	// replay providers): latencies measured on it are divided by the scale before they are
	// recorded, so that rows hold simulated time. Providers not in it run at real time.
	// Simulated and replay answers report their latency (x_clearbar_latency_ms), which rows
	// record instead: a replay's is the one its table records for the answer, and a replay
	// answer that reports none (its row has no latency) records none, since the time the call
	// takes is this process's, not the model's.
	TimeScales map[string]float64
	// Progress, when set, gets a progress bar (see Progress); nil draws none.
	Progress io.Writer
	// Now is the clock latencies are measured with; nil means time.Now.
	Now func() time.Time
}

// Result is what a run did.
type Result struct {
	// Total is the number of (item, model) pairs of the set; Skipped were in the output
	// already; Ran were called and written by this run, Failed of them with a failed call.
	Total, Skipped, Ran, Failed int
	// Retried counts the calls of this run that failed with a provider error and were retried
	// (the Retries of the rows it wrote): not among Failed, which are the pairs whose call
	// still failed after its retries, but failed calls all the same, which estimate --measured
	// counts in the model's availability.
	Retried int
	// Regraded are the pairs among Skipped whose item's checks or reference, or the
	// category's validators grading it, changed since their row was written, whose row was
	// written before rows said how they were graded (GradedBy) and passed only when the
	// validators beside a reference or checks accepted it too, or whose answer was left
	// ungraded (a judge could not be reached), or whose pass the validators grading it alone
	// gave without checking it (none of them applies to the item, which rows written before
	// verdicts said so do not record): their recorded answers were graded again, without a
	// model call.
	// Rerun are the pairs among Ran that were in the output already but ran again for the
	// same reason, because their answers came from the simulated provider, whose stand-in
	// text was fitted to the checks as they were.
	Regraded, Rerun int
	// GradingCost is what this run's judge calls cost.
	GradingCost clearbar.Money
	// Rows are the output's records for the set's items, the category and the candidates,
	// earlier runs' included, in file order. NotInSet counts the records of the category and
	// the candidates left out of them because their items are not in the set (deleted from
	// it, or given a new id since): they stay in the file, but they measure nothing the set
	// asks.
	Rows     []Record
	NotInSet int
}

// ErrStopped wraps the error of a run that stopped before it finished (interrupted, or
// stopped by a failure every further call would share). Its finished rows are written: the
// same run again resumes.
var ErrStopped = errors.New("the eval run stopped before it finished")

// pair is one (item, model) to run, or, with rec, whose recorded answer to grade again.
type pair struct {
	item  *Item
	model *spec.Model
	rec   *Record
	again bool // the pair had a row, which its checks changed since (Result.Rerun)
}

// Run sends every item of set to every candidate model whose row is not yet in out, grades
// the answers and appends a row for each pair as it completes. At most Concurrency pairs are
// in flight; each is called with retries, rate limited and bounded by its timeout.
//
// Before any call, Run checks the rows out already has: a row for an item of the set recorded
// under another category, or for a prompt or request that has since changed, is an error (an outcomes
// table holds one row per item and model). A row graded by checks, a reference or category
// validators that have changed since (its Grading differs from the item's) is graded again with the item's graders,
// on its recorded answer, and replaced in out; a row marked Simulated runs again instead.
// When ctx ends, Run stops starting pairs, abandons those in flight without writing them, and
// returns the result so far with an error wrapping ErrStopped and ctx's error. Provider
// failures are rows, not errors, except those every further call would share (Auth, an
// exhausted quota), which stop the run, a judge's as a candidate's.
func (r *Runner) Run(ctx context.Context, set *Set, out *Output) (*Result, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	res := &Result{Total: len(set.Items) * len(r.Models)}
	var pending, regrade []pair
	var rerun [][2]string
	var problems []string
	for _, it := range set.Items {
		hash, request := outcomes.HashPrompt(it.Prompt), wholeRequest(it.Request)
		for _, m := range r.Models {
			row, line, ok := r.lookup(out, it.ID, m)
			switch {
			case !ok:
				pending = append(pending, pair{item: it, model: m})
			case row.Category != r.Category.Name:
				problems = append(problems, fmt.Sprintf("%s:%d: item %q already has a row for %s from category %q (line %d of %s); an outcomes table holds one row per item and model: use one --out file per category", set.File, it.Line, it.ID, m.Model, row.Category, line, out.Path()))
			case row.PromptHash != hash:
				problems = append(problems, fmt.Sprintf("%s:%d: item %q changed since it was run for %s (line %d of %s has another prompt): give the changed item a new id, or start another --out file", set.File, it.Line, it.ID, m.Model, line, out.Path()))
			case !sameRequest(row.Request, request):
				problems = append(problems, fmt.Sprintf("%s:%d: item %q changed since it was run for %s (line %d of %s was answered to another request: its system message, earlier turns, tools or response format differ): give the changed item a new id, or start another --out file", set.File, it.Line, it.ID, m.Model, line, out.Path()))
			case row.Error == "" && row.Pass != nil && validatorsDoNotApply(it):
				// A row written before verdicts said a validator did not apply holds a pass
				// the validators gave without checking the answer: graded again, without a
				// call (no validator applies), it is left ungraded.
				regrade = append(regrade, pair{item: it, model: m, rec: &row})
			case row.Error != "" || (row.Pass != nil || row.Unverified) && gradedAsItIs(&row, it):
				// A failed call has no answer to grade; an ungraded answer is graded again,
				// unless the validators could not judge it, which they would not now either.
				res.Skipped++
			case row.Simulated:
				// Only a row that says so holds a simulated answer: a row written before rows
				// recorded it may hold a real one, which is graded again, never dropped. A
				// simulated answer left ungraded runs again too: only the simulator's own
				// answer tells a simulated judge how it was drawn.
				rerun = append(rerun, [2]string{it.ID, row.Model})
				pending = append(pending, pair{item: it, model: m, again: true})
			default:
				regrade = append(regrade, pair{item: it, model: m, rec: &row})
			}
		}
	}
	if len(problems) > 0 {
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Sprintf("... and %d more", len(problems)-10))
		}
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	if len(regrade) > 0 || len(rerun) > 0 {
		recs, cost, err := r.regrade(ctx, regrade)
		if err != nil {
			return nil, err
		}
		if err := out.Replace(recs, rerun); err != nil {
			return nil, err
		}
		res.Skipped += len(recs)
		res.Regraded, res.GradingCost = len(recs), cost
	}

	var progress *Progress
	if r.Progress != nil && len(pending) > 0 {
		progress = NewProgress(r.Progress, len(pending), r.Now)
	}
	var mu sync.Mutex // guards res's counters
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.concurrency())
	for _, p := range pending {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() (err error) {
			defer func() {
				if v := recover(); v != nil {
					err = fmt.Errorf("eval of item %q on %s panicked: %v\n%s", p.item.ID, p.model.Name, v, debug.Stack())
				}
			}()
			rec, gradingCost, err := r.runPair(gctx, p)
			if err != nil || rec == nil {
				return err
			}
			if err := out.Write(*rec); err != nil {
				return err
			}
			mu.Lock()
			res.Ran++
			if p.again {
				res.Rerun++
			}
			res.GradingCost += gradingCost
			res.Retried += rec.Retries
			if rec.Error != "" {
				res.Failed++
			}
			mu.Unlock()
			if progress != nil {
				progress.Add(rec.Error != "")
			}
			return nil
		})
	}
	err := g.Wait()
	if progress != nil {
		progress.Finish()
	}
	res.Rows, res.NotInSet = r.rows(out, set)
	if err == nil && res.Skipped+res.Ran < res.Total {
		err = ctx.Err()
	}
	if err != nil {
		left := res.Total - res.Skipped - res.Ran
		return res, fmt.Errorf("%w after %d of %d pairs (%d left; run the same command again to resume): %w", ErrStopped, res.Skipped+res.Ran, res.Total, left, err)
	}
	return res, nil
}

// check validates the Runner's fields.
func (r *Runner) check() error {
	if r.Category == nil {
		return errors.New("eval: no category")
	}
	if len(r.Models) == 0 {
		return fmt.Errorf("eval: no candidate models for category %q", r.Category.Name)
	}
	names := map[string]string{}
	for _, m := range r.Models {
		name := r.rowModel(m)
		if other, dup := names[name]; dup {
			return fmt.Errorf("models %s and %s are both %s in the outcomes table, which holds one row per item and model", other, m.Name, name)
		}
		names[name] = m.Name
		if r.Providers[m.Provider.Name] == nil {
			return fmt.Errorf("model %s: no provider %q to call it with", m.Name, m.Provider.Name)
		}
	}
	return nil
}

func (r *Runner) concurrency() int {
	if r.Concurrency > 0 {
		return r.Concurrency
	}
	return DefaultConcurrency
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// timeout returns the bound of one call to m.
func (r *Runner) timeout(m *spec.Model) time.Duration {
	switch {
	case r.CallTimeout > 0:
		return r.CallTimeout
	case m.Timeout > 0:
		return m.Timeout.D()
	case m.Resolved.Provider != nil && m.Resolved.Provider.Timeout > 0:
		return m.Resolved.Provider.Timeout.D()
	}
	return DefaultCallTimeout
}

// rows returns out's rows for the set's items, the category and the candidates, and how many
// rows of the category and the candidates it left out for items the set does not have.
func (r *Runner) rows(out *Output, set *Set) (rows []Record, notInSet int) {
	ids := map[string]bool{}
	for _, m := range r.Models {
		ids[r.rowModel(m)] = true
		if r.ownsID(m) {
			ids[m.Model] = true // rows written before rows named models that share an id
		}
	}
	items := make(map[string]bool, len(set.Items))
	for _, it := range set.Items {
		items[it.ID] = true
	}
	for _, row := range out.Records() {
		switch {
		case row.Category != r.Category.Name || !ids[row.Model]:
		case !items[row.Item]:
			notInSet++
		default:
			rows = append(rows, row)
		}
	}
	return rows, notInSet
}

// runPair calls one model on one item, with retries, and grades the answer. It returns a nil
// record when ctx ended first (nothing is to be written), and an error only for a failure
// that must stop the run.
func (r *Runner) runPair(ctx context.Context, p pair) (*Record, clearbar.Money, error) {
	m, it := p.model, p.item
	prov := r.Providers[m.Provider.Name]
	rec := &Record{Row: outcomes.Row{
		Item: it.ID, Category: r.Category.Name, Prompt: it.Prompt, PromptHash: outcomes.HashPrompt(it.Prompt),
		Model: r.rowModel(m), Source: outcomes.SourceEval, Request: wholeRequest(it.Request),
	}}
	budget := retry.NewBudget(r.Retry, time.Time{}, nil)
	for attempt := 1; ; attempt++ {
		if err := r.Limiter.Wait(ctx, m.Provider.Name); err != nil {
			return nil, 0, nil // only ctx ends a wait without a deadline
		}
		cctx, cancel := context.WithTimeout(ctx, r.timeout(m))
		start := r.now()
		resp, err := prov.Complete(cctx, &clearbar.Call{Request: it.Request, Model: m.Model, SpecModel: m.Name, Category: r.Category.Name, Attempt: attempt, Key: it.ID})
		elapsed := r.now().Sub(start)
		cancel()
		if ctx.Err() != nil {
			return nil, 0, nil
		}
		rec.LatencyMS = r.latencyMS(elapsed, m.Provider.Name)
		if typ := providerType(m); typ == "simulated" || typ == "replay" {
			// Both report an answer's own latency: the simulator's draw, or the one the
			// replay's table records. Wall-clock time at a time scale would add this
			// process's overhead, divided by the scale, and a replay that does not wait
			// answers at once; a replay answer whose row records no latency, or a replayed
			// failure, takes only this process's time: it records none.
			if d, ok := simulated.LatencyOf(resp); ok && err == nil {
				rec.LatencyMS = math.Round(float64(d)/float64(time.Microsecond)) / 1000
			} else if typ == "replay" {
				rec.LatencyMS = 0
			}
		}
		if err == nil {
			return r.graded(ctx, rec, it, m, resp)
		}
		e := clearbar.AsError(err)
		if e.Class == clearbar.Auth || e.Exhausted() {
			return nil, 0, fmt.Errorf("model %s: %v: every further call would fail the same way; fix it and run the same command again", m.Name, e)
		}
		wait, ok, _ := budget.Decide(e, attempt-1, r.now())
		if !ok {
			rec.Error, rec.ErrorMessage = e.Class.String(), e.Error()
			return rec, 0, nil
		}
		rec.Retries++
		if retry.Wait(ctx, wait) != nil {
			return nil, 0, nil
		}
	}
}

// RowModel returns the name rows give model m of spec s: its provider model id, as in imported
// benchmarks, or, when another model of s has the same id (one model at two vendors, or a
// candidate and a judge of one model), its spec name, which replay and estimate --measured
// match before ids, so that the rows of one are not taken for the other's. s may be nil.
func RowModel(s *spec.Spec, m *spec.Model) string {
	if s != nil {
		for _, o := range s.Models {
			if o.Model == m.Model && o.Name != m.Name {
				return m.Name
			}
		}
	}
	return m.Model
}

// rowModel returns the name the run's rows give candidate m: RowModel, and its spec name when
// another candidate has its model id.
func (r *Runner) rowModel(m *spec.Model) string {
	for _, o := range r.Models {
		if o.Model == m.Model && o.Name != m.Name {
			return m.Name
		}
	}
	return RowModel(r.Spec, m)
}

// ownsID reports whether candidate m is the only one of the run with its model id, so that a
// row named by that id is its own: rows written before rows named by spec name the models
// that share an id.
func (r *Runner) ownsID(m *spec.Model) bool {
	for _, o := range r.Models {
		if o.Model == m.Model && o.Name != m.Name {
			return false
		}
	}
	return true
}

// lookup returns out's row for an item and candidate m: the one of m's row name, or else, for
// a candidate named by spec name that owns its id, the one of its id, written before rows
// named it so.
func (r *Runner) lookup(out *Output, item string, m *spec.Model) (Record, int, bool) {
	name := r.rowModel(m)
	row, line, ok := out.Lookup(item, name)
	if !ok && name != m.Model && r.ownsID(m) {
		return out.Lookup(item, m.Model)
	}
	return row, line, ok
}

// providerType returns the type of m's provider ("" when it is not resolved).
func providerType(m *spec.Model) string {
	if m.Resolved.Provider == nil {
		return ""
	}
	return m.Resolved.Provider.Type
}

// latencyMS converts a measured latency to the milliseconds a row records.
func (r *Runner) latencyMS(d time.Duration, provider string) float64 {
	ms := float64(d) / float64(time.Millisecond)
	if scale := r.TimeScales[provider]; scale > 0 {
		ms /= scale
	}
	return math.Round(ms*1000) / 1000
}

// wholeRequest returns the request body when the prompt alone does not say what was asked:
// a system message or earlier turns, tools, or a response format.
func wholeRequest(req *clearbar.Request) json.RawMessage {
	if req == nil || len(req.Body) == 0 || (len(req.Messages) <= 1 && len(req.Tools) == 0 && req.ResponseFormat.Type == "") {
		return nil
	}
	return json.RawMessage(req.Body)
}

// sameRequest reports whether a row's recorded whole request (Row.Request) is the one an
// item makes now (wholeRequest), compared as JSON values, so that spacing and key order do
// not count. A row that records none is not refused for it: it was written before rows
// recorded requests, or its prompt alone said what was asked, and its prompt hash, checked
// apart, is what it has to compare.
func sameRequest(recorded, now json.RawMessage) bool {
	if len(recorded) == 0 || len(now) == 0 {
		return len(recorded) == 0
	}
	var a, b any
	if json.Unmarshal(recorded, &a) != nil || json.Unmarshal(now, &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

// graded fills a record from an answer and its grades.
func (r *Runner) graded(ctx context.Context, rec *Record, it *Item, m *spec.Model, resp *clearbar.Response) (*Record, clearbar.Money, error) {
	rec.Simulated = simulationOf(resp) != nil
	resp = simulatedAnswer(it, resp)
	rec.Response = resp.Text()
	if len(resp.Choices) > 0 {
		rec.ToolCalls = outcomes.ToolCallsOf(resp.Choices[0].ToolCalls)
	}
	rec.SetUsage(resp.Usage)
	// A replayed answer's estimated tokens are recorded as estimates, and its recorded cost,
	// when its row has one, is what it cost: the spec's prices of estimated tokens are not.
	// Counted tokens are priced at the spec's prices, which may be newer than the recording.
	rec.TokensEstimated = resp.UsageEstimated
	if resp.UsageEstimated && resp.Usage.CachedTokens == 0 {
		rec.TokensCached = nil // an estimate says nothing of the cache
	}
	rec.Cost = m.Cost(resp.Usage)
	if resp.UsageEstimated && resp.RecordedCost > 0 {
		rec.Cost = resp.RecordedCost
	}
	cost, ok, err := r.grade(ctx, rec, it, m, resp)
	if err != nil || !ok {
		// A grade cut short (a judge cancelled) is no grade: the pair runs again on resume.
		return nil, 0, err
	}
	return rec, cost, nil
}

// grade runs the item's graders on an answer and sets the record's checks, score, pass, how
// it was graded and grading fingerprint. An item with a reference or checks is graded by them
// alone: the category's validators, which are among its graders when the category has any,
// run too and their verdict is recorded among the checks, but it does not count, since the validators miss bad
// answers and flag good ones at their own rates (the spec's assume.validator), and the pass
// rate is the model's. An item graded by the validators alone passes when they accept the
// answer (GradeValidators). A check that could not decide (Verdict.Undecided) leaves score
// and pass unset, unless a counted check that did decide failed the answer, which fails
// whatever the undecided one would say: the answer is not graded, and the next run grades it
// again. A verdict of the validators that could not judge the answer (Verdict.Unverified)
// leaves it ungraded too, unless a counted check that did decide failed it, and marks the
// record Unverified: the next run does not grade it again until what grades it changes. It
// returns what grading cost, and false when ctx ended first (the record is then not graded),
// or a verdict's Stop: a failure of a model a check calls that stops the run.
func (r *Runner) grade(ctx context.Context, rec *Record, it *Item, m *spec.Model, resp *clearbar.Response) (clearbar.Money, bool, error) {
	rec.Checks = nil
	in := &Input{Item: it, Model: m.Name, Response: resp}
	aside := validatorsAside(it.Graders)
	pass, score := true, 1.0
	undecided, unverified, failed := false, false, false
	rec.Unverified = false
	var cost clearbar.Money
	for _, g := range it.Graders {
		_, isValidators := g.(*Validators)
		counts := !(aside && isValidators)
		// Costly graders that count are not run on an answer that already failed. The
		// validators' verdict aside is taken on every answer: on the bad ones it is what
		// says whether they catch them.
		if counts && !pass && isCostly(g) {
			rec.Checks = append(rec.Checks, Verdict{Check: g.Name(), Reason: "not run: an earlier check already failed"})
			continue
		}
		v := g.Grade(ctx, in)
		if v.Stop != nil {
			return 0, false, v.Stop
		}
		v.Score = min(max(v.Score, 0), 1)
		rec.Checks = append(rec.Checks, v)
		cost += v.Cost
		if !counts {
			continue
		}
		pass = pass && v.Pass
		score = min(score, v.Score)
		undecided = undecided || v.Undecided
		unverified = unverified || v.Unverified
		failed = failed || !v.Pass && !v.Undecided && !v.Unverified
	}
	if ctx.Err() != nil {
		return 0, false, nil
	}
	rec.Score, rec.Pass, rec.Grading = &score, &pass, it.Grading
	rec.GradedBy = GradeChecks
	if gradedByValidatorsAlone(it.Graders) {
		rec.GradedBy = GradeValidators
	}
	switch {
	case undecided && !failed:
		rec.Score, rec.Pass, rec.GradedBy = nil, nil, ""
	case unverified && !failed:
		rec.Score, rec.Pass, rec.GradedBy, rec.Unverified = nil, nil, "", true
	}
	return cost, true, nil
}

// validatorsAside reports whether an item's graders are the category's validators beside a
// reference or checks, which then grade the answers alone.
func validatorsAside(graders []Grader) bool {
	validators, others := false, false
	for _, g := range graders {
		if _, ok := g.(*Validators); ok {
			validators = true
		} else {
			others = true
		}
	}
	return validators && others
}

// gradedByValidatorsAlone reports whether an item's answers are graded by the category's
// validators alone.
func gradedByValidatorsAlone(graders []Grader) bool {
	for _, g := range graders {
		if _, ok := g.(*Validators); !ok {
			return false
		}
	}
	return len(graders) > 0
}

// validatorsDoNotApply reports whether an item is graded by the category's validators alone and
// none of them applies to it (Validators.NotApplicable), so that its answers get no grade.
func validatorsDoNotApply(it *Item) bool {
	if !gradedByValidatorsAlone(it.Graders) {
		return false
	}
	for _, g := range it.Graders {
		if g.(*Validators).NotApplicable(it) == "" {
			return false
		}
	}
	return true
}

// gradedAsItIs reports whether a row's answer was graded by the item's checks and reference
// as the set now writes them: its grading fingerprint is the item's, or, for a row written
// before rows recorded one, its verdicts name the item's graders, in order. A row of an item
// whose validators stand beside a reference or checks, written before rows said how they were
// graded (GradedBy), passed only when the validators accepted it too, and is graded again.
func gradedAsItIs(rec *Record, it *Item) bool {
	if rec.GradedBy == "" && validatorsAside(it.Graders) {
		return false
	}
	if rec.Grading != "" {
		return rec.Grading == it.Grading
	}
	if len(rec.Checks) != len(it.Graders) {
		return false
	}
	for i, g := range it.Graders {
		if rec.Checks[i].Check != g.Name() {
			return false
		}
	}
	return true
}

// regrade grades the recorded answers of pairs again with their items' graders, at most
// Concurrency at a time, and returns the records graded (those whose grading ctx did not cut
// short) and what grading cost. Nothing calls the answering models.
func (r *Runner) regrade(ctx context.Context, pairs []pair) ([]Record, clearbar.Money, error) {
	var (
		mu   sync.Mutex
		out  []Record
		cost clearbar.Money
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.concurrency())
	for _, p := range pairs {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() (err error) {
			defer func() {
				if v := recover(); v != nil {
					err = fmt.Errorf("grading item %q on %s again panicked: %v\n%s", p.item.ID, p.model.Name, v, debug.Stack())
				}
			}()
			rec := *p.rec
			finish := "stop"
			if len(rec.ToolCalls) > 0 {
				finish = "tool_calls"
			}
			resp := &clearbar.Response{Model: rec.Model, Usage: rec.Usage(), HasUsage: rec.TokensIn > 0, UsageEstimated: rec.TokensEstimated,
				Choices: []clearbar.Choice{{Text: rec.Response, ToolCalls: rec.AnswerToolCalls(), FinishReason: finish}}}
			c, ok, err := r.grade(gctx, &rec, p.item, p.model, resp)
			if err != nil || !ok {
				return err
			}
			mu.Lock()
			out = append(out, rec)
			cost += c
			mu.Unlock()
			return nil
		})
	}
	err := g.Wait()
	return out, cost, err
}
