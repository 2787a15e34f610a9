package simulated_test

import (
	"context"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider/simulated"
)

// TestStopSequenceEndsTheAnswer: an answer a stop sequence ends finishes for "stop", with the
// tokens of the text before the sequence, even where the spec's token band would have run
// the answer into the request's max tokens.
func TestStopSequenceEndsTheAnswer(t *testing.T) {
	_, p := loadTokenSpec(t)
	call := func(body string, max int) *clearbar.Response {
		req := promptOf(100)
		req.MaxTokens, req.Body = max, []byte(body)
		resp, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: "sim-plain", Category: "fixed"})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	whole := call(`{}`, 0).Choices[0].Text
	words := strings.Fields(whole)
	if len(words) < 6 {
		t.Fatalf("stand-in answer %q too short to cut", whole)
	}
	stop := words[len(words)/2]
	cut := call(`{"stop": ["`+stop+`"]}`, 100)
	c := cut.Choices[0]
	if c.FinishReason != "stop" || strings.Contains(c.Text, stop) || !strings.HasPrefix(whole, c.Text) {
		t.Errorf("stop %q: finish %q, text %q; want the text before it, finishing for \"stop\"", stop, c.FinishReason, c.Text)
	}
	if got, most := cut.Usage.CompletionTokens, simulated.EstimateTokens(c.Text); got > most {
		t.Errorf("stop %q: %d completion tokens, more than the %d of the text before it", stop, got, most)
	}
	if capped := call(`{"stop": ["no such words"]}`, 100); capped.Choices[0].FinishReason != "length" {
		t.Errorf("absent stop sequence, max tokens 100: finish %q, want \"length\" (the band runs into it)", capped.Choices[0].FinishReason)
	}
}
