package simulated_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// completionBody is an OpenAI chat.completion as a client decodes it; Content stays raw so
// that null and "" can be told apart.
type completionBody struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Role      string          `json:"role"`
			Content   json.RawMessage `json:"content"`
			ToolCalls []struct {
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

const (
	weatherParams = `{"type":"object","required":["city","unit"],"additionalProperties":false,
		"properties":{"city":{"type":"string"},"unit":{"enum":["c","f"]}}}`
	searchParams = `{"type":"object","required":["query","limit"],
		"properties":{"query":{"type":"string","minLength":3},"limit":{"type":"integer","minimum":1,"maximum":10}}}`
	labelSchema = `{"type":"object","required":["label"],"additionalProperties":false,"properties":{"label":{"enum":["a","b"]}}}`
)

func withTools(choice string) func(*clearbar.Request) {
	return func(r *clearbar.Request) {
		r.Tools = []clearbar.Tool{
			{Name: "get_weather", Parameters: json.RawMessage(weatherParams)},
			{Name: "search", Parameters: json.RawMessage(searchParams)},
		}
		r.ToolChoice = choice
	}
}

// withBody sets the request's body, where the parameters the simulator reads from it are.
func withBody(body string) func(*clearbar.Request) {
	return func(r *clearbar.Request) { r.Body = []byte(body) }
}

func withFormat(typ, schema string) func(*clearbar.Request) {
	return func(r *clearbar.Request) {
		r.ResponseFormat = clearbar.ResponseFormat{Type: typ, Schema: json.RawMessage(schema)}
	}
}

func TestOutputs(t *testing.T) {
	type result struct {
		resp *clearbar.Response
		body completionBody
	}
	toolCall := func(name, params string) func(*testing.T, result) {
		return func(t *testing.T, r result) {
			c := r.body.Choices[0]
			if string(c.Message.Content) != "null" || c.FinishReason != "tool_calls" || len(c.Message.ToolCalls) != 1 {
				t.Fatalf("choice %+v: want one tool call, content null, finish_reason tool_calls", c)
			}
			tc := c.Message.ToolCalls[0]
			if tc.Function.Name != name || tc.Type != "function" || !strings.HasPrefix(tc.ID, "call_") {
				t.Errorf("tool call %+v, want a call_ id to %s", tc, name)
			}
			checkAgainst(t, []byte(params), []byte(tc.Function.Arguments))
			if got := r.resp.Choices[0].ToolCalls; len(got) != 1 || got[0].Arguments != tc.Function.Arguments || got[0].ID != tc.ID {
				t.Errorf("Response.Choices tool calls %+v do not match the body", got)
			}
		}
	}
	text := func(check func(string) bool) func(*testing.T, result) {
		return func(t *testing.T, r result) {
			var content string
			if err := json.Unmarshal(r.body.Choices[0].Message.Content, &content); err != nil {
				t.Fatalf("content %s is not a string", r.body.Choices[0].Message.Content)
			}
			if content != r.resp.Text() || !check(content) || r.body.Choices[0].FinishReason != "stop" {
				t.Errorf("content %q, finish %q, Text() %q", content, r.body.Choices[0].FinishReason, r.resp.Text())
			}
		}
	}
	isJSON := func(s string) bool { return json.Valid([]byte(s)) }
	tests := []struct {
		name        string
		sim         spec.Simulate
		req         func(*clearbar.Request)
		check       func(*testing.T, result)
		explanation string
	}{
		{"plain", spec.Simulate{}, nil,
			text(func(s string) bool { return strings.Contains(s, "simulated answer from m.") }),
			"a short reply that names the model, so a test can tell who answered"},
		{"fixed output", spec.Simulate{Output: "Refund approved."}, nil,
			text(func(s string) bool { return s == "Refund approved." }),
			"simulate.output replaces the reply"},
		{"json_object", spec.Simulate{}, withFormat("json_object", ""),
			text(func(s string) bool {
				return isJSON(s) && strings.HasPrefix(s, `{"answer":`) && strings.Contains(s, `"model":"m"`)
			}),
			"a small JSON object"},
		{"json_object output", spec.Simulate{Output: `{"label": "b"}`}, withFormat("json_object", ""),
			text(func(s string) bool { return s == `{"label": "b"}` }),
			"simulate.output is used for json_object when it is a JSON object"},
		{"json_schema", spec.Simulate{}, withFormat("json_schema", labelSchema),
			func(t *testing.T, r result) {
				text(isJSON)(t, r)
				checkAgainst(t, []byte(labelSchema), []byte(r.resp.Text()))
			},
			"a document the schema accepts"},
		{"invalid json", spec.Simulate{InvalidJSONRate: 1}, withFormat("json_schema", labelSchema),
			text(func(s string) bool { return !isJSON(s) && strings.HasPrefix(s, `{"lab`) }),
			"broken JSON looks like a truncated answer"},
		{"text stays valid", spec.Simulate{InvalidJSONRate: 1}, nil,
			text(func(s string) bool { return strings.HasSuffix(s, "without API keys.") }),
			"invalid_json_rate leaves text answers alone"},
		{"tool auto", spec.Simulate{}, withTools("auto"), toolCall("get_weather", weatherParams),
			"with tools offered, the model calls the first one, with arguments from its schema"},
		{"tool default", spec.Simulate{}, withTools(""), toolCall("get_weather", weatherParams),
			"no tool_choice means auto"},
		{"tool required", spec.Simulate{}, withTools("required"), toolCall("get_weather", weatherParams), ""},
		{"tool named", spec.Simulate{}, withTools("search"), toolCall("search", searchParams),
			"a named tool_choice picks that function"},
		{"tool none", spec.Simulate{}, withTools("none"),
			text(func(s string) bool { return strings.Contains(s, "simulated answer") }),
			`tool_choice "none" answers in text`},
		{"tool result answered", spec.Simulate{}, func(r *clearbar.Request) {
			withTools("auto")(r)
			r.Messages = append(r.Messages,
				clearbar.Message{Role: "assistant", ToolCalls: []clearbar.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris","unit":"c"}`}}},
				clearbar.Message{Role: "tool", ToolCallID: "call_1", Text: "sunny, 21°C"})
		}, text(func(s string) bool { return strings.Contains(s, "simulated answer") }),
			"with a tool's result to answer from, a model left to choose answers in text, so an agent's loop ends"},
		{"tool result, call required", spec.Simulate{}, func(r *clearbar.Request) {
			withTools("required")(r)
			r.Messages = append(r.Messages, clearbar.Message{Role: "tool", ToolCallID: "call_1", Text: "sunny"})
		}, toolCall("get_weather", weatherParams), `tool_choice "required" calls a tool whatever came before`},
		{"tool over format", spec.Simulate{}, func(r *clearbar.Request) {
			withTools("auto")(r)
			withFormat("json_schema", labelSchema)(r)
		}, toolCall("get_weather", weatherParams), "a tool call comes before the final structured answer"},
		{"max tokens", spec.Simulate{}, func(r *clearbar.Request) { r.MaxTokens = 5 },
			func(t *testing.T, r result) {
				c := r.body.Choices[0]
				if c.FinishReason != "length" || len(r.resp.Text()) > 20 || r.body.Usage.CompletionTokens > 5 {
					t.Errorf("finish %q, text %q, %d tokens; want a reply cut at 5 tokens (20 bytes) with finish_reason length",
						c.FinishReason, r.resp.Text(), r.body.Usage.CompletionTokens)
				}
			}, "max_tokens cuts the reply as a model would"},
		{"stop", spec.Simulate{Output: "Refund approved. END Internal note."}, withBody(`{"stop":"END"}`),
			text(func(s string) bool { return s == "Refund approved. " }),
			"the reply ends before a stop sequence, which is not sent, with finish_reason stop"},
		{"stop list", spec.Simulate{Output: "Refund approved. END Internal note."}, withBody(`{"stop":["note","approved"]}`),
			text(func(s string) bool { return s == "Refund " }),
			"the earliest of the stop sequences ends the reply"},
		{"stop absent", spec.Simulate{Output: "Refund approved."}, withBody(`{"stop":["###"]}`),
			text(func(s string) bool { return s == "Refund approved." }),
			"a stop sequence the reply does not hold changes nothing"},
		{"n", spec.Simulate{Output: "same"}, func(r *clearbar.Request) { r.N = 3 },
			func(t *testing.T, r result) {
				if len(r.body.Choices) != 3 || r.body.Choices[2].Index != 2 || r.body.Usage.CompletionTokens != 3 {
					t.Errorf("choices %d, usage %+v; want 3 choices of 1 token each", len(r.body.Choices), r.body.Usage)
				}
			}, "n choices, each counted in the usage"},
		{"n with tools", spec.Simulate{}, func(r *clearbar.Request) { withTools("auto")(r); r.N = 2 },
			func(t *testing.T, r result) {
				cs := r.body.Choices
				if len(cs) != 2 || len(cs[0].Message.ToolCalls) != 1 || len(cs[1].Message.ToolCalls) != 1 ||
					cs[0].Message.ToolCalls[0].ID == cs[1].Message.ToolCalls[0].ID {
					t.Errorf("choices %+v: want 2, each with a call of its own id", cs)
				}
			}, "a client answers the calls of the choice it keeps by their ids"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := tt.sim
			sim.TimeScale = fast
			p := newSim(t, &sim, constModel("m", time.Second))
			req := userRequest("What is the weather in Paris?")
			if tt.req != nil {
				tt.req(req)
			}
			resp, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: "m"})
			if err != nil {
				t.Fatal(err)
			}
			var body completionBody
			if err := json.Unmarshal(resp.Body, &body); err != nil {
				t.Fatalf("body %s: %v", resp.Body, err)
			}
			if body.Object != "chat.completion" || body.ID != resp.ID || !strings.HasPrefix(body.ID, "chatcmpl-") ||
				body.Model != "m" || resp.Model != "m" || body.Created == 0 || len(body.Choices) == 0 ||
				body.Choices[0].Message.Role != "assistant" {
				t.Fatalf("body %s is not a chat.completion for model m", resp.Body)
			}
			if u := body.Usage; u.TotalTokens != u.PromptTokens+u.CompletionTokens || !resp.HasUsage ||
				resp.Usage.PromptTokens != u.PromptTokens || resp.Usage.CompletionTokens != u.CompletionTokens {
				t.Errorf("usage %+v, Response.Usage %+v: they must agree", u, resp.Usage)
			}
			tt.check(t, result{resp, body})
			if tt.explanation != "" && t.Failed() {
				t.Log(tt.explanation)
			}
		})
	}
}

