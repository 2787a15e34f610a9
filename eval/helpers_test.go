package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/simulated"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

// fixture is a loaded spec with simulated providers and its validators compiled.
type fixture struct {
	spec      *spec.Spec
	cat       *spec.Category
	providers map[string]clearbar.Provider
	env       Env
}

func loadFixture(t *testing.T, path, category string) *fixture {
	t.Helper()
	s, err := spec.Load(path, spec.Options{Today: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	reg := provider.NewRegistry()
	reg.Register("simulated", simulated.New)
	providers, err := reg.NewAll(s, provider.Config{})
	if err != nil {
		t.Fatal(err)
	}
	caller := validate.ProviderCaller{Providers: providers}
	checker, err := validate.NewChecker(s, validate.Env{Caller: caller})
	if err != nil {
		t.Fatal(err)
	}
	cat := s.Category(category)
	if cat == nil {
		t.Fatalf("no category %q", category)
	}
	return &fixture{spec: s, cat: cat, providers: providers,
		env: Env{Spec: s, Category: cat, Checker: checker, Caller: caller}}
}

func (f *fixture) models(names ...string) []*spec.Model {
	out := make([]*spec.Model, len(names))
	for i, n := range names {
		out[i] = f.spec.Model(n)
	}
	return out
}

// writeSet writes n prompt items (plus extra fields, a JSON fragment, on each) to a file.
func writeSet(t *testing.T, n int, extra string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "set.jsonl")
	if err := os.WriteFile(path, []byte(writeSetText(n, extra)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeSetText is the text writeSet writes.
func writeSetText(n int, extra string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"id": "q%d", "prompt": "Extract the id from ticket %d."%s}`+"\n", i, i, extra)
	}
	return b.String()
}

// realModel returns a copy of the fixture's model name whose provider is a copy of its own
// with another type than simulated, so that a run takes its answers (from a fake, say) for
// real ones.
func (f *fixture) realModel(name string) *spec.Model {
	m := *f.spec.Model(name)
	p := *m.Resolved.Provider
	p.Type = "openai"
	m.Resolved.Provider = &p
	return &m
}

func openOutput(t *testing.T, path string) *Output {
	t.Helper()
	o, err := OpenOutput(path, OutputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

// readRecords reads an output file back as eval records, failing on any line that is not one.
func readRecords(t *testing.T, path string) []Record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []Record
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s:%d is not a record: %v", path, i+1, err)
		}
		out = append(out, r)
	}
	return out
}

// truthGrader grades an answer by the simulator's ground truth, which the simulated provider
// reports in the body as x_clearbar_simulation.good. Only the simulator knows the truth, so
// this grader exists only in tests: it checks that the real graders measure what they should.
type truthGrader struct{}

func (truthGrader) Name() string { return "simulation truth" }

func (truthGrader) Grade(_ context.Context, in *Input) Verdict {
	var body struct {
		Sim *struct {
			Good bool `json:"good"`
		} `json:"x_clearbar_simulation"`
	}
	if err := json.Unmarshal(in.Response.Body, &body); err != nil || body.Sim == nil {
		return Verdict{Check: "simulation truth", Reason: "the answer reports no simulation truth"}
	}
	return passFail("simulation truth", body.Sim.Good, "")
}

// fakeProvider answers "ok" after a delay, counting calls and the most calls in flight at
// once. fail, when set, may fail call number n (from 1) instead.
type fakeProvider struct {
	name  string
	delay time.Duration
	fail  func(n int64, call *clearbar.Call) error

	calls    atomic.Int64
	inFlight atomic.Int64
	maxIn    atomic.Int64

	mu     sync.Mutex
	starts []time.Time
}

func (p *fakeProvider) Name() string { return p.name }

func (p *fakeProvider) Complete(ctx context.Context, call *clearbar.Call) (*clearbar.Response, error) {
	n := p.calls.Add(1)
	p.mu.Lock()
	p.starts = append(p.starts, time.Now())
	p.mu.Unlock()
	in := p.inFlight.Add(1)
	defer p.inFlight.Add(-1)
	for {
		m := p.maxIn.Load()
		if in <= m || p.maxIn.CompareAndSwap(m, in) {
			break
		}
	}
	if p.fail != nil {
		if err := p.fail(n, call); err != nil {
			return nil, err
		}
	}
	t := time.NewTimer(p.delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, &clearbar.Error{Class: clearbar.ClassOf(ctx.Err()), Message: "cancelled"}
	case <-t.C:
	}
	return &clearbar.Response{Choices: []clearbar.Choice{{Text: "ok", FinishReason: "stop"}},
		Usage: clearbar.Usage{PromptTokens: 10, CompletionTokens: 2}, HasUsage: true}, nil
}

func (p *fakeProvider) Stream(context.Context, *clearbar.Call) (clearbar.Stream, error) {
	return nil, clearbar.Errorf(clearbar.ClientError, "the fake does not stream")
}

var _ clearbar.Provider = (*fakeProvider)(nil)

func providerConfig(f *fixture, p *spec.Provider) provider.Config {
	return provider.Config{Provider: p, Spec: f.spec}
}

// checkNamed returns the one verdict among checks whose check's name starts with prefix.
func checkNamed(t *testing.T, checks []Verdict, prefix string) Verdict {
	t.Helper()
	var found []Verdict
	for _, v := range checks {
		if strings.HasPrefix(v.Check, prefix) {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d verdicts named %q… among %+v; want one", len(found), prefix, checks)
	}
	return found[0]
}
