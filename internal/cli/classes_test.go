package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// csvRows is a CSV of n 28x28 images whose labels are label(i).
func csvRows(n int, label func(int) int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%d%s\n", label(i), strings.Repeat(",0", 784))
	}
	return []byte(b.String())
}

// TestTestSetClasses: a test set is matched with the training set's
// classes (image folders by name, CSV labels by number) before training
// starts; one with a class the training set has not is refused, naming it.
func TestTestSetClasses(t *testing.T) {
	dir := t.TempDir()
	train := writeFile(t, filepath.Join(dir, "tr.csv"), csvRows(60, func(i int) int { return i % 3 }))
	seven := writeFile(t, filepath.Join(dir, "te.csv"), csvRows(20, func(int) int { return 7 }))
	two := writeFile(t, filepath.Join(dir, "te2.csv"), csvRows(20, func(i int) int { return i % 2 }))
	out := filepath.Join(dir, "m.safetensors")
	for _, args := range [][]string{{}, {"--validation-data", "test", "--no-evaluate"}} {
		code, _, stderr := runCLI(append([]string{"train", "--csv", train, "--test-csv", seven, "--model", "lenet5", "--epochs", "1", "--batch-size", "10", "--out", out}, args...)...)
		if code != 1 || !strings.Contains(stderr, `--test-csv `+seven+`: image 1 is of class "7", not one of the 3 classes "0", "1", "2": the labels of --csv `+train) {
			t.Errorf("train %v with a test label of 7: exit %d, %s", args, code, stderr)
		}
		if _, err := os.Stat(strings.TrimSuffix(out, ".safetensors") + ".ckpt.safetensors"); err == nil {
			t.Errorf("train %v: a checkpoint left behind", args)
		}
	}
	// A test set of fewer classes: counted against the training set's.
	code, stdout, stderr := runCLI("data", "info", "--csv", train, "--test-csv", two)
	if code != 0 || !strings.Contains(stdout, "      2     2     20     0") {
		t.Errorf("data info with 2 test classes of 3: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--test-images", dir}, "--test-images goes with --images"},
		{[]string{"train", "--test-csv", two}, "--test-csv goes with --csv"},
	} {
		if code, _, stderr := runCLI(c.args...); code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %s", c.args, code, stderr)
		}
	}
}

// TestEvaluateFolderClasses evaluates the built-in AHCD model on test
// folders named after its classes but listed in another order (the
// alphabet's): matched by name, not by place; a folder of another name is
// refused, naming it; --test-images alone is the test set.
func TestEvaluateFolderClasses(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runCLI("data", "export", "--data-dir", dataDir(t), "--out", dir, "--per-class", "4"); code != 0 {
		t.Fatalf("data export: exit %d: %s", code, stderr)
	}
	test := filepath.Join(dir, "test")
	entries, err := os.ReadDir(test)
	if err != nil || len(entries) != 28 || !strings.HasPrefix(entries[0].Name(), "ain") {
		t.Fatalf("the exported test folders: %v, %v; want 28, ain first", entries, err)
	}
	code, stdout, stderr := runCLI("evaluate", "--model", "ahcd", "--test-images", test, "--out-dir", dir)
	if code != 0 || !strings.Contains(stdout, "of 112 images") {
		t.Fatalf("evaluate: exit %d: %s%s", code, stdout, stderr)
	}
	var acc float64
	if _, err := fmt.Sscanf(stdout[strings.Index(stdout, "Test accuracy: "):], "Test accuracy: %f", &acc); err != nil || acc < 0.9 {
		t.Errorf("accuracy %v (%v), want the model's, above 0.9:\n%s", acc, err, stdout)
	}
	if err := os.Rename(filepath.Join(test, entries[0].Name()), filepath.Join(test, "zzz")); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI("evaluate", "--model", "ahcd", "--test-images", test, "--out-dir", dir); code != 1 || !strings.Contains(stderr, `the test images against the classes of ahcd: image 109 is of class "zzz", not one of the 28 classes "alef ا"`) {
		t.Errorf("a folder zzz: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCLI("evaluate", "--model", "ahcd", "--test-images", filepath.Join(dir, "none")); code != 1 || !strings.Contains(stderr, "none: no such file or directory") {
		t.Errorf("--test-images of a missing folder: exit %d, %s", code, stderr)
	}
}

// TestPredictEdges: an image among labelled CSV rows has no label; an
// empty folder is an error; two inputs of the same --cam file name both
// get their picture.
func TestPredictEdges(t *testing.T) {
	dir := t.TempDir()
	img := testImages(t, "ahcd", 1)[0]
	a, b := filepath.Join(dir, "d", "ok.png"), filepath.Join(dir, "d_ok.png")
	if err := os.Mkdir(filepath.Dir(a), 0o755); err != nil {
		t.Fatal(err)
	}
	writeGrayPNG(t, a, img, 32, 32)
	writeGrayPNG(t, b, img, 32, 32)
	for _, output := range []string{"table", "csv"} {
		if code, stdout, stderr := runCLI("predict", "--model", "ahcd", "--csv-label", "0", "--output", output, a); code != 0 || !strings.Contains(stdout, "ok.png") {
			t.Errorf("--csv-label with an image, --output %s: exit %d: %s%s", output, code, stdout, stderr)
		}
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI("predict", "--model", "ahcd", empty); code != 1 || !strings.Contains(stderr, "empty: a folder without images") {
		t.Errorf("an empty folder: exit %d, %s", code, stderr)
	}
	cams := filepath.Join(dir, "cams")
	if code, _, stderr := runCLI("predict", "--model", "ahcd", "--cam", "gradcam", "--cam-dir", cams, a, b); code != 0 {
		t.Fatalf("predict --cam: exit %d: %s", code, stderr)
	}
	if entries, err := os.ReadDir(cams); err != nil || len(entries) != 2 {
		t.Errorf("--cam of two inputs of one file name: %v, %v; want 2 pictures", entries, err)
	}
	if code, _, stderr := runCLI("bench", "--threads", "100000"); code != 2 || !strings.Contains(stderr, "--threads 100000: want at most 1024") {
		t.Errorf("bench --threads 100000: exit %d, %s", code, stderr)
	}
}

// TestExportHelpModel: export's --model, which onnx, tfjs and keras
// require, shows no default in the help, though it is train's flag, whose
// default is the tutorial preset.
func TestExportHelpModel(t *testing.T) {
	code, _, stderr := runCLI("export", "-h")
	_, usage, ok := strings.Cut(stderr, "\n  -model string\n")
	if code != 0 || !ok {
		t.Fatalf("export -h: exit %d, no --model in\n%s", code, stderr)
	}
	usage, _, _ = strings.Cut(usage, "\n")
	if strings.Contains(usage, "(default") || !strings.Contains(usage, "required for onnx, tfjs and keras") {
		t.Errorf("export -h: --model %q, want no default and required for onnx, tfjs and keras", usage)
	}
}

// TestHelpCommands: convnet help lists every command, the summaries in one
// column however long the longest name.
func TestHelpCommands(t *testing.T) {
	code, stdout, _ := runCLI("help")
	_, list, _ := strings.Cut(stdout, "\nCommands:\n")
	list, _, _ = strings.Cut(list, "\n\n")
	lines := strings.Split(list, "\n")
	if code != 0 || len(lines) != len(commands) {
		t.Fatalf("help: exit %d, %d commands listed, want %d:\n%s", code, len(lines), len(commands), stdout)
	}
	col := -1
	for _, c := range commands {
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "  "+c.name+" ") })
		if i < 0 {
			t.Errorf("help: no line for %q:\n%s", c.name, stdout)
			continue
		}
		at := strings.Index(lines[i], c.summary)
		if col < 0 {
			col = at
		}
		if at != col || at < len(c.name)+3 {
			t.Errorf("help: %q's summary at column %d, want %d, after its name:\n%s", c.name, at, col, stdout)
		}
	}
}

