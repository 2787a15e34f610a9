package trace

import (
	"context"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// fullDecision returns a decision with every field set to a non-zero value (checked by
// TestFullDecisionIsFull), so that a round trip exercises every field.
func fullDecision(id string, at time.Time) *clearbar.Decision {
	start := at.Add(3 * time.Millisecond)
	return &clearbar.Decision{
		ID:             id,
		Time:           at,
		Dialect:        "openai",
		Path:           "/v1/chat/completions",
		RequestedModel: "clearbar/auto",
		Stream:         true,
		Client:         "support-bot",
		Tier:           "gold",
		Category:       "refunds",
		CategoryBy:     "rule refund-words",
		Rules: []clearbar.RuleResult{
			{Category: "refunds", Rule: "refund-words", Priority: 10, Fired: true, Error: "regexp timeout on second pattern"},
			{Category: "legal", Rule: "lawyer-words", Priority: 20, Fired: true, Error: "feature risk missing"},
		},
		Features: clearbar.Features{
			TokensIn: 812, Messages: 5, Turns: 3, Attachments: 2, Images: 1, Tools: true,
			ResponseFormat: "json_schema", Tier: "gold", Risk: "high", Model: "clearbar/auto", Stream: true,
		},
		Route:   "cascade small → strong, fallback mid",
		Arm:     "b",
		Plan:    []string{"small", "strong", "mid"},
		Skipped: []clearbar.Skip{{Model: "cheap", Reason: "breaker open until 12:00:05"}},
		Score: &clearbar.Score{Router: "routers/refunds.json v1", Rule: "willingness to pay $0.50", Difficulty: 0.4375, WillingnessToPay: 0.5,
			PPass: []clearbar.ModelScore{{Model: "small", P: 0.71, Cost: 0.000182, Utility: 0.709636}, {Model: "strong", P: 0.93, Cost: 0.00564, Utility: 0.91872}}, Start: "small",
			Embedding: &clearbar.ScoreEmbedding{Model: "embed", Used: true, Error: "timeout after 200ms", Latency: 31 * time.Millisecond,
				Tokens: 9, TokensEstimated: true, Cost: clearbar.Money(180)}},
		Attempts: []clearbar.Attempt{
			{
				N: 1, Kind: clearbar.AttemptPrimary, Step: 1, Model: "small", Provider: "openai",
				UpstreamModel: "gpt-4o-mini-2024-07-18", Start: start, Latency: 412 * time.Millisecond, TimeScale: 0.25, Simulated: true,
				TTFT: 120 * time.Millisecond, Waited: 5 * time.Millisecond,
				Usage:          clearbar.Usage{PromptTokens: 812, CompletionTokens: 95, CachedTokens: 512, CacheWriteTokens: 7, CacheWrite1hTokens: 5, ReasoningTokens: 3, WebSearches: 1, GroundedPrompts: 1, WebSearchContext: "high"},
				UsageEstimated: true, Cost: clearbar.Money(182_550), Class: clearbar.Quality, Status: 200, Error: "answer failed validation",
				Verdicts: []clearbar.Verdict{
					{Validator: "schema", Pass: true, Reason: "valid against refund.schema.json", Score: 1, Unverified: true, NotApplicable: true},
					{Validator: "judge", Pass: true, Reason: "borderline", Score: 0.625, Unverified: true, NotApplicable: true},
				},
				Outcome: "escalated", UpstreamRequestID: "req_abc123",
			},
			{
				N: 2, Kind: clearbar.AttemptEscalation, Step: 2, Model: "strong", Provider: "anthropic",
				UpstreamModel: "claude-sonnet-4-5", Start: start.Add(415*time.Millisecond + 17), Latency: 1312 * time.Millisecond, TimeScale: 0.25, Simulated: true,
				TTFT: 640 * time.Millisecond, Waited: 1 * time.Nanosecond,
				Usage:          clearbar.Usage{PromptTokens: 830, CompletionTokens: 210, CachedTokens: 1, CacheWriteTokens: 830, CacheWrite1hTokens: 800, ReasoningTokens: 64, WebSearches: 2, GroundedPrompts: 1, WebSearchContext: "low"},
				UsageEstimated: true, Cost: clearbar.Money(5_640_000), Class: clearbar.RateLimited, Status: 429, Error: "rate limited",
				Verdicts: []clearbar.Verdict{{Validator: "schema", Pass: true, Reason: "ok", Score: 0.99, Unverified: true, NotApplicable: true}},
				Outcome:  "accepted", UpstreamRequestID: "msg_01XYZ",
			},
		},
		Outcome:           clearbar.Quality,
		Reason:            "strong model passed schema and judge",
		Model:             "strong",
		Provider:          "anthropic",
		Status:            200,
		Shutdown:          true,
		Usage:             clearbar.Usage{PromptTokens: 1642, CompletionTokens: 305, CachedTokens: 513, CacheWriteTokens: 837, CacheWrite1hTokens: 805, ReasoningTokens: 67, WebSearches: 3, GroundedPrompts: 2, WebSearchContext: "high"},
		Cost:              clearbar.Money(5_822_550),
		EscalationCost:    clearbar.Money(182_550),
		EscalationLatency: 610 * time.Millisecond,
		Latency:           1780*time.Millisecond + 123,
		Upstream:          1724 * time.Millisecond,
		Overhead:          56*time.Millisecond + 123,
		TTFB:              1060 * time.Millisecond,
		TimeScale:         0.01,
		PromptHash:        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		PromptChars:       3120,
		AnswerChars:       880,
		Prompt:            "Customer asks: can I get a refund for order 1234?",
		Answer:            "Yes, refunds are possible within 30 days.",
		TemplateHash:      "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
		DryRun:            true,
		Flagged:           true,
		FlagReason:        "every step failed validation",
	}
}

// testTime is a fixed instant with nanoseconds, in UTC.
var testTime = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// assertNoZeroFields fails for every exported field of v (recursively, through structs and
// slice elements) that holds its zero value or is an empty slice, but those tagged json:"-",
// which are not recorded.
func assertNoZeroFields(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		if v.Interface().(time.Time).IsZero() {
			t.Errorf("%s is zero", path)
		}
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			t.Errorf("%s is nil", path)
			return
		}
		assertNoZeroFields(t, v.Elem(), path)
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			// A field tagged json:"-" is not part of the record (Decision.Settled).
			if f := v.Type().Field(i); f.IsExported() && f.Tag.Get("json") != "-" {
				assertNoZeroFields(t, v.Field(i), path+"."+f.Name)
			}
		}
	case v.Kind() == reflect.Slice:
		if v.Len() == 0 {
			t.Errorf("%s is empty", path)
		}
		for i := range v.Len() {
			assertNoZeroFields(t, v.Index(i), path+"["+strconv.Itoa(i)+"]")
		}
	default:
		if v.IsZero() {
			t.Errorf("%s is zero", path)
		}
	}
}

