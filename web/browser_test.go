package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/spec"
)

// expected404 is the decision id the test looks up to see the explorer say it is unknown;
// the browser logs its 404, which is not a fault.
const expected404 = "dec_nothing"

// chromium is the browser the dashboard tests drive: Debian's package, which CI installs.
const chromium = "/usr/bin/chromium"

// browser starts a headless Chromium with a fresh profile and returns a context for
// chromedp actions, and a function that returns the page's script errors so far (uncaught
// exceptions and console errors, which include Content-Security-Policy violations).
func browser(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("the dashboard's browser tests need Chromium at %s: install it (apt-get install -y chromium; CI does), or run go test -short to skip them", chromium)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	var mu sync.Mutex
	var problems []string
	listen := func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = "exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level != cdplog.EntryLevelError || strings.Contains(ev.Entry.URL, expected404) {
				return
			}
			msg = "log error: " + ev.Entry.Text + " " + ev.Entry.URL
		case *runtime.EventConsoleAPICalled:
			if ev.Type != runtime.ConsoleAPICalledTypeError {
				return
			}
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			msg = "console error: " + strings.Join(parts, " ")
		default:
			return
		}
		mu.Lock()
		problems = append(problems, msg)
		mu.Unlock()
	}
	if err := chromedp.Listen(bctx, listen); err != nil { // starts the browser
		cancelBrowser()
		cancelAlloc()
		t.Fatalf("starting %s: %v", chromium, err)
	}
	// A deadline for the whole session, on a context derived from the one that started the
	// browser (a deadline on that one would be the browser's own).
	ctx, cancelTimeout := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelBrowser()
		cancelAlloc()
	})
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), problems...)
	}
}

// artefacts returns where screenshots go: $CLEARBAR_ARTIFACTS, else the test's temporary
// directory.
func artefacts(t *testing.T) string {
	dir := os.Getenv("CLEARBAR_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot saves the whole page as a PNG in dir.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}

// poll waits until the JavaScript expression js is truthy.
func poll(ctx context.Context, js string) error {
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(15*time.Second)))
	return err
}

