package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/internal/torchexport"
	"github.com/convnet-go/convnet/internal/version"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

// keepsOwnCheckpoint is why the PyTorch project refuses convnet train's checkpoint flags.
const keepsOwnCheckpoint = "convnet's Keras-style checkpoint files are convnet train's; " +
	"train.py writes its own checkpoint after every epoch (its --checkpoint PATH) and goes on from it with --resume"

// exportRefused are convnet train's flags that the PyTorch project does not
// take, with the reason.
var exportRefused = map[string]string{
	"resume":               "the PyTorch project starts from --model; convnet's checkpoints resume convnet train (train.py --resume continues from train.py's own)",
	"workers":              "train.py's own --workers sets PyTorch's DataLoader processes",
	"checkpoint":           keepsOwnCheckpoint,
	"checkpoint-best-only": keepsOwnCheckpoint,
	"checkpoint-monitor":   keepsOwnCheckpoint,
	"lr-find":              "the range test runs in place of convnet train's training: run it there (convnet train ... --lr-find)",
	"lr-find-start":        "the range test runs in place of convnet train's training: run it there (convnet train ... --lr-find)",
	"lr-find-end":          "the range test runs in place of convnet train's training: run it there (convnet train ... --lr-find)",
	"lr-find-steps":        "the range test runs in place of convnet train's training: run it there (convnet train ... --lr-find)",
	"watch":                "the demo page while training is convnet train's",
	"addr":                 "the demo page while training is convnet train's",
}

