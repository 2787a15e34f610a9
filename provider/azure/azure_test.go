package azure

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/providertest"
	"github.com/clearbar/clearbar/spec"
	"github.com/tidwall/gjson"
)

const apiVersion = "2024-10-21"

func specProvider(baseURL string, keys ...string) *spec.Provider {
	sp := &spec.Provider{Name: "az", Type: Type, BaseURL: spec.EnvString{Value: baseURL}, APIVersion: apiVersion}
	for i, k := range keys {
		ref := spec.SecretRef{Secret: clearbar.NewSecret(k)}
		if i == 0 {
			sp.APIKey = ref
		} else {
			sp.APIKeys = append(sp.APIKeys, ref)
		}
	}
	return sp
}

func newTestProvider(t testing.TB, srv *httptest.Server, keys ...string) *Provider {
	t.Helper()
	p, err := New(provider.Config{Provider: specProvider(srv.URL, keys...), HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Provider)
}

// TestConformance runs the shared suite on the Azure fixtures.
func TestConformance(t *testing.T) {
	providertest.Run(t, func(t *testing.T, upstream *httptest.Server) clearbar.Provider {
		return newTestProvider(t, upstream, providertest.APIKey)
	}, providertest.Fixtures(t, "azure")...)
}

// TestStreamCloseIsAlwaysCanceled: see providertest.CloseIsCanceled.
func TestStreamCloseIsAlwaysCanceled(t *testing.T) {
	providertest.CloseIsCanceled(t, func(t *testing.T, upstream *httptest.Server) clearbar.Provider {
		return newTestProvider(t, upstream, providertest.APIKey)
	}, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n")
}

// TestFixtureSet checks the Azure fixture set itself.
func TestFixtureSet(t *testing.T) {
	byName := map[string]bool{}
	for _, f := range providertest.Fixtures(t, "azure") {
		byName[f.Name] = true
		if f.Description == "" {
			t.Errorf("%s has no comment saying why it exists", f.File)
		}
	}
	for _, name := range []string{
		"complete_basic", "complete_content_filter_finish", "error_400_content_filter", "error_401", "error_404_deployment",
		"error_429_retry_after_ms", "stream_empty_first_chunk", "stream_async_filter_annotations", "stream_async_filter_blocked",
		"stream_error_chunk", "stream_cut_no_done", "stream_client_cancel", "stream_old_api_version",
	} {
		if !byName[name] {
			t.Errorf("fixture %s is missing", name)
		}
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		explanation, base, version, want, wantErr string
	}{
		{"the resource endpoint", "https://res.openai.azure.com", apiVersion, "https://res.openai.azure.com/openai/deployments/", ""},
		{"a trailing /openai/ is accepted", "https://res.openai.azure.com/openai/", apiVersion, "https://res.openai.azure.com/openai/deployments/", ""},
		{"base_url is required", "", apiVersion, "", "needs base_url"},
		{"api_version is required", "https://res.openai.azure.com", "", "", "needs api_version"},
		{"only http and https", "ftp://res", apiVersion, "", "not an http or https URL"},
	}
	for _, tt := range tests {
		sp := specProvider(tt.base)
		sp.APIVersion = tt.version
		p, err := New(provider.Config{Provider: sp})
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v, want %q", tt.explanation, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.explanation, err)
		}
		if got := p.(*Provider).deploymentsURL; got != tt.want {
			t.Errorf("%s: %s, want %s", tt.explanation, got, tt.want)
		}
	}
	sp := specProvider("https://res.openai.azure.com")
	sp.Type = "openai"
	if _, err := New(provider.Config{Provider: sp}); err == nil {
		t.Error("the adapter accepted type openai")
	}
}

// TestDeployments checks that each deployment has its own URL, that spec models' deployments
// are set up at once, that a deployment name is escaped, and that no model is refused cleanly.
func TestDeployments(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.EscapedPath()+"?"+r.URL.RawQuery)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"x","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}`)
	}))
	defer srv.Close()
	s := &spec.Spec{Models: spec.Models{{Name: "chat", Provider: spec.Ref{Name: "az"}, Model: "gpt4o-prod"}}}
	pp, err := New(provider.Config{Provider: specProvider(srv.URL, "k"), Spec: s, HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	p := pp.(*Provider)
	if _, ok := p.deployments.Load("gpt4o-prod"); !ok {
		t.Error("the spec model's deployment was not set up at construction")
	}
	body := []byte(`{"model":"x","messages":[{"role":"user","content":"hi"}]}`)
	for _, dep := range []string{"gpt4o-prod", "team a/b"} {
		if _, err := p.Complete(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: body}, Model: dep}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21", "/openai/deployments/team%20a%2Fb/chat/completions?api-version=2024-10-21"}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("paths %q, want %q", paths, want)
	}
	_, err = p.Complete(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: body}, Model: ""})
	if c := clearbar.ClassOf(err); c != clearbar.ClientError {
		t.Errorf("no deployment: class %s (%v), want client_error", c, err)
	}
}

