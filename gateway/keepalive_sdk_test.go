package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

// keepaliveEvery sets the spec's stream keep-alive interval.
func keepaliveEvery(d string) func(string) string {
	return func(src string) string { return src + "server: {stream_keepalive: " + d + "}\n" }
}

// slowFirstChunk answers a stream after holding its first chunk back for wait; other calls it
// answers normally.
func slowFirstChunk(wait time.Duration) script {
	return func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		if c.Stream {
			select {
			case <-time.After(wait):
			case <-r.Context().Done():
				return
			}
		}
		answerNormally(w, r, c)
	}
}

// splitPings returns the stream's events without its ": ping" comments, and how many comments
// there were. Every comment must come before the first data event.
func splitPings(t *testing.T, raw string) (events string, pings int) {
	t.Helper()
	var b strings.Builder
	data := false
	for ev := range strings.SplitSeq(raw, "\n\n") {
		switch {
		case ev == ": ping":
			pings++
			if data {
				t.Errorf("a ping after the first data event: %q", raw)
			}
		case ev != "":
			data = true
			b.WriteString(ev + "\n\n")
		}
	}
	return b.String(), pings
}

// §8 item 22: during a slow first token the gateway sends ": ping" comments, which openai-go
// ignores: the client gets the whole answer, with no error.
func TestSDKKeepalivePingsDuringSlowFirstToken(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{script: slowFirstChunk(250 * time.Millisecond), edit: keepaliveEvery("40ms")})
	r := readOAStream(t, e.client, openai.ChatCompletionNewParams{Model: "clearbar/chat", Messages: userMessage("hi")})
	if r.err != nil {
		t.Fatalf("stream error: %v", r.err)
	}
	acc := r.acc
	if got := acc.Choices[0].Message.Content; got != "Hello, world!" || acc.Choices[0].FinishReason != "stop" {
		t.Errorf("content %q finish %q", got, acc.Choices[0].FinishReason)
	}
	if r.pings < 2 {
		t.Errorf("%d pings during a 250ms first token with a 40ms keep-alive", r.pings)
	}
	if evs := r.events; len(evs) == 0 || evs[len(evs)-1] != "[DONE]" {
		t.Errorf("events %v", evs)
	}
	h := r.header
	if id := h.Get("X-Clearbar-Decision-Id"); !strings.HasPrefix(id, "dec_") || h.Get("X-Request-Id") != id || h.Get("X-Clearbar-Category") != "chat" {
		t.Errorf("headers sent with the first ping: %v", h)
	}
	d := e.decisions.wait(t, h.Get("X-Clearbar-Decision-Id"))
	if d.Outcome != clearbar.OK || d.Status != 200 || d.Model != "primary" {
		t.Errorf("decision outcome %s status %d model %q", d.Outcome, d.Status, d.Model)
	}
}

