package gateway_test

// The conformance world shared by the SDK tests against every adapter (anthropic_sdk_test.go,
// openai_world_sdk_test.go) and the Node SDK tests (node_sdk_test.go): a gateway with a client
// key, in front of four fake upstreams, one per adapter: an OpenAI-compatible one (reached
// through the real provider/openai adapter), an Anthropic one (provider/anthropic), a Gemini
// one (provider/gemini) and an Azure OpenAI one (provider/azure). Each answers by replaying the
// recorded wire fixtures of provider/providertest, chosen by the upstream model id (Azure: the
// deployment) the gateway asks for, so that one spec gives every behaviour a category of its
// own: a client asking for clearbar/an-limited is asking for "the Anthropic upstream answers
// 429". The Node tests, which cannot script the upstreams, rely on that; worldSpec lists the
// categories.

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/health"
	"github.com/clearbar/clearbar/provider"
	anthropicadapter "github.com/clearbar/clearbar/provider/anthropic"
	"github.com/clearbar/clearbar/provider/azure"
	"github.com/clearbar/clearbar/provider/gemini"
	openaiadapter "github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/provider/providertest"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

// The world's keys: the client's (the only one the gateway accepts) and the upstreams'.
// No upstream key may ever reach a client.
const (
	worldClientKey = "sk-clearbar-world-client"
	worldOAKey     = "sk-oa-world-SECRET-key"
	worldANKey     = "sk-ant-world-SECRET-key"
	worldGEKey     = "AIzaSyWorld-SECRET-gemini-key-0000000"
	worldAZKey     = "az-world-SECRET-key-0123456789abcdef"
	// worldAzureVersion is the api-version the Azure deployments are called with.
	worldAzureVersion = "2024-10-21"
)

// worldJSONAnswer is what the upstreams answer when asked for JSON: the Anthropic model of the
// extract cascade (claude-json) always, the OpenAI-compatible and Azure ones when the request
// has a json_schema response_format (Gemini answers with its own recording). It is valid for
// the extract category's schema and for the schema the Node tests send.
const worldJSONAnswer = `{"id":"A-1","city":"Paris","temp_c":18}`

