package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// ramp returns a [1,h,w,1] image holding 1, 2, 3, ... row by row.
func ramp(h, w int) *tensor.Tensor {
	x := tensor.New(1, h, w, 1)
	for i := range x.Data {
		x.Data[i] = float32(i + 1)
	}
	return x
}

// Hand-computed: kernel k[ky][kx] = 3ky+kx+1 (1..9, not symmetric, so a
// flipped kernel would fail), on ramps of 4×4 and 5×5.
func TestConv2DHandComputed(t *testing.T) {
	tests := []struct {
		name    string
		h       int
		stride  int
		padding string
		bias    float32
		want    []float32
		shape   []int
	}{
		// 4×4 valid: windows of 1,2,3/5,6,7/9,10,11 → 348, then +Σk=45 per
		// column step and +4·45 per row step.
		{"valid", 4, 1, "valid", 0, []float32{348, 393, 528, 573}, []int{1, 2, 2, 1}},
		{"valid+bias", 4, 1, "valid", 1, []float32{349, 394, 529, 574}, []int{1, 2, 2, 1}},
		// 4×4 same, corners only: top-left 5·1+6·2+8·5+9·6 = 111,
		// bottom-right 1·11+2·12+4·15+5·16 = 175.
		{"same", 4, 1, "same", 0, nil, []int{1, 4, 4, 1}},
		// 5×5 same stride 2: out 3×3, padding 1 before. (0,0): 5·1+6·2+8·6+9·7 = 128;
		// (1,1): full window centred on 13 = 681; (2,2): 1·19+2·20+4·24+5·25 = 280.
		{"same-s2", 5, 2, "same", 0, nil, []int{1, 3, 3, 1}},
		// 5×5 valid stride 2: (0,0) = 411, (1,1) = 411 + 12·45 = 951.
		{"valid-s2", 5, 2, "valid", 0, nil, []int{1, 2, 2, 1}},
	}
	corners := map[string]map[int]float32{
		"same":     {0: 111, 15: 175},
		"same-s2":  {0: 128, 4: 681, 8: 280},
		"valid-s2": {0: 411, 3: 951},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &nn.Conv2D{Filters: 1, KernelSize: [2]int{3, 3}, Strides: [2]int{tt.stride, tt.stride}, Padding: tt.padding}
			out, err := l.Build([]int{tt.h, tt.h, 1}, rand.New(rand.NewPCG(1, 1)))
			if err != nil {
				t.Fatal(err)
			}
			for i := range l.Params()[0].Value.Data {
				l.Params()[0].Value.Data[i] = float32(i + 1)
			}
			l.Params()[1].Value.Data[0] = tt.bias
			y := l.Forward(ramp(tt.h, tt.h), false)
			if !slices.Equal(y.Shape, tt.shape) || !slices.Equal(out, tt.shape[1:]) {
				t.Fatalf("Conv2D.Forward shape %v (Build %v), want %v", y.Shape, out, tt.shape)
			}
			if tt.want != nil && !slices.Equal(y.Data, tt.want) {
				t.Errorf("Conv2D.Forward = %v, want %v", y.Data, tt.want)
			}
			for i, v := range corners[tt.name] {
				if y.Data[i] != v {
					t.Errorf("Conv2D.Forward[%d] = %v, want %v (all: %v)", i, y.Data[i], v, y.Data)
				}
			}
		})
	}
}

