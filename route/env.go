package route

import (
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/translate"
)

// Env is what category rules see. The expr tags are the rule language's names:
//
//	tokens_in        estimated input tokens (see EstimateTokens)
//	messages, turns  message count, user-message count
//	attachments      non-text content parts; images: those that are images
//	tools            the request offers tools (the deprecated functions count)
//	response_format  "", "text", "json_object" or "json_schema"
//	tier             the client key's tier ("" without keys)
//	risk             the X-Clearbar-Risk header or clearbar_risk metadata value
//	model            the model name the client sent
//	stream           the client asked for a stream
//	last_user        the last user message's text
//	text             all user messages' text
//	system           the system (and developer) prompt
//	headers          request headers, lower-case names: headers["x-customer-tier"] (a rule
//	                 that spells a name otherwise does not load)
//	metadata         the request's metadata map: metadata["feature"]; a key the request
//	                 lacks reads as nil, which equals no string
//
// Rules use expr-lang syntax (https://expr-lang.org): comparisons, and/or/not, in, matches
// (RE2 regular expressions), contains, startsWith, len(), now(), and so on. RE2's \b and \w
// know only ASCII letters (\bcafé\b never matches "café"; use (^|\PL)café($|\PL)), (?i)
// folds case letter by letter (straße does not match STRASSE), and text is matched as the
// client sent it, without Unicode normalisation. A rule that fails at run time (int() of
// a missing metadata value) does not fire; the decision records its error.
type Env struct {
	TokensIn       int               `expr:"tokens_in"`
	Messages       int               `expr:"messages"`
	Turns          int               `expr:"turns"`
	Attachments    int               `expr:"attachments"`
	Images         int               `expr:"images"`
	Tools          bool              `expr:"tools"`
	ResponseFormat string            `expr:"response_format"`
	Tier           string            `expr:"tier"`
	Risk           string            `expr:"risk"`
	Model          string            `expr:"model"`
	Stream         bool              `expr:"stream"`
	LastUser       string            `expr:"last_user"`
	Text           string            `expr:"text"`
	System         string            `expr:"system"`
	Headers        map[string]string `expr:"headers"`
	Metadata       map[string]string `expr:"metadata"`
}

// Input is one request as routing sees it. The router does not modify it.
type Input struct {
	Request *clearbar.Request
	// Header is the client's request headers.
	Header http.Header
	// Client and Tier come from the client's API key ("" without keys).
	Client, Tier string
}

// Tokens a message adds beyond its text, and an image's estimated cost in tokens (a 1024×1024
// image at high detail in OpenAI's accounting).
const (
	tokensPerMessage = 4
	tokensPerImage   = 765
)

// EstimateTokens estimates a request's input tokens without a tokenizer: a quarter of the
// text's bytes (close for English; code and other scripts run higher), 4 per message for the
// chat format, 765 per image and a quarter of the decoded bytes of other attachments. It
// exists to route on size and check context windows before a call, not to bill. Each tool
// definition (the deprecated functions among them) adds a quarter of the bytes of its name,
// description and parameters schema, and 4.
func EstimateTokens(r *clearbar.Request) int {
	n := 0
	for i := range r.Messages {
		m := &r.Messages[i]
		n += clearbar.TokensOfBytes(len(m.Text)) + tokensPerMessage
		for _, tc := range m.ToolCalls {
			n += clearbar.TokensOfBytes(len(tc.Name)+len(tc.Arguments)) + tokensPerMessage
		}
		for _, a := range m.Attachments {
			if a.Type == "image_url" {
				n += tokensPerImage
			} else {
				n += a.Size * 3 / 4 / 4
			}
		}
	}
	for _, t := range r.Tools {
		n += clearbar.TokensOfBytes(len(t.Name)+len(t.Description)+len(t.Parameters)) + tokensPerMessage
	}
	return n
}

// features fills the features every decision records.
func features(in *Input, f *clearbar.Features) {
	r := in.Request
	f.TokensIn = EstimateTokens(r)
	f.Messages = len(r.Messages)
	f.Turns, f.Attachments, f.Images = 0, 0, 0
	for i := range r.Messages {
		m := &r.Messages[i]
		if m.Role == "user" {
			f.Turns++
		}
		f.Attachments += len(m.Attachments)
		for _, a := range m.Attachments {
			if a.Type == "image_url" {
				f.Images++
			}
		}
	}
	// Tools of Anthropic's own types (web search, …) ride in the sidecar of an Anthropic
	// client's request, not among the function tools.
	f.Tools = len(r.Tools) > 0 || r.AnthropicOnly != "" && gjson.GetBytes(r.Body, translate.AnthropicKey+".native_tools").Exists()
	f.ResponseFormat = r.ResponseFormat.Type
	f.Tier = in.Tier
	f.Risk = in.Header.Get("X-Clearbar-Risk")
	if f.Risk == "" {
		f.Risk = r.Metadata["clearbar_risk"]
	}
	f.Model = r.Model
	f.Stream = r.Stream
}

// needs says which costly Env fields a rule set reads, so that requests pay only for them.
type needs struct {
	text, system, headers bool
}

// fillEnv builds the rule environment from features and the request.
func fillEnv(env *Env, f *clearbar.Features, in *Input, n needs) {
	*env = Env{
		TokensIn: f.TokensIn, Messages: f.Messages, Turns: f.Turns, Attachments: f.Attachments,
		Images: f.Images, Tools: f.Tools, ResponseFormat: f.ResponseFormat, Tier: f.Tier,
		Risk: f.Risk, Model: f.Model, Stream: f.Stream,
		LastUser: in.Request.LastUserText(), Metadata: in.Request.Metadata,
	}
	if n.text {
		env.Text = in.Request.Text("user")
	}
	if n.system {
		env.System = in.Request.SystemText()
	}
	if n.headers {
		env.Headers = make(map[string]string, len(in.Header))
		for k, v := range in.Header {
			if len(v) > 0 {
				env.Headers[strings.ToLower(k)] = v[0]
			}
		}
	}
}
