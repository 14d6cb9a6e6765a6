package cli

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Hostile data: small or large inputs that once crashed convnet, exhausted
// its memory or hung it. Each case runs the convnet command in a child
// process, built without the race detector (whose shadow memory would blur
// the peak), and checks that it ends with a clear error, without hanging
// (see hang), within 300 MiB of peak resident memory (child_test.go).

// writeStream writes a file of n copies of unit through a buffer.
func writeStream(t *testing.T, path string, head string, unit []byte, n int, tail string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(head)
	for range n {
		w.Write(unit)
	}
	w.WriteString(tail)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// deflated returns a raw deflate stream of n copies of unit: one compressed
// copy, then a second one (which refers back to the first) repeated, as the
// data before each copy is the same. It inflates about a thousand times.
func deflated(t *testing.T, unit []byte, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(unit)
	zw.Flush()
	first := buf.Len()
	zw.Write(unit)
	zw.Flush()
	again := bytes.Clone(buf.Bytes()[first:])
	zw.Close()
	out := bytes.Clone(buf.Bytes()[:first])
	for range n - 1 {
		out = append(out, again...)
	}
	return append(out, buf.Bytes()[first+len(again):]...)
}

// writeBombZip writes an AHCD-shaped zip whose training images are n copies
// of unit, deflated, and whose other members are small.
func writeBombZip(t *testing.T, path string, unit []byte, n int) {
	t.Helper()
	var crc uint32
	for range n {
		crc = crc32.Update(crc, crc32.IEEETable, unit)
	}
	raw := deflated(t, unit, n)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "csvTrainImages 13440x1024.csv", Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(len(raw)), UncompressedSize64: uint64(n) * uint64(len(unit))})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(raw)
	row := strings.Repeat("0,", 1023) + "0\n"
	for name, content := range map[string]string{"csvTrainLabel 13440x1.csv": "1\n", "csvTestImages 3360x1024.csv": row, "csvTestLabel 3360x1.csv": "1\n"} {
		w, _ := zw.Create(name)
		w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d bytes, %d MiB of training images inflated", filepath.Base(path), buf.Len(), n*len(unit)>>20)
}

