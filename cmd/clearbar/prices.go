package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/clearbar/clearbar/spec"
)

func (m *Main) runPrices(ctx context.Context, args []string) error {
	const usage = "clearbar prices SPEC.yaml"
	pos, err := parseArgs(flag.NewFlagSet("prices", flag.ContinueOnError), args, 1, 1, usage)
	if err != nil {
		return err
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
		cell := func(i int) string {
			if lines[i].Effective == 0 && i >= 2 {
				return "-"
			}
			return lines[i].Effective.String()
		}
		ctxw := "-"
		if r.ContextWindow > 0 {
			ctxw = spec.TokensK(r.ContextWindow)
		}
		// Above a long-context threshold the catalogue prices a request's tokens higher; the
		// estimate and the gateway's costs use those prices for such requests.
		long := "-"
		if p := r.Prices; p.TierThreshold > 0 {
			in, out := cmp.Or(p.InputAbove, p.Input), cmp.Or(p.OutputAbove, p.Output) // 0 keeps the base price
			long = fmt.Sprintf("above %s: %s in, %s out", spec.TokensK(p.TierThreshold), in, out)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", mod.Name, mod.Provider.Name, key, cell(0), cell(1), cell(2), cell(4), long, ctxw, strings.Join(diffs, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if differs > 0 {
		fmt.Fprintf(m.Stdout, "\n%d model(s) differ from the catalogue; estimates and routing use the spec's values.\n", differs)
	}
	// The gateway bills the searches Anthropic's web search tool reports, at the catalogue's
	// price per search.
	var searches []string
	for _, mod := range s.Models {
		if p := mod.Resolved.Prices.WebSearch; p > 0 && mod.Resolved.Provider != nil && cmp.Or(mod.Resolved.Provider.SimulatedType, mod.Resolved.Provider.Type) == "anthropic" {
			searches = append(searches, mod.Name+" "+p.String())
		}
	}
	if len(searches) > 0 {
		fmt.Fprintf(m.Stdout, "\nEach search of Anthropic's web search tool is billed on top of the tokens: %s a search.\n", strings.Join(searches, ", "))
	}
	return nil
}
