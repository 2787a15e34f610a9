package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/drift"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/spec"
)

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAPIServesFiguresSeriesAndDecisions(t *testing.T) {
	st := newStack(t, nil)
	var ids []string
	for i := range 12 {
		ids = append(ids, st.chat(t, i))
	}

	var lv struct {
		live
		Breakers []struct{ Key, State string } `json:"breakers"` // health.State only marshals
	}
	if r := st.get(t, "/ui/api/live", &lv); r.StatusCode != http.StatusOK {
		t.Fatalf("live: %d", r.StatusCode)
	}
	if lv.Spec.Name != "quickstart" || len(lv.Spec.Categories) != 3 || !lv.Explorer || !lv.Drift.Enabled || lv.Summary == nil {
		t.Fatalf("live: %+v", lv)
	}
	if lv.Summary.Total.Requests != 12 || lv.Summary.Total.Cost <= 0 || lv.Summary.Total.Recent.Requests != 12 {
		t.Errorf("summary total %+v", lv.Summary.Total)
	}
	if len(lv.Breakers) == 0 || lv.Drift.States["warming up"] == 0 {
		t.Errorf("breakers %+v, detector states %v", lv.Breakers, lv.Drift.States)
	}

	var ser struct {
		By     drift.By       `json:"by"`
		StepS  float64        `json:"step_s"`
		Series []drift.Series `json:"series"`
	}
	st.get(t, "/ui/api/series?by=category&range=15m", &ser)
	total := int64(0)
	for _, s := range ser.Series {
		if len(s.Points) != 15 {
			t.Errorf("series %s has %d points, want 15", s.Name, len(s.Points))
		}
		for _, p := range s.Points {
			total += p.Requests
		}
	}
	if ser.By != drift.ByCategory || ser.StepS != 60 || len(ser.Series) != 3 || total != 12 {
		t.Errorf("category series: by %s, step %v, %d series, %d requests", ser.By, ser.StepS, len(ser.Series), total)
	}
	st.get(t, "/ui/api/series?by=model&range=6h", &ser)
	if len(ser.Series) == 0 || ser.StepS != 300 {
		t.Errorf("model series: %d series, step %v", len(ser.Series), ser.StepS)
	}
	for _, bad := range []string{"/ui/api/series?by=tenant", "/ui/api/series?range=7d"} {
		if r := st.get(t, bad, nil); r.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", bad, r.StatusCode)
		}
	}

	var list struct {
		Decisions []decisionRow `json:"decisions"`
	}
	st.get(t, "/ui/api/decisions?limit=5", &list)
	if len(list.Decisions) != 5 || list.Decisions[0].ID != ids[len(ids)-1] {
		t.Errorf("the 5 newest decisions: %+v", list.Decisions)
	}
	st.get(t, "/ui/api/decisions?category=intent", &list)
	if len(list.Decisions) != 6 {
		t.Errorf("%d intent decisions, want 6", len(list.Decisions))
	}
	for _, d := range list.Decisions {
		if d.Category != "intent" || d.Attempts == 0 || d.Cost <= 0 {
			t.Errorf("listed %+v", d)
		}
	}
	for _, bad := range []string{"/ui/api/decisions?outcome=great", "/ui/api/decisions?limit=0", "/ui/api/decisions?limit=x"} {
		if r := st.get(t, bad, nil); r.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", bad, r.StatusCode)
		}
	}

	var rec struct {
		ID       string `json:"id"`
		Category string `json:"category"`
		Attempts []struct {
			Model string `json:"model"`
		} `json:"attempts"`
	}
	if r := st.get(t, "/ui/api/decisions/"+ids[0], &rec); r.StatusCode != http.StatusOK || rec.ID != ids[0] || rec.Category != "intent" || len(rec.Attempts) == 0 {
		t.Errorf("decision %s: %d %+v", ids[0], r.StatusCode, rec)
	}
	var e struct {
		Error struct{ Message, Type, Code string } `json:"error"`
	}
	// The gateway's error envelope: message, type and code.
	if r := st.get(t, "/ui/api/decisions/dec_000000000000000000000000", &e); r.StatusCode != http.StatusNotFound || !strings.Contains(e.Error.Message, "no decision") ||
		e.Error.Type != "invalid_request_error" || e.Error.Code != "not_found" {
		t.Errorf("unknown decision: %d %+v", r.StatusCode, e)
	}
}

