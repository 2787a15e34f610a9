package gemini

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/providertest"
	"github.com/clearbar/clearbar/spec"
	"github.com/tidwall/gjson"
)

// embedValues are the fake upstream's vectors, by input position: values whose float32
// rounding shows (0.1 is not a float32), a negative, a tiny and a large magnitude.
var embedValues = [][]string{{"0.1", "-0.2503", "1e-07", "12345.678"}, {"0.5", "0.25", "-0.125", "3"}}

// embedServer is a fake Gemini API that records each request and answers with answer(n, body)
// for the nth request (from 1).
type embedServer struct {
	mu     sync.Mutex
	bodies []string
	paths  []string
	keys   []string
	types  []string
}

func (e *embedServer) start(t *testing.T, answer func(n int, body string) (int, string)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.bodies = append(e.bodies, string(b))
		e.paths = append(e.paths, r.URL.Path)
		e.keys = append(e.keys, r.Header.Get("X-Goog-Api-Key"))
		e.types = append(e.types, r.Header.Get("Content-Type"))
		n := len(e.bodies)
		e.mu.Unlock()
		status, body := answer(n, string(b))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (e *embedServer) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.bodies)
}

// embedAnswer is a batchEmbedContents answer with embedValues[i] for the ith request of body.
func embedAnswer(body string) string {
	var embs []string
	for i := range gjson.Get(body, "requests.#").Int() {
		embs = append(embs, `{"values":[`+strings.Join(embedValues[i%int64(len(embedValues))], ",")+`]}`)
	}
	return `{"embeddings":[` + strings.Join(embs, ",") + `]}`
}

