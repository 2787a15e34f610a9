package gateway

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/health"
)

// cutUsagePost sends body to path on the fixture's gateway.
func cutUsagePost(t *testing.T, f *fixture, path, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Anthropic-Version", "2023-06-01")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// cutUsageAttempt waits for the decision of the cut stream and returns its attempt.
func cutUsageAttempt(t *testing.T, f *fixture) clearbar.Attempt {
	t.Helper()
	waitUntil(t, "the decision", func() bool { d := f.rec.last(); return d != nil && d.Outcome != clearbar.OK })
	d := f.rec.last()
	if len(d.Attempts) != 1 || d.Attempts[0].Outcome != "cut mid-stream" || !d.Attempts[0].UsageEstimated {
		t.Fatalf("attempts %+v: want one, cut mid-stream, with estimated usage", d.Attempts)
	}
	return d.Attempts[0]
}

// checkCutUsage checks that a cut chat stream's events end with the gateway's usage chunk of
// the attempt's estimated usage, in the stream's id and without choices, then the error event.
func checkCutUsage(t *testing.T, ev []string, a clearbar.Attempt, errorHas string) {
	t.Helper()
	if len(ev) < 3 {
		t.Fatalf("events %v", ev)
	}
	u, last := ev[len(ev)-2], ev[len(ev)-1]
	if !strings.HasPrefix(last, `{"error":`) || !strings.Contains(last, errorHas) {
		t.Errorf("last event %s: want the error event (%q)", last, errorHas)
	}
	for _, e := range ev {
		if e == "[DONE]" {
			t.Error("a cut stream must not end with [DONE]")
		}
	}
	p, c := gjson.Get(u, "usage.prompt_tokens").Int(), gjson.Get(u, "usage.completion_tokens").Int()
	if !gjson.Get(u, "usage").IsObject() || gjson.Get(u, "choices.#").Int() != 0 ||
		int(p) != a.Usage.PromptTokens || int(c) != a.Usage.CompletionTokens || c == 0 ||
		gjson.Get(u, "usage.total_tokens").Int() != p+c {
		t.Errorf("event before the error %s: want a usage chunk of %+v", u, a.Usage)
	}
	if id := gjson.Get(ev[0], "id").Str; id == "" || gjson.Get(u, "id").Str != id || gjson.Get(u, "object").Str != "chat.completion.chunk" {
		t.Errorf("usage chunk %s is not of the stream %s", u, id)
	}
}

// TestStreamCutSendsEstimatedUsage: a stream cut after its answer began (by the upstream, by
// server.request_timeout, by the gateway shutting down past its drain window) sends a client
// that asked for usage a usage chunk of the estimate the decision records, before the error
// event; a client that did not ask gets none.
func TestStreamCutSendsEstimatedUsage(t *testing.T) {
	const asked = `{"model":"clearbar/intent","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"tell me a story about a cat"}]}`
	t.Run("the upstream cuts it", func(t *testing.T) {
		f := newFixture(t, nil)
		f.a.cutAfter = 2
		resp := f.post(t, asked)
		defer resp.Body.Close()
		ev := sseEvents(t, resp.Body)
		if len(ev) != 4 {
			t.Fatalf("want two chunks, the usage chunk and the error event: %v", ev)
		}
		checkCutUsage(t, ev, cutUsageAttempt(t, f), "stream_cut")
	})
	t.Run("not asked", func(t *testing.T) {
		f := newFixture(t, nil)
		f.a.cutAfter = 2
		resp := f.post(t, strings.Replace(asked, `"stream_options":{"include_usage":true},`, "", 1))
		defer resp.Body.Close()
		ev := sseEvents(t, resp.Body)
		if len(ev) != 3 || strings.Contains(strings.Join(ev, "\n"), `"usage"`) {
			t.Fatalf("want two chunks and the error event, no usage: %v", ev)
		}
	})
	t.Run("server.request_timeout", func(t *testing.T) {
		f := newFixture(t, func(src string) string { return src + "server: {request_timeout: 300ms}\n" })
		f.a.delay = 50 * time.Millisecond
		f.a.chunks = 1000
		resp := f.post(t, asked)
		defer resp.Body.Close()
		ev := sseEvents(t, resp.Body)
		checkCutUsage(t, ev, cutUsageAttempt(t, f), "request_timeout")
	})
	t.Run("shutdown past the drain window", func(t *testing.T) {
		f := newFixture(t, nil)
		f.a.delay = 20 * time.Millisecond
		f.a.chunks = 1000
		resp := f.post(t, asked)
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		var ev []string
		for len(ev) < 3 {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if d, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "data: "); ok {
				ev = append(ev, d)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		go f.gw.Cut(ctx)
		ev = append(ev, sseEvents(t, br)...)
		checkCutUsage(t, ev, cutUsageAttempt(t, f), "shut down")
	})
}

// TestStreamCutUsageOtherDialects: the usage chunk a cut stream sends goes through the
// transcoding writers correctly. A Responses client's response.failed carries the estimated
// usage; an Anthropic client gets its error event after the blocks sent, with nothing between
// (Anthropic sends no message_delta for a message that failed).
func TestStreamCutUsageOtherDialects(t *testing.T) {
	t.Run("/v1/responses", func(t *testing.T) {
		f := newFixture(t, nil)
		f.a.cutAfter = 2
		resp := cutUsagePost(t, f, "/v1/responses", `{"model":"clearbar/intent","stream":true,"input":"tell me a story about a cat"}`)
		defer resp.Body.Close()
		ev := sseEvents(t, resp.Body)
		a := cutUsageAttempt(t, f)
		last := ev[len(ev)-1]
		if gjson.Get(last, "type").Str != "response.failed" {
			t.Fatalf("last event %s, want response.failed", last)
		}
		if u := gjson.Get(last, "response.usage"); int(u.Get("input_tokens").Int()) != a.Usage.PromptTokens ||
			int(u.Get("output_tokens").Int()) != a.Usage.CompletionTokens || a.Usage.CompletionTokens == 0 ||
			u.Get("total_tokens").Int() != int64(a.Usage.Total()) {
			t.Errorf("response.failed usage %s, want the attempt's estimate %+v", u.Raw, a.Usage)
		}
		for _, e := range ev {
			if typ := gjson.Get(e, "type").Str; typ == "response.completed" || typ == "response.incomplete" {
				t.Errorf("a cut stream sent %s", typ)
			}
		}
	})
	t.Run("/v1/messages", func(t *testing.T) {
		f := newFixture(t, nil)
		f.a.cutAfter = 2
		resp := cutUsagePost(t, f, "/v1/messages", `{"model":"clearbar/intent","stream":true,"max_tokens":100,"messages":[{"role":"user","content":"tell me a story about a cat"}]}`)
		defer resp.Body.Close()
		ev := sseEvents(t, resp.Body)
		cutUsageAttempt(t, f)
		var types []string
		for _, e := range ev {
			types = append(types, gjson.Get(e, "type").Str)
		}
		want := "message_start content_block_start content_block_delta content_block_delta error"
		if strings.Join(types, " ") != want {
			t.Errorf("events %q, want %q", types, want)
		}
	})
}

// TestRequestTimeoutCutsChargeNoBreaker: streams the request's own time budget cuts while
// their answers arrive are the request's timeouts, not the model's failures: however many,
// they leave the model's breaker closed, where counting them opened it on a healthy model.
func TestRequestTimeoutCutsChargeNoBreaker(t *testing.T) {
	f := newFixture(t, func(src string) string { return src + "server: {request_timeout: 200ms}\n" })
	f.a.delay = 20 * time.Millisecond
	f.a.chunks = 1000
	const asked = `{"model":"clearbar/intent","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	for range 8 {
		resp := f.post(t, asked)
		ev := sseEvents(t, resp.Body)
		resp.Body.Close()
		if last := ev[len(ev)-1]; !strings.Contains(last, "request_timeout") {
			t.Fatalf("last event %s: want the request's timeout", last)
		}
	}
	if st := f.gw.breakers.Get("a/small").State(time.Now()); st != health.Closed {
		t.Errorf("small's breaker is %v after streams the request's budget cut: the model was answering", st)
	}
}
