package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

// update rewrites the golden files: go test ./provider/gemini -run Golden -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// checkGolden compares got with the golden file, or rewrites it under -update.
func checkGolden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update after checking the change):\n got %s\nwant %s", file, got, want)
	}
}

func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// TestGoldenRequests translates OpenAI request bodies (testdata/requests/*.in.json: the call's
// model and the client's body) into Gemini bodies and compares them with the golden files.
func TestGoldenRequests(t *testing.T) {
	files, _ := filepath.Glob("testdata/requests/*.in.json")
	if len(files) == 0 {
		t.Fatal("no request cases")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".in.json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var in struct {
				Model   string          `json:"model"`
				Request json.RawMessage `json:"request"`
			}
			if err := json.Unmarshal(data, &in); err != nil {
				t.Fatal(err)
			}
			before := bytes.Clone(in.Request)
			p := &Provider{name: "gem"}
			out, err := p.upstreamBody(&clearbar.Call{Request: &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: in.Request}, Model: in.Model})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, in.Request) {
				t.Error("the translation modified the client's body")
			}
			checkGolden(t, filepath.Join("testdata/requests", name+".golden.json"), indent(t, out))
		})
	}
}

// TestGoldenResponses translates Gemini answers (testdata/responses/*.gemini.json) into chat
// completions, with a fixed clock and ids.
func TestGoldenResponses(t *testing.T) {
	files, _ := filepath.Glob("testdata/responses/*.gemini.json")
	if len(files) == 0 {
		t.Fatal("no response cases")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".gemini.json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write(data)
			}))
			defer srv.Close()
			p := newTestProvider(t, srv)
			r, err := p.Complete(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: []byte(`{"messages":[{"role":"user","content":"x"}]}`)}, Model: "gemini-x"})
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata/responses", name+".openai.golden.json"), indent(t, r.Body))
			// The canonical fields agree with the body.
			var body struct {
				Choices []struct {
					Message struct {
						Content   *string `json:"content"`
						ToolCalls []struct {
							ID       string `json:"id"`
							Function struct{ Name, Arguments string }
						} `json:"tool_calls"`
					} `json:"message"`
					FinishReason string `json:"finish_reason"`
				} `json:"choices"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			for i, c := range body.Choices {
				ch := r.Choices[i]
				if c.Message.Content != nil && *c.Message.Content != ch.Text || c.FinishReason != ch.FinishReason || len(c.Message.ToolCalls) != len(ch.ToolCalls) {
					t.Errorf("choice %d: body and canonical fields disagree: %+v vs %+v", i, c, ch)
				}
				for k, tc := range c.Message.ToolCalls {
					if tc.ID != ch.ToolCalls[k].ID || tc.Function.Name != ch.ToolCalls[k].Name || tc.Function.Arguments != ch.ToolCalls[k].Arguments {
						t.Errorf("choice %d call %d: %+v vs %+v", i, k, tc, ch.ToolCalls[k])
					}
				}
			}
		})
	}
}

// TestGoldenStreams translates Gemini event streams (testdata/streams/*.sse) into chunks, one
// JSON document per line, then "error: CLASS: MESSAGE" when the stream fails.
func TestGoldenStreams(t *testing.T) {
	files, _ := filepath.Glob("testdata/streams/*.sse")
	if len(files) == 0 {
		t.Fatal("no stream cases")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".sse")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				w.Write(data)
			}))
			defer srv.Close()
			p := newTestProvider(t, srv)
			s, err := p.Stream(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: []byte(`{"messages":[{"role":"user","content":"x"}]}`)}, Model: "gemini-x"})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var out bytes.Buffer
			for s.Next() {
				c := s.Chunk()
				out.Write(c.Data)
				out.WriteByte('\n')
				if !json.Valid(c.Data) {
					t.Errorf("chunk is not JSON: %s", c.Data)
				}
			}
			if err := s.Err(); err != nil {
				e := clearbar.AsError(err)
				out.WriteString("error: " + e.Class.String() + ": " + e.Message + "\n")
			}
			checkGolden(t, filepath.Join("testdata/streams", name+".chunks.golden"), out.Bytes())
		})
	}
}
