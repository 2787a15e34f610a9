package translate

import (
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/internal/jsonstr"
	"github.com/tidwall/gjson"
)

// jw builds a JSON document by appending to a byte slice. Containers are opened and closed
// explicitly; key writes the comma and the name of an object member, item the comma before an
// array element, and the value follows with str, raw, int or open. Raw values copied from the
// input (gjson's Raw) keep their bytes, so numbers, strings and schemas survive a translation
// byte for byte.
type jw struct {
	b []byte
	// more has one entry per open container: whether a member was written to it already.
	more []bool
}

func (w *jw) open(c byte) {
	w.b = append(w.b, c)
	w.more = append(w.more, false)
}

func (w *jw) close(c byte) {
	w.b = append(w.b, c)
	w.more = w.more[:len(w.more)-1]
}

func (w *jw) sep() {
	if n := len(w.more); n > 0 {
		if w.more[n-1] {
			w.b = append(w.b, ',')
		}
		w.more[n-1] = true
	}
}

// key starts an object member.
func (w *jw) key(k string) {
	w.sep()
	w.b = jsonstr.Append(w.b, k)
	w.b = append(w.b, ':')
}

// mark is a point in a document that undo goes back to.
type mark struct {
	n, depth int
	more     bool
}

// mark returns the document's current point, between members or elements of the container
// it is in.
func (w *jw) mark() mark {
	m := mark{n: len(w.b), depth: len(w.more)}
	if m.depth > 0 {
		m.more = w.more[m.depth-1]
	}
	return m
}

// undo takes the document back to m, as if nothing had been written after it.
func (w *jw) undo(m mark) {
	w.b = w.b[:m.n]
	w.more = w.more[:m.depth]
	if m.depth > 0 {
		w.more[m.depth-1] = m.more
	}
}

// item starts an array element.
func (w *jw) item() { w.sep() }

func (w *jw) str(s string) { w.b = jsonstr.Append(w.b, s) }
func (w *jw) raw(v string) { w.b = append(w.b, v...) }
func (w *jw) int(n int64)  { w.b = strconv.AppendInt(w.b, n, 10) }
func (w *jw) null()        { w.b = append(w.b, "null"...) }

func (w *jw) kstr(k, s string) { w.key(k); w.str(s) }
func (w *jw) kraw(k, v string) { w.key(k); w.raw(v) }
func (w *jw) kint(k string, n int64) {
	w.key(k)
	w.int(n)
}

// strOf writes a string value: v's own bytes when it is a JSON string already (escapes
// kept as sent), else s escaped.
func (w *jw) strOf(v gjson.Result) {
	if v.Type == gjson.String {
		w.raw(v.Raw)
		return
	}
	w.str(v.String())
}

// view returns b as a string without copying. The string must not outlive b's contents, and b
// must not change while it is used: it is only for reading input that the caller keeps.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// parseObject validates body and returns its root, which must be an object. JSON nested more
// than jsonguard.MaxDepth levels is refused like invalid JSON: gjson's validator recurses once
// per level, and so do this package's walks (duplicateKey).
func parseObject(body []byte) (gjson.Result, bool) {
	if jsonguard.Check(body) != nil {
		return gjson.Result{}, false
	}
	root := gjson.Parse(view(body))
	return root, root.IsObject()
}

// parseWrapper is parseObject for a document that may wrap an upstream's own message or
// event one level down, under AnthropicKey (AnswerOptions.Native, OpenAIChunks.Native): what
// the adapter accepted at jsonguard.MaxDepth is one level deeper there, so the bound is
// MaxDepth+2 (a level to spare).
func parseWrapper(body []byte) (gjson.Result, bool) {
	if jsonguard.CheckDepth(body, jsonguard.MaxDepth+2) != nil {
		return gjson.Result{}, false
	}
	root := gjson.Parse(view(body))
	return root, root.IsObject()
}

// members reads the top-level members of an object into a map of the names asked for: each
// name gets its last value, as encoding/json and Python read duplicate keys.
func members(obj gjson.Result, names ...string) map[string]gjson.Result {
	out := make(map[string]gjson.Result, len(names))
	obj.ForEach(func(k, v gjson.Result) bool {
		for _, n := range names {
			if k.Str == n {
				out[n] = v
				break
			}
		}
		return true
	})
	return out
}

// duplicateKey returns the path (like "messages.0.content.1.source.data") of the first member
// of v, at any depth, whose object has another member of the same name, or "" when there is
// none. It allocates only to name what it finds.
func duplicateKey(v gjson.Result) string {
	path := duplicatePath(v)
	slices.Reverse(path)
	return strings.Join(path, ".")
}

// duplicatePath is duplicateKey's path, innermost first; nil when there is none.
func duplicatePath(v gjson.Result) []string {
	var found []string
	switch {
	case v.IsObject():
		var seen [16]string // most objects have few members: no map
		var more map[string]bool
		n := 0
		v.ForEach(func(k, e gjson.Result) bool {
			dup := false
			if n < len(seen) {
				for _, s := range seen[:n] {
					dup = dup || s == k.Str
				}
				seen[n] = k.Str
			} else {
				if more == nil {
					more = make(map[string]bool)
					for _, s := range seen {
						more[s] = true
					}
				}
				dup = more[k.Str]
				more[k.Str] = true
			}
			n++
			if dup {
				found = []string{k.Str}
			} else if found = duplicatePath(e); found != nil {
				found = append(found, k.Str)
			}
			return found == nil
		})
	case v.IsArray():
		i := 0
		v.ForEach(func(_, e gjson.Result) bool {
			if found = duplicatePath(e); found != nil {
				found = append(found, strconv.Itoa(i))
			}
			i++
			return found == nil
		})
	}
	return found
}
