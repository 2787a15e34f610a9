package main

import (
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/trace"
)

// rowWriter is a JSONL or CSV outcomes writer.
type rowWriter interface {
	WriteLine(outcomes.Row, []byte) error
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

// tableFormat returns the format an outcomes table is written to path in: format when given,
// else the one path's extension names, as the readers of tables go by it (outcomes.ReadFile:
// CSV when the name ends in .csv, before any .gz; JSON Lines otherwise). A format the
// extension contradicts is an error, as the file would not read back.
func tableFormat(path, format string) (string, error) {
	if path == "-" {
		path = ""
	}
	named := ""
	switch {
	case outcomes.IsCSV(path):
		named = "csv"
	case slices.Contains([]string{".jsonl", ".json"}, filepath.Ext(strings.TrimSuffix(strings.ToLower(path), ".gz"))):
		named = "jsonl"
	}
	switch {
	case format == "" && named != "":
		return named, nil
	case format == "":
		return "jsonl", nil
	case format != "jsonl" && format != "csv":
		return "", usagef("unknown --format %q: use jsonl or csv", format)
	case named != "" && format != named:
		return "", usagef("--format %s contradicts --out %s, which names a %s file: clearbar reads a table as CSV when its name ends in .csv (or .csv.gz), as JSON Lines otherwise; drop --format to write %s, or name the file %s",
			format, path, formatName[named], formatName[named], withFormat(path, format))
	}
	return format, nil
}

// formatName says what a table format is, for messages.
var formatName = map[string]string{"jsonl": "JSON Lines", "csv": "CSV"}

// withFormat is path with the extension of format, before any .gz: all.csv for all.jsonl and
// csv.
func withFormat(path, format string) string {
	gz := ""
	if strings.HasSuffix(strings.ToLower(path), ".gz") {
		gz, path = path[len(path)-3:], path[:len(path)-3]
	}
	return strings.TrimSuffix(path, filepath.Ext(path)) + "." + format + gz
}

// outcomesUsage lists the outcomes subcommands, for -h and for mistakes.
const outcomesUsage = `Usage: clearbar outcomes COMMAND [flags]

Commands:
  export   decision records from the trace store as outcomes: --trace clearbar.db [--since 30d] [--category C] [--limit N]
           (--category C filters: only the decisions of category C are exported)
  import   benchmark data as outcomes: --routerbench FILE or --routellm FILE [--category C]
           (--category C relabels: every row written gets category C)
  convert  an outcomes file to JSON Lines or CSV: FILE [--format jsonl|csv] [--category C]
           (--category C relabels: every row written gets category C)

Every command writes to standard output, or to --out FILE, as --format jsonl or csv: by default
as the name of --out says (CSV for .csv, JSON Lines for .jsonl, .json or any other name),
gzip-compressed when it ends in .gz (all.csv.gz), and JSON Lines to standard output. A --format
the name contradicts is an error: clearbar reads a table as CSV only when its name ends in .csv
(or .csv.gz). Both formats keep everything an eval writes beside a row: its call's retries,
whether the category's validators alone graded it (graded_by), whether the answer was
simulated or unverified, the checks' verdicts, the error message and the grading fingerprint.
Rows exported from decisions answered by simulated providers (a provider of type simulated, or
serve --simulate, at any --time-scale) say "simulated": true, as eval's rows of simulated
answers do: they measure the spec's own assumptions, and replay --calibrate, validate
calibrate and estimate --measured do not measure with them.
Run "clearbar outcomes COMMAND -h" for a command's flags.`

func (m *Main) runOutcomes(ctx context.Context, args []string) error {
	const usage = "clearbar outcomes export --trace clearbar.db [--since 30d] [--category C (only its decisions)] [--limit N] | import --routerbench|--routellm FILE [--category C (the rows' category)] | convert FILE [--out FILE] [--format jsonl|csv] [--category C (the rows' category)]"
	if len(args) == 0 {
		return usagef("usage: %s", usage)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(m.Stdout, outcomesUsage)
		return nil
	}
	fs := flag.NewFlagSet("outcomes "+args[0], flag.ContinueOnError)
	out := fs.String("out", "", "write to this file instead of standard output; gzip-compressed when its name ends in .gz")
	format := fs.String("format", "", "jsonl or csv (default: csv when the --out name ends in .csv or .csv.gz, else jsonl)")
	var (
		db, since, category, routerbench, routellm *string
		limit                                      *int
		minArgs, maxArgs                           int
	)
	switch args[0] {
	case "export":
		db = fs.String("trace", "clearbar.db", "the decision store to export")
		since = fs.String("since", "30d", "how far back: days (30d), weeks (6w), monthly, or a duration (72h)")
		category = fs.String("category", "", "export only the decisions of this category (a filter; import and convert --category set the rows' category instead)")
		limit = fs.Int("limit", 0, "most decisions to export, the newest first (default: every decision of the window)")
	case "import":
		routerbench = fs.String("routerbench", "", "a RouterBench outcomes.jsonl.gz (../shared/data/routerbench_subset)")
		routellm = fs.String("routellm", "", "a RouteLLM outcomes.jsonl.gz (../shared/data/routellm_evals)")
		category = fs.String("category", "", "set the category of every row written to this spec category, so that estimate --measured uses the rows (a relabel; export --category is a filter)")
	case "convert":
		minArgs, maxArgs = 1, 1
		category = fs.String("category", "", "set the category of every row written to this spec category (a relabel: every row, whatever its category; export --category is a filter)")
	default:
		return usagef("unknown outcomes command %q: use export, import or convert (clearbar outcomes -h lists them)", args[0])
	}
	pos, err := parseArgs(fs, args[1:], minArgs, maxArgs, usage)
	if err != nil {
		return err
	}
	if *format, err = tableFormat(*out, *format); err != nil {
		return err
	}
	var from time.Time
	var store trace.Store
	var importPath string
	var imp func(io.Reader, func(outcomes.Row) error) error
	switch args[0] {
	case "export":
		if *limit < 0 {
			return usagef("--limit %d: give a number of decisions, or 0 for every one", *limit)
		}
		if from, err = windowStart(*since, m.Now()); err != nil {
			return err
		}
		if err := checkTraceStore(*db); err != nil {
			return err
		}
		if store, err = trace.OpenSQLite(*db); err != nil {
			return fmt.Errorf("opening %s: %w", *db, err)
		}
		defer store.Close()
		if err := checkExportCategory(ctx, store, from, *since, *category); err != nil {
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
	dst, done, err := m.output(*out)
	if err != nil {
		return err
	}
	var gz *gzip.Writer
	if *out != "-" && strings.HasSuffix(strings.ToLower(*out), ".gz") {
		// As the readers of tables read such a file: gzip-compressed.
		gz = gzip.NewWriter(dst)
		dst = gz
	}
	w, _ := newRowWriter(dst, *format)
	n, decisions, scaled, simulated, more := 0, 0, 0, 0, false
	// writeLine writes a row read with its JSON line (nil for none), which keeps what eval
	// wrote beside the row that the table's forms keep (retries, graded_by).
	writeLine := func(r outcomes.Row, line []byte) error {
		if args[0] != "export" && *category != "" {
			r.Category = *category
		}
		n++
		return w.WriteLine(r, line)
	}
	write := func(r outcomes.Row) error { return writeLine(r, nil) }
	switch args[0] {
	case "export":
		decisions, more, err = eachDecision(ctx, store, trace.Filter{Since: from, Category: *category}, *limit, func(d *clearbar.Decision) error {
			if d.TimeScale > 0 {
				scaled++
			}
			if outcomes.DecisionSimulated(d, "") {
				simulated++
			}
			// Answered by simulated providers at a time scale (serve --time-scale), the rows
			// hold the simulated latencies, which the spec's assumptions speak of. A row of a
			// simulated provider's answer says so ("simulated": true), as eval's do.
			for _, r := range outcomes.FromDecision(d) {
				if err := writeLine(r, outcomes.DecisionLine(d, r)); err != nil {
					return err
				}
			}
			return nil
		})
	case "import":
		err = importFile(importPath, imp, write)
	case "convert":
		err = outcomes.ReadFileLines(pos[0], writeLine)
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if gz != nil {
		if cerr := gz.Close(); err == nil {
			err = cerr
		}
	}
	err = done(err)
	if err != nil {
		return err
	}
	switch {
	case args[0] == "export" && *out != "":
		fmt.Fprintf(m.Stderr, "wrote %d rows (one per model call) from %d decisions to %s\n", n, decisions, *out)
	case *out != "":
		fmt.Fprintf(m.Stderr, "wrote %d rows to %s\n", n, *out)
	}
	if scaled > 0 {
		fmt.Fprintf(m.Stderr, "clearbar outcomes: %d decision(s) were answered by simulated providers at a time scale (serve --time-scale): their rows' latencies are divided by it, to be the simulated ones the spec assumes\n", scaled)
	}
	if simulated > 0 {
		fmt.Fprintf(m.Stderr, "clearbar outcomes: %d decision(s) were answered by simulated providers: their rows say \"simulated\": true, as their answers, latencies and verdicts are drawn from the spec's own assumptions; replay --calibrate and validate calibrate refuse them, and estimate --measured shows them without measuring with them\n", simulated)
	}
	if more {
		fmt.Fprintf(m.Stderr, "clearbar outcomes: exported the newest %d decisions (--limit %d); older ones of the window were left out: raise --limit, or drop it to export them all\n", decisions, *limit)
	}
	return nil
}

// eachDecision passes the decisions of store that match f, newest first, to fn, and stops
// after limit of them (0: no limit); f's Limit is its own (see trace.Each). It returns how many
// decisions fn got, and whether more matched beyond limit.
func eachDecision(ctx context.Context, store trace.Store, f trace.Filter, limit int, fn func(*clearbar.Decision) error) (n int, more bool, err error) {
	errLimit := errors.New("limit reached")
	var fnErr error
	err = trace.Each(ctx, store, f, func(d *clearbar.Decision) error {
		if limit > 0 && n == limit {
			return errLimit
		}
		n++
		fnErr = fn(d)
		return fnErr
	})
	switch {
	case err == errLimit:
		return n, true, nil
	case fnErr != nil:
		return n, false, fnErr
	case err != nil:
		return n, false, fmt.Errorf("reading decisions: %w", err)
	}
	return n, false, nil
}

// checkExportCategory refuses a --category no decision of the window has, listing the
// categories the window has (or, for an empty window, the store's), so that a mistyped name
// is not an empty export.
func checkExportCategory(ctx context.Context, store trace.Store, from time.Time, since, category string) error {
	if category == "" {
		return nil
	}
	ds, err := store.List(ctx, trace.Filter{Since: from, Category: category, Limit: 1})
	if err != nil || len(ds) > 0 {
		return err
	}
	categories := func(from time.Time) (map[string]bool, error) {
		found := map[string]bool{}
		_, _, err := eachDecision(ctx, store, trace.Filter{Since: from}, 0, func(d *clearbar.Decision) error {
			found[d.Category] = true
			return nil
		})
		return found, err
	}
	inWindow, err := categories(from)
	if err != nil {
		return err
	}
	if len(inWindow) > 0 {
		return usagef("--category %q: no decision of the window (--since %s) has that category; its categories: %s", category, since, nameList(inWindow))
	}
	all, err := categories(time.Time{})
	if err != nil {
		return err
	}
	return usagef("--category %q: the window (--since %s) has no decisions at all; the store's categories, over all its time: %s", category, since, nameList(all))
}
