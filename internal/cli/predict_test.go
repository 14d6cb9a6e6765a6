package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// TestPredictFolderMatchesEvaluate writes AHCD's test images as PNGs named
// after their labels, classifies the folder with the built-in model and
// checks the accuracy against convnet evaluate's on the same images. The
// whole test set (3,360 images) runs without the race detector; with it,
// which makes the network some ten times slower, the images of two of the
// 60 writers (56 each, 2 of each letter).
func TestPredictFolderMatchesEvaluate(t *testing.T) {
	_, test, err := data.Named(context.Background(), "ahcd", dataDir(t))
	if err != nil {
		t.Fatal(err)
	}
	const block = 56 // one writer's test images
	writers := 1     // every writer
	if raceEnabled {
		writers = 30 // every thirtieth
	}
	dir := t.TempDir()
	imgs := filepath.Join(dir, "images")
	var rows []string
	for i := range test.Len() {
		if i/block%writers != 0 {
			continue
		}
		sub := filepath.Join(imgs, fmt.Sprintf("writer%02d", i/block)) // nested folders
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		writeGrayPNG(t, filepath.Join(sub, fmt.Sprintf("%04d_label%02d.png", i, test.Y[i])), test.Image(i), 32, 32)
		row := []string{strconv.Itoa(test.Y[i])}
		for _, v := range test.Image(i) {
			row = append(row, strconv.Itoa(int(v)))
		}
		rows = append(rows, strings.Join(row, ","))
	}
	labelled := filepath.Join(dir, "test.csv")
	if err := os.WriteFile(labelled, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// Flags after the folder; CSV output.
	code, stdout, stderr := runCLI("predict", imgs, "--model", "ahcd", "--output", "csv", "--top", "2")
	if code != 0 {
		t.Fatalf("predict exit code %d: %s", code, stderr)
	}
	records, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil {
		t.Fatalf("predict --output csv does not parse: %v", err)
	}
	want := []string{"input", "label_1", "name_1", "probability_1", "label_2", "name_2", "probability_2", "inverted", "blank"}
	if strings.Join(records[0], ",") != strings.Join(want, ",") {
		t.Errorf("CSV header %q, want %q", records[0], want)
	}
	if len(records)-1 != len(rows) {
		t.Fatalf("predict classified %d images, want %d", len(records)-1, len(rows))
	}
	correct := 0
	for _, r := range records[1:] {
		name := filepath.Base(r[0])
		label, _ := strconv.Atoi(name[len(name)-len("00.png") : len(name)-len(".png")])
		if r[1] == strconv.Itoa(label) {
			correct++
		}
	}

	// Evaluate the same images, from the CSV with their labels.
	code, stdout, stderr = runCLI("evaluate", "--model", "ahcd", "--csv", labelled, "--test-csv", labelled, "--out-dir", dir, "--json")
	if code != 0 {
		t.Fatalf("evaluate exit code %d: %s", code, stderr)
	}
	var ev struct {
		Accuracy float64 `json:"accuracy"`
		Count    int     `json:"count"`
	}
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatal(err)
	}
	got := float64(correct) / float64(len(rows))
	t.Logf("convnet predict --model ahcd on %d PNGs: %d correct (%.2f%%); convnet evaluate: %.2f%% of %d", len(rows), correct, 100*got, 100*ev.Accuracy, ev.Count)
	if ev.Count != len(rows) || got != ev.Accuracy {
		t.Errorf("predict accuracy %v on %d images, evaluate %v on %d; want the same", got, len(rows), ev.Accuracy, ev.Count)
	}
	if ev.Accuracy < 0.97 {
		t.Errorf("the built-in AHCD model scores %.2f%%, want at least 97%%", 100*ev.Accuracy)
	}
}

// tinyModel returns a small built model for 8x8x1 images and 3 classes,
// "a", "b" and "c", without preprocessing.
func tinyModel(t *testing.T) *model.Sequential {
	t.Helper()
	m := model.New(
		&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"},
		&nn.Flatten{},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{8, 8, 1}, 1); err != nil {
		t.Fatal(err)
	}
	m.ClassNames = []string{"a", "b", "c"}
	return m
}

// predictModel is tinyModel with the rescaling preprocessing and class
// names that CSV must quote.
func predictModel(t *testing.T) *model.Sequential {
	m := tinyModel(t)
	m.ClassNames = []string{"a", "b,c", "d \"e\""}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	return m
}

