package web

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// The test models are small real CNNs: Conv2D(4, 3x3, same, relu),
// MaxPooling2D, Flatten, Dense(classes, softmax), with the rescaling
// preprocessing. "letters" (8x8x1, 5 classes) is trained in the test to
// find a vertical bar (letters_test.go). "digits" (6x6x1, 3 classes) keeps
// its initial weights.

func tinyModel(t testing.TB, h, w, classes int, seed uint64) *model.Sequential {
	t.Helper()
	m, err := newTinyModel(h, w, classes, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newTinyModel(h, w, classes int, seed uint64) (*model.Sequential, error) {
	m := model.New(
		&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"},
		&nn.MaxPool2D{},
		&nn.Flatten{},
		&nn.Dense{Units: classes, Activation: "softmax"},
	)
	if err := m.Build([]int{h, w, 1}, seed); err != nil {
		return nil, err
	}
	m.ClassNames = []string{"alef ا", "beh ب", "class2", "class3", "class4"}[:classes]
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	return m, nil
}

// letters returns a fresh copy of the trained letters model with a
// training history and an evaluation in its metadata.
func letters(t testing.TB) *model.Sequential {
	t.Helper()
	b, err := lettersFile()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Decode(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	m.Meta = map[string]string{
		"history": `{"epoch":[1,2],"loss":[1.5,0.9],"accuracy":[0.4,0.7],"val_loss":[1.4,1.0],"val_accuracy":[0.45,0.65],"learning_rate":[0.001,0.001]}`,
	}
	ev := evaluation{Classes: m.ClassNames, Accuracy: 0.6, Count: 10, ImageShape: []int{8, 8, 1}}
	ev.Matrix = make([][]int, 5)
	for i := range ev.Matrix {
		ev.Matrix[i] = make([]int, 5)
		ev.Matrix[i][i] = 2
	}
	ev.Matrix[1][2] = 1
	ev.Samples = []*sample{{True: 1, Pred: 2, Index: 7, Pixels: bytes.Repeat([]byte{200}, 64)}, {True: 0, Pred: 0, Index: 3, Pixels: make([]byte, 64)}}
	e, _ := json.Marshal(ev)
	m.Meta["evaluation"] = string(e)
	return m
}

func classifier(t testing.TB, m *model.Sequential, opts model.ClassifierOptions) *model.Classifier {
	t.Helper()
	c, err := model.NewClassifier(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testServer serves "letters" and "digits".
func testServer(t testing.TB) *Server {
	t.Helper()
	s, err := NewServer([]Model{
		{"letters", classifier(t, letters(t), model.ClassifierOptions{Workers: 2})},
		{"digits", classifier(t, tinyModel(t, 6, 6, 3, 2), model.ClassifierOptions{Workers: 2})},
	}, Options{MaxBodyBytes: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ahcdGraph returns the graph from in to x with a softmax of AHCD's 28
// classes on top, built, its classes named.
// ahcdStack builds the stack of layers, untrained, for AHCD's 32x32 letters
// scaled to [0, 1], the biases of the first biased ones 0.05, 0.10, ...
// (biases of their own, all different).
func ahcdStack(t testing.TB, biased int, layers ...nn.Layer) *model.Sequential {
	t.Helper()
	m := model.New(layers...)
	if err := m.Build([]int{32, 32, 1}, 1); err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Layers[:biased] {
		b := param(l, "bias").Value.Data
		for i := range b {
			b[i] = 0.05 * float32(i+1)
		}
	}
	m.ClassNames = data.AHCDClassNames()
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	return m
}

func ahcdGraph(t testing.TB, in, x *model.Node) *model.Sequential {
	t.Helper()
	m, err := model.NewGraph(in, model.Call(&nn.Dense{Units: 28, Activation: "softmax"}, x))
	if err == nil {
		err = m.Build(nil, 1)
	}
	if err != nil {
		t.Fatal(err)
	}
	m.ClassNames = data.AHCDClassNames()
	return m
}
