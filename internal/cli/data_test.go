package cli

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dataSet is the data set of the data command tests: 6 images of 4x4
// pixels in 3 classes.
var dataSet = csvSet{Classes: 3, Size: 4, Train: 2}

func TestDataInfoCSV(t *testing.T) {
	csv := writeCSVSet(t, dataSet).Train
	code, out, errs := runCLI("data", "info", "--csv", csv)
	if code != 0 {
		t.Fatalf("data info --csv: exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{"image shape: 4x4x1", "classes:     3", "all       6    0  253", "largest class 0 (2 images), smallest 0 (2): 1 to 1\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("data info output lacks %q:\n%s", want, out)
		}
	}
}

// TestDataBalance checks the line on uneven classes: the ratio of the
// largest class to the smallest, and from 2 to 1 on the class weights.
func TestDataBalance(t *testing.T) {
	names := []string{"a", "b", "c"}
	for _, tt := range []struct {
		counts []int
		want   string
	}{
		{[]int{10, 12, 11}, "largest class b (12 images), smallest a (10): 1.2 to 1\n"},
		{[]int{480, 24, 300}, "largest class a (480 images), smallest b (24): 20 to 1; convnet train --class-weight balanced"},
		{[]int{5, 0, 5}, "smallest b (0): a class without images\n"},
	} {
		if got := balance(tt.counts, names); !strings.Contains(got, tt.want) {
			t.Errorf("balance(%v) = %q, want %q", tt.counts, got, tt.want)
		}
	}
}

func TestDataShowCSV(t *testing.T) {
	csv := writeCSVSet(t, dataSet).Train
	out := filepath.Join(t.TempDir(), "s.png")
	for _, args := range [][]string{
		{"data", "show", "--csv", csv, "--out", out, "--n", "4"},
		{"data", "show", "--csv", csv, "--out", out, "--n", "2", "--augment", "--copies", "3", "--fill-mode", "constant", "--brightness", "0.5,1.5", "--force"},
		{"data", "show", "--csv", csv, "--out", out, "--n", "3", "--augment", "--mixup", "0.4", "--cutmix", "1", "--force"},
	} {
		code, _, errs := runCLI(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errs)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%v: output is not a PNG: %v", args, err)
		}
		if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 50 {
			t.Errorf("%v: PNG is %dx%d, want a grid", args, b.Dx(), b.Dy())
		}
	}
	// No overwrite without --force.
	code, _, errs := runCLI("data", "show", "--csv", csv, "--out", out)
	if code != 1 || !strings.Contains(errs, "exists") {
		t.Errorf("data show onto an existing file: exit %d, stderr %q; want 1 and \"exists\"", code, errs)
	}
}

func TestDataUsageErrors(t *testing.T) {
	csv := writeCSVSet(t, dataSet).Train
	out := filepath.Join(t.TempDir(), "s.png")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"data"}, 2, "want a subcommand"},
		{[]string{"data", "plot"}, 2, `unknown subcommand "plot"`},
		{[]string{"data", "info", "--dataset", "cifar"}, 2, `unknown dataset "cifar"`},
		{[]string{"data", "info", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"data", "info", "--csv", csv, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"data", "show", "--csv", csv}, 2, "--out is required"},
		{[]string{"data", "show", "--csv", csv, "--out", out, "--n", "0"}, 2, "--n 0"},
		{[]string{"data", "show", "--csv", csv, "--out", out, "--augment", "--fill-mode", "mirror"}, 2, `fill mode "mirror"`},
		{[]string{"data", "show", "--csv", csv, "--out", out, "--copies", "3"}, 2, "--copies goes with --augment"},
		{[]string{"data", "show", "--csv", csv, "--out", out, "--split", "test"}, 2, "--split test: csv:" + csv + " has no test set"},
		{[]string{"data", "show", "--csv", csv, "--out", out, "--augment", "--brightness", "x"}, 2, "-brightness"},
		{[]string{"data", "show", "--csv", csv, "--out", out, "--augment", "--mixup", "-0.2"}, 2, "--mixup -0.2"},
		{[]string{"data", "info", "--csv", csv, "--images", "d"}, 2, "not both"},
		{[]string{"data", "info", "--csv", csv + ".missing"}, 1, "no such file"},
		{[]string{"data", "show", "--images", t.TempDir(), "--out", out}, 1, "no class subfolders"},
	} {
		code, _, errs := runCLI(c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, errs, c.code, c.want)
		}
	}
}

func TestDataReal(t *testing.T) {
	dir := os.Getenv("CONVNET_DATA")
	if dir == "" {
		t.Skip("CONVNET_DATA is not set; set it to the shared data folder to run tests on real files")
	}
	code, out, errs := runCLI("data", "info", "--dataset", "ahcd", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("data info --dataset ahcd: exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{"image shape: 32x32x1", "train   13440    0  255", "test    3360    0  255", "0   alef ا    480   120", "27    yeh ي    480   120"} {
		if !strings.Contains(out, want) {
			t.Errorf("data info output lacks %q:\n%s", want, out)
		}
	}
	png := filepath.Join(t.TempDir(), "ahcd.png")
	if code, _, errs := runCLI("data", "show", "--dataset", "ahcd", "--data-dir", dir, "--out", png); code != 0 {
		t.Fatalf("data show --dataset ahcd: exit %d, stderr %q", code, errs)
	}
}
