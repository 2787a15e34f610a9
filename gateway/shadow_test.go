package gateway

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/shadow"
	"github.com/clearbar/clearbar/spec"
)

// gatedProvider answers shadow calls only once released.
type gatedProvider struct {
	*fakeProvider
	release chan struct{}
}

func (g gatedProvider) Complete(ctx context.Context, call *clearbar.Call) (*clearbar.Response, error) {
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.fakeProvider.Complete(ctx, call)
}

// TestShadowNeverDelaysOrAltersTheAnswer: with a shadow candidate that does not answer until
// released, clients still get their answers at once and byte for byte as without shadowing;
// the candidate's answers are recorded afterwards, beside the live ones.
func TestShadowNeverDelaysOrAltersTheAnswer(t *testing.T) {
	data, err := readFile("testdata/gw.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(data), "  b: {type: simulated}\n", "  b: {type: simulated}\n  c: {type: simulated}\n", 1)
	src = strings.Replace(src, "models:\n", "models:\n  cand: {provider: c, model: cand-1, price: {input: 0.1, output: 0.4}, latency: {p50: 10ms, p95: 20ms}}\n", 1)
	src = strings.Replace(src, "    match:\n      models: [intent-model]\n", "    shadow: {models: [cand], sample: 1, daily_budget: 10}\n    match:\n      models: [intent-model]\n", 1)
	s, err := spec.Parse([]byte(src), "testdata/gw.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := newFake("a"), newFake("b")
	c := gatedProvider{fakeProvider: newFake("c"), release: make(chan struct{})}
	providers := map[string]clearbar.Provider{"a": a, "b": b, "c": c}
	var rows bytes.Buffer
	sh, err := shadow.New(shadow.Options{Spec: s, Providers: providers, Out: &rows})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(sh *shadow.Shadower) *httptest.Server {
		g, err := New(Options{Spec: s, Providers: providers, Recorder: &memRecorder{}, Shadow: sh})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(g)
		t.Cleanup(srv.Close)
		return srv
	}
	with, without := &fixture{srv: serve(sh)}, &fixture{srv: serve(nil)}
	stream := `{"model":"clearbar/intent","stream":true,"messages":[{"role":"user","content":"hello"}]}`
	for _, body := range []string{hello, stream} {
		start := time.Now()
		got := readAll(t, with.post(t, body))
		if el := time.Since(start); el > 5*time.Second {
			t.Fatalf("the answer took %v with a shadow candidate that has not answered", el)
		}
		want := readAll(t, without.post(t, body))
		if !bytes.Equal(got, want) {
			t.Errorf("shadowing changed the answer:\nwith:    %s\nwithout: %s", got, want)
		}
	}
	if n := c.Calls("cand-1"); n != 0 {
		t.Fatalf("the gated candidate answered %d calls before release", n)
	}
	close(c.release)
	if err := sh.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var cand, live int
	rd := outcomes.NewReader(&rows)
	for rd.Next() {
		switch r := rd.Row(); {
		case r.Model == "cand" && r.Source == outcomes.SourceShadow && r.Error == "" && r.Category == "intent":
			cand++
		case r.Model == "small" && r.Source == outcomes.SourceTrace:
			live++
		}
	}
	if rd.Err() != nil || cand != 2 || live != 2 {
		t.Errorf("shadow rows: %d candidate, %d live (err %v); want 2 and 2\n%s", cand, live, rd.Err(), rows.String())
	}
}
