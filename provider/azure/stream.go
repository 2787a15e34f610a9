package azure

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
	"unsafe"

	"github.com/clearbar/clearbar"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// stream wraps provider/openai's stream of an Azure deployment. It drops annotation-only
// chunks (see annotationOnly) and gives every other chunk the stream's identity: the id and
// model of its first chunk (made up when that chunk has none: an id of the adapter's making,
// the deployment's name), its created (when a chunk has none) and object
// "chat.completion.chunk". Chunks that already have them pass unchanged. A later chunk naming
// another model gets the stream's too: a client sees one model for the whole stream.
type stream struct {
	inner      clearbar.Stream
	deployment string
	newID      func() string
	// id, model and created are the stream's identity once the first chunk fixed it.
	started bool
	id      string
	model   string
	created int64
	chunk   clearbar.Chunk
}

// chunkObject is the object of every stream chunk.
const chunkObject = "chat.completion.chunk"

// Next advances to the next chunk, normalized, skipping annotation-only chunks.
func (s *stream) Next() bool {
	for s.inner.Next() {
		c := s.inner.Chunk()
		f := readFields(c.Data)
		if f.annotationOnly() {
			continue
		}
		s.chunk = *c
		s.chunk.Data = s.normalize(c.Data, f)
		return true
	}
	s.chunk = clearbar.Chunk{}
	return false
}

// chunkFields are the top-level values of a chunk the stream reads, found in one pass. They
// point into the chunk's data.
type chunkFields struct {
	choices, usage, id, object, model, created gjson.Result
}

func readFields(data []byte) chunkFields {
	var f chunkFields
	gjson.Parse(unsafe.String(unsafe.SliceData(data), len(data))).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "choices":
			f.choices = v
		case "usage":
			f.usage = v
		case "id":
			f.id = v
		case "object":
			f.object = v
		case "model":
			f.model = v
		case "created":
			f.created = v
		}
		return true
	})
	return f
}

// annotationOnly reports whether a chunk only annotates earlier content (the asynchronous
// content filter's chunks): it has choices, none with a delta or a finish reason, and no usage.
// Such a chunk carries nothing an OpenAI client reads, and openai-go's accumulator would let its
// empty finish_reason overwrite the stream's real one.
func (f chunkFields) annotationOnly() bool {
	if !f.choices.IsArray() || f.usage.IsObject() {
		return false
	}
	n, annotations := 0, 0
	f.choices.ForEach(func(_, c gjson.Result) bool {
		n++
		var delta, finish gjson.Result
		c.ForEach(func(k, v gjson.Result) bool {
			switch k.Str {
			case "delta":
				delta = v
			case "finish_reason":
				finish = v
			}
			return true
		})
		if !delta.Exists() && (finish.Type == gjson.Null) {
			annotations++
		}
		return true
	})
	return n > 0 && annotations == n
}

// normalize returns data with the stream's id, object, model and created; f are data's fields.
func (s *stream) normalize(data []byte, f chunkFields) []byte {
	if !s.started {
		s.started = true
		s.id, s.model, s.created = strings.Clone(f.id.String()), strings.Clone(f.model.String()), f.created.Int()
		if s.id == "" {
			s.id = s.newID()
		}
		if s.model == "" {
			s.model = s.deployment
		}
		if s.created == 0 {
			s.created = time.Now().Unix()
		}
	}
	// The checks read data, which the edits below replace: decide everything first.
	fixID := f.id.Type != gjson.String || f.id.Str != s.id
	fixObject := f.object.Type != gjson.String || f.object.Str != chunkObject
	fixModel := f.model.Type != gjson.String || f.model.Str != s.model
	fixCreated := f.created.Type != gjson.Number || f.created.Int() == 0
	out := data
	set := func(path string, v any) {
		if b, err := sjson.SetBytes(out, path, v); err == nil {
			out = b
		}
	}
	if fixID {
		set("id", s.id)
	}
	if fixObject {
		set("object", chunkObject)
	}
	if fixModel {
		set("model", s.model)
	}
	if fixCreated {
		set("created", s.created)
	}
	return out
}

// Chunk returns the chunk Next advanced to; its Data is valid until the next call to Next.
func (s *stream) Chunk() *clearbar.Chunk { return &s.chunk }

// Err returns the error that ended the stream, with Azure's content-filter codes as
// ContentPolicy.
func (s *stream) Err() error { return refine(s.inner.Err()) }

// Close releases the connection; see clearbar.Stream.
func (s *stream) Close() error { return s.inner.Close() }

// UpstreamRequestID returns the upstream's request id, when the inner stream knows it.
func (s *stream) UpstreamRequestID() string {
	if r, ok := s.inner.(interface{ UpstreamRequestID() string }); ok {
		return r.UpstreamRequestID()
	}
	return ""
}

// newStreamID returns "chatcmpl-" and 24 random hex digits.
func newStreamID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "chatcmpl-" + hex.EncodeToString(b[:])
}

var (
	_ clearbar.Stream                         = (*stream)(nil)
	_ interface{ UpstreamRequestID() string } = (*stream)(nil)
)