func TestPageAssetsAndRoutingDocument(t *testing.T) {
	st := newStack(t, nil)
	r := st.get(t, "/ui/", nil)
	page := body(t, r)
	if r.StatusCode != http.StatusOK || !strings.Contains(page, `<script src="/ui/assets/app.js"`) {
		t.Errorf("page: %d %.200s", r.StatusCode, page)
	}
	// Without JavaScript (curl, a text browser) the page says where the same figures are.
	if !strings.Contains(page, `<noscript>`) || !strings.Contains(page, `<a href="/ui/api/live">`) {
		t.Errorf("the page says nothing to a reader without JavaScript:\n%.600s", page)
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("page CSP %q", csp)
	}
	for asset, ctype := range map[string]string{"/ui/assets/app.js": "javascript", "/ui/assets/style.css": "text/css"} {
		if r := st.get(t, asset, nil); r.StatusCode != http.StatusOK || !strings.Contains(r.Header.Get("Content-Type"), ctype) {
			t.Errorf("%s: %d %s", asset, r.StatusCode, r.Header.Get("Content-Type"))
		}
	}
	// The page and its script name nothing outside the gateway.
	for _, asset := range []string{"/ui/", "/ui/assets/app.js", "/ui/assets/style.css"} {
		if b := body(t, st.get(t, asset, nil)); strings.Contains(b, "http://") && !strings.Contains(b, "http://www.w3.org/2000/svg") || strings.Contains(b, "https://") {
			t.Errorf("%s refers to another host", asset)
		}
	}
	r = st.get(t, "/ui/api/spec", nil)
	if doc := body(t, r); r.StatusCode != http.StatusOK || !strings.Contains(doc, "Routing policy: quickstart") || !strings.Contains(r.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("routing document: %d %.200s", r.StatusCode, doc)
	}
	resp, err := st.srv.Client().Get(st.srv.URL + "/ui")
	if err != nil || resp.Request.URL.Path != "/ui/" {
		t.Errorf("/ui did not redirect to /ui/: %v", err)
	}
	if r := st.get(t, "/ui/nothing", nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("/ui/nothing: %d", r.StatusCode)
	}
	// Everything else is the gateway's.
	if r := st.get(t, "/v1/models", nil); r.StatusCode != http.StatusOK {
		t.Errorf("/v1/models through the dashboard's mux: %d", r.StatusCode)
	}
}

func TestAPINeedsAnAdminKeyWhenTheSpecHasKeys(t *testing.T) {
	st := newStack(t, func(s *spec.Spec) {
		s.Keys = &spec.Keys{Admin: []string{gateway.HashKey("admin-secret")},
			Clients: []*spec.ClientKey{{Name: "app", Hash: gateway.HashKey("client-secret")}}}
	})
	st.chat(t, 0, "Authorization", "Bearer client-secret")
	if r := st.get(t, "/ui/", nil); r.StatusCode != http.StatusOK {
		t.Errorf("the page itself holds no data and needs no key: %d", r.StatusCode)
	}
	for _, c := range []struct {
		key  string
		want int
	}{{"", http.StatusUnauthorized}, {"client-secret", http.StatusForbidden}, {"admin-secret", http.StatusOK}} {
		var headers []string
		if c.key != "" {
			headers = []string{"Authorization", "Bearer " + c.key}
		}
		for _, p := range []string{"/ui/api/live", "/ui/api/series", "/ui/api/spec", "/ui/api/decisions"} {
			if r := st.get(t, p, nil, headers...); r.StatusCode != c.want {
				t.Errorf("GET %s with key %q: %d, want %d", p, c.key, r.StatusCode, c.want)
			}
		}
	}
}

