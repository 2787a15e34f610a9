package translate

import (
	"testing"

	"github.com/tidwall/gjson"
)

// A response cut by its token limit marks the item the cut ended incomplete, as OpenAI does,
// and leaves the items before it completed.
func TestToResponsesResponseIncompleteItem(t *testing.T) {
	for _, tc := range []struct {
		name, chat string
		want       []string
	}{
		{"text", `{"id":"c","created":7,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"a long ans"},"finish_reason":"length"}]}`,
			[]string{"incomplete"}},
		{"text then call", `{"id":"c","created":7,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"hi",
			"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]},"finish_reason":"length"}]}`,
			[]string{"completed", "incomplete"}},
		{"finished", `{"id":"c","created":7,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"done"},"finish_reason":"stop"}]}`,
			[]string{"completed"}},
	} {
		out, err := ToResponsesResponse([]byte(tc.chat), "D", ResponsesEcho{})
		if err != nil {
			t.Fatal(err)
		}
		r := gjson.ParseBytes(out)
		for i, want := range tc.want {
			if got := r.Get("output." + string(rune('0'+i)) + ".status").Str; got != want {
				t.Errorf("%s: output[%d].status = %q, want %q in %s", tc.name, i, got, want, out)
			}
		}
	}
}

func TestResponsesEventsIncompleteItem(t *testing.T) {
	var datas []gjson.Result
	e := NewResponsesEvents(func(ev string, data []byte) error {
		datas = append(datas, gjson.ParseBytes(append([]byte(nil), data...)))
		return nil
	}, "D", ResponsesEcho{})
	for _, c := range []string{
		`{"id":"c","created":1,"model":"up","choices":[{"index":0,"delta":{"role":"assistant","content":"a long ans"},"finish_reason":null}]}`,
		`{"id":"c","created":1,"model":"up","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}`,
	} {
		if err := e.Chunk([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.End(); err != nil {
		t.Fatal(err)
	}
	var done gjson.Result
	for _, d := range datas {
		if d.Get("type").Str == "response.output_item.done" {
			done = d
		}
	}
	if got := done.Get("item.status").Str; got != "incomplete" {
		t.Errorf("output_item.done item status %q, want incomplete: %s", got, done.Raw)
	}
	last := datas[len(datas)-1]
	if last.Get("type").Str != "response.incomplete" || last.Get("response.output.0.status").Str != "incomplete" ||
		last.Get("response.incomplete_details.reason").Str != "max_output_tokens" {
		t.Errorf("final event %s", last.Raw)
	}

	// A call after a finished message: only the call was cut.
	datas = nil
	e = NewResponsesEvents(func(ev string, data []byte) error {
		datas = append(datas, gjson.ParseBytes(append([]byte(nil), data...)))
		return nil
	}, "D", ResponsesEcho{})
	for _, c := range []string{
		`{"id":"c","created":1,"model":"up","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}`,
		`{"id":"c","created":1,"model":"up","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"k","type":"function","function":{"name":"f","arguments":"{\"a\""}}]},"finish_reason":"length"}]}`,
	} {
		if err := e.Chunk([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.End(); err != nil {
		t.Fatal(err)
	}
	last = datas[len(datas)-1].Get("response")
	if last.Get("output.0.status").Str != "completed" || last.Get("output.1.status").Str != "incomplete" {
		t.Errorf("final response %s", last.Raw)
	}
}

// Responses usage carries the cache-write tokens chat completions reports.
func TestResponsesUsageCacheWrite(t *testing.T) {
	chat := `{"id":"c","created":7,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],
		"usage":{"prompt_tokens":30,"completion_tokens":2,"total_tokens":32,"prompt_tokens_details":{"cached_tokens":10,"cache_write_tokens":15}}}`
	out, err := ToResponsesResponse([]byte(chat), "D", ResponsesEcho{})
	if err != nil {
		t.Fatal(err)
	}
	r := gjson.ParseBytes(out)
	if r.Get("usage.input_tokens_details.cache_write_tokens").Int() != 15 || r.Get("usage.input_tokens_details.cached_tokens").Int() != 10 {
		t.Errorf("usage %s", r.Get("usage").Raw)
	}
	var last gjson.Result
	e := NewResponsesEvents(func(ev string, data []byte) error {
		last = gjson.ParseBytes(append([]byte(nil), data...))
		return nil
	}, "D", ResponsesEcho{})
	for _, c := range []string{
		`{"id":"c","created":1,"model":"up","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}`,
		`{"id":"c","created":1,"model":"up","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":2,"total_tokens":32,"prompt_tokens_details":{"cached_tokens":10,"cache_write_tokens":15}}}`,
	} {
		if err := e.Chunk([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.End(); err != nil {
		t.Fatal(err)
	}
	if last.Get("response.usage.input_tokens_details.cache_write_tokens").Int() != 15 {
		t.Errorf("streamed usage %s", last.Get("response.usage").Raw)
	}
}
