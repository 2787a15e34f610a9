package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clearbar/clearbar/gateway"
)

// TestServeCutsSlowBodiesAndIdleConnections: a client trickling a request body loses its
// connection once --body-timeout has passed since the request arrived, and a keep-alive
// connection left idle is closed after --idle-timeout; a streamed answer that takes longer
// than the body timeout is not cut by it.
func TestServeCutsSlowBodiesAndIdleConnections(t *testing.T) {
	const bodyTimeout, idleTimeout = 300 * time.Millisecond, 300 * time.Millisecond
	dir := t.TempDir()
	specFile := writeOneModelSpec(t, dir, "slow.yaml", "slow", simProvider, "{p50: 900ms, p95: 1s}", "")
	addr, _, _ := startServe(t, specFile, "--trace", "none", "--body-timeout", bodyTimeout.String(), "--idle-timeout", idleTimeout.String())

	// A body trickled a byte every 50ms: the gateway stops reading it at the deadline, with a
	// 408. The server closes the connection with the body's unread bytes in it, which makes
	// TCP reset it: the client may see the reset after the 408, or before it, instead of it.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	fmt.Fprintf(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
	type end struct {
		line string
		err  error
	}
	ended := make(chan end, 1)
	go func() {
		b, err := io.ReadAll(c) // the answer, if any, then the close
		ended <- end{firstLine(string(b)), err}
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var how *end
trickle:
	for time.Since(start) < 5*time.Second {
		select {
		case e := <-ended:
			how = &e
			break trickle
		case <-tick.C:
			c.Write([]byte(" "))
		}
	}
	took := time.Since(start)
	switch {
	case how == nil:
		t.Errorf("a trickled body held its connection for %v (body timeout %v)", took.Round(time.Millisecond), bodyTimeout)
	case took > bodyTimeout+2*time.Second:
		t.Errorf("a trickled body held its connection for %v (body timeout %v); the client saw %q (%v)", took.Round(time.Millisecond), bodyTimeout, how.line, how.err)
	case strings.Contains(how.line, " 408 "):
		t.Logf("trickled body: a 408 after %v (then %v)", took.Round(time.Millisecond), how.err)
	case how.line == "" && errors.Is(how.err, syscall.ECONNRESET):
		t.Logf("trickled body: the connection reset before the 408 was read, after %v", took.Round(time.Millisecond))
	default:
		t.Errorf("a trickled body: the client saw %q (%v) after %v, want a 408 or a reset connection", how.line, how.err, took.Round(time.Millisecond))
	}

	// An idle keep-alive connection is closed.
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	fmt.Fprintf(c2, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	r := bufio.NewReader(c2)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	idle := time.Now()
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = r.ReadByte()
	if ne, ok := err.(net.Error); (ok && ne.Timeout()) || time.Since(idle) > idleTimeout+2*time.Second {
		t.Errorf("an idle connection stayed open %v (idle timeout %v): %v", time.Since(idle).Round(time.Millisecond), idleTimeout, err)
	}

	// A stream that answers after the body deadline is whole: the deadline ended with the body.
	resp2, body := chat(t, addr, `{"model":"clearbar/c","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if resp2.StatusCode != 200 || !strings.Contains(string(body), "data: [DONE]") || strings.Contains(string(body), `"error"`) {
		t.Errorf("a stream longer than the body timeout: %d\n%s", resp2.StatusCode, body)
	}
	// So is a plain answer.
	resp3, body := chat(t, addr, `{"model":"clearbar/c","messages":[{"role":"user","content":"hi"}]}`)
	if resp3.StatusCode != 200 {
		t.Errorf("an answer longer than the body timeout: %d\n%s", resp3.StatusCode, body)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

// TestServeWithAdminKeysOnly: a spec whose keys: section has only admin keys still needs a
// key for every request (the admin key serves as a client's), /metrics included, and the
// start-up hint says so.
func TestServeWithAdminKeysOnly(t *testing.T) {
	const adminKey = "serve-admin-only-key"
	dir := t.TempDir()
	specFile := writeOneModelSpec(t, dir, "admin.yaml", "admin", simProvider, "{p50: 10ms, p95: 20ms}", `keys:
  admin: ["`+gateway.HashKey(adminKey)+`"]
`)
	addr, logs, _ := startServe(t, specFile, "--trace", filepath.Join(dir, "d.db"))
	if l := logs.String(); !strings.Contains(l, "-H 'Authorization: Bearer YOUR_ADMIN_KEY'") || strings.Contains(l, "YOUR_CLIENT_KEY") ||
		!strings.Contains(l, "CLEARBAR_ADMIN_KEY=YOUR_ADMIN_KEY CLEARBAR_URL=") {
		t.Errorf("the start-up hint does not say which key the gateway takes:\n%s", l)
	}
	const req = `{"model":"clearbar/c","messages":[{"role":"user","content":"hi"}]}`
	if resp, body := chat(t, addr, req); resp.StatusCode != 401 {
		t.Errorf("no key: %d %s", resp.StatusCode, body)
	}
	if resp, body := chat(t, addr, req, "Authorization", "Bearer "+adminKey); resp.StatusCode != 200 {
		t.Errorf("the admin key: %d %s", resp.StatusCode, body)
	}
	for key, want := range map[string]int{"": 401, "wrong": 401, adminKey: 200} {
		for _, path := range []string{"/v1/models", "/metrics"} {
			hreq, _ := http.NewRequest("GET", "http://"+addr+path, nil)
			if key != "" {
				hreq.Header.Set("Authorization", "Bearer "+key)
			}
			resp, err := http.DefaultClient.Do(hreq)
			if err != nil {
				t.Fatal(err)
			}
			io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want { // a key the gateway does not know is a 401 everywhere
				t.Errorf("GET %s with key %q: %d, want %d", path, key, resp.StatusCode, want)
			}
		}
	}
}
