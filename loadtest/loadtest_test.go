package loadtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar/spec"
)

func TestMockAnswer(t *testing.T) {
	srv := httptest.NewServer(&MockUpstream{})
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(requestBody))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var v struct {
		Object  string
		Choices []struct{ Message struct{ Content string } }
		Usage   struct {
			TotalTokens int `json:"total_tokens"`
		}
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	if v.Object != "chat.completion" || len(v.Choices) != 1 || v.Choices[0].Message.Content == "" || v.Usage.TotalTokens == 0 {
		t.Errorf("answer %s", body)
	}
	if n := len(body); n < 400 || n > 900 {
		t.Errorf("answer is %d bytes, want a realistic ~500", n)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
}

func TestMockStream(t *testing.T) {
	srv := httptest.NewServer(&MockUpstream{Chunks: 5})
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(streamBody))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	events := strings.Split(strings.TrimSuffix(string(body), "\n\n"), "\n\n")
	if len(events) != StreamEvents(5) {
		t.Fatalf("%d events, want %d:\n%s", len(events), StreamEvents(5), body)
	}
	var text strings.Builder
	for i, e := range events[:len(events)-1] {
		var c struct {
			Choices []struct {
				Delta        struct{ Content string }
				FinishReason *string `json:"finish_reason"`
			}
			Usage *struct {
				CompletionTokens int `json:"completion_tokens"`
			}
		}
		if err := json.Unmarshal([]byte(strings.TrimPrefix(e, "data: ")), &c); err != nil {
			t.Fatalf("event %d: %v: %s", i, err, e)
		}
		if i == len(events)-2 {
			if len(c.Choices) != 0 || c.Usage == nil || c.Usage.CompletionTokens != 5 {
				t.Errorf("usage chunk %s", e)
			}
			continue
		}
		text.WriteString(c.Choices[0].Delta.Content)
	}
	if events[len(events)-1] != "data: [DONE]" || text.String() != "Your order left our warehouse " {
		t.Errorf("text %q, last event %q", text.String(), events[len(events)-1])
	}

	// Without include_usage there is no usage chunk.
	resp, err = http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"stream": true}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if n := strings.Count(string(body), "\n\n"); n != StreamEvents(5)-1 || strings.Contains(string(body), `"usage"`) {
		t.Errorf("%d events without include_usage:\n%s", n, body)
	}
}

func TestJSONBool(t *testing.T) {
	for body, want := range map[string]bool{
		`{"stream":true}`:                     true,
		`{"stream" : true}`:                   true,
		`{"stream":false}`:                    false,
		`{"model":"stream","stream":true}`:    true,
		`{"messages":[{"content":"stream"}]}`: false,
		`{}`:                                  false,
	} {
		if got := jsonBool([]byte(body), "stream"); got != want {
			t.Errorf("jsonBool(%s) = %v", body, got)
		}
	}
}

func TestQuantile(t *testing.T) {
	d := Durations{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if d.Quantile(0.5) != 5 || d.Quantile(0.99) != 10 || d.Quantile(0) != 1 || (Durations{}).Quantile(0.5) != 0 {
		t.Errorf("quantiles %v %v %v", d.Quantile(0.5), d.Quantile(0.99), d.Quantile(0))
	}
}

func TestArrivals(t *testing.T) {
	for _, uniform := range []bool{false, true} {
		a := OpenLoop{Rate: 2000, Duration: 5 * time.Second, Uniform: uniform, Seed: 1}.Arrivals()
		if n := len(a); n < 9700 || n > 10300 {
			t.Errorf("uniform %v: %d arrivals in 5 s at 2000/s", uniform, n)
		}
		for i := 1; i < len(a); i++ {
			if a[i] < a[i-1] || a[i] >= 5*time.Second {
				t.Fatalf("arrival %d at %v after %v", i, a[i], a[i-1])
			}
		}
	}
}

// TestProxyStreams sends streams through the bare proxy: with full duplex none may be cut
// short. The plain ReverseProxy's failures (golang/go#40747) are only logged: they depend on
// timing.
func TestProxyStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("load")
	}
	mock := httptest.NewServer(&MockUpstream{Chunks: 4})
	defer mock.Close()
	u, _ := url.Parse(mock.URL)
	for _, fullDuplex := range []bool{true, false} {
		px := httptest.NewServer(NewBareProxy(u, fullDuplex))
		client := &http.Client{Transport: NewTransport(64), Timeout: 10 * time.Second}
		req := &Request{URL: px.URL + "/v1/chat/completions", Body: []byte(streamBody), Stream: true, WantEvents: StreamEvents(4)}
		r := ClosedLoop{Conns: 16, Duration: time.Second}.Run(context.Background(), client, req)
		px.Close()
		t.Logf("full duplex %v: %d streams, %d cut: %v", fullDuplex, r.Completed, r.Errors, r.FirstErrors)
		if r.Completed == 0 || fullDuplex && r.Errors > 0 {
			t.Errorf("full duplex %v: %d streams, %d errors: %v", fullDuplex, r.Completed, r.Errors, r.FirstErrors)
		}
	}
}

func TestProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	before, err := CPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the process has used 50 ms more CPU: the count must move, in 10 ms steps,
	// and not run ahead of the wall clock (the machine may be busy, so no lower bound).
	start := time.Now()
	var after time.Duration
	for time.Since(start) < 5*time.Second {
		if after, err = CPUTime(os.Getpid()); err != nil {
			t.Fatal(err)
		}
		if after-before >= 50*time.Millisecond {
			break
		}
	}
	if d := after - before; d < 50*time.Millisecond || d > time.Since(start)+20*time.Millisecond {
		t.Errorf("%v of spinning measured as %v of CPU", time.Since(start), d)
	}
	rss, peak, err := Memory(os.Getpid())
	if err != nil || rss <= 0 || peak < rss {
		t.Errorf("rss %d, peak %d, %v", rss, peak, err)
	}
}

func TestSpecServes(t *testing.T) {
	mock := httptest.NewServer(&MockUpstream{Chunks: 3})
	defer mock.Close()
	file := t.TempDir() + "/spec.yaml"
	if err := os.WriteFile(file, []byte(SpecYAML(mock.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	// The harness's logs are read for what went wrong: the spec itself warns of nothing.
	if s, err := spec.Load(file, spec.Options{}); err != nil || len(s.Warnings) > 0 {
		t.Fatalf("the harness spec: %v, warnings %v", err, s.Warnings)
	}
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunGateway(ctx, GatewayOptions{Spec: file, Listen: addr, Trace: t.TempDir() + "/d.db", Log: io.Discard})
	}()
	client := &http.Client{Transport: NewTransport(4), Timeout: 10 * time.Second}
	base := "http://" + addr
	var lastErr error
	for range 100 {
		if lastErr = CheckHTTP(ctx, client, &Request{URL: base + "/v1/chat/completions", Body: []byte(requestBody)}); lastErr == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if lastErr != nil {
		t.Fatal(lastErr)
	}
	if err := CheckHTTP(ctx, client, &Request{URL: base + "/v1/chat/completions", Body: []byte(streamBody), Stream: true, WantEvents: StreamEvents(3)}); err != nil {
		t.Error(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}

func TestRunRefusesBadTargets(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		want string
	}{
		{Config{Targets: []string{"nginx"}}, `unknown target "nginx"`},
		{Config{Targets: []string{TargetBaseline}}, "target clearbar-baseline needs a baseline binary (--baseline PATH)"},
	} {
		tt.cfg.Log = io.Discard
		if _, err := Run(context.Background(), tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("targets %v: err %v, want %q", tt.cfg.Targets, err, tt.want)
		}
	}
	c := Config{Baseline: "/bin/old-clearbar"}
	c.defaults()
	if !slices.Contains(c.Targets, TargetBaseline) || !slices.Contains(c.Targets, TargetClearbar) {
		t.Errorf("default targets with a baseline: %v", c.Targets)
	}
}
