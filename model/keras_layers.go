package model

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/convnet-go/convnet/nn"
)

// kerasField is a field Keras writes in a layer's config that convnet's
// layer configs leave out, with the value meaning what convnet does.
type kerasField struct {
	key  string
	def  any    // the value convnet writes (nil: null; numbers float64, as decoded); read values must mean the same
	init string // for an initializer field, the initializer def stands for
	read bool   // read only: written by Keras 3 alone, so convnet does not write it
	own  bool   // a field of convnet's config when set, which the layer reads; written as def when not
}

// owned is a field convnet's layer config holds when it is set, Keras's
// null otherwise.
func owned(keys ...string) []kerasField {
	var fs []kerasField
	for _, k := range keys {
		fs = append(fs, kerasField{key: k, own: true})
	}
	return fs
}

func nulls(keys ...string) []kerasField {
	var fs []kerasField
	for _, k := range keys {
		fs = append(fs, kerasField{key: k})
	}
	return fs
}

// initField is an initializer field that must be init.
func initField(key, init string) kerasField {
	return kerasField{key: key, def: initializerObject(init), init: init}
}

var (
	channelsLast   = kerasField{key: "data_format", def: "channels_last"}
	weightsDefault = append(append(owned("kernel_regularizer", "bias_regularizer", "kernel_constraint", "bias_constraint"), nulls("activity_regularizer")...),
		initField("bias_initializer", "zeros"),
		kerasField{key: "lora_rank", read: true},
		kerasField{key: "quantization_config", read: true})

	// kerasFields lists, per layer class, the fields of kerasField.
	kerasFields = map[string][]kerasField{
		"Conv2D": append([]kerasField{
			channelsLast,
			{key: "dilation_rate", def: []any{1.0, 1.0}, own: true},
		}, weightsDefault...),
		"DepthwiseConv2D": append([]kerasField{
			channelsLast,
			{key: "dilation_rate", def: []any{1.0, 1.0}, own: true},
			{key: "groups", def: 1.0, read: true}, // tf.keras writes it, Keras 3 refuses it
			initField("bias_initializer", "zeros"),
		}, append(owned("depthwise_regularizer", "bias_regularizer", "depthwise_constraint", "bias_constraint"), nulls("activity_regularizer")...)...),
		// tf.keras writes Conv's kernel fields too, unused.
		"SeparableConv2D": append([]kerasField{
			channelsLast,
			{key: "dilation_rate", def: []any{1.0, 1.0}, own: true},
			{key: "groups", def: 1.0, read: true},
			initField("bias_initializer", "zeros"),
			{key: "kernel_initializer", def: initializerObject("glorot_uniform"), init: "glorot_uniform", read: true},
			{key: "kernel_regularizer", read: true}, {key: "kernel_constraint", read: true},
		}, append(owned("depthwise_regularizer", "pointwise_regularizer", "bias_regularizer",
			"depthwise_constraint", "pointwise_constraint", "bias_constraint"), nulls("activity_regularizer")...)...),
		"Dense":                  weightsDefault,
		"Dropout":                owned("noise_shape"),
		"MaxPooling2D":           {channelsLast},
		"AveragePooling2D":       {channelsLast},
		"GlobalAveragePooling2D": {channelsLast},
		"GlobalMaxPooling2D":     {channelsLast},
		"Flatten":                {channelsLast},
		"ZeroPadding2D":          {channelsLast},
		"Cropping2D":             {channelsLast},
		"UpSampling2D":           {channelsLast},
		"AlphaDropout":           {{key: "noise_shape"}},
		// tf.keras writes Dropout's fields, Keras 3 a data_format.
		"SpatialDropout2D": {{key: "noise_shape"}, {key: "data_format", def: "channels_last", read: true}},
		"BatchNormalization": append([]kerasField{
			{key: "center", def: true, own: true}, {key: "scale", def: true, own: true},
			initField("beta_initializer", "zeros"), initField("gamma_initializer", "ones"),
			initField("moving_mean_initializer", "zeros"), initField("moving_variance_initializer", "ones"),
			{key: "renorm", def: false, read: true}, {key: "virtual_batch_size", read: true},
			{key: "synchronized", def: false, read: true},
		}, nulls("beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint")...),
		// Keras 3's rms_scaling (x/rms(x)·gamma) is another layer.
		"LayerNormalization": append([]kerasField{
			initField("beta_initializer", "zeros"), initField("gamma_initializer", "ones"),
			{key: "rms_scaling", def: false, read: true},
		}, nulls("beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint")...),
		"GroupNormalization": append([]kerasField{
			initField("beta_initializer", "zeros"), initField("gamma_initializer", "ones"),
		}, nulls("beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint")...),
		"ReLU":  {{key: "negative_slope", def: 0.0}, {key: "threshold", def: 0.0}},
		"PReLU": nulls("alpha_regularizer", "alpha_constraint"),
		// Keras 3 writes all but height, width, interpolation and
		// crop_to_aspect_ratio (tf.keras's); fill_value, for padding, is
		// dropped.
		"Resizing": {
			{key: "pad_to_aspect_ratio", def: false, read: true}, {key: "fill_mode", def: "constant", read: true},
			{key: "antialias", def: false, read: true}, {key: "data_format", def: "channels_last", read: true},
			{key: "bounding_box_format", read: true},
		},
	}

	// kerasInitializers maps the classes of the initializers convnet's
	// fixed fields hold (initField: zeros and ones, the glorot_uniform of
	// SeparableConv2D's unused kernel) to their names; kernel initializers
	// are nn's (nn.InitializerText, nn.InitializerObject).
	kerasInitializers = map[string]string{"GlorotUniform": "glorot_uniform", "Zeros": "zeros", "Ones": "ones"}
)

