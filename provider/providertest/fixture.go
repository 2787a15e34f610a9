package providertest

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
)

// Fixture is one case of the suite: the call to make, the upstream answer to replay (recorded
// wire bytes) and what the adapter must make of it. Fixtures are files; see ParseFixture for the
// format.
type Fixture struct {
	// Name is the file name without its extension; File the path it was read from.
	Name, File string
	// Description is the file's comment lines, joined.
	Description string

	Call   CallSpec
	Replay ReplaySpec
	Expect Expect

	// Status, Header and Body are the upstream's answer, exactly as sent on the wire. Status is
	// 0 when the fixture sends no answer (Replay.Mode "reset").
	Status int
	Header http.Header
	Body   []byte
}

// CallSpec is the call the suite makes.
type CallSpec struct {
	// Stream selects Provider.Stream instead of Complete.
	Stream bool
	// Model is the call's model id; default "upstream-model".
	Model string
	// Body is the client's request body (OpenAI dialect, as every client request reaches an
	// adapter); default DefaultBody.
	Body []byte
	// TTFT is the call's TTFTTimeout.
	TTFT time.Duration
	// Timeout is a deadline on the caller's context; CancelAfter cancels the caller's context
	// after a delay, CancelAfterChunks after that many chunks of a stream.
	Timeout, CancelAfter time.Duration
	CancelAfterChunks    int
}

// ReplaySpec is how the fake upstream sends the answer.
type ReplaySpec struct {
	// Mode is "respond" (the default) or "reset": read the request, then reset the connection
	// without answering.
	Mode string
	// Delay is a pause after the status line and headers, before the body; Interval a pause
	// between the events of an event stream.
	Delay, Interval time.Duration
	// After is what follows the body: "end" (the default, a clean end of the response),
	// "hold" (keep the response open until the client goes away) or "reset" (reset the
	// connection, cutting the response).
	After string
}

// Expect is what the suite checks. Zero values are not checked, except Class (OK when unset).
type Expect struct {
	// Class is the failure class of the call (for a stream: of Stream, or of Err at the end).
	Class clearbar.FailureClass
	// Status, Type, Code and Param are the error's fields; Messages are substrings of its
	// message; RetryAfter its RetryAfter (HasRetryAfter says it is checked, so 0 can be).
	Status            int
	Type, Code, Param string
	Messages          []string
	RetryAfter        time.Duration
	HasRetryAfter     bool

	// Text is the answer's text: Response.Text, or a stream's chunk texts joined.
	Text    string
	HasText bool
	// ID and Model are the response's, or every chunk's "id" and "model".
	ID, Model string
	// Finish is the first choice's finish reason (a stream's last one).
	Finish string
	// Usage is the usage reported (once, for a stream); NoUsage says none may be.
	Usage   *clearbar.Usage
	NoUsage bool
	// ToolCalls are the first choice's calls as "id name arguments", in order; a stream's are
	// reassembled from the chunks' tool_calls deltas.
	ToolCalls []string
	// Chunks is the number of chunks a stream delivers (before its error, if it fails);
	// HasChunks says it is checked.
	Chunks    int
	HasChunks bool
	// UpstreamRequestID is Response.UpstreamRequestID.
	UpstreamRequestID string

	// UpstreamRequests is the number of requests the upstream gets; default 1.
	UpstreamRequests int
	// UpstreamCanceled says the upstream must see its request's context canceled (the client
	// went away).
	UpstreamCanceled bool
	// UpstreamMethod and UpstreamPath are those of the first upstream request.
	UpstreamMethod, UpstreamPath string
	// UpstreamHeaders are checks on its headers: "Name = value" or "Name !exists". "$KEY" in
	// a value stands for APIKey.
	UpstreamHeaders []string
	// UpstreamQuery are checks on its URL query parameters, in the same forms ("name =
	// value", "name !exists").
	UpstreamQuery []string
	// UpstreamJSON are checks on its body: "path == raw" (the value's bytes, exactly), "path
	// exists" or "path !exists", with gjson paths.
	UpstreamJSON []string
}

// fixtures holds the fixtures of every dialect, in testdata/<dialect>/.
//
//go:embed testdata
var fixtures embed.FS

// Fixtures returns the suite's fixtures for a dialect, from testdata/<dialect>/*.http in this
// package, in file-name order. It fails t on a fixture that does not parse or when there are
// none.
func Fixtures(t testing.TB, dialect string) []Fixture {
	t.Helper()
	out, err := Load(fixtures, path.Join("testdata", dialect))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("providertest: no fixtures for dialect %q", dialect)
	}
	return out
}

