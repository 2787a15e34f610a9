package simulated

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/clearbar/clearbar"
)

// This file renders answers as OpenAI chat.completion documents and chat.completion.chunk
// streams. The replay provider uses it too, so that every keyless provider speaks the same
// wire format.

// Answer is a complete answer to render: the content of a chat.completion, or of the chunks of
// a streamed one.
type Answer struct {
	// ID is the completion id every chunk of a stream shares; "" means a random
	// "chatcmpl-..." id.
	ID string
	// Model is the model id reported in the body.
	Model string
	// Created is the creation time in Unix seconds; 0 means now.
	Created int64
	// Choices are the answer's choices, indexed by position (their Index field is ignored).
	// A choice with ToolCalls has no content; its FinishReason defaults to "tool_calls",
	// otherwise to "stop".
	Choices []clearbar.Choice
	// Functions answers a request that offered the deprecated functions in their form
	// (clearbar.Request.Functions): a choice's first tool call is message.function_call {name,
	// arguments} (in a stream, delta.function_call fragments), later ones are dropped as that
	// form makes one call, and finish_reason tool_calls is function_call.
	Functions bool
	// Usage is reported in the body and in a stream's final usage chunk.
	Usage clearbar.Usage
	// Simulation, when set, is reported as "x_clearbar_simulation" in the body and in a
	// stream's final usage chunk.
	Simulation *Simulation
	// Logprobs answers a request that asked for logprobs: each choice's content carries them,
	// per token, with TopLogprobs alternatives (top_logprobs), not streamed and in each
	// content chunk of a stream (see tokenLogprobs).
	Logprobs    bool
	TopLogprobs int
	// LatencyMS, when above 0, is the answer's simulated latency in milliseconds, before
	// any time scale: reported as "x_clearbar_latency_ms" in the body, so that a caller at a
	// time scale can record what the answer would have taken without the scaled overhead of
	// its own code (see LatencyOf).
	LatencyMS float64
}

// withDefaults returns a copy of a with its id, creation time, choice indexes and finish
// reasons filled in.
func (a Answer) withDefaults() Answer {
	if a.ID == "" {
		a.ID = newID("chatcmpl-", nil)
	}
	if a.Created == 0 {
		a.Created = time.Now().Unix()
	}
	choices := make([]clearbar.Choice, len(a.Choices))
	for i, c := range a.Choices {
		c.Index = i
		if c.FinishReason == "" {
			c.FinishReason = "stop"
			if len(c.ToolCalls) > 0 {
				c.FinishReason = "tool_calls"
			}
		}
		if a.Functions && len(c.ToolCalls) > 0 {
			c.ToolCalls = c.ToolCalls[:1:1]
			if c.FinishReason == "tool_calls" {
				c.FinishReason = "function_call"
			}
		}
		choices[i] = c
	}
	a.Choices = choices
	return a
}

