package web

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/health"
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
			WillingnessToPay: 0.025,
			PPass:            []clearbar.ModelScore{{Model: "nano", P: 0.912, Cost: 0.0001, Utility: 0.908}, {Model: "strong", P: 0.987, Cost: 0.002, Utility: 0.907}},
			Embedding:        &clearbar.ScoreEmbedding{Model: "embedder", Error: "timed out after 200ms", Latency: 200 * time.Millisecond}},
		Attempts: []clearbar.Attempt{{N: 1, Kind: clearbar.AttemptPrimary, Step: 1, Model: "nano", Provider: "sim", Class: clearbar.Quality,
			Outcome: "escalated after failed validation", Verdicts: []clearbar.Verdict{
				{Validator: "schema", Pass: true, Reason: "valid"},
				{Validator: "agree(nano)", Reason: "no independent checker", Unverified: true},
				{Validator: "max_length", Reason: "over 2000"},
				{Validator: "json_schema", Pass: true, Reason: "nothing to check", NotApplicable: true},
			}}}}
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
	for _, want := range []string{"learned router.json", "nano 0.912 (cost $0.0001000, utility 0.9080), strong 0.987 (cost $0.002000, utility 0.9070)",
		"$0.025 per unit of P(pass)", "embedder: not used in 200", "(timed out after 200ms)",
		"and 1.50 s on discarded answers"} {
		if !strings.Contains(record, want) {
			t.Errorf("the scored decision does not show %q:\n%s", want, record)
		}
	}
	// Its verdicts: passed, failed for want of a check (unverified), and failed.
	classes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#decision .verdicts li')].map((li) => li.className + ' ' + li.textContent.split(' ')[0])`))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"pass schema", "unverified agree(nano)", "fail max_length", "not-applicable json_schema"}; strings.Join(classes, ", ") != strings.Join(want, ", ") {
		t.Errorf("verdicts shown as %q, want %q", classes, want)
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

// TestRoutingDocumentLinksStayInTheDocument clicks a category in the routing document's
// summary table: the frame scrolls to the category's section and keeps showing the
// document (followed as a link, href="#cat-…" of a srcdoc document would load the
// dashboard into the frame, where its script is blocked).
func TestRoutingDocumentLinksStayInTheDocument(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	st := newStack(t, nil)
	ctx, problems := browser(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(st.srv.URL+"/ui/"),
		chromedp.WaitVisible("#stat-requests"),
		chromedp.Click(`button[data-tab="spec"]`),
	); err != nil {
		t.Fatal(err)
	}
	const frame = `document.querySelector('#spec-frame')`
	if err := poll(ctx, frame+`.contentDocument?.readyState === 'complete' && !!`+frame+`.contentDocument.querySelector('a[href="#cat-refund-dispute"]')`); err != nil {
		t.Fatalf("the routing document has no link to refund-dispute: %v", err)
	}
	// Click the link where it is on the screen, as a user does.
	at, err := chromedp.Run(ctx, chromedp.Evaluate[struct{ X, Y float64 }](`(() => {
		const f = `+frame+`, r = f.getBoundingClientRect();
		const a = f.contentDocument.querySelector('a[href="#cat-refund-dispute"]').getClientRects()[0]; // its first line
		return {X: r.left + f.clientLeft + a.left + a.width / 2, Y: r.top + f.clientTop + a.top + a.height / 2};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(at.X, at.Y)); err != nil {
		t.Fatal(err)
	}
	// The section comes to the top of the frame (or the frame scrolls as far as it goes).
	scrolled := `(() => {
		const f = ` + frame + `, d = f.contentDocument, w = f.contentWindow;
		const sec = d?.getElementById('cat-refund-dispute');
		if (!sec || w.scrollY <= 0) return false;
		const top = sec.getBoundingClientRect().top;
		return Math.abs(top) < 2 || (top > 0 && w.scrollY + w.innerHeight >= d.documentElement.scrollHeight - 1);
	})()`
	if err := poll(ctx, scrolled); err != nil {
		where, _ := chromedp.Run(ctx, chromedp.Evaluate[string](frame+`.contentWindow.location.href + ' ' + (`+frame+`.contentDocument?.title || '')`))
		t.Fatalf("the frame did not scroll to the category (it shows %s): %v", where, err)
	}
	still, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(`+frame+`.contentDocument.body.innerText || '').includes('Routing policy: quickstart') && `+
		frame+`.contentWindow.location.href === 'about:srcdoc' && window.scrollY === 0`))
	if err != nil {
		t.Fatal(err)
	}
	if !still {
		t.Error("after the click the frame no longer shows the routing document, or the dashboard scrolled")
	}
	if ps := problems(); len(ps) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(ps, "\n"))
	}
}