func TestOutputClientErrors(t *testing.T) {
	tests := []struct {
		name, want  string
		req         func(*clearbar.Request)
		explanation string
	}{
		{"unknown tool", `tool_choice names function "nope"`, withTools("nope"), "the named function must be offered"},
		{"bad parameters", `tool "broken": parameters`, func(r *clearbar.Request) {
			r.Tools = []clearbar.Tool{{Name: "broken", Parameters: json.RawMessage(`{"$ref":"http://x"}`)}}
		}, "a schema the simulator cannot read is the client's problem, as upstream"},
		{"bad schema", "response_format schema", withFormat("json_schema", `{"type":`), ""},
		{"too many choices", "n is 129", func(r *clearbar.Request) { r.N = 129 }, "OpenAI's limit"},
	}
	p := newSim(t, &spec.Simulate{TimeScale: fast}, constModel("m", time.Second))
	for _, tt := range tests {
		req := userRequest("hi")
		tt.req(req)
		_, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: "m"})
		e := clearbar.AsError(err)
		if err == nil || e.Class != clearbar.ClientError || e.Status != 400 || !strings.Contains(e.Message, tt.want) {
			t.Errorf("%s: err = %v, want a 400 ClientError containing %q %s", tt.name, err, tt.want, tt.explanation)
		}
	}
}

