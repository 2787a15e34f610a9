package gateway_test

// The conformance world shared by the Anthropic SDK tests (anthropic_sdk_test.go) and the Node
// SDK tests (node_sdk_test.go): a gateway with a client key, in front of two fake upstreams, an
// OpenAI-compatible one (reached through the real provider/openai adapter) and an Anthropic
// one (through provider/anthropic). Both answer by replaying the recorded wire fixtures of
// provider/providertest, chosen by the upstream model id the gateway asks for, so that one spec
// gives every behaviour a category of its own: a client asking for clearbar/an-limited is
// asking for "the Anthropic upstream answers 429". The Node tests, which cannot script the
// upstreams, rely on that; worldSpec lists the categories.

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
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
	openaiadapter "github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/provider/providertest"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

// The world's keys: the client's (the only one the gateway accepts) and the upstreams'.
// Neither upstream key may ever reach a client.
const (
	worldClientKey = "sk-clearbar-world-client"
	worldOAKey     = "sk-oa-world-SECRET-key"
	worldANKey     = "sk-ant-world-SECRET-key"
)

// worldJSONAnswer is what the upstreams answer when asked for JSON: the Anthropic model of the
// extract cascade (claude-json) always, the OpenAI-compatible one when the request has a
// json_schema response_format. It is valid for the extract category's schema and for the
// schema the Node tests send.
const worldJSONAnswer = `{"id":"A-1","city":"Paris","temp_c":18}`

// worldSpec is the spec of the world. Each category routes to one model whose upstream model
// id selects the upstream's behaviour (see oaBehaviour and anBehaviour):
//
//	category                 upstream model            behaviour
//	oa (default) / an        gpt-up / claude-up        healthy: text, streams, tool calls, JSON
//	extract                  gpt-up → claude-json      cascade with a JSON Schema validator: the
//	                                                   OpenAI model's prose fails, the Anthropic
//	                                                   model's JSON passes
//	oa-limited / an-limited  gpt-429 / claude-429      429 with a 40–50 ms retry-after
//	oa-down / an-down        gpt-500 / claude-529      500 without a body / 529 overloaded_error
//	oa-reject / an-reject    gpt-400 / claude-400      400 invalid_request_error
//	oa-broke / an-broke      gpt-quota / claude-402    out of credit: 429 insufficient_quota /
//	                                                   402 billing_error
//	oa-cut / an-cut          gpt-cut / claude-cut      streams fail after the first content with
//	                                                   an error event (non-streams are healthy)
//	oa-reset / an-reset      gpt-reset / claude-reset  streams are cut by a connection reset
//
// The gateway retries nothing itself (retry attempts 0, no fallbacks), so every failure
// reaches the client as the SDK sees it, and the SDK's own retries are what the tests count.
const worldSpec = `version: 1
name: sdk-conformance
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
retry: {attempts: 0, backoff: 1ms}
providers:
  oa: {type: openai-compatible, base_url: OA_URL/v1, api_key: "` + worldOAKey + `"}
  an: {type: anthropic, base_url: AN_URL, api_key: "` + worldANKey + `"}
models:
  gpt:            {provider: oa, model: gpt-up,       catalog: gpt-4o-mini,       latency: {p50: 10ms, p95: 20ms}}
  gpt-limited:    {provider: oa, model: gpt-429,      catalog: gpt-4o-mini,       latency: {p50: 10ms, p95: 20ms}}
  gpt-down:       {provider: oa, model: gpt-500,      catalog: gpt-4o-mini,       latency: {p50: 10ms, p95: 20ms}}
  gpt-reject:     {provider: oa, model: gpt-400,      catalog: gpt-4o-mini,       latency: {p50: 10ms, p95: 20ms}}
  gpt-cut:        {provider: oa, model: gpt-cut,      catalog: gpt-4o-mini,       latency: {p50: 10ms, p95: 20ms}}
  gpt-broke:      {provider: oa, model: gpt-quota,    catalog: gpt-4o-mini,       latency: {p50: 10ms, p95: 20ms}}
  gpt-reset:      {provider: oa, model: gpt-reset,    catalog: gpt-4o-mini,       latency: {p50: 10ms, p95: 20ms}}
  claude:         {provider: an, model: claude-up,    catalog: claude-sonnet-4-5, latency: {p50: 10ms, p95: 20ms}}
  claude-json:    {provider: an, model: claude-json,  catalog: claude-sonnet-4-5, latency: {p50: 10ms, p95: 20ms}}
  claude-limited: {provider: an, model: claude-429,   catalog: claude-sonnet-4-5, latency: {p50: 10ms, p95: 20ms}}
  claude-down:    {provider: an, model: claude-529,   catalog: claude-sonnet-4-5, latency: {p50: 10ms, p95: 20ms}}
  claude-reject:  {provider: an, model: claude-400,   catalog: claude-sonnet-4-5, latency: {p50: 10ms, p95: 20ms}}
  claude-cut:     {provider: an, model: claude-cut,   catalog: claude-sonnet-4-5, latency: {p50: 10ms, p95: 20ms}}
  claude-broke:   {provider: an, model: claude-402,   catalog: claude-sonnet-4-5, latency: {p50: 10ms, p95: 20ms}}
  claude-reset:   {provider: an, model: claude-reset, catalog: claude-sonnet-4-5, latency: {p50: 10ms, p95: 20ms}}
categories:
  - {name: oa, default: true, share: 0.5, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gpt}, assume: {pass_rate: {gpt: 0.95}}}
  - {name: an, share: 0.5, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: claude}, assume: {pass_rate: {claude: 0.95}}}
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
  - {name: oa-down, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gpt-down}, assume: {pass_rate: {gpt-down: 0.95}}}
  - {name: an-down, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: claude-down}, assume: {pass_rate: {claude-down: 0.95}}}
  - {name: oa-reject, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gpt-reject}, assume: {pass_rate: {gpt-reject: 0.95}}}
  - {name: an-reject, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: claude-reject}, assume: {pass_rate: {claude-reject: 0.95}}}
  - {name: oa-broke, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gpt-broke}, assume: {pass_rate: {gpt-broke: 0.95}}}
  - {name: an-broke, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: claude-broke}, assume: {pass_rate: {claude-broke: 0.95}}}
  - {name: oa-cut, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gpt-cut}, assume: {pass_rate: {gpt-cut: 0.95}}}
  - {name: an-cut, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: claude-cut}, assume: {pass_rate: {claude-cut: 0.95}}}
  - {name: oa-reset, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: gpt-reset}, assume: {pass_rate: {gpt-reset: 0.95}}}
  - {name: an-reset, share: 0, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: claude-reset}, assume: {pass_rate: {claude-reset: 0.95}}}
keys:
  clients:
    - {name: sdk, hash: "CLIENT_HASH", tier: pro}
`

