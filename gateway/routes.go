package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/health"
	"github.com/clearbar/clearbar/route"
)

func (g *Gateway) routes() {
	mux := http.NewServeMux()
	// Each endpoint is registered for its method, and for every other method as a 405 naming
	// the one it takes (the catch-all 404 would otherwise answer them).
	handle := func(method, path string, h http.HandlerFunc, anthropic bool) {
		mux.HandleFunc(method+" "+path, h)
		mux.HandleFunc(path, methodNotAllowed(method, anthropic))
	}
	// The client APIs are served under /v1 and, as other OpenAI-compatible servers do, also
	// without it, for clients whose base URL lacks /v1 (POST /chat/completions). The admin
	// endpoints are under /v1 only.
	api := func(method, path string, h http.HandlerFunc, anthropic bool) {
		handle(method, path, h, anthropic)
		handle(method, strings.TrimPrefix(path, "/v1"), h, anthropic)
	}
	api("POST", "/v1/chat/completions", g.chatCompletions, false)
	api("POST", "/v1/messages", g.messages, true)
	api("POST", "/v1/messages/count_tokens", g.countTokens, true)
	api("POST", "/v1/responses", g.responses, false)
	api("POST", "/v1/embeddings", g.embeddings, false)
	api("GET", "/v1/models", g.admitted(g.listModels), false)
	api("GET", "/v1/models/{id...}", g.admitted(g.getModel), false)
	handle("GET", "/v1/decisions/{id}", g.admin(g.getDecision), false)
	handle("GET", "/v1/admin/health", g.admin(g.adminHealth), false)
	handle("GET", "/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) }, false)
	handle("GET", "/readyz", g.readyz, false)
	// The metrics show breaker states, traffic and cost: with keys configured they need an
	// admin key, as /v1/admin/health does (Prometheus sends it with authorization: credentials).
	handle("GET", "/metrics", g.admin(promhttp.HandlerFor(g.gatherer, promhttp.HandlerOpts{}).ServeHTTP), false)
	// Anthropic clients get Anthropic's envelope for every path under /v1/messages.
	for _, path := range []string{"/v1/messages/", "/messages/"} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			writeAnthropicError(w, unknownURL(r, "Clearbar serves POST /v1/messages and POST /v1/messages/count_tokens for Anthropic clients"), w.Header().Get(headerRequestID))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, unknownURL(r, "Clearbar serves POST /v1/chat/completions, POST /v1/messages, POST /v1/responses, POST /v1/embeddings and GET /v1/models"))
	})
	g.mux = mux
}

// unknownURL is the 404 of a path the gateway does not serve.
func unknownURL(r *http.Request, serves string) *clearbar.Error {
	return &clearbar.Error{Class: clearbar.ClientError, Status: http.StatusNotFound, Type: "not_found_error", Code: "unknown_url",
		Message: "unknown endpoint " + r.Method + " " + r.URL.Path + "; " + serves}
}

// methodNotAllowed answers a known path called with the wrong method: 405 with Allow, in the
// envelope of the path's dialect.
func methodNotAllowed(method string, anthropic bool) http.HandlerFunc {
	allow := method
	if method == http.MethodGet {
		allow = "GET, HEAD"
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		err := &clearbar.Error{Class: clearbar.ClientError, Status: http.StatusMethodNotAllowed, Type: "invalid_request_error", Code: "method_not_allowed",
			Message: fmt.Sprintf("%s %s is not served: use %s %s", r.Method, r.URL.Path, method, r.URL.Path)}
		if anthropic {
			writeAnthropicError(w, err, w.Header().Get(headerRequestID))
			return
		}
		writeError(w, err)
	}
}

// admitted requires a client key when keys are configured. An Anthropic client
// (anthropicShaped) gets request-id and, for a missing or wrong key, Anthropic's envelope.
func (g *Gateway) admitted(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if anthropicShaped(r) {
			id := w.Header().Get(headerRequestID)
			w.Header()[headerAnthropicRequestID] = []string{id}
			if err := g.anthropicClient(r); err != nil {
				writeAnthropicError(w, err, id)
				return
			}
			h(w, r)
			return
		}
		if _, err := g.keys.client(r); err != nil {
			writeError(w, err)
			return
		}
		h(w, r)
	}
}

