package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

// validatedCategories adds cascades with validators to the end-to-end spec: a JSON Schema
// cascade and a judged one (the judge is the secondary model).
func validatedCategories(src string) string {
	return strings.Replace(src, "categories:\n", `categories:
  - name: extract
    share: 0
    tokens: {in: 100, out: 10}
    quality_bar: 0.9
    route:
      cascade: [primary, secondary]
      validate: [{json_schema: {inline: {type: object, required: [id], properties: {id: {type: string}}}}}]
    assume: {pass_rate: {primary: 0.9, secondary: 0.97}, validator: {detect: 0.9, false_alarm: 0.01}}
  - name: judged
    share: 0
    tokens: {in: 100, out: 10}
    quality_bar: 0.9
    route:
      cascade: [primary, secondary]
      validate: [{judge: {model: secondary, rubric: "The answer is helpful and specific.", threshold: 0.7}}]
    assume: {pass_rate: {primary: 0.9, secondary: 0.97}, validator: {detect: 0.8, false_alarm: 0.05}}
  - name: act
    share: 0
    tokens: {in: 100, out: 10}
    quality_bar: 0.9
    route:
      cascade: [primary, secondary]
      validate: [{tool_calls: required}]
    assume: {pass_rate: {primary: 0.9, secondary: 0.97}, validator: {detect: 0.9, false_alarm: 0.01}}
`, 1)
}

func newValidatedE2E(t *testing.T, sc script) *e2e {
	return newE2E(t, setup{script: sc, edit: validatedCategories, validate: true})
}

// jsonScript answers the primary with invalid JSON or valid JSON, as told, and the secondary
// always with valid JSON, streamed or not.
func jsonScript(primaryValid bool) script {
	return func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		text := `{"id":"from-` + c.Model + `"}`
		if c.Model == "up-primary" && !primaryValid {
			text = `{"id": "from-up-primary"` // cut short: not JSON
		}
		if c.Stream {
			streamText(w, c, text[:5], text[5:])
			return
		}
		writeBody(w, http.StatusOK, "application/json", completion(callID(c), c.Model, text))
	}
}

func TestSDKCascadeEscalatesOnInvalidJSON(t *testing.T) {
	e := newValidatedE2E(t, jsonScript(false))
	var raw *http.Response
	resp, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "clearbar/extract",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Order AB-1")},
	}, option.WithResponseInto(&raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != `{"id":"from-up-secondary"}` {
		t.Errorf("content %q, want the secondary's valid answer", got)
	}
	if raw.Header.Get("X-Clearbar-Model") != "secondary" || raw.Header.Get("X-Clearbar-Attempts") != "2" {
		t.Errorf("headers model %q attempts %q", raw.Header.Get("X-Clearbar-Model"), raw.Header.Get("X-Clearbar-Attempts"))
	}
	d := e.decisions.wait(t, raw.Header.Get("X-Clearbar-Decision-Id"))
	first, second := d.Attempts[0], d.Attempts[1]
	if first.Class != clearbar.Quality || len(first.Verdicts) != 1 || first.Verdicts[0].Pass || !strings.Contains(first.Verdicts[0].Reason, "not valid JSON") {
		t.Errorf("first attempt %+v", first)
	}
	if second.Kind != clearbar.AttemptEscalation || len(second.Verdicts) != 1 || !second.Verdicts[0].Pass {
		t.Errorf("second attempt %+v", second)
	}
	if d.EscalationCost == 0 || d.EscalationCost != first.Cost {
		t.Errorf("escalation cost %v, first attempt cost %v", d.EscalationCost, first.Cost)
	}
}

func TestSDKCascadeAccepts(t *testing.T) {
	e := newValidatedE2E(t, jsonScript(true))
	var raw *http.Response
	resp, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "clearbar/extract",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Order AB-1")},
	}, option.WithResponseInto(&raw))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != `{"id":"from-up-primary"}` || raw.Header.Get("X-Clearbar-Attempts") != "1" {
		t.Errorf("content %q attempts %s", resp.Choices[0].Message.Content, raw.Header.Get("X-Clearbar-Attempts"))
	}
	d := e.decisions.wait(t, raw.Header.Get("X-Clearbar-Decision-Id"))
	if !strings.Contains(d.Reason, "passed every validator") || e.up.count("up-secondary") != 0 {
		t.Errorf("reason %q, secondary calls %d", d.Reason, e.up.count("up-secondary"))
	}
}

