// Package replay is a provider that answers with what real models answered: it serves the
// responses recorded in an outcomes table (see package outcomes), so that routing, cascades
// and validators can be tried on real answers without keys, network or cost.
//
// A table is JSON Lines, or CSV when its name ends in .csv (as outcomes.ReadFile reads them),
// either gzip-compressed or not.
//
// A call is matched on its prompt — the text of the request's last user message, hashed with
// outcomes.HashPrompt, exactly, without normalisation — and its model: the spec model's name
// when the call names one (clearbar.Call.SpecModel) and the table has an answer under it,
// else the model id. Earlier messages,
// the system prompt, tools and response formats play no part: benchmark tables record
// single-turn prompts. A call the table has no answer to fails with a 404 that says why, and,
// when the table records the prompt with other white space, gives that prompt's hash. Rows
// that name their prompt by the gateway's fingerprint of the messages (a trace export) match
// no call. A replayed answer names the table and the row's item as its upstream request id,
// which decision records keep. A benchmark file (RouterBench, RouteLLM) is converted to a
// table first with outcomes.ImportRouterBench or outcomes.ImportRouteLLM.
package replay

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/simulated"
)

// Provider replays recorded answers. It holds the table in memory, without the prompt texts
// (about the size of the responses). It is safe for concurrent use.
type Provider struct {
	name   string
	file   string
	rows   map[key]*answer
	models map[string]bool
	// spaced maps the hash of a recorded prompt's words (see wordsHash) to the prompt's hash,
	// for rows that record their prompt, so that a miss can say the table has the prompt
	// with other white space.
	spaced map[uint64]string
	seed   maphash.Seed
	// scale multiplies recorded latencies; 0 means answer at once.
	scale float64

	mu    sync.Mutex
	calls map[string]int
}

type key struct{ hash, model string }

// maxChoices is OpenAI's limit on n.
const maxChoices = 128

// answer is the part of a row a replay needs.
type answer struct {
	response  string
	toolCalls []clearbar.ToolCall
	// usage is the row's recorded tokens, cached and reasoning ones included; a count the
	// row does not record is 0. estimated says the row's counts are themselves estimates (its
	// tokens_estimated).
	usage     clearbar.Usage
	estimated bool
	// cost is the row's recorded cost of the call; 0 when it records none.
	cost      clearbar.Money
	latencyMS float64
	fail      clearbar.FailureClass
	// item is the row's item, or its prompt hash when it names none (byHash): what
	// Provider.source names the row by.
	item   string
	byHash bool
}

