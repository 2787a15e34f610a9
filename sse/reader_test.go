package sse

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll reads every event from r, copying the data, and returns them with the final error.
func readAll(r *Reader) ([]Event, error) {
	var out []Event
	for r.Next() {
		e := r.Event()
		e.Data = bytes.Clone(e.Data)
		out = append(out, e)
	}
	return out, r.Err()
}

func ev(data string) Event { return Event{Data: []byte(data)} }

func sameEvents(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].ID != b[i].ID || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}

func TestReader(t *testing.T) {
	tests := []struct {
		name        string
		explanation string
		in          string
		want        []Event
		err         error
	}{
		{"one event", "the basic shape: a data line and a blank line", "data: hello\n\n", []Event{ev("hello")}, nil},
		{"empty stream", "no bytes is a clean end with no events", "", nil, nil},
		{"crlf", "CRLF line endings (some proxies) read like LF", "data: a\r\n\r\ndata: b\r\n\r\n", []Event{ev("a"), ev("b")}, nil},
		{"cr only", "a lone CR ends a line too", "data: a\r\rdata: b\r\r", []Event{ev("a"), ev("b")}, nil},
		{"mixed endings", "each line may use a different ending", "data: a\r\ndata: b\n\rdata: c\r\n\n", []Event{ev("a\nb"), ev("c")}, nil},
		{"comments", "keep-alive comments are skipped, also between the lines of one event", ": ping\n\ndata: a\n: OPENROUTER PROCESSING\ndata: b\n\n:\n\n", []Event{ev("a\nb")}, nil},
		{"no space after colon", "the space after the colon is optional", "data:x\n\n", []Event{ev("x")}, nil},
		{"only one space stripped", "exactly one leading space is removed from a value", "data:  two\n\n", []Event{ev(" two")}, nil},
		{"multi-line data", "data lines are joined with LF, without a trailing LF", "data: {\ndata: \"a\": 1\ndata: }\n\n", []Event{ev("{\n\"a\": 1\n}")}, nil},
		{"empty data line", "a single empty data line dispatches an event with empty data", "data:\n\n", []Event{ev("")}, nil},
		{"field without colon", "a line without a colon is a field with an empty value", "data\ndata\n\n", []Event{ev("\n")}, nil},
		{"event type", "event: sets the type of the next dispatched event", "event: message_start\ndata: {}\n\n", []Event{{Type: "message_start", Data: []byte("{}")}}, nil},
		{"type resets after dispatch", "the type applies to one event only", "event: a\ndata: 1\n\ndata: 2\n\n", []Event{{Type: "a", Data: []byte("1")}, ev("2")}, nil},
		{"type resets without data", "a blank line with no data dispatches nothing but still resets the type", "event: a\n\ndata: 2\n\n", []Event{ev("2")}, nil},
		{"id persists", "the last event ID carries over to later events", "id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n", []Event{{ID: "7", Data: []byte("a")}, {ID: "7", Data: []byte("b")}, {Data: []byte("c")}}, nil},
		{"id with NUL ignored", "an id containing NUL is ignored, as the standard says", "id: 1\ndata: a\n\nid: x\x00y\ndata: b\n\n", []Event{{ID: "1", Data: []byte("a")}, {ID: "1", Data: []byte("b")}}, nil},
		{"unknown fields", "retry and unknown fields are ignored", "retry: 1000\nfoo: bar\ndata: a\n\n", []Event{ev("a")}, nil},
		{"bom", "a UTF-8 byte order mark at the start is skipped", "\xEF\xBB\xBFdata: a\n\n", []Event{ev("a")}, nil},
		{"bom only at start", "a BOM later in the stream is part of the line (here an unknown field)", "data: a\n\n\xEF\xBB\xBFdata: b\n\n", []Event{ev("a")}, nil},
		{"blank lines between events", "extra blank lines are harmless", "\n\n\ndata: a\n\n\n\n", []Event{ev("a")}, nil},
		{"openai stream", "a chat stream with its terminator", "data: {\"id\":\"1\"}\n\ndata: [DONE]\n\n", []Event{ev(`{"id":"1"}`), ev("[DONE]")}, nil},
		{"unterminated event", "a data line without the blank line is not dispatched: the stream was cut", "data: a\n\ndata: b\n", []Event{ev("a")}, ErrUnterminated},
		{"unterminated line", "a last line without a line ending is cut mid-line", "data: a\n\ndata: b", []Event{ev("a")}, ErrUnterminated},
		{"unterminated comment line", "a cut comment is still a cut line", "data: a\n\n: pi", []Event{ev("a")}, ErrUnterminated},
		{"unterminated event type", "an event line after the last blank line is a pending event", "data: a\n\nevent: x\n", []Event{ev("a")}, ErrUnterminated},
		{"comment at the end", "a complete comment line after the last event is a clean end", "data: a\n\n: bye\n", []Event{ev("a")}, nil},
		{"ends in cr", "a CR is a complete line ending, also as the last byte", "data: a\r\r", []Event{ev("a")}, nil},
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		// One byte per read puts every CR at the end of a read, before its LF arrives.
		{"one byte", iotest.OneByteReader},
		// The last bytes arrive with io.EOF, as many network readers deliver them.
		{"data with eof", iotest.DataErrReader},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				got, err := readAll(NewReader(rd.wrap(strings.NewReader(tt.in))))
				if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
					t.Errorf("%s\nErr() = %v, want %v", tt.explanation, err, tt.err)
				}
				if !sameEvents(got, tt.want) {
					t.Errorf("%s\nevents = %q, want %q", tt.explanation, got, tt.want)
				}
			})
		}
	}
}