// TestSDKStreamedValidatedRouteHoldsBytes: on a validated route the client's first byte
// comes only after the whole upstream answer has arrived and passed; a failed answer's bytes
// never reach the client.
func TestSDKStreamedValidatedRouteHoldsBytes(t *testing.T) {
	const gap = 150 * time.Millisecond
	e := newValidatedE2E(t, func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		id := callID(c)
		s := openSSE(w)
		valid := c.Model == "up-secondary"
		parts := []string{`{"id":`, `"slow"}`}
		if !valid {
			parts = []string{`{"id":`, `"bad"`}
		}
		s.data(chunk(id, c.Model, `{"role":"assistant","content":""}`, "", ""))
		for _, p := range parts {
			time.Sleep(gap)
			s.data(chunk(id, c.Model, `{"content":`+js(p)+`}`, "", ""))
		}
		s.data(chunk(id, c.Model, `{}`, "stop", ""))
		s.done()
	})
	start := time.Now()
	stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:    "clearbar/extract",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Order AB-1")},
	})
	var acc openai.ChatCompletionAccumulator
	var firstContent time.Duration
	for stream.Next() {
		c := stream.Current()
		if !acc.AddChunk(c) {
			t.Fatal("the accumulator refused a chunk")
		}
		if firstContent == 0 && len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
			firstContent = time.Since(start)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if got := acc.Choices[0].Message.Content; got != `{"id":"slow"}` {
		t.Errorf("content %q: the failed primary's bytes must never reach the client", got)
	}
	// Both upstream answers took two gaps each; the first byte comes after both.
	if firstContent < 4*gap {
		t.Errorf("first content after %v, before the validated answer was complete (%v)", firstContent, 4*gap)
	}
	ds := e.decisions.waitCount(t, 1)
	d := ds[0]
	if d.TTFB < 4*gap || len(d.Attempts) != 2 || d.Attempts[0].Class != clearbar.Quality {
		t.Errorf("decision ttfb %v attempts %+v", d.TTFB, d.Attempts)
	}
}

// TestSDKJudgeRoute: a judge model scores each answer; a low score escalates, and the judge's
// calls appear in the decision with their cost.
func TestSDKJudgeRoute(t *testing.T) {
	e := newValidatedE2E(t, func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		if strings.Contains(string(c.Body), "You grade answers") {
			score := `{"score": 0.9, "reason": "specific"}`
			if strings.Contains(string(c.Body), "vague answer") {
				score = `{"score": 0.2, "reason": "vague"}`
			}
			writeBody(w, http.StatusOK, "application/json", completion(callID(c), c.Model, score))
			return
		}
		text := "a specific answer from " + c.Model
		if c.Model == "up-primary" {
			text = "a vague answer"
		}
		writeBody(w, http.StatusOK, "application/json", completion(callID(c), c.Model, text))
	})
	var raw *http.Response
	resp, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "clearbar/judged",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("How do I reset my password?")},
	}, option.WithResponseInto(&raw))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "a specific answer from up-secondary" {
		t.Errorf("content %q", resp.Choices[0].Message.Content)
	}
	d := e.decisions.wait(t, raw.Header.Get("X-Clearbar-Decision-Id"))
	var kinds []string
	for _, a := range d.Attempts {
		kinds = append(kinds, a.Kind+"/"+a.Model)
	}
	if got := strings.Join(kinds, ","); got != "primary/primary,judge/secondary,escalation/secondary,judge/secondary" {
		t.Fatalf("attempts %s", got)
	}
	v0, v2 := d.Attempts[0].Verdicts, d.Attempts[2].Verdicts
	if len(v0) != 1 || v0[0].Pass || v0[0].Score != 0.2 || !strings.Contains(v0[0].Reason, "vague") {
		t.Errorf("first verdict %+v", v0)
	}
	if len(v2) != 1 || !v2[0].Pass || v2[0].Score != 0.9 {
		t.Errorf("second verdict %+v", v2)
	}
	if d.Attempts[1].Cost == 0 || d.Cost != d.Attempts[0].Cost+d.Attempts[1].Cost+d.Attempts[2].Cost+d.Attempts[3].Cost {
		t.Errorf("the judges' cost must count: %+v total %v", d.Attempts, d.Cost)
	}
}

