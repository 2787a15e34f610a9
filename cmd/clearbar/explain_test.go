package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/gateway"
)

// TestExplainDryRunFailsAsTheGatewayWould: a dry run of a request the gateway refuses reports
// the gateway's error and exits non-zero, instead of an empty plan; a request that gets as far
// as a category still shows its decision.
func TestExplainDryRunFailsAsTheGatewayWould(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const quickstart = "../../examples/quickstart.yaml"
	code, out, errOut := run(t, "explain", "--dry-run", "--spec", quickstart,
		write("nosuch.json", `{"model":"clearbar/nosuch","messages":[{"role":"user","content":"hi"}]}`))
	if code != 1 || !strings.Contains(errOut, "HTTP 404 model_not_found (param model)") || !strings.Contains(errOut, "clearbar/refund-dispute") {
		t.Errorf("unknown alias: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if strings.Contains(out, "plan") {
		t.Errorf("unknown alias: a decision was printed:\n%s", out)
	}

	code, out, errOut = run(t, "explain", "--dry-run", "--spec", quickstart,
		write("huge.json", `{"model":"clearbar/intent","max_tokens":100000000,"messages":[{"role":"user","content":"hi"}]}`))
	if code != 1 || !strings.Contains(errOut, "(param max_tokens)") || !strings.Contains(out, "category    intent") ||
		!strings.Contains(out, "outcome     client_error, HTTP 400") {
		t.Errorf("max_tokens beyond every context window: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	code, out, errOut = run(t, "explain", "--dry-run", "--spec", quickstart,
		write("ok.json", `{"model":"clearbar/intent","messages":[{"role":"user","content":"hi"}]}`))
	if code != 0 || !strings.Contains(out, "plan        ") {
		t.Errorf("a routable request: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// As JSON: the time of the dry run, and no attempts as an empty list, not null.
	code, out, _ = run(t, "explain", "--dry-run", "--spec", quickstart, "--format", "json", filepath.Join(dir, "ok.json"))
	if code != 0 || !strings.Contains(out, `"attempts": []`) || strings.Contains(out, `"time": "0001-01-01`) {
		t.Errorf("dry run as JSON: exit %d\n%.600s", code, out)
	}
}

// TestExplainFindsTheGateway: explain asks the gateway CLEARBAR_URL names (serve's start-up
// log says how), and with client keys configured it needs the admin key in CLEARBAR_ADMIN_KEY,
// which its error names.
func TestExplainFindsTheGateway(t *testing.T) {
	const clientKey, adminKey = "explain-client-key", "explain-admin-key"
	dir := t.TempDir()
	specFile := writeOneModelSpec(t, dir, "keys.yaml", "keys", simProvider, "{p50: 10ms, p95: 20ms}", `keys:
  admin: ["`+gateway.HashKey(adminKey)+`"]
  clients: [{name: app, hash: "`+gateway.HashKey(clientKey)+`"}]
`)
	addr, logs, _ := startServe(t, specFile, "--trace", filepath.Join(dir, "d.db"), "--time-scale", "0.01")
	if !strings.Contains(logs.String(), "CLEARBAR_ADMIN_KEY=YOUR_ADMIN_KEY CLEARBAR_URL=http://"+addr+" clearbar explain") ||
		!strings.Contains(logs.String(), "-H 'Authorization: Bearer YOUR_CLIENT_KEY'") {
		t.Errorf("the start-up log does not say how to call the keyed gateway and explain a decision:\n%s", logs.String())
	}
	resp, body := chat(t, addr, `{"model":"clearbar/c","messages":[{"role":"user","content":"hi"}]}`, "Authorization", "Bearer "+clientKey)
	if resp.StatusCode != 200 {
		t.Fatalf("chat: %d %s", resp.StatusCode, body)
	}
	id := resp.Header.Get("X-Clearbar-Decision-Id")
	t.Setenv("CLEARBAR_URL", "http://"+addr)

	t.Setenv("CLEARBAR_ADMIN_KEY", "")
	code, out, errOut := run(t, "explain", id)
	if code != 1 || !strings.Contains(errOut, "HTTP 401") || !strings.Contains(errOut, "set CLEARBAR_ADMIN_KEY") {
		t.Errorf("without the admin key: exit %d\n%s%s", code, out, errOut)
	}
	t.Setenv("CLEARBAR_ADMIN_KEY", "explain-wrong-key")
	code, out, errOut = run(t, "explain", id)
	if code != 1 || !strings.Contains(errOut, "HTTP 401") || !strings.Contains(errOut, "CLEARBAR_ADMIN_KEY is not one of the gateway's admin keys") {
		t.Errorf("with a key that is none of the gateway's: exit %d\n%s%s", code, out, errOut)
	}
	t.Setenv("CLEARBAR_ADMIN_KEY", clientKey)
	code, out, errOut = run(t, "explain", id)
	if code != 1 || !strings.Contains(errOut, "HTTP 403") || !strings.Contains(errOut, "CLEARBAR_ADMIN_KEY is a client key, not one of the gateway's admin keys") {
		t.Errorf("with a client key: exit %d\n%s%s", code, out, errOut)
	}
	t.Setenv("CLEARBAR_ADMIN_KEY", adminKey)
	code, out, errOut = run(t, "explain", id)
	if code != 0 || !strings.Contains(out, "Decision "+id) {
		t.Errorf("with the admin key, from CLEARBAR_URL: exit %d\n%s%s", code, out, errOut)
	}
}