func saveModel(t *testing.T, m *model.Sequential, path string) string {
	t.Helper()
	if err := model.Save(path, m, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pixelRow returns n comma-separated pixel values.
func pixelRow(n int, v int) string {
	return strings.TrimSuffix(strings.Repeat(strconv.Itoa(v)+",", n), ",")
}

func TestPredictInputs(t *testing.T) {
	dir := t.TempDir()
	mpath := saveModel(t, predictModel(t), filepath.Join(dir, "tiny.safetensors"))
	img := func(v uint8) []byte {
		g := image.NewGray(image.Rect(0, 0, 16, 16))
		for i := range g.Pix {
			g.Pix[i] = v
		}
		var b bytes.Buffer
		png.Encode(&b, g)
		return b.Bytes()
	}
	folder := filepath.Join(dir, "folder")
	writeFile(t, filepath.Join(folder, "a.png"), img(0))
	writeFile(t, filepath.Join(folder, "sub", "b.png"), img(255))
	writeFile(t, filepath.Join(folder, "sub", "broken.png"), []byte("not a png"))
	writeFile(t, filepath.Join(folder, "notes.txt"), []byte("ignored"))
	writeFile(t, filepath.Join(folder, ".hidden", "c.png"), img(0))
	single := writeFile(t, filepath.Join(dir, "single.png"), img(10))
	kaggle := writeFile(t, filepath.Join(dir, "test.csv"), []byte("p0"+strings.Repeat(",p", 63)+"\n"+pixelRow(64, 0)+"\n"+pixelRow(64, 200)+"\n"))
	labelled := writeFile(t, filepath.Join(dir, "train.csv"), []byte("label"+strings.Repeat(",p", 64)+"\n1,"+pixelRow(64, 0)+"\n"))
	wide := writeFile(t, filepath.Join(dir, "wide.csv"), []byte(pixelRow(64, 0)+"\n"+pixelRow(65, 0)+"\n"))
	mnist := writeFile(t, filepath.Join(dir, "mnist.csv"), []byte(pixelRow(784, 0)+"\n"))

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.Write(img(128))
		w.Close()
	}()
	saved := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = saved }()

	tests := []struct {
		name    string
		args    []string
		code    int
		out     []string // in stdout
		errs    []string // in stderr
		notOut  string
		outRows int // lines of stdout, header included; 0: not checked
	}{
		{"folder with a broken image", []string{folder}, 1,
			[]string{filepath.Join(folder, "a.png"), filepath.Join(folder, "sub", "b.png")},
			[]string{filepath.Join(folder, "sub", "broken.png") + ": not a readable", "1 of 3 inputs could not be classified"}, "hidden", 3},
		{"single file, flags after", []string{single, "--top", "1", "--model", mpath}, 0, []string{"class 1", "single.png"}, nil, "class 2", 2},
		{"stdin", []string{"-", "--output", "json"}, 0, []string{`"input":"-"`}, nil, "", 1},
		{"kaggle test.csv", []string{kaggle, "--output", "csv"}, 0, []string{"test.csv#1,", "test.csv#2,"}, nil, "true_label", 3},
		{"labelled csv", []string{labelled, "--csv-label", "label", "--output", "json"}, 0, []string{`"true_label":1`, `"true_name":"b,c"`}, nil, "", 1},
		{"csv with labels not named", []string{labelled}, 1, nil, []string{"65 pixel columns, want 8x8x1 = 64", "name it with --csv-label"}, "", 1},
		{"csv row of the wrong width", []string{wide}, 1, nil, []string{"wide.csv:2: row has 65 cells, want 64", "model " + mpath + " takes 8x8x1 images"}, "", 1},
		{"csv of another model", []string{mnist}, 1, nil, []string{"mnist.csv:1: 784 pixel columns, want 8x8x1 = 64", "model " + mpath}, "", 1},
		{"missing file", []string{filepath.Join(dir, "nope.png"), single}, 1, []string{"single.png"}, []string{"nope.png: no such file", "1 of 2 inputs"}, "", 2},
		{"unknown built-in", []string{single, "--model", "nosuch"}, 1, nil, []string{"built-in models are ahcd, mnist"}, "", 0},
		{"no inputs", []string{}, 2, nil, []string{"give the image files"}, "", 0},
		{"bad output", []string{single, "--output", "xml"}, 2, nil, []string{"--output \"xml\""}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"predict"}, tt.args...)
			if !strings.Contains(strings.Join(tt.args, " "), "--model") {
				args = append(args, "--model", mpath)
			}
			code, stdout, stderr := runCLI(args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, w := range tt.out {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.errs {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if tt.notOut != "" && strings.Contains(stdout, tt.notOut) {
				t.Errorf("stdout holds %q:\n%s", tt.notOut, stdout)
			}
			if n := strings.Count(stdout, "\n"); tt.outRows > 0 && n != tt.outRows {
				t.Errorf("stdout has %d lines, want %d:\n%s", n, tt.outRows, stdout)
			}
		})
	}
}