// The raw wire of a committed stream: status and the decision's id and category at the first
// ping, ": ping" comments, then the answer; the model, attempts and cost, unknown when the
// headers went out, arrive as trailers.
func TestKeepaliveRawWireAndTrailers(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{script: slowFirstChunk(200 * time.Millisecond), edit: keepaliveEvery("30ms")})
	start := time.Now()
	resp := e.post(t, context.Background(), `{"model":"clearbar/chat","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
	defer resp.Body.Close()
	if waited := time.Since(start); waited > 150*time.Millisecond {
		t.Errorf("the headers took %v: they should come with the first ping", waited)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("X-Clearbar-Category") != "chat" {
		t.Fatalf("status %d headers %v", resp.StatusCode, resp.Header)
	}
	for _, name := range []string{"X-Clearbar-Model", "X-Clearbar-Attempts", "X-Clearbar-Cost-Usd"} {
		if resp.Header.Get(name) != "" {
			t.Errorf("%s in the headers of a stream committed before its model answered", name)
		}
		if _, declared := resp.Trailer[name]; !declared {
			t.Errorf("%s is not declared as a trailer: %v", name, resp.Trailer)
		}
	}
	first, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || first != ": ping\n" {
		t.Fatalf("first line %q (%v), want a ping", first, err)
	}
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(rest, []byte("data: [DONE]\n\n")) || !bytes.Contains(rest, []byte(`"usage":{"prompt_tokens":5`)) {
		t.Errorf("body %q", tail(string(rest)))
	}
	if resp.Trailer.Get("X-Clearbar-Model") != "primary" || resp.Trailer.Get("X-Clearbar-Provider") != "up" ||
		resp.Trailer.Get("X-Clearbar-Attempts") != "1" || resp.Trailer.Get("X-Clearbar-Cost-Usd") == "" {
		t.Errorf("trailers %v", resp.Trailer)
	}
}

// A fallback after pings is still transparent (only comments went out); a failure of every
// attempt after pings ends the stream with an OpenAI-shaped error event and never [DONE].
func TestKeepaliveFailures(t *testing.T) {
	t.Parallel()
	failSlowly := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(80 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		writeBody(w, 503, "application/json", `{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}`)
	}
	t.Run("fallback after pings", func(t *testing.T) {
		t.Parallel()
		e := newE2E(t, setup{edit: keepaliveEvery("20ms"), script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
			if c.Model == "up-primary" {
				failSlowly(w, r)
				return
			}
			answerNormally(w, r, c)
		}})
		r := readOAStream(t, e.client, openai.ChatCompletionNewParams{Model: "clearbar/chat", Messages: userMessage("hi")})
		if r.err != nil || len(r.acc.Choices) != 1 || r.acc.Choices[0].Message.Content != "Hello, world!" {
			t.Fatalf("choices %+v err %v", r.acc.Choices, r.err)
		}
		if r.pings == 0 {
			t.Errorf("no ping before the fallback answered: events %v", r.events)
		}
		if n := e.up.count("up-secondary"); n != 1 {
			t.Errorf("secondary called %d times", n)
		}
	})
	t.Run("every attempt fails after pings", func(t *testing.T) {
		t.Parallel()
		e := newE2E(t, setup{edit: keepaliveEvery("20ms"), script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) { failSlowly(w, r) }})
		resp := e.post(t, context.Background(), `{"model":"clearbar/chat","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("status %d err %v", resp.StatusCode, err)
		}
		events, pings := splitPings(t, string(body))
		evs := rawEvents(t, events)
		if pings == 0 || len(evs) != 1 || slices.Contains(evs, "[DONE]") {
			t.Fatalf("%d pings, events %v", pings, evs)
		}
		if !gjson.Get(evs[0], "error.message").Exists() || gjson.Get(evs[0], "error.type").Str != "server_error" {
			t.Errorf("error event %s", evs[0])
		}
		if resp.Trailer.Get("X-Clearbar-Attempts") == "" || resp.Trailer.Get("X-Clearbar-Model") != "" {
			t.Errorf("trailers %v", resp.Trailer)
		}
		d := e.decisions.wait(t, resp.Header.Get("X-Clearbar-Decision-Id"))
		if d.Outcome != clearbar.Overloaded || d.Status != 200 || len(d.Attempts) < 2 {
			t.Errorf("decision outcome %s status %d attempts %d", d.Outcome, d.Status, len(d.Attempts))
		}

		// The SDK surfaces the error event as an error, not as a clean end.
		stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
			Model: "clearbar/chat", Messages: userMessage("hi"),
		})
		for stream.Next() {
		}
		var se *ssestream.StreamError
		if err := stream.Err(); !errors.As(err, &se) {
			t.Errorf("stream error %v (%T), want *ssestream.StreamError", err, err)
		}
	})
}

