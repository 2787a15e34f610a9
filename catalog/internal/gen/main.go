// Command gen regenerates catalog/catalog.json from LiteLLM's model_prices_and_context_window.json.
//
// It is run by "go generate ./catalog" (see the go:generate directive in catalog/catalog.go):
//
//	go run ./internal/gen -src ../../shared/data/llm_prices/model_prices_and_context_window.json -out catalog.json
//
// It keeps the entries whose mode is "chat" or "responses" and that list both an input and an
// output token price, and those whose mode is "embedding" and that list an input token price
// (their output price, which never applies, is written as 0 when the source has none; their
// max_output_tokens is left out, and their output_vector_size kept). It converts every price
// exactly (numbers are read as decimal strings, never as float64), and writes the entries
// sorted by key, one per line. Prices the source gives with more precision than a pico-dollar
// per token are rounded to the nearest one and reported on stderr; entries with more than one
// long-context tier, which the catalogue cannot represent, are dropped and reported, and so are
// the entries on the misfiled list (chat models the source files as embedding models); a listed
// entry the source no longer misfiles is reported too. A 1-hour cache-write price that is not
// twice the input price, as Anthropic bills it, is dropped and reported. Anything malformed in a kept entry is an error naming the entry; the
// output file is only replaced when generation succeeds.
//
// The generator deliberately does not import the catalog package, so that it still builds when
// catalog.json is missing or corrupt.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/catalog/internal/wire"
)

// defaultOrigin names the snapshot in /work/shared/data/llm_prices (see SOURCE.md there).
const defaultOrigin = "BerriAI/litellm model_prices_and_context_window.json via RoCry/llm-api-price@8442b939"