func TestReaderLimits(t *testing.T) {
	tests := []struct {
		name, explanation, in string
		max                   int
		want                  []Event
		err                   error
	}{
		{"line at the limit", "a line of exactly max bytes is accepted", "data: 12\n\n", 8, []Event{ev("12")}, nil},
		{"line at the limit crlf", "the line ending does not count against the limit", "data: 12\r\n\r\n", 8, []Event{ev("12")}, nil},
		{"line over the limit", "one byte more is an error", "data: 123\n\n", 8, nil, ErrTooLong},
		{"unterminated line over the limit", "a long line fails before its end arrives", "data: 1234567890", 8, nil, ErrTooLong},
		{"event over the limit", "many short data lines cannot build an unbounded event", "data: 1234\ndata: 1234\n\n", 8, nil, ErrTooLong},
		{"events after a good one", "events before the long line are still delivered", "data: a\n\ndata: 123456789\n\n", 8, []Event{ev("a")}, ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(NewReaderSize(iotest.OneByteReader(strings.NewReader(tt.in)), tt.max))
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Errorf("%s\nErr() = %v, want %v", tt.explanation, err, tt.err)
			}
			if !sameEvents(got, tt.want) {
				t.Errorf("%s\nevents = %q, want %q", tt.explanation, got, tt.want)
			}
		})
	}
}

func TestReaderUnderlyingError(t *testing.T) {
	boom := errors.New("connection reset")
	r := NewReader(io.MultiReader(strings.NewReader("data: a\n\ndata: b\n"), iotest.ErrReader(boom)))
	got, err := readAll(r)
	if !errors.Is(err, boom) {
		t.Errorf("Err() = %v, want the reader's error", err)
	}
	if !sameEvents(got, []Event{ev("a")}) {
		t.Errorf("events = %q, want only the complete one", got)
	}
	if r.Next() {
		t.Error("Next after the end returned true")
	}
	if !errors.Is(r.Err(), boom) {
		t.Errorf("Err() changed after the end to %v", r.Err())
	}
}

// TestReaderDataValidUntilNext documents the ownership rule: Data is reused by the next event.
func TestReaderDataValidUntilNext(t *testing.T) {
	r := NewReader(strings.NewReader("data: first\n\ndata: second\n\n"))
	r.Next()
	first := r.Event().Data
	kept := bytes.Clone(first)
	r.Next()
	if string(kept) != "first" || string(r.Event().Data) != "second" {
		t.Fatalf("kept %q, now %q", kept, r.Event().Data)
	}
	if string(first) == "first" {
		t.Error("the data buffer was not reused: events allocate")
	}
}
