package review

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/internal/stats"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/spec"
)

// Defaults and thresholds.
const (
	// DefaultAlpha is the default false-alarm level: the chance that a review of traffic that
	// matches the spec reports any statistical trigger.
	DefaultAlpha = 0.01
	// DefaultTolerance is the relative difference from an assumption that cost, tokens and
	// latency must exceed, beyond sampling error, to count as a move.
	DefaultTolerance = 0.05
	// DefaultMinTemplateShare is the share of a category's recent requests a template unseen
	// before must carry to count as a new template version.
	DefaultMinTemplateShare = 0.05
	// MinSamples is the fewest observations a statistical test is made on; smaller samples are
	// reported without a test.
	MinSamples = 30
	// ExperimentBurnIn is the fewest requests each arm of a split needs before its sequential
	// tests start looking: below it the variance estimates they rely on are too rough.
	ExperimentBurnIn = 100
	// ExperimentPower is the power the traffic estimates of experiments aim for.
	ExperimentPower = 0.8
)

// Options control a review. The zero value uses the defaults.
type Options struct {
	// Alpha is the false-alarm level: the probability that a review of traffic behaving as
	// the spec assumes reports any statistical trigger (Holm's correction holds it across
	// all of a review's tests). Experiments use it too. Zero means DefaultAlpha.
	Alpha float64
	// Tolerance is the relative difference from the assumption that cost per request,
	// tokens per call and latency quantiles must be shown to exceed (not merely to differ
	// from zero) before they count as moved: large windows make tiny drifts significant, and
	// a 2% drift in tokens is no reason to recalculate. Rates are tested without one. Zero
	// means DefaultTolerance; a negative value means none.
	Tolerance float64
	// Today dates the report and is what review dates are judged against; zero means now.
	Today time.Time
	// Since and Until describe the window the decisions were read from, for the report; zero
	// values leave it to the decisions' own times.
	Since, Until time.Time
	// MinTemplateShare is the share of a category's recent requests a template unseen in the
	// earlier part of the window must carry to count; zero means DefaultMinTemplateShare.
	MinTemplateShare float64
	// Samples and Seed are passed to the estimator; zero means its defaults.
	Samples int
	Seed    uint64
	// Baseline is the estimate of the spec as written. Nil means Run computes it; Analyze
	// needs it. Passing it saves an estimate when one spec is reviewed many times.
	Baseline *estimate.Report
}

func (o Options) withDefaults() Options {
	if o.Alpha <= 0 {
		o.Alpha = DefaultAlpha
	}
	switch {
	case o.Tolerance == 0:
		o.Tolerance = DefaultTolerance
	case o.Tolerance < 0:
		o.Tolerance = 0
	}
	if o.Today.IsZero() {
		o.Today = time.Now()
	}
	if o.MinTemplateShare <= 0 {
		o.MinTemplateShare = DefaultMinTemplateShare
	}
	return o
}

// Review collects decision records of one spec's traffic and compares them with the spec.
// Create it with New, feed it with Add, then call Run (or Analyze). It keeps a compact record
// per request and per model call, not the decisions themselves, so that a window of millions
// of requests can be streamed through it.
//
// A Review is not safe for concurrent use. Analyze and Run may be called more than once, and
// more decisions added between calls.
type Review struct {
	spec *spec.Spec
	opts Options

	catIndex map[string]int
	cats     []*catData
	reqs     []request
	cells    map[cellKey]*cell
	// obs are the outcome rows of every call, as the estimator reads them.
	obs       []estimate.Observation
	templates []string
	tmplIndex map[string]int32

	dryRuns, unmatched int
	// embeddings counts the decisions of embeddings requests, whatever their outcome.
	embeddings int
	// rejected counts the decisions of requests refused before a category was chosen, by
	// why (refusedWhy).
	rejected [refusedReasons]int
	// timeScaled counts the decisions whose latencies were divided by their time scale.
	timeScaled     int
	unmatchedNames map[string]int
}

