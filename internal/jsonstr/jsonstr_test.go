package jsonstr

import (
	"encoding/json"
	"strings"
	"testing"
)

var cases = []string{
	"", "plain text", `quote " and backslash \`, "new\nline\r\ttab\b\f", "\x00\x01\x1f\x7f",
	"<b>&amp;</b>", "é 中文 🎉", "line\u2028sep\u2029para", "bad \xff utf-8 \xc3", "end\xe2\x80",
}

// TestAppendHTMLSafeIsMarshal: AppendHTMLSafe writes exactly what json.Marshal writes.
func TestAppendHTMLSafeIsMarshal(t *testing.T) {
	for _, s := range cases {
		want, _ := json.Marshal(s)
		if got := AppendHTMLSafe(nil, s); string(got) != string(want) {
			t.Errorf("AppendHTMLSafe(%q) = %s, want %s", s, got, want)
		}
	}
}

// TestAppend: the string decodes as json.Marshal's does, appended to what was there, with
// the HTML characters as they are.
func TestAppend(t *testing.T) {
	for _, s := range cases {
		got := Append([]byte("x:"), s)
		if !strings.HasPrefix(string(got), "x:") {
			t.Fatalf("Append dropped the prefix: %s", got)
		}
		var back, want string
		if err := json.Unmarshal(got[2:], &back); err != nil {
			t.Fatalf("Append(%q) = %s: %v", s, got, err)
		}
		m, _ := json.Marshal(s)
		_ = json.Unmarshal(m, &want)
		if back != want {
			t.Errorf("Append(%q) decodes to %q, want %q", s, back, want)
		}
		if strings.ContainsAny(s, "<>&") && !strings.ContainsAny(string(got), "<>&") {
			t.Errorf("Append(%q) escaped HTML characters: %s", s, got)
		}
	}
}

// TestAppendLiterals pins Append's bytes.
func TestAppendLiterals(t *testing.T) {
	for in, want := range map[string]string{
		"plain": `"plain"`, `q"b\`: `"q\"b\\"`, "\n\r\t\x01": `"\n\r\t\u0001"`, "é <&>": `"é <&>"`,
		"bad\xffutf8": `"bad\ufffdutf8"`, "a\u2028b\u2029": `"a\u2028b\u2029"`,
	} {
		if got := string(Append(nil, in)); got != want {
			t.Errorf("Append(%q) = %s, want %s", in, got, want)
		}
	}
}

func FuzzAppend(f *testing.F) {
	for _, s := range cases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendHTMLSafe(nil, s); string(got) != string(want) {
			t.Fatalf("AppendHTMLSafe(%q) = %s, want %s", s, got, want)
		}
		var a, b string
		if err := json.Unmarshal(Append(nil, s), &a); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(want, &b)
		if a != b {
			t.Fatalf("Append(%q) decodes to %q, Marshal's to %q", s, a, b)
		}
	})
}
