package web

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// model returns the model named by the "model" query parameter; it may be
// omitted when only one model is served.
func (s *Server) model(r *http.Request) (*served, error) {
	name := r.URL.Query().Get("model")
	if name == "" {
		if r.PathValue("name") != "" {
			name = r.PathValue("name")
		} else if len(s.models) == 1 {
			return s.models[0], nil
		} else {
			return nil, errorf(http.StatusBadRequest, "missing model parameter: one of %s", s.names())
		}
	}
	m, ok := s.byName[name]
	if !ok {
		if len(s.models) == 0 {
			return nil, errorf(http.StatusNotFound, "unknown model %q: no models are served", name)
		}
		return nil, errorf(http.StatusNotFound, "unknown model %q: one of %s", name, s.names())
	}
	return m, nil
}

func (s *Server) names() string {
	var n []string
	for _, m := range s.models {
		n = append(n, m.name)
	}
	return strings.Join(n, ", ")
}

// fail writes err as a JSON error: its own status for an httpError, 503
// when the request's context ended, 500 otherwise.
func fail(w http.ResponseWriter, err error) {
	switch he := new(httpError); {
	case errors.As(err, &he):
		writeError(w, he.status, "%s", he.msg)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, "the request ended: %v", err)
	default:
		writeError(w, http.StatusInternalServerError, "%v", err)
	}
}

// intParam parses an optional integer query parameter within [lo, hi].
func intParam(r *http.Request, key string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, errorf(http.StatusBadRequest, "parameter %s=%q: want an integer in %d..%d", key, v, lo, hi)
	}
	return n, nil
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	infos := []modelInfo{}
	for _, m := range s.models {
		infos = append(infos, m.info)
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": infos})
}

// modelAndK returns the requested model and the "k" parameter.
func (s *Server) modelAndK(r *http.Request) (*served, int, error) {
	m, err := s.model(r)
	if err != nil {
		return nil, 0, err
	}
	k, err := intParam(r, "k", 5, 1, len(m.classes))
	return m, k, err
}

// post answers a POST endpoint once its parameters are parsed: it checks
// the body's length and an image's header, waits for a work slot (given
// back when the handler returns, even by a panic), reads the image into the
// model's raw pixels and writes what answer returns, or the error.
func (s *Server) post(w http.ResponseWriter, r *http.Request, m *served, answer func(ctx context.Context, px []float32, inverted bool) (any, error)) {
	mt, err := mediaType(r)
	if err != nil {
		fail(w, err)
		return
	}
	up, err := open(w, r, m, mt, s.opts.MaxBodyBytes)
	if err != nil {
		fail(w, err)
		return
	}
	release, err := s.acquire(r.Context())
	if err != nil {
		fail(w, err)
		return
	}
	defer release()
	px, inverted, err := up.pixels(m)
	if err == nil {
		err = r.Context().Err()
	}
	if err != nil {
		fail(w, err)
		return
	}
	ans, err := answer(r.Context(), px, inverted)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

type predictAnswer struct {
	Model    string             `json:"model"`
	Inverted bool               `json:"inverted"`
	Top      []model.Prediction `json:"top"`
}

func (s *Server) handlePredict(w http.ResponseWriter, r *http.Request) {
	m, k, err := s.modelAndK(r)
	if err != nil {
		fail(w, err)
		return
	}
	s.post(w, r, m, func(ctx context.Context, px []float32, inverted bool) (any, error) {
		rs, err := m.c.ClassifyPixels(ctx, [][]float32{px}, k)
		if err != nil {
			return nil, err
		}
		return predictAnswer{Model: m.name, Inverted: inverted, Top: rs[0].Top}, nil
	})
}

// encoded is a tensor in the compact form of the API: base64 of uint8
// levels between Min and Max ("u8") or of little-endian float32 ("f32").
type encoded struct {
	Index    int     `json:"index"`
	Name     string  `json:"name"`
	Type     string  `json:"type"`
	Shape    []int   `json:"shape"`
	Min      float32 `json:"min"`
	Max      float32 `json:"max"`
	Encoding string  `json:"encoding"`
	Data     string  `json:"data"`
}

func encode(v []float32, f32 bool) (lo, hi float32, enc, data string) {
	lo, hi = float32(math.Inf(1)), float32(math.Inf(-1))
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	if len(v) == 0 {
		lo, hi = 0, 0
	}
	if f32 {
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		}
		return lo, hi, "f32", base64.StdEncoding.EncodeToString(b)
	}
	b := make([]byte, len(v))
	if hi > lo {
		scale := 255 / (hi - lo)
		for i, x := range v {
			b[i] = uint8((x-lo)*scale + 0.5)
		}
	}
	return lo, hi, "u8", base64.StdEncoding.EncodeToString(b)
}