// Results must not depend on the number of cores.
func TestConv2DSameResultAnyGOMAXPROCS(t *testing.T) {
	run := func(procs int) (y, dx, dw, db []float32) {
		return passes(t, procs, &nn.Conv2D{Filters: 5, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"}, []int{9, 9, 3}, nil, nil)
	}
	y1, dx1, dw1, db1 := run(1)
	y2, dx2, dw2, db2 := run(2)
	y4, dx4, dw4, db4 := run(4)
	for _, c := range []struct {
		name    string
		a, b, c []float32
	}{{"y", y1, y2, y4}, {"dx", dx1, dx2, dx4}, {"kernel grad", dw1, dw2, dw4}, {"bias grad", db1, db2, db4}} {
		if !slices.Equal(c.a, c.b) || !slices.Equal(c.a, c.c) {
			t.Errorf("Conv2D %s differs between GOMAXPROCS 1, 2 and 4", c.name)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	named := func(l nn.Layer, name string) nn.Layer { l.SetName(name); return l }
	tests := []struct {
		l    nn.Layer
		in   []int
		want string
	}{
		{named(&nn.Conv2D{Filters: 4, KernelSize: [2]int{5, 5}}, "conv2d_1"), []int{3, 3, 1},
			`conv2d_1 (Conv2D): kernel 5x5 is larger than the 3x3 input with padding "valid"`},
		{&nn.Conv2D{Filters: 0, KernelSize: [2]int{3, 3}}, []int{8, 8, 1}, "Conv2D: filters = 0: must be positive"},
		{&nn.Conv2D{Filters: 2}, []int{8, 8, 1}, "Conv2D: kernel size 0x0: must be positive"},
		{&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, Strides: [2]int{-1, 1}}, []int{8, 8, 1}, "strides -1x1"},
		{&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, Padding: "full"}, []int{8, 8, 1}, `unknown padding "full"`},
		{&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}}, []int{8, 8}, "Conv2D: input shape [8 8]"},
		{named(&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, Activation: "prelu"}, "c"), []int{8, 8, 1},
			`c (Conv2D): unknown activation "prelu" (valid: linear, relu, relu6, leaky_relu, elu, selu, gelu, sigmoid, tanh, softmax, softplus, softsign, silu, mish, hard_sigmoid, hard_silu)`},
		{&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, KernelInit: "ones"}, []int{8, 8, 1}, `unknown kernel initializer "ones"`},
		{named(&nn.Dense{Units: 10}, "dense"), []int{8, 0, 32}, "dense (Dense): input shape [8 0 32]: want positive sizes"},
		{&nn.Dense{Units: -1}, []int{8}, "Dense: units = -1: must be positive"},
		{&nn.Dense{Units: 3, Activation: "Relu"}, []int{8}, `unknown activation "Relu"`},
		{&nn.Dropout{Rate: 1}, []int{8}, "Dropout: rate = 1: must be in [0, 1)"},
		{&nn.Dropout{Rate: -0.1}, []int{8}, "rate = -0.1"},
		{&nn.MaxPool2D{PoolSize: [2]int{3, 3}}, []int{2, 2, 1}, `MaxPooling2D: pool 3x3 is larger than the 2x2 input with padding "valid"`},
		{&nn.AveragePooling2D{}, []int{4, 4}, "AveragePooling2D: input shape [4 4]"},
		{&nn.GlobalAveragePooling2D{}, []int{4}, "GlobalAveragePooling2D: input shape [4]"},
		{&nn.GlobalMaxPooling2D{}, []int{4, 0, 2}, "GlobalMaxPooling2D: input shape [4 0 2]"},
		{&nn.BatchNormalization{Momentum: 1.5}, []int{4}, "momentum = 1.5"},
		{&nn.BatchNormalization{Epsilon: -1}, []int{4}, "epsilon = -1"},
		{&nn.LeakyReLU{Alpha: -1}, []int{4}, "alpha = -1"},
		{&nn.ELU{Alpha: -1}, []int{4}, "alpha = -1"},
		{&nn.LeakyReLU{Alpha: math.NaN()}, []int{4}, "LeakyReLU: alpha = NaN: must be a finite number, not negative"},
		{&nn.LeakyReLU{Alpha: math.Inf(1)}, []int{4}, "alpha = +Inf"},
		{&nn.ELU{Alpha: math.NaN()}, []int{4}, "ELU: alpha = NaN: must be a positive finite number"},
		{&nn.ELU{Alpha: 1e39}, []int{4}, "alpha = 1e+39"},
		{&nn.ReLU{MaxValue: -6}, []int{4}, "ReLU: max_value = -6: must be a positive number, or 0 for none"},
		{&nn.Activation{Func: "exponential"}, []int{4}, `Activation: unknown activation "exponential"`},
		{&nn.Flatten{}, []int{0, 3}, "Flatten: input shape [0 3]"},
		{&nn.Dense{Units: 1 << 20}, []int{1 << 20}, "Dense: kernel of shape [1048576 1048576] is too large"},
		{&nn.Conv2D{Filters: 1 << 30, KernelSize: [2]int{3, 3}}, []int{8, 8, 1}, "kernel of shape [3 3 1 1073741824] is too large"},
		{&nn.MaxPool2D{}, []int{1 << 20, 1 << 20, 1}, "input of shape [1048576 1048576 1] is too large"},
		{&nn.ZeroPadding2D{Padding: [2][2]int{{1, -1}, {0, 0}}}, []int{4, 4, 1}, "ZeroPadding2D: padding [[1 -1] [0 0]]: want ((top, bottom), (left, right)), each from 0 to 268435456"},
		{&nn.ZeroPadding2D{Padding: [2][2]int{{1 << 20, 0}, {1 << 20, 0}}}, []int{4, 4, 1}, "output of shape [1048580 1048580 1] is too large"},
		{&nn.ZeroPadding2D{}, []int{4, 4}, "ZeroPadding2D: input shape [4 4]"},
	}
	for _, tt := range tests {
		_, err := tt.l.Build(tt.in, rand.New(rand.NewPCG(1, 1)))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s.Build(%v) = %v, want an error containing %q", tt.l.Type(), tt.in, err, tt.want)
		}
	}
}

