package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/provider/simulated"
	"github.com/clearbar/clearbar/spec"
)

// TestRecoversSimulatedPassRates is the check: against simulated providers with known
// pass rates (0.7 and 0.95), an eval of 1,500 items recovers each rate within its 95% interval.
//
// How it can know: the simulator makes an answer good with the assumed pass rate and, with the
// validator strength detect 1, false_alarm 0, breaks exactly the bad answers so that the
// category's JSON Schema fails them. The category's validators, the default grader, then grade
// every answer as its ground truth says. The test proves that too: a test-only grader reads the
// truth the simulator reports in each answer's body, and every row's two verdicts agree.
//
// The providers are seeded, one per model, so the outcome is the same on every run however
// the concurrent calls interleave.
func TestRecoversSimulatedPassRates(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	set, err := LoadSet(writeSet(t, 1500, ""), f.env)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range set.Items {
		it.Graders = append(it.Graders, truthGrader{})
	}
	path := filepath.Join(t.TempDir(), "out.jsonl")
	models := f.models("small", "strong")
	r := &Runner{Category: f.cat, Models: models, Providers: f.providers, Concurrency: 8,
		TimeScales: map[string]float64{"sim-a": 0.0001, "sim-b": 0.0001}}
	res, err := r.Run(context.Background(), set, openOutput(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if res.Ran != 3000 || res.Skipped != 0 || res.Failed != 0 || len(res.Rows) != 3000 {
		t.Fatalf("result %+v (%d rows), want 3,000 pairs run, none failed", res, len(res.Rows))
	}
	truth := map[string]float64{"small": 0.7, "strong": 0.95}
	for _, s := range Summarize(f.cat, models, res.Rows) {
		if s.Graded != 1500 {
			t.Errorf("%s: %d graded, want 1500", s.Model, s.Graded)
		}
		if p := truth[s.Model]; p < s.PassRateCI[0] || p > s.PassRateCI[1] {
			t.Errorf("%s: measured %.4f (%.4f–%.4f) does not cover the true pass rate %v", s.Model, s.PassRate, s.PassRateCI[0], s.PassRateCI[1], p)
		}
		if s.AssumptionContradicted() {
			t.Errorf("%s: the spec's assumption is the truth, yet flagged as contradicted", s.Model)
		}
		if s.TokensIn <= 0 || s.TokensOut <= 0 || s.Cost <= 0 || s.CostPerItem != clearbar.Money(float64(s.Cost)/1500+0.5) {
			t.Errorf("%s: tokens %.1f/%.1f, cost %v, per item %v: want tokens and the catalogue's price of them", s.Model, s.TokensIn, s.TokensOut, s.Cost, s.CostPerItem)
		}
	}
	for _, rec := range readRecords(t, path) {
		if len(rec.Checks) != 2 || rec.Checks[0].Pass != rec.Checks[1].Pass {
			t.Fatalf("item %s on %s: validators and ground truth disagree: %+v", rec.Item, rec.Model, rec.Checks)
		}
	}
}

// TestLatencyMeasuredInSimulatedTime checks that latencies are recorded in the simulator's
// time: the simulated model's assumed median is recovered from calls run 20 times faster,
// and each answer's latency is the simulator's draw, the same at any time scale (wall-clock
// time divided by the scale would add this process's overhead, magnified by 1/scale).
func TestLatencyMeasuredInSimulatedTime(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	set, err := LoadSet(writeSet(t, 120, ""), f.env)
	if err != nil {
		t.Fatal(err)
	}
	models := f.models("small")
	run := func(scale float64, concurrency int) (Summary, map[string]float64) {
		t.Helper()
		// A provider of its own, with the same seed at every scale.
		s := *f.spec.Provider("sim-a")
		s.Simulate = &spec.Simulate{TimeScale: scale, Seed: 3, ErrorRate: ptr(spec.Prob(0))}
		sim, err := simulated.New(providerConfig(f, &s))
		if err != nil {
			t.Fatal(err)
		}
		r := &Runner{Category: f.cat, Models: models, Providers: map[string]clearbar.Provider{"sim-a": sim},
			Concurrency: concurrency, TimeScales: map[string]float64{"sim-a": scale}}
		res, err := r.Run(context.Background(), set, openOutput(t, filepath.Join(t.TempDir(), "out.jsonl")))
		if err != nil {
			t.Fatal(err)
		}
		lat := map[string]float64{}
		for _, row := range res.Rows {
			lat[row.Item] = row.LatencyMS
		}
		return Summarize(f.cat, models, res.Rows)[0], lat
	}
	sum, _ := run(0.05, 32)
	// The seeded draws put the sample median near 800ms.
	if p50 := sum.LatencyP50; p50 < 680*time.Millisecond || p50 > 950*time.Millisecond {
		t.Errorf("p50 %v: want about the assumed 800ms (rows record simulated time, not the 40ms the calls took)", p50)
	}
	if sum.LatencyP95 < sum.LatencyP50 || sum.Latencies != 120 {
		t.Errorf("p95 %v below p50 %v, or %d latencies for 120 answers", sum.LatencyP95, sum.LatencyP50, sum.Latencies)
	}
	// One call at a time, so that both runs draw in the same order.
	_, at1000 := run(0.001, 1)
	_, at10000 := run(0.0001, 1)
	for item, ms := range at1000 {
		if at10000[item] != ms {
			t.Errorf("item %s: %vms at time scale 0.001, %vms at 0.0001; want the simulator's draw at both", item, ms, at10000[item])
		}
	}
}

// TestResumeRepeatsNothing kills a run part-way (its context is cancelled after 200 answers),
// then runs again on the same output: the second run calls the models exactly for the pairs
// without a row, and the file ends with one row per pair.
func TestResumeRepeatsNothing(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	set, err := LoadSet(writeSet(t, 300, ""), f.env)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out.jsonl")
	models := f.models("small", "strong")
	simA, simB := f.providers["sim-a"].(*simulated.Provider), f.providers["sim-b"].(*simulated.Provider)
	calls := func() int { return simA.Calls("gpt-4.1-mini") + simB.Calls("gpt-4.1") }

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var answered atomic.Int64
	killer := map[string]clearbar.Provider{}
	for name, p := range f.providers {
		killer[name] = &afterN{Provider: p, n: 200, count: &answered, cancel: cancel}
	}
	r := &Runner{Category: f.cat, Models: models, Providers: killer, Concurrency: 8}
	out := openOutput(t, path)
	res1, err := r.Run(ctx, set, out)
	if !errors.Is(err, ErrStopped) || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "run the same command again to resume") {
		t.Fatalf("a cancelled run returns %v; want ErrStopped wrapping context.Canceled, saying how to resume", err)
	}
	out.Close()
	written := len(readRecords(t, path))
	if written != res1.Ran || written < 150 || written > 220 {
		t.Fatalf("the cancelled run wrote %d rows and reported %d: want about the 200 answered before the cancel", written, res1.Ran)
	}
	before := calls()

	r.Providers = f.providers
	res2, err := r.Run(context.Background(), set, openOutput(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := calls()-before, 600-written; got != want {
		t.Errorf("the resumed run made %d calls; want %d, one for each pair without a row", got, want)
	}
	if res2.Skipped != written || res2.Ran != 600-written || len(res2.Rows) != 600 {
		t.Errorf("resumed: skipped %d, ran %d, %d rows; want %d, %d, 600", res2.Skipped, res2.Ran, len(res2.Rows), written, 600-written)
	}
	checkOnePerPair(t, path, 600)
}

// TestSeededRunsGiveEachItemItsFate: with seeded simulated providers, each item gets the same
// answer on every run, whatever the concurrency and whether the run was cut short and
// resumed: the simulator draws an eval call's fate from the item, not from the order calls
// reach it (which would hand a resumed run's items the draws of the first run's first items).
func TestSeededRunsGiveEachItemItsFate(t *testing.T) {
	verdicts := func(path string) map[[2]string]string {
		out := map[[2]string]string{}
		for _, rec := range readRecords(t, path) {
			b, _ := json.Marshal(rec.Checks)
			out[[2]string{rec.Item, rec.Model}] = string(b)
		}
		return out
	}
	run := func(concurrency int, cut int64) string {
		f := loadFixture(t, "testdata/recover.yaml", "extract")
		set, err := LoadSet(writeSet(t, 200, ""), f.env)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "out.jsonl")
		r := &Runner{Category: f.cat, Models: f.models("small", "strong"), Providers: f.providers, Concurrency: concurrency}
		if cut > 0 {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var answered atomic.Int64
			killer := map[string]clearbar.Provider{}
			for name, p := range f.providers {
				killer[name] = &afterN{Provider: p, n: cut, count: &answered, cancel: cancel}
			}
			first := &Runner{Category: f.cat, Models: r.Models, Providers: killer, Concurrency: concurrency}
			out := openOutput(t, path)
			if _, err := first.Run(ctx, set, out); !errors.Is(err, ErrStopped) {
				t.Fatalf("the cut run: %v", err)
			}
			out.Close()
			// The resumed run's providers start afresh, as a new process's do.
			f = loadFixture(t, "testdata/recover.yaml", "extract")
			r.Providers = f.providers
		}
		out := openOutput(t, path)
		if _, err := r.Run(context.Background(), set, out); err != nil {
			t.Fatal(err)
		}
		out.Close()
		return path
	}
	want := verdicts(run(8, 0))
	for _, tc := range []struct {
		name        string
		concurrency int
		cut         int64
	}{{"one at a time", 1, 0}, {"cut after 150 answers and resumed", 8, 150}} {
		got := verdicts(run(tc.concurrency, tc.cut))
		if len(got) != 400 || len(want) != 400 {
			t.Fatalf("%s: %d and %d rows, want 400", tc.name, len(got), len(want))
		}
		differ := 0
		for k, v := range want {
			if got[k] != v {
				differ++
			}
		}
		if differ > 0 {
			t.Errorf("%s: %d of 400 items got another verdict than in a run of 8 at a time", tc.name, differ)
		}
	}
}

// afterN passes calls on and cancels the run once n answers have come back.
type afterN struct {
	clearbar.Provider
	n      int64
	count  *atomic.Int64
	cancel context.CancelFunc
}

func (a *afterN) Complete(ctx context.Context, call *clearbar.Call) (*clearbar.Response, error) {
	resp, err := a.Provider.Complete(ctx, call)
	if err == nil && a.count.Add(1) == a.n {
		a.cancel()
	}
	return resp, err
}

// checkOnePerPair reads the file as an outcomes table and checks it has want rows, no two for
// one pair.
func checkOnePerPair(t *testing.T, path string, want int) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	rd := outcomes.NewReader(fh)
	seen := map[[2]string]bool{}
	n := 0
	for rd.Next() {
		k := [2]string{rd.Row().Item, rd.Row().Model}
		if seen[k] {
			t.Errorf("line %d repeats item %s on %s", rd.Line(), k[0], k[1])
		}
		seen[k] = true
		n++
	}
	if err := rd.Err(); err != nil {
		t.Fatalf("the output is not a clean outcomes table: %v", err)
	}
	if n != want {
		t.Errorf("%d rows, want %d", n, want)
	}
}

// TestPartialLastLineRewritten simulates a process killed in the middle of writing a row: the
// next run cuts the partial line off, runs its pair again, and leaves a clean table.
func TestPartialLastLineRewritten(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	set, err := LoadSet(writeSet(t, 10, ""), f.env)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out.jsonl")
	models := f.models("small")
	r := &Runner{Category: f.cat, Models: models, Providers: f.providers}
	out := openOutput(t, path)
	if _, err := r.Run(context.Background(), set, out); err != nil {
		t.Fatal(err)
	}
	out.Close()
	// Cut the file in the middle of its last row, as a kill during the write would.
	data, _ := os.ReadFile(path)
	lastStart := bytes.LastIndexByte(data[:len(data)-1], '\n') + 1
	cut := data[:lastStart+(len(data)-lastStart)/2]
	if err := os.WriteFile(path, cut, 0o644); err != nil {
		t.Fatal(err)
	}
	sim := f.providers["sim-a"].(*simulated.Provider)
	before := sim.Calls("gpt-4.1-mini")

	out = openOutput(t, path)
	if notes := strings.Join(out.Notes(), "\n"); !strings.Contains(notes, "removed a partial last line") {
		t.Errorf("opening does not say it repaired the file: %q", notes)
	}
	res, err := r.Run(context.Background(), set, out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Ran != 1 || sim.Calls("gpt-4.1-mini")-before != 1 {
		t.Errorf("ran %d pairs with %d calls; want exactly the pair whose row was cut", res.Ran, sim.Calls("gpt-4.1-mini")-before)
	}
	checkOnePerPair(t, path, 10)
}

func TestOutputKeepsAWholeLastLineWithoutNewline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	row := `{"item":"a","category":"extract","prompt":"p","model":"m","pass":true}`
	os.WriteFile(path, []byte(row), 0o644)
	o := openOutput(t, path)
	if _, _, ok := o.Lookup("a", "m"); !ok || len(o.Notes()) != 0 {
		t.Errorf("a complete row without its newline (a hand edit) is kept, silently: found %v, notes %q", ok, o.Notes())
	}
	if err := o.Write(Record{Row: outcomes.Row{Item: "b", Category: "extract", Prompt: "p", Model: "m"}}); err != nil {
		t.Fatal(err)
	}
	checkOnePerPair(t, path, 2)
}

func TestOutputRefusesAForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	os.WriteFile(path, []byte("{\"item\":\"a\",\"prompt\":\"p\",\"model\":\"m\"}\nnot json\n{\"item\":\"b\",\"prompt\":\"p\",\"model\":\"m\"}\n"), 0o644)
	_, err := OpenOutput(path, OutputOptions{})
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "give another --out") {
		t.Errorf("a bad line in the middle is not a partial write: want an error naming it, got %v", err)
	}
}