func main() {
	src := flag.String("src", "", "path of LiteLLM's model_prices_and_context_window.json (required)")
	out := flag.String("out", "catalog.json", "path of the catalogue to write")
	origin := flag.String("origin", defaultOrigin, "provenance recorded in the header's source field")
	date := flag.String("date", "", "source date (YYYY-MM-DD) to record when the source has no last_updated key")
	flag.Parse()
	if *src == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: gen -src model_prices_and_context_window.json [-out catalog.json] [-origin text] [-date YYYY-MM-DD]")
		os.Exit(2)
	}
	if err := run(*src, *out, config{Origin: *origin, Date: *date, Misfiled: misfiled}, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(srcPath, outPath string, cfg config, log io.Writer) error {
	f, err := os.Open(srcPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			abs, _ := filepath.Abs(srcPath)
			return fmt.Errorf("source file %s not found (resolved to %s): it should be LiteLLM's model_prices_and_context_window.json; see SOURCE.md in the shared data directory", srcPath, abs)
		}
		return err
	}
	defer f.Close()
	var buf bytes.Buffer
	sum, err := generate(f, &buf, cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", srcPath, err)
	}
	for _, w := range sum.Warnings {
		fmt.Fprintln(log, "gen: warning:", w)
	}
	if err := writeFileAtomic(outPath, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(log, "gen: wrote %s: %d entries of %d in the source, %d of them embedding models (source date %s, %d bytes)\n",
		outPath, sum.Kept, sum.Total, sum.KeptEmbedding, sum.SourceDate, buf.Len())
	return nil
}

// writeFileAtomic replaces path with data, never leaving a half-written file behind.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".catalog-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// config holds what the output records about its provenance, and the entries to leave out.
type config struct {
	Origin string // the header's source field
	Date   string // source date to use when the source has no last_updated key
	// Misfiled lists source entries filed under the wrong mode (normally the package's
	// misfiled list): each is dropped with a warning.
	Misfiled map[string]misfiling
}

// misfiling is an entry of the misfiled list: the mode the source wrongly gives, and why the
// entry is left out.
type misfiling struct {
	Mode, Why string
}

// misfiled lists the source's entries whose mode is wrong, so that keeping them would let a
// chat model's id resolve to an embedding entry (Lookup matches ids exactly, so the danger is
// only a key that is a chat model's id). Each is dropped with a warning, and an entry listed
// here that the source no longer has under that mode is reported, so that the list does not
// outlive its reason.
var misfiled = map[string]misfiling{
	"gemini/gemini-1.5-flash":   {"embedding", "gemini-1.5-flash is a Gemini chat model (the entry keeps the chat model's limits and deprecation date)"},
	"gemini-flash-experimental": {"embedding", "a Vertex AI chat model's id, with a chat model's limits (1M input, 8192 output tokens)"},
}

// summary reports what generate did.
type summary struct {
	Total         int      // model entries in the source (without sample_spec and last_updated)
	Kept          int      // entries written
	KeptEmbedding int      // of which embedding models
	SourceDate    string   // the header's source_date
	Warnings      []string // rounded prices and dropped entries, in key order
}

// Upstream field names.
const (
	fInput      = "input_cost_per_token"
	fOutput     = "output_cost_per_token"
	fCacheRead  = "cache_read_input_token_cost"
	fCacheWrite = "cache_creation_input_token_cost"
	// fCacheWrite1h is the price of a cache write kept for an hour (Anthropic's 1-hour cache).
	fCacheWrite1h = "cache_creation_input_token_cost_above_1hr"
	fReasoning    = "output_cost_per_reasoning_token"
)

// tierField matches the long-context tier prices, such as input_cost_per_token_above_200k_tokens
// and the 1-hour cache write's cache_creation_input_token_cost_above_1hr_above_200k_tokens.
// Variants with a further suffix (…_tokens_priority) are other service tiers and do not match.
var tierField = regexp.MustCompile(`^(` + fInput + `|` + fOutput + `|` + fCacheRead + `|` + fCacheWrite + `|` + fCacheWrite1h + `)_above_([0-9]+)(k|m)?_tokens$`)

// generate reads LiteLLM's catalogue from src and writes catalog.json to out.
func generate(src io.Reader, out io.Writer, cfg config) (summary, error) {
	var sum summary
	dec := json.NewDecoder(src)
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil {
		return sum, err
	} else if tok != json.Delim('{') {
		return sum, errors.New("not a JSON object")
	}
	seen := map[string]bool{}
	modes := map[string]string{} // key → mode, for the entries on the misfiled list
	var lastUpdated string
	var records []wire.Record
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return sum, err
		}
		key := tok.(string) // object keys are always strings
		if seen[key] {
			return sum, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		var v any
		if err := dec.Decode(&v); err != nil {
			return sum, fmt.Errorf("entry %q: %w", key, err)
		}
		switch key {
		case "sample_spec":
			continue
		case "last_updated":
			s, ok := v.(string)
			if !ok {
				return sum, errors.New("last_updated is not a string")
			}
			lastUpdated = s
			continue
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return sum, fmt.Errorf("entry %q: not an object", key)
		}
		sum.Total++
		if m, ok := cfg.Misfiled[key]; ok {
			modes[key], _ = obj["mode"].(string)
			if modes[key] == m.Mode {
				sum.Warnings = append(sum.Warnings, fmt.Sprintf("%s: dropped: the source files it as mode %q, but %s", key, m.Mode, m.Why))
				continue
			}
		}
		rec, keep, warnings, err := convert(key, obj)
		if err != nil {
			return sum, fmt.Errorf("entry %q: %w", key, err)
		}
		sum.Warnings = append(sum.Warnings, warnings...)
		if keep {
			records = append(records, rec)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return sum, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return sum, errors.New("unexpected data after the top-level object")
	}
	for key, m := range cfg.Misfiled {
		switch mode, ok := modes[key]; {
		case !ok:
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("%s: on the misfiled list, but not in the source: remove it from the list", key))
		case mode != m.Mode:
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("%s: on the misfiled list as mode %q, but the source now gives mode %q: check the entry and remove it from the list", key, m.Mode, mode))
		}
	}

	switch {
	case lastUpdated != "":
		t, err := time.Parse(time.RFC3339Nano, lastUpdated)
		if err != nil {
			return sum, fmt.Errorf("last_updated %q is not an RFC 3339 timestamp", lastUpdated)
		}
		sum.SourceDate = t.UTC().Format(time.DateOnly)
	case cfg.Date != "":
		if _, err := time.Parse(time.DateOnly, cfg.Date); err != nil {
			return sum, fmt.Errorf("-date %q is not YYYY-MM-DD", cfg.Date)
		}
		sum.SourceDate = cfg.Date
	default:
		return sum, errors.New("the source has no last_updated key; give its date with -date YYYY-MM-DD")
	}
	if len(records) == 0 {
		return sum, errors.New("no chat entries with input and output token prices, and no embedding entries with an input token price")
	}
	slices.SortFunc(records, func(a, b wire.Record) int { return strings.Compare(a.Key, b.Key) })
	slices.Sort(sum.Warnings)
	sum.Kept = len(records)
	for _, r := range records {
		if r.Mode == "embedding" {
			sum.KeptEmbedding++
		}
	}

	header := wire.Header{
		Source:      cfg.Origin,
		SourceDate:  sum.SourceDate,
		License:     "MIT",
		GeneratedBy: "go generate ./catalog (catalog/internal/gen); do not edit by hand",
	}
	var b bytes.Buffer
	b.WriteString(`{"header":`)
	if err := encodeCompact(&b, header); err != nil {
		return sum, err
	}
	b.WriteString(",\n\"entries\":[\n")
	for i, r := range records {
		if err := encodeCompact(&b, r); err != nil {
			return sum, err
		}
		if i < len(records)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]}\n")
	_, err := out.Write(b.Bytes())
	return sum, err
}

