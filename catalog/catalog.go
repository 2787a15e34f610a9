// Package catalog is Clearbar's built-in table of model list prices and context windows.
//
// The table is LiteLLM's model_prices_and_context_window.json (MIT licence), reduced to the
// chat (and Responses API) models that list both an input and an output token price and the
// embedding models that list an input token price ([Entry.IsEmbedding]), converted to exact
// integer prices, and embedded in the binary as catalog.json. [Default] returns it; [Parse]
// reads a file in the same format. Regenerate it with
//
//	go generate ./catalog
//
// which runs catalog/internal/gen on ../../shared/data/llm_prices/model_prices_and_context_window.json
// (relative to this directory) and rewrites catalog.json.
//
// Chat and embedding models share one key space (the source's keys are unique across modes),
// so [Catalog.Lookup] and [Catalog.Get] return an embedding entry only for that entry's exact
// key; callers that need a chat model check [Entry.IsEmbedding].
//
// List prices change often and differ between resellers of the same model; a [Catalog] says
// which snapshot it holds ([Catalog.Source], [Catalog.SourceDate]) so that reports can too.
package catalog

//go:generate go run ./internal/gen -src ../../shared/data/llm_prices/model_prices_and_context_window.json -out catalog.json

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/catalog/internal/wire"
)

// Catalog is an immutable set of entries, keyed by catalogue key. All methods are safe for
// concurrent use. A nil or zero Catalog is empty: it has no entries and an empty source.
type Catalog struct {
	header  wire.Header
	entries []Entry        // sorted by Key
	index   map[string]int // Key → position in entries
}

//go:embed catalog.json
var embedded string

// defaultCatalog parses the embedded file on first use.
var defaultCatalog = sync.OnceValue(func() *Catalog {
	c, err := Parse(strings.NewReader(embedded))
	if err != nil {
		panic("catalog: embedded catalog.json is corrupt (run go generate ./catalog): " + err.Error())
	}
	return c
})

// Default returns the catalogue embedded in the binary. It is parsed on the first call (about
// 10 ms; the result holds about 600 KB of heap) and shared by every later call, from any
// goroutine; callers need no copy of their own since a Catalog is immutable. Default panics only
// if the embedded file is corrupt, which the package's tests rule out.
func Default() *Catalog { return defaultCatalog() }

