package cli

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrainLRFind sweeps the rate of a small run: the table, the
// suggestion and the picture, and no model written; then the flags it
// refuses.
func TestTrainLRFind(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	dir := t.TempDir()
	out := filepath.Join(dir, "m.safetensors")
	args := append(trainArgs(t, f, out), "--lr-find", "--lr-find-steps", "40", "--lr-find-start", "1e-5", "--lr-find-end", "10")
	code, stdout, stderr := runCLI(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"step  rate", "<- the steepest fall", "Suggested learning rate: ", "train with --lr ", filepath.Join(dir, "m.lr-find.png")} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "Sweeping the learning rate of rmsprop from 1e-05 towards 10 over at most 40 steps of 10 images") {
		t.Errorf("stderr:\n%s", stderr)
	}
	file, err := os.Open(filepath.Join(dir, "m.lr-find.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if _, err := png.Decode(file); err != nil {
		t.Errorf("the sweep's picture: %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("--lr-find wrote the model %s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--lr-find-steps", "10"}, "--lr-find-steps 10: want 20 to 100000"},
		{[]string{"--lr-find-start", "1", "--lr-find-end", "0.1"}, "--lr-find-start 1 and --lr-find-end 0.1: want 0 < start < end <= 1e6"},
		{[]string{"--watch"}, "--lr-find sweeps the rate of a new run: not with --resume or --watch"},
		{[]string{"--csv-log", out + ".csv"}, "--lr-find sweeps the rate over steps and saves no model: not with --checkpoint, --csv-log, --tensorboard or --early-stopping"},
	} {
		code, _, stderr := runCLI(append(append(trainArgs(t, f, out), "--lr-find"), c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// TestTrainLRFindTooShort: a sweep that diverges within its first steps
// suggests nothing and says what to change, its picture written.
func TestTrainLRFindTooShort(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	dir := t.TempDir()
	out := filepath.Join(dir, "m.safetensors")
	args := append(trainArgs(t, f, out), "--lr-find", "--optimizer", "sgd", "--lr-find-steps", "20", "--lr-find-start", "10", "--lr-find-end", "1e6")
	code, stdout, stderr := runCLI(args...)
	if code != 1 || !strings.Contains(stderr, "lr find: the sweep stopped after ") || !strings.Contains(stderr, "too few to suggest a rate") {
		t.Fatalf("exit %d, stderr %q; want 1 and the sweep too short\n%s", code, stderr, stdout)
	}
	if !strings.Contains(stdout, "The loss diverged after ") {
		t.Errorf("stdout:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "m.lr-find.png")); err != nil {
		t.Errorf("no picture: %v", err)
	}
}
