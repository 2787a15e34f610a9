package providertest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// CloseIsCanceled checks that a Close from another goroutine, aborting a Next blocked on a
// silent upstream, ends the stream as Canceled and never as StreamCut (which would count
// against the upstream and trigger a fallback), whichever of the body's close and the call's
// cancellation the reading goroutine sees first. The upstream sends firstEvent (one complete
// event of the adapter's stream format, with its blank line) and then nothing until the call
// ends. The race is tried 40 times; then a Close between two calls of Next, which must end the
// stream the same way.
func CloseIsCanceled(t *testing.T, newProvider NewProvider, firstEvent string) {
	t.Helper()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, firstEvent)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer upstream.Close()
	p := newProvider(t, upstream)
	call := &clearbar.Call{Request: &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: []byte(DefaultBody)}, Model: "m"}
	for i := range 40 {
		s, err := p.Stream(context.Background(), call)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Next() {
			t.Fatalf("the first event gave no chunk: %v", s.Err())
		}
		time.AfterFunc(2*time.Millisecond, func() { s.Close() })
		if s.Next() {
			t.Fatal("Next returned a chunk after Close")
		}
		if c := clearbar.ClassOf(s.Err()); c != clearbar.Canceled {
			t.Fatalf("run %d: class %s (%v), want canceled", i, c, s.Err())
		}
	}
	// Closed before the next Next, not while it reads: the same Canceled, never a clean end.
	s, err := p.Stream(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Next() {
		t.Fatalf("the first event gave no chunk: %v", s.Err())
	}
	s.Close()
	if s.Next() {
		t.Fatal("Next returned a chunk after Close")
	}
	if c := clearbar.ClassOf(s.Err()); c != clearbar.Canceled {
		t.Fatalf("closed between two Next calls: class %s (%v), want canceled", c, s.Err())
	}
}
