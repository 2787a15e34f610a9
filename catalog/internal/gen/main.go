// Command gen regenerates catalog/catalog.json from LiteLLM's model_prices_and_context_window.json.
//
// It is run by "go generate ./catalog" (see the go:generate directive in catalog/catalog.go):
//
//	go run ./internal/gen -src ../../shared/data/llm_prices/model_prices_and_context_window.json -out catalog.json
//
// It keeps the entries whose mode is "chat" or "responses" and that list both an input and an
// output token price, converts every price exactly (numbers are read as decimal strings, never
// as float64), and writes them sorted by key, one per line. Prices the source gives with more
// precision than a pico-dollar per token are rounded to the nearest one and reported on stderr;
// entries with more than one long-context tier, which the catalogue cannot represent, are
// dropped and reported. Anything malformed in a kept entry is an error naming the entry; the
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
	if err := run(*src, *out, config{Origin: *origin, Date: *date}, os.Stderr); err != nil {
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
	fmt.Fprintf(log, "gen: wrote %s: %d entries of %d in the source (source date %s, %d bytes)\n",
		outPath, sum.Kept, sum.Total, sum.SourceDate, buf.Len())
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

// config holds what the output records about its provenance.
type config struct {
	Origin string // the header's source field
	Date   string // source date to use when the source has no last_updated key
}

// summary reports what generate did.
type summary struct {
	Total      int      // model entries in the source (without sample_spec and last_updated)
	Kept       int      // entries written
	SourceDate string   // the header's source_date
	Warnings   []string // rounded prices and dropped entries, in key order
}

// Upstream field names.
const (
	fInput      = "input_cost_per_token"
	fOutput     = "output_cost_per_token"
	fCacheRead  = "cache_read_input_token_cost"
	fCacheWrite = "cache_creation_input_token_cost"
	fReasoning  = "output_cost_per_reasoning_token"
)

// tierField matches the long-context tier prices, such as input_cost_per_token_above_200k_tokens.
// Variants with a further suffix (…_tokens_priority, …_above_1hr_above_200k_tokens) are other
// service tiers and do not match.
var tierField = regexp.MustCompile(`^(` + fInput + `|` + fOutput + `|` + fCacheRead + `|` + fCacheWrite + `)_above_([0-9]+)(k|m)?_tokens$`)

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
		return sum, errors.New("no chat entries with input and output token prices")
	}
	slices.SortFunc(records, func(a, b wire.Record) int { return strings.Compare(a.Key, b.Key) })
	slices.Sort(sum.Warnings)
	sum.Kept = len(records)

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
	if mode != "chat" && mode != "responses" {
		return rec, false, nil, nil
	}
	if obj[fInput] == nil || obj[fOutput] == nil {
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
		{&rec.Reasoning, fReasoning, optional},
	} {
		if *f.dst, err = f.get(f.field); err != nil {
			return rec, false, nil, err
		}
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
		}
		rec.TierThreshold = n
	}
	if len(thresholds) > 1 {
		return rec, false, []string{fmt.Sprintf("%s: dropped: it has %d long-context tiers (%s) and the catalogue can hold one", key, len(thresholds), strings.Join(tierFields, ", "))}, nil
	}
	if rec.InputAbove == "" && rec.OutputAbove == "" && rec.CacheReadAbove == "" && rec.CacheWriteAbove == "" {
		rec.TierThreshold = 0 // a tier whose prices are all zero or null is no tier
	}

	// Limits, falling back to the legacy max_tokens as the source's sample_spec documents.
	legacy, err := tokenCount(obj, "max_tokens")
	if err != nil {
		return rec, false, nil, err
	}
	if rec.MaxInputTokens, err = tokenCount(obj, "max_input_tokens"); err != nil {
		return rec, false, nil, err
	}
	if rec.MaxOutputTokens, err = tokenCount(obj, "max_output_tokens"); err != nil {
		return rec, false, nil, err
	}
	if rec.MaxInputTokens == 0 {
		rec.MaxInputTokens = legacy
	}
	if rec.MaxOutputTokens == 0 {
		rec.MaxOutputTokens = legacy
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

// tokenCount reads a non-negative whole token count; JSON numbers such as 2000000.0 are accepted.
// An absent or null field is 0.
func tokenCount(obj map[string]any, field string) (int, error) {
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
		return 0, fmt.Errorf("%s: %s is not a whole token count", field, n)
	}
	return int(r.Num().Int64()), nil
}
