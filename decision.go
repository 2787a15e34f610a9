package clearbar

import (
	"encoding/json"
	"time"
)

// Decision is the record of one request: how it was classified and routed, every attempt, and
// why the final answer was accepted. Every response carries its ID; the trace store keeps it.
//
// A Decision is built by one goroutine while the request runs and is not modified after it is
// handed to the recorder.
type Decision struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	// Dialect and Path say how the client called: "openai" on /v1/chat/completions.
	Dialect string `json:"dialect"`
	Path    string `json:"path"`
	// RequestedModel is the model name the client sent.
	RequestedModel string `json:"requested_model"`
	Stream         bool   `json:"stream"`
	// Client is the client key's name and Tier its tier ("" without keys).
	Client string `json:"client,omitempty"`
	Tier   string `json:"tier,omitempty"`

	// Category is the category the request landed in; CategoryBy says how ("header
	// X-Clearbar-Category", "model alias clearbar/intent", "rule refund-words", "default").
	Category   string `json:"category"`
	CategoryBy string `json:"category_by"`
	// Rules lists every category rule evaluated, in priority order, fired or not.
	Rules []RuleResult `json:"rules,omitempty"`
	// Features are the request features rules saw.
	Features Features `json:"features"`

	// Route describes the route taken ("cascade small → strong, fallback mid"); Plan lists the
	// models in the order they would be tried; Skipped the candidates left out, with why.
	Route   string   `json:"route"`
	Arm     string   `json:"arm,omitempty"` // the split arm chosen, for weighted routes
	Plan    []string `json:"plan"`
	Skipped []Skip   `json:"skipped,omitempty"`
	// Score is what a score route computed, for categories routed by score.
	Score *Score `json:"score,omitempty"`

	Attempts []Attempt `json:"attempts"`

	// Outcome is "ok" or the failure class that ended the request; Reason says in words why
	// the answer was accepted, or why the request failed.
	Outcome FailureClass `json:"outcome"`
	Reason  string       `json:"reason"`
	// Model and Provider served the final answer.
	Model    string `json:"model,omitempty"`
	Provider string `json:"provider,omitempty"`
	// Status is the HTTP status sent to the client.
	Status int `json:"status"`
	// Shutdown says the gateway cut the request as it shut down (Outcome Canceled): not the
	// client's going, and not a failure of the upstream.
	Shutdown bool `json:"shutdown,omitempty"`

	Usage Usage `json:"usage"`
	// Cost is the sum of every attempt's cost and of a score route's embeddings call
	// (Score.Embedding.Cost); EscalationCost the part spent on answers that were discarded.
	Cost           Money `json:"cost_usd"`
	EscalationCost Money `json:"escalation_cost_usd"`
	// EscalationLatency is the time counterpart of EscalationCost: the sum of Attempt.Latency
	// over the same attempts, the provider calls (validator calls aside) whose answer the
	// client did not get because the call failed, was retried, fell back, failed validation
	// and escalated, or was cut mid-stream; in a request that failed, every such call. Attempts
	// run one after another, so it is wall time the request spent before (or instead of) the
	// answer it delivered. Backoff between attempts (Attempt.Waited) and validator calls, which
	// EscalationCost leaves out too, are not in it.
	EscalationLatency time.Duration `json:"escalation_latency_ns"`

	// Latency is the whole request as the gateway saw it; Upstream the time spent waiting for
	// providers; Overhead the difference (the gateway's own work). TTFB is the time to the
	// first byte sent to the client.
	Latency  time.Duration `json:"latency_ns"`
	Upstream time.Duration `json:"upstream_ns"`
	Overhead time.Duration `json:"overhead_ns"`
	TTFB     time.Duration `json:"ttfb_ns"`
	// TimeScale is set when the request was answered by simulated providers running at a time
	// scale other than 1 (serve --time-scale): its latencies are wall-clock at that scale, and
	// divided by it they are the simulated ones the spec's assumptions speak of.
	TimeScale float64 `json:"time_scale,omitempty"`
	// Settled is when the oldest request still in flight at the gateway when this one finished
	// started (when none was, when this one finished): every request that started before it
	// has finished. The drift monitor tests decisions in the order their requests started, up
	// to it, so that its windows are not made of whichever requests finish first (the fast
	// ones when traffic starts, the slow ones when it stops). Zero outside the gateway. Not
	// recorded.
	Settled time.Time `json:"-"`

	// PromptHash is a SHA-256 of the messages; PromptChars and AnswerChars their lengths.
	// Prompt and Answer hold the text only when the category opts in to recording it.
	PromptHash  string `json:"prompt_hash"`
	PromptChars int    `json:"prompt_chars"`
	AnswerChars int    `json:"answer_chars"`
	Prompt      string `json:"prompt,omitempty"`
	Answer      string `json:"answer,omitempty"`
	// TemplateHash fingerprints the system prompt, so template changes can be detected.
	TemplateHash string `json:"template_hash,omitempty"`
	// DryRun marks decisions made without calling any model.
	DryRun bool `json:"dry_run,omitempty"`
	// Flagged marks a decision for review by a person; FlagReason says why (every step failed
	// validation, or a validator keeps failing in this category).
	Flagged    bool   `json:"flagged,omitempty"`
	FlagReason string `json:"flag_reason,omitempty"`
}

