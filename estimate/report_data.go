package estimate

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/clearbar/clearbar/internal/mdtext"
)

// WriteJSON writes the whole report as indented JSON. Money is written as exact decimal
// dollars, times in seconds, rates as probabilities.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteCSV writes one row per policy and category, plus a TOTAL row per policy. With
// pipelines, each policy's rows per user request follow its TOTAL: one per pipeline
// ("PIPELINE name", its steps as the route, its share of user requests as the share, its
// budget) and one for every user request ("ALL USER REQUESTS"), their costs per user request
// and the columns a user request has no figure for (bar, escalation, fallback) empty.
//
// clears says, on every row, whether the row's part of the policy clears its bars and
// budgets: a category's row, its quality bar and latency budget; a pipeline's, its budget
// and the bar and budget of every category it calls; TOTAL and ALL USER REQUESTS, every
// category's and every pipeline's, as the recommendation counts them (the two agree).
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"policy", "category", "route", "share", "cost_per_request_usd", "cost_per_1k_usd", "cost_per_month_usd",
		"quality", "quality_bar", "latency_p50_s", "latency_p95_s", "latency_p99_s", "latency_budget_s",
		"risk_per_month_usd", "p_escalated", "p_fallback", "p_failed", "escalation_tax_per_request_usd", "clears", "recommended"})
	f6 := func(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }
	for k, p := range r.Policies {
		rec := strconv.FormatBool(p.Name == r.Recommended)
		for i, c := range p.Categories {
			info := r.Categories[i]
			p50, p95, p99 := csvLatency(c.Latency, c.failsAll())
			cw.Write([]string{p.Name, c.Category, c.Route, f6(info.Share), c.Cost.Decimal(), c.CostPer1K.Decimal(), c.CostPerMonth.Decimal(),
				f6(c.Quality), f6(info.QualityBar), p50, p95, p99, csvSeconds(info.LatencyBudget),
				c.RiskPerMonth.Decimal(), f6(c.PEscalated), f6(c.PFallback), f6(c.PFailed), c.EscalationTax.Decimal(),
				strconv.FormatBool(c.ClearsBar && c.MeetsBudget), rec})
		}
		t := p.Total
		p50, p95, p99 := csvLatency(t.Latency, t.failsAll())
		cw.Write([]string{p.Name, "TOTAL", p.Description, "1", t.Cost.Decimal(), t.CostPer1K.Decimal(), t.CostPerMonth.Decimal(),
			f6(t.Quality), "", p50, p95, p99, "",
			t.RiskPerMonth.Decimal(), f6(t.PEscalated), f6(t.PFallback), f6(t.PFailed), t.EscalationTax.Decimal(),
			strconv.FormatBool(p.Clears), rec})
		if u := r.UserRequests; u != nil {
			up := u.Policies[k]
			catClears := map[string]bool{}
			for _, c := range p.Categories {
				catClears[c.Category] = c.ClearsBar && c.MeetsBudget
			}
			for i, pl := range u.Pipelines {
				f := up.Pipelines[i]
				budget := csvSeconds(pl.LatencyBudget)
				clears := f.MeetsBudget
				for _, st := range pl.Steps {
					clears = clears && catClears[st]
				}
				cw.Write(csvUserRequestRow(p.Name, "PIPELINE "+pl.Name, pl.stepsText(), f6(pl.Share), budget, f, clears, rec))
			}
			cw.Write(csvUserRequestRow(p.Name, "ALL USER REQUESTS", "", "1", "", up.All, p.Clears, rec))
		}
	}
	cw.Flush()
	return cw.Error()
}

// mdEscape makes text safe inside a Markdown table cell or heading.
var mdEscape = mdtext.Cell

