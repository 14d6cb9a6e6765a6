//go:build ignore

// make.go writes tiny.safetensors, a model file of format version 1, and
// tiny.json, the probabilities it predicts for a fixed batch. The files in
// this folder were written by convnet at commit 39ea831 (format version 1):
//
//	git archive 39ea831 | tar -x -C /tmp/v1 && cp make.go /tmp/v1/model/testdata/v1/
//	(cd /tmp/v1 && go run ./model/testdata/v1/make.go) && cp /tmp/v1/tiny.* .
package main

import (
	"encoding/json"
	"log"
	"os"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

func main() {
	m := model.New(
		&nn.Conv2D{Filters: 3, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu", KernelInit: "he_uniform"},
		&nn.BatchNormalization{},
		&nn.MaxPool2D{},
		&nn.Dropout{Rate: 0.25},
		&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, NoBias: true},
		&nn.ReLU{},
		&nn.GlobalAveragePooling2D{},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{6, 6, 1}, 7); err != nil {
		log.Fatal(err)
	}
	m.ClassNames = []string{"a", "b", "c"}
	m.Meta = map[string]string{"note": "written by format version 1"}
	m.Standardizer = &data.Standardizer{Rescale: 0.5}
	if err := m.Compile(&optim.Adam{LearningRate: 0.01}, nn.CrossEntropy{Sparse: true}); err != nil {
		log.Fatal(err)
	}
	x := tensor.New(4, 6, 6, 1)
	for i := range x.Data {
		x.Data[i] = float32(i%11)/5 - 1
	}
	y := tensor.FromData([]float32{0, 1, 2, 1}, 4)
	for range 3 {
		m.TrainStep(x, y)
	}
	if err := model.Save("tiny.safetensors", m, model.SaveOptions{IncludeOptimizer: true, Overwrite: true}); err != nil {
		log.Fatal(err)
	}
	p := tensor.New(4, 3)
	m.Predict(p, x)
	loss, _ := m.TrainStep(x, y) // the next step, as a resumed run must take it
	b, err := json.Marshal(map[string]any{"x": x.Data, "y": y.Data, "predictions": p.Data, "next_loss": loss})
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("tiny.json", b, 0o644); err != nil {
		log.Fatal(err)
	}
}