func TestRetryErrorsRunsFailedPairsAgain(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	set, err := LoadSet(writeSet(t, 6, `, "reference": "ok"`), Env{Spec: f.spec, Category: f.cat})
	if err != nil {
		t.Fatal(err)
	}
	down := &fakeProvider{name: "sim-a", fail: func(int64, *clearbar.Call) error {
		return &clearbar.Error{Class: clearbar.Overloaded, Status: 503, Message: "down"}
	}}
	path := filepath.Join(t.TempDir(), "out.jsonl")
	r := &Runner{Category: f.cat, Models: f.models("small"), Providers: map[string]clearbar.Provider{"sim-a": down}}
	out := openOutput(t, path)
	res, err := r.Run(context.Background(), set, out)
	if err != nil || res.Failed != 6 {
		t.Fatalf("run: %v, %d failed; want 6 rows of failed calls", err, res.Failed)
	}
	out.Close()
	if recs := readRecords(t, path); recs[0].Error != "overloaded" || recs[0].ErrorMessage == "" || recs[0].Pass != nil {
		t.Errorf("a failed call's row: %+v; want its class and message, and no grade", recs[0])
	}

	up := &fakeProvider{name: "sim-a"}
	r.Providers = map[string]clearbar.Provider{"sim-a": up}
	out, err = OpenOutput(path, OutputOptions{RetryErrors: true})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	res, err = r.Run(context.Background(), set, out)
	if err != nil || res.Ran != 6 || res.Failed != 0 || up.calls.Load() != 6 {
		t.Errorf("with RetryErrors: %v, ran %d, failed %d, %d calls; want the 6 failed pairs run again", err, res.Ran, res.Failed, up.calls.Load())
	}
	checkOnePerPair(t, path, 6)
}