// New loads the outcomes table named by the provider's outcomes: setting, relative to the
// spec file's directory (JSON Lines, or CSV for a name ending in .csv; gzip-compressed or
// not). When the table records a prompt and model more than once, the first row wins.
//
// Latency: a replay answers at once, because recorded latencies reflect the network and load
// of the recording, and replays are for quality. A provider that has simulate settings (with
// time_scale, zero meaning 1) waits each row's latency_ms times the scale instead; rows
// without a latency answer at once either way. Either way, an answer whose row records a
// latency reports it in the body as "x_clearbar_latency_ms", as the simulated provider
// reports its own (simulated.LatencyOf), so that a caller (clearbar eval) can record the
// model's latency rather than the time the replay took.
func New(cfg provider.Config) (clearbar.Provider, error) {
	if cfg.Provider == nil {
		return nil, fmt.Errorf("replay: no provider settings")
	}
	if cfg.Provider.Outcomes == "" {
		return nil, fmt.Errorf("replay needs an outcomes file: set outcomes: to a table of recorded answers (JSON Lines or CSV)")
	}
	path := cfg.Provider.Outcomes
	if !filepath.IsAbs(path) && cfg.Spec != nil && cfg.Spec.File != "" {
		path = filepath.Join(filepath.Dir(cfg.Spec.File), path)
	}
	p := &Provider{
		name:   cfg.Provider.Name,
		file:   path,
		rows:   map[key]*answer{},
		models: map[string]bool{},
		spaced: map[uint64]string{},
		seed:   maphash.MakeSeed(),
		calls:  map[string]int{},
	}
	if sim := cfg.Provider.Simulate; sim != nil {
		p.scale = sim.TimeScale
		if p.scale == 0 {
			p.scale = 1
		}
		if p.scale < 0 {
			return nil, fmt.Errorf("simulate.time_scale %v cannot be negative", p.scale)
		}
	}
	if err := p.load(path); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Provider) load(path string) error {
	fingerprinted := 0        // rows no call can match
	seen := map[string]bool{} // prompt hashes in spaced
	err := outcomes.ReadFile(path, func(row outcomes.Row) error {
		if len(row.PromptHash) != len(outcomes.HashPrompt("")) {
			// A trace export's rows carry the gateway's 16-digit fingerprint of the
			// messages, which the hash of no call's last user message equals.
			fingerprinted++
			return nil
		}
		k := key{row.PromptHash, row.Model}
		if _, dup := p.rows[k]; dup {
			return nil
		}
		a := &answer{response: row.Response, toolCalls: row.AnswerToolCalls(), usage: row.Usage(), estimated: row.TokensEstimated,
			cost: row.Cost, latencyMS: row.LatencyMS, item: row.Item}
		if a.item == "" {
			a.item, a.byHash = row.PromptHash, true
		}
		if row.Error != "" {
			// The reader checked that the name is a failure class.
			if err := a.fail.UnmarshalText([]byte(row.Error)); err != nil {
				return fmt.Errorf("%s: item %q: %w", path, row.Item, err)
			}
		}
		p.rows[k] = a
		p.models[row.Model] = true
		if row.Prompt != "" && !seen[row.PromptHash] {
			seen[row.PromptHash] = true
			p.spaced[p.wordsHash(row.Prompt)] = row.PromptHash
		}
		return nil
	})
	if _, ok := errors.AsType[*fs.PathError](err); ok {
		return fmt.Errorf("outcomes file: %w", err)
	}
	if err != nil {
		return err
	}
	if len(p.rows) == 0 && fingerprinted > 0 {
		return fmt.Errorf("%s: none of its %d rows can be replayed: they name prompts by the gateway's fingerprint of the messages (a trace export), not by the hash of the last user message a replay matches on; replay the answers of an eval run (clearbar eval --out) or of an imported benchmark (clearbar outcomes import)", path, fingerprinted)
	}
	if len(p.rows) == 0 {
		return fmt.Errorf("%s: the outcomes table has no rows", path)
	}
	return nil
}

// source names the row an answer is replayed from, like "rb.jsonl item
// arc-challenge.test.1108" (by its prompt hash when it names no item). A replayed answer
// reports "replay " and it as its upstream request id, and a replayed failure says it in its
// message, so that the decision record of a call answered from a table says which recorded
// answer it was given.
func (p *Provider) source(a *answer) string {
	if a.byHash {
		return filepath.Base(p.file) + " prompt " + a.item
	}
	return filepath.Base(p.file) + " item " + a.item
}

// Name returns the provider's name in the spec.
func (p *Provider) Name() string { return p.name }

// Calls returns how many calls the provider has received for a model id, answered or not.
func (p *Provider) Calls(model string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[model]
}

// Len returns the number of recorded (prompt, model) answers.
func (p *Provider) Len() int { return len(p.rows) }

