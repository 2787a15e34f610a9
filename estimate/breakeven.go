package estimate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
)

// Break-even points: how far each input the sensitivity moves (knobs) can move, alone and in
// each direction, before the recommendation changes, the policy recommended or whether it
// clears every bar and budget, as the sensitivity counts a change.
//
// The search covers, from the value as assumed to the end of its range in the direction of
// the move: prices and latencies from 1/BreakEvenFactor to BreakEvenFactor times; pass
// rates, validator rates and availabilities their whole [0, 1]; shares of traffic from
// shareMargin to 1 − shareMargin (at 0 or 1 policies that differ only in the categories left
// without traffic tie). A policy that ties with the baseline's is no change. It
// first steps along breakEvenGrid points, at (i/breakEvenGrid)² of the way (denser near the
// assumed value: the first is 2.8% of the way, a price factor of 1.066), geometrically where
// the moving quantity and the end are above zero, else linearly; at the first point where the
// recommendation changes it bisects between that point and the one before, until the
// bracket is within BreakEvenTolerance of the moving quantity (a factor, a share, the
// probability, or its complement where the complement moves: the failure, miss or error
// rate) or after breakEvenMaxHalvings halvings. The steps also include the sensitivity's move
// in the search's direction (breakEvenSteps), so that a move the sensitivity found to change
// the recommendation is not stepped over. So a search costs at most breakEvenGrid + 2 +
// breakEvenMaxHalvings estimates; one that finds no change within the range, breakEvenGrid + 2.
// Short of the change (or within the range, when there is none), the same estimates say
// where the recommended policy keeps its name but takes other routes (BreakEven.RoutesChange),
// which a second bisection narrows to RoutesChangeTolerance: up to breakEvenMaxHalvings more
// estimates, only where the routes change.
// A change and a change back between two steps go unseen, and a bracket with more than one
// change yields one of them.
//
// Each estimate is a perturbed estimate (see perturbed): with the baseline's samples per
// category and its random streams, so that results are reproducible and the search sees the
// same draws at every value; only the cells the input can affect are evaluated again, in
// closed form where the input cannot change the simulation. A break-even that turns on a
// category's simulated p95 against its latency budget is accurate to the simulation's error
// at the seed (see cell.meetsBudget), not to the bisection's tolerance.

const (
	// BreakEvenFactor bounds the search of prices and latencies: from 1/10 to 10 times as
	// assumed.
	BreakEvenFactor = 10
	// BreakEvenTolerance is the bisection's relative precision: it stops when the bracket
	// around a break-even spans at most 0.1% of the moving quantity.
	BreakEvenTolerance = 1e-3
	// RoutesChangeTolerance is the bisection's relative precision for a change of the
	// recommended policy's routes (BreakEven.RoutesChange): 1% of the moving quantity, coarser
	// than a break-even's, for fewer estimates.
	RoutesChangeTolerance = 1e-2
	breakEvenGrid         = 6
	breakEvenMaxHalvings  = 16
	// shareMargin keeps a share search within [shareMargin, 1 − shareMargin]: the other
	// shares, rescaled, stay above zero.
	shareMargin = 1e-3
)

