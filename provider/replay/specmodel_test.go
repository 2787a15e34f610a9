package replay_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

// TestReplaySpecModelName: a call that names its spec model is answered from the rows under
// that name when the table has one for the prompt, else from those under the model id; a
// call that names only the id is answered from the id's rows.
func TestReplaySpecModelName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "named.jsonl")
	rows := strings.Join([]string{
		`{"item":"1","prompt":"Q1","model":"gpt-4.1-mini","response":"by id"}`,
		`{"item":"1","prompt":"Q1","model":"fast","response":"by spec name"}`,
		`{"item":"2","prompt":"Q2","model":"gpt-4.1-mini","response":"by id only"}`,
	}, "\n")
	if err := os.WriteFile(path, []byte(rows+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := newReplay(t, path, nil)
	for _, tt := range []struct {
		prompt, specModel, model, want string
	}{
		{"Q1", "fast", "gpt-4.1-mini", "by spec name"},
		{"Q1", "slow", "gpt-4.1-mini", "by id"},
		{"Q1", "", "gpt-4.1-mini", "by id"},
		{"Q2", "fast", "gpt-4.1-mini", "by id only"},
		{"Q1", "fast", "other-id", "by spec name"},
	} {
		call := &clearbar.Call{Request: ask(user(tt.prompt)), Model: tt.model, SpecModel: tt.specModel}
		resp, err := p.Complete(context.Background(), call)
		if err != nil {
			t.Fatalf("%s for %q (%s): %v", tt.prompt, tt.specModel, tt.model, err)
		}
		if resp.Text() != tt.want {
			t.Errorf("%s for %q (%s): %q; want %q", tt.prompt, tt.specModel, tt.model, resp.Text(), tt.want)
		}
		call.Stream = true
		s, err := p.Stream(context.Background(), call)
		if err != nil {
			t.Fatal(err)
		}
		var text strings.Builder
		for s.Next() {
			text.WriteString(s.Chunk().Text)
		}
		s.Close()
		if text.String() != tt.want {
			t.Errorf("%s for %q (%s), streamed: %q; want %q", tt.prompt, tt.specModel, tt.model, text.String(), tt.want)
		}
	}

	_, err := p.Complete(context.Background(), &clearbar.Call{Request: ask(user("Q1")), Model: "gpt-5", SpecModel: "big"})
	if e := clearbar.AsError(err); err == nil || e.Code != "model_not_found" || !strings.Contains(e.Message, `model "big" (model "gpt-5") not found`) {
		t.Errorf("a model the table does not name: %v; want model_not_found naming the spec model and its id", err)
	}
	_, err = p.Complete(context.Background(), &clearbar.Call{Request: ask(user("Q3")), Model: "gpt-4.1-mini", SpecModel: "fast"})
	if e := clearbar.AsError(err); err == nil || e.Code != "no_recorded_answer" || !strings.Contains(e.Message, `from model "fast" (model "gpt-4.1-mini")`) {
		t.Errorf("an unrecorded prompt: %v; want no_recorded_answer naming the spec model and its id", err)
	}
}