// lookup finds the recorded answer to a call, under the spec model's name (when the call
// names one) or else the model id: a 404 ClientError when there is none.
func (p *Provider) lookup(call *clearbar.Call) (*answer, *clearbar.Request, error) {
	p.mu.Lock()
	p.calls[call.Model]++
	p.mu.Unlock()
	req := call.Request
	if req == nil {
		req = &clearbar.Request{}
	}
	if req.N > maxChoices {
		e := clearbar.Errorf(clearbar.ClientError, "n is %d; at most %d choices can be asked for", req.N, maxChoices)
		e.Status, e.Provider, e.Model = 400, p.name, call.Model
		return nil, nil, e
	}
	text := req.LastUserText()
	hash := outcomes.HashPrompt(text)
	names := []string{call.Model}
	if call.SpecModel != "" && call.SpecModel != call.Model {
		names = []string{call.SpecModel, call.Model}
	}
	for _, name := range names {
		if a, ok := p.rows[key{hash, name}]; ok {
			return a, req, nil
		}
	}
	e := &clearbar.Error{Class: clearbar.ClientError, Status: 404, Type: "invalid_request_error", Provider: p.name, Model: call.Model}
	named := fmt.Sprintf("%q", call.Model)
	if len(names) > 1 {
		named = fmt.Sprintf("%q (model %q)", call.SpecModel, call.Model)
	}
	recorded := slices.ContainsFunc(names, func(n string) bool { return p.models[n] })
	if !recorded {
		e.Code = "model_not_found"
		e.Message = fmt.Sprintf("model %s not found: the outcomes table %s records no answers from it; it records answers from %s", named, filepath.Base(p.file), p.modelNames())
		return nil, nil, e
	}
	e.Code = "no_recorded_answer"
	e.Message = fmt.Sprintf("no recorded answer for this prompt from model %s (prompt hash %s; replay matches the last user message exactly)", named, hash)
	if h, ok := p.spaced[p.wordsHash(text)]; ok && slices.ContainsFunc(names, func(n string) bool { return p.rows[key{h, n}] != nil }) {
		e.Message += fmt.Sprintf(": the table records its answer to a prompt that differs from this one only in white space (prompt hash %s)", h)
	}
	return nil, nil, e
}

// modelNames lists the models the table records answers from, in order, the first few of
// many.
func (p *Provider) modelNames() string {
	const most = 12
	names := slices.Sorted(maps.Keys(p.models))
	if len(names) > most {
		return fmt.Sprintf("%d models: %s, …", len(names), strings.Join(names[:most], ", "))
	}
	return strings.Join(names, ", ")
}

// wordsHash hashes a prompt's words, apart from the white space between and around them:
// prompts that differ only in white space (its amount, its kind, at the ends) have the same.
func (p *Provider) wordsHash(prompt string) uint64 {
	var h maphash.Hash
	h.SetSeed(p.seed)
	for w := range strings.FieldsSeq(prompt) {
		h.WriteString(w)
		h.WriteByte(' ')
	}
	return h.Sum64()
}

// failure returns the recorded failure as an error of its class, with a representative status.
func (p *Provider) failure(a *answer, model string) error {
	return &clearbar.Error{
		Class: a.fail, Status: statusFor(a.fail), Provider: p.name, Model: model,
		Message: fmt.Sprintf("recorded failure (%s) replayed from %s", a.fail, p.source(a)),
	}
}

// statusFor is the HTTP status an upstream typically sends for a failure class, or 0.
func statusFor(c clearbar.FailureClass) int {
	switch c {
	case clearbar.ClientError, clearbar.ContextTooLong, clearbar.ContentPolicy:
		return 400
	case clearbar.Auth:
		return 401
	case clearbar.RateLimited:
		return 429
	case clearbar.Overloaded:
		return 503
	case clearbar.Timeout:
		return 504
	case clearbar.BadResponse:
		return 502
	}
	return 0
}

// latency returns the wait for an answer: its recorded latency times the scale.
func (p *Provider) latency(a *answer) time.Duration {
	d := a.latencyMS * p.scale * float64(time.Millisecond)
	if !(d > 0) || d > float64(1<<62) {
		return 0
	}
	return time.Duration(d)
}

func (p *Provider) answerFor(a *answer, req *clearbar.Request, model string) simulated.Answer {
	n := max(req.N, 1)
	choices := make([]clearbar.Choice, n)
	for i := range choices {
		choices[i] = clearbar.Choice{Text: a.response}
		if len(a.toolCalls) > 0 {
			choices[i].ToolCalls, choices[i].FinishReason = a.toolCalls, "tool_calls"
		}
	}
	u, _, _ := usageFor(a, req)
	return simulated.Answer{Model: model, Choices: choices, Functions: req.Functions, Usage: u, LatencyMS: a.latencyMS}
}

