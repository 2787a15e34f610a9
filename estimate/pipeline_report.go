package estimate

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// pipelineAssumptions says how the figures per user request are computed (see pipeline.go).
// A step that fails (a provider error after its fallbacks, a cut by a timeout) is counted as
// the application going on: the steps after it are still called, paid and waited for.
const pipelineAssumptions = "Every step is called, and paid, for every user request of its pipeline, even after an earlier step has failed " +
	"(a provider error after its fallbacks, a cut by a timeout): conservative where the application stops at a failed step, which then pays and waits less. " +
	"Quality is the probability that every step delivers a good answer (a user request is good only when all its steps are), the steps' outcomes taken as independent; " +
	"failed, that some step fails. Latency is the steps' times added up, request by request, from each category's " +
	"simulated draws (a failed step's time until it failed included), independent between steps; steps are taken as called one after another, " +
	"so calls the application makes in parallel are counted as if in sequence. The recommendation counts the pipelines' budgets as well as the categories' bars and budgets: a policy clears only when every pipeline with a budget meets it, within the simulation's error."

// callsNote says, for a report with pipelines, what its volume counts: model calls, from the
// user requests and the calls each makes; "" without pipelines.
func callsNote(r *Report) string {
	u := r.UserRequests
	if u == nil {
		return ""
	}
	return fmt.Sprintf(" (model calls: %s user requests × %s calls each; see Per user request)", groupInt(u.PerMonth), callsText(u.CallsPerRequest))
}

// callsText writes calls per user request with up to two decimals: "2", "1.8", "2.22".
func callsText(k float64) string { return strconv.FormatFloat(math.Round(k*100)/100, 'f', -1, 64) }

// stepsText writes a pipeline's steps: "rewrite → answer".
func (p PipelineInfo) stepsText() string { return strings.Join(p.Steps, " → ") }

// budgetCells writes a pipeline's budget and verdict for the tables: "12s", "yes"; "-", "-"
// without a budget.
func (f PipelineFigures) budgetCells(budget float64) (string, string) {
	if budget == 0 {
		return "-", "-"
	}
	verdict := yesNo(f.MeetsBudget)
	if f.WithinError {
		verdict += " (within error)"
	}
	return secs(budget), verdict
}

// latencyCells writes the end-to-end latency's quantiles, "-" when every request fails.
func (f PipelineFigures) latencyCells() (p50, p95, p99 string) {
	if f.PFailed >= 1-1e-9 {
		return "-", "-", "-"
	}
	return secs(f.Latency.P50), secs(f.Latency.P95), secs(f.Latency.P99)
}

// userRequestRows calls row for every figure of the section, pipeline by pipeline and then
// all user requests, each with every distinct policy (policies the same as an earlier one are
// left out).
func (u *UserRequests) userRequestRows(row func(label string, budget float64, policy string, f PipelineFigures)) {
	for i, p := range u.Pipelines {
		for _, pol := range u.Policies {
			if pol.SameAs == "" {
				row(p.Name, p.LatencyBudget, pol.Policy, pol.Pipelines[i])
			}
		}
	}
	for _, pol := range u.Policies {
		if pol.SameAs == "" {
			row("all user requests", 0, pol.Policy, pol.All)
		}
	}
}

