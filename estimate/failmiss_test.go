package estimate

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"
)

// TestMissByFailuresOnlySaysSo: mini's pass rate is the bar exactly, 97%, and its
// availability is the default, retried once, so about one request in a million fails and
// its quality is a hair below the bar. The miss is explained as the failed requests', in the
// notes and the why-not lines; the verdict stays a miss.
func TestMissByFailuresOnlySaysSo(t *testing.T) {
	src := cascade(t, "BAR", "0.97", "ROUTE", "{model: mini}")
	src = strings.Replace(src, "mini: {provider: sim, model: gpt-4.1-mini, availability: 1,", "mini: {provider: sim, model: gpt-4.1-mini,", 1)
	src = strings.Replace(src, "retry: {attempts: 0}", "retry: {attempts: 1}", 1)
	r, text := runText(t, src, Options{})
	if p := r.policy("spec"); p == nil || p.Clears {
		t.Fatalf("spec (mini alone at its bar) clears; want a miss by its failed requests")
	}
	want := "mini's pass rate is the bar exactly, and requests that fail (availability 0.999, the default, retried once) count as misses; set availability or lower the bar"
	if !strings.Contains(text, want) {
		t.Errorf("the notes do not explain the miss by failed requests (%q):\n%s", want, text)
	}
	if sf := r.policy("spec").Shortfalls; len(sf) != 1 || !strings.HasSuffix(sf[0], want) {
		t.Errorf("spec's shortfalls (its why-not line) %q, want one ending %q", sf, want)
	}
}

// TestRelPctNeverReadsZero: a difference of a third of a percent is not "+0%".
func TestRelPctNeverReadsZero(t *testing.T) {
	for _, c := range []struct {
		a, b float64
		want string
	}{
		{6107.99, 6086.99, "+0.34%"},
		{100.004, 100, "+0.004%"},
		{299, 100, "+199%"},
		{101.5, 100, "+1.5%"},
		{99, 100, "-1%"},
		{100, 100, "0%"},
	} {
		if got := relPct(c.a, c.b); got != c.want {
			t.Errorf("relPct(%v, %v) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}

// TestTTFBMeanFromTheSameDraws: on a validated route the answer is held until it passes, so
// the time to first byte is the whole time, request by request: the two means are equal,
// which they are only when they come from the same simulated requests.
func TestTTFBMeanFromTheSameDraws(t *testing.T) {
	r, _ := runText(t, cascade(t, "ROUTE", "{model: mini, validate: [{required_fields: [id]}]}"), Options{})
	for _, p := range r.Policies {
		for _, c := range p.Categories {
			if c.TTFB.Mean > c.Latency.Mean {
				t.Errorf("%s, %s: ttfb mean %v above the latency mean %v", p.Name, c.Category, c.TTFB.Mean, c.Latency.Mean)
			}
		}
		if p.Name == "spec" && p.Categories[0].TTFB.Mean != p.Categories[0].Latency.Mean {
			t.Errorf("spec: ttfb mean %v, latency mean %v on a validated route: want equal", p.Categories[0].TTFB.Mean, p.Categories[0].Latency.Mean)
		}
		if p.Total.TTFB.Mean > p.Total.Latency.Mean {
			t.Errorf("%s total: ttfb mean %v above the latency mean %v", p.Name, p.Total.TTFB.Mean, p.Total.Latency.Mean)
		}
	}
}

// TestCSVClearsOfUserRequestRows: in examples/rag-assistant.yaml cascade-by-price misses
// answer-small-context's latency budget; its TOTAL row does not clear, nor does its ALL USER
// REQUESTS row or the row of the pipeline that calls that category, whatever the pipeline's
// own budget says; the other pipelines' rows do.
func TestCSVClearsOfUserRequestRows(t *testing.T) {
	r, err := Run(context.Background(), load(t, "../examples/rag-assistant.yaml"), Options{Today: testDay})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	clears := map[[2]string]string{}
	for _, row := range rows[1:] {
		clears[[2]string{row[col["policy"]], row[col["category"]]}] = row[col["clears"]]
	}
	p := r.policy("cascade-by-price")
	if p == nil || p.Clears {
		t.Fatalf("cascade-by-price clears; the test wants a policy that misses")
	}
	for _, c := range p.Categories {
		if c.Category == "answer-small-context" && c.MeetsBudget {
			t.Fatalf("cascade-by-price meets answer-small-context's budget; the test wants a miss")
		}
	}
	for label, want := range map[string]string{
		"TOTAL": "false", "ALL USER REQUESTS": "false", "PIPELINE qa-small-context": "false",
		"PIPELINE qa-many-docs": "true", "PIPELINE qa-synthesis": "true",
	} {
		if got := clears[[2]string{"cascade-by-price", label}]; got != want {
			t.Errorf("cascade-by-price, %s: clears %q, want %q", label, got, want)
		}
	}
}
