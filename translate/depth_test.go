package translate

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
)

// arrays returns n arrays nested around 1.
func arrays(n int) string { return strings.Repeat("[", n) + "1" + strings.Repeat("]", n) }

// TestToOpenAIRequestDepth: a Messages body nested MaxRequestDepth levels deep translates, and
// its OpenAI form stays within jsonguard.MaxDepth although the sidecar holds some of it
// deeper; one level more, or ten million (which overflowed gjson's validator's stack and
// ended the process), is a 400 invalid_json saying the limit.
func TestToOpenAIRequestDepth(t *testing.T) {
	// Each is nested levels deep inside the body, around n arrays.
	bodies := []struct {
		explanation string
		levels      int
		body        func(n int) string
	}{
		{"a tool_use input", 6, func(n int) string {
			return `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[` +
				`{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":` + arrays(n) + `}}]},` +
				`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"ok"}]}]}`
		}},
		{"a thinking block, which the sidecar holds", 5, func(n int) string {
			return `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[` +
				`{"type":"thinking","thinking":"hm","signature":"s","x":` + arrays(n) + `},{"type":"text","text":"yo"}]},{"role":"user","content":"more"}]}`
		}},
		{"a parameter the sidecar holds", 2, func(n int) string {
			return `{"model":"m","max_tokens":1,"context_management":{"edits":` + arrays(n) + `},"messages":[{"role":"user","content":"hi"}]}`
		}},
	}
	for _, b := range bodies {
		out, err := ToOpenAIRequest([]byte(b.body(MaxRequestDepth-b.levels)), OpenAIOptions{})
		if err != nil {
			t.Errorf("%s at the limit: %v", b.explanation, err)
		} else if err := jsonguard.Check(out); err != nil {
			t.Errorf("%s at the limit: the OpenAI form: %v", b.explanation, err)
		}
		for _, n := range []int{MaxRequestDepth - b.levels + 1, 10_000_000} {
			start := time.Now()
			_, err := ToOpenAIRequest([]byte(b.body(n)), OpenAIOptions{})
			var e *clearbar.Error
			if !errors.As(err, &e) || e.Status != 400 || e.Type != ErrInvalidRequest || e.Code != "invalid_json" ||
				!strings.Contains(e.Message, fmt.Sprintf("more than %d levels deep", MaxRequestDepth)) {
				t.Errorf("%s, %d levels: %v, want a 400 invalid_json saying the limit", b.explanation, n+b.levels, err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("%s, %d levels: took %v", b.explanation, n+b.levels, d)
			}
		}
	}
	if _, err := ToOpenAIRequest([]byte(`{"model":`), OpenAIOptions{}); err == nil || !strings.Contains(err.Error(), "not a JSON object") {
		t.Errorf("invalid JSON: %v", err)
	}
}

// TestDeepArgumentsToAnthropic: tool-call arguments too deep for gjson's validator are
// refused as arguments that are not a JSON object, not parsed.
func TestDeepArgumentsToAnthropic(t *testing.T) {
	body := func(args string) []byte {
		return []byte(`{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[` +
			`{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":` + args + `}"}}]},` +
			`{"role":"tool","tool_call_id":"call_1","content":"ok"}]}`)
	}
	if _, err := ToAnthropicCall(body(arrays(jsonguard.MaxDepth-1)), AnthropicOptions{}); err != nil {
		t.Errorf("arguments at the limit: %v", err)
	}
	for _, n := range []int{jsonguard.MaxDepth, 10_000_000} {
		_, err := ToAnthropicCall(body(arrays(n)), AnthropicOptions{})
		var e *clearbar.Error
		if !errors.As(err, &e) || e.Class != clearbar.ClientError || e.Param != "messages[1].tool_calls[0].function.arguments" {
			t.Errorf("arguments %d levels deep: %v, want a 400 naming them", n+1, err)
		}
	}
}

// TestParseObjectDepth: the translators' entry point refuses JSON nested past
// jsonguard.MaxDepth, answers and stream events included.
func TestParseObjectDepth(t *testing.T) {
	doc := func(n int) []byte { return []byte(`{"a":` + arrays(n) + `}`) }
	if _, ok := parseObject(doc(jsonguard.MaxDepth - 1)); !ok {
		t.Error("at the limit: refused")
	}
	for _, n := range []int{jsonguard.MaxDepth, 10_000_000} {
		if _, ok := parseObject(doc(n)); ok {
			t.Errorf("%d levels: accepted", n+1)
		}
		if _, err := ToOpenAIAnswer(doc(n), AnswerOptions{}); err == nil {
			t.Errorf("an answer %d levels deep: accepted", n+1)
		}
		var tr OpenAIChunks
		if _, err := tr.Event("message_start", doc(n)); err == nil {
			t.Errorf("an event %d levels deep: accepted", n+1)
		}
	}
}

// TestNativeAnswerAtTheLimit: an Anthropic upstream's message or stream event nested exactly
// jsonguard.MaxDepth levels deep, which the adapter accepts, reaches an Anthropic client: the
// OpenAI-format document carrying it one level down (Native) is read with a level to spare.
func TestNativeAnswerAtTheLimit(t *testing.T) {
	// The message is at depth 1 and its member "deep" holds MaxDepth-1 levels of arrays.
	deep := arrays(jsonguard.MaxDepth - 1)
	msg := `{"id":"msg_1","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1},"deep":` + deep + `}`
	if jsonguard.CheckString(msg) != nil {
		t.Fatal("the message is not within the limit")
	}
	r, err := ToOpenAIAnswer([]byte(msg), AnswerOptions{Native: true})
	if err != nil {
		t.Fatal(err)
	}
	out, err := ToAnthropicResponse(r.Body)
	if err != nil || string(out) != msg {
		t.Errorf("the message back: %v\n%.200s", err, out)
	}

	ev := `{"type":"message_start","message":{"id":"msg_s","type":"message","role":"assistant","model":"c","content":[],"usage":{"input_tokens":1,"output_tokens":1}},"deep":` + arrays(jsonguard.MaxDepth-1) + `}`
	if jsonguard.CheckString(ev) != nil {
		t.Fatal("the event is not within the limit")
	}
	tr := OpenAIChunks{Native: true}
	chunks, err := tr.Event("message_start", []byte(ev))
	if err != nil || len(chunks) == 0 {
		t.Fatalf("the event: %v, %d chunks", err, len(chunks))
	}
	var got []string
	events := NewAnthropicEvents(func(typ string, data []byte) error {
		got = append(got, typ+" "+string(data))
		return nil
	})
	for _, c := range chunks {
		if err := events.Chunk(c.Data); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || got[0] != "message_start "+ev {
		t.Errorf("events back: %d, want the event as it came", len(got))
	}
}
