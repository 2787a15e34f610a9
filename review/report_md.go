package review

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/clearbar/clearbar/internal/mdtext"
)

// mdEscape makes text safe inside a Markdown table cell.
var mdEscape = mdtext.Cell

// errWriter remembers the first write error, so a report is written without checking each
// line.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// window describes the reviewed window for people.
func (r *Report) window() string {
	from, to := r.Since, r.Until
	if from.IsZero() {
		from = r.First
	}
	if to.IsZero() {
		to = r.Last
	}
	if from.IsZero() {
		return "no decisions"
	}
	return from.Format(time.DateOnly) + " to " + to.Format(time.DateOnly)
}

// headline says whether action is needed, in one sentence.
func (r *Report) headline() string {
	if !r.ActionNeeded {
		return "No action needed: no trigger fired."
	}
	return fmt.Sprintf("Action needed: %d trigger(s) fired.", len(r.Triggers))
}

// method explains the false-alarm level in one sentence.
func (r *Report) method() string {
	return fmt.Sprintf("False-alarm level %s: the chance that traffic behaving as the spec assumes fires any statistical trigger, held by Holm's correction over the %d tests of this review. Intervals are %s intervals for each figure alone.",
		pct0(r.Alpha), r.Tests, pct0(r.Confidence))
}

// WriteMarkdown writes the report as a Markdown document.
func WriteMarkdown(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "# Review: %s\n\n", mdEscape(r.Spec))
	fmt.Fprintf(ew, "%s · %s requests · reviewed %s", r.window(), groupInt(r.Requests), r.Date)
	if r.CatalogDate != "" {
		fmt.Fprintf(ew, " · catalogue prices of %s", r.CatalogDate)
	}
	fmt.Fprintf(ew, "\n\n**%s**\n\n%s\n\n", r.headline(), r.method())

	if len(r.Triggers) > 0 {
		fmt.Fprintln(ew, "## Triggers")
		fmt.Fprintln(ew)
		for _, t := range r.Triggers {
			fmt.Fprintf(ew, "- **%s**%s\n", t.Kind, triggerScope(t))
			for _, e := range t.Evidence {
				fmt.Fprintf(ew, "  - %s\n", e)
			}
		}
		fmt.Fprintln(ew)
	}

	fmt.Fprintln(ew, "## Traffic mix")
	fmt.Fprintln(ew)
	fmt.Fprintf(ew, "| Category | Requests | Share | %s interval | Spec share |\n|---|---:|---:|---|---:|\n", pct0(r.Confidence))
	for _, cv := range r.Categories {
		sh := cv.Comparisons[0]
		fmt.Fprintf(ew, "| %s | %s | %s | %s | %s |\n", mdEscape(cv.Name), groupInt(cv.Requests), pct(float64(sh.Measured)),
			formatInterval(UnitRate, sh.Low, sh.High), pct(float64(sh.Assumed)))
	}
	if m := r.Mix; m != nil {
		fmt.Fprintf(ew, "\n%s\n", mixLine(m))
	}
	fmt.Fprintln(ew)

	fmt.Fprintln(ew, "## Categories")
	for _, cv := range r.Categories {
		fmt.Fprintf(ew, "\n### %s\n\n%s requests · route: %s\n\n", mdEscape(cv.Name), groupInt(cv.Requests), mdEscape(cv.Route))
		fmt.Fprintf(ew, "| Measure | Model | Measured | %s interval | Assumed | From | n | Test | p (Holm) | |\n", pct0(r.Confidence))
		fmt.Fprintln(ew, "|---|---|---:|---|---:|---|---:|---|---:|---|")
		for _, c := range cv.Comparisons[1:] {
			fmt.Fprintf(ew, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(c.Metric), mdEscape(c.Model),
				formatValue(c.Unit, float64(c.Measured)), formatInterval(c.Unit, c.Low, c.High), formatValue(c.Unit, float64(c.Assumed)),
				mdEscape(c.From), groupInt(c.N), mdEscape(c.Method), pCell(c), verdict(c))
		}
		for _, n := range rowNotes(cv.Comparisons[1:]) {
			fmt.Fprintf(ew, "\n- %s: %s", n.rows, n.note)
		}
		if len(cv.Templates) > 0 {
			fmt.Fprintln(ew, "\n\nPrompt templates:")
			fmt.Fprintln(ew)
			for _, t := range cv.Templates {
				mark := ""
				if t.New {
					mark = " **new**"
				}
				fmt.Fprintf(ew, "- `%s` first seen %s: %s earlier, %s recent (%s of recent requests)%s\n", shortHash(t.Hash),
					t.First.Format(time.DateTime), groupInt(t.Earlier), groupInt(t.Recent), pct(t.Share), mark)
			}
		}
		for _, n := range cv.Notes {
			fmt.Fprintf(ew, "\n- %s", n)
		}
		fmt.Fprintln(ew)
	}

	if len(r.Prices) > 0 {
		fmt.Fprintln(ew, "\n## Prices that differ from the catalogue")
		fmt.Fprintln(ew)
		fmt.Fprintln(ew, "| Model | Price | Spec | Catalogue | Change |\n|---|---|---:|---:|---|")
		for _, p := range r.Prices {
			fmt.Fprintf(ew, "| %s | %s | %s | %s | %s |\n", p.Model, p.Price, p.Spec, p.Catalog, mdEscape(p.Change))
		}
	}
	if len(r.Reviews) > 0 {
		fmt.Fprintln(ew, "\n## Review dates")
		fmt.Fprintln(ew)
		for _, rv := range r.Reviews {
			fmt.Fprintf(ew, "- %s\n", reviewLine(rv))
		}
	}
	for _, ex := range r.Experiments {
		writeExperimentMD(ew, r, ex)
	}
	if re := r.Reestimate; re != nil {
		writeReestimateMD(ew, re)
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(ew, "\n## Notes")
		fmt.Fprintln(ew)
		for _, n := range r.Notes {
			fmt.Fprintf(ew, "- %s\n", n)
		}
	}
	return ew.err
}

