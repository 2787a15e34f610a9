// Package jsonguard checks JSON before Clearbar's recursive parsers read it. gjson's validator
// (gjson.Valid, gjson.ValidBytes) recurses once per level of nesting, so that a body of a few
// megabytes of '[' exhausts the goroutine's 1 GB stack: a fatal error no recover catches,
// which ends the whole process. Check validates in one iterative pass instead, with the same
// grammar as gjson's validator, and refuses nesting deeper than MaxDepth, so that what it
// accepts every parser after it (gjson, encoding/json, jsonschema, the translators' own
// walks) reads within a few hundred frames. TooDeep bounds the nesting of text that may not
// be JSON at all, such as tool-call arguments, before something parses it.
package jsonguard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"unsafe"
)

// MaxDepth is the deepest nesting of arrays and objects accepted: the root object of a
// request is at depth 1. Chat payloads need a few levels and tool parameter JSON Schemas a few
// dozen (every level of a schema's properties is two); encoding/json stops at 10000, and
// Python-based APIs near 1000 (its recursion limit). 512 leaves room for any real schema while
// bounding the stack and time of every recursive reader.
const MaxDepth = 512

var (
	// ErrInvalid is Check's error for text that is not one JSON value.
	ErrInvalid = errors.New("not valid JSON")
	// ErrTooDeep is Check's error for JSON nesting arrays and objects more than MaxDepth deep
	// (CheckDepth's, more than its bound).
	ErrTooDeep = errors.New("JSON nested too deep")
)

// Check reports whether data is one JSON value, between optional whitespace, nested at most
// MaxDepth deep: nil, ErrTooDeep, or ErrInvalid. It accepts exactly what gjson.ValidBytes
// accepts at that depth (like it, it does not check UTF-8), in one pass without recursion or
// allocation; nesting beyond MaxDepth is ErrTooDeep as soon as it is reached, whatever
// follows.
func Check(data []byte) error { return CheckDepth(data, MaxDepth) }

// CheckDepth is Check with another bound on the nesting, max, for a document that wraps one
// Check accepted in a few more levels; max is at most MaxDepth+64.
func CheckDepth(data []byte, max int) error {
	// objects has bit d set when the container at depth d+1 is an object.
	var objects [MaxDepth/64 + 1]uint64
	max = min(max, len(objects)*64)
	n, i, depth := len(data), 0, 0
	ok := false
value:
	for i < n && space(data[i]) {
		i++
	}
	if i >= n {
		return ErrInvalid
	}
	switch data[i] {
	case '{':
		if depth >= max {
			return ErrTooDeep
		}
		objects[depth>>6] |= 1 << (depth & 63)
		depth++
		for i++; i < n && space(data[i]); i++ {
		}
		if i < n && data[i] == '}' {
			i++
			depth--
			goto next
		}
		goto key
	case '[':
		if depth >= max {
			return ErrTooDeep
		}
		objects[depth>>6] &^= 1 << (depth & 63)
		depth++
		for i++; i < n && space(data[i]); i++ {
		}
		if i < n && data[i] == ']' {
			i++
			depth--
			goto next
		}
		goto value
	case '"':
		i, ok = str(data, i+1)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		i, ok = number(data, i)
	case 't':
		ok = i+4 <= n && data[i+1] == 'r' && data[i+2] == 'u' && data[i+3] == 'e'
		i += 4
	case 'f':
		ok = i+5 <= n && data[i+1] == 'a' && data[i+2] == 'l' && data[i+3] == 's' && data[i+4] == 'e'
		i += 5
	case 'n':
		ok = i+4 <= n && data[i+1] == 'u' && data[i+2] == 'l' && data[i+3] == 'l'
		i += 4
	default:
		ok = false
	}
	if !ok {
		return ErrInvalid
	}
next: // a value ended at i
	for i < n && space(data[i]) {
		i++
	}
	if depth == 0 {
		if i == n {
			return nil
		}
		return ErrInvalid
	}
	if i >= n {
		return ErrInvalid
	}
	if object := objects[(depth-1)>>6]>>((depth-1)&63)&1 != 0; data[i] == ',' {
		i++
		if !object {
			goto value
		}
		for i < n && space(data[i]) {
			i++
		}
		goto key
	} else if data[i] == '}' && object || data[i] == ']' && !object {
		i++
		depth--
		goto next
	}
	return ErrInvalid
key: // a member's name is due at i
	if i >= n || data[i] != '"' {
		return ErrInvalid
	}
	if i, ok = str(data, i+1); !ok {
		return ErrInvalid
	}
	for i < n && space(data[i]) {
		i++
	}
	if i >= n || data[i] != ':' {
		return ErrInvalid
	}
	i++
	goto value
}

