package inflight

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"

	"github.com/clearbar/clearbar"
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

// Redact removes every key, and every match of like (key-shaped strings of the vendor's
// format, which may be nil), from s: for upstream messages that reach clients and logs.
func (k *Keys) Redact(s string, like *regexp.Regexp) string {
	for i := range k.Len() {
		key := k.list[i]
		if v := key.Reveal(); len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	if like != nil {
		s = like.ReplaceAllString(s, "[redacted]")
	}
	return s
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
