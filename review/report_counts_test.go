package review

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/review/reviewtest"
)

// TestTrafficMixCountsAgree: the traffic mix of the HTML report counts each category's own
// requests, as the Markdown report does, not the requests of every category; and the
// Markdown heading escapes the spec's name.
func TestTrafficMixCountsAgree(t *testing.T) {
	s := load(t, supportTriage)
	r := New(s, Options{Today: today, Baseline: baseline(t, s)})
	r.Add(traffic(s, 3_000, 5, reviewtest.Traffic{})...)
	rep, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var h bytes.Buffer
	if err := Write(&h, rep, "html"); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, cv := range rep.Categories {
		total += cv.Requests
		row := regexp.MustCompile(`<tr><td>` + regexp.QuoteMeta(cv.Name) + `</td><td class="num">([0-9,]+)</td>`).FindStringSubmatch(h.String())
		if row == nil || row[1] != groupInt(cv.Requests) {
			t.Errorf("HTML traffic mix for %s: %v, want %s requests", cv.Name, row, groupInt(cv.Requests))
		}
	}
	if total != rep.Requests || len(rep.Categories) < 2 {
		t.Fatalf("%d categories' requests sum to %d of %d: the test needs several categories", len(rep.Categories), total, rep.Requests)
	}

	rep.Spec = "q<b>x</b>|y"
	var m bytes.Buffer
	if err := Write(&m, rep, "md"); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(m.String(), "\n"); strings.Contains(first, "<b>") || strings.Contains(first, "|y") && !strings.Contains(first, `\|y`) {
		t.Errorf("Markdown heading %q does not escape the spec's name", first)
	}
}
