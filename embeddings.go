package clearbar

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
)

// Embedder is an optional capability of a Provider: it computes embeddings, OpenAI's
// POST /v1/embeddings. Callers find it by type assertion on a Provider. Implementations must
// be safe for concurrent use, and classify every failure as Provider's methods do: an *Error
// with a FailureClass, Canceled or Timeout when ctx ends.
type Embedder interface {
	// Embed sends one embeddings call and returns the whole answer.
	Embed(ctx context.Context, call *EmbedCall) (*EmbedResponse, error)
}

// Embedding encodings, the values of OpenAI's encoding_format.
const (
	// EncodingFloat is a JSON array of numbers per vector: OpenAI's default.
	EncodingFloat = "float"
	// EncodingBase64 is a base64 string per vector: the vector's float32 values, little-endian,
	// back to back (what openai-node asks for by default and decodes).
	EncodingBase64 = "base64"
)

// EmbedCall is one embeddings attempt. Like a Call, it is read-only: an adapter builds its own
// upstream body and must not modify Body or Input.
type EmbedCall struct {
	// Model is the provider's model id (for Azure OpenAI, the deployment).
	Model string
	// Input holds the texts to embed, when the client sent text; it is nil for token-id input,
	// which only Body carries.
	Input []string
	// EncodingFormat is the encoding the caller wants: EncodingFloat, EncodingBase64, or ""
	// for the upstream's default (float). An adapter asks its upstream for it where the
	// upstream takes it; the answer may still come in the other encoding (an upstream that
	// ignores encoding_format, or one that rejected base64 and was asked again for floats),
	// so callers check EmbedResponse.Body and convert.
	EncodingFormat string
	// Dimensions asks for shorter vectors (models that support it); 0 means the model's own.
	Dimensions int
	// Body is the client's request body (OpenAI dialect), when there is one. Adapters that
	// speak OpenAI send it with only the model rewritten (and encoding_format, when they must
	// ask for another encoding), so that fields Clearbar does not know (user, vendor
	// extensions) reach the upstream unchanged. Nil means: build the body from Input,
	// EncodingFormat and Dimensions.
	Body []byte
}

// EmbedResponse is an embeddings answer.
type EmbedResponse struct {
	// Body is the answer as an OpenAI embeddings JSON document ({"object": "list", "data":
	// [{"object": "embedding", "index", "embedding"}], "model", "usage"}), with each vector in
	// whichever encoding the upstream sent: a JSON array of numbers or a base64 string.
	Body []byte
	// Model is the served model the upstream names.
	Model string
	// Usage counts the input tokens (PromptTokens); HasUsage is false when the upstream sent
	// no usage. An adapter whose upstream never reports usage (Gemini's embeddings) may set
	// Usage to its estimate with UsageEstimated, for the cost of the call; the estimate never
	// reaches the client's body.
	Usage          Usage
	HasUsage       bool
	UsageEstimated bool
	// UpstreamRequestID is the provider's request id header, for support tickets.
	UpstreamRequestID string
}

// Vectors decodes the answer's vectors, in input order (by each item's "index", or by position
// when an item has none). A vector may be a JSON array of numbers or a base64 string of
// little-endian float32 values; values that are not finite float32 numbers are an error.
func (r *EmbedResponse) Vectors() ([][]float32, error) {
	var doc struct {
		Data []struct {
			Index     *int            `json:"index"`
			Embedding json.RawMessage `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		return nil, fmt.Errorf("the embeddings answer is not an OpenAI embeddings document: %w", err)
	}
	out := make([][]float32, len(doc.Data))
	for n, item := range doc.Data {
		i := n
		if item.Index != nil {
			i = *item.Index
		}
		if i < 0 || i >= len(out) || out[i] != nil {
			return nil, fmt.Errorf("data[%d] has index %d: indices must number the %d vectors once each", n, i, len(out))
		}
		v, err := decodeVector(item.Embedding)
		if err != nil {
			return nil, fmt.Errorf("data[%d].embedding: %w", n, err)
		}
		out[i] = v
	}
	return out, nil
}

// decodeVector reads one embedding: a JSON array of numbers or a base64 string.
func decodeVector(raw json.RawMessage) ([]float32, error) {
	raw = bytes.TrimSpace(raw)
	var v []float32
	switch {
	case len(raw) > 0 && raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		var err error
		if v, err = Float32sFromBase64(s); err != nil {
			return nil, err
		}
	case len(raw) > 0 && raw[0] == '[':
		// Pointers, because encoding/json leaves an element unchanged (0) for a JSON null.
		var fs []*float64
		if err := json.Unmarshal(raw, &fs); err != nil || slices.Contains(fs, nil) {
			return nil, errors.New("a vector holds something other than numbers")
		}
		v = make([]float32, len(fs))
		for i, f := range fs {
			v[i] = float32(*f)
		}
	default:
		return nil, errors.New("missing: want an array of numbers or a base64 string")
	}
	if len(v) == 0 {
		return nil, errors.New("the vector is empty")
	}
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("the vector holds %v", x)
		}
	}
	return v, nil
}

// Float32sBase64 is the base64 form of an embedding vector: its float32 values,
// little-endian, back to back (EncodingBase64, and Clearbar's own files of vectors and
// weights).
func Float32sBase64(v []float32) string {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// Float32sFromBase64 reads Float32sBase64's form back.
func Float32sFromBase64(s string) ([]float32, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw)%4 != 0 {
		return nil, errors.New("a base64 vector is not a whole number of float32 values")
	}
	v := make([]float32, len(raw)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return v, nil
}
