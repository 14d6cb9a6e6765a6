package cli

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
)

// TestTrainValidationFreq trains on 400 AHCD images for 3 epochs with
// --validation-freq 2: only epoch 2 is validated (epoch 3, the last, does
// not fall on the frequency, as in Keras). Its progress line alone has
// val_ figures; early stopping watching val_accuracy warns once that it
// skips the others; the CSV log has the validation columns from its first
// row with NA in epochs 0 and 2; the model file's history, the curves
// drawn from it and TensorBoard's validation run hold epoch 2 only, and
// convnet summary gives the figures of that last validated epoch.
func TestTrainValidationFreq(t *testing.T) {
	dir := t.TempDir()
	arch := filepath.Join(dir, "small.json")
	if err := os.WriteFile(arch, []byte(smallNet), 0o644); err != nil {
		t.Fatal(err)
	}
	out, csvLog, tb := filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "log.csv"), filepath.Join(dir, "tb")
	code, _, stderr := runCLI("train", "--data-dir", dataDir(t), "--model", arch, "--limit", "400", "--epochs", "3", "--batch-size", "50",
		"--validation-split", "0.25", "--validation-freq", "2", "--early-stopping", "3", "--early-stopping-monitor", "val_accuracy",
		"--csv-log", csvLog, "--tensorboard", tb, "--no-evaluate", "--out", out)
	if code != 0 {
		t.Fatalf("train: exit %d:\n%s", code, stderr)
	}
	for e, block := range strings.Split(stderr, "Epoch ")[1:4] {
		end := strings.Split(block, "\n")[1] // the epoch's final line
		if strings.Contains(end, "val_loss") != (e == 1) {
			t.Errorf("epoch %d's progress %q: want val_loss in epoch 2's only", e+1, end)
		}
	}
	if n := strings.Count(stderr, "Warning: Early stopping is conditioned on metric `val_accuracy`"); n != 1 {
		t.Errorf("%d warnings that early stopping skips the epochs without validation, want 1:\n%s", n, stderr)
	}

	b, err := os.ReadFile(csvLog)
	if err != nil {
		t.Fatal(err)
	}
	if rows := strings.Split(strings.TrimSpace(string(b)), "\n"); len(rows) != 4 || rows[0] != "epoch,accuracy,learning_rate,loss,val_accuracy,val_loss" ||
		!strings.HasSuffix(rows[1], ",NA,NA") || strings.Contains(rows[2], "NA") || !strings.HasSuffix(rows[3], ",NA,NA") {
		t.Errorf("CSV log:\n%s\nwant the validation columns, NA in epochs 0 and 2", b)
	}

	m, err := model.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	h, err := m.History()
	if err != nil || h == nil || len(h.Epochs) != 3 {
		t.Fatalf("the model file's history: %v, %v", h, err)
	}
	for i, e := range h.Epochs {
		if e.HasValidation != (i == 1) || e.ValidationSkipped != (i != 1) {
			t.Errorf("the model file's epoch %d: validated %v, skipped %v", i+1, e.HasValidation, e.ValidationSkipped)
		}
	}
	if code, stdout, stderr := runCLI("summary", "--model", out); code != 0 || !strings.Contains(stdout, "History: 3 epochs, the last with loss ") ||
		!strings.Contains(stdout, fmt.Sprintf("; the last validated, epoch 2, with val_loss %.4f and val_accuracy %.4f\n", h.Epochs[1].ValLoss, h.Epochs[1].ValAccuracy)) {
		t.Errorf("convnet summary: exit %d, stdout:\n%s\nstderr: %s\nwant epoch 2's validation figures", code, stdout, stderr)
	}
	c := curves(h)
	if len(c.ValLoss) != 3 || !math.IsNaN(c.ValLoss[0]) || math.IsNaN(c.ValLoss[1]) || !math.IsNaN(c.ValAccuracy[2]) {
		t.Errorf("the curves' validation loss %v and accuracy %v: want a point at epoch 2 only", c.ValLoss, c.ValAccuracy)
	}

	files, _ := filepath.Glob(filepath.Join(tb, "validation", "events.out.tfevents.*"))
	if len(files) != 1 {
		t.Fatalf("TensorBoard's validation run: %v, want one event file", files)
	}
	var steps []string
	for _, s := range eventSteps(t, files[0]) {
		if !strings.Contains(s, " ") {
			steps = append(steps, s)
		}
	}
	if !slices.Equal(steps, []string{"1"}) {
		t.Errorf("TensorBoard's validation scalars at steps %v, want [1] (epoch 2 from 1)", steps)
	}
}

