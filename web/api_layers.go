package web

import (
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// The answers about one layer: its kernels and its activation function.

type kernelAnswer struct {
	Model        string         `json:"model"`
	Layer        int            `json:"layer"`
	Name         string         `json:"name"`
	Type         string         `json:"type"`
	Channel      int            `json:"channel"`
	InputChannel int            `json:"input_channel"` // slice i of a [kh, kw, n] kernel reads input channel InputChannel+i
	Shape        []int          `json:"shape"`
	Values       []float32      `json:"values"`
	Bias         *float32       `json:"bias"`
	Divisors     []float32      `json:"divisors,omitempty"` // a Normalization's, with its means in Values
	Offsets      []float32      `json:"offsets,omitempty"`  // a LayerNormalization's beta, with its gamma in Values
	Config       map[string]any `json:"config"`
}

// layer returns the requested model and its layer named by the "index"
// path value.
func (s *Server) layer(r *http.Request) (*served, int, nn.Layer, error) {
	m, err := s.model(r)
	if err != nil {
		return nil, 0, nil, err
	}
	i, err := strconv.Atoi(r.PathValue("index"))
	if err != nil || i < 0 || i >= len(m.m.Layers) {
		return nil, 0, nil, errorf(http.StatusNotFound, "layer %q: want an index in 0..%d", r.PathValue("index"), len(m.m.Layers)-1)
	}
	return m, i, m.m.Layers[i], nil
}

// param returns the layer's parameter called name, or nil.
func param(l nn.Layer, name string) *nn.Param {
	for _, p := range l.Params() {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// handleKernel answers the weights feeding one output channel of a Conv2D
// ([kh, kw, cin] in that order; with g groups, [kh, kw, C/g]: output
// channel o reads the C/g input channels of its group o/(F/g) alone), of a
// DepthwiseConv2D ([kh, kw, 1]: output channel o reads input channel o/M
// alone, M being its depth multiplier) or one unit of a Dense layer ([in];
// [1, 1, C] on an image, whose pixels it weighs as a 1×1 convolution),
// and a PReLU's slopes for one channel (see slopes, also a LayerScale's
// scale), a Normalization's means and divisors (see statistics), a
// LayerNormalization's or GroupNormalization's gamma and beta (see
// layerNormWeights, groupNormWeights).
func (s *Server) handleKernel(w http.ResponseWriter, r *http.Request) {
	m, i, l, err := s.layer(r)
	if err != nil {
		fail(w, err)
		return
	}
	switch l := l.(type) {
	case *nn.PReLU, *nn.LayerScale:
		slopes(w, r, m, i, l)
		return
	case *nn.Normalization:
		statistics(w, r, m, i, l)
		return
	case *nn.LayerNormalization:
		layerNormWeights(w, r, m, i, l)
		return
	case *nn.GroupNormalization:
		groupNormWeights(w, r, m, i, l)
		return
	}
	kp, depthwise := param(l, "kernel"), false
	if kp == nil {
		kp, depthwise = param(l, "depthwise_kernel"), true
	}
	if kp == nil || kp.Value.Rank() < 2 {
		writeError(w, http.StatusNotFound, "layer %d (%s, %s) has no kernel", i, l.Name(), l.Type())
		return
	}
	// The kernel is a matrix of one column per output channel, one row
	// per weight of it: [..., cout], or [kh, kw, C, M] for a depthwise
	// kernel, whose C·M columns hold kh·kw weights each.
	ks := kp.Value.Shape
	cout, shape := ks[len(ks)-1], ks[:len(ks)-1]
	if depthwise {
		cout, shape = ks[2]*ks[3], []int{ks[0], ks[1], 1}
	}
	if _, ok := l.(*nn.Dense); ok && len(l.OutputShape()) == 3 {
		shape = []int{1, 1, ks[0]} // at each pixel: a 1×1 convolution's
	}
	c, err := intParam(r, "channel", 0, 0, cout-1)
	if err != nil {
		fail(w, err)
		return
	}
	n := len(kp.Value.Data) / cout
	ans := kernelAnswer{Model: m.name, Layer: i, Name: l.Name(), Type: l.Type(), Channel: c, Shape: shape, Values: make([]float32, n), Config: m.info.Layers[i].Config}
	if depthwise {
		ans.InputChannel = c / ks[3]
	}
	if cv, ok := l.(*nn.Conv2D); ok && cv.Groups > 1 {
		ans.InputChannel = c / (cout / cv.Groups) * ks[2] // the first channel of its group
	}
	for j := range n {
		ans.Values[j] = kp.Value.Data[j*cout+c]
	}
	if bp := param(l, "bias"); bp != nil && len(bp.Value.Data) == cout {
		b := bp.Value.Data[c]
		ans.Bias = &b
	}
	writeJSON(w, http.StatusOK, ans)
}

// slopes answers the slopes a PReLU multiplies the values of one channel
// (of the last axis) below 0 by: [ah, aw] for an image, [1, 1] when they
// are shared along the rows and columns; [1] for a vector. For a
// LayerScale, the channel's scale ([1]).
func slopes(w http.ResponseWriter, r *http.Request, m *served, i int, l nn.Layer) {
	c, err := channelOf(r, l)
	if err != nil {
		fail(w, err)
		return
	}
	a := l.Params()[0].Value
	ans := kernelAnswer{Model: m.name, Layer: i, Name: l.Name(), Type: l.Type(), Channel: c, Config: m.info.Layers[i].Config}
	ans.Shape, ans.Values = ofChannel(a.Data, a.Shape, c)
	writeJSON(w, http.StatusOK, ans)
}

// layerNormWeights answers the gamma (in Values) and beta (in Offsets) a
// LayerNormalization applies to the values of one channel after
// normalizing them: [h, w] for an image, [t] for a sequence [T, C], 1
// along the axes it does not normalize (their values share gamma and
// beta); [1] for a vector. A layer without gamma answers ones, without
// beta zeros.
func layerNormWeights(w http.ResponseWriter, r *http.Request, m *served, i int, l *nn.LayerNormalization) {
	c, err := channelOf(r, l)
	if err != nil {
		fail(w, err)
		return
	}
	in, axes := l.OutputShape(), l.Axes()
	norm := make([]bool, len(in))
	for _, a := range axes {
		norm[a-1] = true
	}
	weights := map[string][]float32{}
	for _, p := range l.Params() {
		weights[p.Name] = p.Value.Data
	}
	// at returns the index in gamma and beta (the input's sizes along the
	// normalized axes, in order) of the input cell idx.
	at := func(idx []int) int {
		k, stride := 0, 1
		for a := len(in) - 1; a >= 0; a-- {
			if norm[a] {
				k += idx[a] * stride
				stride *= in[a]
			}
		}
		return k
	}
	ans := kernelAnswer{Model: m.name, Layer: i, Name: l.Name(), Type: l.Type(), Channel: c, Config: m.info.Layers[i].Config, Shape: []int{1}}
	cells := [][]int{{c}}
	if len(in) > 1 {
		// The channel's cells along the other axes, 1 along those it does
		// not normalize, in row-major order.
		ans.Shape, cells = make([]int, len(in)-1), nil
		n := 1
		for a := range ans.Shape {
			ans.Shape[a] = 1
			if norm[a] {
				ans.Shape[a] = in[a]
			}
			n *= ans.Shape[a]
		}
		for k := range n {
			idx := make([]int, len(in))
			idx[len(in)-1] = c
			for a, rest := len(ans.Shape)-1, k; a >= 0; a-- {
				idx[a], rest = rest%ans.Shape[a], rest/ans.Shape[a]
			}
			cells = append(cells, idx)
		}
	}
	for _, idx := range cells {
		g, b := float32(1), float32(0)
		if v := weights["gamma"]; v != nil {
			g = v[at(idx)]
		}
		if v := weights["beta"]; v != nil {
			b = v[at(idx)]
		}
		ans.Values, ans.Offsets = append(ans.Values, g), append(ans.Offsets, b)
	}
	writeJSON(w, http.StatusOK, ans)
}

// statistics answers the means and divisors a Normalization applies to the
// values of one channel (of the last axis): [h, w] of each for an image,
// [1, 1] when the rows and columns share them; [1] for a vector.
func statistics(w http.ResponseWriter, r *http.Request, m *served, i int, l *nn.Normalization) {
	c, err := channelOf(r, l)
	if err != nil {
		fail(w, err)
		return
	}
	mean, _ := l.Stats()
	ans := kernelAnswer{Model: m.name, Layer: i, Name: l.Name(), Type: l.Type(), Channel: c, Config: m.info.Layers[i].Config}
	ans.Shape, ans.Values = ofChannel(mean, l.StatsShape(), c)
	_, ans.Divisors = ofChannel(l.Divisors(), l.StatsShape(), c)
	writeJSON(w, http.StatusOK, ans)
}

// channelOf reads the request's channel of l's output (of its last axis).
func channelOf(r *http.Request, l nn.Layer) (int, error) {
	out := l.OutputShape()
	return intParam(r, "channel", 0, 0, out[len(out)-1]-1)
}

// ofChannel returns the values of channel c of a tensor of the given shape
// (along its last axis, of size 1 when all channels share them) and the
// shape of its other axes ([1] for none).
func ofChannel(data []float32, shape []int, c int) ([]int, []float32) {
	n := shape[len(shape)-1]
	rest := slices.Clone(shape[:len(shape)-1])
	if len(rest) == 0 {
		rest = []int{1}
	}
	out := make([]float32, len(data)/n)
	for j := range out {
		out[j] = data[j*n+min(c, n-1)]
	}
	return rest, out
}

// maxActivationValues bounds the values of one activation request.
const maxActivationValues = 4096

type activationAnswer struct {
	Model      string    `json:"model"`
	Layer      int       `json:"layer"`
	Activation string    `json:"activation"`
	Z          []float32 `json:"z"`
	Values     []float32 `json:"values"`
}

// handleActivation applies a layer's activation function, as nn computes
// it, to the pre-activation values listed in the "z" parameter (for the
// page's arithmetic; softmax takes them as one row).
func (s *Server) handleActivation(w http.ResponseWriter, r *http.Request) {
	m, i, l, err := s.layer(r)
	if err != nil {
		fail(w, err)
		return
	}
	name, ok := m.info.Layers[i].Config["activation"].(string)
	if !ok {
		writeError(w, http.StatusNotFound, "layer %d (%s, %s) has no activation", i, l.Name(), l.Type())
		return
	}
	v := r.URL.Query().Get("z")
	fields := strings.Split(v, ",")
	if v == "" || len(fields) > maxActivationValues {
		writeError(w, http.StatusBadRequest, "parameter z: want 1 to %d comma-separated numbers", maxActivationValues)
		return
	}
	z := make([]float32, len(fields))
	for j, f := range fields {
		x, err := strconv.ParseFloat(strings.TrimSpace(f), 32)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			writeError(w, http.StatusBadRequest, "parameter z: value %d %q is not a finite number", j, f)
			return
		}
		z[j] = float32(x)
	}
	act := &nn.Activation{Func: name}
	if _, err := act.Build([]int{len(z)}, nil); err != nil {
		fail(w, err)
		return
	}
	y := act.Forward(tensor.FromData(z, 1, len(z)), false)
	for j, v := range y.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			writeError(w, http.StatusBadRequest, "parameter z: value %d %q: %s gives %v, beyond float32", j, strings.TrimSpace(fields[j]), name, v)
			return
		}
	}
	writeJSON(w, http.StatusOK, activationAnswer{Model: m.name, Layer: i, Activation: name, Z: z, Values: y.Data})
}

// groupNormWeights answers the gamma (in Values) and beta (in Offsets) a
// GroupNormalization applies to one channel ([1] each; ones and zeros for
// those left out), and in InputChannel the first channel of its group,
// whose channels are normalised together.
func groupNormWeights(w http.ResponseWriter, r *http.Request, m *served, i int, l *nn.GroupNormalization) {
	c, err := channelOf(r, l)
	if err != nil {
		fail(w, err)
		return
	}
	size := l.OutputShape()[len(l.OutputShape())-1] / l.GroupCount()
	ans := kernelAnswer{Model: m.name, Layer: i, Name: l.Name(), Type: l.Type(), Channel: c, Config: m.info.Layers[i].Config,
		Shape: []int{1}, Values: []float32{1}, Offsets: []float32{0}, InputChannel: c / size * size}
	for _, p := range l.Params() {
		if p.Name == "gamma" {
			ans.Values[0] = p.Value.Data[c]
		} else {
			ans.Offsets[0] = p.Value.Data[c]
		}
	}
	writeJSON(w, http.StatusOK, ans)
}
