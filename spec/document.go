package spec

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/clearbar/clearbar"

	"github.com/clearbar/clearbar/internal/mdtext"
)

// Document is a spec as a routing document: what a reader needs to know about every
// category's route, in words. Build it with [NewDocument]; render it with WriteMarkdown or
// WriteHTML.
type Document struct {
	Name, Description, File string
	Owner                   string
	Volume                  string
	Review                  ReviewStatus
	Categories              []CategoryDoc
	Models                  []ModelDoc
	Policies                []PolicyDoc
	Warnings                []string
	Overdue                 []string // categories (or "the spec") whose review is overdue
	Today                   string
}

// ReviewStatus is a review date judged against a cadence and a day.
type ReviewStatus struct {
	Last, Due, Cadence string
	Overdue            bool
	DaysOverdue        int
	Missing            bool
}

// CategoryDoc describes one category.
type CategoryDoc struct {
	Name, Description, Why, Success string
	Share, Tokens                   string
	QualityBar, LatencyBudget       string
	Impact                          string
	Route, OnFail, OnExhausted      string
	Validation                      []string
	Fallback                        string
	Assumptions                     []string
	Review                          ReviewStatus
}

// ModelDoc describes one model.
type ModelDoc struct {
	Name, Provider, ModelID, Input, Output, Context, Latency, Availability, Note string
}

// PolicyDoc describes a named alternative policy.
type PolicyDoc struct {
	Name, Description string
	Routes            []string
}

func reviewStatus(last, due time.Time, cadence Cadence, today time.Time) ReviewStatus {
	if last.IsZero() {
		return ReviewStatus{Missing: true, Cadence: cadence.String()}
	}
	rs := ReviewStatus{Last: last.Format(time.DateOnly), Due: due.Format(time.DateOnly), Cadence: cadence.String()}
	t := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	if t.After(due) {
		rs.Overdue = true
		rs.DaysOverdue = int(t.Sub(due).Hours() / 24)
	}
	return rs
}

// Text renders the status as "2026-11-01 (next due 2026-12-01)" or "… OVERDUE by 5 days".
func (r ReviewStatus) Text() string {
	switch {
	case r.Missing:
		return "never reviewed: add review: {last: YYYY-MM-DD}"
	case r.Overdue:
		return fmt.Sprintf("%s, due %s (%s): OVERDUE by %d day(s)", r.Last, r.Due, r.Cadence, r.DaysOverdue)
	}
	return fmt.Sprintf("%s, next due %s (%s)", r.Last, r.Due, r.Cadence)
}

// NewDocument describes a loaded spec as of today.
func NewDocument(s *Spec, today time.Time) *Document {
	d := &Document{Name: s.Name, Description: s.Description, File: s.File, Owner: s.Review.Owner, Today: today.Format(time.DateOnly)}
	d.Volume = fmt.Sprintf("%s requests a month", groupDigits(s.Volume.Monthly()))
	if len(s.Pipelines) > 0 {
		d.Volume = pipelinesText(s)
	}
	if s.UserVolume.PerMonth == 0 && s.UserVolume.PerDay == 0 {
		d.Volume += " (assumed: the spec states no volume)"
	}
	last, due := s.LastReview(nil)
	d.Review = reviewStatus(last, due, s.Review.Cadence, today)
	if d.Review.Overdue {
		d.Overdue = append(d.Overdue, "the spec")
	}
	for _, c := range s.Categories {
		d.Categories = append(d.Categories, categoryDoc(s, c, today))
		if cd := d.Categories[len(d.Categories)-1]; cd.Review.Overdue && c.Review != nil {
			d.Overdue = append(d.Overdue, c.Name)
		}
	}
	for _, m := range s.Models {
		d.Models = append(d.Models, modelDoc(m))
	}
	for _, p := range s.Policies {
		pd := PolicyDoc{Name: p.Name, Description: p.Description}
		names := make([]string, 0, len(p.Routes))
		for n := range p.Routes {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			pd.Routes = append(pd.Routes, fmt.Sprintf("%s: %s", n, routeText(&p.Routes[n].Route)))
		}
		d.Policies = append(d.Policies, pd)
	}
	for _, w := range s.Warnings {
		if w.kind == warnOverdue {
			continue // the document judges reviews as of its own day, above
		}
		d.Warnings = append(d.Warnings, w.Error())
	}
	return d
}

func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func pctText(p float64) string { return PercentText(p) }

// PercentText writes a share as a percentage to two decimals at most, without trailing zeros
// and without float noise: 0.5108 is "51.08%", 0.25 "25%".
func PercentText(p float64) string {
	s := strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", p*100), "0"), ".")
	return s + "%"
}

func bandText(b Band) string {
	if b.Dist {
		return fmt.Sprintf("p50 %g, p95 %g", b.P50, b.P95)
	}
	return fmt.Sprintf("%g", b.P50)
}

