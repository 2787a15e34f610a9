package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/eval"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

func (m *Main) runEval(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "import" {
		return m.runEvalImport(ctx, args[1:])
	}
	const usage = "clearbar eval SPEC.yaml --category NAME --set EVAL.jsonl [--models a,b] [--out FILE] [--concurrency N] [--rate 5/s] [--retries N] [--retry-errors] [--simulate] [--time-scale F] [--format text|json] [--progress auto|always|never] [--update] | " + evalImportUsage
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	category := fs.String("category", "", "the category the eval set belongs to (required)")
	setPath := fs.String("set", "", "the eval set: JSON Lines, one item per line (required)")
	models := fs.String("models", "", "candidate models, comma-separated (default: every model with a pass-rate assumption in the category)")
	outPath := fs.String("out", "", "the outcomes file to append to and resume from (default: the set's name with .outcomes.jsonl, or .simulated.outcomes.jsonl with --simulate)")
	concurrency := fs.Int("concurrency", eval.DefaultConcurrency, "calls in flight at most")
	rateFlag := fs.String("rate", "", "calls per second (or minute, hour) to each provider at most, like 5/s or 300/m (default: no limit)")
	retries := fs.Int("retries", eval.DefaultRetry.Attempts, "retries of a call that is rate limited, overloaded or cannot connect")
	retryErrors := fs.Bool("retry-errors", false, "run again the pairs whose call failed in an earlier run (their rows are replaced)")
	simulate := fs.Bool("simulate", false, "answer from the built-in simulator instead of the spec's providers: each model with its assumed latency, availability and pass rate (no API keys)")
	timeScale := fs.Float64("time-scale", 0, "with simulated providers, multiply every simulated duration by this (0.01 makes a 2s answer take 20ms); latencies are recorded in simulated time")
	format := fs.String("format", "text", "text or json")
	progress := fs.String("progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	update := fs.Bool("update", false, "write the measured pass rates and latencies, and today's review date, into the spec's category")
	pos, err := parseArgs(fs, args, 1, 1, usage)
	if err != nil {
		return err
	}
	switch {
	case *category == "":
		return usagef("--category is required (usage: %s)", usage)
	case *setPath == "":
		return usagef("--set is required: the eval set to run (usage: %s)", usage)
	case *concurrency < 1:
		return usagef("--concurrency %d: run at least 1 call at a time", *concurrency)
	case *retries < 0:
		return usagef("--retries %d cannot be negative", *retries)
	case *timeScale < 0:
		return usagef("--time-scale cannot be negative")
	case *format != "text" && *format != "json":
		return usagef("--format %q: use text or json", *format)
	case *progress != "auto" && *progress != "always" && *progress != "never":
		return usagef("--progress %q: use auto, always or never", *progress)
	}
	var limiter *eval.Limiter
	if *rateFlag != "" {
		r, err := spec.ParseRate(*rateFlag)
		if err != nil {
			return usagef("--rate: %v", err)
		}
		limiter = eval.NewLimiter(r)
	}

	specPath := pos[0]
	s, err := m.loadSpec(specPath, m.Now())
	if err != nil {
		return err
	}
	cat := s.Category(*category)
	if cat == nil {
		return usagef("the spec has no category %q (categories: %s)", *category, strings.Join(categoryNames(s), ", "))
	}
	if *simulate {
		simulateProviders(s)
	}
	scales := applyTimeScale(s, *timeScale)
	candidates, err := evalCandidates(s, cat, *models)
	if err != nil {
		return err
	}
	if err := checkSimulatedPassRates(specPath, cat, candidates); err != nil {
		return err
	}
	if *timeScale > 0 {
		for _, c := range candidates {
			if _, ok := scales[c.Provider.Name]; !ok {
				return usagef("--time-scale applies to simulated providers, and model %s is on provider %s (type %s): add --simulate or drop --time-scale", c.Name, c.Provider.Name, c.Resolved.Provider.Type)
			}
		}
	}

	providers, err := registry().NewAll(s, provider.Config{HTTP: provider.DefaultHTTPClient()})
	if err != nil {
		return err
	}
	policy := eval.DefaultRetry
	policy.Attempts = *retries
	// Judges call models outside the runner: they share its rate limit and its retries.
	caller := eval.RetryingCaller{Caller: validate.ProviderCaller{Providers: limiter.Wrap(providers)}, Retry: policy}
	checker, err := validate.NewChecker(s, validate.Env{Caller: caller})
	if err != nil {
		return err
	}
	set, err := eval.LoadSet(*setPath, eval.Env{Spec: s, Category: cat, Checker: checker, Caller: caller})
	if err != nil {
		return err
	}
	const mostWarnings = 5
	for i, w := range set.Warnings {
		if i == mostWarnings {
			fmt.Fprintf(m.Stderr, "clearbar eval: warning: ... and %d more\n", len(set.Warnings)-mostWarnings)
			break
		}
		fmt.Fprintf(m.Stderr, "clearbar eval: warning: %s\n", w)
	}
	if *outPath == "" {
		*outPath = defaultEvalOut(*setPath, *simulate)
	}
	out, err := eval.OpenOutput(*outPath, eval.OutputOptions{RetryErrors: *retryErrors})
	if err != nil {
		return err
	}
	defer out.Close()
	for _, n := range out.Notes() {
		fmt.Fprintf(m.Stderr, "clearbar eval: %s\n", n)
	}

	runner := &eval.Runner{
		Category: cat, Models: candidates, Spec: s, Providers: providers,
		Concurrency: *concurrency, Limiter: limiter, Retry: policy, TimeScales: scales,
	}
	if *progress == "always" || (*progress == "auto" && isTerminal(m.Stderr)) {
		runner.Progress = m.Stderr
	}
	res, runErr := runner.Run(ctx, set, out)
	if res == nil {
		return runErr
	}
	sums := eval.Summarize(cat, candidates, res.Rows)

	var changes []eval.Change
	var notes []string
	if res.NotInSet > 0 {
		notes = append(notes, fmt.Sprintf("%d row(s) of %s are of items not in %s (deleted from it, or given a new id): they are not counted", res.NotInSet, out.Path(), *setPath))
	}
	if n := eval.ToolCallsGradedAsText(set, res.Rows); n > 0 {
		notes = append(notes, fmt.Sprintf("%d answer(s) are tool calls graded by a text reference or text checks, which they have no text for, so they fail: %s", n, eval.ToolCallsAdvice))
	}
	simulatedRows, answered := simulatedAnswers(res.Rows)
	// The answers of simulated providers (--simulate, or providers of type simulated in the
	// spec) are drawn from the spec's own assumptions: they measure no model.
	fromSimulator := ""
	if simulatedRows > 0 {
		fromSimulator = "simulated providers"
		if simulatedRows < answered {
			fromSimulator = fmt.Sprintf("simulated providers (%d of the %d answers)", simulatedRows, answered)
		}
	}
	switch {
	case *update && runErr != nil:
		notes = append(notes, "the spec was not updated: the run did not finish")
	case *update:
		opts := eval.UpdateOptions{Today: m.Now()}
		if simulatedRows > 0 && simulatedRows == answered {
			opts.NoReview = "every answer came from simulated providers, which draw answers from the spec's own assumptions and measure no model"
		}
		var path string
		var more []string
		changes, more, path, err = m.updateSpecFromEval(specPath, s, cat, sums, opts)
		if err != nil {
			return err
		}
		notes = append(notes, more...)
		switch {
		case fromSimulator != "" && len(changes) > 0:
			notes = append(notes, "the measurements written into "+path+" come from "+fromSimulator)
		case fromSimulator != "":
			notes = append(notes, "the measurements come from "+fromSimulator+", which draw answers from the spec's own assumptions")
		}
	case fromSimulator != "":
		notes = append(notes, "the measurements come from "+fromSimulator+", which draw answers from the spec's own assumptions")
	}

	if *format == "json" {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(evalReport{
			Spec: specPath, Category: cat.Name, Set: *setPath, Out: out.Path(),
			Items: len(set.Items), Total: res.Total, Skipped: res.Skipped, Regraded: res.Regraded, Ran: res.Ran, Rerun: res.Rerun, Failed: res.Failed, Retried: res.Retried, ResumedRetried: resumedRetried(res, sums), NotInSet: res.NotInSet,
			GradingCost: res.GradingCost, Models: sums, Changes: changes, Notes: notes,
			Stopped: errorText(runErr),
		})
	} else {
		err = writeEvalText(m.Stdout, specPath, *setPath, out.Path(), len(set.Items), res, sums, changes, notes)
	}
	if runErr != nil {
		return runErr
	}
	return err
}

// simulatedAnswers counts the rows whose answers came from a simulated provider, and the rows
// with an answer (a call that did not fail).
func simulatedAnswers(rows []eval.Record) (simulated, answered int) {
	for _, r := range rows {
		if r.Error != "" {
			continue
		}
		answered++
		if r.Simulated {
			simulated++
		}
	}
	return simulated, answered
}

// evalReport is the JSON form of an eval's report.
type evalReport struct {
	Spec        string         `json:"spec"`
	Category    string         `json:"category"`
	Set         string         `json:"set"`
	Out         string         `json:"out"`
	Items       int            `json:"items"`
	Total       int            `json:"pairs"`
	Skipped     int            `json:"resumed"`
	Regraded    int            `json:"regraded,omitempty"`
	Ran         int            `json:"ran"`
	Rerun       int            `json:"rerun,omitempty"`
	Failed      int            `json:"failed_calls"`
	Retried     int            `json:"retried_calls,omitempty"`
	NotInSet    int            `json:"rows_not_in_set,omitempty"`
	GradingCost clearbar.Money `json:"grading_cost_usd"`
	Models      []eval.Summary `json:"models"`
	Changes     []eval.Change  `json:"changes,omitempty"`
	Notes       []string       `json:"notes,omitempty"`
	Stopped     string         `json:"stopped,omitempty"`

	// ResumedRetried are the failed and retried calls of the resumed pairs (resumedRetried),
	// which the models' summaries count with Retried.
	ResumedRetried int `json:"resumed_retried_calls,omitempty"`
}

func writeEvalText(w io.Writer, specPath, setPath, outPath string, items int, res *eval.Result, sums []eval.Summary, changes []eval.Change, notes []string) error {
	fmt.Fprintf(w, "Eval of %s on %s: %d items × %d models\n", specPath, setPath, items, len(sums))
	// Why rows are graded again, or run again when their answers were simulated (see
	// eval.Result.Regraded).
	const why = "what grades them changed (their checks, reference or the category's validators, which run beside checks too), their rows were written before rows said how they were graded or that no validator applies, or they were not graded"
	var rerun, regraded string
	if res.Rerun > 0 {
		rerun = fmt.Sprintf("; %d of them again, as %s, and their answers were simulated", res.Rerun, why)
	}
	if res.Regraded > 0 {
		regraded = fmt.Sprintf(" (%d of them graded again on their recorded answers, as %s)", res.Regraded, why)
	}
	retried := ""
	if res.Retried > 0 {
		retried = fmt.Sprintf(", %d failed and retried", res.Retried)
	}
	if n := resumedRetried(res, sums); n > 0 {
		// The models' notes count every row's retries, the resumed ones' too.
		regraded += fmt.Sprintf(" (%d retried call(s) among them)", n)
	}
	fmt.Fprintf(w, "%d pairs run now (%d failed calls%s%s), %d resumed from %s%s; grading cost %s\n\n", res.Ran, res.Failed, retried, rerun, res.Skipped, outPath, regraded, res.GradingCost)
	if err := eval.WriteText(w, sums); err != nil {
		return err
	}
	if len(changes) > 0 {
		fmt.Fprintf(w, "\nUpdated %s, category %q (review the diff):\n", specPath, sums[0].Category)
		for _, c := range changes {
			fmt.Fprintf(w, "  %s\n", c)
		}
	}
	for _, n := range notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

// resumedRetried is how many calls of the resumed pairs failed and were retried: the models'
// summaries count the retries of every row (eval.Summary.Retried), the run's only those of the
// calls it made (eval.Result.Retried).
func resumedRetried(res *eval.Result, sums []eval.Summary) int {
	n := 0
	for _, s := range sums {
		n += s.Retried
	}
	return max(n-res.Retried, 0)
}

// updateSpecFromEval writes the measured assumptions into the spec file, after checking that
// the result loads, through a temporary file renamed over it.
func (m *Main) updateSpecFromEval(path string, s *spec.Spec, cat *spec.Category, sums []eval.Summary, opts eval.UpdateOptions) ([]eval.Change, []string, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, "", err
	}
	out, changes, notes, err := eval.Update(data, s, cat, sums, opts)
	if err != nil {
		return nil, nil, "", fmt.Errorf("updating %s: %w", path, err)
	}
	if _, err := spec.Parse(out, path, spec.Options{Today: m.Now()}); err != nil {
		return nil, nil, "", fmt.Errorf("the updated spec does not load, so it was not written: %w", err)
	}
	// A spec reached through a symbolic link is written where the link points (replaceFile),
	// so that the link stays one.
	if err := replaceFile(path, out); err != nil {
		return nil, nil, "", err
	}
	return changes, notes, path, nil
}

// evalCandidates returns the models to evaluate: those named (comma-separated), or every
// model with a pass-rate assumption in the category, in the spec's order.
func evalCandidates(s *spec.Spec, cat *spec.Category, names string) ([]*spec.Model, error) {
	var out []*spec.Model
	if names == "" {
		for _, m := range s.Models {
			if _, ok := cat.PassRate(m); ok {
				out = append(out, m)
			}
		}
		if len(out) == 0 {
			return nil, usagef("category %q assumes no pass rates: name the candidates with --models a,b", cat.Name)
		}
		return out, nil
	}
	seen := map[string]bool{}
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		m := s.Model(n)
		if m == nil {
			all := make([]string, len(s.Models))
			for i, m := range s.Models {
				all[i] = m.Name
			}
			return nil, usagef("--models: the spec has no model %q (models: %s)", n, strings.Join(all, ", "))
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, usagef("--models names no model")
	}
	return out, nil
}

// checkSimulatedPassRates refuses candidates answered by a simulated provider (--simulate, or
// a spec's simulated provider) without a pass rate assumed in the category: the simulator draws
// an answer good with that rate, and without one it answers with stand-in text that fails every
// check, so the run would measure 0% and --update would write it.
func checkSimulatedPassRates(specPath string, cat *spec.Category, candidates []*spec.Model) error {
	var missing []string
	for _, c := range candidates {
		if _, ok := cat.PassRate(c); !ok && c.Resolved.Provider != nil && c.Resolved.Provider.Type == "simulated" {
			missing = append(missing, c.Name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return usagef("%s:%d: category %q assumes no pass rate for %s, which a simulated provider answers: the simulator draws each answer good or bad with the category's assumed pass rate, and without one it answers with stand-in text that fails every check, measuring 0%%: add assume: {pass_rate: {%s: 0.9}} (your estimate) to category %q, or leave %s out of --models",
		specPath, cat.Line(), cat.Name, strings.Join(missing, ", "), missing[0], cat.Name, strings.Join(missing, ", "))
}

// applyTimeScale sets the time scale of simulated and replay providers (when scale is
// positive) and returns the scale each of them runs at, by provider name: latencies measured
// on them are divided by it.
func applyTimeScale(s *spec.Spec, scale float64) map[string]float64 {
	out := map[string]float64{}
	for _, p := range s.Providers {
		if p.Type != "simulated" && p.Type != "replay" {
			continue
		}
		if scale > 0 {
			if p.Simulate == nil {
				p.Simulate = &spec.Simulate{}
			}
			p.Simulate.TimeScale = scale
		}
		if p.Simulate != nil && p.Simulate.TimeScale > 0 {
			out[p.Name] = p.Simulate.TimeScale
		}
	}
	return out
}

// defaultEvalOut names the outcomes file of a set: beside it, with .outcomes.jsonl (or
// .simulated.outcomes.jsonl, so that simulated and real measurements never mix).
func defaultEvalOut(set string, simulated bool) string {
	base := strings.TrimSuffix(set, filepath.Ext(set))
	if simulated {
		return base + ".simulated.outcomes.jsonl"
	}
	return base + ".outcomes.jsonl"
}

func categoryNames(s *spec.Spec) []string {
	out := make([]string, len(s.Categories))
	for i, c := range s.Categories {
		out[i] = c.Name
	}
	return out
}

// isTerminal reports whether w is a terminal (a character device), where a progress bar that
// rewrites its line makes sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
