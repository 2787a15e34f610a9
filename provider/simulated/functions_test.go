package simulated_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider/simulated"
	"github.com/clearbar/clearbar/spec"
)

// withFunctions offers the tools of withTools as the deprecated functions.
func withFunctions(choice string) func(*clearbar.Request) {
	return func(r *clearbar.Request) {
		withTools(choice)(r)
		r.Functions = true
	}
}

// legacyBody is a chat.completion answering functions, as a client decodes it.
type legacyBody struct {
	Choices []struct {
		Message struct {
			Content      json.RawMessage `json:"content"`
			ToolCalls    json.RawMessage `json:"tool_calls"`
			FunctionCall *struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			} `json:"function_call"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
}

// TestFunctionsAnswer: a request offering the deprecated functions is answered in their form,
// message.function_call with finish_reason function_call, as OpenAI answers it; the Response's
// choice has the same call for validators.
func TestFunctionsAnswer(t *testing.T) {
	for _, tt := range []struct {
		choice, name, params string
	}{{"", "get_weather", weatherParams}, {"auto", "get_weather", weatherParams}, {"search", "search", searchParams}} {
		p := newSim(t, &spec.Simulate{TimeScale: fast}, constModel("m", time.Second))
		req := userRequest("What is the weather in Paris?")
		withFunctions(tt.choice)(req)
		resp, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: "m"})
		if err != nil {
			t.Fatal(err)
		}
		var body legacyBody
		if err := json.Unmarshal(resp.Body, &body); err != nil || len(body.Choices) != 1 {
			t.Fatalf("body %s: %v", resp.Body, err)
		}
		c := body.Choices[0]
		if c.FinishReason != "function_call" || c.Message.FunctionCall == nil || c.Message.FunctionCall.Name != tt.name ||
			c.Message.ToolCalls != nil || string(c.Message.Content) != "null" {
			t.Fatalf("function_call %q: body %s; want message.function_call to %s, content null, no tool_calls, finish_reason function_call", tt.choice, resp.Body, tt.name)
		}
		checkAgainst(t, []byte(tt.params), []byte(c.Message.FunctionCall.Arguments))
		rc := resp.Choices[0]
		if len(rc.ToolCalls) != 1 || rc.ToolCalls[0].Name != tt.name || rc.ToolCalls[0].Arguments != c.Message.FunctionCall.Arguments || rc.FinishReason != "function_call" {
			t.Errorf("Response choice %+v does not match the body", rc)
		}
	}

	// function_call none, or a function's result to answer from: text, as with tools.
	for name, edit := range map[string]func(*clearbar.Request){
		"none": withFunctions("none"),
		"function result": func(r *clearbar.Request) {
			withFunctions("auto")(r)
			r.Messages = append(r.Messages,
				clearbar.Message{Role: "assistant", ToolCalls: []clearbar.ToolCall{{Name: "get_weather", Arguments: `{"city":"Paris","unit":"c"}`}}},
				clearbar.Message{Role: "function", Text: "sunny, 21°C"})
		},
	} {
		p := newSim(t, &spec.Simulate{TimeScale: fast}, constModel("m", time.Second))
		req := userRequest("What is the weather in Paris?")
		edit(req)
		resp, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: "m"})
		if err != nil {
			t.Fatal(err)
		}
		if c := resp.Choices[0]; len(c.ToolCalls) != 0 || c.FinishReason != "stop" || !strings.Contains(c.Text, "simulated answer") {
			t.Errorf("%s: choice %+v; want a text answer", name, c)
		}
	}
}

// TestFunctionsStream: streamed, the call is delta.function_call fragments, its name first,
// and the finish reason function_call.
func TestFunctionsStream(t *testing.T) {
	p := newSim(t, &spec.Simulate{TimeScale: fast}, constModel("m", time.Second))
	req := userRequest("What is the weather in Paris?")
	withFunctions("search")(req)
	s, err := p.Stream(context.Background(), &clearbar.Call{Request: req, Model: "m", Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var name, args, finish string
	fragments, usage := 0, false
	for s.Next() {
		var ch struct {
			Choices []struct {
				Delta struct {
					Role         string          `json:"role"`
					Content      *string         `json:"content"`
					ToolCalls    json.RawMessage `json:"tool_calls"`
					FunctionCall *struct {
						Name      string  `json:"name"`
						Arguments *string `json:"arguments"`
					} `json:"function_call"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage json.RawMessage `json:"usage"`
		}
		data := s.Chunk().Data
		if err := json.Unmarshal(data, &ch); err != nil {
			t.Fatalf("chunk %s: %v", data, err)
		}
		if len(ch.Choices) == 0 {
			usage = string(ch.Usage) != "null"
			continue
		}
		d := ch.Choices[0].Delta
		if d.ToolCalls != nil || d.Content != nil {
			t.Errorf("chunk %s: want no tool_calls and no content", data)
		}
		if fc := d.FunctionCall; fc != nil {
			if fc.Arguments == nil || (fc.Name != "") != (fragments == 0) {
				t.Errorf("chunk %s: the first fragment names the function, every one has arguments", data)
			}
			fragments++
			name += fc.Name
			args += *fc.Arguments
		}
		if f := ch.Choices[0].FinishReason; f != nil {
			finish = *f
			if s.Chunk().FinishReason != finish {
				t.Errorf("Chunk.FinishReason %q, body %q", s.Chunk().FinishReason, finish)
			}
		}
	}
	if s.Err() != nil || !usage || name != "search" || finish != "function_call" || fragments < 2 {
		t.Fatalf("stream: err %v, usage %v, function %q in %d fragments, finish %q", s.Err(), usage, name, fragments, finish)
	}
	checkAgainst(t, []byte(searchParams), []byte(args))
}

// TestFunctionsAnswerOneCall: the deprecated form makes one call; an answer with more keeps
// the first, in the body and in the Response.
func TestFunctionsAnswerOneCall(t *testing.T) {
	resp, err := simulated.NewCompletion(simulated.Answer{Model: "m", Functions: true, Choices: []clearbar.Choice{{ToolCalls: []clearbar.ToolCall{
		{ID: "call_1", Name: "a", Arguments: "{}"}, {ID: "call_2", Name: "b", Arguments: "{}"},
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	var body legacyBody
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		t.Fatal(err)
	}
	if fc := body.Choices[0].Message.FunctionCall; fc == nil || fc.Name != "a" || body.Choices[0].FinishReason != "function_call" {
		t.Errorf("body %s: want the first call as function_call", resp.Body)
	}
	if c := resp.Choices[0]; len(c.ToolCalls) != 1 || c.ToolCalls[0].Name != "a" {
		t.Errorf("Response choice %+v: want the first call only", c)
	}
}