// BreakEven is how far one input can move in one direction before the recommendation
// changes.
type BreakEven struct {
	Input string `json:"input"`
	// Kind is "price" or "latency" (a factor on every price, or every response time, of the
	// model: 1 as assumed), "probability" (a pass rate, validator rate or availability) or
	// "share" (of traffic, the other categories' rescaled to keep the total; with pipelines, of
	// user requests, a pipeline's or a category's called alone, the others rescaled).
	Kind string `json:"kind"`
	// Complement names what moves for a probability whose complement moves, as the sensitivity
	// moves it: "failure rate" of a pass rate, "miss rate" of a detect rate, "error rate" of an
	// availability.
	Complement string `json:"complement,omitempty"`
	// Direction is "up" or "down": which way the input moves.
	Direction string `json:"direction"`
	// Assumed is the input as the estimate has it; Limit the end of the range searched.
	Assumed float64 `json:"assumed"`
	Limit   float64 `json:"limit"`
	// Found says the recommendation changes within the range. Value is then the break-even,
	// the middle of the last bracket, within ± Tolerance: the recommendation holds on the
	// Assumed side of it and, past it, becomes Recommended (RecommendedClears says whether
	// that clears every bar and budget; false when absent).
	Found             bool     `json:"found"`
	Value             *float64 `json:"value,omitempty"`
	Tolerance         float64  `json:"tolerance,omitempty"`
	Recommended       string   `json:"recommended,omitempty"`
	RecommendedClears bool     `json:"recommended_clears,omitempty"`
	// Move is Value's move from Assumed, relative to it, as the sensitivity's ±x moves the
	// input (of the Complement where there is one: pass rate 0.93 to 0.912 is a failure rate
	// +26%); from zero, the absolute change. Its size orders the break-evens.
	Move float64 `json:"relative_move,omitempty"`
	// AssumedDetail and Detail say what a price or latency factor means, as assumed and at
	// the break-even: the model's prices per million tokens, its stated median.
	AssumedDetail string `json:"assumed_detail,omitempty"`
	Detail        string `json:"detail,omitempty"`
	// Note, when not empty, says what a reader should know of the break-even: a pass rate's at
	// its category's quality bar, which the model alone misses there by its failed requests.
	Note string `json:"note,omitempty"`
	// RoutesChange, when not nil, is the nearest value, short of the break-even (anywhere in
	// the range searched when there is none), at which the recommended policy stays
	// recommended, and whether it clears stays as it was, but its routes change: a policy
	// derived from the inputs (cheapest-passing, cascade-by-price) can route a category
	// otherwise before another policy overtakes it. The break-even itself counts only the
	// policy's name and whether it clears.
	RoutesChange *RoutesChange `json:"routes_change,omitempty"`
	// Estimates is the number of perturbed estimates the search made, those that found
	// RoutesChange included.
	Estimates int `json:"estimates"`
}

// RoutesChange is where, moving one input in one direction, the recommended policy's routes
// change while it stays recommended (BreakEven.RoutesChange).
type RoutesChange struct {
	// Value is the middle of the last bracket, within ± Tolerance: on the assumed side of it
	// the policy's routes are as estimated; past it they are as Routes says. Move and Detail
	// are as BreakEven's.
	Value     float64 `json:"value"`
	Tolerance float64 `json:"tolerance"`
	Move      float64 `json:"relative_move"`
	Detail    string  `json:"detail,omitempty"`
	// Routes says, per category whose route changes, its route before and after: "x: a → c".
	Routes []string `json:"routes_changed"`
}