// Features are the request features category rules can use.
type Features struct {
	// TokensIn estimates the request's input tokens.
	TokensIn int `json:"tokens_in"`
	// Messages counts all messages; Turns the user messages.
	Messages int `json:"messages"`
	Turns    int `json:"turns"`
	// Attachments counts non-text content parts; Images those that are images.
	Attachments int `json:"attachments"`
	Images      int `json:"images"`
	// Tools says the request offers tools; ResponseFormat is its structured-output type.
	Tools          bool   `json:"tools"`
	ResponseFormat string `json:"response_format,omitempty"`
	// Tier is the client key's tier; Risk the risk level the client declared.
	Tier string `json:"tier,omitempty"`
	Risk string `json:"risk,omitempty"`
	// Model is the requested model; Stream whether a stream was asked for.
	Model  string `json:"model"`
	Stream bool   `json:"stream"`
}

// RuleResult is one category rule's evaluation.
type RuleResult struct {
	Category string `json:"category"`
	Rule     string `json:"rule"`
	Priority int    `json:"priority"`
	Fired    bool   `json:"fired"`
	// Error is set when the rule could not be evaluated (it then does not fire).
	Error string `json:"error,omitempty"`
}

// Skip is a candidate model left out of the plan, and why.
type Skip struct {
	Model  string `json:"model"`
	Reason string `json:"reason"`
}

// Score is a score route's decision: the scores it computed, the rule that turned them into a
// starting model, and that model.
//
// Its JSON form is that of its field tags, except that a heuristic score always has its
// difficulty, also when it is 0, and a willingness-to-pay score every model's cost and
// utility, also when they are 0 (see MarshalJSON); a record without the difficulty is a
// learned router's, or a heuristic's of difficulty 0 written before the difficulty was always
// recorded, and one without the willingness to pay was decided by a threshold or written
// before costs and utilities were recorded.
type Score struct {
	// Router is HeuristicRouter or the learned router's file and version.
	Router string `json:"router"`
	// Rule is the choice rule: "threshold 0.62", "willingness to pay $0.50 per unit (1.0) of
	// P(pass)", "tiers 0.35, 0.7", with the weights a heuristic changed from the defaults:
	// "tiers 0.5; weights code 1 (default 0.2)".
	Rule string `json:"rule"`
	// Difficulty is the heuristic difficulty score in [0, 1], when Router is HeuristicRouter.
	Difficulty float64 `json:"difficulty,omitempty"`
	// WillingnessToPay is the value, in USD per unit (1.0) of P(pass), that decided the
	// request under a willingness-to-pay rule (with a mix, the value of the share the request
	// is in); 0 under any other rule. The rule starts on the model of the highest
	// ModelScore.Utility, P(pass) − Cost / WillingnessToPay (ties to the cheaper, then the
	// earlier).
	WillingnessToPay float64 `json:"willingness_to_pay,omitempty"`
	// PPass is a learned router's P(pass) for each model of the route, cheapest first.
	PPass []ModelScore `json:"p_pass,omitempty"`
	// Start is the model the route starts on.
	Start string `json:"start"`
	// Embedding is set when the learned router has an embedding block: whether the request's
	// embedding was used, or why not, and how long the embeddings call took.
	Embedding *ScoreEmbedding `json:"embedding,omitempty"`
}