// TestKeyRotation checks that a rejected key moves the deployment to the next key, sent as
// api-key.
func TestKeyRotation(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Api-Key")+"|"+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Api-Key") == "bad-key" {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":{"code":"401","message":"Access denied due to invalid subscription key."}}`)
			return
		}
		fmt.Fprint(w, `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}`)
	}))
	defer srv.Close()
	p := newTestProvider(t, srv, "bad-key", "good-key")
	call := &clearbar.Call{Request: &clearbar.Request{Body: []byte(`{"messages":[{"role":"user","content":"hi"}]}`)}, Model: "dep"}
	for range 2 {
		if _, err := p.Complete(context.Background(), call); err != nil {
			t.Fatal(err)
		}
	}
	if want := "bad-key|,good-key|,good-key|"; strings.Join(seen, ",") != want {
		t.Errorf("keys sent %q, want %s", seen, want)
	}
}

// TestEmbed checks embeddings through a deployment: the URL, the api-version, the key header,
// and the answer.
func TestEmbed(t *testing.T) {
	var gotPath, gotKey, gotModel string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotPath, gotKey, gotModel = r.URL.Path+"?"+r.URL.RawQuery, r.Header.Get("Api-Key"), gjson.GetBytes(b, "model").Str
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Apim-Request-Id", "apim-1")
		fmt.Fprint(w, `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-0.25]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":3,"total_tokens":3}}`)
	}))
	defer srv.Close()
	p := newTestProvider(t, srv, "k1")
	r, err := p.Embed(context.Background(), &clearbar.EmbedCall{Model: "emb", Body: []byte(`{"model":"text-embedding-3-small","input":"hi"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "/openai/deployments/emb/embeddings?api-version=2024-10-21" || gotKey != "k1" || gotModel != "emb" {
		t.Errorf("request %s key %q model %q", gotPath, gotKey, gotModel)
	}
	if r.Usage.PromptTokens != 3 || !r.HasUsage || r.UpstreamRequestID != "apim-1" || r.Model != "text-embedding-3-small" {
		t.Errorf("answer %+v", r)
	}
}

// TestTransport checks that the transport leaves the original request alone.
func TestTransport(t *testing.T) {
	var got *http.Request
	tr := &transport{apiVersion: "v1", base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody}, nil
	})}
	req, _ := http.NewRequest("POST", "https://res/openai/deployments/d/chat/completions?x=1", nil)
	req.Header.Set("Authorization", "Bearer secret")
	if _, err := tr.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("Authorization") != "Bearer secret" || req.URL.RawQuery != "x=1" {
		t.Error("the transport modified the caller's request")
	}
	if got.Header.Get("Authorization") != "" || got.Header.Get("Api-Key") != "secret" || got.URL.Query().Get("api-version") != "v1" || got.URL.Query().Get("x") != "1" {
		t.Errorf("sent %v %s", got.Header, got.URL)
	}
}

// TestTokenLimitByAPIVersion checks the name the token limit is sent under: api-versions before
// 2024-09-01-preview refuse max_completion_tokens, so they get max_tokens; later ones, and the
// v1 API's undated ones, get max_completion_tokens (which the reasoning models need).
func TestTokenLimitByAPIVersion(t *testing.T) {
	tests := []struct{ version, want string }{
		{"2024-02-01", "max_tokens"},
		{"2024-06-01", "max_tokens"},
		{"2024-08-01-preview", "max_tokens"},
		{"2024-09-01-preview", "max_completion_tokens"},
		{"2024-10-21", "max_completion_tokens"},
		{"2025-04-01-preview", "max_completion_tokens"},
		{"preview", "max_completion_tokens"},
	}
	for _, tt := range tests {
		for _, sent := range []string{"max_tokens", "max_completion_tokens"} {
			var body []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ = io.ReadAll(r.Body)
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}`)
			}))
			sp := specProvider(srv.URL, "k")
			sp.APIVersion = tt.version
			p, err := New(provider.Config{Provider: sp, HTTP: srv.Client()})
			if err != nil {
				t.Fatal(err)
			}
			req := &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"` + sent + `":50}`)}
			if _, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: "gpt-4o"}); err != nil {
				t.Fatalf("%s: %v", tt.version, err)
			}
			srv.Close()
			other := "max_tokens"
			if tt.want == other {
				other = "max_completion_tokens"
			}
			if gjson.GetBytes(body, tt.want).Int() != 50 || gjson.GetBytes(body, other).Exists() {
				t.Errorf("api-version %s, client sent %s: Azure got %s, want the limit as %s", tt.version, sent, body, tt.want)
			}
		}
	}
}

// TestContentFilterCategories checks that a content-filter refusal names what Azure filtered,
// which its message does not say, for both the stream and the non-stream call, and that a
// refusal without filtered categories and other 400s keep their message.
func TestContentFilterCategories(t *testing.T) {
	f := fixture(t, "error_400_content_filter")
	noCategories := `{"error":{"message":"The response was filtered.","code":"content_filter","status":400}}`
	other := `{"error":{"message":"Unrecognized request argument supplied: foo","type":"invalid_request_error","param":null,"code":null}}`
	tests := []struct {
		explanation, body string
		class             clearbar.FailureClass
		want              string
	}{
		{"the recorded refusal", string(f.Body), clearbar.ContentPolicy, "Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766 (filtered categories: jailbreak)"},
		{"no category filtered", noCategories, clearbar.ContentPolicy, "The response was filtered."},
		{"another 400", other, clearbar.ClientError, "Unrecognized request argument supplied: foo"},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, tt.body)
		}))
		p := newTestProvider(t, srv, "k")
		for _, stream := range []bool{false, true} {
			call := &clearbar.Call{Request: &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)}, Model: "gpt-4o"}
			var err error
			if stream {
				_, err = p.Stream(context.Background(), call)
			} else {
				_, err = p.Complete(context.Background(), call)
			}
			e := clearbar.AsError(err)
			if e == nil || e.Class != tt.class || !strings.HasSuffix(e.Message, tt.want) {
				t.Errorf("%s (stream %v): %v, want %s ending %q", tt.explanation, stream, err, tt.class, tt.want)
			}
		}
		srv.Close()
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestStreamIdentity checks the stream normalization directly, with the chunks a client sees.
func TestStreamIdentity(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range []string{
			`{"choices":[{"delta":{"content":"a","role":"assistant"},"finish_reason":null,"index":0}],"created":0,"id":"","model":"","object":""}`,
			`{"choices":[{"content_filter_results":{},"finish_reason":null,"index":0}],"created":0,"id":"","model":"","object":""}`,
			`{"choices":[{"delta":{},"finish_reason":"stop","index":0}],"created":7,"id":"chatcmpl-real","model":"gpt-4o","object":"chat.completion.chunk"}`,
			`[DONE]`,
		} {
			fmt.Fprintf(w, "data: %s\n\n", ev)
		}
	}))
	defer srv.Close()
	p := newTestProvider(t, srv)
	p.newID = func() string { return "chatcmpl-made" }
	s, err := p.Stream(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: []byte(`{"messages":[{"role":"user","content":"hi"}]}`)}, Model: "dep"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var chunks []string
	for s.Next() {
		chunks = append(chunks, string(s.Chunk().Data))
	}
	if s.Err() != nil {
		t.Fatal(s.Err())
	}
	if len(chunks) != 2 {
		t.Fatalf("chunks %q", chunks)
	}
	for i, c := range chunks {
		if id, obj := gjson.Get(c, "id").Str, gjson.Get(c, "object").Str; id != "chatcmpl-made" || obj != "chat.completion.chunk" || gjson.Get(c, "created").Int() == 0 {
			t.Errorf("chunk %d: %s", i, c)
		}
	}
	// The first chunk named no model: the stream's is the deployment, for every chunk, also
	// for the later one that names the served model (one model per stream, as one id).
	for i, c := range chunks {
		if m := gjson.Get(c, "model").Str; m != "dep" {
			t.Errorf("chunk %d: model %q, want the deployment", i, m)
		}
	}
}

// TestStreamKeepsOneModel checks that a stream whose first chunk names a model keeps it on
// every chunk, and leaves chunks that name it alone (byte for byte).
func TestStreamKeepsOneModel(t *testing.T) {
	events := []string{
		`{"choices":[{"delta":{"content":"a","role":"assistant"},"finish_reason":null,"index":0}],"created":7,"id":"chatcmpl-1","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk"}`,
		`{"choices":[{"delta":{"content":"b"},"finish_reason":null,"index":0}],"created":7,"id":"chatcmpl-1","model":"gpt-4o","object":"chat.completion.chunk"}`,
		`{"choices":[{"delta":{},"finish_reason":"stop","index":0}],"created":7,"id":"chatcmpl-1","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk"}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range append(events, `[DONE]`) {
			fmt.Fprintf(w, "data: %s\n\n", ev)
		}
	}))
	defer srv.Close()
	p := newTestProvider(t, srv)
	s, err := p.Stream(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: []byte(`{"messages":[{"role":"user","content":"hi"}]}`)}, Model: "dep"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var chunks []string
	for s.Next() {
		chunks = append(chunks, string(s.Chunk().Data))
	}
	if s.Err() != nil || len(chunks) != 3 {
		t.Fatalf("chunks %q, error %v", chunks, s.Err())
	}
	for i, c := range chunks {
		if m := gjson.Get(c, "model").Str; m != "gpt-4o-2024-11-20" {
			t.Errorf("chunk %d: model %q, want the stream's gpt-4o-2024-11-20", i, m)
		}
	}
	if chunks[0] != events[0] || chunks[2] != events[2] {
		t.Errorf("chunks that had the stream's identity changed:\n%s\n%s", chunks[0], chunks[2])
	}
}

// TestTimeoutThroughTransport checks that the provider's timeout bounds a call made through
// the wrapping transport.
func TestTimeoutThroughTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the server notices a closed connection only after the body
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	sp := specProvider(srv.URL)
	sp.Timeout = spec.Duration(50 * time.Millisecond)
	pp, err := New(provider.Config{Provider: sp, HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pp.Complete(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: []byte(`{"messages":[]}`)}, Model: "d"})
	if c := clearbar.ClassOf(err); c != clearbar.Timeout {
		t.Errorf("class %s (%v), want timeout", c, err)
	}
}
