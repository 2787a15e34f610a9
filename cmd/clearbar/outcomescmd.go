package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/trace"
)

// rowWriter is a JSONL or CSV outcomes writer.
type rowWriter interface {
	Write(outcomes.Row) error
	Flush() error
}

func newRowWriter(w io.Writer, format string) (rowWriter, error) {
	switch format {
	case "", "jsonl":
		return outcomes.NewWriter(w), nil
	case "csv":
		return outcomes.NewCSVWriter(w), nil
	}
	return nil, usagef("unknown --format %q: use jsonl or csv", format)
}

// outcomesUsage lists the outcomes subcommands, for -h and for mistakes.
const outcomesUsage = `Usage: clearbar outcomes COMMAND [flags]

Commands:
  export   decision records from the trace store as outcomes: --trace clearbar.db [--since 30d] [--category C]
  import   benchmark data as outcomes: --routerbench FILE or --routellm FILE [--category C]
  convert  an outcomes file to JSON Lines or CSV: FILE [--format jsonl|csv] [--category C]

Every command writes to standard output, or to --out FILE, as --format jsonl (the default) or csv.
Run "clearbar outcomes COMMAND -h" for a command's flags.`

func (m *Main) runOutcomes(ctx context.Context, args []string) error {
	const usage = "clearbar outcomes export --trace clearbar.db [--since 30d] [--category C] | import --routerbench|--routellm FILE [--category C] | convert FILE [--format jsonl|csv] [--out FILE] [--category C]"
	if len(args) == 0 {
		return usagef("usage: %s", usage)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(m.Stdout, outcomesUsage)
		return nil
	}
	fs := flag.NewFlagSet("outcomes "+args[0], flag.ContinueOnError)
	out := fs.String("out", "", "write to this file instead of standard output")
	format := fs.String("format", "jsonl", "jsonl or csv")
	var (
		db, since, category, routerbench, routellm *string
		limit                                      *int
		minArgs, maxArgs                           int
	)
	switch args[0] {
	case "export":
		db = fs.String("trace", "clearbar.db", "the decision store to export")
		since = fs.String("since", "30d", "how far back: days (30d), weeks (6w), monthly, or a duration (72h)")
		category = fs.String("category", "", "only this category")
		limit = fs.Int("limit", trace.MaxLimit, "most decisions to export")
	case "import":
		routerbench = fs.String("routerbench", "", "a RouterBench outcomes.jsonl.gz (../shared/data/routerbench_subset)")
		routellm = fs.String("routellm", "", "a RouteLLM outcomes.jsonl.gz (../shared/data/routellm_evals)")
		category = fs.String("category", "", "set the category of every row written to this spec category, so that estimate --measured uses the rows")
	case "convert":
		minArgs, maxArgs = 1, 1
		category = fs.String("category", "", "set the category of every row written to this spec category")
	default:
		return usagef("unknown outcomes command %q: use export, import or convert (clearbar outcomes -h lists them)", args[0])
	}
	pos, err := parseArgs(fs, args[1:], minArgs, maxArgs, usage)
	if err != nil {
		return err
	}
	if _, err := newRowWriter(io.Discard, *format); err != nil {
		return err
	}
	var from time.Time
	var importPath string
	var imp func(io.Reader, func(outcomes.Row) error) error
	switch args[0] {
	case "export":
		if from, err = windowStart(*since, m.Now()); err != nil {
			return err
		}
		if err := checkTraceStore(*db); err != nil {
			return err
		}
	case "import":
		switch {
		case *routerbench != "" && *routellm == "":
			importPath, imp = *routerbench, outcomes.ImportRouterBench
		case *routellm != "" && *routerbench == "":
			importPath, imp = *routellm, outcomes.ImportRouteLLM
		default:
			return usagef("give one of --routerbench FILE or --routellm FILE")
		}
	}
	dst, closeOut, err := m.output(*out)
	if err != nil {
		return err
	}
	w, _ := newRowWriter(dst, *format)
	n := 0
	write := func(r outcomes.Row) error {
		if args[0] != "export" && *category != "" {
			r.Category = *category
		}
		n++
		return w.Write(r)
	}
	switch args[0] {
	case "export":
		err = func() error {
			store, err := trace.OpenSQLite(*db)
			if err != nil {
				return fmt.Errorf("opening %s: %w", *db, err)
			}
			defer store.Close()
			ds, err := store.List(ctx, trace.Filter{Since: from, Category: *category, Limit: *limit})
			if err != nil {
				return err
			}
			for _, d := range ds {
				for _, r := range outcomes.FromDecision(d) {
					if err := write(r); err != nil {
						return err
					}
				}
			}
			return nil
		}()
	case "import":
		err = importFile(importPath, imp, write)
	case "convert":
		err = outcomes.ReadFile(pos[0], write)
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err == nil && *out != "" {
		fmt.Fprintf(m.Stderr, "wrote %d rows to %s\n", n, *out)
	}
	return err
}