// encodeCompact appends v as one line of JSON, without HTML escaping.
func encodeCompact(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode ends with a newline
	return nil
}

// convert turns one upstream entry into a record. keep is false for entries the catalogue leaves
// out; warnings describe prices that had to be rounded and entries dropped for a reason worth
// reporting.
func convert(key string, obj map[string]any) (rec wire.Record, keep bool, warnings []string, err error) {
	mode, _ := obj["mode"].(string)
	embedding := mode == "embedding"
	switch {
	case mode != "chat" && mode != "responses" && !embedding:
		return rec, false, nil, nil
	case obj[fInput] == nil:
		return rec, false, nil, nil
	case obj[fOutput] == nil && !embedding:
		return rec, false, nil, nil
	}
	provider, ok := obj["litellm_provider"].(string)
	if !ok || provider == "" {
		return rec, false, nil, errors.New("no litellm_provider")
	}
	rec = wire.Record{Key: key, Provider: provider, Mode: mode}

	price := func(field string) (string, error) {
		v, present := obj[field]
		if !present || v == nil {
			return "", nil
		}
		n, ok := v.(json.Number)
		if !ok {
			return "", fmt.Errorf("%s: %v is not a number", field, v)
		}
		p, exact, err := perTokenPrice(string(n))
		if err != nil {
			return "", fmt.Errorf("%s: %w", field, err)
		}
		if !exact {
			warnings = append(warnings, fmt.Sprintf("%s: %s %s $/token is not a whole number of pico-dollars; rounded to $%s/M",
				key, field, n, wire.FormatPrice(p)))
		}
		return wire.FormatPrice(p), nil
	}
	// optional prices of zero are written as absent: the catalogue's "not listed".
	optional := func(field string) (string, error) {
		s, err := price(field)
		if s == "0" {
			s = ""
		}
		return s, err
	}
	for _, f := range []struct {
		dst   *string
		field string
		get   func(string) (string, error)
	}{
		{&rec.Input, fInput, price},
		{&rec.Output, fOutput, price},
		{&rec.CacheRead, fCacheRead, optional},
		{&rec.CacheWrite, fCacheWrite, optional},
		{&rec.CacheWrite1h, fCacheWrite1h, optional},
		{&rec.Reasoning, fReasoning, optional},
	} {
		if *f.dst, err = f.get(f.field); err != nil {
			return rec, false, nil, err
		}
	}

	// Anthropic bills a 1-hour cache write at twice the input price; the source has entries
	// that say otherwise (a copy of another model's price), and those are dropped, so that the
	// 2× rule applies (see catalog.Entry.CacheWrite1hCost).
	if warn := drop1h(key, &rec.CacheWrite1h, rec.Input); warn != "" {
		warnings = append(warnings, warn)
	}

	// The price of a web search, per query; the source gives it per context size (low,
	// medium, high), the medium size being the vendors' default. The low and high prices are
	// kept where they differ from it.
	switch v := obj["search_context_cost_per_query"].(type) {
	case nil:
	case map[string]any:
		for _, size := range []struct {
			name string
			dst  *string
		}{{"medium", &rec.WebSearch}, {"low", &rec.WebSearchLow}, {"high", &rec.WebSearchHigh}} {
			n, ok := v["search_context_size_"+size.name].(json.Number)
			if !ok {
				continue
			}
			m, err := clearbar.ParseMoney(string(n))
			if err != nil || m < 0 {
				return rec, false, nil, fmt.Errorf("search_context_cost_per_query.search_context_size_%s: %s is not a price in dollars", size.name, n)
			}
			if m > 0 {
				*size.dst = wire.FormatMoney(m)
			}
		}
		if rec.WebSearchLow == rec.WebSearch {
			rec.WebSearchLow = ""
		}
		if rec.WebSearchHigh == rec.WebSearch {
			rec.WebSearchHigh = ""
		}
	default:
		return rec, false, nil, fmt.Errorf("search_context_cost_per_query: %v is not an object", v)
	}
	// Gemini bills grounding with Google Search per grounded prompt, Gemini 3 per search
	// query: the source says so with web_search_billing_unit "per_query" (and "per_prompt", its
	// default).
	switch v := obj["web_search_billing_unit"].(type) {
	case nil:
	case string:
		switch v {
		case "per_query":
			rec.WebSearchPerQuery = true
		case "per_prompt":
		default:
			return rec, false, nil, fmt.Errorf("web_search_billing_unit %q is not \"per_query\" or \"per_prompt\"", v)
		}
	default:
		return rec, false, nil, fmt.Errorf("web_search_billing_unit: %v is not a string", v)
	}

	// Long-context tier.
	thresholds := map[int]bool{}
	var tierFields []string
	for field := range obj {
		if tierField.MatchString(field) {
			tierFields = append(tierFields, field)
		}
	}
	slices.Sort(tierFields)
	for _, field := range tierFields {
		m := tierField.FindStringSubmatch(field)
		n, err := strconv.Atoi(m[2])
		if err != nil || n <= 0 {
			return rec, false, nil, fmt.Errorf("%s: bad threshold", field)
		}
		switch m[3] {
		case "k":
			n *= 1_000
		case "m":
			n *= 1_000_000
		}
		thresholds[n] = true
		s, err := optional(field)
		if err != nil {
			return rec, false, nil, err
		}
		switch m[1] {
		case fInput:
			rec.InputAbove = s
		case fOutput:
			rec.OutputAbove = s
		case fCacheRead:
			rec.CacheReadAbove = s
		case fCacheWrite:
			rec.CacheWriteAbove = s
		case fCacheWrite1h:
			rec.CacheWrite1hAbove = s
		}
		rec.TierThreshold = n
	}
	if rec.InputAbove != "" {
		if warn := drop1h(key+" above the long-context tier", &rec.CacheWrite1hAbove, rec.InputAbove); warn != "" {
			warnings = append(warnings, warn)
		}
	}
	if len(thresholds) > 1 {
		return rec, false, []string{fmt.Sprintf("%s: dropped: it has %d long-context tiers (%s) and the catalogue can hold one", key, len(thresholds), strings.Join(tierFields, ", "))}, nil
	}
	if rec.InputAbove == "" && rec.OutputAbove == "" && rec.CacheReadAbove == "" && rec.CacheWriteAbove == "" && rec.CacheWrite1hAbove == "" {
		rec.TierThreshold = 0 // a tier whose prices are all zero or null is no tier
	}

	// Limits, falling back to the legacy max_tokens as the source's sample_spec documents.
	legacy, err := wholeCount(obj, "max_tokens")
	if err != nil {
		return rec, false, nil, err
	}
	if rec.MaxInputTokens, err = wholeCount(obj, "max_input_tokens"); err != nil {
		return rec, false, nil, err
	}
	if rec.MaxOutputTokens, err = wholeCount(obj, "max_output_tokens"); err != nil {
		return rec, false, nil, err
	}
	if rec.MaxInputTokens == 0 {
		rec.MaxInputTokens = legacy
	}
	if rec.MaxOutputTokens == 0 {
		rec.MaxOutputTokens = legacy
	}
	if embedding {
		// An embedding has no output tokens: the source's max_tokens is its input limit, and
		// the few max_output_tokens it gives embedding models are copies of that.
		rec.MaxOutputTokens = 0
		if rec.Dimensions, err = wholeCount(obj, "output_vector_size"); err != nil {
			return rec, false, nil, err
		}
		if rec.Output == "" {
			rec.Output = "0" // the source leaves it out for some; no output token is ever billed
		}
	}

	for _, f := range []struct {
		dst   *bool
		field string
	}{
		{&rec.FunctionCalling, "supports_function_calling"},
		{&rec.ResponseSchema, "supports_response_schema"},
		{&rec.Vision, "supports_vision"},
		{&rec.ReasoningFlag, "supports_reasoning"},
		{&rec.PromptCaching, "supports_prompt_caching"},
	} {
		switch v := obj[f.field].(type) {
		case nil:
		case bool:
			*f.dst = v
		default:
			return rec, false, nil, fmt.Errorf("%s: %v is not a boolean", f.field, v)
		}
	}

	for _, f := range []struct{ input, field string }{
		{"image", "supports_vision"}, {"audio", "supports_audio_input"}, {"pdf", "supports_pdf_input"},
	} {
		switch v := obj[f.field].(type) {
		case nil:
		case bool:
			if !v {
				rec.Lacks = append(rec.Lacks, f.input)
			}
		default:
			return rec, false, nil, fmt.Errorf("%s: %v is not a boolean", f.field, v)
		}
	}

	switch v := obj["deprecation_date"].(type) {
	case nil:
	case string:
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return rec, false, nil, fmt.Errorf("deprecation_date %q is not YYYY-MM-DD", v)
		}
		rec.DeprecationDate = v
	default:
		return rec, false, nil, fmt.Errorf("deprecation_date: %v is not a string", v)
	}
	return rec, true, warnings, nil
}