// newID returns prefix followed by 24 random hex digits, from r or, when r is nil, from the
// global source.
func newID(prefix string, r *rand.Rand) string {
	var b [12]byte
	for i := 0; i < len(b); i += 4 {
		var v uint32
		if r != nil {
			v = r.Uint32()
		} else {
			v = rand.Uint32()
		}
		b[i], b[i+1], b[i+2], b[i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	return prefix + hex.EncodeToString(b[:])
}

// OpenAI wire shapes, as far as Clearbar's providers fill them.
type (
	completionJSON struct {
		ID      string       `json:"id"`
		Object  string       `json:"object"`
		Created int64        `json:"created"`
		Model   string       `json:"model"`
		Choices []choiceJSON `json:"choices"`
		Usage   *usageJSON   `json:"usage"`
		// Simulation is the ground truth of a simulated answer.
		Simulation json.RawMessage `json:"x_clearbar_simulation,omitempty"`
		LatencyMS  float64         `json:"x_clearbar_latency_ms,omitempty"`
	}
	choiceJSON struct {
		Index        int           `json:"index"`
		Message      messageJSON   `json:"message"`
		Logprobs     *logprobsJSON `json:"logprobs"`
		FinishReason string        `json:"finish_reason"`
	}
	messageJSON struct {
		Role      string         `json:"role"`
		Content   *string        `json:"content"`
		Refusal   *string        `json:"refusal"`
		ToolCalls []toolCallJSON `json:"tool_calls,omitempty"`
		// FunctionCall is a call in the deprecated form (Answer.Functions).
		FunctionCall *functionJSON `json:"function_call,omitempty"`
	}
	toolCallJSON struct {
		// Index is set in stream deltas only.
		Index    *int         `json:"index,omitempty"`
		ID       string       `json:"id,omitempty"`
		Type     string       `json:"type,omitempty"`
		Function functionJSON `json:"function"`
	}
	functionJSON struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	}
	usageJSON struct {
		PromptTokens            int                  `json:"prompt_tokens"`
		CompletionTokens        int                  `json:"completion_tokens"`
		TotalTokens             int                  `json:"total_tokens"`
		PromptTokensDetails     *promptDetailsJSON   `json:"prompt_tokens_details,omitempty"`
		CompletionTokensDetails *completionDetailsJS `json:"completion_tokens_details,omitempty"`
	}
	promptDetailsJSON struct {
		CachedTokens int `json:"cached_tokens"`
	}
	completionDetailsJS struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	}
	chunkJSON struct {
		ID      string            `json:"id"`
		Object  string            `json:"object"`
		Created int64             `json:"created"`
		Model   string            `json:"model"`
		Choices []chunkChoiceJSON `json:"choices"`
		Usage   *usageJSON        `json:"usage"`
		// Simulation is set on the chunks with a finish_reason and on the final usage chunk
		// of a simulated stream.
		Simulation json.RawMessage `json:"x_clearbar_simulation,omitempty"`
	}
	chunkChoiceJSON struct {
		Index        int           `json:"index"`
		Delta        deltaJSON     `json:"delta"`
		Logprobs     *logprobsJSON `json:"logprobs"`
		FinishReason *string       `json:"finish_reason"`
	}
	logprobsJSON struct {
		Content []tokenJSON `json:"content"`
		Refusal []tokenJSON `json:"refusal"`
	}
	tokenJSON struct {
		Token       string    `json:"token"`
		Logprob     float64   `json:"logprob"`
		Bytes       []int     `json:"bytes"`
		TopLogprobs []altJSON `json:"top_logprobs"`
	}
	altJSON struct {
		Token   string  `json:"token"`
		Logprob float64 `json:"logprob"`
		Bytes   []int   `json:"bytes"`
	}
	deltaJSON struct {
		Role         string         `json:"role,omitempty"`
		Content      *string        `json:"content,omitempty"`
		Refusal      *string        `json:"refusal,omitempty"`
		ToolCalls    []toolCallJSON `json:"tool_calls,omitempty"`
		FunctionCall *functionJSON  `json:"function_call,omitempty"`
	}
)

func newUsageJSON(u clearbar.Usage) *usageJSON {
	j := &usageJSON{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.Total()}
	if u.CachedTokens > 0 {
		j.PromptTokensDetails = &promptDetailsJSON{CachedTokens: u.CachedTokens}
	}
	if u.ReasoningTokens > 0 {
		j.CompletionTokensDetails = &completionDetailsJS{ReasoningTokens: u.ReasoningTokens}
	}
	return j
}

func ptrOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// NewCompletion renders an answer as a clearbar.Response whose Body is an OpenAI
// chat.completion document. It is safe for concurrent use.
func NewCompletion(a Answer) (*clearbar.Response, error) {
	a = a.withDefaults()
	body := completionJSON{
		ID: a.ID, Object: "chat.completion", Created: a.Created, Model: a.Model,
		Choices:    make([]choiceJSON, len(a.Choices)),
		Usage:      newUsageJSON(a.Usage),
		Simulation: simulationJSON(a.Simulation),
		LatencyMS:  a.LatencyMS,
	}
	for i, c := range a.Choices {
		m := messageJSON{Role: "assistant", Refusal: ptrOrNil(c.Refusal)}
		if len(c.ToolCalls) == 0 {
			text := c.Text
			m.Content = &text
		}
		switch {
		case a.Functions && len(c.ToolCalls) > 0:
			m.FunctionCall = &functionJSON{Name: c.ToolCalls[0].Name, Arguments: c.ToolCalls[0].Arguments}
		default:
			for _, tc := range c.ToolCalls {
				m.ToolCalls = append(m.ToolCalls, toolCallJSON{
					ID: tc.ID, Type: "function", Function: functionJSON{Name: tc.Name, Arguments: tc.Arguments},
				})
			}
		}
		body.Choices[i] = choiceJSON{Index: i, Message: m, FinishReason: c.FinishReason}
		if a.Logprobs {
			body.Choices[i].Logprobs = &logprobsJSON{Content: tokenLogprobs(c.Text, a.TopLogprobs)}
		}
	}
	b, err := marshal(body)
	if err != nil {
		return nil, &clearbar.Error{Class: clearbar.Internal, Message: "rendering a simulated answer failed", Err: err}
	}
	return &clearbar.Response{
		Body: b, ID: a.ID, Model: a.Model, Choices: a.Choices, Usage: a.Usage, HasUsage: true,
	}, nil
}

// tokenLogprobs returns the logprobs of a text's tokens, for an answer that asked for them:
// the text cut before each space (the simulator has no tokenizer), each token with a small
// log probability, its bytes and top alternatives, the token itself first, then stand-ins.
func tokenLogprobs(text string, top int) []tokenJSON {
	var out []tokenJSON
	for len(text) > 0 {
		n := strings.IndexByte(text[1:], ' ') + 1
		if n == 0 {
			n = len(text)
		}
		tok := tokenJSON{Token: text[:n], Logprob: -0.01, Bytes: byteInts(text[:n]), TopLogprobs: make([]altJSON, 0, top)}
		for j := range top {
			alt := altJSON{Token: tok.Token, Logprob: tok.Logprob, Bytes: tok.Bytes}
			if j > 0 {
				alt.Token = fmt.Sprintf("<alt%d>", j)
				alt.Logprob, alt.Bytes = -5-float64(j), byteInts(alt.Token)
			}
			tok.TopLogprobs = append(tok.TopLogprobs, alt)
		}
		out = append(out, tok)
		text = text[n:]
	}
	return out
}

// byteInts returns the bytes of s as numbers, as logprobs report them.
func byteInts(s string) []int {
	b := make([]int, len(s))
	for i := range len(s) {
		b[i] = int(s[i])
	}
	return b
}

// marshal is json.Marshal without HTML escaping and without the trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// StreamConfig paces and breaks a stream made by NewChunkStream. The zero value sends every
// chunk at once.
type StreamConfig struct {
	// TTFT is the wait before the first chunk. Generation is spread evenly over the chunks
	// after the first content chunk, up to the finish chunk; the usage chunk follows the finish
	// chunk at once. Each chunk is due at its time counted from the first call to Next, as a
	// model generates its answer whatever its reader does: a reader that takes a while over a
	// chunk, or a timer that fires late, does not delay the chunks after it, which a late reader
	// gets at once, as from a connection's buffer.
	TTFT, Generation time.Duration
	// TTFTTimeout, when set and shorter than TTFT, ends the stream after TTFTTimeout with a
	// Timeout error instead of the first chunk (clearbar.Call.TTFTTimeout).
	TTFTTimeout time.Duration
	// Cut ends the stream with a StreamCut error part-way: after the fraction CutAt (0..1) of
	// the chunks that come before the first finish chunk, and after at least one chunk. The
	// cut comes when the next chunk would have, and no finish or usage chunk is sent.
	Cut   bool
	CutAt float64
	// Provider names the provider in errors.
	Provider string
	// RequestID is the stream's UpstreamRequestID (a replayed answer's table and row); ""
	// for none.
	RequestID string
	// UsageEstimated and RecordedCost are what a replayed answer's Response says of its usage
	// (clearbar.Response.UsageEstimated, RecordedCost), which the stream reports by
	// RecordedUsage.
	UsageEstimated bool
	RecordedCost   clearbar.Money
}