// failingScript answers every model with what the validated categories refuse, streamed: JSON
// cut short (extract), or a call of get_weather whose arguments break its schema (act).
func failingScript(w http.ResponseWriter, r *http.Request, c upstreamCall) {
	if !gjson.GetBytes(c.Body, "tools").Exists() {
		streamText(w, c, `{"id": `, `7`)
		return
	}
	id, s := callID(c), openSSE(w)
	s.data(chunk(id, c.Model, `{"role":"assistant","content":null}`, "", ""))
	s.data(chunk(id, c.Model, `{"tool_calls":[{"index":0,"id":"call_`+c.Model+`","type":"function","function":{"name":"get_weather","arguments":""}}]}`, "", ""))
	s.data(chunk(id, c.Model, `{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": "}}]}`, "", ""))
	s.data(chunk(id, c.Model, `{"tool_calls":[{"index":0,"function":{"arguments":"5}"}}]}`, "", ""))
	s.data(chunk(id, c.Model, `{}`, "tool_calls", ""))
	if c.includeUsage() {
		s.data(usageChunk(id, c.Model, usageJSON(5, 9)))
	}
	s.done()
}

// TestSDKStreamedFlaggedAnswer: when every step of a validated cascade fails and the route
// delivers the last answer flagged, a stream gets that answer as an accepted one comes: every
// chunk with the upstream's id, created and model, its text or tool calls and finish reason,
// and the usage chunk the client asked for; the decision prices it and flags it.
func TestSDKStreamedFlaggedAnswer(t *testing.T) {
	e := newValidatedE2E(t, failingScript)
	weather := openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_weather",
		Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}}})
	tests := []struct {
		explanation, category string
		usage                 bool
		content, finish       string
		call                  string // "id name arguments"
		completion            int64
	}{
		{"JSON that fails its schema, usage asked for", "extract", true, `{"id": 7`, "stop", "", 2},
		{"a tool call whose arguments fail the tool's schema", "act", false, "", "tool_calls", `call_up-secondary get_weather {"city": 5}`, 9},
	}
	for _, tt := range tests {
		params := openai.ChatCompletionNewParams{Model: "clearbar/" + tt.category, Messages: userMessage("Weather in Paris?")}
		if tt.category == "act" {
			params.Tools = []openai.ChatCompletionToolUnionParam{weather}
		}
		if tt.usage {
			params.StreamOptions.IncludeUsage = openai.Bool(true)
		}
		var raw *http.Response
		stream := e.client.Chat.Completions.NewStreaming(context.Background(), params, option.WithResponseInto(&raw))
		var acc openai.ChatCompletionAccumulator
		ids, usageChunks := map[string]bool{}, 0
		for stream.Next() {
			c := stream.Current()
			if !acc.AddChunk(c) {
				t.Errorf("%s: the accumulator refused %s", tt.explanation, c.RawJSON())
			}
			ids[c.ID] = true
			if c.Created == 0 || c.Model != "up-secondary" || c.Object != "chat.completion.chunk" {
				t.Errorf("%s: chunk %s", tt.explanation, c.RawJSON())
			}
			if c.JSON.Usage.Valid() {
				usageChunks++
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatalf("%s: %v", tt.explanation, err)
		}
		ch := acc.Choices[0]
		var call string
		if len(ch.Message.ToolCalls) == 1 {
			tc := ch.Message.ToolCalls[0]
			call = tc.ID + " " + tc.Function.Name + " " + tc.Function.Arguments
		}
		if ch.Message.Content != tt.content || ch.FinishReason != tt.finish || call != tt.call {
			t.Errorf("%s: content %q finish %q call %q, want %q %q %q", tt.explanation, ch.Message.Content, ch.FinishReason, call, tt.content, tt.finish, tt.call)
		}
		if len(ids) != 1 || !ids["chatcmpl-up-secondary-"+map[string]string{"extract": "1", "act": "2"}[tt.category]] {
			t.Errorf("%s: chunk ids %v, want the secondary's one", tt.explanation, ids)
		}
		if want := map[bool]int{true: 1, false: 0}[tt.usage]; usageChunks != want || tt.usage && (acc.Usage.PromptTokens != 5 || acc.Usage.CompletionTokens != tt.completion) {
			t.Errorf("%s: %d usage chunks, usage %+v", tt.explanation, usageChunks, acc.Usage)
		}
		if raw.Header.Get("X-Clearbar-Model") != "secondary" || raw.Header.Get("X-Clearbar-Attempts") != "2" {
			t.Errorf("%s: headers model %q attempts %q", tt.explanation, raw.Header.Get("X-Clearbar-Model"), raw.Header.Get("X-Clearbar-Attempts"))
		}
		d := e.decisions.wait(t, raw.Header.Get("X-Clearbar-Decision-Id"))
		last := d.Attempts[len(d.Attempts)-1]
		if !d.Flagged || !strings.HasPrefix(last.Outcome, "delivered flagged") || d.Usage.CompletionTokens != int(tt.completion) || d.Cost <= 0 || d.TTFB == 0 {
			t.Errorf("%s: flagged %v outcome %q usage %+v cost %s ttfb %v", tt.explanation, d.Flagged, last.Outcome, d.Usage, d.Cost, d.TTFB)
		}
	}
}

