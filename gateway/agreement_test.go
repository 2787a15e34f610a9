package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
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

// TestEstimatorAgreesWithGateway runs a few thousand requests through a validated cascade on
// simulated models whose true pass rates, availability and validator strength are the spec's
// assumptions, and checks that the escalation rate and the quality the gateway delivers agree
// with the estimator's prediction within sampling error.
func TestEstimatorAgreesWithGateway(t *testing.T) {
	s, err := spec.Load("testdata/agreement.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := provider.NewRegistry()
	reg.Register("simulated", simulated.New)
	providers, err := reg.NewAll(s, provider.Config{})
	if err != nil {
		t.Fatal(err)
	}
	checker, err := validate.NewChecker(s, validate.Env{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &decisions{}
	g, err := gateway.New(gateway.Options{Spec: s, Providers: providers, Checker: checker, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	defer srv.Close()

	const n = 4000
	body := []byte(`{"model":"clearbar/extract","messages":[{"role":"user","content":"Order AB-123456, total 42.50"}]}`)
	var good, delivered int
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", bytes.NewReader(body))
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
			delivered++
			if gjson.GetBytes(buf.Bytes(), "x_clearbar_simulation.good").Bool() {
				good++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	escalated := 0
	for _, d := range rec.ds {
		for _, a := range d.Attempts {
			if a.Step > 1 {
				escalated++
				break
			}
		}
	}
	r, err := estimate.Run(context.Background(), s, estimate.Options{Samples: 20_000})
	if err != nil {
		t.Fatal(err)
	}
	want := r.Policies[0].Categories[0]
	check := func(what string, got, p float64) {
		se := math.Sqrt(p * (1 - p) / n)
		if math.Abs(got-p) > 4*se {
			t.Errorf("%s: gateway %.4f, estimator %.4f (%.1f standard errors apart)", what, got, p, math.Abs(got-p)/se)
		} else {
			t.Logf("%s: gateway %.4f, estimator %.4f", what, got, p)
		}
	}
	if len(rec.ds) != n {
		t.Fatalf("%d decisions for %d requests", len(rec.ds), n)
	}
	check("escalation rate", float64(escalated)/n, want.PEscalated)
	check("quality delivered", float64(good)/n, want.Quality)
	check("requests failed", float64(n-delivered)/n, want.PFailed)
}

// TestEstimatorAgreesWithGatewayOnAgreement: a score route that starts on the small model,
// checks its answers by agreement with mid and escalates failures straight to strong. On the
// simulator the check fails exactly the answers drawn to fail validation, so the gateway's
// escalation rate and delivered quality match the estimator's prediction, and every check is
// a call to mid recorded in the decision.
func TestEstimatorAgreesWithGatewayOnAgreement(t *testing.T) {
	s, err := spec.Load("testdata/agreement-choice.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
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
	defer srv.Close()

	const n = 4000
	var good, delivered int
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			q := fmt.Sprintf("Question %d: which planet is the largest?\nA) Mars\nB) Jupiter\nC) Venus\nAnswer:", i)
			body, _ := json.Marshal(map[string]any{"model": "clearbar/quiz", "messages": []map[string]string{{"role": "user", "content": q}}})
			resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			var buf bytes.Buffer
			buf.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return
			}
			mu.Lock()
			delivered++
			if gjson.GetBytes(buf.Bytes(), "x_clearbar_simulation.good").Bool() {
				good++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(rec.ds) != n {
		t.Fatalf("%d decisions for %d requests", len(rec.ds), n)
	}
	escalated, checks := 0, 0
	for _, d := range rec.ds {
		if d.Score == nil || d.Score.Start != "small" || len(d.Plan) != 2 || d.Plan[1] != "strong" {
			t.Fatalf("plan %v, score %+v: want small, escalating straight to strong", d.Plan, d.Score)
		}
		for _, a := range d.Attempts {
			switch {
			case a.Kind == clearbar.AttemptCheck:
				checks++
				if a.Model != "mid" { // small's and strong's answers are both checked by mid
					t.Fatalf("a check by %s, want mid", a.Model)
				}
			case a.Step > 1:
				escalated++
			}
		}
	}
	if checks < n {
		t.Errorf("%d check calls for %d requests: every validated answer is checked", checks, n)
	}
	r, err := estimate.Run(context.Background(), s, estimate.Options{Samples: 20_000})
	if err != nil {
		t.Fatal(err)
	}
	want := r.Policies[0].Categories[0]
	check := func(what string, got, p float64) {
		se := math.Sqrt(p * (1 - p) / n)
		if math.Abs(got-p) > 4*se {
			t.Errorf("%s: gateway %.4f, estimator %.4f (%.1f standard errors apart)", what, got, p, math.Abs(got-p)/se)
		} else {
			t.Logf("%s: gateway %.4f, estimator %.4f", what, got, p)
		}
	}
	check("escalation rate", float64(escalated)/n, want.PEscalated)
	check("quality delivered", float64(good)/n, want.Quality)
}
