package gemini

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider/internal/inflight"
	"github.com/clearbar/clearbar/provider/providertest"
	"github.com/tidwall/gjson"
)

// FuzzTranslateRequest checks that any client body either translates to a JSON object or is
// refused with a ClientError, and is never modified.
func FuzzTranslateRequest(f *testing.F) {
	f.Add([]byte(providertest.DefaultBody), "gemini-2.5-flash")
	f.Add([]byte(roundTripRequest), "gemini-3-pro-preview")
	files, _ := filepath.Glob("testdata/requests/*.in.json")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add([]byte(gjson.GetBytes(data, "request").Raw), gjson.GetBytes(data, "model").Str)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, model string) {
		before := string(body)
		out, err := translateRequest(body, model, nil)
		if string(body) != before {
			t.Fatal("the body was modified")
		}
		if err != nil {
			if err.Class != clearbar.ClientError || err.Message == "" {
				t.Fatalf("error %+v is not a ClientError with a message", err)
			}
			return
		}
		if !json.Valid(out) || !gjson.ParseBytes(out).IsObject() {
			t.Fatalf("not a JSON object: %s", out)
		}
	})
}

// FuzzStreamEvent checks that any event data either becomes a chunk that is a JSON object with
// the stream's id, or is skipped, or fails with an *Error; never a panic.
func FuzzStreamEvent(f *testing.F) {
	files, _ := filepath.Glob("testdata/streams/*.sse")
	for _, file := range files {
		data, _ := os.ReadFile(file)
		for _, ev := range splitEvents(data) {
			f.Add(ev)
		}
	}
	f.Add([]byte(`[{"error":{"code":1}}]`))
	f.Add([]byte(`{"candidates":[{"index":-1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &Provider{name: "gem", now: func() time.Time { return fixedNow }, newID: sequentialIDs()}
		a := &attempt{Attempt: &inflight.Attempt{Provider: p.name, Call: &clearbar.Call{Model: "m"}}, p: p}
		tr := streamTranslator{p: p, model: "m"}
		var c clearbar.Chunk
		for range 2 {
			kind, e := tr.event(a, 200, data, &c)
			switch kind {
			case eventChunk:
				if !json.Valid(c.Data) || gjson.GetBytes(c.Data, "id").Str != tr.id {
					t.Fatalf("chunk %s", c.Data)
				}
			case eventFailure:
				if e == nil || e.Message == "" {
					t.Fatal("a failure without an error")
				}
			}
		}
		if tr.final(&c) && !json.Valid(c.Data) {
			t.Fatalf("final chunk %s", c.Data)
		}
	})
}

// splitEvents returns the data of each event of an SSE body.
func splitEvents(body []byte) [][]byte {
	var out [][]byte
	for _, line := range splitLines(body) {
		if len(line) > 6 && string(line[:6]) == "data: " {
			out = append(out, line[6:])
		}
	}
	return out
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	start := 0
	for i, c := range b {
		if c == '\n' || c == '\r' {
			if i > start {
				out = append(out, b[start:i])
			}
			start = i + 1
		}
	}
	if start < len(b) {
		out = append(out, b[start:])
	}
	return out
}
