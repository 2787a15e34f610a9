package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar/review/reviewtest"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/trace"
)

// reviewCmd runs clearbar review. Until the command is registered in cli.go it calls
// runReview directly and maps its error to the exit status as Main.Run does.
func reviewCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return run(t, append([]string{"review"}, args...)...)
}

// traceFile writes a month of simulated decisions for the spec into a SQLite trace store.
func traceFile(t *testing.T, specFile string, change reviewtest.Traffic) string {
	t.Helper()
	s, err := spec.Load(specFile, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	change.Requests, change.Seed, change.Start, change.Span = 6_000, 11, now.Add(-30*24*time.Hour), 30*24*time.Hour
	ds := reviewtest.Generate(s, change)
	path := filepath.Join(t.TempDir(), "clearbar.db")
	store, err := trace.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for len(ds) > 0 {
		n := min(len(ds), 2000)
		if err := store.Write(context.Background(), ds[:n]); err != nil {
			t.Fatal(err)
		}
		ds = ds[n:]
	}
	return path
}

// TestReviewUnchangedTraffic: traffic as the spec assumes exits 0 with nothing to do.
func TestReviewUnchangedTraffic(t *testing.T) {
	db := traceFile(t, "../../examples/support-triage.yaml", reviewtest.Traffic{})
	code, out, errOut := reviewCmd(t, "../../examples/support-triage.yaml", "--trace", db, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		Requests     int  `json:"requests"`
		ActionNeeded bool `json:"action_needed"`
		Triggers     []any
		Tests        int `json:"tests"`
		Reestimate   struct {
			After string `json:"after"`
			Diff  string `json:"diff"`
		} `json:"reestimate"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if r.Requests != 6_000 || r.ActionNeeded || len(r.Triggers) != 0 || r.Tests < 35 || r.Reestimate.After != "spec" || r.Reestimate.Diff != "" {
		t.Errorf("%+v", r)
	}
	if !strings.Contains(errOut, "no action needed: no trigger fired; 6000 requests reviewed") {
		t.Errorf("stderr %q", errOut)
	}
	// A shorter window reads only its part of the month.
	code, out, _ = reviewCmd(t, "../../examples/support-triage.yaml", "--trace", db, "--since", "6d", "--format", "json")
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 || r.Requests < 1_100 || r.Requests > 1_300 {
		t.Errorf("6 days: exit %d, %d requests, %v", code, r.Requests, err)
	}
}

// TestReviewActionNeeded: a model whose pass rate dropped fires a trigger, exits 1, and the
// report (Markdown and HTML) shows it with the spec change.
func TestReviewActionNeeded(t *testing.T) {
	db := traceFile(t, "../../examples/support-triage.yaml",
		reviewtest.Traffic{PassRate: map[[2]string]float64{{"extract-order", "small"}: 0.75}})
	code, out, errOut := reviewCmd(t, "../../examples/support-triage.yaml", "--trace", db)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	for _, want := range []string{"# Review: support-triage", "**Action needed:", "- **pass_rate** · extract-order · small",
		"```diff", "-      pass_rate: {small: 0.93, mid: 0.975, strong: 0.99}"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if !strings.Contains(errOut, "action needed:") {
		t.Errorf("stderr %q", errOut)
	}
	html := filepath.Join(t.TempDir(), "review.html")
	code, _, errOut = reviewCmd(t, "../../examples/support-triage.yaml", "--trace", db, "--out", html, "--today", "2026-11-27")
	if code != 1 || !strings.Contains(errOut, "wrote "+html) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(html)
	if err != nil || !bytes.Contains(b, []byte("<h1>Review: support-triage</h1>")) {
		t.Errorf("HTML report: %v", err)
	}
}

// TestReviewUsage: mistakes and missing inputs exit 2, which cron tells apart from 1.
func TestReviewUsage(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{}, "usage: clearbar review SPEC.yaml"},
		{[]string{"../../examples/support-triage.yaml", "--since", "a while"}, `--since "a while"`},
		{[]string{"../../examples/support-triage.yaml", "--format", "pdf"}, `unknown --format "pdf"`},
		{[]string{"../../examples/support-triage.yaml", "--alpha", "0.7"}, "--alpha 0.7"},
		{[]string{"../../examples/support-triage.yaml", "--tolerance", "lots"}, `--tolerance "lots"`},
		{[]string{"../../examples/support-triage.yaml", "--trace", filepath.Join(dir, "none.db")}, "no trace store"},
		{[]string{filepath.Join(dir, "missing.yaml"), "--trace", filepath.Join(dir, "none.db")}, "missing.yaml"},
	} {
		code, _, errOut := reviewCmd(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); err == nil {
		t.Error("a missing trace store was created")
	}
}

func TestWindowStart(t *testing.T) {
	until := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"30d": until.AddDate(0, 0, -30), "6w": until.AddDate(0, 0, -42), "monthly": until.AddDate(0, -1, 0),
		"72h": until.Add(-72 * time.Hour),
	} {
		if got, err := windowStart(in, until); err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
}

// TestReviewReadsTheSpecsStore: without --trace, review reads the store the spec names
// (server.trace, relative to the spec's directory, as serve writes it), not clearbar.db in
// the working directory.
func TestReviewReadsTheSpecsStore(t *testing.T) {
	db := traceFile(t, "../../examples/support-triage.yaml", reviewtest.Traffic{})
	data, err := os.ReadFile("../../examples/support-triage.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "specs")
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(db, filepath.Join(dir, "data", "decisions.db")); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "schemas"), os.DirFS("../../examples/schemas")); err != nil {
		t.Fatal(err)
	}
	src := string(data)
	if strings.Contains(src, "\nserver:") {
		t.Fatal("support-triage.yaml has a server: section; edit it in place instead")
	}
	specFile := filepath.Join(dir, "triage.yaml")
	if err := os.WriteFile(specFile, []byte(src+"\nserver: {trace: data/decisions.db}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := reviewCmd(t, specFile, "--format", "json")
	if code != 0 || !strings.Contains(out, `"requests": 6000`) {
		t.Fatalf("review of the spec's own store: exit %d\n%s\n%s", code, errOut, out)
	}
	if err := os.WriteFile(specFile, []byte(src+"\nserver: {trace: none}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = reviewCmd(t, specFile)
	if code != 2 || !strings.Contains(errOut, "keeps no decisions (server.trace: none): name a trace store with --trace") {
		t.Errorf("a spec that keeps no store: exit %d, %s", code, errOut)
	}
}