// admin requires an admin key when keys are configured.
func (g *Gateway) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := g.keys.admin(r); err != nil {
			writeError(w, err)
			return
		}
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
	// Description says what the name routes to, for people browsing the list.
	Description string `json:"description,omitempty"`
}

// models lists the category aliases (clearbar/NAME, and each category's extra names) and the
// spec's models, which clients may also ask for directly.
func (g *Gateway) models() []modelObject {
	created := g.spec.Review.Last.Unix()
	if created < 0 {
		created = 0
	}
	var out []modelObject
	seen := map[string]bool{}
	add := func(m modelObject) {
		if !seen[m.ID] {
			seen[m.ID] = true
			out = append(out, m)
		}
	}
	for _, c := range g.spec.Categories {
		desc := "category " + c.Name
		if c.Route != nil {
			desc += ": " + c.Route.Kind()
		}
		add(modelObject{ID: route.AliasPrefix + c.Name, Object: "model", Created: created, OwnedBy: "clearbar", Description: desc})
		if c.Match != nil {
			for _, a := range c.Match.Models {
				add(modelObject{ID: a, Object: "model", Created: created, OwnedBy: "clearbar", Description: desc})
			}
		}
	}
	desc := "classified by the spec's headers, metadata and rules"
	if def := g.spec.DefaultCategory(); def != nil {
		desc += "; default category " + def.Name
	}
	add(modelObject{ID: AutoAlias, Object: "model", Created: created, OwnedBy: "clearbar", Description: desc})
	for _, m := range g.spec.Models {
		add(modelObject{ID: m.Name, Object: "model", Created: created, OwnedBy: m.Provider.Name, Description: m.Model + " on " + m.Provider.Name})
	}
	return out
}

// AutoAlias is the model alias that asks the gateway to classify a request: the category
// header or metadata, the categories' match settings and rules, and the default category
// decide, as for any model name that is not an alias. A category named "auto" takes it over.
const AutoAlias = route.AliasPrefix + "auto"

// aliases is what the gateway knows of the names in its namespace (clearbar/NAME).
type aliases struct {
	known map[string]bool
	// list names the known clearbar/ aliases, for the error that answers an unknown one.
	list string
}

func newAliases(models []modelObject) aliases {
	a := aliases{known: make(map[string]bool, len(models))}
	var names []string
	for _, m := range models {
		a.known[m.ID] = true
		if strings.HasPrefix(m.ID, route.AliasPrefix) {
			names = append(names, m.ID)
		}
	}
	a.list = strings.Join(names, ", ")
	return a
}

// check returns a 404 model_not_found error, as OpenAI answers an unknown model, for a model
// in Clearbar's namespace that names no category, no model and is not AutoAlias: such a name is
// a typo, which would otherwise be routed to the default category without a word. Names
// outside the namespace are routed as before.
func (a aliases) check(model string) error {
	if !strings.HasPrefix(model, route.AliasPrefix) || a.known[model] {
		return nil
	}
	return modelNotFound("the model %s does not exist on this gateway: no category is named %q; the aliases are %s (GET /v1/models lists every name)", model, strings.TrimPrefix(model, route.AliasPrefix), a.list)
}

// modelNotFound is the 404 OpenAI answers for a model it does not serve.
func modelNotFound(format string, args ...any) *clearbar.Error {
	return &clearbar.Error{Class: clearbar.ClientError, Status: http.StatusNotFound, Type: "invalid_request_error", Code: "model_not_found", Param: "model",
		Message: fmt.Sprintf(format, args...)}
}