// kerasClass is the class name Keras uses for a layer type (MaxPool2D is an
// alias of MaxPooling2D; a ScaledAdd is InceptionResNetV2's
// CustomScaleLayer).
func kerasClass(typ string) string {
	switch typ {
	case "ScaledAdd":
		return "CustomScaleLayer"
	case "MaxPool2D":
		return "MaxPooling2D"
	case "AvgPool2D":
		return "AveragePooling2D"
	}
	return typ
}

// initializerObject is how Keras 2 writes an initializer:
// {"class_name": "GlorotUniform", "config": {"seed": null}}.
func initializerObject(name string) map[string]any {
	for class, n := range kerasInitializers {
		if n == name {
			cfg := map[string]any{"seed": nil}
			if name == "zeros" || name == "ones" {
				cfg = map[string]any{}
			}
			return map[string]any{"class_name": class, "config": cfg}
		}
	}
	return nil
}

// initializerName reads an initializer of a fixed field: a name such as
// "zeros" or a Keras object, whose config may only hold a seed. It returns "" for what
// convnet does not know.
func initializerName(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		class, _ := v["class_name"].(string)
		name := kerasInitializers[class]
		if cfg, ok := v["config"].(map[string]any); ok {
			for k := range cfg {
				if k != "seed" {
					return ""
				}
			}
		}
		return name
	}
	return ""
}

// sameJSON reports whether a and b, as encoding/json decodes them, are the
// same value: null, a boolean, a string, a number or a list of them.
func sameJSON(a, b any) bool {
	switch a := a.(type) {
	case nil, bool, string, float64:
		return a == b
	case []any:
		l, ok := b.([]any)
		return ok && slices.EqualFunc(a, l, sameJSON)
	}
	return false
}

// jsonText shows a config value in messages.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// kerasLayer is a layer read from a Keras config.
type kerasLayer struct {
	layer  nn.Layer
	before nn.Layer // a layer the config also stands for, which feeds layer (a SeparableConv2D's depthwise half), or nil
	input  []int    // from batch_input_shape or batch_shape, if the config has one
	axis   int      // a positive axis the layer must find last (BatchNormalization, Softmax), or 0
	frozen bool     // trainable false: layer (and before) do not train
}