// Parse reads a catalogue in the format of the embedded catalog.json (see package
// catalog/internal/wire). It rejects unknown fields, duplicate keys, malformed prices and
// inconsistent tiers; errors name the offending entry's key. Parse reads r to the end.
func Parse(r io.Reader) (*Catalog, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	// Fast path: decode the records directly. Only if that fails is the document decoded again
	// entry by entry, to say which entry is at fault.
	var doc struct {
		Header  *wire.Header  `json:"header"`
		Entries []wire.Record `json:"entries"`
	}
	if err := decodeStrict(data, &doc); err != nil {
		var raw struct {
			Header  *wire.Header      `json:"header"`
			Entries []json.RawMessage `json:"entries"`
		}
		if rawErr := decodeStrict(data, &raw); rawErr != nil {
			return nil, fmt.Errorf("catalog: %w", rawErr)
		}
		for i, e := range raw.Entries {
			var rec wire.Record
			if recErr := decodeStrict(e, &rec); recErr != nil {
				return nil, fmt.Errorf("catalog: entry %s: %w", nameOf(e, i), recErr)
			}
		}
		return nil, fmt.Errorf("catalog: %w", err)
	}
	if doc.Header == nil {
		return nil, errors.New("catalog: missing header")
	}
	if doc.Header.SourceDate != "" {
		if _, err := time.Parse(time.DateOnly, doc.Header.SourceDate); err != nil {
			return nil, fmt.Errorf("catalog: header: source_date %q is not YYYY-MM-DD", doc.Header.SourceDate)
		}
	}
	c := &Catalog{
		header:  *doc.Header,
		entries: make([]Entry, 0, len(doc.Entries)),
		index:   make(map[string]int, len(doc.Entries)),
	}
	for i, rec := range doc.Entries {
		e, err := entryFromRecord(rec)
		if err != nil {
			name := fmt.Sprintf("#%d", i)
			if rec.Key != "" {
				name = fmt.Sprintf("%q", rec.Key)
			}
			return nil, fmt.Errorf("catalog: entry %s: %w", name, err)
		}
		if _, dup := c.index[e.Key]; dup {
			return nil, fmt.Errorf("catalog: entry %q: duplicate key", e.Key)
		}
		c.index[e.Key] = -1
		c.entries = append(c.entries, e)
	}
	slices.SortFunc(c.entries, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
	for i, e := range c.entries {
		c.index[e.Key] = i
	}
	return c, nil
}

// decodeStrict decodes exactly one JSON value from data into v, rejecting unknown fields and
// trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// nameOf names entry i for an error message: its quoted key if that much can be read.
func nameOf(raw json.RawMessage, i int) string {
	var k struct {
		Key string `json:"key"`
	}
	if json.Unmarshal(raw, &k) == nil && k.Key != "" {
		return fmt.Sprintf("%q", k.Key)
	}
	return fmt.Sprintf("#%d", i)
}

func entryFromRecord(r wire.Record) (Entry, error) {
	if r.Key == "" {
		return Entry{}, errors.New("empty key")
	}
	if r.Provider == "" {
		return Entry{}, errors.New("empty provider")
	}
	e := Entry{
		Key:                     r.Key,
		Provider:                r.Provider,
		Mode:                    r.Mode,
		TierThreshold:           r.TierThreshold,
		MaxInputTokens:          r.MaxInputTokens,
		MaxOutputTokens:         r.MaxOutputTokens,
		SupportsReasoning:       r.ReasoningFlag,
		SupportsFunctionCalling: r.FunctionCalling,
		SupportsResponseSchema:  r.ResponseSchema,
		SupportsVision:          r.Vision,
		SupportsPromptCaching:   r.PromptCaching,
		DeprecationDate:         r.DeprecationDate,
		Dimensions:              r.Dimensions,
	}
	for _, in := range r.Lacks {
		switch in {
		case "image":
			e.NoImageInput = true
		case "audio":
			e.NoAudioInput = true
		case "pdf":
			e.NoPDFInput = true
		default:
			return Entry{}, fmt.Errorf("lacks: unknown input %q", in)
		}
	}
	prices := []struct {
		name     string
		s        string
		dst      *clearbar.Price
		required bool
	}{
		{"input", r.Input, &e.Input, true},
		{"output", r.Output, &e.Output, true},
		{"cache_read", r.CacheRead, &e.CachedInput, false},
		{"cache_write", r.CacheWrite, &e.CacheWrite, false},
		{"reasoning", r.Reasoning, &e.Reasoning, false},
		{"input_above", r.InputAbove, &e.InputAbove, false},
		{"output_above", r.OutputAbove, &e.OutputAbove, false},
		{"cache_read_above", r.CacheReadAbove, &e.CachedInputAbove, false},
		{"cache_write_above", r.CacheWriteAbove, &e.CacheWriteAbove, false},
		{"cache_write_1h", r.CacheWrite1h, &e.CacheWrite1h, false},
		{"cache_write_1h_above", r.CacheWrite1hAbove, &e.CacheWrite1hAbove, false},
	}
	for _, p := range prices {
		if p.s == "" {
			if p.required {
				return Entry{}, fmt.Errorf("missing %s price", p.name)
			}
			continue
		}
		v, err := wire.ParsePrice(p.s)
		if err != nil {
			return Entry{}, fmt.Errorf("%s: %w", p.name, err)
		}
		*p.dst = v
	}
	for _, m := range []struct {
		name string
		s    string
		dst  *clearbar.Money
	}{{"web_search", r.WebSearch, &e.WebSearch}, {"web_search_low", r.WebSearchLow, &e.WebSearchLow}, {"web_search_high", r.WebSearchHigh, &e.WebSearchHigh}} {
		if m.s == "" {
			continue
		}
		v, err := wire.ParseMoney(m.s)
		if err != nil {
			return Entry{}, fmt.Errorf("%s: %w", m.name, err)
		}
		*m.dst = v
	}
	e.WebSearchPerQuery = r.WebSearchPerQuery
	switch r.Mode {
	case ModeChat, ModeResponses:
		if e.Dimensions != 0 {
			return Entry{}, fmt.Errorf("output_vector_size on a %s model: only embedding models have one", r.Mode)
		}
	case ModeEmbedding:
		if e.Dimensions < 0 {
			return Entry{}, fmt.Errorf("negative output_vector_size %d", e.Dimensions)
		}
		if e.MaxOutputTokens != 0 {
			return Entry{}, errors.New("max_output_tokens on an embedding model, which has no output tokens")
		}
	default:
		return Entry{}, fmt.Errorf("mode %q is not \"chat\", \"responses\" or \"embedding\"", r.Mode)
	}
	hasAbove := e.InputAbove != 0 || e.OutputAbove != 0 || e.CachedInputAbove != 0 || e.CacheWriteAbove != 0 || e.CacheWrite1hAbove != 0
	switch {
	case e.TierThreshold < 0:
		return Entry{}, fmt.Errorf("negative tier_threshold %d", e.TierThreshold)
	case e.TierThreshold > 0 && !hasAbove:
		return Entry{}, fmt.Errorf("tier_threshold %d without any *_above price", e.TierThreshold)
	case e.TierThreshold == 0 && hasAbove:
		return Entry{}, errors.New("*_above prices without a tier_threshold")
	}
	if e.MaxInputTokens < 0 || e.MaxOutputTokens < 0 {
		return Entry{}, errors.New("negative token limit")
	}
	if e.DeprecationDate != "" {
		if _, err := time.Parse(time.DateOnly, e.DeprecationDate); err != nil {
			return Entry{}, fmt.Errorf("deprecation_date %q is not YYYY-MM-DD", e.DeprecationDate)
		}
	}
	return e, nil
}

// Source names the upstream file and snapshot the catalogue was generated from, for reports:
// "BerriAI/litellm model_prices_and_context_window.json via RoCry/llm-api-price@8442b939".
func (c *Catalog) Source() string {
	if c == nil {
		return ""
	}
	return c.header.Source
}

// SourceDate is the date of the upstream snapshot, "YYYY-MM-DD" ("2026-07-24"); prices are list
// prices as of that date. It is "" if the file gives none.
func (c *Catalog) SourceDate() string {
	if c == nil {
		return ""
	}
	return c.header.SourceDate
}

// License is the upstream data's licence ("MIT").
func (c *Catalog) License() string {
	if c == nil {
		return ""
	}
	return c.header.License
}

// Len returns the number of entries.
func (c *Catalog) Len() int {
	if c == nil {
		return 0
	}
	return len(c.entries)
}

// Get returns the entry whose catalogue key is exactly key. It does not allocate.
func (c *Catalog) Get(key string) (Entry, bool) {
	if c == nil {
		return Entry{}, false
	}
	i, ok := c.index[key]
	if !ok {
		return Entry{}, false
	}
	return c.entries[i], true
}

// All yields every entry in key order. Entries are copies: changing one does not change the
// catalogue.
func (c *Catalog) All() iter.Seq[Entry] {
	return func(yield func(Entry) bool) {
		if c == nil {
			return
		}
		for _, e := range c.entries {
			if !yield(e) {
				return
			}
		}
	}
}
