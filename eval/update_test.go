package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/spec"
)

func TestUpdateWritesMeasurementsAndKeepsComments(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	data, err := os.ReadFile("testdata/recover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	assumed := 0.7
	sums := []Summary{
		{Category: "extract", Model: "small", ModelID: "gpt-4.1-mini", Graded: 1500, PassRate: 0.71133, Assumed: &assumed,
			Latencies: 1500, LatencyP50: 812345 * time.Microsecond, LatencyP95: 2345678 * time.Microsecond},
		{Category: "extract", Model: "strong", ModelID: "gpt-4.1", Items: 3, Errors: 3},
	}
	today := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	out, changes, notes, err := Update(data, f.spec, f.cat, sums, UpdateOptions{Today: today})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.String())
	}
	want := []string{
		"assume.pass_rate.small: 0.7 → 0.711",
		"assume.latency.small: (the model's: {p50: 800ms, p95: 2s}) → {p50: 812ms, p95: 2.346s}",
		"review.last: (none; the spec's review.last is 2026-11-01) → 2026-11-27",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "strong: no graded answers") {
		t.Errorf("notes %q: a model without graded answers is left alone, and the reviewer told", notes)
	}
	for _, keep := range []string{
		"# Two candidates of one category, each on its own simulated provider.",
		"pass_rate: {small: 0.711, strong: 0.95} # the truth the eval must recover",
		"# A perfect validator: the simulator breaks exactly the bad answers",
		"latency: {small: {p50: 812ms, p95: 2.346s}}",
		"review: {last: 2026-11-27}",
	} {
		if !bytes.Contains(out, []byte(keep)) {
			t.Errorf("the updated spec lacks %q:\n%s", keep, out)
		}
	}
	s, err := spec.Parse(out, "updated.yaml", spec.Options{})
	if err != nil {
		t.Fatalf("the updated spec does not load: %v", err)
	}
	cat := s.Category("extract")
	if p, _ := cat.PassRate(s.Model("small")); p != 0.711 {
		t.Errorf("pass rate %v, want 0.711", p)
	}
	if l := cat.LatencyFor(s.Model("small")); l.P50.D() != 812*time.Millisecond || l.P95.D() != 2346*time.Millisecond {
		t.Errorf("latency %v/%v, want the measured 812ms/2.346s", l.P50, l.P95)
	}
	if last, _ := s.LastReview(cat); !last.Equal(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("review.last %v, want today", last)
	}
}

func TestProgressLine(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var b bytes.Buffer
	p := NewProgress(&b, 4, clock)
	now = now.Add(time.Second)
	p.Add(false)
	now = now.Add(50 * time.Millisecond)
	p.Add(true) // within 100ms of the last redraw: not drawn
	now = now.Add(950 * time.Millisecond)
	p.Add(false)
	now = now.Add(time.Second)
	p.Add(false)
	p.Finish()
	lines := strings.Split(b.String(), "\r")
	tests := []struct {
		got, want   string
		explanation string
	}{
		{lines[1], "1/4 [######..................]  25%  1.0/s  ETA 3s  errors 0", "done/total, bar, rate, time left, failed calls"},
		{lines[2], "3/4 [##################......]  75%  1.5/s  ETA 1s  errors 1", "redraws are throttled to ten a second, counts are not"},
		{lines[3], "4/4 [########################] 100%  1.3/s  ETA 0s  errors 1", "the last pair is always drawn"},
		{lines[4], "4/4 [########################] 100%  1.3/s  ETA 0s  errors 1\n", "Finish draws the end state and ends the line"},
	}
	if len(lines) != 5 {
		t.Fatalf("%d redraws in %q, want 4", len(lines)-1, b.String())
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got  %q\nwant %q: %s", tt.got, tt.want, tt.explanation)
		}
	}
}

func TestUpdateCanLeaveLatencyAlone(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	data, _ := os.ReadFile("testdata/recover.yaml")
	sums := []Summary{{Category: "extract", Model: "small", Graded: 20, Passed: 14, PassRate: 0.7, Latencies: 20, LatencyP50: time.Second, LatencyP95: 2 * time.Second}}
	out, changes, notes, err := Update(data, f.spec, f.cat, sums, UpdateOptions{Today: time.Now(), NoLatency: "measured at time scale 0.0001"})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || bytes.Contains(out, []byte("latency: {small")) || len(notes) != 1 || !strings.Contains(notes[0], "time scale 0.0001") {
		t.Errorf("changes %v, notes %q: with NoLatency, pass rates and the review date are written, latencies not, and the note says why", changes, notes)
	}
}

// TestUpdateWritesLatenciesWithoutAPassRate: answers graded by validators that the spec says
// barely tell good from bad give no pass rate, but their latencies were measured all the same:
// --update writes those, says why it wrote no pass rate, and the report says it in a sentence.
func TestUpdateWritesLatenciesWithoutAPassRate(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	f.cat.Assume.Validator = &spec.Strength{Detect: 0.5, FalseAlarm: 0.4}
	small := f.spec.Model("small")
	var rows []Record
	for i := range 20 {
		rows = append(rows, Record{Row: outcomes.Row{Item: fmt.Sprint("q", i), Category: f.cat.Name, Model: small.Model,
			LatencyMS: float64(900 + 100*i), Pass: ptr(i%2 == 0), Score: ptr(0.0)}, Extras: Extras{GradedBy: GradeValidators}})
	}
	sums := Summarize(f.cat, []*spec.Model{small}, rows)
	data, err := os.ReadFile("testdata/recover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, changes, notes, err := Update(data, f.spec, f.cat, sums, UpdateOptions{Today: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[0].Path != "assume.latency.small" || !bytes.Contains(out, []byte("latency: {small: {p50: 1.8s, p95: 2.7s}}")) {
		t.Errorf("changes %v: want the measured latencies written, and the review date", changes)
	}
	if len(notes) != 1 || !strings.HasPrefix(notes[0], "small: no pass rate: the 20 answers") || !strings.HasSuffix(notes[0], "assume.pass_rate not written") {
		t.Errorf("notes %q: want the summary's reason why no pass rate was written", notes)
	}
	var text bytes.Buffer
	if err := WriteText(&text, sums); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "\nsmall in extract: no pass rate: the 20 answers") {
		t.Errorf("the report:\n%s\nwant the note as a sentence", text.String())
	}
	js, err := json.Marshal(sums[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte(`"by_validators":20,"accepted_by_validators":10`)) {
		t.Errorf("JSON %s: want the validators' acceptances named", js)
	}
}
