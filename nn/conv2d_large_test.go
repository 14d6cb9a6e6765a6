package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// A convolution whose im2col matrix would hold more values than any one
// tensor may (1024·1024 rows of 17·17: 303 M > 2^28) builds and runs: no
// such matrix is ever made. Sampled outputs and gradients are checked by
// the definition.
func TestConv2DLargerThanIm2col(t *testing.T) {
	const h, k, f = 1024, 17, 2
	l := &nn.Conv2D{Filters: f, KernelSize: [2]int{k, k}, Padding: "same"}
	rng := rand.New(rand.NewPCG(5, 17))
	if _, err := l.Build([]int{h, h, 1}, rng); err != nil {
		t.Fatal(err)
	}
	w, b := l.Params()[0].Value.Data, l.Params()[1].Value.Data
	b[0], b[1] = 0.5, -0.25
	x := tensor.New(1, h, h, 1)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	at := func(iy, ix int) float64 {
		if iy < 0 || iy >= h || ix < 0 || ix >= h {
			return 0
		}
		return float64(x.Data[iy*h+ix])
	}
	pred := l.Predict(x).Clone()
	y := l.Forward(x, true)
	for i := range y.Data {
		if pred.Data[i] != y.Data[i] {
			t.Fatalf("Predict[%d] = %v, Forward: %v", i, pred.Data[i], y.Data[i])
		}
	}
	dy := tensor.New(y.Shape...)
	for i := range dy.Data {
		dy.Data[i] = float32(rng.NormFloat64())
	}
	dx := l.Backward(dy)
	near := func(what string, got float32, want float64) {
		t.Helper()
		if math.Abs(float64(got)-want) > 1e-3*(1+math.Abs(want)) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	const p = k / 2
	for _, c := range [][2]int{{0, 0}, {0, h - 1}, {h - 1, 0}, {h - 1, h - 1}, {511, 512}, {3, 900}, {1000, 17}} {
		oy, ox := c[0], c[1]
		for fi := range f {
			want := float64(b[fi])
			for ky := range k {
				for kx := range k {
					want += at(oy-p+ky, ox-p+kx) * float64(w[(ky*k+kx)*f+fi])
				}
			}
			near("y"+fmtCell(oy, ox, fi), y.Data[(oy*h+ox)*f+fi], want)
		}
		// dx at (oy, ox): the output cells whose window covers it.
		want := 0.0
		for ky := range k {
			for kx := range k {
				zy, zx := oy+p-ky, ox+p-kx
				if zy < 0 || zy >= h || zx < 0 || zx >= h {
					continue
				}
				for fi := range f {
					want += float64(dy.Data[(zy*h+zx)*f+fi]) * float64(w[(ky*k+kx)*f+fi])
				}
			}
		}
		near("dx"+fmtCell(oy, ox, 0), dx.Data[oy*h+ox], want)
	}
	dw := l.Params()[0].Grad.Data
	for _, c := range [][3]int{{0, 0, 0}, {8, 8, 1}, {16, 3, 0}} {
		ky, kx, fi := c[0], c[1], c[2]
		want := 0.0
		for oy := range h {
			for ox := range h {
				want += float64(dy.Data[(oy*h+ox)*f+fi]) * at(oy-p+ky, ox-p+kx)
			}
		}
		near("kernel grad"+fmtCell(ky, kx, fi), dw[(ky*k+kx)*f+fi], want)
	}
}

func fmtCell(a, b, c int) string { return fmt.Sprintf("[%d,%d,%d]", a, b, c) }
