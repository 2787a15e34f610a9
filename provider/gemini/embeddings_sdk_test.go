package gemini_test

// End-to-end embeddings: the real openai-go client calls the gateway's POST /v1/embeddings,
// routed to a gemini spec model, whose adapter calls a fake Gemini API's batchEmbedContents.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/gemini"
	"github.com/clearbar/clearbar/spec"
)

const embedSDKSpec = `version: 1
name: gemini-embeddings-sdk
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
retry: {attempts: 0}
providers:
  google: {type: gemini, base_url: "%s"}
models:
  g3:     {provider: google, model: gemini-3-pro-preview, price: {input: 2, output: 12}, latency: {p50: 10ms, p95: 20ms}}
  gembed: {provider: google, model: gemini-embedding-001, price: {input: 0.15, output: 0}, latency: {p50: 10ms, p95: 20ms}}
categories:
  - name: agent
    default: true
    share: 1
    tokens: {in: 100, out: 50}
    quality_bar: 0.5
    route: {model: g3}
    assume: {pass_rate: {g3: 0.9}}
`

const embedSDKKey = "AIza-embed-test-key-0000000000000000000"

// embedSDKValues are the fake's vectors, by input position: values whose float32 rounding
// shows, a negative, a tiny and a large magnitude.
var embedSDKValues = [][]string{{"0.1", "-0.2503", "1e-07", "12345.678"}, {"0.5", "0.25", "-0.125", "3"}}

// fakeGeminiEmbed is a Gemini API that serves batchEmbedContents for gemini-embedding-001.
type fakeGeminiEmbed struct {
	mu     sync.Mutex
	bodies []string
}

func (f *fakeGeminiEmbed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, string(body))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path != "/v1beta/models/gemini-embedding-001:batchEmbedContents" || r.Header.Get("X-Goog-Api-Key") != embedSDKKey {
		w.WriteHeader(404)
		fmt.Fprintf(w, `{"error":{"code":404,"message":"no method %s","status":"NOT_FOUND"}}`, r.URL.Path)
		return
	}
	var embs []string
	for i := range gjson.GetBytes(body, "requests.#").Int() {
		embs = append(embs, `{"values":[`+strings.Join(embedSDKValues[i%2], ",")+`]}`)
	}
	fmt.Fprintf(w, `{"embeddings":[%s]}`, strings.Join(embs, ","))
}

func (f *fakeGeminiEmbed) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bodies) == 0 {
		return ""
	}
	return f.bodies[len(f.bodies)-1]
}

// TestSDKEmbeddings: openai-go asks for floats (its default sends no encoding_format, and
// explicitly), and for base64, which it decodes itself; every answer holds the upstream's
// values as float32, exactly for base64, and as numbers that read back as the same float32 for
// floats. dimensions reaches Gemini as outputDimensionality; token ids are refused naming input.
func TestSDKEmbeddings(t *testing.T) {
	fg := &fakeGeminiEmbed{}
	up := httptest.NewServer(fg)
	t.Cleanup(up.Close)
	s, err := spec.Parse([]byte(fmt.Sprintf(embedSDKSpec, up.URL)), "gemini-embeddings-sdk.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sp := *s.Provider("google")
	sp.APIKey = spec.SecretRef{Secret: clearbar.NewSecret(embedSDKKey)}
	gp, err := gemini.New(provider.Config{Provider: &sp, Spec: s, HTTP: up.Client()})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Options{Spec: s, Providers: map[string]clearbar.Provider{"google": gp}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	c := openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("client"), option.WithMaxRetries(0))

	for _, format := range []openai.EmbeddingNewParamsEncodingFormat{"", openai.EmbeddingNewParamsEncodingFormatFloat, openai.EmbeddingNewParamsEncodingFormatBase64} {
		t.Run("format="+string(format), func(t *testing.T) {
			var httpResp *http.Response
			resp, err := c.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
				Model:          "gembed",
				Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"first", "second"}},
				EncodingFormat: format,
				Dimensions:     openai.Int(4),
			}, option.WithResponseInto(&httpResp))
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Data) != len(embedSDKValues) {
				t.Fatalf("%d vectors, want %d", len(resp.Data), len(embedSDKValues))
			}
			for i, want := range embedSDKValues {
				raw := resp.Data[i].JSON.Embedding.Raw()
				if b64 := strings.HasPrefix(raw, `"`); b64 != (format == openai.EmbeddingNewParamsEncodingFormatBase64) {
					t.Errorf("vector %d came as %s", i, raw)
				}
				got := resp.Data[i].Embedding
				if len(got) != len(want) || resp.Data[i].Index != int64(i) {
					t.Fatalf("vector %d (index %d) has %d values, want %d", i, resp.Data[i].Index, len(got), len(want))
				}
				for k, w := range want {
					f, _ := strconv.ParseFloat(w, 32)
					if float32(got[k]) != float32(f) {
						t.Errorf("vector %d value %d = %v, want float32(%s) = %v", i, k, got[k], w, float32(f))
					}
				}
			}
			if resp.Model != "gemini-embedding-001" || resp.Usage.PromptTokens != 0 {
				t.Errorf("model %q usage %+v", resp.Model, resp.Usage)
			}
			// Gemini reports no usage, but bills: the decision prices the estimated tokens
			// ("first" and "second": 2 + 2) at $0.15 per million.
			if got := httpResp.Header.Get("X-Clearbar-Cost-Usd"); got != "0.0000006" {
				t.Errorf("cost header %q, want 0.0000006 (4 estimated tokens)", got)
			}
			body := fg.last()
			if gjson.Get(body, "requests.#").Int() != 2 || gjson.Get(body, "requests.1.outputDimensionality").Int() != 4 ||
				gjson.Get(body, "requests.1.model").Str != "models/gemini-embedding-001" || gjson.Get(body, "requests.1.content.parts.0.text").Str != "second" {
				t.Errorf("Gemini got %s", body)
			}
		})
	}

	_, err = c.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model: "gembed",
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfTokens: []int64{1, 2, 3}},
	})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "input" {
		t.Errorf("token ids: %v", err)
	}
	if strings.Contains(fmt.Sprint(err), embedSDKKey) {
		t.Errorf("the key leaks: %v", err)
	}
}
