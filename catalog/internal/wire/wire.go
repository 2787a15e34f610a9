// Package wire defines the on-disk format of catalog.json, shared by the catalog package, which
// reads it, and by the generator in catalog/internal/gen, which writes it.
//
// The file is one JSON object with a "header" member and an "entries" array holding one
// [Record] per line, sorted by key, so that a price change shows up as a one-line diff. Prices
// are decimal strings in US dollars per million tokens ("0.15", "2.5"), never JSON numbers, so
// that no reader is tempted to go through float64.
//
// The package has no state and no I/O.
package wire

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/clearbar/clearbar"
)

// File is the whole catalog.json document.
type File struct {
	Header  Header   `json:"header"`
	Entries []Record `json:"entries"`
}

// Header describes where the catalogue's figures come from.
type Header struct {
	Source      string `json:"source"`       // the upstream file and the snapshot it was taken from
	SourceDate  string `json:"source_date"`  // the upstream's last_updated date, "YYYY-MM-DD"
	License     string `json:"license"`      // the upstream's licence, "MIT"
	GeneratedBy string `json:"generated_by"` // how to regenerate the file
}

// Record is one model. Input and Output are always present; the other prices are omitted when
// the upstream lists none (or lists zero). Field names follow the upstream's where they can.
type Record struct {
	Key      string `json:"key"`
	Provider string `json:"provider"`
	// Mode is the API the model is served on: "chat", "responses" or "embedding".
	Mode            string `json:"mode"`
	Input           string `json:"input"`
	Output          string `json:"output"`
	CacheRead       string `json:"cache_read,omitempty"`
	CacheWrite      string `json:"cache_write,omitempty"`
	Reasoning       string `json:"reasoning,omitempty"`
	TierThreshold   int    `json:"tier_threshold,omitempty"`
	InputAbove      string `json:"input_above,omitempty"`
	OutputAbove     string `json:"output_above,omitempty"`
	CacheReadAbove  string `json:"cache_read_above,omitempty"`
	CacheWriteAbove string `json:"cache_write_above,omitempty"`
	// CacheWrite1h is the price of a cache write kept for an hour (the upstream's
	// cache_creation_input_token_cost_above_1hr), CacheWrite1hAbove its long-context price
	// (…_above_1hr_above_200k_tokens); CacheWrite is the 5-minute write's.
	CacheWrite1h      string `json:"cache_write_1h,omitempty"`
	CacheWrite1hAbove string `json:"cache_write_1h_above,omitempty"`
	// WebSearch is the price of one search by the vendor's web search tool, in US dollars
	// ("0.01"): the upstream's search_context_cost_per_query at its medium context size.
	// WebSearchLow and WebSearchHigh are its prices at the low and high sizes, written only
	// where they differ from the medium one.
	WebSearch     string `json:"web_search,omitempty"`
	WebSearchLow  string `json:"web_search_low,omitempty"`
	WebSearchHigh string `json:"web_search_high,omitempty"`
	// WebSearchPerQuery says the upstream bills each search query (web_search_billing_unit
	// "per_query", Gemini 3) where the vendor otherwise bills a grounded prompt once.
	WebSearchPerQuery bool   `json:"web_search_per_query,omitempty"`
	MaxInputTokens    int    `json:"max_input_tokens,omitempty"`
	MaxOutputTokens   int    `json:"max_output_tokens,omitempty"`
	FunctionCalling   bool   `json:"supports_function_calling,omitempty"`
	ResponseSchema    bool   `json:"supports_response_schema,omitempty"`
	Vision            bool   `json:"supports_vision,omitempty"`
	ReasoningFlag     bool   `json:"supports_reasoning,omitempty"`
	PromptCaching     bool   `json:"supports_prompt_caching,omitempty"`
	DeprecationDate   string `json:"deprecation_date,omitempty"`
	// Dimensions is an embedding model's output vector size (the upstream's
	// output_vector_size); it is omitted when unknown and on other modes.
	Dimensions int `json:"output_vector_size,omitempty"`
	// Lacks lists the inputs the source says explicitly the model does not take ("image",
	// "audio", "pdf" for supports_vision, supports_audio_input, supports_pdf_input false); a
	// flag the source leaves out says nothing and is not listed.
	Lacks []string `json:"lacks,omitempty"`
}

