package model

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/convnet-go/convnet/internal/hdf5"
	"github.com/convnet-go/convnet/nn"
)

// kerasLayers are the layer classes of convnet's architecture documents
// that Keras has, under the same name, in Keras 2 (2.15) and Keras 3:
// all but convnet's channel layers, LayerScale and CustomScaleLayer, which
// Keras's applications define for themselves.
var kerasLayers = []string{
	"InputLayer", "Conv2D", "DepthwiseConv2D", "Dense", "Flatten", "Reshape",
	"Dropout", "SpatialDropout2D", "AlphaDropout", "GaussianNoise", "GaussianDropout",
	"Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
	"BatchNormalization", "LayerNormalization", "GroupNormalization", "Normalization",
	"MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
	"ZeroPadding2D", "Cropping2D", "UpSampling2D", "Rescaling", "Resizing",
	"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
}

// kerasActivations are the activations Keras 2 and Keras 3 both know by
// name and compute as convnet does; silu is Keras 2's swish.
var kerasActivations = map[string]string{"linear": "linear", "relu": "relu", "elu": "elu", "selu": "selu",
	"sigmoid": "sigmoid", "softmax": "softmax", "softplus": "softplus", "softsign": "softsign", "tanh": "tanh",
	"silu": "swish", "swish": "swish", "gelu": "gelu", "exponential": "exponential"}

// KerasExportOptions controls [ExportKeras].
type KerasExportOptions struct {
	// GeneratedBy is recorded in the file's convnet attribute, such as the
	// version of the program that exports.
	GeneratedBy string
}

// ExportKeras writes m as Keras 2's model.save("m.h5") lays a model out,
// the file keras.models.load_model reads in Keras 2 and in Keras 3 (its
// legacy HDF5 format): the root's attributes model_config (the
// architecture as Keras writes it, see [Model.Architecture]), keras_version
// (2.15.0, the format's) and backend; the group model_weights with the
// attribute layer_names and a group per layer, whose attribute
// weight_names names its datasets ("conv2d/kernel:0") in the order of
// Keras's layer.weights. The root's attribute convnet holds, as JSON, the
// class names, the preprocessing and the framing (how a [Classifier] fits
// an image to the input): the network takes the images as
// [Sequential.Predict] does, after the model's Standardizer (for the
// tutorial's, x/255 minus the mean image). No optimizer is saved.
//
// The activation leaky_relu, which Keras 2 has not by name, goes as a
// LeakyReLU layer after its layer (as for TensorFlow.js). A layer Keras
// has not (convnet's channel layers, LayerScale, the CustomScaleLayer of
// Inception-ResNet) or an activation Keras 2 has not by name (relu6, mish,
// hard_silu) or computes otherwise (hard_sigmoid) is an error naming the
// layer.
func ExportKeras(w io.Writer, m *Sequential, opts KerasExportOptions) error {
	if !m.Built() {
		return fmt.Errorf("export keras: the model is not built")
	}
	if err := m.checkMetadata(); err != nil {
		return fmt.Errorf("export keras: %w", err)
	}
	arch := m.architecture()
	splitLeakyReLU(arch)
	layers, _ := arch["config"].(map[string]any)["layers"].([]any)
	var names []string
	for _, v := range layers {
		l := v.(map[string]any)
		cls, _ := l["class_name"].(string)
		cfg, _ := l["config"].(map[string]any)
		name, _ := cfg["name"].(string)
		if !slices.Contains(kerasLayers, cls) {
			return fmt.Errorf("export keras: layer %s (%s): Keras has no such layer", name, cls)
		}
		if act, ok := cfg["activation"].(string); ok {
			as, ok := kerasActivations[act]
			if !ok {
				return fmt.Errorf("export keras: layer %s (%s): Keras 2 has no activation %q that computes as convnet's", name, cls, act)
			}
			cfg["activation"] = as
		}
		// Keras's Sequential.layers leaves its InputLayer out; a
		// Functional model's holds it.
		if cls != "InputLayer" || arch["class_name"] != "Sequential" {
			names = append(names, name)
		}
	}
	config, err := json.Marshal(arch)
	if err != nil {
		return fmt.Errorf("export keras: %w", err)
	}
	meta := map[string]any{"classes": m.ClassNames, "generated_by": opts.GeneratedBy}
	if m.Standardizer != nil {
		meta["preprocessing"] = m.Standardizer
	}
	if f, err := m.framingJSON(); err != nil {
		return fmt.Errorf("export keras: %w", err)
	} else if f != "" {
		meta["framing"] = json.RawMessage(f)
	}
	about, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("export keras: %w", err)
	}

	f := hdf5.NewFile()
	f.Attr("backend", "tensorflow")
	f.Attr("keras_version", "2.15.0")
	f.Attr("model_config", string(config))
	f.Attr("convnet", string(about))
	weights := f.Group("model_weights")
	keras2Names(weights, "layer_names", names)
	weights.Attr("backend", "tensorflow")
	weights.Attr("keras_version", "2.15.0")
	byName := map[string]nn.Layer{}
	for _, l := range m.Layers {
		byName[l.Name()] = l
	}
	for _, name := range names {
		g := weights.Group(name)
		var wn []string
		var inner *hdf5.Builder // as h5py makes the group of "conv2d/kernel:0"
		l := byName[name]
		if l == nil { // an InputLayer, or a LeakyReLU put in
			keras2Names(g, "weight_names", nil)
			continue
		}
		for _, p := range l.Params() {
			wn = append(wn, name+"/"+p.Name+":0")
			if inner == nil {
				inner = g.Group(name)
			}
			shape := p.Value.Shape
			if n, ok := l.(*nn.Normalization); ok {
				if p.Name == "count" { // Keras's is a scalar int64
					inner.Int64(p.Name+":0", nil, []int64{int64(math.Round(float64(p.Value.Data[0])))})
					continue
				}
				shape = n.KeptShape() // Keras's mean and variance: the kept axes alone
			}
			inner.Float32(p.Name+":0", shape, p.Value.Data)
		}
		keras2Names(g, "weight_names", wn)
	}
	_, err = f.WriteTo(w)
	return err
}

// keras2Names sets the attribute name of g to a list of names as Keras 2's
// save_attributes_to_hdf5_group does: whole, or split as numpy's
// array_split in as few chunks name0, name1, ... as keep each under 64,512
// bytes of fixed-length strings as long as the longest name.
func keras2Names(g *hdf5.Builder, name string, values []string) {
	const limit = 64512
	width := 1
	for _, v := range values {
		width = max(width, len(v))
	}
	chunks := 1
	for (len(values)+chunks-1)/chunks*width > limit {
		chunks++
	}
	if chunks == 1 {
		g.AttrStrings(name, values)
		return
	}
	start := 0
	for i := range chunks {
		n := len(values) / chunks
		if i < len(values)%chunks {
			n++
		}
		g.AttrStrings(fmt.Sprintf("%s%d", name, i), values[start:start+n])
		start += n
	}
}