// TestPredictOutputs checks that the CSV output parses with encoding/csv
// and agrees with the JSON lines and the library, names with commas and
// quotes included.
func TestPredictOutputs(t *testing.T) {
	dir := t.TempDir()
	m := predictModel(t)
	mpath := saveModel(t, m, filepath.Join(dir, "tiny.safetensors"))
	var rows []string
	for v := range 5 {
		rows = append(rows, pixelRow(64, v*50))
	}
	in := writeFile(t, filepath.Join(dir, "x, \"odd\" name.csv"), []byte(strings.Join(rows, "\n")))
	_, out, errs := runCLI("predict", "--model", mpath, "--output", "csv", "--top", "3", in)
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(records) != 6 {
		t.Fatalf("CSV output: %v, %d records\n%s%s", err, len(records), out, errs)
	}
	_, jout, _ := runCLI("predict", "--model", mpath, "--output", "json", "--top", "3", in)
	lines := strings.Split(strings.TrimSpace(jout), "\n")
	for i, r := range records[1:] {
		var p jsonPrediction
		if err := json.Unmarshal([]byte(lines[i]), &p); err != nil {
			t.Fatal(err)
		}
		if r[0] != in+"#"+strconv.Itoa(i+1) || r[0] != p.Input {
			t.Errorf("row %d input %q, JSON %q, want %q", i+1, r[0], p.Input, in+"#"+strconv.Itoa(i+1))
		}
		for k := range 3 {
			prob, err := strconv.ParseFloat(r[3+3*k], 32)
			if err != nil || r[1+3*k] != strconv.Itoa(p.Top[k].Label) || r[2+3*k] != p.Top[k].Name || float32(prob) != p.Top[k].Probability {
				t.Errorf("row %d rank %d: CSV %q, JSON %+v", i+1, k+1, r[1+3*k:4+3*k], p.Top[k])
			}
		}
	}
}

// TestPredictNonFinite: a model whose weights hold NaN is refused at load,
// naming the tensor; one whose finite weights overflow gives an error, never
// "NaN%" with exit code 0, in predict and in evaluate.
func TestPredictNonFinite(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, filepath.Join(dir, "x.csv"), []byte(pixelRow(64, 100)+"\n"))
	labeled := writeFile(t, filepath.Join(dir, "labeled.csv"), []byte("1,"+pixelRow(64, 100)+"\n2,"+pixelRow(64, 7)+"\n"))
	// Save refuses NaN weights: the file gets them in place of a value
	// found nowhere else.
	const stand = float32(-3.25e-7)
	for _, tt := range []struct {
		name  string
		value float32
		want  string
	}{
		{"nan", float32(math.NaN()), `"dense/kernel": value 0 of 384 is NaN`},
		{"huge", 3e38, "x.csv#1: the model's output is not finite"},
	} {
		m := predictModel(t)
		for i := range m.Layers[2].Params()[0].Value.Data {
			m.Layers[2].Params()[0].Value.Data[i] = tt.value
			if math.IsNaN(float64(tt.value)) {
				m.Layers[2].Params()[0].Value.Data[i] = stand
			}
		}
		mpath := saveModel(t, m, filepath.Join(dir, tt.name+".safetensors"))
		if math.IsNaN(float64(tt.value)) {
			b, err := os.ReadFile(mpath)
			if err != nil {
				t.Fatal(err)
			}
			var from, to [4]byte
			binary.LittleEndian.PutUint32(from[:], math.Float32bits(stand))
			binary.LittleEndian.PutUint32(to[:], math.Float32bits(tt.value))
			if n := bytes.Count(b, from[:]); n != 384 {
				t.Fatalf("the stand-in value is in the file %d times, want 384", n)
			}
			writeFile(t, mpath, bytes.ReplaceAll(b, from[:], to[:]))
		}
		code, stdout, stderr := runCLI("predict", "--model", mpath, in)
		if code != 1 || !strings.Contains(stderr, tt.want) || strings.Contains(stdout, "NaN") {
			t.Errorf("predict with %s weights: exit %d\nstdout:\n%s\nstderr:\n%s\nwant %q", tt.name, code, stdout, stderr, tt.want)
		}
		code, stdout, stderr = runCLI("evaluate", "--model", mpath, "--csv", labeled, "--test-csv", labeled, "--out-dir", dir)
		if code != 1 || !strings.Contains(stderr, strings.Replace(tt.want, "x.csv#1", "test image 1", 1)) || strings.Contains(stdout, "NaN") {
			t.Errorf("evaluate with %s weights: exit %d\nstdout:\n%s\nstderr:\n%s\nwant %q", tt.name, code, stdout, stderr, tt.want)
		}
	}
}

