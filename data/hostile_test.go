package data

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convnet-go/convnet/internal/safefile"
)

// mkfifo makes a named pipe, skipping the test where it cannot.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if out, err := exec.Command("mkfifo", path).CombinedOutput(); err != nil {
		t.Skipf("mkfifo: %v: %s", err, out)
	}
}

// quickly runs f and fails t if it takes a second or more: a load that
// opened a named pipe would block until a writer came.
func quickly(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Second):
		t.Fatalf("%s blocks", what)
		return nil
	}
}

func TestNamedPipesRefused(t *testing.T) {
	ctx := context.Background()
	png1 := encodeImage(t, "png", grayImage(2, 2))
	img, lbl := ahcdRows(2)
	for _, c := range []struct {
		name string
		load func(t *testing.T, dir string) (string, error) // the pipe's path and the load's error
	}{
		{"image in a folder", func(t *testing.T, dir string) (string, error) {
			writeFile(t, filepath.Join(dir, "a", "1.png"), png1)
			p := filepath.Join(dir, "b", "x.png")
			mkfifo(t, p)
			_, err := LoadImageFolder(ctx, dir, ImageFolderOptions{})
			return p, err
		}},
		{"CSV file", func(t *testing.T, dir string) (string, error) {
			p := filepath.Join(dir, "train.csv")
			mkfifo(t, p)
			_, err := LoadCSV(ctx, p, CSVOptions{})
			return p, err
		}},
		{"AHCD zip", func(t *testing.T, dir string) (string, error) {
			p := filepath.Join(dir, "ahcd_csv.zip")
			mkfifo(t, p)
			_, _, err := LoadAHCD(ctx, p, nil)
			return p, err
		}},
		{"AHCD CSV file", func(t *testing.T, dir string) (string, error) {
			writeFile(t, filepath.Join(dir, "csvTrainImages.csv"), []byte(img))
			writeFile(t, filepath.Join(dir, "csvTrainLabel.csv"), []byte(lbl))
			writeFile(t, filepath.Join(dir, "csvTestImages.csv"), []byte(img))
			p := filepath.Join(dir, "csvTestLabel.csv")
			mkfifo(t, p)
			_, _, err := LoadAHCD(ctx, dir, nil)
			return p, err
		}},
		{"MNIST file", func(t *testing.T, _ string) (string, error) {
			dir := writeMNIST(t, true, 2, 2, nil)
			p := filepath.Join(dir, "t10k-labels-idx1-ubyte.gz")
			os.Remove(p)
			mkfifo(t, p)
			_, _, err := LoadMNIST(ctx, dir, nil)
			return p, err
		}},
		{"named data set", func(t *testing.T, dir string) (string, error) {
			p := filepath.Join(dir, "ahcd", "ahcd_csv.zip")
			mkfifo(t, p)
			_, _, err := (&Catalog{DataDir: dir}).Load(ctx, "ahcd")
			return p, err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var p string
			err := quickly(t, "loading a named pipe", func() (err error) {
				p, err = c.load(t, t.TempDir())
				return err
			})
			if !errors.Is(err, safefile.ErrNotRegular) || !strings.Contains(err.Error(), p+" is a named pipe") {
				t.Errorf("load with a named pipe = %v, want an error saying %s is a named pipe", err, p)
			}
		})
	}
}

// cancelAfter is a reader that cancels a context once n bytes were read.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestLoadsStopWhenCancelled(t *testing.T) {
	var text strings.Builder
	for range 20000 {
		text.WriteString("1,0,0,0,255\n")
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, err := ReadCSV(ctx, "big.csv", &cancelAfter{r: strings.NewReader(text.String()), n: 100 << 10, cancel: cancel}, CSVOptions{})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "big.csv: loading interrupted") {
		t.Errorf("ReadCSV cancelled half way = %v, want a context.Canceled error naming the file", err)
	}

	dir := t.TempDir()
	for i := range 3 {
		writeFile(t, filepath.Join(dir, "a", strings.Repeat("x", i+1)+".png"), encodeImage(t, "png", grayImage(2, 2)))
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := LoadImageFolder(ctx, dir, ImageFolderOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("LoadImageFolder cancelled = %v, want context.Canceled", err)
	}
	if _, _, err := LoadMNIST(ctx, writeMNIST(t, true, 2, 2, nil), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("LoadMNIST cancelled = %v, want context.Canceled", err)
	}
	img, lbl := ahcdRows(2)
	zipPath := filepath.Join(dir, "a.zip")
	writeZip(t, zipPath, map[string]string{"csvTrainImages.csv": img, "csvTrainLabel.csv": lbl, "csvTestImages.csv": img, "csvTestLabel.csv": lbl})
	if _, _, err := LoadAHCD(ctx, zipPath, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("LoadAHCD cancelled = %v, want context.Canceled", err)
	}
}

