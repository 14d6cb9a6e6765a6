// Quickstart builds the tutorial's network, trains it for one step on a batch
// and saves it: the ten lines the README shows.
package main

import (
	"fmt"
	"log"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

func main() {
	m := model.New(
		&nn.Conv2D{Filters: 32, KernelSize: [2]int{5, 5}, Padding: "same", Activation: "relu"},
		&nn.MaxPool2D{},
		&nn.Flatten{},
		&nn.Dense{Units: 28, Activation: "softmax"},
	)
	if err := m.Build([]int{32, 32, 1}, 42); err != nil { // input shape, seed
		log.Fatal(err)
	}
	m.Compile(&optim.RMSprop{}, nn.CrossEntropy{Sparse: true}) // Keras 2's RMSprop
	x, y := tensor.New(8, 32, 32, 1), tensor.New(8)            // 8 images and their classes
	loss, _ := m.TrainStep(x, y)
	if err := model.Save("quickstart.safetensors", m, model.SaveOptions{Overwrite: true}); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("loss %.4f, saved quickstart.safetensors\n", loss)
}
