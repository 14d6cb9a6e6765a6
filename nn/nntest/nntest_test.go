package nntest_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/nn/nntest"
	"github.com/convnet-go/convnet/tensor"
)

// distinct fills x with a shuffled ladder of values 0.05 apart, so that
// max-pool windows have no near-ties and nothing sits near 0.
func distinct(rng *rand.Rand, x []float32) {
	for i, p := range rng.Perm(len(x)) {
		v := 0.1 + 0.05*float32(p/2)
		if p%2 == 1 {
			v = -v
		}
		x[i] = v
	}
}

func conv(f, kh, kw, s int, pad string, act string) func() nn.Layer {
	return func() nn.Layer {
		return &nn.Conv2D{Filters: f, KernelSize: [2]int{kh, kw}, Strides: [2]int{s, s}, Padding: pad, Activation: act}
	}
}

func layerCases() map[string]nntest.Case {
	cases := map[string]nntest.Case{
		"conv3x3-valid":       {New: conv(3, 3, 3, 1, "valid", ""), In: []int{5, 5, 2}, Params: 3*3*2*3 + 3, MACs: 3 * 3 * 3 * (3 * 3 * 2)},
		"conv3x3-same":        {New: conv(3, 3, 3, 1, "same", ""), In: []int{5, 5, 2}, Params: 57, MACs: 5 * 5 * 3 * (3 * 3 * 2)},
		"conv3x3-same-s2":     {New: conv(2, 3, 3, 2, "same", ""), In: []int{6, 5, 2}, Params: 3*3*2*2 + 2, MACs: 3 * 3 * 2 * (3 * 3 * 2)},
		"conv2x2-same-even":   {New: conv(2, 2, 2, 1, "same", ""), In: []int{4, 4, 3}, Params: 2*2*3*2 + 2, MACs: 4 * 4 * 2 * (2 * 2 * 3)},
		"conv4x2-same-s2":     {New: conv(2, 4, 2, 2, "same", ""), In: []int{5, 6, 1}, Params: 4*2*1*2 + 2, MACs: 3 * 3 * 2 * (4 * 2 * 1)},
		"conv2x3-valid-s2":    {New: conv(2, 2, 3, 2, "valid", ""), In: []int{6, 7, 2}, Params: 2*3*2*2 + 2, MACs: 3 * 3 * 2 * (2 * 3 * 2)},
		"conv5x5-same-relu":   {New: conv(2, 5, 5, 1, "same", "relu"), In: []int{6, 6, 1}, Params: 5*5*2 + 2, MACs: 6 * 6 * 2 * (5 * 5 * 1)},
		"conv1x1":             {New: conv(4, 1, 1, 1, "valid", "tanh"), In: []int{3, 3, 3}, Params: 3*4 + 4, MACs: 3 * 3 * 4 * 3},
		"conv1x1-tiles-relu6": {New: conv(4, 1, 1, 1, "valid", "relu6"), In: []int{5, 4, 3}, Batch: 2, Params: 3*4 + 4, MACs: 5 * 4 * 4 * 3},
		"conv1x1-s2":          {New: conv(2, 1, 1, 2, "valid", ""), In: []int{5, 5, 3}, Params: 3*2 + 2, MACs: 3 * 3 * 2 * 3},
		"conv-nobias": {New: func() nn.Layer {
			return &nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, NoBias: true, KernelInit: "he_normal"}
		}, In: []int{4, 4, 2}, Params: 3 * 3 * 2 * 2, MACs: 2 * 2 * 2 * (3 * 3 * 2)},
		"conv-groups": {New: func() nn.Layer {
			return &nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 3}, Padding: "same", Groups: 3, Activation: "tanh"}
		}, In: []int{4, 5, 6}, Batch: 2, Params: 3*3*2*6 + 6, MACs: 4 * 5 * 6 * (3 * 3 * 2)},
		"conv-groups-s2-silu": {New: func() nn.Layer {
			return &nn.Conv2D{Filters: 4, KernelSize: [2]int{2, 3}, Strides: [2]int{2, 2}, Groups: 2, Activation: "silu", NoBias: true}
		}, In: []int{5, 6, 4}, Batch: 3, Params: 2 * 3 * 2 * 4, MACs: 2 * 2 * 4 * (2 * 3 * 2)},
		"conv-groups-1x1-relu": {New: func() nn.Layer {
			return &nn.Conv2D{Filters: 8, KernelSize: [2]int{1, 1}, Groups: 4, Activation: "relu"}
		}, In: []int{3, 3, 4}, Params: 1*1*1*8 + 8, MACs: 3 * 3 * 8 * 1},
		"conv-dilated-same-relu": {New: func() nn.Layer {
			return &nn.Conv2D{Filters: 3, KernelSize: [2]int{3, 3}, DilationRate: [2]int{2, 2}, Padding: "same", Activation: "relu"}
		}, In: []int{6, 7, 2}, Batch: 2, Params: 3*3*2*3 + 3, MACs: 6 * 7 * 3 * (3 * 3 * 2)},
		"conv-dilated-valid-tanh": {New: func() nn.Layer {
			return &nn.Conv2D{Filters: 2, KernelSize: [2]int{2, 3}, DilationRate: [2]int{3, 2}, Activation: "tanh", NoBias: true}
		}, In: []int{7, 8, 3}, Params: 2 * 3 * 3 * 2, MACs: 4 * 4 * 2 * (2 * 3 * 3)},
		"conv-dilated-past-the-edge": {New: func() nn.Layer {
			return &nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, DilationRate: [2]int{4, 5}, Padding: "same"}
		}, In: []int{3, 4, 1}, Batch: 3, Params: 3*3*1*2 + 2, MACs: 3 * 4 * 2 * (3 * 3 * 1)},
		"conv-dilated-taps-outside": {New: func() nn.Layer {
			return &nn.Conv2D{Filters: 2, KernelSize: [2]int{2, 2}, DilationRate: [2]int{3, 1}, Padding: "same", Activation: "elu"}
		}, In: []int{1, 4, 2}, Batch: 2, Params: 2*2*2*2 + 2, MACs: 1 * 4 * 2 * (2 * 2 * 2)},
		"conv-groups-per-channel": {New: func() nn.Layer {
			return &nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 2}, Strides: [2]int{2, 1}, Padding: "same", Groups: 3, Activation: "elu"}
		}, In: []int{5, 4, 3}, Batch: 2, Params: 3*2*1*6 + 6, MACs: 3 * 4 * 6 * (3 * 2)},
		"conv-softmax":     {New: conv(3, 3, 3, 1, "same", "softmax"), In: []int{4, 4, 2}, Params: 57, MACs: 4 * 4 * 3 * (3 * 3 * 2)},
		"conv-batch5":      {New: conv(2, 3, 3, 1, "same", "elu"), In: []int{4, 4, 1}, Batch: 11, Params: 20, MACs: 4 * 4 * 2 * (3 * 3 * 1)},
		"dense":            {New: func() nn.Layer { return &nn.Dense{Units: 4} }, In: []int{6}, Params: 28, MACs: 6 * 4},
		"dense-relu":       {New: func() nn.Layer { return &nn.Dense{Units: 5, Activation: "relu", KernelInit: "he_uniform"} }, In: []int{7}, Batch: 3, Params: 40, MACs: 7 * 5},
		"dense-softmax":    {New: func() nn.Layer { return &nn.Dense{Units: 4, Activation: "softmax"} }, In: []int{5}, Params: 24, MACs: 5 * 4},
		"dense-image":      {New: func() nn.Layer { return &nn.Dense{Units: 6, Activation: "gelu"} }, In: []int{3, 4, 5}, Batch: 2, Params: 5*6 + 6, MACs: 3 * 4 * 5 * 6},
		"layer-scale":      {New: func() nn.Layer { return &nn.LayerScale{InitValues: 0.5} }, In: []int{3, 4, 5}, Batch: 2, Params: 5, MACs: 3 * 4 * 5},
		"layer-scale-flat": {New: func() nn.Layer { return &nn.LayerScale{InitValues: -1.5, ProjectionDim: 6} }, In: []int{6}, Batch: 3, Params: 6, MACs: 6},
		"dense-nobias":     {New: func() nn.Layer { return &nn.Dense{Units: 3, NoBias: true, KernelInit: "glorot_normal"} }, In: []int{4}, Params: 12, MACs: 4 * 3},
		"flatten":          {New: func() nn.Layer { return &nn.Flatten{} }, In: []int{3, 2, 2}},
		"gap":              {New: func() nn.Layer { return &nn.GlobalAveragePooling2D{} }, In: []int{3, 4, 2}},
		"gap-keepdims":     {New: func() nn.Layer { return &nn.GlobalAveragePooling2D{KeepDims: true} }, In: []int{3, 4, 2}, Batch: 2},
		"gmp":              {New: func() nn.Layer { return &nn.GlobalMaxPooling2D{} }, In: []int{3, 4, 2}},
		"gmp-keepdims":     {New: func() nn.Layer { return &nn.GlobalMaxPooling2D{KeepDims: true} }, In: []int{3, 4, 5}, Batch: 2},
		"shuffle":          {New: func() nn.Layer { return &nn.ChannelShuffle{Groups: 3} }, In: []int{2, 3, 6}, Batch: 2},
		"shuffle-flat":     {New: func() nn.Layer { return &nn.ChannelShuffle{Groups: 2} }, In: []int{8}},
		"slice":            {New: func() nn.Layer { return &nn.ChannelSlice{Start: 1, End: 4} }, In: []int{2, 3, 5}, Batch: 2},
		"slice-flat":       {New: func() nn.Layer { return &nn.ChannelSlice{End: 3} }, In: []int{6}},
		"zeropad":          {New: func() nn.Layer { return &nn.ZeroPadding2D{Padding: [2][2]int{{1, 2}, {0, 3}}} }, In: []int{3, 2, 2}, Batch: 2},
		"crop":             {New: func() nn.Layer { return &nn.Cropping2D{Cropping: [2][2]int{{1, 2}, {0, 1}}} }, In: []int{5, 4, 2}, Batch: 2},
		"up-2x2":           {New: func() nn.Layer { return &nn.UpSampling2D{} }, In: []int{3, 2, 2}, Batch: 2},
		"up-3x2":           {New: func() nn.Layer { return &nn.UpSampling2D{Size: [2]int{3, 2}} }, In: []int{2, 3, 1}},
		"up-bi-2x2":        {New: func() nn.Layer { return &nn.UpSampling2D{Interpolation: "bilinear"} }, In: []int{3, 2, 2}, Batch: 2},
		"up-bi-3x2":        {New: func() nn.Layer { return &nn.UpSampling2D{Size: [2]int{3, 2}, Interpolation: "bilinear"} }, In: []int{2, 3, 2}},
		"resize-up":        {New: func() nn.Layer { return &nn.Resizing{Height: 7, Width: 5} }, In: []int{3, 4, 2}, Batch: 2},
		"resize-down":      {New: func() nn.Layer { return &nn.Resizing{Height: 3, Width: 4} }, In: []int{7, 5, 2}, Batch: 2},
		"resize-near":      {New: func() nn.Layer { return &nn.Resizing{Height: 3, Width: 7, Interpolation: "nearest"} }, In: []int{7, 5, 2}},
		"resize-crop":      {New: func() nn.Layer { return &nn.Resizing{Height: 4, Width: 4, CropToAspectRatio: true} }, In: []int{7, 5, 2}, Batch: 2},
		"resize-crop2": {New: func() nn.Layer {
			return &nn.Resizing{Height: 2, Width: 6, Interpolation: "nearest", CropToAspectRatio: true}
		}, In: []int{5, 5, 1}},
		"depthwise-valid": {New: func() nn.Layer { return &nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}} }, In: []int{5, 4, 3},
			Params: 3*3*3 + 3, MACs: 3 * 2 * 3 * (3 * 3)},
		"depthwise-same-s2-m2-relu": {New: func() nn.Layer {
			return &nn.DepthwiseConv2D{KernelSize: [2]int{3, 2}, Strides: [2]int{2, 2}, Padding: "same", DepthMultiplier: 2, Activation: "relu"}
		}, In: []int{5, 6, 3}, Batch: 3, Params: 3*2*3*2 + 6, MACs: 3 * 3 * 6 * (3 * 2)},
		"depthwise-nobias-softmax": {New: func() nn.Layer {
			return &nn.DepthwiseConv2D{KernelSize: [2]int{2, 2}, Padding: "same", DepthMultiplier: 3, NoBias: true, Activation: "softmax", KernelInit: "he_normal"}
		}, In: []int{3, 3, 2}, Params: 2 * 2 * 2 * 3, MACs: 3 * 3 * 6 * (2 * 2)},
		"depthwise-wide": {New: func() nn.Layer {
			return &nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Padding: "same", Activation: "tanh"}
		}, In: []int{4, 4, 20}, Params: 3*3*20 + 20, MACs: 4 * 4 * 20 * (3 * 3)},
		"depthwise-dilated-same-relu": {New: func() nn.Layer {
			return &nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, DilationRate: [2]int{2, 2}, Padding: "same", Activation: "relu"}
		}, In: []int{6, 7, 3}, Batch: 2, Params: 3*3*3 + 3, MACs: 6 * 7 * 3 * (3 * 3)},
		"depthwise-dilated-valid-m2": {New: func() nn.Layer {
			return &nn.DepthwiseConv2D{KernelSize: [2]int{2, 3}, DilationRate: [2]int{3, 2}, DepthMultiplier: 2, Activation: "tanh", NoBias: true}
		}, In: []int{7, 8, 2}, Params: 2 * 3 * 2 * 2, MACs: 4 * 4 * 4 * (2 * 3)},
		"depthwise-dilated-taps-outside": {New: func() nn.Layer {
			return &nn.DepthwiseConv2D{KernelSize: [2]int{2, 2}, DilationRate: [2]int{3, 1}, Padding: "same", Activation: "elu"}
		}, In: []int{1, 4, 2}, Batch: 2, Params: 2*2*2 + 2, MACs: 1 * 4 * 2 * (2 * 2)},
		"conv-groups-per-channel-dilated": {New: func() nn.Layer {
			return &nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 2}, DilationRate: [2]int{2, 3}, Padding: "same", Groups: 3, Activation: "elu"}
		}, In: []int{5, 7, 3}, Batch: 2, Params: 3*2*1*6 + 6, MACs: 5 * 7 * 6 * (3 * 2)},
		"batchnorm-noscale-train":  {New: func() nn.Layer { return &nn.BatchNormalization{NoScale: true} }, In: []int{2, 2, 3}, Batch: 4, Training: true, Params: 3 * 3},
		"batchnorm-nocenter-infer": {New: func() nn.Layer { return &nn.BatchNormalization{NoCenter: true} }, In: []int{5}, Batch: 3, Params: 3 * 5},
		"rescaling-channels":       {New: func() nn.Layer { return &nn.Rescaling{Scales: []float64{0.5, -2, 3}, Offsets: []float64{1, 0, -1}} }, In: []int{2, 2, 3}, Batch: 2},
		"dropout-train":            {New: func() nn.Layer { return &nn.Dropout{Rate: 0.4} }, In: []int{4, 3}, Training: true},
		"dropout-infer":            {New: func() nn.Layer { return &nn.Dropout{Rate: 0.5} }, In: []int{5}},
		"dropout-zero":             {New: func() nn.Layer { return &nn.Dropout{} }, In: []int{5}, Training: true},
		"dropout-samples": {New: func() nn.Layer { return &nn.Dropout{Rate: 0.5, NoiseShape: []int{0, 1, 1, 1}} },
			In: []int{3, 2, 4}, Batch: 4, Training: true},
		"dropout-noise-mixed": {New: func() nn.Layer { return &nn.Dropout{Rate: 0.4, NoiseShape: []int{0, 3, 1, 0}} },
			In: []int{3, 2, 4}, Batch: 3, Training: true},
		"spatial-dropout-train":  {New: func() nn.Layer { return &nn.SpatialDropout2D{Rate: 0.5} }, In: []int{3, 2, 4}, Batch: 3, Training: true},
		"spatial-dropout-infer":  {New: func() nn.Layer { return &nn.SpatialDropout2D{Rate: 0.5} }, In: []int{2, 2, 3}},
		"alpha-dropout-train":    {New: func() nn.Layer { return &nn.AlphaDropout{Rate: 0.3} }, In: []int{3, 2, 4}, Batch: 3, Training: true},
		"alpha-dropout-infer":    {New: func() nn.Layer { return &nn.AlphaDropout{Rate: 0.3} }, In: []int{5}},
		"gaussian-noise-train":   {New: func() nn.Layer { return &nn.GaussianNoise{Stddev: 0.3} }, In: []int{3, 2, 4}, Batch: 3, Training: true},
		"gaussian-noise-infer":   {New: func() nn.Layer { return &nn.GaussianNoise{Stddev: 0.3} }, In: []int{5}},
		"gaussian-dropout-train": {New: func() nn.Layer { return &nn.GaussianDropout{Rate: 0.4} }, In: []int{3, 2, 4}, Batch: 3, Training: true},
		"gaussian-dropout-infer": {New: func() nn.Layer { return &nn.GaussianDropout{Rate: 0.4} }, In: []int{5}},
		"batchnorm-train": {New: func() nn.Layer { return &nn.BatchNormalization{} }, In: []int{2, 2, 3},
			Batch: 3, Params: 12, Training: true},
		"batchnorm-infer": {New: func() nn.Layer { return &nn.BatchNormalization{Momentum: 0.9, Epsilon: 1e-2} }, In: []int{4}, Params: 16},
		"batchnorm-dense-train": {New: func() nn.Layer { return &nn.BatchNormalization{} }, In: []int{3}, Batch: 5,
			Params: 12, Training: true},
		"relu":            {New: func() nn.Layer { return &nn.ReLU{} }, In: []int{3, 4}},
		"relu-max":        {New: func() nn.Layer { return &nn.ReLU{MaxValue: 0.6} }, In: []int{3, 4}, Batch: 3},
		"leakyrelu":       {New: func() nn.Layer { return &nn.LeakyReLU{} }, In: []int{3, 4}},
		"leakyrelu-alpha": {New: func() nn.Layer { return &nn.LeakyReLU{Alpha: 0.05} }, In: []int{7}},
		"elu":             {New: func() nn.Layer { return &nn.ELU{} }, In: []int{3, 4}},
		"prelu":           {New: func() nn.Layer { return &nn.PReLU{AlphaInit: 0.25} }, In: []int{3, 4}, Params: 12},
		"prelu-zeros":     {New: func() nn.Layer { return &nn.PReLU{} }, In: []int{5}, Batch: 3, Params: 5},
		"prelu-channels": {New: func() nn.Layer { return &nn.PReLU{AlphaInit: -0.3, SharedAxes: []int{1, 2}} }, In: []int{3, 2, 4},
			Batch: 3, Params: 4},
		"prelu-all":    {New: func() nn.Layer { return &nn.PReLU{AlphaInit: 0.1, SharedAxes: []int{1, 2, 3}} }, In: []int{2, 3, 2}, Params: 1},
		"prelu-middle": {New: func() nn.Layer { return &nn.PReLU{AlphaInit: 0.5, SharedAxes: []int{2}} }, In: []int{3, 4, 2}, Batch: 2, Params: 6},
		"prelu-last":   {New: func() nn.Layer { return &nn.PReLU{AlphaInit: 0.2, SharedAxes: []int{3}} }, In: []int{2, 3, 4}, Params: 6},
		"elu-alpha":    {New: func() nn.Layer { return &nn.ELU{Alpha: 0.5} }, In: []int{7}},
		"softmax":      {New: func() nn.Layer { return &nn.Softmax{} }, In: []int{2, 5}},
		"rescaling":    {New: func() nn.Layer { return &nn.Rescaling{Scale: 0.25, Offset: -1} }, In: []int{3, 2, 2}, Batch: 2},
		"normalization": {New: func() nn.Layer {
			return &nn.Normalization{Mean: []float64{0.5, -1, 2}, Variance: []float64{4, 0.25, 9}}
		},
			In: []int{2, 2, 3}},
		"normalization-invert": {New: func() nn.Layer {
			return &nn.Normalization{Invert: true, Mean: []float64{0.5, -1, 2}, Variance: []float64{4, 0.25, 9}}
		}, In: []int{2, 2, 3}, Batch: 3},
		"normalization-rows": {New: func() nn.Layer {
			return &nn.Normalization{Axis: []int{1}, Mean: []float64{1, -1}, Variance: []float64{2, 0.5}}
		},
			In: []int{2, 3}},
		"normalization-all":     {New: func() nn.Layer { return &nn.Normalization{Axis: []int{}, Mean: []float64{0.3}, Variance: []float64{2}} }, In: []int{4}},
		"normalization-adapted": {New: func() nn.Layer { return &nn.Normalization{} }, In: []int{2, 2, 3}, Params: 7},
		"layernorm":             {New: func() nn.Layer { return &nn.LayerNormalization{} }, In: []int{2, 3, 4}, Params: 8},
		"layernorm-all": {New: func() nn.Layer { return &nn.LayerNormalization{Axis: []int{1, 2, 3}} }, In: []int{2, 2, 3}, Batch: 3,
			Params: 24},
		"layernorm-middle": {New: func() nn.Layer { return &nn.LayerNormalization{Axis: []int{1}, Epsilon: 1e-5} }, In: []int{3, 2, 2},
			Params: 6},
		"layernorm-two": {New: func() nn.Layer { return &nn.LayerNormalization{Axis: []int{-2, 1}, NoCenter: true} }, In: []int{2, 3, 4},
			Params: 6},
		"layernorm-bare":     {New: func() nn.Layer { return &nn.LayerNormalization{NoScale: true, NoCenter: true} }, In: []int{5}, Batch: 3},
		"groupnorm":          {New: func() nn.Layer { return &nn.GroupNormalization{Groups: 2} }, In: []int{2, 3, 4}, Batch: 3, Params: 8},
		"groupnorm-instance": {New: func() nn.Layer { return &nn.GroupNormalization{Groups: -1, Epsilon: 1e-5} }, In: []int{3, 2, 3}, Params: 6},
		"groupnorm-one":      {New: func() nn.Layer { return &nn.GroupNormalization{Groups: 1, NoCenter: true} }, In: []int{2, 2, 3}, Batch: 2, Params: 3},
		"groupnorm-vector":   {New: func() nn.Layer { return &nn.GroupNormalization{Groups: 2, NoScale: true} }, In: []int{8}, Batch: 3, Params: 8},
		"groupnorm-bare":     {New: func() nn.Layer { return &nn.GroupNormalization{Groups: 2, NoScale: true, NoCenter: true} }, In: []int{2, 2, 4}},
		"layernorm-scale":    {New: func() nn.Layer { return &nn.LayerNormalization{Axis: []int{2}, NoCenter: true} }, In: []int{3, 4}, Params: 4},
		"reshape":            {New: func() nn.Layer { return &nn.Reshape{TargetShape: []int{1, 1, -1}} }, In: []int{6}},
		"reshape-image":      {New: func() nn.Layer { return &nn.Reshape{TargetShape: []int{3, 2, 2}} }, In: []int{2, 2, 3}, Batch: 3},
		"rescaling-neg":      {New: func() nn.Layer { return &nn.Rescaling{Scale: -3} }, In: []int{5}},
	}
	for _, act := range nn.ActivationNames {
		cases["activation-"+act] = nntest.Case{New: func() nn.Layer { return &nn.Activation{Func: act} }, In: []int{2, 3, 4}}
		cases["dense-act-"+act] = nntest.Case{New: func() nn.Layer { return &nn.Dense{Units: 4, Activation: act} }, In: []int{4}, Batch: 3, Params: 20, MACs: 4 * 4}
		cases["conv-act-"+act] = nntest.Case{New: conv(2, 2, 2, 1, "same", act), In: []int{3, 3, 2}, Params: 18, MACs: 3 * 3 * 2 * (2 * 2 * 2)}
		cases["depthwise-act-"+act] = nntest.Case{New: func() nn.Layer {
			return &nn.DepthwiseConv2D{KernelSize: [2]int{2, 2}, Padding: "same", Activation: act}
		}, In: []int{3, 3, 2}, Batch: 2, Params: 10, MACs: 3 * 3 * 2 * (2 * 2)}
	}
	for _, pool := range []struct {
		name string
		mk   func(k, s [2]int, pad string) nn.Layer
	}{
		{"max", func(k, s [2]int, pad string) nn.Layer { return &nn.MaxPool2D{PoolSize: k, Strides: s, Padding: pad} }},
		{"avg", func(k, s [2]int, pad string) nn.Layer {
			return &nn.AveragePooling2D{PoolSize: k, Strides: s, Padding: pad}
		}},
	} {
		for _, v := range []struct {
			k, s [2]int
			pad  string
			in   []int
		}{
			{[2]int{}, [2]int{}, "", []int{4, 4, 2}},
			{[2]int{2, 2}, [2]int{}, "same", []int{5, 5, 2}},
			{[2]int{3, 3}, [2]int{1, 1}, "valid", []int{5, 4, 2}},
			{[2]int{3, 3}, [2]int{2, 2}, "same", []int{5, 6, 1}},
			{[2]int{2, 3}, [2]int{1, 2}, "same", []int{4, 5, 3}},
			{[2]int{3, 2}, [2]int{2, 1}, "valid", []int{7, 4, 1}},
		} {
			name := fmt.Sprintf("%spool-%dx%d-s%dx%d-%s", pool.name, v.k[0], v.k[1], v.s[0], v.s[1], v.pad)
			cases[name] = nntest.Case{New: func() nn.Layer { return pool.mk(v.k, v.s, v.pad) }, In: v.in, Input: distinct}
		}
	}
	return cases
}

