package clearbar

import (
	"context"
	"time"
)

// Provider sends calls to one upstream API. Implementations must be safe for concurrent use.
//
// Errors are *Error values with a FailureClass, so that the caller decides retries and
// fallbacks from the class, never from a bare status code. A call cancelled by ctx returns an
// error of class Canceled (the client went away) or Timeout (a deadline passed).
//
// Optional capabilities (embeddings, model listing) are separate interfaces that a provider
// may also implement; callers find them by type assertion.
type Provider interface {
	// Name is the provider's name in the spec.
	Name() string
	// Complete sends a non-streaming call and returns the whole answer.
	Complete(ctx context.Context, call *Call) (*Response, error)
	// Stream sends a streaming call. It returns once the upstream has accepted the call (its
	// status is known), before the first chunk; errors before then are returned here.
	Stream(ctx context.Context, call *Call) (Stream, error)
}

// Call is one attempt: a request, the model to send it to, and per-attempt settings. The
// Request is shared between attempts and must not be modified.
type Call struct {
	Request *Request
	// Model is the provider's model id.
	Model string
	// SpecModel, when set, is the name in the spec of the model the call is for. Real
	// providers ignore it; the simulated provider answers with that spec model's assumptions
	// (several spec models may share one model id), and the replay provider looks for answers
	// recorded under that name before those recorded under the model id.
	SpecModel string
	// Stream asks for a streamed answer (the request's own Stream says what the client wants;
	// the gateway may stream upstream for a client that does not, or the other way round).
	Stream bool
	// TTFTTimeout, when set, fails a streaming call whose first chunk takes longer.
	TTFTTimeout time.Duration
	// Attempt numbers the attempts of one request from 1, for upstream logs and simulations.
	Attempt int
	// Key, when set, names what the call answers across runs (an eval item): real providers
	// ignore it; a seeded simulated provider draws the call's fate from its seed, the model,
	// the key and the attempt rather than from the order calls reach it, so that a run gives
	// each item the same fate whatever order concurrent calls take and whether it was resumed.
	Key string
	// Category is the request's category. Real providers ignore it; the simulated provider
	// uses it to answer with the category's assumed quality.
	Category string
	// Check marks an agreement check's call: the checker answers the client's own request
	// (with its Category) to be compared with the answer. The simulated provider answers it
	// with the category's tokens and the question's own option, without drawing its quality:
	// on the simulator a check fails at the category's assumed validator strength, by the
	// answer it checks.
	Check bool
	// Judged, on a judge's call, is the answer being judged. Real providers ignore it (the
	// answer is in the request's text); the simulated provider scores it by the ground truth
	// it recorded when it made that answer.
	Judged *Response
}
