package estimate

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/clearbar/clearbar"
)

// Formats lists the report formats, for flags and errors.
var Formats = []string{"table", "json", "csv", "markdown", "html"}

// Write renders r in format (one of Formats) to w.
func Write(w io.Writer, r *Report, format string) error {
	switch format {
	case "", "table", "text":
		return WriteText(w, r)
	case "json":
		return WriteJSON(w, r)
	case "csv":
		return WriteCSV(w, r)
	case "markdown", "md":
		return WriteMarkdown(w, r)
	case "html":
		return WriteHTML(w, r)
	}
	return fmt.Errorf("unknown format %q: use one of %s", format, strings.Join(Formats, ", "))
}

func (r *Report) policy(name string) *PolicyResult {
	for _, p := range r.Policies {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func pct1(p float64) string { return fmt.Sprintf("%.1f%%", p*100) }

// cells are a policy's or a category's figures as the report tables write them.
type cells struct {
	Cost, Per1K, PerMonth, Failed, P50, P95, P99, TTFB95, Clears string
}

// failedPct writes a share of failed requests as pct does, without reading as none when it
// is under a hundredth of a percent: "<0.01%".
func failedPct(p float64) string {
	if p > 0 && p < 0.00005 {
		return "<0.01%"
	}
	return pct(p)
}

// ttfbAssumedMark marks a TTFB figure that rests on ttftShare; ttfbFootnote explains it.
const ttfbAssumedMark = "*"

// ttfbFootnote explains ttfbAssumedMark: for models, time to first byte is assumed to be
// ttftShare of the response time as they have no ttft figure; for measured, as their latency
// is measured (estimate --measured), and measured latencies record no time to first byte,
// whatever ttft figure the spec gives them. A model may be in both, in different categories.
func ttfbFootnote(models []string, measured ...string) string {
	models = slices.Sorted(slices.Values(models))
	measured = slices.Sorted(slices.Values(measured))
	share := fmt.Sprintf("%.0f%% of the response time", ttftShare*100)
	switch {
	case len(measured) == 0:
		return fmt.Sprintf("%s time to first byte assumed to be %s for models without a ttft figure (%s)", ttfbAssumedMark, share, strings.Join(models, ", "))
	case len(models) == 0:
		return fmt.Sprintf("%s measured latencies record no time to first byte, so it is assumed to be %s (%s)", ttfbAssumedMark, share, strings.Join(measured, ", "))
	}
	return fmt.Sprintf("%s time to first byte assumed to be %s for models without a ttft figure (%s), and for measured latencies, which record no time to first byte (%s)",
		ttfbAssumedMark, share, strings.Join(models, ", "), strings.Join(measured, ", "))
}

// ttfbSplit sorts the models of assumed (models of a table marked by markTTFB in cats) into
// those whose latency in a category of cats is measured (a latency finding used in the
// estimate) and the others, for ttfbFootnote, once each.
func (r *Report) ttfbSplit(cats []CategoryResult, assumed []string) (unmeasured, measured []string) {
	isMeasured := func(category, model string) bool {
		return r.Measured != nil && slices.ContainsFunc(r.Measured.Findings, func(f Finding) bool {
			return f.Category == category && f.Model == model && f.What == "latency p50" && f.Used
		})
	}
	for _, c := range cats {
		for _, m := range c.TTFBAssumed {
			if !slices.Contains(assumed, m) {
				continue
			}
			list := &unmeasured
			if isMeasured(c.Category, m) {
				list = &measured
			}
			if !slices.Contains(*list, m) {
				*list = append(*list, m)
			}
		}
	}
	return unmeasured, measured
}

// tableCells writes the figures f, of a policy or category that clears its bars and budgets
// or not, for the report tables. A route that fails every request (no model on it can take
// the requests, or none is ever available) pays nothing and waits for nothing: rather than
// read as the cheapest and fastest, its cost and latency cells read "-", and its Clears cell
// says that it fails every request. Failed requests read in every row: a request that fails
// costs nothing, and a cost beside a share of failures reads for what it is.
func tableCells(f Figures, clears bool) cells {
	if f.failsAll() {
		return cells{"-", "-", "-", failedPct(f.PFailed), "-", "-", "-", "-", "no: fails every request"}
	}
	return cells{f.Cost.String(), f.CostPer1K.String(), f.CostPerMonth.String(), failedPct(f.PFailed),
		secs(f.Latency.P50), secs(f.Latency.P95), secs(f.Latency.P99), secs(f.TTFB.P95), yesNo(clears)}
}

// WriteText writes the report as terminal tables.
func WriteText(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "Clearbar estimate: %s", r.Spec)
	if r.File != "" {
		fmt.Fprintf(ew, " (%s)", r.File)
	}
	fmt.Fprintf(ew, "\n%s requests/month%s · %s Monte Carlo samples per policy · seed %d · catalogue prices of %s\n\n",
		groupInt(r.Volume), callsNote(r), groupInt(int64(r.Samples)), r.Seed, r.CatalogDate)

	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  POLICY\tCOST/REQ\tPER 1K\tPER MONTH\tQUALITY\tFAILED\tP50\tP95\tP99\tRISK/MONTH\tESCALATED\tFALLBACK\tCLEARS")
	for _, p := range r.Policies {
		mark := " "
		if p.Name == r.Recommended {
			mark = "▶"
		}
		t := p.Total
		c := tableCells(t, p.Clears)
		if p.SameAs != "" {
			c.Clears += " (= " + p.SameAs + ")"
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", mark, p.Name, c.Cost, c.Per1K, c.PerMonth, pct(t.Quality),
			c.Failed, c.P50, c.P95, c.P99, t.RiskPerMonth, pct1(t.PEscalated), pct(t.PFallback), c.Clears)
	}
	tw.Flush()

	fmt.Fprintf(ew, "\nRecommended: %s\n", wrap(r.Recommendation, 100, "  "))

	if best := r.policy(r.Recommended); best != nil {
		fmt.Fprintf(ew, "\nPer category, %s:\n", best.Name)
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  CATEGORY\tSHARE\tROUTE\tCOST/REQ\tQUALITY\tBAR\tFAILED\tP95\tBUDGET\tTTFB P95\tESCALATED\tCLEARS")
		var assumed []string
		for i, c := range best.Categories {
			info := r.Categories[i]
			budget := "-"
			if info.LatencyBudget > 0 {
				budget = secs(info.LatencyBudget)
			}
			cc := tableCells(c.Figures, c.ClearsBar && c.MeetsBudget)
			cc.TTFB95 = c.markTTFB(cc.TTFB95, &assumed)
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Category, pct1(info.Share), c.routeIn(routeCompact), cc.Cost, qualityVs(c.Quality, info.QualityBar),
				pct(info.QualityBar), cc.Failed, cc.P95, budget, cc.TTFB95, pct1(c.PEscalated), cc.Clears)
		}
		tw.Flush()
		if len(assumed) > 0 {
			unmeasured, measured := r.ttfbSplit(best.Categories, assumed)
			fmt.Fprintf(ew, "  %s\n", wrap(ttfbFootnote(unmeasured, measured...), 100, "    "))
		}
		// Why the policy chose each route (a derived policy's notes; the spec's has none):
		// where cheapest-passing moved a pipeline step off its cheapest model, say, why.
		for _, c := range best.Categories {
			if c.Note != "" {
				fmt.Fprintf(ew, "  - %s\n", wrap(c.Category+": "+c.Note, 100, "    "))
			}
		}
	}

	if r.UserRequests != nil {
		writeUserRequestsText(ew, r)
	}

	if len(r.Verdicts) > 0 {
		fmt.Fprintln(ew, "\nWhy the others were not recommended:")
		for _, v := range r.Verdicts {
			fmt.Fprintf(ew, "  %s: %s\n", v.Policy, wrap(v.Reason, 100, "    "))
		}
	}

	if len(r.OptimiseFirst) > 0 {
		fmt.Fprintln(ew, "\nWhich route to optimise first:")
		for i, o := range r.OptimiseFirst {
			line := fmt.Sprintf("%d. %s: %s", i+1, o.Category, o.Reason)
			if o.Better != "" {
				line += fmt.Sprintf(". Better route: %s (from %s)", o.Better, o.From)
			}
			fmt.Fprintf(ew, "  %s\n", wrap(line, 100, "     "))
		}
	}

	if s := r.Sensitivity; s != nil {
		writeSensitivityText(ew, s)
	}
	if m := r.Measured; m != nil {
		writeMeasuredText(ew, m)
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(ew, "\nNotes:")
		for _, n := range r.Notes {
			fmt.Fprintf(ew, "  - %s\n", n)
		}
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(ew, "\nWarnings from the spec:")
		for _, n := range r.Warnings {
			fmt.Fprintf(ew, "  - %s\n", n)
		}
	}
	return ew.err
}