// NewChunkStream returns a stream that sends an answer as OpenAI chat.completion.chunk
// events, paced by cfg, honouring ctx: when ctx ends, Next stops waiting and Err returns an
// error of class Canceled (or Timeout for a deadline).
//
// Each choice is sent as a role chunk, its content (or refusal) in a few pieces split at
// spaces where possible — or, for tool calls, a chunk with each call's id and name followed by
// its arguments in pieces (with Answer.Functions, the one call as delta.function_call: its name
// with empty arguments, then the arguments in pieces) — and a finish chunk. A final usage chunk with "choices": [] always
// ends the stream: the gateway decides whether the client gets it. Every chunk has the same id,
// created time and model; "usage" is null except in the last chunk.
//
// The stream starts no goroutines. Close may be called from any goroutine, at any time: a Next
// waiting for its chunk then returns false, and Err stays nil.
func NewChunkStream(ctx context.Context, a Answer, cfg StreamConfig) clearbar.Stream {
	a = a.withDefaults()
	s := &chunkStream{
		ctx:        ctx,
		done:       make(chan struct{}),
		cfg:        cfg,
		model:      a.Model,
		functions:  a.Functions,
		logprobs:   a.Logprobs,
		top:        a.TopLogprobs,
		usage:      a.Usage,
		simulation: simulationJSON(a.Simulation),
		events:     planChunks(a),
		cutAfter:   -1,
		base: chunkJSON{
			ID: a.ID, Object: "chat.completion.chunk", Created: a.Created, Model: a.Model,
			Choices: make([]chunkChoiceJSON, 0, 1),
		},
	}
	s.enc = json.NewEncoder(&s.buf)
	s.enc.SetEscapeHTML(false)
	s.pace()
	if cfg.Cut {
		s.cutAfter = cutPoint(s.events, cfg.CutAt)
	}
	return s
}

type eventKind uint8

const (
	evRole eventKind = iota
	evContent
	evRefusal
	evToolStart
	evToolArgs
	evFinish
	evUsage
)

// event is one chunk to send.
type event struct {
	kind   eventKind
	choice int
	// text is the content, refusal or arguments piece, or the finish reason.
	text string
	// tool indexes the choice's tool calls; call is set for evToolStart.
	tool int
	call *clearbar.ToolCall
	// content marks a role event whose choice answers in text: its delta carries
	// "content": "", as OpenAI's first chunk does.
	content bool
	delay   time.Duration
}

func planChunks(a Answer) []event {
	var evs []event
	for i := range a.Choices {
		c := &a.Choices[i]
		text := len(c.ToolCalls) == 0
		evs = append(evs, event{kind: evRole, choice: i, content: text})
		if text {
			for _, p := range splitText(c.Text) {
				evs = append(evs, event{kind: evContent, choice: i, text: p})
			}
		}
		if c.Refusal != "" {
			evs = append(evs, event{kind: evRefusal, choice: i, text: c.Refusal})
		}
		for k := range c.ToolCalls {
			tc := &c.ToolCalls[k]
			evs = append(evs, event{kind: evToolStart, choice: i, tool: k, call: tc})
			for _, p := range splitText(tc.Arguments) {
				evs = append(evs, event{kind: evToolArgs, choice: i, tool: k, text: p})
			}
		}
		evs = append(evs, event{kind: evFinish, choice: i, text: c.FinishReason})
	}
	return append(evs, event{kind: evUsage})
}

// pace sets each event's delay: TTFT before the first chunk, nothing before the first content
// chunk, Generation spread over the chunks after that up to the last finish chunk.
func (s *chunkStream) pace() {
	evs := s.events
	if len(evs) == 0 {
		return
	}
	evs[0].delay = s.cfg.TTFT
	lo, hi := 2, len(evs)-1 // evs[hi] is the usage chunk
	if lo >= hi {
		lo = 1
	}
	if n := hi - lo; n > 0 && s.cfg.Generation > 0 {
		gap := s.cfg.Generation / time.Duration(n)
		for i := lo; i < hi; i++ {
			evs[i].delay = gap
		}
		evs[hi-1].delay += s.cfg.Generation - gap*time.Duration(n) // the rounding remainder
	}
}