// catData is what is collected per category beyond its requests.
type catData struct {
	// structural holds the summaries of the category's validators that check structure
	// (json_schema, required_fields): their failures are malformed output.
	structural map[string]bool
	tokensIn   stats.Moments
	tokensOut  stats.Moments
	// cache is the cached prompt tokens against the prompt tokens of answered calls.
	cache     stats.Ratio
	armLabels []string
	armIndex  map[string]int32
	// agree holds the route's agreement checks by their summary (the name their verdicts
	// record), to tell which model checked an answer.
	agree map[string]*spec.Agree
}

// request is one decision, reduced to what the review uses.
type request struct {
	time        int64 // Unix nanoseconds
	cat         int32
	arm         int32 // index into the category's arm labels; -1 without a split arm
	template    int32 // index into Review.templates; -1 without a template hash
	escalations int32 // steps beyond the first
	retries     int32 // provider retries
	fellBack    bool
	malformed   bool
	passed      bool // answered, and the answer was not flagged by validation
	cost        clearbar.Money
	latency     float64 // seconds
	// cut says the request ended canceled: cutShutdown when the gateway cut it as it shut
	// down, cutClient when the client went away; its latency and cost are those of a request
	// stopped part way.
	cut uint8
}

// Why a request ended canceled (request.cut).
const (
	cutNone = iota
	cutClient
	cutShutdown
)

type cellKey struct {
	cat   int32
	model string
}

// Where a model's answer was given, which decides the assumption its verdicts can be
// compared with: only answers to the same kind of requests measure the same pass rate.
const (
	// passCategory is the first step of a static route or cascade (of a split arm too): the
	// model answers the category's requests as a whole, as assume.pass_rate says.
	passCategory = iota
	// passScore is the first step of a score route, on the model the score started on: the
	// requests its score picked for it, as assume.score_pass_rate says.
	passScore
	// passEscalated is a later step: the requests an earlier step's validation escalated,
	// harder than the rest, as assume.escalated_pass_rate says.
	passEscalated
	passContexts
)

// passCount counts a model's validated answers in one context (passCategory, …).
type passCount struct {
	// judged counts the answers the validators judged, passed those they passed.
	judged, passed int
	// unjudged counts the answers the validators could not judge: every verdict not
	// applicable to the request (clearbar.Verdict.NotApplicable), or failed for want of a
	// verdict only (Unverified).
	unjudged int
	// byEarlier counts escalated answers an agreement check compared with the answer of a
	// model of an earlier step of the same request (checkers names them): such verdicts
	// measure disagreement with that model, not correctness, and are left out.
	byEarlier int
	checkers  []string
}

// cell is what was seen of one model's calls in one category.
type cell struct {
	pass [passContexts]passCount
	// offStart counts validated answers on a score route's first step by a model the score did
	// not start on (a fallback): requests the score picked for another model, comparable with
	// no assumption of this one.
	offStart int
	latency  []float64 // seconds, of answered calls
}

// New returns an empty review of traffic routed by s.
func New(s *spec.Spec, opts Options) *Review {
	r := &Review{spec: s, opts: opts.withDefaults(), catIndex: map[string]int{}, cells: map[cellKey]*cell{},
		tmplIndex: map[string]int32{}, unmatchedNames: map[string]int{}}
	for i, c := range s.Categories {
		r.catIndex[c.Name] = i
		r.cats = append(r.cats, &catData{structural: structuralValidators(c.Route), agree: agreementChecks(c.Route), armIndex: map[string]int32{}})
	}
	return r
}

// structuralValidators returns the summaries (the names validators record in their verdicts)
// of the route's validators that check an answer's structure.
func structuralValidators(r *spec.Route) map[string]bool {
	out := map[string]bool{}
	if r == nil {
		return out
	}
	add := func(vs []*spec.Validator) {
		for _, v := range vs {
			if v.Kind == "json_schema" || v.Kind == "required_fields" {
				out[v.Summary()] = true
			}
		}
	}
	var walk func(r *spec.Route)
	walk = func(r *spec.Route) {
		add(r.Validate)
		for _, st := range r.Cascade {
			add(st.Validate)
		}
		for _, a := range r.Split {
			walk(&a.Route)
		}
	}
	walk(r)
	return out
}

