package mdtext

import "testing"

func TestEscapes(t *testing.T) {
	for _, tc := range []struct{ in, cell, text string }{
		{"a|b", `a\|b`, "a|b"},
		{"line\nbreak\r\nagain", "line break again", "line\nbreak\r\nagain"},
		{"<i>x</i> & y", "&lt;i&gt;x&lt;/i&gt; &amp; y", "&lt;i&gt;x&lt;/i&gt; &amp; y"},
		{"*em* _u_ [l](u) `c` /^\\{/", `\*em\* \_u\_ \[l\](u) \` + "`c\\`" + ` /^\\{/`, "*em* _u_ [l](u) `c` /^\\{/"},
	} {
		if got := Cell(tc.in); got != tc.cell {
			t.Errorf("Cell(%q) = %q, want %q", tc.in, got, tc.cell)
		}
		if got := Text(tc.in); got != tc.text {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.text)
		}
	}
}