// TestStreamedFlaggedAnswerWire: the flagged answer's stream on the wire, to an OpenAI client
// (the cost trailer) and to an Anthropic one (the message's id, model and usage).
func TestStreamedFlaggedAnswerWire(t *testing.T) {
	e := newValidatedE2E(t, failingScript)
	resp := e.post(t, context.Background(), `{"model":"clearbar/extract","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}`)
	body := readAllBody(t, resp)
	if !strings.HasSuffix(body, "data: [DONE]\n\n") || resp.Trailer.Get("X-Clearbar-Cost-Usd") == "" {
		t.Errorf("trailer %v after %s", resp.Trailer, body)
	}

	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/messages", strings.NewReader(`{"model":"clearbar/extract","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"x"}]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Anthropic-Version", "2023-06-01")
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	events := map[string]gjson.Result{}
	for _, ev := range strings.Split(readAllBody(t, resp), "\n\n") {
		typ, data, _ := strings.Cut(ev, "\ndata: ")
		events[strings.TrimPrefix(typ, "event: ")] = gjson.Parse(data)
	}
	msg, delta := events["message_start"].Get("message"), events["message_delta"]
	if msg.Get("id").Str != "msg_chatcmpl-up-secondary-2" || msg.Get("model").Str != "up-secondary" ||
		delta.Get("usage.input_tokens").Int() != 5 || delta.Get("usage.output_tokens").Int() != 2 || delta.Get("delta.stop_reason").Str != "end_turn" {
		t.Errorf("message_start %s, message_delta %s", msg.Raw, delta.Raw)
	}
}

