package nn

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// layerTypes maps a Keras class name (and aliases) to a constructor that
// reads the layer's fields from a config.
var layerTypes = map[string]func(*fields) Layer{
	"Conv2D":                 func(f *fields) Layer { return conv2DFromConfig(f) },
	"Dense":                  func(f *fields) Layer { return denseFromConfig(f) },
	"MaxPooling2D":           func(f *fields) Layer { return maxPoolFromConfig(f) },
	"MaxPool2D":              func(f *fields) Layer { return maxPoolFromConfig(f) },
	"AveragePooling2D":       func(f *fields) Layer { return avgPoolFromConfig(f) },
	"AvgPool2D":              func(f *fields) Layer { return avgPoolFromConfig(f) },
	"Dropout":                func(f *fields) Layer { return dropoutFromConfig(f) },
	"SpatialDropout2D":       func(f *fields) Layer { return &SpatialDropout2D{Rate: f.float("rate")} },
	"AlphaDropout":           func(f *fields) Layer { return &AlphaDropout{Rate: f.float("rate")} },
	"GaussianNoise":          func(f *fields) Layer { return &GaussianNoise{Stddev: f.float("stddev")} },
	"GaussianDropout":        func(f *fields) Layer { return &GaussianDropout{Rate: f.float("rate")} },
	"Flatten":                func(f *fields) Layer { return &Flatten{} },
	"Reshape":                func(f *fields) Layer { return &Reshape{TargetShape: f.ints("target_shape")} },
	"BatchNormalization":     func(f *fields) Layer { return batchNormFromConfig(f) },
	"GlobalAveragePooling2D": func(f *fields) Layer { return &GlobalAveragePooling2D{KeepDims: f.bool("keepdims", false)} },
	"GlobalMaxPooling2D":     func(f *fields) Layer { return &GlobalMaxPooling2D{KeepDims: f.bool("keepdims", false)} },
	"ReLU":                   func(f *fields) Layer { return &ReLU{MaxValue: f.float("max_value")} },
	"LeakyReLU":              func(f *fields) Layer { return &LeakyReLU{Alpha: f.float("alpha")} },
	"PReLU":                  func(f *fields) Layer { return preluFromConfig(f) },
	"Normalization":          func(f *fields) Layer { return normalizationFromConfig(f) },
	"LayerNormalization":     func(f *fields) Layer { return layerNormFromConfig(f) },
	"GroupNormalization":     func(f *fields) Layer { return groupNormFromConfig(f) },
	"LayerScale":             func(f *fields) Layer { return layerScaleFromConfig(f) },
	"ELU":                    func(f *fields) Layer { return &ELU{Alpha: f.float("alpha")} },
	"Softmax":                func(f *fields) Layer { return &Softmax{} },
	"Activation":             func(f *fields) Layer { return &Activation{Func: f.str("activation")} },
	"Add":                    func(f *fields) Layer { return &Add{} },
	"Multiply":               func(f *fields) Layer { return &Multiply{} },
	"Subtract":               func(f *fields) Layer { return &Subtract{} },
	"ScaledAdd":              func(f *fields) Layer { return scaledAddFromConfig(f) },
	"CustomScaleLayer":       func(f *fields) Layer { return scaledAddFromConfig(f) },
	"Maximum":                func(f *fields) Layer { return &Maximum{} },
	"Minimum":                func(f *fields) Layer { return &Minimum{} },
	"Average":                func(f *fields) Layer { return &Average{} },
	"Concatenate":            func(f *fields) Layer { return &Concatenate{Axis: f.int("axis")} },
	"ZeroPadding2D":          func(f *fields) Layer { return &ZeroPadding2D{Padding: f.padding("padding")} },
	"Cropping2D":             func(f *fields) Layer { return &Cropping2D{Cropping: f.padding("cropping")} },
	"DepthwiseConv2D":        func(f *fields) Layer { return depthwiseFromConfig(f) },
	"ChannelShuffle":         func(f *fields) Layer { return &ChannelShuffle{Groups: f.positiveInt("groups")} },
	"ChannelSlice":           func(f *fields) Layer { return &ChannelSlice{Start: f.int("start"), End: f.int("end")} },
	"Rescaling":              func(f *fields) Layer { return rescalingFromConfig(f) },
	"UpSampling2D":           func(f *fields) Layer { return upSamplingFromConfig(f) },
	"Resizing":               func(f *fields) Layer { return resizingFromConfig(f) },
}