// markTTFB marks a TTFB cell that rests on ttftShare and adds the models it assumes it for to
// models, once each.
func (c *CategoryResult) markTTFB(cell string, models *[]string) string {
	if len(c.TTFBAssumed) == 0 || cell == "-" {
		return cell
	}
	for _, m := range c.TTFBAssumed {
		if !slices.Contains(*models, m) {
			*models = append(*models, m)
		}
	}
	return cell + ttfbAssumedMark
}

func writeSensitivityText(w io.Writer, s *Sensitivity) {
	fmt.Fprintf(w, "\nSensitivity (each input moved ±%.0f%%, %d estimates):\n", s.Move*100, s.Runs)
	switch {
	case len(s.Flips) == 0 && len(s.Rerouted) == 0:
		fmt.Fprintf(w, "  No single move changes the recommendation (%s).\n", s.Baseline)
	case len(s.Flips) == 0:
		fmt.Fprintf(w, "  No single move changes the policy recommended (%s).\n", s.Baseline)
	}
	for _, g := range s.flipGroups() {
		switch g.Kind {
		case FlipPolicy:
			fmt.Fprintf(w, "  These moves change the recommendation from %s:\n", s.Baseline)
			for _, f := range g.Moves {
				fmt.Fprintf(w, "    %s %s → %s%s\n", f.Input, f.Change, f.Recommended, s.flipNote(f))
			}
		case FlipNoneClears:
			fmt.Fprintf(w, "  These moves leave no policy clearing every bar and budget (%s stays recommended, as the closest):\n", s.Baseline)
		case FlipNowClears:
			fmt.Fprintf(w, "  These moves make %s clear every bar and budget (it stays recommended):\n", s.Baseline)
		}
		if g.Kind != FlipPolicy {
			for _, f := range g.Moves {
				fmt.Fprintf(w, "    %s %s\n", f.Input, f.Change)
			}
		}
	}
	if len(s.Rerouted) > 0 {
		fmt.Fprintf(w, "  These moves keep %s recommended but change its routes:\n", s.Baseline)
		for _, f := range s.Rerouted {
			fmt.Fprintf(w, "    %s %s: %s\n", f.Input, f.Change, strings.Join(f.RoutesChanged, "; "))
		}
	}
	fmt.Fprintf(w, "  Largest effects on %s's monthly cost plus risk (with its routes as each move leaves them):\n", s.Baseline)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range s.Largest {
		still := ""
		switch {
		case s.BaselineClears && !f.Clears:
			still = "\tno longer clears"
		case !s.BaselineClears && f.Clears:
			still = "\tnow clears"
		}
		if len(f.RoutesChanged) > 0 {
			still += "\troutes change"
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s%s\n", f.Input, f.Change, signedMoney(f.Delta), still)
	}
	tw.Flush()
	if len(s.BreakEvens) > 0 {
		writeBreakEvensText(w, s)
	}
}

// breakEvenTextRows is how many break-evens the text report lists; JSON has them all.
const breakEvenTextRows = 10

func writeBreakEvensText(w io.Writer, s *Sensitivity) {
	fmt.Fprintf(w, "\nBreak-even points (each input moved alone until the recommendation changes, %d estimates):\n", s.BreakEvenRuns)
	rows, more := s.breakEvenRows(breakEvenTextRows)
	if len(rows) == 0 {
		fmt.Fprintf(w, "  %s stays recommended over every input's whole range.\n", s.Baseline)
	} else {
		fmt.Fprintf(w, "  %s stays recommended while, nearest first:\n", s.Baseline)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "    INPUT\tWHILE\tASSUMED\tMOVE\tTHEN")
		for _, r := range rows {
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s%s\n", r.Input, r.While, r.Assumed, r.Move, r.Then, r.ThenNote)
		}
		tw.Flush()
		if more > 0 {
			fmt.Fprintf(w, "    and %d more, farther (--format json lists them all)\n", more)
		}
		for _, r := range rows {
			if r.Note != "" {
				fmt.Fprintf(w, "  %s\n", wrap(r.Input+" "+r.While+": "+r.Note, 100, "    "))
			}
		}
	}
	if routes, more := s.routesChangeRows(breakEvenTextRows); len(routes) > 0 {
		fmt.Fprintf(w, "  %s\n", routesChangeLead(s.Baseline))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "    INPUT\tWHILE\tASSUMED\tMOVE\tROUTES THEN")
		for _, r := range routes {
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\n", r.Input, r.While, r.Assumed, r.Move, r.Then)
		}
		tw.Flush()
		if more > 0 {
			fmt.Fprintf(w, "    and %d more, farther (--format json lists them all)\n", more)
		}
	}
	if n := s.notFound(); n > 0 {
		fmt.Fprintf(w, "  No change within the range for %d of %d searches (an input, one way).\n", n, len(s.BreakEvens))
	}
	fmt.Fprintf(w, "  %s\n", wrap(breakEvenMethod, 100, "  "))
}

