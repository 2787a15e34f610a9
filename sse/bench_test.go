package sse

import (
	"bytes"
	"io"
	"testing"
)

// chatChunk is a typical OpenAI stream event payload.
const chatChunk = `{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}],"usage":null}`

// loop repeats a buffer forever, so that a benchmark reads b.N events from one Reader.
type loop struct {
	b   []byte
	off int
}

func (l *loop) Read(p []byte) (int, error) {
	n := copy(p, l.b[l.off:])
	l.off = (l.off + n) % len(l.b)
	return n, nil
}

func BenchmarkReader(b *testing.B) {
	var stream bytes.Buffer
	for range 64 {
		stream.WriteString("data: " + chatChunk + "\n\n")
	}
	stream.WriteString(": keep-alive\n\n")
	r := NewReader(&loop{b: stream.Bytes()})
	b.SetBytes(int64(len("data: " + chatChunk + "\n\n")))
	b.ReportAllocs()
	for b.Loop() {
		if !r.Next() {
			b.Fatal(r.Err())
		}
	}
}

func BenchmarkReaderCRLFEventType(b *testing.B) {
	var stream bytes.Buffer
	for range 64 {
		stream.WriteString("event: content_block_delta\r\ndata: " + chatChunk + "\r\n\r\n")
	}
	r := NewReader(&loop{b: stream.Bytes()})
	b.ReportAllocs()
	for b.Loop() {
		if !r.Next() {
			b.Fatal(r.Err())
		}
	}
}

func BenchmarkWriter(b *testing.B) {
	w := NewWriter(io.Discard)
	data := []byte(chatChunk)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := w.WriteData(data); err != nil {
			b.Fatal(err)
		}
	}
}