// Load reads every *.http fixture in dir of fsys, in file-name order, so that an adapter can
// keep extra fixtures of its own.
func Load(fsys fs.FS, dir string) ([]Fixture, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.http"))
	if err != nil {
		return nil, err
	}
	var out []Fixture
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		f, err := ParseFixture(name, data)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// ParseFixture parses a fixture file. The format is dialect-neutral: directives about the call,
// the replay and the expected result, then an HTTP response exactly as an upstream sends it.
//
//	# Comment lines describe the case (why it exists, where the shape comes from).
//	call.stream: true
//	expect.class: stream_cut
//	expect.message: error mid-stream
//
//	HTTP/1.1 200 OK
//	Content-Type: text/event-stream
//
//	data: {"id":"chatcmpl-1", …}
//
// Before the status line: blank lines, "#" comments, and "key: value" directives (keys below;
// unknown keys are errors; keys marked * may repeat). From the status line to the first blank
// line: the status line and headers, each line ending in LF. After it: the body, byte for byte
// to the end of the file, including any final newline and CR bytes. Content-Length and
// Transfer-Encoding headers are ignored; the replay server frames the body itself.
//
// Directives:
//
//	call.stream              true for Provider.Stream
//	call.model               the call's model id
//	call.body                the client's JSON body, on one line
//	call.ttft                the call's TTFTTimeout (a Go duration)
//	call.timeout             a deadline on the caller's context
//	call.cancel-after        cancel the caller's context after a duration
//	call.cancel-after-chunks cancel it after n chunks of a stream
//	replay.mode              respond | reset
//	replay.delay             pause between the headers and the body
//	replay.interval          pause between the events of an event stream
//	replay.after             end | hold | reset
//	expect.class             a failure class name (clearbar.FailureClass text), default ok
//	expect.status, expect.type, expect.code, expect.param, expect.retry-after
//	expect.message *         a substring of the error's message
//	expect.text, expect.id, expect.model, expect.finish, expect.chunks
//	expect.usage             prompt=N completion=N cached=N cache_write=N reasoning=N, or none
//	expect.tool-call *       id name arguments
//	expect.upstream-request-id
//	expect.upstream-requests, expect.upstream-canceled
//	expect.upstream.method, expect.upstream.path
//	expect.upstream.header * Name = value | Name !exists
//	expect.upstream.query *  name = value | name !exists
//	expect.upstream.json *   path == raw-json | path exists | path !exists
func ParseFixture(name string, data []byte) (Fixture, error) {
	f := Fixture{
		Name:   strings.TrimSuffix(path.Base(name), path.Ext(name)),
		File:   name,
		Call:   CallSpec{Model: "upstream-model", Body: []byte(DefaultBody)},
		Replay: ReplaySpec{Mode: "respond", After: "end"},
		Expect: Expect{UpstreamRequests: 1},
		Header: http.Header{},
	}
	var desc []string
	rest := data
	line, lineNo := "", 0
	for len(rest) > 0 {
		lineNo++
		var raw []byte
		raw, rest, _ = bytes.Cut(rest, []byte("\n"))
		line = strings.TrimRight(string(raw), "\r")
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			continue
		case strings.HasPrefix(trimmed, "#"):
			desc = append(desc, strings.TrimSpace(strings.TrimPrefix(trimmed, "#")))
			continue
		case strings.HasPrefix(trimmed, "HTTP/"):
			if err := f.parseResponse(line, rest); err != nil {
				return f, fmt.Errorf("%s:%d: %w", name, lineNo, err)
			}
			rest = nil
			continue
		}
		key, value, ok := strings.Cut(trimmed, ":")
		if !ok {
			return f, fmt.Errorf("%s:%d: %q is neither a directive (key: value), a comment nor a status line", name, lineNo, trimmed)
		}
		if err := f.directive(strings.TrimSpace(key), strings.TrimSpace(value)); err != nil {
			return f, fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
	}
	f.Description = strings.Join(desc, " ")
	switch {
	case f.Status == 0 && f.Replay.Mode != "reset":
		return f, fmt.Errorf("%s: no status line (HTTP/1.1 …): only replay.mode reset sends no answer", name)
	case f.Call.CancelAfterChunks > 0 && !f.Call.Stream:
		return f, fmt.Errorf("%s: call.cancel-after-chunks needs call.stream: true", name)
	}
	return f, nil
}

// parseResponse reads the status line, headers and body.
func (f *Fixture) parseResponse(statusLine string, rest []byte) error {
	fields := strings.Fields(statusLine)
	if len(fields) < 2 {
		return fmt.Errorf("status line %q has no status code", statusLine)
	}
	code, err := strconv.Atoi(fields[1])
	if err != nil || code < 100 || code > 999 {
		return fmt.Errorf("status line %q: bad status code", statusLine)
	}
	f.Status = code
	for len(rest) > 0 {
		var raw []byte
		raw, rest, _ = bytes.Cut(rest, []byte("\n"))
		line := strings.TrimRight(string(raw), "\r")
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("header line %q has no colon", line)
		}
		f.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	f.Header.Del("Content-Length")
	f.Header.Del("Transfer-Encoding")
	f.Body = bytes.Clone(rest)
	return nil
}

// directive applies one "key: value" line.
func (f *Fixture) directive(key, value string) error {
	dur := func(dst *time.Duration) error {
		d, err := time.ParseDuration(value)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		*dst = d
		return nil
	}
	num := func(dst *int) error {
		n, err := strconv.Atoi(value)
		if err != nil {
			return fmt.Errorf("%s: %q is not a number", key, value)
		}
		*dst = n
		return nil
	}
	boolean := func(dst *bool) error {
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("%s: %q is not true or false", key, value)
		}
		*dst = b
		return nil
	}
	oneOf := func(dst *string, allowed ...string) error {
		for _, a := range allowed {
			if value == a {
				*dst = value
				return nil
			}
		}
		return fmt.Errorf("%s: %q is not one of %s", key, value, strings.Join(allowed, ", "))
	}
	e := &f.Expect
	switch key {
	case "call.stream":
		return boolean(&f.Call.Stream)
	case "call.model":
		f.Call.Model = value
	case "call.body":
		f.Call.Body = []byte(value)
	case "call.ttft":
		return dur(&f.Call.TTFT)
	case "call.timeout":
		return dur(&f.Call.Timeout)
	case "call.cancel-after":
		return dur(&f.Call.CancelAfter)
	case "call.cancel-after-chunks":
		return num(&f.Call.CancelAfterChunks)
	case "replay.mode":
		return oneOf(&f.Replay.Mode, "respond", "reset")
	case "replay.delay":
		return dur(&f.Replay.Delay)
	case "replay.interval":
		return dur(&f.Replay.Interval)
	case "replay.after":
		return oneOf(&f.Replay.After, "end", "hold", "reset")
	case "expect.class":
		return e.Class.UnmarshalText([]byte(value))
	case "expect.status":
		return num(&e.Status)
	case "expect.type":
		e.Type = value
	case "expect.code":
		e.Code = value
	case "expect.param":
		e.Param = value
	case "expect.message":
		e.Messages = append(e.Messages, value)
	case "expect.retry-after":
		e.HasRetryAfter = true
		return dur(&e.RetryAfter)
	case "expect.text":
		e.Text, e.HasText = value, true
	case "expect.id":
		e.ID = value
	case "expect.model":
		e.Model = value
	case "expect.finish":
		e.Finish = value
	case "expect.chunks":
		e.HasChunks = true
		return num(&e.Chunks)
	case "expect.usage":
		if value == "none" {
			e.NoUsage = true
			return nil
		}
		u, err := parseUsage(value)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		e.Usage = &u
	case "expect.tool-call":
		if len(strings.SplitN(value, " ", 3)) != 3 {
			return fmt.Errorf("%s: want \"id name arguments\", got %q", key, value)
		}
		e.ToolCalls = append(e.ToolCalls, value)
	case "expect.upstream-request-id":
		e.UpstreamRequestID = value
	case "expect.upstream-requests":
		return num(&e.UpstreamRequests)
	case "expect.upstream-canceled":
		return boolean(&e.UpstreamCanceled)
	case "expect.upstream.method":
		e.UpstreamMethod = value
	case "expect.upstream.path":
		e.UpstreamPath = value
	case "expect.upstream.header":
		if !strings.Contains(value, " = ") && !strings.HasSuffix(value, " !exists") {
			return fmt.Errorf("%s: want \"Name = value\" or \"Name !exists\", got %q", key, value)
		}
		e.UpstreamHeaders = append(e.UpstreamHeaders, value)
	case "expect.upstream.query":
		if !strings.Contains(value, " = ") && !strings.HasSuffix(value, " !exists") {
			return fmt.Errorf("%s: want \"name = value\" or \"name !exists\", got %q", key, value)
		}
		e.UpstreamQuery = append(e.UpstreamQuery, value)
	case "expect.upstream.json":
		if !strings.Contains(value, " == ") && !strings.HasSuffix(value, " exists") && !strings.HasSuffix(value, " !exists") {
			return fmt.Errorf("%s: want \"path == raw\", \"path exists\" or \"path !exists\", got %q", key, value)
		}
		e.UpstreamJSON = append(e.UpstreamJSON, value)
	default:
		return fmt.Errorf("unknown directive %q", key)
	}
	return nil
}

// parseUsage reads "prompt=5 completion=2 cached=1 cache_write=0 reasoning=0"; missing
// counts are 0.
func parseUsage(s string) (clearbar.Usage, error) {
	var u clearbar.Usage
	for _, part := range strings.Fields(s) {
		k, v, ok := strings.Cut(part, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			return u, fmt.Errorf("%q is not name=count", part)
		}
		switch k {
		case "prompt":
			u.PromptTokens = n
		case "completion":
			u.CompletionTokens = n
		case "cached":
			u.CachedTokens = n
		case "cache_write":
			u.CacheWriteTokens = n
		case "reasoning":
			u.ReasoningTokens = n
		default:
			return u, fmt.Errorf("unknown count %q (prompt, completion, cached, cache_write, reasoning)", k)
		}
	}
	return u, nil
}
