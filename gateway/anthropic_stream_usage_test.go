package gateway

import (
	"encoding/json"
	"testing"

	anthropic "github.com/anthropics/anthropic-sdk-go"
	anthropicv2 "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/tidwall/gjson"
)

// TestMessagesStreamInputTokens: a /v1/messages stream answered by an OpenAI upstream, whose
// usage comes only at its end, starts with message_start carrying the gateway's estimate of the
// prompt's tokens rather than 0, and its message_delta carries the upstream's counts, which
// the Anthropic SDKs' accumulators keep for the final message.
func TestMessagesStreamInputTokens(t *testing.T) {
	e := newAntEnv(t, "")
	resp := e.post(t, antReq("oa", `,"stream":true`))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	id := checkDecisionHeaders(t, resp, "")
	events := antEvents(t, resp)
	estimate := e.decision(t, id).Features.TokensIn
	if estimate <= 0 {
		t.Fatalf("the decision has no token estimate")
	}
	var start, delta gjson.Result
	for _, ev := range events {
		switch ev.typ {
		case "message_start":
			start = gjson.ParseBytes(ev.data)
		case "message_delta":
			delta = gjson.ParseBytes(ev.data)
		}
	}
	if got := start.Get("message.usage.input_tokens").Int(); got != int64(estimate) {
		t.Errorf("message_start input_tokens %d, want the gateway's estimate %d: %s", got, estimate, start.Raw)
	}
	// The upstream reports 12 prompt tokens of which 2 cached: Anthropic's accounting is 10
	// uncached input tokens and 2 read from the cache.
	if delta.Get("usage.input_tokens").Int() != 10 || delta.Get("usage.cache_read_input_tokens").Int() != 2 || delta.Get("usage.output_tokens").Int() != 3 {
		t.Errorf("message_delta usage %s", delta.Get("usage").Raw)
	}

	var m1 anthropic.Message
	var m2 anthropicv2.Message
	for _, ev := range events {
		var u1 anthropic.MessageStreamEventUnion
		var u2 anthropicv2.MessageStreamEventUnion
		if err := json.Unmarshal(ev.data, &u1); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(ev.data, &u2); err != nil {
			t.Fatal(err)
		}
		if err := m1.Accumulate(u1); err != nil {
			t.Fatalf("v1 accumulator: %v", err)
		}
		if err := m2.Accumulate(u2); err != nil {
			t.Fatalf("v2 accumulator: %v", err)
		}
	}
	if m1.Usage.InputTokens != 10 || m1.Usage.CacheReadInputTokens != 2 || m1.Usage.OutputTokens != 3 {
		t.Errorf("v1 final usage %+v", m1.Usage)
	}
	if m2.Usage.InputTokens != 10 || m2.Usage.CacheReadInputTokens != 2 || m2.Usage.OutputTokens != 3 {
		t.Errorf("v2 final usage %+v", m2.Usage)
	}
}
