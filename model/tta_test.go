package model

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data/augment"
	"github.com/convnet-go/convnet/nn"
)

// TestClassifyPixelsTTA checks test-time augmentation against the same
// sum made by hand: each image's copies drawn from (Seed, index) and
// classified one by one; the same results whatever the batch size, and
// for a tail of the images given with First; Beta 1 is the image alone.
func TestClassifyPixelsTTA(t *testing.T) {
	m := New(
		&nn.Conv2D{Filters: 3, KernelSize: pair(3), Padding: "same", Activation: "relu"},
		&nn.Flatten{},
		&nn.Dense{Units: 4, Activation: "softmax"},
	)
	if err := m.Build([]int{6, 5, 1}, 3); err != nil {
		t.Fatal(err)
	}
	px := make([][]float32, 7)
	for i := range px {
		px[i] = make([]float32, 30)
		for j := range px[i] {
			px[i][j] = float32((i*31+j*17)%256) / 8
		}
	}
	tta := TTA{Augment: augment.Config{RotationRange: 20, WidthShiftRange: 0.2, ZoomRange: augment.ZoomRangeOf(0.2)}, Copies: 3, Beta: 0.25, Seed: 5}
	ctx := context.Background()
	var results [][]Result
	for _, batch := range []int{4, 64} {
		c, err := NewClassifier(m, ClassifierOptions{BatchSize: batch})
		if err != nil {
			t.Fatal(err)
		}
		rs, err := c.ClassifyPixelsTTA(ctx, px, 2, tta)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, rs)
		tail := tta
		tail.First = 3
		rest, err := c.ClassifyPixelsTTA(ctx, px[3:], 2, tail)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rest {
			if !slices.Equal(r.Probabilities, rs[3+i].Probabilities) {
				t.Errorf("batch %d: image %d given with First 3: %v, want %v", batch, 3+i, r.Probabilities, rs[3+i].Probabilities)
			}
		}
	}
	c, err := NewClassifier(m, ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for i, p := range px {
		rng := rand.New(rand.NewPCG(5, uint64(i)))
		in := [][]float32{p}
		for range 3 {
			cp := make([]float32, len(p))
			tta.Augment.Apply(cp, p, 6, 5, 1, rng)
			in = append(in, cp)
		}
		rs, err := c.ClassifyPixels(ctx, in, 1)
		if err != nil {
			t.Fatal(err)
		}
		for k := range 4 {
			want := 0.25*float64(rs[0].Probabilities[k]) + 0.75*(float64(rs[1].Probabilities[k])+float64(rs[2].Probabilities[k])+float64(rs[3].Probabilities[k]))/3
			for b, got := range results {
				if d := float64(got[i].Probabilities[k]) - want; d > 1e-6 || d < -1e-6 {
					t.Errorf("image %d, class %d, batch size %d: %v, want %v", i, k, []int{4, 64}[b], got[i].Probabilities[k], want)
				}
			}
			if d := rs[1].Probabilities[k] - rs[0].Probabilities[k]; d > 1e-3 || d < -1e-3 {
				changed++
			}
		}
		if len(results[0][i].Top) != 2 || results[0][i].Top[0].Probability < results[0][i].Top[1].Probability {
			t.Errorf("image %d: top %+v, want the 2 most probable classes", i, results[0][i].Top)
		}
	}
	if changed == 0 {
		t.Error("no copy changed a probability: a test that shows nothing")
	}
	own := tta
	own.Beta = 1
	rs, err := c.ClassifyPixelsTTA(ctx, px, 1, own)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := c.ClassifyPixels(ctx, px, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		if !slices.Equal(rs[i].Probabilities, plain[i].Probabilities) {
			t.Errorf("beta 1, image %d: %v, want the image's own %v", i, rs[i].Probabilities, plain[i].Probabilities)
		}
	}
	for _, c2 := range []struct {
		tta  TTA
		want string
	}{
		{TTA{Augment: tta.Augment}, "0 copies, want at least 1"},
		{TTA{Augment: tta.Augment, Copies: 2, Beta: 1.5}, "beta 1.5, want 0 to 1"},
		{TTA{Copies: 2}, "the augmentation changes nothing"},
	} {
		if _, err := c.ClassifyPixelsTTA(ctx, px, 1, c2.tta); err == nil || !strings.Contains(err.Error(), c2.want) {
			t.Errorf("%+v: %v, want %q", c2.tta, err, c2.want)
		}
	}
}
