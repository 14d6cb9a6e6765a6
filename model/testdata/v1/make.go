//go:build ignore

// make.go writes tiny.json: the probabilities that convnet at commit
// 39ea831 (model file format version 1) predicts with the model file
// ../tiny-39ea831.safetensors for a fixed batch, and the loss of the
// training step it takes next. Run it with that commit's code:
//
//	git archive 39ea831 | tar -x -C /tmp/v1
//	mkdir -p /tmp/v1/model/testdata/v1 && cp make.go /tmp/v1/model/testdata/v1/
//	cp ../tiny-39ea831.safetensors /tmp/v1/
//	(cd /tmp/v1 && go run ./model/testdata/v1/make.go) && cp /tmp/v1/tiny.json .
package main

import (
	"encoding/json"
	"log"
	"os"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/tensor"
)

func main() {
	m, err := model.Load("tiny-39ea831.safetensors")
	if err != nil {
		log.Fatal(err)
	}
	x := tensor.New(append([]int{4}, m.InputShape()...)...)
	for i := range x.Data {
		x.Data[i] = float32(i%11)/5 - 1
	}
	y := tensor.FromData([]float32{0, 1, 2, 1}, 4)
	p := tensor.New(4, m.NumClasses())
	m.Predict(p, x)
	loss, _ := m.TrainStep(x, y) // as a resumed run takes it
	b, err := json.Marshal(map[string]any{"x": x.Data, "y": y.Data, "predictions": p.Data, "next_loss": loss})
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("tiny.json", b, 0o644); err != nil {
		log.Fatal(err)
	}
}
