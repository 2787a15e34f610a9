// Package estimate turns a routing spec into expected cost, latency, quality and risk for the
// spec's routing policy and its alternatives, side by side, and recommends one.
//
// Expectations (cost, quality, escalation, fallback and failure rates) come from a closed form
// that propagates probability mass through each route; latency quantiles come from a seeded
// Monte Carlo simulation of the same process, because tails are what latency budgets are about
// (or from the closed form, where a route's latency is one model's: see
// routePlan.exactLatency). Both cut a call at its timeout, as the gateway does (see the
// process in plan.go). A simulated p95 meets its budget within the simulation's error
// (cell.meetsBudget): a budget is judged met when the simulated p95 is over it by no more than
// budgetZ standard errors (plus half a histogram bucket), which makes most verdicts
// independent of the seed; one whose p95 is near the budget plus that tolerance still
// depends on it.
//
// Policies that clear every bar and budget are compared by what they would cost if the
// requests they fail were charged what answering them costs (Figures.ServedCost): a failed
// request costs nothing, which is no saving. When none clears, the closest misses by the least
// relative to what each bar and budget allows (PolicyResult.Shortfall).
//
// Identical routes are evaluated once and shared between policies. Results are reproducible:
// the same spec, options and seed give the same report, whatever the number of workers.
package estimate

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/clearbar/clearbar/spec"
)

// Defaults for Options.
const (
	DefaultSamples = 200_000
	DefaultSeed    = 1
	// MinCategorySamples is the fewest Monte Carlo draws any one category's route gets: a
	// policy gets at least this many times its spec's number of categories (MinSamples).
	MinCategorySamples = 2_000
)

// MaxSamples is the most Monte Carlo samples per policy an estimate draws: at a hundred
// million draws the simulation's error on a p95 or a mean is far below what any assumption is
// known to, and a larger number only makes the run longer (a few seconds per 20 million).
const MaxSamples = 100_000_000

// MinSamples is the fewest Monte Carlo samples per policy an estimate of s draws, whatever
// Options.Samples says: MinCategorySamples for each category.
func MinSamples(s *spec.Spec) int { return MinCategorySamples * max(len(s.Categories), 1) }

// minNotedTooLong is the smallest share of a category's requests too long for a model that a
// note mentions; smaller shares count in the figures all the same.
const minNotedTooLong = 1e-4

// tooLongNotes says, per category, which models' context windows are too small for some of its
// requests, which the estimate leaves out of those requests' plans (see fits). Models the
// category can use are named: those of its route and fallbacks and those with a pass rate.
func tooLongNotes(s *spec.Spec) []string {
	w := newWorld(s)
	var notes []string
	for _, c := range s.Categories {
		used := w.spec.RouteCandidates(c.Route, c.Fallback)
		for _, m := range s.Models {
			p := tooLong(c, m)
			if _, rated := c.PassRate(m); p < minNotedTooLong || !rated && !slices.Contains(used, m) {
				continue
			}
			who := fmt.Sprintf("%s of its requests have", shareOf(p))
			if p > 1-1e-9 {
				who = "every request has"
			}
			notes = append(notes, fmt.Sprintf("%s: %s more input tokens than %s's context window (%s tokens); the estimate leaves %s out of their plans, as the gateway does",
				c.Name, who, m.Name, groupInt(int64(m.Resolved.ContextWindow)), m.Name))
		}
	}
	return notes
}

