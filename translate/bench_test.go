package translate

import (
	"testing"
)

// The benchmarks measure the translation overhead a call pays: per request (both directions),
// per answer, and per streamed chunk or event, on typical payloads.

const (
	benchOpenAIRequest    = `{"model":"clearbar/auto","messages":[{"role":"system","content":"You are a support assistant for an online shop. Answer briefly and politely."},{"role":"user","content":"My order 1234 has not arrived. Where is it?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"order_status","arguments":"{\"order_id\":\"1234\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"{\"status\":\"shipped\",\"eta\":\"tomorrow\"}"}],"tools":[{"type":"function","function":{"name":"order_status","description":"Look up an order","parameters":{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}}}],"temperature":0.2,"max_tokens":300,"user":"user-42","metadata":{"clearbar_category":"support"}}`
	benchAnthropicRequest = `{"model":"clearbar/auto","max_tokens":300,"system":"You are a support assistant for an online shop. Answer briefly and politely.","messages":[{"role":"user","content":"My order 1234 has not arrived. Where is it?"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"order_status","input":{"order_id":"1234"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"{\"status\":\"shipped\",\"eta\":\"tomorrow\"}"}]}],"tools":[{"name":"order_status","description":"Look up an order","input_schema":{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}}],"temperature":0.2,"metadata":{"user_id":"user-42"},"stream":true}`
	benchAnthropicMessage = `{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Your order 1234 has shipped and should arrive tomorrow. Is there anything else I can help with?"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":112,"cache_creation_input_tokens":0,"cache_read_input_tokens":2048,"output_tokens":24}}`
	benchCompletion       = `{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Your order 1234 has shipped and should arrive tomorrow. Is there anything else I can help with?","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_06737a9306"}`
	benchTextDelta        = `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" world"}}`
	benchChunk            = `{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}],"usage":null}`
)

func BenchmarkToAnthropicRequest(b *testing.B) {
	body := []byte(benchOpenAIRequest)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ToAnthropicRequest(body, AnthropicOptions{Model: "claude-sonnet-4-5", Stream: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkToOpenAIRequest(b *testing.B) {
	body := []byte(benchAnthropicRequest)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ToOpenAIRequest(body, OpenAIOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkToOpenAIResponse(b *testing.B) {
	body := []byte(benchAnthropicMessage)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ToOpenAIResponse(body, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkToAnthropicResponse(b *testing.B) {
	body := []byte(benchCompletion)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ToAnthropicResponse(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenAIChunks is the per-event cost of reading an Anthropic stream: one text_delta
// event into one OpenAI chunk.
func BenchmarkOpenAIChunks(b *testing.B) {
	tr := OpenAIChunks{Created: 1}
	if _, err := tr.Event("message_start", []byte(`{"type":"message_start","message":{"id":"msg_1","model":"claude-sonnet-4-5","usage":{"input_tokens":1}}}`)); err != nil {
		b.Fatal(err)
	}
	data := []byte(benchTextDelta)
	b.ReportAllocs()
	for b.Loop() {
		if c, err := tr.Event("content_block_delta", data); err != nil || len(c) != 1 {
			b.Fatal(err)
		}
	}
}

// BenchmarkAnthropicEvents is the per-chunk cost of writing an Anthropic stream: one OpenAI
// content chunk into one content_block_delta event.
func BenchmarkAnthropicEvents(b *testing.B) {
	n := 0
	s := NewAnthropicEvents(func(string, []byte) error { n++; return nil })
	data := []byte(benchChunk)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Chunk(data); err != nil {
			b.Fatal(err)
		}
	}
	if n == 0 {
		b.Fatal("no events")
	}
}
