package review

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
)

// Report is the result of a review: what traffic measured beside what the spec assumed, the
// triggers that fired, experiments, and the re-estimated recommendation.
type Report struct {
	Spec string `json:"spec"`
	File string `json:"file,omitempty"`
	// Date is the day of the review; Since and Until the window asked for; First and Last
	// the times of the first and last decision reviewed.
	Date  string    `json:"date"`
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`
	// Requests is the number of decisions reviewed; DryRuns, Unmatched and Embeddings those
	// left out (dry runs, categories the spec does not have, and embeddings requests, which
	// are not the chat traffic the spec's categories describe).
	Requests   int `json:"requests"`
	DryRuns    int `json:"dry_runs,omitempty"`
	Unmatched  int `json:"unmatched,omitempty"`
	Embeddings int `json:"embeddings,omitempty"`
	// Alpha is the false-alarm level; Tests the number of tests Holm's correction spread it
	// over; Confidence the level of the intervals shown (1 − Alpha).
	Alpha       float64 `json:"false_alarm_level"`
	Correction  string  `json:"correction"`
	Tests       int     `json:"tests"`
	Confidence  float64 `json:"confidence"`
	CatalogDate string  `json:"catalog_date,omitempty"`
	// ActionNeeded says at least one trigger fired.
	ActionNeeded bool      `json:"action_needed"`
	Triggers     []Trigger `json:"triggers"`
	// Mix is the chi-square test of the categories' traffic shares.
	Mix         *Comparison     `json:"mix,omitempty"`
	Categories  []*CategoryView `json:"categories"`
	Prices      []PriceChange   `json:"prices,omitempty"`
	Reviews     []ReviewDue     `json:"reviews,omitempty"`
	Experiments []*Experiment   `json:"experiments,omitempty"`
	Reestimate  *Reestimate     `json:"reestimate,omitempty"`
	Notes       []string        `json:"notes,omitempty"`
}

// Trigger is one reason to recalculate the routing policy, with its evidence.
type Trigger struct {
	// Kind is one of the Trigger constants.
	Kind     string `json:"kind"`
	Category string `json:"category,omitempty"`
	Model    string `json:"model,omitempty"`
	// Evidence says what was seen, in words, with the numbers and the test.
	Evidence []string `json:"evidence"`
}

// Trigger kinds.
const (
	TriggerPrice          = "price"            // a catalogue price differs from the spec's
	TriggerPassRate       = "pass_rate"        // a model's pass rate moved
	TriggerLatency        = "latency"          // a model's latency moved, or a category is over its budget
	TriggerCost           = "cost"             // cost per request moved
	TriggerTokens         = "tokens"           // tokens per call, or the prompt cache's share of them, moved
	TriggerEscalation     = "escalation"       // escalations per request moved
	TriggerRetries        = "retries"          // provider retries per request moved
	TriggerFallback       = "fallback"         // the fallback rate moved or rose
	TriggerMalformed      = "malformed_output" // malformed output rose
	TriggerMix            = "traffic_mix"      // the categories' shares shifted
	TriggerTemplate       = "template"         // a new prompt template version carries traffic
	TriggerOverdue        = "review_overdue"   // the review date plus cadence has passed
	TriggerRecommendation = "recommendation"   // measurements change the recommended policy
)

// Comparison is one measurement beside its assumption, with the test of whether they differ.
type Comparison struct {
	Category string `json:"category,omitempty"`
	Model    string `json:"model,omitempty"`
	// Metric names what is compared, like "pass rate" or "latency p95".
	Metric string `json:"metric"`
	// Unit says how to read the values: UnitRate, UnitSeconds, UnitUSD, UnitTokens, UnitCount
	// or UnitStatistic.
	Unit string `json:"unit"`
	// Assumed is the value the spec implies; From says where it comes from ("spec",
	// "spec (pipelines)" for a share derived from the pipelines, "estimate", "budget", "earlier
	// half"). For the traffic mix, whose Measured is the
	// chi-square statistic, Assumed is that statistic's expectation: its degrees of freedom.
	Assumed Num    `json:"assumed"`
	From    string `json:"assumed_from"`
	// Measured is the measurement and Low, High its interval at the report's confidence
	// (infinite where the sample cannot bound it); N the number of observations.
	Measured Num `json:"measured"`
	Low      Num `json:"low"`
	High     Num `json:"high"`
	N        int `json:"n"`
	// Method names the test; Tested is false for figures shown for context only. P is the
	// test's p-value and PAdjusted Holm's adjustment over the review's tests.
	Method      string  `json:"method,omitempty"`
	Tested      bool    `json:"tested"`
	P           float64 `json:"p,omitempty"`
	PAdjusted   float64 `json:"p_adjusted,omitempty"`
	Significant bool    `json:"significant"`
	// Trigger is the kind of trigger a significant difference fires.
	Trigger string `json:"trigger,omitempty"`
	Note    string `json:"note,omitempty"`
}

// Units of comparisons.
const (
	UnitRate      = "rate"      // a probability
	UnitSeconds   = "s"         // a duration in seconds
	UnitUSD       = "usd"       // dollars
	UnitTokens    = "tokens"    // a token count
	UnitCount     = "count"     // events per request
	UnitStatistic = "statistic" // a test statistic
)

// CategoryView is one category's measurements.
type CategoryView struct {
	Name     string `json:"name"`
	Route    string `json:"route"`
	Requests int    `json:"requests"`
	// Comparisons are the category's measurements in display order.
	Comparisons []*Comparison `json:"comparisons"`
	Templates   []Template    `json:"templates,omitempty"`
	Notes       []string      `json:"notes,omitempty"`
}

// Template is one prompt template version seen in a category.
type Template struct {
	Hash string `json:"hash"`
	// Earlier and Recent count its requests in the two halves of the category's window.
	Earlier int       `json:"earlier"`
	Recent  int       `json:"recent"`
	Share   float64   `json:"recent_share"`
	First   time.Time `json:"first_seen"`
	New     bool      `json:"new"`
}

// PriceChange is a price where the spec and the catalogue disagree.
type PriceChange struct {
	Model   string         `json:"model"`
	Price   string         `json:"price"`
	Spec    clearbar.Price `json:"spec_per_token_pico_usd"`
	Catalog clearbar.Price `json:"catalog_per_token_pico_usd"`
	Change  string         `json:"change"`
}

// ReviewDue is the review date of the spec or of one category.
type ReviewDue struct {
	Category string `json:"category,omitempty"`
	Last     string `json:"last"`
	Due      string `json:"due"`
	Cadence  string `json:"cadence"`
	Overdue  bool   `json:"overdue"`
	// DaysOverdue counts whole days past the due date.
	DaysOverdue int `json:"days_overdue,omitempty"`
}

// Num is a number that may be infinite or undefined, which JSON writes as null.
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// Finite reports whether n is a finite number.
func (n Num) Finite() bool { return !math.IsInf(float64(n), 0) && !math.IsNaN(float64(n)) }

// Formats the report can be written in.
var Formats = []string{"md", "html", "json"}

// Write writes the report in format: "md" (or "markdown"), "html" or "json".
func Write(w io.Writer, r *Report, format string) error {
	switch format {
	case "", "md", "markdown":
		return WriteMarkdown(w, r)
	case "html":
		return WriteHTML(w, r)
	case "json":
		return WriteJSON(w, r)
	}
	return fmt.Errorf("unknown report format %q: use %s", format, strings.Join(Formats, ", "))
}

// WriteJSON writes the report as indented JSON: rates as probabilities, durations in seconds,
// money as exact decimal dollars, unbounded interval ends as null.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
