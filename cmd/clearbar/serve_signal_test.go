//go:build !windows

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clearbar/clearbar/trace"
)

// TestMainProcess is not a test: TestServeDrainsOnSIGTERM runs the test binary again with
// CLEARBAR_TEST_MAIN=1 to get a process whose main() is clearbar's, with the arguments that
// follow "--".
func TestMainProcess(t *testing.T) {
	if os.Getenv("CLEARBAR_TEST_MAIN") != "1" {
		t.Skip("runs only as TestServeDrainsOnSIGTERM's subprocess")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Args = append([]string{"clearbar"}, args...)
	main()
}

// TestServeDrainsOnSIGTERM runs "clearbar serve" as a process, sends it SIGTERM (what kill,
// docker stop and systemd send) while a slow stream is in flight, and checks that the stream
// still ends with [DONE] and that its decision is written before the process exits.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	firstSent := make(chan struct{})
	release := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"slow "},"finish_reason":null}]}`+"\n\n")
		w.(http.Flusher).Flush()
		close(firstSent)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		fmt.Fprint(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"answer"},"finish_reason":"stop"}]}`+"\n\n")
		fmt.Fprint(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`+"\n\n")
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	defer upstream.Close()
	dir := t.TempDir()
	specFile := writeOneModelSpec(t, dir, "term.yaml", "term", upstreamProvider(upstream.URL), "{p50: 10ms, p95: 20ms}", "")
	db := filepath.Join(dir, "d.db")

	p := startServeProcess(t, "serve", specFile, "--listen", "127.0.0.1:0", "--trace", db, "--drain-grace", "0")
	addr, cmd := p.addr, p.cmd
	logs := p.logs
	logDone := p.logDone

	resp, err := http.Post("http://"+addr+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"clearbar/c","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatalf("%v\nserve log:\n%s", err, logs.String())
	}
	defer resp.Body.Close()
	id := resp.Header.Get("X-Clearbar-Decision-Id")
	body := bufio.NewReader(resp.Body)
	first, err := body.ReadString('\n')
	if err != nil || !strings.Contains(first, "slow") {
		t.Fatalf("first event %q: %v", first, err)
	}
	<-firstSent
	// The stream is in flight: the client has its first chunk, the upstream holds the rest.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the process is draining (or, unfixed, gone)
	close(release)
	rest, rerr := io.ReadAll(body)
	werr := cmd.Wait()
	<-logDone
	if rerr != nil || !strings.Contains(string(rest), "answer") || !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Fatalf("the in-flight stream did not complete after SIGTERM (err %v):\n%s%s\nserve log:\n%s", rerr, first, rest, logs.String())
	}
	if werr != nil {
		t.Fatalf("serve exited with %v after SIGTERM:\n%s", werr, logs.String())
	}
	store, err := trace.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	d, err := store.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("decision %s not written before exit: %v", id, err)
	}
	if d.Status != 200 || !d.Stream {
		t.Errorf("decision status %d stream %v", d.Status, d.Stream)
	}
}

// serveProcess is "clearbar serve" running as a process of its own.
type serveProcess struct {
	addr    string
	cmd     *exec.Cmd
	logs    *strings.Builder // complete once logDone is closed
	logDone chan struct{}
}

// startServeProcess starts clearbar with args (a serve command listening on 127.0.0.1:0) and
// waits until it serves. The process is killed when the test ends, if it still runs.
func startServeProcess(t *testing.T, args ...string) *serveProcess {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"-test.run=^TestMainProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "CLEARBAR_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd, logs: &strings.Builder{}, logDone: make(chan struct{})}
	addrc := make(chan string, 1)
	go func() {
		defer close(p.logDone)
		sc := bufio.NewScanner(stderr)
		serving := regexp.MustCompile(`on http://(\S+) `)
		for sc.Scan() {
			p.logs.WriteString(sc.Text() + "\n")
			if m := serving.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addrc <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case p.addr = <-addrc:
	case <-p.logDone:
		cmd.Wait()
		t.Fatalf("serve did not start:\n%s", p.logs.String())
	case <-ctx.Done():
		t.Fatal("serve did not start")
	}
	return p
}

