package inflight

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

var call = &clearbar.Call{Model: "m-1"}

// TestEnds: how an attempt ended decides its failure class, and every error names the
// provider and the model.
func TestEnds(t *testing.T) {
	tests := []struct {
		name   string
		run    func() *clearbar.Error
		class  clearbar.FailureClass
		substr string
	}{
		{"live", func() *clearbar.Error {
			a := Begin(context.Background(), "p", call, time.Hour, 0)
			defer a.End()
			return a.CtxFailure()
		}, clearbar.OK, ""},
		{"the call's timeout", func() *clearbar.Error {
			a := Begin(context.Background(), "p", call, 5*time.Millisecond, 0)
			defer a.End()
			<-a.Ctx.Done()
			return a.CtxFailure()
		}, clearbar.Timeout, "no complete answer within 5ms"},
		{"the first-chunk deadline", func() *clearbar.Error {
			a := Begin(context.Background(), "p", call, 0, 5*time.Millisecond)
			defer a.End()
			<-a.Ctx.Done()
			return a.FirstChunk()
		}, clearbar.Timeout, "no first chunk within 5ms"},
		{"a first chunk in time", func() *clearbar.Error {
			a := Begin(context.Background(), "p", call, 0, time.Hour)
			defer a.End()
			if e := a.FirstChunk(); e != nil {
				return e
			}
			return a.CtxFailure()
		}, clearbar.OK, ""},
		{"released", func() *clearbar.Error {
			a := Begin(context.Background(), "p", call, time.Hour, time.Hour)
			a.End()
			a.End()
			return a.CtxFailure()
		}, clearbar.Canceled, "closed before its end"},
		{"the caller canceled", func() *clearbar.Error {
			ctx, cancel := context.WithCancel(context.Background())
			a := Begin(ctx, "p", call, time.Hour, 0)
			defer a.End()
			cancel()
			return a.CtxFailure()
		}, clearbar.Canceled, "request was canceled"},
		{"the caller's deadline", func() *clearbar.Error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			defer cancel()
			a := Begin(ctx, "p", call, time.Hour, 0)
			defer a.End()
			<-a.Ctx.Done()
			return a.CtxFailure()
		}, clearbar.Timeout, "request's deadline passed"},
		{"the caller's deadline with a cause", func() *clearbar.Error {
			ctx, cancel := context.WithTimeoutCause(context.Background(), time.Millisecond, errors.New("no complete answer within 1ms"))
			defer cancel()
			a := Begin(ctx, "p", call, time.Hour, 0)
			defer a.End()
			<-a.Ctx.Done()
			return a.CtxFailure()
		}, clearbar.Timeout, "no complete answer within 1ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.run()
			if tt.class == clearbar.OK {
				if e != nil {
					t.Fatalf("got %v, want no failure", e)
				}
				return
			}
			if e == nil || e.Class != tt.class || !strings.Contains(e.Message, tt.substr) {
				t.Fatalf("got %+v, want class %s with %q", e, tt.class, tt.substr)
			}
			if e.Provider != "p" || e.Model != "m-1" {
				t.Errorf("the error names %q/%q, want p/m-1", e.Provider, e.Model)
			}
			if tt.class == clearbar.Timeout && !errors.Is(e, context.DeadlineExceeded) {
				t.Errorf("a timeout does not wrap context.DeadlineExceeded: %v", e.Err)
			}
		})
	}
}