// defaultNames holds Keras's snake_case base names of the layer types.
var defaultNames = map[string]string{
	"Conv2D":                 "conv2d",
	"Dense":                  "dense",
	"MaxPooling2D":           "max_pooling2d",
	"MaxPool2D":              "max_pooling2d",
	"AveragePooling2D":       "average_pooling2d",
	"AvgPool2D":              "average_pooling2d",
	"Dropout":                "dropout",
	"SpatialDropout2D":       "spatial_dropout2d",
	"AlphaDropout":           "alpha_dropout",
	"GaussianNoise":          "gaussian_noise",
	"GaussianDropout":        "gaussian_dropout",
	"Flatten":                "flatten",
	"BatchNormalization":     "batch_normalization",
	"GlobalAveragePooling2D": "global_average_pooling2d",
	"GlobalMaxPooling2D":     "global_max_pooling2d",
	"ReLU":                   "re_lu",
	"LeakyReLU":              "leaky_re_lu",
	"PReLU":                  "p_re_lu",
	"Normalization":          "normalization",
	"LayerNormalization":     "layer_normalization",
	"GroupNormalization":     "group_normalization",
	"LayerScale":             "layer_scale",
	"ELU":                    "elu",
	"Softmax":                "softmax",
	"Activation":             "activation",
	"Add":                    "add",
	"Multiply":               "multiply",
	"Subtract":               "subtract",
	"ScaledAdd":              "custom_scale_layer",
	"CustomScaleLayer":       "custom_scale_layer",
	"Maximum":                "maximum",
	"Minimum":                "minimum",
	"Average":                "average",
	"Concatenate":            "concatenate",
	"ZeroPadding2D":          "zero_padding2d",
	"Cropping2D":             "cropping2d",
	"DepthwiseConv2D":        "depthwise_conv2d",
	"Reshape":                "reshape",
	"ChannelShuffle":         "channel_shuffle",
	"ChannelSlice":           "channel_slice",
	"Rescaling":              "rescaling",
	"UpSampling2D":           "up_sampling2d",
	"Resizing":               "resizing",
}

// DefaultName returns Keras's base instance name for a layer type, such as
// "conv2d" for "Conv2D" or "max_pooling2d" for "MaxPooling2D"; a model
// numbers repeats as conv2d, conv2d_1, ... It returns "" for unknown types.
func DefaultName(typ string) string { return defaultNames[typ] }

// LayerTypes returns the layer type names [FromConfig] accepts, sorted.
func LayerTypes() []string {
	names := make([]string, 0, len(layerTypes))
	for k := range layerTypes {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// FromConfig returns an unbuilt layer of the Keras class typ configured by
// cfg, the inverse of [Layer.Config]. Numbers may be float64 (as decoded
// from JSON) or int; pairs such as kernel_size may be a list of two numbers
// or one number. An unknown type, an unknown key or a value of the wrong
// kind is an error naming it. Values are validated by Build.
func FromConfig(typ string, cfg map[string]any) (Layer, error) {
	mk, ok := layerTypes[typ]
	if !ok {
		return nil, fmt.Errorf("nn: unknown layer type %q (valid: %s)", typ, strings.Join(LayerTypes(), ", "))
	}
	f := &fields{typ: typ, m: cfg}
	name := f.str("name")
	l := mk(f)
	if err := f.finish(); err != nil {
		return nil, err
	}
	l.SetName(name)
	return l, nil
}

// pairValue is how configs write a pair.
func pairValue(p [2]int) []int { return slices.Clone(p[:]) }

var (
	_ Layer = (*Conv2D)(nil)
	_ Layer = (*Dense)(nil)
	_ Layer = (*MaxPool2D)(nil)
	_ Layer = (*AveragePooling2D)(nil)
	_ Layer = (*Dropout)(nil)
	_ Layer = (*AlphaDropout)(nil)
	_ Layer = (*GaussianNoise)(nil)
	_ Layer = (*GaussianDropout)(nil)
	_ Layer = (*Flatten)(nil)
	_ Layer = (*BatchNormalization)(nil)
	_ Layer = (*GlobalAveragePooling2D)(nil)
	_ Layer = (*GlobalMaxPooling2D)(nil)
	_ Layer = (*ReLU)(nil)
	_ Layer = (*LeakyReLU)(nil)
	_ Layer = (*PReLU)(nil)
	_ Layer = (*Normalization)(nil)
	_ Layer = (*LayerNormalization)(nil)
	_ Layer = (*GroupNormalization)(nil)
	_ Layer = (*LayerScale)(nil)
	_ Layer = (*Reshape)(nil)
	_ Layer = (*ELU)(nil)
	_ Layer = (*Softmax)(nil)
	_ Layer = (*Activation)(nil)
	_ Layer = (*ZeroPadding2D)(nil)
	_ Layer = (*Cropping2D)(nil)
	_ Layer = (*UpSampling2D)(nil)
	_ Layer = (*Resizing)(nil)
	_ Layer = (*ChannelShuffle)(nil)
	_ Layer = (*ChannelSlice)(nil)

	_ MultiInput = (*Add)(nil)
	_ MultiInput = (*Multiply)(nil)
	_ MultiInput = (*Average)(nil)
	_ MultiInput = (*Subtract)(nil)
	_ MultiInput = (*ScaledAdd)(nil)
	_ MultiInput = (*Maximum)(nil)
	_ MultiInput = (*Minimum)(nil)
	_ MultiInput = (*Concatenate)(nil)
)
