package gemini

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider/providertest"
)

// TestUpstreamErrorStatusIsRedacted: an upstream that echoes the key it was sent as its error's
// status has the code dropped; an ordinary status is the code, lower-cased.
func TestUpstreamErrorStatusIsRedacted(t *testing.T) {
	const key = "AIzaSyDUMMYKEY0123456789abcdefghijklmn"
	echo := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		status := "INVALID_ARGUMENT"
		if echo {
			status = r.Header.Get("X-Goog-Api-Key")
		}
		fmt.Fprintf(w, `{"error":{"code":400,"status":%q,"message":"bad request"}}`, status)
	}))
	defer srv.Close()
	p := newTestProvider(t, srv, key)
	for _, c := range []struct {
		echo bool
		want string
	}{{true, ""}, {false, "invalid_argument"}} {
		echo = c.echo
		_, err := p.Complete(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: []byte(providertest.DefaultBody)}, Model: "gemini-2.0-flash"})
		var e *clearbar.Error
		if !errors.As(err, &e) {
			t.Fatalf("err = %v", err)
		}
		if e.Code != c.want {
			t.Errorf("echo %v: code %q, want %q (error %v)", c.echo, e.Code, c.want, e)
		}
	}
}
