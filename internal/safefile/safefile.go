// Package safefile writes files atomically and reads only regular files.
//
// [Write] sends the data to a temporary file in the same folder, flushes it
// to disk, and only then renames it over the target, so a crash never leaves
// a half-written file in its place. It replaces regular files only: a
// device, a named pipe, a folder or a symbolic link at the target is an
// error, even when overwriting is allowed. Temporary files carry the id of
// the process writing them; those of processes that no longer run (killed
// in the middle of a write) are removed by the next write to the same path.
//
// [Open] opens a file for reading only if it is a regular file, without
// blocking on a named pipe.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// ErrExists is returned by [Write] when the target exists and overwriting was
// not allowed.
var ErrExists = errors.New("file exists (use --force to overwrite)")

// ErrNotRegular is wrapped by the errors of [Write] and [Open] for a path
// that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// Write creates path with the content written by fill. Unless overwrite is
// true, an existing file is left alone and the error wraps [ErrExists].
// Whatever overwrite says, only a regular file is replaced; anything else
// gives an error wrapping [ErrNotRegular]. On any error the target is
// unchanged and the temporary file is removed.
func Write(path string, overwrite bool, fill func(w io.Writer) error) (err error) {
	if err := checkTarget(path, overwrite); err != nil {
		return err
	}
	dir, base := filepath.Dir(path), filepath.Base(path)
	removeStale(dir, base)
	tmp, err := os.CreateTemp(dir, tempPrefix(base)+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		if st, serr := os.Stat(dir); serr != nil || !st.IsDir() {
			return fmt.Errorf("cannot write %s: folder %s does not exist", path, dir)
		}
		if pe := new(fs.PathError); errors.As(err, &pe) {
			err = pe.Err // the name of the temporary file says nothing to the user
		}
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	writing.Store(tmp.Name(), true)
	defer writing.Delete(tmp.Name())
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = fill(tmp); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// The target may have changed while fill ran.
	if err = checkTarget(path, true); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// Make the rename itself durable.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// WriteBytes is [Write] for a byte slice.
func WriteBytes(path string, overwrite bool, b []byte) error {
	return Write(path, overwrite, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// checkTarget returns an error unless path is missing, or is a regular file
// and overwrite is true.
func checkTarget(path string, overwrite bool) error {
	info, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !info.Mode().IsRegular():
		return fmt.Errorf("%s is %s, not replaced: %w", path, Kind(info.Mode()), ErrNotRegular)
	case !overwrite:
		return fmt.Errorf("%s: %w", path, ErrExists)
	}
	return nil
}

// Open opens path for reading if it is a regular file, or a symbolic link
// to one. A named pipe, a device, a socket or a folder gives an error
// wrapping [ErrNotRegular] at once: the open never blocks, even should
// the path change between the check and the open.
func Open(path string) (*os.File, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s: %w", path, Kind(info.Mode()), ErrNotRegular)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if info, err = f.Stat(); err != nil || !info.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s is %s: %w", path, Kind(info.Mode()), ErrNotRegular)
		}
		return nil, err
	}
	return f, nil
}

// Kind names the kind of file of a mode for messages: "a regular file",
// "a named pipe", "a device"...
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}

// Temporary files are named ".<base>.tmp<pid>-<random>".
func tempPrefix(base string) string { return "." + base + ".tmp" }

// writing holds the temporary files this process is writing.
var writing sync.Map

// removeStale removes the temporary files for base in dir whose writer is
// gone: a process that no longer runs, or this one (whose process id a
// killed writer had) when it is not writing them.
func removeStale(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := tempPrefix(base)
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		id, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(id)
		if !ok || err != nil || pid <= 0 {
			continue
		}
		name := filepath.Join(dir, e.Name())
		if _, busy := writing.Load(name); busy || (pid != os.Getpid() && running(pid)) {
			continue
		}
		os.Remove(name)
	}
}

// running reports whether process pid may still run.
func running(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	defer p.Release()
	err = p.Signal(syscall.Signal(0))
	return !errors.Is(err, os.ErrProcessDone)
}
