package augment_test

import (
	"fmt"

	"github.com/convnet-go/convnet/data/augment"
)

func ExampleConfig_Transform() {
	// A 3x3 image, rotated by 90 degrees (counter-clockwise), then shifted
	// one column with the constant fill mode.
	src := []float32{
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
	}
	dst := make([]float32, 9)
	c := augment.Config{FillMode: "constant", Cval: 0}
	c.Transform(dst, src, 3, 3, 1, augment.Params{Theta: 90})
	fmt.Printf("%.0f\n", dst)
	c.Transform(dst, src, 3, 3, 1, augment.Params{Ty: 1})
	fmt.Printf("%.0f\n", dst)
	// Output:
	// [3 6 9 2 5 8 1 4 7]
	// [2 3 0 5 6 0 8 9 0]
}

func ExampleMixing_Apply() {
	// Two 2x2 images of classes 0 and 1 (of 2), mixed as MixUp with λ 0.75:
	// each keeps 3/4 of itself and takes 1/4 of the one before it (the
	// first, of the last).
	x := []float32{
		0, 0, 0, 0,
		8, 8, 8, 8,
	}
	y := []float32{1, 0, 0, 1}
	augment.Mixing{Lambda: 0.75}.Apply(x, y, 2, 2, 2, 1, 2, nil)
	fmt.Println(x, y)
	// CutMix: the box of column 1, rows 0 and 1 comes from the other image,
	// and the targets are mixed by its area, half the image.
	x = []float32{
		0, 0, 0, 0,
		8, 8, 8, 8,
	}
	y = []float32{1, 0, 0, 1}
	augment.Mixing{CutMix: true, X1: 1, Y1: 0, X2: 2, Y2: 2, Lambda: 0.5}.Apply(x, y, 2, 2, 2, 1, 2, nil)
	fmt.Println(x, y)
	// Output:
	// [2 2 2 2 6 6 6 6] [0.75 0.25 0.25 0.75]
	// [0 8 0 8 8 0 8 0] [0.5 0.5 0.5 0.5]
}
