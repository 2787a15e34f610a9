package simulated_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/simulated"
	"github.com/clearbar/clearbar/spec"
)

// TestMain fails the package if any test leaves a goroutine behind (the provider starts
// none; cancelled waits must not leave any either).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func ptr[T any](v T) *T { return &v }

// fast makes every simulated wait shorter than a nanosecond, that is no wait at all.
const fast = 1e-9

// constModel is a model that always takes d and never fails on its own.
func constModel(id string, d time.Duration) *spec.Model {
	return &spec.Model{
		Name: id, Model: id,
		Latency:      &spec.Latency{P50: spec.Duration(d), P95: spec.Duration(d)},
		Availability: ptr(spec.Prob(1)),
	}
}

// newSim builds a simulated provider "sim" serving the given models, from a spec built in
// code (so the models' Resolved fields are empty and the provider's fallbacks are used).
func newSim(t testing.TB, sim *spec.Simulate, models ...*spec.Model) *simulated.Provider {
	t.Helper()
	prov := &spec.Provider{Name: "sim", Type: "simulated", Simulate: sim}
	for _, m := range models {
		m.Provider = spec.Ref{Name: "sim"}
	}
	s := &spec.Spec{Providers: spec.Providers{prov}, Models: models}
	p, err := simulated.New(provider.Config{Provider: prov, Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*simulated.Provider)
}

func userRequest(text string) *clearbar.Request {
	return &clearbar.Request{Model: "m", Messages: []clearbar.Message{{Role: "user", Text: text}}}
}

func classOf(err error) clearbar.FailureClass { return clearbar.ClassOf(err) }

func TestNewRejectsBadSettings(t *testing.T) {
	tests := []struct {
		sim         spec.Simulate
		want        string
		explanation string
	}{
		{spec.Simulate{TimeScale: -1}, "time_scale -1 cannot be negative", "a negative scale has no meaning"},
		{spec.Simulate{CutRate: 1.5}, "simulate.cut_rate 1.5 is not a probability", "rates are probabilities"},
		{spec.Simulate{ErrorRate: ptr(spec.Prob(-0.1))}, "simulate.error_rate", "rates are probabilities"},
	}
	for _, tt := range tests {
		prov := &spec.Provider{Name: "sim", Type: "simulated", Simulate: &tt.sim}
		_, err := simulated.New(provider.Config{Provider: prov, Spec: &spec.Spec{}})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v) = %v, want %q (%s)", tt.sim, err, tt.want, tt.explanation)
		}
	}
}

func TestUnknownModel(t *testing.T) {
	p := newSim(t, &spec.Simulate{TimeScale: fast}, constModel("known", time.Second))
	_, err := p.Complete(context.Background(), &clearbar.Call{Request: userRequest("hi"), Model: "gpt-unknown"})
	var e *clearbar.Error
	if !errors.As(err, &e) || e.Class != clearbar.ClientError || e.Status != 404 || e.Code != "model_not_found" ||
		!strings.Contains(e.Message, `model "gpt-unknown" not found`) {
		t.Fatalf("err = %#v; want a 404 ClientError naming the model", err)
	}
	if _, err := p.Stream(context.Background(), &clearbar.Call{Request: userRequest("hi"), Model: "gpt-unknown", Stream: true}); classOf(err) != clearbar.ClientError {
		t.Errorf("Stream: err = %v, want ClientError", err)
	}
	if n := p.Calls("gpt-unknown"); n != 2 {
		t.Errorf("Calls = %d, want 2: calls to unknown models are counted too, so tests can assert them", n)
	}
	if n := p.Calls("known"); n != 0 {
		t.Errorf("Calls(known) = %d, want 0", n)
	}
}

// outcome is what one simulated call came to.
type outcome struct {
	class       clearbar.FailureClass // of the call, or of the stream's end
	invalidJSON bool
	retryAfter  time.Duration
}

// run makes one call and reads its answer; invalidJSON is reported for JSON response formats.
func run(t *testing.T, p *simulated.Provider, call *clearbar.Call) outcome {
	t.Helper()
	ctx := context.Background()
	isJSON := call.Request.ResponseFormat.Type != ""
	if !call.Stream {
		resp, err := p.Complete(ctx, call)
		if err != nil {
			return outcome{class: classOf(err), retryAfter: clearbar.AsError(err).RetryAfter}
		}
		return outcome{invalidJSON: isJSON && !json.Valid([]byte(resp.Text()))}
	}
	s, err := p.Stream(ctx, call)
	if err != nil {
		return outcome{class: classOf(err), retryAfter: clearbar.AsError(err).RetryAfter}
	}
	defer s.Close()
	var text strings.Builder
	for s.Next() {
		text.WriteString(s.Chunk().Text)
	}
	if err := s.Err(); err != nil {
		return outcome{class: classOf(err)}
	}
	return outcome{invalidJSON: isJSON && !json.Valid([]byte(text.String()))}
}

