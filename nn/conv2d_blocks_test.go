package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// naiveConv computes Conv2D's forward pass (no activation) and, given
// dL/dz, the gradients, by the definition, in float64.
func naiveConv(x, w, b, dz []float32, n, h, wd, c, f, kh, kw, sh, sw, pt, pl, oh, ow int) (z, dx, dw, db []float64) {
	z = make([]float64, n*oh*ow*f)
	dx = make([]float64, len(x))
	dw = make([]float64, len(w))
	db = make([]float64, f)
	for i := range n {
		for oy := range oh {
			for ox := range ow {
				for fi := range f {
					o := ((i*oh+oy)*ow+ox)*f + fi
					sum := float64(b[fi])
					db[fi] += float64(dz[o])
					for ky := range kh {
						for kx := range kw {
							iy, ix := oy*sh-pt+ky, ox*sw-pl+kx
							if iy < 0 || iy >= h || ix < 0 || ix >= wd {
								continue
							}
							for ci := range c {
								xi := ((i*h+iy)*wd+ix)*c + ci
								wi := ((ky*kw+kx)*c+ci)*f + fi
								sum += float64(x[xi]) * float64(w[wi])
								dx[xi] += float64(dz[o]) * float64(w[wi])
								dw[wi] += float64(dz[o]) * float64(x[xi])
							}
						}
					}
					z[o] = sum
				}
			}
		}
	}
	return z, dx, dw, db
}

// directSums plans the test's convolutions as direct sums whatever the
// mode of Winograd's transforms (by default the gradients run by them; see
// kernels.SetWinograd): the test holds them to the direct sums' rounding
// (internal/kernels holds Winograd's transforms to theirs: over a kernel
// gradient's thousands of terms that mostly cancel, up to a few
// thousandths of a small sum).
func directSums(t *testing.T) {
	on := kernels.Winograd()
	t.Cleanup(func() { kernels.SetWinograd(on) })
	kernels.SetWinograd(kernels.WinogradOff)
}

// The layer over convolutions large enough for several blocks, by rows and
// from im2col blocks, strided or with the input gradient as a convolution
// (internal/kernels tests every strategy; this checks the layer's bias and
// activation hooks on each).
func TestConv2DBlocksMatchNaive(t *testing.T) {
	directSums(t)
	tests := []struct {
		h, c, f, k, s int
		pad           string
		kw, sw        int // 0: k, s (a square kernel, equal strides)
		act           string
	}{
		{24, 8, 5, 5, 1, "same", 0, 0, "relu"},
		{25, 8, 3, 3, 2, "same", 0, 0, "tanh"},
		{36, 16, 16, 5, 1, "valid", 0, 0, "relu"},
		{19, 32, 16, 5, 1, "same", 3, 2, ""}, // 5×3 kernel, strides 1×2, by rows
	}
	for _, tt := range tests {
		kw, sw := tt.k, tt.s
		if tt.kw != 0 {
			kw, sw = tt.kw, tt.sw
		}
		name := fmt.Sprintf("%dx%dx%d-%d-%dx%d-s%dx%d-%s-%s", tt.h, tt.h, tt.c, tt.f, tt.k, kw, tt.s, sw, tt.pad, tt.act)
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tt.h), 3))
			l := &nn.Conv2D{Filters: tt.f, KernelSize: [2]int{tt.k, kw}, Strides: [2]int{tt.s, sw}, Padding: tt.pad, Activation: tt.act}
			out, err := l.Build([]int{tt.h, tt.h, tt.c}, rng)
			if err != nil {
				t.Fatal(err)
			}
			bias := l.Params()[1].Value.Data
			for i := range bias {
				bias[i] = float32(rng.NormFloat64())
			}
			const n = 2
			x := tensor.New(n, tt.h, tt.h, tt.c)
			for i := range x.Data {
				x.Data[i] = float32(rng.NormFloat64())
			}
			y := l.Forward(x, true)
			dy := y.Clone()
			for i := range dy.Data {
				dy.Data[i] = float32(rng.NormFloat64())
			}
			dx := l.Backward(dy)
			oh, ow := out[0], out[1]
			pt, pl := 0, 0
			if tt.pad == "same" {
				pt = max((oh-1)*tt.s+tt.k-tt.h, 0) / 2
				pl = max((ow-1)*sw+kw-tt.h, 0) / 2
			}
			naive := func(dz []float32) (z, dx, dw, db []float64) {
				return naiveConv(x.Data, l.Params()[0].Value.Data, bias, dz, n, tt.h, tt.h, tt.c, tt.f, tt.k, kw, tt.s, sw, pt, pl, oh, ow)
			}
			z, _, _, _ := naive(dy.Data)
			// The activation and its derivative, from z.
			dz := make([]float32, len(z))
			for i, v := range z {
				switch tt.act {
				case "relu":
					if v > 0 {
						dz[i] = dy.Data[i]
					}
					z[i] = math.Max(v, 0)
				case "tanh":
					z[i] = math.Tanh(v)
					dz[i] = float32(float64(dy.Data[i]) * (1 - z[i]*z[i]))
				default:
					dz[i] = dy.Data[i]
				}
			}
			_, wantDx, wantDw, wantDb := naive(dz)
			check := func(what string, got []float32, want []float64) {
				t.Helper()
				for i := range want {
					if math.Abs(float64(got[i])-want[i]) > 1e-4*(1+math.Abs(want[i])) {
						t.Errorf("Conv2D %s %s[%d] = %v, want %v", name, what, i, got[i], want[i])
						return
					}
				}
			}
			check("y", y.Data, z)
			check("dx", dx.Data, wantDx)
			check("kernel grad", l.Params()[0].Grad.Data, wantDw)
			check("bias grad", l.Params()[1].Grad.Data, wantDb)
		})
	}
}

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
			near(fmt.Sprintf("y[%d,%d,%d]", oy, ox, fi), y.Data[(oy*h+ox)*f+fi], want)
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
		near(fmt.Sprintf("dx[%d,%d]", oy, ox), dx.Data[oy*h+ox], want)
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
		near(fmt.Sprintf("kernel grad[%d,%d,0,%d]", ky, kx, fi), dw[(ky*k+kx)*f+fi], want)
	}
}
