package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/review"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/trace"
)

// runReview compares a window of recorded traffic with the spec. Its exit status is made for
// cron and CI: 0 when no trigger fired, 1 when action is needed, 2 when the review could not
// be made (a usage mistake, an unreadable spec or trace store). So that 1 means only "action
// needed", every error is reported as a usage error, which exits 2.
func (m *Main) runReview(ctx context.Context, args []string) error {
	const usage = "clearbar review SPEC.yaml [--trace FILE] [--since 30d] [--format md|html|json] [--out FILE] [--alpha 0.01] [--tolerance 5%] [--today YYYY-MM-DD]"
	fs := flag.NewFlagSet("review", flag.ContinueOnError)
	db := fs.String("trace", "", "the decision store to read (default: the spec's server.trace, as serve writes it, else clearbar.db)")
	since := fs.String("since", "30d", "the window to review, back from now: days (30d), weeks (6w), monthly or quarterly, or a duration (72h)")
	format := fs.String("format", "", "report format: "+strings.Join(review.Formats, ", ")+" (default md, or html when --out ends in .html)")
	out := fs.String("out", "", "write the report to this file instead of standard output")
	alpha := fs.Float64("alpha", review.DefaultAlpha, "false-alarm level: the chance that traffic behaving as the spec assumes fires any statistical trigger")
	tolerance := fs.String("tolerance", "5%", "how far cost, tokens and latency must be shown to move from the assumptions to count (0 for any significant difference)")
	today := fs.String("today", "", "review as of the end of this day (YYYY-MM-DD): the window ends there and review dates are judged against it")
	seed := fs.Uint64("seed", 0, "random seed of the estimates (default: the estimator's)")
	pos, err := parseArgs(fs, args, 1, 1, usage)
	if err != nil {
		return err
	}
	if *alpha <= 0 || *alpha >= 0.5 {
		return usagef("--alpha %g: write a false-alarm level between 0 and 0.5, like 0.01", *alpha)
	}
	tol, err := parseFraction(*tolerance)
	if err != nil || tol >= 1 {
		return usagef("--tolerance %q: write a relative difference like 5%% (or 0)", *tolerance)
	}
	if tol == 0 {
		tol = -1 // none
	}
	f := *format
	if f == "" && strings.HasSuffix(*out, ".html") {
		f = "html"
	}
	if f == "markdown" {
		f = "md"
	}
	if f != "" && !validReviewFormat(f) {
		return usagef("unknown --format %q: use one of %s", f, strings.Join(review.Formats, ", "))
	}
	day, err := m.today(*today)
	if err != nil {
		return err
	}
	until := m.Now()
	if *today != "" {
		until = day.AddDate(0, 0, 1)
	}
	from, err := windowStart(*since, until)
	if err != nil {
		return err
	}
	rep, err := m.review(ctx, pos[0], *db, review.Options{Alpha: *alpha, Tolerance: tol, Today: day, Since: from, Until: until, Seed: *seed})
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return err
		}
		return &usageError{msg: err.Error()}
	}
	w, done, err := m.output(*out)
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	if err := done(review.Write(w, rep, f)); err != nil {
		return &usageError{msg: err.Error()}
	}
	summary := "no action needed: no trigger fired"
	if rep.ActionNeeded {
		summary = fmt.Sprintf("action needed: %d trigger(s) fired", len(rep.Triggers))
	}
	if *out != "" && *out != "-" {
		summary = fmt.Sprintf("wrote %s (%s)", *out, summary)
	}
	fmt.Fprintf(m.Stderr, "%s; %d requests reviewed\n", summary, rep.Requests)
	if rep.ActionNeeded {
		return errFailed
	}
	return nil
}

// review loads the spec, reads the window from the trace store and reviews it.
func (m *Main) review(ctx context.Context, specFile, db string, opts review.Options) (*review.Report, error) {
	s, err := m.loadSpec(specFile, opts.Today)
	if err != nil {
		var se spec.Errors
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%d problem(s) in the spec:\n%w", len(se), se)
		}
		return nil, err
	}
	if db == "" {
		db = firstNonEmpty(s.TracePath(), "clearbar.db")
		if db == "none" {
			return nil, fmt.Errorf("%s keeps no decisions (server.trace: none): name a trace store with --trace", specFile)
		}
	}
	// OpenSQLite would create a missing file: an empty store reviews as "no traffic".
	if _, err := os.Stat(db); err != nil {
		return nil, fmt.Errorf("no trace store: %w", err)
	}
	store, err := trace.OpenSQLite(db)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", db, err)
	}
	defer store.Close()
	r := review.New(s, opts)
	if err := review.Read(ctx, store, opts.Since, opts.Until, func(d *clearbar.Decision) { r.Add(d) }); err != nil {
		return nil, err
	}
	return r.Run(ctx)
}

func validReviewFormat(f string) bool {
	for _, v := range review.Formats {
		if v == f {
			return true
		}
	}
	return false
}

// windowStart returns the start of a window that ends at until: --since is a Go duration
// ("72h"), a number of days or weeks ("30d", "6w") or a cadence ("monthly").
func windowStart(since string, until time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(since); err == nil && d > 0 {
		return until.Add(-d), nil
	}
	if c, err := spec.ParseCadence(since); err == nil {
		return until.AddDate(0, -c.Months, -c.Days), nil
	}
	return time.Time{}, usagef("--since %q: write days (30d), weeks (6w), monthly, or a duration (72h)", since)
}