func TestDashboardWithNothingButASpec(t *testing.T) {
	s, _ := quickstart(t)
	d, err := New(Options{Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	req := func(path string) *http.Response {
		rw := httptest.NewRecorder()
		d.ServeHTTP(rw, httptest.NewRequest(http.MethodGet, path, nil))
		return rw.Result()
	}
	if r := req("/ui/api/live"); r.StatusCode != http.StatusOK || strings.Contains(body(t, r), `"summary"`) {
		t.Errorf("live without a monitor: %d", r.StatusCode)
	}
	if r := req("/ui/api/decisions"); r.StatusCode != http.StatusNotFound || !strings.Contains(body(t, r), "not stored") {
		t.Errorf("decisions without a store: %d", r.StatusCode)
	}
	if r := req("/ui/api/series"); r.StatusCode != http.StatusOK || !strings.Contains(body(t, r), `"series":[]`) {
		t.Errorf("series without a monitor: %d", r.StatusCode)
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New without a spec")
	}
}

// TestSeriesBucketsAreClockAligned checks that every range's buckets start on a multiple of
// its step, so they stay put as time passes and each point's time is its bucket's start;
// that the current, partial bucket holds the traffic since its start; and that the answer
// says where the data ends.
func TestSeriesBucketsAreClockAligned(t *testing.T) {
	s, _ := quickstart(t)
	// 22:27:40 UTC: 12 minutes and 40 s into a 15-minute step, 2 minutes into a 5-minute one.
	now := time.Date(2026, 3, 14, 22, 27, 40, 0, time.UTC)
	monitor, err := drift.New(drift.Options{Spec: s, Registerer: prometheus.NewRegistry(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { monitor.Close(context.Background()) })
	for _, at := range []time.Time{
		time.Date(2026, 3, 14, 22, 13, 5, 0, time.UTC),  // the 22:00 step of 15 minutes, the 22:10 step of 5
		time.Date(2026, 3, 14, 22, 18, 0, 0, time.UTC),  // 22:15 and 22:15
		time.Date(2026, 3, 14, 22, 26, 30, 0, time.UTC), // 22:15 and 22:25
		time.Date(2026, 3, 14, 22, 27, 10, 0, time.UTC), // 22:15 and 22:25
	} {
		monitor.Observe(&clearbar.Decision{Time: at, Category: "intent", Outcome: clearbar.OK})
	}
	d, err := New(Options{Spec: s, Monitor: monitor, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		rng        string
		step       time.Duration
		points     int
		lastStart  string
		lastCount  int64
		firstStart string
	}{
		{"15m", time.Minute, 15, "22:27", 1, "22:13"},
		{"1h", time.Minute, 60, "22:27", 1, "21:28"},
		{"6h", 5 * time.Minute, 72, "22:25", 2, "16:30"},
		{"24h", 15 * time.Minute, 96, "22:15", 3, "22:30"},
	} {
		rw := httptest.NewRecorder()
		d.ServeHTTP(rw, httptest.NewRequest(http.MethodGet, "/ui/api/series?by=category&range="+c.rng, nil))
		var ser struct {
			StepS  float64        `json:"step_s"`
			Until  time.Time      `json:"until"`
			Series []drift.Series `json:"series"`
		}
		if err := json.Unmarshal(rw.Body.Bytes(), &ser); err != nil || rw.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", c.rng, rw.Code, rw.Body)
		}
		if ser.StepS != c.step.Seconds() || len(ser.Series) != 1 || ser.Series[0].Name != "intent" {
			t.Fatalf("%s: step %v, series %+v", c.rng, ser.StepS, ser.Series)
		}
		if want := time.Date(2026, 3, 14, 22, 28, 0, 0, time.UTC); !ser.Until.Equal(want) {
			t.Errorf("%s: until %v, want the end of the current minute, %v", c.rng, ser.Until, want)
		}
		pts := ser.Series[0].Points
		if len(pts) != c.points {
			t.Fatalf("%s: %d points, want %d", c.rng, len(pts), c.points)
		}
		var total int64
		for i, p := range pts {
			total += p.Requests
			if !p.Time.Equal(p.Time.Truncate(c.step)) {
				t.Errorf("%s: point %d starts at %s, not on a multiple of %v", c.rng, i, p.Time.Format(time.TimeOnly), c.step)
			}
			if i > 0 && p.Time.Sub(pts[i-1].Time) != c.step {
				t.Errorf("%s: point %d is %v after the one before", c.rng, i, p.Time.Sub(pts[i-1].Time))
			}
		}
		first, last := pts[0], pts[len(pts)-1]
		if got := first.Time.Format("15:04"); got != c.firstStart {
			t.Errorf("%s: the first bucket starts at %s, want %s", c.rng, got, c.firstStart)
		}
		if got := last.Time.Format("15:04"); got != c.lastStart || last.Requests != c.lastCount {
			t.Errorf("%s: the last bucket starts at %s with %d requests, want %s with %d", c.rng, got, last.Requests, c.lastStart, c.lastCount)
		}
		if c.rng == "24h" && total != 4 {
			t.Errorf("24h: %d requests in all, want 4", total)
		}
	}
}
