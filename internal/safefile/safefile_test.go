package safefile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.bin")
	if err := WriteBytes(p, false, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(p, false, []byte("second")); !errors.Is(err, ErrExists) {
		t.Fatalf("Write over existing file without overwrite: err = %v, want ErrExists", err)
	}
	boom := errors.New("boom")
	err := Write(p, true, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write with failing fill: err = %v, want boom", err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "first" {
		t.Fatalf("after failed write the file holds %q, want %q", got, "first")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	if err := WriteBytes(p, true, []byte("second")); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(p)
	if string(got) != "second" {
		t.Fatalf("after overwrite the file holds %q", got)
	}
}

func TestWriteUnwritableDir(t *testing.T) {
	err := WriteBytes(filepath.Join(t.TempDir(), "missing", "x"), false, nil)
	if err == nil {
		t.Fatal("Write into a missing folder succeeded")
	}
}
