package outcomes_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
)

// TestDecisionLineSaysSimulated: a row of a call a simulated provider answered is written
// with "simulated": true beside it, as eval's rows of simulated answers are; a row of a real
// provider's call of the same decision is not, and validator calls do not count.
func TestDecisionLineSaysSimulated(t *testing.T) {
	d := &clearbar.Decision{ID: "d1", Category: "intent", PromptHash: "0123456789abcdef", Attempts: []clearbar.Attempt{
		{N: 1, Kind: clearbar.AttemptPrimary, Model: "nano", Simulated: true, Class: clearbar.Overloaded, Outcome: "fell back"},
		{N: 2, Kind: clearbar.AttemptFallback, Model: "real", Class: clearbar.OK, Outcome: "accepted"},
		{N: 3, Kind: clearbar.AttemptJudge, Model: "judge", Simulated: true, Class: clearbar.OK},
	}}
	var b bytes.Buffer
	w := outcomes.NewWriter(&b)
	for _, r := range outcomes.FromDecision(d) {
		if err := w.WriteLine(r, outcomes.DecisionLine(d, r)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"model":"nano"`) || !strings.Contains(lines[0], `"simulated":true`) || strings.Contains(lines[1], "simulated") {
		t.Errorf("rows:\n%s\nwant nano's marked simulated, real's not", b.String())
	}
	if !outcomes.DecisionSimulated(d, "") || outcomes.DecisionSimulated(d, "real") || outcomes.DecisionSimulated(d, "judge") {
		t.Error("DecisionSimulated: want any model's simulated call, and no validator call, to count")
	}
}

// TestMissingPromptSaysWhatToWrite: a row without a prompt says what to write.
func TestMissingPromptSaysWhatToWrite(t *testing.T) {
	rd := outcomes.NewReader(strings.NewReader(`{"item":"a","model":"x"}` + "\n"))
	for rd.Next() {
	}
	err := rd.Err()
	if err == nil || !strings.Contains(err.Error(), `write the prompt ("prompt": "…"), or`) || !strings.Contains(err.Error(), `"prompt_hash": the 64-hex-digit SHA-256 of its text`) {
		t.Errorf("error %v: want it to say what to write", err)
	}
}
