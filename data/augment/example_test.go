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