// TestSDKStreamedValidatedToolCallsWithN: a validated stream answering n=2 interleaves its
// choices' tool calls, each at index 0 of its own choice; the validators check the first
// choice's calls, as for an answer not streamed, not the two choices' fragments run together,
// so that a good answer is accepted at once and reaches the client whole.
func TestSDKStreamedValidatedToolCallsWithN(t *testing.T) {
	e := newValidatedE2E(t, func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		id := callID(c)
		at := func(choice int, delta, finish string) string {
			fr := "null"
			if finish != "" {
				fr = js(finish)
			}
			return `{"id":` + js(id) + `,"object":"chat.completion.chunk","created":1741569952,"model":` + js(c.Model) +
				`,"choices":[{"index":` + fmt.Sprint(choice) + `,"delta":` + delta + `,"logprobs":null,"finish_reason":` + fr + `}]}`
		}
		s := openSSE(w)
		cities := []string{"Paris", "Rome"}
		for i := range cities {
			s.data(at(i, `{"role":"assistant","content":null}`, ""))
		}
		for i := range cities {
			s.data(at(i, `{"tool_calls":[{"index":0,"id":"call_`+cities[i]+`","type":"function","function":{"name":"get_weather","arguments":""}}]}`, ""))
		}
		for _, part := range []func(string) string{
			func(string) string { return `{\"city\":` },
			func(city string) string { return `\"` + city + `\"}` },
		} {
			for i, city := range cities {
				s.data(at(i, `{"tool_calls":[{"index":0,"function":{"arguments":"`+part(city)+`"}}]}`, ""))
			}
		}
		for i := range cities {
			s.data(at(i, `{}`, "tool_calls"))
		}
		s.done()
	})
	weather := openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_weather",
		Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}}})
	var raw *http.Response
	stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model: "clearbar/act", N: openai.Int(2), Messages: userMessage("Weather in Paris and Rome?"),
		Tools: []openai.ChatCompletionToolUnionParam{weather},
	}, option.WithResponseInto(&raw))
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		if c := stream.Current(); !acc.AddChunk(c) {
			t.Errorf("the accumulator refused %s", c.RawJSON())
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	var calls []string
	for _, ch := range acc.Choices {
		for _, tc := range ch.Message.ToolCalls {
			calls = append(calls, tc.ID+" "+tc.Function.Arguments)
		}
	}
	if want := []string{`call_Paris {"city":"Paris"}`, `call_Rome {"city":"Rome"}`}; strings.Join(calls, "; ") != strings.Join(want, "; ") {
		t.Errorf("tool calls %q, want %q", calls, want)
	}
	d := e.decisions.wait(t, raw.Header.Get("X-Clearbar-Decision-Id"))
	if len(d.Attempts) != 1 || d.Attempts[0].Class != clearbar.OK || d.Flagged || raw.Header.Get("X-Clearbar-Model") != "primary" {
		t.Errorf("model %q, flagged %v, attempts %+v: want the primary's good answer accepted at once", raw.Header.Get("X-Clearbar-Model"), d.Flagged, d.Attempts)
	}
}

// A validated stream the upstream cuts after part of its answer arrived fails over before the
// client sees a byte, and the cut attempt is recorded as the relayed one would be: with the
// prompt's estimated tokens and the output received, marked estimated, and its cost counted,
// since the upstream bills what it wrote.
func TestValidatedStreamCutCountsItsCost(t *testing.T) {
	t.Parallel()
	e := newValidatedE2E(t, func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		if c.Model != "up-primary" {
			jsonScript(true)(w, r, c)
			return
		}
		s := openSSE(w)
		s.data(chunk(callID(c), c.Model, `{"role":"assistant","content":"{\"id\": \"from-up-primary, cut off after forty bytes"}`, "", ""))
		resetConn(w, false)
	})
	resp := e.post(t, context.Background(), chatBody("extract", true))
	body := readAllBody(t, resp)
	if resp.StatusCode != 200 || resp.Header.Get("X-Clearbar-Model") != "secondary" || !strings.HasSuffix(body, "data: [DONE]\n\n") {
		t.Fatalf("status %d model %q: %s", resp.StatusCode, resp.Header.Get("X-Clearbar-Model"), tail(body))
	}
	d := e.decisions.wait(t, resp.Header.Get("X-Clearbar-Decision-Id"))
	if len(d.Attempts) != 2 {
		t.Fatalf("attempts %v", attemptClasses(d))
	}
	cut := d.Attempts[0]
	if cut.Class != clearbar.StreamCut || !cut.UsageEstimated || cut.Usage.PromptTokens == 0 || cut.Usage.CompletionTokens == 0 || cut.Cost <= 0 {
		t.Errorf("the cut attempt: class %s usage %+v estimated %t cost %v; want its estimated tokens and cost", cut.Class, cut.Usage, cut.UsageEstimated, cut.Cost)
	}
}