// WriteMarkdown writes the report as a Markdown document.
func WriteMarkdown(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "# Routing estimate: %s\n\n", mdEscape(r.Spec))
	fmt.Fprintf(ew, "%s requests a month%s · %s Monte Carlo samples per policy (seed %d) · catalogue prices of %s · %s\n\n",
		groupInt(r.Volume), callsNote(r), groupInt(int64(r.Samples)), r.Seed, r.CatalogDate, r.Date)
	fmt.Fprintf(ew, "**Recommended: %s.** %s\n\n", r.Recommended, r.Recommendation)

	fmt.Fprintln(ew, "## Policies")
	fmt.Fprintln(ew)
	fmt.Fprintln(ew, "| Policy | Cost/request | Per 1k | Per month | Quality | Failed | p50 | p95 | p99 | Risk/month | Escalated | Fallback | Clears |")
	fmt.Fprintln(ew, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, p := range r.Policies {
		name := mdEscape(p.Name)
		if p.Name == r.Recommended {
			name = "**" + name + "** ▶"
		}
		t := p.Total
		c := tableCells(t, p.Clears)
		if p.SameAs != "" {
			c.Clears += " (same as " + mdEscape(p.SameAs) + ")"
		}
		fmt.Fprintf(ew, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, c.Cost, c.Per1K, c.PerMonth, pct(t.Quality),
			c.Failed, c.P50, c.P95, c.P99, t.RiskPerMonth, pct1(t.PEscalated), pct(t.PFallback), c.Clears)
	}
	fmt.Fprintln(ew)

	fmt.Fprintln(ew, "## Categories")
	fmt.Fprintln(ew)
	for i, info := range r.Categories {
		budget := "none"
		if info.LatencyBudget > 0 {
			budget = secs(info.LatencyBudget)
		}
		fmt.Fprintf(ew, "### %s\n\n%s of traffic · quality bar %s · p95 budget %s · a bad answer costs %s, a failed request %s\n\n",
			info.Name, pct1(info.Share), pct(info.QualityBar), budget, info.BadAnswer, info.FailedRequest)
		fmt.Fprintln(ew, "| Policy | Route | Cost/request | Quality | Failed | p95 | TTFB p95 | Escalated | Clears |")
		fmt.Fprintln(ew, "|---|---|---:|---:|---:|---:|---:|---:|---|")
		var assumed []string
		var rows []CategoryResult
		for _, p := range r.Policies {
			if p.SameAs != "" {
				continue
			}
			c := p.Categories[i]
			rows = append(rows, c)
			cc := tableCells(c.Figures, c.ClearsBar && c.MeetsBudget)
			cc.TTFB95 = c.markTTFB(cc.TTFB95, &assumed)
			fmt.Fprintf(ew, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(p.Name), mdEscape(c.Route), cc.Cost, qualityVs(c.Quality, info.QualityBar),
				cc.Failed, cc.P95, mdEscape(cc.TTFB95), pct1(c.PEscalated), cc.Clears)
		}
		fmt.Fprintln(ew)
		if len(assumed) > 0 {
			unmeasured, measured := r.ttfbSplit(rows, assumed)
			fmt.Fprintf(ew, "%s\n\n", mdEscape(ttfbFootnote(unmeasured, measured...)))
		}
		// Why each derived policy chose its route here, as the HTML report notes it under the
		// route: where cheapest-passing moved a pipeline step off its cheapest model, why.
		noted := false
		for _, p := range r.Policies {
			if c := p.Categories[i]; p.SameAs == "" && c.Note != "" {
				fmt.Fprintf(ew, "- %s: %s\n", mdEscape(p.Name), mdEscape(c.Note))
				noted = true
			}
		}
		if noted {
			fmt.Fprintln(ew)
		}
	}

	if r.UserRequests != nil {
		writeUserRequestsMarkdown(ew, r)
	}
	if len(r.Verdicts) > 0 {
		fmt.Fprintln(ew, "## Why the others were not recommended")
		fmt.Fprintln(ew)
		for _, v := range r.Verdicts {
			fmt.Fprintf(ew, "- **%s**: %s\n", mdEscape(v.Policy), v.Reason)
		}
		fmt.Fprintln(ew)
	}
	if len(r.OptimiseFirst) > 0 {
		fmt.Fprintln(ew, "## Which route to optimise first")
		fmt.Fprintln(ew)
		fmt.Fprintln(ew, "| # | Category | Monthly saving | Net of risk | Validation | Headroom | Better route | Why |")
		fmt.Fprintln(ew, "|---:|---|---:|---:|---|---:|---|---|")
		for i, o := range r.OptimiseFirst {
			fmt.Fprintf(ew, "| %d | %s | %s | %s | %s | %.1f pts | %s | %s |\n", i+1, o.Category, o.MonthlySaving, o.NetSaving, mdEscape(o.Validation),
				o.Headroom, mdEscape(o.Better), mdEscape(o.Reason))
		}
		fmt.Fprintln(ew)
	}
	if s := r.Sensitivity; s != nil {
		fmt.Fprintf(ew, "## Sensitivity (±%.0f%%)\n\n", s.Move*100)
		if len(s.Flips) == 0 {
			fmt.Fprintf(ew, "No single move of ±%.0f%% changes the recommendation (%d estimates).\n\n", s.Move*100, s.Runs)
		}
		for _, g := range s.flipGroups() {
			switch g.Kind {
			case FlipPolicy:
				fmt.Fprintln(ew, "Moves that change the recommendation:")
			case FlipNoneClears:
				fmt.Fprintf(ew, "Moves that leave no policy clearing every bar and budget (%s stays recommended, as the closest):\n", mdEscape(s.Baseline))
			case FlipNowClears:
				fmt.Fprintf(ew, "Moves that make %s clear every bar and budget (it stays recommended):\n", mdEscape(s.Baseline))
			}
			fmt.Fprintln(ew)
			for _, f := range g.Moves {
				if g.Kind == FlipPolicy {
					fmt.Fprintf(ew, "- %s %s → **%s**%s\n", f.Input, f.Change, f.Recommended, s.flipNote(f))
				} else {
					fmt.Fprintf(ew, "- %s %s\n", f.Input, f.Change)
				}
			}
			fmt.Fprintln(ew)
		}
		if len(s.Rerouted) > 0 {
			fmt.Fprintf(ew, "Moves that keep %s recommended but change its routes:\n\n", mdEscape(s.Baseline))
			for _, f := range s.Rerouted {
				fmt.Fprintf(ew, "- %s %s: %s\n", f.Input, f.Change, mdEscape(strings.Join(f.RoutesChanged, "; ")))
			}
			fmt.Fprintln(ew)
		}
		fmt.Fprintf(ew, "| Input | Change | Δ %s monthly cost + risk | Still clears | Routes change |\n|---|---|---:|---|---|\n", mdEscape(s.Baseline))
		for _, f := range s.Largest {
			fmt.Fprintf(ew, "| %s | %s | %s | %s | %s |\n", f.Input, f.Change, signedMoney(f.Delta), yesNo(f.Clears), yesNo(len(f.RoutesChanged) > 0))
		}
		fmt.Fprintln(ew)
		if len(s.BreakEvens) > 0 {
			writeBreakEvensMarkdown(ew, s)
		}
	}
	if m := r.Measured; m != nil {
		fmt.Fprintf(ew, "## Measurements\n\n%d finding(s) contradict their assumption; %d observations matched no category or model. %s.\n\n", m.Contradictions, m.Unmatched, IntervalLegend)
		fmt.Fprintln(ew, "| Category | Model | What | Assumed | Measured | 95% interval | n | Used | Verdict |")
		fmt.Fprintln(ew, "|---|---|---|---:|---:|---|---:|---|---|")
		for _, f := range m.Findings {
			verdict := f.verdict()
			if f.Contradicts {
				verdict = "**contradicts**"
			}
			if f.Note != "" {
				verdict += ": " + mdEscape(f.Note)
			}
			interval := f.interval()
			fmt.Fprintf(ew, "| %s | %s | %s | %s | %s | %s | %d | %s | %s |\n", mdEscape(f.Category), mdEscape(f.Model), f.What, findingValue(f.What, f.Assumed),
				findingValue(f.What, f.Measured), interval, f.N, yesNo(f.Used), verdict)
		}
		fmt.Fprintln(ew)
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(ew, "## Notes")
		fmt.Fprintln(ew)
		for _, n := range r.Notes {
			fmt.Fprintf(ew, "- %s\n", n)
		}
		fmt.Fprintln(ew)
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(ew, "## Warnings from the spec")
		fmt.Fprintln(ew)
		for _, n := range r.Warnings {
			fmt.Fprintf(ew, "- %s\n", n)
		}
		fmt.Fprintln(ew)
	}
	return ew.err
}

