package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/plot"
)

// The files of a run: the trained model (--out, default <model>.safetensors,
// <model>-tuned.safetensors when --model is a model file)
// and beside it the run's checkpoint (.ckpt.safetensors) and the curves
// (.curves.png); the --csv-log and --checkpoint files if asked for; the
// --tensorboard folder, made if it does not exist.

// outPath returns the trained model's file name.
func (o *trainOptions) outPath() string {
	if o.Out != "" {
		return o.Out
	}
	base := strings.TrimSuffix(filepath.Base(o.Model), filepath.Ext(o.Model))
	if o.modelFile {
		return base + "-tuned.safetensors"
	}
	return base + ".safetensors"
}

// sibling returns the output path with its extension replaced by suffix.
func (t *trainer) sibling(suffix string) string {
	return strings.TrimSuffix(t.out, filepath.Ext(t.out)) + suffix
}

// checkOutputs names the run's files and checks, before any work, that they
// can be written. Without --force it refuses to replace the trained model
// or a checkpoint, as does a resumed run (whose --force is the stored one):
// a resumed run only rewrites the checkpoint it resumes from.
func (t *trainer) checkOutputs() error {
	o := t.o
	t.out = o.outPath()
	t.ckpt = t.sibling(".ckpt.safetensors")
	t.best = t.sibling(".ckpt.best.safetensors")
	files := []struct{ what, path string }{{"--out, the trained model", t.out}, {"the run's checkpoint", t.ckpt},
		{"the curves", t.sibling(".curves.png")}, {"the best weights --restore-best keeps", t.best}}
	if o.CSVLog != "" {
		files = append(files, struct{ what, path string }{"--csv-log", o.CSVLog})
	}
	if o.Checkpoint != "" && !strings.Contains(filepath.Dir(o.Checkpoint), "{") {
		files = append(files, struct{ what, path string }{"--checkpoint", o.Checkpoint})
	}
	taken := map[string]string{} // absolute path to what it is
	for _, f := range files {
		abs, err := filepath.Abs(f.path)
		if err != nil {
			return err
		}
		if what, ok := taken[abs]; ok && !strings.Contains(f.path, "{") { // a name made per epoch is not this one
			return usagef("%s %s is also %s: give them different names", f.what, f.path, what)
		}
		taken[abs] = f.what
		if err := checkWritable(f.path); err != nil {
			return err
		}
	}
	if o.TensorBoard != "" {
		if err := checkLogDir(o.TensorBoard); err != nil {
			return err
		}
	}
	if !o.Force {
		if _, err := os.Stat(t.out); err == nil {
			if t.resumed != nil {
				return fmt.Errorf("%s exists and the run was started without --force: move it away to resume %s", t.out, t.from)
			}
			if _, err := os.Stat(t.ckpt); err == nil {
				return fmt.Errorf("%s exists: use --force to overwrite it, or --resume %s to continue", t.out, t.ckpt)
			}
			return fmt.Errorf("%s exists: use --force to overwrite it, or another --out", t.out)
		}
		if st, err := os.Stat(t.ckpt); err == nil {
			if t.resumed == nil {
				return fmt.Errorf("%s exists: use --force to overwrite it, or --resume %s to continue", t.ckpt, t.ckpt)
			}
			if from, err := os.Stat(t.from); err != nil || !os.SameFile(st, from) {
				return fmt.Errorf("%s exists and is not the checkpoint resumed (%s): move it away to resume", t.ckpt, t.from)
			}
		}
	}
	return nil
}

// checkLogDir makes the folder of --tensorboard, as its first epoch would,
// so that a path that cannot be one fails before training starts.
func checkLogDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("--tensorboard %s: cannot make the folder: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".convnet-*.tmp")
	if err != nil {
		return fmt.Errorf("--tensorboard %s: cannot write in it: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// checkWritable reports a path that cannot be written: a folder in its
// place, a folder that does not exist, or one that refuses new files.
func checkWritable(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("cannot write %s: it is a folder", path)
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("cannot write %s: folder %s does not exist", path, dir)
	}
	f, err := os.CreateTemp(dir, ".convnet-*.tmp")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot write %s: folder %s: %w", path, dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// writeCurves saves the loss and accuracy curves of a history as a PNG.
func writeCurves(path string, h *model.History, title string) error {
	ph := curves(h)
	return safefile.Write(path, true, func(w io.Writer) error { return plot.Curves(w, ph, title) })
}

// curves returns the figures of h to plot: the validation curves, when an
// epoch was validated, have a point at the validated epochs only (NaN,
// which the plot leaves out, at the others: --validation-freq).
func curves(h *model.History) plot.History {
	var ph plot.History
	val := false
	for _, e := range h.Epochs {
		val = val || e.HasValidation
	}
	for _, e := range h.Epochs {
		ph.Epoch = append(ph.Epoch, e.Epoch+1)
		ph.Loss = append(ph.Loss, e.Loss)
		ph.Accuracy = append(ph.Accuracy, e.Accuracy)
		ph.LearningRate = append(ph.LearningRate, e.LearningRate)
		switch {
		case e.HasValidation:
			ph.ValLoss = append(ph.ValLoss, e.ValLoss)
			ph.ValAccuracy = append(ph.ValAccuracy, e.ValAccuracy)
		case val:
			ph.ValLoss = append(ph.ValLoss, math.NaN())
			ph.ValAccuracy = append(ph.ValAccuracy, math.NaN())
		}
	}
	return ph
}