// agreementChecks returns the route's agreement checks (its own, its steps' and its split
// arms') by their summary.
func agreementChecks(r *spec.Route) map[string]*spec.Agree {
	out := map[string]*spec.Agree{}
	var walk func(r *spec.Route)
	add := func(vs []*spec.Validator) {
		for _, v := range vs {
			if ag, ok := v.Config.(*spec.Agree); ok {
				out[v.Summary()] = ag
			}
		}
	}
	walk = func(r *spec.Route) {
		if r == nil {
			return
		}
		add(r.Validate)
		for _, st := range r.Cascade {
			add(st.Validate)
		}
		for _, a := range r.Split {
			walk(&a.Route)
		}
	}
	walk(r)
	return out
}

// Why a request was refused before it was given a category, as its decision record tells.
const (
	refusedRequest   = iota // malformed, or naming an unknown model
	refusedKey              // no key, or one the gateway does not accept (401, 403)
	refusedRateLimit        // a client key over its rate_limit (429, no model called)
	refusedReasons
)

// refusedWhy says why the gateway refused a request it gave no category, by the status the
// client got: the gateway checks the key and its rate limit before it reads the request.
func refusedWhy(d *clearbar.Decision) int {
	switch {
	case d.Status == http.StatusUnauthorized || d.Status == http.StatusForbidden:
		return refusedKey
	case d.Status == http.StatusTooManyRequests && len(d.Attempts) == 0:
		return refusedRateLimit
	}
	return refusedRequest
}

// isEmbeddings reports whether d is the decision of an embeddings request, by the path the
// client called (/v1/embeddings).
func isEmbeddings(d *clearbar.Decision) bool {
	return strings.HasSuffix(d.Path, "/embeddings")
}

// Add adds decisions to the review. Dry runs, embeddings requests, requests refused before
// they were classified and decisions of categories the spec does not have are counted and
// otherwise left out. Add keeps nothing that refers to ds.
func (r *Review) Add(ds ...*clearbar.Decision) {
	for _, d := range ds {
		r.add(d)
	}
}