func TestUsageEstimate(t *testing.T) {
	p := newSim(t, &spec.Simulate{TimeScale: fast, Output: "12345678"}, constModel("m", time.Second))
	req := &clearbar.Request{Messages: []clearbar.Message{
		{Role: "system", Text: "You are helpful."}, // 16 bytes
		{Role: "user", Text: "hello there"},        // 11 bytes
	}}
	resp, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	// ceil(27/4) = 7, plus 4 per message; the 8-byte output is 2 tokens.
	if want := (clearbar.Usage{PromptTokens: 15, CompletionTokens: 2}); resp.Usage != want {
		t.Errorf("usage %+v, want %+v", resp.Usage, want)
	}
}

// TestMaxOutput: a max tokens over the model's maximum output is the 400 the vendors give,
// naming the parameter, so that a request the real model would refuse is refused in
// simulation too; one within it is answered.
func TestMaxOutput(t *testing.T) {
	m := constModel("m", time.Second)
	m.Resolved.MaxOutput = 100
	p := newSim(t, &spec.Simulate{TimeScale: fast}, m)
	for _, tt := range []struct {
		maxTokens int
		ok        bool
	}{{100, true}, {101, false}, {0, true}} {
		req := userRequest("hi")
		req.MaxTokens = tt.maxTokens
		_, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: "m"})
		e := clearbar.AsError(err)
		switch {
		case tt.ok && err != nil:
			t.Errorf("max tokens %d: %v, want an answer", tt.maxTokens, err)
		case !tt.ok && (e.Class != clearbar.ClientError || e.Status != 400 || e.Param != "max_tokens" || !strings.Contains(e.Message, "at most 100")):
			t.Errorf("max tokens %d: err = %v (param %q), want a 400 ClientError naming max_tokens and the model's 100", tt.maxTokens, err, e.Param)
		}
	}
}