func TestRunRefusesRowsOfAnotherCategoryOrPrompt(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	set, err := LoadSet(writeSet(t, 2, ""), f.env)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		row         outcomes.Row
		want        string
		explanation string
	}{
		{outcomes.Row{Item: "q0", Category: "other", Prompt: set.Items[0].Prompt, Model: "gpt-4.1-mini"}, `from category "other"`, "an outcomes table holds one row per item and model, whatever the category"},
		{outcomes.Row{Item: "q1", Category: "extract", Prompt: "an older prompt", Model: "gpt-4.1-mini"}, `item "q1" changed since it was run`, "a row for an edited item is not a measurement of it"},
	}
	for _, tt := range tests {
		out := openOutput(t, filepath.Join(t.TempDir(), "out.jsonl"))
		if err := out.Write(Record{Row: tt.row}); err != nil {
			t.Fatal(err)
		}
		r := &Runner{Category: f.cat, Models: f.models("small"), Providers: f.providers}
		_, err := r.Run(context.Background(), set, out)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "set.jsonl:") {
			t.Errorf("error %v; want %q with the set's file and line: %s", err, tt.want, tt.explanation)
		}
	}
}

// TestConcurrencyAndRateBounded measures calls in flight and their spacing with a fake
// provider.
func TestConcurrencyAndRateBounded(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	env := Env{Spec: f.spec, Category: f.cat}

	t.Run("concurrency", func(t *testing.T) {
		set, err := LoadSet(writeSet(t, 30, `, "reference": "ok"`), env)
		if err != nil {
			t.Fatal(err)
		}
		fake := &fakeProvider{delay: 5 * time.Millisecond}
		r := &Runner{Category: f.cat, Models: f.models("small", "strong"), Concurrency: 3,
			Providers: map[string]clearbar.Provider{"sim-a": fake, "sim-b": fake}}
		res, err := r.Run(context.Background(), set, openOutput(t, filepath.Join(t.TempDir(), "out.jsonl")))
		if err != nil {
			t.Fatal(err)
		}
		if m := fake.maxIn.Load(); m != 3 || res.Ran != 60 {
			t.Errorf("at most %d calls in flight over %d pairs; want exactly the limit, 3, reached and kept", m, res.Ran)
		}
	})

	t.Run("rate", func(t *testing.T) {
		set, err := LoadSet(writeSet(t, 11, `, "reference": "ok"`), env)
		if err != nil {
			t.Fatal(err)
		}
		fake := &fakeProvider{delay: time.Millisecond}
		r := &Runner{Category: f.cat, Models: f.models("small"), Concurrency: 8,
			Providers: map[string]clearbar.Provider{"sim-a": fake}, Limiter: NewLimiter(spec.Rate{N: 25, Per: time.Second})}
		start := time.Now()
		res, err := r.Run(context.Background(), set, openOutput(t, filepath.Join(t.TempDir(), "out.jsonl")))
		if err != nil {
			t.Fatal(err)
		}
		// 11 calls at 25/s without bursts: the first at once, then one every 40ms, so call i
		// (from 0) cannot start before 40ms × i, however the goroutines are scheduled.
		slices.SortFunc(fake.starts, time.Time.Compare)
		for i, at := range fake.starts {
			if early := time.Duration(i)*40*time.Millisecond - at.Sub(start); early > time.Millisecond {
				t.Errorf("call %d started %v after the run began, %v before the rate allows", i+1, at.Sub(start), early)
			}
		}
		// The 8th call waits 280ms for its turn; its latency is the 1ms call.
		for _, row := range res.Rows {
			if row.LatencyMS > 150 {
				t.Errorf("item %s: latency %vms; the wait for the rate limit must not count as the model's latency", row.Item, row.LatencyMS)
			}
		}
	})
}

