package gateway_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
)

// FuzzDecodeChatRequest checks DecodeChatRequest on any input: it never panics; what it accepts
// keeps the body byte for byte (the adapters forward it), is JSON by encoding/json's rules too,
// and has a model and messages with roles; what it rejects is a ClientError with a message.
func FuzzDecodeChatRequest(f *testing.F) {
	for _, seed := range []string{
		`{"model":"clearbar/chat","messages":[{"role":"user","content":"hello"}]}`,
		`{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"developer","content":"Be brief."},{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"user","content":"weather?"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"d","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"strict":true}}],"tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":false}`,
		`{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"call_1","content":[{"type":"text","text":"42"}]}]}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}},{"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}},{"type":"file","file":{"file_data":"JVBERi0=","filename":"a.pdf"}}]}]}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"answer","strict":true,"schema":{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}}}}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"metadata":{"clearbar_category":"chat","team":"support","n":"1"},"user":"u-1","max_completion_tokens":100,"max_tokens":50,"n":2,"x_custom":{"a":[1,2]}}`,
		`{"model":"m","messages":[{"role":"assistant","content":[{"type":"refusal","refusal":"no"}]},{"role":"user","content":"\ud83d\ude00 \u00e9"}]}`,
		`{"model":"m","messages":[{"role":"user","content":"weather?"},{"role":"assistant","content":null,"function_call":{"name":"get_weather","arguments":"{}"}},{"role":"function","name":"get_weather","content":"sunny"}],"functions":[{"name":"get_weather","parameters":{"type":"object"}}],"function_call":{"name":"get_weather"}}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"functions":[{"name":"f"}],"tools":[{"type":"function","function":{"name":"g"}}],"function_call":"auto"}`,
		// Malformed or invalid requests.
		``,
		`{`,
		`[]`,
		`null`,
		`"model"`,
		`{"model":"m"}`,
		`{"messages":[{"role":"user","content":"x"}]}`,
		`{"model":1,"messages":[{"role":"user","content":"x"}]}`,
		`{"model":"m","messages":{}}`,
		`{"model":"m","messages":[1]}`,
		`{"model":"m","messages":[{"content":"x"}]}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"tools":{}}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{}}]}`,
		`{"model":"m","model":"","messages":[{"role":"user","content":"x"}]}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"messages":[]}`,
		"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}",
		`{"model":"m","messages":[{"role":"user","content":"x"}]} trailing`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"n":1e400}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		orig := bytes.Clone(body)
		req, err := gateway.DecodeChatRequest(body, gateway.DefaultLimits)
		if !bytes.Equal(body, orig) {
			t.Fatalf("the input was modified:\nbefore %q\nafter  %q", orig, body)
		}
		if err != nil {
			var ce *clearbar.Error
			if !errors.As(err, &ce) || ce.Class != clearbar.ClientError || ce.Message == "" {
				t.Fatalf("error %v (%T): want a *clearbar.Error of class ClientError with a message", err, err)
			}
			if req != nil {
				t.Fatalf("an error and a request: %+v", req)
			}
			return
		}
		if req == nil {
			t.Fatal("no error and no request")
		}
		if !bytes.Equal(req.Body, orig) {
			t.Fatalf("Body %q, want the input %q", req.Body, orig)
		}
		if req.Model == "" || len(req.Messages) == 0 {
			t.Fatalf("accepted without a model or messages: model %q, %d messages", req.Model, len(req.Messages))
		}
		for i, m := range req.Messages {
			if m.Role == "" {
				t.Fatalf("message %d has no role", i)
			}
		}
		if !json.Valid(orig) {
			t.Fatalf("accepted a body that encoding/json rejects, which the adapters forward as it is: %q", orig)
		}
	})
}
