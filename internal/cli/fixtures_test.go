package cli

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The fixtures the command tests share: a small data set written as CSV
// files, so that the commands run end to end without the real data sets,
// small architectures that train on it in a moment, and functions that run
// the command and collect its outputs.

// csvSet describes a small data set for [writeCSVSet]: Classes classes of
// Size x Size grayscale images, Train images of each class in the training
// CSV and Test in the test CSV (none: no test file).
type csvSet struct {
	Classes, Size, Train, Test int
}

// smallSet is the data set of most command tests: 4 classes of 12x12
// images, 120 for training and 40 for testing. [smallSetNet] trains on it.
var smallSet = csvSet{Classes: 4, Size: 12, Train: 30, Test: 10}

// csvFiles are the files written by [writeCSVSet].
type csvFiles struct {
	Train, Test string // for --csv and --test-csv; Test is "" without test images
}

// writeCSVSet writes the data set set describes into a new temporary folder
// in the layout --csv reads: a header "label,p0,p1,...", then one image per
// row, its class and its pixels (0..255, row by row). The images are
// learnable: class c is a bright bar, horizontal for even c and vertical
// for odd c, in a band of the image of its own (class c/2 of the
// orientation), over a dark noisy background, with a random offset within
// the band. The same set always gives the same files.
func writeCSVSet(t testing.TB, set csvSet) csvFiles {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(set.Classes), uint64(set.Size)))
	write := func(name string, perClass int) string {
		var b strings.Builder
		b.WriteString("label")
		for p := range set.Size * set.Size {
			fmt.Fprintf(&b, ",p%d", p)
		}
		b.WriteByte('\n')
		for i := range perClass * set.Classes {
			c := i % set.Classes
			b.WriteString(strconv.Itoa(c))
			for _, v := range barImage(rng, set, c) {
				b.WriteByte(',')
				b.WriteString(strconv.Itoa(int(v)))
			}
			b.WriteByte('\n')
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	f := csvFiles{Train: write("train.csv", set.Train)}
	if set.Test > 0 {
		f.Test = write("test.csv", set.Test)
	}
	return f
}

// barImage draws an image of class c of set (see [writeCSVSet]).
func barImage(rng *rand.Rand, set csvSet, c int) []uint8 {
	n := set.Size
	bands := (set.Classes + 1) / 2
	band := max(n/bands, 1)
	width := max(band/2, 1)
	at := min((c/2)*band+rng.IntN(band-width+1), n-width)
	px := make([]uint8, n*n)
	for y := range n {
		for x := range n {
			pos := y
			if c%2 == 1 {
				pos = x
			}
			if pos >= at && pos < at+width {
				px[y*n+x] = uint8(200 + rng.IntN(56))
			} else {
				px[y*n+x] = uint8(rng.IntN(40))
			}
		}
	}
	return px
}

// smallNet is a JSON architecture for the 32x32 images of AHCD's 28 classes.
const smallNet = `{
  "layers": [
    {"class_name": "Conv2D", "config": {"filters": 8, "kernel_size": [3, 3], "padding": "same", "activation": "relu"}},
    {"class_name": "MaxPooling2D", "config": {"pool_size": [2, 2]}},
    {"class_name": "Dropout", "config": {"rate": 0.25}},
    {"class_name": "Flatten", "config": {}},
    {"class_name": "Dense", "config": {"units": 28, "activation": "softmax"}}
  ]
}`

// smallSetNet writes an architecture like smallNet for the classes of
// smallSet into dir and returns its path, for --model.
func smallSetNet(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "small.json")
	arch := strings.Replace(smallNet, `"units": 28`, fmt.Sprintf(`"units": %d`, smallSet.Classes), 1)
	if err := os.WriteFile(path, []byte(arch), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// dataDir returns $CONVNET_DATA, the folder of the real data sets, and
// skips the test when it is not set.
func dataDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CONVNET_DATA")
	if dir == "" {
		t.Skip("CONVNET_DATA is not set: the real data sets are needed (CI sets it to ../shared/data)")
	}
	return dir
}

// runCLI runs convnet with args and returns its exit code and outputs.
func runCLI(args ...string) (code int, stdout, stderr string) {
	return runCtx(context.Background(), args...)
}

// runCtx runs convnet with args under ctx and returns its exit code and outputs.
func runCtx(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}
