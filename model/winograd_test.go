package model

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// TestWinogradGradients takes one training step of the tutorial model on
// 100 real AHCD letters three times, its 5x5 and 3x3 convolutions summed
// directly, by Winograd's transforms (WinogradOn), and with only the
// gradients by them (WinogradGradients), and compares the gradients of
// every weight: the transforms' rounding must stay within 1e-4 of each
// gradient's size with WinogradOn (measured: 1e-6 to 2e-5), within 1e-5
// with WinogradGradients, whose forward pass, and loss, must be the
// direct sums' bits; and it must show, or the transforms did not run.
// The next steps allocate nothing.
//
// Ties are kept away as far as they can be: the biases are not zero, as
// after training's first step, and the pixels carry a little noise. Direct sums
// give equal outputs to equal windows (a zero window and a zero bias: 0,
// which the ReLU stops; a uniform stretch: cells that tie for the
// pooling's maximum, whose gradient goes to the first); the transforms'
// rounding depends on a cell's place in its tile, so such ties break
// either way and the gradients took other, as valid, paths (2–5e-3
// apart at 0 biases, 3e-4 at uniform stretches; the windows the ReLUs
// zero whole still tie at the bias, hence the 2e-5). With the forward pass
// summed directly, every tie breaks as without the transforms.
func TestWinogradGradients(t *testing.T) {
	dir := os.Getenv("CONVNET_DATA")
	if dir == "" {
		t.Skip("CONVNET_DATA is not set: skipping the test on real AHCD images")
	}
	if kernels.Impl() == "generic" {
		t.Skip("the generic path has no Winograd's transforms")
	}
	train, _, err := data.LoadAHCD(context.Background(), filepath.Join(dir, "ahcd", "ahcd_csv.zip"), nil)
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, 100)
	for i := range idx {
		idx[i] = i * 131
	}
	sub := train.Subset(idx)
	std := &data.Standardizer{Rescale: 1.0 / 255, ImageCenter: true}
	std.FitDataset(train)
	raw := sub.Tensor()
	x, y := tensor.New(raw.Shape...), tensor.New(len(idx))
	std.Apply(x, raw)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range x.Data {
		x.Data[i] += 1e-3 * rng.Float32()
	}
	for i, c := range sub.Y {
		y.Data[i] = float32(c)
	}

	on := kernels.Winograd()
	t.Cleanup(func() { kernels.SetWinograd(on) })
	step := func(mode kernels.WinogradMode) (*Model, float64) {
		kernels.SetWinograd(mode)
		m, err := Preset("tutorial")
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Build(nil, 1); err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Params() {
			if p.Name == "bias" {
				for i := range p.Value.Data {
					p.Value.Data[i] = 0.01
				}
			}
		}
		if err := m.Compile(&optim.RMSprop{}, nn.CrossEntropy{Sparse: true}); err != nil {
			t.Fatal(err)
		}
		loss, _ := m.TrainStep(x, y)
		return m, loss
	}
	direct, dl := step(kernels.WinogradOff)
	for _, c := range []struct {
		mode kernels.WinogradMode
		tol  float64 // of each gradient's size
	}{{kernels.WinogradOn, 1e-4}, {kernels.WinogradGradients, 1e-5}} {
		wino, wl := step(c.mode)
		switch d := math.Abs(wl-dl) / dl; {
		case c.mode == kernels.WinogradGradients && wl != dl:
			t.Errorf("%v: loss %.9g, summed directly %.9g: the forward pass did not sum directly", c.mode, wl, dl)
		case !(d <= 1e-6):
			t.Errorf("%v: loss %.9g, summed directly %.9g: %.2g apart", c.mode, wl, dl, d)
		}
		dp, wp := direct.Params(), wino.Params()
		for i, p := range dp {
			var norm, diff float64
			for j, g := range p.Grad.Data {
				d := float64(wp[i].Grad.Data[j]) - float64(g)
				norm += float64(g) * float64(g)
				diff += d * d
			}
			rel := math.Sqrt(diff / norm)
			t.Logf("%v: %s %v: gradients %.2g apart", c.mode, p.Name, p.Value.Shape, rel)
			if !(rel <= c.tol) {
				t.Errorf("%v: %s %v: the gradients by Winograd's transforms are %.2g of their size away from the direct sums', want ≤ %g", c.mode, p.Name, p.Value.Shape, rel, c.tol)
			}
			if i == 2 && rel == 0 { // the second 5x5 convolution's kernel
				t.Errorf("%v: %s %v: the gradients are the same bits both ways: the transforms did not run", c.mode, p.Name, p.Value.Shape)
			}
		}
		if !raceEnabled {
			if allocs := testing.AllocsPerRun(3, func() { wino.TrainStep(x, y) }); allocs != 0 {
				t.Errorf("%v: a training step allocates %v times, want 0", c.mode, allocs)
			}
		}
	}
}
