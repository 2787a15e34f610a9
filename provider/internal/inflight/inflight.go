// Package inflight is what every HTTP provider adapter keeps for one call in flight: the
// caller's context, the call's own context with its deadlines (the call's timeout and the
// first-chunk deadline), and the classification of how it ended into the failure taxonomy
// (Timeout, Canceled, Connection), with the provider and model every error names.
package inflight

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

// Attempt is one call in flight: the caller's context, the call's own context with its
// deadlines, and what an error needs to name.
type Attempt struct {
	// Provider is the spec's name of the provider, Call the call.
	Provider string
	Call     *clearbar.Call
	// Parent is the caller's context; Ctx the call's own, which its deadlines and End cancel.
	Parent context.Context
	Ctx    context.Context
	cancel context.CancelCauseFunc
	// timeout fires at the call's timeout, ttft at the first-chunk deadline; either may be nil.
	// They are set by Begin and not changed after, so End may run on another goroutine.
	timeout, ttft *time.Timer
	ttftLimit     time.Duration
	// ttftChecked says FirstChunk ran; only the goroutine reading the answer uses it.
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

// Begin starts an attempt. timeout, when positive, cancels it when no complete answer came in
// time; ttft, when positive, cancels it unless FirstChunk is called in time.
func Begin(parent context.Context, provider string, call *clearbar.Call, timeout, ttft time.Duration) *Attempt {
	ctx, cancel := context.WithCancelCause(parent)
	a := &Attempt{Provider: provider, Call: call, Parent: parent, Ctx: ctx, cancel: cancel, ttftLimit: ttft}
	if d := timeout; d > 0 {
		cause := &deadlineError{what: "no complete answer", d: d}
		a.timeout = time.AfterFunc(d, func() { cancel(cause) })
	}
	if ttft > 0 {
		cause := &deadlineError{what: "no first chunk", d: ttft}
		a.ttft = time.AfterFunc(ttft, func() { cancel(cause) })
	}
	return a
}

// FirstChunk stops the first-chunk deadline. It returns a Timeout error when the deadline
// fired first: the call's context is then canceled, whatever was read.
func (a *Attempt) FirstChunk() *clearbar.Error {
	if a.ttft == nil || a.ttftChecked {
		return nil
	}
	a.ttftChecked = true
	if a.ttft.Stop() {
		return nil
	}
	return a.Fail(clearbar.Timeout, 0, (&deadlineError{what: "no first chunk", d: a.ttftLimit}).Error(), context.DeadlineExceeded)
}

// End stops the timers and cancels the call's context. It is safe to call more than once.
func (a *Attempt) End() {
	if a.timeout != nil {
		a.timeout.Stop()
	}
	if a.ttft != nil {
		a.ttft.Stop()
	}
	a.cancel(errReleased)
}

// Fail returns an error of the given class naming the provider and model.
func (a *Attempt) Fail(class clearbar.FailureClass, status int, msg string, cause error) *clearbar.Error {
	return &clearbar.Error{Class: class, Status: status, Message: msg, Provider: a.Provider, Model: a.Call.Model, Err: cause}
}

// CtxFailure classifies the end of the call's context; it returns nil while the context is live.
// The call's own deadlines are Timeout; a closed stream and a canceled caller are Canceled; the
// caller's deadline is Timeout, named by its cause when the caller gave it one (a deadline set
// with context.WithTimeoutCause, such as a model's timeout the gateway applies), else as the
// request's.
func (a *Attempt) CtxFailure() *clearbar.Error {
	if a.Ctx.Err() == nil {
		return nil
	}
	cause := context.Cause(a.Ctx)
	var de *deadlineError
	switch {
	case errors.As(cause, &de):
		return a.Fail(clearbar.Timeout, 0, de.Error(), fmt.Errorf("%w: %w", context.DeadlineExceeded, de))
	case errors.Is(cause, errReleased):
		return a.Fail(clearbar.Canceled, 0, "the stream was closed before its end", context.Canceled)
	case errors.Is(a.Parent.Err(), context.DeadlineExceeded):
		msg := "the request's deadline passed"
		if c := context.Cause(a.Parent); c != nil && !errors.Is(c, context.DeadlineExceeded) {
			msg = c.Error()
		}
		return a.Fail(clearbar.Timeout, 0, msg, a.Parent.Err())
	}
	return a.Fail(clearbar.Canceled, 0, "the request was canceled", context.Canceled)
}

// TransportError classifies an error from sending a request or reading an answer: a context
// that ended first decides; otherwise the connection failed (class Connection, or Timeout for
// a timeout that is not a dial timeout, such as http.Client.Timeout).
func (a *Attempt) TransportError(err error, doing string) *clearbar.Error {
	if e := a.CtxFailure(); e != nil {
		return e
	}
	reason, class := ConnReason(err)
	return a.Fail(class, 0, fmt.Sprintf("connection to the provider failed while %s: %s", doing, reason), err)
}

// ConnReason names a connection failure in words safe to show a client (no addresses).
func ConnReason(err error) (string, clearbar.FailureClass) {
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
