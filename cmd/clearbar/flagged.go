package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/trace"
)

func (m *Main) runFlagged(ctx context.Context, args []string) error {
	const usage = "clearbar flagged [--trace clearbar.db] [--since 7d] [--category NAME] [--limit N] [--format text|json]"
	fs := flag.NewFlagSet("flagged", flag.ContinueOnError)
	db := fs.String("trace", "clearbar.db", "the decision store to read")
	since := fs.String("since", "7d", "how far back to look: days (7d), weeks (2w), monthly, or a duration (72h)")
	category := fs.String("category", "", "only this category")
	limit := fs.Int("limit", trace.DefaultLimit, "most decisions to list, the newest first; 0 lists every one (the count covers them all either way)")
	format := fs.String("format", "text", "text or json")
	if _, err := parseArgs(fs, args, 0, 0, usage); err != nil {
		return err
	}
	from, err := windowStart(*since, m.Now())
	if err != nil {
		return err
	}
	if *limit < 0 {
		return usagef("--limit %d: give a number of decisions, or 0 for every one", *limit)
	}
	if err := checkTraceStore(*db); err != nil {
		return err
	}
	store, err := trace.OpenSQLite(*db)
	if err != nil {
		return fmt.Errorf("opening %s: %w", *db, err)
	}
	defer store.Close()
	// Every flagged decision of the window is counted, and the newest --limit of them kept, so
	// that a list cut short says how many it left out. Counting costs one walk over the
	// window, as a list that finds fewer than --limit always did.
	var ds []*clearbar.Decision
	total := 0
	err = trace.Each(ctx, store, trace.Filter{Since: from, Category: *category, Flagged: true}, func(d *clearbar.Decision) error {
		total++
		if *limit == 0 || len(ds) < *limit {
			ds = append(ds, d)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading decisions: %w", err)
	}
	if *format == "json" {
		if total > len(ds) {
			fmt.Fprintf(m.Stderr, "clearbar flagged: listed the newest %d of %d decisions flagged in the last %s (--limit %d): raise --limit, or give --limit 0 to list them all\n", len(ds), total, *since, *limit)
		}
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if ds == nil {
			ds = []*clearbar.Decision{} // none flagged: an empty list, not null
		}
		return enc.Encode(ds)
	}
	if len(ds) == 0 {
		fmt.Fprintf(m.Stdout, "no decision flagged for review in the last %s\n", *since)
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tDECISION\tCATEGORY\tMODEL\tOUTCOME\tWHY")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Time.Local().Format("2006-01-02 15:04:05"), d.ID, d.Category, d.Model, d.Outcome, d.FlagReason)
	}
	tw.Flush()
	if total > len(ds) {
		fmt.Fprintf(m.Stdout, "\nthe newest %d of %d decisions flagged for review in the last %s (--limit %d): raise --limit, or give --limit 0, to list them all; clearbar explain ID shows one in full\n", len(ds), total, *since, *limit)
		return nil
	}
	fmt.Fprintf(m.Stdout, "\n%d decision(s) flagged for review; clearbar explain ID shows one in full\n", len(ds))
	return nil
}
