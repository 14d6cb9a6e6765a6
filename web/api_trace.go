package web

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/tensor"
)

// The answers of what happens inside the model for one image: every
// layer's output and the saliency map.

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

// finite reports whether none of v is NaN or infinite; a NaN among the
// values of encode makes its lo and hi NaN, an infinity one of them.
func finite(v ...float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
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
	Model     string             `json:"model"`
	Inverted  bool               `json:"inverted"`
	Placement data.Placement     `json:"placement"`
	Pixels    []byte             `json:"pixels"`
	Input     encoded            `json:"input"`
	Layers    []encoded          `json:"layers"`
	Top       []model.Prediction `json:"top"`
	Saliency  *saliencyAnswer    `json:"saliency,omitempty"`
	CAM       *camAnswer         `json:"cam,omitempty"`
	Embedding *placement         `json:"embedding,omitempty"` // where the drawing lands on the map, with embed=1
}

type saliencyAnswer struct {
	Model string  `json:"model,omitempty"`
	Class int     `json:"class"`
	Name  string  `json:"name"`
	Shape []int   `json:"shape"`
	Max   float32 `json:"max"`
	Data  string  `json:"data"`
}

// camAnswer is a class activation map as uint8 levels of its maximum,
// with its method and the layer whose maps it weighs.
type camAnswer struct {
	saliencyAnswer
	Method    string `json:"method"`
	Layer     int    `json:"layer"`
	LayerName string `json:"layer_name"`
}

// indexSet parses the layer indices of parameter key, in lo..layers-1: a
// comma-separated list of indices and ranges "a-b". ok is false when the
// parameter is absent.
func indexSet(r *http.Request, key string, lo, layers int) (set map[int]bool, ok bool, err error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return map[int]bool{}, false, nil
	}
	bad := errorf(http.StatusBadRequest, "parameter %s=%q: want layer indices or ranges a-b in %d..%d", key, v, lo, layers-1)
	set = map[int]bool{}
	for f := range strings.SplitSeq(v, ",") {
		f = strings.TrimSpace(f)
		sign := "" // of a negative first index: -1, -1-3
		if strings.HasPrefix(f, "-") {
			sign, f = "-", f[1:]
		}
		a, b, isRange := strings.Cut(f, "-")
		first, err := strconv.Atoi(sign + a)
		last := first
		if err == nil && isRange {
			last, err = strconv.Atoi(b)
		}
		if err != nil || first < lo || last >= layers || first > last || last-first > layers {
			return nil, false, bad
		}
		for i := first; i <= last; i++ {
			set[i] = true
		}
	}
	return set, true, nil
}

// boolParam parses an optional on/off parameter: 1 or true, 0 or false
// (strconv.ParseBool), off when absent.
func boolParam(r *http.Request, key string) (bool, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return false, nil
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		return false, errorf(http.StatusBadRequest, "parameter %s=%q: want 1 or 0", key, v)
	}
	return on, nil
}

// classParam parses the optional "class" parameter; -1 means the top class.
func classParam(r *http.Request, m *served) (int, error) {
	return intParam(r, "class", -1, -1, len(m.classes)-1)
}

func (s *Server) handleActivations(w http.ResponseWriter, r *http.Request) {
	m, k, err := s.modelAndK(r)
	var full, only map[int]bool
	var some, embed bool
	opts := model.TraceOptions{Top: k}
	if err == nil {
		full, _, err = indexSet(r, "full", -1, len(m.info.Layers))
	}
	if err == nil {
		only, some, err = indexSet(r, "layers", 0, len(m.info.Layers))
	}
	if err == nil {
		opts.Class, err = classParam(r, m)
	}
	if err == nil {
		opts.Saliency, err = boolParam(r, "saliency")
	}
	if err == nil {
		opts.CAM, opts.CAMLayer, err = camParams(r, m, "")
	}
	if err == nil {
		embed, err = boolParam(r, "embed")
	}
	if err == nil && embed && m.embed.why != "" {
		err = errorf(http.StatusBadRequest, "parameter embed: no map of test images: %s", m.embed.why)
	}
	if err != nil {
		fail(w, err)
		return
	}
	s.post(w, r, m, func(ctx context.Context, f model.Framed) (any, error) {
		t, err := m.c.TraceWith(ctx, f.Pixels, opts)
		if err != nil {
			return nil, err
		}
		ans := activationsAnswer{Model: m.name, Inverted: f.Inverted, Placement: f.Placement, Pixels: make([]byte, len(f.Pixels)), Top: t.Top, Layers: []encoded{}}
		for i, v := range f.Pixels {
			ans.Pixels[i] = uint8(v + 0.5)
		}
		ans.Input = encoded{Index: -1, Name: "input", Type: "Input", Shape: m.shape}
		ans.Input.Min, ans.Input.Max, ans.Input.Encoding, ans.Input.Data = encode(t.Input.Data, full[-1])
		if !finite(ans.Input.Min, ans.Input.Max) {
			return nil, errorf(http.StatusUnprocessableEntity, "the standardised input holds values that are not finite (NaN or infinite): the model is broken")
		}
		for i, o := range t.Layers {
			if some && !only[i] && !full[i] {
				continue
			}
			l := m.info.Layers[i]
			e := encoded{Index: i, Name: l.Name, Type: l.Type, Shape: o.Shape[1:]}
			e.Min, e.Max, e.Encoding, e.Data = encode(o.Data, full[i])
			if !finite(e.Min, e.Max) { // JSON has no NaN or infinities
				return nil, errorf(http.StatusUnprocessableEntity, "layer %d (%s) outputs values that are not finite (NaN or infinite): the model is broken", i, l.Name)
			}
			ans.Layers = append(ans.Layers, e)
		}
		if t.Saliency != nil {
			ans.Saliency = m.saliencyAnswer(t.Saliency)
		}
		if t.CAM != nil {
			ans.CAM = m.camAnswer(t.CAM)
		}
		if embed {
			if e, err := m.embedding(); e != nil && err == nil { // none while the map is being made
				f := t.Input
				if e.layer >= 0 {
					f = t.Layers[e.layer]
				}
				ans.Embedding = e.place(f.Data)
			}
		}
		return ans, nil
	})
}

