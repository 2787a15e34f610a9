package gateway_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/gateway"
)

// benchToolsRequest is a request with three function tools, as an agent sends on every turn.
const benchToolsRequest = `{"model":"clearbar/chat","messages":[{"role":"user","content":"Where is order AB-123456, and can I still change its address?"}],` +
	`"tools":[{"type":"function","function":{"name":"get_order_status","description":"Look up an order.","parameters":{"type":"object","properties":{"order_id":{"type":"string","pattern":"^[A-Z]{2}-[0-9]{6}$"}},"required":["order_id"],"additionalProperties":false}}},` +
	`{"type":"function","function":{"name":"change_address","parameters":{"type":"object","properties":{"order_id":{"type":"string"},"address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"},"zip":{"type":"string"}},"required":["street","city"]}},"required":["order_id","address"]}}},` +
	`{"type":"function","function":{"name":"cancel_order","parameters":{"type":"object","properties":{"order_id":{"type":"string"},"reason":{"type":"string","enum":["late","wrong item","other"]}},"required":["order_id"]}}}],"tool_choice":"auto"}`

// BenchmarkDecodeChatRequestTools decodes a request with tools, the same tools every time:
// what an agent's turns cost the ingress.
func BenchmarkDecodeChatRequestTools(b *testing.B) {
	body := []byte(benchToolsRequest)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := gateway.DecodeChatRequest(body, gateway.DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeChatRequestNewTools decodes requests whose tools are new every time (each
// schema differs): what compiling them costs the first request that sends them.
func BenchmarkDecodeChatRequestNewTools(b *testing.B) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		body := []byte(strings.ReplaceAll(benchToolsRequest, `"type":"object"`, `"type":"object","title":"v`+strconv.Itoa(i)+`"`))
		if _, err := gateway.DecodeChatRequest(body, gateway.DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}
