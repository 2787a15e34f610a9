package gemini

import (
	"bytes"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/translate"
)

// Refusal returns the error the adapter answers an OpenAI chat completions body with when it
// cannot translate the body for Gemini (a custom tool, a tool call or tool_choice of another
// type than function, a content part its message's role cannot hold, a file by an id that is
// not a Gemini file, a media URL Gemini cannot read, a function message, …: see the package
// documentation), or nil when it can, so that routing can leave Gemini models out for it. The
// error is the adapter's own, a ClientError with Type invalid_request_error, Code
// unsupported_for_gemini and the parameter it names, with Status 400 (the status the gateway
// answers it with); Provider and Model are unset.
//
// The model is not known: what the adapter refuses for some models only, a web search with
// tools before Gemini 3 (geminimodel.SearchesWithFunctions), is not checked, and the body is
// checked as for a model whose version the adapter cannot read. Refusal runs the adapter's
// whole translation, so a caller reading the body calls it only for a body that carries what
// the adapter may refuse. It does not modify body and is safe for concurrent use.
func Refusal(body []byte) *clearbar.Error {
	body, err := translate.ToOpenAIUpstream(bytes.TrimSpace(body))
	if err != nil {
		e := *clearbar.AsError(err)
		if e.Class != clearbar.ClientError {
			return nil // not the request's fault: the call reports it
		}
		e.Status = 400
		return &e
	}
	if _, e := translateRequest(body, "", nil); e != nil {
		e.Status = 400
		return e
	}
	return nil
}