// FindBreakEvens searches the break-even of every input the sensitivity of r moves, in both
// directions, and adds them to r.Sensitivity. r must come straight from Run with
// Options.Sensitivity above zero: FindBreakEvens then drops the estimator the report keeps for
// it (every evaluated cell), so that it runs once per report. Searches run in parallel, up to
// Options.Workers of them, each estimate's cells split among the workers left, so that at
// most about Options.Workers goroutines compute at once; the result does not depend on their
// number.
func FindBreakEvens(ctx context.Context, r *Report) error {
	s := r.Sensitivity
	if s == nil || s.est == nil {
		return errors.New("estimate: break-even points need a report straight from Run with Options.Sensitivity above zero, searched once")
	}
	e := s.est
	defer func() { s.est, s.knobs = nil, nil }()
	base := verdict{s.Baseline, s.BaselineClears}
	routes := r.policy(s.Baseline)
	type search struct {
		k  *knob
		up bool
	}
	var todo []search
	for i := range s.knobs {
		for _, up := range []bool{true, false} {
			if p := s.knobs[i].path(up); p.m0 != p.end {
				todo = append(todo, search{&s.knobs[i], up})
			}
		}
	}
	out := make([]BreakEven, len(todo))
	outer := max(1, min(e.opts.Workers, len(todo)))
	inner := max(1, e.opts.Workers/outer)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(outer)
	for i, sr := range todo {
		g.Go(func() (err error) {
			out[i], err = e.breakEven(gctx, sr.k.path(sr.up), base, routes, inner)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	slices.SortStableFunc(out, func(a, b BreakEven) int {
		switch {
		case a.Found != b.Found:
			if a.Found {
				return -1
			}
			return 1
		case !a.Found:
			return 0
		}
		return cmp.Or(cmp.Compare(math.Abs(a.Move), math.Abs(b.Move)), strings.Compare(a.Input, b.Input), strings.Compare(a.Direction, b.Direction))
	})
	s.BreakEvens, s.BreakEvenRuns = out, 0
	for _, b := range out {
		s.BreakEvenRuns += b.Estimates
	}
	return nil
}

// verdict is what a break-even changes: the policy recommended and whether it clears.
type verdict struct {
	name   string
	clears bool
}

// path is one direction of a knob's range, in the quantity that moves: the factor, the
// probability or share, or a kindSuccess probability's complement. at(0) is m0, as assumed;
// at(1) end.
type path struct {
	k         *knob
	up        bool // the input rises
	m0, end   float64
	geometric bool
}

func (k *knob) path(up bool) path {
	p := path{k: k, up: up}
	switch k.kind {
	case kindPrice, kindLatency:
		p.m0, p.end = 1, BreakEvenFactor
		if !up {
			p.end = 1.0 / BreakEvenFactor
		}
	case kindSuccess:
		p.m0, p.end = 1-k.value, 1 // the complement rises as the input falls
		if up {
			p.end = 0
		}
	case kindShare:
		// Short of 0 and 1: at the ends the other categories, or this one, carry no traffic,
		// and policies that differ only there tie, which is no break-even.
		p.m0, p.end = k.value, min(k.value, shareMargin)
		if up {
			p.end = max(k.value, 1-shareMargin)
		}
	default:
		p.m0, p.end = k.value, 0
		if up {
			p.end = 1
		}
	}
	p.geometric = p.m0 > 0 && p.end > 0
	return p
}

// at is the moving quantity u of the way along the path.
func (p path) at(u float64) float64 {
	switch {
	case u >= 1:
		return p.end
	case u <= 0:
		return p.m0
	case p.geometric:
		return p.m0 * math.Pow(p.end/p.m0, u)
	}
	return p.m0 + u*(p.end-p.m0)
}

// value is the input whose moving quantity is m.
func (p path) value(m float64) float64 {
	if p.k.kind == kindSuccess {
		return 1 - m
	}
	return m
}

// precise reports whether the bracket [lo, hi] (fractions of the way) is within
// BreakEvenTolerance of the moving quantity.
func (p path) precise(lo, hi float64) bool { return p.within(lo, hi, BreakEvenTolerance) }

// within reports whether the bracket [lo, hi] (fractions of the way) is within tol of the
// moving quantity, relative to it.
func (p path) within(lo, hi, tol float64) bool {
	a, b := p.at(lo), p.at(hi)
	return math.Abs(a-b) <= tol*math.Max(math.Abs(a), math.Abs(b))
}

// breakEven searches one path for the nearest change of the recommendation from base and,
// short of it, the nearest change of the routes of the policy base recommends (its routes as
// estimated are baseRoutes'): every estimate of the search tells both. The search for the
// recommendation's change is as the comment at the top of this file says, and its results do
// not depend on the routes; when, before it, some estimate keeps the recommendation but finds
// other routes, the nearest such change is bisected too, between the farthest estimate before
// it with the routes unchanged and the nearest with them changed, to RoutesChangeTolerance: up
// to breakEvenMaxHalvings more estimates.
func (e *estimator) breakEven(ctx context.Context, p path, base verdict, baseRoutes *PolicyResult, workers int) (BreakEven, error) {
	k := p.k
	b := BreakEven{Input: k.input, Kind: k.kind.name(), Direction: "down", Assumed: k.value, Limit: p.value(p.end)}
	if p.up {
		b.Direction = "up"
	}
	if k.kind == kindSuccess {
		b.Complement = k.complement + " rate"
	}
	b.AssumedDetail = k.detail(k.value)
	// probe is what an estimate u of the way along the path finds: the verdict and, when it
	// is base, the routes of base's policy that changed.
	type probe struct {
		v      verdict
		routes []string
	}
	eval := func(u float64) (probe, error) {
		if err := ctx.Err(); err != nil {
			return probe{}, err
		}
		b.Estimates++
		r, err := e.perturbed(ctx, k.at(p.value(p.at(u)), ""), workers)
		if err != nil {
			return probe{}, err
		}
		rec := r.policy(r.Recommended)
		bp := r.policy(base.name)
		// A policy that ties with the baseline's (recommend keeps the earlier of the two), or
		// that the baseline's routes are the same as (PolicyResult.SameAs), is no change of
		// the recommendation.
		if bp != nil && rec != bp && slices.ContainsFunc(recommendable(r.Policies), func(p *PolicyResult) bool {
			return p == bp || p.Name == bp.SameAs
		}) {
			rec = bp
		}
		pr := probe{v: verdict{rec.Name, rec.Clears}}
		if pr.v == base && bp != nil && baseRoutes != nil {
			pr.routes = routeChanges(baseRoutes, bp)
		}
		return pr, nil
	}
	// seen keeps, of every estimate that keeps the recommendation, whether the routes changed
	// there, for the search of the routes' change.
	seen := map[float64][]string{}
	lo, hi := 0.0, -1.0
	var then verdict
	for _, u := range e.breakEvenSteps(p) {
		pr, err := eval(u)
		if err != nil {
			return b, err
		}
		if pr.v != base {
			hi, then = u, pr.v
			break
		}
		seen[u] = pr.routes
		lo = u
	}
	if hi >= 0 {
		for range breakEvenMaxHalvings {
			if p.precise(lo, hi) {
				break
			}
			mid := (lo + hi) / 2
			pr, err := eval(mid)
			if err != nil {
				return b, err
			}
			if pr.v != base {
				hi, then = mid, pr.v
			} else {
				seen[mid] = pr.routes
				lo = mid
			}
		}
		m := p.at((lo + hi) / 2)
		v := p.value(m)
		b.Found, b.Value = true, &v
		b.Tolerance = p.tolerance(lo, hi)
		b.Recommended, b.RecommendedClears = then.name, then.clears
		b.Move = p.move(m)
		b.Detail = k.detail(v)
		if k.atBar != nil {
			b.Note = k.atBar(v, b.Tolerance)
		}
	}
	// The routes' change: the nearest estimate with other routes, and the farthest before it
	// with the routes as estimated (0, as assumed, when none).
	rlo, rhi := 0.0, -1.0
	var routes []string
	for u, ch := range seen {
		if len(ch) > 0 && (rhi < 0 || u < rhi) {
			rhi, routes = u, ch
		}
	}
	if rhi < 0 {
		return b, nil
	}
	for u, ch := range seen {
		if len(ch) == 0 && u < rhi && u > rlo {
			rlo = u
		}
	}
	for range breakEvenMaxHalvings {
		if p.within(rlo, rhi, RoutesChangeTolerance) {
			break
		}
		mid := (rlo + rhi) / 2
		pr, err := eval(mid)
		if err != nil {
			return b, err
		}
		switch {
		case pr.v == base && len(pr.routes) == 0:
			rlo = mid
		case pr.v == base:
			rhi, routes = mid, pr.routes
		default:
			// The recommendation changes here, and back short of rhi: a change the steps of the
			// search passed over. Past here the policy is not recommended: bracket the routes'
			// change short of it.
			rhi = mid
		}
	}
	m := p.at((rlo + rhi) / 2)
	v := p.value(m)
	b.RoutesChange = &RoutesChange{Value: v, Tolerance: p.tolerance(rlo, rhi), Move: p.move(m), Detail: k.detail(v), Routes: routes}
	return b, nil
}

// breakEvenSteps are the fractions of the way along p a break-even search steps to: the
// grid, and the sensitivity's move in p's direction when the report has one, so that a move
// the sensitivity found to change the recommendation is not stepped over (a change and a
// change back between two grid points go unseen).
func (e *estimator) breakEvenSteps(p path) []float64 {
	us := make([]float64, 0, breakEvenGrid+1)
	for i := 1; i <= breakEvenGrid; i++ {
		us = append(us, float64(i*i)/(breakEvenGrid*breakEvenGrid))
	}
	if x := e.opts.Sensitivity; x > 0 {
		for _, sign := range []float64{-1, 1} {
			m := p.k.moved(1 + sign*x)
			if p.k.kind == kindSuccess {
				m = 1 - m
			}
			if u, ok := p.fraction(m); ok && u > 0 && u < 1 && !slices.Contains(us, u) {
				us = append(us, u)
			}
		}
		slices.Sort(us)
	}
	return us
}

// fraction is how far along p the moving quantity m is (the inverse of at); ok is false
// when m is not on the path.
func (p path) fraction(m float64) (u float64, ok bool) {
	switch {
	case m == p.m0:
		return 0, true
	case p.end == p.m0:
		return 0, false
	case p.geometric && m > 0:
		u = math.Log(m/p.m0) / math.Log(p.end/p.m0)
	case p.geometric:
		return 0, false
	default:
		u = (m - p.m0) / (p.end - p.m0)
	}
	return u, u >= 0 && u <= 1
}

// tolerance is half the bracket [lo, hi] (fractions of the way) in the input's own terms.
func (p path) tolerance(lo, hi float64) float64 {
	return math.Abs(p.value(p.at(hi))-p.value(p.at(lo))) / 2
}

// move is the moving quantity m's move from the assumed one, relative to it; from zero, the
// absolute change (see BreakEven.Move).
func (p path) move(m float64) float64 {
	if p.m0 != 0 {
		return m/p.m0 - 1
	}
	return m - p.m0
}

func (k knobKind) name() string {
	switch k {
	case kindPrice:
		return "price"
	case kindLatency:
		return "latency"
	case kindShare:
		return "share"
	}
	return "probability"
}

// detail says what a price or latency factor v means: the model's prices per million tokens,
// or its stated median response time (or time to first token), times v. Empty for other
// inputs.
func (k *knob) detail(v float64) string {
	m := k.model
	switch {
	case m == nil:
	case k.kind == kindPrice:
		e := m.Resolved.Prices
		per := func(p float64) string {
			return "$" + strconv.FormatFloat(roundSignificant(p*v, 3), 'f', -1, 64) + "/M"
		}
		return fmt.Sprintf("%s in, %s out", per(e.Input.PerMillion()), per(e.Output.PerMillion()))
	case k.kind == kindLatency:
		l := m.Resolved.Latency
		what := "median"
		if l.P50 == 0 && l.TTFT != nil {
			what = "median time to first token"
		}
		if med := l.StatedMedian(); med > 0 {
			return what + " " + secs(med.Seconds()*v)
		}
	}
	return ""
}

// breakEvenRow is a break-even as the reports show it.
type breakEvenRow struct {
	Input string
	// While is the condition under which the recommendation holds: "≥ 0.912",
	// "≤ ×1.55 ($4.65/M in, $23.25/M out)"; Assumed the input as assumed.
	While, Assumed string
	// Move is the relative move to the break-even: "+26%", "failure rate +26%".
	Move string
	// Then is the policy recommended past it; ThenNote what changed besides its name.
	Then, ThenNote string
	// Note is BreakEven.Note, which the reports write under the table.
	Note string
}

// breakEvenRows returns the break-evens found, nearest first, at most limit of them (all
// when limit is 0), and how many more there are.
func (s *Sensitivity) breakEvenRows(limit int) (rows []breakEvenRow, more int) {
	for _, b := range s.BreakEvens {
		if !b.Found {
			continue
		}
		if limit > 0 && len(rows) == limit {
			more++
			continue
		}
		rows = append(rows, b.row(s))
	}
	return rows, more
}

// notFound counts the searches that found no change within their range.
func (s *Sensitivity) notFound() int {
	n := 0
	for _, b := range s.BreakEvens {
		if !b.Found {
			n++
		}
	}
	return n
}

func (b *BreakEven) row(s *Sensitivity) breakEvenRow {
	r := b.rowAt(*b.Value, b.Tolerance, b.Detail, b.Move)
	r.Then, r.ThenNote = b.Recommended, s.clearsNote(b.RecommendedClears)
	r.Note = b.Note
	return r
}

// routesRow is the row of b's RoutesChange: Then is the routes past it.
func (b *BreakEven) routesRow() breakEvenRow {
	c := b.RoutesChange
	r := b.rowAt(c.Value, c.Tolerance, c.Detail, c.Move)
	r.Then = strings.Join(c.Routes, "; ")
	return r
}

// rowAt is the row of a change of b's input at value v, within ± tol, a move from the assumed
// value; detail says what a price or latency factor v means. Then is left to the caller.
func (b *BreakEven) rowAt(v, tol float64, detail string, move float64) breakEvenRow {
	rel := "≤ "
	if b.Direction == "down" {
		rel = "≥ "
	}
	value := func(v float64, detail string) string {
		switch b.Kind {
		case "price", "latency":
			out := "×" + strconv.FormatFloat(roundSignificant(v, 3), 'f', -1, 64)
			if detail != "" {
				out += " (" + detail + ")"
			}
			return out
		}
		return probWithin(v, tol)
	}
	// A change found only at the end of the range (a pass rate of 1, where the failure rate
	// reaches 0 and the bracket cannot narrow relative to it) reads as the end itself: "≤ 1"
	// would say the recommendation holds over the whole range. It holds short of the end.
	if value(v, "") == value(b.Limit, "") {
		rel = "< "
		if b.Direction == "down" {
			rel = "> "
		}
	}
	r := breakEvenRow{Input: b.Input, While: rel + value(v, detail)}
	switch b.Kind {
	case "price", "latency":
		r.Assumed = "×1"
		if b.AssumedDetail != "" {
			r.Assumed += " (" + b.AssumedDetail + ")"
		}
	default:
		r.Assumed = strconv.FormatFloat(b.Assumed, 'g', 4, 64)
	}
	r.Move = moveText(move, b.Assumed == 0 && b.Complement == "" || b.Complement != "" && b.Assumed == 1)
	if b.Complement != "" {
		r.Move = b.Complement + " " + r.Move
	}
	return r
}

// routesChangeRows returns the routes' changes found (BreakEven.RoutesChange), nearest first,
// at most limit of them (all when limit is 0), and how many more there are.
func (s *Sensitivity) routesChangeRows(limit int) (rows []breakEvenRow, more int) {
	var found []*BreakEven
	for i := range s.BreakEvens {
		if s.BreakEvens[i].RoutesChange != nil {
			found = append(found, &s.BreakEvens[i])
		}
	}
	slices.SortStableFunc(found, func(a, b *BreakEven) int {
		return cmp.Or(cmp.Compare(math.Abs(a.RoutesChange.Move), math.Abs(b.RoutesChange.Move)), strings.Compare(a.Input, b.Input), strings.Compare(a.Direction, b.Direction))
	})
	for _, b := range found {
		if limit > 0 && len(rows) == limit {
			more++
			continue
		}
		rows = append(rows, b.routesRow())
	}
	return rows, more
}

// routesChangeLead introduces the routes' changes of policy name in the reports.
func routesChangeLead(name string) string {
	return name + " keeps its routes while, nearest first (past it, it stays recommended, on other routes):"
}

// clearsNote says, after the name of the policy a change makes the recommendation, whether
// it clears every bar and budget when that changed (see flipNote).
func (s *Sensitivity) clearsNote(clears bool) string {
	return s.flipNote(Effect{RecommendedClears: clears})
}

// moveText writes a relative move as a signed percentage with two significant digits, or,
// from zero (absolute), the change itself.
func moveText(m float64, absolute bool) string {
	if absolute {
		return "+" + strconv.FormatFloat(roundSignificant(m, 2), 'g', -1, 64)
	}
	sign := "+"
	if m < 0 {
		sign = "-"
	}
	return sign + strconv.FormatFloat(roundSignificant(math.Abs(m)*100, 2), 'f', -1, 64) + "%"
}

// probWithin writes a probability or share with the decimals its tolerance warrants (two to
// six), without trailing zeros.
func probWithin(v, tol float64) string {
	d := 2
	if tol > 0 {
		d = min(max(int(math.Floor(-math.Log10(2*tol))), 2), 6)
	}
	out := strconv.FormatFloat(v, 'f', d, 64)
	if strings.Contains(out, ".") {
		out = strings.TrimRight(strings.TrimRight(out, "0"), ".")
	}
	return out
}

// breakEvenMethod says, under the reports' break-evens, what was searched and how precisely.
const breakEvenMethod = "Searched: prices and latencies from ×0.1 to ×10, probabilities over 0 to 1, shares over 0.001 to 0.999 (the other shares rescaled). " +
	"Each break-even is found to 0.1% of the quantity that moves (for a pass rate, detect rate or availability, its failure, miss or error rate), " +
	"or to the tolerance the JSON report gives, and a change of the recommended policy's routes to 1%; one that turns on a latency budget, to the simulation's error at this seed."

// breakEvenView is the break-even section of a report, for the Markdown and HTML reports.
type breakEvenView struct {
	Baseline           string
	Runs               int
	Rows               []breakEvenRow
	NotFound, Searches int
	Method             string
	// RoutesLead and Routes are the routes' changes short of the break-evens: where the
	// recommended policy, still recommended, takes other routes.
	RoutesLead string
	Routes     []breakEvenRow
}

func (s *Sensitivity) breakEvenView() breakEvenView {
	rows, _ := s.breakEvenRows(0)
	routes, _ := s.routesChangeRows(0)
	return breakEvenView{Baseline: s.Baseline, Runs: s.BreakEvenRuns, Rows: rows, NotFound: s.notFound(), Searches: len(s.BreakEvens), Method: breakEvenMethod,
		RoutesLead: routesChangeLead(s.Baseline), Routes: routes}
}

// writeBreakEvensMarkdown writes the break-even section of the Markdown report: every
// break-even found.
func writeBreakEvensMarkdown(w io.Writer, s *Sensitivity) {
	v := s.breakEvenView()
	fmt.Fprintf(w, "### Break-even points\n\nHow far each input can move, alone, before the recommendation changes (%d estimates). ", v.Runs)
	if len(v.Rows) == 0 {
		fmt.Fprintf(w, "**%s** stays recommended over every input's whole range.\n\n", mdEscape(v.Baseline))
	} else {
		fmt.Fprintf(w, "**%s** stays recommended while, nearest first:\n\n", mdEscape(v.Baseline))
		fmt.Fprintln(w, "| Input | While | Assumed | Move | Then |")
		fmt.Fprintln(w, "|---|---|---|---:|---|")
		for _, r := range v.Rows {
			fmt.Fprintf(w, "| %s | %s | %s | %s | **%s**%s |\n", mdEscape(r.Input), mdEscape(r.While), mdEscape(r.Assumed), mdEscape(r.Move), mdEscape(r.Then), mdEscape(r.ThenNote))
		}
		fmt.Fprintln(w)
		for _, r := range v.Rows {
			if r.Note != "" {
				fmt.Fprintf(w, "- %s %s: %s\n", mdEscape(r.Input), mdEscape(r.While), mdEscape(r.Note))
			}
		}
	}
	if len(v.Routes) > 0 {
		fmt.Fprintf(w, "%s\n\n", mdEscape(v.RoutesLead))
		fmt.Fprintln(w, "| Input | While | Assumed | Move | Routes then |")
		fmt.Fprintln(w, "|---|---|---|---:|---|")
		for _, r := range v.Routes {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", mdEscape(r.Input), mdEscape(r.While), mdEscape(r.Assumed), mdEscape(r.Move), mdEscape(r.Then))
		}
		fmt.Fprintln(w)
	}
	if v.NotFound > 0 {
		fmt.Fprintf(w, "No change within the range for %d of %d searches (an input, one way).\n\n", v.NotFound, v.Searches)
	}
	fmt.Fprintf(w, "%s\n\n", v.Method)
}
