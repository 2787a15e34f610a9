// Package worksheet writes a routing spec as a routing worksheet (a CSV file with one row per
// task category) and reads such a worksheet back into a spec.
//
// The worksheet's first twelve columns are the ones the routing playbook asks teams to keep:
// task category, traffic share, quality threshold, primary model, fallback model, average
// tokens in and out, validation rule, the estimated pass rate, latency and per-request cost of
// the route, and the last review date. Further columns carry what a spec needs beyond them
// (see [Columns]), so that a worksheet exported from a spec can be imported into an equivalent
// spec.
//
// # Round trip
//
// For a spec in the supported class below, Export → [Import] → spec.Parse → estimate.Run
// (same samples and seed) → Export gives byte-identical CSV, estimated columns included, and
// the estimate of the imported spec gives the same figures (cost, quality, latency, risk and
// monthly projections) for every policy but the spec's named policies, which a worksheet does
// not hold. The supported class is a spec whose
//
//   - categories use static or cascade routes (not split), with validators and on_fail set
//     on the route rather than per cascade step, and validators whose summary can be read
//     back: JSON Schema (a file or the request's), required fields, regex (patterns without
//     "; "), max length, length, citations, tool calls and refusal, but not judges (whose
//     calls the estimate prices), restricted phrases or inline schemas;
//   - models have no catalogue keys, reasoning or context window overrides or model fallback
//     lists (price overrides are in "model price", so a model the catalogue does not list
//     round-trips too).
//
// Identity of the estimates holds because the sheet carries every assumption the estimate
// reads: per-category pass rates ("primary pass rate", "fallback pass rate", "other pass
// rates"), the validator strength, the category fallbacks of cascades ("cascade failover"),
// reasoning tokens, the prompt-cache hit rate, the retry policy, each model's latency,
// availability, provider type and price overrides ("model latency", "model availability",
// "model provider", "model price"; the type decides the catalogue price) for every model a
// row names, pass-rate-only models included (the estimate's single-model and price-order
// policies route to them), failure impact ("failure impact") and the spec's volume
// ("volume"). The simulation's random streams are keyed by category name and route, which
// the round trip also preserves. Only the order of the estimate's single-model policies may
// change: it follows the order in which the worksheet first names each model.
//
// A worksheet with only the twelve playbook columns and the first seven extras still imports
// and, once any pass rate it lacks is written in (see below), gives back every non-estimated
// column, but not the estimates: models get the default
// availability (which moves costs by a few nano-dollars), the import's provider type and
// catalogue prices, a cascade loses its category fallback, reasoning tokens, cache hits,
// retry settings, failure impact and volume are gone, and a model's latency is taken from
// the estimated latency of the first static row it is the primary model of (which includes
// retries and failover, is rounded to two digits and belongs to that row's token counts),
// else of the first other row it is the first model of (which also includes escalations),
// else from Clearbar's default.
//
// With only the twelve playbook columns, validator strengths are the default and pass rates
// come from the rows: a row's primary model gets the row's estimated pass rate; a model
// without a pass rate in its row gets the one the sheet gives it in another row, as a stated
// pass rate or as the estimated pass rate of a static row it is the primary model of (a
// cascade's includes escalations, so it is not borrowed), commented with where it came from
// (see [Import]). A primary model with neither gets the row's quality threshold; a fallback or
// escalation model with neither is left out, so that the imported spec does not load until
// someone writes its pass rate in, and the import says which. Every placeholder and borrowed
// value is commented as such in the imported YAML.
//
// A validation rule naming a json_schema file round-trips when the imported spec is saved
// where that path resolves (ImportOptions.Dir); elsewhere the validator becomes a commented
// placeholder so that the spec still loads. [Gaps] lists what of a given spec falls outside
// the round-trip class.
//
// Information a worksheet never holds (named policies, match rules and the default category,
// golden tests, descriptions, success criteria, review cadence and owner, provider settings,
// gateway settings) is not recovered: [Omitted] lists what of a given spec is lost, and the
// imported spec's header comment says what to add back.
//
// # Formulas
//
// A cell that starts with =, +, -, @, a tab or a carriage return would be read as a formula
// by a spreadsheet, so text from a spec (a "why", say) could run in the reader's spreadsheet.
// Export writes such a cell with a leading single quote, as OWASP recommends for CSV files,
// and Import removes it, so the round trip gives back the text as it was.
package worksheet

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/spec"
)

