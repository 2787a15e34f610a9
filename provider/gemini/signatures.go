package gemini

import "sync"

// defaultSignatureBytes bounds the memory a provider's signature cache holds (ids and
// signatures): 8 MiB, some thousands of Gemini 3 tool turns.
const defaultSignatureBytes = 8 << 20

// signatureCache remembers the thought signatures of the function calls the adapter answered
// with, by the tool call id it gave them, for clients that send the calls back without
// extra_content: openai-go's ChatCompletionMessage.ToParam keeps only a call's id, name and
// arguments, as do frameworks that rebuild messages from typed fields. It holds at most max
// bytes, evicting the oldest entries first. It lives in one process: behind several gateway
// replicas without sticky sessions, a call may come back to a replica that never saw it, and the
// placeholder signature is sent instead. It is safe for concurrent use.
type signatureCache struct {
	mu    sync.Mutex
	max   int
	bytes int
	byID  map[string]string
	// order holds the ids in insertion order from head on; entries before head are gone.
	order []string
	head  int
}

func newSignatureCache(max int) *signatureCache {
	return &signatureCache{max: max, byID: map[string]string{}}
}

// put remembers sig for id. An entry larger than the whole cache is not kept.
func (c *signatureCache) put(id, sig string) {
	size := len(id) + len(sig)
	if c == nil || id == "" || sig == "" || size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.byID[id]; ok {
		c.bytes -= len(id) + len(old)
	} else {
		c.order = append(c.order, id)
	}
	c.byID[id] = sig
	c.bytes += size
	for c.bytes > c.max && c.head < len(c.order) {
		gone := c.order[c.head]
		c.order[c.head] = ""
		c.head++
		if s, ok := c.byID[gone]; ok {
			c.bytes -= len(gone) + len(s)
			delete(c.byID, gone)
		}
	}
	if c.head > len(c.order)/2 {
		c.order = append(c.order[:0], c.order[c.head:]...)
		c.head = 0
	}
}

// get returns the signature remembered for id, or "".
func (c *signatureCache) get(id string) string {
	if c == nil || id == "" {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byID[id]
}