// layerFromKeras makes the layer a Keras config describes: the config of
// Keras 2's or Keras 3's get_config, or convnet's own. Fields that hold
// Keras's defaults are accepted and dropped; a value convnet cannot honour
// (an activity regularizer, say) or a field it does not know is an error
// naming it. A layer with trainable false is read frozen.
//
// It takes cfg over: the fields it reads are deleted from it.
func layerFromKeras(class string, cfg map[string]any) (kerasLayer, error) {
	if cfg == nil {
		cfg = map[string]any{}
	}
	var kl kerasLayer
	name, _ := cfg["name"].(string)
	where := class
	if name != "" {
		where = name + " (" + class + ")"
	}
	switch class {
	case "Sequential", "Functional", "Model":
		return kerasLayer{}, fmt.Errorf("%s: a model used as a layer where convnet does not read one (it reads them inside a Sequential or Functional model)", where)
	}
	fail := func(key string, v any, want string) (kerasLayer, error) {
		return kerasLayer{}, fmt.Errorf("%s: %s = %s: convnet supports only %s", where, key, jsonText(v), want)
	}
	if v, ok := cfg["trainable"]; ok {
		if _, ok := v.(bool); !ok {
			return fail("trainable", v, "true or false")
		}
		kl.frozen = v == false
		delete(cfg, "trainable")
	}
	if v, ok := cfg["dtype"]; ok {
		if !isFloat32(v) {
			return fail("dtype", v, `"float32"`)
		}
		delete(cfg, "dtype")
	}
	for _, key := range []string{"batch_input_shape", "batch_shape"} {
		if v, ok := cfg[key]; ok {
			s, err := batchShape(v)
			if err != nil {
				return kerasLayer{}, fmt.Errorf("%s: %s: %w", where, key, err)
			}
			kl.input = s
			delete(cfg, key)
		}
	}
	for _, f := range kerasFields[kerasClass(class)] {
		v, ok := cfg[f.key]
		if !ok || f.own {
			continue
		}
		switch {
		case f.init != "":
			if initializerName(v) != f.init {
				return fail(f.key, v, jsonText(f.def))
			}
		case v == nil && f.def == nil, sameJSON(v, f.def):
		case f.key == "lora_rank" && v == 0.0:
		default:
			return fail(f.key, v, jsonText(f.def))
		}
		delete(cfg, f.key)
	}
	switch class {
	case "Conv2D", "Dense", "DepthwiseConv2D":
		key := kernelInitKey(class)
		if v, ok := cfg[key]; ok {
			text, err := nn.InitializerText(v)
			if err != nil {
				return kerasLayer{}, fmt.Errorf("%s: %s = %s: %w", where, key, jsonText(v), err)
			}
			cfg[key] = text
		}
		if class == "Dense" {
			delete(cfg, "lora_alpha") // Keras 3: meaningless without lora_rank
		}
		if v, ok := cfg["activation"].(map[string]any); ok {
			cfg["activation"] = v["config"] // Keras 3 may write a function as an object
		}
	case "SeparableConv2D":
		return separableFromKeras(kl, cfg, where)
	case "Activation":
		if v, ok := cfg["activation"].(map[string]any); ok {
			cfg["activation"] = v["config"] // Keras 3 may write a function as an object
		}
	case "Dropout", "SpatialDropout2D", "AlphaDropout", "GaussianNoise", "GaussianDropout":
		delete(cfg, "seed") // convnet draws from the model's source
	case "Rescaling":
		for _, key := range []string{"scale", "offset"} {
			if v, ok := cfg[key].(map[string]any); ok && v["class_name"] == "__numpy__" {
				c, _ := v["config"].(map[string]any)
				cfg[key] = c["value"] // Keras 3's numpy array: its values
			}
		}
	case "Resizing":
		if _, ok := cfg["fill_value"].(float64); ok { // only padding's (pad_to_aspect_ratio, refused above)
			delete(cfg, "fill_value")
		}
	case "LeakyReLU":
		if v, ok := cfg["negative_slope"]; ok { // Keras 3's name
			cfg["alpha"] = v
			delete(cfg, "negative_slope")
		}
	case "StochasticDepth":
		// Keras's ConvNeXt's: whole samples' residual branches dropped in
		// training, the others scaled by 1/(1-rate), which is a Dropout of
		// noise_shape (None, 1, 1, 1).
		if v, ok := cfg["drop_path_rate"]; ok {
			cfg["rate"] = v
			delete(cfg, "drop_path_rate")
		}
		cfg["noise_shape"] = []any{nil, 1.0, 1.0, 1.0}
		class = "Dropout"
	case "BatchNormalization", "Softmax":
		axis, err := lastAxis(cfg["axis"])
		if err != nil {
			return kerasLayer{}, fmt.Errorf("%s: axis: %w", where, err)
		}
		kl.axis = axis
		delete(cfg, "axis")
	}
	l, err := nn.FromConfig(class, cfg)
	if err != nil {
		return kerasLayer{}, fmt.Errorf("%s: %w", where, err)
	}
	kl.layer = l
	return kl, nil
}

