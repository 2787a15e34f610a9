// Package azure is the adapter for Azure OpenAI deployments: provider type "azure-openai".
//
// Azure OpenAI speaks OpenAI's Chat Completions and Embeddings wire format on its own URLs:
//
//	POST {base_url}/openai/deployments/{deployment}/chat/completions?api-version={api_version}
//	POST {base_url}/openai/deployments/{deployment}/embeddings?api-version={api_version}
//
// with the key in an api-key header. The spec model's model field is the deployment name. The
// adapter reuses provider/openai for everything else (body pass-through, key rotation, timeouts,
// error normalisation, stream parsing, embeddings): for each deployment it holds an OpenAI
// adapter whose base URL is the deployment's, and whose HTTP client goes through a transport
// that adds the api-version query parameter and moves the key from Authorization: Bearer to
// api-key (no Authorization header ever reaches Azure). The transport also copies Azure's
// apim-request-id into x-request-id when Azure sends no x-request-id, so that
// Response.UpstreamRequestID names the request for Azure support.
//
// Keys rotate per deployment: when a key is rejected, each deployment finds out on its own
// next call (one extra request per deployment, then it stays on the working key). Microsoft
// Entra ID tokens are not supported; use the resource's keys.
//
// # Azure's quirks
//
//   - The first stream chunk is often {"id": "", "model": "", "choices": [],
//     "prompt_filter_results": [...]}: provider/openai skips it.
//   - With the asynchronous content filter, annotation chunks arrive with an empty id, object,
//     model and a created of 0, and choices that carry content_filter_results and
//     content_filter_offsets but no delta. Those without a finish reason are dropped (they carry
//     nothing an OpenAI client reads, and openai-go's accumulator would let their empty
//     finish_reason overwrite the real one); the others, and every chunk, are given the
//     stream's id, object, model and created, because openai-go drops chunks whose id changes.
//     A stream whose first chunk has no id gets one of the adapter's making ("chatcmpl-…").
//   - content_filter_results per choice, and prompt_filter_results on answers, pass through
//     unchanged (SDKs keep unknown fields); finish_reason "content_filter" is an answer, as
//     from OpenAI, not an error.
//   - A 400 whose code is content_filter (with innererror ResponsibleAIPolicyViolation), or
//     contentFilter as the image APIs spell it, is ContentPolicy. Azure's message says only
//     that the prompt triggered the policy: the transport appends the categories that
//     innererror.content_filter_result marks filtered, as " (filtered categories: jailbreak)".
//   - 429s carry retry-after-ms and retry-after; the first is used.
//   - Older api-versions reject stream_options: provider/openai then streams without it.
//   - api-versions before 2024-09-01-preview refuse max_completion_tokens, which the reasoning
//     models need from the later ones: the token limit is sent as max_completion_tokens from
//     2024-09-01-preview on (and for the v1 API's undated versions, "preview" and "latest"),
//     as max_tokens before, whichever name the client used.
package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/internal/inflight"
	"github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/spec"
)

// Type is the provider type this package serves.
const Type = "azure-openai"

// Provider is an Azure OpenAI resource. It is safe for concurrent use.
type Provider struct {
	name string
	// deploymentsURL is "{base_url}/openai/deployments/".
	deploymentsURL string
	settings       spec.Provider
	spec           *spec.Spec
	client         *http.Client
	// deployments holds one OpenAI adapter per deployment name, made on first use.
	deployments sync.Map
	// newID makes ids for streams whose first chunk has none; tests replace it.
	newID func() string
	// completionTokens says the api-version takes max_completion_tokens (see
	// takesMaxCompletionTokens).
	completionTokens bool
}