// openSQLite opens a SQLite store in a fresh temporary directory, closed when the test ends.
func openSQLite(t testing.TB) *SQLite {
	t.Helper()
	s, err := OpenSQLite(filepath.Join(t.TempDir(), "trace.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// storeKinds are the Store implementations every contract test runs against.
var storeKinds = []struct {
	name string
	open func(testing.TB) Store
}{
	{"sqlite", func(t testing.TB) Store { return openSQLite(t) }},
	{"memory", func(t testing.TB) Store {
		m := NewMemory(0)
		t.Cleanup(func() { _ = m.Close() })
		return m
	}},
}

// funcStore is a Store whose Write is replaced by a function; the other methods go to the
// embedded Store (nil when the test does not read back).
type funcStore struct {
	Store
	write func(ctx context.Context, ds []*clearbar.Decision) error
}

func (s *funcStore) Write(ctx context.Context, ds []*clearbar.Decision) error {
	return s.write(ctx, ds)
}

// smallDecision is a decision with the fields List filters on.
func smallDecision(id string, at time.Time, category, model string, outcome clearbar.FailureClass) *clearbar.Decision {
	return &clearbar.Decision{ID: id, Time: at, Category: category, Model: model, Outcome: outcome,
		Plan: []string{model}, Attempts: []clearbar.Attempt{{N: 1, Model: model, Class: outcome}}}
}

func ids(ds []*clearbar.Decision) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}
