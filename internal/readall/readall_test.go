package readall

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

// trickle sends n bytes, then waits for ever: what a peer that declared more sends.
type trickle struct{ n int }

func (t *trickle) Read(p []byte) (int, error) {
	if t.n == 0 {
		return 0, iotest.ErrTimeout
	}
	k := min(len(p), t.n)
	t.n -= k
	return k, nil
}

// TestReadDoesNotTrustTheDeclaredLength: a peer that declares 32 MB and sends 12 bytes gets a
// buffer of at most MaxInitial, not 32 MB.
func TestReadDoesNotTrustTheDeclaredLength(t *testing.T) {
	got, err := Read(&trickle{n: 12}, 32<<20)
	if err != iotest.ErrTimeout || len(got) != 12 {
		t.Fatalf("Read = %d bytes, %v; want the 12 sent and the reader's error", len(got), err)
	}
	if cap(got) > MaxInitial+bytes.MinRead {
		t.Errorf("buffer of %d bytes for 12 received; want at most %d", cap(got), MaxInitial+bytes.MinRead)
	}
}

// TestReadSizes: every body reads whole, in a buffer of its declared size when declared and
// within twice what arrived otherwise.
func TestReadSizes(t *testing.T) {
	for _, n := range []int{0, 1, 2 << 10, MaxInitial - 1, MaxInitial, MaxInitial + 1, 100 << 10, 1 << 20, 5<<20 + 3} {
		data := bytes.Repeat([]byte{'x'}, n)
		for _, declared := range []int64{int64(n), -1} {
			got, err := Read(iotest.HalfReader(bytes.NewReader(data)), declared)
			if err != io.EOF || !bytes.Equal(got, data) {
				t.Fatalf("n %d, declared %d: got %d bytes, err %v", n, declared, len(got), err)
			}
			if declared >= 0 && n <= MaxInitial && cap(got) > n+bytes.MinRead {
				t.Errorf("n %d declared: buffer %d, want its size", n, cap(got))
			}
			if cap(got) > 2*(n+MaxInitial+bytes.MinRead) {
				t.Errorf("n %d, declared %d: buffer %d is more than twice what arrived", n, declared, cap(got))
			}
		}
	}
}
