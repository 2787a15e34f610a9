//go:build !windows

package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeShutdownDoesNotWaitForATricklingBody: a client still sending its request's body
// when the gateway shuts down gets drainBodyWait more, not the rest of the body timeout: the
// process exits in seconds, and the client is answered (a 408), not left hanging.
func TestServeShutdownDoesNotWaitForATricklingBody(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	dir := t.TempDir()
	specFile := filepath.Join(dir, "body.yaml")
	if err := os.WriteFile(specFile, []byte(`version: 1
name: body
providers: {sim: {type: simulated, simulate: {seed: 1, error_rate: 0}}}
models:
  mini: {provider: sim, model: gpt-4.1-mini, latency: {p50: 10ms, p95: 20ms}}
categories:
  - name: c
    share: 1
    tokens: {in: 20, out: 10}
    quality_bar: 0.5
    route: {model: mini}
    assume: {pass_rate: {mini: 0.9}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startServeProcess(t, "serve", specFile, "--listen", "127.0.0.1:0", "--trace", "none",
		"--drain-grace", "0", "--body-timeout", "10m")
	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"model\":")
	time.Sleep(300 * time.Millisecond) // the request is being read
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	answered := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(conn).ReadString('\n')
		io.Copy(io.Discard, conn)
		answered <- line
	}()
	werr := p.cmd.Wait()
	<-p.logDone
	took := time.Since(start)
	if werr != nil || took > drainBodyWait+20*time.Second {
		t.Fatalf("exit %v after %v; want 0 within about %v, not the 10m body timeout:\n%s", werr, took, drainBodyWait, p.logs.String())
	}
	select {
	case line := <-answered:
		if !strings.Contains(line, " 408 ") {
			t.Errorf("the trickling client got %q, want a 408", line)
		}
	case <-time.After(5 * time.Second):
		t.Error("the trickling client got no answer")
	}
}