// TestHelpAndModelHints: convnet help COMMAND gives the command's flags;
// a file given as --model that is not a model says what it is instead; a
// built-in model is held to --max-memory as a model file is.
func TestHelpAndModelHints(t *testing.T) {
	if code, stdout, stderr := runCLI("help", "train"); code != 0 || !strings.Contains(stdout+stderr, "Usage: convnet train [flags]") {
		t.Errorf("help train: exit %d: %s%s", code, stdout, stderr)
	}
	if code, _, stderr := runCLI("help", "bogus"); code != 2 || !strings.Contains(stderr, `unknown command "bogus"`) {
		t.Errorf("help bogus: exit %d: %s", code, stderr)
	}
	dir := t.TempDir()
	png := filepath.Join(dir, "a.png")
	writeGrayPNG(t, png, make([]float32, 64), 8, 8)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"summary", "--model", writeFile(t, filepath.Join(dir, "e.json"), nil)}, "e.json: neither a model file nor an architecture, a JSON object as Keras's model.to_json() writes it"},
		{[]string{"predict", "--model", png, png}, "a.png is an image, not a model"},
		{[]string{"predict", "--model", "ahcd", "--max-memory", "1KiB", png}, "more than the limit of 1 KiB (--max-memory raises the limit)"},
		{[]string{"predict", "--model", writeFile(t, filepath.Join(dir, "m.h5"), []byte("\x89HDF\r\n\x1a\n")), png}, "(a Keras model becomes a model file with convnet import --keras"},
	} {
		if code, _, stderr := runCLI(c.args...); code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %s; want 1 and %q", c.args, code, stderr, c.want)
		}
	}
}

// TestFineTuneFolders trains on from the built-in AHCD model with the
// letters exported as folders, which come in the alphabet's order: the
// same classes, so the model keeps its head and the labels follow it.
func TestFineTuneFolders(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runCLI("data", "export", "--data-dir", dataDir(t), "--out", dir, "--per-class", "3"); code != 0 {
		t.Fatalf("data export: exit %d: %s", code, stderr)
	}
	out := filepath.Join(dir, "tuned.safetensors")
	code, stdout, stderr := runCLI("train", "--model", "ahcd", "--images", filepath.Join(dir, "train"), "--test-images", filepath.Join(dir, "test"),
		"--epochs", "1", "--batch-size", "21", "--lr", "1e-5", "--no-augment", "--out", out)
	if code != 0 || !strings.Contains(stderr, "Starting from ahcd: its weights, preprocessing and head (the same 28 classes, the data's labels put in its order).") {
		t.Fatalf("train: exit %d:\n%s%s", code, stdout, stderr)
	}
	var acc float64
	i := strings.Index(stdout, "test accuracy: ")
	if i < 0 {
		t.Fatalf("no test accuracy:\n%s", stdout)
	}
	if _, err := fmt.Sscanf(stdout[i:], "test accuracy: %f", &acc); err != nil || acc < 0.9 {
		t.Errorf("test accuracy %v (%v) after a step at 1e-5 from the built-in model, want above 0.9", acc, err)
	}
}
