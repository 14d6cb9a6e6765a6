package model_test

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// halves returns n 4x4 images in 2 classes: class 0 is bright on the left
// half, class 1 on the right, with noise.
func halves(n int, seed uint64) *data.Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	ds := &data.Dataset{X: tensor.New(n, 4, 4, 1), Y: make([]int, n), ClassNames: []string{"left", "right"}}
	for i := range n {
		c := rng.IntN(2)
		ds.Y[i] = c
		img := ds.Image(i)
		for p := range img {
			img[p] = float32(rng.IntN(60))
			if (p%4 < 2) == (c == 0) {
				img[p] += 180
			}
		}
	}
	return ds
}

func TestLoaderBatchesTargets(t *testing.T) {
	ds := halves(10, 1)
	for _, sparse := range []bool{false, true} {
		l := data.NewLoader(ds, data.LoaderOptions{BatchSize: 4})
		l.Start(0)
		b := model.LoaderBatches(l, sparse)
		var sizes []int
		for k := 0; ; k++ {
			got, ok := b.Next()
			if !ok {
				break
			}
			n := got.X.Shape[0]
			sizes = append(sizes, n)
			if !slices.Equal(got.X.Data, ds.X.Data[k*4*16:(k*4+n)*16]) {
				t.Errorf("sparse %v: batch %d holds other images than the data set's %d..%d", sparse, k, k*4, k*4+n-1)
			}
			for i := range n {
				label := ds.Y[k*4+i]
				if sparse {
					if !slices.Equal(got.Y.Shape, []int{n}) || got.Y.Data[i] != float32(label) {
						t.Fatalf("sparse: batch %d targets %v %v, want class indices %v", k, got.Y.Shape, got.Y.Data, ds.Y[k*4:k*4+n])
					}
				} else if !slices.Equal(got.Y.Shape, []int{n, 2}) || got.Y.Data[i*2+label] != 1 || got.Y.Data[i*2+1-label] != 0 {
					t.Fatalf("one-hot: batch %d targets %v %v, want one-hot rows of %v", k, got.Y.Shape, got.Y.Data, ds.Y[k*4:k*4+n])
				}
			}
		}
		if !slices.Equal(sizes, []int{4, 4, 2}) {
			t.Errorf("sparse %v: batch sizes %v, want [4 4 2]", sparse, sizes)
		}
		l.Close()
	}
}

// TestTrainOnSkip checks that TrainOn gives the loader's epoch, less the
// batches skipped when resuming.
func TestTrainOnSkip(t *testing.T) {
	ds := halves(20, 2)
	opts := data.LoaderOptions{BatchSize: 4, Shuffle: true, Seed: 9}
	ref := data.NewLoader(ds, opts)
	defer ref.Close()
	var want [][]float32
	for b := range ref.Epoch(3) {
		want = append(want, slices.Clone(b.X.Data))
	}
	l := data.NewLoader(ds, opts)
	defer l.Close()
	train := model.TrainOn(l, false)
	batches, err := train(3, 2)
	if err != nil {
		t.Fatal(err)
	}
	for k := 2; ; k++ {
		b, ok := batches.Next()
		if !ok {
			if k != len(want) {
				t.Errorf("TrainOn(epoch 3, skip 2) ended after batch %d, want %d batches", k, len(want))
			}
			break
		}
		if !slices.Equal(b.X.Data, want[k]) {
			t.Errorf("TrainOn(epoch 3, skip 2): batch %d differs from the loader's epoch 3", k)
		}
	}
	if _, err := train(0, 6); err == nil || !strings.Contains(err.Error(), "epoch 1 has fewer than 6 batches") {
		t.Errorf("TrainOn(epoch 0, skip 6) of 5 batches: error %v", err)
	}
}

// TestFitOnDataset trains on a data set through loaders: the loss falls and
// the validation set is evaluated every epoch.
func TestFitOnDataset(t *testing.T) {
	for _, sparse := range []bool{false, true} {
		hist := fitHalves(t, sparse, 4)
		first, last := hist.Epochs[0], hist.Epochs[len(hist.Epochs)-1]
		if len(hist.Epochs) != 4 || !last.HasValidation {
			t.Fatalf("sparse %v: history of %d epochs, validated %v; want 4 validated", sparse, len(hist.Epochs), last.HasValidation)
		}
		if !(last.Loss < first.Loss) || last.ValAccuracy < 0.9 {
			t.Errorf("sparse %v: loss %.4f -> %.4f, validation accuracy %.3f; want a falling loss and at least 0.9", sparse, first.Loss, last.Loss, last.ValAccuracy)
		}
	}
}

