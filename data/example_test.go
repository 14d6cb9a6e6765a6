package data_test

import (
	"fmt"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/tensor"
)

func ExampleOneHot() {
	y := tensor.New(3, 4)
	data.OneHot(y, []int{2, 0, 3}, 4)
	for i := range 3 {
		fmt.Println(y.Row(i).Data)
	}
	// Output:
	// [0 0 1 0]
	// [1 0 0 0]
	// [0 0 0 1]
}

func ExampleStandardizer() {
	// Two 1x2 grayscale images.
	x := tensor.FromData([]float32{0, 255, 255, 255}, 2, 1, 2, 1)
	s := data.Standardizer{Rescale: 1.0 / 255, ImageCenter: true}
	s.Fit(x) // on the training set only
	fmt.Println("mean image:", s.MeanImage)
	out := tensor.New(x.Shape...)
	s.Apply(out, x)
	fmt.Println("standardised:", out.Data)
	// Output:
	// mean image: [0.5 1]
	// standardised: [-0.5 0 0.5 0]
}

func ExampleSplitBlocks() {
	// 12 rows in blocks of 4 (think: one block per writer); hold out one.
	x := tensor.New(12, 1, 1, 1)
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	d := &data.Dataset{X: x, Y: make([]int, 12), ClassNames: []string{"a"}}
	train, val, err := data.SplitBlocks(d, 4, 1, 1)
	if err != nil {
		panic(err)
	}
	fmt.Println(train.Len(), "training rows; validation rows", val.X.Data)
	// Output:
	// 8 training rows; validation rows [0 1 2 3]
}
