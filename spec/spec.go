// Package spec loads, checks and describes Clearbar routing specs.
//
// A routing spec is one YAML file that is both the documentation and the configuration of a
// routing policy: for every task category it says how much traffic it carries, what quality
// and latency it needs, how its requests are routed and validated, what is assumed about each
// candidate model, why it is routed that way and when it was last reviewed.
//
// Loading happens in four steps, in the manner of Prometheus' config package: defaults, a
// strict decode (unknown keys are errors, with the line and the closest known key), validation
// of each section with errors that name file:line and what to change, and resolution of models
// against the price catalogue. [Load] returns every problem it finds, not only the first.
package spec

import (
	"math"
	"os"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/catalog"
)

// Version is the only spec format version this package reads.
const Version = 1

// Spec is a loaded routing spec. After [Load] or [Parse] returns without error, every reference
// in it resolves, and the Resolved fields of models and categories are filled in. A Spec is
// not modified by the packages that read it and is safe for concurrent reads.
type Spec struct {
	Version     int    `yaml:"version"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Review      Review `yaml:"review"`
	// Volume is the traffic the monthly projections use: model calls, the requests the gateway
	// sees. With pipelines, the spec's volume: counts user requests, which UserVolume keeps,
	// and the loader sets Volume to the calls they make (see [Pipeline]).
	Volume Volume `yaml:"volume"`
	// UserVolume is the spec's volume: as written, in user requests. Without pipelines it
	// equals Volume.
	UserVolume Volume `yaml:"-"`
	// Retry is the default provider-failure retry policy for every category.
	Retry     Retry     `yaml:"retry"`
	Providers Providers `yaml:"providers"`
	Models    Models    `yaml:"models"`
	// Categories partition the traffic; their shares sum to 1 (with Pipelines, with theirs).
	Categories []*Category `yaml:"categories"`
	// Pipelines, when given, say which categories the application calls, in order, for one
	// user request (a query rewrite, then the answer). See [Pipeline].
	Pipelines []*Pipeline `yaml:"pipelines"`
	// Policies are named alternatives to the routes written in the categories, for comparison.
	Policies Policies `yaml:"policies"`
	// Keys are the client and admin API keys the gateway accepts; without any, it is open.
	Keys *Keys `yaml:"keys"`
	// Server holds the gateway's settings.
	Server Server `yaml:"server"`
	// Tests are golden requests with the category and route they must get; clearbar spec
	// test runs them through the decision layer.
	Tests []*Test `yaml:"tests"`
	// Drift configures the gateway's live drift detectors.
	Drift Drift `yaml:"drift"`

	// File is the path the spec was loaded from ("" for specs parsed from memory).
	File string `yaml:"-"`
	// Warnings are problems that do not stop the spec from being used, with their lines.
	Warnings []*Error `yaml:"-"`
	// Catalog is the price catalogue models were resolved against.
	Catalog *catalog.Catalog `yaml:"-"`

	pos   Pos
	index *index
	// callsPerRequest is the number of model calls one user request makes on average, set
	// when pipelines load without errors (see CallsPerRequest).
	callsPerRequest float64
}

// Review says when the routing policy was last reviewed and how often it should be.
type Review struct {
	Last    Date    `yaml:"last"`
	Cadence Cadence `yaml:"cadence"`
	Owner   string  `yaml:"owner"`

	pos Pos
}

// Volume is the traffic a spec's monthly projections are made for. At most one of the fields is
// set; when neither is, [DefaultMonthlyVolume] is used and a warning says so. A spec's volume:
// counts user requests; without pipelines each is one model call. With pipelines, a user
// request makes [Spec.CallsPerRequest] calls on average: Spec.UserVolume is the volume as
// written, and Spec.Volume the calls a month they make, per_month: [Spec.CallsPerMonth] of
// UserVolume's monthly figure (the default's when the spec writes none).
type Volume struct {
	PerMonth int64 `yaml:"per_month"`
	PerDay   int64 `yaml:"per_day"`

	pos Pos
}

// DefaultMonthlyVolume is the request volume assumed when a spec states none.
const DefaultMonthlyVolume = 1_000_000

// MaxPerDay is the largest volume.per_day a spec may write: its monthly figure, 30 times it,
// is then still an int64.
const MaxPerDay = math.MaxInt64 / 30

// Monthly returns requests per month (a day-based volume times 30).
func (v Volume) Monthly() int64 {
	switch {
	case v.PerMonth > 0:
		return v.PerMonth
	case v.PerDay > 0:
		return min(v.PerDay, MaxPerDay) * 30 // a loaded spec's per_day is at most MaxPerDay
	}
	return DefaultMonthlyVolume
}

// Retry is what happens when a provider call fails with a retryable error (rate limit,
// overload, connection error): the same model is tried again up to Attempts times, waiting
// Backoff, then twice that, with full jitter, before fallbacks are tried. A timeout is not
// retried: the call fails over to the next model at once, in the gateway and the estimate
// alike (as a bad response or a cut stream does).
type Retry struct {
	// Attempts is the number of retries after the first call; 0 disables retries.
	// Nil means "inherit" (category from spec, spec from the default of 1).
	Attempts *int `yaml:"attempts"`
	// Backoff is the base wait before the first retry. Zero means the default, 250ms.
	Backoff Duration `yaml:"backoff"`

	pos Pos
}

// Default retry settings.
const (
	DefaultRetryAttempts = 1
	DefaultRetryBackoff  = 250 * time.Millisecond
)

// Provider is an upstream API that serves models.
type Provider struct {
	Name string `yaml:"-"`
	// Type selects the adapter: see [ProviderTypes].
	Type    string    `yaml:"type"`
	BaseURL EnvString `yaml:"base_url"`
	APIKey  SecretRef `yaml:"api_key"`
	// APIKeys are further keys: the gateway rotates to the next key when one is rejected.
	APIKeys []SecretRef `yaml:"api_keys"`
	// APIVersion is the API version some vendors require (azure-openai).
	APIVersion string `yaml:"api_version"`
	// Outcomes is the outcomes file a replay provider serves answers from, relative to the spec.
	Outcomes string `yaml:"outcomes"`
	// Availability is the probability that a call to any of this provider's models succeeds
	// without a provider error; models may override it. Nil means the default, 0.999.
	Availability *Prob `yaml:"availability"`
	// Timeout bounds one call to this provider in the gateway; zero means no bound of its own,
	// only the request's (Server.RequestTimeout). Models may set their own.
	Timeout Duration `yaml:"timeout"`
	// Simulate configures a simulated provider's behaviour.
	Simulate *Simulate `yaml:"simulate"`
	// SimulatedType is set, outside the spec file, on a provider turned into the simulator to
	// try the spec without keys (serve --simulate): the type the spec gave it, while Type is
	// then "simulated". It says what the provider stands for, such as whether the spec's
	// provider serves embeddings, which the simulator does not.
	SimulatedType string `yaml:"-" json:"-"`

	pos Pos
}

// Keys returns the provider's keys in rotation order: api_key, then api_keys. Unset keys are
// left out. A provider that sets neither uses its type's conventional environment variable
// (OPENAI_API_KEY, ANTHROPIC_API_KEY, …) when that is set, as the vendors' SDKs do.
func (p *Provider) Keys() []SecretRef {
	var out []SecretRef
	if p.APIKey.IsSet() {
		out = append(out, p.APIKey)
	}
	for _, k := range p.APIKeys {
		if k.IsSet() {
			out = append(out, k)
		}
	}
	if len(out) == 0 && !p.pos.Has("api_key") && len(p.APIKeys) == 0 {
		if t, ok := providerType(p.Type); ok && t.KeyEnv != "" {
			if v := os.Getenv(t.KeyEnv); v != "" {
				out = append(out, SecretRef{Secret: clearbar.SecretFromEnv(t.KeyEnv, v)})
			}
		}
	}
	return out
}

// MissingKeys names the environment variables the provider's keys come from that are not
// set: those api_key and api_keys reference, or, when it writes neither, its type's
// conventional variable (OPENAI_API_KEY, …) when that type takes a key. A provider with
// missing keys sends requests with the keys it has, or none.
func (p *Provider) MissingKeys() []string {
	var out []string
	for _, k := range append([]SecretRef{p.APIKey}, p.APIKeys...) {
		out = append(out, k.Unset...)
	}
	if !p.pos.Has("api_key") && len(p.APIKeys) == 0 {
		if t, ok := providerType(p.Type); ok && t.KeyEnv != "" && os.Getenv(t.KeyEnv) == "" {
			out = append(out, t.KeyEnv)
		}
	}
	return out
}

// Simulate is how a simulated provider behaves. By default it follows the spec's assumptions:
// each model answers with its latency distribution and fails at the rate its availability
// implies. The rates here add specific failures on top, for fault-injection tests and demos.
type Simulate struct {
	// TimeScale multiplies every simulated duration (0.01 makes a 2s answer take 20ms); zero
	// means 1.
	TimeScale float64 `yaml:"time_scale"`
	// ErrorRate replaces the models' availability: the fraction of calls that fail with a 503.
	ErrorRate *Prob `yaml:"error_rate"`
	// RateLimitRate is the fraction of calls answered 429 with Retry-After: RetryAfter.
	RateLimitRate Prob     `yaml:"rate_limit_rate"`
	RetryAfter    Duration `yaml:"retry_after"`
	// CutRate is the fraction of streams cut off mid-way.
	CutRate Prob `yaml:"cut_rate"`
	// InvalidJSONRate is the fraction of JSON answers (response_format json_object or
	// json_schema) that are not valid JSON.
	InvalidJSONRate Prob `yaml:"invalid_json_rate"`
	// Output is the text of plain answers; empty means a short generated reply.
	Output string `yaml:"output"`
	// Seed makes the simulation reproducible; zero seeds from the clock.
	Seed uint64 `yaml:"seed"`

	pos Pos
}

// DefaultAvailability is assumed for a model whose availability no one states.
const DefaultAvailability = 0.999

// Model is a candidate model: a provider's model id plus what is assumed about it.
type Model struct {
	Name     string `yaml:"-"`
	Provider Ref    `yaml:"provider"`
	// Model is the provider's model id; it is also the catalogue key unless Catalog is set.
	Model   string `yaml:"model"`
	Catalog string `yaml:"catalog"`
	// Price overrides catalogue prices field by field.
	Price *PriceOverride `yaml:"price"`
	// ContextWindow and MaxOutput override the catalogue's token limits: the most input tokens
	// the model takes and the most output tokens it writes. They are written as token counts,
	// like 128000 or 128k (see TokenCount).
	ContextWindow int `yaml:"context_window"`
	MaxOutput     int `yaml:"max_output"`
	// Reasoning says whether the model bills reasoning tokens (a category's tokens.reasoning).
	// Nil means what the catalogue says.
	Reasoning    *bool    `yaml:"reasoning"`
	Latency      *Latency `yaml:"latency"`
	Availability *Prob    `yaml:"availability"`
	// Timeout bounds one call to this model in the gateway, TTFTTimeout the wait for a
	// stream's first chunk; zero means the provider's setting.
	Timeout     Duration `yaml:"timeout"`
	TTFTTimeout Duration `yaml:"ttft_timeout"`
	// Fallback lists models to fail over to when this model's provider fails, before the
	// category's own fallbacks: typically the same model on another provider.
	Fallback []Ref `yaml:"fallback"`

	// Resolved holds the effective prices, limits and assumptions after loading.
	Resolved ResolvedModel `yaml:"-"`

	pos Pos
}

// PriceOverride sets prices in dollars per million tokens. A nil field keeps the catalogue's,
// except two priced against the catalogue's base prices. The long-context tier: a spec that
// sets input or output drops it, unless LongContext gives one of its own. The cached-input
// price: a spec that sets input but not CachedInput scales the catalogue's cached-input price
// by the ratio of its input price to the catalogue's, keeping the provider's discount on
// cached tokens.
type PriceOverride struct {
	Input       *PerMillion `yaml:"input"`
	Output      *PerMillion `yaml:"output"`
	CachedInput *PerMillion `yaml:"cached_input"`
	CacheWrite  *PerMillion `yaml:"cache_write"`
	// CacheWrite1h is the price of a cache write kept for an hour (Anthropic's 1-hour cache),
	// where it is not the catalogue's (or, without one, twice the input price).
	CacheWrite1h *PerMillion `yaml:"cache_write_1h"`
	Reasoning    *PerMillion `yaml:"reasoning"`
	// LongContext is the prices of requests whose input is above a number of tokens, like
	// {above: 200k, input: 2.5, output: 15}; "none" says the model has no such tier.
	LongContext *LongContextPrice `yaml:"long_context"`

	pos Pos
	// written keeps each price as written, by key: one below a spec's precision decodes as 0,
	// which the unit check must not take for a free model.
	written map[string]string
}

// LongContextPrice is a long-context price tier: above Above input tokens, the whole request
// is billed at these prices (a nil price keeps the base one). None is the spec's "none".
type LongContextPrice struct {
	None        bool        `yaml:"-"`
	Above       TokenCount  `yaml:"above"`
	Input       *PerMillion `yaml:"input"`
	Output      *PerMillion `yaml:"output"`
	CachedInput *PerMillion `yaml:"cached_input"`

	pos     Pos
	written map[string]string // as PriceOverride's
}

// TokenCount is a whole number of tokens, written like 200000, 200_000 or 200k.
type TokenCount int

// Latency is an assumption about how long a model takes to answer. Exactly one form is used:
//
//   - p50 and p95 of the whole response time;
//   - ttft (time to first token, p50 and p95) plus tokens_per_second, so that the response time
//     grows with the category's output tokens;
//   - samples: measured response times.
//
// From the two quantiles a lognormal distribution is fitted. FailAfter is how long a failed
// call takes before the error is known; zero means the p50 response time.
type Latency struct {
	P50             Duration   `yaml:"p50"`
	P95             Duration   `yaml:"p95"`
	TTFT            *Quantiles `yaml:"ttft"`
	TokensPerSecond float64    `yaml:"tokens_per_second"`
	Samples         []Duration `yaml:"samples"`
	FailAfter       Duration   `yaml:"fail_after"`

	pos Pos
}

// Quantiles is a p50/p95 pair.
type Quantiles struct {
	P50 Duration `yaml:"p50"`
	P95 Duration `yaml:"p95"`

	pos Pos
}

// DefaultLatency is assumed for a model without a latency assumption: a 600ms median time to
// first token (1.8s p95) and 60 output tokens per second. The loader warns when it is used.
var DefaultLatency = Latency{
	TTFT:            &Quantiles{P50: Duration(600 * time.Millisecond), P95: Duration(1800 * time.Millisecond)},
	TokensPerSecond: 60,
}

// Category is a family of requests with the same requirements.
type Category struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Share is the fraction of all model calls (the requests the gateway sees) in this
	// category. Without pipelines it is the spec's share:, and the shares sum to 1. With
	// pipelines, the spec's share: is DirectShare, and the loader sets Share from the
	// pipelines (see [Pipeline]).
	Share Prob `yaml:"share"`
	// DirectShare is the fraction of user requests that call this category alone, outside any
	// pipeline: the spec's share:, 0 when a pipeline step leaves it out. Without pipelines it
	// equals Share.
	DirectShare Prob   `yaml:"-"`
	Tokens      Tokens `yaml:"tokens"`
	// QualityBar is the minimum acceptable pass rate of delivered answers.
	QualityBar *Prob `yaml:"quality_bar"`
	// LatencyBudget is the p95 response time the category must meet; zero means no budget.
	LatencyBudget Duration `yaml:"latency_budget"`
	FailureImpact Impact   `yaml:"failure_impact"`
	Route         *Route   `yaml:"route"`
	// Fallback lists the models tried, in order, when a route step's model fails with a
	// provider error (after retries and the model's own fallbacks).
	Fallback []Ref       `yaml:"fallback"`
	Retry    *Retry      `yaml:"retry"`
	Assume   Assumptions `yaml:"assume"`
	// Why explains the routing choice to a reader; Success says what a good answer is.
	Why     string  `yaml:"why"`
	Success string  `yaml:"success"`
	Review  *Review `yaml:"review"`
	// Match says how live traffic lands in this category.
	Match *Match `yaml:"match"`
	// Default makes this the category of requests nothing else matches. At most one category
	// is the default; without one, the first category is.
	Default bool `yaml:"default"`
	// RecordText stores prompt and answer text in decision records; otherwise only a hash and
	// the lengths are kept.
	RecordText bool `yaml:"record_text"`
	// Shadow sends a sample of the category's requests, after the client has its answer, to
	// candidate models whose answers are validated and recorded, never returned.
	Shadow *Shadow `yaml:"shadow"`

	pos Pos
}

// Pipeline is a sequence of categories the application calls, in order, for one user request:
// a query rewrite, then the answer; a moderation check, then the answer. The gateway still
// routes each call by its category; pipelines tell the estimate how calls add up to what a
// user waits for and what a user request costs.
//
// With pipelines, volume counts user requests, and every user request is served either by one
// pipeline or by one call of a category alone: the pipelines' shares plus the categories'
// shares (their direct shares, 0 for a category used only in pipelines, which may leave share
// out) sum to 1. A user request makes CallsPerRequest = Σ pipeline share × its number of steps
// + Σ category direct share calls on average, and a category's share of model calls is (Σ
// pipeline share × the times the pipeline calls it + its direct share) / CallsPerRequest,
// which the loader writes into Category.Share.
type Pipeline struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Share is the fraction of user requests this pipeline serves.
	Share Prob `yaml:"share"`
	// Steps are the categories called, in order, once each per user request (a category may
	// appear more than once).
	Steps []Ref `yaml:"steps"`
	// LatencyBudget is the p95 the end-to-end time must meet: the steps' times added up. Zero
	// means no budget.
	LatencyBudget Duration `yaml:"latency_budget"`

	pos Pos
}

// Line returns the line the pipeline is declared on.
func (p *Pipeline) Line() int { return p.pos.Line }

// Shadow is shadow traffic for a category: a sampled fraction of requests is sent again, after
// the client has its answer, to candidate models. Their answers are validated with the
// category's validators and recorded as outcomes, so a candidate's pass rate on real traffic
// is known before anyone routes to it.
type Shadow struct {
	// Models are the candidates that get shadow requests.
	Models []Ref `yaml:"models"`
	// Sample is the fraction of the category's requests shadowed, in (0, 1].
	Sample Prob `yaml:"sample"`
	// DailyBudget caps what shadow calls may cost per UTC day, in dollars; when spent,
	// shadowing stops until the next day.
	DailyBudget USD `yaml:"daily_budget"`
	// Concurrency caps shadow calls in flight; default 4.
	Concurrency int `yaml:"concurrency"`

	pos Pos
}

// Match says which requests belong to a category. A request is assigned, in this order, by
// the X-Clearbar-Category header or "clearbar_category" metadata naming the category, by its
// model name (clearbar/NAME, or one of Models), by a header or metadata value listed here, and
// finally by the first rule that fires, highest priority first (equal priorities: file order).
type Match struct {
	// Models are model names clients may send to mean this category, besides clearbar/NAME.
	Models []string `yaml:"models"`
	// Header maps a header name to the value that selects this category. Any one listed
	// header or metadata value selects it; categories are tried in file order, and within
	// one, headers before metadata, each in name order (which the decision records).
	Header map[string]string `yaml:"header"`
	// Metadata maps a metadata key to the value that selects this category.
	Metadata map[string]string `yaml:"metadata"`
	// When is a rule: an expression over request features (see the route package), such as
	// tokens_in > 8000 || last_user matches "(?i)refund".
	When string `yaml:"when"`
	// Priority orders rules: higher first. Rules with equal priority are tried in file order.
	Priority int `yaml:"priority"`

	pos Pos
}

// WhenLine returns the line of the rule expression.
func (m *Match) WhenLine() int { return m.pos.Of("when") }

// Tokens describes a category's token bands per request.
type Tokens struct {
	In  Band `yaml:"in"`
	Out Band `yaml:"out"`
	// Reasoning tokens are billed only by models that bill reasoning (see Model.Reasoning).
	Reasoning Band `yaml:"reasoning"`
	// CacheHit is the fraction of input tokens served from the provider's prompt cache.
	CacheHit Prob `yaml:"cache_hit"`

	pos Pos
}

// Band is a token count: a plain number is an average; {p50, p95} is a distribution (a fitted
// lognormal) whose mean is used for cost and whose samples are used for latency.
type Band struct {
	P50, P95 float64
	Dist     bool
	Line     int
}

// Impact is what failures cost the business, in dollars per occurrence.
type Impact struct {
	// BadAnswer is the cost of a wrong answer reaching the user (rework, churn, review).
	BadAnswer USD `yaml:"bad_answer"`
	// FailedRequest is the cost of a request that fails outright. Nil means the same as BadAnswer.
	FailedRequest *USD `yaml:"failed_request"`

	pos Pos
}

// Failed returns the impact of a failed request.
func (i Impact) Failed() clearbar.Money {
	if i.FailedRequest != nil {
		return clearbar.Money(*i.FailedRequest)
	}
	return clearbar.Money(i.BadAnswer)
}

// Route says which model or models answer a category's requests. Exactly one of Model,
// Cascade and Split is set.
type Route struct {
	// Model routes every request to one model (static routing).
	Model *Ref `yaml:"model"`
	// Cascade tries steps in order, moving on when a step's answer fails validation.
	Cascade []*Step `yaml:"cascade"`
	// Split sends weighted shares of the traffic to different routes (for A/B tests).
	Split []*Arm `yaml:"split"`
	// Score picks where to start among models ordered from cheapest to strongest, by a
	// learned router's P(pass) or the built-in difficulty score.
	Score *ScoreRoute `yaml:"score"`
	// Validate checks every step's answer, unless a step sets its own validators.
	Validate []*Validator `yaml:"validate"`
	// OnFail is what a failed validation does: "escalate" to the next step (the default) or
	// "retry_once" with the same model and then escalate.
	OnFail string `yaml:"on_fail"`
	// OnExhausted is what happens when the last step's answer fails validation too: "deliver"
	// it flagged for review (the default) or "fail" the request.
	OnExhausted string `yaml:"on_exhausted"`
	// MaxSteps caps how many cascade steps one request may take; zero means every step.
	MaxSteps int `yaml:"max_steps"`

	pos Pos
}

// ScoreRoute routes by a score of the request. Models are ordered from the cheapest to the
// strongest; the score picks the first model to try, and, when the route validates, a failed
// answer escalates to the next stronger model, or, with Escalate, to those models in order.
type ScoreRoute struct {
	// Router is a learned router file (clearbar learn train), relative to the spec.
	Router string `yaml:"router"`
	// Heuristic is the built-in difficulty score, used when there is no learned router.
	Heuristic *Heuristic `yaml:"heuristic"`
	Models    []Ref      `yaml:"models"`
	// Threshold (two models, learned router): the cheaper model answers when its P(pass) is at
	// least Threshold.
	Threshold *Prob `yaml:"threshold"`
	// WillingnessToPay (learned router): the model with the highest P(pass) − cost/WTP wins,
	// where WTP is what a unit (1.0) of P(pass) is worth, in dollars (the whole step from
	// certain failure to certain success; a percentage point is worth a hundredth of it).
	WillingnessToPay *USD `yaml:"willingness_to_pay"`
	// Mix (learned router, with WillingnessToPay) decides a share of requests with a second
	// willingness to pay. Which requests is a hash of the request's text (learn.RequestShare:
	// of a long text, its start, its end and its length), so a request is decided the same way
	// every time. Mixing two values reaches the cost and quality between theirs, which one
	// value can miss; learn evaluate calibrates such mixes (replay --calibrate writes one
	// value).
	Mix *ScoreMix `yaml:"mix"`
	// Escalate, when set, is where a failed answer goes instead of the next stronger models:
	// these models in order (leaving out the one that answered), like escalate: [strong] to go
	// straight to the strongest model. It needs validators on the route.
	Escalate []Ref `yaml:"escalate"`
	// EmbedTimeout (learned router with an embedding block) bounds the embeddings call the
	// gateway makes for each request before scoring it; on a timeout or any other failure
	// the router predicts without the embedding. Zero means DefaultEmbedTimeout.
	EmbedTimeout Duration `yaml:"embed_timeout"`

	pos Pos
}

// ScoreMix is the second willingness to pay of a score route and the share of requests it
// decides.
type ScoreMix struct {
	WillingnessToPay *USD  `yaml:"willingness_to_pay"`
	Share            *Prob `yaml:"share"`

	pos Pos
}

// Embedding call bounds of a score route: the default timeout, and the longest a spec may set.
const (
	DefaultEmbedTimeout = 200 * time.Millisecond
	MaxEmbedTimeout     = 10 * time.Second
)

// Heuristic is the built-in difficulty score: a weighted sum of request features in [0, 1],
// cut into tiers. Tiers has one boundary fewer than the route has models: a score below
// Tiers[0] starts on the first model, and so on.
type Heuristic struct {
	// Weights override the default feature weights by name (see the learn package).
	Weights map[string]float64 `yaml:"weights"`
	Tiers   []float64          `yaml:"tiers"`

	pos Pos
}

// Route-level constants.
const (
	OnFailEscalate   = "escalate"
	OnFailRetryOnce  = "retry_once"
	ExhaustedDeliver = "deliver"
	ExhaustedFail    = "fail"
)

// Step is one step of a cascade: a bare model name, or a mapping with its own validators.
type Step struct {
	Model    Ref          `yaml:"model"`
	Validate []*Validator `yaml:"validate"`
	OnFail   string       `yaml:"on_fail"`

	pos Pos
}

// Arm is one weighted branch of a split route.
type Arm struct {
	Weight float64
	Route  Route
}

// Assumptions are what the estimator believes about a category until measurements replace them.
type Assumptions struct {
	// PassRate maps a model name to the probability that its answer meets the bar.
	PassRate map[string]Prob `yaml:"pass_rate"`
	// Validator is the strength of the category's validation.
	Validator *Strength `yaml:"validator"`
	// Latency overrides a model's latency assumption for this category.
	Latency map[string]*Latency `yaml:"latency"`
	// ScoreShare is the share of requests a score route starts on each of its models, for
	// estimates; replay measures it from outcomes.
	ScoreShare map[string]Prob `yaml:"score_share"`
	// ScorePassRate is, for a score route, each model's pass rate on the requests the score
	// starts on it: a learned router sends a model the requests it does well on, so its pass
	// rate there is not PassRate, its rate over all of the category's requests. replay
	// --calibrate measures it. A model without one starts at PassRate.
	ScorePassRate map[string]Prob `yaml:"score_pass_rate"`
	// EscalatedPassRate is each model's pass rate on the requests escalated to it: those an
	// earlier step's validation flagged. They are harder than the category's requests on the
	// whole (the earlier model failed on most of them), so a later step's pass rate there is
	// usually below PassRate. replay --calibrate and estimate --measured measure it. A model
	// without one answers escalated requests at PassRate.
	EscalatedPassRate map[string]Prob `yaml:"escalated_pass_rate"`

	pos Pos
	// entryLines keeps the line of each entry of pass_rate, score_share, score_pass_rate,
	// escalated_pass_rate and latency, by key.
	entryLines map[string]map[string]int
}

// entryLine returns the line of the entry for name in the mapping under key (pass_rate,
// score_share, score_pass_rate or escalated_pass_rate), else the line of key.
func (a *Assumptions) entryLine(key, name string) int {
	if l := a.entryLines[key][name]; l > 0 {
		return l
	}
	return a.pos.Of(key)
}

// Strength is how good a validator is: Detect is P(flag | bad answer), FalseAlarm is
// P(flag | good answer).
type Strength struct {
	Detect     Prob `yaml:"detect"`
	FalseAlarm Prob `yaml:"false_alarm"`
	// Calibrated is the day clearbar validate calibrate measured Detect and FalseAlarm on
	// labelled answers; zero for an assumption. A judge is trusted only once calibrated.
	Calibrated Date `yaml:"calibrated"`

	pos Pos
}

// Policy is a named alternative routing policy: routes that replace the categories' own.
// Categories a policy does not mention keep their routes.
type Policy struct {
	Name        string                  `yaml:"-"`
	Description string                  `yaml:"description"`
	Routes      map[string]*PolicyRoute `yaml:"routes"`

	pos Pos
	// nameLine is the line of the policy's name; routeLines keeps the line of each routes entry.
	nameLine   int
	routeLines map[string]int
}

// PolicyRoute replaces a category's route and, optionally, its fallbacks.
type PolicyRoute struct {
	Route    Route
	Fallback []Ref
	// HasFallback says whether the policy sets fallbacks (an empty list removes them).
	HasFallback bool
}

// Providers are the spec's providers in file order; in YAML they are a mapping from name to
// settings.
type Providers []*Provider

// Models are the spec's models in file order; in YAML they are a mapping from name to settings.
type Models []*Model

// Policies are the spec's named policies in file order; in YAML a mapping from name to policy.
type Policies []*Policy

// ResolvedModel is a model's effective prices, limits and assumptions once the catalogue and the
// spec's overrides and defaults are combined.
type ResolvedModel struct {
	// Prices are the effective prices: the catalogue entry with the spec's overrides applied.
	Prices catalog.Entry
	// Catalog is the catalogue entry as published; InCatalog is false when there is none.
	Catalog   catalog.Entry
	InCatalog bool
	// ContextWindow and MaxOutput are in tokens; 0 means unknown.
	ContextWindow, MaxOutput int
	// Reasoning says whether the model bills reasoning tokens.
	Reasoning bool
	// Latency is the effective latency assumption; LatencyDefault says it is DefaultLatency.
	Latency        Latency
	LatencyDefault bool
	// Availability is P(a call succeeds without a provider error).
	Availability float64
	// Provider is the resolved provider.
	Provider *Provider
}

// Keys are the API keys the gateway accepts, stored as hashes: "sha256:" and the hex SHA-256 of
// the key (clearbar keys hash prints it). With keys configured, every request needs a valid
// client or admin key, and the admin and decision endpoints and /metrics need an admin key.
type Keys struct {
	Admin   []string     `yaml:"admin"`
	Clients []*ClientKey `yaml:"clients"`

	pos Pos
	// adminLines holds the line of each Admin entry, when written as a sequence.
	adminLines []int
}

// ClientKey is one client's key.
type ClientKey struct {
	Name string `yaml:"name"`
	Hash string `yaml:"hash"`
	// Tier is the client's tier, which rules can read (tier == "pro").
	Tier string `yaml:"tier"`
	// RateLimit is the client's request rate: "20/s", "600/m"; empty means unlimited.
	RateLimit string `yaml:"rate_limit"`

	pos Pos
}

// Server holds the gateway's settings; every field has a default.
type Server struct {
	// Listen is the address to serve on; default 127.0.0.1:8080.
	Listen string `yaml:"listen"`
	// MaxBody is the largest request body accepted, like "20MB"; default 32MB.
	MaxBody string `yaml:"max_body"`
	// MaxMessages is the most messages a request may have; default 2000.
	MaxMessages int `yaml:"max_messages"`
	// RequestTimeout bounds a whole request, retries and fallbacks included; default 120s.
	RequestTimeout Duration `yaml:"request_timeout"`
	// Trace is the decision store: a SQLite file path (default clearbar.db) or "none".
	Trace string `yaml:"trace"`
	// StreamKeepalive is how long a stream may wait for its first content byte before the
	// gateway commits it (status 200 and the decision headers known so far; the rest follow as
	// trailers) and sends ": ping" comments at this interval until the answer begins. Nil means
	// 10s; 0s turns keep-alives off, and then a client sees nothing, headers included, until
	// the first chunk that carries some of the answer (a reasoning model's thinking can take
	// long), as chunks that carry nothing of it, like a role alone, are held.
	StreamKeepalive *Duration `yaml:"stream_keepalive"`
	// FlagRepeats and FlagWindow flag a decision for review when the validator that failed it
	// has failed FlagRepeats times in its category within FlagWindow; defaults 5 and 10m.
	FlagRepeats int      `yaml:"flag_repeats"`
	FlagWindow  Duration `yaml:"flag_window"`
	// DrainGrace is how long, on SIGINT or SIGTERM, /readyz answers 503 while requests are
	// still served, so that load balancers stop sending before the listener closes; nil means
	// 5s, 0s closes at once. DrainTimeout is how long requests in flight may then take before
	// they are cut (each stream ending with an error event, each decision recorded); nil means
	// request_timeout plus 10s. serve's --drain-grace and --drain-timeout override them.
	DrainGrace   *Duration `yaml:"drain_grace"`
	DrainTimeout *Duration `yaml:"drain_timeout"`

	pos Pos
}

// Drift configures the gateway's live drift detectors: each compares a rolling window of
// recent requests per category and model with a longer reference window before it and with
// the spec's assumptions.
type Drift struct {
	// Window is how many recent requests of a category (or category and model) a detector
	// looks at; default 200.
	Window int `yaml:"window"`
	// Reference is how many requests before the window form the reference; default 2000.
	Reference int `yaml:"reference"`
	// FalseAlarm is the chance that a detector fires on unchanged traffic over one window;
	// default 0.001.
	FalseAlarm Prob `yaml:"false_alarm"`
	// Webhook, when set, receives a JSON POST for each alert.
	Webhook string `yaml:"webhook"`
	// Disabled turns the detectors off.
	Disabled bool `yaml:"disabled"`

	pos Pos
}

// Drift defaults.
const (
	DefaultDriftWindow       = 200
	DefaultDriftReference    = 2000
	DefaultDriftFalseAlarm   = 0.001
	DefaultShadowConcurrency = 4
)

// Test is a golden request and what routing must decide for it.
type Test struct {
	Name string `yaml:"name"`
	// Request is an OpenAI chat completions request body, written as YAML.
	Request JSONValue `yaml:"request"`
	// Headers are request headers; Tier is the client key's tier.
	Headers map[string]string `yaml:"headers"`
	Tier    string            `yaml:"tier"`
	Expect  TestExpect        `yaml:"expect"`

	pos Pos
}

// TestExpect is what a golden request must get. Empty fields are not checked.
type TestExpect struct {
	Category string `yaml:"category"`
	// Model is the first model of the plan.
	Model string `yaml:"model"`
	// Plan is every model of the plan, in order.
	Plan []string `yaml:"plan"`
	// By is a text the reason for the category must contain ("rule", "header", "default").
	By string `yaml:"by"`

	pos Pos
}

// Line returns the line the test is declared on.
func (t *Test) Line() int { return t.pos.Line }

// JSONValue is a value written in YAML and kept as JSON.
type JSONValue struct {
	JSON []byte
	Line int
}