// TestFailureRates draws many seeded calls and checks each injected failure's frequency.
func TestFailureRates(t *testing.T) {
	const n = 10_000
	jsonReq := userRequest("classify this")
	jsonReq.ResponseFormat = clearbar.ResponseFormat{Type: "json_object"}
	tests := []struct {
		name        string
		sim         spec.Simulate
		availabilty float64
		req         *clearbar.Request
		stream      bool
		// want maps an outcome to its expected share of all calls.
		want        map[string]float64
		explanation string
	}{
		{"error rate", spec.Simulate{ErrorRate: ptr(spec.Prob(0.1)), RateLimitRate: 0.05}, 1, userRequest("hi"), false,
			map[string]float64{"overloaded": 0.1, "rate_limited": 0.05, "ok": 0.85},
			"503s at error_rate and 429s at rate_limit_rate, from one draw so that the rates are exact shares"},
		{"availability", spec.Simulate{}, 0.9, userRequest("hi"), false,
			map[string]float64{"overloaded": 0.1, "ok": 0.9},
			"without error_rate, a model fails at 1 − availability"},
		{"explicit zero", spec.Simulate{ErrorRate: ptr(spec.Prob(0))}, 0.5, userRequest("hi"), false,
			map[string]float64{"ok": 1},
			"error_rate: 0 switches availability failures off"},
		{"cuts", spec.Simulate{CutRate: 0.2}, 1, userRequest("tell me a story"), true,
			map[string]float64{"stream_cut": 0.2, "ok": 0.8},
			"streams end with a StreamCut error at cut_rate"},
		{"cuts only stream", spec.Simulate{CutRate: 0.5}, 1, userRequest("hi"), false,
			map[string]float64{"ok": 1},
			"a non-streaming call cannot be cut"},
		{"invalid json", spec.Simulate{InvalidJSONRate: 0.3}, 1, jsonReq, false,
			map[string]float64{"invalid_json": 0.3, "ok": 0.7},
			"JSON answers are broken at invalid_json_rate"},
		{"invalid json stream", spec.Simulate{InvalidJSONRate: 0.3, CutRate: 0.1}, 1, jsonReq, true,
			map[string]float64{"invalid_json": 0.27, "stream_cut": 0.1, "ok": 0.63},
			"independent draws: 30% of the uncut streams carry broken JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := tt.sim
			sim.TimeScale, sim.Seed = fast, 42
			m := constModel("m", 100*time.Millisecond)
			m.Availability = ptr(spec.Prob(tt.availabilty))
			p := newSim(t, &sim, m)
			counts := map[string]int{}
			for range n {
				o := run(t, p, &clearbar.Call{Request: tt.req, Model: "m", Stream: tt.stream})
				key := o.class.String()
				if o.class == clearbar.OK && o.invalidJSON {
					key = "invalid_json"
				}
				counts[key]++
			}
			for key, c := range counts {
				if _, ok := tt.want[key]; !ok {
					t.Errorf("%d calls ended %s, want none: %s", c, key, tt.explanation)
				}
			}
			for key, want := range tt.want {
				got := float64(counts[key]) / n
				tol := 4*math.Sqrt(want*(1-want)/n) + 0.002
				if math.Abs(got-want) > tol {
					t.Errorf("%s: %.4f of calls, want %.3f ± %.4f: %s", key, got, want, tol, tt.explanation)
				}
			}
			if p.Calls("m") != n {
				t.Errorf("Calls = %d, want %d", p.Calls("m"), n)
			}
		})
	}
}

func TestRateLimitRetryAfter(t *testing.T) {
	tests := []struct {
		scale       float64
		want        time.Duration
		explanation string
	}{
		{1, 2 * time.Second, "Retry-After is simulate.retry_after"},
		{0.01, 20 * time.Millisecond, "scaled like every simulated duration, so a gateway's backoff stays proportionate"},
	}
	for _, tt := range tests {
		sim := &spec.Simulate{RateLimitRate: 1, RetryAfter: spec.Duration(2 * time.Second), TimeScale: tt.scale, Seed: 1}
		m := constModel("m", time.Second)
		m.Latency.FailAfter = spec.Duration(time.Microsecond) // a quick 429
		p := newSim(t, sim, m)
		_, err := p.Complete(context.Background(), &clearbar.Call{Request: userRequest("hi"), Model: "m"})
		e := clearbar.AsError(err)
		if e.Class != clearbar.RateLimited || e.Status != 429 || e.RetryAfter != tt.want || e.Provider != "sim" || e.Model != "m" {
			t.Errorf("scale %v: err = %#v, want a 429 with RetryAfter %v: %s", tt.scale, e, tt.want, tt.explanation)
		}
	}
}

