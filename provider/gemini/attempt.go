package gemini

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/clearbar/clearbar"
)

// attempt is one call in flight: the caller's context, the call's own context with its
// deadlines, and what an error needs to name. It is provider/openai's attempt, the same
// contract: timeouts, first-chunk deadlines and their classification behave alike in both
// adapters.
type attempt struct {
	p      *Provider
	call   *clearbar.Call
	parent context.Context
	ctx    context.Context
	cancel context.CancelCauseFunc
	// timeout fires at the call's timeout, ttft at the first-chunk deadline; either may be nil.
	// They are set by begin and not changed after, so end may run on another goroutine.
	timeout, ttft *time.Timer
	ttftLimit     time.Duration
	// ttftChecked says firstChunk ran; only the goroutine reading the answer uses it.
	ttftChecked bool
}

// deadlineError is the cancel cause of a call whose own deadline passed.
type deadlineError struct {
	what string
	d    time.Duration
}

func (e *deadlineError) Error() string { return fmt.Sprintf("%s within %s", e.what, e.d) }

// errReleased is the cancel cause of a call that ended normally or whose stream was closed.
var errReleased = errors.New("call released")

// begin starts an attempt. ttft, when positive, cancels it unless firstChunk is called in time.
func (p *Provider) begin(parent context.Context, call *clearbar.Call, ttft time.Duration) *attempt {
	ctx, cancel := context.WithCancelCause(parent)
	a := &attempt{p: p, call: call, parent: parent, ctx: ctx, cancel: cancel, ttftLimit: ttft}
	if d := p.timeoutFor(call.Model); d > 0 {
		cause := &deadlineError{what: "no complete answer", d: d}
		a.timeout = time.AfterFunc(d, func() { cancel(cause) })
	}
	if ttft > 0 {
		cause := &deadlineError{what: "no first chunk", d: ttft}
		a.ttft = time.AfterFunc(ttft, func() { cancel(cause) })
	}
	return a
}

// firstChunk stops the first-chunk deadline. It returns a Timeout error when the deadline
// fired first: the call's context is then canceled, whatever was read.
func (a *attempt) firstChunk() *clearbar.Error {
	if a.ttft == nil || a.ttftChecked {
		return nil
	}
	a.ttftChecked = true
	if a.ttft.Stop() {
		return nil
	}
	return a.fail(clearbar.Timeout, 0, (&deadlineError{what: "no first chunk", d: a.ttftLimit}).Error(), context.DeadlineExceeded)
}

// end stops the timers and cancels the call's context. It is safe to call more than once.
func (a *attempt) end() {
	if a.timeout != nil {
		a.timeout.Stop()
	}
	if a.ttft != nil {
		a.ttft.Stop()
	}
	a.cancel(errReleased)
}

// fail returns an error of the given class naming the provider and model.
func (a *attempt) fail(class clearbar.FailureClass, status int, msg string, cause error) *clearbar.Error {
	return &clearbar.Error{Class: class, Status: status, Message: msg, Provider: a.p.name, Model: a.call.Model, Err: cause}
}

// ctxFailure classifies the end of the call's context; it returns nil while the context is live.
// The call's own deadlines are Timeout; a closed stream and a canceled caller are Canceled; the
// caller's deadline is Timeout.
func (a *attempt) ctxFailure() *clearbar.Error {
	if a.ctx.Err() == nil {
		return nil
	}
	cause := context.Cause(a.ctx)
	var de *deadlineError
	switch {
	case errors.As(cause, &de):
		return a.fail(clearbar.Timeout, 0, de.Error(), fmt.Errorf("%w: %w", context.DeadlineExceeded, de))
	case errors.Is(cause, errReleased):
		return a.fail(clearbar.Canceled, 0, "the stream was closed before its end", context.Canceled)
	case errors.Is(a.parent.Err(), context.DeadlineExceeded):
		return a.fail(clearbar.Timeout, 0, "the request's deadline passed", a.parent.Err())
	}
	return a.fail(clearbar.Canceled, 0, "the request was canceled", context.Canceled)
}

// transportError classifies an error from sending a request or reading an answer: a context
// that ended first decides; otherwise the connection failed (class Connection, or Timeout for
// a timeout that is not a dial timeout, such as http.Client.Timeout).
func (a *attempt) transportError(err error, doing string) *clearbar.Error {
	if e := a.ctxFailure(); e != nil {
		return e
	}
	reason, class := connReason(err)
	return a.fail(class, 0, fmt.Sprintf("connection to the provider failed while %s: %s", doing, reason), err)
}

// connReason names a connection failure in words safe to show a client (no addresses).
func connReason(err error) (string, clearbar.FailureClass) {
	var (
		dnsErr  *net.DNSError
		opErr   *net.OpError
		netErr  net.Error
		certErr *tls.CertificateVerificationError
		unkAuth x509.UnknownAuthorityError
		recErr  tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &dnsErr):
		return "DNS lookup failed", clearbar.Connection
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", clearbar.Connection
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset", clearbar.Connection
	case errors.As(err, &certErr), errors.As(err, &unkAuth), errors.As(err, &recErr):
		return "TLS handshake failed", clearbar.Connection
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed early", clearbar.Connection
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "could not connect", clearbar.Connection
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timed out", clearbar.Timeout
	}
	return "connection failed", clearbar.Connection
}
