package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	anthropic "github.com/anthropics/anthropic-sdk-go"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// TestSDKIngressRefusals: openai-go gets a function whose parameters are not JSON Schema, and
// tool_choice without tools, as the *openai.Error OpenAI gives (400, the param, the code),
// which it does not retry; anthropic-sdk-go gets an invalid input_schema, an unknown
// anthropic-version and count_tokens for an unknown alias as *anthropic.Error.
func TestSDKIngressRefusals(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	t.Run("openai-go", func(t *testing.T) {
		client := openai.NewClient(option.WithBaseURL(w.srv.URL+"/v1"), option.WithAPIKey(worldClientKey),
			option.WithHTTPClient(&http.Client{Transport: newTransport(t, 0)}))
		badTool := openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "get_order_status",
			Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{"order_id": map[string]any{"type": "strin"}}}})
		for _, tt := range []struct {
			explanation string
			params      openai.ChatCompletionNewParams
			param, code string
		}{
			{"a tool whose parameters do not compile", openai.ChatCompletionNewParams{Tools: []openai.ChatCompletionToolUnionParam{badTool}},
				"tools[0].function.parameters", "invalid_function_parameters"},
			{"tool_choice auto without tools", openai.ChatCompletionNewParams{ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("auto")}},
				"tool_choice", "invalid_value"},
		} {
			p := tt.params
			p.Model, p.Messages = "clearbar/oa", userMessage("Where is order AB-123456?")
			var attempts attemptLog
			_, err := client.Chat.Completions.New(ctx, p, attempts.option())
			var ae *openai.Error
			if !errors.As(err, &ae) || ae.StatusCode != 400 || ae.Param != tt.param || ae.Code != tt.code || ae.Type != "invalid_request_error" {
				t.Errorf("%s: %v, want 400 %s %s", tt.explanation, err, tt.param, tt.code)
			}
			if len(attempts.statuses) != 1 {
				t.Errorf("%s: %d attempts, want 1", tt.explanation, len(attempts.statuses))
			}
		}
	})
	t.Run("anthropic-sdk-go", func(t *testing.T) {
		client := anthropic.NewClient(anthropicopt.WithoutEnvironmentDefaults(), anthropicopt.WithBaseURL(w.srv.URL),
			anthropicopt.WithAPIKey(worldClientKey), anthropicopt.WithHTTPClient(&http.Client{Transport: newTransport(t, 0)}))
		msgs := []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Where is my order?"))}
		check := func(explanation string, err error, status int, typ, message string) {
			t.Helper()
			var ae *anthropic.Error
			if !errors.As(err, &ae) || ae.StatusCode != status || string(ae.Type()) != typ || !strings.Contains(err.Error(), message) {
				t.Errorf("%s: %v, want %d %s %q", explanation, err, status, typ, message)
			}
		}
		bad := anthropic.ToolParam{Name: "get_order_status", InputSchema: anthropic.ToolInputSchemaParam{
			Properties: map[string]any{"order_id": map[string]any{"type": "strin"}}}}
		_, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "clearbar/an", MaxTokens: 64, Messages: msgs,
			Tools: []anthropic.ToolUnionParam{{OfTool: &bad}}})
		check("an invalid input_schema", err, 400, "invalid_request_error", "tools.0.custom.input_schema: JSON schema is invalid")
		_, err = client.Messages.New(ctx, anthropic.MessageNewParams{Model: "clearbar/an", MaxTokens: 64, Messages: msgs},
			anthropicopt.WithHeader("anthropic-version", "1999-01-01"))
		check("anthropic-version 1999-01-01", err, 400, "invalid_request_error", `anthropic-version: \"1999-01-01\" is not a valid version`)
		_, err = client.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: "clearbar/nope", Messages: msgs})
		check("count_tokens for an unknown alias", err, 404, "not_found_error", "clearbar/nope")
		n, err := client.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: "clearbar/an", Messages: msgs})
		if err != nil || n.InputTokens <= 0 {
			t.Errorf("count_tokens: %+v %v", n, err)
		}
	})
}
