package gemini

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/internal/jsonstr"
	"github.com/clearbar/clearbar/provider/internal/inflight"
	"github.com/tidwall/gjson"
)

// maxEmbedBatch is the most texts one batchEmbedContents request may carry: the Gemini API
// refuses more ("at most 100 requests can be in one batch").
const maxEmbedBatch = 100

// Embed implements clearbar.Embedder with Gemini's batchEmbedContents, POST
// {base}/v1beta/models/{model}:batchEmbedContents, and answers with an OpenAI embeddings
// document (see the package documentation for the mapping). Inputs beyond 100 go in further
// requests, one after the other within the call's one timeout; the answer keeps the input
// order. Keys rotate, timeouts apply and failures are classified as for Complete; a 2xx answer
// without one vector of numbers per input is BadResponse. Token-id input (call.Input nil) is a
// ClientError naming input: Gemini embeds text only.
func (p *Provider) Embed(ctx context.Context, call *clearbar.EmbedCall) (*clearbar.EmbedResponse, error) {
	if call == nil {
		return nil, &clearbar.Error{Class: clearbar.Internal, Message: "embeddings call without a call", Provider: p.name}
	}
	taskType, err := p.checkEmbedCall(call)
	if err != nil {
		return nil, err
	}
	base64Out := call.EncodingFormat == clearbar.EncodingBase64
	a := p.begin(ctx, &clearbar.Call{Model: call.Model}, 0)
	defer a.End()
	endpoint := p.endpoint(call.Model, "batchEmbedContents")
	name := resourceName(call.Model)

	out := make([]byte, 0, 512)
	out = append(out, `{"object":"list","data":[`...)
	var (
		raw      []byte // one vector's float32 values, for base64
		tokens   int
		hasUsage = true
	)
	for start := 0; start < len(call.Input); start += maxEmbedBatch {
		texts := call.Input[start:min(start+maxEmbedBatch, len(call.Input))]
		body, err := embedBody(name, texts, taskType, call.Dimensions)
		if err != nil {
			return nil, a.Fail(clearbar.ClientError, 0, "the request cannot be encoded: "+err.Error(), err)
		}
		resp, err := p.send(a, endpoint, body, false)
		if err != nil {
			return nil, err
		}
		data, e := a.ReadAnswer(resp)
		resp.Body.Close()
		if e != nil {
			return nil, e
		}
		if msg := jsonguard.Describe(jsonguard.Check(data), "the embeddings answer"); msg != "" {
			return nil, a.Fail(clearbar.BadResponse, resp.StatusCode, msg, nil)
		}
		if start == 0 {
			// The document is about as long as Gemini's answers (shorter in base64).
			out = slices.Grow(out, min(len(data)*((len(call.Input)+maxEmbedBatch-1)/maxEmbedBatch), inflight.MaxAnswer))
		}
		root := gjson.Parse(view(data))
		if e := root.Get("error"); !root.IsObject() || e.Exists() && e.Type != gjson.Null {
			// An error in a 2xx answer (or an array of one) is classified by its own status.
			if parseErrorBody(data).found {
				return nil, p.upstreamError(a, resp.StatusCode, resp.Header, data)
			}
			if root.IsObject() {
				return nil, a.Fail(clearbar.BadResponse, resp.StatusCode, "the embeddings answer holds an unreadable error", nil)
			}
			return nil, a.Fail(clearbar.BadResponse, resp.StatusCode, "the embeddings answer is not a JSON object", nil)
		}
		embs := root.Get("embeddings")
		if !embs.IsArray() {
			return nil, a.Fail(clearbar.BadResponse, resp.StatusCode, "the embeddings answer has no embeddings array", nil)
		}
		n := 0
		var verr error
		embs.ForEach(func(_, e gjson.Result) bool {
			if n == len(texts) {
				n++
				return false
			}
			if start+n > 0 {
				out = append(out, ',')
			}
			out = append(out, `{"object":"embedding","index":`...)
			out = strconv.AppendInt(out, int64(start+n), 10)
			out = append(out, `,"embedding":`...)
			out, raw, verr = appendVector(out, raw[:0], e.Get("values"), base64Out)
			if verr != nil {
				verr = fmt.Errorf("embeddings[%d]: %w", n, verr)
				return false
			}
			out = append(out, '}')
			n++
			return true
		})
		switch {
		case verr != nil:
			msg := p.redact("the embeddings answer is unreadable: " + verr.Error())
			return nil, a.Fail(clearbar.BadResponse, resp.StatusCode, msg, errors.New(msg))
		case n != len(texts):
			return nil, a.Fail(clearbar.BadResponse, resp.StatusCode, fmt.Sprintf("the embeddings answer has %d vectors for %d inputs", len(embs.Array()), len(texts)), nil)
		}
		// Gemini's batchEmbedContents answer carries no usage today; use it if one comes.
		if u := root.Get("usageMetadata.promptTokenCount"); u.Type == gjson.Number {
			tokens += int(u.Int())
		} else {
			hasUsage = false
		}
	}
	out = append(out, `],"model":`...)
	out = jsonstr.Append(out, call.Model)
	if hasUsage {
		out = append(out, `,"usage":{"prompt_tokens":`...)
		out = strconv.AppendInt(out, int64(tokens), 10)
		out = append(out, `,"total_tokens":`...)
		out = strconv.AppendInt(out, int64(tokens), 10)
		out = append(out, '}')
	}
	out = append(out, '}')
	r := &clearbar.EmbedResponse{Body: out, Model: call.Model, HasUsage: hasUsage}
	if hasUsage {
		r.Usage.PromptTokens = tokens
	} else {
		// Gemini reports no usage for embeddings, yet bills the input tokens: estimate them, a
		// quarter of each text's bytes, for the call's cost.
		r.Usage.PromptTokens, r.UsageEstimated = estimateTokens(call.Input), true
	}
	return r, nil
}

