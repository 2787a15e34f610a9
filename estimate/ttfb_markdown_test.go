package estimate

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestTTFBFootnoteMarkdownSaysMeasuredLatencies: the Markdown report's footnote says, as the
// table's does, that measured latencies record no time to first byte.
func TestTTFBFootnoteMarkdownSaysMeasuredLatencies(t *testing.T) {
	s := parse(t, poolSpec)
	r, err := Run(context.Background(), s, Options{Samples: 20000, Seed: 1, Measured: Measure(s, poolObs(false)), MeasuredFrom: "m.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Write(&b, r, "markdown"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "for models without a ttft figure") || !strings.Contains(out, "measured latencies record no time to first byte") {
		t.Errorf("the Markdown footnote does not say the measured latencies record no time to first byte:\n%s", out)
	}
}
