package cli

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convnet-go/convnet/model"
)

// TestExportPyTorchDDP trains the tutorial network for one epoch on 1,000
// AHCD images with two DistributedDataParallel processes (gloo), started
// with PyTorch's environment variables as the project's README shows, an
// update every two steps (the processes exchange gradients then only); the
// ONNX file the first process writes imports into a model that predicts as
// PyTorch does on 100 test images, and so does the model file it writes.
func TestExportPyTorchDDP(t *testing.T) {
	skipRace(t)
	py := python(t, "torch", "torchvision", "numpy")
	project := filepath.Join(t.TempDir(), "project")
	if code, _, errs := runCLI("export", "--format", "pytorch", "--out", project, "--data-dir", dataDir(t),
		"--epochs", "1", "--limit", "1000", "--test-limit", "300", "--seed", "3", "--gradient-accumulation-steps", "2", "--cutmix", "1"); code != 0 {
		t.Fatalf("convnet export: exit %d: %s", code, errs)
	}
	port := freePort(t)
	var procs []*exec.Cmd
	var outputs []*strings.Builder
	for rank := range 2 {
		cmd := exec.Command(py, filepath.Join(project, "train.py"))
		cmd.Env = append(os.Environ(), "MASTER_ADDR=127.0.0.1", "MASTER_PORT="+port, "WORLD_SIZE=2", "LOCAL_WORLD_SIZE=2",
			fmt.Sprintf("RANK=%d", rank), fmt.Sprintf("LOCAL_RANK=%d", rank))
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs, outputs = append(procs, cmd), append(outputs, out)
	}
	// The ranks end within seconds of each other; one still running two
	// minutes after another ended hangs (train.py's REDUCED is there because
	// PyTorch 1.13's gloo shutdown deadlocked), and is reported rather than
	// left to the test's timeout.
	errs := make([]error, len(procs))
	done := make(chan int, len(procs))
	for rank, cmd := range procs {
		go func() { errs[rank] = cmd.Wait(); done <- rank }()
	}
	ended := map[int]bool{<-done: true}
	deadline := time.After(2 * time.Minute)
	for len(ended) < len(procs) {
		select {
		case rank := <-done:
			ended[rank] = true
		case <-deadline:
			for rank, cmd := range procs {
				if !ended[rank] {
					cmd.Process.Kill()
					<-done
					t.Errorf("train.py, rank %d: still running 2 minutes after another rank ended; killed", rank)
				}
			}
			t.Fatalf("rank 0:\n%s\nrank 1:\n%s", outputs[0], outputs[1])
		}
	}
	for rank, err := range errs {
		if err != nil {
			t.Fatalf("train.py, rank %d: %v\n%s", rank, err, outputs[rank])
		}
	}
	log := outputs[0].String()
	t.Logf("rank 0:\n%s", log)
	for _, want := range []string{"1000 images (10 steps of 100 per epoch, 2 processes of 50)", "an update every 2 steps", "(gloo)", "Epoch 1/1", "Test loss", "(300 images)"} {
		if !strings.Contains(log, want) {
			t.Errorf("rank 0's output lacks %q", want)
		}
	}
	if outputs[1].Len() != 0 {
		t.Errorf("rank 1 printed %q; only rank 0 reports", outputs[1])
	}
	imported := filepath.Join(t.TempDir(), "imported.safetensors")
	if code, stdout, errs := runCLI("import", "--onnx", filepath.Join(project, "model.onnx"), "--out", imported); code != 0 {
		t.Fatalf("convnet import: exit %d: %s", code, errs)
	} else {
		t.Logf("%s", strings.TrimSpace(stdout))
	}
	m, err := model.Load(imported)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.ClassNames) != 28 || m.ClassNames[0] != "alef ا" || m.Standardizer == nil || !m.Standardizer.ImageCenter || m.Standardizer.Rescale != float32(1.0/255) {
		t.Errorf("imported model: classes %v, preprocessing %+v; want AHCD's classes and /255 minus the mean image", m.ClassNames, m.Standardizer)
	}
	_, images, labels := ahcdBatch(t, 100)
	out := torchProject(t, project, images, labels, "--state", filepath.Join(project, "model.pt"))
	var want [][]float32
	probs := readFloats(t, filepath.Join(out, "probs.f32"))
	for i := range 100 {
		want = append(want, probs[i*28:(i+1)*28])
	}
	var got []float32
	for _, p := range probabilities(t, m, images) {
		got = append(got, p...)
	}
	compareProbabilities(t, "convnet predict of the import vs PyTorch", got, want, 1e-5)
	direct, err := model.Load(filepath.Join(project, "model.safetensors"))
	if err != nil {
		t.Fatalf("the project's model file: %v", err)
	}
	if len(direct.Layers) != 13 || direct.Meta["source"] == "" {
		t.Errorf("the project's model file: %d layers, source %q; want the tutorial's 13 layers and where they come from", len(direct.Layers), direct.Meta["source"])
	}
	got = got[:0]
	for _, p := range probabilities(t, direct, images) {
		got = append(got, p...)
	}
	compareProbabilities(t, "convnet predict of the project's model file vs PyTorch", got, want, 1e-5)
}

