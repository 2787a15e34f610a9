package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestLiveCountsClientErrorsApart: requests refused as the client's error (bad JSON, an unknown
// alias) are counted in their own figure, and the error rate beside provider health is of the
// requests routed, every one of which succeeded here. Before, the three refusals made the error
// rate 3/7.
func TestLiveCountsClientErrorsApart(t *testing.T) {
	st := newStack(t, nil)
	for i := range 4 {
		st.chat(t, i)
	}
	for _, body := range []string{`{"model":`, `{"model":"clearbar/nope","messages":[{"role":"user","content":"hi"}]}`, `[]`} {
		resp, err := st.srv.Client().Post(st.srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Fatalf("%s: status %d, want a client error", body, resp.StatusCode)
		}
	}
	var lv struct {
		live
		Breakers []struct{ Key, State string } `json:"breakers"` // health.State only marshals
	}
	if r := st.get(t, "/ui/api/live", &lv); r.StatusCode != http.StatusOK || lv.Summary == nil {
		t.Fatalf("live: %d %+v", r.StatusCode, lv)
	}
	rec := lv.Summary.Total.Recent
	if rec.Requests != 7 || rec.ErrorRate == nil || *rec.ErrorRate != 0 {
		t.Errorf("requests %d, error rate %v: want 7 requests and an error rate of 0", rec.Requests, ptrText(rec.ErrorRate))
	}
	if rec.ClientErrors != 3 || rec.ClientErrorRate == nil || *rec.ClientErrorRate != 3.0/7 {
		t.Errorf("client errors %d, rate %v: want 3 of 7", rec.ClientErrors, ptrText(rec.ClientErrorRate))
	}
	for _, c := range lv.Summary.Categories {
		if c.Recent.ClientErrors != 0 {
			t.Errorf("category %s counts %d client errors: the refused requests have no category", c.Name, c.Recent.ClientErrors)
		}
	}
}

func ptrText(p *float64) any {
	if p == nil {
		return "null"
	}
	return *p
}

// TestDashboardShowsClientErrorsApart: the figures table has a client errors column beside the
// errors: a request of category intent refused as the client's error (max_tokens more than any
// model there writes) shows there, and intent's error rate stays at 0%.
func TestDashboardShowsClientErrorsApart(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	st := newStack(t, nil)
	st.chat(t, 0) // intent
	req, _ := http.NewRequest(http.MethodPost, st.srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"clearbar/intent","max_tokens":100000000,"messages":[{"role":"user","content":"Where is my parcel?"}]}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := st.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
	ctx, problems := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(st.srv.URL+"/ui/"), chromedp.WaitVisible("#stat-requests")); err != nil {
		t.Fatal(err)
	}
	const row = `[...document.querySelectorAll('#figures tbody tr')].find((tr) => tr.textContent.startsWith('intent'))`
	if err := poll(ctx, `!!`+row); err != nil {
		t.Fatalf("no intent row: %v", err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const heads = [...document.querySelectorAll('#figures thead th')].map((th) => th.textContent);
		const cells = [...`+row+`.children].map((td) => td.textContent);
		return [heads.join('|'), cells[heads.indexOf('errors')], cells[heads.indexOf('client errors')], String(heads.length === cells.length)];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || !strings.HasSuffix(got[0], "|errors|client errors") || got[1] != "0%" || got[2] != "50.0%" || got[3] != "true" {
		t.Errorf("figures table: headers %q, intent's errors %q and client errors %q, as many cells as headers %q; want errors 0%% and client errors 50.0%%", got[0], got[1], got[2], got[3])
	}
	if ps := problems(); len(ps) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(ps, "\n"))
	}
}
