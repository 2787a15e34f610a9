package sse

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
)

// reference is a deliberately naive reading of the WHATWG event-stream parsing rules: split the
// whole input into lines, then interpret them. FuzzReader checks the streaming Reader against it.
func reference(in []byte) (events []Event, unterminated bool) {
	s := strings.TrimPrefix(string(in), "\xEF\xBB\xBF")
	lines := regexp.MustCompile(`\r\n|\r|\n`).Split(s, -1)
	// The piece after the last line ending is an unfinished line ("" when the input ends
	// with a line ending).
	partial := lines[len(lines)-1] != ""
	lines = lines[:len(lines)-1]
	var (
		data    []string
		hasData bool
		typ, id string
		pending bool
	)
	for _, line := range lines {
		switch {
		case line == "":
			pending = false
			if hasData {
				events = append(events, Event{Type: typ, Data: []byte(strings.Join(data, "\n")), ID: id})
			}
			data, hasData, typ = nil, false, ""
			continue
		case line[0] == ':':
			continue
		}
		pending = true
		name, value, found := strings.Cut(line, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		switch name {
		case "data":
			data, hasData = append(data, value), true
		case "event":
			typ = value
		case "id":
			if !strings.Contains(value, "\x00") {
				id = value
			}
		}
	}
	return events, partial || pending
}

func FuzzReader(f *testing.F) {
	seeds := []string{
		"data: hello\n\n",
		"data: a\r\n\r\ndata: b\r\rdata: c\n\n",
		": ping\n\nevent: x\ndata: 1\ndata: 2\nid: 9\n\n",
		"data: {\"choices\":[]}\n\ndata: [DONE]\n\n",
		"data: cut",
		"\xEF\xBB\xBFdata\n\n",
		"id: a\x00b\ndata:\n\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), "message", []byte("line one\nline two"))
	}
	f.Fuzz(func(t *testing.T, stream []byte, typ string, data []byte) {
		// 1. Any bytes: the Reader never panics and agrees with the reference parser.
		got, err := readAll(NewReaderSize(bytes.NewReader(stream), 1<<20))
		want, unterminated := reference(stream)
		if !sameEvents(got, want) {
			t.Fatalf("Reader read %q, reference %q, from %q", got, want, stream)
		}
		switch {
		case unterminated && !errors.Is(err, ErrUnterminated):
			t.Fatalf("Err() = %v for an unterminated stream %q", err, stream)
		case !unterminated && err != nil:
			t.Fatalf("Err() = %v for a complete stream %q", err, stream)
		}

		// 2. Whatever the Writer writes, the Reader reads back.
		var buf bytes.Buffer
		w := NewWriter(&buf)
		var wantRT []Event
		if w.WriteEvent(typ, data) == nil {
			wantRT = append(wantRT, Event{Type: typ, Data: normalize(data)})
		} else if !strings.ContainsAny(typ, "\r\n") {
			t.Fatalf("WriteEvent(%q) failed for a valid type", typ)
		}
		_ = w.WriteComment(string(data))
		_ = w.WriteData(data)
		_ = w.WriteDone()
		wantRT = append(wantRT, Event{Data: normalize(data)}, Event{Data: []byte("[DONE]")})
		gotRT, err := readAll(NewReader(bytes.NewReader(buf.Bytes())))
		if err != nil || !sameEvents(gotRT, wantRT) {
			t.Fatalf("round trip of type %q data %q: read %q (err %v), want %q; wire %q", typ, data, gotRT, err, wantRT, buf.String())
		}
	})
}
