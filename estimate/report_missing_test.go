package estimate

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

// tooLongSpec has a category, big, whose every request is longer than every model's context
// window, so that every route fails every request, and one, small, with no latency budget.
const tooLongSpec = `version: 1
name: big
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers:
  sim: {type: simulated}
models:
  a: {provider: sim, model: gpt-4.1-mini, context_window: 200000, latency: {p50: 400ms, p95: 1.1s}}
  b: {provider: sim, model: claude-sonnet-4-5, context_window: 200000, latency: {p50: 900ms, p95: 2.5s}}
categories:
  - name: small
    share: 0.5
    tokens: {in: 400, out: 20}
    quality_bar: 0.9
    route: {model: a}
    assume:
      pass_rate: {a: 0.95, b: 0.97}
  - name: big
    share: 0.5
    tokens: {in: 300000, out: 20}
    quality_bar: 0.9
    latency_budget: 5s
    route: {model: a}
    assume:
      pass_rate: {a: 0.95, b: 0.97}
    default: true
`

func runSrc(t *testing.T, src string) *Report {
	t.Helper()
	r, err := Run(context.Background(), parse(t, src), Options{Samples: 20_000, Today: testDay})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestCSVLeavesMissingValuesEmpty: a category without a latency budget has an empty budget
// cell, not 0 (which would read as a budget its p95 clears), and a route that answers nothing
// has empty latency cells, as the tables write "-".
func TestCSVLeavesMissingValuesEmpty(t *testing.T) {
	r := runSrc(t, tooLongSpec)
	var b bytes.Buffer
	if err := WriteCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	seen := 0
	for _, row := range rows[1:] {
		switch row[col["category"]] {
		case "small":
			seen++
			if got := row[col["latency_budget_s"]]; got != "" {
				t.Errorf("%s small: latency_budget_s %q, want empty (no budget)", row[0], got)
			}
			if row[col["latency_p95_s"]] == "" {
				t.Errorf("%s small: latency_p95_s empty for a route that answers", row[0])
			}
		case "big":
			seen++
			for _, c := range []string{"latency_p50_s", "latency_p95_s", "latency_p99_s"} {
				if got := row[col[c]]; got != "" {
					t.Errorf("%s big: %s %q, want empty (every request fails)", row[0], c, got)
				}
			}
			if got := row[col["latency_budget_s"]]; got != "5.000" {
				t.Errorf("%s big: latency_budget_s %q, want 5.000", row[0], got)
			}
			if got := row[col["clears"]]; got != "false" {
				t.Errorf("%s big: clears %q, want false", row[0], got)
			}
		}
	}
	if seen == 0 {
		t.Fatal("no category rows")
	}
}

// TestJSONLatencyOfNoAnswerIsNull: the latency and time to first byte of a route that answers
// nothing are null, not the time its requests take to fail, and it does not meet its budget.
func TestJSONLatencyOfNoAnswerIsNull(t *testing.T) {
	r := runSrc(t, tooLongSpec)
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Policies []struct {
			Name       string
			Categories []struct {
				Category    string          `json:"category"`
				Latency     json.RawMessage `json:"latency"`
				TTFB        json.RawMessage `json:"ttfb"`
				MeetsBudget bool            `json:"meets_budget"`
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range doc.Policies {
		for _, c := range p.Categories {
			switch c.Category {
			case "big":
				if string(c.Latency) != "null" || string(c.TTFB) != "null" {
					t.Errorf("%s big: latency %s, ttfb %s; want null", p.Name, c.Latency, c.TTFB)
				}
				if c.MeetsBudget {
					t.Errorf("%s big: meets_budget true for a route that answers nothing", p.Name)
				}
			case "small":
				if !strings.Contains(string(c.Latency), `"p95_s"`) || !c.MeetsBudget {
					t.Errorf("%s small: latency %s, meets_budget %v", p.Name, c.Latency, c.MeetsBudget)
				}
			}
		}
	}
	// The report still reads back.
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Errorf("the JSON report does not read back: %v", err)
	}
}

// TestOptimiseFirstPointsAtTheContextWindow: when no route clears a category because its
// requests are longer than every model's context window, the advice is the window, not a
// stronger model.
func TestOptimiseFirstPointsAtTheContextWindow(t *testing.T) {
	r := runSrc(t, tooLongSpec)
	for _, o := range r.OptimiseFirst {
		if o.Category != "big" {
			continue
		}
		if strings.Contains(o.Reason, "stronger model") || !strings.Contains(o.Reason, "route the category to a model with a larger context window, or correct tokens.in") ||
			!strings.Contains(o.Reason, "every request has more input tokens than the largest context window of the models it can use (200,000 tokens)") {
			t.Errorf("big: %q", o.Reason)
		}
		return
	}
	t.Fatal("no optimise-first entry for big")
}

// movedSpec: cheapest-passing moves step b of pipeline p from slow to fast to meet the
// pipeline's budget, and says why (CategoryResult.Note).
const movedSpec = `version: 1
name: pipe
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 100000}
providers:
  sim: {type: simulated}
models:
  slow: {provider: sim, model: gpt-4.1-nano, latency: {p50: 2s, p95: 2.2s}}
  fast: {provider: sim, model: gpt-4.1, latency: {p50: 300ms, p95: 400ms}}
categories:
  - name: a
    share: 0
    tokens: {in: 400, out: 20}
    quality_bar: 0.9
    failure_impact: {bad_answer: 0.01}
    route: {model: fast}
    assume: {pass_rate: {slow: 0.95, fast: 0.97}}
  - name: b
    share: 0
    tokens: {in: 400, out: 20}
    quality_bar: 0.9
    failure_impact: {bad_answer: 0.01}
    route: {model: fast}
    assume: {pass_rate: {slow: 0.95, fast: 0.97}}
    default: true
pipelines:
  - {name: p, share: 1, steps: [a, b], latency_budget: 4s}
`

// TestTextReportsSayWhyAStepMoved: the table and Markdown reports show the note that says
// why cheapest-passing moved a pipeline step, as JSON and HTML do.
func TestTextReportsSayWhyAStepMoved(t *testing.T) {
	r := runSrc(t, movedSpec)
	const why = "fast clears the bar; the cheaper slow does too, but leaves pipeline p over its latency budget"
	p := r.policy("cheapest-passing")
	if p == nil || p.Categories[1].Note != why {
		t.Fatalf("cheapest-passing's note on b: %+v", p)
	}
	if r.Recommended != "cheapest-passing" {
		t.Fatalf("recommended %s, want cheapest-passing", r.Recommended)
	}
	var text, md bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(strings.Fields(text.String()), " "); !strings.Contains(got, "- b: "+why) {
		t.Errorf("the table report does not say why b moved:\n%s", text.String())
	}
	if !strings.Contains(md.String(), "- cheapest-passing: "+why+"\n") {
		t.Errorf("the Markdown report does not say why b moved:\n%s", md.String())
	}
}

// TestPipelineFailingEverythingMeetsNoBudget: a pipeline whose every user request fails has no
// end-to-end latency: it does not meet its budget, and JSON writes its latency as null.
func TestPipelineFailingEverythingMeetsNoBudget(t *testing.T) {
	src := strings.Replace(tooLongSpec, "    default: true\n", "    default: true\npipelines:\n  - {name: p, share: 1, steps: [small, big], latency_budget: 10s}\n", 1)
	src = strings.Replace(src, "    share: 0.5\n", "    share: 0\n", 2)
	r := runSrc(t, src)
	if r.UserRequests == nil || len(r.UserRequests.Policies) == 0 {
		t.Fatal("no per-user-request figures")
	}
	for _, u := range r.UserRequests.Policies {
		for _, pf := range u.Pipelines {
			if pf.Pipeline == "p" && pf.MeetsBudget {
				t.Errorf("%s: pipeline p fails every request (%.4f) yet meets its budget", u.Policy, pf.PFailed)
			}
		}
	}
}
