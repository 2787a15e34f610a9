package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/clearbar/clearbar"
)

// fakeProvider answers from a script of per-model behaviours, in the manner of WTF Dial's
// function-field mocks.
type fakeProvider struct {
	name string
	mu   sync.Mutex
	// behave returns the error for the nth call (from 1) to a model, or nil to answer.
	behave func(model string, n int) error
	calls  map[string]int
	// chunks is how many content chunks a stream sends; cutAfter > 0 cuts it after that many.
	chunks, cutAfter int
	delay            time.Duration
	seenCtx          []context.Context
}

func newFake(name string) *fakeProvider {
	return &fakeProvider{name: name, calls: map[string]int{}, chunks: 3}
}

func (f *fakeProvider) Name() string { return f.name }

func (f *fakeProvider) count(model string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[model]++
	return f.calls[model]
}

func (f *fakeProvider) Calls(model string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[model]
}

func (f *fakeProvider) Complete(ctx context.Context, call *clearbar.Call) (*clearbar.Response, error) {
	n := f.count(call.Model)
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, &clearbar.Error{Class: clearbar.Canceled, Err: ctx.Err()}
		}
	}
	if f.behave != nil {
		if err := f.behave(call.Model, n); err != nil {
			return nil, err
		}
	}
	text := fmt.Sprintf("answer from %s", call.Model)
	body, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-" + call.Model, "object": "chat.completion", "created": 1, "model": call.Model,
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "stop", "logprobs": nil}},
		"usage":   map[string]any{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
	})
	return &clearbar.Response{Body: body, ID: "chatcmpl-" + call.Model, Model: call.Model,
		Choices: []clearbar.Choice{{Text: text, FinishReason: "stop"}}, Usage: clearbar.Usage{PromptTokens: 10, CompletionTokens: 5}, HasUsage: true}, nil
}

func (f *fakeProvider) Stream(ctx context.Context, call *clearbar.Call) (clearbar.Stream, error) {
	n := f.count(call.Model)
	f.mu.Lock()
	f.seenCtx = append(f.seenCtx, ctx)
	f.mu.Unlock()
	if f.behave != nil {
		if err := f.behave(call.Model, n); err != nil {
			return nil, err
		}
	}
	return &fakeStream{ctx: ctx, model: call.Model, total: f.chunks, cutAfter: f.cutAfter, delay: f.delay}, nil
}

type fakeStream struct {
	ctx       context.Context
	model     string
	i, total  int
	cutAfter  int
	delay     time.Duration
	cur       clearbar.Chunk
	err       error
	sentUsage bool
}

func (s *fakeStream) Next() bool {
	if s.err != nil {
		return false
	}
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-s.ctx.Done():
			s.err = &clearbar.Error{Class: clearbar.Canceled, Err: s.ctx.Err()}
			return false
		}
	}
	if s.cutAfter > 0 && s.i >= s.cutAfter {
		s.err = &clearbar.Error{Class: clearbar.StreamCut, Message: "upstream went away"}
		return false
	}
	if s.i < s.total {
		s.i++
		text := fmt.Sprintf("part%d ", s.i)
		data, _ := json.Marshal(map[string]any{"id": "chatcmpl-" + s.model, "object": "chat.completion.chunk", "created": 1, "model": s.model,
			"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": text}, "finish_reason": nil}}})
		s.cur = clearbar.Chunk{Data: data, Text: text}
		return true
	}
	if !s.sentUsage {
		s.sentUsage = true
		data, _ := json.Marshal(map[string]any{"id": "chatcmpl-" + s.model, "object": "chat.completion.chunk", "created": 1, "model": s.model,
			"choices": []any{}, "usage": map[string]any{"prompt_tokens": 10, "completion_tokens": s.total, "total_tokens": 10 + s.total}})
		s.cur = clearbar.Chunk{Data: data, Usage: &clearbar.Usage{PromptTokens: 10, CompletionTokens: s.total}}
		return true
	}
	return false
}

func (s *fakeStream) Chunk() *clearbar.Chunk { return &s.cur }
func (s *fakeStream) Err() error             { return s.err }
func (s *fakeStream) Close() error           { return nil }
