package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Writer writes events to a stream and flushes each one, so that a client sees every event as
// soon as it is written. Every event, comment and terminator ends with a blank line: openai-go
// dispatches an event only on a blank line and silently drops a last event without one.
//
// A Writer is not safe for concurrent use. After a failed write or flush every later call
// returns the same error: the stream is broken and the client must not be sent a stream that
// looks whole.
type Writer struct {
	w     io.Writer
	flush func() error
	buf   []byte
	err   error
}

// NewWriter returns a Writer to w. When w is an http.ResponseWriter it flushes with
// http.NewResponseController, which finds Flush through wrappers that implement Unwrap; a
// writer that cannot flush then makes every write fail with http.ErrNotSupported wrapped, since
// an unflushed stream is not a stream. Otherwise w is flushed when it has a Flush() error method
// (bufio.Writer) or a Flush() method (http.Flusher), and not at all when it has neither (a
// bytes.Buffer in a test).
//
// The caller sets the response headers (Content-Type: text/event-stream) before the first
// write.
func NewWriter(w io.Writer) *Writer {
	sw := &Writer{w: w}
	switch f := w.(type) {
	case http.ResponseWriter:
		sw.flush = http.NewResponseController(f).Flush
	case interface{ Flush() error }:
		sw.flush = f.Flush
	case http.Flusher:
		sw.flush = func() error { f.Flush(); return nil }
	}
	return sw
}

// WriteData writes one event with data and no type: "data: …\n\n". Data with line breaks
// ("\n", "\r\n" or "\r") is written as several data lines, which a reader joins with "\n";
// a line ending inside data therefore reads back as "\n". Empty data is written as one empty
// data line, which a reader dispatches as an event with empty data.
func (w *Writer) WriteData(data []byte) error {
	return w.WriteEvent("", data)
}

// WriteEvent writes one event with a type ("event: typ" line) and data, as Anthropic's streams
// need. An empty typ writes no event line. A typ with a line break is an error (it would split
// the event), and nothing is written.
func (w *Writer) WriteEvent(typ string, data []byte) error {
	if w.err != nil {
		return w.err
	}
	if strings.ContainsAny(typ, "\r\n") {
		return fmt.Errorf("sse: event type %q contains a line break", typ)
	}
	b := w.buf[:0]
	if typ != "" {
		b = append(b, "event: "...)
		b = append(b, typ...)
		b = append(b, '\n')
	}
	b = appendLines(b, "data: ", data)
	b = append(b, '\n')
	return w.send(b)
}

// WriteComment writes a comment, such as a keep-alive ": ping", followed by a blank line.
// Readers ignore comments. Text with line breaks is written as several comment lines.
func (w *Writer) WriteComment(text string) error {
	if w.err != nil {
		return w.err
	}
	b := appendLines(w.buf[:0], ": ", []byte(text))
	b = append(b, '\n')
	return w.send(b)
}

// WriteDone writes OpenAI's stream terminator, "data: [DONE]\n\n".
func (w *Writer) WriteDone() error {
	return w.WriteData([]byte("[DONE]"))
}

// appendLines appends text as lines, each prefixed, splitting it at every line ending.
func appendLines(b []byte, prefix string, text []byte) []byte {
	for {
		i := indexLineBreak(text)
		b = append(b, prefix...)
		if i < 0 {
			b = append(b, text...)
			return append(b, '\n')
		}
		b = append(b, text[:i]...)
		b = append(b, '\n')
		if text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n' {
			i++
		}
		text = text[i+1:]
	}
}

// indexLineBreak returns the index of the first "\r" or "\n" in text, or -1.
func indexLineBreak(text []byte) int {
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		if j := bytes.IndexByte(text[:i], '\r'); j >= 0 {
			return j
		}
		return i
	}
	return bytes.IndexByte(text, '\r')
}

func (w *Writer) send(b []byte) error {
	w.buf = b
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("sse: write: %w", err)
		return w.err
	}
	if w.flush != nil {
		if err := w.flush(); err != nil {
			if errors.Is(err, http.ErrNotSupported) {
				err = fmt.Errorf("the response writer cannot flush: %w", err)
			}
			w.err = fmt.Errorf("sse: flush: %w", err)
			return w.err
		}
	}
	return nil
}
