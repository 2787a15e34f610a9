package outcomes

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRepairTail: a partial last line, which a killed writer leaves, is cut off; a whole JSON
// document without a newline is kept and ended; a file that ends well is left alone.
func TestRepairTail(t *testing.T) {
	const row = `{"item":"a","prompt":"p","model":"m"}`
	for _, tc := range []struct {
		name, in, want string
		cut            int64
	}{
		{"partial", row + "\n" + `{"item":"b","pro`, row + "\n", 16},
		{"whole without newline", row + "\n" + row, row + "\n" + row + "\n", 0},
		{"ends well", row + "\n", row + "\n", 0},
		{"only a partial line", `{"item"`, "", 7},
		{"empty", "", "", 0},
	} {
		path := filepath.Join(t.TempDir(), "t.jsonl")
		if err := os.WriteFile(path, []byte(tc.in), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		cut, err := RepairTail(f)
		f.Close()
		got, _ := os.ReadFile(path)
		if err != nil || cut != tc.cut || string(got) != tc.want {
			t.Errorf("%s: cut %d, err %v, file %q; want cut %d, file %q", tc.name, cut, err, got, tc.cut, tc.want)
		}
	}
}

// TestRepairTailLeavesForeignFilesAlone: a last line without a newline that is neither a
// whole JSON document nor the start of a row (a file that is not an outcomes table, given by
// mistake) is no write cut short: the file is left as it is, with an error.
func TestRepairTailLeavesForeignFilesAlone(t *testing.T) {
	for _, in := range []string{"version: 1\nname: x\nwhy: the last line", "just text", "{\"item\":\"a\",\"prompt\":\"p\",\"model\":\"m\"}\nnot a row"} {
		path := filepath.Join(t.TempDir(), "t.jsonl")
		if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		cut, err := RepairTail(f)
		f.Close()
		got, _ := os.ReadFile(path)
		if err == nil || cut != 0 || string(got) != in {
			t.Errorf("%q: cut %d, err %v, file now %q; want it untouched, with an error", in, cut, err, got)
		}
	}
}
