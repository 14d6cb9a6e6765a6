package web

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

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

// fail writes err as a JSON error.
func fail(w http.ResponseWriter, err error) {
	if he := new(httpError); errors.As(err, &he) {
		writeError(w, he.status, "%s", he.msg)
		return
	}
	writeError(w, http.StatusServiceUnavailable, "%v", err)
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

type prediction struct {
	Label       int     `json:"label"`
	Name        string  `json:"name"`
	Probability float32 `json:"probability"`
}

// top returns the k most probable classes.
func (m *served) top(p []float32, k int) []prediction {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case p[a] > p[b]:
			return -1
		case p[a] < p[b]:
			return 1
		}
		return 0
	})
	k = min(k, len(p))
	out := make([]prediction, k)
	for i, c := range idx[:k] {
		out[i] = prediction{Label: c, Name: m.classes[c], Probability: p[c]}
	}
	return out
}

// request parses the common parameters of the POST endpoints.
func (s *Server) request(r *http.Request) (m *served, pixels []float32, inverted bool, k int, err error) {
	if m, err = s.model(r); err != nil {
		return
	}
	if k, err = intParam(r, "k", 5, 1, len(m.classes)); err != nil {
		return
	}
	pixels, inverted, err = readPixels(r, m.shape)
	return
}

// predict returns the class probabilities for the batch x.
func (m *served) predict(net Network, x *tensor.Tensor) *tensor.Tensor {
	outs := net.Forward(x)
	probs := tensor.New(x.Shape[0], len(m.classes))
	net.Probabilities(probs, outs[len(outs)-1])
	return probs
}

type predictAnswer struct {
	Model    string       `json:"model"`
	Inverted bool         `json:"inverted"`
	Top      []prediction `json:"top"`
}

func (s *Server) handlePredict(w http.ResponseWriter, r *http.Request) {
	m, pixels, inverted, k, err := s.request(r)
	if err != nil {
		fail(w, err)
		return
	}
	net, err := m.acquire(r.Context())
	if err != nil {
		fail(w, err)
		return
	}
	probs := m.predict(net, m.input(net, pixels))
	m.release(net)
	writeJSON(w, http.StatusOK, predictAnswer{Model: m.name, Inverted: inverted, Top: m.top(probs.Data, k)})
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
	Model    string          `json:"model"`
	Inverted bool            `json:"inverted"`
	Pixels   []byte          `json:"pixels"`
	Input    encoded         `json:"input"`
	Layers   []encoded       `json:"layers"`
	Top      []prediction    `json:"top"`
	Saliency *saliencyAnswer `json:"saliency,omitempty"`
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
	m, pixels, inverted, k, err := s.request(r)
	if err != nil {
		fail(w, err)
		return
	}
	full, err := fullSet(r, len(m.layers))
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
	net, err := m.acquire(r.Context())
	if err != nil {
		fail(w, err)
		return
	}
	defer func() {
		if net != nil {
			m.release(net)
		}
	}()
	x := m.input(net, pixels)
	ans := activationsAnswer{Model: m.name, Inverted: inverted, Pixels: make([]byte, len(pixels))}
	for i, v := range pixels {
		ans.Pixels[i] = uint8(v + 0.5)
	}
	ans.Input = encoded{Index: -1, Name: "input", Type: "Input", Shape: m.shape}
	ans.Input.Min, ans.Input.Max, ans.Input.Encoding, ans.Input.Data = encode(x.Data, full[-1])
	outs := net.Forward(x)
	for i, o := range outs {
		e := encoded{Index: i, Name: m.layers[i].Name, Type: m.layers[i].Type, Shape: o.Shape[1:]}
		e.Min, e.Max, e.Encoding, e.Data = encode(o.Data, full[i])
		ans.Layers = append(ans.Layers, e)
	}
	probs := tensor.New(1, len(m.classes))
	net.Probabilities(probs, outs[len(outs)-1])
	ans.Top = m.top(probs.Data, k)
	if withSaliency {
		if class < 0 {
			class = ans.Top[0].Label
		}
		ans.Saliency = m.saliency(net, x, class)
	}
	m.release(net)
	net = nil
	writeJSON(w, http.StatusOK, ans)
}

// saliency returns |d score / d input|, the maximum over channels, as
// uint8 levels of its maximum.
func (m *served) saliency(net Network, x *tensor.Tensor, class int) *saliencyAnswer {
	g := net.Saliency(x, class)
	h, w, c := m.shape[0], m.shape[1], m.shape[2]
	mag := make([]float32, h*w)
	var top float32
	for i := range mag {
		for k := range c {
			v := g.Data[i*c+k]
			if v < 0 {
				v = -v
			}
			if v != v {
				v = 0
			}
			mag[i] = max(mag[i], v)
		}
		top = max(top, mag[i])
	}
	b := make([]byte, len(mag))
	if top > 0 {
		for i, v := range mag {
			b[i] = uint8(v/top*255 + 0.5)
		}
	}
	return &saliencyAnswer{Class: class, Name: m.classes[class], Shape: []int{h, w}, Max: top, Data: base64.StdEncoding.EncodeToString(b)}
}

func (s *Server) handleSaliency(w http.ResponseWriter, r *http.Request) {
	m, pixels, _, _, err := s.request(r)
	if err != nil {
		fail(w, err)
		return
	}
	class, err := classParam(r, m)
	if err != nil {
		fail(w, err)
		return
	}
	net, err := m.acquire(r.Context())
	if err != nil {
		fail(w, err)
		return
	}
	x := m.input(net, pixels)
	if class < 0 {
		class = m.top(m.predict(net, x).Data, 1)[0].Label
	}
	ans := m.saliency(net, x, class)
	m.release(net)
	ans.Model = m.name
	writeJSON(w, http.StatusOK, ans)
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

// handleKernel answers the weights feeding one output channel of a Conv2D
// ([kh, kw, cin] in that order) or one unit of a Dense layer ([in]).
func (s *Server) handleKernel(w http.ResponseWriter, r *http.Request) {
	m, err := s.model(r)
	if err != nil {
		fail(w, err)
		return
	}
	i, err := strconv.Atoi(r.PathValue("index"))
	if err != nil || i < 0 || i >= len(m.layers) {
		writeError(w, http.StatusNotFound, "layer %q: want an index in 0..%d", r.PathValue("index"), len(m.layers)-1)
		return
	}
	l := &m.layers[i]
	kp := l.param("kernel")
	if kp == nil || kp.Value.Rank() < 2 {
		writeError(w, http.StatusNotFound, "layer %d (%s, %s) has no kernel", i, l.Name, l.Type)
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
	ans := kernelAnswer{Model: m.name, Layer: i, Name: l.Name, Type: l.Type, Channel: c, Shape: ks[:len(ks)-1], Values: make([]float32, n), Config: l.Config}
	for j := range n {
		ans.Values[j] = kp.Value.Data[j*cout+c]
	}
	if bp := l.param("bias"); bp != nil && len(bp.Value.Data) == cout {
		b := bp.Value.Data[c]
		ans.Bias = &b
	}
	writeJSON(w, http.StatusOK, ans)
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
