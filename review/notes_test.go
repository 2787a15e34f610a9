package review

import (
	"bytes"
	"strings"
	"testing"
)

// TestMarkdownShowsEveryRowsNote: a row that was not tested says why in the Markdown report as
// in the JSON and HTML, the category rows' too (an escalation rate of 21 requests far from its
// estimate, with no test mark, must not go unexplained), and rows that share a note share one
// line of it.
func TestMarkdownShowsEveryRowsNote(t *testing.T) {
	s := loadQA(t, qaCascade, "")
	rep := analyze(t, s, misfitTraffic(s, 21, 0), Options{})
	esc := comparison(rep, "qa", "", "escalation rate")
	if esc == nil || esc.Tested || esc.Note != notTested() {
		t.Fatalf("escalation rate: %+v; want an untested row noting why", esc)
	}
	var untested []string
	for _, c := range rep.Categories[0].Comparisons[1:] {
		if c.Note == notTested() {
			untested = append(untested, c.Metric+modelSuffix(c.Model))
		}
	}
	var md, html bytes.Buffer
	if err := WriteMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&html, rep); err != nil {
		t.Fatal(err)
	}
	want := "\n- " + strings.Join(untested, ", ") + ": " + notTested()
	if len(untested) < 2 || !strings.Contains(md.String(), want) || strings.Count(md.String(), want) != 1 {
		t.Errorf("the Markdown report does not note the untested rows once, as %q:\n%s", want, md.String())
	}
	for _, c := range rep.Categories[0].Comparisons[1:] {
		if c.Note != "" && !strings.Contains(md.String(), c.Note) {
			t.Errorf("the Markdown report lacks %s%s's note %q", c.Metric, modelSuffix(c.Model), c.Note)
		}
	}
	if !strings.Contains(html.String(), "escalation rate<br><small>"+notTested()) {
		t.Errorf("the HTML report does not note the untested escalation rate")
	}
}

// TestRowNotesGroupsSharedNotes: rowNotes keeps the rows' order, names every row of a shared
// note, and skips rows without one.
func TestRowNotesGroupsSharedNotes(t *testing.T) {
	got := rowNotes([]*Comparison{
		{Metric: "escalation rate", Note: "few"},
		{Metric: "cost per request"},
		{Metric: "pass rate", Model: "nano", Note: "why"},
		{Metric: "latency p50", Model: "nano", Note: "few"},
	})
	want := []rowNote{{"escalation rate, latency p50 (nano)", "few"}, {"pass rate (nano)", "why"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("rowNotes = %+v, want %+v", got, want)
	}
}