// csvUserRequestRow is a CSV row of figures per user request (see WriteCSV).
func csvUserRequestRow(policy, label, route, share, budget string, f PipelineFigures, clears bool, rec string) []string {
	p50, p95, p99 := csvLatency(f.Latency, f.PFailed >= 1-1e-9)
	return []string{policy, label, route, share, f.Cost.Decimal(), f.Cost.Times(1000).Decimal(), f.CostPerMonth.Decimal(),
		strconv.FormatFloat(f.Quality, 'f', 6, 64), "", p50, p95, p99, budget,
		f.RiskPerMonth.Decimal(), "", "", strconv.FormatFloat(f.PFailed, 'f', 6, 64), "", strconv.FormatBool(clears), rec}
}

// csvSeconds writes a time in seconds for a CSV cell, with three decimals; "" for 0, which is
// none (a budget the spec does not state), not a budget of no time.
func csvSeconds(f float64) string {
	if f == 0 {
		return ""
	}
	return strconv.FormatFloat(f, 'f', 3, 64)
}

// csvLatency writes a latency's quantiles for CSV cells, with three decimals; empty when
// nothing is answered (none), whose requests have no response time, as the tables write "-".
func csvLatency(l Latency, none bool) (p50, p95, p99 string) {
	if none {
		return "", "", ""
	}
	f3 := func(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }
	return f3(l.P50), f3(l.P95), f3(l.P99)
}