// TestPredictFIFO: a named pipe, given as a file or found in a folder, is
// reported at once instead of blocking the run.
func TestPredictFIFO(t *testing.T) {
	dir := t.TempDir()
	mpath := saveModel(t, predictModel(t), filepath.Join(dir, "tiny.safetensors"))
	folder := filepath.Join(dir, "folder")
	os.Mkdir(folder, 0o755)
	for _, p := range []string{filepath.Join(dir, "pipe.png"), filepath.Join(folder, "pipe.png")} {
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
	}
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stdout, stderr := runCLI("predict", "--model", mpath, filepath.Join(dir, "pipe.png"), folder, "/dev/zero")
		done <- result{code, stdout, stderr}
	}()
	select {
	case r := <-done:
		for _, p := range []string{filepath.Join(dir, "pipe.png"), filepath.Join(folder, "pipe.png"), "/dev/zero"} {
			if !strings.Contains(r.stderr, p+": not a regular file or folder") {
				t.Errorf("stderr does not report %s:\n%s", p, r.stderr)
			}
		}
		if r.code != 1 {
			t.Errorf("exit code %d, want 1", r.code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("predict on named pipes and a device blocks")
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := runCLI(args...)
		if f := strings.Fields(out); code != 0 || len(f) != 4 || f[0] != "convnet" || !strings.HasPrefix(f[2], "go1.") {
			t.Errorf("convnet %s: exit %d, %q; want \"convnet VERSION GO OS/ARCH\"", args[0], code, out)
		}
	}
}

// TestEvaluateKeepsResults: with the PNGs already there, evaluate still
// prints the results, then reports the PNGs it could not write.
func TestEvaluateKeepsResults(t *testing.T) {
	dir := t.TempDir()
	mpath := saveModel(t, predictModel(t), filepath.Join(dir, "tiny.safetensors"))
	var rows []string
	for i := range 30 {
		rows = append(rows, strconv.Itoa(i%3)+","+pixelRow(64, i*8))
	}
	csvPath := writeFile(t, filepath.Join(dir, "d.csv"), []byte(strings.Join(rows, "\n")))
	args := []string{"evaluate", "--model", mpath, "--csv", csvPath, "--test-csv", csvPath}
	if code, _, stderr := runCLI(args...); code != 0 {
		t.Fatalf("first evaluate: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCLI(args...)
	if code != 1 || !strings.Contains(stdout, "Test accuracy:") || !strings.Contains(stderr, "the results are above") || !strings.Contains(stderr, "tiny.confusion.png") {
		t.Errorf("evaluate over existing PNGs: exit %d\nstdout:\n%s\nstderr:\n%s\nwant the results, then the error", code, stdout, stderr)
	}
	if code, stdout, _ := runCLI(append(args, "--force")...); code != 0 || !strings.Contains(stdout, "Confusion heatmap: "+filepath.Join(dir, "tiny.confusion.png")) {
		t.Errorf("evaluate --force: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := runCLI("evaluate", "--model", "ahcd", "--update-model"); code != 2 || !strings.Contains(stderr, "built-in") {
		t.Errorf("evaluate --update-model on a built-in model: exit %d, %s", code, stderr)
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, true, 1000)
	p.add(256)
	if want := "\r\033[Kclassified 256 of 1000 inputs [=======                       ]  25%"; b.String() != want {
		t.Errorf("progress line %q, want %q", b.String(), want)
	}
	b.Reset()
	p.clear()
	p.clear()
	if b.String() != "\r\033[K" {
		t.Errorf("clearing the progress line twice wrote %q, want one \\r\\033[K", b.String())
	}
	for _, p := range []*progress{newProgress(&b, false, 1000), newProgress(&b, true, predictChunk)} {
		b.Reset()
		p.add(predictChunk)
		p.clear()
		if b.Len() != 0 {
			t.Errorf("progress off a terminal or for one chunk wrote %q", b.String())
		}
	}
}