// TestLogprobs: an answer to a request with logprobs carries them, as OpenAI's do: per token
// of the content, the token, its log probability, its bytes and top_logprobs alternatives,
// the token itself first; not streamed and in each content chunk of a stream. Without
// logprobs they are null.
func TestLogprobs(t *testing.T) {
	const reply = "Refund approved, café included."
	type logprobs struct {
		Content []struct {
			Token       string  `json:"token"`
			Logprob     float64 `json:"logprob"`
			Bytes       []int   `json:"bytes"`
			TopLogprobs []struct {
				Token   string  `json:"token"`
				Logprob float64 `json:"logprob"`
			} `json:"top_logprobs"`
		} `json:"content"`
	}
	// check returns the text of the tokens of lp (raw JSON), checking each.
	check := func(t *testing.T, raw json.RawMessage, top int) string {
		t.Helper()
		var lp *logprobs
		if err := json.Unmarshal(raw, &lp); err != nil || lp == nil {
			t.Fatalf("logprobs %s: want an object with content", raw)
		}
		var text strings.Builder
		for _, c := range lp.Content {
			text.WriteString(c.Token)
			bytes := make([]byte, len(c.Bytes))
			for i, b := range c.Bytes {
				bytes[i] = byte(b)
			}
			if c.Logprob > 0 || string(bytes) != c.Token || len(c.TopLogprobs) != top || top > 0 && c.TopLogprobs[0].Token != c.Token {
				t.Errorf("token %+v: want a log probability ≤ 0, its bytes and %d alternatives, itself first", c, top)
			}
		}
		return text.String()
	}
	p := newSim(t, &spec.Simulate{TimeScale: fast, Output: reply}, constModel("m", time.Second))
	for _, top := range []int{0, 3} {
		req := userRequest("hi")
		withBody(fmt.Sprintf(`{"logprobs":true,"top_logprobs":%d}`, top))(req)
		resp, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: "m"})
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Choices []struct {
				Logprobs json.RawMessage `json:"logprobs"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(resp.Body, &body); err != nil {
			t.Fatal(err)
		}
		if got := check(t, body.Choices[0].Logprobs, top); got != reply {
			t.Errorf("top %d: the tokens spell %q, want the answer %q", top, got, reply)
		}

		s, err := p.Stream(context.Background(), &clearbar.Call{Request: req, Model: "m", Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		var streamed strings.Builder
		for s.Next() {
			var c struct {
				Choices []struct {
					Delta struct {
						Content *string `json:"content"`
					} `json:"delta"`
					Logprobs json.RawMessage `json:"logprobs"`
				} `json:"choices"`
			}
			if err := json.Unmarshal(s.Chunk().Data, &c); err != nil {
				t.Fatal(err)
			}
			if len(c.Choices) == 0 || c.Choices[0].Delta.Content == nil || *c.Choices[0].Delta.Content == "" {
				continue
			}
			if got := check(t, c.Choices[0].Logprobs, top); got != *c.Choices[0].Delta.Content {
				t.Errorf("top %d: a chunk's tokens spell %q, its content is %q", top, got, *c.Choices[0].Delta.Content)
			}
			streamed.WriteString(*c.Choices[0].Delta.Content)
		}
		if s.Err() != nil || streamed.String() != reply {
			t.Errorf("stream: %v, content %q", s.Err(), streamed.String())
		}
	}

	resp, err := p.Complete(context.Background(), &clearbar.Call{Request: userRequest("hi"), Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if lp := gjson.GetBytes(resp.Body, "choices.0.logprobs"); lp.Type != gjson.Null {
		t.Errorf("logprobs %s without logprobs asked for, want null", lp.Raw)
	}
}
