package web

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// The test models are small real CNNs: Conv2D(4, 3x3, same, relu),
// MaxPooling2D, Flatten, Dense(classes, softmax), with the rescaling
// preprocessing. "letters" (8x8x1, 5 classes) is trained in the test to
// find a vertical bar: class c is a white bar two pixels wide at columns
// c+1 and c+2, on black. "digits" (6x6x1, 3 classes) keeps its initial
// weights.

// barImage returns the raw pixels of a letters image of class c.
func barImage(c int, rng *rand.Rand) []float32 {
	px := make([]float32, 64)
	for y := range 8 {
		for x := range 8 {
			v := float32(rng.IntN(40))
			if x == c+1 || x == c+2 {
				v = 215 + float32(rng.IntN(41))
			}
			px[y*8+x] = v
		}
	}
	return px
}

// bars returns a PNG of size w×h holding the letters class c, a bar at
// columns c+1 and c+2 of 8, in the given ink on the given paper.
func bars(t *testing.T, c, w, h int, ink, paper uint8) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := paper
			if col := x * 8 / w; col == c+1 || col == c+2 {
				v = ink
			}
			img.SetGray(x, y, color.Gray{v})
		}
	}
	return encodeAs(t, "png", img)
}

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

// lettersFile is the trained letters model, encoded once for all tests.
var lettersFile = sync.OnceValues(func() ([]byte, error) {
	m, err := newTinyModel(8, 8, 5, 1)
	if err != nil {
		return nil, err
	}
	if err := m.Compile(&optim.Adam{LearningRate: 0.02}, nn.CrossEntropy{Sparse: true}); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const batch = 25
	x, y := tensor.New(batch, 8, 8, 1), tensor.New(batch)
	for range 150 {
		for i := range batch {
			c := rng.IntN(5)
			raw := tensor.FromData(barImage(c, rng), 1, 8, 8, 1)
			m.Standardizer.Apply(raw, raw)
			copy(x.Data[i*64:], raw.Data)
			y.Data[i] = float32(c)
		}
		m.TrainStep(x, y)
	}
	var b bytes.Buffer
	err = model.Encode(&b, m, false)
	return b.Bytes(), err
})

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