type activationsAnswer struct {
	Model    string             `json:"model"`
	Inverted bool               `json:"inverted"`
	Pixels   []byte             `json:"pixels"`
	Input    encoded            `json:"input"`
	Layers   []encoded          `json:"layers"`
	Top      []model.Prediction `json:"top"`
	Saliency *saliencyAnswer    `json:"saliency,omitempty"`
}

type saliencyAnswer struct {
	Model string  `json:"model,omitempty"`
	Class int     `json:"class"`
	Name  string  `json:"name"`
	Shape []int   `json:"shape"`
	Max   float32 `json:"max"`
	Data  string  `json:"data"`
}

// fullSet parses the "full" parameter: layer indices (-1 for the input)
// whose values are sent as float32.
func fullSet(r *http.Request, layers int) (map[int]bool, error) {
	set := map[int]bool{}
	v := r.URL.Query().Get("full")
	if v == "" {
		return set, nil
	}
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < -1 || n >= layers {
			return nil, errorf(http.StatusBadRequest, "parameter full=%q: want layer indices in -1..%d", v, layers-1)
		}
		set[n] = true
	}
	return set, nil
}

// classParam parses the optional "class" parameter; -1 means the top class.
func classParam(r *http.Request, m *served) (int, error) {
	return intParam(r, "class", -1, -1, len(m.classes)-1)
}

func (s *Server) handleActivations(w http.ResponseWriter, r *http.Request) {
	m, k, err := s.modelAndK(r)
	if err != nil {
		fail(w, err)
		return
	}
	full, err := fullSet(r, len(m.info.Layers))
	if err != nil {
		fail(w, err)
		return
	}
	class, err := classParam(r, m)
	if err != nil {
		fail(w, err)
		return
	}
	withSaliency := r.URL.Query().Get("saliency") == "1"
	s.post(w, r, m, func(ctx context.Context, px []float32, inverted bool) (any, error) {
		t, err := m.c.Trace(ctx, px, k)
		if err != nil {
			return nil, err
		}
		ans := activationsAnswer{Model: m.name, Inverted: inverted, Pixels: make([]byte, len(px)), Top: t.Top}
		for i, v := range px {
			ans.Pixels[i] = uint8(v + 0.5)
		}
		ans.Input = encoded{Index: -1, Name: "input", Type: "Input", Shape: m.shape}
		ans.Input.Min, ans.Input.Max, ans.Input.Encoding, ans.Input.Data = encode(t.Input.Data, full[-1])
		for i, o := range t.Layers {
			l := m.info.Layers[i]
			e := encoded{Index: i, Name: l.Name, Type: l.Type, Shape: o.Shape[1:]}
			e.Min, e.Max, e.Encoding, e.Data = encode(o.Data, full[i])
			ans.Layers = append(ans.Layers, e)
		}
		if withSaliency {
			if class < 0 {
				class = t.Top[0].Label
			}
			if ans.Saliency, err = m.saliency(ctx, px, class); err != nil {
				return nil, err
			}
		}
		return ans, nil
	})
}

// saliency answers the classifier's saliency map of class as uint8 levels
// of its maximum.
func (m *served) saliency(ctx context.Context, px []float32, class int) (*saliencyAnswer, error) {
	sal, err := m.c.Saliency(ctx, px, class)
	if err != nil {
		return nil, err
	}
	var top float32
	for _, v := range sal.Map.Data {
		top = max(top, v)
	}
	b := make([]byte, len(sal.Map.Data))
	if top > 0 {
		for i, v := range sal.Map.Data {
			b[i] = uint8(v/top*255 + 0.5)
		}
	}
	return &saliencyAnswer{Class: sal.Class, Name: m.classes[sal.Class], Shape: sal.Map.Shape, Max: top, Data: base64.StdEncoding.EncodeToString(b)}, nil
}

func (s *Server) handleSaliency(w http.ResponseWriter, r *http.Request) {
	m, err := s.model(r)
	if err != nil {
		fail(w, err)
		return
	}
	class, err := classParam(r, m)
	if err != nil {
		fail(w, err)
		return
	}
	s.post(w, r, m, func(ctx context.Context, px []float32, _ bool) (any, error) {
		ans, err := m.saliency(ctx, px, class)
		if ans != nil {
			ans.Model = m.name
		}
		return ans, err
	})
}