// number returns the data-value of sel.
func number(t *testing.T, ctx context.Context, sel string) float64 {
	t.Helper()
	attr, err := chromedp.Run(ctx, chromedp.AttributeValue(sel, "data-value"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := strconv.ParseFloat(attr.Value, 64)
	if err != nil {
		t.Fatalf("%s: data-value %q", sel, attr.Value)
	}
	return f
}

// waitNumber waits until the data-value of sel is above floor, and returns it.
func waitNumber(t *testing.T, ctx context.Context, sel string, floor float64) float64 {
	t.Helper()
	if err := poll(ctx, fmt.Sprintf(`Number(document.querySelector(%q).dataset.value) > %v`, sel, floor)); err != nil {
		t.Fatalf("%s stayed at %v, not above %v: %v", sel, number(t, ctx, sel), floor, err)
	}
	return number(t, ctx, sel)
}

// text returns the text of sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// TestDashboardInBrowser drives the dashboard in headless Chromium against a real gateway:
// the page loads, its live figures move as traffic flows, its charts draw, the decision
// explorer finds a request by the id from its response header and shows the record, and
// the routing document renders. Screenshots are kept as test artefacts.
func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	st := newStack(t, nil)
	var ids []string
	for i := range 6 {
		ids = append(ids, st.chat(t, i))
	}
	ctx, problems := browser(t)
	shots := artefacts(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(st.srv.URL+"/ui/"), chromedp.WaitVisible("#stat-requests")); err != nil {
		t.Fatal(err)
	}
	// Live figures: they show the first requests, then move as more flow.
	requests := waitNumber(t, ctx, "#stat-requests", 5)
	cost := waitNumber(t, ctx, "#stat-cost", 0)
	for i := range 8 {
		ids = append(ids, st.chat(t, 6+i))
	}
	if now := waitNumber(t, ctx, "#stat-requests", requests+7); now != 14 {
		t.Errorf("the requests figure shows %v after 14 requests", now)
	}
	waitNumber(t, ctx, "#stat-cost", cost)
	// Charts draw a line per category, and the table has a row per category.
	if err := poll(ctx, `document.querySelectorAll('#charts svg path').length >= 3 && document.querySelectorAll('#figures tbody tr').length === 3`); err != nil {
		t.Errorf("charts and figures did not draw: %v", err)
	}
	if s := text(t, ctx, "#status"); !strings.Contains(s, "live") {
		t.Errorf("status %q", s)
	}
	screenshot(t, ctx, shots, "dashboard-overview.png")

	// The decision explorer finds a request by its X-Clearbar-Decision-Id.
	id := ids[0] // an intent request: a validated cascade
	if err := chromedp.Do(ctx,
		chromedp.Click(`button[data-tab="explorer"]`),
		chromedp.WaitVisible("#decision-id"),
		chromedp.SendKeys("#decision-id", id),
		chromedp.Click("#find"),
		chromedp.WaitVisible("#attempts"),
	); err != nil {
		t.Fatal(err)
	}
	if h := text(t, ctx, "#decision h3"); h != id {
		t.Errorf("the explorer shows %q, want %s", h, id)
	}
	record := text(t, ctx, "#decision")
	for _, want := range []string{"intent", "by header X-Clearbar-Task: intent", "cascade", "nano", "JSON Schema", "accepted"} {
		if !strings.Contains(record, want) {
			t.Errorf("the decision record does not show %q:\n%s", want, record)
		}
	}
	// The list of recent decisions holds the newest one.
	if err := poll(ctx, fmt.Sprintf(`!!document.querySelector('#decisions tr[data-id=%q]')`, ids[len(ids)-1])); err != nil {
		t.Errorf("the newest decision is not listed: %v", err)
	}
	screenshot(t, ctx, shots, "dashboard-decision.png")

	// An unknown id says so.
	if err := chromedp.Do(ctx,
		chromedp.SetValue("#decision-id", expected404),
		chromedp.Click("#find"),
		chromedp.WaitVisible("#decision .not-found"),
	); err != nil {
		t.Fatal(err)
	}
	if s := text(t, ctx, "#decision"); !strings.Contains(s, "no decision "+expected404) {
		t.Errorf("unknown id: %q", s)
	}

	// A score route's decision shows its scores and the router's embeddings call.
	scored := &clearbar.Decision{ID: "dec_scored", Time: time.Now(), Category: "general", Model: "nano", Status: 200,
		Cost: 5200, EscalationCost: 1200, EscalationLatency: 1500 * time.Millisecond,
		Score: &clearbar.Score{Router: "learned router.json", Rule: "willingness to pay λ=40", Start: "nano",
			PPass:     []clearbar.ModelScore{{Model: "nano", P: 0.912}, {Model: "strong", P: 0.987}},
			Embedding: &clearbar.ScoreEmbedding{Model: "embedder", Error: "timed out after 200ms", Latency: 200 * time.Millisecond}}}
	if !st.recorder.Record(scored) {
		t.Fatal("the recorder refused the scored decision")
	}
	if err := chromedp.Do(ctx,
		chromedp.SetValue("#decision-id", scored.ID),
		chromedp.Click("#find"),
		chromedp.WaitVisible("#decision h4"),
	); err != nil {
		t.Fatal(err)
	}
	record = text(t, ctx, "#decision")
	for _, want := range []string{"learned router.json", "nano 0.912, strong 0.987", "embedder: not used in 200", "(timed out after 200ms)",
		"and 1.50 s on discarded answers"} {
		if !strings.Contains(record, want) {
			t.Errorf("the scored decision does not show %q:\n%s", want, record)
		}
	}

	// The routing document renders in its frame.
	if err := chromedp.Do(ctx, chromedp.Click(`button[data-tab="spec"]`)); err != nil {
		t.Fatal(err)
	}
	if err := poll(ctx, `(document.querySelector('#spec-frame').contentDocument?.body?.innerText || '').includes('Routing policy: quickstart')`); err != nil {
		t.Errorf("routing document: %v", err)
	}
	screenshot(t, ctx, shots, "dashboard-spec.png")

	if ps := problems(); len(ps) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(ps, "\n"))
	}
}

// TestDashboardAsksForTheAdminKey checks, with keys in the spec, that the page asks for an
// admin key, and shows the figures once it has one.
func TestDashboardAsksForTheAdminKey(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	st := newStack(t, func(s *spec.Spec) {
		s.Keys = &spec.Keys{Admin: []string{gateway.HashKey("admin-secret")},
			Clients: []*spec.ClientKey{{Name: "app", Hash: gateway.HashKey("client-secret")}}}
	})
	st.chat(t, 0, "Authorization", "Bearer client-secret")
	ctx, problems := browser(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(st.srv.URL+"/ui/"),
		chromedp.WaitVisible("#auth-key"),
		chromedp.SendKeys("#auth-key", "admin-secret"),
		chromedp.Click("#auth-form button"),
		chromedp.WaitNotVisible("#auth"),
	); err != nil {
		t.Fatal(err)
	}
	if n := waitNumber(t, ctx, "#stat-requests", 0); n != 1 {
		t.Errorf("requests figure %v, want 1", n)
	}
	// The page's own 401s before the key was given are expected; nothing else is.
	for _, p := range problems() {
		if !strings.Contains(p, "401") {
			t.Errorf("the page reported: %s", p)
		}
	}
}
