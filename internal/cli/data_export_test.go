package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDataExport writes a CSV data set as PNG folders, two images of each
// class at most, and reads them back with --images: the same classes and
// the same pixels, in the order of the files. Replacing a split folder that
// holds files takes --force; bad flags are refused.
func TestDataExport(t *testing.T) {
	f := writeCSVSet(t, csvSet{Classes: 3, Size: 5, Train: 4, Test: 1})
	out := filepath.Join(t.TempDir(), "png")
	code, stdout, stderr := runCLI("data", "export", "--csv", f.Train, "--test-csv", f.Test, "--per-class", "2", "--out", out)
	if code != 0 {
		t.Fatalf("data export: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"train: 6 images of 3 classes in " + filepath.Join(out, "train"), "test: 3 images of 3 classes in " + filepath.Join(out, "test")} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	src := sourceFlags{CSV: f.Train, Memory: 64}
	orig, _, err := src.load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	back := sourceFlags{Images: filepath.Join(out, "train"), ColorMode: "grayscale", Memory: 64}
	got, _, err := back.load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.ClassNames, []string{"0", "1", "2"}) || got.Len() != 6 || !slices.Equal(got.Shape(), []int{5, 5, 1}) {
		t.Fatalf("read back: classes %v, %d images of %v", got.ClassNames, got.Len(), got.Shape())
	}
	// The CSV holds classes 0, 1, 2, 0, 1, 2, ...: the first two of class c
	// are rows c and c+3, read back as images 2c and 2c+1.
	for c := range 3 {
		for k, row := range []int{c, c + 3} {
			if i := 2*c + k; got.Y[i] != c || !slices.Equal(got.Image(i), orig.Image(row)) {
				t.Errorf("image %d read back: class %d, pixels %v; want class %d, %v", i, got.Y[i], got.Image(i), c, orig.Image(row))
			}
		}
	}
	if code, _, stderr := runCLI("data", "export", "--csv", f.Train, "--test-csv", f.Test, "--out", out); code != 1 ||
		!strings.Contains(stderr, filepath.Join(out, "train")+" holds files: use --force") {
		t.Errorf("export into a folder with files: exit %d: %s", code, stderr)
	}
	// --force replaces the split's folder whole; what an interrupted export
	// left beside it goes.
	stray, partial := filepath.Join(out, "train", "stray.txt"), filepath.Join(out, ".train.partial", "0")
	for _, p := range []string{stray, filepath.Join(partial, "x.png")} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil || os.WriteFile(p, []byte("x"), 0o644) != nil {
			t.Fatal(err)
		}
	}
	if code, _, stderr := runCLI("data", "export", "--csv", f.Train, "--test-csv", f.Test, "--out", out, "--force"); code != 0 {
		t.Errorf("--force: exit %d: %s", code, stderr)
	}
	if n, _ := os.ReadDir(filepath.Join(out, "train", "1")); len(n) != 4 {
		t.Errorf("--force: %d images of class 1 in train/1, want 4", len(n))
	}
	entries, _ := os.ReadDir(out)
	if _, err := os.Stat(stray); err == nil || len(entries) != 2 {
		t.Errorf("after --force: the stray file is there (%v) or %d entries in %s, want train and test", err == nil, len(entries), out)
	}
	// One split, then the other, into the same folder.
	both := filepath.Join(t.TempDir(), "both")
	for _, split := range []string{"train", "test"} {
		code, stdout, stderr = runCLI("data", "export", "--csv", f.Train, "--test-csv", f.Test, "--split", split, "--out", both)
		if code != 0 || strings.Count(stdout, ":") != 1 || !strings.HasPrefix(stdout, split+": ") {
			t.Errorf("--split %s: exit %d: %s%s", split, code, stdout, stderr)
		}
	}
	for _, tt := range [][]string{{"--per-class", "-1", "--out", out}, {"--csv", f.Train}, {"--csv", f.Train, "--split", "test", "--out", filepath.Join(t.TempDir(), "u")},
		{"--csv", f.Train, "--split", "val", "--out", out}} {
		if code, _, stderr := runCLI(append([]string{"data", "export"}, tt...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", tt, code, stderr)
		}
	}
}
