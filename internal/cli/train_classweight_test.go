package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
)

// writeClassCSV writes the images of ds of the given classes, as many of
// each as counts says (all for -1), relabelled 0, 1, ..., as a CSV for
// --csv.
func writeClassCSV(t *testing.T, path string, ds *data.Dataset, classes, counts []int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("label")
	for p := range ds.SampleSize() {
		fmt.Fprintf(&b, ",p%d", p)
	}
	b.WriteByte('\n')
	taken := make([]int, len(classes))
	for i, y := range ds.Y {
		for k, c := range classes {
			if y != c || counts[k] >= 0 && taken[k] >= counts[k] {
				continue
			}
			taken[k]++
			fmt.Fprintf(&b, "%d", k)
			for _, v := range ds.Image(i) {
				fmt.Fprintf(&b, ",%d", int(v))
			}
			b.WriteByte('\n')
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTrainClassWeight trains on real AHCD letters of two classes that
// differ by their dots, beh and teh, teh rare (24 images against 480),
// three epochs, with and without --class-weight balanced, three seeds
// each, and evaluates each on the 120 test images of each class: the
// weights move the decision towards the rare class, which the network
// then names at least twice as often, and the mean of the two recalls
// rises.
func TestTrainClassWeight(t *testing.T) {
	skipRace(t) // six trainings on real data: 70 s under the race detector
	train, test, err := data.Named(context.Background(), "ahcd", dataDir(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	trainCSV, testCSV := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	writeClassCSV(t, trainCSV, train, []int{1, 2}, []int{-1, 24})
	writeClassCSV(t, testCSV, test, []int{1, 2}, []int{-1, -1})
	named, recall := map[string]int{}, map[string]float64{}
	for seed := 1; seed <= 3; seed++ {
		for _, weights := range []string{"", "balanced"} {
			out := filepath.Join(dir, fmt.Sprintf("m%s%d.safetensors", weights, seed))
			args := []string{"train", "--csv", trainCSV, "--model", "tutorial", "--no-augment", "--epochs", "3", "--batch-size", "25",
				"--seed", fmt.Sprint(seed), "--no-evaluate", "--out", out}
			if weights != "" {
				args = append(args, "--class-weight", weights)
			}
			code, _, stderr := runCLI(args...)
			if code != 0 {
				t.Fatalf("train %v: exit code %d\n%s", args, code, stderr)
			}
			// 504 images of 2 classes: 504 / (2 · 480) and 504 / (2 · 24).
			if want := "Class weights (balanced): from 0.525 (0) to 10.5 (1)."; weights != "" && !strings.Contains(stderr, want) {
				t.Errorf("train does not say %q:\n%s", want, stderr)
			}
			code, stdout, stderr := runCLI("evaluate", "--model", out, "--csv", trainCSV, "--test-csv", testCSV, "--json")
			if code != 0 {
				t.Fatalf("evaluate: exit code %d\n%s", code, stderr)
			}
			var ev struct{ Confusion struct{ Counts [][]int } }
			if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
				t.Fatal(err)
			}
			c := ev.Confusion.Counts
			named[weights] += c[0][1] + c[1][1]
			recall[weights] += (float64(c[0][0])/float64(c[0][0]+c[0][1]) + float64(c[1][1])/float64(c[1][0]+c[1][1])) / 6
			t.Logf("seed %d, class weights %q: confusion %v", seed, weights, c)
		}
	}
	t.Logf("the rare class named %d times with balanced weights, %d without; mean recall %.3f and %.3f", named["balanced"], named[""], recall["balanced"], recall[""])
	if named["balanced"] < 2*named[""] || !(recall["balanced"] > recall[""]) {
		t.Errorf("balanced class weights: the rare class named %d times (without: %d), mean recall %.3f (without: %.3f); want twice as often and a higher recall",
			named["balanced"], named[""], recall["balanced"], recall[""])
	}
}
