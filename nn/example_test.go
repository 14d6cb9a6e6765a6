package nn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Build a layer, run it forward and backward, and read its config.
func Example() {
	conv := &nn.Conv2D{Filters: 8, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"}
	conv.SetName("conv2d")
	out, err := conv.Build([]int{28, 28, 1}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		panic(err)
	}
	x := tensor.New(4, 28, 28, 1)
	y := conv.Forward(x, true)
	dx := conv.Backward(y) // gradients are added into conv.Params()[i].Grad
	fmt.Println(out, y.Shape, dx.Shape, conv.Config()["kernel_size"])

	_, err = (&nn.Dense{Units: 10}).Build([]int{28, 0, 8}, rand.New(rand.NewPCG(1, 2)))
	fmt.Println(err)
	// Output:
	// [28 28 8] [4 28 28 8] [4 28 28 1] [3 3]
	// Dense: input shape [28 0 8]: want positive sizes
}

// Softmax cross-entropy from logits stays finite for extreme values.
func ExampleCrossEntropy_FromLogits() {
	logits := tensor.FromData([]float32{1e30, -1e30, 0, 0}, 2, 2)
	target := tensor.FromData([]float32{1, 0}, 2) // class indices
	grad := tensor.New(2, 2)
	loss := nn.CrossEntropy{Sparse: true}.FromLogits(grad, logits, target)
	fmt.Printf("%.4g %v\n", loss, grad.Data)
	// Output:
	// 1e+30 [0.5 -0.5 -0.25 0.25]
}
