package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

// TestUpstreamErrorFieldsAreRedacted: an upstream that echoes the key it was sent in its
// error's type, code or param (answering with an error status, or with an error event in a
// stream) has those fields dropped, and the key redacted from the message and the cause, whole
// and masked; an upstream's ordinary fields are passed on.
func TestUpstreamErrorFieldsAreRedacted(t *testing.T) {
	const key = "tk_live_9f8e7d6c5b4a3210"
	masked := key[:6] + "****" + key[len(key)-4:]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("Content-Type", "application/json")
		body, _ := io.ReadAll(r.Body)
		switch gjson.GetBytes(body, "model").Str {
		case "401":
			w.WriteHeader(401)
			fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s","type":"%s","code":"%s","param":"%s"}}`, masked, k, k, k)
		case "400":
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":{"message":"bad %s","type":"invalid_request_error_%s","code":"key_%s","param":"messages[0].%s"}}`, k, k[:10], k, k[12:])
		case "ordinary":
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":{"message":"too long","type":"invalid_request_error","code":"context_length_exceeded","param":"messages"}}`)
		case "stream":
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: {\"error\":{\"message\":\"key %s\",\"type\":\"%s\",\"code\":\"%s\",\"param\":\"%s\"}}\n\n", masked, k, k, k)
		}
	}))
	defer srv.Close()
	p := newTestProvider(t, srv, TypeCompatible, key)
	call := func(c string, stream bool) *clearbar.Error {
		t.Helper()
		req := &clearbar.Request{Body: []byte(`{}`)}
		ctx := context.Background()
		var err error
		if stream {
			s, serr := p.Stream(ctx, &clearbar.Call{Request: req, Model: c, Stream: true})
			if err = serr; err == nil {
				for s.Next() {
				}
				err = s.Err()
				s.Close()
			}
		} else {
			_, err = p.Complete(ctx, &clearbar.Call{Request: req, Model: c})
		}
		var e *clearbar.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: err = %v", c, err)
		}
		return e
	}
	for _, c := range []struct {
		name   string
		stream bool
	}{{"401", false}, {"400", false}, {"stream", true}} {
		e := call(c.name, c.stream)
		if e.Type != "" || e.Code != "" || e.Param != "" {
			t.Errorf("%s: type %q, code %q, param %q passed on", c.name, e.Type, e.Code, e.Param)
		}
		for _, leak := range []string{key, masked, key[:6], key[len(key)-6:]} {
			if strings.Contains(e.Message, leak) || strings.Contains(fmt.Sprint(e.Err), leak) {
				t.Errorf("%s: %q in the message %q or the cause %v", c.name, leak, e.Message, e.Err)
			}
		}
	}
	if e := call("ordinary", false); e.Type != "invalid_request_error" || e.Code != "context_length_exceeded" || e.Param != "messages" || e.Class != clearbar.ContextTooLong {
		t.Errorf("ordinary fields: %+v", e)
	}
}
