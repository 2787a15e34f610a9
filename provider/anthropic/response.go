package anthropic

import (
	"io"
	"mime"
	"net/http"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/translate"
)

// parseResponse translates a 2xx Messages answer into the OpenAI-format Response, in the form
// the call asks for (the message itself kept for an Anthropic client, the deprecated
// function_call for a functions request). An answer nested more than jsonguard.MaxDepth levels
// deep is BadResponse: the translation refuses it before any recursive parser reads it.
func (p *Provider) parseResponse(a *attempt, resp *http.Response, data []byte, ac translate.AnthropicCall) (*clearbar.Response, error) {
	r, err := translate.ToOpenAIAnswer(data, translate.AnswerOptions{Created: p.now().Unix(), Native: ac.Native, Functions: ac.Functions})
	if err != nil {
		if translate.ParseError(data).Found {
			// An error envelope with a 2xx status (some proxies answer so).
			return nil, p.upstreamError(a, resp.StatusCode, resp.Header, data)
		}
		e := clearbar.AsError(err)
		msg := e.Message
		if err := jsonguard.Check(data); err == jsonguard.ErrTooDeep {
			msg = jsonguard.Describe(err, "the answer")
		}
		return nil, a.Fail(clearbar.BadResponse, resp.StatusCode, msg, err)
	}
	r.UpstreamRequestID = resp.Header.Get("Request-Id")
	return r, nil
}

// checkStreamType rejects a 2xx answer to a stream request that is plainly not an event
// stream: JSON (an error envelope, or a server that ignored "stream": true) or HTML (a proxy
// page).
func (p *Provider) checkStreamType(a *attempt, resp *http.Response) *clearbar.Error {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "application/json" && mt != "text/html" {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	if err != nil {
		return a.TransportError(err, "reading the answer")
	}
	if translate.ParseError(data).Found {
		return p.upstreamError(a, resp.StatusCode, resp.Header, data)
	}
	return a.Fail(clearbar.BadResponse, resp.StatusCode, "the provider answered a stream request with "+mt+", not an event stream", nil)
}
