package augment

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/distuv"
)

// Mix mixes the images of a batch two by two, and their one-hot targets
// in the same proportions, as torchvision's MixUp and CutMix
// (transforms.v2) do: each image is paired with the one before it in the
// batch, the first with the last (the batch rolled by one), and one
// proportion λ, drawn from Beta(α, α), serves the whole batch.
//
//	MixUp:  x[i] = λ·x[i] + (1-λ)·x[i-1], the same for the targets
//	CutMix: a box of about (1-λ) of the image, centred on a random pixel
//	        and clipped to the image, comes from x[i-1]; the targets are
//	        mixed with λ = 1 - (the box's area) / (the image's)
//
// With both set, each batch gets one of the two, with equal chances, as
// torchvision's RandomChoice([cutmix, mixup]). The zero value mixes
// nothing. References: Zhang et al., "mixup: Beyond Empirical Risk
// Minimization" (2018); Yun et al., "CutMix" (2019); Keras's MixUp layer
// draws a λ per image and pairs the images by a random permutation instead.
type Mix struct {
	MixUp  float64 // α of MixUp; 0: off
	CutMix float64 // α of CutMix; 0: off
}

// Validate reports an α that is negative or not a finite number.
func (m Mix) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"mixup alpha", m.MixUp}, {"cutmix alpha", m.CutMix}} {
		if !(f.v >= 0) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%s %v, want a finite number > 0 (0: off)", f.name, f.v)
		}
	}
	return nil
}

// Enabled reports whether m mixes images at all.
func (m Mix) Enabled() bool { return m.MixUp > 0 || m.CutMix > 0 }

// Mixing is one batch's draw: MixUp's λ, or CutMix's box and the λ of
// its area. The zero value (Lambda 0 with no box) is not a mix; see
// [Mix.Random].
type Mixing struct {
	CutMix         bool
	Lambda         float64 // the share of each image's own target
	X1, Y1, X2, Y2 int     // CutMix's box: columns [X1, X2), rows [Y1, Y2)
}

// Random draws the mixing of a batch of h x w images: for CutMix, λ from
// Beta(α, α), then the box's centre column and row uniformly, as
// torchvision's CutMix._get_params. It panics if m is not enabled.
func (m Mix) Random(h, w int, rng *rand.Rand) Mixing {
	cut := m.CutMix > 0
	switch {
	case m.MixUp > 0 && cut:
		cut = rng.IntN(2) == 0
	case !cut && m.MixUp <= 0:
		panic("augment: Mix.Random: no mixing enabled")
	}
	alpha := m.MixUp
	if cut {
		alpha = m.CutMix
	}
	lam := distuv.Beta{Alpha: alpha, Beta: alpha, Src: rng}.Rand()
	if math.IsNaN(lam) {
		// For a small α (0.001: one draw in four) both of the Gamma draws
		// whose ratio Beta takes underflow to 0. Beta(α, α) is then all
		// but a coin between 0 and 1, its limit as α goes to 0.
		lam = float64(rng.IntN(2))
	}
	if !cut {
		return Mixing{Lambda: lam}
	}
	cx, cy := rng.IntN(w), rng.IntN(h)
	r := 0.5 * math.Sqrt(1-lam)
	rw, rh := int(r*float64(w)), int(r*float64(h))
	p := Mixing{CutMix: true, X1: max(cx-rw, 0), Y1: max(cy-rh, 0), X2: min(cx+rw, w), Y2: min(cy+rh, h)}
	p.Lambda = 1 - float64((p.X2-p.X1)*(p.Y2-p.Y1))/float64(w*h)
	return p
}

// Apply mixes in place the n images of x (n x h x w x ch, channels last)
// and their targets y (n rows of classes), as torchvision computes them in
// float32: MixUp's pixel is x[i-1]·(1-λ) + x[i]·λ, each product rounded,
// and so is each target. last holds a copy of the last image and target
// while the others change (h·w·ch + classes values; nil allocates). A
// batch of one image is mixed with itself: it stays as it is.
func (p Mixing) Apply(x, y []float32, n, h, w, ch, classes int, last []float32) {
	per := h * w * ch
	if len(x) != n*per || len(y) != n*classes {
		panic(fmt.Sprintf("augment: Mixing.Apply: %d values and %d targets for %d images of %dx%dx%d and %d classes",
			len(x), len(y), n, h, w, ch, classes))
	}
	if n < 2 {
		return
	}
	if len(last) < per+classes {
		last = make([]float32, per+classes)
	}
	lx, ly := last[:per], last[per:per+classes]
	copy(lx, x[(n-1)*per:])
	copy(ly, y[(n-1)*classes:])
	// From the last image down, x[i-1] is still the original when x[i] is
	// mixed; the first is mixed with the copy of the last.
	for i := n - 1; i >= 0; i-- {
		prevX, prevY := lx, ly
		if i > 0 {
			prevX, prevY = x[(i-1)*per:i*per], y[(i-1)*classes:i*classes]
		}
		dst := x[i*per : (i+1)*per]
		if p.CutMix {
			for r := p.Y1; r < p.Y2; r++ {
				o := (r*w + p.X1) * ch
				copy(dst[o:o+(p.X2-p.X1)*ch], prevX[o:])
			}
		} else {
			blend(dst, prevX, p.Lambda)
		}
		blend(y[i*classes:(i+1)*classes], prevY, p.Lambda)
	}
}

// blend sets dst to prev·(1-λ) + dst·λ in float32, each product rounded.
func blend(dst, prev []float32, lam float64) {
	a, b := float32(1-lam), float32(lam)
	for j, v := range dst {
		dst[j] = float32(prev[j]*a) + float32(v*b)
	}
}
