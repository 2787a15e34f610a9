package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/atomicfile"
	"github.com/clearbar/clearbar/route"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

// Main is the clearbar program: its I/O and clock are fields so tests run it in-process.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer
	Stdin  io.Reader
	// Now is the clock used for "today" (review dates, report dates).
	Now func() time.Time
	// OnListen, when set, is called with the address serve listens on.
	OnListen func(net.Addr)
}

// NewMain returns a Main wired to the process's standard streams and clock.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, Now: time.Now}
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(m *Main, ctx context.Context, args []string) error
}

func (m *Main) commands() []command {
	return []command{
		{"estimate", "estimate cost, latency, quality and risk of routing policies for a spec", (*Main).runEstimate},
		{"eval", "measure candidate models on a category's eval set: pass rates with 95% intervals, latency, tokens and cost (--update writes them into the spec); eval import makes sets of BFCL and Banking77", (*Main).runEval},
		{"learn", "train a learned score router on outcomes (learn train), or measure one on a held-out half (learn evaluate)", (*Main).runLearn},
		{"replay", "replay routing policies over recorded outcomes: quality, cost and latency per policy, the frontier, APGR and AIQ (--calibrate writes the best setting into the spec)", (*Main).runReplay},
		{"review", "compare recorded traffic with the spec: moved assumptions, triggers, experiments, and the re-estimated policy as a spec diff", (*Main).runReview},
		{"serve", "run the OpenAI-compatible gateway (no spec: the quick start on simulated providers)", (*Main).runServe},
		{"explain", "show a decision record, or what the gateway would decide for a request (--dry-run)", (*Main).runExplain},
		{"keys", "hash an API key for the spec's keys: section", (*Main).runKeys},
		{"outcomes", "export decision records as an outcomes table, import benchmark data, convert JSONL and CSV", (*Main).runOutcomes},
		{"flagged", "list decisions flagged for review (every step failed validation, or a validator keeps failing)", (*Main).runFlagged},
		{"validate", "measure validators' detection and false-alarm rates on labelled outcomes", (*Main).runValidate},
		{"spec", "check a spec, run its golden routing tests, print its JSON Schema, or render it as a routing document", (*Main).runSpec},
		{"prices", "show each model's effective prices and where the spec differs from the catalogue", (*Main).runPrices},
		{"worksheet", "export a spec as a routing worksheet (CSV) or import one", (*Main).runWorksheet},
		{"version", "print the version", (*Main).runVersion},
	}
}

// usageError is a mistake in the command line; it exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// errFailed says the command ran and found problems it has already printed; exit status 1.
var errFailed = errors.New("failed")

// Run runs the command line args and returns the exit status.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 2 && args[0] == "help" {
		args = []string{args[1], "-h"} // clearbar help estimate
	}
	if len(args) == 0 || isHelp(args[0]) {
		m.usage(m.Stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range m.commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(m, ctx, args[1:])
		var ue *usageError
		if len(args) == 2 && isHelp(args[1]) && errors.As(err, &ue) {
			// A command with subcommands (spec, worksheet, outcomes, …) asked for help: its
			// usage line is the help.
			if rest := m.usageOf(ctx, c); rest != "" {
				fmt.Fprintf(m.Stdout, "%s\n\n%s\n", c.summary, rest)
				return 0
			}
		}
		var se spec.Errors
		var he *helpError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &he):
			he.print(m.Stdout)
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(m.Stderr, "clearbar %s: %s\n", c.name, ue.msg)
			return 2
		case errors.As(err, &se):
			fmt.Fprintln(m.Stderr, se.Error())
			fmt.Fprintf(m.Stderr, "%d problem(s) in the spec\n", len(se))
			return 1
		case errors.Is(err, errFailed):
			return 1
		case errors.Is(err, context.Canceled) && ctx.Err() != nil:
			// Ctrl-C or SIGTERM stopped the command.
			fmt.Fprintf(m.Stderr, "clearbar %s: interrupted (Ctrl-C or SIGTERM) before it finished\n", c.name)
			return 130
		default:
			fmt.Fprintf(m.Stderr, "clearbar %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(m.Stderr, "clearbar: unknown command %q\n\n", args[0])
	m.usage(m.Stderr)
	return 2
}

func isHelp(arg string) bool { return arg == "help" || arg == "-h" || arg == "--help" }

// usageOf runs command c without arguments and returns the usage line it answers with ("" when
// it does not answer with one).
func (m *Main) usageOf(ctx context.Context, c command) string {
	var ue *usageError
	if err := c.run(m, ctx, nil); errors.As(err, &ue) && strings.HasPrefix(ue.msg, "usage: ") {
		return "Usage: " + strings.TrimPrefix(ue.msg, "usage: ")
	}
	return ""
}

func (m *Main) usage(w io.Writer) {
	fmt.Fprintln(w, "Clearbar sends each request to the cheapest, fastest model that still clears the quality bar.")
	fmt.Fprintln(w, "\nUsage: clearbar COMMAND [arguments]\n\nCommands:")
	for _, c := range m.commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun \"clearbar COMMAND -h\" for a command's flags. Start with: clearbar estimate examples/quickstart.yaml")
}

