package gemini

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider/providertest"
)

// TestUnsupportedLocation: Gemini's answer to a caller where it does not serve the API (400
// FAILED_PRECONDITION, "User location is not supported for the API use.") is no fault of the
// request: another provider may serve it, so it is Overloaded with CodeUnsupportedLocation,
// which the gateway falls back from at once instead of retrying, and the message says what
// happened and what to change.
func TestUnsupportedLocation(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "{\n  \"error\": {\n    \"code\": 400,\n    \"message\": \"User location is not supported for the API use.\",\n    \"status\": \"FAILED_PRECONDITION\"\n  }\n}\n")
	}))
	defer srv.Close()
	p := newTestProvider(t, srv, providertest.APIKey)
	_, err := p.Complete(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: []byte(providertest.DefaultBody)}, Model: "gemini-2.5-flash"})
	var e *clearbar.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want a *clearbar.Error", err)
	}
	if e.Class != clearbar.Overloaded || e.Code != clearbar.CodeUnsupportedLocation || !e.Exhausted() || e.Status != http.StatusBadRequest {
		t.Errorf("class %s, code %q, status %d; want overloaded, %q, 400", e.Class, e.Code, e.Status, clearbar.CodeUnsupportedLocation)
	}
	if e.Class.Action() == clearbar.Fail || !e.Class.IsProviderFailure() {
		t.Errorf("class %s: the gateway would not fall back from it", e.Class)
	}
	for _, want := range []string{"does not serve the API from the gateway's location", "User location is not supported", "another provider"} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("message %q does not say %q", e.Message, want)
		}
	}
}
