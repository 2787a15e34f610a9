// Package atomicfile writes files so that a reader never sees half of one: the new contents
// go to a temporary file in the same directory, which is synced and renamed over the file
// only when complete. A crash or an error leaves the old file or the new one.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A File is a file written under a temporary name beside the file it is for, which takes
// that name when committed. It keeps the mode of the file it replaces; a new file is readable
// by every user (0644), as a file one user writes (a router, a spec) may be read by a process
// running as another.
type File struct {
	*os.File
	path string
	done bool
}

// Create starts writing path. An existing path that is not a regular file is an error: it
// cannot be replaced by a rename. A symbolic link to a file is written through: the file it
// points to is replaced, and the link stays a link.
func Create(path string) (*File, error) {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file", path)
		}
		mode = st.Mode().Perm()
		if target, err := filepath.EvalSymlinks(path); err == nil {
			path = target
		}
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		// Name the file asked for, not the temporary one: "open /x/.y.123.tmp" is not a
		// path the user wrote.
		var pe *os.PathError
		if errors.As(err, &pe) {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("cannot write %s: its directory %s does not exist", path, filepath.Dir(path))
			}
			return nil, fmt.Errorf("cannot write %s: %w", path, pe.Err)
		}
		return nil, fmt.Errorf("cannot write %s: %w", path, err)
	}
	// CreateTemp makes the file readable by its owner only.
	if err := f.Chmod(mode); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &File{File: f, path: path}, nil
}

// Path returns the path the file is for.
func (f *File) Path() string { return f.path }

// Commit syncs and closes the temporary file and renames it over the file's path. On an error
// the temporary file is removed and the path is left as it was.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: " + f.path + " was already committed or aborted")
	}
	f.done = true
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), f.path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// Abort closes and removes the temporary file, leaving the path as it was. It does nothing
// after Commit or Abort, so that it may be deferred.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}

// WriteFile writes data to path atomically (see File).
func WriteFile(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}