func TestLayers(t *testing.T) {
	for name, c := range layerCases() {
		t.Run(name, func(t *testing.T) {
			c.Seed = uint64(len(name))
			nntest.Run(t, c)
		})
	}
}

func TestLosses(t *testing.T) {
	for _, sparse := range []bool{false, true} {
		for _, s := range []float64{0, 0.1} {
			l := nn.CrossEntropy{Sparse: sparse, LabelSmoothing: s}
			t.Run(fmt.Sprintf("%s-smoothing%v", l.Name(), s), func(t *testing.T) {
				nntest.RunLoss(t, nntest.LossCase{Loss: l, N: 4, C: 5, Seed: 3})
				nntest.RunLoss(t, nntest.LossCase{Loss: l, N: 1, C: 2, Seed: 4, Scale: 10})
				nntest.RunLoss(t, nntest.LossCase{Loss: l, N: 7, C: 5, Seed: 5, ClassWeight: []float64{0.5, 2, 1, 0.25, 3.5}})
			})
		}
	}
}

// scaledBackward wraps a layer and scales its dx by factor.
type scaledBackward struct {
	nn.Layer
	factor float32
	dx     *tensor.Tensor
}

func (s *scaledBackward) Backward(dy *tensor.Tensor) *tensor.Tensor {
	dx := s.Layer.Backward(dy)
	s.dx = dx.Clone()
	for i := range s.dx.Data {
		s.dx.Data[i] *= s.factor
	}
	return s.dx
}