type kernelAnswer struct {
	Model   string         `json:"model"`
	Layer   int            `json:"layer"`
	Name    string         `json:"name"`
	Type    string         `json:"type"`
	Channel int            `json:"channel"`
	Shape   []int          `json:"shape"`
	Values  []float32      `json:"values"`
	Bias    *float32       `json:"bias"`
	Config  map[string]any `json:"config"`
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
// ([kh, kw, cin] in that order) or one unit of a Dense layer ([in]).
func (s *Server) handleKernel(w http.ResponseWriter, r *http.Request) {
	m, i, l, err := s.layer(r)
	if err != nil {
		fail(w, err)
		return
	}
	kp := param(l, "kernel")
	if kp == nil || kp.Value.Rank() < 2 {
		writeError(w, http.StatusNotFound, "layer %d (%s, %s) has no kernel", i, l.Name(), l.Type())
		return
	}
	ks := kp.Value.Shape
	cout := ks[len(ks)-1]
	c, err := intParam(r, "channel", 0, 0, cout-1)
	if err != nil {
		fail(w, err)
		return
	}
	n := len(kp.Value.Data) / cout
	ans := kernelAnswer{Model: m.name, Layer: i, Name: l.Name(), Type: l.Type(), Channel: c, Shape: ks[:len(ks)-1], Values: make([]float32, n), Config: m.info.Layers[i].Config}
	for j := range n {
		ans.Values[j] = kp.Value.Data[j*cout+c]
	}
	if bp := param(l, "bias"); bp != nil && len(bp.Value.Data) == cout {
		b := bp.Value.Data[c]
		ans.Bias = &b
	}
	writeJSON(w, http.StatusOK, ans)
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
	writeJSON(w, http.StatusOK, activationAnswer{Model: m.name, Layer: i, Activation: name, Z: z, Values: y.Data})
}

func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request) {
	m, err := s.model(r)
	if err != nil {
		fail(w, err)
		return
	}
	if m.history == nil {
		writeError(w, http.StatusNotFound, "model %s has no training history", m.name)
		return
	}
	writeJSON(w, http.StatusOK, m.history)
}

// evaluated returns the requested model if it has an evaluation, or writes
// the error and returns nil.
func (s *Server) evaluated(w http.ResponseWriter, r *http.Request) *served {
	m, err := s.model(r)
	if err != nil {
		fail(w, err)
		return nil
	}
	if m.evaluation == nil {
		writeError(w, http.StatusNotFound, "model %s has no evaluation", m.name)
		return nil
	}
	return m
}

func (s *Server) handleEvaluation(w http.ResponseWriter, r *http.Request) {
	m := s.evaluated(w, r)
	if m == nil {
		return
	}
	ev := m.evaluation
	counts := make([][]int, len(ev.Matrix))
	for i := range counts {
		counts[i] = make([]int, len(ev.Matrix))
	}
	for _, sm := range ev.Samples {
		counts[sm.True][sm.Pred]++
	}
	short := *ev
	short.Samples = nil
	writeJSON(w, http.StatusOK, struct {
		evaluation
		SampleCounts [][]int `json:"sample_counts"`
	}{short, counts})
}

func (s *Server) handleSamples(w http.ResponseWriter, r *http.Request) {
	m := s.evaluated(w, r)
	if m == nil {
		return
	}
	ev := m.evaluation
	n := len(m.classes) - 1
	t, err := intParam(r, "true", -1, 0, n)
	if err == nil && t < 0 {
		err = errorf(http.StatusBadRequest, "missing parameter true (the true class, 0..%d)", n)
	}
	if err != nil {
		fail(w, err)
		return
	}
	p, err := intParam(r, "pred", -1, 0, n)
	if err == nil && p < 0 {
		err = errorf(http.StatusBadRequest, "missing parameter pred (the predicted class, 0..%d)", n)
	}
	if err != nil {
		fail(w, err)
		return
	}
	samples := []*sample{}
	for _, sm := range ev.Samples {
		if sm.True == t && sm.Pred == p {
			samples = append(samples, sm)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"true": t, "pred": p, "count": ev.Matrix[t][p], "image_shape": ev.ImageShape, "samples": samples})
}
