package web

import (
	"strings"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// FromSequential adapts a built model to a [Network]. The model must not be
// used elsewhere while the server runs.
func FromSequential(m *model.Sequential) Network { return &sequential{m: m} }

type sequential struct{ m *model.Sequential }

func (s *sequential) InputShape() []int    { return s.m.InputShape() }
func (s *sequential) ClassNames() []string { return s.m.ClassNames }
func (s *sequential) Meta(key string) string {
	return s.m.Meta[key]
}

func (s *sequential) Summary() string {
	var b strings.Builder
	if err := s.m.Summary(&b); err != nil {
		return err.Error()
	}
	return b.String()
}

func (s *sequential) Layers() []LayerInfo {
	infos := make([]LayerInfo, len(s.m.Layers))
	for i, l := range s.m.Layers {
		infos[i] = LayerInfo{Name: l.Name(), Type: l.Type(), OutputShape: l.OutputShape(), Config: l.Config()}
		for _, p := range l.Params() {
			infos[i].Params = append(infos[i].Params, Param{Name: p.Name, Value: p.Value})
		}
	}
	return infos
}

func (s *sequential) Preprocess(dst, src []float32) {
	if s.m.Standardizer == nil {
		copy(dst, src)
		return
	}
	shape := append([]int{1}, s.m.InputShape()...)
	s.m.Standardizer.Apply(tensor.FromData(dst, shape...), tensor.FromData(src, shape...))
}

func (s *sequential) Forward(x *tensor.Tensor) []*tensor.Tensor { return s.m.ForwardAll(x) }

// Probabilities copies out, the last output of ForwardAll, when the model
// ends in a softmax (ForwardAll applies it) and applies one otherwise. The
// model built its last layer with OmitSoftmax(true): asking again only
// reports whether that layer has a softmax.
func (s *sequential) Probabilities(dst, out *tensor.Tensor) {
	if f, ok := s.m.Layers[len(s.m.Layers)-1].(nn.FinalSoftmax); ok && f.OmitSoftmax(true) {
		copy(dst.Data, out.Data)
		return
	}
	nn.SoftmaxRows(dst, out)
}

func (s *sequential) Saliency(x *tensor.Tensor, class int) *tensor.Tensor {
	return s.m.InputGradient(x, class)
}

func (s *sequential) Clone() Network { return &sequential{m: s.m.Clone()} }