// worldSpec is the spec of the world. Each category routes to one model whose upstream model
// id (an Azure deployment's name) selects the upstream's behaviour (see oaBehaviour,
// anBehaviour, geBehaviour and azBehaviour):
//
//	category                 upstream model                 behaviour
//	oa (default) / an        gpt-up / claude-up             healthy: text, streams, tool calls,
//	ge / az                  gemini-3-up / az-up            JSON
//	extract                  gpt-up → claude-json           cascade with a JSON Schema validator:
//	                                                        the OpenAI model's prose fails, the
//	                                                        Anthropic model's JSON passes
//	oa-limited / an-limited  gpt-429 / claude-429           429 with a 40–50 ms retry-after
//	ge-limited / az-limited  gemini-3-429 / az-429          (Gemini's in RetryInfo.retryDelay)
//	oa-down / an-down        gpt-500 / claude-529           500 without a body / 529
//	ge-down / az-down        gemini-3-503 / az-500          overloaded_error / 503 UNAVAILABLE /
//	                                                        500 server_error
//	oa-reject / an-reject    gpt-400 / claude-400           400 invalid_request_error / Gemini's
//	ge-reject / az-reject    gemini-3-400 / az-400          INVALID_ARGUMENT / Azure's
//	                                                        content_filter refusal
//	oa-broke / an-broke      gpt-quota / claude-402         out of credit: 429 insufficient_quota
//	ge-broke                 gemini-3-quota                 / 402 billing_error / a spent per-day
//	                                                        quota (no Azure recording)
//	oa-cut / an-cut          gpt-cut / claude-cut           streams fail after the first content
//	ge-cut / az-cut          gemini-3-cut / az-cut          with an error event or chunk
//	                                                        (non-streams are healthy)
//	oa-reset / an-reset      gpt-reset / claude-reset       streams are cut by a connection reset
//	ge-reset / az-reset      gemini-3-reset / az-reset      (an-reset's right after message_start,
//	                                                        before any of the answer)
//	an-reset-fallback        claude-reset → claude-up       an-reset with a fallback
//	az-async                 az-async                       Azure's asynchronous content filter:
//	                                                        annotation chunks with an empty id
//	az-noid                  az-noid                        a stream whose first chunk has no id,
//	                                                        model or object
//	az-filtered              az-filtered                    the asynchronous filter blocks the
//	                                                        answer (finish_reason content_filter)
//
// The Gemini models are Gemini 3 models to the adapter (gemini-3-…), and the fake Gemini
// upstream refuses, as Gemini 3 does, a conversation whose function calls come back without
// their thought signatures. The gateway retries nothing itself (retry attempts 0, no
// fallbacks), so every failure reaches the client as the SDK sees it, and the SDK's own retries
// are what the tests count.
const worldSpec = `version: 1
name: sdk-conformance
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
retry: {attempts: 0, backoff: 1ms}
providers:
  oa: {type: openai-compatible, base_url: OA_URL/v1, api_key: "` + worldOAKey + `"}
  an: {type: anthropic, base_url: AN_URL, api_key: "` + worldANKey + `"}
  ge: {type: gemini, base_url: GE_URL, api_key: "` + worldGEKey + `"}
  az: {type: azure-openai, base_url: AZ_URL, api_version: "` + worldAzureVersion + `", api_key: "` + worldAZKey + `"}
models:
  gpt:            {provider: oa, model: gpt-up,         catalog: gpt-4o-mini,            latency: {p50: 10ms, p95: 20ms}}
  gpt-limited:    {provider: oa, model: gpt-429,        catalog: gpt-4o-mini,            latency: {p50: 10ms, p95: 20ms}}
  gpt-down:       {provider: oa, model: gpt-500,        catalog: gpt-4o-mini,            latency: {p50: 10ms, p95: 20ms}}
  gpt-reject:     {provider: oa, model: gpt-400,        catalog: gpt-4o-mini,            latency: {p50: 10ms, p95: 20ms}}
  gpt-cut:        {provider: oa, model: gpt-cut,        catalog: gpt-4o-mini,            latency: {p50: 10ms, p95: 20ms}}
  gpt-broke:      {provider: oa, model: gpt-quota,      catalog: gpt-4o-mini,            latency: {p50: 10ms, p95: 20ms}}
  gpt-reset:      {provider: oa, model: gpt-reset,      catalog: gpt-4o-mini,            latency: {p50: 10ms, p95: 20ms}}
  claude:         {provider: an, model: claude-up,      catalog: claude-sonnet-4-5,      latency: {p50: 10ms, p95: 20ms}}
  claude-json:    {provider: an, model: claude-json,    catalog: claude-sonnet-4-5,      latency: {p50: 10ms, p95: 20ms}}
  claude-limited: {provider: an, model: claude-429,     catalog: claude-sonnet-4-5,      latency: {p50: 10ms, p95: 20ms}}
  claude-down:    {provider: an, model: claude-529,     catalog: claude-sonnet-4-5,      latency: {p50: 10ms, p95: 20ms}}
  claude-reject:  {provider: an, model: claude-400,     catalog: claude-sonnet-4-5,      latency: {p50: 10ms, p95: 20ms}}
  claude-cut:     {provider: an, model: claude-cut,     catalog: claude-sonnet-4-5,      latency: {p50: 10ms, p95: 20ms}}
  claude-broke:   {provider: an, model: claude-402,     catalog: claude-sonnet-4-5,      latency: {p50: 10ms, p95: 20ms}}
  claude-reset:   {provider: an, model: claude-reset,   catalog: claude-sonnet-4-5,      latency: {p50: 10ms, p95: 20ms}}
  gemini:         {provider: ge, model: gemini-3-up,    catalog: gemini-3-flash-preview, latency: {p50: 10ms, p95: 20ms}}
  gemini-limited: {provider: ge, model: gemini-3-429,   catalog: gemini-3-flash-preview, latency: {p50: 10ms, p95: 20ms}}
  gemini-down:    {provider: ge, model: gemini-3-503,   catalog: gemini-3-flash-preview, latency: {p50: 10ms, p95: 20ms}}
  gemini-reject:  {provider: ge, model: gemini-3-400,   catalog: gemini-3-flash-preview, latency: {p50: 10ms, p95: 20ms}}
  gemini-broke:   {provider: ge, model: gemini-3-quota, catalog: gemini-3-flash-preview, latency: {p50: 10ms, p95: 20ms}}
  gemini-cut:     {provider: ge, model: gemini-3-cut,   catalog: gemini-3-flash-preview, latency: {p50: 10ms, p95: 20ms}}
  gemini-reset:   {provider: ge, model: gemini-3-reset, catalog: gemini-3-flash-preview, latency: {p50: 10ms, p95: 20ms}}
  azure:          {provider: az, model: az-up,          catalog: gpt-4o,                 latency: {p50: 10ms, p95: 20ms}}
  azure-limited:  {provider: az, model: az-429,         catalog: gpt-4o,                 latency: {p50: 10ms, p95: 20ms}}
  azure-down:     {provider: az, model: az-500,         catalog: gpt-4o,                 latency: {p50: 10ms, p95: 20ms}}
  azure-reject:   {provider: az, model: az-400,         catalog: gpt-4o,                 latency: {p50: 10ms, p95: 20ms}}
  azure-cut:      {provider: az, model: az-cut,         catalog: gpt-4o,                 latency: {p50: 10ms, p95: 20ms}}
  azure-reset:    {provider: az, model: az-reset,       catalog: gpt-4o,                 latency: {p50: 10ms, p95: 20ms}}
  azure-async:    {provider: az, model: az-async,       catalog: gpt-4o,                 latency: {p50: 10ms, p95: 20ms}}
  azure-noid:     {provider: az, model: az-noid,        catalog: gpt-4o,                 latency: {p50: 10ms, p95: 20ms}}
  azure-filtered: {provider: az, model: az-filtered,    catalog: gpt-4o,                 latency: {p50: 10ms, p95: 20ms}}
categories:
  - {name: oa, default: true, share: 0.25, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gpt}, assume: {pass_rate: {gpt: 0.95}}}
  - {name: an, share: 0.25, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: claude}, assume: {pass_rate: {claude: 0.95}}}
  - {name: ge, share: 0.25, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gemini}, assume: {pass_rate: {gemini: 0.95}}}
  - {name: az, share: 0.25, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: azure}, assume: {pass_rate: {azure: 0.95}}}
  - name: extract
    share: 0
    tokens: {in: 100, out: 10}
    quality_bar: 0.9
    route:
      cascade: [gpt, claude-json]
      validate: [{json_schema: {inline: {type: object, required: [id], properties: {id: {type: string}}}}}]
    assume: {pass_rate: {gpt: 0.9, claude-json: 0.97}, validator: {detect: 0.9, false_alarm: 0.01}}
  - {name: oa-limited, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gpt-limited}, assume: {pass_rate: {gpt-limited: 0.95}}}
  - {name: an-limited, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: claude-limited}, assume: {pass_rate: {claude-limited: 0.95}}}
  - {name: ge-limited, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gemini-limited}, assume: {pass_rate: {gemini-limited: 0.95}}}
  - {name: az-limited, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: azure-limited}, assume: {pass_rate: {azure-limited: 0.95}}}
  - {name: oa-down, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gpt-down}, assume: {pass_rate: {gpt-down: 0.95}}}
  - {name: an-down, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: claude-down}, assume: {pass_rate: {claude-down: 0.95}}}
  - {name: ge-down, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gemini-down}, assume: {pass_rate: {gemini-down: 0.95}}}
  - {name: az-down, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: azure-down}, assume: {pass_rate: {azure-down: 0.95}}}
  - {name: oa-reject, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gpt-reject}, assume: {pass_rate: {gpt-reject: 0.95}}}
  - {name: an-reject, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: claude-reject}, assume: {pass_rate: {claude-reject: 0.95}}}
  - {name: ge-reject, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gemini-reject}, assume: {pass_rate: {gemini-reject: 0.95}}}
  - {name: az-reject, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: azure-reject}, assume: {pass_rate: {azure-reject: 0.95}}}
  - {name: oa-broke, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gpt-broke}, assume: {pass_rate: {gpt-broke: 0.95}}}
  - {name: an-broke, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: claude-broke}, assume: {pass_rate: {claude-broke: 0.95}}}
  - {name: ge-broke, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gemini-broke}, assume: {pass_rate: {gemini-broke: 0.95}}}
  - {name: oa-cut, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gpt-cut}, assume: {pass_rate: {gpt-cut: 0.95}}}
  - {name: an-cut, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: claude-cut}, assume: {pass_rate: {claude-cut: 0.95}}}
  - {name: ge-cut, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gemini-cut}, assume: {pass_rate: {gemini-cut: 0.95}}}
  - {name: az-cut, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: azure-cut}, assume: {pass_rate: {azure-cut: 0.95}}}
  - {name: oa-reset, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gpt-reset}, assume: {pass_rate: {gpt-reset: 0.95}}}
  - {name: an-reset, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: claude-reset}, assume: {pass_rate: {claude-reset: 0.95}}}
  - {name: ge-reset, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gemini-reset}, assume: {pass_rate: {gemini-reset: 0.95}}}
  - {name: az-reset, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: azure-reset}, assume: {pass_rate: {azure-reset: 0.95}}}
  - {name: az-async, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: azure-async}, assume: {pass_rate: {azure-async: 0.95}}}
  - {name: az-noid, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: azure-noid}, assume: {pass_rate: {azure-noid: 0.95}}}
  - {name: az-filtered, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: azure-filtered}, assume: {pass_rate: {azure-filtered: 0.95}}}
  - {name: an-reset-fallback, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: claude-reset}, fallback: [claude], assume: {pass_rate: {claude-reset: 0.95, claude: 0.95}}}
  # Every model of the plan overloaded: the gateway falls back itself, then tells the client
  # not to retry.
  - {name: oa-exhausted, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gpt-down}, fallback: [claude-down], assume: {pass_rate: {gpt-down: 0.95, claude-down: 0.95}}}
keys:
  clients:
    - {name: sdk, hash: "CLIENT_HASH", tier: pro}
`