// camParams parses the parameters of a class activation map: "cam", the
// method (def when absent; "" for none, when "camlayer" must be absent
// too), and "camlayer", the layer (-1 when absent: the model's default),
// checked against the model.
func camParams(r *http.Request, m *served, def string) (method string, layer int, err error) {
	method = cmp.Or(r.URL.Query().Get("cam"), def)
	if method == "" {
		if v := r.URL.Query().Get("camlayer"); v != "" {
			return "", 0, errorf(http.StatusBadRequest, "parameter camlayer=%q: the layer of cam=gradcam or cam=hirescam, and there is no cam", v)
		}
		return "", -1, nil
	}
	if !slices.Contains(model.CAMMethods, method) {
		return "", 0, errorf(http.StatusBadRequest, "parameter cam=%q: want one of %s", method, strings.Join(model.CAMMethods, ", "))
	}
	if layer, err = intParam(r, "camlayer", -1, 0, len(m.info.Layers)-1); err != nil {
		return "", 0, err
	}
	if method == "occlusion" {
		if layer >= 0 {
			return "", 0, errorf(http.StatusBadRequest, "parameter camlayer: cam=occlusion hides squares of the input, it weighs no layer")
		}
		return method, -1, nil
	}
	if _, err := m.c.Model().CheckCAMLayer(layer); err != nil {
		param := "camlayer"
		if layer < 0 {
			param = "cam" // the model has no layer to weigh by default
		}
		return "", 0, errorf(http.StatusBadRequest, "parameter %s: %v", param, err)
	}
	return method, layer, nil
}

// camAnswer answers a classifier's class activation map.
func (m *served) camAnswer(c *model.CAM) *camAnswer {
	name := "input" // occlusion's
	if c.Layer >= 0 {
		name = m.info.Layers[c.Layer].Name
	}
	return &camAnswer{*m.mapAnswer(c.Class, c.Map), c.Method, c.Layer, name}
}

func (s *Server) handleCAM(w http.ResponseWriter, r *http.Request) {
	m, err := s.model(r)
	var class, layer int
	var method string
	if err == nil {
		class, err = classParam(r, m)
	}
	if err == nil {
		method, layer, err = camParams(r, m, "hirescam")
	}
	if err != nil {
		fail(w, err)
		return
	}
	s.post(w, r, m, func(ctx context.Context, f model.Framed) (any, error) {
		c, err := m.c.CAM(ctx, f.Pixels, method, class, layer)
		if err != nil {
			return nil, err
		}
		ans := m.camAnswer(c)
		ans.Model = m.name
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
	return m.saliencyAnswer(sal), nil
}

// saliencyAnswer answers a saliency map as uint8 levels of its maximum.
func (m *served) saliencyAnswer(sal *model.Saliency) *saliencyAnswer {
	return m.mapAnswer(sal.Class, sal.Map)
}

// mapAnswer answers a map of class, none of its values negative, as uint8
// levels of its maximum (all 0 when it is 0).
func (m *served) mapAnswer(class int, t *tensor.Tensor) *saliencyAnswer {
	var top float32
	for _, v := range t.Data {
		top = max(top, v)
	}
	b := make([]byte, len(t.Data))
	if top > 0 {
		for i, v := range t.Data {
			b[i] = uint8(v/top*255 + 0.5)
		}
	}
	return &saliencyAnswer{Class: class, Name: m.classes[class], Shape: t.Shape, Max: top, Data: base64.StdEncoding.EncodeToString(b)}
}

func (s *Server) handleSaliency(w http.ResponseWriter, r *http.Request) {
	m, err := s.model(r)
	var class int
	if err == nil {
		class, err = classParam(r, m)
	}
	if err != nil {
		fail(w, err)
		return
	}
	s.post(w, r, m, func(ctx context.Context, f model.Framed) (any, error) {
		ans, err := m.saliency(ctx, f.Pixels, class)
		if ans != nil {
			ans.Model = m.name
		}
		return ans, err
	})
}
