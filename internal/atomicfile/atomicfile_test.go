package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// leftovers lists the temporary files left in dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWriteFileModes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	if err := WriteFile(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("a new file has mode %v (%v); want 0644", st.Mode().Perm(), err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("a replaced file has mode %v (%v); want its own 0600", st.Mode().Perm(), err)
	}
	if b, _ := os.ReadFile(path); string(b) != "two" {
		t.Errorf("contents %q, want two", b)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

// TestAbortKeepsOldFile: until Commit the path has its old contents; Abort removes the
// temporary file, and Abort after Commit does nothing.
func TestAbortKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(f.Name()) != dir {
		t.Errorf("temporary file %s is not in %s", f.Name(), dir)
	}
	f.WriteString("new")
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("before Commit the file has %q, want old", b)
	}
	f.Abort()
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("after Abort the file has %q, want old", b)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("Abort left %v", l)
	}

	f, err = Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Abort()
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("after Commit and Abort the file has %q, want new", b)
	}
	if err := f.Commit(); err == nil {
		t.Error("a second Commit succeeded")
	}
}

func TestCreateRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	if _, err := Create(dir); err == nil {
		t.Error("Create of a directory succeeded")
	}
	if l := leftovers(t, filepath.Dir(dir)); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

// TestErrorsNameThePath: a file that cannot be created is named as the caller named it, not
// by the temporary name it would have been written under.
func TestErrorsNameThePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "report.html")
	err := WriteFile(path, []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "cannot write "+path+": its directory "+filepath.Dir(path)+" does not exist") || strings.Contains(err.Error(), ".tmp") {
		t.Errorf("error %v: want it to name %s and its missing directory, and no temporary file", err, path)
	}
}

// TestWriteFileThroughSymlink: a path that is a symbolic link to a file (a spec kept in
// another directory) is written through: the file it points to gets the new contents, in its
// own directory, and the link stays a link.
func TestWriteFileThroughSymlink(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	target := filepath.Join(other, "spec.yaml")
	if err := os.WriteFile(target, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "spec.yaml")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is no longer a link: %v, %v", st.Mode(), err)
	}
	if b, _ := os.ReadFile(target); string(b) != "two" {
		t.Errorf("the target holds %q, want two", b)
	}
	if l := append(leftovers(t, dir), leftovers(t, other)...); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}