// HeuristicRouter is Score.Router for the built-in difficulty score.
const HeuristicRouter = "heuristic"

// MarshalJSON writes s as its field tags say, with the difficulty of a heuristic score, and
// the cost and utility of each model of a willingness-to-pay score, even when they are 0
// (which the tags' omitempty would leave out).
func (s Score) MarshalJSON() ([]byte, error) {
	type fields Score // Score without this method
	if s.WillingnessToPay != 0 {
		// ModelScore with every field written; a conversion keeps the values.
		type wtpModelScore struct {
			Model   string  `json:"model"`
			P       float64 `json:"p"`
			Cost    float64 `json:"cost_usd"`
			Utility float64 `json:"utility"`
		}
		pp := make([]wtpModelScore, len(s.PPass))
		for i, m := range s.PPass {
			pp[i] = wtpModelScore(m)
		}
		var difficulty *float64
		if s.Difficulty != 0 || s.Router == HeuristicRouter {
			difficulty = &s.Difficulty
		}
		// As below, the outer fields come first, in Score's order, then Start and Embedding.
		return json.Marshal(struct {
			Router           string          `json:"router"`
			Rule             string          `json:"rule"`
			Difficulty       *float64        `json:"difficulty,omitempty"`
			WillingnessToPay float64         `json:"willingness_to_pay"`
			PPass            []wtpModelScore `json:"p_pass,omitempty"`
			fields
		}{s.Router, s.Rule, difficulty, s.WillingnessToPay, pp, fields(s)})
	}
	if s.Router != HeuristicRouter {
		return json.Marshal(fields(s))
	}
	// The outer fields hide the embedded ones of the same names and come first, in Score's
	// order: router, rule, difficulty, then the rest.
	return json.Marshal(struct {
		Router     string  `json:"router"`
		Rule       string  `json:"rule"`
		Difficulty float64 `json:"difficulty"`
		fields
	}{s.Router, s.Rule, s.Difficulty, fields(s)})
}

// ScoreEmbedding records the embeddings call of a learned router with an embedding block.
type ScoreEmbedding struct {
	// Model is the spec model that embeds the request.
	Model string `json:"model"`
	// Used says the prediction used the request's embedding; when it is false, the router
	// predicted without it (its embedding block contributing nothing) and Error says why.
	Used  bool   `json:"used"`
	Error string `json:"error,omitempty"`
	// Latency is the embeddings call's duration (0 when no call was made). It is network time,
	// counted in the decision's Upstream, not in its Overhead.
	Latency time.Duration `json:"latency_ns"`
	// Tokens are the input tokens the upstream reports for the call, and Cost their price at
	// the embedding model's input price, counted in the decision's Cost (both 0 when no call
	// was made, the call failed, or the upstream reported no usage). TokensEstimated says
	// Tokens is the adapter's estimate, for an upstream that never reports usage.
	Tokens          int   `json:"tokens"`
	TokensEstimated bool  `json:"tokens_estimated,omitempty"`
	Cost            Money `json:"cost_usd"`
}

// ModelScore is one model's score.
type ModelScore struct {
	Model string  `json:"model"`
	P     float64 `json:"p"`
	// Cost and Utility are set under a willingness-to-pay rule (Score.WillingnessToPay):
	// what the rule reckoned the request costs on the model, in USD (its input tokens and
	// the category's typical output at the model's prices: route.DecisionCost), and the
	// value it maximised, P − Cost / Score.WillingnessToPay.
	Cost    float64 `json:"cost_usd,omitempty"`
	Utility float64 `json:"utility,omitempty"`
}