func triggerScope(t Trigger) string {
	switch {
	case t.Category != "" && t.Model != "":
		return " · " + t.Category + " · " + t.Model
	case t.Category != "":
		return " · " + t.Category
	case t.Model != "":
		return " · " + t.Model
	}
	return ""
}

// rowNote is a note of a category's table and the rows it is of, named as "escalation rate,
// pass rate (nano)".
type rowNote struct{ rows, note string }

// rowNotes returns the notes of a category's rows, every row's, in the order of the rows: a
// note several rows share (like "fewer than 30 observations: not tested") once, naming them
// all, so that every figure a table shows untested says why, without a line for each.
func rowNotes(cs []*Comparison) []rowNote {
	var out []rowNote
	at := map[string]int{}
	for _, c := range cs {
		if c.Note == "" {
			continue
		}
		name := mdEscape(c.Metric) + modelSuffix(c.Model)
		if i, ok := at[c.Note]; ok {
			out[i].rows += ", " + name
			continue
		}
		at[c.Note] = len(out)
		out = append(out, rowNote{rows: name, note: c.Note})
	}
	return out
}

func modelSuffix(model string) string {
	if model == "" {
		return ""
	}
	return " (" + model + ")"
}

func mixLine(m *Comparison) string {
	if !m.Tested {
		return "Mix: " + m.Note + "."
	}
	s := fmt.Sprintf("Mix: χ² = %.1f on %s (p = %s, %s after Holm's correction)", float64(m.Measured), m.Method, formatP(m.P), formatP(m.PAdjusted))
	if m.Significant {
		return s + ": **the traffic mix shifted**."
	}
	return s + ": consistent with the spec's shares."
}

func pCell(c *Comparison) string {
	if !c.Tested {
		return ""
	}
	return formatP(c.PAdjusted)
}

// verdict marks a comparison for the tables.
func verdict(c *Comparison) string {
	switch {
	case !c.Tested:
		return ""
	case c.Significant:
		return "moved"
	}
	return "ok"
}

func reviewLine(rv ReviewDue) string {
	what := "spec"
	if rv.Category != "" {
		what = "category " + rv.Category
	}
	if rv.Overdue {
		return fmt.Sprintf("%s: last reviewed %s, due %s (%s): **overdue by %d day(s)**", what, rv.Last, rv.Due, rv.Cadence, rv.DaysOverdue)
	}
	return fmt.Sprintf("%s: last reviewed %s, next due %s (%s)", what, rv.Last, rv.Due, rv.Cadence)
}

