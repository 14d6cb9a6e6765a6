package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/model"
)

func TestBenchUsageErrors(t *testing.T) {
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"--steps", "0"}, "--steps 0: must be at least 1"},
		{[]string{"--batch", "-1"}, "--batch -1: must be at least 1"},
		{[]string{"--repeats", "0"}, "--repeats 0: must be at least 1"},
		{[]string{"--warmup", "-2"}, "--warmup -2: must be at least 0"},
		{[]string{"--infer-runs", "0"}, "--infer-runs 0: must be at least 1"},
		{[]string{"--infer-batch", "0"}, "--infer-batch 0: must be at least 1"},
		{[]string{"--threads", "-1"}, "--threads -1: must be at least 0"},
		{[]string{"--batch", "100000"}, "must be at most 4096"},
		{[]string{"--model", "vgg16"}, `unknown model "vgg16": not a preset`},
		{[]string{"--steps", "many"}, `invalid value "many" for flag -steps`},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--activation", "swish"}, `--activation "swish": want one of relu, relu6, leaky_relu, elu, selu, gelu,`},
		{[]string{"--activation", "softmax"}, `--activation "softmax": want one of`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			// No data is read before the flags are checked.
			code, stdout, stderr := runCtx(context.Background(), append([]string{"bench", "--data-dir", t.TempDir()}, tt.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tt.stderr) || stdout != "" {
				t.Errorf("convnet bench %v = exit %d, stdout %q, stderr %q; want exit %d and %q", tt.args, code, stdout, stderr, exitUsage, tt.stderr)
			}
		})
	}
}

func TestBenchMissingData(t *testing.T) {
	code, _, stderr := runCtx(context.Background(), "bench", "--data-dir", t.TempDir(), "--steps", "1")
	if code != exitError || !strings.Contains(stderr, "ahcd") {
		t.Errorf("convnet bench on an empty data folder = exit %d, stderr %q; want exit %d naming ahcd", code, stderr, exitError)
	}
	// With a CPU profile: the same error, not the profile's, and no profile.
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	code, _, stderr = runCtx(context.Background(), "bench", "--data-dir", t.TempDir(), "--steps", "1", "--cpuprofile", prof)
	if code != exitError || !strings.Contains(stderr, "ahcd") || strings.Contains(stderr, "cpu.prof") {
		t.Errorf("convnet bench --cpuprofile on an empty data folder = exit %d, stderr %q; want exit %d naming ahcd, not the profile", code, stderr, exitError)
	}
	if _, err := os.Stat(prof); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed run left a profile: %v", err)
	}
}

// benchSet has AHCD's image shape and classes, and more than a batch of 100.
var benchSet = csvSet{Classes: 28, Size: 32, Train: 4}

