// Package readall reads a body whose declared length is only a claim: the buffer grows with
// the bytes received, so that a peer which declares a large length and sends a few bytes holds
// little memory.
package readall

import (
	"bytes"
	"io"
)

// MaxInitial bounds the buffer Read allocates before any byte arrives: large enough that the
// usual bodies, up to about 100 KB, are read into one buffer of their declared size, as when
// the declaration was trusted; small enough that a connection which declares 32 MB and sends
// nothing holds 128 KiB.
const MaxInitial = 128 << 10

// Read reads r to its end (io.EOF) or first error, which it returns with what was read. The
// buffer starts at the declared length (−1 for none), at most MaxInitial, and doubles as bytes
// arrive, so that it is never much more than twice what arrived; a declared length caps the
// last doubling, so that a body of that length ends in a buffer of its size. The caller bounds
// r (io.LimitReader, http.MaxBytesReader).
func Read(r io.Reader, declared int64) ([]byte, error) {
	size := int64(MaxInitial)
	if declared >= 0 {
		size = min(declared, MaxInitial)
	}
	body := make([]byte, 0, size+bytes.MinRead)
	for {
		if len(body) == cap(body) {
			// Double, but stop at the declared length (and the byte that finds its end).
			grow := int64(cap(body))
			if left := declared - int64(len(body)) + bytes.MinRead; declared >= 0 && left > 0 && left < grow {
				grow = left
			}
			body = append(make([]byte, 0, int64(cap(body))+grow), body...)
		}
		n, err := r.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if err != nil {
			return body, err
		}
	}
}
