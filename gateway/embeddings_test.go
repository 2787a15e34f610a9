package gateway

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	openaiadapter "github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/spec"
)

// embedUpstreamKey is the provider key of the embeddings tests; it must never reach a client.
const embedUpstreamKey = "sk-embed-upstream-SECRET-1234"

// embedVectors are the upstream's vectors: values chosen so that float32 rounding shows (0.1 is
// not a float32), with a negative, a tiny and a large magnitude.
var embedVectors = [][]float64{{0.1, -0.2503, 1e-7, 12345.678}, {0.5, 0.25, -0.125, 3}}

// embedUpstream is a fake OpenAI-compatible embeddings server. mode says how it answers:
// "floats" ignores encoding_format and always sends floats (old Ollama, LM Studio), "reject"
// refuses base64 with a 400, "base64" always sends base64, "honour" sends what is asked,
// "503" and "429" fail.
type embedUpstream struct {
	srv  *httptest.Server
	mode string
	mu   sync.Mutex
	got  []string // request bodies
}

func newEmbedUpstream(t *testing.T, mode string) *embedUpstream {
	u := &embedUpstream{mode: mode}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *embedUpstream) bodies() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.got...)
}

func (u *embedUpstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.got = append(u.got, string(body))
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "req_embed")
	if r.URL.Path != "/v1/embeddings" || r.Header.Get("Authorization") != "Bearer "+embedUpstreamKey {
		w.WriteHeader(404)
		fmt.Fprintf(w, `{"error":{"message":"wrong path %s or key","type":"invalid_request_error"}}`, r.URL.Path)
		return
	}
	format := gjson.GetBytes(body, "encoding_format").Str
	switch u.mode {
	case "503":
		w.WriteHeader(503)
		fmt.Fprint(w, `{"error":{"message":"overloaded","type":"server_error"}}`)
		return
	case "429":
		w.Header().Set("Retry-After-Ms", "20")
		w.WriteHeader(429)
		fmt.Fprint(w, `{"error":{"message":"slow down","type":"rate_limit_error","code":"rate_limit_exceeded"}}`)
		return
	case "broken":
		fmt.Fprint(w, `{"object":"list","data":[{"object":"embedding","index":0,"embedding":"AAAAAAA="}],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}}`)
		return
	case "reject":
		if format == "base64" {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":{"message":"encoding_format base64 is not supported","type":"invalid_request_error","param":"encoding_format"}}`)
			return
		}
	}
	b64 := u.mode == "base64" || u.mode == "honour" && format == "base64"
	var data []string
	for i, v := range embedVectors {
		var emb string
		if b64 {
			var raw []byte
			for _, f := range v {
				raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(f)))
			}
			emb = `"` + base64.StdEncoding.EncodeToString(raw) + `"`
		} else {
			parts := make([]string, len(v))
			for k, f := range v {
				parts[k] = fmt.Sprint(f)
			}
			emb = "[" + strings.Join(parts, ",") + "]"
		}
		data = append(data, fmt.Sprintf(`{"object":"embedding","index":%d,"embedding":%s}`, i, emb))
	}
	fmt.Fprintf(w, `{"object":"list","data":[%s],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`, strings.Join(data, ","))
}

// embedFixture is a gateway with two OpenAI-compatible providers serving the same embeddings
// model, one serving another, and a chat-only provider.
type embedFixture struct {
	srv     *httptest.Server
	gw      *Gateway
	rec     *memRecorder
	primary *embedUpstream
	backup  *embedUpstream
}

const embedSpec = `version: 1
name: embeddings-test
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
retry: {attempts: 1, backoff: 1ms}
providers:
  up:    {type: openai-compatible, base_url: "%s/v1"}
  back:  {type: openai-compatible, base_url: "%s/v1"}
  chat:  {type: simulated}
models:
  embed:       {provider: up, model: text-embedding-3-small, price: {input: 0.02, output: 0}, latency: {p50: 10ms, p95: 20ms}, fallback: [large, embed-back]}
  embed-back:  {provider: back, model: text-embedding-3-small, price: {input: 0.02, output: 0}, latency: {p50: 10ms, p95: 20ms}}
  large:       {provider: back, model: text-embedding-3-large, price: {input: 0.13, output: 0}, latency: {p50: 10ms, p95: 20ms}}
  talker:      {provider: chat, model: gpt-4o-mini, latency: {p50: 10ms, p95: 20ms}}
categories:
  - name: chat
    default: true
    share: 1
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: talker}
    assume: {pass_rate: {talker: 0.9}}
%s`

