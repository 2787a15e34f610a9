// Package replay evaluates routing policies counterfactually over recorded outcomes: given
// what every candidate model answered on the same items (an outcomes table from an eval run,
// benchmark data or traces), it computes what each policy would have delivered — quality,
// cost, latency, escalation and model mix — without calling any model.
//
// The policies are the spec's own route (with its real validators run on the recorded
// answers, and with its assumed validator strength), every single model, the oracle, random
// mixes, cascades with simulated validator strength, and score routers (given a [Scorer]) at
// every threshold. From them replay draws the cost/quality frontier, measures routers with
// RouteLLM's APGR and RouterBench's AIQ against the zero router, finds the cost of reaching a
// share of the best model's quality, and calibrates a threshold, cascade or mix to a quality
// bar, a strong-model share or a budget.
//
// Every number is an exact expectation over the table: random choices (mixes, split routes)
// and simulated validators contribute each outcome with its probability; nothing is sampled,
// so a replay is reproducible and single-model numbers equal a direct computation on the
// data. Costs are summed in nano-dollars.
//
// What a replay cannot show, because a table records one answer per item and model: a
// provider failure recorded in a row moves a cascade on to its next step (or fails the item);
// the spec's fallback chains are not replayed. A retry (on_fail: retry_once) replays the same
// recorded answer. Latency is the sum of the attempted calls' recorded latencies; validation
// time is not counted, except an agreement check's: the spec's real validators compare a
// step's answer with the checker model's recorded answer to the same item (its row), whose
// cost and latency are added when the check runs, and a simulated validator of the same step
// adds them at every validation. A scorer's own cost is not counted.
//
// [Run] is the whole pipeline for the command line; [Builder], the policies, the sweeps and
// the metric functions are its parts, for other uses.
package replay

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

// Source streams outcomes rows: it calls emit once per row and returns emit's first error,
// wrapped or not, or its own. outcomes.ImportRouterBench and outcomes.ImportRouteLLM have this
// shape once given their reader:
//
//	src := func(emit func(outcomes.Row) error) error { return outcomes.ImportRouterBench(f, emit) }
type Source func(emit func(outcomes.Row) error) error

// Rows returns a Source reading an outcomes table (JSON Lines, gzip-compressed or not) with
// outcomes.Reader. It reads r once; it does not close it.
func Rows(r io.Reader) Source {
	return func(emit func(outcomes.Row) error) error {
		rd := outcomes.NewReader(r)
		for rd.Next() {
			if err := emit(rd.Row()); err != nil {
				return err
			}
		}
		return rd.Err()
	}
}

// Policy kinds Options.Include accepts. Single models (KindSingle) are always evaluated: every
// other measure is relative to them; naming them lets one replace, in the calibration, a route
// that validates its answers.
const (
	KindSingle    = "single"
	KindOracle    = "oracle"
	KindSpec      = "spec"
	KindMix       = "mix"
	KindCascade   = "cascade"
	KindThreshold = "threshold"
	KindWTP       = "wtp"
)

var allKinds = []string{KindOracle, KindSpec, KindMix, KindCascade, KindThreshold, KindWTP}

// DefaultFractions are the shares of the best model's quality Run prices by default.
var DefaultFractions = []float64{0.9, 0.95, 0.99}

// Options say what Run replays. The zero value replays every row with every applicable policy.
type Options struct {
	// Table names the outcomes table the rows come from (the path given), for the errors
	// that say it has no rows, or none Run can use; "" says "the outcomes table".
	Table string
	// Category names the spec category whose route, validators, assumed validator strength
	// and quality bar are used, and selects the rows whose Category is that name, unless Task
	// is set.
	Category string
	// Task selects rows by task instead: those whose Task is Task or starts with Task + "/"
	// (so "mmlu" takes every "mmlu/<subject>"). With Category too, Category's route, validators
	// and quality bar are replayed on those rows.
	Task string
	// Grade says how grades become quality; the zero value is GradePass.
	Grade Grade
	// Models, when set, limits the table to these columns (spec model names, or outcomes
	// model names: the provider model id of one spec model stands for it, as in Weak, Strong
	// and Cascades). A model without rows is an error, unless ModelsOfCategory says they are
	// the category's models rather than a choice of the user's: one without rows (a fallback
	// a healthy gateway never called) is then left out, and a note says so.
	Models           []string
	ModelsOfCategory bool
	// Weak and Strong name the reference pair that mixes, cascades, threshold routers and
	// APGR use. By default Strong is the single model with the best quality (the cheapest
	// among equals) and Weak the cheapest other model (the best among equals), among the
	// models evaluated on (nearly) all items, except that when that other model is of the best
	// quality too, and dearer, the two swap: of two models of one quality, the cheaper is the
	// weak one. With fewer than two such models, Strong is the dearest.
	Weak, Strong string
	// Include lists the policy kinds to evaluate (the Kind constants); nil means all.
	Include []string
	// Scorer, when set, is asked once per item for every model's score; the threshold router
	// and the willingness-to-pay router are swept over the scores. Nil leaves them out. A
	// ModelChecker that does not score every model of the table stops Run with its error
	// (ScoreTable asks it, once).
	// With a category, the willingness-to-pay router decides on the prices the category's
	// score route would (SpecPricer), so that a calibrated λ decides as the gateway will;
	// otherwise on each model's mean cost over the table.
	Scorer Scorer
	// Thresholds is how many thresholds (and lambdas) the score routers are swept over;
	// 0 means DefaultThresholds.
	Thresholds int
	// Strengths are the simulated validator strengths cascades of the reference pair (and of
	// Cascades) are evaluated with. Nil means the category's assumed strength (or the spec
	// package's DefaultStrength without a category), plus the reference pair's cascade with a
	// perfect validator (detect 1, false alarm 0) as a bound: the weak answer wherever its row
	// passes and the strong one elsewhere (under GradePass the better of the two on every
	// item; never above the oracle), reported but, like the oracle, not realisable.
	Strengths []Strength
	// Cascades are further cascades to evaluate, as lists of models, at every strength.
	Cascades [][]string
	// Fractions are the shares of the best single model's quality to find the cost of; nil
	// means DefaultFractions.
	Fractions []float64
	// Target is what calibration aims at. Nil means the category's quality bar when there is
	// a category, and no calibration otherwise.
	Target *Target
	// Checker runs the spec's validators on recorded answers. Nil means
	// validate.NewChecker(spec, validate.Env{Recorded: true}), which cannot run judges (they
	// need a model caller); when it fails, the spec's route is replayed with its assumed
	// strength only, and a note says why. Agreement checks always compare with the checker
	// model's recorded answer to the same item, and count that row's cost and latency.
	// A checker without a row for the item leaves the answer unverified (a note counts them).
	Checker *validate.Checker
	// Reprice prices rows of spec models at the spec's prices whenever they have token counts;
	// otherwise only rows without a recorded cost are priced from their tokens.
	Reprice bool
	// Providers, by the spec's provider names, are what the spec's score routes whose learned
	// router was trained with embeddings embed requests through, as the gateway's do (see
	// route.Options): replay calls nothing else, so give providers that serve recorded
	// vectors, such as the embeddings learn train cached. Nil means such routers decide
	// without the embedding, as the gateway does when the embeddings call fails (a note
	// counts those decisions).
	Providers map[string]clearbar.Provider
}