// checkEmbedCall checks what Gemini can embed: one or more non-empty texts. It returns the
// client body's task_type, for taskType ("" when none).
func (p *Provider) checkEmbedCall(call *clearbar.EmbedCall) (string, error) {
	fail := func(param, format string, args ...any) error {
		e := badRequest(param, format, args...)
		e.Provider, e.Model = p.name, call.Model
		return e
	}
	body := bytes.TrimSpace(call.Body)
	switch {
	case call.Input == nil && len(body) > 0:
		return "", fail("input", "the Gemini API embeds text only: send input as a string or an array of strings, not token ids")
	case len(call.Input) == 0:
		return "", fail("input", "an embeddings call needs input: at least one text")
	}
	for i, s := range call.Input {
		if s == "" {
			return "", fail("input", "input[%d] is an empty string; the Gemini API embeds non-empty text only", i)
		}
	}
	if len(body) == 0 {
		return "", nil
	}
	switch t := gjson.GetBytes(body, "task_type"); {
	case !t.Exists() || t.Type == gjson.Null:
		return "", nil
	case t.Type != gjson.String || t.Str == "":
		return "", fail("task_type", "task_type must be the name of a Gemini embedding task type (RETRIEVAL_QUERY, RETRIEVAL_DOCUMENT, SEMANTIC_SIMILARITY, ...), not %s", inflight.Truncate(t.Raw, 64))
	default:
		return t.Str, nil
	}
}

// resourceName is a model's resource name in a request body: "models/ID" unless the id already
// names its collection (as for endpoint).
func resourceName(model string) string {
	if strings.Contains(model, "/") {
		return model
	}
	return "models/" + model
}

// embedRequest is one EmbedContentRequest of a batchEmbedContents body.
type embedRequest struct {
	Model   string `json:"model"`
	Content struct {
		Parts [1]struct {
			Text string `json:"text"`
		} `json:"parts"`
	} `json:"content"`
	TaskType             string `json:"taskType,omitempty"`
	OutputDimensionality int    `json:"outputDimensionality,omitempty"`
}

// embedBody returns the batchEmbedContents body for texts: one request per text, each naming
// the model, with taskType and outputDimensionality when set. Texts are written as they are
// (no HTML escaping).
func embedBody(model string, texts []string, taskType string, dims int) ([]byte, error) {
	reqs := make([]embedRequest, len(texts))
	for i, s := range texts {
		r := &reqs[i]
		r.Model, r.TaskType, r.OutputDimensionality = model, taskType, dims
		r.Content.Parts[0].Text = s
	}
	size := 32
	for _, s := range texts {
		size += len(s) + len(model) + 96
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Requests []embedRequest `json:"requests"`
	}{reqs}); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// appendVector appends one of Gemini's values arrays as an OpenAI embedding: a JSON array of
// numbers (each written in the shortest form that reads back as the same float32), or, with
// asBase64, a base64 string of the float32 values, little-endian, back to back. raw is scratch
// space for the latter, returned for reuse. Values must be finite float32 numbers.
func appendVector(out, raw []byte, values gjson.Result, asBase64 bool) ([]byte, []byte, error) {
	if !values.IsArray() {
		return out, raw, fmt.Errorf("values is missing or not an array")
	}
	if asBase64 {
		out = append(out, '"')
	} else {
		out = append(out, '[')
	}
	n := 0
	var err error
	values.ForEach(func(_, x gjson.Result) bool {
		var f float64
		if x.Type != gjson.Number {
			// Not echoed: an upstream's strings are no business of the caller's.
			err = fmt.Errorf("values[%d] is not a number (JSON %s)", n, strings.ToLower(x.Type.String()))
			return false
		}
		if f, err = strconv.ParseFloat(x.Raw, 32); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			err = fmt.Errorf("values[%d] is %s, not a float32", n, inflight.Truncate(x.Raw, 32))
			return false
		}
		if asBase64 {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(f)))
		} else {
			if n > 0 {
				out = append(out, ',')
			}
			out = strconv.AppendFloat(out, f, 'g', -1, 32)
		}
		n++
		return true
	})
	switch {
	case err != nil:
		return out, raw, err
	case n == 0:
		return out, raw, fmt.Errorf("the vector is empty")
	case asBase64:
		out = base64.StdEncoding.AppendEncode(out, raw)
		return append(out, '"'), raw, nil
	}
	return append(out, ']'), raw, nil
}

// estimateTokens estimates the input tokens of texts without a tokenizer: a quarter of each
// text's bytes, rounded up, at least one per text.
func estimateTokens(texts []string) int {
	n := 0
	for _, t := range texts {
		n += max(clearbar.TokensOfBytes(len(t)), 1)
	}
	return n
}

var _ clearbar.Embedder = (*Provider)(nil)