// world is one test's gateway and upstreams.
type world struct {
	gw *gateway.Gateway
	// srv serves the gateway on loopback; its URL is the SDKs' base URL (with /v1 for OpenAI's).
	srv *httptest.Server
	// oa is the OpenAI-compatible upstream, an the Anthropic one.
	oa *fakeUpstream
	an *anthropicUpstream
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
	w.an = &anthropicUpstream{script: anBehaviour(fx)}
	w.an.srv = startServer(t, w.an, 0)

	src := strings.NewReplacer("OA_URL", w.oa.srv.URL, "AN_URL", w.an.srv.URL, "CLIENT_HASH", gateway.HashKey(worldClientKey)).Replace(worldSpec)
	s, err := spec.Parse([]byte(src), "world.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := provider.NewRegistry()
	reg.Register("openai-compatible", openaiadapter.New)
	reg.Register("anthropic", anthropicadapter.New)
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

// worldFixtures returns the recorded answers of both dialects by "dialect/name".
func worldFixtures(t *testing.T) map[string]providertest.Fixture {
	t.Helper()
	out := map[string]providertest.Fixture{}
	for _, dialect := range []string{"openai", "anthropic"} {
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
		for ev := range strings.SplitAfterSeq(string(f.Body), "\n\n") {
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

// wantsTools reports whether a request offers tools and still waits for the model to call
// them: its last message is the user's own (not a tool's result).
func wantsTools(body []byte, dialect string) bool {
	if !gjson.GetBytes(body, "tools").IsArray() {
		return false
	}
	last := gjson.GetBytes(body, "messages.@reverse.0")
	if dialect == "openai" {
		return last.Get("role").Str == "user"
	}
	return !strings.Contains(last.Get("content").Raw, `"tool_result"`)
}

// anthropicUpstream is a fake Anthropic Messages API: it records every call and answers with
// its script (the Anthropic counterpart of fakeUpstream).
type anthropicUpstream struct {
	srv    *httptest.Server
	script script

	mu    sync.Mutex
	calls []anthropicCall
}

// anthropicCall is one request the Anthropic upstream received.
type anthropicCall struct {
	upstreamCall
	Path string
}

func (u *anthropicUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := anthropicCall{upstreamCall{Model: gjson.GetBytes(body, "model").Str, Stream: gjson.GetBytes(body, "stream").Bool(), Header: r.Header.Clone(), Body: body}, r.URL.Path}
	u.mu.Lock()
	c.N = 1
	for _, p := range u.calls {
		if p.Model == c.Model {
			c.N++
		}
	}
	u.calls = append(u.calls, c)
	u.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		writeBody(w, http.StatusNotFound, "application/json", `{"type":"error","error":{"type":"not_found_error","message":"no such path"}}`)
		return
	}
	u.script(w, r, c.upstreamCall)
}

// received returns a copy of the calls so far.
func (u *anthropicUpstream) received() []anthropicCall {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.calls)
}

// count returns the number of calls for an upstream model id ("" for every call).
func (u *anthropicUpstream) count(model string) int {
	n := 0
	for _, c := range u.received() {
		if model == "" || c.Model == model {
			n++
		}
	}
	return n
}

// last returns the latest call for an upstream model id, failing the test when there is none.
func (u *anthropicUpstream) last(t *testing.T, model string) anthropicCall {
	t.Helper()
	calls := u.received()
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Model == model {
			return calls[i]
		}
	}
	t.Fatalf("the Anthropic upstream got no call for %s", model)
	return anthropicCall{}
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
