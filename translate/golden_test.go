package translate

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/sse"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// goldenCase is a request input: the translation's options and the body.
type goldenCase struct {
	Options struct {
		Model   string `json:"model"`
		Version string `json:"version"`
		Stream  bool   `json:"stream"`
	} `json:"options"`
	Body json.RawMessage `json:"body"`
}

// TestGolden runs every input under testdata/<direction>/ through its translation and compares
// the output with the .golden file next to it (go test -run TestGolden -update rewrites them).
// JSON outputs are compared indented, so that the golden files read well and diffs are small.
func TestGolden(t *testing.T) {
	dirs := map[string]func(t *testing.T, in []byte) []byte{
		"to_anthropic_request": func(t *testing.T, in []byte) []byte {
			var c goldenCase
			if err := json.Unmarshal(in, &c); err != nil {
				t.Fatal(err)
			}
			out, err := ToAnthropicRequest(c.Body, AnthropicOptions{Model: c.Options.Model, Version: c.Options.Version, Stream: c.Options.Stream})
			if err != nil {
				t.Fatal(err)
			}
			return indent(t, out)
		},
		"to_openai_request": func(t *testing.T, in []byte) []byte {
			var c goldenCase
			if err := json.Unmarshal(in, &c); err != nil {
				t.Fatal(err)
			}
			out, err := ToOpenAIRequest(c.Body, OpenAIOptions{Version: c.Options.Version})
			if err != nil {
				t.Fatal(err)
			}
			return indent(t, out)
		},
		"to_openai_response": func(t *testing.T, in []byte) []byte {
			r, err := ToOpenAIResponse(in, 1700000000)
			if err != nil {
				t.Fatal(err)
			}
			return indent(t, r.Body)
		},
		"to_anthropic_response": func(t *testing.T, in []byte) []byte {
			out, err := ToAnthropicResponse(in)
			if err != nil {
				t.Fatal(err)
			}
			return indent(t, out)
		},
		"to_openai_stream": func(t *testing.T, in []byte) []byte {
			var out bytes.Buffer
			for _, c := range anthropicToChunks(t, in) {
				out.WriteString("data: " + string(c) + "\n\n")
			}
			return out.Bytes()
		},
		"to_anthropic_stream": func(t *testing.T, in []byte) []byte {
			var out bytes.Buffer
			for _, e := range chunksToAnthropic(t, in) {
				out.WriteString("event: " + e.typ + "\ndata: " + string(e.data) + "\n\n")
			}
			return out.Bytes()
		},
	}
	for dir, run := range dirs {
		inputs, _ := filepath.Glob(filepath.Join("testdata", dir, "*"))
		n := 0
		for _, in := range inputs {
			if strings.HasSuffix(in, ".golden") {
				continue
			}
			n++
			t.Run(dir+"/"+filepath.Base(in), func(t *testing.T) {
				data, err := os.ReadFile(in)
				if err != nil {
					t.Fatal(err)
				}
				got := run(t, data)
				golden := strings.TrimSuffix(in, filepath.Ext(in)) + ".golden"
				if *update {
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from %s:\n got: %s\nwant: %s", in, golden, got, want)
				}
			})
		}
		if n == 0 {
			t.Errorf("no inputs in testdata/%s", dir)
		}
	}
}

func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("output is not valid JSON: %v\n%s", err, b)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// anthropicToChunks runs an Anthropic event stream through OpenAIChunks and returns the chunks.
func anthropicToChunks(t testing.TB, stream []byte) [][]byte {
	t.Helper()
	tr := OpenAIChunks{Created: 1700000000}
	r := sse.NewReader(bytes.NewReader(stream))
	var out [][]byte
	for r.Next() {
		ev := r.Event()
		chunks, err := tr.Event(ev.Type, ev.Data)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range chunks {
			out = append(out, bytes.Clone(c.Data))
		}
	}
	if r.Err() != nil || !tr.Done() {
		t.Fatalf("stream ended badly: err %v, done %v", r.Err(), tr.Done())
	}
	return out
}

type event struct {
	typ  string
	data []byte
}

// chunksToAnthropic runs an OpenAI event stream through AnthropicEvents and returns the events.
func chunksToAnthropic(t testing.TB, stream []byte) []event {
	t.Helper()
	var out []event
	tr := NewAnthropicEvents(func(typ string, data []byte) error {
		out = append(out, event{typ, bytes.Clone(data)})
		return nil
	})
	r := sse.NewReader(bytes.NewReader(stream))
	for r.Next() {
		data := r.Event().Data
		if string(data) == "[DONE]" {
			if err := tr.End(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := tr.Chunk(data); err != nil {
			t.Fatal(err)
		}
	}
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	return out
}
