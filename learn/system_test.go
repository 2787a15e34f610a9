package learn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"iter"
	"testing"

	"github.com/clearbar/clearbar/outcomes"
)

// systemRows returns outcomes whose user messages are alike and whose system prompts decide
// the weak model's pass: it passes under a one-word instruction and fails under a legal
// analysis. With withRequest false, or system false, the rows record no system prompt.
func systemRows(n int, withRequest, system bool) iter.Seq[outcomes.Row] {
	return func(yield func(outcomes.Row) bool) {
		for i := range n {
			hard := i%2 == 1
			prompt := fmt.Sprintf("Customer %d asks about their order.", i)
			sys := "Reply with one word."
			if hard {
				sys = "Write a formal legal analysis of the customer's rights, citing statutes, step by step."
			}
			msgs := []any{map[string]any{"role": "user", "content": prompt}}
			if system {
				content := any(sys)
				if i%4 >= 2 { // as content parts, which the gateway joins
					content = []any{map[string]any{"type": "text", "text": sys}}
				}
				msgs = append([]any{map[string]any{"role": "system", "content": content}}, msgs...)
			}
			var req json.RawMessage
			if withRequest {
				req, _ = json.Marshal(map[string]any{"model": "clearbar/qa", "messages": msgs})
			}
			weak, strong := !hard, true
			for _, r := range []outcomes.Row{
				{Item: fmt.Sprint("s", i), Category: "qa", Prompt: prompt, Model: "weak", Pass: &weak, Request: req},
				{Item: fmt.Sprint("s", i), Category: "qa", Prompt: prompt, Model: "strong", Pass: &strong, Request: req},
			} {
				if !yield(r) {
					return
				}
			}
		}
	}
}

// TestTrainReadsTheSystemPrompt: the items of rows that record their request carry its
// system prompt, and training reads it as the gateway's score route does (Predict's system),
// so a router learns what the system prompt says of a request's difficulty.
func TestTrainReadsTheSystemPrompt(t *testing.T) {
	ds := NewDataset("system", systemRows(200, true, true), nil)
	if ds.Items[0].System != "Reply with one word." || ds.Items[3].System != "Write a formal legal analysis of the customer's rights, citing statutes, step by step." {
		t.Fatalf("items' system prompts: %q, %q", ds.Items[0].System, ds.Items[3].System)
	}
	m, _, err := TrainDataset(ds, TrainOptions{Seed: 1, Folds: 1})
	if err != nil {
		t.Fatal(err)
	}
	easy, hard := make([]float64, 2), make([]float64, 2)
	const text = "Customer 9001 asks about their order."
	m.Predict(text, "Reply with one word.", "qa", easy)
	m.Predict(text, "Write a formal legal analysis of the customer's rights, citing statutes, step by step.", "qa", hard)
	if easy[0] < 0.8 || hard[0] > 0.2 {
		t.Errorf("P(weak passes) %.3f under the one-word instruction, %.3f under the legal analysis: want high and low", easy[0], hard[0])
	}
}

// TestTrainWithoutSystemPromptIsUnchanged: an item without a system prompt (its rows record no
// request, or a request without one) is featurised as before rows carried requests, so a
// router trained on such rows is the same file either way.
func TestTrainWithoutSystemPromptIsUnchanged(t *testing.T) {
	var files [][]byte
	for _, withRequest := range []bool{false, true} {
		m, _, err := Train(systemRows(100, withRequest, false), TrainOptions{Seed: 1, Folds: 2})
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("rows whose requests have no system prompt train another router than rows without requests")
	}
}

func TestRequestSystem(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{``, ""},
		{`not json`, ""},
		{`{"messages":[{"role":"user","content":"hi"}]}`, ""},
		{`{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]}`, "Be brief."},
		{`{"messages":[{"role":"developer","content":"Dev."},{"role":"system","content":"Sys."}]}`, "Dev."},
		{`{"messages":[{"role":"user","content":"hi"},{"role":"system","content":"Late."}]}`, "Late."},
		{`{"messages":[{"role":"system","content":[{"type":"text","text":"One."},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"Two."}]}]}`, "One.\nTwo."},
		{`{"messages":[{"role":"system","content":[{"type":"text","text":""},{"type":"input_text","text":"After an empty part."}]}]}`, "After an empty part."},
		{`{"messages":[{"role":"system","content":null},{"role":"system","content":"Second."}]}`, ""},
	} {
		if got := RequestSystem([]byte(tc.body)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.body, got, tc.want)
		}
	}
}
