package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
)

// servedTensor is one tensor of an /api/activations answer, asked for as
// float32.
type servedTensor struct {
	Shape    []int
	Encoding string
	Data     string
}

func (s servedTensor) floats(t *testing.T) []float32 {
	t.Helper()
	if s.Encoding != "f32" {
		t.Fatalf("tensor encoded as %q, want f32", s.Encoding)
	}
	b, err := base64.StdEncoding.DecodeString(s.Data)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	if err := binary.Read(bytes.NewReader(b), binary.LittleEndian, v); err != nil {
		t.Fatal(err)
	}
	return v
}

// checkServedArithmetic does what the page's detail view does for output
// channel c of layer 0 (a Conv2D) of the model served at base as name: it
// reads the standardised input and layer 0's output for image, the kernel,
// the bias and the window geometry, computes the output at a few pixels by
// hand, applies the layer's activation through the server, and checks the
// result against the served output.
func checkServedArithmetic(t *testing.T, base, name string, image []float32, c int) {
	t.Helper()
	var models struct {
		Models []struct {
			Name   string
			Layers []struct {
				Type   string
				Config map[string]any
				Window struct{ Size, Strides, Pad []int }
			}
		}
	}
	getJSON(t, base+"/api/models", &models)
	layer := models.Models[0].Layers[0]
	if layer.Type != "Conv2D" || len(layer.Window.Size) != 2 {
		t.Fatalf("layer 0 is %s with window %+v, want a Conv2D", layer.Type, layer.Window)
	}
	var kernel struct {
		Shape  []int
		Values []float32
		Bias   *float32
	}
	getJSON(t, fmt.Sprintf("%s/api/models/%s/layers/0/kernel?channel=%d", base, name, c), &kernel)

	px := make([]string, len(image))
	for i, v := range image {
		px[i] = fmt.Sprint(v)
	}
	body := `{"pixels": [` + strings.Join(px, ",") + `]}`
	resp, err := http.Post(base+"/api/activations?model="+name+"&full=-1,0", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var trace struct {
		Input  servedTensor
		Layers []servedTensor
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/activations: status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&trace); err != nil {
		t.Fatal(err)
	}
	in, out := trace.Input.floats(t), trace.Layers[0].floats(t)
	h, w, cin := trace.Input.Shape[0], trace.Input.Shape[1], trace.Input.Shape[2]
	oh, ow, cout := trace.Layers[0].Shape[0], trace.Layers[0].Shape[1], trace.Layers[0].Shape[2]
	kh, kw := layer.Window.Size[0], layer.Window.Size[1]
	if len(kernel.Values) != kh*kw*cin {
		t.Fatalf("kernel of %d values, want %dx%dx%d", len(kernel.Values), kh, kw, cin)
	}
	var zs []string
	var cells []int
	for _, yx := range [][2]int{{0, 0}, {oh / 2, ow / 2}, {oh - 1, ow - 1}, {oh / 3, 2 * ow / 3}} {
		y, x := yx[0], yx[1]
		z := 0.0
		if kernel.Bias != nil {
			z = float64(*kernel.Bias)
		}
		for ky := range kh {
			for kx := range kw {
				iy, ix := y*layer.Window.Strides[0]-layer.Window.Pad[0]+ky, x*layer.Window.Strides[1]-layer.Window.Pad[1]+kx
				if iy < 0 || iy >= h || ix < 0 || ix >= w {
					continue
				}
				for ci := range cin {
					z += float64(kernel.Values[(ky*kw+kx)*cin+ci]) * float64(in[(iy*w+ix)*cin+ci])
				}
			}
		}
		zs = append(zs, fmt.Sprint(float32(z)))
		cells = append(cells, (y*ow+x)*cout+c)
	}
	var act struct{ Values []float32 }
	getJSON(t, base+"/api/models/"+name+"/layers/0/activation?z="+strings.Join(zs, ","), &act)
	for i, cell := range cells {
		if d := math.Abs(float64(act.Values[i] - out[cell])); d > 1e-5*max(1, math.Abs(float64(out[cell]))) {
			t.Errorf("layer 0 channel %d, output cell %d: by hand %v (z = %s), served %v", c, cell, act.Values[i], zs[i], out[cell])
		}
	}
}
