package spec

import (
	"fmt"
	"strings"
	"testing"
)

const hintsSpec = `version: 1
name: hints
providers: {oa: {type: openai}}
models:
  a: {provider: oa, model: gpt-4.1-nano%s}
categories:
%s`

func hintsCategory(name, share string) string {
	return fmt.Sprintf("  - {name: %s, share: %s, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {cascade: [a]}, assume: {pass_rate: {a: 0.9}}}\n", name, share)
}

// TestSharesSumHint: the shares-sum error suggests writing thirds only for shares that look
// like rounded ones (a little off, with a share repeating), not for a share that is simply
// wrong.
func TestSharesSumHint(t *testing.T) {
	const thirds = "(thirds, for example"
	for _, tt := range []struct {
		shares []string
		hint   bool
	}{
		{[]string{"0.333", "0.333", "0.333"}, true},
		{[]string{"0.33", "0.33", "0.33"}, true},
		{[]string{"0.45"}, false},
		{[]string{"0.45", "0.45"}, false},
		{[]string{"0.5", "0.499"}, false},
	} {
		var cats strings.Builder
		for i, sh := range tt.shares {
			cats.WriteString(hintsCategory(fmt.Sprintf("c%d", i), sh))
		}
		_, err := Parse([]byte(fmt.Sprintf(hintsSpec, "", cats.String())), "hints.yaml", Options{Today: fixtureDay})
		if err == nil || !strings.Contains(err.Error(), "category shares sum to") {
			t.Fatalf("shares %v: want a shares-sum error; got %v", tt.shares, err)
		}
		if got := strings.Contains(err.Error(), thirds); got != tt.hint {
			t.Errorf("shares %v: the thirds hint shown %v, want %v:\n%v", tt.shares, got, tt.hint, err)
		}
	}
}

// TestDefaultLatencyWarning: the warning for a model without latency suggests the latency
// block it assumes, which, written into the spec, changes nothing.
func TestDefaultLatencyWarning(t *testing.T) {
	s, err := Parse([]byte(fmt.Sprintf(hintsSpec, "", hintsCategory("c", "1"))), "hints.yaml", Options{Today: fixtureDay})
	if err != nil {
		t.Fatal(err)
	}
	var msg string
	for _, w := range s.Warnings {
		if strings.Contains(w.Msg, "no latency assumption") {
			msg = w.Msg
		}
	}
	_, block, ok := strings.Cut(msg, "add latency: ")
	if !ok {
		t.Fatalf("the warning suggests no latency block: %q", msg)
	}
	// The block runs to its closing brace.
	depth, end := 0, -1
	for i, r := range block {
		switch r {
		case '{':
			depth++
		case '}':
			depth--
		}
		if depth == 0 && i > 0 {
			end = i + 1
			break
		}
	}
	block = block[:end]
	written, err := Parse([]byte(fmt.Sprintf(hintsSpec, ", latency: "+block, hintsCategory("c", "1"))), "hints.yaml", Options{Today: fixtureDay})
	if err != nil {
		t.Fatalf("the suggested block %q does not load: %v", block, err)
	}
	got, want := written.Models[0].Resolved.Latency, s.Models[0].Resolved.Latency
	if written.Models[0].Resolved.LatencyDefault {
		t.Errorf("the suggested block %q was not read as a latency assumption", block)
	}
	if got.TokensPerSecond != want.TokensPerSecond || got.TTFT == nil || got.TTFT.P50 != want.TTFT.P50 || got.TTFT.P95 != want.TTFT.P95 {
		t.Errorf("the suggested block %q assumes %+v (ttft %+v); the default is %+v (ttft %+v)", block, got, got.TTFT, want, want.TTFT)
	}
}
