package data

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// sharedData returns the folder of real data sets named by CONVNET_DATA, or
// skips the test when the variable is unset.
func sharedData(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("CONVNET_DATA")
	if dir == "" {
		t.Skip("CONVNET_DATA is not set; set it to the shared data folder to run tests on real files")
	}
	return dir
}

// skipRace skips a long numeric check in a -race build.
func skipRace(t testing.TB) {
	if raceEnabled {
		t.Skip("a numeric check with nothing concurrent: it runs without -race (.ci/run)")
	}
}

// realAHCD loads the shared AHCD zip once for all tests.
var realAHCD = sync.OnceValues(func() ([2]*Dataset, error) {
	train, test, err := LoadAHCD(context.Background(), filepath.Join(os.Getenv("CONVNET_DATA"), "ahcd", "ahcd_csv.zip"), nil)
	return [2]*Dataset{train, test}, err
})

func loadRealAHCD(t *testing.T) (train, test *Dataset) {
	t.Helper()
	sharedData(t)
	sets, err := realAHCD()
	if err != nil {
		t.Fatalf("LoadAHCD: %v", err)
	}
	return sets[0], sets[1]
}

func TestLoadAHCDReal(t *testing.T) {
	sharedData(t)
	train, test := loadRealAHCD(t)
	for _, c := range []struct {
		name     string
		d        *Dataset
		n, per   int
		blockLen int
	}{
		{"train", train, 13440, 480, 8},
		{"test", test, 3360, 120, 2},
	} {
		if c.d.Len() != c.n {
			t.Errorf("%s: Len() = %d, want %d", c.name, c.d.Len(), c.n)
		}
		if got := c.d.Shape(); len(got) != 3 || got[0] != 32 || got[1] != 32 || got[2] != 1 {
			t.Errorf("%s: Shape() = %v, want [32 32 1]", c.name, got)
		}
		for k, n := range c.d.ClassCounts() {
			if n != c.per {
				t.Errorf("%s: class %d (%s) has %d images, want %d", c.name, k, c.d.ClassNames[k], n, c.per)
			}
		}
		if lo, hi := c.d.Range(); lo != 0 || hi != 255 {
			t.Errorf("%s: Range() = %v, %v, want 0, 255", c.name, lo, hi)
		}
		// Rows come in class runs: blockLen of class 0, then of class 1, ...
		for i, y := range c.d.Y {
			if want := (i / c.blockLen) % 28; y != want {
				t.Fatalf("%s: Y[%d] = %d, want %d (class runs of %d)", c.name, i, y, want, c.blockLen)
			}
		}
	}
	if train.ClassNames[0] != "alef ا" || train.ClassNames[27] != "yeh ي" {
		t.Errorf("ClassNames = %q ... %q, want \"alef ا\" ... \"yeh ي\"", train.ClassNames[0], train.ClassNames[27])
	}

	// Orientation. Alef is a single vertical stroke: in the mean alef image
	// the ink is spread along the rows (tall) and packed in few columns.
	// Read without the transpose, it would lie on its side.
	var mean [32 * 32]float64
	n := 0
	for i, y := range train.Y {
		if y != 0 {
			continue
		}
		for p, v := range train.Image(i) {
			mean[p] += float64(v)
		}
		n++
	}
	var rowInk, colInk [32]float64
	for p, v := range mean {
		rowInk[p/32] += v / float64(n)
		colInk[p%32] += v / float64(n)
	}
	if rs, cs := spread(rowInk[:]), spread(colInk[:]); rs < 2*cs {
		t.Errorf("mean alef: ink spread over rows %.2f, over columns %.2f; want a vertical stroke (rows > 2x columns)", rs, cs)
	}
	// Upright, not upside down: yeh (ي) has its two dots below the body, so
	// the bottom third holds more of its ink than the top third.
	var top, bottom float64
	var m int
	for i, y := range train.Y {
		if y != 27 {
			continue
		}
		img := train.Image(i)
		for p, v := range img {
			switch r := p / 32; {
			case r < 11:
				top += float64(v)
			case r >= 21:
				bottom += float64(v)
			}
		}
		m++
	}
	if bottom <= top {
		t.Errorf("mean yeh: ink in the top third %.0f, bottom third %.0f; want more at the bottom (dots below)", top/float64(m), bottom/float64(m))
	}

	// The extracted CSV files give the same data.
	tmp := t.TempDir()
	extractAHCD(t, tmp)
	train2, test2, err := LoadAHCD(context.Background(), tmp, nil)
	if err != nil {
		t.Fatalf("LoadAHCD(folder): %v", err)
	}
	if !equalDatasets(train, train2) || !equalDatasets(test, test2) {
		t.Errorf("LoadAHCD(folder) differs from LoadAHCD(zip)")
	}
}

// spread returns the standard deviation of the position, weighting each
// index by w.
func spread(w []float64) float64 {
	var s, sx, sxx float64
	for i, v := range w {
		s += v
		sx += v * float64(i)
		sxx += v * float64(i) * float64(i)
	}
	m := sx / s
	return sxx/s - m*m
}

func equalDatasets(a, b *Dataset) bool {
	ax, bx := a.Tensor(), b.Tensor()
	if a.Len() != b.Len() || len(ax.Data) != len(bx.Data) {
		return false
	}
	for i := range a.Y {
		if a.Y[i] != b.Y[i] {
			return false
		}
	}
	for i := range ax.Data {
		if ax.Data[i] != bx.Data[i] {
			return false
		}
	}
	return true
}

