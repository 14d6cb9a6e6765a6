// Package safefile writes files atomically: the data goes to a temporary file
// in the same folder, is flushed to disk, and only then renamed over the
// target, so a crash never leaves a half-written file in its place.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrExists is returned by [Write] when the target exists and overwriting was
// not allowed.
var ErrExists = errors.New("file exists (use --force to overwrite)")

// Write creates path with the content written by fill. Unless overwrite is
// true, an existing file is left alone and the error wraps [ErrExists].
// On any error the target is unchanged and the temporary file is removed.
func Write(path string, overwrite bool, fill func(w io.Writer) error) (err error) {
	if !overwrite {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s: %w", path, ErrExists)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
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