// TestFitOnBadData: data a model cannot take, images of another size,
// labels beyond its classes or none (-1, a CSV file read with NoLabels),
// make Fit, FindLR and Evaluate return an error naming the batch, sparse
// or one-hot, instead of panicking.
func TestFitOnBadData(t *testing.T) {
	unlabelled, beyond := halves(8, 5), halves(8, 6)
	unlabelled.Y[5], beyond.Y[2] = -1, 2
	beyond.ClassNames = append(beyond.ClassNames, "third")
	larger := &data.Dataset{X: tensor.New(8, 5, 5, 1), Y: make([]int, 8), ClassNames: []string{"left", "right"}}
	for _, c := range []struct {
		name string
		ds   *data.Dataset
		want map[bool]string // by sparse
	}{
		{"unlabelled", unlabelled, map[bool]string{true: "target 1 is -1: want a class index in [0, 2)", false: "epoch 1, batch 2"}},
		{"beyond", beyond, map[bool]string{true: "target 2 is 2: want a class index in [0, 2)", false: "one-hot targets of shape [4 3], want [4 2]"}},
		{"larger", larger, map[bool]string{true: "input shape [4 5 5 1], want [N [4 4 1]]", false: "input shape [4 5 5 1], want [N [4 4 1]]"}},
	} {
		for _, sparse := range []bool{true, false} {
			m := model.New(&nn.Flatten{}, &nn.Dense{Units: 2, Activation: "softmax"})
			if err := m.Build([]int{4, 4, 1}, 1); err != nil {
				t.Fatal(err)
			}
			if err := m.Compile(&optim.SGD{}, nn.CrossEntropy{Sparse: sparse}); err != nil {
				t.Fatal(err)
			}
			l := data.NewLoader(c.ds, data.LoaderOptions{BatchSize: 4})
			_, err := m.Fit(context.Background(), model.FitOptions{Epochs: 1, Train: model.TrainOn(l, sparse)})
			if sparse || c.name != "unlabelled" {
				if err == nil || !strings.Contains(err.Error(), c.want[sparse]) {
					t.Errorf("%s, sparse %v: Fit error %v, want %q", c.name, sparse, err, c.want[sparse])
				}
				_, err = m.FindLR(context.Background(), model.LRFindOptions{Train: model.TrainOn(l, sparse), StepsPerEpoch: 2, Steps: 4})
				if err == nil || !strings.Contains(err.Error(), c.want[sparse]) {
					t.Errorf("%s, sparse %v: FindLR error %v, want %q", c.name, sparse, err, c.want[sparse])
				}
				l.Start(0)
				if _, _, err := m.Evaluate(model.LoaderBatches(l, sparse)); err == nil || !strings.Contains(err.Error(), "evaluate: batch") || !strings.Contains(err.Error(), c.want[sparse]) {
					t.Errorf("%s, sparse %v: Evaluate error %v, want %q", c.name, sparse, err, c.want[sparse])
				}
			}
			l.Close()
		}
	}
}

// fitHalves fits a small model on halves for the given epochs.
func fitHalves(t testing.TB, sparse bool, epochs int) *model.History {
	train, val := halves(200, 3), halves(50, 4)
	std := &data.Standardizer{Rescale: 1.0 / 255, ImageCenter: true}
	std.Fit(train.X)
	m := model.New(&nn.Flatten{}, &nn.Dense{Units: 2, Activation: "softmax"})
	if err := m.Build(train.Shape(), 1); err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(&optim.Adam{LearningRate: 0.01}, nn.CrossEntropy{Sparse: sparse}); err != nil {
		t.Fatal(err)
	}
	tl := data.NewLoader(train, data.LoaderOptions{BatchSize: 20, Shuffle: true, Seed: 1, Standardizer: std})
	defer tl.Close()
	vl := data.NewLoader(val, data.LoaderOptions{BatchSize: 64, Standardizer: std})
	defer vl.Close()
	hist, err := m.Fit(context.Background(), model.FitOptions{
		Epochs:        epochs,
		StepsPerEpoch: tl.Len(),
		Train:         model.TrainOn(tl, m.Loss().Sparse),
		Validation:    model.ValidateOn(vl, m.Loss().Sparse),
	})
	if err != nil {
		t.Fatal(err)
	}
	return hist
}

// Train a classifier on a data set held in memory, validating on another.
func ExampleTrainOn() {
	train, val := halves(200, 3), halves(50, 4) // 4x4 images of 2 classes

	// Pixels /255 less the mean image of the training set.
	std := &data.Standardizer{Rescale: 1.0 / 255, ImageCenter: true}
	std.Fit(train.X)
	m := model.New(&nn.Flatten{}, &nn.Dense{Units: 2, Activation: "softmax"})
	if err := m.Build(train.Shape(), 1); err != nil {
		log.Fatal(err)
	}
	m.Compile(&optim.Adam{LearningRate: 0.01}, nn.CrossEntropy{})

	tl := data.NewLoader(train, data.LoaderOptions{BatchSize: 20, Shuffle: true, Seed: 1, Standardizer: std})
	defer tl.Close()
	vl := data.NewLoader(val, data.LoaderOptions{BatchSize: 64, Standardizer: std})
	defer vl.Close()
	hist, err := m.Fit(context.Background(), model.FitOptions{
		Epochs:        4,
		StepsPerEpoch: tl.Len(),
		Train:         model.TrainOn(tl, m.Loss().Sparse),
		Validation:    model.ValidateOn(vl, m.Loss().Sparse),
	})
	if err != nil {
		log.Fatal(err)
	}
	last := hist.Epochs[len(hist.Epochs)-1]
	fmt.Printf("%d epochs; validation accuracy at least 90%%: %v\n", len(hist.Epochs), last.ValAccuracy >= 0.9)
	// Output: 4 epochs; validation accuracy at least 90%: true
}
