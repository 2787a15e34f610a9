package eval

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/spec"
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

// TestRowsNameModelsThatShareAnID: rows name a model by its provider model id, unless another
// model of the spec has that id (strong and its judge, both gpt-4.1): then by its spec name,
// so that replay and estimate --measured, which match spec names first, do not take one's rows
// for the other's. Two candidates of one id are run side by side. Rows written before, named by
// the id, are still the candidate's on a resumed run, when it is the only candidate of that id.
func TestRowsNameModelsThatShareAnID(t *testing.T) {
	data, err := os.ReadFile("testdata/recover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const strong = "  strong: {provider: sim-b, model: gpt-4.1, latency: {p50: 1.5s, p95: 4s}}\n"
	src := strings.Replace(string(data), strong, strong+"  judge: {provider: sim-b, model: gpt-4.1, latency: {p50: 1.5s, p95: 4s}}\n", 1)
	dir := t.TempDir()
	specPath := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specPath, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	f := loadFixture(t, specPath, "extract")
	if f.spec.Model("judge") == nil {
		t.Fatal("the fixture's strong model moved")
	}
	set, err := LoadSet(writeSet(t, 3, `, "reference": "ok"`), f.env)
	if err != nil {
		t.Fatal(err)
	}
	if got := RowModel(f.spec, f.spec.Model("small")); got != "gpt-4.1-mini" {
		t.Errorf("RowModel(small) = %q; want its model id, which no other model has", got)
	}
	fake := &fakeProvider{name: "sim-b"}
	run := func(s *spec.Spec, path string, names ...string) *Result {
		t.Helper()
		r := &Runner{Category: f.cat, Models: f.models(names...), Spec: s, Providers: map[string]clearbar.Provider{"sim-b": fake}}
		res, err := r.Run(context.Background(), set, openOutput(t, path))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	modelsOf := func(rows []Record) map[string]int {
		out := map[string]int{}
		for _, r := range rows {
			out[r.Model]++
		}
		return out
	}

	both := filepath.Join(dir, "both.jsonl")
	res := run(f.spec, both, "strong", "judge")
	if got := modelsOf(readRecords(t, both)); res.Ran != 6 || got["strong"] != 3 || got["judge"] != 3 {
		t.Errorf("strong and judge side by side: %+v, rows by model %v; want 3 rows named strong and 3 named judge", res, got)
	}
	for _, s := range Summarize(f.cat, f.models("strong", "judge"), res.Rows) {
		if s.Items != 3 || s.Graded != 3 {
			t.Errorf("%s: %d items, %d graded; want its own 3", s.Model, s.Items, s.Graded)
		}
	}

	// Rows written before, named by the id: resumed as strong's, without a call.
	older := filepath.Join(dir, "older.jsonl")
	run(nil, older, "strong")
	if got := modelsOf(readRecords(t, older)); got["gpt-4.1"] != 3 {
		t.Fatalf("rows without the spec: %v; want them named by the id", got)
	}
	calls := fake.calls.Load()
	res = run(f.spec, older, "strong")
	if res.Ran != 0 || res.Skipped != 3 || fake.calls.Load() != calls || len(res.Rows) != 3 {
		t.Errorf("resumed over rows named by the id: %+v after %d calls; want all 3 resumed as strong's, without a call", res, fake.calls.Load()-calls)
	}
	if s := Summarize(f.cat, f.models("strong"), res.Rows)[0]; s.Items != 3 {
		t.Errorf("strong's summary over rows named by the id: %d items; want 3", s.Items)
	}
	// The new ones are named strong.
	newer := filepath.Join(dir, "newer.jsonl")
	run(f.spec, newer, "strong")
	if got := modelsOf(readRecords(t, newer)); got["strong"] != 3 {
		t.Errorf("strong alone: rows by model %v; want them named strong, as judge has its id", got)
	}
}
