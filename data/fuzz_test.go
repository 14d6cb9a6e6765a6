package data

import (
	"archive/zip"
	"bytes"
	"context"
	"image"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"testing/fstest"
)

// The fuzz targets feed each decoder arbitrary bytes: it must return data
// or an error, never panic, and allocate no more than a multiple of the
// input's size plus a constant, whatever the input claims. Run one with a
// short minimisation time, such as
//
//	go test ./data/ -run '^$' -fuzz '^FuzzCSV$' -fuzztime 60s -fuzzminimizetime 1s
//
// Without -fuzz, go test runs every seed through the same checks.

// allocated returns the bytes f allocates on the heap, as the runtime
// counts them (a span's free slots count once it is taken for small
// objects). It reads runtime/metrics, which unlike runtime.ReadMemStats
// does not stop the world.
func allocated(f func()) int64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	f()
	metrics.Read(s)
	return int64(s[0].Value.Uint64() - before)
}

// allocatedExactly is allocated without the spans' free slots: a
// collection before and after f gives them back to the count.
func allocatedExactly(f func()) int64 {
	runtime.GC()
	return allocated(func() { f(); runtime.GC() })
}

// fixed is what a decoder allocates whatever its input (a bufio.Reader, a
// flate decompressor, a decoder's tables), with the runtime's way of
// counting: a span taken for small objects counts whole.
const fixed = 256 << 10

// checkAllocated runs f, which decodes an input of size bytes, and fails
// t if it allocates more than perByte*size + slack + fixed. An excess is
// measured again exactly (the spans taken for small objects may count
// up to a few hundred KiB they do not hold), so f must give the same
// result when run twice.
// It returns what f allocates.
func checkAllocated(t *testing.T, what string, f func(), size int, perByte, slack int64) int64 {
	t.Helper()
	limit := perByte*int64(size) + slack + fixed
	n := allocated(f)
	if n <= limit {
		return n
	}
	if n = allocatedExactly(f); n > limit {
		t.Fatalf("%s of %d bytes allocates %d bytes, want at most %d (%d per byte + %d + %d)", what, size, n, limit, perByte, slack, fixed)
	}
	return n
}

// fuzzBudget is large enough never to be the limit.
func fuzzBudget() *Budget { return NewBudget(1 << 40) }

// checkDataset fails t unless d is a well-formed data set of 0..255 pixels.
func checkDataset(t *testing.T, d *Dataset) {
	t.Helper()
	if n := len(d.Tensor().Data); d.Len() == 0 || n != d.Len()*d.SampleSize() {
		t.Fatalf("%d images, %d values of size %d", d.Len(), n, d.SampleSize())
	}
	for _, y := range d.Y {
		if y < 0 || y >= d.NumClasses() {
			t.Fatalf("label %d outside %d classes", y, d.NumClasses())
		}
	}
	if lo, hi := d.Range(); lo < 0 || hi > 255 {
		t.Fatalf("pixel range %v..%v", lo, hi)
	}
}

// FuzzCSV: at most the plain rate for what is charged, and as much again
// for the buffers of one row (the line, its cells, the header's names).
func FuzzCSV(f *testing.F) {
	f.Add([]byte("label,p0,p1,p2,p3\n3,0,1,2,3\n1,4,5,6,7\n"), "")
	f.Add([]byte("0,1,2,3,2\r\n4,5,6,7,0\r\n"), "4")
	f.Add([]byte("\"a\",\"b\",\"cls\"\n 10 , 20.5 ,\"1\"\n"), "cls")
	f.Add([]byte("1,2,,4,5\n\n"), "")
	f.Add([]byte("1e3,-0,0x10,1_0\n"), "0")
	f.Add([]byte("65535,0\n"), "")
	f.Add([]byte(","+strings.Repeat(",", 100)+"\n"), "")
	f.Fuzz(func(t *testing.T, b []byte, label string) {
		var d *Dataset
		var err error
		checkAllocated(t, "decodeCSV", func() {
			a := fuzzBudget().allow("fuzz.csv", int64(len(b)), plainRate)
			d, err = decodeCSV("fuzz.csv", bytes.NewReader(b), a, CSVOptions{LabelColumn: label})
		}, len(b), 2*plainRate.perByte, 2*plainRate.slack)
		if err == nil {
			checkDataset(t, d)
		}
	})
}

// FuzzIDX: at most the packed rate.
func FuzzIDX(f *testing.F) {
	f.Add(idxBytes([]int{2, 2, 2}, []byte{1, 2, 3, 4, 5, 6, 7, 8}))
	f.Add(idxBytes([]int{3}, []byte{1, 2, 3}))
	f.Add(gzipBytes(idxBytes([]int{1, 1, 1}, []byte{9})))
	f.Add(gzipBytes(idxBytes([]int{1 << 10, 1 << 10}, nil)))
	f.Add(idxBytes([]int{1 << 30, 1 << 30}, nil))
	f.Add([]byte{0, 0, 8})
	f.Fuzz(func(t *testing.T, b []byte) {
		var a idxArray
		var err error
		checkAllocated(t, "readIDX", func() { a, _, err = readIDX("fuzz", bytes.NewReader(b), int64(len(b)), fuzzBudget()) }, len(b), packedRate.perByte, packedRate.slack)
		if err != nil {
			return
		}
		size := 1
		for _, d := range a.dims {
			size *= d
		}
		if size != len(a.data) {
			t.Fatalf("readIDX: dims %v with %d bytes", a.dims, len(a.data))
		}
	})
}

