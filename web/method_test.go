package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWrongMethodIs405 checks that a dashboard path called with another method than GET is a
// 405 naming GET in Allow, in the gateway's error envelope, not the catch-all 404.
func TestWrongMethodIs405(t *testing.T) {
	s, _ := quickstart(t)
	d, err := New(Options{Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ method, path string }{
		{http.MethodPost, "/ui/api/live"}, {http.MethodDelete, "/ui/api/decisions/dec_1"},
		{http.MethodPut, "/ui/api/spec"}, {http.MethodPost, "/ui/"}, {http.MethodPost, "/ui/assets/app.js"},
	} {
		rw := httptest.NewRecorder()
		d.ServeHTTP(rw, httptest.NewRequest(c.method, c.path, nil))
		var e struct {
			Error struct{ Message, Type, Code string } `json:"error"`
		}
		json.Unmarshal(rw.Body.Bytes(), &e)
		if rw.Code != http.StatusMethodNotAllowed || rw.Header().Get("Allow") != "GET, HEAD" || e.Error.Code != "method_not_allowed" {
			t.Errorf("%s %s: %d Allow %q %s", c.method, c.path, rw.Code, rw.Header().Get("Allow"), rw.Body)
		}
	}
	// HEAD is GET without a body; an unknown path is still a 404.
	for path, want := range map[string]int{"/ui/api/live": http.StatusOK, "/ui/nothing": http.StatusNotFound} {
		rw := httptest.NewRecorder()
		d.ServeHTTP(rw, httptest.NewRequest(http.MethodHead, path, nil))
		if rw.Code != want {
			t.Errorf("HEAD %s: %d, want %d", path, rw.Code, want)
		}
	}
}
