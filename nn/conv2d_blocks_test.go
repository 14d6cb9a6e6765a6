package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

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

// The layer over convolutions large enough for several blocks, by rows and
// from im2col blocks, strided or with the input gradient as a convolution
// (internal/kernels tests every strategy; this checks the layer's bias and
// activation hooks on each).
func TestConv2DBlocksMatchNaive(t *testing.T) {
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