// droppedBias wraps a layer and loses the bias gradient.
type droppedBias struct{ nn.Layer }

func (d droppedBias) Backward(dy *tensor.Tensor) *tensor.Tensor {
	dx := d.Layer.Backward(dy)
	for _, p := range d.Layer.Params() {
		if p.Name == "bias" {
			p.Grad.Zero()
		}
	}
	return dx
}

// overwrittenGrad wraps a layer whose Backward sets the gradient instead of
// adding to it.
type overwrittenGrad struct{ nn.Layer }

func (o *overwrittenGrad) Backward(dy *tensor.Tensor) *tensor.Tensor {
	dx := o.Layer.Backward(dy)
	for _, p := range o.Layer.Params() {
		if p.Grad != nil {
			p.Grad.Data[0] = 0.5 * p.Grad.Data[0]
		}
	}
	return dx
}

// brokenOmitted wraps a layer ending in a softmax whose Backward, with the
// softmax omitted, scales dx.
type brokenOmitted struct {
	nn.Layer
	omitted bool
	dx      *tensor.Tensor
}

func (b *brokenOmitted) OmitSoftmax(omit bool) bool {
	b.omitted = omit
	return b.Layer.(nn.FinalSoftmax).OmitSoftmax(omit)
}

func (b *brokenOmitted) Backward(dy *tensor.Tensor) *tensor.Tensor {
	dx := b.Layer.Backward(dy)
	if !b.omitted {
		return dx
	}
	b.dx = dx.Clone()
	for i := range b.dx.Data {
		b.dx.Data[i] *= 1.1
	}
	return b.dx
}