func writeExperimentMD(ew io.Writer, r *Report, ex *Experiment) {
	fmt.Fprintf(ew, "\n## Experiment: %s\n\n", mdEscape(ex.Category))
	fmt.Fprintf(ew, "| Arm | Weight | Requests | Pass rate | Cost/request | p50 | p95 |\n|---|---:|---:|---|---|---|---|\n")
	for _, a := range ex.Arms {
		fmt.Fprintf(ew, "| %s | %s | %s | %s (%s) | %s (%s) | %s (%s) | %s (%s) |\n", mdEscape(a.Label), pct(a.Weight), groupInt(a.Requests),
			pct(float64(a.PassRate)), formatInterval(UnitRate, a.PassLow, a.PassHigh),
			formatValue(UnitUSD, float64(a.Cost)), formatInterval(UnitUSD, a.CostLow, a.CostHigh),
			formatValue(UnitSeconds, float64(a.P50)), formatInterval(UnitSeconds, a.P50Low, a.P50High),
			formatValue(UnitSeconds, float64(a.P95)), formatInterval(UnitSeconds, a.P95Low, a.P95High))
	}
	fmt.Fprintf(ew, "\nIntervals are %s intervals. Each comparison below is an always-valid sequential test (mixture SPRT) at level %s (the false-alarm level shared over %d comparisons): it may be read after every request without inflating false positives.\n\n",
		pct0(r.Confidence), formatP(ex.Alpha), len(ex.Comparisons))
	fmt.Fprintln(ew, "| Arm vs control | Metric | Difference | Always-valid interval | p | Significant | More traffic needed |\n|---|---|---:|---|---:|---|---|")
	for _, c := range ex.Comparisons {
		fmt.Fprintf(ew, "| %s vs %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(c.Arm), mdEscape(c.Control), c.Metric,
			signed(c.Unit, float64(c.Difference)), formatInterval(c.Unit, c.Low, c.High), formatP(c.P), yesNo(c.Significant), moreTraffic(c))
	}
	if ex.SampleRatioP.Finite() {
		fmt.Fprintf(ew, "\nSample ratio check: p = %s against the split's weights.\n", formatP(float64(ex.SampleRatioP)))
	}
	for _, n := range ex.Notes {
		fmt.Fprintf(ew, "\n- %s", n)
	}
	fmt.Fprintln(ew)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// signed formats a difference with its sign.
func signed(unit string, v float64) string {
	switch {
	case v > 0 && !math.IsInf(v, 1):
		return "+" + formatValue(unit, v)
	case v < 0 && !math.IsInf(v, -1):
		return "−" + formatValue(unit, -v)
	}
	return formatValue(unit, v)
}

// moreTraffic says how much more traffic a comparison needs.
func moreTraffic(c *ArmComparison) string {
	switch {
	case c.Significant:
		return "none: significant"
	case !c.MoreRequests.Finite():
		return "no difference observed"
	case c.MoreRequests == 0:
		return "at the boundary: the next requests may decide"
	}
	s := fmt.Sprintf("about %s more requests", groupInt(int(c.MoreRequests)))
	if c.MoreDays.Finite() {
		s += fmt.Sprintf(" (%s at the current rate)", span(float64(c.MoreDays)))
	}
	return s + fmt.Sprintf(", for %.0f%% power at the observed difference", ExperimentPower*100)
}

// span writes a time given in days in the largest unit that shows it: days from one day up,
// hours from one hour, minutes below ("1.5 days", "3.2 hours", "25 minutes", "under a
// minute").
func span(days float64) string {
	switch h := days * 24; {
	case days >= 1:
		return fmt.Sprintf("%.1f days", days)
	case h >= 1:
		return fmt.Sprintf("%.1f hours", h)
	case h*60 >= 1.5:
		return fmt.Sprintf("%.0f minutes", math.Round(h*60))
	case h*60 >= 1:
		return "1 minute"
	}
	return "under a minute"
}

func writeReestimateMD(ew io.Writer, re *Reestimate) {
	fmt.Fprintln(ew, "\n## Re-estimate with the measurements")
	fmt.Fprintln(ew)
	fmt.Fprintf(ew, "Recommended with the spec's assumptions: **%s**; with the measurements: **%s**. %s\n\n", re.Before, re.After, re.Recommendation)
	fmt.Fprintf(ew, "The spec's routes cost %s per request as assumed and %s as measured; the recommended policy costs %s.\n\n", re.CostBefore, re.CostAfter, re.RecommendedCost)
	fmt.Fprintln(ew, "| Category | Cost before | Cost after | Quality before | Quality after | p95 before | p95 after | Clears after | Recommended route |")
	fmt.Fprintln(ew, "|---|---:|---:|---:|---:|---:|---:|---|---|")
	for _, c := range re.Categories {
		fmt.Fprintf(ew, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(c.Name), c.CostBefore, c.CostAfter, pct(c.QualityBefore), pct(c.QualityAfter),
			secs(c.P95Before), secs(c.P95After), yesNo(c.ClearsAfter), mdEscape(c.Recommended))
	}
	for _, n := range re.Notes {
		fmt.Fprintf(ew, "\n- %s", n)
	}
	fmt.Fprintln(ew)
	if re.Diff == "" {
		fmt.Fprintln(ew, "\nNo change to the spec is recommended.")
		return
	}
	fmt.Fprintln(ew, "\n### Recommended spec change")
	fmt.Fprintln(ew)
	for _, e := range re.Edits {
		fmt.Fprintf(ew, "- %s `%s`: %s → %s\n", e.Category, e.What, mdEscape(e.From), mdEscape(e.To))
	}
	fmt.Fprintf(ew, "\n```diff\n%s```\n", re.Diff)
}