func routeText(r *Route) string {
	switch r.Kind() {
	case "split":
		var parts []string
		for _, a := range r.Split {
			parts = append(parts, fmt.Sprintf("%s%% %s", strings.TrimSuffix(pctText(a.Weight), "%"), routeText(&a.Route)))
		}
		return "split: " + strings.Join(parts, "; ")
	case "cascade":
		var names []string
		for _, st := range r.Cascade {
			names = append(names, st.Model.Name)
		}
		if n := r.MaxSteps; n > 0 && n < len(names) {
			return fmt.Sprintf("cascade %s (max_steps %d: %s never called)", strings.Join(names, " → "), n, strings.Join(names[n:], ", "))
		}
		return "cascade " + strings.Join(names, " → ")
	case "score":
		return "score: " + r.Score.Describe()
	}
	return "static: " + r.Model.Name
}

func categoryDoc(s *Spec, c *Category, today time.Time) CategoryDoc {
	cd := CategoryDoc{Name: c.Name, Description: c.Description, Why: c.Why, Success: c.Success}
	cd.Share = pctText(float64(c.Share))
	cd.Tokens = fmt.Sprintf("in %s, out %s", bandText(c.Tokens.In), bandText(c.Tokens.Out))
	if !c.Tokens.Reasoning.IsZero() {
		cd.Tokens += fmt.Sprintf(", reasoning %s (reasoning models)", bandText(c.Tokens.Reasoning))
	}
	if c.Tokens.CacheHit > 0 {
		cd.Tokens += fmt.Sprintf("; %s of input from the prompt cache", pctText(float64(c.Tokens.CacheHit)))
	}
	cd.QualityBar = pctText(c.Bar())
	cd.LatencyBudget = "none"
	if c.LatencyBudget > 0 {
		cd.LatencyBudget = FormatDuration(c.LatencyBudget.D())
	}
	cd.Impact = fmt.Sprintf("a bad answer costs %s, a failed request %s", clearbar.Money(c.FailureImpact.BadAnswer), c.FailureImpact.Failed())
	if c.Route != nil {
		cd.Route = routeText(c.Route)
		for _, v := range routeValidators(c.Route) {
			cd.Validation = append(cd.Validation, v.Summary())
		}
		if c.Route.Validated() {
			cd.OnFail = "escalate to the next step"
			if c.Route.OnFail == OnFailRetryOnce {
				cd.OnFail = "retry the same model once, then escalate"
			}
			cd.OnExhausted = "deliver the last answer, flagged for review"
			if c.Route.FailsWhenExhausted() {
				cd.OnExhausted = "fail the request"
			}
		}
	}
	var fb []string
	for _, f := range c.Fallback {
		fb = append(fb, f.Name)
	}
	cd.Fallback = strings.Join(fb, ", ")
	if cd.Fallback == "" {
		cd.Fallback = "none"
	}
	var rates []string
	for _, m := range s.Models {
		if p, ok := c.PassRate(m); ok {
			rates = append(rates, fmt.Sprintf("%s %s", m.Name, pctText(p)))
		}
	}
	if len(rates) > 0 {
		cd.Assumptions = append(cd.Assumptions, "pass rates: "+strings.Join(rates, ", "))
	}
	if c.Route != nil && c.Route.Validated() {
		st := c.Strength()
		src := "stated"
		if c.Assume.Validator == nil {
			src = "default, not measured"
		}
		cd.Assumptions = append(cd.Assumptions, fmt.Sprintf("validation catches %s of bad answers and flags %s of good ones (%s)", pctText(float64(st.Detect)), pctText(float64(st.FalseAlarm)), src))
	}
	last, due := s.LastReview(c)
	cad := s.Review.Cadence
	if c.Review != nil && !c.Review.Cadence.IsZero() {
		cad = c.Review.Cadence
	}
	cd.Review = reviewStatus(last, due, cad, today)
	return cd
}