// listModels answers GET /v1/models: OpenAI's list, or Anthropic's page for an Anthropic
// client (anthropicShaped).
func (g *Gateway) listModels(w http.ResponseWriter, r *http.Request) {
	if anthropicShaped(r) {
		page, err := anthropicModelPage(g.models(), r.URL.Query())
		if err != nil {
			writeAnthropicError(w, err, w.Header().Get(headerAnthropicRequestID))
			return
		}
		writeJSON(w, http.StatusOK, page)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": g.models()})
}

// getModel answers GET /v1/models/{id} as a chat request naming id is served: a listed name
// (a category alias, a category's match.models name, a spec model) is its list entry; a name in
// Clearbar's namespace that names nothing is the 404 the chat request gets; any other name is
// classified like clearbar/auto (the headers, metadata, rules and default category decide), so
// it is a model of this gateway too, described as such (and, when it is the upstream id of spec
// models, saying which spec name pins it). An Anthropic client (anthropicShaped) gets the same
// model as Anthropic's model object, and the 404 in Anthropic's envelope (not_found_error).
func (g *Gateway) getModel(w http.ResponseWriter, r *http.Request) {
	m, err := g.model(r.PathValue("id"))
	switch {
	case err != nil && anthropicShaped(r):
		writeAnthropicError(w, err, w.Header().Get(headerAnthropicRequestID))
	case err != nil:
		writeError(w, err)
	case anthropicShaped(r):
		writeJSON(w, http.StatusOK, m.anthropic())
	default:
		writeJSON(w, http.StatusOK, m)
	}
}

// model is the model object of id, for getModel, or its 404.
func (g *Gateway) model(id string) (modelObject, error) {
	for _, m := range g.models() {
		if m.ID == id {
			return m, nil
		}
	}
	if err := g.aliases.check(id); err != nil || id == "" {
		if err == nil {
			err = modelNotFound("name a model: GET /v1/models lists the names this gateway routes")
		}
		return modelObject{}, err
	}
	created := max(g.spec.Review.Last.Unix(), 0)
	return modelObject{ID: id, Object: "model", Created: created, OwnedBy: "clearbar", Description: g.classifiedDescription(id)}, nil
}

// anthropicShaped reports whether a request to an endpoint both dialects share (GET /v1/models)
// comes from an Anthropic client, which is to be answered in Anthropic's shape: Anthropic's
// SDKs send anthropic-version with every request, OpenAI's never do.
func anthropicShaped(r *http.Request) bool {
	return strings.TrimSpace(r.Header.Get("Anthropic-Version")) != ""
}

// anthropicModel is a model as Anthropic's Models API gives it.
type anthropicModel struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	// CreatedAt is an RFC 3339 time.
	CreatedAt string `json:"created_at"`
}

// anthropic is m as Anthropic's model object; the name is its display name.
func (m modelObject) anthropic() anthropicModel {
	return anthropicModel{Type: "model", ID: m.ID, DisplayName: m.ID, CreatedAt: time.Unix(m.Created, 0).UTC().Format(time.RFC3339)}
}

// anthropicPage is a page of Anthropic's model list; FirstID and LastID are null for an empty
// page.
type anthropicPage struct {
	Data    []anthropicModel `json:"data"`
	HasMore bool             `json:"has_more"`
	FirstID *string          `json:"first_id"`
	LastID  *string          `json:"last_id"`
}

// Anthropic's bounds on the model list's limit, and its default.
const (
	defaultModelPage = 20
	maxModelPage     = 1000
)

// anthropicModelPage is the page of models that Anthropic's list parameters ask for: limit
// (1–1000, default 20) models from the start, or after the model after_id, or the ones just
// before the model before_id (in list order); has_more says whether there are more in that
// direction, which is how the SDKs' auto-pagers walk the list (after_id = last_id, or
// before_id = first_id). A cursor that names no listed model is a 400.
func anthropicModelPage(models []modelObject, q url.Values) (*anthropicPage, error) {
	limit := defaultModelPage
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			return nil, badRequest("limit", "invalid_type", "limit: Input should be a valid integer, unable to parse string as an integer")
		case n < 1:
			return nil, badRequest("limit", "invalid_value", "limit: Input should be greater than or equal to 1")
		case n > maxModelPage:
			return nil, badRequest("limit", "invalid_value", "limit: Input should be less than or equal to %d", maxModelPage)
		}
		limit = n
	}
	index := func(param, id string) (int, error) {
		for i, m := range models {
			if m.ID == id {
				return i, nil
			}
		}
		return 0, badRequest(param, "invalid_value", "%s: %q is not a model of this gateway's list (GET /v1/models lists every name)", param, id)
	}
	after, before := q.Get("after_id"), q.Get("before_id")
	start, end := 0, min(limit, len(models))
	hasMore := end < len(models)
	switch {
	case after != "" && before != "":
		return nil, badRequest("before_id", "invalid_value", "after_id and before_id cannot both be given: page forward with after_id or backward with before_id")
	case after != "":
		i, err := index("after_id", after)
		if err != nil {
			return nil, err
		}
		start, end = i+1, min(i+1+limit, len(models))
		hasMore = end < len(models)
	case before != "":
		i, err := index("before_id", before)
		if err != nil {
			return nil, err
		}
		start, end = max(i-limit, 0), i
		hasMore = start > 0
	}
	page := &anthropicPage{Data: make([]anthropicModel, 0, end-start), HasMore: hasMore}
	for _, m := range models[start:end] {
		page.Data = append(page.Data, m.anthropic())
	}
	if n := len(page.Data); n > 0 {
		page.FirstID, page.LastID = &page.Data[0].ID, &page.Data[n-1].ID
	}
	return page, nil
}

