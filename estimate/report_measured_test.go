package estimate

import (
	"bytes"
	"context"
	"html"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// measuredReport is an estimate with measurements that contradict some assumptions (with what
// to write in the spec, or that there are too few calls) and agree with others.
func measuredReport(t *testing.T) *Report {
	t.Helper()
	s, obs := contradictedObservations(t, "measured")
	obs = append(obs, Observation{Category: "y", Model: "small"})
	r, err := Run(context.Background(), s, Options{Samples: 2000, Today: testDay, Measured: Measure(s, obs), MeasuredFrom: "rows.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Measured == nil || len(r.Measured.Findings) < 4 || r.Measured.Contradictions == 0 || r.Measured.Contradictions == len(r.Measured.Findings) {
		t.Fatalf("want findings that contradict and findings that agree: %+v", r.Measured)
	}
	return r
}

// markdownCells reads the rows of the Markdown table under heading as the text of their
// cells: escapes undone, emphasis dropped.
func markdownCells(t *testing.T, md, heading string) [][]string {
	t.Helper()
	_, section, ok := strings.Cut(md, heading+"\n")
	if !ok {
		t.Fatalf("no %q in the Markdown report:\n%s", heading, md)
	}
	var rows [][]string
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "## ") {
			break
		}
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		var cells []string
		var cell strings.Builder
		for i := 1; i < len(line); i++ {
			switch c := line[i]; {
			case c == '\\' && i+1 < len(line):
				i++
				cell.WriteByte(line[i])
			case c == '|':
				cells = append(cells, strings.TrimSpace(html.UnescapeString(strings.ReplaceAll(cell.String(), "**", ""))))
				cell.Reset()
			default:
				cell.WriteByte(c)
			}
		}
		rows = append(rows, cells)
	}
	return rows
}

var (
	htmlRowRE  = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	htmlCellRE = regexp.MustCompile(`(?s)<t[hd][^>]*>(.*?)</t[hd]>`)
	htmlTagRE  = regexp.MustCompile(`<[^>]+>`)
)

// htmlCells reads the rows of the first HTML table after heading as the text of their cells.
func htmlCells(t *testing.T, page, heading string) [][]string {
	t.Helper()
	_, section, ok := strings.Cut(page, heading)
	if !ok {
		t.Fatalf("no %q in the HTML report", heading)
	}
	table, _, ok := strings.Cut(section, "</table>")
	if !ok || strings.Contains(table, "<h2>") {
		t.Fatalf("no table under %q:\n%s", heading, section)
	}
	var rows [][]string
	for _, tr := range htmlRowRE.FindAllStringSubmatch(table, -1) {
		var cells []string
		for _, td := range htmlCellRE.FindAllStringSubmatch(tr[1], -1) {
			cells = append(cells, strings.TrimSpace(html.UnescapeString(htmlTagRE.ReplaceAllString(td[1], ""))))
		}
		rows = append(rows, cells)
	}
	return rows
}

// TestHTMLMeasurementsAsMarkdown: the HTML report has a table of the measurements with the
// Markdown report's columns and rows, each finding's note included, and stays one
// self-contained page.
func TestHTMLMeasurementsAsMarkdown(t *testing.T) {
	r := measuredReport(t)
	var md, page bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	want := markdownCells(t, md.String(), "## Measurements")
	got := htmlCells(t, page.String(), "<h2>Measurements</h2>")
	if len(want) != 1+len(r.Measured.Findings) {
		t.Fatalf("the Markdown table has %d rows for %d findings", len(want), len(r.Measured.Findings))
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("the HTML table of measurements:\n%q\nwant the Markdown one's:\n%q", got, want)
	}
	notes := 0
	for _, f := range r.Measured.Findings {
		if f.Note == "" {
			continue
		}
		notes++
		if !strings.Contains(html.UnescapeString(page.String()), f.Note) {
			t.Errorf("the page does not say %q", f.Note)
		}
	}
	if notes == 0 {
		t.Error("no finding has a note")
	}
	for _, want := range []string{"From rows.jsonl: " + strconv.Itoa(r.Measured.Contradictions) + " finding(s) contradict their assumption; 1 observations matched no category or model.",
		`<td><strong class="no">contradicts</strong>: `, `<td><span class="yes">agrees</span></td>`} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the page does not have %q", want)
		}
	}
	for _, forbidden := range []string{"<script", "http://", "https://", "<link"} {
		if strings.Contains(strings.ReplaceAll(page.String(), `xmlns="http://www.w3.org/2000/svg"`, ""), forbidden) {
			t.Errorf("the HTML report is not self-contained: it has %q", forbidden)
		}
	}
	if i, j := strings.Index(page.String(), "<h2>Measurements</h2>"), strings.Index(page.String(), "<h2>Warnings from the spec</h2>"); j >= 0 && j < i {
		t.Error("the measurements come after the spec's warnings")
	}
}

// TestHTMLMeasurementsWithoutFindings: measurements of which nothing matched the spec say so,
// rather than draw a table's header alone; a report without measurements has no section.
func TestHTMLMeasurementsWithoutFindings(t *testing.T) {
	s := parse(t, oneModelSpec)
	r, err := Run(context.Background(), s, Options{Samples: 2000, Today: testDay, Measured: Measure(s, []Observation{{Model: "small"}}), MeasuredFrom: "rows.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(page.String(), "<h2>Measurements</h2>")
	section, _, _ = strings.Cut(section, "<h2>")
	if want := "None of a category and model of the spec: every assumption is kept."; !strings.Contains(section, want) || strings.Contains(section, "<table>") {
		t.Errorf("measurements section:\n%s\nwant %q and no table", section, want)
	}
	r.Measured = nil
	page.Reset()
	if err := WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(page.String(), "Measurements") {
		t.Error("a report without measurements has a section of them")
	}
}