// Column headers. The first twelve are the routing playbook's; the rest are extras.
const (
	colCategory          = "task category"
	colShare             = "traffic share"
	colQuality           = "quality threshold"
	colPrimary           = "primary model"
	colFallback          = "fallback model"
	colTokensIn          = "average tokens in"
	colTokensOut         = "average tokens out"
	colValidation        = "validation rule"
	colEstPass           = "estimated pass rate"
	colEstLatency        = "estimated latency"
	colEstCost           = "estimated per-request cost"
	colReview            = "last review date"
	colRoute             = "route"
	colPrimaryPass       = "primary pass rate"
	colFallbackPass      = "fallback pass rate"
	colDetect            = "validator detect"
	colFalseAlarm        = "validator false alarm"
	colBudget            = "latency budget"
	colWhy               = "why"
	colFailover          = "cascade failover"
	colOtherPass         = "other pass rates"
	colReasoning         = "reasoning tokens"
	colCacheHit          = "cache hit"
	colRetries           = "provider retries"
	colModelLatency      = "model latency"
	colModelAvailability = "model availability"
	colModelProvider     = "model provider"
	colModelPrice        = "model price"
	colFailureImpact     = "failure impact"
	colVolume            = "volume"
)

// Columns are the worksheet's header, in order: the twelve seed columns first (exact header
// text below), then extras.
//
// The seed columns, from the routing playbook:
//
//   - "task category": the category's name.
//   - "traffic share": its fraction of all traffic, like 0.45 (45% on import too).
//   - "quality threshold": the category's quality bar, the minimum acceptable pass rate.
//   - "primary model": the first model the route calls (for a split route, its first arm's).
//     A model is written as its name when the name is also the provider's model id, else as
//     name=model-id, like small=gpt-4o-mini; every model cell uses this form.
//   - "fallback model": for a cascade, the later steps joined with " → "; otherwise the
//     category's fallback list (the models tried on provider errors) joined with ", ".
//   - "average tokens in", "average tokens out": a number, or p50/p95 like 1500/6000 for a
//     distribution.
//   - "validation rule": the route's validators' summaries joined with "; ".
//   - "estimated pass rate": the delivered pass rate the estimate gives the spec's route, with
//     four decimals.
//   - "estimated latency": the route's estimated p50 and p95, to two significant digits, like
//     "820ms / 2.4s".
//   - "estimated per-request cost": the route's expected cost per request, in exact decimal
//     dollars.
//   - "last review date": the category's own review date, else the spec's (YYYY-MM-DD).
//
// The extras:
//
//   - "route": static, cascade or score, followed by retry_once when a failed validation
//     is retried once before escalating, and by fail_when_exhausted when a request whose last
//     answer fails validation fails (on_exhausted: fail) instead of being delivered flagged. A
//     score route's settings follow in parentheses, like "score (tiers 0.3; shares nano 0.65,
//     sonnet 0.35)" or "score (router routers/q.json; willingness to pay 0.5; start pass rates
//     nano 0.97)", so that it imports as it was. A split route's row holds only its first arm,
//     every column as for that arm's route, and its route cell is "split" followed by the
//     arm's, like "split cascade retry_once": the import reads the row as the arm's route, and
//     warns that the other arms and the weights are lost (see [Gaps]).
//   - "primary pass rate", "fallback pass rate": the assumed pass rates (assume.pass_rate) of
//     the primary model and of the first model of "fallback model".
//   - "validator detect", "validator false alarm": the category's validator strength; empty
//     when the spec states none.
//   - "latency budget": the p95 the category must meet, like 2s; empty for none.
//   - "why": why the category is routed this way.
//   - "cascade failover": for a cascade, the category's fallback list (static routes list it
//     under "fallback model").
//   - "other pass rates": the category's remaining assumed pass rates, like "mini: 0.96;
//     nano=gpt-4.1-nano: 0.8": the later fallback models' and failover models' in row order,
//     then every other model's by name.
//   - "reasoning tokens": the reasoning tokens per request that models which bill reasoning
//     are charged for, as a number or p50/p95; empty for none.
//   - "cache hit": the fraction of input tokens served from the prompt cache; empty for none.
//   - "provider retries": the retry policy on provider errors, like "attempts 3, backoff 1s";
//     empty for the default (one retry after 250ms).
//   - "model latency": the latency assumed for each model the row names, like "mini: ttft
//     400ms/1.1s + 90 tok/s; strong: 900ms/2.5s", where a form is p50/p95 of the whole
//     response, "ttft P50/P95 + N tok/s", or "samples D D D", optionally followed by
//     "fail after D"; "default" means the spec states no latency for the model.
//   - "model availability": each model's probability of answering without a provider error,
//     like "mini: 0.998; strong: 0.995".
//   - "model provider": each model's provider type, like "mini: openai; flash: gemini"; it
//     decides which catalogue price applies (gemini and azure-openai have their own).
//   - "model price": the prices the spec sets for a model instead of the catalogue's (price:),
//     in dollars per million tokens, like "small: input 0.05, output 0.2; pro: input 1.25,
//     output 10, long context above 200000, long context input 2.5, long context output 15";
//     the other keys are "cached input", "cache write", "reasoning", "long context cached
//     input" and "long context none". A model priced from the catalogue is not listed; a
//     model the catalogue does not list imports only with its input and output price here.
//   - "failure impact": what a bad answer and a failed request of the category cost, in
//     dollars, like "bad answer 25, failed request 5" (failure_impact; "failed request" only
//     when the spec states it); empty for none.
//   - "volume": the spec's traffic, the same in every row, like "3000000 per month" or "40000
//     per day"; empty when the spec states none (a million requests a month).
//
// "model latency", "model availability", "model provider" and "model price" describe every
// model the row names (the last only those the spec prices): those of "primary model",
// "fallback model" and "cascade failover", then those of "other pass rates".
var Columns = []string{
	colCategory, colShare, colQuality, colPrimary, colFallback, colTokensIn, colTokensOut,
	colValidation, colEstPass, colEstLatency, colEstCost, colReview,
	colRoute, colPrimaryPass, colFallbackPass, colDetect, colFalseAlarm, colBudget, colWhy,
	colFailover, colOtherPass, colReasoning, colCacheHit, colRetries,
	colModelLatency, colModelAvailability, colModelProvider, colModelPrice, colFailureImpact, colVolume,
}