// world is one test's gateway and upstreams.
type world struct {
	gw *gateway.Gateway
	// srv serves the gateway on loopback; its URL is the SDKs' base URL (with /v1 for OpenAI's).
	srv *httptest.Server
	// oa is the OpenAI-compatible upstream, an the Anthropic one, ge the Gemini one and az the
	// Azure OpenAI one.
	oa *fakeUpstream
	an *vendorUpstream
	ge *vendorUpstream
	az *vendorUpstream
	// decisions has every decision the gateway recorded; inbound the headers of every
	// /v1/messages and /v1/chat/completions request it received, retries included.
	decisions *decisionLog
	inbound   *inboundLog
	// http is a plain client to the gateway.
	http *http.Client
}

// newWorld starts a world. Its breakers never open: the Node tests send many failing requests
// to the same models, and every one of them must reach the upstream.
func newWorld(t *testing.T) *world {
	t.Helper()
	fx := worldFixtures(t)
	w := &world{decisions: &decisionLog{}, inbound: &inboundLog{}}
	w.oa = &fakeUpstream{script: oaBehaviour(fx)}
	w.oa.srv = startServer(t, w.oa, 0)
	w.an = &vendorUpstream{vendor: "Anthropic", route: anthropicRoute, notFound: anthropicNotFound, script: anBehaviour(fx)}
	w.an.srv = startServer(t, w.an, 0)
	w.ge = &vendorUpstream{vendor: "Gemini", route: geminiRoute, notFound: geminiNotFound, script: geBehaviour(fx)}
	w.ge.srv = startServer(t, w.ge, 0)
	w.az = &vendorUpstream{vendor: "Azure OpenAI", route: azureRoute, notFound: azureNotFound, script: azBehaviour(fx)}
	w.az.srv = startServer(t, w.az, 0)

	src := strings.NewReplacer("OA_URL", w.oa.srv.URL, "AN_URL", w.an.srv.URL, "GE_URL", w.ge.srv.URL, "AZ_URL", w.az.srv.URL,
		"CLIENT_HASH", gateway.HashKey(worldClientKey)).Replace(worldSpec)
	s, err := spec.Parse([]byte(src), "world.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := provider.NewRegistry()
	reg.Register("openai-compatible", openaiadapter.New)
	reg.Register("anthropic", anthropicadapter.New)
	reg.Register(gemini.Type, gemini.New)
	reg.Register(azure.Type, azure.New)
	providers, err := reg.NewAll(s, provider.Config{HTTP: &http.Client{Transport: newTransport(t, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	checker, err := validate.NewChecker(s, validate.Env{Caller: validate.ProviderCaller{Providers: providers}})
	if err != nil {
		t.Fatal(err)
	}
	never := 1 << 30
	w.gw, err = gateway.New(gateway.Options{Spec: s, Providers: providers, Recorder: w.decisions, Decisions: w.decisions, Checker: checker,
		Breakers: health.NewSet(health.Settings{ConsecutiveFailures: never, MinRequests: never}, nil)})
	if err != nil {
		t.Fatal(err)
	}
	w.srv = startServer(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/messages" || r.URL.Path == "/v1/chat/completions" {
			w.inbound.add(r.Header)
		}
		w.gw.ServeHTTP(rw, r)
	}), 0)
	w.http = &http.Client{Transport: newTransport(t, 0)}
	return w
}

// upstreamCount returns the number of calls every upstream of the world got.
func (w *world) upstreamCount() int {
	return w.oa.count("") + w.an.count("") + w.ge.count("") + w.az.count("")
}

// worldFixtures returns the recorded answers of every dialect by "dialect/name".
func worldFixtures(t *testing.T) map[string]providertest.Fixture {
	t.Helper()
	out := map[string]providertest.Fixture{}
	for _, dialect := range []string{"openai", "anthropic", "gemini", "azure"} {
		for _, f := range providertest.Fixtures(t, dialect) {
			out[dialect+"/"+f.Name] = f
		}
	}
	return out
}

// fixture returns a recorded answer, panicking (on the upstream's goroutine, where t cannot
// be used) when a name is wrong: that is a bug in this file, found by any run.
func fixture(fx map[string]providertest.Fixture, name string) providertest.Fixture {
	f, ok := fx[name]
	if !ok {
		panic("no fixture " + name)
	}
	return f
}

// replay sends a recorded answer as the fixture's upstream sent it: the status, the headers
// (changed by override pairs of name and value, an empty value deleting the header), and the
// body, an event stream one event at a time, each flushed. A fixture whose replay ends with a
// reset then resets the connection.
func replay(w http.ResponseWriter, f providertest.Fixture, override ...string) {
	h := w.Header()
	for name, vals := range f.Header {
		if name != "Content-Length" {
			h[name] = slices.Clone(vals)
		}
	}
	for i := 0; i+1 < len(override); i += 2 {
		if override[i+1] == "" {
			h.Del(override[i])
		} else {
			h.Set(override[i], override[i+1])
		}
	}
	w.WriteHeader(f.Status)
	rc := http.NewResponseController(w)
	if strings.HasPrefix(f.Header.Get("Content-Type"), "text/event-stream") {
		for _, ev := range sseEvents(string(f.Body)) {
			if _, err := io.WriteString(w, ev); err != nil {
				return
			}
			rc.Flush()
		}
	} else {
		w.Write(f.Body)
	}
	if f.Replay.After == "reset" {
		rc.Flush()
		resetConn(w, true)
	}
}

// sseEvents splits an event stream into its events, each with the blank line that ends it (LF
// LF, or CRLF CRLF as Gemini sends them); a last event without one is kept as it is.
func sseEvents(body string) []string {
	var out []string
	for body != "" {
		n := len(body)
		if i := strings.Index(body, "\n\n"); i >= 0 {
			n = i + 2
		}
		if i := strings.Index(body, "\r\n\r\n"); i >= 0 && i+4 < n {
			n = i + 4
		}
		out = append(out, body[:n])
		body = body[n:]
	}
	return out
}

// withContent returns a recorded completion body with its text replaced: the OpenAI message
// content or the Anthropic content blocks.
func withContent(f providertest.Fixture, dialect, text string) providertest.Fixture {
	var err error
	if dialect == "openai" {
		f.Body, err = sjson.SetBytes(f.Body, "choices.0.message.content", text)
	} else {
		f.Body, err = sjson.SetRawBytes(f.Body, "content", []byte(`[{"type":"text","text":`+js(text)+`}]`))
	}
	if err != nil {
		panic(err)
	}
	return f
}

// withStreamText returns a recorded Anthropic stream (stream_basic: two text deltas, "Hello"
// and " there!") with text in their place, split in two.
func withStreamText(f providertest.Fixture, text string) providertest.Fixture {
	half := len(text) / 2
	body := string(f.Body)
	for _, d := range []struct{ old, new string }{{"Hello", text[:half]}, {" there!", text[half:]}} {
		old := `"delta":{"type":"text_delta","text":` + js(d.old) + `}`
		if !strings.Contains(body, old) {
			panic("withStreamText: the fixture has no delta " + d.old)
		}
		body = strings.Replace(body, old, `"delta":{"type":"text_delta","text":`+js(d.new)+`}`, 1)
	}
	f.Body = []byte(body)
	return f
}

// oaBehaviour answers the OpenAI-compatible upstream's calls by model id (see worldSpec). A
// healthy model answers a request whose last message is the user's and that offers tools with
// tool calls, a json_schema response format with worldJSONAnswer, anything else with text.
func oaBehaviour(fx map[string]providertest.Fixture) script {
	return func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		f := func(name string) providertest.Fixture { return fixture(fx, "openai/"+name) }
		switch {
		case c.Model == "gpt-429":
			replay(w, f("error_429_retry_after_ms"))
		case c.Model == "gpt-500":
			replay(w, f("error_500_empty_body"))
		case c.Model == "gpt-400":
			replay(w, f("error_400_invalid_request"))
		case c.Model == "gpt-quota":
			replay(w, f("error_429_insufficient_quota"))
		case c.Model == "gpt-cut" && c.Stream:
			replay(w, f("stream_error_chunk"))
		case c.Model == "gpt-reset" && c.Stream:
			replay(w, f("stream_cut_reset"))
		case c.Stream && wantsTools(c.Body, "openai"):
			replay(w, f("stream_tool_calls"))
		case c.Stream:
			replay(w, f("stream_basic"))
		case wantsTools(c.Body, "openai"):
			replay(w, f("complete_tool_calls"))
		case gjson.GetBytes(c.Body, "response_format.type").Str == "json_schema":
			replay(w, withContent(f("complete_basic"), "openai", worldJSONAnswer))
		default:
			replay(w, f("complete_basic"))
		}
	}
}

// anBehaviour answers the Anthropic upstream's calls by model id (see worldSpec), a healthy
// model as oaBehaviour does. Anthropic's own retry-after is in whole seconds; the replays
// shorten it to 40 ms (a fraction the gateway reads) to keep the SDKs' retries fast.
func anBehaviour(fx map[string]providertest.Fixture) script {
	return func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		f := func(name string) providertest.Fixture { return fixture(fx, "anthropic/"+name) }
		switch {
		case c.Model == "claude-429":
			replay(w, f("error_429_rate_limit"), "Retry-After", "0.04")
		case c.Model == "claude-529":
			replay(w, f("error_529_overloaded"), "Retry-After", "0.04")
		case c.Model == "claude-400":
			replay(w, f("error_400_invalid_request"))
		case c.Model == "claude-402":
			replay(w, f("error_402_billing"))
		case c.Model == "claude-cut" && c.Stream:
			replay(w, f("stream_error_event"))
		case c.Model == "claude-reset" && c.Stream:
			replay(w, f("stream_cut_reset"))
		case c.Model == "claude-json" && c.Stream:
			replay(w, withStreamText(f("stream_basic"), worldJSONAnswer))
		case c.Model == "claude-json":
			replay(w, withContent(f("complete_basic"), "anthropic", worldJSONAnswer))
		case c.Stream && wantsTools(c.Body, "anthropic"):
			replay(w, f("stream_tool_use"))
		case c.Stream:
			replay(w, f("stream_basic"))
		case wantsTools(c.Body, "anthropic"):
			replay(w, f("complete_tool_use"))
		default:
			replay(w, f("complete_basic"))
		}
	}
}

