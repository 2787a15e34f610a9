package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
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

func (m *Main) runOutcomes(ctx context.Context, args []string) error {
	const usage = "clearbar outcomes export --trace clearbar.db [--since 30d] [--category C] | import --routerbench|--routellm FILE | convert FILE [--format jsonl|csv] [--out FILE]"
	if len(args) == 0 {
		return usagef("usage: %s", usage)
	}
	fs := flag.NewFlagSet("outcomes "+args[0], flag.ContinueOnError)
	out := fs.String("out", "", "write to this file instead of standard output")
	format := fs.String("format", "jsonl", "jsonl or csv")
	var (
		db, category, routerbench, routellm *string
		since                               *time.Duration
		limit                               *int
		minArgs, maxArgs                    int
	)
	switch args[0] {
	case "export":
		db = fs.String("trace", "clearbar.db", "the decision store to export")
		since = fs.Duration("since", 30*24*time.Hour, "how far back")
		category = fs.String("category", "", "only this category")
		limit = fs.Int("limit", trace.MaxLimit, "most decisions to export")
	case "import":
		routerbench = fs.String("routerbench", "", "a RouterBench outcomes.jsonl.gz (../shared/data/routerbench_subset)")
		routellm = fs.String("routellm", "", "a RouteLLM outcomes.jsonl.gz (../shared/data/routellm_evals)")
	case "convert":
		minArgs, maxArgs = 1, 1
	default:
		return usagef("unknown outcomes command %q: use export, import or convert", args[0])
	}
	pos, err := parseArgs(fs, args[1:], minArgs, maxArgs, usage)
	if err != nil {
		return err
	}
	dst, closeOut, err := m.output(*out)
	if err != nil {
		return err
	}
	w, err := newRowWriter(dst, *format)
	if err != nil {
		closeOut()
		return err
	}
	n := 0
	write := func(r outcomes.Row) error {
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
			ds, err := store.List(ctx, trace.Filter{Since: m.Now().Add(-*since), Category: *category, Limit: *limit})
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
		var path string
		var imp func(io.Reader, func(outcomes.Row) error) error
		switch {
		case *routerbench != "" && *routellm == "":
			path, imp = *routerbench, outcomes.ImportRouterBench
		case *routellm != "" && *routerbench == "":
			path, imp = *routellm, outcomes.ImportRouteLLM
		default:
			err = usagef("give one of --routerbench FILE or --routellm FILE")
		}
		if err == nil {
			var f *os.File
			if f, err = os.Open(path); err == nil {
				err = imp(f, write)
				f.Close()
			}
		}
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
