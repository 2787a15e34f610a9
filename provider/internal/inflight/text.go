package inflight

import (
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"
)

// TextSnippet returns the first line of a short plain-text error body, for the message of a
// proxy's "502 Bad Gateway" page; "" for HTML and other types.
func TextSnippet(h http.Header, body []byte) string {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if mt != "" && mt != "text/plain" {
		return ""
	}
	s := strings.TrimSpace(string(body))
	if s == "" || strings.HasPrefix(s, "<") || !utf8.ValidString(s) {
		return ""
	}
	s, _, _ = strings.Cut(s, "\n")
	return Truncate(strings.TrimSpace(s), 200)
}

// Truncate cuts s to at most n bytes without splitting a UTF-8 sequence, marking the cut
// with "…".
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
