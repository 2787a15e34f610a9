package gateway

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/readall"
)

// postBody is a POST whose body reads from body and declares length (-1: unknown, as a
// chunked body).
func postBody(body io.Reader, length int64) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", body)
	r.ContentLength = length
	r.Header.Set("Content-Type", "application/json")
	return r
}

// TestReadBodyDeclaredLength: a client that declares a body of the limit's size and sends a
// few bytes gets no buffer of the declared size: memory follows the bytes received, not the
// Content-Length (before, 60 such connections took the gateway from 30 MB to 2 GB).
func TestReadBodyDeclaredLength(t *testing.T) {
	const limit = 32 << 20
	for _, end := range []error{io.EOF, io.ErrUnexpectedEOF} {
		rd := &recordingReader{r: io.MultiReader(strings.NewReader(`{"model":"m"`), errReader{end})}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		buf, err := readBody(httptest.NewRecorder(), postBody(rd, limit), limit)
		runtime.ReadMemStats(&after)
		if end == io.EOF && (err != nil || string(buf) != `{"model":"m"`) {
			t.Errorf("body %q, %v", buf, err)
		}
		if end != io.EOF && err == nil {
			t.Errorf("a body cut short: %q, no error", buf)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("ending with %v: %d bytes allocated for a body of 12 bytes declared %d", end, n, limit)
		}
		if rd.largest > readall.MaxInitial+bytes.MinRead || cap(buf) > readall.MaxInitial+bytes.MinRead {
			t.Errorf("ending with %v: read into a buffer of %d bytes, capacity %d", end, rd.largest, cap(buf))
		}
	}
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestReadBodyGrowsWithData: bodies of every size read whole, in a buffer at most about twice
// what arrived, and the declared length, when true, sizes the last step exactly.
func TestReadBodyGrowsWithData(t *testing.T) {
	for _, n := range []int{0, 1, 2 << 10, readall.MaxInitial - 1, readall.MaxInitial, readall.MaxInitial + 1, 100 << 10, 1 << 20, 5<<20 + 3} {
		data := bytes.Repeat([]byte("x"), n)
		for _, declared := range []int64{int64(n), -1} {
			got, err := readBody(httptest.NewRecorder(), postBody(bytes.NewReader(data), declared), 32<<20)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("%d bytes, declared %d: %d bytes, %v", n, declared, len(got), err)
				continue
			}
			// The allocator rounds up to its size classes: within an eighth.
			if want := n + bytes.MinRead; declared >= 0 && cap(got) > want+want/8+8<<10 {
				t.Errorf("%d bytes, declared: capacity %d, want about %d", n, cap(got), want)
			}
			if cap(got) > 2*(n+readall.MaxInitial+bytes.MinRead)+8<<10 {
				t.Errorf("%d bytes, declared %d: capacity %d", n, declared, cap(got))
			}
		}
	}
}

// TestReadBodyTooLarge: a body over the limit is a 413, whether its length is declared (even
// falsely low) or not.
func TestReadBodyTooLarge(t *testing.T) {
	const limit = 100 << 10
	data := bytes.Repeat([]byte("x"), limit+1)
	for _, declared := range []int64{limit + 1, -1, 10, 64 << 30} {
		_, err := readBody(httptest.NewRecorder(), postBody(bytes.NewReader(data), declared), limit)
		var e *clearbar.Error
		if !errors.As(err, &e) || e.Status != 413 || e.Code != "request_too_large" {
			t.Errorf("declared %d: %v, want a 413 request_too_large", declared, err)
		}
	}
	if got, err := readBody(httptest.NewRecorder(), postBody(bytes.NewReader(data[:limit]), limit), limit); err != nil || len(got) != limit {
		t.Errorf("a body at the limit: %d bytes, %v", len(got), err)
	}
}

// recordingReader records the largest buffer a reader was asked to fill.
type recordingReader struct {
	r       io.Reader
	largest int
}

func (rr *recordingReader) Read(p []byte) (int, error) {
	rr.largest = max(rr.largest, len(p))
	return rr.r.Read(p)
}

// BenchmarkReadBody reads typical bodies whose length is declared, as SDKs send them.
func BenchmarkReadBody(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"2KB", 2 << 10}, {"100KB", 100 << 10}, {"1MB", 1 << 20}} {
		data := bytes.Repeat([]byte("x"), size.n)
		b.Run(size.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size.n))
			w := httptest.NewRecorder()
			rd := bytes.NewReader(data)
			r := postBody(rd, int64(size.n))
			for b.Loop() {
				rd.Reset(data)
				r.Body = io.NopCloser(rd)
				if _, err := readBody(w, r, 32<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
