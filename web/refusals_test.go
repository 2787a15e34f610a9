package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/spec"
)

// TestLiveCountsRateLimitRefusalsAsClientErrors: requests the gateway refuses because their
// client key is over its rate_limit are the client's matter. /ui/api/live counts them with the
// client errors and leaves them out of the error rate, which stays 0 when every routed request
// succeeded. Before, 5 refusals among 8 requests made the error rate 5/8 and the client
// errors 0.
func TestLiveCountsRateLimitRefusalsAsClientErrors(t *testing.T) {
	st := newStack(t, func(s *spec.Spec) {
		s.Keys = &spec.Keys{Admin: []string{gateway.HashKey("admin-secret")},
			Clients: []*spec.ClientKey{{Name: "app", Hash: gateway.HashKey("client-secret"), RateLimit: "3/m"}}}
	})
	refused := 0
	for range 8 {
		req, _ := http.NewRequest(http.MethodPost, st.srv.URL+"/v1/chat/completions",
			strings.NewReader(`{"model":"clearbar/auto","messages":[{"role":"user","content":"Where is my parcel?"}]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer client-secret")
		resp, err := st.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if refused != 5 {
		t.Fatalf("%d refused, want 5 of 8 at a rate limit of 3/m", refused)
	}
	var lv struct {
		live
		Breakers []struct{ Key, State string } `json:"breakers"` // health.State only marshals
	}
	if r := st.get(t, "/ui/api/live", &lv, "Authorization", "Bearer admin-secret"); r.StatusCode != http.StatusOK || lv.Summary == nil {
		t.Fatalf("live: %d %+v", r.StatusCode, lv)
	}
	rec := lv.Summary.Total.Recent
	if rec.Requests != 8 || rec.ErrorRate == nil || *rec.ErrorRate != 0 {
		t.Errorf("requests %d, error rate %v: want 8 requests and an error rate of 0", rec.Requests, ptrText(rec.ErrorRate))
	}
	if rec.ClientErrors != 5 || rec.ClientErrorRate == nil || *rec.ClientErrorRate != 5.0/8 {
		t.Errorf("client errors %d, rate %v: want 5 of 8", rec.ClientErrors, ptrText(rec.ClientErrorRate))
	}
}