// routeValidators lists every validator a route applies, without repeats.
func routeValidators(r *Route) []*Validator {
	var out []*Validator
	seen := map[*Validator]bool{}
	add := func(vs []*Validator) {
		for _, v := range vs {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	add(r.Validate)
	for _, st := range r.Cascade {
		add(st.Validate)
	}
	for _, a := range r.Split {
		add(routeValidators(&a.Route))
	}
	return out
}

func modelDoc(m *Model) ModelDoc {
	r := m.Resolved
	md := ModelDoc{Name: m.Name, Provider: m.Provider.Name, ModelID: m.Model,
		Input: r.Prices.Input.String(), Output: r.Prices.Output.String(),
		Availability: pctText(r.Availability)}
	if r.ContextWindow > 0 {
		md.Context = groupDigits(int64(r.ContextWindow)) + " tokens"
	} else {
		md.Context = "unknown"
	}
	l := r.Latency
	switch {
	case r.LatencyDefault:
		md.Latency = "not stated (default assumed)"
	case len(l.Samples) > 0:
		md.Latency = fmt.Sprintf("%d measured samples", len(l.Samples))
	case l.TTFT != nil:
		md.Latency = fmt.Sprintf("first token p50 %s, p95 %s; %g tokens/s", FormatDuration(l.TTFT.P50.D()), FormatDuration(l.TTFT.P95.D()), l.TokensPerSecond)
	default:
		md.Latency = fmt.Sprintf("p50 %s, p95 %s", FormatDuration(l.P50.D()), FormatDuration(l.P95.D()))
	}
	if !r.InCatalog {
		md.Note = "not in the catalogue: prices from the spec"
	} else if m.Price != nil {
		md.Note = "spec overrides catalogue prices"
	}
	return md
}

// WriteMarkdown renders the document as Markdown.
func (d *Document) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Routing policy: %s\n\n", mdtext.Cell(d.Name))
	if d.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", mdText(d.Description))
	}
	if d.Owner != "" {
		fmt.Fprintf(&b, "- **Owner:** %s\n", mdText(d.Owner))
	}
	fmt.Fprintf(&b, "- **Last review:** %s\n", d.Review.Text())
	fmt.Fprintf(&b, "- **Traffic:** %s\n", d.Volume)
	if d.File != "" {
		fmt.Fprintf(&b, "- **Spec file:** `%s`\n", d.File)
	}
	fmt.Fprintf(&b, "- **As of:** %s\n\n", d.Today)
	if len(d.Overdue) > 0 {
		fmt.Fprintf(&b, "> **Review overdue:** %s. Re-run the estimate with current prices and measurements, then update the review dates.\n\n", strings.Join(d.Overdue, ", "))
	}
	b.WriteString("## Summary\n\n| Category | Share | Quality bar | p95 budget | Route | Validation | Fallback | Last review |\n|---|---:|---:|---:|---|---|---|---|\n")
	for _, c := range d.Categories {
		review := c.Review.Last
		if c.Review.Overdue {
			review += " **overdue**"
		}
		val := strings.Join(c.Validation, "; ")
		if val == "" {
			val = "none"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", c.Name, c.Share, c.QualityBar, c.LatencyBudget, mdCell(c.Route), mdCell(val), c.Fallback, review)
	}
	b.WriteString("\n## Categories\n")
	for _, c := range d.Categories {
		fmt.Fprintf(&b, "\n### %s\n\n", c.Name)
		if c.Description != "" {
			fmt.Fprintf(&b, "%s\n\n", mdText(c.Description))
		}
		if c.Why != "" {
			fmt.Fprintf(&b, "**Why it is routed this way:** %s\n\n", mdText(c.Why))
		} else {
			b.WriteString("**Why it is routed this way:** not written down; add why: to the category.\n\n")
		}
		if c.Success != "" {
			fmt.Fprintf(&b, "**What success looks like:** %s\n\n", mdText(c.Success))
		}
		fmt.Fprintf(&b, "- Traffic: %s of requests; tokens %s\n", c.Share, c.Tokens)
		fmt.Fprintf(&b, "- Thresholds: quality bar %s; p95 latency budget %s; %s\n", c.QualityBar, c.LatencyBudget, c.Impact)
		fmt.Fprintf(&b, "- Route: %s\n", c.Route)
		if len(c.Validation) > 0 {
			fmt.Fprintf(&b, "- Validation: %s; on a failed check: %s; when every step fails: %s\n", mdText(strings.Join(c.Validation, "; ")), c.OnFail, c.OnExhausted)
		}
		fmt.Fprintf(&b, "- Fallback on provider errors: %s\n", c.Fallback)
		for _, a := range c.Assumptions {
			fmt.Fprintf(&b, "- Assumed %s\n", a)
		}
		fmt.Fprintf(&b, "- Last review: %s\n", c.Review.Text())
	}
	b.WriteString("\n## Models\n\n| Model | Provider | Model id | Input | Output | Context | Latency | Availability | Note |\n|---|---|---|---:|---:|---:|---|---:|---|\n")
	for _, m := range d.Models {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", m.Name, m.Provider, m.ModelID, m.Input, m.Output, m.Context, m.Latency, m.Availability, m.Note)
	}
	if len(d.Policies) > 0 {
		b.WriteString("\n## Alternative policies\n")
		for _, p := range d.Policies {
			fmt.Fprintf(&b, "\n- **%s**: %s\n", p.Name, mdText(p.Description))
			for _, r := range p.Routes {
				fmt.Fprintf(&b, "  - %s\n", r)
			}
		}
	}
	if len(d.Warnings) > 0 {
		b.WriteString("\n## Warnings\n\n")
		for _, w := range d.Warnings {
			fmt.Fprintf(&b, "- %s\n", mdText(w))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell and mdText escape what a spec's author wrote (why, success, descriptions, regexps):
// the document shows it, it never runs it.
var mdCell, mdText = mdtext.Cell, mdtext.Text

//go:embed document.html.tmpl
var documentHTML string

var documentTemplate = template.Must(template.New("doc").Funcs(template.FuncMap{
	"join": strings.Join,
}).Parse(documentHTML))

// WriteHTML renders the document as one self-contained HTML page.
func (d *Document) WriteHTML(w io.Writer) error { return documentTemplate.Execute(w, d) }