func TestConnReason(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, refused := http.Get("http://" + addr)
	tests := []struct {
		err    error
		reason string
		class  clearbar.FailureClass
	}{
		{refused, "connection refused", clearbar.Connection},
		{&net.DNSError{Err: "no such host", Name: "x.invalid"}, "DNS lookup failed", clearbar.Connection},
		{io.ErrUnexpectedEOF, "connection closed early", clearbar.Connection},
		{&net.OpError{Op: "read", Err: timeoutErr{}}, "timed out", clearbar.Timeout},
		{errors.New("something else"), "connection failed", clearbar.Connection},
	}
	for _, tt := range tests {
		if reason, class := ConnReason(tt.err); reason != tt.reason || class != tt.class {
			t.Errorf("ConnReason(%v) = %q, %s; want %q, %s", tt.err, reason, class, tt.reason, tt.class)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// TestSend: a rejected key is replaced by the next once, for this call and the ones after it;
// other failures are not retried; a provider without keys sends none.
func TestSend(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("X-Key")
		mu.Lock()
		seen = append(seen, key)
		mu.Unlock()
		switch key {
		case "good-key-2":
			io.WriteString(w, "ok")
		case "busy-key-4":
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, "bad key "+key)
		}
	}))
	defer srv.Close()
	classify := func(a *Attempt) func(*http.Response) *clearbar.Error {
		return func(resp *http.Response) *clearbar.Error {
			data, e := a.ReadErrorBody(resp, 1<<10)
			if e != nil {
				return e
			}
			class := clearbar.RateLimited
			if resp.StatusCode == http.StatusUnauthorized {
				class = clearbar.Auth
			}
			return a.Fail(class, resp.StatusCode, string(data), nil)
		}
	}
	send := func(keys *Keys) (string, error) {
		a := Begin(context.Background(), "p", call, time.Second, 0)
		defer a.End()
		resp, err := a.Send(srv.Client(), keys, func(key string) (*http.Request, error) {
			req, err := http.NewRequestWithContext(a.Ctx, http.MethodGet, srv.URL, nil)
			if key != "" {
				req.Header.Set("X-Key", key)
			}
			return req, err
		}, classify(a))
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), nil
	}
	take := func() string {
		mu.Lock()
		defer mu.Unlock()
		s := strings.Join(seen, ",")
		seen = nil
		return s
	}

	keys := NewKeys([]clearbar.Secret{clearbar.NewSecret("bad-key-1"), clearbar.NewSecret("good-key-2"), clearbar.NewSecret("bad-key-3")})
	if body, err := send(keys); err != nil || body != "ok" {
		t.Fatalf("send = %q, %v; want ok after one rotation", body, err)
	}
	if got := take(); got != "bad-key-1,good-key-2" {
		t.Errorf("keys sent %s, want bad-key-1,good-key-2", got)
	}
	if _, _ = send(keys); take() != "good-key-2" {
		t.Error("the next call did not start with the working key")
	}

	keys = NewKeys([]clearbar.Secret{clearbar.NewSecret("bad-key-1"), clearbar.NewSecret("bad-key-3"), clearbar.NewSecret("good-key-2")})
	_, err := send(keys)
	if clearbar.ClassOf(err) != clearbar.Auth {
		t.Fatalf("err = %v, want Auth after one rotation", err)
	}
	if got := take(); got != "bad-key-1,bad-key-3" {
		t.Errorf("keys sent %s, want two: the active key and one rotation", got)
	}

	if _, err := send(NewKeys([]clearbar.Secret{clearbar.NewSecret("busy-key-4"), clearbar.NewSecret("good-key-2")})); clearbar.ClassOf(err) != clearbar.RateLimited || take() != "busy-key-4" {
		t.Errorf("a rate-limited key: err %v; want RateLimited with no rotation", err)
	}
	if _, err := send(nil); clearbar.ClassOf(err) != clearbar.Auth || take() != "" {
		t.Errorf("no keys: err %v; want one request without a key", err)
	}
}

func TestRotateOnce(t *testing.T) {
	keys := NewKeys([]clearbar.Secret{clearbar.NewSecret("k1"), clearbar.NewSecret("k2"), clearbar.NewSecret("k3")})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if next, ok := keys.rotate(0); !ok || next != 1 {
				t.Errorf("rotate(0) = %d, %v; want 1 every time (only the first moves the index)", next, ok)
			}
		})
	}
	wg.Wait()
	if _, ok := NewKeys([]clearbar.Secret{clearbar.NewSecret("only")}).rotate(0); ok {
		t.Error("one key rotated")
	}
}

func TestRedact(t *testing.T) {
	keys := NewKeys([]clearbar.Secret{clearbar.NewSecret("gsk_groq0123456789secret"), clearbar.NewSecret("abc")})
	like := regexp.MustCompile(`sk-[A-Za-z0-9_*\-]{4,}`)
	got := keys.Redact("key gsk_groq0123456789secret and sk-proj-****abcd, abc stays", like)
	if want := "key [redacted] and [redacted], abc stays"; got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
	if got := keys.Redact("sk-proj-1234", nil); got != "sk-proj-1234" {
		t.Errorf("Redact without a pattern = %q", got)
	}
}

func TestTextSnippet(t *testing.T) {
	tests := []struct {
		ctype, body, want string
	}{
		{"text/plain; charset=utf-8", "upstream connect error\nreset reason: overflow", "upstream connect error"},
		{"", "  Bad Gateway  ", "Bad Gateway"},
		{"text/html", "Bad Gateway", ""},
		{"text/plain", "<html>oops</html>", ""},
		{"text/plain", "bad \xff utf-8", ""},
		{"text/plain", strings.Repeat("é", 150), strings.Repeat("é", 100) + "…"},
	}
	for _, tt := range tests {
		if got := TextSnippet(http.Header{"Content-Type": {tt.ctype}}, []byte(tt.body)); got != tt.want {
			t.Errorf("TextSnippet(%q, %q) = %q, want %q", tt.ctype, tt.body, got, tt.want)
		}
	}
	if got := Truncate("aé", 2); got != "a…" {
		t.Errorf("Truncate split a rune: %q", got)
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct{ raw, def, want, err string }{
		{" https://api.example.com/v1/ ", "", "https://api.example.com/v1", ""},
		{"", "https://default.example.com", "https://default.example.com", ""},
		{"", "", "", ""},
		{"ftp://x", "", "", "not an http or https URL"},
		{"https://", "", "", "not an http or https URL"},
	}
	for _, tt := range tests {
		got, err := BaseURL(tt.raw, tt.def)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("BaseURL(%q, %q) = %q, %v; want %q, %q", tt.raw, tt.def, got, err, tt.want, tt.err)
		}
	}
}