// usageFor returns the usage of the answer to req (n choices of the recorded one, as the
// simulated provider counts them: the prompt once, the completion n times), whether any of its
// counts is an estimate, and the recorded cost of such a call (0 when the row records none).
// A count the row does not record is estimated as the simulated provider estimates it. The
// recorded cost is the row's for one choice; for n, its share of the completion tokens among
// the call's tokens counts n times, since the row does not say how the cost splits between
// prompt and completion.
func usageFor(a *answer, req *clearbar.Request) (u clearbar.Usage, estimated bool, cost clearbar.Money) {
	n := max(req.N, 1)
	u, estimated = a.usage, a.estimated
	if u.PromptTokens == 0 {
		u.PromptTokens, estimated = simulated.PromptTokens(req), true
	}
	if u.CompletionTokens == 0 {
		u.CompletionTokens = simulated.EstimateTokens(a.response)
		for _, tc := range a.toolCalls {
			u.CompletionTokens += simulated.EstimateTokens(tc.Name + tc.Arguments)
		}
		estimated = estimated || u.CompletionTokens > 0
	}
	cost = a.cost
	if total := u.Total(); n > 1 && total > 0 {
		cost = a.cost.Scale(float64(u.PromptTokens+n*u.CompletionTokens) / float64(total))
	}
	u.CompletionTokens *= n
	u.ReasoningTokens *= n
	return u, estimated, cost
}

// Complete answers with the recorded response (or fails with the recorded failure), after the
// recorded latency when the provider is set to wait (see New). Token counts are the recorded
// ones (cached and reasoning tokens too), or estimated as the simulated provider does when the
// table has none, which the response says (UsageEstimated); a row's recorded cost is the
// response's RecordedCost (see usageFor for n choices); the recorded latency, when the row has
// one, is reported as "x_clearbar_latency_ms", and the row as the response's
// UpstreamRequestID ("replay rb.jsonl item ID"). When ctx ends during the wait, the error is
// of class Canceled, or Timeout for a deadline.
func (p *Provider) Complete(ctx context.Context, call *clearbar.Call) (*clearbar.Response, error) {
	a, req, err := p.lookup(call)
	if err != nil {
		return nil, err
	}
	if err := sleep(ctx, p.latency(a)); err != nil {
		return nil, p.ctxError(err, call.Model)
	}
	if a.fail != clearbar.OK {
		return nil, p.failure(a, call.Model)
	}
	resp, err := simulated.NewCompletion(p.answerFor(a, req, call.Model))
	if err != nil {
		return nil, err
	}
	_, resp.UsageEstimated, resp.RecordedCost = usageFor(a, req)
	resp.UpstreamRequestID = "replay " + p.source(a)
	return resp, nil
}

// Stream answers with the recorded response as a stream of chunks, shaped as the simulated
// provider's. A recorded failure is returned by Stream itself. When the provider waits, the
// first chunk comes after simulated.TTFTShare of the recorded latency and the rest are spread
// over the remainder; call.TTFTTimeout applies.
func (p *Provider) Stream(ctx context.Context, call *clearbar.Call) (clearbar.Stream, error) {
	a, req, err := p.lookup(call)
	if err != nil {
		return nil, err
	}
	total := p.latency(a)
	ttft := time.Duration(float64(total) * simulated.TTFTShare)
	if a.fail != clearbar.OK {
		if err := sleep(ctx, total); err != nil {
			return nil, p.ctxError(err, call.Model)
		}
		return nil, p.failure(a, call.Model)
	}
	if err := ctx.Err(); err != nil {
		return nil, p.ctxError(err, call.Model)
	}
	_, estimated, cost := usageFor(a, req)
	return simulated.NewChunkStream(ctx, p.answerFor(a, req, call.Model), simulated.StreamConfig{
		TTFT: ttft, Generation: total - ttft, TTFTTimeout: call.TTFTTimeout, Provider: p.name,
		RequestID: "replay " + p.source(a), UsageEstimated: estimated, RecordedCost: cost,
	}), nil
}

func (p *Provider) ctxError(err error, model string) error {
	class := clearbar.ClassOf(err)
	msg := "the call was canceled"
	if class == clearbar.Timeout {
		msg = "the call's deadline passed"
	}
	return &clearbar.Error{Class: class, Provider: p.name, Model: model, Message: msg, Err: err}
}

// sleep waits for d or until ctx ends, whichever is first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var (
	_ clearbar.Provider    = (*Provider)(nil)
	_ provider.Constructor = New
)