// signedMoney writes an amount with its sign, + for a rise: "+$1.20", "-$0.50".
func signedMoney(m fmt.Stringer) string {
	s := m.String()
	if !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s
}

// wrap breaks text at width, indenting continuation lines.
func wrap(s string, width int, indent string) string {
	words := strings.Fields(s)
	var b strings.Builder
	n := 0
	for i, w := range words {
		if i > 0 {
			if n+1+len(w) > width {
				b.WriteString("\n" + indent)
				n = len(indent)
			} else {
				b.WriteByte(' ')
				n++
			}
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

// errWriter remembers the first write error so report code can write freely and check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, nil
}

func writeMeasuredText(w io.Writer, m *MeasuredSummary) {
	from := ""
	if m.From != "" {
		from = " from " + m.From
	}
	fmt.Fprintf(w, "\nMeasurements%s (%d contradict their assumption; %d observations matched no category or model):\n", from, m.Contradictions, m.Unmatched)
	if len(m.Findings) == 0 {
		fmt.Fprintln(w, "  none of a category and model of the spec: every assumption is kept")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  CATEGORY\tMODEL\tWHAT\tASSUMED\tMEASURED\t95% INTERVAL\tN\tUSED\tVERDICT")
	for _, f := range m.Findings {
		verdict := f.verdict()
		if f.Contradicts {
			verdict = "CONTRADICTS"
		}
		if f.Note != "" {
			verdict += ": " + f.Note
		}
		interval := f.interval()
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", f.Category, f.Model, f.What, findingValue(f.What, f.Assumed),
			findingValue(f.What, f.Measured), interval, f.N, yesNo(f.Used), verdict)
	}
	tw.Flush()
	fmt.Fprintf(w, "  %s\n", IntervalLegend)
}

// findingValue formats a finding's number by what it measures.
func findingValue(what string, v float64) string {
	switch {
	case strings.HasPrefix(what, "latency"):
		return secs(v)
	case strings.HasPrefix(what, "tokens"):
		return fmt.Sprintf("%.0f", v)
	case what == "cost per call":
		return clearbar.MoneyFromUSD(v).String()
	}
	return pct(v)
}
