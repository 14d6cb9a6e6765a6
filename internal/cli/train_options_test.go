package cli

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestTrainFlagRanges gives every numeric flag of train a value outside its
// range: each is refused before any data is read, naming the flag, the
// value and the range.
func TestTrainFlagRanges(t *testing.T) {
	for _, c := range []struct {
		flag, value, want string
	}{
		{"epochs", "0", "--epochs 0: want a value in [1, 100000]"},
		{"epochs", "1000000", "--epochs 1000000: want a value in [1, 100000]"},
		{"batch-size", "0", "--batch-size 0: want a value in [1, 65536]"},
		{"workers", "0", "--workers 0: want a value in [1, 256]"},
		{"workers", "100000", "--workers 100000: want a value in [1, 256]"},
		{"lr", "0", "--lr 0: want a value in (0, 10]"},
		{"lr", "NaN", "--lr NaN: want a value in (0, 10]"},
		{"lr", "1e3", "--lr 1000: want a value in (0, 10]"},
		{"rho", "1", "--rho 1: want a value in [0, 1)"},
		{"momentum", "-0.5", "--momentum -0.5: want a value in [0, 1)"},
		{"beta1", "1", "--beta1 1: want a value in [0, 1)"},
		{"beta2", "Inf", "--beta2 +Inf: want a value in [0, 1)"},
		{"epsilon", "-1e-8", "--epsilon -1e-08: want a value in [0, 1]"},
		{"weight-decay", "2", "--weight-decay 2: want a value in [0, 1)"},
		{"label-smoothing", "1", "--label-smoothing 1: want a value in [0, 1)"},
		{"step-every", "0", "--step-every 0: want a value in [1, 100000]"},
		{"step-factor", "1e12", "--step-factor 1e+12: want a value in (0, 1]"},
		{"step-factor", "0", "--step-factor 0: want a value in (0, 1]"},
		{"cosine-alpha", "1.5", "--cosine-alpha 1.5: want a value in [0, 1]"},
		{"plateau-factor", "1", "--plateau-factor 1: want a value in (0, 1)"},
		{"plateau-patience", "-1", "--plateau-patience -1: want a value in [0, 100000]"},
		{"plateau-min-lr", "-1", "--plateau-min-lr -1: want a value in [0, 10]"},
		{"plateau-min-delta", "NaN", "--plateau-min-delta NaN: want a value in [0, 1]"},
		{"plateau-cooldown", "-2", "--plateau-cooldown -2: want a value in [0, 100000]"},
		{"rescale", "0", "--rescale 0: want a value in (0, 1]"},
		{"rescale", "-Inf", "--rescale -Inf: want a value in (0, 1]"},
		{"validation-split", "1", "--validation-split 1: want a value in [0, 1)"},
		{"early-stopping", "-1", "--early-stopping -1: want a value in [0, 100000]"},
		{"rotation", "400", "--rotation 400: want a value in [0, 360]"},
		{"width-shift", "1e9", "--width-shift 1e+09: want a value in [0, 1000]"},
		{"height-shift", "-0.1", "--height-shift -0.1: want a value in [0, 1000]"},
		{"shear", "90", "--shear 90: want a value in [0, 90)"},
		{"cval", "300", "--cval 300: want a value in [0, 255]"},
		{"zoom", "1.5", `invalid value "1.5" for flag -zoom: "1.5" gives the range -0.5..2.5: want both ends in (0, 10]`},
		{"brightness", "0,100", `invalid value "0,100" for flag -brightness: "0,100" gives the range 0..100: want both ends in [0, 10]`},
	} {
		t.Run(c.flag+"="+c.value, func(t *testing.T) {
			args := []string{"train", "--data-dir", t.TempDir(), "--" + c.flag, c.value}
			code, stdout, stderr := runCLI(args...)
			if code != exitUsage || !strings.Contains(stderr, c.want) || stdout != "" {
				t.Errorf("convnet %s: exit %d, stdout %q, stderr %q; want exit %d and %q", strings.Join(args, " "), code, stdout, stderr, exitUsage, c.want)
			}
		})
	}
}

// TestTrainOutputChecked gives train output files it cannot write: each is
// refused before the data is loaded and the training starts.
func TestTrainOutputChecked(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	dir := t.TempDir()
	small := smallSetNet(t, dir)
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, []byte("x"), 0o644)
	locked := lockedDir(t)
	for _, c := range []struct {
		name, flag, path, want string
	}{
		{"out is a folder", "--out", dir, "cannot write " + dir + ": it is a folder"},
		{"out in a locked folder", "--out", filepath.Join(locked, "m.safetensors"), "cannot write " + filepath.Join(locked, "m.safetensors") + ": folder " + locked + ":"},
		{"out in a file", "--out", filepath.Join(notDir, "m.safetensors"), "folder " + notDir + " does not exist"},
		{"csv log in a missing folder", "--csv-log", filepath.Join(dir, "none", "log.csv"), "folder " + filepath.Join(dir, "none") + " does not exist"},
		{"csv log in a locked folder", "--csv-log", filepath.Join(locked, "log.csv"), "cannot write " + filepath.Join(locked, "log.csv")},
		{"checkpoint in a missing folder", "--checkpoint", filepath.Join(dir, "none", "{epoch}.safetensors"), "folder " + filepath.Join(dir, "none") + " does not exist"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"train", "--csv", f.Train, "--model", small, "--epochs", "1", "--batch-size", "30", "--no-evaluate", "--out", filepath.Join(t.TempDir(), "m.safetensors"), c.flag, c.path}
			code, stdout, stderr := runCLI(args...)
			if code != exitError || !strings.Contains(stderr, c.want) {
				t.Errorf("convnet %s: exit %d, stderr %q; want exit %d and %q", strings.Join(args, " "), code, stderr, exitError, c.want)
			}
			if strings.Contains(stderr, "Training ") || strings.Contains(stderr, "Epoch 1/") || stdout != "" {
				t.Errorf("convnet %s trained before finding that it cannot write %s:\n%s", strings.Join(args, " "), c.path, stderr)
			}
		})
	}
}

// lockedDir returns a folder that refuses new files.
func lockedDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() == 0 {
		// Permissions do not stop root; sysfs refuses new files to anyone.
		if runtime.GOOS != "linux" {
			t.Skip("no folder refuses new files to root here")
		}
		return "/sys"
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	return dir
}
