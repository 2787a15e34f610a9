// Package jsonstr appends strings as JSON string literals, for the hand-written JSON encoders
// on Clearbar's hot paths (decision records, translated requests and answers), where
// encoding/json's reflection and allocations would dominate.
package jsonstr

import "unicode/utf8"

const hex = "0123456789abcdef"

// Append appends s as a JSON string: '"', '\\' and the control characters are escaped (\n,
// \r, \t, \b, \f by name, the others as \u00XX), and so are U+2028 and U+2029, which break
// JavaScript that evaluates JSON; invalid UTF-8 becomes U+FFFD, as encoding/json writes it.
// '<', '>' and '&' are left as they are.
func Append(b []byte, s string) []byte { return appendString(b, s, &plain) }

// AppendHTMLSafe appends s as Append does, and also escapes '<', '>' and '&' (as \u003c,
// \u003e, \u0026): the bytes json.Marshal writes for a string.
func AppendHTMLSafe(b []byte, s string) []byte { return appendString(b, s, &htmlSafe) }

// plain and htmlSafe hold true for the bytes copied as they are: printable ASCII but '"' and
// '\\', and for htmlSafe also but '<', '>' and '&'.
var plain, htmlSafe = func() (p, h [256]bool) {
	for c := byte(' '); c < utf8.RuneSelf; c++ {
		p[c] = c != '"' && c != '\\'
		h[c] = p[c] && c != '<' && c != '>' && c != '&'
	}
	return p, h
}()

func appendString(b []byte, s string, safe *[256]bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if safe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