func (r *Review) add(d *clearbar.Decision) {
	if d == nil {
		return
	}
	if d.DryRun {
		r.dryRuns++
		return
	}
	if isEmbeddings(d) {
		// Not chat traffic: it has no category, whether it was answered or refused.
		r.embeddings++
		return
	}
	if d.Category == "" {
		// Refused before it was classified (a malformed request, an unknown model, no valid
		// key, a key over its rate limit): no category's traffic.
		r.rejected[refusedWhy(d)]++
		return
	}
	ci, ok := r.catIndex[d.Category]
	if !ok {
		r.unmatched++
		r.unmatchedNames[d.Category]++
		return
	}
	cd := r.cats[ci]
	// Decisions of simulated providers at a time scale hold scaled wall-clock latencies: the
	// review compares the simulated ones with the spec's.
	scale := 1.0
	if d.TimeScale > 0 {
		scale = d.TimeScale
		r.timeScaled++
	}
	rq := request{
		time: d.Time.UnixNano(), cat: int32(ci), arm: -1, template: -1,
		passed: d.Outcome == clearbar.OK && !d.Flagged, cost: d.Cost, latency: d.Latency.Seconds() / scale,
	}
	switch {
	case d.Outcome == clearbar.Canceled && d.Shutdown:
		rq.cut = cutShutdown
	case d.Outcome == clearbar.Canceled:
		rq.cut = cutClient
	}
	if d.Arm != "" {
		idx, ok := cd.armIndex[d.Arm]
		if !ok {
			idx = int32(len(cd.armLabels))
			cd.armIndex[d.Arm] = idx
			cd.armLabels = append(cd.armLabels, d.Arm)
		}
		rq.arm = idx
	}
	if d.TemplateHash != "" {
		idx, ok := r.tmplIndex[d.TemplateHash]
		if !ok {
			idx = int32(len(r.templates))
			r.tmplIndex[d.TemplateHash] = idx
			r.templates = append(r.templates, d.TemplateHash)
		}
		rq.template = idx
	}
	maxStep := 1
	var prev *clearbar.Attempt
	// A score route's first step answers the requests its score picked; the first step of
	// any other route (a split arm's too) answers the category's requests as a whole.
	route := r.spec.Categories[ci].Route
	scored := d.Score != nil || route != nil && route.Score != nil
	answeredStep := map[int]bool{}
	for i := range d.Attempts {
		a := &d.Attempts[i]
		if a.ValidatorCall() {
			continue
		}
		maxStep = max(maxStep, a.Step)
		switch a.Kind {
		case clearbar.AttemptFallback:
			rq.fellBack = true
		case clearbar.AttemptRetry:
			// A retry after a provider failure, not the retry of an answer that failed
			// validation (on_fail: retry_once).
			if prev != nil && prev.Class != clearbar.OK && prev.Class != clearbar.Quality {
				rq.retries++
			}
		}
		if a.Class == clearbar.BadResponse || failedStructure(a.Verdicts, cd.structural) {
			rq.malformed = true
		}
		if a.Class == clearbar.OK || a.Class == clearbar.Quality { // the call answered
			k := cellKey{int32(ci), a.Model}
			c := r.cells[k]
			if c == nil {
				c = &cell{}
				r.cells[k] = c
			}
			c.latency = append(c.latency, a.Latency.Seconds()/scale)
			// Only a step's first answer measures a pass rate: a second one (on_fail:
			// retry_once) answers again a request whose first answer failed validation.
			if len(a.Verdicts) > 0 && !answeredStep[a.Step] {
				r.countVerdicts(c, cd, d, a, scored)
			}
			answeredStep[a.Step] = true
			if a.Usage.PromptTokens > 0 || a.Usage.CompletionTokens > 0 {
				cd.tokensIn.Add(float64(a.Usage.PromptTokens))
				cd.tokensOut.Add(float64(a.Usage.CompletionTokens))
			}
			if a.Usage.PromptTokens > 0 {
				cd.cache.Add(float64(a.Usage.CachedTokens), float64(a.Usage.PromptTokens))
			}
		}
		prev = a
	}
	rq.escalations = int32(maxStep - 1)
	r.reqs = append(r.reqs, rq)
	for _, row := range outcomes.FromDecision(d) {
		if row.Canceled() {
			continue // cut by the client or a shutdown: neither a failure nor an answer
		}
		// Pass is left out on purpose: production verdicts are the validators' opinion, not
		// grades. Measured pass rates reach the estimate through the spec edits instead,
		// corrected for the validators' detection and false-alarm rates. The latencies of calls
		// at a time scale, which magnifies the gateway's own overhead by 1/scale, are marked
		// so: the estimator keeps them apart and does not measure with them, and the review
		// shows them beside the assumptions, untested, and does not re-estimate with them.
		scaled := d.TimeScale > 0 || slices.ContainsFunc(d.Attempts, func(a clearbar.Attempt) bool { return a.TimeScale > 0 })
		r.obs = append(r.obs, estimate.Observation{Category: row.Category, Model: row.Model, LatencyMS: row.LatencyMS, TimeScaled: scaled,
			TokensIn: row.TokensIn, TokensOut: row.TokensOut, TokensCached: row.TokensCached, TokensReasoning: row.TokensReasoning,
			TokensEstimated: row.TokensEstimated, Failed: row.Error != ""})
	}
}

// countVerdicts counts the verdicts on attempt a of decision d, a step's first answer, in the
// context its step gives it (passCategory, passScore, passEscalated).
func (r *Review) countVerdicts(c *cell, cd *catData, d *clearbar.Decision, a *clearbar.Attempt, scored bool) {
	ctx := passCategory
	switch {
	case a.Step > 1:
		ctx = passEscalated
		if chk := earlierChecker(cd, d, a); chk != "" {
			pc := &c.pass[ctx]
			pc.byEarlier++
			if !slices.Contains(pc.checkers, chk) {
				pc.checkers = append(pc.checkers, chk)
			}
			return
		}
	case scored:
		if a.Kind == clearbar.AttemptFallback || d.Score != nil && d.Score.Start != "" && a.Model != d.Score.Start {
			c.offStart++
			return
		}
		ctx = passScore
	}
	pc := &c.pass[ctx]
	judged, pass := judge(a.Verdicts)
	switch {
	case !judged:
		pc.unjudged++
	case pass:
		pc.judged++
		pc.passed++
	default:
		pc.judged++
	}
}

