package web

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/convnet-go/convnet/tensor"
)

// tinyNet is a small real CNN written out by hand for the tests:
// Conv2D(4, 3x3, same, relu) → MaxPooling2D(2) → Flatten → Dense(classes, softmax).
type tinyNet struct {
	h, w, c, f, classes int
	kernel, bias        *tensor.Tensor // [3,3,c,f], [f]
	dense, dbias        *tensor.Tensor // [h/2*w/2*f, classes], [classes]
	meta                map[string]string
	outs                []*tensor.Tensor
}

func newTinyNet(h, w, c, classes int, seed uint64) *tinyNet {
	rng := rand.New(rand.NewPCG(seed, 1))
	f := 4
	n := &tinyNet{h: h, w: w, c: c, f: f, classes: classes,
		kernel: tensor.New(3, 3, c, f), bias: tensor.New(f),
		dense: tensor.New(h/2*w/2*f, classes), dbias: tensor.New(classes),
		meta: map[string]string{},
	}
	for _, t := range []*tensor.Tensor{n.kernel, n.bias, n.dense, n.dbias} {
		for i := range t.Data {
			t.Data[i] = float32(rng.NormFloat64() * 0.3)
		}
	}
	return n
}

func (n *tinyNet) InputShape() []int { return []int{n.h, n.w, n.c} }
func (n *tinyNet) ClassNames() []string {
	names := make([]string, n.classes)
	for i := range names {
		names[i] = fmt.Sprintf("class%d", i)
	}
	if n.classes >= 2 {
		names[0], names[1] = "alef ا", "beh ب"
	}
	return names
}
func (n *tinyNet) Summary() string {
	var b strings.Builder
	for _, l := range n.Layers() {
		fmt.Fprintf(&b, "%-12s %-14s %v\n", l.Name, l.Type, l.OutputShape)
	}
	return b.String()
}
func (n *tinyNet) Layers() []LayerInfo {
	h2, w2 := n.h/2, n.w/2
	return []LayerInfo{
		{Name: "conv2d", Type: "Conv2D", OutputShape: []int{n.h, n.w, n.f},
			Config: map[string]any{"filters": n.f, "kernel_size": []int{3, 3}, "strides": []int{1, 1}, "padding": "same", "activation": "relu"},
			Params: []Param{{Name: "kernel", Value: n.kernel}, {Name: "bias", Value: n.bias}}},
		{Name: "max_pooling2d", Type: "MaxPooling2D", OutputShape: []int{h2, w2, n.f},
			Config: map[string]any{"pool_size": []int{2, 2}, "strides": []int{2, 2}, "padding": "valid"}},
		{Name: "flatten", Type: "Flatten", OutputShape: []int{h2 * w2 * n.f}, Config: map[string]any{}},
		{Name: "dense", Type: "Dense", OutputShape: []int{n.classes},
			Config: map[string]any{"units": n.classes, "activation": "softmax"},
			Params: []Param{{Name: "kernel", Value: n.dense}, {Name: "bias", Value: n.dbias}}},
	}
}
func (n *tinyNet) Meta(key string) string { return n.meta[key] }
func (n *tinyNet) Preprocess(dst, src []float32) {
	for i, v := range src {
		dst[i] = v / 255
	}
}

func (n *tinyNet) Forward(x *tensor.Tensor) []*tensor.Tensor {
	b := x.Shape[0]
	h, w, c, f := n.h, n.w, n.c, n.f
	conv := tensor.New(b, h, w, f)
	for s := range b {
		for y := range h {
			for xx := range w {
				for o := range f {
					z := n.bias.Data[o]
					for dy := -1; dy <= 1; dy++ {
						for dx := -1; dx <= 1; dx++ {
							yy, xq := y+dy, xx+dx
							if yy < 0 || yy >= h || xq < 0 || xq >= w {
								continue
							}
							for i := range c {
								z += x.Data[((s*h+yy)*w+xq)*c+i] * n.kernel.Data[(((dy+1)*3+dx+1)*c+i)*f+o]
							}
						}
					}
					conv.Data[((s*h+y)*w+xx)*f+o] = max(z, 0)
				}
			}
		}
	}
	h2, w2 := h/2, w/2
	pool := tensor.New(b, h2, w2, f)
	for s := range b {
		for y := range h2 {
			for xx := range w2 {
				for o := range f {
					m := float32(math.Inf(-1))
					for dy := range 2 {
						for dx := range 2 {
							m = max(m, conv.Data[((s*h+2*y+dy)*w+2*xx+dx)*f+o])
						}
					}
					pool.Data[((s*h2+y)*w2+xx)*f+o] = m
				}
			}
		}
	}
	flat := pool.Reshape(b, h2*w2*f)
	out := tensor.New(b, n.classes)
	for s := range b {
		row := out.Data[s*n.classes : (s+1)*n.classes]
		for k := range row {
			z := n.dbias.Data[k]
			for i, v := range flat.Data[s*h2*w2*f : (s+1)*h2*w2*f] {
				z += v * n.dense.Data[i*n.classes+k]
			}
			row[k] = z
		}
		softmax(row)
	}
	n.outs = []*tensor.Tensor{conv, pool, flat, out}
	return n.outs
}

func softmax(v []float32) {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	var sum float32
	for i, x := range v {
		v[i] = float32(math.Exp(float64(x - m)))
		sum += v[i]
	}
	for i := range v {
		v[i] /= sum
	}
}

func (n *tinyNet) Probabilities(dst, out *tensor.Tensor) { copy(dst.Data, out.Data) }

// Saliency uses central finite differences of the class probability.
func (n *tinyNet) Saliency(x *tensor.Tensor, class int) *tensor.Tensor {
	g := tensor.New(x.Shape...)
	xx := x.Clone()
	const eps = 1e-2
	for i := range xx.Data {
		v := xx.Data[i]
		xx.Data[i] = v + eps
		p := n.Forward(xx)[3].Data[class]
		xx.Data[i] = v - eps
		q := n.Forward(xx)[3].Data[class]
		xx.Data[i] = v
		g.Data[i] = (p - q) / (2 * eps)
	}
	return g
}

func (n *tinyNet) Clone() Network {
	c := *n
	c.outs = nil
	return &c
}