func TestHostileData(t *testing.T) {
	if testing.Short() {
		t.Skip("writes files of hundreds of megabytes")
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	bin := buildConvnet(t)
	cache := t.TempDir()
	run := func(t *testing.T, limit time.Duration, args ...string) *child {
		c := startChild(t, bin, cache, nil, args...)
		c.wait(t, limit)
		return c
	}

	t.Run("CSV of one row and 2M newlines", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "x.csv")
		row := "1" + strings.Repeat(",0", 100*100) + "\n"
		writeStream(t, p, row, []byte("\n"), 2<<20, row)
		run(t, 5*time.Second, "data", "info", "--csv", p).checkFails(t, p+":2: empty row, want 10001 numbers")
	})
	t.Run("CSV of one 500 MB line", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "x.csv")
		writeStream(t, p, "", bytes.Repeat([]byte("0,"), 1<<19), 500, "0\n")
		run(t, 5*time.Second, "data", "info", "--csv", p).checkFails(t, p+":1: line longer than 16.0 MiB")
	})
	t.Run("49 KB zip bomb", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "ahcd", "ahcd_csv.zip")
		writeBombZip(t, p, bytes.Repeat([]byte("\n"), 1<<20), 48) // 50M lines
		run(t, 5*time.Second, "data", "info", "--data-dir", dir).checkFails(t, "checksum mismatch for "+p, "--skip-checksum")
		// Room for the rows 48 MiB may hold is refused before reading them.
		run(t, 5*time.Second, "data", "info", "--data-dir", dir, "--skip-checksum").checkFails(t, "compression bomb")
	})
	t.Run("1.1 MB zip bomb", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "ahcd", "ahcd_csv.zip")
		writeBombZip(t, p, make([]byte, 1<<20), 1100) // 1100 MiB of zeros
		run(t, 5*time.Second, "data", "info", "--data-dir", dir).checkFails(t, "checksum mismatch for "+p)
		run(t, 5*time.Second, "data", "info", "--data-dir", dir, "--skip-checksum").checkFails(t, "member of 1153433600 bytes, more than 1073741824")
	})
	t.Run("1.7 MB zip bomb of valid rows", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "ahcd", "ahcd_csv.zip")
		writeBombZip(t, p, []byte(strings.Repeat(strings.Repeat("0,", 1023)+"0\n", 512)), 1023) // 1023 MiB of rows
		run(t, 5*time.Second, "data", "info", "--data-dir", dir).checkFails(t, "checksum mismatch for "+p)
		run(t, 5*time.Second, "data", "info", "--data-dir", dir, "--skip-checksum").checkFails(t, "compression bomb")
	})
	t.Run("named pipes", func(t *testing.T) {
		dir := t.TempDir()
		fifos := []string{filepath.Join(dir, "a", "x.png"), filepath.Join(dir, "x.csv")}
		os.MkdirAll(filepath.Dir(fifos[0]), 0o755)
		for _, p := range fifos {
			if out, err := exec.Command("mkfifo", p).CombinedOutput(); err != nil {
				t.Skipf("mkfifo: %v: %s", err, out)
			}
		}
		run(t, hang, "data", "info", "--images", dir).checkFails(t, fifos[0]+" is a named pipe")
		run(t, hang, "data", "info", "--csv", fifos[1]).checkFails(t, fifos[1]+" is a named pipe")
	})
	t.Run("standard input", func(t *testing.T) {
		// --csv - reads it, and stops when interrupted while it is silent.
		b, err := os.ReadFile(writeCSVSet(t, dataSet).Train)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd := exec.Command(bin, "data", "info", "--csv", "-")
		cmd.Stdin, cmd.Stdout = bytes.NewReader(b), &out
		if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "all       6") {
			t.Errorf("data info --csv - < small.csv: %v, output:\n%s", err, out.String())
		}

		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		c := startChild(t, bin, cache, r, "data", "info", "--csv", "-")
		r.Close()
		// Signal it once it waits for the standard input, however slowly a
		// busy machine starts it.
		for {
			reading, ok := readingStdin(c.cmd.Process.Pid)
			if !ok {
				time.Sleep(200 * time.Millisecond)
				break
			}
			if reading {
				break
			}
			if time.Since(c.start) > 20*time.Second {
				c.cmd.Process.Kill()
				t.Fatal("convnet did not read its standard input within 20 s")
			}
			time.Sleep(time.Millisecond)
		}
		// Its peak so far, read now: it may have exited before wait reads it.
		c.peak = procField(c.cmd.Process.Pid, "status", "VmHWM")
		c.start = time.Now()
		c.cmd.Process.Signal(os.Interrupt)
		c.wait(t, hang)
		c.checkFails(t, "standard input: loading interrupted: context canceled")
	})
	t.Run("signals during a long CSV load", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "big.csv")
		var row strings.Builder
		row.WriteString("7")
		for i := range 784 {
			row.WriteString([]string{",0", ",128", ",255"}[i%3])
		}
		row.WriteString("\n")
		const rows = 60000
		writeStream(t, p, "", []byte(row.String()), rows, "") // 157 MB, a few seconds to load
		for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
			c := startChild(t, bin, cache, nil, "data", "info", "--csv", p)
			// Wait until it has read 4 MiB, then signal it.
			for procField(c.cmd.Process.Pid, "io", "rchar") < 4<<20 {
				c.peak = max(c.peak, procField(c.cmd.Process.Pid, "status", "VmHWM"))
				if time.Since(c.start) > 20*time.Second {
					c.cmd.Process.Kill()
					t.Fatal("convnet read less than 4 MiB in 20 s")
				}
				time.Sleep(time.Millisecond)
			}
			c.start = time.Now()
			c.cmd.Process.Signal(sig)
			c.wait(t, hang)
			c.checkFails(t, p+": loading interrupted: context canceled")
			// It stopped loading, rather than reading to the end and then
			// failing: it read well under half the file.
			if size := int64(rows * row.Len()); c.rchar > size/2 {
				t.Errorf("after %v it had read %d of the file's %d bytes", sig, c.rchar, size)
			}
		}
	})
}

// TestOutNotOverDevice: --out naming a device (as /dev/null) is refused, even
// with --force, and the device stays a device.
func TestOutNotOverDevice(t *testing.T) {
	dev := filepath.Join(t.TempDir(), "null")
	if out, err := exec.Command("mknod", dev, "c", "1", "3").CombinedOutput(); err != nil {
		if os.Geteuid() != 0 {
			t.Skip("making a device node needs root")
		}
		t.Skipf("mknod: %v: %s", err, out)
	}
	code, _, errs := runCLI("data", "show", "--csv", writeCSVSet(t, dataSet).Train, "--out", dev, "--force")
	if code != 1 || !strings.Contains(errs, dev+" is a device, not replaced") {
		t.Errorf("data show --out DEVICE --force: exit %d, stderr %q; want 1 and the device refused", code, errs)
	}
	if info, err := os.Lstat(dev); err != nil || info.Mode()&fs.ModeCharDevice == 0 {
		t.Errorf("after data show, %s is %v (%v), want a character device", dev, info.Mode(), err)
	}
}