// timeoutNotes says, per category, which models' calls the estimate cuts at their timeout,
// and warns of a model most of whose calls (more than half; in the ttft form, with the
// category's output tokens) take longer than its timeout, which usually means a latency
// written in the wrong unit. A model whose latency the spec's own
// check warns about (its declared median, or median time to the first token, is longer than
// the timeout: spec.Load's warnings) is not warned about twice.
func timeoutNotes(w *world) (notes, warnings []string) {
	s := w.spec
	warned := map[string]bool{}
	for _, c := range s.Categories {
		used := s.RouteCandidates(c.Route, c.Fallback)
		for _, m := range s.Models {
			if _, rated := c.PassRate(m); !rated && !slices.Contains(used, m) {
				continue
			}
			t, from, abort := w.timeout(m)
			cl := w.call(c, m, wholeBand)
			if cl.cut > 0.5 {
				who := "model " + m.Name
				if _, own := c.Assume.Latency[m.Name]; own {
					who += " in " + c.Name
				}
				l := m.Latency
				if own := c.Assume.Latency[m.Name]; own != nil {
					l = own
				}
				if key := who + " " + pct(cl.cut); !warned[key] && !(l != nil && l.StatedMedian() > t) {
					warned[key] = true
					warnings = append(warnings, fmt.Sprintf("%s: %s of its calls take longer than %s, %s: most calls time out; check the latency's unit (milliseconds written as seconds?)",
						who, pct(cl.cut), secs(t.Seconds()), from))
				}
			}
			if cl.cut < minNotedTooLong {
				continue
			}
			then := "moves on to the route's next model, or fails the request when there is none (no retry, no cost), as the gateway does"
			if abort {
				then = "fails their requests (no cost), as the gateway does"
			}
			notes = append(notes, fmt.Sprintf("%s: %s of %s's calls take longer than %s, %s; the estimate cuts them at %s and %s",
				c.Name, shareOf(cl.cut), m.Name, from, secs(t.Seconds()), secs(t.Seconds()), then))
		}
	}
	return notes, warnings
}

// shareOf writes a share of requests with two significant digits, "9.2%", "63%".
func shareOf(p float64) string {
	switch {
	case p >= 0.1:
		return fmt.Sprintf("%.0f%%", p*100)
	}
	return strconv.FormatFloat(roundSignificant(p*100, 2), 'f', -1, 64) + "%"
}

// Options control an estimate. The zero value uses the defaults.
type Options struct {
	// Samples is the number of Monte Carlo draws per policy, split evenly over categories,
	// the first categories taking one more each when they do not divide it (each category
	// gets at least 2,000). Zero means DefaultSamples.
	Samples int
	// Seed makes the simulation reproducible. Zero means DefaultSeed.
	Seed uint64
	// Volume is requests per month for monthly figures (user requests, with pipelines); zero
	// means the spec's volume.
	Volume int64
	// Sensitivity, when above zero, is the relative move (0.2 = ±20%) applied to each input in
	// turn to see which ones change the recommendation.
	Sensitivity float64
	// Workers bounds parallelism; zero means GOMAXPROCS.
	Workers int
	// Today dates the report; zero means now.
	Today time.Time
	// Measured, when set, replaces assumptions with measurements (see Measure): pass rates,
	// latency samples, tokens and availability per category and model, where there are enough
	// observations. The report lists every assumption beside its measurement.
	Measured *Measurements
	// MeasuredFrom names where the measurements came from, for the report.
	MeasuredFrom string
}

