package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestExportPyTorchResume trains the PyTorch projects of recipes that
// between them keep every state train.py has (the optimizer's, the plateau's,
// the moving average's, SWA's, early stopping's with its best weights, the
// CSV log's and TensorBoard's, the random numbers of dropout, augmentation
// and mixing) for 3 epochs in one go, and again stopped after epoch 2
// (--stop-after) and resumed from its checkpoint: the model files are the
// same bytes and so are the CSV logs; the resumed run's TensorBoard files
// start their session at epoch 2 (from 0).
func TestExportPyTorchResume(t *testing.T) {
	py, base := smallProject(t)
	f := writeCSVSet(t, smallSet)
	swaArch := filepath.Join(t.TempDir(), "swa.json")
	if err := os.WriteFile(swaArch, []byte(strings.Replace(swaNet, `"units": 28`, fmt.Sprintf(`"units": %d`, smallSet.Classes), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		// The plateau lowers the rate after every epoch but the first (no
		// loss falls by 1).
		{"ema-plateau-mix-accumulate", append(slices.Clone(base), "--test-csv", f.Test, "--epochs", "3", "--batch-size", "16", "--ema", "0.9",
			"--schedule", "plateau", "--plateau-monitor", "loss", "--plateau-patience", "0", "--plateau-min-delta", "1",
			"--mixup", "0.4", "--cutmix", "1", "--gradient-accumulation-steps", "2", "--class-weight", "0:2,3:0.5", "--csv-log", "log.csv",
			"--validation-split", "0.2", "--optimizer", "adam")},
		// Early stopping keeps the first epoch's weights as the best (no loss
		// falls by 1), and its patience runs out at the last epoch; the rate
		// follows the steps (a cosine after a warmup).
		{"earlystop-cosine", append(slices.Clone(base), "--epochs", "3", "--batch-size", "16", "--csv-log", "log.csv",
			"--schedule", "cosine", "--warmup-epochs", "1",
			"--early-stopping", "2", "--restore-best", "--early-stopping-monitor", "loss", "--early-stopping-min-delta", "1")},
		// Averaging from epoch 2, with batch normalization, after a warmup
		// to a constant rate.
		{"swa-augment-tensorboard", []string{"--csv", f.Train, "--model", swaArch, "--epochs", "3", "--batch-size", "16",
			"--swa-start", "2", "--swa-lr", "0.0002", "--swa-anneal-epochs", "2", "--warmup-epochs", "2", "--validation-split", "0.2", "--hflip", "--rotation", "10", "--stroke", "0.5",
			"--random-erasing", "0.5", "--brightness", "0.8,1.2", "--csv-log", "log.csv", "--tensorboard", "logs", "--optimizer", "sgd", "--momentum", "0.9"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // train.py runs on one thread
			project := exportProject(t, tc.flags)
			whole, split := t.TempDir(), t.TempDir()
			full := trainPy(t, py, project, whole, "--out", filepath.Join(whole, "model"))
			out := trainPy(t, py, project, split, "--out", filepath.Join(split, "model"), "--stop-after", "2")
			ckpt := filepath.Join(split, "model.ckpt.pt")
			if want := "Stopped after epoch 2/3 (--stop-after); the checkpoint is " + ckpt + ".\nResume with: python3 train.py --resume " + ckpt; !strings.Contains(out, want) {
				t.Errorf("the stopped run's log lacks %q:\n%s", want, out)
			}
			if _, err := os.Stat(filepath.Join(split, "model.safetensors")); err == nil || strings.Contains(out, "Test loss") {
				t.Errorf("the stopped run evaluated or wrote its model:\n%s", out)
			}
			stopped := out
			out = trainPy(t, py, project, split, "--out", filepath.Join(split, "model"), "--resume", ckpt)
			t.Logf("in one go:\n%s\nstopped:\n%s\nresumed:\n%s", full, stopped, out)
			if want := "Resuming from " + ckpt + " after epoch 2/3 (step "; !strings.Contains(out, want) || strings.Contains(out, "Epoch 2/3") || !strings.Contains(out, "Epoch 3/3") {
				t.Errorf("the resumed run's log lacks %q, or does not train epoch 3 only:\n%s", want, out)
			}
			// From epoch 3 on, the logs say the same (the plateau's and early stopping's messages too).
			tail := func(log, dir string) string {
				log = strings.ReplaceAll(log[strings.Index(log, "Epoch 3/3"):], dir, "DIR")
				log = regexp.MustCompile(`(?m) - \d+s - |^Training took .*\n`).ReplaceAllString(log, "")
				return log
			}
			if a, b := tail(full, whole), tail(out, split); a != b {
				t.Errorf("from epoch 3 on, the run in one go logged\n%s\nthe resumed one\n%s", a, b)
			}
			for _, name := range []string{"model.safetensors", "log.csv", "model.ckpt.pt"} {
				a, errA := os.ReadFile(filepath.Join(whole, name))
				b, errB := os.ReadFile(filepath.Join(split, name))
				if errA != nil || errB != nil {
					t.Errorf("%s: %v, %v", name, errA, errB)
				} else if name == "log.csv" && !bytes.Equal(a, b) {
					t.Errorf("log.csv differs between the run in one go and the resumed one:\n%s\n%s", a, b)
				} else if name == "model.safetensors" && !bytes.Equal(a, b) {
					t.Errorf("model.safetensors differs between the run in one go and the resumed one")
				}
			}
			if !slices.Contains(tc.flags, "--tensorboard") {
				return
			}
			files, _ := filepath.Glob(filepath.Join(split, "logs", "train", "events.out.tfevents.*"))
			if len(files) != 2 {
				t.Fatalf("%d event files in logs/train after a resumed run, want 2", len(files))
			}
			slices.Sort(files) // by the time of their first event
			first, second := eventSteps(t, files[0]), eventSteps(t, files[1])
			if !slices.Equal(first, []string{"0 version", "0 start", "0 graph", "0", "1"}) || !slices.Equal(second, []string{"0 version", "2 start", "0 graph", "2"}) {
				t.Errorf("the stopped run's events %q, the resumed run's %q; want a session start at epoch 2 in the second", first, second)
			}
		})
	}
}

// TestExportPyTorchResumeDDP: with two processes (gloo, on the CPU), a run
// stopped after epoch 2 and resumed ends on the same model file and CSV log
// as the run in one go: each process takes back its own random state
// (dropout, augmentation and CutMix differ by process).
func TestExportPyTorchResumeDDP(t *testing.T) {
	py, base := smallProject(t)
	project := exportProject(t, append(slices.Clone(base), "--epochs", "3", "--batch-size", "16", "--cutmix", "1", "--hflip", "--rotation", "10", "--csv-log", "log.csv"))
	run := func(dir string, args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, py, append([]string{filepath.Join(project, "train.py"), "--threads", "1", "--nproc-per-node", "2",
			"--out", filepath.Join(dir, "model")}, args...)...)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "MASTER_ADDR=127.0.0.1", "MASTER_PORT="+freePort(t))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("train.py --nproc-per-node 2 %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	whole, split := t.TempDir(), t.TempDir()
	run(whole)
	run(split, "--stop-after", "2")
	if out := run(split, "--resume", filepath.Join(split, "model.ckpt.pt")); !strings.Contains(out, "after epoch 2/3") || !strings.Contains(out, "2 processes of 8") {
		t.Errorf("the resumed run's log:\n%s", out)
	}
	for _, name := range []string{"model.safetensors", "log.csv"} {
		a, errA := os.ReadFile(filepath.Join(whole, name))
		b, errB := os.ReadFile(filepath.Join(split, name))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between the run in one go and the resumed one (%v, %v)", name, errA, errB)
		}
	}
}

// TestExportPyTorchResumeRefused: train.py --resume refuses a checkpoint of
// another network or of another number of epochs, naming the file and what
// differs; --stop-after writes the checkpoint beside --out, or where
// --checkpoint says, and a resumed run goes on writing to the file it
// resumed from.
func TestExportPyTorchResumeRefused(t *testing.T) {
	py, base := smallProject(t)
	swaArch := filepath.Join(t.TempDir(), "swa.json")
	if err := os.WriteFile(swaArch, []byte(strings.Replace(swaNet, `"units": 28`, fmt.Sprintf(`"units": %d`, smallSet.Classes), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	recipe := append(slices.Clone(base), "--epochs", "3", "--batch-size", "32")
	project := exportProject(t, recipe)
	dir := t.TempDir()
	trainPy(t, py, project, dir, "--out", filepath.Join(dir, "m"), "--stop-after", "1")
	ckpt := filepath.Join(dir, "m.ckpt.pt")
	if _, err := os.Stat(ckpt); err != nil {
		t.Fatalf("--stop-after 1 wrote no checkpoint beside --out: %v", err)
	}

	other := exportProject(t, append(slices.Clone(recipe), "--model", swaArch)) // the last --model counts
	cmd := exec.Command(py, filepath.Join(other, "train.py"), "--threads", "1", "--out", filepath.Join(dir, "o"), "--resume", ckpt)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if want := "--resume " + ckpt + ": the checkpoint is of another network or recipe: tensor "; err == nil || !strings.Contains(string(out), want) {
		t.Errorf("train.py --resume with another network's checkpoint: %v, want a refusal with %q:\n%s", err, want, out)
	}
	cmd = exec.Command(py, filepath.Join(project, "train.py"), "--threads", "1", "--out", filepath.Join(dir, "o"), "--resume", ckpt, "--epochs", "4")
	cmd.Dir = dir
	out, err = cmd.CombinedOutput()
	if want := "--resume " + ckpt + ": the checkpoint is of another network or recipe: epochs 3 there, 4 here"; err == nil || !strings.Contains(string(out), want) {
		t.Errorf("train.py --resume --epochs 4: %v, want a refusal with %q:\n%s", err, want, out)
	}

	// --checkpoint elsewhere, then resumed from there: it goes on there.
	own := filepath.Join(dir, "own.pt")
	trainPy(t, py, project, dir, "--out", filepath.Join(dir, "n"), "--stop-after", "2", "--checkpoint", "own.pt")
	if _, err := os.Stat(filepath.Join(dir, "n.ckpt.pt")); err == nil {
		t.Errorf("--checkpoint own.pt: train.py wrote n.ckpt.pt too")
	}
	before, err := os.ReadFile(own)
	if err != nil {
		t.Fatalf("--checkpoint own.pt: %v", err)
	}
	out2 := trainPy(t, py, project, dir, "--out", filepath.Join(dir, "n"), "--resume", "own.pt")
	after, err := os.ReadFile(own)
	if err != nil || bytes.Equal(before, after) || !strings.Contains(out2, "after epoch 2/3") {
		t.Errorf("resumed from own.pt, train.py did not write its last epoch's checkpoint there (%v):\n%s", err, out2)
	}
	if _, err := os.Stat(filepath.Join(dir, "n.safetensors")); err != nil {
		t.Errorf("the resumed run wrote no model: %v", err)
	}
}

// exportProject exports the PyTorch project of a recipe and returns its folder.
func exportProject(t *testing.T, flags []string) string {
	t.Helper()
	project := filepath.Join(t.TempDir(), "project")
	args := append([]string{"export", "--format", "pytorch", "--out", project}, flags...)
	if code, _, errs := runCLI(args...); code != 0 {
		t.Fatalf("convnet %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return project
}

// trainPy runs a project's train.py on one thread in the folder dir, where
// its relative paths (the CSV log, TensorBoard's folder) go, and returns
// its output.
func trainPy(t *testing.T, py, project, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(py, append([]string{filepath.Join(project, "train.py"), "--threads", "1"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("train.py %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// eventSteps reads a TensorBoard event file: the step of each event,
// followed by " version" for the file version, " start" for a session
// start and " graph" for the model's graph.
func eventSteps(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for len(b) >= 12 {
		n := binary.LittleEndian.Uint64(b)
		if uint64(len(b)) < 16+n {
			t.Fatalf("%s: a record of %d bytes past the end", path, n)
		}
		rec, step, what := b[12:12+n], uint64(0), ""
		for len(rec) > 0 {
			key, k := binary.Uvarint(rec)
			rec = rec[k:]
			switch key & 7 {
			case 0:
				v, k := binary.Uvarint(rec)
				if key>>3 == 2 {
					step = v
				}
				rec = rec[k:]
			case 1:
				rec = rec[8:]
			case 2:
				l, k := binary.Uvarint(rec)
				switch key >> 3 {
				case 3:
					what = " version"
				case 7:
					what = " start"
				case 5:
					if bytes.Contains(rec[k:k+int(l)], []byte("graph_keras_model")) {
						what = " graph"
					}
				}
				rec = rec[k+int(l):]
			default:
				t.Fatalf("%s: wire type %d", path, key&7)
			}
		}
		out = append(out, fmt.Sprintf("%d%s", step, what))
		b = b[16+n:]
	}
	return out
}
