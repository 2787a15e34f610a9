package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/eval"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/spec"
)

func (m *Main) runEstimate(ctx context.Context, args []string) error {
	const usage = "clearbar estimate SPEC.yaml [--format table|json|csv|markdown|html] [--out FILE] [--samples N] [--seed N] [--volume N] [--sensitivity 20%] [--break-even] [--measured OUTCOMES.jsonl|.csv] [--today YYYY-MM-DD]"
	fs := flag.NewFlagSet("estimate", flag.ContinueOnError)
	format := fs.String("format", "", "report format: "+strings.Join(estimate.Formats, ", ")+" (default: the one --out's extension names, else table)")
	out := fs.String("out", "", "write the report to this file instead of standard output; without --format its extension sets the format: "+outExtensions())
	samples := fs.Int("samples", estimate.DefaultSamples, fmt.Sprintf("Monte Carlo samples per policy, split over categories (at least %d per category)", estimate.MinCategorySamples))
	seed := seedFlag(estimate.DefaultSeed)
	fs.Var(&seed, "seed", "random seed, a whole number from 1 to 18446744073709551615; the same seed gives the same report")
	volume := fs.Int64("volume", 0, "requests per month for monthly figures; with pipelines, user requests, each making the spec's calls per user request (default: the spec's volume)")
	sens := fs.String("sensitivity", "", "move each input by this much (like 20%) and report which moves change the recommendation")
	breakEven := fs.Bool("break-even", false, "also search how far each input can move, alone, before the recommendation changes, and before the recommended policy's routes do (with --sensitivity, else at 20%)")
	today := fs.String("today", "", "date the report and judge reviews as of this day (YYYY-MM-DD)")
	measuredFile := fs.String("measured", "", "an outcomes table (JSON Lines, or CSV when the name ends in .csv; .gz too) whose measured pass rates, latencies, tokens and failures replace the spec's assumptions")
	pos, err := parseArgs(fs, args, 1, 1, usage)
	if err != nil {
		return err
	}
	day, err := m.today(*today)
	if err != nil {
		return err
	}
	opts := estimate.Options{Samples: *samples, Seed: uint64(seed), Volume: *volume, Today: day}
	if *sens != "" {
		if opts.Sensitivity, err = parseFraction(*sens); err != nil || opts.Sensitivity <= 0 || opts.Sensitivity >= 1 {
			// A move of 100% or more would take prices and latencies down to nothing.
			return usagef("--sensitivity %q: write a move above 0%% and below 100%%, like 20%%", *sens)
		}
	}
	if *breakEven && opts.Sensitivity == 0 {
		opts.Sensitivity = defaultSensitivity
	}
	volumeSet := false
	fs.Visit(func(f *flag.Flag) { volumeSet = volumeSet || f.Name == "volume" })
	if volumeSet && *volume < 1 {
		return usagef("--volume %d: write the requests a month, at least 1, like --volume 1000000; leave --volume out to use the spec's volume", *volume)
	}
	f := *format
	if f == "" && *out != "" && *out != "-" {
		// The format follows the file's extension, as a user naming report.json expects; an
		// extension that names no format is not a reason to write a table into report.pdf.
		var ok bool
		if f, ok = outFormat(*out); !ok {
			return usagef("--out %s: %q is not a report format's extension: use one of %s, or give --format", *out, filepath.Ext(*out), outExtensions())
		}
	}
	if f != "" && !validFormat(f) {
		return usagef("unknown --format %q: use one of %s", f, strings.Join(estimate.Formats, ", "))
	}
	if err := checkOutFormat(*out, *format); err != nil {
		return err
	}
	s, err := m.loadSpec(pos[0], day)
	if err != nil {
		return err
	}
	if err := checkSamples(*samples, pos[0], s); err != nil {
		return err
	}
	var measuredNotes []string // what the --measured table's rows are, for the report's notes
	if *measuredFile != "" {
		obs, csvEval, err := readObservations(*measuredFile)
		if errors.Is(err, errNoRows) {
			// Said first, as nothing the report shows is measured.
			empty := fmt.Sprintf("%s has no rows: nothing is measured, and the estimate is the spec's assumptions alone", *measuredFile)
			fmt.Fprintf(m.Stderr, "warning: --measured %s\n", empty)
			measuredNotes, err = append(measuredNotes, empty), nil
		}
		if err != nil {
			return err
		}
		if csvEval > 0 {
			fmt.Fprintf(m.Stderr, "warning: %d graded eval rows of %s are read as grades: a CSV does not say which of them the category's validators graded alone, whose pass the estimate would correct for the validators' strength; give --measured the JSON Lines file clearbar eval wrote\n", csvEval, *measuredFile)
		}
		opts.Measured, opts.MeasuredFrom = estimate.Measure(s, obs), *measuredFile
		if note := opts.Measured.SimulatedNote(*measuredFile); note != "" {
			measuredNotes = append(measuredNotes, note)
		}
	}
	r, err := estimate.Run(ctx, s, opts)
	if err != nil {
		return err
	}
	if opts.Measured != nil {
		measuredNotes = append(measuredNotes, opts.Measured.UnmatchedNotes(s, *measuredFile)...)
		r.Notes = append(r.Notes, measuredNotes...)
	}
	if *breakEven {
		if err := estimate.FindBreakEvens(ctx, r); err != nil {
			return err
		}
	}
	w, done, err := m.output(*out)
	if err != nil {
		return err
	}
	if err := done(estimate.Write(w, r, f)); err != nil {
		return err
	}
	if f == "csv" {
		// A CSV report is the policies' table and has no place for them: the spec's warnings
		// go to stderr.
		for _, w := range r.Warnings {
			fmt.Fprintf(m.Stderr, "warning: %s\n", w)
		}
		if r.Measured != nil {
			for _, n := range append(measuredNotes, r.Measured.ContradictionLines()...) {
				fmt.Fprintf(m.Stderr, "measured: %s\n", n)
			}
		}
	}
	if *out != "" && *out != "-" {
		fmt.Fprintf(m.Stderr, "wrote %s (recommended: %s)\n", *out, r.Recommended)
	}
	return nil
}