// TestServeShutdownDoesNotWaitLongForShadowCalls: shadow calls are optional, so shutdown
// gives those still running a few seconds, then abandons them with a warning and exits 0,
// however long they would take.
func TestServeShutdownDoesNotWaitLongForShadowCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	dir := t.TempDir()
	specFile := filepath.Join(dir, "slow-shadow.yaml")
	if err := os.WriteFile(specFile, []byte(`version: 1
name: slow-shadow
providers: {sim: {type: simulated, simulate: {seed: 1, error_rate: 0}}}
models:
  mini: {provider: sim, model: gpt-4.1-mini, latency: {p50: 10ms, p95: 20ms}}
  slow: {provider: sim, model: gpt-4.1, latency: {p50: 60s, p95: 90s}}
categories:
  - name: c
    share: 1
    tokens: {in: 20, out: 10}
    quality_bar: 0.5
    route: {model: mini}
    assume: {pass_rate: {mini: 0.9, slow: 0.9}}
    shadow: {models: [slow], sample: 1, daily_budget: 10}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startServeProcess(t, "serve", specFile, "--listen", "127.0.0.1:0", "--trace", "none",
		"--shadow-out", filepath.Join(dir, "shadow.jsonl"), "--drain-grace", "0", "--drain-timeout", "1s")
	for range 3 {
		resp, err := http.Post("http://"+p.addr+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"clearbar/c","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	werr := p.cmd.Wait()
	<-p.logDone
	took := time.Since(start)
	if werr != nil || took > shadowWait+10*time.Second || !strings.Contains(p.logs.String(), "shadow calls still running were abandoned") {
		t.Fatalf("exit %v after %v (want 0 within about %v, and a warning):\n%s", werr, took, shadowWait, p.logs.String())
	}
}

// TestServeSurvivesSIGHUP: SIGHUP (a service manager's reload, a closing terminal) leaves the
// gateway serving, and the log says that the spec is not reloaded and how to load one.
func TestServeSurvivesSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	}))
	defer upstream.Close()
	dir := t.TempDir()
	specFile := writeOneModelSpec(t, dir, "hup.yaml", "hup", upstreamProvider(upstream.URL), "{p50: 10ms, p95: 20ms}", "")
	p := startServeProcess(t, "serve", specFile, "--listen", "127.0.0.1:0", "--trace", "none", "--drain-grace", "0")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	resp, err := http.Post("http://"+p.addr+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"clearbar/c","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatalf("after SIGHUP the gateway no longer serves: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after SIGHUP: status %d", resp.StatusCode)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	werr := p.cmd.Wait()
	<-p.logDone
	if werr != nil {
		t.Errorf("serve exited with %v", werr)
	}
	if !strings.Contains(p.logs.String(), "SIGHUP received: clearbar serve does not reload its spec") {
		t.Errorf("the log does not say what SIGHUP did:\n%s", p.logs.String())
	}
}

// TestServeSecondSignalCutsTheDrain: a second SIGTERM during the drain cuts the requests in
// flight at once instead of waiting out the drain window: the stream ends with an error event,
// its decision is written, and the process exits.
func TestServeSecondSignalCutsTheDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	firstSent := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"slow "},"finish_reason":null}]}`+"\n\n")
		w.(http.Flusher).Flush()
		close(firstSent)
		<-r.Context().Done() // never finishes on its own
	}))
	defer upstream.Close()
	dir := t.TempDir()
	specFile := writeOneModelSpec(t, dir, "hurry.yaml", "hurry", upstreamProvider(upstream.URL), "{p50: 10ms, p95: 20ms}", "")
	db := filepath.Join(dir, "d.db")
	p := startServeProcess(t, "serve", specFile, "--listen", "127.0.0.1:0", "--trace", db, "--drain-grace", "0", "--drain-timeout", "60s")
	resp, err := http.Post("http://"+p.addr+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"clearbar/c","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	id := resp.Header.Get("X-Clearbar-Decision-Id")
	<-firstSent
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // draining, with 60 s to go
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(resp.Body)
	p.cmd.Wait()
	<-p.logDone
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("the second signal did not end the drain: the process ran %s more", took)
	}
	if !strings.Contains(string(rest), `"error"`) || strings.Contains(string(rest), "[DONE]") {
		t.Errorf("the cut stream does not end with an error event:\n%s", rest)
	}
	if !strings.Contains(p.logs.String(), "second signal: cutting the requests in flight now") {
		t.Errorf("the log does not say what the second signal did:\n%s", p.logs.String())
	}
	store, err := trace.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Get(context.Background(), id); err != nil {
		t.Errorf("the cut request's decision %s was not written: %v", id, err)
	}
}
