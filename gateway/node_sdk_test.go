//go:build unix

package gateway_test

// The Node SDK conformance suite: the official `openai` and `@anthropic-ai/sdk` (1.x and the
// last 0.x) npm packages, pinned in sdktest/node/package-lock.json, drive a real gateway on
// loopback in front of the conformance world's fake upstreams (sdkworld_test.go). The suite is
// JavaScript (sdktest/node/*.test.js, run by `node --test`); this test starts the world, runs
// node against it and fails when node does. It needs Node.js 20 or later and the packages
// installed, by `npm ci --prefix sdktest/node` from the repository root; without them it
// fails (it is skipped only with -short), so that a missing install step cannot pass for a
// green run.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// nodeSuiteTimeout bounds the whole node run; the suite takes a few seconds.
const nodeSuiteTimeout = 3 * time.Minute

// nodeInstall is what to run when the suite cannot start.
const nodeInstall = "run `npm ci --prefix sdktest/node` from the repository root (Node.js 20 or later)"

func TestNodeSDKs(t *testing.T) {
	if testing.Short() {
		t.Skip("the Node SDK suite runs node; skipped with -short")
	}
	dir, err := filepath.Abs(filepath.Join("..", "sdktest", "node"))
	if err != nil {
		t.Fatal(err)
	}
	node := checkNode(t, dir)

	w := newWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), nodeSuiteTimeout)
	defer cancel()
	// With no file arguments, node --test runs the *.test.js files under its working
	// directory, leaving node_modules out, with every Node version from 20 on.
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec")
	cmd.Dir = dir
	cmd.Env = nodeEnv(os.Environ(), w.srv.URL)
	// node --test runs each file in a child process: a timeout ends the whole group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	out := &testLogWriter{t: t}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	err = cmd.Run()
	out.flush()
	if ctx.Err() != nil {
		t.Fatalf("node --test did not finish within %v (its output is above)", nodeSuiteTimeout)
	}
	if err != nil {
		t.Fatalf("node --test failed: %v (its output is above)", err)
	}
	// A run that found no test files also exits 0: the summary must show tests that passed.
	pass, fail := out.summary("pass"), out.summary("fail")
	if pass <= 0 || fail != 0 {
		t.Fatalf("node --test summary: %d passed, %d failed; want some passed and none failed", pass, fail)
	}
	t.Logf("node --test: %d passed in %v", pass, time.Since(start).Round(time.Millisecond))
}

// checkNode returns the path of node, failing the test with what to install when node, a
// recent enough one, or the suite's packages are missing.
func checkNode(t *testing.T, dir string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed (%v): the Node SDK suite needs it; install Node.js and %s", err, nodeInstall)
	}
	v, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", node, err)
	}
	major, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(strings.TrimSpace(string(v)), "v"), ".", 2)[0])
	if major < 20 {
		t.Fatalf("node %s is too old for the Node SDK suite (its test runner needs 20 or later): %s", strings.TrimSpace(string(v)), nodeInstall)
	}
	for _, pkg := range []string{"openai", "@anthropic-ai/sdk", "anthropic-sdk-0"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("the Node SDK suite's package %s is not installed in %s: %s", pkg, filepath.Join(dir, "node_modules"), nodeInstall)
		}
	}
	return node
}

// nodeEnv returns the environment for node: the test's own, without anything that would point
// an SDK elsewhere or give it other credentials (OPENAI_*, ANTHROPIC_*, proxies), with the
// gateway's base URL and client key.
func nodeEnv(environ []string, baseURL string) []string {
	var env []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		upper := strings.ToUpper(name)
		if strings.HasPrefix(upper, "OPENAI_") || strings.HasPrefix(upper, "ANTHROPIC_") || strings.HasPrefix(upper, "CLEARBAR_") ||
			strings.HasSuffix(upper, "_PROXY") || upper == "NODE_OPTIONS" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "CLEARBAR_BASE_URL="+baseURL, "CLEARBAR_API_KEY="+worldClientKey, "NO_PROXY=127.0.0.1,localhost")
}

// testLogWriter passes a process's output to t.Log a line at a time, and keeps it for the
// summary. It is safe for concurrent use.
type testLogWriter struct {
	t       *testing.T
	mu      sync.Mutex
	partial []byte
	all     bytes.Buffer
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.t.Log(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

// flush logs a last line that had no newline.
func (w *testLogWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.t.Log(string(w.partial))
		w.partial = nil
	}
}

// summary returns a count from the test runner's closing summary ("ℹ pass 12" with the spec
// reporter, "# pass 12" with TAP), or -1 when there is none.
func (w *testLogWriter) summary(name string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := regexp.MustCompile(`(?m)^\S*\s*`+name+` (\d+)\s*$`).FindAllSubmatch(w.all.Bytes(), -1)
	if len(m) == 0 {
		return -1
	}
	n, _ := strconv.Atoi(string(m[len(m)-1][1]))
	return n
}