// defaultSensitivity is the move of --sensitivity that --break-even implies when it is not
// given: the break-even search builds on the sensitivity's inputs.
const defaultSensitivity = 0.2

// seedFlag is the --seed flag: a whole number from 1 up, with an error that says so (the
// flag package's own says only "parse error").
type seedFlag uint64

func (s *seedFlag) String() string { return strconv.FormatUint(uint64(*s), 10) }

func (s *seedFlag) Set(v string) error {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil || n == 0 {
		return fmt.Errorf("the seed is a whole number from 1 to %d, like --seed 7", uint64(math.MaxUint64))
	}
	*s = seedFlag(n)
	return nil
}

// groupThousands writes n with thousands separators: 6,000.
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// outFormats are the file extensions that name a report format, for --out without --format.
var outFormats = []struct{ ext, format string }{
	{".txt", "table"}, {".html", "html"}, {".htm", "html"}, {".json", "json"},
	{".csv", "csv"}, {".md", "markdown"}, {".markdown", "markdown"},
}

// outFormat returns the report format the extension of path names, in any case: table for a
// path without one.
func outFormat(path string) (string, bool) {
	ext := strings.ToLower(filepath.Ext(path))
	if ext == "" {
		return "table", true
	}
	for _, o := range outFormats {
		if o.ext == ext {
			return o.format, true
		}
	}
	return "", false
}

// outExtensions lists the extensions outFormat knows, for help and errors: ".txt (table),
// .html, …".
func outExtensions() string {
	var exts []string
	for _, o := range outFormats {
		e := o.ext
		if o.format == "table" {
			e += " (table)"
		}
		exts = append(exts, e)
	}
	return strings.Join(exts, ", ")
}

// checkOutFormat refuses a --format that contradicts the format --out's extension names (CSV
// into report.json), as outcomes refuses one (tableFormat): a file named for one format and
// holding another is read wrongly by whatever opens it. A name without an extension, or with
// one that names no format, contradicts nothing.
func checkOutFormat(out, format string) error {
	if format == "" || out == "" || out == "-" || filepath.Ext(out) == "" {
		return nil
	}
	named, ok := outFormat(out)
	if !ok {
		return nil
	}
	if given := canonicalFormat(format); given != named {
		return usagef("--format %s contradicts --out %s, which names a %s report by its extension: drop --format to write %s, or name the file %s",
			format, out, named, named, strings.TrimSuffix(out, filepath.Ext(out))+formatExt(given))
	}
	return nil
}

// canonicalFormat is the report format an alias names: table for text, markdown for md.
func canonicalFormat(f string) string {
	switch f {
	case "text":
		return "table"
	case "md":
		return "markdown"
	}
	return f
}

// formatExt is the first extension outFormats gives format.
func formatExt(format string) string {
	for _, o := range outFormats {
		if o.format == format {
			return o.ext
		}
	}
	return "." + format
}

func validFormat(f string) bool {
	for _, v := range append(estimate.Formats, "md", "text") {
		if v == f {
			return true
		}
	}
	return false
}

// errNoRows is readObservations' error for a table without a row.
var errNoRows = errors.New("the outcomes table has no rows")

