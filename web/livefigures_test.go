package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/clearbar/clearbar"
)

// liveExtras are the fields of /ui/api/live beside the summary that the page reads.
type liveExtras struct {
	RecentFrom     *time.Time         `json:"recent_from"`
	TimeScales     map[string]float64 `json:"time_scales"`
	BreakerWindowS float64            `json:"breaker_window_s"`
	Summary        *struct {
		Start time.Time `json:"start"`
	} `json:"summary"`
}

// TestLiveSaysTimeScaleWindowAndRecentSpan: /ui/api/live names the time scale simulated
// providers run at, the window the breakers count calls in, and when its recent figures'
// data begins: the gateway's start when it started within their span, or the first minute
// restored from the decision store before it.
func TestLiveSaysTimeScaleWindowAndRecentSpan(t *testing.T) {
	st := newStack(t, nil) // simulated providers at time scale 0.01
	var lv liveExtras
	if r := st.get(t, "/ui/api/live", &lv); r.StatusCode != http.StatusOK || lv.Summary == nil || lv.RecentFrom == nil {
		t.Fatalf("live: %d %+v", r.StatusCode, lv)
	}
	if len(lv.TimeScales) != 1 || lv.TimeScales["sim"] != 0.01 {
		t.Errorf("time_scales %v, want sim at 0.01", lv.TimeScales)
	}
	if lv.BreakerWindowS != 30 {
		t.Errorf("breaker_window_s %v, want the default window's 30", lv.BreakerWindowS)
	}
	if !lv.RecentFrom.Equal(lv.Summary.Start) {
		t.Errorf("recent_from %v, want the start %v: nothing came before it", lv.RecentFrom, lv.Summary.Start)
	}

	// A decision restored from before the start begins the data, at its minute.
	since, _ := st.monitor.RestoreWindow()
	at := lv.Summary.Start.Add(-2 * time.Minute)
	if at.Before(since) || !st.monitor.Restore(&clearbar.Decision{ID: "dec_old", Time: at, Category: "intent", Outcome: clearbar.OK}) {
		t.Fatal("the monitor did not restore the decision")
	}
	lv = liveExtras{}
	st.get(t, "/ui/api/live", &lv)
	if want := at.Truncate(time.Minute); lv.RecentFrom == nil || !lv.RecentFrom.Equal(want) {
		t.Errorf("recent_from %v after a restored decision, want its minute %v", lv.RecentFrom, want)
	}

	// Without a time scale there is none to tell.
	plain := newStack(t, nil)
	for _, p := range plain.spec.Providers {
		p.Simulate.TimeScale = 0
	}
	if b := body(t, plain.get(t, "/ui/api/live", nil)); strings.Contains(b, "time_scales") {
		t.Errorf("live names time scales with none set: %.300s", b)
	}
}