// geBehaviour answers the Gemini upstream's calls by model id (see worldSpec), a healthy model
// as oaBehaviour does (a request for JSON with the recorded structured answer,
// complete_json_schema; a request that forces a function call with calls), and the second turn of a function-calling conversation (the function
// responses) with the recorded second turn. Like Gemini 3, it refuses with a 400 a
// conversation in which a model turn's function calls came back without a thought signature.
// Gemini's per-minute 429 says when to retry in RetryInfo.retryDelay (13 s in the recording):
// the replay shortens it to 40 ms.
func geBehaviour(fx map[string]providertest.Fixture) script {
	return func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		f := func(name string) providertest.Fixture { return fixture(fx, "gemini/"+name) }
		switch {
		case c.Model == "gemini-3-429":
			replay(w, withRetryDelay(f("error_429_retry_info"), "0.040s"))
		case c.Model == "gemini-3-503":
			replay(w, f("error_503_unavailable"))
		case c.Model == "gemini-3-400":
			replay(w, f("error_400_invalid_argument"))
		case c.Model == "gemini-3-quota":
			replay(w, f("error_429_per_day_quota"))
		case unsignedCall(c.Body) != "":
			replay(w, missingSignature(f("error_400_invalid_argument"), unsignedCall(c.Body)))
		case c.Model == "gemini-3-cut" && c.Stream:
			replay(w, f("stream_error_event"))
		case c.Model == "gemini-3-reset" && c.Stream:
			replay(w, f("stream_cut_reset"))
		case c.Stream && callsFunctions(c.Body):
			replay(w, f("stream_tool_call_signature"))
		case c.Stream:
			replay(w, f("stream_basic"))
		case callsFunctions(c.Body):
			replay(w, f("complete_tool_calls"))
		case gjson.GetBytes(c.Body, "generationConfig.responseMimeType").Str == "application/json":
			replay(w, f("complete_json_schema"))
		case gjson.GetBytes(c.Body, "contents.@reverse.0.parts.#.functionResponse|#").Int() > 0:
			replay(w, f("complete_tool_round_trip"))
		default:
			replay(w, f("complete_basic"))
		}
	}
}