func TestRetries(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	set, err := LoadSet(writeSet(t, 1, `, "reference": "ok"`), Env{Spec: f.spec, Category: f.cat})
	if err != nil {
		t.Fatal(err)
	}
	policy := DefaultRetry
	policy.Backoff = time.Millisecond
	tests := []struct {
		name        string
		fail        func(n int64, _ *clearbar.Call) error
		calls       int64
		class       string
		retries     int
		stops       bool
		explanation string
	}{
		{"overloaded twice", func(n int64, _ *clearbar.Call) error {
			if n <= 2 {
				return &clearbar.Error{Class: clearbar.Overloaded, Status: 503}
			}
			return nil
		}, 3, "", 2, false, "retryable failures are retried, and the row says how often"},
		{"always overloaded", func(int64, *clearbar.Call) error {
			return &clearbar.Error{Class: clearbar.Overloaded, Status: 503}
		}, 5, "overloaded", 4, false, "after the policy's 4 retries the pair is a failed row"},
		{"bad request", func(int64, *clearbar.Call) error {
			return &clearbar.Error{Class: clearbar.ClientError, Status: 400}
		}, 1, "client_error", 0, false, "a client error is not retried"},
		{"auth", func(int64, *clearbar.Call) error {
			return &clearbar.Error{Class: clearbar.Auth, Status: 401, Message: "bad key"}
		}, 1, "", 0, true, "a rejected key stops the run: every further call would fail"},
		{"quota", func(int64, *clearbar.Call) error {
			return &clearbar.Error{Class: clearbar.RateLimited, Status: 429, Code: clearbar.CodeQuotaExhausted}
		}, 1, "", 0, true, "an exhausted quota stops the run rather than writing a failed row per item"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeProvider{fail: tt.fail}
			path := filepath.Join(t.TempDir(), "out.jsonl")
			r := &Runner{Category: f.cat, Models: f.models("small"), Retry: policy,
				Providers: map[string]clearbar.Provider{"sim-a": fake}}
			_, err := r.Run(context.Background(), set, openOutput(t, path))
			if fake.calls.Load() != tt.calls {
				t.Errorf("%d calls, want %d: %s", fake.calls.Load(), tt.calls, tt.explanation)
			}
			if tt.stops {
				if !errors.Is(err, ErrStopped) || !strings.Contains(err.Error(), "every further call would fail") || len(readRecords(t, path)) != 0 {
					t.Errorf("err %v: want the run stopped, nothing written: %s", err, tt.explanation)
				}
				return
			}
			recs := readRecords(t, path)
			if err != nil || len(recs) != 1 || recs[0].Error != tt.class || recs[0].Retries != tt.retries {
				t.Errorf("err %v, rows %+v: want class %q after %d retries: %s", err, recs, tt.class, tt.retries, tt.explanation)
			}
		})
	}
}

func TestWilson(t *testing.T) {
	tests := []struct {
		k, n        int
		lo, hi      float64
		explanation string
	}{
		{0, 0, 0, 1, "no data: anything is possible"},
		{50, 100, 0.4038, 0.5962, "symmetric around one half"},
		{100, 100, 0.9630, 1, "all passed: the interval still admits failures"},
		{0, 10, 0, 0.2775, "none passed in 10"},
	}
	for _, tt := range tests {
		lo, hi := Wilson(tt.k, tt.n)
		if d := max(abs(lo-tt.lo), abs(hi-tt.hi)); d > 5e-5 {
			t.Errorf("Wilson(%d, %d) = %.4f–%.4f, want %.4f–%.4f: %s", tt.k, tt.n, lo, hi, tt.lo, tt.hi, tt.explanation)
		}
	}
}

func abs(f float64) float64 { return max(f, -f) }

func ptr[T any](v T) *T { return &v }

// TestRowsKeepWholeRequestsAndToolCalls: an item whose prompt alone does not say what was
// asked (a system message, tools) is recorded with its whole request, and an answer's tool
// calls are recorded as calls; a prompt-only item keeps only its prompt.
func TestRowsKeepWholeRequestsAndToolCalls(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	path := filepath.Join(t.TempDir(), "set.jsonl")
	set := `{"id": "plain", "prompt": "Extract the id from ticket 1."}
{"id": "tools", "messages": [{"role": "system", "content": "Use the tool."}, {"role": "user", "content": "Where is order 7?"}], "tools": [{"type": "function", "function": {"name": "get_order", "parameters": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}}}]}
`
	if err := os.WriteFile(path, []byte(set), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSet(path, f.env)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Category: f.cat, Models: f.models("small"), Providers: f.providers, Concurrency: 1,
		TimeScales: map[string]float64{"sim-a": 0.0001, "sim-b": 0.0001}}
	res, err := r.Run(context.Background(), s, openOutput(t, filepath.Join(t.TempDir(), "out.jsonl")))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 {
		t.Fatalf("%d rows, want 2", len(res.Rows))
	}
	for _, row := range res.Rows {
		switch row.Item {
		case "plain":
			if row.Request != nil || row.ToolCalls != nil || row.Response == "" {
				t.Errorf("prompt-only row: request %s, tool calls %v, response %q; want the answer text alone", row.Request, row.ToolCalls, row.Response)
			}
		case "tools":
			if !strings.Contains(string(row.Request), `"get_order"`) || !strings.Contains(string(row.Request), "Use the tool.") {
				t.Errorf("tool row's request = %s, want the whole body", row.Request)
			}
			if len(row.ToolCalls) != 1 || row.ToolCalls[0].Name != "get_order" || !strings.Contains(row.ToolCalls[0].Arguments, `"id"`) {
				t.Errorf("tool row's calls = %+v, want the simulated get_order call", row.ToolCalls)
			}
		}
	}
}

