package inflight

import (
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/readall"
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

// ReadAll reads a response body of at most limit bytes into a buffer that grows with the bytes
// received (readall.Read): an upstream's Content-Length is only a claim.
func ReadAll(resp *http.Response, limit int64) ([]byte, error) {
	declared := int64(-1)
	if n := resp.ContentLength; n >= 0 && n < limit {
		declared = n
	}
	data, err := readall.Read(io.LimitReader(resp.Body, limit), declared)
	if err == io.EOF {
		err = nil
	}
	return data, err
}

// MaxAnswer bounds a non-streaming answer's body.
const MaxAnswer = 64 << 20

// ReadAnswer reads a 2xx answer's body, of at most MaxAnswer bytes. A body cut short is the
// call's end or a connection failure (see TransportError); a longer one is BadResponse.
func (a *Attempt) ReadAnswer(resp *http.Response) ([]byte, *clearbar.Error) {
	data, err := ReadAll(resp, MaxAnswer+1)
	if err != nil {
		return nil, a.TransportError(err, "reading the answer")
	}
	if len(data) > MaxAnswer {
		return nil, a.Fail(clearbar.BadResponse, resp.StatusCode, "the answer is larger than 64 MiB", nil)
	}
	return data, nil
}
