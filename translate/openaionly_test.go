package translate

import (
	"testing"

	"github.com/tidwall/gjson"
)

// TestAnthropicTakesAgrees: AnthropicTakesPart and AnthropicTakesToolCall say no exactly for
// the parts and tool calls ToAnthropicCall refuses, so that a reader of the body can tell when
// AnthropicRefusal is worth running.
func TestAnthropicTakesAgrees(t *testing.T) {
	parts := []string{
		`{"type":"text","text":"hi"}`,
		`{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}`,
		`{"type":"image_url","image_url":{"url":"http://example.com/a.png"}}`,
		`{"type":"image_url","image_url":"https://example.com/a.png"}`,
		`{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO"}}`,
		`{"type":"image_url","image_url":{"url":"data:image/png,raw"}}`,
		`{"type":"image_url","image_url":{"url":"ftp://example.com/a.png"}}`,
		`{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBE","filename":"a.pdf"}}`,
		`{"type":"file","file":{"file_data":"JVBE"}}`,
		`{"type":"file","file":{"file_data":"data:text/csv;base64,YSxi"}}`,
		`{"type":"file","file":{"file_data":"data:application/pdf,raw"}}`,
		`{"type":"file","file":{"file_id":"file-abc"}}`,
		`{"type":"file","file":{"file_id":"file-abc","file_data":"JVBE"}}`,
		`{"type":"file","file":{}}`,
		`{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}`,
		`{"type":"input_text","text":"hi"}`,
		`{"type":"output_text","text":"hi"}`,
		`{"type":"refusal","refusal":"no"}`,
	}
	for _, role := range []string{"user", "system", "developer", "assistant", "tool"} {
		for _, p := range parts {
			msg := `{"role":"` + role + `","content":[` + p + `]}`
			if role == "tool" {
				msg = `{"role":"tool","tool_call_id":"c1","content":[` + p + `]}`
			}
			_, err := ToAnthropicCall([]byte(`{"model":"m","messages":[`+msg+`]}`), AnthropicOptions{})
			part := gjson.Parse(p)
			if takes := AnthropicTakesPart(role, part.Get("type").Str, part); takes != (err == nil) {
				t.Errorf("%s %s: AnthropicTakesPart %v, translation error %v", role, p, takes, err)
			}
		}
	}
	for _, tc := range []string{
		`{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}`,
		`{"id":"c1","function":{"name":"f","arguments":""}}`,
		`{"id":"c1","type":"function","function":{"name":"f","arguments":"  "}}`,
		`{"id":"c1","type":"function","function":{"name":"f","arguments":"[1]"}}`,
		`{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":"}}`,
		`{"id":"c1","type":"function","function":{"name":"f","arguments":"\"x\""}}`,
		`{"id":"c1","type":"custom","custom":{"name":"g","input":"x"}}`,
		`{"id":"","type":"function","function":{"name":"f","arguments":"{}"}}`,
		`{"id":"c1","type":"function","function":{"name":"","arguments":"{}"}}`,
	} {
		body := `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[` + tc + `]},{"role":"tool","tool_call_id":"c1","content":"ok"}]}`
		_, err := ToAnthropicCall([]byte(body), AnthropicOptions{})
		c := gjson.Parse(tc)
		if takes := AnthropicTakesToolCall(c.Get("type").String(), c.Get("id").String(), c.Get("function.name").String(), c.Get("function.arguments").String()); takes != (err == nil) {
			t.Errorf("%s: AnthropicTakesToolCall %v, translation error %v", tc, takes, err)
		}
	}
}

// TestAnthropicRefusal: the error is the translation's own, and nil for what it takes.
func TestAnthropicRefusal(t *testing.T) {
	e := AnthropicRefusal([]byte(`{"model":"m","n":3,"messages":[{"role":"user","content":"hi"}]}`))
	if e == nil || e.Status != 400 || e.Param != "n" || e.Code != "unsupported_value" || e.Message != "n must be 1: Anthropic models answer with one choice (got 3)" {
		t.Errorf("n=3: %#v", e)
	}
	if e := AnthropicRefusal([]byte(`{"model":"m","n":1,"messages":[{"role":"user","content":"hi"}]}`)); e != nil {
		t.Errorf("n=1: %v", e)
	}
}