// TestTrainValidationFreqResume interrupts in epoch 3 a run that validates
// every 2nd epoch and stops early after one validated epoch without
// improvement (min_delta too large for any), and resumes it: the resumed
// run's early stopping takes up epoch 2 as its best, skipping epoch 1, and
// stops after epoch 4, with the uninterrupted run's weights bit for bit
// and the same epochs validated.
func TestTrainValidationFreqResume(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	dir := t.TempDir()
	args := func(name string) []string {
		return append(trainArgs(t, f, filepath.Join(dir, name+".safetensors")), "--no-evaluate", "--epochs", "6", "--validation-freq", "2",
			"--early-stopping", "1", "--early-stopping-min-delta", "1e6")
	}
	code, _, stderr := runCLI(args("whole")...)
	if code != 0 || !strings.Contains(stderr, "Epoch 4: early stopping") {
		t.Fatalf("uninterrupted run: exit %d, want it stopped after epoch 4:\n%s", code, stderr)
	}
	ckpt := interruptedRun(t, args("split"), 2, 1)
	if code, _, stderr = runCLI("train", "--resume", ckpt); code != 0 || !strings.Contains(stderr, "Epoch 4: early stopping") {
		t.Fatalf("resumed run: exit %d, want it stopped after epoch 4:\n%s", code, stderr)
	}
	a, err := model.Load(filepath.Join(dir, "whole.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := model.Load(filepath.Join(dir, "split.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := a.Params(), b.Params()
	for i := range pa {
		if !slices.Equal(pa[i].Value.Data, pb[i].Value.Data) {
			t.Fatalf("parameter %d (%s) differs between the uninterrupted and the resumed run", i, pa[i].Name)
		}
	}
	ha, _ := a.History()
	hb, _ := b.History()
	if ha == nil || hb == nil || len(hb.Epochs) != 4 {
		t.Fatalf("histories %v and %v, want 4 epochs", ha, hb)
	}
	for i, e := range hb.Epochs {
		if e.HasValidation != (i%2 == 1) || e.HasValidation != ha.Epochs[i].HasValidation || e.ValLoss != ha.Epochs[i].ValLoss {
			t.Errorf("epoch %d: resumed %+v, uninterrupted %+v; want validation in epochs 2 and 4, the same", i+1, e, ha.Epochs[i])
		}
	}
}

// TestTrainValidationFreqRefused: --validation-freq below 1, without
// validation data (for train and for the PyTorch project), and with a
// checkpoint named after a validation metric that the epochs without
// validation do not have, is a usage error naming the flag.
func TestTrainValidationFreqRefused(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	out := filepath.Join(t.TempDir(), "m.safetensors")
	noVal := []string{"train", "--csv", f.Train, "--model", smallSetNet(t, filepath.Dir(out)), "--epochs", "2", "--out", out}
	for _, c := range []struct {
		args []string
		want string
	}{
		{append(trainArgs(t, f, out), "--validation-freq", "0"), "--validation-freq 0: want a value in [1, 100000]"},
		{append(trainArgs(t, f, out), "--validation-freq", "-3"), "--validation-freq -3: want a value in [1, 100000]"},
		{append(slices.Clone(noVal), "--validation-freq", "2"), "--validation-freq 2 says how often to validate, but there is no validation data (use --validation-split or --validation-data test)"},
		{append(slices.Clone(noVal), "--validation-freq", "1"), "--validation-freq 1 says how often to validate, but there is no validation data"},
		{append([]string{"export", "--format", "pytorch", "--out", filepath.Join(t.TempDir(), "p")}, append(slices.Clone(noVal[1:]), "--validation-freq", "2")...),
			"--validation-freq 2 says how often to validate, but there is no validation data"},
		{append(trainArgs(t, f, out), "--validation-freq", "2", "--checkpoint", "c-{val_loss:.3f}.safetensors"),
			"--checkpoint c-{val_loss:.3f}.safetensors names a validation metric, which the epochs --validation-freq 2 leaves without validation do not have"},
	} {
		code, _, stderr := runCLI(c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("convnet %s: exit %d, stderr %q; want exit %d and %q", strings.Join(c.args, " "), code, stderr, exitUsage, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused run wrote %s", out)
	}
}