// wrongCost wraps a layer and miscounts its parameters.
type wrongCost struct{ nn.Layer }

func (w wrongCost) Cost(in []int) nn.Cost {
	c := w.Layer.Cost(in)
	c.Params++
	return c
}

// The harness must fail on a perturbed backward pass.
func TestHarnessCatchesBrokenBackward(t *testing.T) {
	dense := func() nn.Layer { return &nn.Dense{Units: 3, Activation: "tanh"} }
	convL := conv(2, 3, 3, 1, "same", "relu")
	tests := []struct {
		name string
		c    nntest.Case
		want string
	}{
		{"dense dx*1.1", nntest.Case{New: func() nn.Layer { return &scaledBackward{Layer: dense(), factor: 1.1} }, In: []int{4}, Params: 15}, "gradient of x"},
		{"conv dx*1.1", nntest.Case{New: func() nn.Layer { return &scaledBackward{Layer: convL(), factor: 1.1} }, In: []int{4, 4, 1}, Params: 20}, "gradient of x"},
		{"conv dx*1.01", nntest.Case{New: func() nn.Layer { return &scaledBackward{Layer: convL(), factor: 1.01} }, In: []int{4, 4, 1}, Params: 20}, "relative error"},
		{"dense dx*0.995", nntest.Case{New: func() nn.Layer { return &scaledBackward{Layer: dense(), factor: 0.995} }, In: []int{4}, Params: 15}, "relative error"},
		{"maxpool dx*1.1", nntest.Case{New: func() nn.Layer { return &scaledBackward{Layer: &nn.MaxPool2D{}, factor: 1.1} }, In: []int{4, 4, 1}, Input: distinct}, "gradient of x"},
		{"dense no bias grad", nntest.Case{New: func() nn.Layer { return droppedBias{dense()} }, In: []int{4}, Params: 15}, "gradient of param bias"},
		{"conv no bias grad", nntest.Case{New: func() nn.Layer { return droppedBias{convL()} }, In: []int{4, 4, 1}, Params: 20}, "gradient of param bias"},
		{"grad overwritten", nntest.Case{New: func() nn.Layer { return &overwrittenGrad{Layer: dense()} }, In: []int{4}, Params: 15}, "gradient of param kernel"},
		{"wrong param count", nntest.Case{New: dense, In: []int{4}, Params: 14}, "parameter count"},
		{"wrong cost", nntest.Case{New: func() nn.Layer { return wrongCost{dense()} }, In: []int{4}, Params: 15, MACs: 12}, "Cost([4]) before Build"},
		{"wrong MACs", nntest.Case{New: dense, In: []int{4}, Params: 15, MACs: 13}, "Cost([4]) before Build"},
		{"logits dx*1.1", nntest.Case{New: func() nn.Layer { return &brokenOmitted{Layer: &nn.Dense{Units: 3, Activation: "softmax"}} },
			In: []int{4}, Params: 15, MACs: 12}, "without softmax: gradient of x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := nntest.Check(tt.c)
			found := false
			for _, err := range errs {
				found = found || strings.Contains(err.Error(), tt.want)
			}
			if !found {
				t.Errorf("Check(%s) = %v, want an error containing %q", tt.name, errs, tt.want)
			}
		})
	}
	bad := nntest.CheckLoss(nntest.LossCase{Loss: nn.CrossEntropy{}, N: 3, C: 4, Perturb: func(g []float32) {
		for i := range g {
			g[i] *= 1.1
		}
	}})
	if len(bad) == 0 {
		t.Errorf("CheckLoss with a gradient scaled by 1.1 reported no error")
	}
}