// seedColumns is how many of Columns an imported worksheet must have.
const seedColumns = 12

// Row is one worksheet row: the text of each cell, one field per column of [Columns], in the
// same order.
type Row struct {
	Category            string
	TrafficShare        string
	QualityThreshold    string
	PrimaryModel        string
	FallbackModel       string
	TokensIn            string
	TokensOut           string
	ValidationRule      string
	EstimatedPassRate   string
	EstimatedLatency    string
	EstimatedCost       string
	LastReview          string
	Route               string
	PrimaryPassRate     string
	FallbackPassRate    string
	ValidatorDetect     string
	ValidatorFalseAlarm string
	LatencyBudget       string
	Why                 string
	CascadeFailover     string
	OtherPassRates      string
	ReasoningTokens     string
	CacheHit            string
	ProviderRetries     string
	ModelLatency        string
	ModelAvailability   string
	ModelProvider       string
	ModelPrice          string
	FailureImpact       string
	Volume              string
}

// Cells returns the row's cells in the order of [Columns].
func (r Row) Cells() []string {
	return []string{
		r.Category, r.TrafficShare, r.QualityThreshold, r.PrimaryModel, r.FallbackModel,
		r.TokensIn, r.TokensOut, r.ValidationRule, r.EstimatedPassRate, r.EstimatedLatency,
		r.EstimatedCost, r.LastReview, r.Route, r.PrimaryPassRate, r.FallbackPassRate,
		r.ValidatorDetect, r.ValidatorFalseAlarm, r.LatencyBudget, r.Why, r.CascadeFailover,
		r.OtherPassRates, r.ReasoningTokens, r.CacheHit, r.ProviderRetries, r.ModelLatency,
		r.ModelAvailability, r.ModelProvider, r.ModelPrice, r.FailureImpact, r.Volume,
	}
}