// Report is a replay's outcome: the table's coverage, every policy's result, the router
// curves, the frontier and the measures derived from it. It marshals to JSON as is.
type Report struct {
	Spec     string `json:"spec,omitempty"`
	Category string `json:"category,omitempty"`
	Task     string `json:"task,omitempty"`
	Grade    string `json:"grade"`
	// Items is the number of items in the table; Models each model's coverage.
	Items      int          `json:"items"`
	Models     []ModelStats `json:"models"`
	Duplicates int          `json:"duplicate_rows"`
	// Weak and Strong are the reference pair.
	Weak   string `json:"weak"`
	Strong string `json:"strong"`
	// QualityBar is the category's quality bar, when there is a category.
	QualityBar *float64 `json:"quality_bar,omitempty"`
	// Compared is the number of items the widest realisable policy is evaluated on. Policies
	// evaluated on fewer than MinCoverage of them are Narrow: a recorded table (a trace
	// export) lacks rows for some models, so they are measured on other items, and are left
	// out of Best, the frontier, the zero router, AIQ, CostAt and the calibration (a note
	// names them).
	Compared int `json:"compared_items"`
	// Results are the single-setting policies: every single model (in table order), the
	// oracle, the spec's routes and the cascades.
	Results []*Result `json:"results"`
	// Curves are the swept policies: the random mix of the pair and the score routers.
	Curves []*Curve `json:"curves"`
	// Frontier is the realisable results (curve points included) that no other beats on
	// both cost and quality, nor a random mix of two of them (a point of their envelope,
	// Hull, as the cost of reaching the best model's quality mixes them), by cost: the
	// envelope's vertices, and results on its segments. The random mix curve mixes the
	// reference pair only; a mix of two other policies can beat its points. A spec route replayed with its assumed validator
	// strength, and a cascade of its models replayed with it, are left out of it, of
	// FrontierAIQ, CostAt and the calibration when the spec's validators were replayed on the
	// recorded answers: they are the route that measurement measures (a note names them).
	Frontier []Point `json:"frontier"`
	// ZeroRouter is the vertices of the single models' envelope (see Hull): what random
	// mixes of single models reach. CostRange is the [cheapest, dearest] single model's cost
	// per item, the range AIQ is measured over.
	ZeroRouter []Point    `json:"zero_router"`
	CostRange  [2]float64 `json:"aiq_cost_range_usd"`
	// ZeroRouterAIQ and FrontierAIQ are the AIQ of the zero router and of the frontier.
	ZeroRouterAIQ float64 `json:"zero_router_aiq"`
	FrontierAIQ   float64 `json:"frontier_aiq"`
	// Best is the single model with the best quality among those that are not Narrow ("" when
	// all are); CostAt the cost of reaching fractions of its quality.
	Best   string          `json:"best"`
	CostAt []CostAtQuality `json:"cost_at"`
	// Calibration is the point chosen for Options.Target (or the category's bar); nil when
	// there is no target or nothing meets it (a note says why).
	Calibration *Calibration `json:"calibration,omitempty"`
	// Notes are things the reader should know: missing cells, skipped items, policies that
	// could not be evaluated.
	Notes []string `json:"notes,omitempty"`
}

// All returns every result: Results followed by every curve's points.
func (r *Report) All() []*Result {
	out := slices.Clone(r.Results)
	for _, c := range r.Curves {
		out = append(out, c.Points...)
	}
	return out
}

// Result returns the result named name among All, or nil.
func (r *Report) Result(name string) *Result {
	for _, x := range r.All() {
		if x.Name == name {
			return x
		}
	}
	return nil
}

