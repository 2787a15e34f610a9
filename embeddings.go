package clearbar

import "context"

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
	// no usage.
	Usage    Usage
	HasUsage bool
	// UpstreamRequestID is the provider's request id header, for support tickets.
	UpstreamRequestID string
}
