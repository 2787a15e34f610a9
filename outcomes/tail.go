package outcomes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// RepairTail makes a JSON Lines table end with a newline, so that rows appended to it start
// on a line of their own: a last line without one is kept when it is a whole JSON document (a
// file edited by hand) and cut off when it is the start of one (a write cut short by a crash
// or a kill). Any other last line without a newline says the file is no table (a file given
// by mistake): it is left as it is, and RepairTail returns an error. It returns how many
// bytes it cut. f must be open for reading and appending (os.O_RDWR|os.O_APPEND).
func RepairTail(f *os.File) (cut int64, err error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	if size == 0 {
		return 0, nil
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, size-1); err != nil {
		return 0, err
	}
	if last[0] == '\n' {
		return 0, nil
	}
	start, err := lastLineStart(f, size)
	if err != nil {
		return 0, err
	}
	tail := make([]byte, size-start)
	if _, err := f.ReadAt(tail, start); err != nil {
		return 0, err
	}
	if json.Valid(tail) {
		_, err := f.Write([]byte{'\n'})
		return 0, err
	}
	if !bytes.HasPrefix(bytes.TrimSpace(tail), []byte("{")) {
		return 0, fmt.Errorf("its last line, %s, is neither a row nor one cut short: the file is not an outcomes table (JSON Lines), so it was left as it is", describeLine(tail))
	}
	return size - start, f.Truncate(start)
}

// lastLineStart returns the offset just after the file's last newline before size (0 when
// it has none), reading backwards in chunks.
func lastLineStart(r io.ReaderAt, size int64) (int64, error) {
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	for end := size; end > 0; {
		n := min(int64(chunk), end)
		if _, err := r.ReadAt(buf[:n], end-n); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return end - n + int64(i) + 1, nil
		}
		end -= n
	}
	return 0, nil
}
