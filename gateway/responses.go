package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/sse"
	"github.com/clearbar/clearbar/translate"
)

// The Responses ingress: POST /v1/responses, a stateless subset of OpenAI's Responses API.
//
// As for /v1/messages, the request is translated into a chat request (translate.ResponsesToChat)
// and runs through the chat pipeline (serveChat), so it is routed by the same spec and gets
// the same decision record (Dialect "openai", Path "/v1/responses") and X-Clearbar-* headers.
// responsesWriter stands in for the client's http.ResponseWriter: a completion is kept back
// and translated into a response object (translate.ToResponsesResponse), a stream is
// transcoded event by event (translate.ResponsesEvents) into the Responses events, ending with
// response.completed, or response.failed when the upstream fails after the stream began. Errors
// before the stream are OpenAI's error JSON with the status /v1/chat/completions would give,
// naming the Responses parameter the client sent (responsesError), not the chat one.
// The response id is "resp_" followed by the decision id. Clearbar keeps no responses:
// previous_response_id, store: true and the other stateful or built-in features are a 400
// naming the parameter.

// responsesIngress marks, in its context, a request translated from /v1/responses.
type responsesIngress struct{}

// responses serves POST /v1/responses.
func (g *Gateway) responses(w http.ResponseWriter, r *http.Request) {
	seq, start := g.started.begin(g.now)
	defer g.started.end(seq, start) // a request that panics is no longer in flight either
	d := &clearbar.Decision{ID: newID(start), Time: start, Dialect: clearbar.DialectOpenAI, Path: r.URL.Path}
	var sh shadowed
	status, err := g.serveResponses(w, r, d, start, &sh)
	if err != nil && status == 0 {
		g.decisionHeaders(w.Header(), d)
		status = writeError(w, err)
	}
	g.finishDecision(d, status, err, start, seq)
	g.submitShadow(&sh, d, err)
}

// serveResponses checks the client's key, translates the request and runs the chat pipeline
// on it. Like serveChat, it returns status 0 with an error that is not yet written.
func (g *Gateway) serveResponses(w http.ResponseWriter, r *http.Request, d *clearbar.Decision, start time.Time, sh *shadowed) (int, error) {
	// The key first, so that a client without one learns nothing else.
	if _, err := g.keys.client(r); err != nil {
		return 0, err
	}
	body, err := readBody(w, r, g.limits.MaxBody)
	if err != nil {
		return 0, err
	}
	chat, echo, err := translate.ResponsesToChat(body)
	if err != nil {
		return 0, err
	}
	inner := r.Clone(context.WithValue(r.Context(), responsesIngress{}, true))
	inner.Body = io.NopCloser(bytes.NewReader(chat))
	inner.ContentLength = int64(len(chat))
	inner.Header.Set("Content-Type", "application/json")

	rw := newResponsesWriter(w, d.ID, echo)
	status, err := g.serveChat(rw, inner, d, start, sh)
	if err != nil && status == 0 {
		err = responsesError(err, echo.Sources)
	}
	if rw.passed {
		if e := clearbar.AsError(err); err != nil && rw.failed && (e.Class != clearbar.Canceled || isShutdownCut(e)) {
			rw.fail(err)
		}
		return status, err
	}
	if err != nil || status == 0 {
		return status, err
	}
	out, terr := translate.ToResponsesResponse(rw.body.Bytes(), d.ID, echo)
	if terr != nil {
		e := clearbar.AsError(terr)
		return 0, &clearbar.Error{Class: clearbar.BadResponse, Status: http.StatusBadGateway, Message: "the answer cannot be expressed as a response object: " + e.Message, Err: terr}
	}
	w.WriteHeader(status)
	w.Write(out)
	return status, nil
}

// responsesError is err, an error of the chat pipeline not yet written, naming the client's
// parameter instead of the chat request's (translate.ResponsesParam), in its param and in its
// message where that quotes the parameter ('max_completion_tokens') or begins with it.
func responsesError(err error, src []translate.ResponsesSource) error {
	e := clearbar.AsError(err)
	if e.Param == "" {
		return err
	}
	param := translate.ResponsesParam(e.Param, src)
	if param == e.Param {
		return err
	}
	c := *e
	c.Param = param
	c.Message = strings.ReplaceAll(c.Message, "'"+e.Param+"'", "'"+param+"'")
	if rest, ok := strings.CutPrefix(c.Message, e.Param+" "); ok {
		c.Message = param + " " + rest
	}
	return &c
}

// responsesWriter is the http.ResponseWriter the chat pipeline writes to on behalf of a
// Responses client, as anthropicWriter is for an Anthropic one: a JSON body is kept back for
// the handler to translate; an event stream's status and headers go to the client at once and
// each complete chat event is transcoded as it is written. The pipeline's error event is not
// transcoded: the handler ends the stream with response.failed from the pipeline's error
// (fail). Keep-alive comments pass through as comments.
type responsesWriter struct {
	transcoder
	events *translate.ResponsesEvents
}

// newResponsesWriter returns the writer of a Responses client's answer on w, the response id
// and the request's parameters its events echo.
func newResponsesWriter(w http.ResponseWriter, id string, echo translate.ResponsesEcho) *responsesWriter {
	a := &responsesWriter{}
	a.transcoder = transcoder{w: w, begin: func(out *sse.Writer) {
		a.events = translate.NewResponsesEvents(out.WriteEvent, id, echo)
		a.chunk, a.end = a.events.Chunk, a.events.End
		a.ping = func() error { return out.WriteComment("ping") }
	}}
	return a
}

// fail ends the client's stream with response.failed for a failure after the first byte.
func (a *responsesWriter) fail(err error) {
	e := clearbar.AsError(err)
	msg := a.failMsg
	if msg == "" {
		msg = fmt.Sprintf("the upstream stream failed after the answer began: %s", e.Message)
	}
	code := "server_error"
	if e.Class == clearbar.RateLimited {
		code = "rate_limit_exceeded"
	}
	if a.err == nil {
		a.err = a.events.Fail(code, msg)
	}
}

var (
	_ http.ResponseWriter             = (*responsesWriter)(nil)
	_ interface{ FlushError() error } = (*responsesWriter)(nil)
)
