package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// Embed implements clearbar.Embedder: it posts to the base URL plus "/embeddings" (OpenAI's
// POST /v1/embeddings and every server that copies it).
//
// The body is the client's (call.Body) with model set to call.Model, and encoding_format set to
// call.EncodingFormat when that is not empty, so every other field passes unchanged; without a
// Body it is built from Input, EncodingFormat and Dimensions. Keys rotate, timeouts apply and
// failures are classified as for Complete; a 2xx answer without a data array is BadResponse.
//
// An upstream that refuses encoding_format "base64" (a 4xx that names encoding_format or
// base64) is asked once more, in the same call, for floats: without encoding_format, whose
// default is float, since an upstream that does not know the parameter refuses any value of it.
// The answer then carries float arrays, which the caller converts (see
// clearbar.EmbedCall.EncodingFormat). The refusal is not remembered, so such an upstream costs
// one extra round trip per base64 call.
func (p *Provider) Embed(ctx context.Context, call *clearbar.EmbedCall) (*clearbar.EmbedResponse, error) {
	if call == nil {
		return nil, &clearbar.Error{Class: clearbar.Internal, Message: "embeddings call without a call", Provider: p.name}
	}
	body, err := p.embedBody(call, call.EncodingFormat)
	if err != nil {
		return nil, err
	}
	resp, err := p.embedOnce(ctx, call, body)
	if err != nil && call.EncodingFormat == clearbar.EncodingBase64 && rejectsBase64(err) {
		if body, err = p.embedBody(call, ""); err != nil {
			return nil, err
		}
		if body, err = sjson.DeleteBytes(body, "encoding_format"); err != nil {
			return nil, &clearbar.Error{Class: clearbar.ClientError, Message: "the request body cannot be edited", Provider: p.name, Model: call.Model, Err: err}
		}
		resp, err = p.embedOnce(ctx, call, body)
	}
	return resp, err
}

// embedOnce makes one embeddings request (with key rotation) and reads its answer.
func (p *Provider) embedOnce(ctx context.Context, call *clearbar.EmbedCall, body []byte) (*clearbar.EmbedResponse, error) {
	a := p.begin(ctx, &clearbar.Call{Model: call.Model}, 0)
	defer a.End()
	resp, err := p.post(a, p.embeddingsURL(), body, "application/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, e := a.ReadAnswer(resp)
	if e != nil {
		return nil, e
	}
	if msg := jsonguard.Describe(jsonguard.Check(data), "the embeddings answer"); msg != "" {
		return nil, a.Fail(clearbar.BadResponse, resp.StatusCode, msg, nil)
	}
	root := gjson.Parse(view(data))
	if !root.IsObject() {
		return nil, a.Fail(clearbar.BadResponse, resp.StatusCode, "the embeddings answer is not a JSON object", nil)
	}
	if !root.Get("data").IsArray() {
		if parseErrorBody(data).found {
			return nil, p.upstreamError(a, resp.StatusCode, resp.Header, data)
		}
		return nil, a.Fail(clearbar.BadResponse, resp.StatusCode, "the embeddings answer has no data array", nil)
	}
	out := &clearbar.EmbedResponse{Body: data, Model: strings.Clone(root.Get("model").String()), UpstreamRequestID: resp.Header.Get("X-Request-Id")}
	if u := root.Get("usage"); u.IsObject() {
		out.Usage, out.HasUsage = clearbar.Usage{PromptTokens: int(u.Get("prompt_tokens").Int())}, true
	}
	return out, nil
}

// embeddingsURL is the embeddings endpoint next to the chat completions one.
func (p *Provider) embeddingsURL() string {
	return strings.TrimSuffix(p.endpoint, "/chat/completions") + "/embeddings"
}

// embedBody returns the upstream body asking for the given encoding ("" leaves the client's).
func (p *Provider) embedBody(call *clearbar.EmbedCall, encoding string) ([]byte, error) {
	fail := func(msg string, err error) error {
		return &clearbar.Error{Class: clearbar.ClientError, Message: msg, Provider: p.name, Model: call.Model, Err: err}
	}
	if body := bytes.TrimSpace(call.Body); len(body) > 0 {
		out, err := editBody(body, call.Model, false, "")
		if err != nil {
			return nil, fail(err.Error(), err)
		}
		if encoding != "" && gjson.GetBytes(out, "encoding_format").String() != encoding {
			if out, err = sjson.SetBytes(out, "encoding_format", encoding); err != nil {
				return nil, fail("the request body cannot be edited", err)
			}
		}
		return out, nil
	}
	if len(call.Input) == 0 {
		return nil, fail("an embeddings call needs input", nil)
	}
	b, err := json.Marshal(struct {
		Model          string   `json:"model"`
		Input          []string `json:"input"`
		EncodingFormat string   `json:"encoding_format,omitempty"`
		Dimensions     int      `json:"dimensions,omitempty"`
	}{call.Model, call.Input, encoding, call.Dimensions})
	if err != nil {
		return nil, fail("the request cannot be encoded: "+err.Error(), err)
	}
	return b, nil
}

// rejectsBase64 reports whether an upstream refused a call because of encoding_format base64.
func rejectsBase64(err error) bool {
	var e *clearbar.Error
	if !errors.As(err, &e) || e.Class != clearbar.ClientError || e.Status == 0 {
		return false
	}
	m := strings.ToLower(e.Message)
	return e.Param == "encoding_format" || strings.Contains(m, "encoding_format") || strings.Contains(m, "base64")
}

var _ clearbar.Embedder = (*Provider)(nil)