// parseArgs parses flags that may come before or after positional arguments, and checks the
// number of positional arguments.
func parseArgs(fs *flag.FlagSet, args []string, minPos, maxPos int, usage string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &helpError{fs: fs, usage: usage}
			}
			return nil, usagef("%v (usage: %s)", err, usage)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	switch {
	case len(pos) < minPos && minPos == 1:
		return nil, usagef("missing argument (usage: %s)", usage)
	case len(pos) < minPos:
		return nil, usagef("%d arguments needed, %d given (usage: %s)", minPos, len(pos), usage)
	case len(pos) > maxPos:
		extra := pos[maxPos:]
		return nil, usagef("unexpected argument %q (usage: %s)", extra[0], usage)
	}
	return pos, nil
}

// helpError prints a command's flags to stdout and exits 0.
type helpError struct {
	fs    *flag.FlagSet
	usage string
}

func (h *helpError) Error() string { return "help requested" }
func (h *helpError) Unwrap() error { return flag.ErrHelp }

// print writes the usage line and the flags, written with two dashes as the usage lines and
// the README write them.
func (h *helpError) print(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s\n", h.usage)
	h.fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// today returns the date from --today or the clock.
func (m *Main) today(flagValue string) (time.Time, error) {
	if flagValue == "" {
		return m.Now(), nil
	}
	t, err := time.Parse(time.DateOnly, flagValue)
	if err != nil {
		return time.Time{}, usagef("--today %q: write YYYY-MM-DD", flagValue)
	}
	return t, nil
}

// loadSpec loads a spec and compiles what the gateway compiles from it: its category rules,
// score routes (learned router files, heuristic weights) and validators (schema files,
// regexps). A spec that loads but would not serve fails here with the same file:line error
// serve gives, so spec check and estimate never pass a spec the gateway refuses.
func (m *Main) loadSpec(file string, today time.Time) (*spec.Spec, error) {
	s, err := spec.Load(file, spec.Options{Today: today})
	if err == nil {
		err = compileSpec(s)
	}
	if err != nil {
		var se spec.Errors
		if errors.As(err, &se) {
			return nil, se
		}
		return nil, err
	}
	return s, nil
}

// compileSpec compiles the spec's rules, routes and validators without providers: no model is
// called, and judges and agreement checks compile against a caller that is never used. What
// the route compiler warns about joins the spec's warnings.
func compileSpec(s *spec.Spec) error {
	r, err := route.New(s)
	if err != nil {
		return err
	}
	if ws := r.Warnings(); len(ws) > 0 {
		s.Warnings = append(s.Warnings, ws...)
		spec.Errors(s.Warnings).Sort()
	}
	_, err = validate.NewChecker(s, validate.Env{Caller: offlineCaller{}})
	return err
}

// offlineCaller is the judge and checker caller of a spec that is only compiled.
type offlineCaller struct{}

func (offlineCaller) Call(context.Context, *spec.Model, *clearbar.Request) (*clearbar.Response, clearbar.Attempt, error) {
	return nil, clearbar.Attempt{}, errors.New("no model is called while a spec is only checked")
}

// parseFraction reads "20%", "0.2" or "20" (as percent when above 1).
func parseFraction(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pctSuffix := strings.HasSuffix(t, "%")
	t = strings.TrimSuffix(t, "%")
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("%q is not a fraction: write 20%% or 0.2", s)
	}
	if pctSuffix || f > 1 {
		f /= 100
	}
	return f, nil
}

// output opens what a command writes its result to: path, or stdout when path is "" or "-".
// done ends the writing with the command's error: a file is written under a temporary name
// beside path and takes its place only when that error is nil, so a command that fails leaves
// an existing file as it was, and one may read the file it writes (outcomes convert x --out x).
// done returns the command's error, or else what finishing the file returned.
func (m *Main) output(path string) (w io.Writer, done func(error) error, err error) {
	if path == "" || path == "-" {
		return m.Stdout, func(err error) error { return err }, nil
	}
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		// A device or a pipe (/dev/stdout, a FIFO) is written as it is: it cannot be renamed.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, nil, err
		}
		return f, func(err error) error { return errors.Join(err, f.Close()) }, nil
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func(err error) error {
		if err != nil {
			f.Abort()
			return err
		}
		return f.Commit()
	}, nil
}

// replaceFile writes data to path atomically (see atomicfile.File).
func replaceFile(path string, data []byte) error { return atomicfile.WriteFile(path, data) }

// checkTraceStore refuses a decision store path that does not exist: opening a store creates a
// missing file, so a mistyped path would read as an empty store and leave a file behind.
func checkTraceStore(path string) error {
	if _, err := os.Stat(path); err != nil {
		return usagef("no trace store at %s: give the decision store clearbar serve writes (its --trace, or the spec's server.trace) with --trace", path)
	}
	return nil
}