// microPerDollar is the number of Price units (micro-dollars per million tokens) in one dollar
// per million tokens.
const microPerDollar = 1_000_000

// FormatPrice writes p as an exact decimal number of US dollars per million tokens, with no
// trailing zeros: Price(150_000) is "0.15", Price(2_500_000) is "2.5", Price(0) is "0".
// It is the inverse of [ParsePrice] for every non-negative Price.
func FormatPrice(p clearbar.Price) string {
	neg := p < 0
	u := uint64(p)
	if neg {
		u = -u
	}
	s := formatFixed(u, microPerDollar)
	if neg {
		s = "-" + s
	}
	return s
}

var errPriceSyntax = errors.New("want a plain decimal number of dollars per million tokens with at most six decimal places, like \"0.15\"")

// ParsePrice reads a price written by [FormatPrice]: digits, optionally followed by a point and
// one to six digits. It is deliberately stricter than [clearbar.ParsePrice] (no sign, "$",
// separators or exponent, no rounding), so that a hand edit that would lose precision fails.
func ParsePrice(s string) (clearbar.Price, error) {
	v, err := parseFixed(s, 6)
	if err == errFixedSyntax {
		return 0, fmt.Errorf("invalid price %q: %w", s, errPriceSyntax)
	}
	if err != nil {
		return 0, fmt.Errorf("invalid price %q: %w", s, err)
	}
	return clearbar.Price(v), nil
}

var (
	errFixedSyntax = errors.New("not a plain decimal number")
	errFixedRange  = errors.New("out of range")
)

// parseFixed reads digits, optionally followed by a point and one to places digits, as a whole
// number of units of 10^-places: "0.15" with 6 places is 150,000.
func parseFixed(s string, places int) (int64, error) {
	intPart, frac, hasPoint := strings.Cut(s, ".")
	if intPart == "" || (hasPoint && (frac == "" || len(frac) > places)) || !allDigits(intPart) || !allDigits(frac) {
		return 0, errFixedSyntax
	}
	unit := int64(1)
	for range places {
		unit *= 10
	}
	whole, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || whole > (1<<63-1)/unit-1 {
		return 0, errFixedRange
	}
	var part int64
	if frac != "" {
		part, _ = strconv.ParseInt(frac+strings.Repeat("0", places-len(frac)), 10, 64)
	}
	return whole*unit + part, nil
}

// nanoPerDollar is the number of Money units (nano-dollars) in one dollar.
const nanoPerDollar = 1_000_000_000

// FormatMoney writes m as an exact decimal number of US dollars, with no trailing zeros:
// Money(10_000_000) is "0.01". It is the inverse of [ParseMoney] for every non-negative amount.
func FormatMoney(m clearbar.Money) string {
	return formatFixed(uint64(max(m, 0)), nanoPerDollar)
}

// formatFixed writes u units of 1/unit (unit a power of ten) as an exact decimal number with
// no trailing zeros: 150,000 millionths is "0.15".
func formatFixed(u, unit uint64) string {
	s := strconv.FormatUint(u/unit, 10)
	if frac := u % unit; frac != 0 {
		f := strconv.FormatUint(frac+unit, 10)[1:] // zero-padded to the unit's digits
		s += "." + strings.TrimRight(f, "0")
	}
	return s
}

// ParseMoney reads an amount written by [FormatMoney]: digits, optionally followed by a point
// and one to nine digits; as strict as [ParsePrice].
func ParseMoney(s string) (clearbar.Money, error) {
	v, err := parseFixed(s, 9)
	if err == errFixedSyntax {
		return 0, fmt.Errorf("invalid amount %q: want a plain decimal number of dollars with at most nine decimal places, like \"0.01\"", s)
	}
	if err != nil {
		return 0, fmt.Errorf("invalid amount %q: %w", s, err)
	}
	return clearbar.Money(v), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