func TestBudget(t *testing.T) {
	ctx := context.Background()
	var text strings.Builder
	for range 1000 {
		text.WriteString("1,0,0,0,255\n") // 4 pixels and a label: 24 bytes
	}
	// Both sets draw on one budget. Loading one takes 55 KiB at its peak
	// (the rows collected in chunks, then copied) and keeps 24 KiB.
	b := NewBudget(64 << 10)
	d, err := ReadCSV(ctx, "a.csv", strings.NewReader(text.String()), CSVOptions{Budget: b})
	if err != nil {
		t.Fatalf("ReadCSV within the budget: %v", err)
	}
	if used, want := b.Used(), costOf[float32](len(d.X.Data))+costOf[int](len(d.Y))+24*int64(d.NumClasses()); used != want {
		t.Errorf("budget used = %d after loading, want %d (the pixels, labels and class names)", used, want)
	}
	_, err = ReadCSV(ctx, "b.csv", strings.NewReader(text.String()), CSVOptions{Budget: b})
	var me *MemoryError
	if !errors.As(err, &me) || !me.Budget || !strings.Contains(err.Error(), "b.csv: loading the data would take more than the memory budget of 64.0 KiB") {
		t.Fatalf("second ReadCSV = %v, want the budget exhausted", err)
	}

	// A compressed file that inflates beyond its rate is refused as it is
	// read, whatever the budget.
	var rows bytes.Buffer
	for rows.Len() < 4<<20 {
		rows.WriteString(strings.Repeat("0,", 1023) + "0\n")
	}
	zipped := zipBytes(t, "csvTrainImages.csv", rows.String(), "csvTrainLabel.csv", "1\n", "csvTestImages.csv", "0\n", "csvTestLabel.csv", "1\n")
	path := filepath.Join(t.TempDir(), "bomb.zip")
	writeFile(t, path, zipped)
	_, _, err = LoadAHCD(ctx, path, NewBudget(1<<40))
	if !errors.As(err, &me) || me.Budget || !strings.Contains(err.Error(), "compression bomb") {
		t.Errorf("LoadAHCD of %d bytes inflating to %d = %v, want the file's allowance exceeded", len(zipped), rows.Len(), err)
	}

	// A zip member claiming more than a text file may hold.
	var forged bytes.Buffer
	zw := zip.NewWriter(&forged)
	w, _ := zw.CreateRaw(&zip.FileHeader{Name: "csvTrainImages.csv", Method: zip.Deflate, CompressedSize64: 2, UncompressedSize64: 206 << 30})
	w.Write([]byte{3, 0})
	for _, name := range []string{"csvTrainLabel.csv", "csvTestImages.csv", "csvTestLabel.csv"} {
		zw.Create(name)
	}
	zw.Close()
	writeFile(t, path, forged.Bytes())
	if _, _, err = LoadAHCD(ctx, path, nil); err == nil || !strings.Contains(err.Error(), "csvTrainImages.csv: member of 221190815744 bytes, more than 1073741824") {
		t.Errorf("LoadAHCD with a member declaring 206 GiB = %v", err)
	}

	// An IDX header claiming more than the file can hold.
	huge := gzipBytes(idxBytes([]int{1 << 16, 1 << 7, 1 << 7}, nil))
	if _, _, err := readIDX("huge.gz", bytes.NewReader(huge), int64(len(huge)), NewBudget(1<<40)); !errors.As(err, &me) {
		t.Errorf("readIDX of a header claiming 1 GiB in %d bytes = %v, want a *MemoryError", len(huge), err)
	}

	// An image header claiming more than the file can hold.
	png1 := encodeImage(t, "png", grayImage(2, 2))
	// 4096x4096 blank: 16 MiB of pixels (128 MiB as the decoder may take
	// them) in a file of 20 KiB.
	big := encodeImage(t, "png", image.NewGray(image.Rect(0, 0, 4096, 4096)))
	for _, c := range []struct {
		name string
		b    []byte
		ok   bool
	}{{"small", png1, true}, {"large and blank", big, false}} {
		_, err := DecodeImage(c.name, c.b)
		if c.ok != (err == nil) || (!c.ok && !errors.As(err, &me)) {
			t.Errorf("DecodeImage(%s, %d bytes) = %v, want ok = %v or a *MemoryError", c.name, len(c.b), err, c.ok)
		}
	}
}

