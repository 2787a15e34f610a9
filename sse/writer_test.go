package sse

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWriter(t *testing.T) {
	tests := []struct {
		name, explanation string
		write             func(w *Writer) error
		want              string
	}{
		{"data", "one data line and the blank line", func(w *Writer) error { return w.WriteData([]byte(`{"a":1}`)) }, "data: {\"a\":1}\n\n"},
		{"empty data", "an empty data line still makes an event", func(w *Writer) error { return w.WriteData(nil) }, "data: \n\n"},
		{"multi-line data", "each line gets its own data: prefix", func(w *Writer) error { return w.WriteData([]byte("a\nb")) }, "data: a\ndata: b\n\n"},
		{"crlf in data", "CRLF and CR split lines too, so no CR reaches the wire inside a line", func(w *Writer) error { return w.WriteData([]byte("a\r\nb\rc")) }, "data: a\ndata: b\ndata: c\n\n"},
		{"trailing newline", "a trailing line break makes a final empty data line", func(w *Writer) error { return w.WriteData([]byte("a\n")) }, "data: a\ndata: \n\n"},
		{"leading space kept", "the single space after the colon protects a value's own leading space", func(w *Writer) error { return w.WriteData([]byte(" a")) }, "data:  a\n\n"},
		{"event", "an event line before the data (Anthropic streams)", func(w *Writer) error { return w.WriteEvent("message_stop", []byte(`{}`)) }, "event: message_stop\ndata: {}\n\n"},
		{"event without type", "an empty type is a plain data event", func(w *Writer) error { return w.WriteEvent("", []byte("x")) }, "data: x\n\n"},
		{"comment", "a keep-alive comment ends with a blank line too", func(w *Writer) error { return w.WriteComment("ping") }, ": ping\n\n"},
		{"multi-line comment", "every comment line starts with a colon", func(w *Writer) error { return w.WriteComment("a\nb") }, ": a\n: b\n\n"},
		{"done", "OpenAI's terminator", func(w *Writer) error { return w.WriteDone() }, "data: [DONE]\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.write(NewWriter(&buf)); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.want {
				t.Errorf("%s\nwrote %q, want %q", tt.explanation, buf.String(), tt.want)
			}
		})
	}
}

func TestWriterRejectsTypeWithLineBreak(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.WriteEvent("a\nb", []byte("x")); err == nil {
		t.Fatal("an event type with a line break was accepted")
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %q for a rejected event", buf.String())
	}
	if err := w.WriteData([]byte("x")); err != nil {
		t.Errorf("a rejected type broke the writer: %v", err)
	}
}

type countingFlusher struct {
	bytes.Buffer
	flushes int
}

func (c *countingFlusher) Flush() { c.flushes++ }

func TestWriterFlushesEveryEvent(t *testing.T) {
	t.Run("http.Flusher", func(t *testing.T) {
		var f countingFlusher
		w := NewWriter(&f)
		_ = w.WriteData([]byte("a"))
		_ = w.WriteComment("ping")
		_ = w.WriteDone()
		if f.flushes != 3 {
			t.Errorf("flushed %d times for 3 writes", f.flushes)
		}
	})
	t.Run("ResponseWriter", func(t *testing.T) {
		rec := httptest.NewRecorder()
		w := NewWriter(rec)
		if err := w.WriteData([]byte("a")); err != nil {
			t.Fatal(err)
		}
		if !rec.Flushed {
			t.Error("the response was not flushed")
		}
	})
	t.Run("wrapped ResponseWriter", func(t *testing.T) {
		// Middleware wrappers reach Flush through Unwrap, as http.ResponseController does.
		rec := httptest.NewRecorder()
		if err := NewWriter(unwrapper{rec}).WriteData([]byte("a")); err != nil {
			t.Fatal(err)
		}
		if !rec.Flushed {
			t.Error("the wrapped response was not flushed")
		}
	})
	t.Run("ResponseWriter that cannot flush", func(t *testing.T) {
		w := NewWriter(noFlush{httptest.NewRecorder()})
		err := w.WriteData([]byte("a"))
		if !errors.Is(err, http.ErrNotSupported) {
			t.Errorf("err = %v, want http.ErrNotSupported", err)
		}
	})
}

type unwrapper struct{ http.ResponseWriter }

func (u unwrapper) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// noFlush hides the recorder's Flush and offers no Unwrap.
type noFlush struct{ rw http.ResponseWriter }

func (n noFlush) Header() http.Header         { return n.rw.Header() }
func (n noFlush) Write(b []byte) (int, error) { return n.rw.Write(b) }
func (n noFlush) WriteHeader(code int)        { n.rw.WriteHeader(code) }

type failingWriter struct{ writes int }

func (f *failingWriter) Write(b []byte) (int, error) {
	f.writes++
	return 0, errors.New("broken pipe")
}

func TestWriterErrorIsSticky(t *testing.T) {
	f := &failingWriter{}
	w := NewWriter(f)
	first := w.WriteData([]byte("a"))
	if first == nil {
		t.Fatal("no error from a failing writer")
	}
	if err := w.WriteDone(); err != first {
		t.Errorf("second write returned %v, want the first error %v", err, first)
	}
	if f.writes != 1 {
		t.Errorf("wrote %d times to a broken stream", f.writes)
	}
}

// normalize is what a data payload reads back as: SSE cannot carry CR, so every line ending
// becomes LF.
func normalize(data []byte) []byte {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	return []byte(strings.ReplaceAll(s, "\r", "\n"))
}

// TestRoundTrip is the writer/reader property: whatever events Writer writes, interleaved with
// comments, Reader reads back with the same types and data (line endings as LF).
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab :\n\r\x00{}\"[DONE]data:event:é")
	types := []string{"", "message", "content_block_delta", "error", " spaced"}
	for i := range 2000 {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		var want []Event
		for range rng.IntN(5) {
			data := make([]byte, rng.IntN(40))
			for j := range data {
				data[j] = alphabet[rng.IntN(len(alphabet))]
			}
			typ := types[rng.IntN(len(types))]
			if rng.IntN(3) == 0 {
				if err := w.WriteComment(string(data)); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err := w.WriteEvent(typ, data); err != nil {
				t.Fatal(err)
			}
			// The space the writer puts after the colon protects a type's own leading space.
			want = append(want, Event{Type: typ, Data: normalize(data)})
		}
		got, err := readAll(NewReader(bytes.NewReader(buf.Bytes())))
		if err != nil {
			t.Fatalf("case %d: Err() = %v for %q", i, err, buf.String())
		}
		if !sameEvents(got, want) {
			t.Fatalf("case %d: read %q, wrote %q as %q", i, got, want, buf.String())
		}
	}
}