// classifiedDescription says how a chat request naming model, which the gateway does not list,
// is served.
func (g *Gateway) classifiedDescription(model string) string {
	desc := "not a listed name: classified like " + AutoAlias + " by the spec's headers, metadata and rules"
	if def := g.spec.DefaultCategory(); def != nil {
		desc += "; default category " + def.Name
	}
	if names := g.upstreamIDs[model]; len(names) > 0 {
		desc += "; it is the upstream model id of spec model " + strings.Join(names, ", ") + ": name the spec model to be answered by it"
	}
	return desc
}

func (g *Gateway) getDecision(w http.ResponseWriter, r *http.Request) {
	if g.decisions == nil {
		writeError(w, &clearbar.Error{Class: clearbar.ClientError, Status: 404, Code: "decisions_disabled", Message: "decision records are not stored (trace: none)"})
		return
	}
	d, err := g.decisions.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		if errors.Is(err, errNotFound) || isNotFound(err) {
			writeError(w, &clearbar.Error{Class: clearbar.ClientError, Status: 404, Code: "decision_not_found",
				Message: "no decision " + r.PathValue("id") + " (decisions are written asynchronously; retry in a moment; a request refused for want of a valid key, a 401, is not recorded)"})
			return
		}
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

var errNotFound = errors.New("not found")

// isNotFound recognises a store's not-found error without importing the store.
func isNotFound(err error) bool {
	type notFound interface{ NotFound() bool }
	var nf notFound
	if errors.As(err, &nf) {
		return nf.NotFound()
	}
	return false
}

// adminHealth serves GET /v1/admin/health: the breakers, and the decisions lost so far.
// decisions_dropped counts every decision lost, decisions_dropped_by breaks it down: queue,
// those the recorder dropped (queue full, closed, abandoned on shutdown); store, those in
// batches the store refused (clearbar_trace_dropped_total and clearbar_trace_failed_total).
// Without Options.RecorderLosses, queue counts the decisions Record refused and store is 0.
func (g *Gateway) adminHealth(w http.ResponseWriter, r *http.Request) {
	snap := g.breakers.Snapshot()
	sort.Slice(snap, func(i, j int) bool { return snap[i].Key < snap[j].Key })
	queue, store := g.dropped.Load(), int64(0)
	if g.losses != nil {
		queue, store = g.losses()
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"time":                 g.now().UTC().Format(time.RFC3339Nano),
		"breakers":             snap,
		"decisions_dropped":    queue + store,
		"decisions_dropped_by": map[string]int64{"queue": queue, "store": store},
	})
}

func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	if !g.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("draining\n"))
		return
	}
	w.Write([]byte("ready\n"))
}

// breakerCollector exports breaker states at scrape time.
type breakerCollector struct{ set *health.Set }

var breakerDesc = prometheus.NewDesc("clearbar_breaker_state", "Circuit breaker state per provider/model: 0 closed, 1 half-open, 2 open.", []string{"key"}, nil)

func (c *breakerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- breakerDesc }

func (c *breakerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.set.Snapshot() {
		v := 0.0
		switch s.State {
		case health.HalfOpen:
			v = 1
		case health.Open:
			v = 2
		}
		ch <- prometheus.MustNewConstMetric(breakerDesc, prometheus.GaugeValue, v, s.Key)
	}
}