// Describe returns, for a failure of Check, the message that says it of what (the text
// checked: "the answer", "the request body"): "" for nil, "<what> nests arrays and objects
// more than MaxDepth levels deep" for ErrTooDeep, else "<what> is not valid JSON".
func Describe(err error, what string) string { return DescribeDepth(err, what, MaxDepth) }

// DescribeDepth is Describe for a failure of CheckDepth with the bound max.
func DescribeDepth(err error, what string, max int) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrTooDeep):
		return fmt.Sprintf("%s nests arrays and objects more than %d levels deep", what, max)
	}
	return what + " is not valid JSON"
}

// CheckString is Check for a string.
func CheckString(s string) error {
	return Check(unsafe.Slice(unsafe.StringData(s), len(s)))
}

func space(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Masks for finding, eight bytes at a time, the bytes a string's scan must stop at.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// specialMask has, under highs, the high bit of each byte of x that is a control character
// (below 0x20), '"' (q = x^(ones*'"') has a zero byte there) or '\\' (likewise b), and no bit
// below the lowest such byte; bits above it may be set spuriously, by the subtractions' borrow.
func specialMask(x, q, b uint64) uint64 {
	return ((x - ones*0x20) &^ x) | ((q - ones) &^ q) | ((b - ones) &^ b)
}

// str scans a string whose opening quote is before i: it returns the index past its closing
// quote. Runs of plain bytes are skipped eight at a time.
func str(data []byte, i int) (int, bool) {
	n := len(data)
	for {
		for i+8 <= n {
			x := binary.LittleEndian.Uint64(data[i:])
			if s := specialMask(x, x^(ones*'"'), x^(ones*'\\')) & highs; s != 0 {
				i += bits.TrailingZeros64(s) >> 3
				break
			}
			i += 8
		}
		if i >= n {
			return i, false
		}
		switch c := data[i]; {
		case c == '"':
			return i + 1, true
		case c == '\\':
			i++
			if i >= n {
				return i, false
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+5 > n || !hex(data[i+1]) || !hex(data[i+2]) || !hex(data[i+3]) || !hex(data[i+4]) {
					return i, false
				}
				i += 5
			default:
				return i, false
			}
		case c < ' ':
			return i, false
		default:
			i++
		}
	}
}

func hex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// number scans a number starting at i: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func number(data []byte, i int) (int, bool) {
	n := len(data)
	if data[i] == '-' {
		i++
		if i >= n || data[i] < '0' || data[i] > '9' {
			return i, false
		}
	}
	if data[i] == '0' {
		i++
	} else {
		for i < n && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	}
	if i < n && data[i] == '.' {
		i++
		if i >= n || data[i] < '0' || data[i] > '9' {
			return i, false
		}
		for i < n && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	}
	if i < n && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < n && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= n || data[i] < '0' || data[i] > '9' {
			return i, false
		}
		for i < n && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	}
	return i, true
}

// TooDeep reports whether text, read as JSON without validating it, opens more than max
// arrays and objects at once: brackets inside strings do not count, and a stray closing
// bracket closes nothing. A recursive JSON parser reading text goes no deeper than that, valid
// or not, so text that is not TooDeep may be handed to one.
func TooDeep(text []byte, max int) bool {
	return TooDeepString(unsafe.String(unsafe.SliceData(text), len(text)), max)
}

// TooDeepString is TooDeep for a string.
func TooDeepString(text string, max int) bool {
	var n Nesting
	return n.Add(text, max)
}

// Nesting measures, as TooDeep does, text that arrives in pieces, such as the fragments of a
// streamed tool call's arguments. The zero value is ready for the first piece.
type Nesting struct {
	depth            int
	inString, escape bool
	deep             bool
}

// Add reads the next piece of the text and reports whether the text so far has opened more
// than max arrays and objects at once (TooDeep); once it has, Add always reports true.
func (n *Nesting) Add(piece string, max int) bool {
	if n.deep {
		return true
	}
	depth, inString := n.depth, n.inString
	i := 0
	if n.escape && len(piece) > 0 { // the byte a backslash ending the last piece escapes
		i, n.escape = 1, false
	}
	for ; i < len(piece); i++ {
		if inString {
			for i < len(piece) && piece[i] != '"' && piece[i] != '\\' {
				i++
			}
			switch {
			case i == len(piece):
			case piece[i] == '"':
				inString = false
			case i+1 == len(piece):
				n.escape = true
			default:
				i++ // the escaped byte
			}
			continue
		}
		switch piece[i] {
		case '"':
			inString = true
		case '[', '{':
			if depth++; depth > max {
				n.deep = true
				return true
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		}
	}
	n.depth, n.inString = depth, inString
	return false
}