// azBehaviour answers the Azure OpenAI upstream's calls by deployment (see worldSpec), a
// healthy deployment as oaBehaviour does. No Azure recording has tool calls: they are the
// recorded answers with the content replaced by calls (azureToolCalls, azureToolStream).
// Azure's 429 asks for 5.5 s: the replay asks for 40 ms.
func azBehaviour(fx map[string]providertest.Fixture) script {
	return func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		f := func(name string) providertest.Fixture { return fixture(fx, "azure/"+name) }
		switch {
		case c.Model == "az-429":
			replay(w, f("error_429_retry_after_ms"), "Retry-After-Ms", "40", "Retry-After", "1")
		case c.Model == "az-500":
			replay(w, f("error_500"))
		case c.Model == "az-400":
			replay(w, f("error_400_content_filter"))
		case c.Model == "az-cut" && c.Stream:
			replay(w, f("stream_error_chunk"))
		case c.Model == "az-reset" && c.Stream:
			// The recording of a stream that ends without [DONE], cut by a reset instead.
			cut := f("stream_cut_no_done")
			cut.Replay.After = "reset"
			replay(w, cut)
		case c.Model == "az-async" && c.Stream:
			replay(w, f("stream_async_filter_annotations"))
		case c.Model == "az-noid" && c.Stream:
			replay(w, f("stream_chunk_without_id"))
		case c.Model == "az-filtered" && c.Stream:
			replay(w, f("stream_async_filter_blocked"))
		case c.Stream && wantsTools(c.Body, "openai"):
			replay(w, azureToolStream(f("stream_empty_first_chunk")))
		case c.Stream:
			replay(w, f("stream_empty_first_chunk"))
		case wantsTools(c.Body, "openai"):
			replay(w, azureToolCalls(f("complete_basic")))
		case gjson.GetBytes(c.Body, "response_format.type").Str == "json_schema":
			replay(w, withContent(f("complete_basic"), "openai", worldJSONAnswer))
		default:
			replay(w, f("complete_basic"))
		}
	}
}