// TestSeedReproducible: the same seed gives the same run, so a failing drill can be replayed.
func TestSeedReproducible(t *testing.T) {
	trace := func(seed uint64) []string {
		sim := &spec.Simulate{TimeScale: fast, Seed: seed, ErrorRate: ptr(spec.Prob(0.3)), CutRate: 0.3}
		p := newSim(t, sim, constModel("m", time.Second))
		var out []string
		for range 50 {
			s, err := p.Stream(context.Background(), &clearbar.Call{Request: userRequest("hi"), Model: "m", Stream: true})
			if err != nil {
				out = append(out, classOf(err).String())
				continue
			}
			n := 0
			var id string
			for s.Next() {
				n++
				var c struct{ ID string }
				_ = json.Unmarshal(s.Chunk().Data, &c)
				id = c.ID
			}
			out = append(out, id+" "+classOf(s.Err()).String()+" "+string(rune('0'+n)))
			s.Close()
		}
		return out
	}
	a, b, c := trace(7), trace(7), trace(8)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("seed 7 gave two different runs:\n%v\n%v", a, b)
	}
	if strings.Join(a, ",") == strings.Join(c, ",") {
		t.Errorf("seeds 7 and 8 gave the same run")
	}
}

func TestConcurrentCalls(t *testing.T) {
	sim := &spec.Simulate{TimeScale: fast, ErrorRate: ptr(spec.Prob(0.2)), CutRate: 0.2}
	p := newSim(t, sim, constModel("a", time.Second), constModel("b", time.Second))
	const goroutines, perG = 16, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			model := "a"
			if g%2 == 1 {
				model = "b"
			}
			for i := range perG {
				call := &clearbar.Call{Request: userRequest("hi"), Model: model, Stream: i%2 == 0}
				if call.Stream {
					s, err := p.Stream(context.Background(), call)
					if err == nil {
						for s.Next() {
						}
						s.Close()
					}
					continue
				}
				_, _ = p.Complete(context.Background(), call)
			}
		})
	}
	wg.Wait()
	if a, b := p.Calls("a"), p.Calls("b"); a != goroutines/2*perG || b != goroutines/2*perG {
		t.Errorf("Calls a=%d b=%d, want %d each", a, b, goroutines/2*perG)
	}
}

// TestSpecFile runs the simulator from the quick-start example, whose models the spec loader
// has resolved (latency, availability).
func TestSpecFile(t *testing.T) {
	s, err := spec.Load("../../examples/quickstart.yaml", spec.Options{})
	if err != nil {
		t.Skipf("examples/quickstart.yaml does not load here: %v", err)
	}
	prov := s.Provider("sim")
	if prov == nil {
		t.Skip("examples/quickstart.yaml has no provider sim")
	}
	cp := *prov
	cp.Simulate = &spec.Simulate{TimeScale: fast, Seed: 3, ErrorRate: ptr(spec.Prob(0))}
	p, err := simulated.New(provider.Config{Provider: &cp, Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range s.Models {
		if m.Provider.Name != "sim" {
			continue
		}
		resp, err := p.Complete(context.Background(), &clearbar.Call{Request: userRequest("hello"), Model: m.Model})
		if err != nil {
			t.Fatalf("%s: %v", m.Model, err)
		}
		if resp.Model != m.Model || !strings.Contains(resp.Text(), m.Model) {
			t.Errorf("%s: answered as %q with %q", m.Model, resp.Model, resp.Text())
		}
	}
}

// TestFailMetadata: a request's clearbar_simulate_fail metadata fails every call to the model
// it names, by spec name or model id, and no other.
func TestFailMetadata(t *testing.T) {
	a, b := constModel("a", time.Millisecond), constModel("b", time.Millisecond)
	a.Name = "primary"
	p := newSim(t, &spec.Simulate{TimeScale: 0.001}, a, b)
	for _, tt := range []struct {
		name, model string
		fails       bool
		explanation string
	}{
		{"primary", "a", true, "the spec's name of the model"},
		{"a", "a", true, "the model id"},
		{"primary", "b", false, "another model answers"},
		{"", "a", false, "no metadata, no failure"},
	} {
		req := userRequest("hi")
		if tt.name != "" {
			req.Metadata = map[string]string{simulated.FailMetadata: tt.name}
		}
		for range 3 {
			_, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: tt.model})
			if failed := err != nil && classOf(err) == clearbar.Overloaded; failed != tt.fails {
				t.Errorf("%s=%q, model %s: err %v, want failure %v (%s)", simulated.FailMetadata, tt.name, tt.model, err, tt.fails, tt.explanation)
			}
		}
	}
}