// earlierChecker returns the checker of an agreement check that judged escalated attempt a
// (its verdict neither not applicable nor unverified) when that checker is a model called at
// an earlier step of the same request, else "". The request was escalated because that
// model's answer failed validation, so the check fails a's answer when it is right and the
// earlier one wrong: it measures disagreement with that model, not correctness.
func earlierChecker(cd *catData, d *clearbar.Decision, a *clearbar.Attempt) string {
	for _, v := range a.Verdicts {
		if v.NotApplicable || v.Unverified {
			continue
		}
		ag := cd.agree[v.Validator]
		if ag == nil {
			continue
		}
		chk, ok := ag.CheckerFor(a.Model)
		if !ok {
			continue
		}
		for i := range d.Attempts {
			e := &d.Attempts[i]
			if !e.ValidatorCall() && e.Step < a.Step && e.Model == chk.Name {
				return chk.Name
			}
		}
	}
	return ""
}

// judge reads an answer's verdicts as clearbar eval and validate calibrate do: failed when a
// validator found it wanting; not judged when the only failures are for want of a verdict
// (Unverified) or when no validator applied to the request (every verdict NotApplicable: the
// gateway passes such an answer unchecked); else passed.
func judge(vs []clearbar.Verdict) (judged, pass bool) {
	applicable, unverified := false, false
	for _, v := range vs {
		switch {
		case !v.Pass && !v.Unverified:
			return true, false
		case !v.Pass || v.Unverified:
			unverified = true
		case !v.NotApplicable:
			applicable = true
		}
	}
	if unverified || !applicable {
		return false, false
	}
	return true, true
}

func failedStructure(vs []clearbar.Verdict, structural map[string]bool) bool {
	for _, v := range vs {
		if !v.Pass && structural[v.Validator] {
			return true
		}
	}
	return false
}

// Baseline estimates the spec as written, with the review's estimator options: the figures
// the spec's own policy is expected to reach, which the review compares traffic with.
func Baseline(ctx context.Context, s *spec.Spec, opts Options) (*estimate.Report, error) {
	opts = opts.withDefaults()
	return estimate.Run(ctx, s, estimate.Options{Samples: opts.Samples, Seed: opts.Seed, Today: opts.Today})
}

// Run reviews the collected traffic: it estimates the spec as written (unless Options.Baseline
// is set), compares every measurement with its assumption, lists the triggers that fired,
// analyses experiments, and re-estimates with the measurements to recommend a spec change as
// a diff of the spec file (which it reads from the spec's File).
func (r *Review) Run(ctx context.Context) (*Report, error) {
	base := r.opts.Baseline
	if base == nil {
		var err error
		if base, err = Baseline(ctx, r.spec, r.opts); err != nil {
			return nil, fmt.Errorf("review: estimating the spec: %w", err)
		}
	}
	rep, err := r.Analyze(base)
	if err != nil {
		return nil, err
	}
	if err := r.recommend(ctx, rep, base); err != nil {
		return nil, err
	}
	rep.ActionNeeded = len(rep.Triggers) > 0
	return rep, nil
}

// Analyze compares the collected traffic with the spec and its baseline estimate (see
// Baseline) and lists the triggers that fired. It does not re-estimate: Run does.
func (r *Review) Analyze(base *estimate.Report) (*Report, error) {
	if base == nil {
		return nil, errors.New("review: Analyze needs the baseline estimate of the spec")
	}
	specPolicy := policyByKind(base, estimate.KindSpec)
	if specPolicy == nil || len(specPolicy.Categories) != len(r.spec.Categories) {
		return nil, errors.New("review: the baseline estimate does not match the spec")
	}
	a := newAnalysis(r, base, specPolicy)
	return a.run(), nil
}

func policyByKind(r *estimate.Report, kind string) *estimate.PolicyResult {
	for _, p := range r.Policies {
		if p.Kind == kind {
			return p
		}
	}
	return nil
}

func policyByName(r *estimate.Report, name string) *estimate.PolicyResult {
	for _, p := range r.Policies {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// armNumber reads the arm number from a gateway arm label ("arm 2 (50%): mid"), or 0.
func armNumber(label string) int {
	rest, ok := strings.CutPrefix(label, "arm ")
	if !ok {
		return 0
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	n, err := strconv.Atoi(rest[:end])
	if err != nil {
		return 0
	}
	return n
}