// New builds the adapter for a provider of type "azure-openai". It is a provider.Constructor.
// base_url (the resource endpoint, https://NAME.openai.azure.com; a trailing /openai is
// accepted) and api_version are required. cfg.HTTP nil means provider.DefaultHTTPClient(); its
// transport is wrapped, not modified. Adapters for the spec's models on this provider are made
// at once; others when first called.
func New(cfg provider.Config) (clearbar.Provider, error) {
	sp := cfg.Provider
	if sp == nil {
		return nil, errors.New("azure: no provider settings")
	}
	if sp.Type != Type {
		return nil, fmt.Errorf("the azure adapter serves type %q, not %q", Type, sp.Type)
	}
	base, err := inflight.BaseURL(sp.BaseURL.Value, "")
	switch {
	case err != nil:
		return nil, err
	case base == "":
		return nil, errors.New("azure-openai provider needs base_url (https://RESOURCE.openai.azure.com)")
	}
	base = strings.TrimSuffix(base, "/openai")
	version := strings.TrimSpace(sp.APIVersion)
	if version == "" {
		return nil, errors.New("azure-openai provider needs api_version (like 2024-10-21)")
	}
	c := cfg.HTTP
	if c == nil {
		c = provider.DefaultHTTPClient()
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	p := &Provider{
		name:             sp.Name,
		deploymentsURL:   base + "/openai/deployments/",
		settings:         *sp,
		spec:             cfg.Spec,
		client:           &http.Client{Transport: &transport{base: rt, apiVersion: version}, CheckRedirect: c.CheckRedirect, Jar: c.Jar, Timeout: c.Timeout},
		newID:            func() string { return newStreamID() },
		completionTokens: takesMaxCompletionTokens(version),
	}
	p.settings.Type = openai.TypeCompatible
	if cfg.Spec != nil {
		for _, m := range cfg.Spec.Models {
			if m.Provider.Name == sp.Name && m.Model != "" {
				if _, err := p.deployment(m.Model); err != nil {
					return nil, fmt.Errorf("model %q: %w", m.Name, err)
				}
			}
		}
	}
	return p, nil
}

// Name returns the provider's name in the spec.
func (p *Provider) Name() string { return p.name }

// deployment returns the OpenAI adapter of a deployment, making it on first use.
func (p *Provider) deployment(name string) (*openai.Provider, error) {
	if v, ok := p.deployments.Load(name); ok {
		return v.(*openai.Provider), nil
	}
	if name == "" {
		return nil, &clearbar.Error{Class: clearbar.ClientError, Provider: p.name,
			Message: "an azure-openai model needs its deployment name as model"}
	}
	sp := p.settings
	sp.BaseURL = spec.EnvString{Value: p.deploymentsURL + url.PathEscape(name)}
	op, err := openai.New(provider.Config{Provider: &sp, Spec: p.spec, HTTP: p.client})
	if err != nil {
		return nil, &clearbar.Error{Class: clearbar.Internal, Provider: p.name, Model: name, Message: "cannot set up deployment " + name, Err: err}
	}
	if p.completionTokens {
		op.(*openai.Provider).PreferMaxCompletionTokens()
	}
	v, _ := p.deployments.LoadOrStore(name, op)
	return v.(*openai.Provider), nil
}

// Complete sends a non-streaming call to the deployment named by call.Model. Answers and
// failures are provider/openai's (see openai.Provider.Complete), with Azure's content-filter
// codes as ContentPolicy.
func (p *Provider) Complete(ctx context.Context, call *clearbar.Call) (*clearbar.Response, error) {
	d, err := p.deployment(call.Model)
	if err != nil {
		return nil, err
	}
	r, err := d.Complete(ctx, call)
	return r, refine(err)
}

// Stream sends a streaming call to the deployment named by call.Model. The stream is
// provider/openai's, with every chunk given the stream's id, object, model and created (see the
// package documentation).
func (p *Provider) Stream(ctx context.Context, call *clearbar.Call) (clearbar.Stream, error) {
	d, err := p.deployment(call.Model)
	if err != nil {
		return nil, err
	}
	s, err := d.Stream(ctx, call)
	if err != nil {
		return nil, refine(err)
	}
	return &stream{inner: s, deployment: call.Model, newID: p.newID}, nil
}

// Embed implements clearbar.Embedder for the deployment named by call.Model (an embeddings
// deployment), through provider/openai's Embed.
func (p *Provider) Embed(ctx context.Context, call *clearbar.EmbedCall) (*clearbar.EmbedResponse, error) {
	d, err := p.deployment(call.Model)
	if err != nil {
		return nil, err
	}
	r, err := d.Embed(ctx, call)
	return r, refine(err)
}

// firstCompletionTokensVersion is the first api-version that takes max_completion_tokens
// (2024-09-01-preview, with the o1 models; the first GA one is 2024-10-21). Earlier ones refuse
// it ("Unrecognized request argument supplied: max_completion_tokens").
const firstCompletionTokensVersion = "2024-09-01"

// takesMaxCompletionTokens reports whether an api-version takes max_completion_tokens: a dated
// version ("2024-10-21", "2025-04-01-preview") from firstCompletionTokensVersion on, and the
// undated ones of the v1 API ("preview", "latest"), which are newer.
func takesMaxCompletionTokens(version string) bool {
	if len(version) < len(firstCompletionTokensVersion) || version[0] < '0' || version[0] > '9' {
		return true
	}
	return version[:len(firstCompletionTokensVersion)] >= firstCompletionTokensVersion
}

// contentFilterCodes are Azure's codes for content-policy refusals that provider/openai does not
// read as such.
var contentFilterCodes = []string{"contentfilter", "responsibleaipolicyviolation"}

// refine reclassifies Azure's content-filter refusals that arrive as ClientError.
func refine(err error) error {
	var e *clearbar.Error
	if err == nil || !errors.As(err, &e) || e.Class != clearbar.ClientError || e.Status == 0 {
		return err
	}
	code := strings.ToLower(e.Code)
	cause := ""
	if e.Err != nil {
		cause = strings.ToLower(e.Err.Error())
	}
	for _, c := range contentFilterCodes {
		if code == c || strings.Contains(cause, `"`+c+`"`) {
			e.Class = clearbar.ContentPolicy
			return e
		}
	}
	return err
}

var (
	_ clearbar.Provider    = (*Provider)(nil)
	_ clearbar.Embedder    = (*Provider)(nil)
	_ provider.Constructor = New
)
