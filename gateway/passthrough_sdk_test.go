package gateway_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"
)

// sdkBody copies the body of each request the SDK sends into dst.
func sdkBody(dst *bytes.Buffer) option.RequestOption {
	return option.WithMiddleware(func(r *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		if r.Body != nil {
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			dst.Reset()
			dst.Write(b)
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		return next(r)
	})
}

// randomBase64 returns n random bytes, base64-encoded.
func randomBase64(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// §8 item 10: multimodal user parts (image data URL, image http URL, input_audio, file) sent
// by openai-go reach an OpenAI-format upstream exactly as the SDK wrote them, streamed or not.
func TestSDKMultimodalPartsPassThrough(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{})
	parts := []openai.ChatCompletionContentPartUnionParam{
		openai.TextContentPart("What is in these?"),
		openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: "data:image/png;base64," + randomBase64(t, 3000), Detail: "high"}),
		openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: "https://example.com/cat.jpg?size=large&x=%20y"}),
		openai.InputAudioContentPart(openai.ChatCompletionContentPartInputAudioInputAudioParam{Data: randomBase64(t, 2000), Format: "wav"}),
		openai.FileContentPart(openai.ChatCompletionContentPartFileFileParam{FileData: openai.String("data:application/pdf;base64," + randomBase64(t, 4000)), Filename: openai.String("report.pdf")}),
		openai.FileContentPart(openai.ChatCompletionContentPartFileFileParam{FileID: openai.String("file-abc123")}),
	}
	params := openai.ChatCompletionNewParams{Model: "clearbar/chat", Messages: []openai.ChatCompletionMessageParamUnion{
		openai.SystemMessage("Describe attachments."), openai.UserMessage(parts),
	}}
	var sent bytes.Buffer
	if _, err := e.client.Chat.Completions.New(context.Background(), params, sdkBody(&sent)); err != nil {
		t.Fatal(err)
	}
	wantContent := gjson.GetBytes(sent.Bytes(), "messages.1.content").Raw
	if n := gjson.Get(wantContent, "#").Int(); n != int64(len(parts)) {
		t.Fatalf("the SDK sent %d parts: %s", n, wantContent)
	}
	stream := e.client.Chat.Completions.NewStreaming(context.Background(), params, sdkBody(&sent))
	for stream.Next() {
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	calls := e.up.received()
	if len(calls) != 2 {
		t.Fatalf("%d upstream calls", len(calls))
	}
	for _, c := range calls {
		if got := gjson.GetBytes(c.Body, "messages.1.content").Raw; got != wantContent {
			t.Errorf("stream %v: the upstream got content\n%.300s\nthe SDK sent\n%.300s", c.Stream, got, wantContent)
		}
	}
}

// §8 item 29: a 20 MB request of base64 image data URLs passes through to the upstream byte for
// byte, streamed and not; a body over server.max_body is refused with an OpenAI-shaped 413 and
// never reaches the upstream.
func TestLargePayloadPassThrough(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{edit: func(src string) string { return src + "server: {max_body: 21MB}\n" }})
	// Four images of 3.75 MB each: 20 MB of base64 JSON.
	body := func(stream bool, images, size int) string {
		var b strings.Builder
		b.WriteString(`{"model":"clearbar/chat","stream":`)
		json.NewEncoder(&b).Encode(stream)
		b.WriteString(`,"messages":[{"role":"user","content":[{"type":"text","text":"Compare these."}`)
		for range images {
			b.WriteString(`,{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,` + randomBase64(t, size) + `","detail":"auto"}}`)
		}
		b.WriteString(`]}]}`)
		return b.String()
	}
	for _, stream := range []bool{false, true} {
		req := body(stream, 4, 3_750_000)
		if n := len(req); n < 20_000_000 || n > 21<<20 {
			t.Fatalf("request of %d bytes", n)
		}
		resp := e.post(t, context.Background(), req)
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("stream %v: status %d: %.300s", stream, resp.StatusCode, answer)
		}
		if stream && !bytes.HasSuffix(answer, []byte("data: [DONE]\n\n")) {
			t.Errorf("stream: %q", tail(string(answer)))
		}
		calls := e.up.received()
		got, want := calls[len(calls)-1], gjson.Get(req, "messages").Raw
		if len(want) < 20_000_000 {
			t.Fatalf("the messages are %d bytes", len(want))
		}
		if got.Stream != stream || gjson.GetBytes(got.Body, "messages").Raw != want {
			t.Errorf("stream %v: the upstream's messages (%d bytes) differ from the client's (%d bytes)", stream,
				len(gjson.GetBytes(got.Body, "messages").Raw), len(want))
		}
	}

	calls := e.up.count("")
	resp := e.post(t, context.Background(), body(false, 6, 3_750_000))
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || gjson.GetBytes(answer, "error.code").Str != "request_too_large" ||
		gjson.GetBytes(answer, "error.type").Str != "invalid_request_error" || !gjson.GetBytes(answer, "error.message").Exists() {
		t.Errorf("over the limit: status %d: %s", resp.StatusCode, answer)
	}
	if e.up.count("") != calls {
		t.Error("a request over the limit reached the upstream")
	}
}
