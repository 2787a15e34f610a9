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
	limit := fs.Int("limit", 100, "most decisions to list")
	format := fs.String("format", "text", "text or json")
	if _, err := parseArgs(fs, args, 0, 0, usage); err != nil {
		return err
	}
	from, err := windowStart(*since, m.Now())
	if err != nil {
		return err
	}
	if err := checkTraceStore(*db); err != nil {
		return err
	}
	store, err := trace.OpenSQLite(*db)
	if err != nil {
		return fmt.Errorf("opening %s: %w", *db, err)
	}
	defer store.Close()
	ds, err := store.List(ctx, trace.Filter{Since: from, Category: *category, Flagged: true, Limit: *limit})
	if err != nil {
		return err
	}
	if *format == "json" {
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
	fmt.Fprintf(m.Stdout, "\n%d decision(s) flagged for review; clearbar explain ID shows one in full\n", len(ds))
	return nil
}
