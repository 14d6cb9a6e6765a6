package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

// writeCheckpoint writes a compiled model for smallSet's images into dir,
// with state (JSON) as its training state unless state is empty, and
// returns its path.
func writeCheckpoint(t *testing.T, dir, state string) string {
	t.Helper()
	arch, err := os.ReadFile(smallSetNet(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.ParseArchitecture(arch)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build([]int{smallSet.Size, smallSet.Size, 1}, 1); err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(&optim.RMSprop{LearningRate: 0.001, Rho: 0.9}, nn.CrossEntropy{}); err != nil {
		t.Fatal(err)
	}
	if state != "" {
		m.Meta = map[string]string{trainStateKey: state}
	}
	path := filepath.Join(dir, "run.ckpt.safetensors")
	if err := model.Save(path, m, model.SaveOptions{IncludeOptimizer: true}); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTrainResumeBadCheckpoint resumes from checkpoints whose training state
// cannot be used: each is a clear error naming the checkpoint and what is
// wrong with it, never a crash.
func TestTrainResumeBadCheckpoint(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	base := []string{"--csv", f.Train, "--epochs", "1", "--batch-size", "30", "--no-evaluate", "--out", filepath.Join(t.TempDir(), "m.safetensors")}
	state := func(version, epoch int, args ...string) string {
		b, err := json.Marshal(trainState{Args: append(base, args...), Epoch: epoch, Version: version})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, c := range []struct {
		name, state, want string
	}{
		{"unknown flag", state(1, 0, "--bogus-flag"), "flag provided but not defined: -bogus-flag"},
		{"unknown recipe", state(1, 0, "--recipe", "nope"), `--recipe "nope": want resnet, strong or tutorial`},
		{"extra argument", state(1, 0, "extra"), `unexpected argument "extra"`},
		{"value out of range", state(1, 0, "--epochs", "0"), "--epochs 0: want a value in [1, 100000]"},
		{"narrowed range", state(1, 0, "--step-factor", "1e12"), "--step-factor 1e+12: want a value in (0, 1]"},
		{"help", state(1, 0, "-h"), "help requested"},
		{"nested resume", state(1, 0, "--resume", "other.safetensors"), "--resume in the options of a run"},
		{"newer state", state(2, 0), "training state version 2, want 1"},
		{"negative epoch", state(1, -1), "training state at epoch -1, step 0"},
		{"epoch past the end", state(1, 2), "training state at epoch 2, step 0: want an epoch in [0, 1]"},
		{"state not JSON", "{", "training state:"},
		{"no state", "", "not a training checkpoint"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ckpt := writeCheckpoint(t, t.TempDir(), c.state)
			code, stdout, stderr := runCLI("train", "--resume", ckpt)
			if code != exitError || !strings.Contains(stderr, "convnet train: "+ckpt+": ") || !strings.Contains(stderr, c.want) {
				t.Errorf("train --resume (state %s): exit %d, stderr %q; want exit %d naming %s and %q", c.state, code, stderr, exitError, ckpt, c.want)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "Epoch 1/") || stdout != "" {
				t.Errorf("train --resume (state %s) went on: stdout %q, stderr:\n%s", c.state, stdout, stderr)
			}
		})
	}
}

// TestTrainResumeKeepsFiles resumes interrupted runs when files have
// appeared in their place: the resumed run replaces only what a fresh run
// with the same options would.
func TestTrainResumeKeepsFiles(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	for _, c := range []struct {
		name  string
		force bool   // the run was started with --force
		copy  bool   // resume from a copy of the checkpoint, leaving the run's own in place
		model bool   // a file appears where the trained model goes
		want  string // "": the resumed run succeeds
	}{
		{name: "model file appeared", model: true, want: "exists and the run was started without --force"},
		{name: "another checkpoint", copy: true, want: "exists and is not the checkpoint resumed"},
		{name: "model file appeared, run with --force", force: true, model: true},
		{name: "copy, run with --force", force: true, copy: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "m.safetensors")
			args := append(trainArgs(t, f, out), "--no-evaluate")
			if c.force {
				args = append(args, "--force")
			}
			ckpt := interruptedRun(t, args, 1, 2)
			from := ckpt
			if c.copy {
				from = filepath.Join(t.TempDir(), "copy.safetensors")
				b, err := os.ReadFile(ckpt)
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(from, b, 0o644)
			}
			keep := map[string][]byte{}
			if c.model {
				os.WriteFile(out, []byte("precious"), 0o644)
				keep[out] = []byte("precious")
			}
			if c.copy {
				keep[ckpt], _ = os.ReadFile(ckpt)
			}
			code, _, stderr := runCLI("train", "--resume", from)
			if c.want == "" {
				if code != 0 {
					t.Fatalf("train --resume %s: exit %d, stderr:\n%s", from, code, stderr)
				}
				if _, err := model.Load(out); err != nil {
					t.Errorf("the resumed run did not write its model: %v", err)
				}
				return
			}
			if code != exitError || !strings.Contains(stderr, c.want) {
				t.Errorf("train --resume %s: exit %d, stderr %q; want exit %d and %q", from, code, stderr, exitError, c.want)
			}
			for path, b := range keep {
				if got, _ := os.ReadFile(path); !bytes.Equal(got, b) {
					t.Errorf("train --resume %s changed %s", from, path)
				}
			}
		})
	}
}

// TestTrainResumeMaxMemory resumes a run with --max-memory, the one
// training option besides the workers and the watching that a resumed run
// may change: too little refuses the checkpoint before its first step.
func TestTrainResumeMaxMemory(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	out := filepath.Join(t.TempDir(), "m.safetensors")
	ckpt := interruptedRun(t, append(trainArgs(t, f, out), "--no-evaluate"), 1, 2)
	code, _, stderr := runCLI("train", "--resume", ckpt, "--max-memory", "16KiB")
	if want := ckpt + ": the model needs"; code != exitError || !strings.Contains(stderr, want) || !strings.Contains(stderr, "(--max-memory: a resumed run keeps its --batch-size)") || strings.Contains(stderr, "Epoch 2/") {
		t.Fatalf("train --resume --max-memory 16KiB: exit %d, stderr:\n%s\nwant exit %d and %q before any step", code, stderr, exitError, want)
	}
	if code, _, stderr := runCLI("train", "--resume", ckpt, "--max-memory", "1GiB"); code != 0 {
		t.Fatalf("train --resume --max-memory 1GiB: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestTrainSignal sends SIGINT or SIGTERM to the process during a run: the
// run's context is cancelled within a second, training stops after the
// step in progress, and the checkpoint saved says where to resume.
func TestTrainSignal(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "m.safetensors")
			onTrainBatch = func(ctx context.Context, epoch, step int, _ float64) {
				if epoch != 0 || step != 4 {
					return
				}
				if err := syscall.Kill(os.Getpid(), sig); err != nil {
					t.Error(err)
				}
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
					t.Errorf("%v did not cancel the run within a second", sig)
				}
			}
			defer func() { onTrainBatch = nil }()
			var stdout, stderr bytes.Buffer
			code := Main(append(trainArgs(t, f, out), "--no-evaluate"), &stdout, &stderr)
			if code != exitError || !strings.Contains(stderr.String(), "Stopped interrupted in epoch 1 after step 4") {
				t.Fatalf("train stopped by %v: exit %d, stderr:\n%s", sig, code, stderr.String())
			}
			m, err := model.Load(filepath.Join(dir, "m.ckpt.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			var st trainState
			if err := json.Unmarshal([]byte(m.Meta[trainStateKey]), &st); err != nil || st.Epoch != 0 || st.Step != 4 {
				t.Errorf("checkpoint's training state %+v (%v), want epoch 0, step 4", st, err)
			}
		})
	}
}

// TestTrainCancelledBeforeStart cancels a run while it loads its data: it
// stops before the first step and leaves no checkpoint behind.
func TestTrainCancelledBeforeStart(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, stderr := runCtx(ctx, trainArgs(t, f, filepath.Join(dir, "m.safetensors"))...)
	if code != exitError || !strings.Contains(stderr, "interrupted") || strings.Contains(stderr, "Epoch 1/") {
		t.Errorf("train with a cancelled context: exit %d, stderr:\n%s\nwant exit %d, stopped before the first epoch", code, stderr, exitError)
	}
	if _, err := os.Stat(filepath.Join(dir, "m.ckpt.safetensors")); err == nil {
		t.Error("a run cancelled before its first step saved a checkpoint")
	}
}

// TestTrainResumeCallbacks interrupts a run in its third epoch and resumes
// it; the validation accuracy is 1 from the first epoch on, which later
// epochs tie but do not beat. The resumed run keeps the best value of
// --checkpoint-best-only (it does not overwrite the best checkpoint with a
// later epoch) and early stopping's best epoch, whose weights
// --restore-best puts back from the file it kept them in: the final model
// and the best checkpoint are the uninterrupted run's, bit for bit.
func TestTrainResumeCallbacks(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	dir := t.TempDir()
	args := func(name string) []string {
		return append(trainArgs(t, f, filepath.Join(dir, name+".safetensors")), "--no-evaluate", "--epochs", "3", "--lr", "0.05",
			"--early-stopping", "5", "--early-stopping-monitor", "val_accuracy", "--restore-best",
			"--checkpoint", filepath.Join(dir, name+".best.safetensors"), "--checkpoint-best-only", "--checkpoint-monitor", "val_accuracy")
	}
	code, _, stderr := runCLI(args("whole")...)
	if code != 0 || !strings.Contains(stderr, "Restoring model weights from the end of the best epoch: 1.") {
		t.Fatalf("uninterrupted run: exit %d, want the weights of epoch 1 restored:\n%s", code, stderr)
	}
	ckpt := interruptedRun(t, args("split"), 2, 2)
	if _, err := os.Stat(filepath.Join(dir, "split.ckpt.best.safetensors")); err != nil {
		t.Fatalf("the best weights kept for --restore-best: %v", err)
	}
	if code, _, stderr = runCLI("train", "--resume", ckpt); code != 0 || !strings.Contains(stderr, "Restoring model weights from the end of the best epoch: 1.") {
		t.Fatalf("resumed run: exit %d:\n%s", code, stderr)
	}
	for _, pair := range [][2]string{{"whole", "split"}, {"whole.best", "split.best"}} {
		a, err := model.Load(filepath.Join(dir, pair[0]+".safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := model.Load(filepath.Join(dir, pair[1]+".safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		pa, pb := a.Params(), b.Params()
		for i := range pa {
			if !slices.Equal(pa[i].Value.Data, pb[i].Value.Data) {
				t.Fatalf("%s and %s: parameter %d (%s) differs", pair[0], pair[1], i, pa[i].Name)
			}
		}
	}
	for _, leftover := range []string{"split.ckpt.safetensors", "split.ckpt.best.safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, leftover)); err == nil {
			t.Errorf("%s left behind after the run", leftover)
		}
	}
}

// testTrainResume interrupts a run of the architecture src, or from the
// model file src names, with the flags extra, and resumes it: the weights
// must be the uninterrupted run's, bit for bit.
func testTrainResume(t *testing.T, src string, extra ...string) {
	f := writeCSVSet(t, smallSet)
	dir := t.TempDir()
	arch := src // a model file to start from
	if !strings.HasSuffix(src, ".safetensors") {
		arch = filepath.Join(dir, "arch.json")
		archJSON := strings.Replace(src, `"units": 28`, fmt.Sprintf(`"units": %d`, smallSet.Classes), 1)
		archJSON = strings.Replace(archJSON, "[null, 32, 32, 1]", fmt.Sprintf("[null, %d, %d, 1]", smallSet.Size, smallSet.Size), 1)
		if err := os.WriteFile(arch, []byte(archJSON), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	trainArgs := func(t *testing.T, f csvFiles, out string) []string {
		args := trainArgs(t, f, out)
		args[slices.Index(args, "--model")+1] = arch
		return append(args, extra...)
	}
	whole := filepath.Join(dir, "whole.safetensors")
	if code, _, stderr := runCLI(append(trainArgs(t, f, whole), "--no-evaluate")...); code != 0 {
		t.Fatalf("uninterrupted run: exit %d: %s", code, stderr)
	}

	split := filepath.Join(dir, "split.safetensors")
	ckpt := interruptedRun(t, append(trainArgs(t, f, split), "--no-evaluate"), 0, 3)
	if _, err := os.Stat(split); err == nil {
		t.Fatal("an interrupted run wrote the final model")
	}
	if code, _, stderr := runCLI("train", "--resume", ckpt, "--epochs", "3"); code != 2 {
		t.Errorf("--resume with a changed flag: exit %d (%s), want 2", code, stderr)
	}
	code, _, stderr := runCLI("train", "--resume", ckpt)
	if code != 0 {
		t.Fatalf("resumed run: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "Resuming "+ckpt+" at epoch 1, step 3.") {
		t.Errorf("resumed run does not say where it resumes:\n%s", stderr)
	}
	a, err := model.Load(whole)
	if err != nil {
		t.Fatal(err)
	}
	b, err := model.Load(split)
	if err != nil {
		t.Fatal(err)
	}
	if a.IsGraph() != (src == smallGraph) || b.IsGraph() != a.IsGraph() {
		t.Errorf("IsGraph: uninterrupted %v, resumed %v", a.IsGraph(), b.IsGraph())
	}
	pa, pb := a.Params(), b.Params()
	for i := range pa {
		if !slices.Equal(pa[i].Value.Data, pb[i].Value.Data) {
			t.Fatalf("parameter %d (%s) differs between the uninterrupted and the resumed run", i, pa[i].Name)
		}
	}
}

// interruptedRun runs convnet with args (a train command writing the run's
// checkpoint beside its --out) and cancels it after the given step of the
// given epoch (from 0); it returns the checkpoint's path.
func interruptedRun(t *testing.T, args []string, epoch, step int) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	onTrainBatch = func(_ context.Context, e, s int, _ float64) {
		if e == epoch && s == step {
			cancel()
		}
	}
	defer func() { onTrainBatch = nil }()
	code, _, stderr := runCtx(ctx, args...)
	out := args[slices.Index(args, "--out")+1]
	ckpt := strings.TrimSuffix(out, filepath.Ext(out)) + ".ckpt.safetensors"
	if code != 1 || !strings.Contains(stderr, fmt.Sprintf("Stopped interrupted in epoch %d after step %d", epoch+1, step)) ||
		!strings.Contains(stderr, "convnet train --resume "+ckpt) {
		t.Fatalf("interrupted run: exit %d, stderr:\n%s\nwant 1, where it stopped and how to resume", code, stderr)
	}
	return ckpt
}

// TestTrainResume interrupts a run in the middle of its first epoch and
// resumes it from the checkpoint: the final weights equal those of an
// uninterrupted run bit for bit, for a stack and for a graph.
func TestTrainResume(t *testing.T) {
	t.Run("stack", func(t *testing.T) {
		testTrainResume(t, smallNet, "--global-clipnorm", "0.01", "--ema", "0.9", "--ema-overwrite-frequency", "3", "--random-erasing", "0.5")
	})
	t.Run("graph", func(t *testing.T) {
		testTrainResume(t, smallGraph, "--class-weight", "1:3,2:0.5", "--mixup", "0.4", "--cutmix", "1")
	})
	// Interrupted after step 3: one update made, one gradient summed.
	t.Run("accumulate", func(t *testing.T) {
		testTrainResume(t, smallNet, "--optimizer", "adam", "--gradient-accumulation-steps", "2", "--ema", "0.9")
	})
	t.Run("model file, frozen", func(t *testing.T) {
		base := filepath.Join(t.TempDir(), "base.safetensors")
		if code, _, stderr := runCLI(append(trainArgs(t, writeCSVSet(t, smallSet), base), "--no-evaluate")...); code != 0 {
			t.Fatalf("training the base: exit %d: %s", code, stderr)
		}
		testTrainResume(t, base, "--freeze", "conv2d")
	})
}

// TestTrainResumeElsewhere interrupts a run given relative paths and
// resumes it from another working directory: the run reads its files and
// writes its model where it started.
func TestTrainResumeElsewhere(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	start, other := t.TempDir(), t.TempDir()
	t.Chdir(start)
	ckpt := interruptedRun(t, append(trainArgs(t, f, "m.safetensors"), "--no-evaluate", "--csv-log", "log.csv"), 1, 2)
	t.Chdir(other)
	if code, _, stderr := runCLI("train", "--resume", filepath.Join(start, ckpt)); code != 0 {
		t.Fatalf("resumed in another folder: exit %d: %s", code, stderr)
	}
	for _, name := range []string{"m.safetensors", "log.csv", "m.curves.png"} {
		if _, err := os.Stat(filepath.Join(start, name)); err != nil {
			t.Errorf("%s where the run started: %v", name, err)
		}
	}
	if entries, _ := os.ReadDir(other); len(entries) > 0 {
		t.Errorf("the resumed run wrote %v in the folder it was resumed from", entries)
	}
}
