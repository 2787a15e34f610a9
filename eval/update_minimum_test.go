package eval

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/spec"
)

// minimumRows are n graded answers of each of the fixture's models, small passing all but
// the first, strong every one, with latencies.
func minimumRows(f *fixture, n int) []Record {
	var rows []Record
	for _, name := range []string{"small", "strong"} {
		m := f.spec.Model(name)
		for i := range n {
			rows = append(rows, Record{Row: outcomes.Row{Item: fmt.Sprint("q", i), Category: f.cat.Name, Model: m.Model,
				LatencyMS: float64(900 + 10*i), Pass: ptr(name == "strong" || i > 0)}, Extras: Extras{GradedBy: GradeChecks}})
		}
	}
	return rows
}

// TestUpdateWritesNothingFromFewAnswers is the reported eval of five items: --update wrote
// pass rates of five answers (intervals 56.6%–100%) that estimate --measured would not use.
// Below estimate.MinGraded graded answers (estimate.MinLatency calls) nothing is written,
// review.last included, and the notes say what was left and why; from 20 they are written.
func TestUpdateWritesNothingFromFewAnswers(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	data, err := os.ReadFile("testdata/recover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	models := []*spec.Model{f.spec.Model("small"), f.spec.Model("strong")}
	today := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{5, 19} {
		sums := Summarize(f.cat, models, minimumRows(f, n))
		out, changes, notes, err := Update(data, f.spec, f.cat, sums, UpdateOptions{Today: today})
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != 0 || !bytes.Equal(out, data) {
			t.Errorf("%d items: changes %v: want nothing written from fewer than 20 answers", n, changes)
		}
		all := strings.Join(notes, "\n")
		for _, want := range []string{
			fmt.Sprintf("small: assume.pass_rate not written: it is of %d graded answer(s)", n),
			fmt.Sprintf("strong: assume.pass_rate not written: it is of %d graded answer(s) (100.0%%", n),
			"fewer than the 20 a measured pass rate needs", "the spec keeps 0.7", "the spec keeps 0.95",
			fmt.Sprintf("small: assume.latency not written: it is of %d call(s), fewer than the 20", n),
			"review.last not written: no measurement met its minimum",
		} {
			if !strings.Contains(all, want) {
				t.Errorf("%d items: notes lack %q:\n%s", n, want, all)
			}
		}
	}
	sums := Summarize(f.cat, models, minimumRows(f, 20))
	out, changes, _, err := Update(data, f.spec, f.cat, sums, UpdateOptions{Today: today})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.String())
	}
	want := []string{
		"assume.pass_rate.small: 0.7 → 0.95",
		"assume.latency.small: (the model's: {p50: 800ms, p95: 2s}) → {p50: 990ms, p95: 1.08s}",
		"assume.pass_rate.strong: 0.95 → 1",
		"assume.latency.strong: (the model's: {p50: 1.5s, p95: 4s}) → {p50: 990ms, p95: 1.08s}",
		"review.last: (none; the spec's review.last is 2026-11-01) → 2026-11-27",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("20 items: changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !bytes.Contains(out, []byte("pass_rate: {small: 0.95, strong: 1}")) {
		t.Errorf("20 items: the measured pass rates are not written:\n%s", out)
	}
}

// TestUpdateSkipsUnchangedValues: a measured value the spec already has is neither written nor
// listed (the reported "assume.pass_rate.nano: 0.8 → 0.8"), nor is a review date already today.
func TestUpdateSkipsUnchangedValues(t *testing.T) {
	data, err := os.ReadFile("testdata/recover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const assumed = "pass_rate: {small: 0.7, strong: 0.95} # the truth the eval must recover"
	if !bytes.Contains(data, []byte(assumed)) {
		t.Fatalf("the fixture no longer assumes %q", assumed)
	}
	data = bytes.Replace(data, []byte(assumed), []byte(assumed+"\n      latency: {small: {p50: 1s, p95: 2s}}"), 1)
	s, err := spec.Parse(data, "recover.yaml", spec.Options{Today: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	cat := s.Category("extract")
	sums := Summarize(cat, []*spec.Model{s.Model("small")}, nil)
	sums[0].Graded, sums[0].Passed, sums[0].PassRate = 20, 14, 0.7
	sums[0].Latencies, sums[0].LatencyP50, sums[0].LatencyP95 = 20, time.Second, 2*time.Second
	today := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	out, changes, _, err := Update(data, s, cat, sums, UpdateOptions{Today: today})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Path != "review.last" {
		t.Errorf("changes %v: want only the review date; the pass rate and latency are the spec's already", changes)
	}
	if !bytes.Equal(bytes.Replace(out, []byte("    review: {last: 2026-11-27}\n"), nil, 1), data) {
		t.Errorf("the spec was rewritten beyond its review date:\n%s", out)
	}
	// Again on the updated spec, the same day: nothing at all.
	s, err = spec.Parse(out, "recover.yaml", spec.Options{Today: today})
	if err != nil {
		t.Fatal(err)
	}
	again, changes, _, err := Update(out, s, s.Category("extract"), sums, UpdateOptions{Today: today})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 0 || !bytes.Equal(again, out) {
		t.Errorf("changes %v: the review date is today's already", changes)
	}
}

// TestAssumptionOnTheIntervalsEdge is the reported "the spec assumes a pass rate of 100.0%,
// outside the measured 56.6%–100.0%": Wilson's interval of n passes in n ends at 1 exactly
// (and of none at 0), and an assumption on the edge is inside it.
func TestAssumptionOnTheIntervalsEdge(t *testing.T) {
	for n := 1; n <= 500; n++ {
		if lo, hi := Wilson(n, n); hi != 1 || lo <= 0 {
			t.Fatalf("Wilson(%d, %d) = %v–%v, want an upper bound of exactly 1", n, n, lo, hi)
		}
		if lo, hi := Wilson(0, n); lo != 0 || hi >= 1 {
			t.Fatalf("Wilson(0, %d) = %v–%v, want a lower bound of exactly 0", n, lo, hi)
		}
	}
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	sums := Summarize(f.cat, []*spec.Model{f.spec.Model("strong")}, minimumRows(f, 5))
	one, zero := 1.0, 0.0
	sums[0].Assumed = &one
	if sums[0].AssumptionContradicted() {
		t.Errorf("an assumed 100%% is said to be outside %v, of 5 passes in 5", sums[0].PassRateCI)
	}
	var b bytes.Buffer
	if err := WriteText(&b, sums); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "outside the measured") {
		t.Errorf("the report says 100%% is outside the measured interval of 5 passes in 5:\n%s", b.String())
	}
	none := Summary{Graded: 5, PassRateCI: [2]float64{}, Assumed: &zero}
	none.PassRateCI[0], none.PassRateCI[1] = Wilson(0, 5)
	if none.AssumptionContradicted() {
		t.Errorf("an assumed 0%% is said to be outside %v, of no passes in 5", none.PassRateCI)
	}
	// A contradiction of fewer than 20 answers is not written by --update, and the report
	// says so rather than promising it.
	sums[0].Assumed = &zero
	b.Reset()
	if err := WriteText(&b, sums); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "outside the measured") || strings.Contains(b.String(), "--update writes the measurement") ||
		!strings.Contains(b.String(), "only from at least 20 graded answers") {
		t.Errorf("the report of 5 answers:\n%s\nwant the contradiction, and that --update does not write it from 5 answers", b.String())
	}
}
