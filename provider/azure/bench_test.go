package azure

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/provider/providertest"
	"github.com/clearbar/clearbar/spec"
)

const benchAnswer = `{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"finish_reason":"stop","index":0,"logprobs":null,"message":{"content":"Hello! How can I help you today?","refusal":null,"role":"assistant"}}],"created":1741569952,"id":"chatcmpl-AZ1","model":"gpt-4o-2024-11-20","object":"chat.completion","usage":{"completion_tokens":10,"prompt_tokens":19,"total_tokens":29}}`

// BenchmarkCompleteOverhead compares one call through the Azure adapter with the same call
// through provider/openai against the same in-process upstream: the difference is the
// deployment lookup and the api-version transport (a request clone per call).
func BenchmarkCompleteOverhead(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, benchAnswer)
	}))
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	az := newTestProvider(b, srv, providertest.APIKey)
	sp := &spec.Provider{Name: "oa", Type: openai.TypeCompatible, BaseURL: spec.EnvString{Value: srv.URL + "/v1"}, APIKey: spec.SecretRef{Secret: clearbar.NewSecret(providertest.APIKey)}}
	oa, err := openai.New(provider.Config{Provider: sp, HTTP: client})
	if err != nil {
		b.Fatal(err)
	}
	call := &clearbar.Call{Request: &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: []byte(providertest.DefaultBody)}, Model: "gpt4o-prod"}
	for _, bc := range []struct {
		name string
		p    clearbar.Provider
	}{{"openai", oa}, {"azure", az}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r, err := bc.p.Complete(context.Background(), call); err != nil || r.Text() == "" {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStreamChunk measures what the Azure stream adds per chunk: the annotation check and
// the identity check of a chunk that needs no edit.
func BenchmarkStreamChunk(b *testing.B) {
	s := &stream{deployment: "d", newID: newStreamID}
	data := []byte(`{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"}},"delta":{"content":"Hello there"},"finish_reason":null,"index":0,"logprobs":null}],"created":1741290958,"id":"chatcmpl-Azs1","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","system_fingerprint":"fp_b705f0c291","usage":null}`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f := readFields(data)
		if f.annotationOnly() {
			b.Fatal("not an annotation")
		}
		if out := s.normalize(data, f); len(out) != len(data) {
			b.Fatal("edited")
		}
	}
}
