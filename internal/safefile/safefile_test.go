package safefile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	dir := filepath.Join(t.TempDir(), "missing")
	err := WriteBytes(filepath.Join(dir, "x"), false, nil)
	if err == nil || err.Error() != "cannot write "+filepath.Join(dir, "x")+": folder "+dir+" does not exist" {
		t.Fatalf("Write into a missing folder: %v", err)
	}
}

// mknod makes a special file with the mknod or mkfifo command, skipping the
// test where it cannot.
func mknod(t *testing.T, path string, args ...string) {
	t.Helper()
	cmd := exec.Command(args[0], append([]string{path}, args[1:]...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Geteuid() != 0 && args[0] == "mknod" {
			t.Skip("making a device node needs root")
		}
		t.Skipf("%s: %v: %s", args[0], err, out)
	}
}

func TestWriteOnlyOverRegularFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("kept"), 0o644)
	for _, c := range []struct {
		name string
		make func(path string)
		kind string
	}{
		{"device", func(p string) { mknod(t, p, "mknod", "c", "1", "3") }, "a device"}, // like /dev/null
		{"named pipe", func(p string) { mknod(t, p, "mkfifo") }, "a named pipe"},
		{"folder", func(p string) { os.Mkdir(p, 0o755) }, "a folder"},
		{"symbolic link", func(p string) { os.Symlink(target, p) }, "a symbolic link"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
			c.make(p)
			before, err := os.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, overwrite := range []bool{false, true} {
				err := WriteBytes(p, overwrite, []byte("x"))
				if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), c.kind) {
					t.Errorf("Write(%s, overwrite=%v) = %v, want an error naming %s and wrapping ErrNotRegular", c.name, overwrite, err, c.kind)
				}
			}
			after, err := os.Lstat(p)
			if err != nil || after.Mode() != before.Mode() {
				t.Errorf("after Write, %s has mode %v (%v), want %v unchanged", c.name, after.Mode(), err, before.Mode())
			}
		})
	}
	if b, _ := os.ReadFile(target); string(b) != "kept" {
		t.Errorf("the symbolic link's target holds %q, want %q", b, "kept")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestOpenRegularOnly(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	mknod(t, fifo, "mkfifo")
	done := make(chan error, 1)
	go func() {
		f, err := Open(fifo)
		if err == nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "is a named pipe") {
			t.Errorf("Open(named pipe) = %v, want an error wrapping ErrNotRegular", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Open(named pipe) blocks")
	}
	if _, err := Open(dir); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Open(folder) = %v, want ErrNotRegular", err)
	}
	p := filepath.Join(dir, "f")
	os.WriteFile(p, []byte("data"), 0o644)
	os.Symlink(p, filepath.Join(dir, "link"))
	for _, name := range []string{"f", "link"} {
		f, err := Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("Open(%s): %v", name, err)
		}
		b, _ := io.ReadAll(f)
		f.Close()
		if string(b) != "data" {
			t.Errorf("Open(%s) reads %q, want %q", name, b, "data")
		}
	}
}

// deadPID returns the id of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestWriteRemovesStaleTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.bin")
	temp := func(pid int, suffix string) string {
		name := filepath.Join(dir, fmt.Sprintf(".m.bin.tmp%d-%s", pid, suffix))
		if err := os.WriteFile(name, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
		return name
	}
	// A writer that was killed, and one that had this process's id.
	stale := []string{temp(deadPID(t), "1"), temp(os.Getpid(), "2")}
	// A writer still at work, files of other names.
	kept := []string{temp(os.Getppid(), "3"), filepath.Join(dir, ".other.tmp1-1"), filepath.Join(dir, ".m.bin.tmpnotapid")}
	for _, k := range kept[1:] {
		os.WriteFile(k, nil, 0o644)
	}
	if err := WriteBytes(p, false, []byte("whole")); err != nil {
		t.Fatal(err)
	}
	for _, s := range stale {
		if _, err := os.Stat(s); err == nil {
			t.Errorf("stale temporary file %s not removed", filepath.Base(s))
		}
	}
	for _, k := range kept {
		if _, err := os.Stat(k); err != nil {
			t.Errorf("%s removed, want it kept: %v", filepath.Base(k), err)
		}
	}
}