// fuzzImageRate is the image rate with a smaller constant, so that fuzzing
// does not spend its time allocating large images.
var fuzzImageRate = rate{perByte: imageRate.perByte, slack: 256 << 10}

// FuzzImage: at most the image rate, and no more than the decoder's
// estimate of what it allocates.
func FuzzImage(f *testing.F) {
	f.Add(encodeImage(f, "png", grayImage(3, 2)))
	f.Add(encodeImage(f, "gif", grayImage(3, 2)))
	f.Add(encodeImage(f, "bmp", grayImage(3, 2)))
	f.Add(encodeImage(f, "jpg", grayImage(3, 2)))
	f.Add(encodeImage(f, "png", image.NewNRGBA64(image.Rect(0, 0, 5, 3))))
	f.Add([]byte("BM"))
	f.Add([]byte("P5 3 2 255 abcdef"))
	f.Add([]byte("P6 2 1 255 abcdef"))
	f.Add([]byte("P2 3 2 255 1 2 3 4 5 6"))
	f.Add([]byte("P3 1 1 15 1 2 3\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var img image.Image
		var cost int64
		var err error
		decode := func() {
			a := fuzzBudget().allow("fuzz", int64(len(b)), fuzzImageRate)
			img, cost, err = decodeImage(context.Background(), "fuzz", b, a)
		}
		n := checkAllocated(t, "decodeImage", decode, len(b), fuzzImageRate.perByte, fuzzImageRate.slack)
		if err != nil {
			return
		}
		if n > cost+fixed {
			n = allocatedExactly(decode)
		}
		if n > cost+fixed {
			t.Fatalf("decoding a %v image allocates %d bytes, more than the %d estimated", img.Bounds(), n, cost)
		}
		for _, v := range ImageToPixels(img, 4, 4, 3) {
			if v < 0 || v > 255 {
				t.Fatalf("ImageToPixels value %v outside 0..255", v)
			}
		}
	})
}

// zipBytes returns a zip archive of the named files.
func zipBytes(t testing.TB, files ...string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.Create(files[i])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[i+1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzAHCDZip: at most the packed rate, and the readers of the four members
// (one is counted in fixed).
func FuzzAHCDZip(f *testing.F) {
	img, lbl := ahcdRows(2)
	f.Add(zipBytes(f, "csvTrainImages.csv", img, "csvTrainLabel.csv", lbl, "csvTestImages.csv", img, "csvTestLabel.csv", lbl))
	f.Add(zipBytes(f, "csvTrainImages.csv", "1,2\n", "csvTrainLabel.csv", "1\n", "csvTestImages.csv", "", "csvTestLabel.csv", "29\n"))
	f.Add(zipBytes(f, "csvTrainImages.csv", strings.Repeat("0,", 1<<16), "csvTrainLabel.csv", strings.Repeat("\n", 1<<16),
		"csvTestImages.csv", img, "csvTestLabel.csv", lbl))
	f.Fuzz(func(t *testing.T, b []byte) {
		var train, test *Dataset
		var err error
		checkAllocated(t, "loadAHCD", func() {
			zr, zerr := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if zerr != nil {
				return
			}
			budget := fuzzBudget()
			members, merr := ahcdZip("fuzz.zip", zr, budget.allow("fuzz.zip", int64(len(b)), packedRate))
			if merr != nil {
				return
			}
			train, test, err = loadAHCD(context.Background(), members, budget)
		}, len(b), packedRate.perByte, packedRate.slack+3*fixed)
		if err == nil && train != nil {
			checkDataset(t, train)
			checkDataset(t, test)
		}
	})
}

// FuzzImageFolder splits its input at each "|" into image files of two
// classes: at most the image rate for each file, and the data set within
// a budget of 4 MiB.
func FuzzImageFolder(f *testing.F) {
	f.Add(bytes.Join([][]byte{encodeImage(f, "png", grayImage(3, 2)), encodeImage(f, "gif", grayImage(2, 2))}, []byte("|")))
	f.Add(bytes.Join([][]byte{encodeImage(f, "bmp", grayImage(3, 2)), encodeImage(f, "jpg", grayImage(4, 4)), []byte("x")}, []byte("|")))
	f.Fuzz(func(t *testing.T, b []byte) {
		files := bytes.Split(b, []byte("|"))
		if len(files) > 16 {
			return
		}
		fsys := fstest.MapFS{}
		for i, data := range files {
			fsys[[]string{"a", "b"}[i%2]+"/"+strings.Repeat("x", i)+".png"] = &fstest.MapFile{Data: data}
		}
		const budget = 4 << 20
		var d *Dataset
		var err error
		checkAllocated(t, "loadImageFolder", func() {
			opts := ImageFolderOptions{ColorMode: "rgb", Budget: NewBudget(budget)}
			d, err = loadImageFolder(context.Background(), fsys, "fuzz", opts, fuzzImageRate)
		}, len(b), fuzzImageRate.perByte, int64(len(files))*(fuzzImageRate.slack+fixed)+budget)
		if err == nil {
			checkDataset(t, d)
		}
	})
}
