// Package errfield holds the one rule for the type, code and param of an upstream's error
// that may reach a client: the adapters (provider/internal/inflight) and the gateway both
// apply it.
package errfield

import "strings"

// Safe reports whether v, a type, code or param an upstream wrote, has the shape of such a
// name and none of a key's: 1 to 64 characters of those such names use (letters, digits,
// _ . - [ ]: "invalid_api_key", "messages[0].content", "RESOURCE_EXHAUSTED"), and no part
// between separators that mixes letters and digits over 8 characters or has over 12 digits,
// as keys and tokens do ("tk_live_9f8e7d6c5b4a3210").
func Safe(v string) bool {
	if v == "" || len(v) > 64 {
		return false
	}
	letters, digits := 0, 0
	for i := 0; i <= len(v); i++ {
		var c byte
		if i < len(v) {
			c = v[i]
		}
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			letters++
			continue
		case '0' <= c && c <= '9':
			digits++
			continue
		case i < len(v) && !strings.ContainsRune("_.-[]", rune(c)):
			return false
		}
		// The end of a part.
		if letters > 0 && digits > 0 && letters+digits > 8 || digits > 12 {
			return false
		}
		letters, digits = 0, 0
	}
	return true
}