// TestEmbedRequest checks the wire format both ways: the batchEmbedContents path, the key
// header, one request per text with the model, outputDimensionality and taskType, and the
// OpenAI document built from the answer.
func TestEmbedRequest(t *testing.T) {
	var es embedServer
	srv := es.start(t, func(_ int, body string) (int, string) { return 200, embedAnswer(body) })
	p := newTestProvider(t, srv, providertest.APIKey)
	r, err := p.Embed(context.Background(), &clearbar.EmbedCall{
		Model:      "gemini-embedding-001",
		Input:      []string{"fish & <chips>", "naïve\n\"quoted\""},
		Dimensions: 768,
		Body:       []byte(`{"model":"embed","input":["fish & <chips>","naïve\n\"quoted\""],"dimensions":768,"user":"u-1","task_type":"RETRIEVAL_DOCUMENT"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if es.paths[0] != "/v1beta/models/gemini-embedding-001:batchEmbedContents" || es.keys[0] != providertest.APIKey || es.types[0] != "application/json" {
		t.Errorf("path %s, key %q, content type %q", es.paths[0], es.keys[0], es.types[0])
	}
	wantBody := `{"requests":[` +
		`{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"fish & <chips>"}]},"taskType":"RETRIEVAL_DOCUMENT","outputDimensionality":768},` +
		`{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"naïve\n\"quoted\""}]},"taskType":"RETRIEVAL_DOCUMENT","outputDimensionality":768}]}`
	if es.bodies[0] != wantBody {
		t.Errorf("upstream body\n%s\nwant\n%s", es.bodies[0], wantBody)
	}
	wantAnswer := `{"object":"list","data":[` +
		`{"object":"embedding","index":0,"embedding":[0.1,-0.2503,1e-07,12345.678]},` +
		`{"object":"embedding","index":1,"embedding":[0.5,0.25,-0.125,3]}],"model":"gemini-embedding-001"}`
	if string(r.Body) != wantAnswer {
		t.Errorf("answer\n%s\nwant\n%s", r.Body, wantAnswer)
	}
	// Gemini reports no usage: the tokens are estimated (14 and 15 bytes: 4 + 4), for the cost,
	// and the client's body says nothing of them.
	if r.HasUsage || !r.UsageEstimated || r.Usage != (clearbar.Usage{PromptTokens: 8}) || r.Model != "gemini-embedding-001" {
		t.Errorf("answer %+v: want no reported usage and 8 estimated tokens", r)
	}

	// Without a body, dimensions or task type: neither field is sent. A model that names its
	// collection is used as it is.
	if _, err := p.Embed(context.Background(), &clearbar.EmbedCall{Model: "tunedModels/my-embedder", Input: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	if es.paths[1] != "/v1beta/tunedModels/my-embedder:batchEmbedContents" ||
		es.bodies[1] != `{"requests":[{"model":"tunedModels/my-embedder","content":{"parts":[{"text":"x"}]}}]}` {
		t.Errorf("path %s body %s", es.paths[1], es.bodies[1])
	}
}

// TestEmbedEncodings checks that float and base64 answers decode to the same float32 values,
// the upstream's, and that each has the shape asked for.
func TestEmbedEncodings(t *testing.T) {
	var es embedServer
	srv := es.start(t, func(_ int, body string) (int, string) { return 200, embedAnswer(body) })
	p := newTestProvider(t, srv, providertest.APIKey)
	var want [][]float32
	for _, v := range embedValues {
		var row []float32
		for _, s := range v {
			f, _ := strconv.ParseFloat(s, 32)
			row = append(row, float32(f))
		}
		want = append(want, row)
	}
	for _, format := range []string{"", clearbar.EncodingFloat, clearbar.EncodingBase64} {
		r, err := p.Embed(context.Background(), &clearbar.EmbedCall{Model: "gemini-embedding-001", Input: []string{"a", "b"}, EncodingFormat: format})
		if err != nil {
			t.Fatal(err)
		}
		raw := gjson.GetBytes(r.Body, "data.0.embedding")
		if format == clearbar.EncodingBase64 && raw.Type != gjson.String || format != clearbar.EncodingBase64 && !raw.IsArray() {
			t.Errorf("%q: embedding %s", format, raw.Raw)
		}
		got, err := r.Vectors()
		if err != nil {
			t.Fatalf("%q: %v in %s", format, err, r.Body)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%q: vectors %v, want %v", format, got, want)
		}
		for i := range want {
			for k := range want[i] {
				if got[i][k] != want[i][k] {
					t.Errorf("%q: vector %d value %d = %v, want %v", format, i, k, got[i][k], want[i][k])
				}
			}
		}
	}
	if !strings.Contains(es.bodies[2], `"text":"a"`) || strings.Contains(es.bodies[2], "base64") || strings.Contains(es.bodies[2], "encoding") {
		t.Errorf("the encoding is the adapter's business, not sent upstream: %s", es.bodies[2])
	}
}

// TestEmbedBatches checks that more than 100 inputs go in several requests of at most 100,
// and that the answer numbers every vector in input order.
func TestEmbedBatches(t *testing.T) {
	var es embedServer
	srv := es.start(t, func(_ int, body string) (int, string) {
		// Each vector holds its text's number, so that the order can be checked.
		var embs []string
		gjson.Get(body, "requests.#.content.parts.0.text").ForEach(func(_, v gjson.Result) bool {
			embs = append(embs, `{"values":[`+strings.TrimPrefix(v.Str, "t")+`,1]}`)
			return true
		})
		return 200, `{"embeddings":[` + strings.Join(embs, ",") + `]}`
	})
	p := newTestProvider(t, srv, providertest.APIKey)
	input := make([]string, 250)
	for i := range input {
		input[i] = fmt.Sprintf("t%d", i)
	}
	r, err := p.Embed(context.Background(), &clearbar.EmbedCall{Model: "gemini-embedding-001", Input: input, EncodingFormat: clearbar.EncodingBase64})
	if err != nil {
		t.Fatal(err)
	}
	if len(es.bodies) != 3 {
		t.Fatalf("%d requests, want 3", len(es.bodies))
	}
	for i, want := range []int64{100, 100, 50} {
		if n := gjson.Get(es.bodies[i], "requests.#").Int(); n != want {
			t.Errorf("request %d has %d texts, want %d", i, n, want)
		}
	}
	got, err := r.Vectors()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v[0] != float32(i) || gjson.GetBytes(r.Body, fmt.Sprintf("data.%d.index", i)).Int() != int64(i) {
			t.Fatalf("vector %d is %v", i, v)
		}
	}
}

// TestEmbedErrors checks that failures are classified as for chat, name the provider and model,
// and never carry a key.
func TestEmbedErrors(t *testing.T) {
	const echoed = "AIzaSyEchoedKey0000000000000000000000"
	tests := []struct {
		explanation string
		status      int
		body        string
		class       clearbar.FailureClass
		code        string
		retryAfter  time.Duration
	}{
		{"invalid argument", 400, `{"error":{"code":400,"message":"* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch","status":"INVALID_ARGUMENT"}}`, clearbar.ClientError, "invalid_argument", 0},
		{"rate limited with RetryInfo", 429, `{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"13s"}]}}`, clearbar.RateLimited, "resource_exhausted", 13 * time.Second},
		{"daily quota spent", 429, `{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"EmbedContentRequestsPerDayPerProjectPerModel-FreeTier"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"13s"}]}}`, clearbar.RateLimited, clearbar.CodeQuotaExhausted, 0},
		{"unauthenticated, the key echoed", 401, `{"error":{"code":401,"message":"Request had invalid authentication credentials: ` + providertest.APIKey + `","status":"UNAUTHENTICATED"}}`, clearbar.Auth, "unauthenticated", 0},
		{"permission denied, a key-shaped string echoed", 403, `{"error":{"code":403,"message":"Method doesn't allow unregistered callers (key ` + echoed + `)","status":"PERMISSION_DENIED"}}`, clearbar.Auth, "permission_denied", 0},
		{"invalid key as a 400", 400, `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}`, clearbar.Auth, "invalid_argument", 0},
		{"unknown model", 404, `{"error":{"code":404,"message":"models/nope is not found for API version v1beta","status":"NOT_FOUND"}}`, clearbar.ClientError, "not_found", 0},
		{"overloaded", 503, `{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}`, clearbar.Overloaded, "unavailable", 0},
		{"an error in a 200", 200, `{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}`, clearbar.Overloaded, "unavailable", 0},
		{"not JSON", 200, `<html>`, clearbar.BadResponse, "", 0},
		{"nested too deep", 200, `{"embeddings":` + strings.Repeat("[", jsonguard.MaxDepth) + strings.Repeat("]", jsonguard.MaxDepth) + `}`, clearbar.BadResponse, "", 0},
		{"no embeddings", 200, `{}`, clearbar.BadResponse, "", 0},
		{"too few vectors", 200, `{"embeddings":[{"values":[1,2]}]}`, clearbar.BadResponse, "", 0},
		{"too many vectors", 200, `{"embeddings":[{"values":[1]},{"values":[2]},{"values":[3]}]}`, clearbar.BadResponse, "", 0},
		{"an empty vector", 200, `{"embeddings":[{"values":[1]},{"values":[]}]}`, clearbar.BadResponse, "", 0},
		{"a value that is not a number, holding the key", 200, `{"embeddings":[{"values":[1]},{"values":["` + providertest.APIKey + `"]}]}`, clearbar.BadResponse, "", 0},
		{"a value beyond float32", 200, `{"embeddings":[{"values":[1]},{"values":[1e300]}]}`, clearbar.BadResponse, "", 0},
	}
	for _, tt := range tests {
		var es embedServer
		srv := es.start(t, func(int, string) (int, string) { return tt.status, tt.body })
		p := newTestProvider(t, srv, providertest.APIKey)
		_, err := p.Embed(context.Background(), &clearbar.EmbedCall{Model: "gemini-embedding-001", Input: []string{"a", "b"}, EncodingFormat: clearbar.EncodingBase64})
		e := clearbar.AsError(err)
		if err == nil || e.Class != tt.class || e.Provider != "gem" || e.Model != "gemini-embedding-001" || e.Message == "" {
			t.Errorf("%s: %v, want %s", tt.explanation, err, tt.class)
			continue
		}
		if e.Code != tt.code || e.RetryAfter != tt.retryAfter {
			t.Errorf("%s: code %q retry-after %s, want %q %s", tt.explanation, e.Code, e.RetryAfter, tt.code, tt.retryAfter)
		}
		if tt.status >= 400 && e.Status != tt.status {
			t.Errorf("%s: status %d", tt.explanation, e.Status)
		}
		for _, leak := range []string{providertest.APIKey, providertest.APIKey[:12], echoed} {
			if strings.Contains(err.Error(), leak) || strings.Contains(e.Message, leak) || strings.Contains(fmt.Sprint(e.Err), leak) {
				t.Errorf("%s: the key leaks: %v / %v", tt.explanation, err, e.Err)
			}
		}
		if deep := strings.HasPrefix(tt.explanation, "nested too deep"); deep != strings.Contains(e.Message, "nests arrays and objects more than") {
			t.Errorf("%s: message %q", tt.explanation, e.Message)
		}
		if es.count() != 1 {
			t.Errorf("%s: %d requests, want 1", tt.explanation, es.count())
		}
	}
}

// TestEmbedInputErrors checks that what Gemini cannot embed is refused, naming the parameter,
// before any request.
func TestEmbedInputErrors(t *testing.T) {
	var es embedServer
	srv := es.start(t, func(_ int, body string) (int, string) { return 200, embedAnswer(body) })
	p := newTestProvider(t, srv, providertest.APIKey)
	tests := []struct {
		explanation string
		call        clearbar.EmbedCall
		param       string
	}{
		{"token ids", clearbar.EmbedCall{Body: []byte(`{"model":"embed","input":[[1,2,3]]}`)}, "input"},
		{"no input at all", clearbar.EmbedCall{}, "input"},
		{"an empty list", clearbar.EmbedCall{Input: []string{}}, "input"},
		{"an empty text", clearbar.EmbedCall{Input: []string{"a", ""}}, "input"},
		{"task_type not a string", clearbar.EmbedCall{Input: []string{"a"}, Body: []byte(`{"input":"a","task_type":7}`)}, "task_type"},
	}
	for _, tt := range tests {
		tt.call.Model = "gemini-embedding-001"
		_, err := p.Embed(context.Background(), &tt.call)
		e := clearbar.AsError(err)
		if err == nil || e.Class != clearbar.ClientError || e.Param != tt.param || e.Provider != "gem" || e.Model != "gemini-embedding-001" {
			t.Errorf("%s: %v (param %q), want a ClientError naming %s", tt.explanation, err, e.Param, tt.param)
		}
		if tt.param == "input" && !strings.Contains(e.Message, "input") {
			t.Errorf("%s: message %q does not say input", tt.explanation, e.Message)
		}
	}
	if _, err := p.Embed(context.Background(), nil); clearbar.ClassOf(err) != clearbar.Internal {
		t.Errorf("nil call: %v", err)
	}
	if es.count() != 0 {
		t.Errorf("%d requests sent, want none", es.count())
	}
}

// TestEmbedKeyRotation checks that a rejected key moves the provider to the next one, as for
// chat.
func TestEmbedKeyRotation(t *testing.T) {
	var es embedServer
	srv := es.start(t, func(n int, body string) (int, string) {
		if n == 1 {
			return 400, `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}`
		}
		return 200, embedAnswer(body)
	})
	p := newTestProvider(t, srv, "key-one-xxxx", "key-two-xxxx")
	if _, err := p.Embed(context.Background(), &clearbar.EmbedCall{Model: "m", Input: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(es.keys, ",") != "key-one-xxxx,key-two-xxxx" {
		t.Errorf("keys %q", es.keys)
	}
}

// TestEmbedCanceled checks that a caller that gives up gets Canceled, and that the model's
// timeout bounds an embeddings call.
func TestEmbedCanceled(t *testing.T) {
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	p := newTestProvider(t, srv, providertest.APIKey)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := p.Embed(ctx, &clearbar.EmbedCall{Model: "m", Input: []string{"x"}})
	if c := clearbar.ClassOf(err); c != clearbar.Canceled {
		t.Errorf("class %s (%v), want canceled", c, err)
	}

	sp := specProvider(srv.URL, providertest.APIKey)
	sp.Timeout = spec.Duration(50 * time.Millisecond)
	pp, err := New(provider.Config{Provider: sp, HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	go func() { <-arrived }()
	_, err = pp.(*Provider).Embed(context.Background(), &clearbar.EmbedCall{Model: "m", Input: []string{"x"}})
	if c := clearbar.ClassOf(err); c != clearbar.Timeout {
		t.Errorf("class %s (%v), want timeout", c, err)
	}
}

// TestEmbedUsage: Gemini sends no usage today; should an answer carry usageMetadata, its
// promptTokenCount is reported (summed over the requests of a call).
func TestEmbedUsage(t *testing.T) {
	var es embedServer
	srv := es.start(t, func(_ int, body string) (int, string) {
		return 200, strings.TrimSuffix(embedAnswer(body), "}") + `,"usageMetadata":{"promptTokenCount":5}}`
	})
	p := newTestProvider(t, srv, providertest.APIKey)
	input := make([]string, 101)
	for i := range input {
		input[i] = "x"
	}
	r, err := p.Embed(context.Background(), &clearbar.EmbedCall{Model: "m", Input: input})
	if err != nil {
		t.Fatal(err)
	}
	if !r.HasUsage || r.Usage.PromptTokens != 10 || gjson.GetBytes(r.Body, "usage").Raw != `{"prompt_tokens":10,"total_tokens":10}` {
		t.Errorf("usage %+v in %s", r.Usage, gjson.GetBytes(r.Body, "usage").Raw)
	}
}