func newEmbedFixture(t *testing.T, primaryMode, backupMode, extra string) *embedFixture {
	t.Helper()
	f := &embedFixture{rec: &memRecorder{}, primary: newEmbedUpstream(t, primaryMode), backup: newEmbedUpstream(t, backupMode)}
	s, err := spec.Parse([]byte(fmt.Sprintf(embedSpec, f.primary.srv.URL, f.backup.srv.URL, extra)), "embeddings.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	providers := map[string]clearbar.Provider{"chat": newFake("chat")}
	for _, name := range []string{"up", "back"} {
		sp := *s.Provider(name)
		sp.APIKey = spec.SecretRef{Secret: clearbar.NewSecret(embedUpstreamKey)}
		p, err := openaiadapter.New(provider.Config{Provider: &sp, Spec: s})
		if err != nil {
			t.Fatal(err)
		}
		providers[name] = p
	}
	f.gw, err = New(Options{Spec: s, Providers: providers, Recorder: f.rec, Decisions: f.rec})
	if err != nil {
		t.Fatal(err)
	}
	// The route is registered in routes.go; tests mount the handler themselves so that they
	// do not depend on it.
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/embeddings", f.gw.embeddings)
	mux.Handle("/", f.gw)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *embedFixture) client(opts ...option.RequestOption) openai.Client {
	return openai.NewClient(append([]option.RequestOption{option.WithBaseURL(f.srv.URL + "/v1/"), option.WithAPIKey("client-key"), option.WithMaxRetries(0)}, opts...)...)
}

func (f *embedFixture) post(t *testing.T, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(f.srv.URL+"/v1/embeddings", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// embed calls the embeddings endpoint with openai-go.
func embed(c openai.Client, params openai.EmbeddingNewParams) (*openai.CreateEmbeddingResponse, error) {
	return c.Embeddings.New(context.Background(), params)
}

// checkVectors checks that the client got the upstream's vectors as float32 values: exactly
// (a base64 answer decodes to float32 values), or, for a float answer, as numbers that read back
// as the same float32 (the gateway writes the shortest such form, as OpenAI does).
func checkVectors(t *testing.T, resp *openai.CreateEmbeddingResponse) {
	t.Helper()
	if len(resp.Data) != len(embedVectors) {
		t.Fatalf("%d vectors, want %d", len(resp.Data), len(embedVectors))
	}
	for i, want := range embedVectors {
		got := resp.Data[i].Embedding
		if len(got) != len(want) {
			t.Fatalf("vector %d has %d values, want %d", i, len(got), len(want))
		}
		exact := strings.HasPrefix(resp.Data[i].JSON.Embedding.Raw(), `"`)
		for k := range want {
			if exact && got[k] != float64(float32(want[k])) || float32(got[k]) != float32(want[k]) {
				t.Errorf("vector %d value %d = %v, want float32(%v) = %v", i, k, got[k], want[k], float32(want[k]))
			}
		}
	}
	if resp.Usage.PromptTokens != 8 {
		t.Errorf("usage %+v", resp.Usage)
	}
}

// TestEmbeddingsBase64FromFloatUpstream is the openai-node case (§1.11, §8.25): the client asks
// for base64 and the upstream only sends floats; the gateway encodes little-endian float32, and
// openai-go decodes exactly the upstream's values.
func TestEmbeddingsBase64FromFloatUpstream(t *testing.T) {
	f := newEmbedFixture(t, "floats", "floats", "")
	resp, err := embed(f.client(), openai.EmbeddingNewParams{
		Model:          "embed",
		Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"first", "second"}},
		EncodingFormat: openai.EmbeddingNewParamsEncodingFormatBase64,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, resp)
	if raw := resp.Data[0].JSON.Embedding.Raw(); !strings.HasPrefix(raw, `"`) {
		t.Errorf("the client got %s, not base64", raw)
	}
	if got := f.primary.bodies(); len(got) != 1 || gjson.Get(got[0], "encoding_format").Str != "base64" || gjson.Get(got[0], "model").Str != "text-embedding-3-small" {
		t.Errorf("upstream got %q", got)
	}
}

// TestEmbeddingsBase64Rejected: the upstream refuses base64; the adapter asks again for floats
// and the gateway encodes them.
func TestEmbeddingsBase64Rejected(t *testing.T) {
	f := newEmbedFixture(t, "reject", "floats", "")
	resp, err := embed(f.client(), openai.EmbeddingNewParams{
		Model:          "embed",
		Input:          openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hello")},
		EncodingFormat: openai.EmbeddingNewParamsEncodingFormatBase64,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, resp)
	got := f.primary.bodies()
	if len(got) != 2 || gjson.Get(got[1], "encoding_format").Exists() {
		t.Errorf("upstream got %q, want a base64 request then one without encoding_format (floats)", got)
	}
	if d := f.rec.last(); len(d.Attempts) != 1 || d.Attempts[0].Class != clearbar.OK {
		t.Errorf("the refused encoding is the adapter's business, one attempt: %+v", d.Attempts)
	}
}

// TestEmbeddingsFloatFromBase64Upstream: the client asks for floats (openai-go's default sends
// no encoding_format) and the upstream answers base64; the gateway decodes.
func TestEmbeddingsFloatFromBase64Upstream(t *testing.T) {
	f := newEmbedFixture(t, "base64", "floats", "")
	resp, err := embed(f.client(), openai.EmbeddingNewParams{
		Model: "embed",
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, resp)
	if raw := resp.Data[1].JSON.Embedding.Raw(); !strings.HasPrefix(raw, "[") {
		t.Errorf("the client got %s, not floats", raw)
	}
}

// TestEmbeddingsPassThrough: a float request to a float upstream passes unchanged both ways
// (only the model is rewritten), with the decision headers and record.
func TestEmbeddingsPassThrough(t *testing.T) {
	f := newEmbedFixture(t, "honour", "floats", "")
	body := `{"model":"embed","input":["x","yz"],"user":"u-7","x_vendor":{"keep":true},"dimensions":4}`
	resp, got := f.post(t, body)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, got)
	}
	up := f.primary.bodies()[0]
	for path, want := range map[string]string{"model": `"text-embedding-3-small"`, "user": `"u-7"`, "x_vendor": `{"keep":true}`, "dimensions": `4`, "input": `["x","yz"]`} {
		if v := gjson.Get(up, path).Raw; v != want {
			t.Errorf("upstream %s = %s, want %s", path, v, want)
		}
	}
	if gjson.Get(up, "encoding_format").Exists() {
		t.Errorf("encoding_format was added: %s", up)
	}
	if !strings.Contains(string(got), `"embedding":[0.1,-0.2503,1e-07,12345.678]`) {
		t.Errorf("the answer was changed: %s", got)
	}
	h := resp.Header
	if h.Get(headerModel) != "embed" || h.Get(headerProvider) != "up" || h.Get(headerDecision) == "" || h.Get(headerAttempts) != "1" || h.Get(headerCost) == "" {
		t.Errorf("headers %v", h)
	}
	if strings.Contains(string(got), embedUpstreamKey) {
		t.Error("the upstream key reached the client")
	}
	d := f.rec.last()
	switch {
	case d.Path != "/v1/embeddings" || d.RequestedModel != "embed" || d.Model != "embed" || d.Provider != "up":
		t.Errorf("decision %+v", d)
	case d.Category != "" || d.Status != 200 || d.Outcome != clearbar.OK:
		t.Errorf("decision category %q status %d outcome %s", d.Category, d.Status, d.Outcome)
	case d.Usage.PromptTokens != 8 || d.Cost <= 0 || d.PromptChars != 3 || d.PromptHash == "":
		t.Errorf("decision usage %+v cost %v chars %d hash %q", d.Usage, d.Cost, d.PromptChars, d.PromptHash)
	case d.Attempts[0].UpstreamRequestID != "req_embed" || d.Attempts[0].UpstreamModel != "text-embedding-3-small":
		t.Errorf("attempt %+v", d.Attempts[0])
	}
}

// TestEmbeddingsByModelID: a client may send the model id when one spec model on an embeddings
// provider has it... and must send a name when several have it.
func TestEmbeddingsByModelID(t *testing.T) {
	f := newEmbedFixture(t, "floats", "floats", "")
	resp, body := f.post(t, `{"model":"text-embedding-3-large","input":"x"}`)
	if resp.StatusCode != 200 || f.rec.last().Model != "large" {
		t.Errorf("by unique id: %d %s", resp.StatusCode, body)
	}
	resp, body = f.post(t, `{"model":"text-embedding-3-small","input":"x"}`)
	if resp.StatusCode != 400 || gjson.GetBytes(body, "error.code").Str != "model_ambiguous" || !strings.Contains(string(body), "embed, embed-back") {
		t.Errorf("by shared id: %d %s", resp.StatusCode, body)
	}
}

// TestEmbeddingsFallback: the primary keeps failing; after its retry the request falls back to
// the same model on the backup provider, never to another embedding model.
func TestEmbeddingsFallback(t *testing.T) {
	f := newEmbedFixture(t, "503", "floats", "")
	resp, err := embed(f.client(), openai.EmbeddingNewParams{
		Model: "embed", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, resp)
	d := f.rec.last()
	var kinds []string
	for _, a := range d.Attempts {
		kinds = append(kinds, a.Kind+":"+a.Model+":"+a.Class.String())
	}
	if want := "primary:embed:overloaded retry:embed:overloaded fallback:embed-back:ok"; strings.Join(kinds, " ") != want {
		t.Errorf("attempts %s, want %s", strings.Join(kinds, " "), want)
	}
	if len(d.Skipped) != 1 || d.Skipped[0].Model != "large" || !strings.Contains(d.Skipped[0].Reason, "not comparable") {
		t.Errorf("skipped %+v", d.Skipped)
	}
	if d.Model != "embed-back" || strings.Join(d.Plan, ",") != "embed,embed-back" {
		t.Errorf("model %s plan %v", d.Model, d.Plan)
	}
}

// TestEmbeddingsUpstreamError: every candidate rate-limited; the client gets the first failure,
// a 429 in OpenAI's envelope with retry-after-ms, which openai-go reads as *openai.Error.
func TestEmbeddingsUpstreamError(t *testing.T) {
	f := newEmbedFixture(t, "429", "429", "")
	_, err := embed(f.client(), openai.EmbeddingNewParams{
		Model: "embed", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")},
	})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v (%T), want *openai.Error", err, err)
	}
	if apiErr.StatusCode != 429 || apiErr.Type != "rate_limit_error" || apiErr.Response.Header.Get("Retry-After-Ms") == "" {
		t.Errorf("status %d type %q headers %v", apiErr.StatusCode, apiErr.Type, apiErr.Response.Header)
	}
	if strings.Contains(apiErr.RawJSON(), embedUpstreamKey) {
		t.Error("the upstream key reached the client")
	}
	if d := f.rec.last(); d.Outcome != clearbar.RateLimited || d.Status != 429 || d.Path != "/v1/embeddings" {
		t.Errorf("decision outcome %s status %d", d.Outcome, d.Status)
	}
}

// TestEmbeddingsRequestErrors checks that what cannot be served is refused with a clear status,
// code and parameter, before any upstream call.
func TestEmbeddingsRequestErrors(t *testing.T) {
	f := newEmbedFixture(t, "floats", "floats", "")
	tests := []struct {
		explanation, body   string
		status              int
		code, param, phrase string
	}{
		{"unknown model", `{"model":"nope","input":"x"}`, 404, "model_not_found", "model", "embed, embed-back, large"},
		{"category alias", `{"model":"clearbar/chat","input":"x"}`, 400, "model_not_supported", "model", "category alias"},
		{"provider without embeddings", `{"model":"talker","input":"x"}`, 400, "model_not_supported", "model", "does not serve embeddings"},
		{"no model", `{"input":"x"}`, 400, "missing_required_parameter", "model", "model is required"},
		{"no input", `{"model":"embed"}`, 400, "missing_required_parameter", "input", "input is required"},
		{"empty string", `{"model":"embed","input":""}`, 400, "invalid_value", "input", "empty string"},
		{"empty array", `{"model":"embed","input":[]}`, 400, "invalid_value", "input", "empty array"},
		{"mixed input", `{"model":"embed","input":["a",[1,2]]}`, 400, "invalid_value", "input", "mixes"},
		{"object input", `{"model":"embed","input":{"a":1}}`, 400, "invalid_value", "input", "must be"},
		{"bad encoding", `{"model":"embed","input":"x","encoding_format":"int8"}`, 400, "invalid_value", "encoding_format", "int8"},
		{"bad dimensions", `{"model":"embed","input":"x","dimensions":0}`, 400, "invalid_value", "dimensions", "positive"},
		{"duplicate model", `{"model":"embed","model":"large","input":"x"}`, 400, "duplicate_key", "model", "twice"},
		{"user not a string", `{"model":"embed","input":"x","user":5}`, 400, "invalid_type", "user", "expected a string"},
		{"not JSON", `{"model":`, 400, "invalid_json", "", "not valid JSON"},
	}
	for _, tt := range tests {
		resp, body := f.post(t, tt.body)
		e := gjson.GetBytes(body, "error")
		if resp.StatusCode != tt.status || e.Get("code").Str != tt.code || e.Get("param").Str != tt.param || !strings.Contains(e.Get("message").Str, tt.phrase) {
			t.Errorf("%s: %d %s", tt.explanation, resp.StatusCode, body)
		}
		if !e.Get("type").Exists() || !e.Get("param").Exists() {
			t.Errorf("%s: the envelope lacks fields: %s", tt.explanation, body)
		}
		if resp.Header.Get(headerDecision) == "" {
			t.Errorf("%s: no decision header", tt.explanation)
		}
	}
	if n := len(f.primary.bodies()) + len(f.backup.bodies()); n != 0 {
		t.Errorf("the upstreams got %d calls", n)
	}
	// Token ids are valid input and pass as they are.
	resp, body := f.post(t, `{"model":"embed","input":[[1,2,3],[4]]}`)
	if resp.StatusCode != 200 || gjson.Get(f.primary.bodies()[0], "input").Raw != "[[1,2,3],[4]]" {
		t.Errorf("token ids: %d %s", resp.StatusCode, body)
	}
}

// TestEmbeddingsClientKeys: with client keys configured, a request needs one.
func TestEmbeddingsClientKeys(t *testing.T) {
	f := newEmbedFixture(t, "floats", "floats", "keys:\n  clients:\n    - {name: app, hash: \""+HashKey("client-key")+"\"}\n")
	resp, body := f.post(t, `{"model":"embed","input":"x"}`)
	if resp.StatusCode != 401 || gjson.GetBytes(body, "error.code").Str != "invalid_api_key" {
		t.Errorf("without a key: %d %s", resp.StatusCode, body)
	}
	if _, err := embed(f.client(), openai.EmbeddingNewParams{
		Model: "embed", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")},
	}); err != nil {
		t.Fatal(err)
	}
	if d := f.rec.last(); d.Client != "app" {
		t.Errorf("decision client %q", d.Client)
	}
}

func TestConvertEmbeddings(t *testing.T) {
	floats := `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-2,3.5e-8]}],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}}`
	b64, err := convertEmbeddings([]byte(floats), clearbar.EncodingBase64)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(gjson.GetBytes(b64, "data.0.embedding").Str)
	if len(raw) != 12 || math.Float32frombits(binary.LittleEndian.Uint32(raw)) != float32(0.1) {
		t.Errorf("base64 %s", b64)
	}
	if gjson.GetBytes(b64, "usage").Raw != `{"prompt_tokens":1,"total_tokens":1}` || gjson.GetBytes(b64, "model").Str != "m" {
		t.Errorf("other fields changed: %s", b64)
	}
	back, err := convertEmbeddings(b64, clearbar.EncodingFloat)
	if err != nil {
		t.Fatal(err)
	}
	if got := gjson.GetBytes(back, "data.0.embedding").Raw; got != "[0.1,-2,3.5e-08]" {
		t.Errorf("floats back: %s", got)
	}
	same, _ := convertEmbeddings([]byte(floats), clearbar.EncodingFloat)
	if string(same) != floats {
		t.Error("a body already in the wanted encoding was rewritten")
	}
	nan := make([]byte, 4)
	binary.LittleEndian.PutUint32(nan, math.Float32bits(float32(math.NaN())))
	for _, tt := range []struct{ explanation, body, want string }{
		{"a base64 vector of 5 bytes", `{"data":[{"embedding":"AAAAAAA="}]}`, clearbar.EncodingFloat},
		{"not base64", `{"data":[{"embedding":"***"}]}`, clearbar.EncodingFloat},
		{"NaN cannot be JSON", `{"data":[{"embedding":"` + base64.StdEncoding.EncodeToString(nan) + `"}]}`, clearbar.EncodingFloat},
		{"a string in a float vector", `{"data":[{"embedding":[1,"x"]}]}`, clearbar.EncodingBase64},
		{"beyond float32", `{"data":[{"embedding":[1e40]}]}`, clearbar.EncodingBase64},
	} {
		if _, err := convertEmbeddings([]byte(tt.body), tt.want); err == nil {
			t.Errorf("%s: no error", tt.explanation)
		}
	}
}

// BenchmarkConvertEmbeddings measures the encoding conversion of one 1536-dimension vector,
// both ways.
func BenchmarkConvertEmbeddings(b *testing.B) {
	vals := make([]string, 1536)
	for i := range vals {
		vals[i] = fmt.Sprint(float32(math.Sin(float64(i))) / 7)
	}
	floats := []byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[` + strings.Join(vals, ",") + `]}],"model":"m","usage":{"prompt_tokens":5,"total_tokens":5}}`)
	b64, err := convertEmbeddings(floats, clearbar.EncodingBase64)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("floats_to_base64", func(b *testing.B) {
		b.SetBytes(int64(len(floats)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := convertEmbeddings(floats, clearbar.EncodingBase64); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("base64_to_floats", func(b *testing.B) {
		b.SetBytes(int64(len(b64)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := convertEmbeddings(b64, clearbar.EncodingFloat); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestEmbeddingsUnreadableVectors: an upstream answer whose base64 vector is not whole float32
// values cannot be given to a client that wants floats: a bad response (502), recorded as such,
// when no fallback can answer instead.
func TestEmbeddingsUnreadableVectors(t *testing.T) {
	f := newEmbedFixture(t, "broken", "broken", "")
	resp, body := f.post(t, `{"model":"embed","input":"x"}`)
	if resp.StatusCode != 502 || gjson.GetBytes(body, "error.code").Str != "bad_response" {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	d := f.rec.last()
	if d.Outcome != clearbar.BadResponse || d.Model != "" || !strings.Contains(d.Attempts[0].Error, "could not be converted") || d.Attempts[0].Class != clearbar.BadResponse {
		t.Errorf("decision outcome %s model %q reason %q attempts %+v", d.Outcome, d.Model, d.Reason, d.Attempts)
	}
}

// TestEmbeddingsUnreadableVectorsFallBack: unreadable vectors are a failed attempt like any
// other bad response: the attempt is recorded as bad_response (and counted against the
// upstream), and the same model on another provider answers instead.
func TestEmbeddingsUnreadableVectorsFallBack(t *testing.T) {
	f := newEmbedFixture(t, "broken", "floats", "")
	resp, body := f.post(t, `{"model":"embed","input":"x"}`)
	if resp.StatusCode != 200 || !gjson.GetBytes(body, "data.0.embedding").IsArray() {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	d := f.rec.last()
	if d.Model != "embed-back" || len(d.Attempts) != 2 {
		t.Fatalf("decision model %q attempts %+v", d.Model, d.Attempts)
	}
	if a := d.Attempts[0]; a.Class != clearbar.BadResponse || a.Outcome != "fell back" || a.Usage.PromptTokens != 1 {
		t.Errorf("first attempt %+v, want a bad response that fell back, with its usage", a)
	}
	if a := d.Attempts[1]; a.Class != clearbar.OK || a.Outcome != "accepted" {
		t.Errorf("second attempt %+v", a)
	}
}
