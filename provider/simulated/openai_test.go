package simulated

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/clearbar/clearbar"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestSplitText(t *testing.T) {
	tests := []struct {
		text        string
		maxPieces   int
		explanation string
	}{
		{"", 0, "no text, no pieces"},
		{"ok", 1, "a short text is one piece"},
		{"This is a simulated answer from m. It stands in for a real reply.", 3, "about one piece per 24 bytes"},
		{strings.Repeat("word ", 500), 16, "at most 16 pieces, however long"},
		{strings.Repeat("é☺", 40), 10, "multi-byte characters are never split"},
		{strings.Repeat("x", 100), 5, "no spaces: cut anywhere between characters"},
	}
	for _, tt := range tests {
		pieces := splitText(tt.text)
		if strings.Join(pieces, "") != tt.text {
			t.Errorf("pieces %q do not join to %q", pieces, tt.text)
		}
		if len(pieces) > tt.maxPieces || (tt.text != "" && len(pieces) == 0) {
			t.Errorf("%d pieces of %q, want 1..%d: %s", len(pieces), tt.text, tt.maxPieces, tt.explanation)
		}
		for _, p := range pieces {
			if p == "" || !utf8.ValidString(p) {
				t.Errorf("piece %q is empty or splits a character: %s", p, tt.explanation)
			}
		}
	}
}

func TestCutPoint(t *testing.T) {
	// role, 4 content pieces, finish, usage: the finish chunk is at index 5.
	evs := planChunks(Answer{Choices: []clearbar.Choice{{Text: strings.Repeat("abcd ", 19), FinishReason: "stop"}}}.withDefaults())
	if evs[5].kind != evFinish {
		t.Fatalf("plan %+v: want the finish chunk at 5", evs)
	}
	tests := []struct {
		at          float64
		want        int
		explanation string
	}{
		{0, 1, "the role chunk always gets through"},
		{0.5, 3, "half-way"},
		{0.999, 4, "just short of the end"},
		{7, 5, "out-of-range fractions are clamped: all the content arrives, the finish chunk does not"},
	}
	for _, tt := range tests {
		if got := cutPoint(evs, tt.at); got != tt.want {
			t.Errorf("cutPoint(%v) = %d, want %d: %s", tt.at, got, tt.want, tt.explanation)
		}
	}
}

// TestWireGolden pins the exact OpenAI JSON of a completion and of a stream. Run with -update
// after an intended change and review the diff.
func TestWireGolden(t *testing.T) {
	answers := map[string]Answer{
		"text": {
			ID: "chatcmpl-golden", Model: "gpt-4.1-mini", Created: 1767225600,
			Choices: []clearbar.Choice{{Text: "Your refund is on its way: <20 €> & counting."}},
			Usage:   clearbar.Usage{PromptTokens: 12, CompletionTokens: 12, CachedTokens: 4},
		},
		"tool": {
			ID: "chatcmpl-golden", Model: "gpt-4.1-mini", Created: 1767225600,
			Choices: []clearbar.Choice{{ToolCalls: []clearbar.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris","unit":"c"}`}}}},
			Usage:   clearbar.Usage{PromptTokens: 30, CompletionTokens: 10},
		},
	}
	for name, a := range answers {
		t.Run(name, func(t *testing.T) {
			resp, err := NewCompletion(a)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".completion.golden.json", append(resp.Body, '\n'))

			var buf bytes.Buffer
			s := NewChunkStream(context.Background(), a, StreamConfig{})
			for s.Next() {
				buf.Write(s.Chunk().Data)
				buf.WriteByte('\n')
			}
			if s.Err() != nil {
				t.Fatal(s.Err())
			}
			golden(t, name+".stream.golden.jsonl", buf.Bytes())
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got:\n%s\nwant:\n%s", name, got, want)
	}
}
