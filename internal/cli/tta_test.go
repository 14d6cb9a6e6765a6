package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvaluateTTA evaluates the built-in AHCD model on 300 test letters
// with test-time augmentation: the same loss for the same seed, another
// for another seed, the augmentation named in the results; and refuses
// augmentation flags without --tta.
func TestEvaluateTTA(t *testing.T) {
	skipRace(t)
	dir := t.TempDir()
	type result struct {
		Loss, Accuracy float64
		TTA            string
	}
	run := func(args ...string) result {
		t.Helper()
		code, stdout, stderr := runCLI(append([]string{"evaluate", "--model", "ahcd", "--data-dir", dataDir(t), "--test-limit", "300", "--out-dir", dir, "--force", "--json"}, args...)...)
		var r result
		if code != 0 || json.Unmarshal([]byte(stdout), &r) != nil {
			t.Fatalf("evaluate %v: exit %d: %s", args, code, stderr)
		}
		return r
	}
	plain := run()
	a, b := run("--tta", "2", "--rotation", "15"), run("--tta", "2", "--rotation", "15")
	other := run("--tta", "2", "--rotation", "15", "--seed", "9")
	if plain.TTA != "" || a != b || a.Loss == other.Loss || a.Loss == plain.Loss {
		t.Errorf("without: %+v; seed 1 twice: %+v, %+v; seed 9: %+v", plain, a, b, other)
	}
	if !strings.Contains(a.TTA, `2 augmented copies of each image, beta 0.25, seed 1, {"rotation_range":15,`) {
		t.Errorf("the augmentation named %q", a.TTA)
	}
	if a.Accuracy < 0.9 {
		t.Errorf("accuracy %v with test-time augmentation", a.Accuracy)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--rotation", "5"}, "--rotation goes with --tta"},
		{[]string{"--tta", "-1"}, "--tta -1: want 0 (off) or a number of copies"},
		{[]string{"--tta", "2", "--tta-beta", "2"}, "--tta: test-time augmentation: beta 2, want 0 to 1"},
		{[]string{"--tta", "2", "--rotation", "0", "--width-shift", "0", "--height-shift", "0", "--zoom", "0"}, "the augmentation changes nothing"},
		{[]string{"--tta", "2", "--update-model"}, "--update-model stores the model's own results, not those of --tta"},
	} {
		code, _, stderr := runCLI(append([]string{"evaluate", "--model", "ahcd", "--data-dir", dataDir(t)}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("evaluate %v: exit %d, %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// TestPredictTTA classifies three AHCD letters, as PNG files, with
// test-time augmentation: the same probabilities for the same seed whatever
// the order of the flags, others for another seed or without it.
func TestPredictTTA(t *testing.T) {
	dir := t.TempDir()
	var inputs []string
	for i, img := range testImages(t, "ahcd", 3) {
		path := filepath.Join(dir, fmt.Sprintf("%d.png", i))
		writeGrayPNG(t, path, img, 32, 32)
		inputs = append(inputs, path)
	}
	probs := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runCLI(append(append([]string{"predict", "--model", "ahcd", "--output", "json", "--top", "28"}, inputs...), args...)...)
		if code != 0 {
			t.Fatalf("predict %v: exit %d: %s", args, code, stderr)
		}
		return stdout
	}
	plain, a, other := probs(), probs("--tta", "3", "--seed", "4"), probs("--seed", "5", "--tta", "3")
	if b := probs("--seed", "4", "--tta", "3"); a != b || a == plain || a == other || strings.Count(a, `"input"`) != 3 {
		t.Errorf("without:\n%s\nseed 4:\n%s\n%s\nseed 5:\n%s", plain, a, b, other)
	}
	if code, _, stderr := runCLI("predict", "--model", "ahcd", "--zoom", "0.2", inputs[0]); code != 2 || !strings.Contains(stderr, "--zoom goes with --tta") {
		t.Errorf("--zoom without --tta: exit %d, %s", code, stderr)
	}
}