// extractAHCD writes the four CSV files of the shared AHCD zip into dir.
func extractAHCD(t *testing.T, dir string) {
	t.Helper()
	zr, err := zip.OpenReader(filepath.Join(sharedData(t), "ahcd", "ahcd_csv.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, f.Name), b)
	}
}

// writeZip builds a zip archive from name/content pairs.
func writeZip(t testing.TB, path string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ahcdRows returns n image rows (1,024 values each) and labels cycling 1..28.
func ahcdRows(n int) (images, labels string) {
	var ib, lb strings.Builder
	for i := range n {
		for p := range 1024 {
			if p > 0 {
				ib.WriteByte(',')
			}
			if p == i%1024 {
				ib.WriteString("255")
			} else {
				ib.WriteByte('0')
			}
		}
		ib.WriteByte('\n')
		lb.WriteString(string(rune('0' + (i%9 + 1))))
		lb.WriteByte('\n')
	}
	return ib.String(), lb.String()
}

func TestLoadAHCDSmall(t *testing.T) {
	img, lbl := ahcdRows(3)
	dir := t.TempDir()
	path := filepath.Join(dir, "a.zip")
	writeZip(t, path, map[string]string{
		"csvTrainImages 3x1024.csv": img, "csvTrainLabel 3x1.csv": lbl,
		"csvTestImages 3x1024.csv": img, "csvTestLabel 3x1.csv": lbl,
	})
	train, test, err := LoadAHCD(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("LoadAHCD: %v", err)
	}
	if train.Len() != 3 || test.Len() != 3 {
		t.Fatalf("Len() = %d, %d, want 3, 3", train.Len(), test.Len())
	}
	if train.X != nil || len(train.Pix) != 3*1024 || !slices.Equal(train.PixShape, []int{3, 32, 32, 1}) {
		t.Errorf("LoadAHCD: X = %v, %d bytes of shape %v, want the images as bytes [3 32 32 1]", train.X, len(train.Pix), train.PixShape)
	}
	// Row i has value 255 at position i, which is pixel (row i, column 0)
	// after the transpose.
	for i := range 3 {
		for p, v := range train.Image(i) {
			want := float32(0)
			if p == i*32 {
				want = 255
			}
			if v != want {
				t.Fatalf("image %d pixel %d = %v, want %v", i, p, v, want)
			}
		}
		if train.Y[i] != i {
			t.Errorf("Y[%d] = %d, want %d", i, train.Y[i], i)
		}
	}
}

func TestLoadAHCDBad(t *testing.T) {
	img, lbl := ahcdRows(3)
	bad := strings.Replace(img, "255", "256", 1)
	short := strings.Replace(img, "0,0\n", "0\n", 1)
	nonNum := strings.Replace(img, ",0,", ",x,", 1)
	fraction := strings.Replace(img, ",0,", ",0.5,", 1)
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"missing member", map[string]string{"csvTrainImages.csv": img, "csvTrainLabel.csv": lbl, "csvTestImages.csv": img}, "no member csvTestLabel"},
		{"pixel range", map[string]string{"csvTrainImages.csv": bad, "csvTrainLabel.csv": lbl, "csvTestImages.csv": img, "csvTestLabel.csv": lbl}, "csvTrainImages.csv:1:1: pixel value 256 outside 0..255"},
		{"ragged", map[string]string{"csvTrainImages.csv": img, "csvTrainLabel.csv": lbl, "csvTestImages.csv": short, "csvTestLabel.csv": lbl}, "csvTestImages.csv:1: row has 1023 cells, want 1024"},
		{"non-numeric", map[string]string{"csvTrainImages.csv": nonNum, "csvTrainLabel.csv": lbl, "csvTestImages.csv": img, "csvTestLabel.csv": lbl}, `csvTrainImages.csv:1:2: expected a number, got "x"`},
		{"pixel not an integer", map[string]string{"csvTrainImages.csv": fraction, "csvTrainLabel.csv": lbl, "csvTestImages.csv": img, "csvTestLabel.csv": lbl}, "csvTrainImages.csv:1:2: pixel value 0.5 is not an integer"},
		{"label range", map[string]string{"csvTrainImages.csv": img, "csvTrainLabel.csv": "1\n29\n3\n", "csvTestImages.csv": img, "csvTestLabel.csv": lbl}, "csvTrainLabel.csv:2:1: label 29 outside 1..28"},
		{"count mismatch", map[string]string{"csvTrainImages.csv": img, "csvTrainLabel.csv": "1\n2\n", "csvTestImages.csv": img, "csvTestLabel.csv": lbl}, "2 labels for 3 images"},
		{"empty row", map[string]string{"csvTrainImages.csv": img, "csvTrainLabel.csv": "1\n\n3\n", "csvTestImages.csv": img, "csvTestLabel.csv": lbl}, "csvTrainLabel.csv:2: empty row"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.zip")
			writeZip(t, path, c.files)
			train, test, err := LoadAHCD(context.Background(), path, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("LoadAHCD error = %v, want one containing %q", err, c.want)
			}
			if train != nil || test != nil {
				t.Errorf("LoadAHCD returned data with an error")
			}
			if c.name != "count mismatch" && !errors.As(err, new(*FormatError)) {
				t.Errorf("error %v is not a *FormatError", err)
			}
		})
	}
	t.Run("not a zip", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a.zip")
		os.WriteFile(path, []byte("hello"), 0o644)
		if _, _, err := LoadAHCD(context.Background(), path, nil); err == nil || !strings.Contains(err.Error(), "not a readable zip") {
			t.Errorf("LoadAHCD(non-zip) error = %v, want \"not a readable zip\"", err)
		}
	})
}

func BenchmarkLoadAHCD(b *testing.B) {
	path := filepath.Join(sharedData(b), "ahcd", "ahcd_csv.zip")
	for b.Loop() {
		if _, _, err := LoadAHCD(context.Background(), path, nil); err != nil {
			b.Fatal(err)
		}
	}
}