// TestResumeRegradesChangedChecks: a resumed run grades again, on the recorded answers and
// without calling the model, the rows of items whose checks or reference changed since they
// were written, and replaces them; rows written before rows recorded a grading fingerprint
// are compared by their verdicts' checks. Answers of the simulated provider, fitted to the old
// checks, are run again instead.
func TestResumeRegradesChangedChecks(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	load := func(extra string) *Set {
		t.Helper()
		set, err := LoadSet(writeSet(t, 5, extra), Env{Spec: f.spec, Category: f.cat})
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	passes := func(path string) (n int) {
		for _, rec := range readRecords(t, path) {
			if rec.Pass != nil && *rec.Pass {
				n++
			}
		}
		return n
	}
	path := filepath.Join(t.TempDir(), "out.jsonl")
	// A model of a real provider, answered by a fake that says "ok".
	fake := &fakeProvider{name: "sim-a"}
	r := &Runner{Category: f.cat, Models: []*spec.Model{f.realModel("small")}, Providers: map[string]clearbar.Provider{"sim-a": fake}}
	run := func(set *Set) *Result {
		t.Helper()
		res, err := r.Run(context.Background(), set, openOutput(t, path))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := run(load(`, "checks": [{"exact": "ok"}]`)); res.Ran != 5 || passes(path) != 5 {
		t.Fatalf("first run: %+v, %d passes; want 5 pairs run, all passing", res, passes(path))
	}
	// Reformatting the checks changes nothing.
	if res := run(load(`, "checks": [ {"exact" : "ok"} ]`)); res.Skipped != 5 || res.Regraded != 0 {
		t.Errorf("the same checks written otherwise: %+v; want 5 resumed as they are", res)
	}
	for _, extra := range []string{`, "checks": [{"exact": "no"}]`, `, "reference": "ok"`} {
		res := run(load(extra))
		if res.Ran != 0 || res.Skipped != 5 || res.Regraded != 5 || fake.calls.Load() != 5 {
			t.Errorf("checks changed to %s: %+v after %d calls; want 5 pairs graded again without a call", extra, res, fake.calls.Load())
		}
	}
	if passes(path) != 5 {
		t.Errorf("graded again by the reference ok: %d of 5 pass", passes(path))
	}
	checkOnePerPair(t, path, 5)
	recs := readRecords(t, path)
	if recs[0].Grading == "" || len(recs[0].Checks) != 1 || recs[0].Checks[0].Check != `normalized "ok"` || recs[0].Response != "ok" || recs[0].TokensIn != 10 {
		t.Errorf("a row graded again: %+v; want the new verdict and fingerprint beside the recorded answer", recs[0])
	}

	// A row written before rows recorded their grading: its verdicts name other checks.
	legacy := recs[0]
	legacy.Grading = ""
	line, _ := json.Marshal(legacy)
	if err := os.WriteFile(path, append(line, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	set := load(`, "checks": [{"exact": "no"}]`)
	set.Items = slices.DeleteFunc(set.Items, func(it *Item) bool { return it.ID != legacy.Item })
	if res := run(set); res.Regraded != 1 || passes(path) != 0 {
		t.Errorf("a row without a fingerprint, graded by other checks: %+v, %d passes; want it graded again, failing", res, passes(path))
	}

	// Simulated answers run again.
	simPath := filepath.Join(t.TempDir(), "sim.jsonl")
	sim := &Runner{Category: f.cat, Models: f.models("small"), Providers: f.providers}
	for i, extra := range []string{`, "checks": [{"contains": "apple"}]`, `, "checks": [{"contains": "banana"}]`} {
		res, err := sim.Run(context.Background(), load(extra), openOutput(t, simPath))
		if err != nil {
			t.Fatal(err)
		}
		if res.Ran != 5 || res.Rerun != 5*i || res.Regraded != 0 {
			t.Errorf("simulated run %d: %+v; want 5 pairs run, %d of them again", i+1, res, 5*i)
		}
	}
	checkOnePerPair(t, simPath, 5)
	for _, rec := range readRecords(t, simPath) {
		if !rec.Simulated || rec.Pass != nil && *rec.Pass && !strings.Contains(rec.Response, "banana") {
			t.Errorf("a simulated row run again: %+v; want it marked simulated and fitted to the new check", rec)
		}
	}
}

// runSmall runs (or resumes) the eval set in setFile for f's category with its model
// "small" on fake, writing to out.
func runSmall(t *testing.T, f *fixture, setFile, out string, fake *fakeProvider) (*Result, *Set) {
	t.Helper()
	set, err := LoadSet(setFile, f.env)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Category: f.cat, Models: []*spec.Model{f.realModel("small")}, Providers: map[string]clearbar.Provider{"sim-a": fake}}
	res, err := r.Run(context.Background(), set, openOutput(t, out))
	if err != nil {
		t.Fatal(err)
	}
	return res, set
}

// TestResumeRegradesChangedValidators: the category's validators are part of what grades every
// item, alone (no checks, or {"validators": true} alone) or beside its checks, where their
// verdict is recorded, so a resumed run grades every row again, without a call, when the
// spec's validators change, though their summary does not (an inline schema is "JSON Schema
// (inline)" whatever it says); moving them in the spec changes nothing.
func TestResumeRegradesChangedValidators(t *testing.T) {
	orig, err := os.ReadFile("testdata/recover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fixtureOf := func(name, from, to string) *fixture {
		t.Helper()
		text := strings.Replace(string(orig), from, to, 1)
		if text == string(orig) && from != "" {
			t.Fatalf("%q is not in the spec", from)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return loadFixture(t, path, "extract")
	}
	before := fixtureOf("before.yaml", "", "")
	moved := fixtureOf("moved.yaml", "categories:\n", "# Validators moved down a line.\ncategories:\n")
	changed := fixtureOf("changed.yaml", "required: [id]", "required: [id, name]")

	setFile := filepath.Join(dir, "set.jsonl")
	items := `{"id": "default", "prompt": "Extract the id from ticket 1."}
{"id": "named", "prompt": "Extract the id from ticket 2.", "checks": [{"exact": "ok"}, {"validators": true}]}
{"id": "exact", "prompt": "Extract the id from ticket 3.", "checks": [{"exact": "ok"}]}
`
	if err := os.WriteFile(setFile, []byte(items), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.jsonl")
	fake := &fakeProvider{name: "sim-a"}
	run := func(f *fixture) (*Result, *Set) {
		t.Helper()
		return runSmall(t, f, setFile, out, fake)
	}
	if res, _ := run(before); res.Ran != 3 {
		t.Fatalf("first run: %+v; want 3 pairs run", res)
	}
	if res, _ := run(moved); res.Skipped != 3 || res.Regraded != 0 {
		t.Errorf("the same validators on other lines: %+v; want 3 resumed as they are", res)
	}
	res, set := run(changed)
	if res.Ran != 0 || res.Skipped != 3 || res.Regraded != 3 || fake.calls.Load() != 3 {
		t.Errorf("the validators changed: %+v after %d calls; want the 3 pairs they grade or are recorded on graded again, without a call", res, fake.calls.Load())
	}
	for _, rec := range readRecords(t, out) {
		i := slices.IndexFunc(set.Items, func(it *Item) bool { return it.ID == rec.Item })
		if rec.Grading != set.Items[i].Grading {
			t.Errorf("item %s's row has grading %s, want the item's %s", rec.Item, rec.Grading, set.Items[i].Grading)
		}
	}
}

// TestResumeRegradesChangedSchemaFile: a json_schema file is part of what its validator
// checks, so a resumed run grades again, without a call, the rows it graded or gave its verdict
// on beside their checks when the file says something else, and not when it is only written
// differently (keys in another order, other spacing).
func TestResumeRegradesChangedSchemaFile(t *testing.T) {
	orig, err := os.ReadFile("testdata/recover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	inline := "{json_schema: {inline: {type: object, required: [id], properties: {id: {type: string}}}}}"
	text := strings.Replace(string(orig), inline, "{json_schema: schema.json}", 1)
	if text == string(orig) {
		t.Fatal("the fixture's inline schema moved")
	}
	specFile := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specFile, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	schema := func(s string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "schema.json"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setFile := filepath.Join(dir, "set.jsonl")
	items := `{"id": "default", "prompt": "Extract the id from ticket 1."}
{"id": "exact", "prompt": "Extract the id from ticket 3.", "checks": [{"exact": "ok"}]}
`
	if err := os.WriteFile(setFile, []byte(items), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.jsonl")
	fake := &fakeProvider{name: "sim-a"}
	run := func() *Result {
		t.Helper()
		res, _ := runSmall(t, loadFixture(t, specFile, "extract"), setFile, out, fake)
		return res
	}
	schema(`{"type": "object", "required": ["id"]}`)
	if res := run(); res.Ran != 2 {
		t.Fatalf("first run: %+v; want 2 pairs run", res)
	}
	schema("{\n  \"required\": [\"id\"],\n  \"type\": \"object\"\n}\n")
	if res := run(); res.Skipped != 2 || res.Regraded != 0 {
		t.Errorf("the same schema written differently: %+v; want 2 resumed as they are", res)
	}
	schema(`{"type": "object", "required": ["id", "name"]}`)
	if res := run(); res.Ran != 0 || res.Skipped != 2 || res.Regraded != 2 || fake.calls.Load() != 2 {
		t.Errorf("the schema file changed: %+v after %d calls; want both pairs graded again, without a call", res, fake.calls.Load())
	}
}

// TestLegacyRowsAreRegradedNotDropped: a row written before rows said whether a simulator
// answered may hold a real answer, even when the model is simulated now: when its checks
// change, a run against the simulated provider grades its recorded answer again, and never
// replaces it with a simulated one.
func TestLegacyRowsAreRegradedNotDropped(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	set, err := LoadSet(writeSet(t, 3, `, "checks": [{"contains": "ok"}]`), f.env)
	if err != nil {
		t.Fatal(err)
	}
	small := f.spec.Model("small")
	path := filepath.Join(t.TempDir(), "out.jsonl")
	out := openOutput(t, path)
	for _, it := range set.Items {
		// A real answer, graded by a check the set no longer has, with no fingerprint.
		rec := Record{Row: outcomes.Row{Item: it.ID, Category: f.cat.Name, Prompt: it.Prompt, Model: small.Model,
			Source: outcomes.SourceEval, Response: "ok", Score: ptr(0.0), Pass: ptr(false)},
			Extras: Extras{Checks: []Verdict{{Check: `exact "no"`, Reason: "the answer is \"ok\""}}}}
		if err := out.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	out.Close()

	r := &Runner{Category: f.cat, Models: []*spec.Model{small}, Providers: f.providers}
	res, err := r.Run(context.Background(), set, openOutput(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if res.Ran != 0 || res.Rerun != 0 || res.Regraded != 3 {
		t.Errorf("legacy rows of real answers, checks changed: %+v; want all 3 graded again, none run", res)
	}
	for _, rec := range readRecords(t, path) {
		if rec.Response != "ok" || rec.Simulated || rec.Pass == nil || !*rec.Pass || rec.Grading == "" {
			t.Errorf("a legacy row after the run: %+v; want its real answer kept, graded again and passing", rec)
		}
	}
}

// TestResultRowsAreTheSetsItems: a set that has lost items since an earlier run into the same
// output (a broken item deleted, a changed item given a new id) is summarised on its own
// items: the rows of the items it no longer has stay in the file but are neither counted nor
// updated into the spec, and the result says how many were left out.
func TestResultRowsAreTheSetsItems(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	path := filepath.Join(t.TempDir(), "out.jsonl")
	models := f.models("small", "strong")
	r := &Runner{Category: f.cat, Models: models, Providers: f.providers, Concurrency: 4}
	full, err := LoadSet(writeSet(t, 10, ""), f.env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(context.Background(), full, openOutput(t, path)); err != nil {
		t.Fatal(err)
	}
	fewer, err := LoadSet(writeSet(t, 4, ""), f.env)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background(), fewer, openOutput(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 8 || res.Ran != 0 || len(res.Rows) != 8 || res.NotInSet != 12 {
		t.Fatalf("skipped %d, ran %d, %d rows, %d not in the set; want 8, 0, 8 rows of the set's 4 items, 12 left out", res.Skipped, res.Ran, len(res.Rows), res.NotInSet)
	}
	for _, s := range Summarize(f.cat, models, res.Rows) {
		if s.Items != 4 {
			t.Errorf("%s: summarised %d items, want the set's 4", s.Model, s.Items)
		}
	}
	checkOnePerPair(t, path, 20)
}

// TestUnreachableJudgeLeavesAnswersUngraded: a judge that cannot be reached says nothing of
// the answer, so it must not count as a failed answer: the row keeps the answer without a
// grade, the summary counts it apart from the graded ones, and the next run grades it again
// on its recorded answer, without calling the model.
func TestUnreachableJudgeLeavesAnswersUngraded(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	judge := &flakyJudge{down: true}
	env := f.env
	env.Caller = judge
	set, err := LoadSet(writeSet(t, 5, `, "checks": [{"contains": "ok"}, {"judge": {"model": "strong", "rubric": "says ok"}}]`), env)
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeProvider{name: "fake"}
	r := &Runner{Category: f.cat, Models: f.models("small"), Providers: map[string]clearbar.Provider{"sim-a": fake}}
	path := filepath.Join(t.TempDir(), "out.jsonl")
	res, err := r.Run(context.Background(), set, openOutput(t, path))
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(f.cat, r.Models, res.Rows)[0]
	if s.Graded != 0 || s.Ungraded != 5 || s.Passed != 0 {
		t.Fatalf("judge down: %d graded, %d ungraded, %d passed; want 0, 5, 0: an unreachable judge is no grade", s.Graded, s.Ungraded, s.Passed)
	}

	judge.down = false
	res, err = r.Run(context.Background(), set, openOutput(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if res.Regraded != 5 || res.Ran != 0 || fake.calls.Load() != 5 {
		t.Errorf("judge back: regraded %d, ran %d, %d model calls in all; want 5, 0, 5", res.Regraded, res.Ran, fake.calls.Load())
	}
	s = Summarize(f.cat, r.Models, res.Rows)[0]
	if s.Graded != 5 || s.Ungraded != 0 || s.Passed != 5 {
		t.Errorf("judge back: %d graded, %d ungraded, %d passed; want 5, 0, 5", s.Graded, s.Ungraded, s.Passed)
	}
	checkOnePerPair(t, path, 5)
}

// TestUnreachableJudgeDoesNotBlankAFailedCheck: an answer that a check which decided fails
// fails whatever a judge that could not be reached would say, so it is graded failed, not left
// ungraded to be judged again on every run. The set puts judges last, after the checks that
// fail the answer first; the graders here are in the other order, so that the judge is tried.
func TestUnreachableJudgeDoesNotBlankAFailedCheck(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	env := f.env
	env.Caller = &flakyJudge{down: true}
	set, err := LoadSet(writeSet(t, 3, `, "checks": [{"judge": {"model": "strong", "rubric": "says ok"}}, {"contains": "refund"}]`), env)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range set.Items {
		slices.Reverse(it.Graders)
	}
	r := &Runner{Category: f.cat, Models: f.models("small"), Providers: map[string]clearbar.Provider{"sim-a": &fakeProvider{name: "fake"}}}
	res, err := r.Run(context.Background(), set, openOutput(t, filepath.Join(t.TempDir(), "out.jsonl")))
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(f.cat, r.Models, res.Rows)[0]
	if s.Graded != 3 || s.Ungraded != 0 || s.Passed != 0 {
		t.Errorf("judge down, \"refund\" missing: %d graded, %d ungraded, %d passed; want 3, 0, 0", s.Graded, s.Ungraded, s.Passed)
	}
}

// TestJudgeFailuresByClass: only a judge that may answer later (rate limited, overloaded, timed
// out, out of reach) leaves the answer ungraded for the next run; one whose credentials are
// refused stops the run, naming the judge model and the class, as a candidate's would; one
// that fails otherwise (a client error, a context too long), which running again would not
// fix, fails the answer and says why.
func TestJudgeFailuresByClass(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	for _, tc := range []struct {
		class            clearbar.FailureClass
		graded, ungraded int
		stops            bool
		explanation      string
	}{
		{clearbar.RateLimited, 0, 3, false, "rate limited: later it answers"},
		{clearbar.Timeout, 0, 3, false, "timed out: later it may not"},
		{clearbar.Connection, 0, 3, false, "out of reach: later it may not be"},
		{clearbar.ClientError, 3, 0, false, "a misnamed judge model fails every time"},
		{clearbar.ContextTooLong, 3, 0, false, "the answer does not fit the judge"},
		{clearbar.Auth, 0, 0, true, "every further call would fail too"},
	} {
		env := f.env
		env.Caller = failingJudge{class: tc.class}
		set, err := LoadSet(writeSet(t, 3, `, "checks": [{"contains": "ok"}, {"judge": {"model": "strong", "rubric": "says ok"}}]`), env)
		if err != nil {
			t.Fatal(err)
		}
		r := &Runner{Category: f.cat, Models: f.models("small"), Providers: map[string]clearbar.Provider{"sim-a": &fakeProvider{name: "fake"}}}
		res, err := r.Run(context.Background(), set, openOutput(t, filepath.Join(t.TempDir(), "out.jsonl")))
		if tc.stops {
			if err == nil || !strings.Contains(err.Error(), "judge model strong: "+tc.class.String()) {
				t.Errorf("%s (%s): error %v; want the run stopped, naming the judge model and the class", tc.class, tc.explanation, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.class, err)
		}
		s := Summarize(f.cat, r.Models, res.Rows)[0]
		if s.Graded != tc.graded || s.Ungraded != tc.ungraded || s.Passed != 0 {
			t.Errorf("%s (%s): %d graded, %d ungraded, %d passed; want %d, %d, 0", tc.class, tc.explanation, s.Graded, s.Ungraded, s.Passed, tc.graded, tc.ungraded)
		}
		if v := checkNamed(t, res.Rows[0].Checks, "judge "); tc.graded > 0 && !strings.Contains(v.Reason, tc.class.String()) {
			t.Errorf("%s: the judge's verdict says %q; want the class", tc.class, v.Reason)
		}
	}
}

// failingJudge fails every call with its class.
type failingJudge struct{ class clearbar.FailureClass }

func (j failingJudge) Call(_ context.Context, m *spec.Model, _ *clearbar.Request) (*clearbar.Response, clearbar.Attempt, error) {
	return nil, clearbar.Attempt{Model: m.Name, Class: j.class, Outcome: "failed"}, &clearbar.Error{Class: j.class, Message: "the judge failed"}
}

// flakyJudge scores every answer 0.9, or fails every call as overloaded while down.
type flakyJudge struct{ down bool }

func (j *flakyJudge) Call(_ context.Context, m *spec.Model, _ *clearbar.Request) (*clearbar.Response, clearbar.Attempt, error) {
	if j.down {
		err := &clearbar.Error{Class: clearbar.Overloaded, Message: "judge overloaded"}
		return nil, clearbar.Attempt{Model: m.Name, Class: clearbar.Overloaded, Outcome: "failed"}, err
	}
	return &clearbar.Response{Choices: []clearbar.Choice{{Text: `{"score": 0.9}`}}}, clearbar.Attempt{Model: m.Name, Cost: 100}, nil
}

// TestRunRefusesRowsOfAnotherRequest: an item whose system message changed, with its last
// user message as it was, asks the models something else, so its rows are no measurement of
// it: the run refuses them, naming the item, as it does a changed prompt. Writing the same
// request otherwise (spacing, key order) changes nothing.
func TestRunRefusesRowsOfAnotherRequest(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	dir := t.TempDir()
	writeItems := func(name, line string) *Set {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		set, err := LoadSet(path, f.env)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	first := writeItems("first.jsonl", `{"id": "q0", "messages": [{"role": "system", "content": "Reply in JSON."}, {"role": "user", "content": "Extract the id from ticket 7."}]}`)
	same := writeItems("same.jsonl", `{"id":"q0","messages":[{"content":"Reply in JSON.","role":"system"},{"content":"Extract the id from ticket 7.","role":"user"}]}`)
	other := writeItems("other.jsonl", `{"id": "q0", "messages": [{"role": "system", "content": "Reply in French."}, {"role": "user", "content": "Extract the id from ticket 7."}]}`)
	bare := writeItems("bare.jsonl", `{"id": "q0", "prompt": "Extract the id from ticket 7."}`)

	path := filepath.Join(dir, "out.jsonl")
	r := &Runner{Category: f.cat, Models: f.models("small"), Providers: f.providers}
	if _, err := r.Run(context.Background(), first, openOutput(t, path)); err != nil {
		t.Fatal(err)
	}
	if res, err := r.Run(context.Background(), same, openOutput(t, path)); err != nil || res.Skipped != 1 {
		t.Errorf("the same request written otherwise: %v, %+v; want its row resumed", err, res)
	}
	for _, set := range []*Set{other, bare} {
		_, err := r.Run(context.Background(), set, openOutput(t, path))
		if err == nil || !strings.Contains(err.Error(), set.File+`:1: item "q0" changed since it was run`) {
			t.Errorf("%s: error %v; want the changed request refused, naming the item", filepath.Base(set.File), err)
		}
	}
}

// TestRowsRecordingNoRequestAreResumed: a row written before rows recorded the whole request
// of an item with a system message says nothing of it, so a resumed run takes it on its prompt
// hash, as it was taken then, and does not refuse it as answered to another request.
func TestRowsRecordingNoRequestAreResumed(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	dir := t.TempDir()
	setPath := filepath.Join(dir, "set.jsonl")
	item := `{"id": "q0", "messages": [{"role": "system", "content": "Reply in JSON."}, {"role": "user", "content": "Extract the id from ticket 7."}]}`
	if err := os.WriteFile(setPath, []byte(item+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := LoadSet(setPath, f.env)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "out.jsonl")
	r := &Runner{Category: f.cat, Models: f.models("small"), Providers: f.providers}
	if _, err := r.Run(context.Background(), set, openOutput(t, path)); err != nil {
		t.Fatal(err)
	}
	// The row as a run before rows recorded requests wrote it.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var row map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(data), &row); err != nil {
		t.Fatal(err)
	}
	if row["request"] == nil {
		t.Fatalf("the row records no request: %s", data)
	}
	delete(row, "request")
	legacy, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(legacy, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background(), set, openOutput(t, path))
	if err != nil || res.Skipped != 1 || res.Ran != 0 {
		t.Errorf("a row recording no request: %v, %+v; want it resumed", err, res)
	}
}

// TestValidatorVerdictsCorrectedForStrength: an item graded by the category's validators
// alone passes when they accept the answer, and validators the spec says miss some bad
// answers (detect 0.6) and flag some good ones (false alarm 0.2) accept q(1−f) + (1−q)(1−d)
// of answers, not the pass rate q that the estimate takes pass_rate for. The summary
// corrects the share for that strength, as estimate --measured corrects validator verdicts,
// so that the simulator's pass rates (0.7 and 0.95) are recovered, not 0.68 and 0.78.
func TestValidatorVerdictsCorrectedForStrength(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	f.cat.Assume.Validator = &spec.Strength{Detect: 0.6, FalseAlarm: 0.2}
	set, err := LoadSet(writeSet(t, 1500, ""), f.env)
	if err != nil {
		t.Fatal(err)
	}
	models := f.models("small", "strong")
	r := &Runner{Category: f.cat, Models: models, Providers: f.providers, Concurrency: 8,
		TimeScales: map[string]float64{"sim-a": 0.0001, "sim-b": 0.0001}}
	res, err := r.Run(context.Background(), set, openOutput(t, filepath.Join(t.TempDir(), "out.jsonl")))
	if err != nil {
		t.Fatal(err)
	}
	truth := map[string]float64{"small": 0.7, "strong": 0.95}
	for _, s := range Summarize(f.cat, models, res.Rows) {
		if p := truth[s.Model]; p < s.PassRateCI[0] || p > s.PassRateCI[1] || s.ByValidators != 1500 || s.PassRateNote == "" {
			t.Errorf("%s: pass rate %.4f (%.4f–%.4f) from %d validator verdicts, note %q; want the truth %v within the interval, the verdicts corrected and said so",
				s.Model, s.PassRate, s.PassRateCI[0], s.PassRateCI[1], s.ByValidators, s.PassRateNote, p)
		}
	}
}

// TestRowsThatCountedTheValidatorsAreRegraded: a row written before rows said how they were
// graded, of an item graded by its reference with the category's validators beside it, passed
// only when the validators accepted it too: a resumed run grades its recorded answer again,
// without a call, by the reference alone, and keeps the validators' verdict beside the grade.
// A row of an item the validators grade alone keeps its grade.
func TestRowsThatCountedTheValidatorsAreRegraded(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	setPath := filepath.Join(t.TempDir(), "set.jsonl")
	items := `{"id": "ref", "prompt": "Extract the id from ticket 1.", "reference": "{\"id\": \"T-1\"}"}
{"id": "alone", "prompt": "Extract the id from ticket 2."}
`
	if err := os.WriteFile(setPath, []byte(items), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := LoadSet(setPath, f.env)
	if err != nil {
		t.Fatal(err)
	}
	small := f.realModel("small")
	path := filepath.Join(t.TempDir(), "out.jsonl")
	out := openOutput(t, path)
	for _, it := range set.Items {
		// The right answer, but not JSON: the schema fails it, and the old pass needed both.
		rec := Record{Row: outcomes.Row{Item: it.ID, Category: f.cat.Name, Prompt: it.Prompt, Model: small.Model,
			Source: outcomes.SourceEval, Response: "id: T-1", Score: ptr(0.0), Pass: ptr(false)},
			Extras: Extras{Grading: it.Grading}}
		for _, g := range it.Graders {
			v := g.Grade(context.Background(), &Input{Item: it, Model: "small", Response: &clearbar.Response{Choices: []clearbar.Choice{{Text: rec.Response}}}})
			rec.Checks = append(rec.Checks, v)
		}
		if err := out.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	out.Close()

	fake := &fakeProvider{name: "sim-a"}
	r := &Runner{Category: f.cat, Models: []*spec.Model{small}, Providers: map[string]clearbar.Provider{"sim-a": fake}}
	res, err := r.Run(context.Background(), set, openOutput(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if res.Ran != 0 || res.Regraded != 1 || fake.calls.Load() != 0 {
		t.Errorf("%+v after %d calls; want the row graded with the validators beside its reference graded again, without a call", res, fake.calls.Load())
	}
	for _, rec := range readRecords(t, path) {
		switch rec.Item {
		case "ref":
			if rec.Pass == nil || !*rec.Pass || rec.GradedBy != GradeChecks || len(rec.Checks) != 2 || rec.Checks[0].Pass {
				t.Errorf("the row graded again: pass %v, graded by %q, checks %+v; want it to pass its reference, the validators' failing verdict kept beside", rec.Pass != nil && *rec.Pass, rec.GradedBy, rec.Checks)
			}
		case "alone":
			if rec.Pass == nil || *rec.Pass || rec.GradedBy != "" {
				t.Errorf("the row the validators grade alone: pass %v, graded by %q; want it as it was", rec.Pass != nil && *rec.Pass, rec.GradedBy)
			}
		}
	}
}
