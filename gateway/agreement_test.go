package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/simulated"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

type decisions struct {
	mu sync.Mutex
	ds []*clearbar.Decision
}

func (r *decisions) Record(d *clearbar.Decision) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ds = append(r.ds, d)
	return true
}

// simulatedRun is n requests through the gateway of a spec on simulated providers, 16 at a
// time, whose bodies body gives: the decisions recorded, and how many requests were answered
// and how many answers the simulator drew as good.
type simulatedRun struct {
	spec             *spec.Spec
	decisions        []*clearbar.Decision
	delivered, good  int
	escalated, calls int // requests that reached a second step; validator calls of kind check
}

func runSimulated(t *testing.T, file string, n int, body func(i int) []byte) *simulatedRun {
	t.Helper()
	s, err := spec.Load(file, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, rec := simulatedGateway(t, s)

	run := &simulatedRun{spec: s}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", bytes.NewReader(body(i)))
			if err != nil {
				t.Error(err)
				return
			}
			var buf bytes.Buffer
			buf.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return // a failed request is not a good answer
			}
			mu.Lock()
			run.delivered++
			if gjson.GetBytes(buf.Bytes(), "x_clearbar_simulation.good").Bool() {
				run.good++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	run.decisions = rec.ds
	if len(run.decisions) != n {
		t.Fatalf("%d decisions for %d requests", len(run.decisions), n)
	}
	for _, d := range run.decisions {
		for _, a := range d.Attempts {
			if a.Kind == clearbar.AttemptCheck {
				run.calls++
			}
		}
		if slices.ContainsFunc(d.Attempts, func(a clearbar.Attempt) bool { return a.Step > 1 }) {
			run.escalated++
		}
	}
	return run
}

// agrees checks a gateway rate against the estimator's prediction, within four standard errors
// of n draws.
func agrees(t *testing.T, what string, got, p float64, n int) {
	t.Helper()
	se := math.Sqrt(p * (1 - p) / float64(n))
	if math.Abs(got-p) > 4*se {
		t.Errorf("%s: gateway %.4f, estimator %.4f (%.1f standard errors apart)", what, got, p, math.Abs(got-p)/se)
	} else {
		t.Logf("%s: gateway %.4f, estimator %.4f", what, got, p)
	}
}

// TestEstimatorAgreesWithGateway runs a few thousand requests through a validated cascade on
// simulated models whose true pass rates, availability and validator strength are the spec's
// assumptions, and checks that the escalation rate and the quality the gateway delivers agree
// with the estimator's prediction within sampling error.
func TestEstimatorAgreesWithGateway(t *testing.T) {
	const n = 4000
	body := []byte(`{"model":"clearbar/extract","messages":[{"role":"user","content":"Order AB-123456, total 42.50"}]}`)
	run := runSimulated(t, "testdata/agreement.yaml", n, func(int) []byte { return body })
	r, err := estimate.Run(context.Background(), run.spec, estimate.Options{Samples: 20_000})
	if err != nil {
		t.Fatal(err)
	}
	want := r.Policies[0].Categories[0]
	agrees(t, "escalation rate", float64(run.escalated)/n, want.PEscalated, n)
	agrees(t, "quality delivered", float64(run.good)/n, want.Quality, n)
	agrees(t, "requests failed", float64(n-run.delivered)/n, want.PFailed, n)
}

// TestEstimatorAgreesWithGatewayOnAgreement: a score route that starts on the small model,
// checks its answers by agreement with mid and escalates failures straight to strong. On the
// simulator the check fails exactly the answers drawn to fail validation, so the gateway's
// escalation rate and delivered quality match the estimator's prediction, and every check is
// a call to mid recorded in the decision.
func TestEstimatorAgreesWithGatewayOnAgreement(t *testing.T) {
	const n = 4000
	run := runSimulated(t, "testdata/agreement-choice.yaml", n, func(i int) []byte {
		q := fmt.Sprintf("Question %d: which planet is the largest?\nA) Mars\nB) Jupiter\nC) Venus\nAnswer:", i)
		body, _ := json.Marshal(map[string]any{"model": "clearbar/quiz", "messages": []map[string]string{{"role": "user", "content": q}}})
		return body
	})
	for _, d := range run.decisions {
		if d.Score == nil || d.Score.Start != "small" || len(d.Plan) != 2 || d.Plan[1] != "strong" {
			t.Fatalf("plan %v, score %+v: want small, escalating straight to strong", d.Plan, d.Score)
		}
		for _, a := range d.Attempts {
			if a.Kind == clearbar.AttemptCheck && a.Model != "mid" { // small's and strong's answers are both checked by mid
				t.Fatalf("a check by %s, want mid", a.Model)
			}
		}
	}
	if run.calls < n {
		t.Errorf("%d check calls for %d requests: every validated answer is checked", run.calls, n)
	}
	r, err := estimate.Run(context.Background(), run.spec, estimate.Options{Samples: 20_000})
	if err != nil {
		t.Fatal(err)
	}
	want := r.Policies[0].Categories[0]
	agrees(t, "escalation rate", float64(run.escalated)/n, want.PEscalated, n)
	agrees(t, "quality delivered", float64(run.good)/n, want.Quality, n)
}

// simulatedGateway serves spec s on simulated providers, with its validators (their judges and
// checkers called through the same providers), and records its decisions; the server closes
// when the test ends.
func simulatedGateway(t *testing.T, s *spec.Spec) (*httptest.Server, *decisions) {
	t.Helper()
	reg := provider.NewRegistry()
	reg.Register("simulated", simulated.New)
	providers, err := reg.NewAll(s, provider.Config{})
	if err != nil {
		t.Fatal(err)
	}
	checker, err := validate.NewChecker(s, validate.Env{Caller: validate.ProviderCaller{Providers: providers}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &decisions{}
	g, err := gateway.New(gateway.Options{Spec: s, Providers: providers, Checker: checker, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return srv, rec
}
