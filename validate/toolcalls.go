package validate

import (
	"context"
	"fmt"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/toolschema"
	"github.com/clearbar/clearbar/spec"
)

// toolCalls checks an answer's tool calls against the request's tools: every called function
// exists and its arguments validate against the function's parameter schema. A request's
// deprecated functions are among its tools, and an answer's call in their form
// (message.function_call) among its calls, so they are checked the same way.
type toolCalls struct {
	name  string
	mode  string
	cache schemaCache
}

func newToolCalls(cfg spec.ValidatorConfig, _ Env) (Validator, error) {
	c := cfg.(*spec.ToolCalls)
	mode := c.Mode
	if mode == "" {
		mode = "required"
	}
	return &toolCalls{name: c.Summary(), mode: mode}, nil
}

func (v *toolCalls) Name() string { return v.name }

func (v *toolCalls) Check(_ context.Context, in *Input) clearbar.Verdict {
	var calls []clearbar.ToolCall
	if len(in.Response.Choices) > 0 {
		calls = in.Response.Choices[0].ToolCalls
	}
	fail := func(format string, args ...any) clearbar.Verdict {
		return clearbar.Verdict{Validator: v.name, Pass: false, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case v.mode == "none" && len(calls) > 0:
		return fail("the answer calls %s, but no tool call is allowed here", calls[0].Name)
	case v.mode == "required" && len(calls) == 0:
		return fail("the answer makes no tool call")
	}
	tools := map[string]clearbar.Tool{}
	for _, t := range in.Request.Tools {
		tools[t.Name] = t
	}
	for _, c := range calls {
		t, ok := tools[c.Name]
		if !ok {
			return fail("the answer calls %q, which the request does not offer", c.Name)
		}
		args := c.Arguments
		if args == "" {
			args = "{}"
		}
		if len(t.Parameters) == 0 {
			continue
		}
		s, err := v.cache.get(toolschema.Normalize(t.Parameters))
		if err != nil {
			return fail("the parameters schema of %q does not compile: %v", c.Name, err)
		}
		if reason, ok := s.validate(args); !ok {
			return fail("arguments of %s: %s", c.Name, reason)
		}
	}
	return clearbar.Verdict{Validator: v.name, Pass: true}
}
