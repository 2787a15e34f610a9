package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/catalog"
	"github.com/clearbar/clearbar/spec"
)

func (m *Main) runPrices(ctx context.Context, args []string) error {
	const usage = "clearbar prices SPEC.yaml | clearbar prices --catalog [SEARCH]"
	fs := flag.NewFlagSet("prices", flag.ContinueOnError)
	list := fs.Bool("catalog", false, "list the price catalogue's models (those whose key or provider contains SEARCH, when given), for a spec's model: and catalog: fields")
	pos, err := parseArgs(fs, args, 0, 1, usage)
	if err != nil {
		return err
	}
	if *list {
		search := ""
		if len(pos) == 1 {
			search = pos[0]
		}
		return m.listCatalog(search)
	}
	if len(pos) != 1 {
		return usagef("name a spec, or list the catalogue with --catalog: %s", usage)
	}
	s, err := m.loadSpec(pos[0], m.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Effective prices in dollars per million tokens (catalogue of %s, %s)\n\n", s.Catalog.SourceDate(), s.Catalog.Source())
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tPROVIDER\tCATALOGUE KEY\tINPUT\tOUTPUT\tCACHED IN\tREASONING\tLONG CONTEXT\tCONTEXT\tDIFFERS FROM CATALOGUE")
	differs := 0
	for _, mod := range s.Models {
		r := mod.Resolved
		key := r.Catalog.Key
		if !r.InCatalog {
			key = "(none)"
		}
		lines := spec.ModelPrices(mod)
		var diffs []string
		for _, l := range lines {
			if l.Differs {
				diffs = append(diffs, l.Name+" "+l.Change())
			}
		}
		if t := spec.TierChange(mod); t != "" {
			diffs = append(diffs, t)
		}
		diffs = append(diffs, spec.LimitChanges(mod)...)
		if len(diffs) > 0 {
			differs++
		}
		// cell is a price line by its name ("input", "reasoning"), "-" for an optional one
		// that is not set.
		cell := func(name string) string {
			i := slices.IndexFunc(lines, func(l spec.PriceLine) bool { return l.Name == name })
			if i < 0 {
				panic("no price line " + name)
			}
			if lines[i].Effective == 0 && name != "input" && name != "output" {
				return "-"
			}
			return lines[i].Effective.String()
		}
		ctxw := "-"
		if r.ContextWindow > 0 {
			ctxw = tokenCount(r.ContextWindow)
		}
		// Above a long-context threshold the catalogue prices a request's tokens higher; the
		// estimate and the gateway's costs use those prices for such requests.
		p := r.Prices
		long := longContext(p.TierThreshold, p.Input, p.Output, p.InputAbove, p.OutputAbove)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", mod.Name, mod.Provider.Name, key, cell("input"), cell("output"), cell("cached input"), cell("reasoning"), long, ctxw, strings.Join(diffs, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if differs > 0 {
		fmt.Fprintf(m.Stdout, "\n%d model(s) differ from the catalogue; estimates and routing use the spec's values.\n", differs)
	}
	// Beyond tokens, the gateway bills 1-hour cache writes (Anthropic) at their own price, and
	// web searches (Anthropic's web search tool, OpenAI's search models, Gemini's grounding with
	// Google Search) at the catalogue's price per search or per grounded prompt.
	var writes1h, searches []string
	for _, mod := range s.Models {
		p := mod.Resolved.Prices
		typ := ""
		if mod.Resolved.Provider != nil {
			typ = cmp.Or(mod.Resolved.Provider.SimulatedType, mod.Resolved.Provider.Type)
		}
		if typ == "anthropic" {
			if p.CacheWrite1h > 0 {
				writes1h = append(writes1h, mod.Name+" "+p.CacheWrite1h.String())
			} else {
				writes1h = append(writes1h, mod.Name+" "+(2*p.Input).String()+" (twice input; not in catalogue)")
			}
		}
		if p.WebSearch <= 0 {
			continue
		}
		price := p.WebSearch.String()
		if p.WebSearchLow != 0 || p.WebSearchHigh != 0 {
			price = fmt.Sprintf("%s (low context %s, high %s)", price, p.WebSearchPrice("low"), p.WebSearchPrice("high"))
		}
		switch typ {
		case "anthropic":
			searches = append(searches, mod.Name+" "+price+" a search")
		case "openai", "azure-openai":
			searches = append(searches, mod.Name+" "+price+" a call with web search")
		case "gemini":
			if p.WebSearchPerQuery {
				searches = append(searches, mod.Name+" "+price+" a grounding query")
			} else {
				searches = append(searches, mod.Name+" "+price+" a grounded prompt")
			}
		}
	}
	if len(writes1h) > 0 {
		fmt.Fprintf(m.Stdout, "\nPrompt tokens written to Anthropic's 1-hour cache are billed at their own price per million tokens: %s.\n", strings.Join(writes1h, ", "))
	}
	if len(searches) > 0 {
		fmt.Fprintf(m.Stdout, "\nWeb searches are billed on top of the tokens: %s.\n", strings.Join(searches, ", "))
	}
	return nil
}

// listCatalog writes the catalogue's chat and embedding models whose key or provider contains
// search (case-insensitively; every model for ""), with their prices per million tokens and
// context windows: the ids a spec's model: (or catalog:) names.
func (m *Main) listCatalog(search string) error {
	cat := catalog.Default()
	search = strings.ToLower(search)
	var rows []catalog.Entry
	for e := range cat.All() {
		if search == "" || strings.Contains(strings.ToLower(e.Key), search) || strings.Contains(strings.ToLower(e.Provider), search) {
			rows = append(rows, e)
		}
	}
	if len(rows) == 0 {
		return usagef("no model of the catalogue has %q in its key or provider; try a shorter search, such as a vendor (openai, anthropic, gemini)", search)
	}
	slices.SortFunc(rows, func(a, b catalog.Entry) int {
		return cmp.Or(strings.Compare(a.Provider, b.Provider), strings.Compare(a.Key, b.Key))
	})
	fmt.Fprintf(m.Stdout, "Price catalogue (%s, %s): %d model(s), in dollars per million tokens\n\n", cat.SourceDate(), cat.Source(), len(rows))
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tPROVIDER\tMODE\tINPUT\tOUTPUT\tCACHED IN\tLONG CONTEXT\tCONTEXT")
	for _, e := range rows {
		cached, ctxw := "-", "-"
		if e.CachedInput > 0 {
			cached = e.CachedInput.String()
		}
		if e.MaxInputTokens > 0 {
			ctxw = tokenCount(e.MaxInputTokens)
		}
		long := longContext(e.TierThreshold, e.Input, e.Output, e.InputAbove, e.OutputAbove)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Key, e.Provider, e.Mode, e.Input, e.Output, cached, long, ctxw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, "\nA spec names a model by its provider's id (model: gpt-4.1-mini); catalog: KEY picks the entry where the id differs.")
	return nil
}

// longContext writes a long-context tier's prices ("above 200k: $6/M in, $22.5/M out"), or
// "-" without one (threshold 0): above the threshold of input tokens the catalogue prices a
// request's tokens higher, and the estimate and the gateway's costs use those prices for such
// requests. An above price of 0 keeps the base price.
func longContext(threshold int, in, out, inAbove, outAbove clearbar.Price) string {
	if threshold <= 0 {
		return "-"
	}
	return fmt.Sprintf("above %s: %s in, %s out", tokenCount(threshold), cmp.Or(inAbove, in), cmp.Or(outAbove, out))
}

// tokenCount writes a number of tokens (a context window, a threshold) exactly: in thousands
// when it is a round number of them (200k), otherwise in full with thousands separators
// (1,047,576), which spec.TokensK would cut to 1,047k.
func tokenCount(n int) string {
	if n%1000 == 0 {
		return spec.TokensK(n)
	}
	return groupThousands(n)
}
