package shadow

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
)

// candidateSpend sums what the candidates' rows of a file say they charged the budget on day.
func candidateSpend(t *testing.T, path string, day time.Time) clearbar.Money {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sum clearbar.Money
	for line := range bytes.Lines(b) {
		if gjson.GetBytes(line, "source").String() != outcomes.SourceShadow {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, gjson.GetBytes(line, keyAt).String())
		if err != nil {
			t.Fatalf("candidate row without a time: %s", line)
		}
		var m clearbar.Money
		if err := m.UnmarshalJSON([]byte(gjson.GetBytes(line, keySpent).Raw)); err != nil {
			t.Fatalf("candidate row without its spending: %s", line)
		}
		if utcDay(at).Equal(day) {
			sum += m
		}
	}
	return sum
}

// TestDailyBudgetSurvivesARestart: a gateway restarted the same UTC day starts the day from
// what its candidate rows say was spent, so that two runs together stay within one daily
// budget; the next day starts from zero.
func TestDailyBudgetSurvivesARestart(t *testing.T) {
	f := newFixture(t, "1", "0.003")
	path := filepath.Join(t.TempDir(), "shadow.outcomes.jsonl")
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	day := utcDay(now)
	run := func(from int, at time.Time) Stats {
		out, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_RDWR, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		sh, err := New(Options{Spec: f.s, Providers: f.providers, Checker: f.checker, Out: out, QueueSize: 4096,
			Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 300 {
			req, d := request(from + i)
			sh.Submit(f.s.Category("x"), req, d)
		}
		waitIdle(t, sh, "x", 300)
		if err := sh.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		return sh.Stats("x")
	}
	first := run(0, now)
	if first.Calls == 0 || first.OverBudget == 0 || first.Spent > first.Budget {
		t.Fatalf("first run %+v: want calls up to the budget", first)
	}
	if got := candidateSpend(t, path, day); got != first.Spent {
		t.Fatalf("the rows say %v was spent, the first run %v", got, first.Spent)
	}
	second := run(1000, now.Add(3*time.Hour))
	if total := candidateSpend(t, path, day); total > first.Budget || second.Spent != total {
		t.Errorf("after a restart the same day: %v spent in the two runs (the second's stats: %+v), budget %v", total, second, first.Budget)
	}
	if second.Calls*2 > first.Calls {
		t.Errorf("the second run made %d calls, the first %d: the day's budget was mostly spent", second.Calls, first.Calls)
	}
	third := run(2000, now.Add(24*time.Hour))
	if third.Calls == 0 || third.Spent == 0 || third.Spent > third.Budget {
		t.Errorf("the next day: %+v: the budget should start again", third)
	}
	t.Logf("budget %v: %d calls, then %d after a restart the same day, %d the next day", first.Budget, first.Calls, second.Calls, third.Calls)
}

// TestReadSpentReadsTodayFromTheEnd: reading back stops at the first candidate row of an
// earlier day, or at one written before rows recorded a time (which is not counted); it skips
// the live answers' rows, rows of a later day and a partial last line, and reads lines longer
// than its chunks.
func TestReadSpentReadsTodayFromTheEnd(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	long := strings.Repeat("p", 150_000) // longer than two chunks
	file := func(yesterday bool) []byte {
		var b strings.Builder
		cand := func(cat string, at time.Time, spent, cost string, prompt string) {
			fmt.Fprintf(&b, `{"item":"i","category":%q,"prompt":%q,"model":"cand","cost_usd":%s,"source":"shadow","shadowed_at":%q,"shadow_spent_usd":%s}`+"\n",
				cat, prompt, cost, at.Format(time.RFC3339Nano), spent)
		}
		live := func(cat string) {
			fmt.Fprintf(&b, `{"item":"i","category":%q,"prompt_hash":"00000000000000aa","model":"strong","cost_usd":5,"source":"trace"}`+"\n", cat)
		}
		// Undated rows of an earlier version, then yesterday's, then today's.
		fmt.Fprintf(&b, `{"item":"i","category":"x","prompt":"q","model":"cand","cost_usd":7,"source":"shadow"}`+"\n")
		if yesterday {
			cand("x", day.Add(-time.Hour), "9", "9", "q")
			cand("x", day.Add(-time.Minute), "9", "9", "q")
		}
		live("x")
		cand("x", day.Add(time.Minute), "0.25", "0.125", long)
		live("x")
		cand("y", day.Add(2*time.Minute), "0.5", "0.5", "q")
		cand("x", day.Add(3*time.Minute), "0.5", "0.25", long)
		// A row without its spending counts its cost.
		fmt.Fprintf(&b, `{"item":"i","category":"x","prompt":"q","model":"cand","cost_usd":0.5,"source":"shadow","shadowed_at":%q}`+"\n", day.Add(4*time.Minute).Format(time.RFC3339Nano))
		cand("x", day.Add(25*time.Hour), "9", "9", "q") // the clock was set back since
		live("x")
		b.WriteString(`{"item":"i","category":"x","prompt":"q","model":"cand","cost_`) // cut short
		return []byte(b.String())
	}
	usd := func(s string) clearbar.Money {
		m, err := clearbar.ParseMoney(s)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	want := map[string]clearbar.Money{"x": usd("1.25"), "y": usd("0.5")}
	for _, yesterday := range []bool{true, false} {
		data := file(yesterday)
		got, err := readSpent(bytes.NewReader(data), int64(len(data)), day)
		if err != nil {
			t.Fatal(err)
		}
		// Past yesterday's rows, reading stops at the undated one, and says so.
		if len(got.byCategory) != len(want) || got.byCategory["x"] != want["x"] || got.byCategory["y"] != want["y"] || got.undated == yesterday {
			t.Errorf("yesterday's rows %v: read back %v (undated %v), want %v (undated %v)", yesterday, got.byCategory, got.undated, want, !yesterday)
		}
	}
}

// TestSimulatedRowsMarked: rows of calls a simulated provider answered carry
// "simulated": true, the live answer's (when its decision says so) as the candidate's, and
// the outcomes reader takes every row.
func TestSimulatedRowsMarked(t *testing.T) {
	f := newFixture(t, "1", "100")
	var out bytes.Buffer
	sh, err := New(Options{Spec: f.s, Providers: f.providers, Checker: f.checker, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		req, d := request(i)
		d.Attempts[0].Simulated = i == 1
		if !sh.Submit(f.s.Category("x"), req, d) {
			t.Fatal("not queued")
		}
	}
	if err := sh.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := outcomes.NewReader(bytes.NewReader(out.Bytes()))
	n := 0
	for r.Next() {
		n++
		row := r.Row()
		want := row.Source == outcomes.SourceShadow || row.Item == "dec_0001"
		if got := gjson.GetBytes(r.Raw(), "simulated").Bool(); got != want {
			t.Errorf("row %s %s %s: simulated %v, want %v: %s", row.Item, row.Model, row.Source, got, want, r.Raw())
		}
	}
	if err := r.Err(); err != nil || n != 4 {
		t.Fatalf("%d rows, %v", n, err)
	}
}