// Run builds the table from rows (streaming: memory holds the table, not the rows), replays
// the policies Options select and computes the report. s may be nil: then columns are the
// rows' model names, costs are the recorded ones and there is no spec route to replay.
//
// Errors say what to change: an unknown category, kind or model, a filter that matches no
// rows, a source that fails. Policies that cannot be evaluated on this table (a cascade of a
// model the table lacks) become notes, not errors, unless the user named them (Weak, Strong,
// Cascades, Models).
//
// Cost: one pass over the rows (plus the spec's validators on each recorded answer of a
// validated step), one scorer call per item, and one pass over the items per policy and per
// curve point. Run does not modify s and may be called concurrently; the Report is the
// caller's.
func Run(ctx context.Context, s *spec.Spec, rows Source, opts Options) (*Report, error) {
	include, err := kinds(opts.Include)
	if err != nil {
		return nil, err
	}
	rep := &Report{Category: opts.Category, Task: opts.Task, Grade: opts.Grade.String()}
	var cat *spec.Category
	if s != nil {
		rep.Spec = s.Name
		// The table's columns of spec models are their spec names: a model named as the rows
		// name it is taken for its spec name.
		opts.Weak, opts.Strong = specName(s, opts.Weak), specName(s, opts.Strong)
		if opts.Models != nil {
			models := make([]string, len(opts.Models))
			for i, m := range opts.Models {
				models[i] = specName(s, m)
			}
			opts.Models = models
		}
		if opts.Cascades != nil {
			cascades := make([][]string, len(opts.Cascades))
			for i, c := range opts.Cascades {
				cascades[i] = make([]string, len(c))
				for j, m := range c {
					cascades[i][j] = specName(s, m)
				}
			}
			opts.Cascades = cascades
		}
		if opts.Category != "" {
			if cat = s.Category(opts.Category); cat == nil {
				names := make([]string, len(s.Categories))
				for i, c := range s.Categories {
					names[i] = c.Name
				}
				return nil, fmt.Errorf("the spec has no category %q (its categories: %s)", opts.Category, strings.Join(names, ", "))
			}
			bar := cat.Bar()
			rep.QualityBar = &bar
		} else {
			rep.note(noCategoryNote(s, opts.Task))
		}
	}

	// The spec's routes, whose validators run while the table is built.
	var routes []*specRoute
	var checker *validate.Checker
	if cat != nil && include[KindSpec] {
		checker = opts.Checker
		validated := cat.Route != nil && cat.Route.Validated()
		for _, p := range s.Policies {
			if pr, ok := p.Routes[cat.Name]; ok && pr != nil && pr.Route.Validated() {
				validated = true
			}
		}
		if checker == nil && validated {
			if checker, err = validate.NewChecker(s, validate.Env{Recorded: true}); err != nil {
				rep.note("the spec's validators could not be compiled, so the spec's routes are replayed with the assumed validator strength only: " + oneLine(err))
				checker = nil
			}
		}
		routes = specRoutes(s, cat, checker, opts.Providers)
	}
	// The spec's validators on every answer of the models, for the cascades replayed at a
	// simulated strength: with them, the cascades are judged by what the validators measure.
	var cascadeChecks *specRoute
	if checker != nil && include[KindCascade] {
		models := opts.Models
		if models == nil {
			for _, m := range s.Models {
				models = append(models, m.Name)
			}
		}
		cascadeChecks = modelChecks(cat, models)
	}

	bopts := BuildOptions{Grade: opts.Grade}
	unpriced := 0                   // rows --reprice could not price again
	var names func(string) []string // the spec's names of a model the rows name
	if s != nil {
		names = specColumns(s)
		bopts.Columns = names
		bopts.Price = specPrice(s, opts.Reprice)
	}
	if opts.Models != nil {
		cols := bopts.Columns
		keep := map[string]bool{}
		for _, m := range opts.Models {
			keep[m] = true
		}
		bopts.Columns = func(model string) []string {
			names := []string{model}
			if cols != nil {
				names = cols(model)
			}
			var out []string
			for _, n := range names {
				if keep[n] {
					out = append(out, n)
				}
			}
			return out
		}
	}
	// The categories and tasks of rows left out, and the models of rows kept, to explain a
	// filter that keeps none.
	seenCats, seenTasks, seenModels := map[string]bool{}, map[string]bool{}, map[string]bool{}
	timeScaled := 0 // rows kept whose latency was answered at a time scale
	bopts.Keep = func(r *outcomes.Row) bool {
		keep := true
		switch {
		case opts.Task != "":
			keep = r.Task == opts.Task || strings.HasPrefix(r.Task, opts.Task+"/")
		case opts.Category != "":
			keep = r.Category == opts.Category
		}
		if !keep {
			seenCats[r.Category], seenTasks[r.Task] = true, true
		} else {
			seenModels[r.Model] = true
			if r.TimeScale > 0 && r.LatencyMS > 0 {
				timeScaled++
			}
		}
		return keep
	}
	var recorded *answers
	if len(routes) > 0 && checker != nil {
		checked := routes
		if cascadeChecks != nil {
			checked = append(slices.Clone(routes), cascadeChecks)
		}
		recorded = newAnswers(checked, checker, bopts.Price)
		bopts.Observe = func(item int, column string, row *outcomes.Row) error {
			recorded.observe(ctx, item, column, row)
			return nil
		}
	}
	if keep := bopts.Keep; opts.Reprice && s != nil && keep != nil {
		// A row without token counts cannot be priced again: it keeps its cost, and the report
		// says how many did (imported benchmarks record a cost, not tokens).
		bopts.Keep = func(r *outcomes.Row) bool {
			kept := keep(r)
			if kept && r.TokensIn+r.TokensOut == 0 && r.Cost != 0 && s.Model(names(r.Model)[0]) != nil {
				unpriced++
			}
			return kept
		}
	}
	b := NewBuilder(bopts)
	n := 0
	err = rows(func(row outcomes.Row) error {
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return b.Add(row)
	})
	if err != nil {
		return nil, fmt.Errorf("reading outcomes: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if recorded != nil {
		recorded.finish(ctx)
	}
	t := b.Table()
	if t.Len() == 0 {
		return nil, noRows(opts, n, seenCats, seenTasks, seenModels)
	}
	if unpriced > 0 {
		rep.note(fmt.Sprintf("--reprice: %s of spec models record a cost but no token counts (imported benchmarks do), so they keep their recorded cost: the spec's prices apply only to rows with tokens", plural(unpriced, "row")))
	}
	if timeScaled > 0 {
		rep.note(fmt.Sprintf("%s answered at a time scale (serve --time-scale): their latencies are divided by it, which magnifies the gateway's own overhead and queueing by 1/scale, so the latencies shown are not the models'", plural(timeScaled, "row")))
	}
	// The models the category's route calls: one without rows is more likely recorded under
	// another name than never called.
	routed := map[string]bool{}
	if cat != nil && cat.Route != nil {
		for _, m := range cat.Route.Models() {
			routed[m.Name] = true
		}
	}
	for _, m := range opts.Models {
		if t.Index(m) >= 0 {
			continue
		}
		if !opts.ModelsOfCategory {
			return nil, fmt.Errorf("model %q (in the models to replay) has no rows: the table has %s", m, strings.Join(t.models, ", "))
		}
		if routed[m] {
			continue // noted below
		}
		rep.note(fmt.Sprintf("model %q, which category %q names, has no rows and was left out: the outcomes never called it (a fallback a healthy gateway did not need); name the models to replay with --models", m, opts.Category))
	}
	if opts.ModelsOfCategory && s != nil {
		// The rows' other models are not replayed: the oracle and the single models are of
		// the category's models, which a replay without --calibrate does not narrow to.
		var others []string
		for _, m := range slices.Sorted(maps.Keys(seenModels)) {
			if !slices.ContainsFunc(names(m), func(n string) bool { return t.Index(n) >= 0 }) {
				others = append(others, m)
			}
		}
		if len(others) > 0 {
			list := strings.Join(others[:min(len(others), 3)], ", ")
			if len(others) > 3 {
				list += fmt.Sprintf(" and %d more", len(others)-3)
			}
			are := "are"
			if len(others) == 1 {
				are = "is"
			}
			rep.note(fmt.Sprintf("the calibration replays the models category %q names (%s): the rows' %s (%s) %s left out, so the oracle and the single models are of the category's models only; name others with --models", opts.Category, strings.Join(t.Models(), ", "), plural(len(others), "other model"), list, are))
		}
	}
	for _, m := range slices.Sorted(maps.Keys(routed)) {
		if t.Index(m) >= 0 || seenModels[m] || s.Model(m) != nil && seenModels[s.Model(m).Model] {
			continue // replayed, or left out of the models to replay
		}
		rep.note(unmatchedNote(s, m, seenModels))
	}
	var pricer Pricer
	if cat != nil {
		// The willingness-to-pay router decides as the category's score route would.
		pricer = SpecPricer(s, cat, t.Models())
	}
	if err := run(ctx, t, cat, routes, cascadeChecks, pricer, opts, include, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// run evaluates the policies on t and fills in rep. The willingness-to-pay router decides on
// pricer's prices (nil: the models' mean costs). cascadeChecks, when the spec's validators
// ran on the recorded answers, are their verdicts on each model's answers (see modelChecks):
// the cascades replayed at a simulated strength are replayed with them too.
func run(ctx context.Context, t *Table, cat *spec.Category, routes []*specRoute, cascadeChecks *specRoute, pricer Pricer, opts Options, include map[string]bool, rep *Report) error {
	rep.Items = t.Len()
	rep.Models = t.Stats()
	rep.Duplicates = t.Duplicates()
	coverageNotes(t, rep)

	singles := make([]*Result, 0, len(t.models))
	for _, m := range t.models {
		r, err := Single{Model: m}.Evaluate(t)
		if err != nil {
			return err
		}
		singles = append(singles, r)
	}
	rep.Results = append(rep.Results, singles...)
	weak, strong, err := referencePair(t, singles, opts, rep)
	if err != nil {
		return err
	}
	rep.Weak, rep.Strong = weak, strong

	try := func(p Policy) {
		r, err := p.Evaluate(t)
		if err != nil {
			rep.note(p.Name() + " was not evaluated: " + oneLine(err))
			return
		}
		rep.Results = append(rep.Results, r)
	}
	if include[KindOracle] {
		try(Oracle{})
	}
	// The category's own route as its validators measured it on the recorded answers: a
	// cascade of the same models replayed with a simulated strength is that route too.
	var ownMeasured *Result
	for i, sr := range routes {
		if sr.err != nil {
			rep.note(sr.label + " was not evaluated: " + oneLine(sr.err))
			continue
		}
		measured := ""
		if sr.real != nil {
			n := len(rep.Results)
			try(sr.real)
			if len(rep.Results) > n {
				measured = rep.Results[n].Name
				if i == 0 && cat != nil && cat.Route != nil && len(cat.Route.Cascade) > 0 {
					ownMeasured = rep.Results[n]
				}
			}
			if len(sr.unverified) > 0 {
				var parts, left []string
				for _, m := range slices.Sorted(maps.Keys(sr.unverified)) {
					parts = append(parts, plural(sr.unverified[m], "agreement check")+" with "+m)
					if opts.Models != nil && !slices.Contains(opts.Models, m) {
						left = append(left, m)
					}
				}
				fix := "add the checker's rows to replay those checks"
				if len(left) > 0 {
					// The rows are there: the models to replay leave them out.
					fix = "the models to replay leave out " + strings.Join(left, ", ") + ": name them too (--models) to replay those checks"
				}
				rep.note(fmt.Sprintf("%s: %s found no recorded answer of the checking model to the item; those answers were left unverified and escalated, as when the check's call fails (%s)", sr.real.Name(), strings.Join(parts, ", "), fix))
			}
			if sr.byVerdicts > 0 {
				rep.note(fmt.Sprintf("%s: %s recorded no answer text (decision records keep it only with record_text: true); the verdicts the same validators gave them when they were recorded were used", sr.real.Name(), plural(sr.byVerdicts, "answer")))
			}
			if sr.textless > 0 {
				rep.note(fmt.Sprintf("%s: %s recorded neither answer text nor the verdicts of the route's validators; those validators checked them as empty answers (record answers with record_text: true, or eval the category)", sr.real.Name(), plural(sr.textless, "answer")))
			}
		}
		if sr.assumed != nil {
			n := len(rep.Results)
			try(sr.assumed)
			if len(rep.Results) > n {
				rep.Results[n].measuredBy = measured
			}
		}
		if n := sr.unembedded.Load(); n > 0 {
			if sr.providers == nil {
				rep.note(fmt.Sprintf("%s: its learned router was trained with embeddings, which replay cannot compute without their vectors; %d of its decisions were made without them, as the gateway makes them when the embeddings call fails (give the embeddings cache learn train wrote to score with them)", sr.label, n))
			} else {
				rep.note(fmt.Sprintf("%s: its learned router was trained with embeddings; %d of its decisions were made without them, as the gateway makes them when the embeddings call fails, for want of the prompt's vector", sr.label, n))
			}
		}
	}
	hasPair := weak != "" && strong != ""
	if !hasPair {
		rep.note("the table has a single usable model: no mixes, cascades or routers to compare")
	}
	if include[KindCascade] {
		strengths := opts.Strengths
		if strengths == nil {
			st := spec.DefaultStrength
			if cat != nil {
				st = cat.Strength()
			}
			strengths = []Strength{{Detect: float64(st.Detect), FalseAlarm: float64(st.FalseAlarm)}}
		}
		var cascades [][]string
		if hasPair {
			cascades = append(cascades, []string{weak, strong})
		}
		for _, c := range opts.Cascades {
			if _, err := t.columns(c); err != nil {
				return fmt.Errorf("cascade %s: %w", strings.Join(c, " → "), err)
			}
			cascades = append(cascades, c)
		}
		// The category's agreement checks run in these cascades too: each validated step pays
		// for its checker's recorded answer, and a cascade with a step the check would ask to
		// check itself is left out, as the spec check rejects it.
		var validators []*spec.Validator
		if cat != nil && cat.Route != nil {
			validators, _ = cat.Route.MainValidators()
		}
		// A cascade of other models than the spec's own route is replayed with the spec's
		// validators too, where they ran on its models' answers: once, whatever the
		// strengths, and ahead of its simulated replays, which it measures.
		var realName map[string]string // by the cascade's models
	nextCascade:
		for _, c := range cascades {
			for _, st := range strengths {
				p := NewCascade(st, c...)
				for j := range p.Steps {
					checkers, ok := spec.AgreementCheckers(validators, p.Steps[j].Model)
					if !ok {
						rep.note(fmt.Sprintf("%s was not evaluated: the category's agreement check would ask %s to check its own answers", p.Name(), p.Steps[j].Model))
						continue nextCascade
					}
					p.Steps[j].Checkers = checkers
				}
				measured := ""
				if ownMeasured != nil && slices.Equal(c, ownMeasured.Models) {
					measured = ownMeasured.Name
				} else if cascadeChecks != nil {
					if realName == nil {
						realName = map[string]string{}
					}
					key := strings.Join(c, "\x00")
					name, done := realName[key]
					if !done {
						if rc, ok := cascadeChecks.realCascade(p, t.Len(), cat.Route.FailsWhenExhausted()); ok {
							n := len(rep.Results)
							try(rc)
							if len(rep.Results) > n {
								name = rep.Results[n].Name
							}
						}
						realName[key] = name
					}
					measured = name
				}
				n := len(rep.Results)
				try(p)
				if len(rep.Results) > n {
					rep.Results[n].measuredBy = measured
				}
			}
		}
		if hasPair && opts.Strengths == nil {
			// The bound validation can reach: the weak answer wherever it passes, the strong
			// one elsewhere. Drawn and reported, but not a policy to deploy or calibrate to.
			c := NewCascade(Strength{Detect: 1, FalseAlarm: 0}, weak, strong)
			c.Label = "cascade " + weak + " → " + strong + " (perfect validator, a bound)"
			if r, err := c.Evaluate(t); err == nil {
				r.Realisable = false
				rep.Results = append(rep.Results, r)
			}
		}
	}
	var sweeps []Sweep
	if hasPair && include[KindMix] {
		sweeps = append(sweeps, MixSweep{Weak: weak, Strong: strong})
	}
	if opts.Scorer == nil {
		// Asked for by name, the score routers are not left out silently.
		var asked []string
		for k, name := range map[string]string{KindThreshold: "threshold", KindWTP: "willingness-to-pay"} {
			if slices.Contains(opts.Include, k) {
				asked = append(asked, name)
			}
		}
		slices.Sort(asked)
		if len(asked) > 0 {
			rep.note(fmt.Sprintf("no %s router was replayed: they route by a scorer's predictions, and none was given (--router FILE, a router clearbar learn train wrote, or a category whose score route names one)", strings.Join(asked, " or ")))
		}
	}
	if opts.Scorer != nil && (include[KindThreshold] || include[KindWTP]) {
		// ScoreTable checks the scorer's models: one that cannot score every model is the
		// caller's mistake, said as is.
		scores, err := ScoreTable(ctx, t, opts.Scorer)
		if err != nil {
			var refused *ModelCheckError
			if errors.As(err, &refused) {
				return err
			}
			return fmt.Errorf("scoring the items: %w", err)
		}
		if hasPair && include[KindThreshold] {
			sweeps = append(sweeps, ThresholdSweep{Weak: weak, Strong: strong, Scores: scores, N: opts.Thresholds})
		}
		if include[KindWTP] && len(t.models) > 1 {
			sweeps = append(sweeps, WTPSweep{Scores: scores, N: opts.Thresholds, Weak: weak, Strong: strong, Pricer: pricer})
		}
	}
	for _, sw := range sweeps {
		c, err := sw.Sweep(t)
		if err != nil {
			rep.note(sw.Name() + " was not evaluated: " + oneLine(err))
			continue
		}
		rep.Curves = append(rep.Curves, c)
	}
	all := rep.All()
	for _, r := range all {
		r.StrongShare = r.Share(strong)
	}
	skippedNotes(t, all, rep)
	// What compares policies (the best model, the frontier, AIQ, the cost at a quality, the
	// calibration) compares those evaluated on (nearly) the same items only.
	wide, narrow, widest := byCoverage(all)
	rep.Compared = widest
	for _, r := range narrow {
		r.Narrow = true
	}
	// A policy evaluated on no item (a model whose rows have no grade, a cascade through it)
	// is the narrowest of all: compared with nothing, as byCoverage leaves it out of both.
	for _, r := range all {
		if r.Items == 0 && widest > 0 {
			r.Narrow = true
		}
	}
	// A curve with a narrow point is Narrow as a whole: all its points, the wide ones too, are
	// left out of the frontier, the cost at a quality and the calibration, as it is of AIQ.
	for _, c := range rep.Curves {
		c.Narrow = slices.ContainsFunc(c.Points, func(p *Result) bool { return p.Narrow })
		if c.Narrow {
			// Its narrow points Calibrate leaves out (and names) by their coverage; its wide
			// ones are left out here.
			inCurve := func(r *Result) bool { return slices.Contains(c.Points, r) }
			wide = slices.DeleteFunc(wide, inCurve)
			all = slices.DeleteFunc(slices.Clone(all), func(r *Result) bool { return inCurve(r) && !r.Narrow })
		}
	}
	narrowNote(rep, widest)

	var singlePts []Point
	var best *Result
	costed := false
	for _, r := range singles {
		if r.Items == 0 {
			continue
		}
		costed = costed || r.Cost != 0
		if r.Narrow {
			continue
		}
		singlePts = append(singlePts, r.point())
		if best == nil || r.Quality > best.Quality || r.Quality == best.Quality && r.CostUSD() < best.CostUSD() {
			best = r
		}
	}
	if best != nil {
		rep.Best = best.Name
	}
	// A route replayed with an assumed validator strength whose validators were replayed on the
	// recorded answers too is the same route, judged by an assumption the measurement replaced:
	// it is reported, but compared with nothing.
	var measured []string
	for _, r := range all {
		if r.measuredBy != "" && r.Realisable {
			measured = append(measured, fmt.Sprintf("%s (measured by %s)", r.Name, r.measuredBy))
		}
	}
	wide = slices.DeleteFunc(wide, func(r *Result) bool { return r.measuredBy != "" })
	if len(measured) > 0 {
		var from []string
		if costed {
			from = append(from, "the frontier", "AIQ", "the cost of reaching the best model's quality")
		}
		if opts.Target != nil || cat != nil {
			from = append(from, "the calibration") // see calibrate
		}
		if len(from) > 0 {
			list := strings.Join(from, ", ")
			if n := len(from); n > 1 {
				list = strings.Join(from[:n-1], ", ") + " and " + from[n-1]
			}
			rep.note(fmt.Sprintf("left out of %s, as the spec's validators replayed on the recorded answers measure the same route: %s", list, strings.Join(measured, "; ")))
		}
	}
	if !costed {
		rep.note("the outcomes record no costs: the frontier, AIQ and the cost of reaching the best model's quality are left out; compare routers by APGR")
		return calibrate(all, cat, opts, rep)
	}
	// The frontier, the zero router and AIQ.
	for _, r := range Frontier(wide) {
		rep.Frontier = append(rep.Frontier, r.point())
	}
	rep.Frontier = onEnvelope(rep.Frontier)
	rep.ZeroRouter = Hull(singlePts)
	if len(singlePts) > 0 {
		lo := slices.MinFunc(singlePts, func(a, b Point) int { return cmp.Compare(a.Cost, b.Cost) }).Cost
		hi := slices.MaxFunc(singlePts, func(a, b Point) int { return cmp.Compare(a.Cost, b.Cost) }).Cost
		rep.CostRange = [2]float64{lo, hi}
		rep.ZeroRouterAIQ = AIQ(singlePts, lo, hi)
		rep.FrontierAIQ = AIQ(rep.Frontier, lo, hi)
		for _, c := range rep.Curves {
			if c.Narrow {
				continue
			}
			pts := make([]Point, len(c.Points))
			for i, p := range c.Points {
				pts[i] = p.point()
			}
			c.AIQ = AIQ(pts, lo, hi)
		}
	}
	if best != nil {
		fr := opts.Fractions
		if fr == nil {
			fr = DefaultFractions
		}
		rep.CostAt = CostAt(wide, best.Quality, best.CostUSD(), fr)
	}

	return calibrate(all, cat, opts, rep)
}

// onEnvelope keeps the points of a frontier (sorted by cost) that no random mix of two of
// them beats: those on their envelope (Hull), the vertices and points on its segments. A point
// below the envelope at its cost is beaten, at that cost, by the mix of the two vertices
// around it, which the cost of reaching a quality (CostAt) uses.
func onEnvelope(frontier []Point) []Point {
	h := Hull(frontier)
	return slices.DeleteFunc(frontier, func(p Point) bool {
		return envelopeAt(h, p.Cost) > p.Quality+1e-12
	})
}

// calibrate chooses the point for Options.Target, else the category's quality bar. For a
// category whose route is a score route, random mixes are no candidates unless Options.Include
// names them.
func calibrate(all []*Result, cat *spec.Category, opts Options, rep *Report) error {
	target := opts.Target
	if target == nil && cat != nil {
		target = &Target{Objective: ClearBar, Quality: cat.Bar()}
	}
	if target != nil {
		formed := all // before the route's form leaves some out
		if target.Kinds == nil && cat != nil && cat.Route != nil {
			all = keepRouteForm(all, cat.Route, opts.Include, rep)
		}
		if cat != nil && cat.Assume.Validator == nil {
			// A cascade replayed with a simulated validator strength is as good as that
			// strength; when the category states none, it is the default, and a route chosen
			// on it may not clear the bar with the real validators.
			var kept []*Result
			left := 0
			for _, r := range all {
				if r.Params.Strength != nil {
					left++
					continue
				}
				kept = append(kept, r)
			}
			if left > 0 {
				all = kept
				rep.note(fmt.Sprintf("%s replayed with a simulated validator strength left out of the calibration: the category states no assume.validator, so their quality rests on the default strength; measure it with clearbar validate calibrate --update, or replay the spec's own route, whose validators run on the recorded answers", plural(left, "cascade")))
			}
		}
		// A route whose validators ran on the recorded answers is as good as they measured,
		// not as its assumed validator strength says (Run's note names them).
		all = slices.DeleteFunc(slices.Clone(all), func(r *Result) bool { return r.measuredBy != "" })
		if slices.ContainsFunc(all, func(r *Result) bool { return r.Params.Validators && r.Realisable }) {
			// Where the validators were replayed, a cascade they could not replay (through a
			// model whose answers they did not check) is judged by an assumed strength only:
			// it must not beat what they measured on an assumption.
			var left []string
			all = slices.DeleteFunc(slices.Clone(all), func(r *Result) bool {
				simulated := r.Kind == KindCascade && r.Params.Strength != nil
				if simulated && r.Realisable {
					left = append(left, r.Name)
				}
				return simulated
			})
			if len(left) > 0 {
				rep.note(fmt.Sprintf("left out of the calibration, as judged by a simulated validator strength only while the spec's validators were replayed on the recorded answers (they did not check the answers of a model each calls): %s", strings.Join(left, "; ")))
			}
		}
		if cat != nil && cat.Route != nil && len(cat.Route.Validate) == 0 {
			// A cascade is written into the route as its list of models, beside the route's
			// own validate: without one, the cascade written validates nothing and escalates
			// only on provider errors, whatever strength it was replayed with.
			left := 0 // counted as Calibrate would have considered them: the bound is not
			all = slices.DeleteFunc(slices.Clone(all), func(r *Result) bool {
				simulated := r.Kind == KindCascade && r.Params.Strength != nil
				if simulated && r.Realisable {
					left++
				}
				return simulated
			})
			if left > 0 {
				rep.note(fmt.Sprintf("%s replayed with a simulated validator strength left out of the calibration: the category's route has no validate: of its own (beside its model, cascade or split; a cascade's steps, with their validators, are replaced by the models written), so a cascade written into it would check no answer and escalate only on provider errors; add validate: [...] to the route to let one be chosen", plural(left, "cascade")))
			}
		}
		// Coverage is judged against the whole report (Compared, and the Narrow marks it
		// shows), not the candidates left: keepRouteForm may have left out the widest policy.
		cal, err := calibrateAgainst(all, *target, rep.Compared)
		if err != nil {
			msg := "calibration: " + oneLine(err)
			if target.Objective == ClearBar {
				msg += formLeftOutReaching(formed, all, target.Quality)
			}
			rep.note(msg)
		}
		// Calibrate leaves out what is Narrow (its Excluded; narrowNote names them).
		rep.Calibration = cal
	}
	return nil
}

// formLeftOutReaching says, when no candidate reaches quality, which of the results the
// route's form left out (in formed, not in kept) would: "" when none does.
func formLeftOutReaching(formed, kept []*Result, quality float64) string {
	var reach []string
	kinds := map[string]bool{}
	for _, r := range formed {
		if r.Realisable && !r.Narrow && r.Items > 0 && r.Quality >= quality && !slices.Contains(kept, r) {
			reach = append(reach, fmt.Sprintf("%s (%.2f%%)", r.Name, r.Quality*100))
			kinds[r.Kind] = true
		}
	}
	if len(reach) == 0 {
		return ""
	}
	const most = 3
	more := ""
	if len(reach) > most {
		more = fmt.Sprintf(" and %d more", len(reach)-most)
		reach = reach[:most]
	}
	return fmt.Sprintf("; left out as they would change the route's form, %s%s reach it: --include %s to let one replace the route",
		strings.Join(reach, ", "), more, strings.Join(slices.Sorted(maps.Keys(kinds)), ","))
}

// keepRouteForm leaves out of a calibration the results that would change the form of the
// category's route r, unless opts.Include names their kind, and notes what it left out. A
// score route sends each request where its score says; a random mix of its models ignores the
// request. A route that validates its answers, as a whole or step by step, stays validated:
// only the spec's own routes and cascades that validate (with the spec's validators or a
// simulated strength) compete; a single model, a split of plain models or a score router,
// which the replay measured without validation, would check no answer.
func keepRouteForm(all []*Result, r *spec.Route, include []string, rep *Report) []*Result {
	asked := func(kind string) bool { return slices.Contains(include, kind) }
	// Whether the route's validators, replayed on the recorded answers, escalated any: when
	// they flagged none, the route does on these outcomes what its router does alone.
	escalates := !slices.ContainsFunc(all, func(x *Result) bool {
		return x.Kind == KindSpec && x.Validator != nil && x.Items > 0 && x.Escalation == 0
	})
	if r.Score != nil && r.Validated() && escalates {
		// The routers replayed here validate no answer: a threshold or willingness to pay
		// calibrated on them, written into a route that validates (and escalates what its
		// validators flag), is a route the replay never measured. Only the spec's own route
		// competes, unless others are asked for. (Where the validators flagged none of the
		// recorded answers, the routers measure what the route does, and compete.)
		left := map[string]int{}
		all = slices.DeleteFunc(slices.Clone(all), func(r *Result) bool {
			if r.Kind == KindSpec || asked(r.Kind) || !r.Realisable {
				return false
			}
			left[r.Kind]++
			return true
		})
		if len(left) > 0 {
			var what, kinds []string
			for _, k := range slices.Sorted(maps.Keys(left)) {
				what = append(what, fmt.Sprintf("%d %s", left[k], k))
				kinds = append(kinds, k)
			}
			rep.note(fmt.Sprintf("only the spec's own route competes in the calibration: the category's score route validates its answers and escalates those its validators flag, which the other policies (%s) do not, so a setting calibrated on them is not what the route written would do; --include %s to let one replace it anyway",
				strings.Join(what, ", "), strings.Join(kinds, ",")))
		}
		return all
	}
	if r.Score != nil {
		if asked(KindMix) {
			return all
		}
		n := len(all)
		all = slices.DeleteFunc(slices.Clone(all), func(r *Result) bool { return r.Kind == KindMix })
		if n > len(all) {
			rep.note(fmt.Sprintf("the random mixes (%s) were left out of the calibration: the category routes by score, and a mix would send its requests to the models at random; --include mix to let one replace the score route", plural(n-len(all), "point")))
		}
		return all
	}
	if !r.Validated() {
		return all
	}
	var mixes int
	left := map[string]int{} // the kinds other than mixes left out, by kind
	all = slices.DeleteFunc(slices.Clone(all), func(r *Result) bool {
		if r.validates() || asked(r.Kind) {
			return false
		}
		if r.Kind == KindMix {
			mixes++
		} else if r.Realisable {
			left[r.Kind]++
		}
		return r.Realisable
	})
	if mixes > 0 {
		rep.note(fmt.Sprintf("the random mixes (%s) were left out of the calibration: the category's route validates its answers, and a split of plain models would not; --include mix to let one replace it (then move validate into each arm of the split written)", plural(mixes, "point")))
	}
	if len(left) > 0 {
		var what, kinds []string
		for _, k := range slices.Sorted(maps.Keys(left)) {
			what = append(what, fmt.Sprintf("%d %s", left[k], k))
			kinds = append(kinds, k)
		}
		rep.note(fmt.Sprintf("the policies that validate no answer (%s) were left out of the calibration: the category's route validates its answers, as a whole or step by step, and stays validated, so only the spec's route and validated cascades compete; --include %s,spec,cascade to let one replace it",
			strings.Join(what, ", "), strings.Join(kinds, ",")))
	}
	return all
}

// validates says whether the result's policy validates its answers: the spec's own route, or a
// cascade replayed with the spec's validators or a simulated validator strength.
func (r *Result) validates() bool {
	return r.Kind == KindSpec || r.Params.Strength != nil || r.Params.Validators
}

// noCategoryNote says that a spec's routes were not replayed for want of a category, and how
// to replay them: with the category named, and, when rows are selected by task, the task kept.
func noCategoryNote(s *spec.Spec, task string) string {
	names := make([]string, len(s.Categories))
	for i, c := range s.Categories {
		names[i] = c.Name
	}
	how := "give --category NAME to replay a category's route, validators and quality bar on its rows"
	if task != "" {
		how = fmt.Sprintf("give --category NAME with --task %s to replay a category's route, validators and quality bar on this task's rows", task)
	}
	return fmt.Sprintf("no category given: the spec's routes are not replayed; %s (the spec's categories: %s)", how, strings.Join(names, ", "))
}

// referencePair picks the weak and strong models: the options', else the best-quality single
// model and the cheapest other one (the cheaper of the two when they tie on quality), among
// the single models evaluated on (nearly) all items (see byCoverage). With fewer than two of
// those, qualities measured on different items are not compared: the strong model is the
// dearest and the weak the cheapest other, and a note says so.
// Both are "" when fewer than two models have items.
func referencePair(t *Table, singles []*Result, opts Options, rep *Report) (weak, strong string, err error) {
	for _, name := range []string{opts.Weak, opts.Strong} {
		if name != "" && t.Index(name) < 0 {
			return "", "", fmt.Errorf("reference model %q is not in the outcomes table (its models: %s)", name, strings.Join(t.models, ", "))
		}
	}
	if opts.Weak != "" && opts.Weak == opts.Strong {
		return "", "", fmt.Errorf("the weak and the strong model are both %q: name two different models", opts.Weak)
	}
	pool, narrow, widest := byCoverage(singles)
	byCost := len(pool) < 2
	if byCost {
		pool = append(pool, narrow...)
	}
	pick := func(except string, order func(a, b *Result) int) string {
		var cands []*Result
		for _, r := range pool {
			if r.Name != except {
				cands = append(cands, r)
			}
		}
		if len(cands) == 0 {
			return ""
		}
		return slices.MinFunc(cands, order).Name
	}
	cheaper := func(a, b *Result) int { return cmp.Compare(a.CostUSD(), b.CostUSD()) }
	better := func(a, b *Result) int { return cmp.Compare(b.Quality, a.Quality) }
	strong, weak = opts.Strong, opts.Weak
	if strong == "" {
		if byCost {
			strong = pick(weak, func(a, b *Result) int { return cmp.Or(cheaper(b, a), better(a, b)) })
		} else {
			strong = pick(weak, func(a, b *Result) int { return cmp.Or(better(a, b), cheaper(a, b)) })
		}
	}
	if weak == "" {
		weak = pick(strong, func(a, b *Result) int { return cmp.Or(cheaper(a, b), better(a, b)) })
	}
	if weak == "" || strong == "" {
		return "", "", nil
	}
	if opts.Weak == "" && opts.Strong == "" && !byCost {
		// The strong model is the cheapest of the best; when no model is cheaper, the weak one
		// is another of the best, dearer: of two models of one quality, the cheaper is weak.
		find := func(name string) *Result {
			return pool[slices.IndexFunc(pool, func(r *Result) bool { return r.Name == name })]
		}
		if w, s := find(weak), find(strong); w.Quality == s.Quality && w.CostUSD() > s.CostUSD() {
			weak, strong = strong, weak
		}
	}
	if byCost && len(narrow) > 0 && (opts.Weak == "" || opts.Strong == "") {
		var parts []string
		for _, r := range narrow {
			parts = append(parts, fmt.Sprintf("%s on %d", r.Name, r.Items))
		}
		rep.note(fmt.Sprintf("the reference pair %s → %s was chosen by cost: the single models are evaluated on different items (%s of %d), so their qualities are not compared; name the pair with --weak and --strong",
			weak, strong, strings.Join(parts, ", "), widest))
	}
	return weak, strong, nil
}

// narrowNote names the realisable policies that are Narrow, and what to do about them.
func narrowNote(rep *Report, widest int) {
	var ex []Excluded
	for _, r := range rep.Results {
		if r.Narrow && r.Realisable {
			ex = append(ex, Excluded{Name: r.Name, Items: r.Items, Of: widest})
		}
	}
	for _, c := range rep.Curves {
		if c.Narrow {
			// The narrowest point's items: what makes the curve Narrow.
			items := slices.MinFunc(c.Points, func(a, b *Result) int { return cmp.Compare(a.Items, b.Items) }).Items
			ex = append(ex, Excluded{Name: fmt.Sprintf("the %s curve", c.Name), Items: items, Of: widest})
		}
	}
	if len(ex) == 0 {
		return
	}
	rep.note(fmt.Sprintf("%s evaluated on fewer than %.0f%% of the %d items the widest policy covers (marked * in the table) %s not comparable with the others, and left out of the best single model, the frontier, AIQ, the cost of reaching the best model's quality and the calibration: %s; "+
		"a model with rows only for some items (in a trace export, the later steps of a cascade answer only what escalated) is measured on a selection: add its answers to every item, with clearbar eval or shadow traffic",
		plural(len(ex), "policy"), MinCoverage*100, widest, map[bool]string{true: "is", false: "are"}[len(ex) == 1], describeExcluded(ex)))
}

// coverageNotes reports missing and ungraded cells.
func coverageNotes(t *Table, rep *Report) {
	for _, st := range t.stats {
		var parts []string
		if st.Missing > 0 {
			parts = append(parts, fmt.Sprintf("no row for %d of %d items", st.Missing, t.Len()))
		}
		if st.Ungraded > 0 {
			parts = append(parts, plural(st.Ungraded, "row")+" without a grade")
		}
		if st.Failed > 0 {
			parts = append(parts, plural(st.Failed, "failed call")+" (counted as failures)")
		}
		if len(parts) > 0 {
			rep.note(fmt.Sprintf("%s: %s", st.Name, strings.Join(parts, ", ")))
		}
	}
	if d := t.Duplicates(); d > 0 {
		rep.note(fmt.Sprintf("ignored %s: the first row for an (item, model) wins", plural(d, "duplicate row")))
	}
}

// skippedNotes summarises the items policies could not be evaluated on.
func skippedNotes(t *Table, all []*Result, rep *Report) {
	counts := map[int]int{}
	for _, r := range all {
		if r.Skipped > 0 {
			counts[r.Skipped]++
		}
	}
	if len(counts) == 0 {
		return
	}
	keys := make([]int, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %s %s", plural(counts[k], "policy"), map[bool]string{true: "skips", false: "skip"}[counts[k] == 1], plural(k, "item")))
	}
	rep.note(fmt.Sprintf("policies are evaluated on the items where every model they need has a graded row (the oracle chooses among the models it has): %s, of %d", strings.Join(parts, "; "), t.Len()))
}

func (r *Report) note(s string) { r.Notes = append(r.Notes, s) }

// plural writes "1 row", "2 rows", "3 policies".
func plural(n int, noun string) string {
	switch {
	case n == 1:
	case strings.HasSuffix(noun, "y"):
		noun = noun[:len(noun)-1] + "ies"
	default:
		noun += "s"
	}
	return fmt.Sprintf("%d %s", n, noun)
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

func kinds(list []string) (map[string]bool, error) {
	out := map[string]bool{}
	if list == nil {
		for _, k := range allKinds {
			out[k] = true
		}
		return out, nil
	}
	for _, k := range list {
		if k != KindSingle && !slices.Contains(allKinds, k) {
			return nil, fmt.Errorf("unknown policy kind %q: use %s (single models are always included; naming single lets one replace a route that validates its answers in the calibration)", k, strings.Join(allKinds, ", "))
		}
		out[k] = true
	}
	return out, nil
}

// specName is the spec name of the model the rows call name: name itself when it is a spec
// model's name or no spec model's provider model id, else the one spec model whose id it is.
func specName(s *spec.Spec, name string) string {
	if name == "" || s.Model(name) != nil {
		return name
	}
	var found []string
	for _, m := range s.Models {
		if m.Model == name {
			found = append(found, m.Name)
		}
	}
	if len(found) != 1 {
		return name
	}
	return found[0]
}

// unmatchedNote explains that model name of spec s, which a route calls, has no rows: rows
// are matched to a spec model by its name or by its provider model id, and the rows' models
// (of rows) that match no spec model may be the same model under another name.
func unmatchedNote(s *spec.Spec, name string, rows map[string]bool) string {
	called := fmt.Sprintf("%q", name)
	if m := s.Model(name); m != nil && m.Model != "" && m.Model != name {
		called += fmt.Sprintf(" or its model %q", m.Model)
	}
	var other []string
	for _, r := range slices.Sorted(maps.Keys(rows)) {
		if s.Model(r) != nil || slices.ContainsFunc(s.Models, func(m *spec.Model) bool { return m.Model == r }) {
			continue
		}
		other = append(other, r)
	}
	note := fmt.Sprintf("spec model %q has no rows, so the routes that call it are not replayed: rows name a spec model by its name, %s", name, called)
	if len(other) == 0 {
		return note + "; record its answers (clearbar eval, shadow traffic)"
	}
	if len(other) > 12 {
		other = append(other[:12], fmt.Sprintf("… %d more", len(other)-12))
	}
	return note + fmt.Sprintf("; if it is one of the rows' models no spec model matches (%s), set its model: to that name in the spec, or rename the rows", strings.Join(other, ", "))
}

// noRows explains a filter that matched nothing: the category or task, or, when rows passed
// it, the models (kept lists the models of those rows).
func noRows(opts Options, n int, cats, tasks, kept map[string]bool) error {
	table, of := "the outcomes table", ""
	if opts.Table != "" {
		table, of = "the outcomes table "+opts.Table, " of "+opts.Table
	}
	if n == 0 {
		return errors.New(table + " has no rows")
	}
	list := func(m map[string]bool) string {
		keys := make([]string, 0, len(m))
		for k := range m {
			if k != "" {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		if len(keys) > 12 {
			keys = append(keys[:12], fmt.Sprintf("… %d more", len(keys)-12))
		}
		if len(keys) == 0 {
			return "none"
		}
		return strings.Join(keys, ", ")
	}
	switch {
	case len(kept) > 0 && opts.Models != nil:
		return fmt.Errorf("none of the %d rows%s is of the models to replay (%s): the rows' models are %s; name some of them", n, of, strings.Join(opts.Models, ", "), list(kept))
	case opts.Task != "":
		return fmt.Errorf("none of the %d rows%s has task %q (tasks in the table: %s): choose another task", n, of, opts.Task, list(tasks))
	case opts.Category != "":
		return fmt.Errorf("none of the %d rows%s has category %q (categories in the table: %s; tasks: %s): filter by task instead, or record the category in the rows", n, of, opts.Category, list(cats), list(tasks))
	}
	return fmt.Errorf("none of the %d rows%s could be used: every model was filtered out", n, of)
}