// writeUserRequestsText writes the section per user request as a terminal table.
func writeUserRequestsText(w io.Writer, r *Report) {
	u := r.UserRequests
	fmt.Fprintf(w, "\nPer user request (pipelines): %s user requests/month, %s model calls each; the tables above count calls\n",
		groupInt(u.PerMonth), callsText(u.CallsPerRequest))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range u.Pipelines {
		budget := ""
		if p.LatencyBudget > 0 {
			budget = "\tp95 budget " + secs(p.LatencyBudget)
		}
		fmt.Fprintf(tw, "  %s\t%s of user requests\t%s%s\n", p.Name, pct1(p.Share), p.stepsText(), budget)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  PIPELINE\tPOLICY\tCOST/REQ\tPER MONTH\tQUALITY\tFAILED\tP50\tP95\tP99\tBUDGET\tMEETS")
	last := ""
	u.userRequestRows(func(label string, budget float64, policy string, f PipelineFigures) {
		name := label
		if label == last {
			name = ""
		}
		last = label
		mark := "  "
		if policy == r.Recommended {
			mark = "▶ "
		}
		p50, p95, p99 := f.latencyCells()
		b, meets := f.budgetCells(budget)
		fmt.Fprintf(tw, "  %s\t%s%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, mark, policy, f.Cost, f.CostPerMonth, pct(f.Quality),
			failedPct(f.PFailed), p50, p95, p99, b, meets)
	})
	tw.Flush()
	fmt.Fprintf(w, "  %s\n", wrap(pipelineAssumptions, 100, "  "))
}

// writeUserRequestsMarkdown writes the section per user request as Markdown.
func writeUserRequestsMarkdown(w io.Writer, r *Report) {
	u := r.UserRequests
	fmt.Fprintf(w, "## Per user request (pipelines)\n\n%s user requests a month, %s model calls each; the sections above count calls.\n\n",
		groupInt(u.PerMonth), callsText(u.CallsPerRequest))
	for _, p := range u.Pipelines {
		budget := "no budget"
		if p.LatencyBudget > 0 {
			budget = "p95 budget " + secs(p.LatencyBudget)
		}
		fmt.Fprintf(w, "- **%s**: %s of user requests: %s; %s\n", mdEscape(p.Name), pct1(p.Share), mdEscape(p.stepsText()), budget)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Pipeline | Policy | Cost/request | Per month | Quality | Failed | p50 | p95 | p99 | Budget | Meets |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	u.userRequestRows(func(label string, budget float64, policy string, f PipelineFigures) {
		name := mdEscape(policy)
		if policy == r.Recommended {
			name = "**" + name + "** ▶"
		}
		p50, p95, p99 := f.latencyCells()
		b, meets := f.budgetCells(budget)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(label), name, f.Cost, f.CostPerMonth, pct(f.Quality),
			failedPct(f.PFailed), p50, p95, p99, b, meets)
	})
	fmt.Fprintf(w, "\n%s\n\n", pipelineAssumptions)
}

// userRequestsView is the section per user request as the HTML report shows it.
type userRequestsView struct {
	Heading, CallsNote, Assumptions string
	Pipelines                       []string
	Rows                            []userRequestRow
}

// userRequestRow is one row of the HTML section per user request.
type userRequestRow struct {
	Pipeline, Policy                                              string
	Best                                                          bool
	Cost, PerMonth, Quality, Failed, P50, P95, P99, Budget, Meets string
	// MeetsClass is the verdict's style: yes, no, or none without a budget.
	MeetsClass string
}

// newUserRequestsView returns the HTML section per user request; nil without pipelines.
func newUserRequestsView(r *Report) *userRequestsView {
	u := r.UserRequests
	if u == nil {
		return nil
	}
	v := &userRequestsView{
		Heading:     fmt.Sprintf("%s user requests a month, %s model calls each; the sections above count calls.", groupInt(u.PerMonth), callsText(u.CallsPerRequest)),
		CallsNote:   callsNote(r),
		Assumptions: pipelineAssumptions,
	}
	for _, p := range u.Pipelines {
		budget := "no budget"
		if p.LatencyBudget > 0 {
			budget = "p95 budget " + secs(p.LatencyBudget)
		}
		v.Pipelines = append(v.Pipelines, fmt.Sprintf("%s: %s of user requests: %s; %s", p.Name, pct1(p.Share), p.stepsText(), budget))
	}
	u.userRequestRows(func(label string, budget float64, policy string, f PipelineFigures) {
		p50, p95, p99 := f.latencyCells()
		b, meets := f.budgetCells(budget)
		class := yesNo(f.MeetsBudget)
		if budget == 0 {
			class = ""
		}
		v.Rows = append(v.Rows, userRequestRow{Pipeline: label, Policy: policy, Best: policy == r.Recommended,
			Cost: f.Cost.String(), PerMonth: f.CostPerMonth.String(), Quality: pct(f.Quality), Failed: failedPct(f.PFailed),
			P50: p50, P95: p95, P99: p99, Budget: b, Meets: meets, MeetsClass: class})
	})
	return v
}

// perUserRequest is what the recommendation adds for a spec with pipelines, whose figures per
// request are per model call: the recommended policy's figures per user request (all of
// them, pipelines' and single calls'); "" without pipelines or a recommendation.
func perUserRequest(r *Report) string {
	u := r.UserRequests
	if u == nil || r.Recommended == "" {
		return ""
	}
	for _, p := range u.Policies {
		if p.Policy != r.Recommended {
			continue
		}
		a := p.All
		return fmt.Sprintf(" Those figures are per model call; per user request, which makes %s calls on average: %s, %s a month at %s user requests, %s with every step's answer good.",
			strconv.FormatFloat(u.CallsPerRequest, 'f', -1, 64), a.Cost, a.CostPerMonth, groupInt(u.PerMonth), pct(a.Quality))
	}
	return ""
}