// drop1h empties a 1-hour cache-write price that is not twice the input price, as Anthropic
// bills it, and returns the warning that says so; "" when the price is absent or right.
func drop1h(what string, price *string, input string) string {
	if *price == "" || input == "" {
		return ""
	}
	p, err1 := wire.ParsePrice(*price)
	in, err2 := wire.ParsePrice(input)
	if err1 != nil || err2 != nil || p == 2*in {
		return ""
	}
	w := fmt.Sprintf("%s: %s $%s/M is not twice the input price $%s/M, as Anthropic bills a 1-hour cache write; dropped, so that the 2× rule applies",
		what, fCacheWrite1h, *price, input)
	*price = ""
	return w
}

// perTokenPrice converts a per-token dollar price, as written in the source, to a Price with
// clearbar.PriceFromPerToken, and reports whether the conversion was exact (the source value is a
// whole number of pico-dollars) or rounded.
func perTokenPrice(s string) (p clearbar.Price, exact bool, err error) {
	p, err = clearbar.PriceFromPerToken(s)
	if err != nil {
		return 0, false, err
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, false, fmt.Errorf("invalid per-token price %q", s)
	}
	r.Mul(r, big.NewRat(1_000_000_000_000, 1))
	return p, r.IsInt(), nil
}

// wholeCount reads a non-negative whole count, of tokens or of vector dimensions; JSON numbers
// such as 2000000.0 are accepted.
// An absent or null field is 0.
func wholeCount(obj map[string]any, field string) (int, error) {
	v, present := obj[field]
	if !present || v == nil {
		return 0, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%s: %v is not a number", field, v)
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok || !r.IsInt() || r.Sign() < 0 || !r.Num().IsInt64() || r.Num().Int64() > 1<<31-1 {
		return 0, fmt.Errorf("%s: %s is not a whole non-negative count", field, n)
	}
	return int(r.Num().Int64()), nil
}
