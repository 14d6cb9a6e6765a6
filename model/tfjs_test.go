package model

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// The leaky_relu activation, which TensorFlow.js has not, goes as a linear
// activation and a LeakyReLU layer of slope 0.2 after its layer, read by
// the layers that read it and, for the last, as the model's output.
func TestTFJSLeakyReLU(t *testing.T) {
	in := Input(6, 6, 1)
	a := Call(&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "leaky_relu"}, in)
	x := Call(&nn.Add{}, a, Call(&nn.Conv2D{Filters: 2, KernelSize: [2]int{1, 1}}, a))
	m, err := NewGraph(in, Call(&nn.Dense{Units: 3, Activation: "leaky_relu"}, Call(&nn.Flatten{}, x)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	files, err := ExportTFJS(m, TFJSExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ModelTopology struct {
			ModelConfig struct {
				Config struct {
					Layers       []kerasLayerJSON `json:"layers"`
					OutputLayers [][]any          `json:"output_layers"`
				} `json:"config"`
			} `json:"model_config"`
		} `json:"modelTopology"`
	}
	if err := json.Unmarshal(files[0].Data, &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.ModelTopology.ModelConfig.Config
	var got []string
	for _, l := range c.Layers {
		s := fmt.Sprintf("%s %v", l.Config["name"], l.Config["activation"])
		if l.ClassName == "LeakyReLU" {
			s = fmt.Sprintf("%s LeakyReLU %v", l.Config["name"], l.Config["alpha"])
		}
		for _, node := range l.InboundNodes {
			for _, ref := range node {
				s += fmt.Sprintf(" <%v", ref[0])
			}
		}
		got = append(got, s)
	}
	want := []string{"input_1 <nil>", "conv2d linear <input_1", "conv2d_leaky_relu LeakyReLU 0.2 <conv2d", "conv2d_1 linear <conv2d_leaky_relu",
		"add <nil> <conv2d_leaky_relu <conv2d_1", "flatten <nil> <add", "dense linear <flatten", "dense_leaky_relu LeakyReLU 0.2 <dense"}
	if fmt.Sprint(got) != fmt.Sprint(want) || c.OutputLayers[0][0] != "dense_leaky_relu" {
		t.Errorf("layers\n%q\nwant\n%q\noutput %v, want dense_leaky_relu", got, want, c.OutputLayers)
	}
}
