package eval

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/outcomes"
)

// bytesRead returns how many bytes the process has read so far (rchar of /proc/self/io), and
// false where the system does not say.
func bytesRead(t *testing.T) (int64, bool) {
	t.Helper()
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// TestOutputReadsItsFileOnce: opening an output reads its file once, a row's extras included,
// and replacing rows reads it once more, to rewrite it, and not again: the rows in memory are
// already the file's, as a fresh open reads them.
func TestOutputReadsItsFileOnce(t *testing.T) {
	if _, ok := bytesRead(t); !ok {
		t.Skip("the system does not count the bytes a process reads")
	}
	path := filepath.Join(t.TempDir(), "out.jsonl")
	var b bytes.Buffer
	pad := strings.Repeat("x", 400)
	for i := range 2000 {
		rec := Record{Row: outcomes.Row{Item: fmt.Sprint("q", i), Category: "extract", Prompt: "p", Model: "m", Response: pad, Score: ptr(0.0), Pass: ptr(false)},
			Extras: Extras{Retries: i % 3, Checks: []Verdict{{Check: `exact "ok"`}}, Grading: "g0"}}
		line, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	size := int64(b.Len())
	read := func(what string, do func()) {
		t.Helper()
		before, _ := bytesRead(t)
		do()
		after, _ := bytesRead(t)
		if n := after - before; n > size*3/2 {
			t.Errorf("%s read %d bytes of a %d-byte file; want it read once", what, n, size)
		}
	}

	var o *Output
	read("opening the output", func() { o = openOutput(t, path) })
	if rec, line, ok := o.Lookup("q7", "m"); !ok || line != 8 || rec.Retries != 1 || rec.Grading != "g0" || len(rec.Checks) != 1 {
		t.Fatalf("q7 read as %+v on line %d; want its row and extras from line 8", rec, line)
	}
	regraded, _, _ := o.Lookup("q7", "m")
	regraded.Pass, regraded.Score, regraded.Grading = ptr(true), ptr(1.0), "g1"
	regraded.Checks = []Verdict{{Check: `contains "x"`, Pass: true, Score: 1}}
	read("replacing a row", func() {
		if err := o.Replace([]Record{regraded}, nil); err != nil {
			t.Fatal(err)
		}
	})
	fresh := openOutput(t, path)
	for _, it := range []string{"q0", "q7", "q1999"} {
		got, gotLine, _ := o.Lookup(it, "m")
		want, wantLine, _ := fresh.Lookup(it, "m")
		if !reflect.DeepEqual(got, want) || gotLine != wantLine {
			t.Errorf("after the replacement, %s is %+v on line %d; a fresh open reads %+v on line %d", it, got, gotLine, want, wantLine)
		}
	}
}

// TestOutputRefusesCompressedAndCSVFiles: an eval appends JSON Lines to its output, so a
// gzip-compressed table (an import, say) must be refused untouched, not cut at its "partial
// last line" and appended to, and a name that says CSV or gzip must not get JSON Lines that
// every reader of the name would misread.
func TestOutputRefusesCompressedAndCSVFiles(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	fmt.Fprintln(zw, `{"item":"a","category":"extract","prompt":"p","model":"m","pass":true}`)
	zw.Close()
	for _, name := range []string{"imported.jsonl", "imported.jsonl.gz"} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, gz.Bytes(), 0o644)
		o, err := OpenOutput(path, OutputOptions{})
		if err == nil {
			o.Close()
			t.Errorf("%s: a gzip-compressed file was opened for appending", name)
		} else if !strings.Contains(err.Error(), "gzip") || !strings.Contains(err.Error(), "--out") {
			t.Errorf("%s: want an error saying the file is compressed and what to give --out, got %v", name, err)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, gz.Bytes()) {
			t.Errorf("%s: the compressed file was changed (%d bytes, was %d)", name, len(got), gz.Len())
		}
	}
	for _, name := range []string{"run.csv", "run.CSV", "run.csv.gz", "run.jsonl.gz"} {
		path := filepath.Join(dir, name)
		o, err := OpenOutput(path, OutputOptions{})
		if err == nil {
			o.Close()
			t.Errorf("%s: opened for JSON Lines", name)
		} else if !strings.Contains(err.Error(), ".jsonl") {
			t.Errorf("%s: want an error asking for a .jsonl name, got %v", name, err)
		}
		if _, err := os.Stat(path); err == nil {
			t.Errorf("%s: the refused file was created", name)
		}
	}
}