// TestFiguresReconcileAndSayWhatTheyCover drives the overview: the figures table's rows add up
// to the Requests figure, with a row for the requests refused before they got a category; the
// requests per minute are over the time since the gateway started, not 5 minutes; the
// breakers' counts say they are of their window; a notice says latencies are at a time scale;
// and cents and rates near 100% show as such ($0.10, not $0.1; >99.9%, not 100%).
func TestFiguresReconcileAndSayWhatTheyCover(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	st := newStack(t, nil)
	st.chat(t, 0) // intent
	st.chat(t, 2) // general
	for _, b := range []string{`{"model":`, `[]`, `{"model":"clearbar/nope","messages":[{"role":"user","content":"hi"}]}`} {
		resp, err := st.srv.Client().Post(st.srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Fatalf("%s: status %d, want a client error", b, resp.StatusCode)
		}
	}
	// 2,000 requests of refund-dispute, one of them flagged: a pass rate of 99.95%; they
	// cost $0.10 in all.
	for i := range 2000 {
		d := &clearbar.Decision{ID: "dec_" + strconv.Itoa(i), Time: time.Now(), Category: "refund-dispute", Outcome: clearbar.OK, Flagged: i == 0}
		if i == 0 {
			d.Cost = clearbar.MoneyFromUSD(0.10)
		}
		st.monitor.Observe(d)
	}
	const total = 2 + 3 + 2000

	ctx, problems := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(st.srv.URL+"/ui/"), chromedp.WaitVisible("#stat-requests")); err != nil {
		t.Fatal(err)
	}
	if n := waitNumber(t, ctx, "#stat-requests", total-1); n != total {
		t.Fatalf("requests %v, want %d", n, total)
	}
	const rows = `[...document.querySelectorAll('#figures tbody tr')]`
	if err := poll(ctx, rows+`.some((tr) => tr.textContent.startsWith('(unclassified)'))`); err != nil {
		t.Fatalf("no row for the requests without a category: %v", err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`(() => {
		const heads = [...document.querySelectorAll('#figures thead th')].map((th) => th.textContent);
		const cell = (tr, h) => tr.children[heads.indexOf(h)].textContent;
		const rs = `+rows+`;
		const un = rs.find((tr) => tr.textContent.startsWith('(unclassified)'));
		const rd = rs.find((tr) => tr.textContent.startsWith('refund-dispute'));
		return {sum: String(rs.reduce((n, tr) => n + Number(cell(tr, 'requests').replace(/,/g, '')), 0)),
			unRequests: cell(un, 'requests'), unClient: cell(un, 'client errors'), unColor: un.querySelector('.dot').style.background,
			cost: cell(rd, 'cost'), pass: cell(rd, 'pass')};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if got["sum"] != strconv.Itoa(total) || got["unRequests"] != "3" || got["unClient"] != "100%" {
		t.Errorf("the rows add up to %s of %d requests; the unclassified row has %s requests, %s client errors; want 3 and 100%%",
			got["sum"], total, got["unRequests"], got["unClient"])
	}
	if got["unColor"] != "rgb(138, 147, 163)" {
		t.Errorf("the unclassified row is drawn in %s, want the neutral grey", got["unColor"])
	}
	if got["cost"] != "$0.10" || got["pass"] != ">99.9%" {
		t.Errorf("refund-dispute's cost %q and pass rate %q, want $0.10 and >99.9%%", got["cost"], got["pass"])
	}

	// Less than a minute since the start: more requests per minute than were made.
	if rate := number(t, ctx, "#stat-rate"); rate <= total {
		t.Errorf("requests per minute %v for %d requests within a minute of the start: divided by the 5 minutes the span will have", rate, total)
	}
	if sub := text(t, ctx, ".sub.recent"); !strings.HasPrefix(sub, "since ") {
		t.Errorf("the recent figures say they cover %q, want since the start", sub)
	}

	// The breakers' counts are of their window.
	if err := poll(ctx, `document.querySelectorAll('#breakers tbody tr td').length > 1`); err != nil {
		t.Fatalf("no breakers: %v", err)
	}
	head, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#breakers thead th')].slice(2, 4).map((th) => th.textContent + ' | ' + th.title)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(head) != 2 || !strings.HasPrefix(head[0], "calls in window | ") || !strings.Contains(head[0], "the last 30 s") || !strings.HasPrefix(head[1], "failures in window") {
		t.Errorf("breaker columns %q, want calls in window, over the last 30 s", head)
	}

	// The time scale is told.
	if err := poll(ctx, `!document.querySelector('#time-scale').hidden`); err != nil {
		t.Fatalf("no time scale notice: %v", err)
	}
	if n := text(t, ctx, "#time-scale"); !strings.Contains(n, "time scale 0.01") || !strings.Contains(n, "scaled") {
		t.Errorf("time scale notice %q", n)
	}
	screenshot(t, ctx, artefacts(t), "dashboard-figures.png")
	if ps := problems(); len(ps) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(ps, "\n"))
	}
}

// TestMalformedDecisionLinkStillLoads opens the dashboard on an address whose decision id is
// not valid percent-encoding: the page still polls and shows its figures, and looks the id up
// as written.
func TestMalformedDecisionLinkStillLoads(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	st := newStack(t, nil)
	st.chat(t, 0)
	ctx, problems := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(st.srv.URL+"/ui/#decision=%zz")); err != nil {
		t.Fatal(err)
	}
	if err := poll(ctx, `document.querySelector('#status').textContent.startsWith('live')`); err != nil {
		t.Fatalf("the page did not start: status %q: %v", text(t, ctx, "#status"), err)
	}
	if err := poll(ctx, `document.querySelector('#decision').innerText.includes('no decision %zz')`); err != nil {
		t.Errorf("the explorer does not look up the id as written: %q", text(t, ctx, "#decision"))
	}
	for _, p := range problems() {
		if !strings.Contains(p, "404") { // the lookup of the unknown id
			t.Errorf("the page reported: %s", p)
		}
	}
}

// TestDashboardByKeyboardAndOutline: the page has one h1 and its headings descend a level at
// a time; each tab controls its tab panel, and the arrow keys move between tabs; a decision
// in the list opens from the keyboard; chart lines are named and dashed, not told apart by
// colour alone.
func TestDashboardByKeyboardAndOutline(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	st := newStack(t, nil)
	var ids []string
	for i := range 3 {
		ids = append(ids, st.chat(t, i))
	}
	ctx, problems := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(st.srv.URL+"/ui/"), chromedp.WaitVisible("#stat-requests")); err != nil {
		t.Fatal(err)
	}
	if err := poll(ctx, `document.querySelectorAll('#charts svg path').length >= 3`); err != nil {
		t.Fatalf("the charts did not draw: %v", err)
	}
	outline, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const out = [];
		const hs = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')];
		let last = 0;
		for (const e of hs) {
			const level = Number(e.tagName[1]);
			if (level > last + 1) out.push('jump ' + e.tagName + ' after h' + last + ': ' + e.textContent);
			last = level;
		}
		if (document.querySelectorAll('h1').length !== 1) out.push('h1 count ' + document.querySelectorAll('h1').length);
		for (const b of document.querySelectorAll('[role=tab]')) {
			const p = document.getElementById(b.getAttribute('aria-controls') || '');
			if (!p || p.getAttribute('role') !== 'tabpanel' || p.getAttribute('aria-labelledby') !== b.id) out.push('tab ' + b.textContent + ' controls no panel labelled by it');
		}
		for (const p of document.querySelectorAll('#charts path')) {
			if (!p.querySelector('title') || !p.querySelector('title').textContent) out.push('a chart line has no name');
		}
		const dashes = new Set([...document.querySelectorAll('#charts svg')][0].querySelectorAll('path').values().map((p) => p.getAttribute('stroke-dasharray') || ''));
		if (dashes.size < 3) out.push('the lines of one chart share their dashes: ' + [...dashes].join('|'));
		return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outline {
		t.Error(o)
	}

	// From the Overview tab, the right arrow opens the Decisions tab.
	if err := chromedp.Do(ctx, chromedp.Focus(`#tab-overview`), chromedp.KeyEvent(kb.ArrowRight)); err != nil {
		t.Fatal(err)
	}
	if err := poll(ctx, `!document.querySelector('#explorer').hidden && document.activeElement.id === 'tab-explorer'`); err != nil {
		t.Fatalf("the right arrow did not open the Decisions tab: %v", err)
	}
	// A listed decision opens with Enter.
	row := fmt.Sprintf(`#decisions tr[data-id=%q] button.open`, ids[1])
	if err := poll(ctx, `!!document.querySelector('`+row+`')`); err != nil {
		t.Fatalf("the decision is not listed: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Focus(row), chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	if err := poll(ctx, fmt.Sprintf(`document.querySelector('#decision h3')?.textContent === %q`, ids[1])); err != nil {
		t.Errorf("Enter on the listed decision did not open it: %v", err)
	}
	if ps := problems(); len(ps) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(ps, "\n"))
	}
}
