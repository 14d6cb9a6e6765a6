package model

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

// TFJSExportOptions controls [ExportTFJS].
type TFJSExportOptions struct {
	// ShardSize bounds the bytes of each weight file; 0 means 4 MiB, the
	// TensorFlow.js converter's default.
	ShardSize int
	// GeneratedBy is recorded as the document's generatedBy, such as the
	// version of the program that exports.
	GeneratedBy string
}

// TFJSFile is a file of a TensorFlow.js model: its name and contents.
type TFJSFile struct {
	Name string
	Data []byte
}

// tfjsLayers are the layer classes of convnet's architecture documents
// that TensorFlow.js's layers API (tfjs-layers 4) reads, each to the same
// computation at inference.
var tfjsLayers = []string{
	"InputLayer", "Conv2D", "DepthwiseConv2D", "Dense", "Flatten", "Reshape",
	"Dropout", "AlphaDropout", "GaussianNoise", "GaussianDropout",
	"Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
	"BatchNormalization", "LayerNormalization",
	"MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
	"ZeroPadding2D", "Cropping2D", "UpSampling2D", "Rescaling",
	"Add", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
}

// tfjsAs are layers TensorFlow.js has not that it computes the same at
// inference as another it has: a dropout of whole channels is, like any
// dropout, the identity there.
var tfjsAs = map[string]string{"SpatialDropout2D": "Dropout"}

// tfjsActivations are the activations TensorFlow.js computes as convnet
// does, under convnet's names; silu is its swish.
var tfjsActivations = map[string]string{"linear": "linear", "relu": "relu", "relu6": "relu6",
	"elu": "elu", "selu": "selu", "sigmoid": "sigmoid", "softmax": "softmax", "softplus": "softplus",
	"softsign": "softsign", "tanh": "tanh", "silu": "swish", "swish": "swish", "mish": "mish", "gelu": "gelu"}

// tfjsSettings reports a setting of a layer of class cls, config cfg, that
// TensorFlow.js 4 computes otherwise or not at all (each found by running
// it beside convnet).
func tfjsSettings(cls string, cfg map[string]any) error {
	notOne := func(v int) bool { return v != 1 }
	switch {
	case cls == "ELU" && cfg["alpha"] != 1.0:
		return fmt.Errorf("alpha = %v: TensorFlow.js's ELU layer takes only 1", cfg["alpha"])
	case (cls == "Conv2D" || cls == "DepthwiseConv2D") && cfg["groups"] != nil && cfg["groups"] != 1:
		return fmt.Errorf("groups = %v: TensorFlow.js's convolutions have no groups", cfg["groups"])
	case cls == "DepthwiseConv2D" && slices.ContainsFunc(asInts(cfg["dilation_rate"]), notOne):
		return fmt.Errorf("dilation_rate = %v: TensorFlow.js's depthwise convolution computes dilations otherwise", cfg["dilation_rate"])
	case cls == "UpSampling2D" && cfg["interpolation"] == "bilinear":
		return fmt.Errorf("interpolation bilinear: TensorFlow.js's places its pixels otherwise (it has nearest)")
	}
	return nil
}

// asInts returns v as ints if it is a list of them.
func asInts(v any) []int {
	s, _ := v.([]int)
	return s
}

// splitLeakyReLU gives each layer of the architecture document arch whose
// activation is leaky_relu, which TensorFlow.js and Keras 2 have not as an activation,
// a linear activation and a LeakyReLU layer after it (slope 0.2, the
// activation's), which the layers that read it read instead.
func splitLeakyReLU(arch map[string]any) {
	root := arch["config"].(map[string]any)
	layers, _ := root["layers"].([]any)
	graph := arch["class_name"] == "Functional"
	taken := map[string]bool{}
	for _, v := range layers {
		taken[v.(map[string]any)["config"].(map[string]any)["name"].(string)] = true
	}
	var out []any
	added := map[string]bool{} // the LeakyReLU layers put in
	renamed := map[string]string{}
	for _, v := range layers {
		out = append(out, v)
		cfg := v.(map[string]any)["config"].(map[string]any)
		if cfg["activation"] != "leaky_relu" {
			continue
		}
		cfg["activation"] = "linear"
		name := cfg["name"].(string)
		act := name + "_leaky_relu"
		for taken[act] {
			act += "_"
		}
		taken[act] = true
		l := map[string]any{"class_name": "LeakyReLU", "config": map[string]any{"name": act, "alpha": 0.2, "trainable": true, "dtype": "float32"}}
		if graph {
			l["name"], l["inbound_nodes"] = act, []any{[]any{[]any{name, 0, 0, map[string]any{}}}}
		}
		out = append(out, l)
		added[act] = true
		renamed[name] = act
	}
	root["layers"] = out
	if !graph || len(renamed) == 0 {
		return
	}
	rename := func(refs []any) {
		for _, r := range refs {
			ref := r.([]any)
			if to, ok := renamed[ref[0].(string)]; ok {
				ref[0] = to
			}
		}
	}
	for _, v := range out {
		l := v.(map[string]any)
		if added[l["name"].(string)] {
			continue
		}
		for _, node := range l["inbound_nodes"].([]any) {
			rename(node.([]any))
		}
	}
	rename(root["output_layers"].([]any))
}