func (o Options) withDefaults(s *spec.Spec) Options {
	if o.Samples <= 0 {
		o.Samples = DefaultSamples
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Volume <= 0 {
		o.Volume = s.Volume.Monthly()
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Today.IsZero() {
		o.Today = time.Now()
	}
	return o
}

// Run estimates every policy for s: the spec's own routes, the automatic alternatives and the
// spec's named policies. ctx cancels a long run.
func Run(ctx context.Context, s *spec.Spec, opts Options) (*Report, error) {
	if s == nil || len(s.Categories) == 0 {
		return nil, errors.New("estimate: the spec has no categories")
	}
	// With pipelines, a volume counts user requests; the monthly figures count calls.
	userVolume := userVolumeOf(s, opts.Volume)
	opts.Volume = callVolume(s, opts.Volume)
	opts = opts.withDefaults(s)
	e := &estimator{spec: s, opts: opts, world: newWorld(s), cells: map[cellKey]*cell{}, keepDraws: pipelineCategories(s), done: ctx.Done()}
	if opts.Measured != nil {
		opts.Measured.apply(e.world)
	}
	e.perCell = max(opts.Samples/len(s.Categories), MinCategorySamples)

	policies, notes := basePolicies(s)
	notes = append(notes, tooLongNotes(s)...)
	cutNotes, warnings := timeoutNotes(e.world)
	notes = append(notes, cutNotes...)
	if n := e.samplesPerPolicy(); n > opts.Samples {
		notes = append(notes, fmt.Sprintf("%s Monte Carlo samples per policy, not the %s asked for: each category gets at least %s", groupInt(int64(n)), groupInt(int64(opts.Samples)), groupInt(MinCategorySamples)))
	}
	if err := e.evaluate(ctx, policies); err != nil {
		return nil, err
	}
	derived, derivedNotes := e.derivedPolicies(policies)
	notes = append(notes, derivedNotes...)
	if err := e.evaluate(ctx, derived); err != nil {
		return nil, err
	}
	policies = append(policies, derived...)
	// Named policies come last, after the automatic ones, in file order.
	named := namedPolicies(s)
	if err := e.evaluate(ctx, named); err != nil {
		return nil, err
	}
	policies = append(policies, named...)
	if err := ctx.Err(); err != nil {
		return nil, err // a simulation cut short (see estimator.done) measured nothing
	}

	r := e.report(policies)
	r.UserRequests = e.userRequests(policies, r, userVolume)
	r.Recommendation += perUserRequest(r)
	r.Notes = append(r.Notes, notes...)
	r.Notes = append(r.Notes, budgetNotes(policies)...)
	r.Notes = append(r.Notes, pipelineBudgetNotes(r.UserRequests)...)
	r.Warnings = append(r.Warnings, warnings...)
	if ms := opts.Measured; ms != nil {
		r.Measured = &MeasuredSummary{From: opts.MeasuredFrom, Unmatched: ms.Unmatched, Findings: ms.Findings(s)}
		for _, f := range r.Measured.Findings {
			if f.Contradicts {
				r.Measured.Contradictions++
			}
		}
	}
	if opts.Sensitivity > 0 {
		sens, err := e.sensitivity(ctx, policies, r)
		if err != nil {
			return nil, err
		}
		r.Sensitivity = sens
	}
	return r, nil
}

// estimator evaluates policies against one world, sharing cells between them.
type estimator struct {
	spec    *spec.Spec
	opts    Options
	world   *world
	perCell int
	// done is the run's context's Done: a simulation stops drawing when it is closed, and
	// the run then returns the context's error (see simulateUntil).
	done  <-chan struct{}
	mu    sync.Mutex
	cells map[cellKey]*cell
	// keepDraws names the categories whose cells keep their latency draws: the steps of
	// pipelines, which add them up (see pipeline.go).
	keepDraws map[string]bool
}

// cellKey identifies one route evaluated in one category.
type cellKey struct {
	category string
	route    string
}

// cell is one category's route, compiled and evaluated.
type cell struct {
	cat     *spec.Category
	route   CategoryRoute
	plan    routePlan
	closed  outcome
	served  float64 // see world.servedCost
	sim     *simulation
	latency Latency
	ttfb    Latency
	// exact says latency's quantiles are the closed form's (see routePlan.exactLatency), not
	// the simulation's; p95Tol is otherwise how far the simulated p95 may be from the true one
	// (see hist.quantileTol).
	exact  bool
	p95Tol float64
}

func (e *estimator) cellFor(c *spec.Category, r CategoryRoute) *cell {
	k := cellKey{c.Name, routeKey(r.Route, r.Fallback)}
	e.mu.Lock()
	defer e.mu.Unlock()
	if cl, ok := e.cells[k]; ok {
		return cl
	}
	cl := &cell{cat: c, route: r}
	e.cells[k] = cl
	return cl
}

// evaluate computes every cell the policies need that is not yet computed, in parallel.
func (e *estimator) evaluate(ctx context.Context, policies []*Policy) error {
	var todo []*cell
	seen := map[*cell]bool{}
	for _, p := range policies {
		p.cells = make([]*cell, len(e.spec.Categories))
		for i, c := range e.spec.Categories {
			cl := e.cellFor(c, p.Routes[i])
			p.cells[i] = cl
			if cl.sim == nil && !seen[cl] {
				seen[cl] = true
				todo = append(todo, cl)
			}
		}
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(e.opts.Workers)
	for _, cl := range todo {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			e.compute(cl, e.perCell)
			return nil
		})
	}
	return g.Wait()
}

// compute compiles and evaluates one cell with n simulated requests, and, when n is the
// estimator's perCell, the category's share of the samples asked for that do not divide
// evenly (see extraSample).
func (e *estimator) compute(cl *cell, n int) {
	if n == e.perCell {
		n += e.extraSample(cl.cat)
	}
	cl.plan = e.world.compile(cl.cat, cl.route.Route, cl.route.Fallback)
	cl.closed = cl.plan.closed()
	cl.served = cl.closed.cost
	if cl.closed.failed > 0 {
		cl.served = e.world.servedCost(cl.cat, cl.route.Route, cl.route.Fallback, cl.closed)
	}
	cl.sim = cl.plan.simulateUntil(e.done, n, e.rng(cl), e.keepDraws[cl.cat.Name])
	q, qf := cl.sim.hist.quantiles(0.5, 0.95, 0.99), cl.sim.ttfb.quantiles(0.5, 0.95, 0.99)
	if x, xf, ok := cl.plan.exactLatency(0.5, 0.95, 0.99); ok {
		q, cl.exact = x, true
		if xf != nil {
			qf = xf
		}
	} else {
		cl.p95Tol = cl.sim.hist.quantileTol(0.95)
	}
	// The means are the simulation's, both: drawn request by request with the time to first
	// byte, which is never after the request's end, so that neither mean exceeds the other.
	cl.latency = Latency{Mean: cl.sim.hist.mean(), P50: q[0], P95: q[1], P99: q[2]}
	q = qf
	cl.ttfb = Latency{Mean: cl.sim.ttfb.mean(), P50: q[0], P95: q[1], P99: q[2]}
}

// extraSample is 1 for a category that draws one sample more than perCell, 0 otherwise: the
// samples asked for (Options.Samples) that do not divide evenly over the categories go one
// each to the first categories in spec order, so that a policy draws exactly the number asked
// for. None do when perCell is not the even share (at least MinCategorySamples each).
func (e *estimator) extraSample(c *spec.Category) int {
	cats := e.spec.Categories
	rem := e.opts.Samples - e.perCell*len(cats)
	if rem <= 0 || rem >= len(cats) {
		return 0
	}
	if i := slices.IndexFunc(cats, func(x *spec.Category) bool { return x.Name == c.Name }); i >= 0 && i < rem {
		return 1
	}
	return 0
}

// samplesPerPolicy is the number of Monte Carlo samples each policy draws: perCell for each
// category, and the remainder of the samples asked for (see extraSample).
func (e *estimator) samplesPerPolicy() int {
	n := e.perCell * len(e.spec.Categories)
	for _, c := range e.spec.Categories {
		n += e.extraSample(c)
	}
	return n
}

// rng returns the cell's random stream, which depends only on the seed, the category and the
// route, so results do not depend on scheduling or on which policies are evaluated.
func (e *estimator) rng(cl *cell) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(cl.cat.Name))
	h.Write([]byte{0})
	h.Write([]byte(routeKey(cl.route.Route, cl.route.Fallback)))
	return rand.New(rand.NewPCG(e.opts.Seed, h.Sum64()))
}