// With keep-alives off (0s) a slow stream sends nothing until its first chunk, with every
// decision header.
func TestKeepaliveOff(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{script: slowFirstChunk(100 * time.Millisecond), edit: keepaliveEvery("0s")})
	resp := e.post(t, context.Background(), `{"model":"clearbar/chat","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	checkDecisionHeaders(t, resp.Header, "chat", "primary", "1")
	if bytes.Contains(body, []byte(": ping")) || !bytes.HasSuffix(body, []byte("data: [DONE]\n\n")) {
		t.Errorf("body %q", body)
	}
}

// An Anthropic client gets the pings as Anthropic's own ping events, which its SDK skips.
func TestAnthropicSDKKeepalive(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{script: slowFirstChunk(200 * time.Millisecond), edit: keepaliveEvery("30ms")})
	var raw bytes.Buffer
	client := anthropic.NewClient(anthropicopt.WithoutEnvironmentDefaults(), anthropicopt.WithBaseURL(e.srv.URL), anthropicopt.WithAPIKey(clientKey),
		anthropicopt.WithHTTPClient(&http.Client{Transport: newTransport(t, 0)}),
		anthropicopt.WithMiddleware(func(r *http.Request, next anthropicopt.MiddlewareNext) (*http.Response, error) {
			resp, err := next(r)
			if resp != nil {
				resp.Body = struct {
					io.Reader
					io.Closer
				}{io.TeeReader(resp.Body, &raw), resp.Body}
			}
			return resp, err
		}))
	stream := client.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{
		Model: "clearbar/chat", MaxTokens: 100, Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))},
	})
	var m anthropic.Message
	for stream.Next() {
		if err := m.Accumulate(stream.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream error: %v", err)
	}
	if len(m.Content) != 1 || m.Content[0].Text != "Hello, world!" {
		t.Errorf("content %+v", m.Content)
	}
	if !strings.HasPrefix(raw.String(), "event: ping\ndata: {\"type\":\"ping\"}\n\n") {
		t.Errorf("the stream does not begin with a ping: %q", tail(raw.String()))
	}
}

// A validated step holds its answer back until it passes: that wait is a slow first content
// byte too, so pings keep the client's connection alive through the primary's failed answer
// and the escalation, and none of the failed answer's bytes reach the client.
func TestSDKKeepaliveValidatedCascade(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{validate: true, edit: func(src string) string { return keepaliveEvery("30ms")(validatedCategories(src)) },
		script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
			time.Sleep(60 * time.Millisecond)
			jsonScript(false)(w, r, c)
		}})
	r := readOAStream(t, e.client, openai.ChatCompletionNewParams{Model: "clearbar/extract", Messages: userMessage("Order AB-1")})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := r.acc.Choices[0].Message.Content; got != `{"id":"from-up-secondary"}` {
		t.Errorf("content %q", got)
	}
	if r.pings < 2 {
		t.Errorf("%d pings over two 60ms validated attempts with a 30ms keep-alive", r.pings)
	}
	if d := e.decisions.waitCount(t, 1)[0]; len(d.Attempts) != 2 || d.Attempts[0].Class != clearbar.Quality || d.Model != "secondary" {
		t.Errorf("decision model %q attempts %+v", d.Model, d.Attempts)
	}
}

// A stream whose first chunk comes before the keep-alive interval is the same on the wire,
// headers and body, as with keep-alives off.
func TestKeepaliveFastStreamUnchanged(t *testing.T) {
	t.Parallel()
	wire := func(keepalive string) (http.Header, string) {
		e := newE2E(t, setup{edit: keepaliveEvery(keepalive)})
		resp := e.post(t, context.Background(), `{"model":"clearbar/chat","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		h := resp.Header.Clone()
		for _, volatile := range []string{"Date", "X-Request-Id", "X-Clearbar-Decision-Id"} {
			h.Del(volatile)
		}
		for k, v := range resp.Trailer {
			h["Trailer-"+k] = v
		}
		return h, string(body)
	}
	offH, offBody := wire("0s")
	onH, onBody := wire("10s")
	if onBody != offBody {
		t.Errorf("body with keep-alives %q, without %q", onBody, offBody)
	}
	if !reflect.DeepEqual(onH, offH) {
		t.Errorf("headers with keep-alives %v, without %v", onH, offH)
	}
}
