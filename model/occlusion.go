package model

import (
	"context"
	"fmt"

	"github.com/convnet-go/convnet/tensor"
)

// OcclusionOptions sets the squares [Classifier.Occlusion] hides.
type OcclusionOptions struct {
	// Window is the side of the square hidden, in pixels; 0 is a quarter
	// of the input's shorter side, rounded (8 for 32x32 images, 7 for
	// 28x28).
	Window int
	// Stride is the step between squares; 0 is a quarter of the window,
	// rounded, at least 1.
	Stride int
}

// Occlusion returns the occlusion sensitivity map of class (the most
// probable class if class is negative) for the raw image px (Zeiler and
// Fergus 2014, https://arxiv.org/abs/1311.2901; Captum's Occlusion): a
// square of the standardised input is set to 0 (the training images' mean,
// when the model centres its input), at every position a stride apart (and
// at the far edges, so that every pixel is hidden at least once), and each
// pixel gets the mean, over the squares that hide it, of the fall in the
// class's probability, the positive part: where hiding the image lowers the
// class's probability most. It runs the model once per square, in batches,
// and stops between two batches when ctx ends. The map is a [CAM] of the
// input: method "occlusion", layer -1.
func (c *Classifier) Occlusion(ctx context.Context, px []float32, class int, opts OcclusionOptions) (*CAM, error) {
	if err := c.checkMap(px, class); err != nil {
		return nil, err
	}
	win, stride, err := c.squareSize(opts)
	if err != nil {
		return nil, err
	}
	var cam *CAM
	var stopped error
	err = c.run(ctx, func(m *Sequential) {
		cam, stopped = c.occlusion(ctx, m, px, class, win, stride)
	})
	if err != nil {
		return nil, err
	}
	if stopped != nil {
		return nil, stopped
	}
	return cam, nil
}

// squareSize returns the window and stride of opts, the defaults filled in.
func (c *Classifier) squareSize(opts OcclusionOptions) (win, stride int, err error) {
	side := min(c.shape[0], c.shape[1])
	win, stride = opts.Window, opts.Stride
	if win == 0 {
		win = max(1, (side+2)/4)
	}
	if stride == 0 {
		stride = max(1, (win+2)/4)
	}
	if win < 1 || win > side || stride < 1 {
		return 0, 0, fmt.Errorf("occlusion: window %d and stride %d: want a window of 1 to %d pixels and a stride of at least 1", win, stride, side)
	}
	return win, stride, nil
}

// occlusion computes [Classifier.Occlusion] on m, for a valid class or -1,
// or returns ctx's error if it ends first.
func (c *Classifier) occlusion(ctx context.Context, m *Sequential, px []float32, class, win, stride int) (*CAM, error) {
	h, w, ch := c.shape[0], c.shape[1], c.shape[2]
	n, size := len(c.classes), h*w*ch
	x := c.input(nil, m, px)
	probs := tensor.New(1, n)
	m.Predict(probs, x)
	if class < 0 {
		class = tensor.ArgMax(probs.Data)
	}
	base := probs.Data[class]
	ys, xs := windowStarts(h, win, stride), windowStarts(w, win, stride)
	type square struct{ y, x int }
	var squares []square
	for _, y := range ys {
		for _, x := range xs {
			squares = append(squares, square{y, x})
		}
	}
	batch := min(len(squares), c.opts.BatchSize)
	in, out := tensor.New(batch, h, w, ch), tensor.New(batch, n)
	sum, count := make([]float64, h*w), make([]int, h*w)
	for lo := 0; lo < len(squares); lo += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		todo := squares[lo:min(lo+batch, len(squares))]
		in.Shape[0], in.Data = len(todo), in.Data[:len(todo)*size]
		out.Shape[0], out.Data = len(todo), out.Data[:len(todo)*n]
		for i, s := range todo {
			img := in.Data[i*size : (i+1)*size]
			copy(img, x.Data)
			for y := s.y; y < s.y+win; y++ {
				clear(img[(y*w+s.x)*ch : (y*w+s.x+win)*ch])
			}
		}
		m.Predict(out, in)
		for i, s := range todo {
			fall := float64(base) - float64(out.Data[i*n+class])
			for y := s.y; y < s.y+win; y++ {
				for x := s.x; x < s.x+win; x++ {
					sum[y*w+x] += fall
					count[y*w+x]++
				}
			}
		}
	}
	cam := &CAM{Method: "occlusion", Class: class, Layer: -1, Map: tensor.New(h, w)}
	for p, s := range sum {
		if v := s / float64(count[p]); v > 0 && v <= 1 { // NaN counts as 0
			cam.Map.Data[p] = float32(v)
		}
	}
	return cam, nil
}

// windowStarts returns where windows of size win start along a side of
// size n, stride apart from 0, and one more at n-win if the last of those
// stops short of the end.
func windowStarts(n, win, stride int) []int {
	var starts []int
	for s := 0; s <= n-win; s += stride { // not s+win <= n: s may pass n by a stride near the largest int
		starts = append(starts, s)
	}
	if last := starts[len(starts)-1]; last+win < n {
		starts = append(starts, n-win)
	}
	return starts
}