// The tool calls the Azure upstream makes, as "id name arguments": two parallel calls.
var azureCalls = [][3]string{
	{"call_Az8Lk2mQ4rT7vX1bN3pW5yZ0", "get_weather", `{"location":"Paris"}`},
	{"call_Az9Mn3pR5sU8wY2cO4qX6zA1", "get_time", `{"tz":"Europe/Paris"}`},
}

// azureToolCalls returns a recorded Azure completion (complete_basic) whose message makes the
// azureCalls instead of answering, with finish_reason tool_calls.
func azureToolCalls(f providertest.Fixture) providertest.Fixture {
	var calls []string
	for _, c := range azureCalls {
		calls = append(calls, `{"id":`+js(c[0])+`,"type":"function","function":{"name":`+js(c[1])+`,"arguments":`+js(c[2])+`}}`)
	}
	f = withJSON(f, "choices.0.message.content", "null")
	f = withJSON(f, "choices.0.message.tool_calls", "["+strings.Join(calls, ",")+"]")
	return withJSON(f, "choices.0.finish_reason", `"tool_calls"`)
}

// azureToolStream returns a recorded Azure stream (stream_empty_first_chunk: the empty first
// chunk, a role chunk, one content chunk, the finish chunk, the usage chunk, [DONE]) whose
// content chunk is replaced by the azureCalls' deltas, the calls' fragments interleaving as
// parallel calls do, and whose finish reason is tool_calls.
func azureToolStream(f providertest.Fixture) providertest.Fixture {
	events := sseEvents(string(f.Body))
	data := func(ev string) string { return strings.TrimSuffix(strings.TrimPrefix(ev, "data: "), "\n\n") }
	content := slices.IndexFunc(events, func(ev string) bool { return gjson.Get(data(ev), "choices.0.delta.content").Str != "" })
	finish := slices.IndexFunc(events, func(ev string) bool { return gjson.Get(data(ev), "choices.0.finish_reason").Str == "stop" })
	if content < 0 || finish < 0 {
		panic("azureToolStream: the recording has no content or no finish chunk")
	}
	chunk := func(base, path, raw string) string {
		out, err := sjson.SetRaw(base, path, raw)
		if err != nil {
			panic(err)
		}
		return out
	}
	header := func(i int) string {
		c := azureCalls[i]
		return fmt.Sprintf(`{"tool_calls":[{"index":%d,"id":%s,"type":"function","function":{"name":%s,"arguments":""}}]}`, i, js(c[0]), js(c[1]))
	}
	fragment := func(i int, part string) string {
		return fmt.Sprintf(`{"tool_calls":[{"index":%d,"function":{"arguments":%s}}]}`, i, js(part))
	}
	a0, a1 := azureCalls[0][2], azureCalls[1][2]
	var deltas []string
	for _, d := range []string{header(0), fragment(0, a0[:6]), header(1), fragment(0, a0[6:]), fragment(1, a1[:5]), fragment(1, a1[5:])} {
		deltas = append(deltas, "data: "+chunk(data(events[content]), "choices.0.delta", d)+"\n\n")
	}
	events[finish] = "data: " + chunk(data(events[finish]), "choices.0.finish_reason", `"tool_calls"`) + "\n\n"
	for i := range content {
		if gjson.Get(data(events[i]), "choices.0.delta.content").Exists() {
			events[i] = "data: " + chunk(data(events[i]), "choices.0.delta.content", "null") + "\n\n"
		}
	}
	events = slices.Replace(events, content, content+1, deltas...)
	f.Body = []byte(strings.Join(events, ""))
	return f
}