// lastAxis reads the axis of a BatchNormalization or Softmax: absent, -1,
// [-1] or a positive axis k (counting the batch axis as 0), which Build
// checks is the last. It returns k, or 0 for the last axis.
func lastAxis(v any) (int, error) {
	if list, ok := v.([]any); ok && len(list) == 1 {
		v = list[0]
	}
	if v == nil {
		return 0, nil
	}
	f, ok := v.(float64)
	switch {
	case ok && f == -1:
		return 0, nil
	case ok && f >= 1 && f <= 4 && f == float64(int(f)):
		return int(f), nil
	}
	return 0, fmt.Errorf("%s: convnet supports only the last axis (-1)", jsonText(v))
}

// isFloat32 reports whether a dtype is float32: a string, or a Keras 3
// policy object {"class_name": "DTypePolicy", "config": {"name": "float32"}}.
func isFloat32(v any) bool {
	if s, ok := v.(string); ok {
		return s == "float32"
	}
	p, ok := v.(map[string]any)
	if !ok {
		return false
	}
	cfg, _ := p["config"].(map[string]any)
	return cfg != nil && cfg["name"] == "float32"
}

// batchShape reads a shape with a batch axis, [null, 32, 32, 1], and returns
// the shape of one sample.
func batchShape(v any) ([]int, error) {
	list, ok := v.([]any)
	if !ok || len(list) < 2 {
		return nil, fmt.Errorf("%s: want a list such as [null, 32, 32, 1]", jsonText(v))
	}
	s := make([]int, len(list)-1)
	for i, d := range list[1:] {
		n, ok := integerOf(d)
		if !ok {
			return nil, fmt.Errorf("%s: dimension %d is not an integer", jsonText(v), i+1)
		}
		s[i] = n
	}
	return s, nil
}

// integerOf reads a JSON number holding an integer.
func integerOf(v any) (int, bool) {
	f, ok := v.(float64)
	if !ok || f != float64(int(f)) || f > 1<<31 || f < -(1<<31) {
		return 0, false
	}
	return int(f), true
}

// kerasConfig returns the config Keras 2 writes for l: convnet's config
// with the fields of kerasFields at their defaults, the common fields
// (name, trainable, dtype) and initializers as objects.
func kerasConfig(l nn.Layer) map[string]any {
	cfg := maps.Clone(l.Config())
	cfg["name"] = l.Name()
	cfg["trainable"] = true
	cfg["dtype"] = "float32"
	for _, f := range kerasFields[kerasClass(l.Type())] {
		if _, set := cfg[f.key]; !f.read && !(f.own && set) {
			cfg[f.key] = f.def
		}
	}
	if key := kernelInitKey(l.Type()); cfg[key] != nil {
		cfg[key] = nn.InitializerObject(cfg[key].(string))
	}
	switch l.Type() {
	case "BatchNormalization", "Softmax":
		cfg["axis"] = -1
	case "Dropout", "SpatialDropout2D", "AlphaDropout", "GaussianNoise", "GaussianDropout":
		cfg["seed"] = nil
	case "PReLU":
		if name, ok := cfg["alpha_initializer"].(string); ok { // zeros or ones
			cfg["alpha_initializer"] = initializerObject(name)
		}
	}
	return cfg
}

// kernelInitKey is the config field of a layer's kernel initializer.
func kernelInitKey(class string) string {
	if class == "DepthwiseConv2D" {
		return "depthwise_initializer"
	}
	return "kernel_initializer"
}