// freePort returns a TCP port free on the loopback interface.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// TestExportPyTorchRecipes trains projects for a few epochs on small data
// sets with the other recipes, data sources and options train takes, each
// in one process: they run to the end, log what the options promise, and
// their ONNX files import.
func TestExportPyTorchRecipes(t *testing.T) {
	skipRace(t)
	py := python(t, "torch", "torchvision", "numpy")
	f := writeCSVSet(t, smallSet)
	arch := smallSetNet(t, t.TempDir())
	images := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 1))
	for c := range 3 {
		dir := filepath.Join(images, fmt.Sprintf("class%d", c))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range 8 {
			px := barImage(rng, csvSet{Classes: 3, Size: 12}, c)
			img := make([]float32, len(px))
			for j, v := range px {
				img[j] = float32(v)
			}
			writeGrayPNG(t, filepath.Join(dir, fmt.Sprintf("%02d.png", i)), img, 12, 12)
		}
	}
	imagesArch := filepath.Join(t.TempDir(), "images.json")
	if err := os.WriteFile(imagesArch, []byte(strings.Replace(smallNet, `"units": 28`, `"units": 3`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	swaArch := filepath.Join(t.TempDir(), "swa.json")
	if err := os.WriteFile(swaArch, []byte(strings.Replace(swaNet, `"units": 28`, fmt.Sprintf(`"units": %d`, smallSet.Classes), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		flags []string
		want  []string // in the log
		files []string // written in the project
		not   []string // not in the log
	}{
		{"sgd-step-stratified", []string{"--csv", f.Train, "--test-csv", f.Test, "--model", arch, "--optimizer", "sgd", "--momentum", "0.9", "--nesterov",
			"--lr", "0.05", "--schedule", "step", "--step-every", "1", "--step-factor", "0.5", "--validation-split", "0.2", "--validation-mode", "stratified",
			"--csv-log", "log.csv", "--hflip", "--shear", "10", "--fill-mode", "reflect", "--brightness", "0.8,1.2", "--batch-size", "16", "--epochs", "3",
			"--class-weight", "0:2,3:0.5", "--mixup", "0.4", "--cutmix", "1"},
			[]string{"96 images", "val_loss", "lr: 0.0125", "Test loss", "Class weights (as given): from 0.5 to 2.",
				"Mixing the images of each batch two by two: MixUp alpha 0.4, CutMix alpha 1.0 (0: off)"}, []string{"log.csv"}, nil},
		{"adamw-cosine-test", []string{"--csv", f.Train, "--test-csv", f.Test, "--model", arch, "--optimizer", "adamw", "--schedule", "cosine",
			"--label-smoothing", "0.1", "--validation-data", "test", "--early-stopping", "1", "--early-stopping-monitor", "val_accuracy", "--restore-best",
			"--fill-mode", "wrap", "--vflip", "--stroke", "0.5", "--random-erasing", "0.5", "--erasing-value", "40", "--batch-size", "20", "--epochs", "4", "--global-clipnorm", "1", "--ema", "0.9",
			"--gradient-accumulation-steps", "2"},
			[]string{"adamw lr 0.001, global_clipnorm 1.0, ema 0.9, an update every 2 steps", "val_accuracy", "The weights are their exponential moving average (momentum 0.9).", "Restoring model weights from the end of the best epoch: "}, nil, nil},
		{"images-plateau", []string{"--images", images, "--test-images", images, "--height", "10", "--width", "10", "--model", imagesArch,
			"--schedule", "plateau", "--plateau-monitor", "loss", "--plateau-patience", "0", "--plateau-min-delta", "1", "--fill-mode", "constant", "--cval", "30", "--batch-size", "8", "--epochs", "2", "--optimizer", "adadelta"},
			[]string{"24 images", "ReduceLROnPlateau reducing learning rate to 0.0005"}, nil, nil},
		{"swa-batchnorm", []string{"--csv", f.Train, "--model", swaArch, "--epochs", "3", "--swa-start", "2", "--swa-lr", "0.0002", "--swa-anneal-epochs", "1",
			"--schedule", "plateau", "--plateau-monitor", "loss", "--plateau-patience", "0", "--plateau-min-delta", "1"},
			// The plateau would lower the rate after epoch 2, whose loss falls
			// by less than 1; averaging, it gives way.
			[]string{"weights averaged from epoch 2", "Epoch 2/3 - 0s - loss", "lr: 0.001\n", "Epoch 3/3", "lr: 0.0002",
				"The weights are the average of epochs 2 to 3's (stochastic weight averaging), the batch normalizations' statistics computed again over the training data."}, nil,
			[]string{"ReduceLROnPlateau"}},
		{"mnist", []string{"--dataset", "mnist", "--data-dir", dataDir(t), "--model", "lenet5", "--limit", "256", "--test-limit", "100",
			"--no-augment", "--batch-size", "64", "--epochs", "2", "--class-weight", "balanced", "--optimizer", "nadam"},
			[]string{"256 images", "(100 images)", "Class weights (balanced): from 0.", "nadam lr 0.001"}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // train.py runs on one thread
			project := filepath.Join(t.TempDir(), "project")
			out := exportAndTrain(t, py, project, tc.flags...)
			t.Logf("%s", out)
			for _, want := range tc.want {
				if !strings.Contains(string(out), want) {
					t.Errorf("train.py's output lacks %q", want)
				}
			}
			for _, no := range tc.not {
				if strings.Contains(string(out), no) {
					t.Errorf("train.py's output has %q", no)
				}
			}
			for _, name := range append(tc.files, "model.safetensors", "model.onnx", "model.pt") {
				if _, err := os.Stat(filepath.Join(project, name)); err != nil {
					t.Errorf("train.py did not write %s: %v", name, err)
				}
			}
			if code, _, errs := runCLI("import", "--onnx", filepath.Join(project, "model.onnx"), "--out", filepath.Join(project, "imported.safetensors")); code != 0 {
				t.Errorf("convnet import: exit %d: %s", code, errs)
			}
		})
	}
}

// exportAndTrain writes the PyTorch project of convnet train's flags recipe
// in the folder project and runs its train.py on one thread, returning
// what it printed.
func exportAndTrain(t *testing.T, py, project string, recipe ...string) []byte {
	t.Helper()
	args := append([]string{"export", "--format", "pytorch", "--out", project}, recipe...)
	if code, _, stderr := runCLI(args...); code != 0 {
		t.Fatalf("convnet %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	cmd := exec.Command(py, filepath.Join(project, "train.py"), "--threads", "1")
	cmd.Dir = project
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("train.py: %v\n%s", err, out)
	}
	return out
}