// A tiny run: every figure is there and positive.
func TestBenchRun(t *testing.T) {
	csv := writeCSVSet(t, benchSet).Train
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	code, stdout, stderr := runCtx(context.Background(), "bench", "--csv", csv, "--steps", "2", "--repeats", "1",
		"--warmup", "1", "--infer-runs", "3", "--infer-batch", "8", "--threads", "2", "--json", "--cpuprofile", prof, "--activation", "gelu")
	if code != exitOK {
		t.Fatalf("convnet bench = exit %d, stderr %q", code, stderr)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("convnet bench --json printed %q: %v", stdout, err)
	}
	keys := []string{"train_images_per_sec", "infer_batch1_ms", "infer_batch256_images_per_sec", "gemm_gflops"}
	if runtime.GOOS == "linux" { // the CPU time is known
		keys = append(keys, "train_images_per_cpu_sec", "gemm_cpu_gflops")
	}
	for _, key := range keys {
		if v, ok := r[key].(float64); !ok || !(v > 0) {
			t.Errorf("convnet bench --json: %s = %v, want a positive number", key, r[key])
		}
	}
	if r["activation"] != "gelu" {
		t.Errorf("convnet bench --activation gelu --json: activation %v", r["activation"])
	}
	want := kernels.Winograd().String()
	if kernels.Impl() == "generic" {
		want = "off"
	}
	if r["winograd"] != want {
		t.Errorf("convnet bench --json: winograd %v, want %v", r["winograd"], want)
	}
	if r["threads"] != 2.0 || r["batch"] != 100.0 || r["infer_batch"] != 8.0 {
		t.Errorf("convnet bench --json: threads %v, batch %v, infer_batch %v; want 2, 100, 8", r["threads"], r["batch"], r["infer_batch"])
	}
	// 2·(1024·32·25 + 1024·32·800 + 256·64·288 + 256·64·576 + 4096·256 + 256·256 + 256·28)
	if mf := r["forward_mflop_per_image"]; mf != 84.621312 {
		t.Errorf("convnet bench --json: forward_mflop_per_image = %v, want 84.621312 for the tutorial model", mf)
	}
	// 3·84.621312 less the first convolution's input gradient, 2·1024·32·25.
	if mf := r["train_mflop_per_image"]; mf != 252.225536 {
		t.Errorf("convnet bench --json: train_mflop_per_image = %v, want 252.225536 for the tutorial model", mf)
	}
	if st, err := os.Stat(prof); err != nil || st.Size() == 0 {
		t.Errorf("--cpuprofile: %v", err)
	}

	// prelu: a PReLU layer after each convolution and dense layer with
	// relu; none in a graph.
	code, stdout, stderr = runCtx(context.Background(), "bench", "--csv", csv, "--steps", "1", "--repeats", "1",
		"--warmup", "0", "--infer-runs", "1", "--infer-batch", "2", "--json", "--activation", "prelu")
	clear(r)
	err := json.Unmarshal([]byte(stdout), &r)
	if rate, _ := r["train_images_per_sec"].(float64); code != exitOK || err != nil || r["activation"] != "prelu" || !(rate > 0) {
		t.Errorf("convnet bench --activation prelu = exit %d, %v, stdout %q, stderr %q", code, err, stdout, stderr)
	}
	code, _, stderr = runCtx(context.Background(), "bench", "--csv", csv, "--steps", "1", "--model", "resnet", "--activation", "prelu")
	if code != exitUsage || !strings.Contains(stderr, "--activation prelu: only for a stack of layers, not a graph") {
		t.Errorf("convnet bench --model resnet --activation prelu = exit %d, stderr %q", code, stderr)
	}

	// LeNet-5 is all tanh: nothing for --activation to change.
	code, _, stderr = runCtx(context.Background(), "bench", "--csv", csv, "--steps", "1", "--model", "lenet5", "--activation", "mish")
	if code != exitError || !strings.Contains(stderr, "--activation mish: the model has no convolution or dense layer with relu to change") {
		t.Errorf("convnet bench --model lenet5 --activation mish = exit %d, stderr %q", code, stderr)
	}
	code, stdout, stderr = runCtx(context.Background(), "bench", "--csv", csv, "--steps", "1", "--repeats", "1",
		"--warmup", "0", "--infer-runs", "1", "--infer-batch", "2", "--batch", "10", "--model", "lenet5")
	if code != exitOK || !strings.Contains(stdout, "training, batch 10:") || !strings.Contains(stdout, "gemm 1024x1024x1024:") {
		t.Errorf("convnet bench (table) = exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// A model file: its inference is measured on random pixels, nothing is
// trained and no data set is read.
func TestBenchModelFile(t *testing.T) {
	m, err := model.Preset("tutorial")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	m.ClassNames = data.AHCDClassNames()
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	file := saveModel(t, m, filepath.Join(t.TempDir(), "tutorial.safetensors"))
	args := []string{"bench", "--data-dir", t.TempDir(), "--model", file, "--repeats", "1", "--infer-runs", "3", "--infer-batch", "4"}
	code, stdout, stderr := runCtx(context.Background(), append(args, "--json")...)
	if code != exitOK {
		t.Fatalf("convnet bench --model FILE = exit %d, stderr %q", code, stderr)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("convnet bench --json printed %q: %v", stdout, err)
	}
	for _, key := range []string{"infer_batch1_ms", "infer_batch256_images_per_sec", "gemm_gflops"} {
		if v, ok := r[key].(float64); !ok || !(v > 0) {
			t.Errorf("%s = %v, want a positive number", key, r[key])
		}
	}
	if r["train_images_per_sec"] != 0.0 || r["steps"] != 0.0 || r["forward_mflop_per_image"] != 84.621312 || r["model"] != file {
		t.Errorf("training %v in %v steps, forward %v MFLOP, model %v; want none, 84.621312 (the tutorial's), %s",
			r["train_images_per_sec"], r["steps"], r["forward_mflop_per_image"], r["model"], file)
	}
	code, stdout, stderr = runCtx(context.Background(), args...)
	if code != exitOK || strings.Contains(stdout, "training") || !strings.Contains(stdout, "inference, batch 1:") {
		t.Errorf("convnet bench --model FILE (table) = exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