// withJSON returns a recorded answer with the JSON value at an sjson path of its body replaced
// by raw JSON.
func withJSON(f providertest.Fixture, path, raw string) providertest.Fixture {
	body, err := sjson.SetRawBytes(slices.Clone(f.Body), path, []byte(raw))
	if err != nil {
		panic(err)
	}
	f.Body = body
	return f
}

// withRetryDelay returns a recorded Gemini error with another RetryInfo.retryDelay.
func withRetryDelay(f providertest.Fixture, delay string) providertest.Fixture {
	i := -1
	for k, d := range gjson.GetBytes(f.Body, "error.details").Array() {
		if strings.HasSuffix(d.Get(`\@type`).Str, "google.rpc.RetryInfo") {
			i = k
		}
	}
	if i < 0 {
		panic("withRetryDelay: the recording has no RetryInfo")
	}
	return withJSON(f, "error.details."+strconv.Itoa(i)+".retryDelay", js(delay))
}

// callsFunctions reports whether the Gemini upstream answers a request with function calls:
// when it offers tools and waits for the model to call them, or forces a call (mode ANY, a
// client's tool_choice required or named), tool results or not.
func callsFunctions(body []byte) bool {
	return wantsTools(body, "gemini") || gjson.GetBytes(body, "toolConfig.functionCallingConfig.mode").Str == "ANY"
}

// unsignedCall returns the name of the first function call of a Gemini request's model turn
// that carries no thought signature while none of that turn's calls does, "" when there is
// none: Gemini 3 requires the first call of each step to come back with its signature.
func unsignedCall(body []byte) string {
	name := ""
	gjson.GetBytes(body, "contents").ForEach(func(_, c gjson.Result) bool {
		if c.Get("role").Str != "model" {
			return true
		}
		calls := c.Get("parts.#(functionCall)#")
		if !calls.IsArray() || len(calls.Array()) == 0 {
			return true
		}
		if !gjson.Get(calls.Raw, "#(thoughtSignature!=\"\")").Exists() {
			name = calls.Get("0.functionCall.name").Str
			return false
		}
		return true
	})
	return name
}

// missingSignature returns Gemini's INVALID_ARGUMENT (error_400_invalid_argument) with the
// message Gemini 3 gives a function call that came back without its thought signature.
func missingSignature(f providertest.Fixture, call string) providertest.Fixture {
	msg := "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, " +
		"and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:" + call +
		"` , position 2. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
	f = withJSON(f, "error.message", js(msg))
	body, err := sjson.DeleteBytes(f.Body, "error.details")
	if err != nil {
		panic(err)
	}
	f.Body = body
	return f
}

// wantsTools reports whether a request offers tools and still waits for the model to call
// them: its last message is the user's own (not a tool's result). dialect is the upstream's
// wire format: "openai", "anthropic" or "gemini".
func wantsTools(body []byte, dialect string) bool {
	if !gjson.GetBytes(body, "tools").IsArray() {
		return false
	}
	switch dialect {
	case "openai":
		return gjson.GetBytes(body, "messages.@reverse.0.role").Str == "user"
	case "gemini":
		last := gjson.GetBytes(body, "contents.@reverse.0")
		return last.Get("role").Str == "user" && !strings.Contains(last.Get("parts").Raw, `"functionResponse"`)
	}
	return !strings.Contains(gjson.GetBytes(body, "messages.@reverse.0.content").Raw, `"tool_result"`)
}