// changeRange sets the range selector to each of values, as a user flicking through them
// does, a few milliseconds apart.
func changeRange(values ...string) chromedp.Action[chromedp.Void] {
	js := fmt.Sprintf(`(() => { const g = document.querySelector('#range'); %q.split(',').forEach((v, i) =>
		setTimeout(() => { g.value = v; g.dispatchEvent(new Event('change')); }, i * 3)); })()`, strings.Join(values, ","))
	return chromedp.Evaluate[chromedp.Void](js)
}

// TestPollingStaysOneLoop changes the chart range many times while requests are in flight:
// the page keeps polling once per period, and a late answer for an older range does not
// replace the charts of the range chosen after it.
func TestPollingStaysOneLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	st := newStack(t, nil)
	for i := range 4 {
		st.chat(t, i)
	}
	ctx, problems := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(st.srv.URL+"/ui/"), chromedp.WaitVisible("#stat-requests")); err != nil {
		t.Fatal(err)
	}
	waitNumber(t, ctx, "#stat-requests", 3)
	if err := poll(ctx, `document.querySelector('#charts').dataset.range === '1h'`); err != nil {
		t.Fatalf("the charts did not draw: %v", err)
	}

	// Every answer takes a while, so that each change finds the one before still waiting.
	st.setSlow(func(r *http.Request) time.Duration {
		if strings.HasPrefix(r.URL.Path, "/ui/api/") {
			return 40 * time.Millisecond
		}
		return 0
	})
	for range 3 {
		if err := chromedp.Do(ctx, changeRange("15m", "1h", "6h", "24h")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := poll(ctx, `document.querySelector('#charts').dataset.range === '24h'`); err != nil {
		t.Fatalf("the charts do not show the last range chosen: %v", err)
	}
	time.Sleep(time.Second)
	st.setSlow(nil)
	st.resetHits()
	const period = 4200 * time.Millisecond // a little over two polling periods
	time.Sleep(period)
	if live, series := st.hitsOf("/ui/api/live"), st.hitsOf("/ui/api/series"); live > 3 || series > 3 || live < 1 {
		t.Errorf("in %v the page asked for the live figures %d times and the series %d times, want 2 or 3 each (one polling loop)", period, live, series)
	}

	// A slow answer for the 15-minute range arrives after the 24-hour range was chosen and
	// drawn: it is dropped.
	st.setSlow(func(r *http.Request) time.Duration {
		if r.URL.Path == "/ui/api/series" && r.URL.Query().Get("range") == "15m" {
			return 700 * time.Millisecond
		}
		return 0
	})
	if err := chromedp.Do(ctx, changeRange("15m")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the live figures are in; the 15-minute series is not
	if err := chromedp.Do(ctx, changeRange("24h")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the 15-minute series has come and gone; the next poll is not due
	drawn, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#charts').dataset.range || ''`))
	if err != nil {
		t.Fatal(err)
	}
	if drawn != "24h" {
		t.Errorf("the range selector says 24h, the charts show %q", drawn)
	}
	if ps := problems(); len(ps) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(ps, "\n"))
	}
}

// TestExplorerWithoutDecisionRecords checks, with no decision store (`clearbar serve
// --trace none`), that the Decisions tab says so and never asks for decisions, which would
// only answer 404.
func TestExplorerWithoutDecisionRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	st := newStackWith(t, stackOptions{noDecisions: true})
	st.chat(t, 0)
	ctx, problems := browser(t)
	// Opened on a decision's address, as a link from a log would.
	if err := chromedp.Do(ctx, chromedp.Navigate(st.srv.URL+"/ui/#decision=dec_someone"), chromedp.WaitVisible("#decision")); err != nil {
		t.Fatal(err)
	}
	if err := poll(ctx, `document.querySelector('#decision').innerText.includes('not stored')`); err != nil {
		t.Errorf("the explorer does not say decisions are not stored: %v: %q", err, text(t, ctx, "#decision"))
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(`button[data-tab="overview"]`),
		chromedp.Click(`button[data-tab="explorer"]`),
	); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	disabled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#decision-id').disabled && document.querySelector('#find').disabled`))
	if err != nil {
		t.Fatal(err)
	}
	if !disabled {
		t.Error("the decision lookup is still offered")
	}
	screenshot(t, ctx, artefacts(t), "dashboard-no-decisions.png")
	if n := st.hitsOf("/ui/api/decisions") + st.hitsOf("/ui/api/decisions/dec_someone"); n != 0 {
		t.Errorf("the page asked for decisions %d times", n)
	}
	if ps := problems(); len(ps) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(ps, "\n"))
	}
}

