package model_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// Build the tutorial's network, train one step on a random batch and save it.
func Example() {
	m := model.New(
		&nn.Conv2D{Filters: 32, KernelSize: [2]int{5, 5}, Padding: "same", Activation: "relu"},
		&nn.Conv2D{Filters: 32, KernelSize: [2]int{5, 5}, Padding: "same", Activation: "relu"},
		&nn.MaxPool2D{PoolSize: [2]int{2, 2}},
		&nn.Dropout{Rate: 0.25},
		&nn.Conv2D{Filters: 64, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"},
		&nn.Conv2D{Filters: 64, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"},
		&nn.MaxPool2D{PoolSize: [2]int{2, 2}, Strides: [2]int{2, 2}},
		&nn.Dropout{Rate: 0.25},
		&nn.Flatten{},
		&nn.Dense{Units: 256, Activation: "relu"},
		&nn.Dense{Units: 256, Activation: "relu"},
		&nn.Dropout{Rate: 0.5},
		&nn.Dense{Units: 28, Activation: "softmax"},
	)
	if err := m.Build([]int{32, 32, 1}, 42); err != nil {
		log.Fatal(err)
	}
	m.Compile(&optim.RMSprop{}, nn.CrossEntropy{Sparse: true})

	// A batch of 8 random images with random labels.
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := tensor.New(8, 32, 32, 1), tensor.New(8)
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	for i := range y.Data {
		y.Data[i] = float32(rng.IntN(28))
	}
	m.TrainStep(x, y)

	dir, _ := os.MkdirTemp("", "convnet")
	defer os.RemoveAll(dir)
	if err := model.Save(filepath.Join(dir, "tutorial.safetensors"), m, model.SaveOptions{}); err != nil {
		log.Fatal(err)
	}
	trainable, _ := m.ParamCount()
	fmt.Println("saved", trainable, "weights")
	// Output: saved 1203708 weights
}

// Print the Keras-style summary of a built-in architecture.
func ExamplePreset() {
	m, err := model.Preset("elsawy2017")
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		log.Fatal(err)
	}
	m.Summary(os.Stdout)
	// Output:
	// Model: "sequential"
	// _________________________________________________________________
	// Layer (type)                 Output Shape              Param #
	// =================================================================
	// conv2d (Conv2D)              (None, 28, 28, 32)        832
	// _________________________________________________________________
	// max_pooling2d (MaxPooling2D) (None, 14, 14, 32)        0
	// _________________________________________________________________
	// conv2d_1 (Conv2D)            (None, 10, 10, 64)        51,264
	// _________________________________________________________________
	// max_pooling2d_1 (MaxPooling2 (None, 5, 5, 64)          0
	// _________________________________________________________________
	// flatten (Flatten)            (None, 1600)              0
	// _________________________________________________________________
	// dense (Dense)                (None, 1024)              1,639,424
	// _________________________________________________________________
	// dense_1 (Dense)              (None, 28)                28,700
	// =================================================================
	// Total params: 1,720,220
	// Trainable params: 1,720,220
	// Non-trainable params: 0
	// _________________________________________________________________
}

// Make a graph with a skip connection, as with Keras's Functional API, and
// print its summary.
func ExampleNewGraph() {
	in := model.Input(8, 8, 1)
	x := model.Call(&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"}, in)
	y := model.Call(&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Padding: "same"}, x)
	x = model.Call(&nn.ReLU{}, model.Call(&nn.Add{}, y, x))
	out := model.Call(&nn.Dense{Units: 3, Activation: "softmax"}, model.Call(&nn.GlobalAveragePooling2D{}, x))
	m, err := model.NewGraph(in, out)
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		log.Fatal(err)
	}
	m.Summary(os.Stdout)
	// Output:
	// Model: "model"
	// __________________________________________________________________________________________________
	// Layer (type)                    Output Shape         Param #     Connected to
	// ==================================================================================================
	// input_1 (InputLayer)            [(None, 8, 8, 1)]    0
	// __________________________________________________________________________________________________
	// conv2d (Conv2D)                 (None, 8, 8, 4)      40          input_1[0][0]
	// __________________________________________________________________________________________________
	// conv2d_1 (Conv2D)               (None, 8, 8, 4)      148         conv2d[0][0]
	// __________________________________________________________________________________________________
	// add (Add)                       (None, 8, 8, 4)      0           conv2d_1[0][0]
	//                                                                  conv2d[0][0]
	// __________________________________________________________________________________________________
	// re_lu (ReLU)                    (None, 8, 8, 4)      0           add[0][0]
	// __________________________________________________________________________________________________
	// global_average_pooling2d (Globa (None, 4)            0           re_lu[0][0]
	// __________________________________________________________________________________________________
	// dense (Dense)                   (None, 3)            15          global_average_pooling2d[0][0]
	// ==================================================================================================
	// Total params: 203
	// Trainable params: 203
	// Non-trainable params: 0
	// __________________________________________________________________________________________________
}

// Where a built-in model looks: the class activation map of its top class
// for a drawn vertical stroke, over the maps of its last convolution's
// block.
func ExampleClassifier_CAM() {
	m, err := pretrained.Load("ahcd")
	if err != nil {
		log.Fatal(err)
	}
	c, err := model.NewClassifier(m, model.ClassifierOptions{})
	if err != nil {
		log.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, 32, 32))
	for y := 6; y < 26; y++ {
		img.SetGray(15, y, color.Gray{255})
		img.SetGray(16, y, color.Gray{255})
	}
	px, _ := c.Pixels(img)
	cam, err := c.CAM(context.Background(), px, "hirescam", -1, -1)
	if err != nil {
		log.Fatal(err)
	}
	hot := 0
	for i, v := range cam.Map.Data {
		if v > cam.Map.Data[hot] {
			hot = i
		}
	}
	w := cam.Map.Shape[1]
	fmt.Printf("%s: %v map of %s, hottest cell row %d, column %d\n", c.ClassNames()[cam.Class], cam.Map.Shape, m.Layers[cam.Layer].Name(), hot/w, hot%w)
	// Output: alef ا: [8 8] map of re_lu_5, hottest cell row 7, column 4
}

// Bring in a model Keras saved (model.save("m.keras") of Keras 3, or
// model.save("m.h5") of Keras 2) and classify an image with it.
func ExampleImportKeras() {
	f, err := os.Open("testdata/keras/tiny_keras2.h5") // a 4x4 image, 3 classes
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		log.Fatal(err)
	}
	m, err := model.ImportKeras(f, st.Size(), model.KerasImportOptions{ClassNames: []string{"a", "b", "c"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Meta["source"], m.InputShape(), m.ClassNames)
	x := tensor.New(1, 4, 4, 1)
	for i := range x.Data {
		x.Data[i] = float32(i) / 16
	}
	p := tensor.New(1, 3)
	m.Predict(p, x)
	fmt.Printf("%.4f\n", p.Data)
	// Output:
	// Keras 2.15.0 (HDF5 file) [4 4 1] [a b c]
	// [0.7141 0.0602 0.2257]
}
