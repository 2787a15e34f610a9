package validate

import (
	"strconv"
	"strings"

	"github.com/clearbar/clearbar"
)

// Redacted is what a quoted piece of an answer becomes in a redacted reason.
const Redacted = `"…"`

// RedactAnswer takes the answer's own words out of the verdicts' reasons, in place, for the
// records of a category that keeps no text (record_text): a reason quotes what it found
// ("the answer has text after the JSON: \"Hope this helps!\"", a JSON Schema library's
// "'abc' does not match pattern …"), and each quoted piece that is part of the answer (a
// clipped one, ending in "…", by what precedes the ellipsis) becomes Redacted. What the
// spec wrote (a restricted phrase, a pattern, a field name) stays unless the answer has it
// word for word.
func RedactAnswer(verdicts []clearbar.Verdict, answer string) {
	for i := range verdicts {
		if r := verdicts[i].Reason; strings.ContainsAny(r, `"'`) {
			verdicts[i].Reason = redactQuotes(r, answer)
		}
	}
}

// redactQuotes replaces the double-quoted (Go-escaped) and single-quoted pieces of s that are
// part of answer with Redacted.
func redactQuotes(s, answer string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		q := s[i]
		if q != '"' && q != '\'' {
			b.WriteByte(q)
			i++
			continue
		}
		end := closing(s, i)
		if end < 0 {
			b.WriteString(s[i:])
			break
		}
		lit := s[i : end+1]
		text := lit[1 : len(lit)-1]
		if q == '"' {
			if u, err := strconv.Unquote(lit); err == nil {
				text = u
			}
		}
		if part := strings.TrimSuffix(text, "…"); part != "" && strings.Contains(answer, part) {
			b.WriteString(Redacted)
		} else {
			b.WriteString(lit)
		}
		i = end + 1
	}
	return b.String()
}

// closing returns the index of the quote that closes the one at s[i] (a double quote may be
// escaped by a backslash inside), or -1 when there is none.
func closing(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case q == '"' && s[j] == '\\':
			j++
		case s[j] == q:
			return j
		}
	}
	return -1
}
