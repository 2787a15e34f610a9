package gateway

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar/translate"
)

// TestResponsesFailedCarriesPartialOutput: a /v1/responses stream cut after its text began ends
// with response.failed whose output has the text streamed so far, in an incomplete message
// item, as OpenAI's failed responses carry their partial output; before, the item came with
// no content and status in_progress.
func TestResponsesFailedCarriesPartialOutput(t *testing.T) {
	f := newFixture(t, nil)
	f.a.cutAfter = 3
	resp := cutUsagePost(t, f, "/v1/responses", `{"model":"clearbar/intent","stream":true,"input":"tell me a story about a cat"}`)
	defer resp.Body.Close()
	ev := sseEvents(t, resp.Body)
	cutUsageAttempt(t, f)
	var streamed strings.Builder
	for _, e := range ev {
		if gjson.Get(e, "type").Str == "response.output_text.delta" {
			streamed.WriteString(gjson.Get(e, "delta").Str)
		}
	}
	last := ev[len(ev)-1]
	if gjson.Get(last, "type").Str != "response.failed" || streamed.Len() == 0 {
		t.Fatalf("last event %s after text %q: want response.failed after some text", last, streamed.String())
	}
	out := gjson.Get(last, "response.output")
	if n := len(out.Array()); n != 1 {
		t.Fatalf("output %s: want one message item", out.Raw)
	}
	item := out.Get("0")
	if item.Get("type").Str != "message" || item.Get("status").Str != "incomplete" ||
		item.Get("content.0.type").Str != "output_text" || item.Get("content.0.text").Str != streamed.String() || len(item.Get("content").Array()) != 1 {
		t.Errorf("output item %s: want an incomplete message with the text streamed, %q", item.Raw, streamed.String())
	}
	if gjson.Get(last, "response.status").Str != "failed" || gjson.Get(last, "response.error.message").Str == "" {
		t.Errorf("response %s: want status failed with its error", gjson.Get(last, "response").Raw)
	}
}

// TestResponsesEventsFailKeepsOpenItems: the transcoder's Fail puts in the failed response what
// each open item got so far: a refusal's text, a tool call's arguments, with status
// incomplete; items already done keep status completed.
func TestResponsesEventsFailKeepsOpenItems(t *testing.T) {
	var events []string
	e := translate.NewResponsesEvents(func(_ string, data []byte) error { events = append(events, string(data)); return nil }, "x", translate.ResponsesEcho{})
	chunk := func(delta string) {
		t.Helper()
		if err := e.Chunk([]byte(`{"model":"m","created":1,"choices":[{"index":0,"delta":` + delta + `}]}`)); err != nil {
			t.Fatal(err)
		}
	}
	chunk(`{"content":"Let me "}`)
	chunk(`{"content":"check."}`)
	chunk(`{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"get_weather","arguments":"{\"ci"}}]}`)
	if err := e.Fail("server_error", "the upstream stream failed"); err != nil {
		t.Fatal(err)
	}
	out := gjson.Get(events[len(events)-1], "response.output")
	if msg := out.Get("0"); msg.Get("status").Str != "completed" || msg.Get("content.0.text").Str != "Let me check." {
		t.Errorf("the message closed before the call: %s", msg.Raw)
	}
	if call := out.Get("1"); call.Get("type").Str != "function_call" || call.Get("status").Str != "incomplete" || call.Get("arguments").Str != `{"ci` {
		t.Errorf("the open call: %s; want its arguments so far, incomplete", call.Raw)
	}

	events = nil
	e = translate.NewResponsesEvents(func(_ string, data []byte) error { events = append(events, string(data)); return nil }, "y", translate.ResponsesEcho{})
	chunk(`{"refusal":"I can't "}`)
	e.Fail("server_error", "cut")
	if msg := gjson.Get(events[len(events)-1], "response.output.0"); msg.Get("status").Str != "incomplete" ||
		msg.Get("content.0.type").Str != "refusal" || msg.Get("content.0.refusal").Str != "I can't " {
		t.Errorf("the open refusal: %s", msg.Raw)
	}
}