// exportPyTorch writes the PyTorch project of a network and a recipe.
func exportPyTorch(ctx context.Context, o *ExportOptions, stdout io.Writer) error {
	t := o.Train
	for _, name := range slices.Sorted(maps.Keys(o.set)) {
		if why, ok := exportRefused[name]; ok {
			return usagef("--%s is not part of --format pytorch: %s", name, why)
		}
	}
	if err := t.settle(o.flags); err != nil {
		return err
	}
	if err := checkExportTarget(o.Out, o.Force); err != nil {
		return err
	}
	m, title, trained, err := exportNetwork(ctx, o)
	if err != nil {
		return err
	}
	r, err := exportRecipe(o)
	if err != nil {
		return err
	}
	files, err := torchexport.Generate(torchexport.Project{Model: m, Title: title, Trained: trained, Recipe: r, Version: version.String()})
	if err != nil {
		var ue *torchexport.UnsupportedError
		if errors.As(err, &ue) {
			return fmt.Errorf("--format pytorch cannot reproduce %w", err)
		}
		return err
	}
	if err := writeProject(o.Out, o.Force, files); err != nil {
		return err
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	fmt.Fprintf(stdout, "wrote %s (%s)\nTrain it with: python3 %s\n", o.Out, strings.Join(names, ", "), filepath.Join(o.Out, "train.py"))
	return nil
}

// exportNetwork returns the network to export: a model file as it is (but
// for --freeze and --inference-mode), or a preset or JSON architecture
// built for the data and seed as convnet train builds it (the
// preprocessing fitted on the training set).
func exportNetwork(ctx context.Context, o *ExportOptions) (m *model.Sequential, title string, trained bool, err error) {
	name := o.Train.Model
	if model.PresetAbout(name) == "" && !isArchitectureFile(name) {
		if _, err := os.Stat(name); errors.Is(err, fs.ErrNotExist) && !slices.Contains(pretrained.Names(), name) && !strings.ContainsAny(name, `/\.`) {
			return nil, "", false, usagef("unknown model %q: not a preset (%s), a built-in model (%s) nor a file",
				name, strings.Join(model.PresetNames(), ", "), strings.Join(pretrained.Names(), ", "))
		}
		if m, _, err = loadModel(name, o.Train.MaxMemory); err != nil {
			return nil, "", false, err
		}
		// --freeze and --inference-mode apply to it as to a run of convnet train.
		if err := (&trainer{o: o.Train, stderr: o.stderr, head: -1}).freeze(m); err != nil {
			return nil, "", false, err
		}
		return m, fmt.Sprintf("the network of %s", filepath.Base(name)), true, nil
	}
	tr := &trainer{o: o.Train, args: o.args, stderr: o.stderr, head: -1}
	if err := tr.loadData(ctx); err != nil {
		return nil, "", false, err
	}
	if err := tr.buildModel(); err != nil {
		return nil, "", false, err
	}
	tr.m.Meta["command"] = exportCommand(o.args)
	title = fmt.Sprintf("convnet's %q network", name)
	if model.PresetAbout(name) == "" {
		title = fmt.Sprintf("the network of %s", filepath.Base(name))
	}
	return tr.m, title, false, nil
}

// exportRecipe turns convnet train's options into the project's recipe.
func exportRecipe(o *ExportOptions) (torchexport.Recipe, error) {
	t := o.Train
	r := torchexport.Recipe{
		Command: exportCommand(o.args), Epochs: t.Epochs, BatchSize: t.BatchSize, DropLast: t.DropLast, Seed: t.Seed,
		Optimizer: t.opt, Loss: nn.CrossEntropy{Sparse: t.sparse(), LabelSmoothing: t.LabelSmoothing},
		Schedule: torchexport.Schedule{Kind: t.Schedule, StepEvery: t.StepEvery, StepFactor: t.StepFactor, CosineAlpha: t.CosineAlpha, WarmupEpochs: t.WarmupEpochs},
		Augment:  t.aug, Mix: t.mix,
		Data: torchexport.Data{
			Dataset: strings.ToLower(t.Source.Dataset), DataDir: t.Source.DataDir,
			Images: t.Source.Images, TestImages: t.Source.TestImg, Height: t.Source.Height, Width: t.Source.Width, ColorMode: t.Source.ColorMode, Crop: t.Source.crop(),
			CSV: t.Source.CSV, TestCSV: t.Source.TestCSV, CSVLabel: t.Source.CSVLabel,
			Limit: t.Source.Limit, TestLimit: t.Source.TestLimit, SkipChecksum: t.Source.SkipChecksum,
		},
		Validation:    torchexport.Validation{Split: t.ValSplit, Mode: t.ValMode, Test: t.ValData == "test", Freq: t.ValFreq},
		EarlyStopping: torchexport.EarlyStopping{Patience: t.EarlyPatience, Monitor: t.EarlyMonitor, RestoreBest: t.RestoreBest},
		SWA:           torchexport.SWA{Start: t.SWAStart, LR: t.SWALR, AnnealEpochs: t.SWAAnneal, Strategy: t.SWAStrategy},
		CSVLog:        t.CSVLog,
		TensorBoard:   t.TensorBoard, HistogramFreq: t.HistogramFreq, WriteImages: t.WriteImages, UpdateFreq: t.UpdateFreq, StepsPerSec: t.StepsPerSec,
		NoEvaluate: t.NoEval, BF16: t.BF16,
	}
	if t.ClassWeight != "" {
		balanced, pairs, err := parseClassWeight(t.ClassWeight)
		if err != nil {
			return r, err
		}
		r.ClassWeight = &torchexport.ClassWeight{Balanced: balanced}
		for _, p := range pairs {
			r.ClassWeight.Classes = append(r.ClassWeight.Classes, p.class)
			r.ClassWeight.Weights = append(r.ClassWeight.Weights, p.weight)
		}
	}
	val := t.ValSplit > 0 || t.ValData == "test"
	if t.Schedule == "plateau" {
		p := optim.NewReduceLROnPlateau(t.PlateauMonitor)
		p.Factor, p.Patience, p.MinLR, p.MinDelta, p.Cooldown = t.PlateauFactor, t.PlateauPatient, t.PlateauMinLR, t.PlateauDelta, t.PlateauCool
		if err := p.Validate(); err != nil {
			return r, usageError{fmt.Errorf("--schedule plateau: %w", err)}
		}
		if !val && strings.HasPrefix(t.PlateauMonitor, "val_") {
			return r, usagef("--schedule plateau watches %s but there is no validation data (use --validation-split or --plateau-monitor loss)", t.PlateauMonitor)
		}
		r.Schedule.Plateau = p
	}
	if t.EarlyPatience > 0 {
		e, err := t.earlyStopping()
		if err != nil {
			return r, err
		}
		r.EarlyStopping.MinDelta, r.EarlyStopping.Baseline, r.EarlyStopping.StartFromEpoch = e.MinDelta, e.Baseline, e.StartFromEpoch
		if !val && strings.HasPrefix(t.EarlyMonitor, "val_") {
			return r, usagef("--early-stopping watches %s but there is no validation data (use --validation-split or --early-stopping-monitor loss)", t.EarlyMonitor)
		}
	}
	return r, nil
}

// shellSafe matches arguments a shell reads as they are.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:=,+@%-]+$`)

// exportCommand writes the command line, quoting what a shell would not
// take as it is.
func exportCommand(args []string) string {
	q := []string{"convnet", "export"}
	for _, a := range args {
		if !shellSafe.MatchString(a) {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q = append(q, a)
	}
	return strings.Join(q, " ")
}

// checkExportTarget refuses an existing path without force, and anything
// but a folder with it.
func checkExportTarget(dir string, force bool) error {
	info, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !force:
		return fmt.Errorf("%s: %w", dir, safefile.ErrExists)
	case !info.IsDir():
		return fmt.Errorf("%s is %s, not a folder: --format pytorch and tfjs write a folder", dir, safefile.Kind(info.Mode()))
	}
	return nil
}

// writeProject writes the files into a new folder dir, atomically: they are
// written into a temporary folder beside it, which is then renamed. With
// force, an existing folder keeps its other files and each of the
// project's files is replaced atomically.
func writeProject(dir string, force bool, files []torchexport.File) error {
	if err := checkExportTarget(dir, force); err != nil {
		return err
	}
	if _, err := os.Lstat(dir); err == nil {
		for _, f := range files {
			if err := safefile.WriteBytes(filepath.Join(dir, f.Name), true, f.Data); err != nil {
				return err
			}
		}
		return nil
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", dir, err)
	}
	for _, f := range files {
		if err = os.WriteFile(filepath.Join(tmp, f.Name), f.Data, 0o644); err != nil {
			break
		}
	}
	if err == nil {
		err = os.Chmod(tmp, 0o755)
	}
	if err == nil {
		err = os.Rename(tmp, dir)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("cannot write %s: %w", dir, err)
	}
	return nil
}