// cutPoint returns the index of the chunk a cut stream stops before.
func cutPoint(evs []event, at float64) int {
	finish := len(evs) - 1
	for i, e := range evs {
		if e.kind == evFinish {
			finish = i
			break
		}
	}
	at = min(max(at, 0), 1)
	n := 1 + int(at*float64(finish-1))
	return min(max(n, 1), max(finish, 1))
}

// UpstreamRequestID returns StreamConfig.RequestID, which the gateway records on the attempt
// as it records a complete answer's.
func (s *chunkStream) UpstreamRequestID() string { return s.cfg.RequestID }

// RecordedUsage returns StreamConfig.UsageEstimated and RecordedCost: whether the usage the
// stream reports is an estimate, and what the answer cost when it was recorded (0 when
// unknown), which the gateway records as a complete answer's.
func (s *chunkStream) RecordedUsage() (estimated bool, cost clearbar.Money) {
	return s.cfg.UsageEstimated, s.cfg.RecordedCost
}

type chunkStream struct {
	ctx       context.Context
	done      chan struct{}
	closeOnce sync.Once
	cfg       StreamConfig
	model     string
	functions bool // calls go in the deprecated form (Answer.Functions)
	// logprobs and top are Answer.Logprobs and TopLogprobs.
	logprobs bool
	top      int
	usage    clearbar.Usage
	// simulation is the answer's ground truth, rendered in the final usage chunk.
	simulation json.RawMessage
	events     []event
	next       int
	cutAfter   int
	// due is when the last chunk sent was due; zero before the first call to Next.
	due time.Time

	base  chunkJSON
	buf   bytes.Buffer
	enc   *json.Encoder
	chunk clearbar.Chunk
	err   error
}

var errClosed = errors.New("stream closed")

func (s *chunkStream) Next() bool {
	if s.err != nil || s.next >= len(s.events) {
		return false
	}
	ev := &s.events[s.next]
	if s.next == 0 && s.cfg.TTFTTimeout > 0 && ev.delay > s.cfg.TTFTTimeout {
		if err := wait(s.ctx, s.done, s.cfg.TTFTTimeout); err != nil {
			return s.fail(err)
		}
		s.err = &clearbar.Error{
			Class: clearbar.Timeout, Provider: s.cfg.Provider, Model: s.model,
			Message: fmt.Sprintf("no first chunk within the time-to-first-token timeout (%s)", s.cfg.TTFTTimeout),
		}
		return false
	}
	now := time.Now()
	if s.due.IsZero() {
		s.due = now
	}
	s.due = s.due.Add(ev.delay)
	if err := wait(s.ctx, s.done, s.due.Sub(now)); err != nil {
		return s.fail(err)
	}
	if s.next == s.cutAfter {
		s.err = &clearbar.Error{
			Class: clearbar.StreamCut, Provider: s.cfg.Provider, Model: s.model,
			Message: fmt.Sprintf("simulated stream cut after %d chunks", s.next),
		}
		return false
	}
	if err := s.render(ev); err != nil {
		s.err = &clearbar.Error{Class: clearbar.Internal, Message: "rendering a simulated chunk failed", Err: err}
		return false
	}
	s.next++
	return true
}

// fail records why a wait ended: nothing for Close, a Canceled or Timeout error for ctx.
func (s *chunkStream) fail(err error) bool {
	if errors.Is(err, errClosed) {
		s.next = len(s.events)
		return false
	}
	s.err = ctxError(err, s.cfg.Provider, s.model)
	return false
}

