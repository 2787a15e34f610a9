package gateway

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/retry"
	"github.com/clearbar/clearbar/route"
	"github.com/clearbar/clearbar/spec"
)

// embeddings serves POST /v1/embeddings, OpenAI's embeddings endpoint, as a pass-through routed
// by model name:
//
//   - the request's model names a spec model (by its name in the spec, or by its model id when
//     exactly one spec model on a provider that serves embeddings has that id), whose provider
//     implements clearbar.Embedder; an unknown name is a 404 model_not_found, a category alias
//     or a model whose provider serves no embeddings a 400;
//   - to an OpenAI-format upstream (openai, openai-compatible, azure-openai) the client's body
//     goes with only the model rewritten, so every field the gateway does not know passes
//     unchanged; Gemini's batchEmbedContents body is built from the input, dimensions and
//     task_type (see provider/gemini);
//   - retries follow the spec's retry policy (retry: at the top of the spec) with the request's
//     one budget, and circuit breakers apply as for chat. The model's own fallbacks are tried
//     only when they have the same model id (the same model on another provider): another
//     embedding model's vectors are not comparable, so it is never a fallback, and the decision
//     says it was skipped;
//   - the answer has the encoding the client asked for: when it asked for base64 (as openai-node
//     does by default) and the upstream answered with float arrays, each vector is encoded as
//     little-endian float32 base64; when it asked for floats (or nothing) and the upstream
//     answered base64, each vector is decoded into a float array;
//   - every request gets a decision record (Path /v1/embeddings, no category, the model and
//     provider, every attempt with its usage and cost, input chars and a hash of the input) and
//     the decision headers; errors use the OpenAI envelope.
func (g *Gateway) embeddings(w http.ResponseWriter, r *http.Request) {
	seq, start := g.started.begin(g.now)
	defer g.started.end(seq, start) // a request that panics is no longer in flight either
	d := &clearbar.Decision{ID: newID(start), Time: start, Dialect: clearbar.DialectOpenAI, Path: r.URL.Path}
	status, err := g.serveEmbeddings(w, r, d, start)
	if err != nil && status == 0 {
		g.decisionHeaders(w.Header(), d)
		status = writeError(w, err)
	}
	g.finishDecision(d, status, err, start, seq)
}

