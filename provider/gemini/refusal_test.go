package gemini

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/clearbar/clearbar"
)

// TestRefusalIsTheAdaptersError: Refusal gives, for a body the adapter cannot translate, the
// error Complete answers it with before any upstream call (message, parameter, type and code),
// with status 400; and nil for a body the adapter takes, whatever the model: a web search with
// tools, which only Gemini 2.x refuses, is not its to check.
func TestRefusalIsTheAdaptersError(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		http.Error(w, "unexpected", http.StatusInternalServerError)
	}))
	defer srv.Close()
	p := newTestProvider(t, srv, "k")
	const fn = `{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}`
	for _, body := range []string{
		`{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"custom","custom":{"name":"grammar"}}]}`,
		`{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-abc"}}]}]}`,
		`{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"input_text","text":"x"}]}]}`,
		`{"messages":[{"role":"user","content":"hi"}],"tools":[` + fn + `],"tool_choice":{"type":"custom","custom":{"name":"g"}}}`,
		`{"messages":[{"role":"user","content":""}]}`,
		`{"messages":[{"role":"user","content":"hi"}],"functions":[{"name":"lookup"}]}`,
	} {
		want := Refusal([]byte(body))
		if want == nil {
			t.Errorf("Refusal(%s) = nil, want an error", body)
			continue
		}
		_, err := p.Complete(context.Background(), &clearbar.Call{Model: "gemini-2.5-flash", Request: &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: []byte(body)}})
		var got *clearbar.Error
		if !errors.As(err, &got) || got.Class != clearbar.ClientError || got.Message != want.Message || got.Param != want.Param ||
			got.Type != want.Type || got.Code != want.Code || want.Code != "unsupported_for_gemini" || want.Status != 400 {
			t.Errorf("%s: Complete's error %#v, Refusal's %#v; want the same, with status 400", body, err, want)
		}
	}
	for _, body := range []string{
		`{"messages":[{"role":"user","content":"hi"}]}`,
		`{"messages":[{"role":"user","content":"hi"}],"tools":[` + fn + `],"web_search_options":{}}`,
		`{"messages":[{"role":"user","content":[{"type":"input_text","text":"see"},{"type":"file","file":{"file_id":"files/abc"}}]}]}`,
	} {
		if e := Refusal([]byte(body)); e != nil {
			t.Errorf("Refusal(%s) = %v, want nil", body, e)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("the upstream got %d calls, want none", n)
	}
}
