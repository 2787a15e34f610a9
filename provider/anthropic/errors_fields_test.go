package anthropic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider/providertest"
)

// TestUpstreamErrorTypeIsRedacted: an upstream that echoes the key it was sent as its error's
// type has the type dropped (the gateway would otherwise pass it on); an ordinary type stays.
func TestUpstreamErrorTypeIsRedacted(t *testing.T) {
	const key = "tk_live_9f8e7d6c5b4a3210"
	echo := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		typ := "invalid_request_error"
		if echo {
			typ = r.Header.Get("X-Api-Key")
		}
		fmt.Fprintf(w, `{"type":"error","error":{"type":%q,"message":"bad request"}}`, typ)
	}))
	defer srv.Close()
	p := newTestProvider(t, srv, "", key)
	for _, c := range []struct {
		echo bool
		want string
	}{{true, ""}, {false, "invalid_request_error"}} {
		echo = c.echo
		_, err := p.Complete(context.Background(), openAICall(providertest.DefaultBody))
		var e *clearbar.Error
		if !errors.As(err, &e) {
			t.Fatalf("err = %v", err)
		}
		if e.Type != c.want || strings.Contains(fmt.Sprint(e), key[:6]) {
			t.Errorf("echo %v: type %q (want %q), error %v", c.echo, e.Type, c.want, e)
		}
	}
}