// vendorUpstream is a fake upstream of a vendor's own API (Anthropic, Gemini, Azure OpenAI): it
// records every call and answers with its script (the counterpart of fakeUpstream). route
// reads a request: the model it is for (for Azure, the deployment), whether it streams, and
// whether it is a request the vendor serves at all; others get notFound's answer.
type vendorUpstream struct {
	srv      *httptest.Server
	vendor   string
	route    func(r *http.Request, body []byte) (model string, stream, ok bool)
	notFound string
	script   script

	mu    sync.Mutex
	calls []vendorCall
}

// vendorCall is one request a vendorUpstream received.
type vendorCall struct {
	upstreamCall
	Path  string
	Query url.Values
}

func (u *vendorUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	model, stream, ok := u.route(r, body)
	c := vendorCall{upstreamCall{Model: model, Stream: stream, Header: r.Header.Clone(), Body: body}, r.URL.Path, r.URL.Query()}
	u.mu.Lock()
	c.N = 1
	for _, p := range u.calls {
		if p.Model == c.Model {
			c.N++
		}
	}
	u.calls = append(u.calls, c)
	u.mu.Unlock()
	if !ok {
		writeBody(w, http.StatusNotFound, "application/json", u.notFound)
		return
	}
	u.script(w, r, c.upstreamCall)
}

// Not-found answers of the vendors, and the requests they serve.
const (
	anthropicNotFound = `{"type":"error","error":{"type":"not_found_error","message":"no such path"}}`
	geminiNotFound    = `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND"}}`
	azureNotFound     = `{"error":{"code":"404","message":"Resource not found"}}`
)

// anthropicRoute serves POST /v1/messages.
func anthropicRoute(r *http.Request, body []byte) (string, bool, bool) {
	return gjson.GetBytes(body, "model").Str, gjson.GetBytes(body, "stream").Bool(), r.Method == http.MethodPost && r.URL.Path == "/v1/messages"
}

// geminiRoute serves POST /v1beta/models/{model}:generateContent and
// :streamGenerateContent?alt=sse (the only stream the world's recordings are).
func geminiRoute(r *http.Request, body []byte) (string, bool, bool) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1beta/models/")
	model, method, _ := strings.Cut(rest, ":")
	stream := method == "streamGenerateContent"
	ok = ok && r.Method == http.MethodPost && model != "" && (method == "generateContent" || stream && r.URL.Query().Get("alt") == "sse")
	return model, stream, ok
}

// azureRoute serves POST /openai/deployments/{deployment}/chat/completions?api-version=….
func azureRoute(r *http.Request, body []byte) (string, bool, bool) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/openai/deployments/")
	deployment, op, _ := strings.Cut(rest, "/")
	ok = ok && r.Method == http.MethodPost && op == "chat/completions" && r.URL.Query().Get("api-version") == worldAzureVersion
	return deployment, gjson.GetBytes(body, "stream").Bool(), ok
}

// received returns a copy of the calls so far.
func (u *vendorUpstream) received() []vendorCall {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.calls)
}

// count returns the number of calls for an upstream model id ("" for every call).
func (u *vendorUpstream) count(model string) int {
	n := 0
	for _, c := range u.received() {
		if model == "" || c.Model == model {
			n++
		}
	}
	return n
}

// last returns the latest call for an upstream model id, failing the test when there is none.
func (u *vendorUpstream) last(t *testing.T, model string) vendorCall {
	t.Helper()
	calls := u.received()
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Model == model {
			return calls[i]
		}
	}
	t.Fatalf("the %s upstream got no call for %s", u.vendor, model)
	return vendorCall{}
}

// worldHealthy names, for each upstream kind, the spec model of its healthy category (oa, an,
// ge, az) and that model's upstream model id.
var worldHealthy = map[string]struct{ model, upstream string }{
	"oa": {"gpt", "gpt-up"}, "an": {"claude", "claude-up"}, "ge": {"gemini", "gemini-3-up"}, "az": {"azure", "az-up"},
}

// lastCall returns the latest call of the upstream of a kind (oa, an, ge, az) for an upstream
// model id, failing the test when there is none.
func (w *world) lastCall(t *testing.T, kind, model string) vendorCall {
	t.Helper()
	switch kind {
	case "oa":
		return vendorCall{upstreamCall: w.lastOA(t, model), Path: "/v1/chat/completions"}
	case "an":
		return w.an.last(t, model)
	case "ge":
		return w.ge.last(t, model)
	case "az":
		return w.az.last(t, model)
	}
	t.Fatalf("no upstream kind %q", kind)
	return vendorCall{}
}

// lastOA returns the OpenAI-compatible upstream's latest call for a model id.
func (w *world) lastOA(t *testing.T, model string) upstreamCall {
	t.Helper()
	calls := w.oa.received()
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Model == model {
			return calls[i]
		}
	}
	t.Fatalf("the OpenAI upstream got no call for %s", model)
	return upstreamCall{}
}

// decision waits for the decision with id.
func (w *world) decision(t *testing.T, id string) *clearbar.Decision {
	t.Helper()
	return w.decisions.wait(t, id)
}