func TestCatalogChecksums(t *testing.T) {
	ctx := context.Background()
	good := smallAHCDZip(t)
	dir, cache := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "ahcd", "ahcd_csv.zip")
	writeFile(t, path, good)
	remotes := map[string][]Remote{"ahcd": {{Path: "ahcd/ahcd_csv.zip", SHA256: sha(good)}}}
	cat := &Catalog{DataDir: dir, CacheDir: cache, Remotes: remotes}
	if _, _, err := cat.Load(ctx, "ahcd"); err != nil {
		t.Fatalf("Load of the published file: %v", err)
	}

	// Another file of the same size: the cached sum is not taken for it.
	bad := bytes.Clone(good)
	bad[len(bad)-30] ^= 1
	writeFile(t, path, bad)
	os.Chtimes(path, time.Now(), time.Now().Add(time.Hour))
	_, _, err := cat.Load(ctx, "ahcd")
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.File != path {
		t.Fatalf("Load of a changed file = %v, want a *ChecksumError for %s", err, path)
	}
	for _, want := range []string{path, sha(bad), sha(good)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("checksum error %q does not name %s", err, want)
		}
	}

	// The sums are remembered by path, size and modification time: a
	// forged entry is believed (and shows that the file is not hashed).
	b, err := os.ReadFile(filepath.Join(cache, sumsFile))
	if err != nil || !bytes.Contains(b, []byte(sha(bad))) {
		t.Fatalf("the cache holds %q (%v), want the sum %s", b, err, sha(bad))
	}
	os.WriteFile(filepath.Join(cache, sumsFile), bytes.ReplaceAll(b, []byte(sha(bad)), []byte(sha(good))), 0o644)
	if _, _, err := cat.Load(ctx, "ahcd"); errors.As(err, &ce) {
		t.Errorf("Load with a remembered sum = %v, want the file read without hashing", err)
	}

	// A custom copy is read when asked for.
	writeFile(t, path, smallAHCDZip(t)[:len(good)-1])
	cat.SkipChecksum = true
	if _, _, err := cat.Load(ctx, "ahcd"); err == nil || errors.As(err, &ce) {
		t.Errorf("Load with SkipChecksum = %v, want the file read", err)
	}
}

// TestCatalogUnpackedFiles checks the extracted AHCD files and the
// gunzipped MNIST files against their published sums.
func TestCatalogUnpackedFiles(t *testing.T) {
	src := sharedData(t)
	dir := t.TempDir()
	extractAHCD(t, filepath.Join(dir, "ahcd"))
	for _, stem := range mnistStems {
		f, err := os.Open(filepath.Join(src, "mnist", stem+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "mnist", stem), b)
	}
	ctx, cat := context.Background(), &Catalog{}
	for _, name := range []string{"ahcd", "mnist"} {
		if err := cat.verify(ctx, name, filepath.Join(dir, name), DefaultRemotes[name]); err != nil {
			t.Errorf("the unpacked files of %s: %v", name, err)
		}
	}
	p := filepath.Join(dir, "ahcd", "csvTestLabel 3360x1.csv")
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("1\n")
	f.Close()
	if err := cat.verify(ctx, "ahcd", filepath.Join(dir, "ahcd"), DefaultRemotes["ahcd"]); !errors.As(err, new(*ChecksumError)) || !strings.Contains(err.Error(), p) {
		t.Errorf("a changed label file = %v, want a checksum error naming it", err)
	}
}