func (s *chunkStream) render(ev *event) error {
	c := s.base
	s.chunk = clearbar.Chunk{}
	if ev.kind == evUsage {
		c.Choices = c.Choices[:0]
		c.Usage = newUsageJSON(s.usage)
		c.Simulation = s.simulation
		u := s.usage
		s.chunk.Usage = &u
	} else {
		ch := chunkChoiceJSON{Index: ev.choice}
		// Chunk.Text and FinishReason are the first choice's, as the openai adapter reads
		// them: a validated stream's answer is that choice, as an unstreamed one's is.
		first := ev.choice == 0
		switch ev.kind {
		case evRole:
			ch.Delta.Role = "assistant"
			if ev.content {
				empty := ""
				ch.Delta.Content = &empty
			}
		case evContent:
			ch.Delta.Content = &ev.text
			if s.logprobs {
				ch.Logprobs = &logprobsJSON{Content: tokenLogprobs(ev.text, s.top)}
			}
			if first {
				s.chunk.Text = ev.text
			}
		case evRefusal:
			ch.Delta.Refusal = &ev.text
		case evToolStart:
			idx := ev.tool
			if s.functions {
				ch.Delta.FunctionCall = &functionJSON{Name: ev.call.Name}
				break
			}
			ch.Delta.ToolCalls = []toolCallJSON{{Index: &idx, ID: ev.call.ID, Type: "function", Function: functionJSON{Name: ev.call.Name}}}
		case evToolArgs:
			idx := ev.tool
			if s.functions {
				ch.Delta.FunctionCall = &functionJSON{Arguments: ev.text}
				break
			}
			ch.Delta.ToolCalls = []toolCallJSON{{Index: &idx, Function: functionJSON{Arguments: ev.text}}}
		case evFinish:
			ch.FinishReason = &ev.text
			if first {
				s.chunk.FinishReason = ev.text
			}
			// On the chunk that finishes the answer too: a client that did not ask for usage
			// gets no usage chunk.
			c.Simulation = s.simulation
		}
		c.Choices = append(c.Choices[:0], ch)
	}
	s.buf.Reset()
	if err := s.enc.Encode(&c); err != nil {
		return err
	}
	s.chunk.Data = bytes.TrimSuffix(s.buf.Bytes(), []byte("\n"))
	return nil
}

func (s *chunkStream) Chunk() *clearbar.Chunk { return &s.chunk }
func (s *chunkStream) Err() error             { return s.err }

func (s *chunkStream) Close() error {
	s.closeOnce.Do(func() { close(s.done) })
	return nil
}

// wait sleeps for d, returning early with ctx's error when ctx ends or errClosed when done is
// closed. A zero or negative d still reports an ended ctx.
func wait(ctx context.Context, done <-chan struct{}, d time.Duration) error {
	if d <= 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			return errClosed
		default:
			return nil
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-done:
		return errClosed
	}
}

// ctxError classifies the error of an ended context: Canceled when the client went away,
// Timeout when a deadline passed.
func ctxError(err error, provider, model string) *clearbar.Error {
	class := clearbar.ClassOf(err)
	msg := "the call was canceled"
	if class == clearbar.Timeout {
		msg = "the call's deadline passed"
	}
	return &clearbar.Error{Class: class, Provider: provider, Model: model, Message: msg, Err: err}
}

// splitText cuts s into pieces that concatenate to s, about one per 24 bytes and at most 16,
// cutting after a space where one is near and never inside a UTF-8 sequence. "" has no pieces.
func splitText(s string) []string {
	if s == "" {
		return nil
	}
	n := min(max((len(s)+23)/24, 1), 16)
	pieces := make([]string, 0, n)
	start := 0
	for k := 1; k < n; k++ {
		cut := k * len(s) / n
		for j := cut; j < len(s) && j < cut+8; j++ {
			if s[j] == ' ' {
				cut = j + 1
				break
			}
		}
		for cut < len(s) && !utf8.RuneStart(s[cut]) {
			cut++
		}
		if cut <= start || cut >= len(s) {
			continue
		}
		pieces = append(pieces, s[start:cut])
		start = cut
	}
	return append(pieces, s[start:])
}

// LatencyOf returns the simulated latency a simulated answer's body reports, before any time
// scale, and whether it reports one.
func LatencyOf(resp *clearbar.Response) (time.Duration, bool) {
	var body struct {
		LatencyMS float64 `json:"x_clearbar_latency_ms"`
	}
	if resp == nil || len(resp.Body) == 0 || json.Unmarshal(resp.Body, &body) != nil || body.LatencyMS <= 0 {
		return 0, false
	}
	return time.Duration(body.LatencyMS * float64(time.Millisecond)), true
}