// Attempt kinds.
const (
	AttemptPrimary    = "primary"
	AttemptRetry      = "retry"
	AttemptFallback   = "fallback"
	AttemptEscalation = "escalation"
	// AttemptJudge is a validator's call to a judge model; its answer is a score, not a reply.
	AttemptJudge = "judge"
	// AttemptCheck is an agreement check's call (the agree validator): a second model answers
	// the client's request so that the two answers can be compared; its answer is never
	// delivered.
	AttemptCheck = "check"
)

// ValidatorCall reports whether the attempt is a validator's call (a judge's or an agreement
// check's): a call about an answer, not an attempt to answer the client. Such calls count in
// the decision's cost but are not steps of the route: escalation cost and latency, retry,
// fallback and escalation counts, outcome rows and drift detectors leave them out.
func (a *Attempt) ValidatorCall() bool { return a.Kind == AttemptJudge || a.Kind == AttemptCheck }

// Attempt is one call to a provider.
type Attempt struct {
	N        int    `json:"n"`
	Kind     string `json:"kind"`
	Step     int    `json:"step"`
	Model    string `json:"model"`
	Provider string `json:"provider"`
	// UpstreamModel is the provider's model id.
	UpstreamModel string        `json:"upstream_model"`
	Start         time.Time     `json:"start"`
	Latency       time.Duration `json:"latency_ns"`
	// TimeScale is set when the attempt's provider is simulated at a time scale other than 1
	// (serve --time-scale): its Latency and TTFT are wall-clock at that scale, and divided by
	// it they are the simulated ones. Decision.TimeScale is the last such attempt's.
	TimeScale float64 `json:"time_scale,omitempty"`
	// Simulated says the attempt's provider is the built-in simulator (a provider of type
	// simulated, or any provider under serve --simulate), at any time scale: its answer, its
	// latency and whether it passed are drawn from the spec's own assumptions, so they
	// measure no model.
	Simulated bool `json:"simulated,omitempty"`
	// TTFT is the time to the attempt's first chunk that carries some of the answer (content,
	// a refusal, a tool call, a finish reason or usage): chunks with a role alone do not count.
	TTFT time.Duration `json:"ttft_ns,omitempty"`
	// Waited is the backoff before this attempt.
	Waited time.Duration `json:"waited_ns,omitempty"`
	Usage  Usage         `json:"usage"`
	// UsageEstimated says Usage is Clearbar's estimate: the upstream reported none.
	UsageEstimated bool  `json:"usage_estimated,omitempty"`
	Cost           Money `json:"cost_usd"`
	// Class is OK or the failure; Status the upstream HTTP status; Error a client-safe
	// description.
	Class  FailureClass `json:"class"`
	Status int          `json:"status,omitempty"`
	Error  string       `json:"error,omitempty"`
	// Verdicts are the validators' findings on this attempt's answer.
	Verdicts []Verdict `json:"verdicts,omitempty"`
	// Outcome says what happened next: "accepted", "retried", "fell back", "escalated",
	// "discarded", "failed".
	Outcome string `json:"outcome"`
	// UpstreamRequestID is the provider's request id.
	UpstreamRequestID string `json:"upstream_request_id,omitempty"`
}

// Verdict is a validator's finding on an answer.
type Verdict struct {
	Validator string `json:"validator"`
	Pass      bool   `json:"pass"`
	Reason    string `json:"reason,omitempty"`
	// Score is set by scoring validators (judges).
	Score float64 `json:"score,omitempty"`
	// Unverified says the validator could not judge the answer, rather than found it wanting:
	// an agreement check with no independent checker for the answer's model, whose checker has
	// no recorded answer or could not be reached, or whose checker's own answer had nothing to
	// compare. Pass is false all the same, so that the gateway escalates an answer it could not
	// verify; a grader or a calibration that measures answers (clearbar eval, validate
	// calibrate) counts such an answer as not graded, not as failed.
	Unverified bool `json:"unverified,omitempty"`
	// NotApplicable says the validator does not apply to the request and passed the answer
	// without checking it: an agreement check on choice answers to a question that lists no
	// options, a json_schema validator that takes its schema from a request that asks for
	// none. The gateway passes the answer all the same; a grader or a calibration that
	// measures answers (clearbar eval, validate calibrate) does not take such a pass for a
	// verdict on the answer.
	NotApplicable bool `json:"not_applicable,omitempty"`
}
