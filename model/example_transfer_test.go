package model_test

import (
	"fmt"
	"log"
	"slices"

	"github.com/convnet-go/convnet/model/pretrained"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// Start from the built-in AHCD model for a task of 10 classes, as a Keras
// user puts a new top on a base model: a new head, the convolutional base
// frozen. A training step leaves the base as it was.
func ExampleModel_NewHead() {
	m, err := pretrained.Load("ahcd")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := m.NewHead(10, 1); err != nil {
		log.Fatal(err)
	}
	flatten := slices.IndexFunc(m.Layers, func(l nn.Layer) bool { return l.Name() == "flatten" })
	if err := m.SetTrainable(false, m.Layers[:flatten+1]...); err != nil {
		log.Fatal(err)
	}
	if err := m.Compile(&optim.Adam{}, nn.CrossEntropy{Sparse: true}); err != nil {
		log.Fatal(err)
	}
	trainable, frozen := m.ParamCount()
	fmt.Println("outputs:", m.OutputShape(), "trainable:", trainable, "not:", frozen)

	kernel := m.Layer("conv2d").Params()[0].Value
	before := kernel.Clone()
	x, y := tensor.New(4, 32, 32, 1), tensor.New(4) // 4 images and their classes
	m.TrainStep(x, y)
	fmt.Println("first convolution unchanged:", slices.Equal(kernel.Data, before.Data))
	// Output:
	// outputs: [10] trainable: 527370 not: 288288
	// first convolution unchanged: true
}
