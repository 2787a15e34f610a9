package simulated

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/toolschema"
	"github.com/clearbar/clearbar/validate"
)

// EstimateTokens estimates the tokens in a text at one token per four bytes, rounded up: the
// usual rule of thumb for English with OpenAI's tokenizers. It is an estimate for simulations,
// not a tokenizer.
func EstimateTokens(text string) int { return clearbar.TokensOfBytes(len(text)) }

// PromptTokens estimates a request's prompt tokens: the bytes of all its messages' text over
// four, rounded up, plus four per message for the chat format's role and separators, and each
// tool definition (its name, description and parameters) and the response format's schema the
// same way, as route.EstimateTokens and the vendors count them. Attachments are not counted.
func PromptTokens(req *clearbar.Request) int {
	n := 0
	for _, m := range req.Messages {
		n += len(m.Text)
	}
	tokens := clearbar.TokensOfBytes(n) + 4*len(req.Messages)
	// The tool definitions and the response format's schema are sent with the prompt, and
	// billed as input, as route.EstimateTokens counts them.
	for _, t := range req.Tools {
		tokens += clearbar.TokensOfBytes(len(t.Name)+len(t.Description)+len(t.Parameters)) + 4
	}
	if rf := req.ResponseFormat; len(rf.Schema) > 0 {
		tokens += clearbar.TokensOfBytes(len(rf.Name)+len(rf.Schema)) + 4
	}
	return tokens
}

// maxChoices is OpenAI's limit on n.
const maxChoices = 128

// output is what a simulated model answers, before failures are applied.
type output struct {
	choice clearbar.Choice
	// json marks a structured (json_object or json_schema) answer, which InvalidJSONRate
	// may break.
	json bool
}

// makeOutput builds a model's answer to a request: a tool call when the request offers
// function tools (the deprecated functions among them; not custom tools) and does not forbid
// them (unless, left to choose, the model has a tool's result to answer from: the
// conversation's last message is one, a tool or function message, as in an agent's loop), a
// JSON document for a JSON response format, otherwise text.
func (p *Provider) makeOutput(req *clearbar.Request, model string, r *rand.Rand) (output, error) {
	last := ""
	if len(req.Messages) > 0 {
		last = req.Messages[len(req.Messages)-1].Role
	}
	answersToolResult := (last == "tool" || last == "function") && (req.ToolChoice == "" || req.ToolChoice == "auto")
	// A tool without a name is not a function (OpenAI's custom tools): it cannot be called
	// with a function call, so the model calls the first function, or answers in text.
	named := slices.IndexFunc(req.Tools, func(t clearbar.Tool) bool { return t.Name != "" })
	if named >= 0 && req.ToolChoice != "none" && !answersToolResult {
		tool := &req.Tools[named]
		switch req.ToolChoice {
		case "", "auto", "required":
		default:
			tool = nil
			for i := range req.Tools {
				if req.Tools[i].Name == req.ToolChoice {
					tool = &req.Tools[i]
					break
				}
			}
			if tool == nil {
				return output{}, p.clientError(model, 400, "invalid_request_error", "tool_choice names function %q, which is not among the request's tools", req.ToolChoice)
			}
		}
		args, err := SampleJSON(toolschema.Normalize(tool.Parameters))
		if err != nil {
			return output{}, p.clientError(model, 400, "invalid_request_error", "tool %q: parameters: %v", tool.Name, err)
		}
		call := clearbar.ToolCall{ID: newID("call_", r), Name: tool.Name, Arguments: string(args)}
		return output{choice: clearbar.Choice{ToolCalls: []clearbar.ToolCall{call}, FinishReason: "tool_calls"}}, nil
	}
	switch req.ResponseFormat.Type {
	case "json_schema":
		doc, err := SampleJSON(req.ResponseFormat.Schema)
		if err != nil {
			return output{}, p.clientError(model, 400, "invalid_request_error", "response_format schema: %v", err)
		}
		return output{choice: clearbar.Choice{Text: string(doc)}, json: true}, nil
	case "json_object":
		text := p.sim.Output
		if !isJSONObject(text) {
			b, _ := json.Marshal(struct {
				Answer string `json:"answer"`
				Model  string `json:"model"`
			}{"This is a simulated answer.", model})
			text = string(b)
		}
		return output{choice: clearbar.Choice{Text: text}, json: true}, nil
	}
	if labels := validate.ChoiceLabels(req.LastUserText()); len(labels) > 0 {
		// A multiple-choice question: every simulated model names the same option, one the
		// question's text picks, so that agreement checks agree unless an answer is drawn
		// to fail them (quality.violate).
		return output{choice: clearbar.Choice{Text: "The answer is " + SimulatedChoice(labels, req.LastUserText()) + "."}}, nil
	}
	text := p.sim.Output
	if text == "" {
		text = fmt.Sprintf("This is a simulated answer from %s. It stands in for a real reply, so that routing, retries and fallbacks can be tried without API keys.", model)
	}
	return output{choice: clearbar.Choice{Text: text}}, nil
}

// SimulatedChoice is the option simulated models pick for a multiple-choice question with
// these labels: one chosen by a hash of the question, the same for every model and call.
func SimulatedChoice(labels []string, question string) string {
	h := fnv.New32a()
	h.Write([]byte(question))
	return labels[h.Sum32()%uint32(len(labels))]
}

func isJSONObject(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "{") && json.Valid([]byte(s))
}

// breakJSON returns a truncated copy of a JSON document that is not valid JSON, like an
// answer cut off by a token limit.
func breakJSON(doc string) string {
	s := truncateRunes(doc, len(doc)/2)
	if s == "" || json.Valid([]byte(s)) {
		s += "{"
	}
	return s
}

// truncateRunes returns the longest prefix of s of at most n bytes that does not split a
// UTF-8 sequence.
func truncateRunes(s string, n int) string {
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// stopAt ends a text answer before the earliest of the request's stop sequences (stop, a
// string or a list, in the body), as a model does: the sequence is not sent and the finish
// reason stays "stop"; it reports whether one did. Tool calls are not cut.
func stopAt(c *clearbar.Choice, body []byte) (stopped bool) {
	if len(c.ToolCalls) > 0 || len(body) == 0 {
		return false
	}
	stop := gjson.GetBytes(body, "stop")
	seqs := []gjson.Result{stop}
	if stop.IsArray() {
		seqs = stop.Array()
	}
	for _, seq := range seqs {
		if i := strings.Index(c.Text, seq.Str); seq.Str != "" && i >= 0 {
			c.Text = c.Text[:i]
			stopped = true
		}
	}
	return stopped
}

// limitTokens cuts a text answer at the request's max tokens, as a model does, with finish
// reason "length". Tool calls are not cut.
func limitTokens(c *clearbar.Choice, maxTokens int) {
	if maxTokens <= 0 || len(c.ToolCalls) > 0 || EstimateTokens(c.Text) <= maxTokens {
		return
	}
	c.Text = truncateRunes(c.Text, maxTokens*4)
	c.FinishReason = "length"
}

// completionTokens estimates the tokens of a choice: its text, or its tool calls' names and
// arguments.
func completionTokens(c *clearbar.Choice) int {
	if len(c.ToolCalls) == 0 {
		return EstimateTokens(c.Text)
	}
	n := 0
	for _, tc := range c.ToolCalls {
		n += EstimateTokens(tc.Name) + EstimateTokens(tc.Arguments)
	}
	return n
}
