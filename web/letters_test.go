package web

import (
	"bytes"
	"image"
	"image/color"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// The letters model learns to find a vertical bar: class c is a white bar
// two pixels wide at columns c+1 and c+2 of an 8x8 image, on black.

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
func bars(t testing.TB, c, w, h int, ink, paper uint8) []byte {
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
