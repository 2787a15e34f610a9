package inflight

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/errfield"
	"github.com/clearbar/clearbar/spec"
)

// Keys is a provider's API keys (the spec's api_key, then api_keys) and the index of the
// active one, shared by all its calls. When the upstream rejects the active key (class Auth),
// Send moves the index on and sends the call again, once; calls already in flight with the old
// key find out on their own answer. A provider may have no keys; a nil *Keys has none. Safe
// for concurrent use.
type Keys struct {
	list   []clearbar.Secret
	active atomic.Uint32
}

// NewKeys returns the keys, the first one active.
func NewKeys(list []clearbar.Secret) *Keys { return &Keys{list: list} }

// Len returns the number of keys.
func (k *Keys) Len() int {
	if k == nil {
		return 0
	}
	return len(k.list)
}

// rotate moves the active key on from used, unless another call already did, and returns the
// key to use now; ok is false when there is no other key.
func (k *Keys) rotate(used uint32) (uint32, bool) {
	n := uint32(k.Len())
	if n < 2 {
		return used, false
	}
	k.active.CompareAndSwap(used, (used+1)%n)
	cur := k.active.Load() % n
	return cur, cur != used
}

// Redact removes from s, for upstream messages that reach clients and logs: every key, whole,
// with the word around it (a key may hold characters that end a word, "id:secret:region");
// every word holding a part of one (the first or last minFragment characters of the key or of
// any of its parts between such characters, as in a key an upstream masked, "tk_liv****3210",
// or the secret of "id:secret:region" alone); every masked key of any shape (maskedKey); and every
// match of like (key-shaped strings of the vendor's format, which may be nil).
func (k *Keys) Redact(s string, like *regexp.Regexp) string {
	for i := range k.Len() {
		switch v := k.list[i].Reveal(); {
		case len(v) > minFragment:
			s = redactFragments(s, v) // the key whole holds its fragments
		case len(v) >= 4:
			s = strings.ReplaceAll(s, v, redacted)
		}
	}
	s = maskedKey.ReplaceAllString(s, redacted)
	if like != nil {
		s = like.ReplaceAllString(s, redacted)
	}
	return s
}

// redacted is what Redact leaves in place of a key.
const redacted = "[redacted]"

// minFragment is the shortest part of a key that Redact recognises: a key's first or last
// minFragment characters, found in a word, redact the word.
const minFragment = 6

// maskedKey matches a key masked the way vendors print one: some of its characters, a run of
// three or more * or •, and maybe more of them ("sk-proj-****abcd", "tk_liv****3210",
// "****3210").
var maskedKey = regexp.MustCompile(`[A-Za-z0-9_\-]+(?:\*{3,}|•{3,})[A-Za-z0-9_\-]*|(?:\*{3,}|•{3,})[A-Za-z0-9_\-]+`)

// redactFragments redacts every occurrence of key, whole, and every word of s that holds
// the first or last minFragment characters of key or of one of its parts (fragments): a key
// longer than that, whole, cut or masked, or any part of a compound key alone.
// A word is a run of keyRune; a full stop ending it ends the sentence, not the key. The key
// whole is redacted from the start of the word holding its start to the end of the word
// holding its end, so a key with characters outside keyRune ("AKID:secret/x:region") goes
// whole, not only the words at its ends.
func redactFragments(s, key string) string {
	var spans [][2]int
	for _, frag := range fragments(key) {
		for i := 0; i < len(s); {
			j := strings.Index(s[i:], frag)
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(frag)
			for start > 0 {
				r, n := utf8.DecodeLastRuneInString(s[:start])
				if !keyRune(r) {
					break
				}
				start -= n
			}
			for end < len(s) {
				r, n := utf8.DecodeRuneInString(s[end:])
				if !keyRune(r) {
					break
				}
				end += n
			}
			for end > i+j+len(frag) && s[end-1] == '.' {
				end--
			}
			spans = append(spans, [2]int{start, end})
			i = end
		}
	}
	if len(spans) == 0 {
		return s
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	var out strings.Builder
	at := 0
	for _, sp := range spans {
		if sp[1] <= at {
			continue // inside a span already redacted
		}
		if sp[0] >= at {
			out.WriteString(s[at:sp[0]])
			out.WriteString(redacted)
		}
		at = sp[1]
	}
	out.WriteString(s[at:])
	return out.String()
}

// fragments returns what redactFragments looks for: key, whole, and the first and last
// minFragment characters of each of its parts of at least minFragment characters, a part
// being a run of keyRune, so that every part of a compound key ("id:secret/x:region") is
// found alone, not only its ends.
func fragments(key string) []string {
	frags := []string{key}
	for _, part := range strings.FieldsFunc(key, func(r rune) bool { return !keyRune(r) }) {
		if len(part) >= minFragment {
			frags = append(frags, part[:minFragment], part[len(part)-minFragment:])
		}
	}
	return frags
}

// keyRune reports whether r may be part of a key, whole or masked: the characters keys are
// made of, and those vendors mask them with.
func keyRune(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("_-*.+/=~•…", r)
}

// Field returns v, the type, code or param of an upstream's error, when it may be passed on
// to a client: it has the shape of such a name and not a key's (errfield.Safe, the rule the
// gateway applies too) and Redact leaves it as it is (it holds no key, part of a key or
// key-shaped string); else "".
func (k *Keys) Field(v string, like *regexp.Regexp) string {
	if !errfield.Safe(v) || k.Redact(v, like) != v {
		return ""
	}
	return v
}

// Send sends the request newReq builds for the active key ("" when there are no keys) with
// client, and once more with the next key when classify says the key was rejected (class
// Auth). It returns the response only for a 2xx status, which the caller closes; any other
// answer is read and closed by classify, which returns its error.
func (a *Attempt) Send(client *http.Client, keys *Keys, newReq func(key string) (*http.Request, error), classify func(*http.Response) *clearbar.Error) (*http.Response, error) {
	n := uint32(keys.Len())
	idx := uint32(0)
	if n > 0 {
		idx = keys.active.Load() % n
	}
	for try := 0; ; try++ {
		key := ""
		if n > 0 {
			key = keys.list[idx].Reveal()
		}
		req, err := newReq(key)
		if err != nil {
			return nil, a.Fail(clearbar.Internal, 0, "could not build the upstream request", err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, a.TransportError(err, "sending the request")
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		e := classify(resp)
		if e.Class == clearbar.Auth {
			if next, ok := keys.rotate(idx); ok && try == 0 {
				idx = next
				continue
			}
		}
		return nil, e
	}
}

// ReadErrorBody reads at most max bytes of a non-2xx answer and closes it. A body cut short
// by the call's end returns that end as the error; cut otherwise, it returns no data (the
// status is known; a cut error body only loses the details).
func (a *Attempt) ReadErrorBody(resp *http.Response, max int64) ([]byte, *clearbar.Error) {
	data, err := io.ReadAll(io.LimitReader(resp.Body, max))
	resp.Body.Close()
	if err != nil {
		if e := a.CtxFailure(); e != nil {
			return nil, e
		}
		return nil, nil
	}
	return data, nil
}

// KeysOf returns a spec provider's keys (Provider.Keys: api_key, then api_keys, else the
// type's conventional environment variable).
func KeysOf(sp *spec.Provider) *Keys {
	var list []clearbar.Secret
	for _, k := range sp.Keys() {
		list = append(list, k.Secret)
	}
	return NewKeys(list)
}