func (g *Gateway) serveEmbeddings(w http.ResponseWriter, r *http.Request, d *clearbar.Decision, start time.Time) (int, error) {
	client, err := g.keys.client(r)
	if err != nil {
		return 0, err
	}
	if client != nil {
		d.Client, d.Tier = client.name, client.tier
		if !client.allow(start) {
			return 0, client.overLimit(start)
		}
	}
	if n, _ := strconv.Atoi(r.Header.Get("X-Stainless-Retry-Count")); n > 0 {
		g.metrics.clientRetries.Inc()
	}
	body, err := readBody(w, r, g.limits.MaxBody)
	if err != nil {
		return 0, err
	}
	req, err := decodeEmbedRequest(body)
	if err != nil {
		return 0, err
	}
	d.RequestedModel, d.Features.Model, d.Features.Tier = req.model, req.model, d.Tier
	d.PromptHash, d.PromptChars = req.hash, req.chars
	m, err := g.embeddingModel(req.model)
	if err != nil {
		d.Reason = "no model: " + clearbar.AsError(err).Message
		return 0, err
	}
	cands := g.embeddingPlan(m, d)
	ctx, cancel := context.WithTimeout(r.Context(), g.requestTimeout)
	defer cancel()
	resp, err := g.runEmbeddings(ctx, d, cands, &clearbar.EmbedCall{Input: req.input, EncodingFormat: req.encoding, Dimensions: req.dimensions, Body: body}, req.want())
	if err != nil {
		return 0, err
	}
	out := resp.Body
	h := w.Header()
	g.decisionHeaders(h, d)
	if cost := totalCost(d); cost > 0 || resp.HasUsage {
		h.Set(headerCost, cost.Decimal())
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(out)
	return http.StatusOK, nil
}

func totalCost(d *clearbar.Decision) clearbar.Money {
	var c clearbar.Money
	for i := range d.Attempts {
		c += d.Attempts[i].Cost
	}
	return c
}

// embedRequest is what the gateway reads of an embeddings request; the body itself passes on.
type embedRequest struct {
	model string
	// input holds the texts, nil for token-id input; count is the number of inputs.
	input []string
	count int
	// encoding is the client's encoding_format ("" when it sent none); dimensions its
	// dimensions (0 when none).
	encoding   string
	dimensions int
	// hash fingerprints the input (xxHash of every text, or of the raw token ids); chars is
	// the texts' length.
	hash  string
	chars int
}

// want is the encoding the client gets: float unless it asked for base64.
func (e *embedRequest) want() string {
	if e.encoding == clearbar.EncodingBase64 {
		return clearbar.EncodingBase64
	}
	return clearbar.EncodingFloat
}

// maxEmbedInputs is the most inputs one request may hold (OpenAI's limit).
const maxEmbedInputs = 2048

var embedKeys = map[string]bool{"model": true, "input": true, "encoding_format": true, "dimensions": true, "user": true}

// decodeEmbedRequest reads and checks an embeddings body: model (a string), input (a string,
// an array of strings, an array of token ids or an array of such arrays, none empty, at most
// 2048 inputs), encoding_format (float or base64), dimensions (a positive integer). Errors are
// ClientErrors naming the parameter.
func decodeEmbedRequest(body []byte) (*embedRequest, error) {
	if err := checkJSON(body); err != nil {
		return nil, err
	}
	root := gjson.Parse(unsafe.String(unsafe.SliceData(body), len(body)))
	if !root.IsObject() {
		return nil, badRequest("", "invalid_json", "the request body must be a JSON object")
	}
	e := &embedRequest{}
	var input gjson.Result
	var err error
	seen := map[string]bool{}
	root.ForEach(func(k, v gjson.Result) bool {
		if embedKeys[k.Str] {
			if seen[k.Str] {
				err = badRequest(k.Str, "duplicate_key", "the request body has %q twice; send it once", k.Str)
				return false
			}
			seen[k.Str] = true
		}
		switch k.Str {
		case "model":
			if v.Type != gjson.String || v.Str == "" {
				err = badRequest("model", "invalid_type", "model must be a non-empty string")
			}
			e.model = v.Str
		case "input":
			input = v
		case "encoding_format":
			switch {
			case v.Type == gjson.Null:
			case v.Str == clearbar.EncodingFloat || v.Str == clearbar.EncodingBase64:
				e.encoding = v.Str
			default:
				err = badRequest("encoding_format", "invalid_value", "encoding_format must be %q or %q, not %s", clearbar.EncodingFloat, clearbar.EncodingBase64, v.Raw)
			}
		case "user":
			if v.Type != gjson.Null && v.Type != gjson.String {
				err = invalidType("user", "a string", v)
			}
		case "dimensions":
			n, perr := strconv.Atoi(v.Raw)
			switch {
			case v.Type == gjson.Null:
			case v.Type != gjson.Number || perr != nil || n < 1:
				err = badRequest("dimensions", "invalid_value", "dimensions must be a positive integer, not %s", v.Raw)
			default:
				e.dimensions = n
			}
		}
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	if e.model == "" {
		return nil, badRequest("model", "missing_required_parameter", "model is required: the name of an embeddings model (GET /v1/models lists them)")
	}
	if err := e.readInput(input); err != nil {
		return nil, err
	}
	return e, nil
}

// readInput checks input and collects the texts, their length and a hash.
func (e *embedRequest) readInput(v gjson.Result) error {
	bad := func(format string, args ...any) error {
		return badRequest("input", "invalid_value", format, args...)
	}
	h := xxhash.New()
	switch {
	case !v.Exists() || v.Type == gjson.Null:
		return badRequest("input", "missing_required_parameter", "input is required: a string, an array of strings, or token ids")
	case v.Type == gjson.String:
		if v.Str == "" {
			return bad("input cannot be an empty string")
		}
		e.input, e.count = []string{v.Str}, 1
	case v.IsArray():
		var err error
		tokens, texts := 0, 0
		v.ForEach(func(_, item gjson.Result) bool {
			e.count++
			switch {
			case item.Type == gjson.String && item.Str != "":
				texts++
				e.input = append(e.input, item.Str)
			case item.Type == gjson.Number && isTokenID(item):
				tokens++
			case item.IsArray() && len(item.Array()) > 0 && allTokenIDs(item):
				tokens++
			default:
				err = bad("input[%d] must be a non-empty string, a token id or a non-empty array of token ids", e.count-1)
				return false
			}
			return true
		})
		switch {
		case err != nil:
			return err
		case e.count == 0:
			return bad("input cannot be an empty array")
		case e.count > maxEmbedInputs:
			return bad("input has %d items; the most one request may hold is %d", e.count, maxEmbedInputs)
		case tokens > 0 && texts > 0:
			return bad("input mixes strings and token ids; send one kind")
		case tokens > 0:
			// One array of token ids is one input; an array of arrays is several.
			if v.Get("0").Type == gjson.Number {
				e.count = 1
			}
			e.input = nil
			h.WriteString(v.Raw)
		}
	default:
		return bad("input must be a string, an array of strings, or token ids")
	}
	for _, s := range e.input {
		h.WriteString(s)
		h.Write([]byte{0})
		e.chars += len(s)
	}
	e.hash = hex64(h.Sum64())
	return nil
}

func isTokenID(v gjson.Result) bool {
	n, err := strconv.ParseInt(v.Raw, 10, 64)
	return err == nil && n >= 0
}

func allTokenIDs(v gjson.Result) bool {
	ok := true
	v.ForEach(func(_, t gjson.Result) bool {
		ok = t.Type == gjson.Number && isTokenID(t)
		return ok
	})
	return ok
}

// embedderOf returns a model's provider as an Embedder, or nil.
func (g *Gateway) embedderOf(m *spec.Model) clearbar.Embedder {
	e, _ := g.providers[m.Provider.Name].(clearbar.Embedder)
	return e
}

// embeddingModel resolves the request's model name (see embeddings).
func (g *Gateway) embeddingModel(name string) (*spec.Model, error) {
	if strings.HasPrefix(name, route.AliasPrefix) {
		return nil, &clearbar.Error{Class: clearbar.ClientError, Status: 400, Type: "invalid_request_error", Code: "model_not_supported", Param: "model",
			Message: fmt.Sprintf("%s is a category alias; embeddings are routed by model name: send the name of an embeddings model (%s)", name, g.embeddingNames())}
	}
	m := g.spec.Model(name)
	if m == nil {
		var byID []*spec.Model
		for _, c := range g.spec.Models {
			if c.Model == name && g.embedderOf(c) != nil {
				byID = append(byID, c)
			}
		}
		switch len(byID) {
		case 0:
			return nil, modelNotFound("the model %s does not exist on this gateway; embeddings go to a spec model whose provider serves them (%s)", name, g.embeddingNames())
		case 1:
			m = byID[0]
		default:
			names := make([]string, len(byID))
			for i, c := range byID {
				names[i] = c.Name
			}
			return nil, &clearbar.Error{Class: clearbar.ClientError, Status: 400, Type: "invalid_request_error", Code: "model_ambiguous", Param: "model",
				Message: fmt.Sprintf("several spec models have the model id %s (%s); send one of their names", name, strings.Join(names, ", "))}
		}
	}
	if g.embedderOf(m) == nil {
		typ := ""
		if m.Resolved.Provider != nil {
			typ = " (type " + m.Resolved.Provider.Type + ")"
		}
		return nil, &clearbar.Error{Class: clearbar.ClientError, Status: 400, Type: "invalid_request_error", Code: "model_not_supported", Param: "model",
			Message: fmt.Sprintf("the model %s is served by provider %s%s, which does not serve embeddings", m.Name, m.Provider.Name, typ)}
	}
	if catalogChat(m) {
		return nil, &clearbar.Error{Class: clearbar.ClientError, Status: 400, Type: "invalid_request_error", Code: "model_not_supported", Param: "model",
			Message: fmt.Sprintf("the model %s (%s) is a %s model in the price catalogue, not an embeddings model: send the name of an embeddings model (%s)", m.Name, m.Model, m.Resolved.Catalog.Mode, g.embeddingNames())}
	}
	return m, nil
}

// catalogChat reports whether the price catalogue has m as a model that answers chat (mode
// chat or responses) rather than an embeddings model. A model the catalogue does not have is
// not known to be either.
func catalogChat(m *spec.Model) bool {
	return m.Resolved.InCatalog && !m.Resolved.Catalog.IsEmbedding()
}

// maxNamesListed bounds the model names an error message lists.
const maxNamesListed = 10

// embeddingNames lists the spec's embeddings models, for error messages: the models whose
// providers serve embeddings that are embeddings models in the price catalogue, or that the
// catalogue does not have and the spec does not route chat requests to (a chat model on an
// OpenAI-compatible provider, which serves embeddings too, is not one).
func (g *Gateway) embeddingNames() string {
	chat := g.chatRouted()
	var names []string
	for _, m := range g.spec.Models {
		if g.embedderOf(m) == nil || catalogChat(m) || !m.Resolved.InCatalog && chat[m] {
			continue
		}
		names = append(names, m.Name)
	}
	switch {
	case len(names) == 0:
		return "this gateway has none"
	case len(names) > maxNamesListed:
		return strings.Join(names[:maxNamesListed], ", ") + fmt.Sprintf(" and %d more", len(names)-maxNamesListed)
	}
	return strings.Join(names, ", ")
}

// chatRouted returns the spec models that answer chat requests: every model the categories'
// and policies' routes can send a request to, fallbacks included.
func (g *Gateway) chatRouted() map[*spec.Model]bool {
	out := map[*spec.Model]bool{}
	add := func(r *spec.Route, fallback []spec.Ref) {
		for _, m := range g.spec.RouteCandidates(r, fallback) {
			out[m] = true
		}
	}
	for _, c := range g.spec.Categories {
		if c.Route != nil {
			add(c.Route, c.Fallback)
		}
	}
	for _, p := range g.spec.Policies {
		for _, pr := range p.Routes {
			if pr != nil {
				add(&pr.Route, pr.Fallback)
			}
		}
	}
	return out
}

// embeddingPlan returns the models to try: the model, then its own fallbacks that are the same
// model (same model id) on a provider that serves embeddings. The others are recorded as
// skipped, with why.
func (g *Gateway) embeddingPlan(m *spec.Model, d *clearbar.Decision) []*spec.Model {
	cands := []*spec.Model{m}
	for _, ref := range m.Fallback {
		fb := g.spec.Model(ref.Name)
		switch {
		case fb == nil || slices.Contains(cands, fb):
		case fb.Model != m.Model:
			d.Skipped = append(d.Skipped, clearbar.Skip{Model: fb.Name, Reason: fmt.Sprintf("another embedding model (%s, not %s): its vectors are not comparable", fb.Model, m.Model)})
		case g.embedderOf(fb) == nil:
			d.Skipped = append(d.Skipped, clearbar.Skip{Model: fb.Name, Reason: "its provider does not serve embeddings"})
		default:
			cands = append(cands, fb)
		}
	}
	for _, c := range cands {
		d.Plan = append(d.Plan, c.Name)
	}
	d.Route = "embeddings " + strings.Join(d.Plan, ", fallback ")
	return cands
}

// runEmbeddings calls the candidates in order, retrying the same model as the failure's class
// says, within the request's one retry budget. It returns the answer, its vectors in the wanted
// encoding (see convertEmbeddings), or the first failure. An answer whose vectors cannot be
// converted is a failed attempt (BadResponse): it counts against the upstream and falls back
// like any other unreadable answer.
func (g *Gateway) runEmbeddings(ctx context.Context, d *clearbar.Decision, cands []*spec.Model, call *clearbar.EmbedCall, want string) (*clearbar.EmbedResponse, error) {
	attempts, backoff := g.spec.RetryPolicy(&spec.Category{})
	deadline, _ := ctx.Deadline()
	r := &run{g: g, d: d, budget: retry.NewBudget(retry.Policy{Attempts: attempts, Backoff: backoff}, deadline, nil)}
	defer g.upstreamTimes(d, r)
candidates:
	for ci, m := range cands {
		emb := g.embedderOf(m)
		for retries := 0; ; {
			done, ok := g.breakers.Get(route.Key(m)).Allow(g.now())
			if !ok && len(cands) > 1 {
				d.Skipped = append(d.Skipped, clearbar.Skip{Model: m.Name, Reason: breakerOpenReason})
				if r.primary == nil {
					r.primary = &clearbar.Error{Class: clearbar.Overloaded, Status: 503, Message: "every candidate's circuit breaker is open", Provider: m.Provider.Name, Model: m.Name}
				}
				break
			}
			d.Attempts = append(d.Attempts, clearbar.Attempt{N: len(d.Attempts) + 1, Kind: attemptKind(0, ci, retries > 0), Step: 1,
				Model: m.Name, Provider: m.Provider.Name, UpstreamModel: m.Model, Start: g.now()})
			a := &d.Attempts[len(d.Attempts)-1]
			c := *call
			c.Model = m.Model
			cctx, cancel := g.callContext(ctx, m)
			resp, err := emb.Embed(cctx, &c)
			cancel()
			var usage clearbar.Usage
			if resp != nil {
				usage, a.UpstreamRequestID, a.UsageEstimated = resp.Usage, resp.UpstreamRequestID, resp.UsageEstimated
			}
			if err == nil {
				out, cerr := convertEmbeddings(resp.Body, want)
				if cerr != nil {
					err = &clearbar.Error{Class: clearbar.BadResponse, Status: http.StatusOK, Provider: m.Provider.Name, Model: m.Name,
						Message: "the answer's vectors could not be converted to " + want + ": " + cerr.Error(), Err: cerr}
				} else {
					converted := *resp
					converted.Body = out
					resp = &converted
				}
			}
			if err != nil && ctx.Err() != nil {
				err = ctxError(ctx, err)
			}
			r.finish(a, m, usage, err, done)
			if err == nil {
				a.Outcome = "accepted"
				d.Model, d.Provider = m.Name, m.Provider.Name
				if a.N == 1 {
					d.Reason = fmt.Sprintf("accepted: %s answered on the first attempt", m.Name)
				} else {
					d.Reason = fmt.Sprintf("accepted: %s answered after %d earlier attempt(s) failed", m.Name, a.N-1)
				}
				return resp, nil
			}
			nx, ferr := r.afterFailure(ctx, m, len(cands) == 1, err, retries)
			switch nx {
			case nextRetry:
				a.Outcome = "retried"
				retries++
				continue
			case nextFail:
				a.Outcome = "failed"
				return nil, r.failure(ferr)
			case nextStop:
				a.Outcome = outcomeOutOfTime
				break candidates
			}
			a.Outcome = "fell back"
			break
		}
	}
	if r.primary == nil {
		r.primary = &clearbar.Error{Class: clearbar.Internal, Message: "the plan had no model to call"}
	}
	return nil, r.exhaustedError(r.failure(r.primary))
}

// convertEmbeddings returns an OpenAI embeddings body with every data[].embedding in the wanted
// encoding (clearbar.EncodingFloat or EncodingBase64). A body whose vectors already are in it
// is returned as it is; otherwise every other byte is copied unchanged. base64 is the vector's
// float32 values, little-endian, back to back (what openai-node and openai-go decode); floats
// are written in the shortest form that reads back as the same float32.
func convertEmbeddings(body []byte, want string) ([]byte, error) {
	if msg := jsonguard.Describe(jsonguard.Check(body), "the embeddings answer"); msg != "" {
		return nil, errors.New(msg)
	}
	root := gjson.Parse(unsafe.String(unsafe.SliceData(body), len(body)))
	data := root.Get("data")
	convert := false
	data.ForEach(func(_, item gjson.Result) bool {
		e := item.Get("embedding")
		convert = want == clearbar.EncodingBase64 && e.IsArray() || want == clearbar.EncodingFloat && e.Type == gjson.String
		return !convert
	})
	if !convert {
		return body, nil
	}
	out := make([]byte, 0, len(body)+len(body)/2)
	out = append(out, '{')
	var err error
	first := true
	root.ForEach(func(k, v gjson.Result) bool {
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, k.Raw...)
		out = append(out, ':')
		if k.Str != "data" {
			out = append(out, v.Raw...)
			return true
		}
		out = append(out, '[')
		i := 0
		v.ForEach(func(_, item gjson.Result) bool {
			if i > 0 {
				out = append(out, ',')
			}
			i++
			if !item.IsObject() {
				out = append(out, item.Raw...)
				return true
			}
			out = append(out, '{')
			j := 0
			item.ForEach(func(ik, iv gjson.Result) bool {
				if j > 0 {
					out = append(out, ',')
				}
				j++
				out = append(out, ik.Raw...)
				out = append(out, ':')
				if ik.Str != "embedding" {
					out = append(out, iv.Raw...)
					return true
				}
				out, err = convertVector(out, iv, want)
				if err != nil {
					err = fmt.Errorf("data[%d].embedding: %w", i-1, err)
				}
				return err == nil
			})
			out = append(out, '}')
			return err == nil
		})
		out = append(out, ']')
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return append(out, '}'), nil
}

// convertVector appends one vector in the wanted encoding.
func convertVector(out []byte, v gjson.Result, want string) ([]byte, error) {
	switch {
	case want == clearbar.EncodingBase64 && v.IsArray():
		var raw []byte
		var err error
		v.ForEach(func(_, x gjson.Result) bool {
			var f float64
			if x.Type != gjson.Number {
				err = fmt.Errorf("a vector holds %s, not a number", x.Raw)
				return false
			}
			if f, err = strconv.ParseFloat(x.Raw, 32); err != nil {
				err = fmt.Errorf("%s is not a float32", x.Raw)
				return false
			}
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(f)))
			return true
		})
		if err != nil {
			return out, err
		}
		out = append(out, '"')
		out = base64.StdEncoding.AppendEncode(out, raw)
		return append(out, '"'), nil
	case want == clearbar.EncodingFloat && v.Type == gjson.String:
		vec, err := clearbar.Float32sFromBase64(v.Str)
		if err != nil {
			return out, err
		}
		out = append(out, '[')
		for i, f := range vec {
			if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
				return out, fmt.Errorf("a vector holds %v, which JSON cannot", f)
			}
			if i > 0 {
				out = append(out, ',')
			}
			out = strconv.AppendFloat(out, float64(f), 'g', -1, 32)
		}
		return append(out, ']'), nil
	}
	return append(out, v.Raw...), nil
}
