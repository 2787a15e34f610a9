package gateway_test

import (
	"testing"

	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/provider/gemini"
)

// geminiRefusalSeeds are requests the Gemini adapter refuses, one of each kind, and requests
// it takes with what it may refuse elsewhere (media, tool calls, tool choices, input_text).
var geminiRefusalSeeds = []string{
	`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
	`{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"custom","custom":{"name":"grammar"}}]}`,
	`{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-abc"}}]}]}`,
	`{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"files/abc"}},{"type":"file","file":{"file_data":"JVBE","filename":"a.pdf"}}]}]}`,
	`{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:application/pdf,JVBE"}}]}]}`,
	`{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"filename":"a.pdf"}}]}]}`,
	`{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"input_text","text":"x"}]}]}`,
	`{"model":"m","messages":[{"role":"system","content":[{"type":"input_text","text":"brief"}]},{"role":"user","content":[{"type":"input_text","text":"hi"}]}]}`,
	`{"model":"m","messages":[{"role":"developer","content":[{"type":"refusal","refusal":"no"}]},{"role":"user","content":"hi"}]}`,
	`{"model":"m","messages":[{"role":"user","content":[{"type":"output_text","text":"x"}]}]}`,
	`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://example.com/a.png"}}]}]}`,
	`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO"}},{"type":"image_url","image_url":{"url":"gs://b/a.png"}}]}]}`,
	`{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}`,
	`{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA"}}]}]}`,
	`{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"[1]"}}]},{"role":"tool","tool_call_id":"c1","content":"42"}],"tools":[{"type":"function","function":{"name":"f"}}]}`,
	`{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"custom","custom":{"name":"g","input":"x"}}]},{"role":"tool","tool_call_id":"c1","content":"42"}]}`,
	`{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":" {\"a\":1} "}}]},{"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"42"}]}],"tools":[{"type":"function","function":{"name":"f"}}]}`,
	`{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"function":{"name":"f"}}}`,
	`{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"f"}}]}}}`,
	`{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"some"}}}`,
	`{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"function_call":{"name":"f","arguments":"{}"}},{"role":"function","name":"f","content":"ok"}],"tools":[{"type":"function","function":{"name":"f"}}]}`,
	`{"model":"m","messages":[{"role":"user","content":""}]}`,
	`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":""}]},{"role":"assistant","content":"","refusal":"no"}]}`,
	`{"model":"m","messages":[{"role":"system","content":"only a system prompt"}]}`,
}

// TestDecodeGeminiRefusal: DecodeChatRequest sets GeminiRefusal to the Gemini adapter's own
// refusal (gemini.Refusal) exactly when the adapter refuses the request.
func TestDecodeGeminiRefusal(t *testing.T) {
	refused := 0
	for _, body := range geminiRefusalSeeds {
		checkGeminiRefusal(t, []byte(body))
		if gemini.Refusal([]byte(body)) != nil {
			refused++
		}
	}
	if refused < 12 {
		t.Errorf("%d of the seeds are refused, want at least 12", refused)
	}
}

// FuzzDecodeGeminiRefusal checks on any request DecodeChatRequest takes that it finds what the
// Gemini adapter refuses: GeminiRefusal is the adapter's refusal, or nil when it has none.
func FuzzDecodeGeminiRefusal(f *testing.F) {
	for _, seed := range geminiRefusalSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkGeminiRefusal(t, body) })
}

func checkGeminiRefusal(t *testing.T, body []byte) {
	t.Helper()
	req, err := gateway.DecodeChatRequest(body, gateway.DefaultLimits)
	if err != nil {
		return
	}
	got, want := req.GeminiRefusal, gemini.Refusal(body)
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil || got.Message != want.Message || got.Param != want.Param || got.Code != want.Code:
		t.Errorf("%s: GeminiRefusal %v, the adapter's refusal %v", body, got, want)
	}
}