func TestFromConfigErrors(t *testing.T) {
	tests := []struct {
		typ  string
		cfg  map[string]any
		want string
	}{
		{"Conv3D", nil, `nn: unknown layer type "Conv3D"`},
		{"Conv2D", map[string]any{"filters": 3.5}, `nn: Conv2D config: field "filters": want an integer, got 3.5`},
		{"Conv2D", map[string]any{"kernel_size": []any{3.0, "x"}}, `field "kernel_size": want two integers`},
		{"Conv2D", map[string]any{"dilation": []any{1.0, 1.0}}, `nn: Conv2D config: unknown field "dilation"`},
		{"Conv2D", map[string]any{"dilation_rate": []any{2.0, "x"}}, `field "dilation_rate": want two integers`},
		{"Dense", map[string]any{"use_bias": "yes"}, `field "use_bias": want true or false`},
		{"Dropout", map[string]any{"rate": "0.5"}, `field "rate": want a number`},
		{"Activation", map[string]any{"activation": 3.0}, `field "activation": want a string`},
		{"ZeroPadding2D", map[string]any{"padding": []any{1.0, []any{1.0}}}, `field "padding": want an integer, two integers or two pairs of integers`},
		{"ZeroPadding2D", map[string]any{"padding": "same"}, `field "padding": want an integer, two integers or two pairs of integers`},
	}
	for _, tt := range tests {
		_, err := nn.FromConfig(tt.typ, tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("FromConfig(%q, %v) = %v, want an error containing %q", tt.typ, tt.cfg, err, tt.want)
		}
	}
	// Accepted spellings: a single number for a pair, Go ints, aliases.
	l, err := nn.FromConfig("MaxPool2D", map[string]any{"pool_size": 3, "strides": []int{1, 2}, "name": "p"})
	if err != nil {
		t.Fatal(err)
	}
	mp := l.(*nn.MaxPool2D)
	if mp.PoolSize != [2]int{3, 3} || mp.Strides != [2]int{1, 2} || mp.Name() != "p" {
		t.Errorf("FromConfig(MaxPool2D) = %+v name %q", mp, mp.Name())
	}
	// Keras's three spellings of ZeroPadding2D's padding.
	for _, tt := range []struct {
		v    any
		want [2][2]int
	}{
		{2.0, [2][2]int{{2, 2}, {2, 2}}},
		{[]any{1.0, 3.0}, [2][2]int{{1, 1}, {3, 3}}},
		{[]any{[]any{0.0, 1.0}, []any{2.0, 3.0}}, [2][2]int{{0, 1}, {2, 3}}},
	} {
		l, err := nn.FromConfig("ZeroPadding2D", map[string]any{"padding": tt.v})
		if err != nil {
			t.Fatal(err)
		}
		if got := l.(*nn.ZeroPadding2D).Padding; got != tt.want {
			t.Errorf("FromConfig(ZeroPadding2D, padding %v): %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestDefaultName(t *testing.T) {
	for typ, want := range map[string]string{
		"Conv2D": "conv2d", "MaxPooling2D": "max_pooling2d", "ReLU": "re_lu", "LeakyReLU": "leaky_re_lu",
		"BatchNormalization": "batch_normalization", "GlobalAveragePooling2D": "global_average_pooling2d", "Nope": "",
	} {
		if got := nn.DefaultName(typ); got != want {
			t.Errorf("DefaultName(%q) = %q, want %q", typ, got, want)
		}
	}
	for _, typ := range nn.LayerTypes() {
		if nn.DefaultName(typ) == "" {
			t.Errorf("DefaultName(%q) is empty", typ)
		}
	}
}

func TestSkipInputGradient(t *testing.T) {
	for _, mk := range []func() nn.Layer{
		func() nn.Layer { return &nn.Conv2D{Filters: 3, KernelSize: [2]int{3, 3}, Padding: "same"} },
		func() nn.Layer { return &nn.Conv2D{Filters: 3, KernelSize: [2]int{1, 1}} },
		func() nn.Layer { return &nn.Dense{Units: 3, Activation: "softmax"} },
	} {
		var grads [2][]float32
		for i, skip := range []bool{false, true} {
			l := mk()
			in := []int{5, 5, 2}
			if l.Type() == "Dense" {
				in = []int{6}
			}
			build(t, l, in...)
			l.(nn.InputGradientSkipper).SkipInputGradient(skip)
			x := tensor.New(append([]int{3}, in...)...)
			for j := range x.Data {
				x.Data[j] = float32(j%5) - 2
			}
			y := l.Forward(x, true)
			dx := l.Backward(y.Clone())
			if skip != (dx == nil) {
				t.Errorf("%s with SkipInputGradient(%v): Backward returned %v", l.Type(), skip, dx)
			}
			grads[i] = l.Params()[0].Grad.Data
		}
		if !slices.Equal(grads[0], grads[1]) {
			t.Errorf("%s: SkipInputGradient changes the kernel gradient", mk().Type())
		}
	}
}

// TestSkipParamGradients checks that a layer told to skip its parameters'
// gradients returns the same input gradient, bit for bit, and leaves every
// gradient as it was; and that it adds them again when told to.
func TestSkipParamGradients(t *testing.T) {
	img := []int{6, 5, 4}
	for _, tt := range []struct {
		l        func() nn.Layer
		in       []int
		training bool
	}{
		{func() nn.Layer {
			return &nn.Conv2D{Filters: 3, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"}
		}, img, false},
		{func() nn.Layer { return &nn.Conv2D{Filters: 5, KernelSize: [2]int{3, 3}, Activation: "silu"} }, img, true},
		{func() nn.Layer { return &nn.Conv2D{Filters: 3, KernelSize: [2]int{1, 1}} }, img, false},
		{func() nn.Layer {
			return &nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Groups: 2, Activation: "relu"}
		}, img, false},
		{func() nn.Layer {
			return &nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu6"}
		}, img, false},
		{func() nn.Layer { return &nn.Dense{Units: 3, Activation: "relu"} }, []int{7}, false},
		{func() nn.Layer { return &nn.BatchNormalization{} }, img, false},
		{func() nn.Layer { return &nn.BatchNormalization{} }, img, true},
		{func() nn.Layer { return &nn.LayerNormalization{} }, img, true},
		{func() nn.Layer { return &nn.GroupNormalization{Groups: 2} }, img, true},
	} {
		const sentinel = 7
		var dxs [2][]float32
		for i, skip := range []bool{false, true} {
			l := build(t, tt.l(), tt.in...)
			name := fmt.Sprintf("%s (training %v, skip %v)", l.Type(), tt.training, skip)
			for _, p := range l.Params() {
				if p.Grad != nil {
					p.Grad.Fill(sentinel)
				}
			}
			l.(nn.ParamGradientSkipper).SkipParamGradients(skip)
			x := tensor.New(append([]int{2}, tt.in...)...)
			fillNormal(rand.New(rand.NewPCG(3, 4)), 1, x.Data)
			y := l.Forward(x, tt.training)
			dy := tensor.New(y.Shape...)
			fillNormal(rand.New(rand.NewPCG(5, 6)), 1, dy.Data)
			dxs[i] = l.Backward(dy).Clone().Data
			for _, p := range l.Params() {
				if p.Grad == nil {
					continue
				}
				kept := !slices.ContainsFunc(p.Grad.Data, func(v float32) bool { return v != sentinel })
				if kept != skip {
					t.Errorf("%s: %s's gradient left as it was: %v", name, p.Name, kept)
				}
			}
		}
		if !slices.Equal(dxs[0], dxs[1]) {
			t.Errorf("%s: SkipParamGradients changes the input gradient", tt.l().Type())
		}
	}
}

func TestConv2DWindow(t *testing.T) {
	l := &nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 2}, Strides: [2]int{2, 1}, Padding: "same"}
	if _, ok := nn.WindowOf(l); ok {
		t.Errorf("WindowOf(unbuilt Conv2D) reports a window")
	}
	build(t, l, 6, 5, 1)
	want := nn.Window{Size: [2]int{3, 2}, Strides: [2]int{2, 1}, Pad: [2]int{0, 0}, Dilation: [2]int{1, 1}}
	if w, ok := nn.WindowOf(l); !ok || w != want {
		t.Errorf("WindowOf(Conv2D) = %+v, %v; want %+v, true", w, ok, want)
	}
	pad := &nn.ZeroPadding2D{Padding: [2][2]int{{2, 0}, {1, 3}}}
	build(t, pad, 6, 5, 1)
	want = nn.Window{Size: [2]int{1, 1}, Strides: [2]int{1, 1}, Pad: [2]int{2, 1}, Dilation: [2]int{1, 1}}
	if w, ok := nn.WindowOf(pad); !ok || w != want {
		t.Errorf("WindowOf(ZeroPadding2D) = %+v, %v; want %+v, true", w, ok, want)
	}
	dw := &nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: "same"}
	build(t, dw, 6, 5, 2)
	want = nn.Window{Size: [2]int{3, 3}, Strides: [2]int{2, 2}, Pad: [2]int{0, 1}, Dilation: [2]int{1, 1}}
	if w, ok := nn.WindowOf(dw); !ok || w != want {
		t.Errorf("WindowOf(DepthwiseConv2D) = %+v, %v; want %+v, true", w, ok, want)
	}
	dense := &nn.Dense{Units: 3}
	build(t, dense, 6, 5, 2)
	want = nn.Window{Size: [2]int{1, 1}, Strides: [2]int{1, 1}, Dilation: [2]int{1, 1}}
	if w, ok := nn.WindowOf(dense); !ok || w != want {
		t.Errorf("WindowOf(Dense on an image) = %+v, %v; want %+v, true", w, ok, want)
	}
	build(t, dense, 10)
	if _, ok := nn.WindowOf(dense); ok {
		t.Errorf("WindowOf(Dense on a vector) reports a window")
	}
}

// TestSharePackedRefuses: a Conv2D shares its packing only with a Conv2D
// built as it is, its padding taken in or not alike.
func TestSharePackedRefuses(t *testing.T) {
	conv := func(fused bool) *nn.Conv2D {
		l := &nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}}
		build(t, l, 6, 6, 2)
		if fused && !l.FusePadding([2][2]int{{1, 1}, {1, 1}}) {
			t.Fatal("FusePadding refused")
		}
		return l
	}
	dense := &nn.Dense{Units: 3}
	build(t, dense, 5)
	for name, src := range map[string]nn.Layer{"a Dense": dense, "padding taken in": conv(true)} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "is not a Conv2D built as this one") {
					t.Errorf("%s: SharePacked panicked with %v", name, r)
				}
			}()
			conv(false).SharePacked(src)
		}()
	}
	conv(true).SharePacked(conv(true)) // alike: no panic
}