// TestChartBucketsAndBreakerTimes checks, on a fixed clock, the 24-hour charts' current
// bucket, 7½ minutes into its 15: the tooltip names the bucket's span, and its requests
// per minute are over the minutes it has had, not the 15 it will have. And a breaker with a
// cooldown under a minute shows when it reopens to the second.
func TestChartBucketsAndBreakerTimes(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	now := time.Now().Truncate(15 * time.Minute).Add(-time.Hour + 7*time.Minute + 30*time.Second)
	st := newStackWith(t, stackOptions{now: func() time.Time { return now }, cooldown: 50 * time.Second})
	for i := range 14 { // 8 minutes of the current bucket have data: 1.75 a minute
		st.monitor.Observe(&clearbar.Decision{Time: now.Add(-2 * time.Minute), Category: "intent", Outcome: clearbar.OK, ID: strconv.Itoa(i)})
	}
	for range 30 { // a full bucket before it: 2 a minute
		st.monitor.Observe(&clearbar.Decision{Time: now.Add(-20 * time.Minute), Category: "intent", Outcome: clearbar.OK})
	}
	b := st.breakers.Get(health.Key("sim", "nano"))
	for range 5 {
		done, ok := b.Allow(time.Now())
		if !ok {
			t.Fatal("the breaker opened early")
		}
		done(clearbar.Timeout, time.Now())
	}

	ctx, problems := browser(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(st.srv.URL+"/ui/"),
		chromedp.WaitVisible("#stat-requests"),
		chromedp.SetValue("#range", "24h"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#range').dispatchEvent(new Event('change'))`),
	); err != nil {
		t.Fatal(err)
	}
	if err := poll(ctx, `document.querySelectorAll('#charts svg path').length > 0 && document.querySelector('#charts').dataset.range === '24h'`); err != nil {
		t.Fatalf("the 24-hour charts did not draw: %v", err)
	}
	reopens := text(t, ctx, "#breakers tbody tr td:last-child")
	if !regexp.MustCompile(`\d:\d\d:\d\d`).MatchString(reopens) {
		t.Errorf("a breaker with a 50 s cooldown reopens at %q, without seconds", reopens)
	}

	// Hover the right edge of the requests chart: its last point, the current bucket.
	at, err := chromedp.Run(ctx, chromedp.Evaluate[struct{ X, Y float64 }](`(() => {
		const r = document.querySelector('#charts svg').getBoundingClientRect();
		return {X: r.right - 2, Y: r.top + r.height / 2};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, at.X, at.Y)); err != nil {
		t.Fatal(err)
	}
	if err := poll(ctx, `!document.querySelector('#tooltip').hidden`); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, artefacts(t), "dashboard-24h.png")
	tip := text(t, ctx, "#tooltip")
	if !strings.Contains(tip, "intent: 1.75") {
		t.Errorf("the current bucket's requests per minute: tooltip %q, want intent: 1.75 (14 requests in 8 minutes)", tip)
	}
	if !strings.Contains(tip, "–") || !strings.Contains(tip, "so far: 8 min") {
		t.Errorf("the tooltip %q does not name the bucket's span and the minutes it has had", tip)
	}
	if ps := problems(); len(ps) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(ps, "\n"))
	}
}