// readObservations reads an outcomes table (JSON Lines, or CSV: outcomes.ReadFileLines) as
// measurements for the estimator. A row's pass is the validators' verdict, which the estimator
// corrects for their assumed strength, in rows of traffic (decision records, shadow traffic)
// and in eval rows graded by the category's validators alone (which only a JSON Lines row
// says); in other rows it is a grade. csvEval counts the graded eval rows of a CSV, which
// cannot say so. A table without a row is errNoRows.
func readObservations(path string) (obs []estimate.Observation, csvEval int, err error) {
	rows := 0
	err = outcomes.ReadFileLines(path, func(row outcomes.Row, raw []byte) error {
		rows++
		if row.Canceled() {
			return nil // cut by the client or a shutdown: measures no model
		}
		o := estimate.Observation{Category: row.Category, Item: row.Item, Model: row.Model, LatencyMS: row.LatencyMS, TimeScaled: row.TimeScale > 0,
			TokensIn: row.TokensIn, TokensOut: row.TokensOut, TokensCached: row.TokensCached, TokensReasoning: row.TokensReasoning,
			TokensEstimated: row.TokensEstimated, Cost: row.Cost, Failed: row.Error != "",
			ByValidator: row.Source == outcomes.SourceTrace || row.Source == outcomes.SourceShadow ||
				row.Source == outcomes.SourceEval && raw != nil && eval.VerdictOnly(raw)}
		// A simulated provider's answer (an eval --simulate, a decision of a simulated
		// provider) is drawn from the spec's assumptions: shown, measuring nothing.
		o.Simulated = raw != nil && eval.SimulatedRow(raw)
		if row.Source == outcomes.SourceEval && raw != nil {
			// An eval row is the pair's last call; the failed calls before it are a count.
			o.Retries = int(gjson.GetBytes(raw, "retries").Int())
		}
		if p, graded := row.Passed(); graded {
			o.Pass = &p
			if row.Source == outcomes.SourceEval && raw == nil {
				csvEval++
			}
		}
		obs = append(obs, o)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if rows == 0 {
		return nil, 0, errNoRows
	}
	return obs, csvEval, nil
}

// checkSamples refuses a --samples below what an estimate of s draws anyway
// (estimate.MinSamples), or above estimate.MaxSamples, saying what to ask for instead. Every
// command that estimates checks it so, so that the flag means the same in each.
func checkSamples(samples int, file string, s *spec.Spec) error {
	if min := estimate.MinSamples(s); samples < min {
		return usagef("--samples %d is below the minimum of %s for %s: each of its %d categories gets at least %s Monte Carlo draws; ask for %s or more",
			samples, groupThousands(min), file, len(s.Categories), groupThousands(estimate.MinCategorySamples), groupThousands(min))
	}
	if samples > estimate.MaxSamples {
		return usagef("--samples %d is above the maximum of %s: at that many draws the simulation's error is far below the assumptions' own, and more only makes the run longer (about a second per 4 million draws); ask for %s or fewer",
			samples, groupThousands(estimate.MaxSamples), groupThousands(estimate.MaxSamples))
	}
	return nil
}

// verdictOnly counts the rows of an outcomes table that eval graded by the category's
// validators alone, whose pass is the validators' verdict rather than a grade
// (eval.VerdictOnly), as a reader of the table reads them (outcomes.ReadFileLines). Rows of
// traffic, whose pass is a verdict too, are counted apart (trafficRow, trafficVerdictNote).
type verdictOnly int

// see counts row, whose line is raw, when it is such a row.
func (n *verdictOnly) see(row outcomes.Row, raw []byte) {
	if row.Source == outcomes.SourceEval && raw != nil && eval.VerdictOnly(raw) {
		*n++
	}
}

// verdictOnlyNote says what a verdictOnly count found, for what (replay, a router) reads their
// pass as a grade; "" when there are none.
func verdictOnlyNote(path string, n verdictOnly, what string) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d rows of %s are eval answers graded by the category's validators alone: their pass is what the validators accepted, not a grade, so %s there; give those items a reference or checks and run clearbar eval again", n, path, what)
}

// trafficRow reports whether row is traffic (a trace export, shadow traffic), whose pass is
// the validators' verdict on the live answer, not a grade.
func trafficRow(row outcomes.Row) bool {
	return row.Source == outcomes.SourceTrace || row.Source == outcomes.SourceShadow
}

// trafficVerdictNote says, as verdictOnlyNote does for eval rows, that n rows of path are
// traffic whose pass is the validators' verdict, for what reads it as a grade; "" when n is 0.
func trafficVerdictNote(path string, n int, what string) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d rows of %s are traffic (trace exports, shadow traffic): their pass is the validators' verdict on the live answer, what the validators accepted, not a grade, so %s there; clearbar estimate --measured and clearbar review correct it for the validators' assumed strength", n, path, what)
}
