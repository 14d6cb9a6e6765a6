package web

import (
	"context"
	"encoding/base64"
	"math"
	"net/http"

	"github.com/convnet-go/convnet/model"
)

// patternAnswer is an input that one channel of a layer responds to
// strongly (model.Pattern), as an image: Keras's example's deprocessing,
// the input less its mean, divided by its standard deviation, times 0.15,
// plus 0.5, clipped to 0..1, as H*W*C bytes.
type patternAnswer struct {
	Model   string  `json:"model"`
	Layer   int     `json:"layer"`
	Name    string  `json:"name"`
	Channel int     `json:"channel"`
	Shape   []int   `json:"shape"`
	Start   float64 `json:"start"` // the channel's mean for the first input
	End     float64 `json:"end"`   // and for this one
	Data    string  `json:"data"`
	// Top is what the model makes of the pattern: its three most probable
	// classes (none when a probability is not finite).
	Top []model.Prediction `json:"top"`
}

// handlePattern answers GET /api/models/NAME/layers/I/pattern?channel=C.
func (s *Server) handlePattern(w http.ResponseWriter, r *http.Request) {
	m, i, l, err := s.layer(r)
	var ch int
	if err == nil {
		out := l.OutputShape()
		ch, err = intParam(r, "channel", 0, 0, out[len(out)-1]-1)
	}
	if err != nil {
		fail(w, err)
		return
	}
	s.compute(w, r, func(ctx context.Context) (any, error) {
		p, err := m.c.Pattern(ctx, i, ch, model.PatternOptions{})
		if err != nil {
			return nil, err
		}
		if math.IsNaN(p.Start) || math.IsInf(p.Start, 0) || math.IsNaN(p.End) || math.IsInf(p.End, 0) { // JSON has neither
			return nil, errorf(http.StatusUnprocessableEntity, "pattern: the mean of channel %d of layer %d (%s) is not finite (%v, then %v): the model is broken", ch, i, l.Name(), p.Start, p.End)
		}
		if p.Top == nil {
			p.Top = []model.Prediction{}
		}
		return patternAnswer{Model: m.name, Layer: i, Name: l.Name(), Channel: ch, Shape: p.Input.Shape,
			Start: p.Start, End: p.End, Data: base64.StdEncoding.EncodeToString(p.Deprocess()), Top: p.Top}, nil
	})
}