// Export writes one row per category of s, with the estimated columns filled from est (the
// estimate of s; est.Policies[0] is the spec's policy). A nil est leaves the estimated
// columns empty. The output is RFC 4180 CSV (CRLF line endings) with a header row of
// [Columns]; numbers use a dot decimal. A cell a spreadsheet would read as a formula is
// written with a leading single quote (see escapeCell), which [Import] removes again.
func Export(w io.Writer, s *spec.Spec, est *estimate.Report) error {
	rows, err := Rows(s, est)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(Columns); err != nil {
		return err
	}
	for _, r := range rows {
		cells := r.Cells()
		for i, c := range cells {
			// The writer drops carriage returns (its lines end in CRLF): drop them first, so
			// that the escape sees the cell as the file will hold it.
			cells[i] = escapeCell(strings.ReplaceAll(c, "\r", ""))
		}
		if err := cw.Write(cells); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// formulaStart holds the first characters that make a spreadsheet read a cell as a formula
// (OWASP's list for CSV injection), and the single quote that escapes them.
const formulaStart = "=+-@\t\r'"

// escapeCell guards a cell against formula injection as OWASP recommends: a cell that starts
// with =, +, -, @, a tab or a carriage return gets a leading single quote, which spreadsheets
// show as text. A cell that already starts with a single quote gets one more, so that
// unescapeCell, which removes one quote before any of these characters, gives back exactly the
// text escapeCell was given.
func escapeCell(s string) string {
	if s != "" && strings.IndexByte(formulaStart, s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// unescapeCell undoes escapeCell.
func unescapeCell(s string) string {
	if len(s) >= 2 && s[0] == '\'' && strings.IndexByte(formulaStart, s[1]) >= 0 {
		return s[1:]
	}
	return s
}

// Rows returns the rows [Export] writes: one per category of s, in order.
func Rows(s *spec.Spec, est *estimate.Report) ([]Row, error) {
	if s == nil {
		return nil, fmt.Errorf("worksheet: no spec")
	}
	var results []estimate.CategoryResult
	if est != nil {
		if len(est.Policies) == 0 || est.Policies[0].Kind != estimate.KindSpec {
			return nil, fmt.Errorf("worksheet: the estimate has no %q policy first; pass the report estimate.Run returns for this spec", estimate.KindSpec)
		}
		results = est.Policies[0].Categories
		if len(results) != len(s.Categories) {
			return nil, fmt.Errorf("worksheet: the estimate has %d categories but spec %q has %d: pass the estimate of this spec", len(results), s.Name, len(s.Categories))
		}
		for i, c := range s.Categories {
			if results[i].Category != c.Name {
				return nil, fmt.Errorf("worksheet: the estimate's category %d is %q but the spec's is %q: pass the estimate of this spec", i+1, results[i].Category, c.Name)
			}
		}
	}
	rows := make([]Row, 0, len(s.Categories))
	shares := shareCells(s)
	for i, c := range s.Categories {
		if c.Route == nil {
			return nil, fmt.Errorf("worksheet: category %q has no route; export a spec that loaded without errors", c.Name)
		}
		r := categoryRow(s, c)
		r.TrafficShare = shares[i]
		if results != nil {
			res := results[i]
			r.EstimatedPassRate = strconv.FormatFloat(res.Quality, 'f', 4, 64)
			r.EstimatedLatency = formatLatencyPair(res.Latency.P50, res.Latency.P95)
			r.EstimatedCost = res.Cost.Decimal()
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// shareTolerance is how far from 1 the shares a worksheet writes may sum: half the spec
// loader's (and Import's) tolerance of 1e-6, so that a sheet of rounded shares imports.
const shareTolerance = 5e-7

// shareCells writes the categories' shares for the "traffic share" column. A spec's own
// shares are written as they are. With pipelines they are derived (each category's share of
// model calls), and carry floating-point noise (0.49999999999999994); they are written rounded
// for people, to six significant digits, or to as many more as keeps their sum within
// shareTolerance of 1.
func shareCells(s *spec.Spec) []string {
	out := make([]string, len(s.Categories))
	for digits := 6; ; digits++ {
		var sum float64
		for i, c := range s.Categories {
			x := float64(c.Share)
			if len(s.Pipelines) > 0 && digits < 17 {
				x, _ = strconv.ParseFloat(strconv.FormatFloat(x, 'g', digits, 64), 64)
			}
			out[i] = formatFloat(x)
			sum += x
		}
		if len(s.Pipelines) == 0 || digits >= 17 || math.Abs(sum-1) <= shareTolerance {
			return out
		}
	}
}

// categoryRow fills every column of c's row but the estimated ones.
func categoryRow(s *spec.Spec, c *spec.Category) Row {
	r := Row{
		Category:      c.Name,
		TrafficShare:  formatFloat(float64(c.Share)),
		TokensIn:      formatBand(c.Tokens.In),
		TokensOut:     formatBand(c.Tokens.Out),
		LatencyBudget: formatBudget(c.LatencyBudget),
		Why:           c.Why,
		FailureImpact: formatImpact(c.FailureImpact),
		Volume:        formatVolume(s),
	}
	if c.QualityBar != nil {
		r.QualityThreshold = formatFloat(float64(*c.QualityBar))
	}
	if b := c.Tokens.Reasoning; b.P50 > 0 || b.P95 > 0 {
		r.ReasoningTokens = formatBand(b)
	}
	if c.Tokens.CacheHit > 0 {
		r.CacheHit = formatFloat(float64(c.Tokens.CacheHit))
	}
	if attempts, backoff := s.RetryPolicy(c); attempts != spec.DefaultRetryAttempts || backoff != spec.DefaultRetryBackoff {
		r.ProviderRetries = formatRetry(attempts, backoff)
	}
	if last, _ := s.LastReview(c); !last.IsZero() {
		r.LastReview = last.Format(time.DateOnly)
	}
	if v := c.Assume.Validator; v != nil {
		r.ValidatorDetect = formatFloat(float64(v.Detect))
		r.ValidatorFalseAlarm = formatFloat(float64(v.FalseAlarm))
	}

	// The route the row shows: for a split, its first arm, as a row shows that route, its
	// route cell "split" followed by the arm's (see Gaps); the import reads it as the arm.
	split := c.Route.Kind() == "split"
	route := c.Route
	if split {
		route = &c.Route.Split[0].Route
	}
	kind := route.Kind()
	shown := route
	var steps []string
	if shown.Model != nil {
		steps = []string{shown.Model.Name}
	}
	for _, st := range shown.Cascade {
		steps = append(steps, st.Model.Name)
	}
	if sc := shown.Score; sc != nil {
		// A score route's row shows its models in order, like a cascade's steps; with
		// escalate, its cheapest model and the models failed answers escalate to.
		steps = refNames(sc.Models)
		if len(sc.Escalate) > 0 {
			steps = steps[:1]
			for _, m := range sc.Escalate {
				if m.Name != steps[0] {
					steps = append(steps, m.Name)
				}
			}
		}
	}
	var fallback, failover []string
	if kind == "cascade" || kind == "score" {
		fallback = steps[1:]
		failover = refNames(c.Fallback)
	} else {
		fallback = refNames(c.Fallback)
	}
	primary := ""
	if len(steps) > 0 {
		primary = steps[0]
	}
	r.PrimaryModel = modelCell(s, primary)
	cells := make([]string, len(fallback))
	for i, n := range fallback {
		cells[i] = modelCell(s, n)
	}
	if kind == "cascade" || kind == "score" {
		r.FallbackModel = strings.Join(cells, " → ")
	} else {
		r.FallbackModel = strings.Join(cells, ", ")
	}
	cells = make([]string, len(failover))
	for i, n := range failover {
		cells[i] = modelCell(s, n)
	}
	r.CascadeFailover = strings.Join(cells, ", ")

	validators, onFail := route.MainValidators()
	var rules []string
	for _, v := range validators {
		rules = append(rules, v.Summary())
	}
	r.ValidationRule = strings.Join(rules, "; ")
	r.Route = kind
	if len(validators) > 0 && onFail == spec.OnFailRetryOnce {
		r.Route += " " + routeRetryOnce
	}
	if route.FailsWhenExhausted() {
		r.Route += " " + routeFailExhausted
	}
	if sc := shown.Score; sc != nil {
		r.Route += " (" + scoreSettings(sc, c.Assume) + ")"
	}
	if split {
		r.Route = routeSplit + " " + r.Route
	}

	// Pass rates: the primary's, the first fallback's, then the rest.
	covered := map[string]bool{}
	passOf := func(name string) string {
		covered[name] = true
		if p, ok := c.Assume.PassRate[name]; ok {
			return formatFloat(float64(p))
		}
		return ""
	}
	if primary != "" {
		r.PrimaryPassRate = passOf(primary)
	}
	if len(fallback) > 0 {
		r.FallbackPassRate = passOf(fallback[0])
	}
	rowModels := dedup(append(append(append([]string{}, steps[:min(1, len(steps))]...), fallback...), failover...))
	var others []string
	described := slices.Clone(rowModels) // the models the latency, availability and provider cells describe
	addOther := func(name string) {
		if covered[name] {
			return
		}
		covered[name] = true
		if p, ok := c.Assume.PassRate[name]; ok {
			others = append(others, modelCell(s, name)+": "+formatFloat(float64(p)))
			if !slices.Contains(described, name) {
				described = append(described, name)
			}
		}
	}
	for _, n := range rowModels {
		addOther(n)
	}
	rest := make([]string, 0, len(c.Assume.PassRate))
	for n := range c.Assume.PassRate {
		rest = append(rest, n)
	}
	slices.Sort(rest)
	for _, n := range rest {
		addOther(n)
	}
	r.OtherPassRates = strings.Join(others, "; ")

	var lats, avails, providers, prices []string
	for _, n := range described {
		m := s.Model(n)
		if m == nil {
			continue
		}
		lat := "default"
		if l, ok := c.Assume.Latency[n]; ok && l != nil {
			lat = formatLatency(*l)
		} else if !m.Resolved.LatencyDefault {
			lat = formatLatency(m.Resolved.Latency)
		}
		lats = append(lats, n+": "+lat)
		avails = append(avails, n+": "+formatFloat(m.Resolved.Availability))
		if p := m.Resolved.Provider; p != nil {
			providers = append(providers, n+": "+p.Type)
		}
		if m.Price != nil {
			if p := formatPrice(*m.Price); p != "" {
				prices = append(prices, n+": "+p)
			}
		}
	}
	r.ModelLatency = strings.Join(lats, "; ")
	r.ModelAvailability = strings.Join(avails, "; ")
	r.ModelProvider = strings.Join(providers, "; ")
	r.ModelPrice = strings.Join(prices, "; ")
	return r
}

// Gaps lists what a worksheet of s cannot carry, one phrase per problem, in spec order. When
// it returns nothing, s is in the round-trip class of the package documentation: Export →
// Import → spec.Parse → estimate → Export gives back the same worksheet. A gap does not stop
// Export; the row then shows what it can (a split's first arm, the first validated step's
// validators).
func Gaps(s *spec.Spec) []string {
	var gaps []string
	for _, m := range s.Models {
		if m.Catalog != "" {
			gaps = append(gaps, fmt.Sprintf("model %s: catalog keys are not in a worksheet", m.Name))
		}
		if len(m.Fallback) > 0 {
			gaps = append(gaps, fmt.Sprintf("model %s: model fallbacks are not in a worksheet (category fallbacks are)", m.Name))
		}
		if m.Reasoning != nil && *m.Reasoning != m.Resolved.Catalog.SupportsReasoning {
			gaps = append(gaps, fmt.Sprintf("model %s: the reasoning override is not in a worksheet", m.Name))
		}
		if m.ContextWindow > 0 && m.ContextWindow != m.Resolved.Catalog.MaxInputTokens {
			// The estimate leaves requests longer than a model's context window out of its plans.
			gaps = append(gaps, fmt.Sprintf("model %s: the context window override is not in a worksheet", m.Name))
		}
	}
	for _, c := range s.Categories {
		r := c.Route
		if r == nil {
			continue
		}
		if r.Kind() == "split" {
			arm := r.Split[0]
			gaps = append(gaps, fmt.Sprintf("category %s: split routes do not fit a worksheet row: the row holds only the first arm (%s, weight %s of %d arms), and import reads it as the category's route, with a warning",
				c.Name, arm.Route.Kind(), formatFloat(float64(arm.Weight)), len(r.Split)))
			continue
		}
		if r.Kind() == "score" {
			if sc := r.Score; sc.Heuristic != nil && len(sc.Heuristic.Weights) > 0 {
				gaps = append(gaps, fmt.Sprintf("category %s: a score route's heuristic weights are not in a worksheet (its tiers are)", c.Name))
			}
		}
		if c.Shadow != nil {
			gaps = append(gaps, fmt.Sprintf("category %s: shadow traffic settings are not in a worksheet", c.Name))
		}
		if len(c.Assume.EscalatedPassRate) > 0 {
			gaps = append(gaps, fmt.Sprintf("category %s: escalated pass rates (assume.escalated_pass_rate) are not in a worksheet: a spec imported from it answers escalated requests at the models' pass rates", c.Name))
		}
		for _, st := range r.Cascade {
			if len(st.Validate) > 0 || st.OnFail != "" {
				gaps = append(gaps, fmt.Sprintf("category %s: validators and on_fail of single cascade steps are not in a worksheet (the route's are)", c.Name))
				break
			}
		}
		vs, _ := r.MainValidators()
		var rules []string
		for _, v := range vs {
			rules = append(rules, v.Summary())
		}
		if rb := rebuildValidators(strings.Join(rules, "; "), nil); len(rb.unknown) > 0 || len(rb.loose) > 0 {
			gaps = append(gaps, fmt.Sprintf("category %s: the validation rule cannot be read back into validators: %s", c.Name, strings.Join(append(rb.unknown, rb.loose...), "; ")))
		}
		for _, v := range vs {
			if cv, ok := v.Config.(*spec.Citations); ok && cv.Pattern != "" {
				gaps = append(gaps, fmt.Sprintf("category %s: the citations pattern is not in a worksheet (the default comes back)", c.Name))
			}
		}
	}
	return gaps
}

// Omitted lists the sections of s that no worksheet holds, one phrase per section, for a
// reader of the worksheet or of the spec imported from it. Unlike [Gaps], they leave the
// estimate of the spec's own routes unchanged; named policies are the only ones that change
// the estimate at all: an imported spec's estimate has no rows for them.
func Omitted(s *spec.Spec) []string {
	var out []string
	if len(s.Policies) > 0 {
		names := make([]string, len(s.Policies))
		for i, p := range s.Policies {
			names[i] = p.Name
		}
		out = append(out, fmt.Sprintf("named policies (policies: %s) are not in a worksheet: the estimate of a spec imported from it has no rows for them", strings.Join(names, ", ")))
	}
	if len(s.Pipelines) > 0 {
		names := make([]string, len(s.Pipelines))
		for i, p := range s.Pipelines {
			names[i] = p.Name
		}
		out = append(out, fmt.Sprintf("pipelines (%s) are not in a worksheet: its shares and volume count model calls (shares rounded to six significant digits, or more where their sum needs them), so its estimate has the same figures per call, to that rounding, but no section per user request", strings.Join(names, ", ")))
	}
	var matched []string
	described := s.Description != ""
	// A spec without a cadence is reviewed monthly, as is a spec imported from a worksheet.
	monthly, _ := spec.ParseCadence("monthly")
	reviewed := s.Review.Owner != "" || s.Review.Cadence.Days != monthly.Days || s.Review.Cadence.Months != monthly.Months
	for _, c := range s.Categories {
		if c.Match != nil {
			matched = append(matched, c.Name)
		}
		if c.Description != "" || c.Success != "" {
			described = true
		}
		if r := c.Review; r != nil && (!r.Cadence.IsZero() || r.Owner != "") {
			reviewed = true
		}
	}
	if len(matched) > 0 {
		out = append(out, fmt.Sprintf("match rules (match: in %s) are not in a worksheet: without them a request reaches a category other than the default only by naming it", strings.Join(matched, ", ")))
	}
	if d := s.DefaultCategory(); d != nil && d != s.Categories[0] {
		out = append(out, fmt.Sprintf("the default category (%s) is not in a worksheet: the first category becomes the default", d.Name))
	}
	if len(s.Tests) > 0 {
		out = append(out, fmt.Sprintf("golden tests (tests:, %d of them) are not in a worksheet", len(s.Tests)))
	}
	if described {
		out = append(out, "descriptions and success criteria are not in a worksheet")
	}
	if reviewed {
		out = append(out, "review cadences and owners are not in a worksheet (last review dates are)")
	}
	var providers []string
	for _, p := range s.Providers {
		if p.APIKey.Line > 0 || len(p.APIKeys) > 0 || p.BaseURL.Raw != "" || p.APIVersion != "" || p.Outcomes != "" || p.Timeout > 0 || p.Simulate != nil {
			providers = append(providers, p.Name)
		}
	}
	if len(providers) > 0 {
		out = append(out, fmt.Sprintf("the settings of providers %s (API keys, base URLs, timeouts) are not in a worksheet: a spec imported from it has one provider per type, without settings", strings.Join(providers, ", ")))
	}
	if s.Keys != nil {
		out = append(out, "gateway keys (keys:) are not in a worksheet")
	}
	return out
}

// Route cell modifiers.
const (
	routeRetryOnce     = "retry_once"
	routeFailExhausted = "fail_when_exhausted"
	// routeSplit opens the route cell of a split route's row, which holds its first arm only:
	// "split static", "split cascade retry_once".
	routeSplit = "split"
)

// modelCell writes a model as "name", or "name=model-id" when the two differ.
func modelCell(s *spec.Spec, name string) string {
	if m := s.Model(name); m != nil && m.Model != "" && m.Model != name {
		return name + "=" + m.Model
	}
	return name
}

func refNames(refs []spec.Ref) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.Name
	}
	return out
}

func dedup(names []string) []string {
	var out []string
	for _, n := range names {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// formatFloat writes the shortest decimal that reads back as the same float64.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// scoreSettings writes a score route's settings for its row's route cell, after "score":
// "tiers 0.3; shares nano 0.65, sonnet 0.35", or "router routers/q.json; willingness to pay
// 0.5; mix 0.08 for 0.2; …", with "models a, b" when failed answers escalate to models the
// route does not start on, and the measured pass rates of each start. The import reads it
// back (parseScoreSettings).
func scoreSettings(sc *spec.ScoreRoute, a spec.Assumptions) string {
	var parts []string
	switch {
	case sc.Router != "":
		parts = append(parts, "router "+sc.Router)
		switch {
		case sc.Threshold != nil:
			parts = append(parts, "threshold "+formatFloat(float64(*sc.Threshold)))
		case sc.WillingnessToPay != nil:
			parts = append(parts, "willingness to pay "+formatFloat(clearbar.Money(*sc.WillingnessToPay).USD()))
			if mx := sc.Mix; mx != nil && mx.WillingnessToPay != nil && mx.Share != nil {
				parts = append(parts, fmt.Sprintf("mix %s for %s", formatFloat(clearbar.Money(*mx.WillingnessToPay).USD()), formatFloat(float64(*mx.Share))))
			}
		}
	case sc.Heuristic != nil:
		var tiers []string
		for _, t := range sc.Heuristic.Tiers {
			tiers = append(tiers, formatFloat(t))
		}
		if len(tiers) > 0 {
			parts = append(parts, "tiers "+strings.Join(tiers, ", "))
		}
	}
	if len(sc.Escalate) > 0 {
		parts = append(parts, "models "+strings.Join(refNames(sc.Models), ", "))
	}
	named := func(m map[string]spec.Prob) string {
		var kv []string
		for _, ref := range sc.Models {
			if v, ok := m[ref.Name]; ok {
				kv = append(kv, ref.Name+" "+formatFloat(float64(v)))
			}
		}
		return strings.Join(kv, ", ")
	}
	if len(a.ScoreShare) > 0 {
		parts = append(parts, "shares "+named(a.ScoreShare))
	}
	if len(a.ScorePassRate) > 0 {
		parts = append(parts, "start pass rates "+named(a.ScorePassRate))
	}
	return strings.Join(parts, "; ")
}

func formatBand(b spec.Band) string {
	if b.Dist {
		return formatFloat(b.P50) + "/" + formatFloat(b.P95)
	}
	return formatFloat(b.P50)
}

// formatImpact writes a failure impact for the "failure impact" column; "" for none.
func formatImpact(i spec.Impact) string {
	if i.BadAnswer == 0 && i.FailedRequest == nil {
		return ""
	}
	s := impactBadAnswer + " " + clearbar.Money(i.BadAnswer).Decimal()
	if i.FailedRequest != nil {
		s += ", " + impactFailedRequest + " " + clearbar.Money(*i.FailedRequest).Decimal()
	}
	return s
}

// Failure impact cell keywords.
const (
	impactBadAnswer     = "bad answer"
	impactFailedRequest = "failed request"
)

// formatVolume writes the spec's volume for the "volume" column; "" when it states none. With
// pipelines it is the calls a month the user requests make (spec.Spec.Volume), as the shares
// are of calls; "" when the spec states no volume, though the loader sets the calls the
// default volume makes: the volume stays assumed.
func formatVolume(s *spec.Spec) string {
	if len(s.Pipelines) > 0 && s.UserVolume.PerMonth == 0 && s.UserVolume.PerDay == 0 {
		return ""
	}
	v := s.Volume
	switch {
	case v.PerMonth > 0:
		return strconv.FormatInt(v.PerMonth, 10) + " " + volumePerMonth
	case v.PerDay > 0:
		return strconv.FormatInt(v.PerDay, 10) + " " + volumePerDay
	}
	return ""
}

// Volume cell units.
const (
	volumePerMonth = "per month"
	volumePerDay   = "per day"
)

func formatRetry(attempts int, backoff time.Duration) string {
	return fmt.Sprintf("attempts %d, backoff %s", attempts, spec.FormatDuration(backoff))
}

func formatBudget(d spec.Duration) string {
	if d <= 0 {
		return ""
	}
	return spec.FormatDuration(d.D())
}

// formatLatencyPair writes an estimated p50 and p95 (in seconds) as "820ms / 2.4s".
func formatLatencyPair(p50, p95 float64) string {
	return spec.FormatDuration(roundSignificant(p50, 2)) + " / " + spec.FormatDuration(roundSignificant(p95, 2))
}

// roundSignificant converts seconds to a duration rounded to n significant digits.
func roundSignificant(secs float64, n int) time.Duration {
	d := math.Round(secs * float64(time.Second))
	if d <= 0 || math.IsNaN(d) || math.IsInf(d, 0) {
		return 0
	}
	unit := math.Pow(10, math.Floor(math.Log10(d))-float64(n-1))
	if unit < 1 {
		unit = 1
	}
	return time.Duration(math.Round(d/unit) * unit)
}

// formatLatency writes a latency assumption in the form the "model latency" column uses.
func formatLatency(l spec.Latency) string {
	var s string
	switch {
	case len(l.Samples) > 0:
		parts := make([]string, len(l.Samples))
		for i, d := range l.Samples {
			parts[i] = spec.FormatDuration(d.D())
		}
		s = "samples " + strings.Join(parts, " ")
	case l.TTFT != nil:
		s = fmt.Sprintf("ttft %s/%s + %s tok/s", spec.FormatDuration(l.TTFT.P50.D()), spec.FormatDuration(l.TTFT.P95.D()), formatFloat(l.TokensPerSecond))
	default:
		s = spec.FormatDuration(l.P50.D()) + "/" + spec.FormatDuration(l.P95.D())
	}
	if l.FailAfter > 0 {
		s += " fail after " + spec.FormatDuration(l.FailAfter.D())
	}
	return s
}

// Keys of the "model price" column, in the order Export writes them; each is followed by a
// price in dollars per million tokens, but priceAbove by a token count, and priceNone stands
// alone.
const (
	priceInput         = "input"
	priceOutput        = "output"
	priceCachedInput   = "cached input"
	priceCacheWrite    = "cache write"
	priceCacheWrite1h  = "cache write 1h"
	priceReasoning     = "reasoning"
	priceAbove         = "long context above"
	priceLongInput     = "long context input"
	priceLongOutput    = "long context output"
	priceLongCached    = "long context cached input"
	priceLongContextNo = "long context none"
)

// basePrices is the number of priceFields that are not the long-context tier's.
const basePrices = 6

// priceFields pairs each price key with its field of a price override, in column order: the
// basePrices base prices, then the long-context tier's.
func priceFields(p *spec.PriceOverride, lc *spec.LongContextPrice) []struct {
	key string
	v   **spec.PerMillion
} {
	return []struct {
		key string
		v   **spec.PerMillion
	}{
		{priceInput, &p.Input}, {priceOutput, &p.Output}, {priceCachedInput, &p.CachedInput},
		{priceCacheWrite, &p.CacheWrite}, {priceCacheWrite1h, &p.CacheWrite1h}, {priceReasoning, &p.Reasoning},
		{priceLongInput, &lc.Input}, {priceLongOutput, &lc.Output}, {priceLongCached, &lc.CachedInput},
	}
}

// formatPrice writes a model's price overrides for the "model price" column, like "input
// 0.05, output 0.2"; "" when they set none.
func formatPrice(p spec.PriceOverride) string {
	var lc spec.LongContextPrice
	if p.LongContext != nil {
		lc = *p.LongContext
	}
	var parts []string
	for i, f := range priceFields(&p, &lc) {
		if f.key == priceLongInput && p.LongContext != nil {
			if lc.None {
				parts = append(parts, priceLongContextNo)
			} else {
				parts = append(parts, priceAbove+" "+strconv.Itoa(int(lc.Above)))
			}
		}
		if *f.v != nil && (i < basePrices || !lc.None) {
			parts = append(parts, f.key+" "+priceDecimal(clearbar.Price(**f.v)))
		}
	}
	return strings.Join(parts, ", ")
}

// priceDecimal writes a price in dollars per million tokens exactly, like 0.05 or 2.5.
func priceDecimal(p clearbar.Price) string {
	const perDollar = 1_000_000 // a Price per dollar per million tokens
	s := strconv.FormatInt(int64(p)/perDollar, 10)
	if frac := int64(p) % perDollar; frac != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%06d", frac), "0")
	}
	return s
}