// ExportTFJS returns m in TensorFlow.js's layers format, the files that
// tf.loadLayersModel reads: model.json, then the weight files it names
// (group1-shard1ofN.bin, ...). model.json holds the architecture as Keras
// writes it (convnet's own, see [Model.Architecture]), the manifest of the
// weights under their Keras names, and under userDefinedMetadata
// ({"convnet": ...}) the class names and the preprocessing: the network
// takes the images as [Sequential.Predict] does, after the model's
// Standardizer (for the tutorial's, x/255 minus the mean image), and gives
// its outputs. Netron opens the folder too.
//
// A layer or activation TensorFlow.js has not is an error naming it:
// GroupNormalization, Normalization, Subtract, LayerScale, ScaledAdd,
// Resizing (TensorFlow.js 4's gives its output no batch axis) and
// convnet's channel layers among the layers; grouped convolutions; the
// activations hard_sigmoid and hard_silu; an ELU layer of
// another alpha than 1, a dilated depthwise convolution and a bilinear
// UpSampling2D, which TensorFlow.js computes otherwise. SpatialDropout2D goes
// as Dropout, the same at inference; the activation leaky_relu as a
// LeakyReLU layer after its layer; regularizers and constraints, which only
// training uses, are left out.
func ExportTFJS(m *Sequential, opts TFJSExportOptions) ([]TFJSFile, error) {
	if !m.Built() {
		return nil, fmt.Errorf("export tfjs: the model is not built")
	}
	if err := m.checkMetadata(); err != nil {
		return nil, fmt.Errorf("export tfjs: %w", err)
	}
	arch := m.architecture()
	splitLeakyReLU(arch)
	layers, _ := arch["config"].(map[string]any)["layers"].([]any)
	for _, v := range layers {
		l := v.(map[string]any)
		cls, _ := l["class_name"].(string)
		cfg, _ := l["config"].(map[string]any)
		if as, ok := tfjsAs[cls]; ok {
			l["class_name"], cls = as, as
		}
		if !slices.Contains(tfjsLayers, cls) {
			return nil, fmt.Errorf("export tfjs: layer %v (%s): TensorFlow.js has no such layer", cfg["name"], cls)
		}
		if err := tfjsSettings(cls, cfg); err != nil {
			return nil, fmt.Errorf("export tfjs: layer %v (%s): %w", cfg["name"], cls, err)
		}
		for key := range cfg {
			if strings.HasSuffix(key, "_regularizer") || strings.HasSuffix(key, "_constraint") {
				cfg[key] = nil // training's, nothing at inference; TensorFlow.js knows not Keras's L1 and L2 classes
			}
		}
		if act, ok := cfg["activation"].(string); ok {
			as, ok := tfjsActivations[act]
			if !ok {
				return nil, fmt.Errorf("export tfjs: layer %v (%s): TensorFlow.js has no activation %q", cfg["name"], cls, act)
			}
			cfg["activation"] = as
		}
	}

	shardSize := opts.ShardSize
	if shardSize <= 0 {
		shardSize = 4 << 20
	}
	type weightSpec struct {
		Name  string `json:"name"`
		Shape []int  `json:"shape"`
		Dtype string `json:"dtype"`
	}
	var specs []weightSpec
	var data []byte
	names := m.paramNames() // the model file's names, Keras's
	for _, l := range m.Layers {
		for _, p := range l.Params() {
			specs = append(specs, weightSpec{names[p], p.Value.Shape, "float32"})
			for _, v := range p.Value.Data {
				data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
			}
		}
	}
	// The weights split into shards of whole float32 values, as the
	// converter splits them.
	shardSize -= shardSize % 4
	n := max(1, (len(data)+shardSize-1)/shardSize)
	files := []TFJSFile{{Name: "model.json"}}
	var paths []string
	for i := range n {
		name := fmt.Sprintf("group1-shard%dof%d.bin", i+1, n)
		paths = append(paths, name)
		files = append(files, TFJSFile{Name: name, Data: data[min(i*shardSize, len(data)):min((i+1)*shardSize, len(data))]})
	}

	meta := map[string]any{"classes": m.ClassNames}
	if m.Standardizer != nil {
		meta["preprocessing"] = m.Standardizer
	}
	if f, err := m.framingJSON(); err != nil {
		return nil, fmt.Errorf("export tfjs: %w", err)
	} else if f != "" {
		meta["framing"] = json.RawMessage(f)
	}
	doc := map[string]any{
		"format":      "layers-model",
		"generatedBy": opts.GeneratedBy,
		"convertedBy": nil,
		"modelTopology": map[string]any{
			"keras_version": "2.15.0", "backend": "tensorflow", "model_config": arch,
		},
		"weightsManifest":     []any{map[string]any{"paths": paths, "weights": specs}},
		"userDefinedMetadata": map[string]any{"convnet": meta},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("export tfjs: %w", err)
	}
	files[0].Data = b
	return files, nil
}
