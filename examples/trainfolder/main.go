// Trainfolder trains a classifier on a folder of images with model.Fit and
// saves it. The folder is laid out as Keras's flow_from_directory expects:
// one subfolder per class, named after it, holding that class's images.
//
//	go run ./examples/trainfolder -images photos/ -size 64 -epochs 20 -out photos.safetensors
//
// A fifth of each class is held out for validation. With -crop 1, an image
// that is not square is cut to its centre square before it is resized, as
// Keras's keep_aspect_ratio does. The saved model keeps its class names,
// preprocessing and framing (how its images frame their content, and the
// crop), so "convnet predict --model FILE image.png" classifies new images
// with it, fitted as its training images were.
//
// With -from, it starts from a trained model instead (a model file, or a
// built-in model such as ahcd), as a Keras user reuses a base: the images
// are read at the model's size and channels and preprocessed as it was, a
// new head replaces its head (its last Dense), and every layer before it is
// frozen:
//
//	go run ./examples/trainfolder -images digits/ -from ahcd -epochs 10 -out digits.safetensors
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"slices"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		log.Fatal(err)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("trainfolder", flag.ContinueOnError)
	fs.SetOutput(stderr)
	images := fs.String("images", "", "folder of images, one subfolder per class (required)")
	out := fs.String("out", "trainfolder.safetensors", "the trained model file")
	preset := fs.String("model", "tutorial", "the architecture: a preset of package model")
	size := fs.Int("size", 32, "images are resized to size x size pixels")
	color := fs.String("color", "grayscale", "grayscale, rgb or rgba")
	crop := fs.Float64("crop", 0, "fit an image that is not square by its centre: this fraction of the largest centred square (1: Keras's keep_aspect_ratio; 0: resized whole)")
	epochs := fs.Int("epochs", 10, "number of epochs")
	batch := fs.Int("batch", 32, "batch size")
	seed := fs.Uint64("seed", 1, "random seed: weights, split, shuffling, dropout")
	from := fs.String("from", "", "start from this trained model (a model file or a built-in model), its base frozen and a new head")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *images == "" || fs.NArg() > 0 || *size < 1 || *epochs < 1 || *batch < 1 {
		fs.Usage()
		return errors.New("want -images DIR, a positive -size, -epochs and -batch, and no arguments")
	}

	if _, err := os.Stat(*out); err == nil {
		return fmt.Errorf("%s exists: remove it or choose another -out", *out)
	}

	var base *model.Model
	if *from != "" {
		var err error
		if base, err = loadModel(*from); err != nil {
			return err
		}
		in := base.InputShape()
		*size, *color = in[0], map[int]string{1: "grayscale", 3: "rgb", 4: "rgba"}[in[2]]
		if f, err := base.Framing(); err == nil && f.Crop > 0 {
			*crop = f.Crop // as its weights saw its images
		}
	}

	// The data: every image resized (or its centre, with -crop), a
	// stratified fifth held out, pixels scaled to [0, 1] less the mean image
	// of the training part.
	all, err := data.LoadImageFolder(ctx, *images, data.ImageFolderOptions{Height: *size, Width: *size, ColorMode: *color, Crop: *crop})
	if err != nil {
		return err
	}
	train, val, err := data.SplitStratified(all, 0.2, *seed)
	if err != nil {
		return err
	}

	// The model, sized for the images and classes, or the one to start
	// from with a new head for them, its base frozen.
	var m *model.Model
	if base != nil {
		m = base
		head, err := m.NewHead(train.NumClasses(), *seed)
		if err != nil {
			return err
		}
		if err := m.SetTrainable(false, m.Layers[:slices.Index(m.Layers, nn.Layer(head))]...); err != nil {
			return err
		}
	} else {
		if m, err = model.PresetFor(*preset, train.Shape(), train.NumClasses()); err != nil {
			return err
		}
		if err := m.Build(nil, *seed); err != nil {
			return err
		}
		m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, ImageCenter: true}
		m.Standardizer.FitDataset(train)
	}
	if err := m.Compile(&optim.Adam{}, nn.CrossEntropy{Sparse: true}); err != nil {
		return err
	}
	m.ClassNames = all.ClassNames
	// How the images frame their content, and the crop: a Classifier (and
	// convnet predict) fits new images to the model the same way.
	framing := all.MeasureFraming()
	if !framing.Framed() {
		framing.Crop = *crop
	}
	if err := m.SetFraming(framing); err != nil {
		return err
	}
	std := m.Standardizer

	// Loaders prepare the batches; Fit trains on them, epoch by epoch.
	tl := data.NewLoader(train, data.LoaderOptions{BatchSize: *batch, Shuffle: true, Seed: *seed, Standardizer: std})
	defer tl.Close()
	vl := data.NewLoader(val, data.LoaderOptions{BatchSize: 256, Standardizer: std})
	defer vl.Close()
	fmt.Fprintf(stdout, "%d training and %d validation images of %v in %d classes\n", train.Len(), val.Len(), train.Shape(), train.NumClasses())
	hist, err := m.Fit(ctx, model.FitOptions{
		Epochs:        *epochs,
		StepsPerEpoch: tl.Len(),
		Train:         model.TrainOn(tl, m.Loss().Sparse),
		Validation:    model.ValidateOn(vl, m.Loss().Sparse),
		Progress:      model.NewProgbar(stderr, false),
	})
	if err != nil {
		return err
	}
	m.SetHistory(hist)
	if err := model.Save(*out, m, model.SaveOptions{}); err != nil {
		return err
	}
	last := hist.Epochs[len(hist.Epochs)-1]
	fmt.Fprintf(stdout, "validation accuracy %.4f after %d epochs; saved %s\n", last.ValAccuracy, len(hist.Epochs), *out)
	return nil
}

// loadModel reads a model file, or a built-in model by its name.
func loadModel(name string) (*model.Model, error) {
	if _, err := os.Stat(name); err != nil && slices.Contains(pretrained.Names(), name) {
		return pretrained.Load(name)
	}
	return model.Load(name)
}
