// Package sse reads and writes server-sent events (the text/event-stream format of the WHATWG
// HTML standard, section 9.2), the framing every LLM API uses for streamed answers.
//
// [Reader] is an iterator in the shape of openai-go's ssestream decoder (Next, Event, Err) that
// follows the standard's parsing rules exactly, so that it reads what real upstreams send: lines
// end in "\n", "\r\n" or "\r"; comment lines (":" keep-alives) are skipped; an event is
// dispatched on a blank line and never before. Unlike openai-go it reports a stream that ends
// inside an event as [ErrUnterminated], so a cut connection can be told from a clean end.
//
// [Writer] writes events so that every reader accepts them: each event ends with a blank line,
// multi-line data is split into several data lines, and every event is flushed at once.
//
// Both reuse their buffers: in steady state neither allocates per event.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// DefaultMaxLineSize bounds the length of one line, and of one event's joined data, for a
// Reader made by NewReader: 32 MiB, the limit of openai-go's decoder, so the gateway accepts
// any event the SDKs accept.
const DefaultMaxLineSize = 32 << 20

var (
	// ErrUnterminated is returned by Reader.Err when the stream ended inside an event: after
	// the last blank line came a field line, or a line without its line ending. The
	// unfinished event is not dispatched (the standard says to discard it). For an LLM stream
	// it means the connection was cut mid-event.
	ErrUnterminated = errors.New("sse: stream ended inside an event")
	// ErrTooLong is returned by Reader.Err when a line, or the joined data of one event, is
	// longer than the reader's limit.
	ErrTooLong = errors.New("sse: line or event longer than the limit")
)

// Event is one dispatched event.
type Event struct {
	// Type is the value of the event's "event:" line, or "" when it had none (the standard's
	// default type "message" is not filled in).
	Type string
	// Data is the values of the event's "data:" lines joined with "\n". It is owned by the
	// Reader and valid only until the next call to Next; copy it to keep it.
	Data []byte
	// ID is the last event ID: the value of the most recent "id:" line in the stream, this
	// event's or an earlier one's, as the standard defines it ("" until one is seen).
	ID string
}

// Reader reads events from a stream. It reads the underlying reader in blocks, so it may read
// past the last event it returns. A Reader is not safe for concurrent use.
type Reader struct {
	sc      *bufio.Scanner
	max     int
	evt     Event
	data    []byte
	hasData bool
	typ     string
	id      string
	// lastTyp is the last event type read, kept to reuse its string for the next event.
	lastTyp string
	// pending says a field line was read since the last dispatch; partial that the last line
	// had no line ending; skipLF that the previous line ended in "\r", so a "\n" right after
	// it belongs to that line ending.
	pending, partial, skipLF bool
	started                  bool
	err                      error
	done                     bool
}

// NewReader returns a Reader over r with the default limit, DefaultMaxLineSize.
func NewReader(r io.Reader) *Reader { return NewReaderSize(r, DefaultMaxLineSize) }

// NewReaderSize returns a Reader over r that fails with ErrTooLong on a line, or an event's
// joined data, longer than maxLine bytes. A maxLine below 1 means DefaultMaxLineSize. Buffers
// grow as needed up to about maxLine; they start at 4 KiB.
func NewReaderSize(r io.Reader, maxLine int) *Reader {
	if maxLine < 1 {
		maxLine = DefaultMaxLineSize
	}
	rd := &Reader{max: maxLine}
	rd.sc = bufio.NewScanner(r)
	start := min(4096, maxLine+2)
	// The buffer must hold a whole line plus its line ending ("\r\n").
	rd.sc.Buffer(make([]byte, start), maxLine+2)
	rd.sc.Split(rd.splitLine)
	return rd
}

// splitLine is the bufio.SplitFunc of a Reader: it returns one line without its ending. A
// "\r" at the end of the data read so far ends its line at once (a reader must not wait for
// the next byte to dispatch an event); a "\n" arriving next is then skipped.
func (r *Reader) splitLine(data []byte, atEOF bool) (int, []byte, error) {
	if r.skipLF && len(data) > 0 {
		r.skipLF = false
		if data[0] == '\n' {
			return 1, nil, nil
		}
	}
	lf := bytes.IndexByte(data, '\n')
	scope := data
	if lf >= 0 {
		scope = data[:lf]
	}
	if cr := bytes.IndexByte(scope, '\r'); cr >= 0 {
		if cr > r.max {
			return 0, nil, ErrTooLong
		}
		switch {
		case cr+1 == len(data):
			r.skipLF = true
			return cr + 1, data[:cr], nil
		case data[cr+1] == '\n':
			return cr + 2, data[:cr], nil
		}
		return cr + 1, data[:cr], nil
	}
	if lf >= 0 {
		if lf > r.max {
			return 0, nil, ErrTooLong
		}
		return lf + 1, data[:lf], nil
	}
	if len(data) > r.max {
		return 0, nil, ErrTooLong
	}
	if atEOF && len(data) > 0 {
		r.partial = true
		return len(data), data, nil
	}
	return 0, nil, nil
}

// Next advances to the next event and reports whether there is one. It returns false at the
// end of the stream or on an error; Err tells which. It blocks until a whole event has been
// read.
func (r *Reader) Next() bool {
	if r.done {
		return false
	}
	for r.sc.Scan() {
		line := r.sc.Bytes()
		if !r.started {
			r.started = true
			line = bytes.TrimPrefix(line, []byte("\xEF\xBB\xBF"))
		}
		if len(line) == 0 {
			if r.dispatch() {
				return true
			}
			continue
		}
		if line[0] == ':' {
			continue
		}
		r.pending = true
		name, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			name, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(name) {
		case "data":
			if r.hasData {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, value...)
			r.hasData = true
			if len(r.data) > r.max {
				return r.fail(ErrTooLong)
			}
		case "event":
			r.lastTyp = intern(r.lastTyp, value)
			r.typ = r.lastTyp
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				r.id = intern(r.id, value)
			}
		}
		// "retry" and unknown fields are ignored, as the standard says.
	}
	err := r.sc.Err()
	switch {
	case errors.Is(err, bufio.ErrTooLong):
		err = ErrTooLong
	case err == nil && (r.pending || r.partial):
		err = ErrUnterminated
	}
	return r.fail(err)
}

// dispatch ends the current event at a blank line and reports whether it has data to return.
func (r *Reader) dispatch() bool {
	r.pending = false
	if !r.hasData {
		r.typ = ""
		return false
	}
	r.evt = Event{Type: r.typ, Data: r.data, ID: r.id}
	r.data, r.hasData, r.typ = r.data[:0], false, ""
	return true
}

func (r *Reader) fail(err error) bool {
	r.done, r.err = true, err
	r.evt = Event{}
	return false
}

// intern returns old when it already holds b, so that repeated event types and ids do not
// allocate.
func intern(old string, b []byte) string {
	if old == string(b) {
		return old
	}
	return string(b)
}

// Event returns the event Next advanced to. Its Data is valid until the next call to Next.
func (r *Reader) Event() Event { return r.evt }

// Err returns the error that ended the stream: nil at a clean end (the stream ended at an
// event boundary), ErrUnterminated when it ended inside an event, ErrTooLong, or the
// underlying reader's error (io.ErrUnexpectedEOF, a network error, a context error).
func (r *Reader) Err() error { return r.err }
