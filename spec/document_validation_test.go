package spec

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestDocumentSummaryEscapesValidationOnce: a validator's text with HTML in it (a regex
// `<b>x</b>`) reaches the Markdown summary table escaped once, so that a renderer shows what
// was written, not "&lt;b&gt;".
func TestDocumentSummaryEscapesValidationOnce(t *testing.T) {
	t.Setenv("CLEARBAR_TEST_KEY", "sk-test")
	s := loadFixture(t, "good.yaml")
	d := NewDocument(s, time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	d.Categories[0].Validation = []string{"regex must match <b>x</b> & y"}
	var b bytes.Buffer
	if err := d.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "regex must match &lt;b&gt;x&lt;/b&gt; &amp; y") || strings.Contains(out, "&amp;lt;") {
		t.Errorf("summary's validation not escaped once:\n%s", out)
	}
}
