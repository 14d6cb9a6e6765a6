package web

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sync"

	"github.com/convnet-go/convnet/tsne"
)

// embedding is the map of how a model groups its evaluation's test images:
// each image's features, the input of the model's last layer, placed in the
// plane by t-SNE; made once, in the background, from the first request on.
type embedding struct {
	samples []int  // the evaluation's samples on the map, by position
	why     string // why there is no map, "" if there is one
	start   sync.Once
	done    chan struct{} // closed when the map is made
	// Set before done is closed.
	layer    int // whose output the features are, -1 for the input
	features [][]float32
	points   [][2]float64
	err      error
}

const (
	neighbours = 5    // how many test images place a drawing on the map
	mapPoints  = 1000 // the most test images on a map: exact t-SNE keeps three n×n matrices
)

// newEmbedding chooses the evaluation's samples a map shows: all of them,
// or as many as mapPoints spread evenly over them; none (and why) when
// they are too few or not images of the model's input shape.
func newEmbedding(name string, ev *evaluation, shape []int) *embedding {
	e := &embedding{done: make(chan struct{})}
	switch {
	case ev == nil:
		e.why = fmt.Sprintf("model %s has no evaluation", name)
	case !slices.Equal(ev.ImageShape, shape):
		e.why = fmt.Sprintf("model %s's evaluation holds images of shape %v, the model takes %v", name, ev.ImageShape, shape)
	case len(ev.Samples) < 4:
		e.why = fmt.Sprintf("model %s has %d test images in its evaluation, too few for a map", name, len(ev.Samples))
	default:
		n := min(len(ev.Samples), mapPoints)
		for i := range n {
			e.samples = append(e.samples, i*len(ev.Samples)/n)
		}
	}
	return e
}

// embeddingAnswer answers GET /api/models/NAME/embedding.
type embeddingAnswer struct {
	Model      string           `json:"model"`
	Layer      int              `json:"layer"` // whose output the features are, -1 for the input
	Name       string           `json:"name"`  // that layer's name, "input" for the input
	Perplexity float64          `json:"perplexity"`
	Shape      []int            `json:"image_shape"`
	Points     []embeddedSample `json:"points"`
}

// embeddedSample is one test image on the map, in the order of the
// evaluation's samples (all of them, or 1000 spread evenly over them); its
// pixels (base64 bytes) when all of them take at most 1 MB.
type embeddedSample struct {
	X      float64 `json:"x"`
	Y      float64 `json:"y"`
	True   int     `json:"true"`
	Pred   int     `json:"pred"`
	Index  int     `json:"index"`
	Pixels []byte  `json:"pixels,omitempty"`
}

// placement is where a drawing lands on the map: the mean of the points of
// its nearest test images in feature space, each weighed by the inverse of
// its distance, and those images (positions in the points).
type placement struct {
	X          float64 `json:"x"`
	Y          float64 `json:"y"`
	Neighbours []int   `json:"neighbours"`
}

// embedding returns m's map when it is made (nil while it is being made,
// which the first call starts). The map is the model's, made to the end
// whoever asked for it; it takes no work slot.
func (m *served) embedding() (*embedding, error) {
	e := m.embed
	e.start.Do(func() {
		go func() {
			defer close(e.done)
			e.layer = m.m.FeatureLayer()
			px := make([][]float32, len(e.samples))
			for i, k := range e.samples {
				px[i] = make([]float32, len(m.evaluation.Samples[k].Pixels))
				for j, b := range m.evaluation.Samples[k].Pixels {
					px[i][j] = float32(b)
				}
			}
			if e.features, e.err = m.c.Features(context.Background(), px, e.layer); e.err == nil {
				e.points, e.err = tsne.Embed(e.features, tsne.Options{Seed: 1})
			}
		}()
	})
	select {
	case <-e.done:
		return e, e.err
	default:
		return nil, nil
	}
}

func (s *Server) handleEmbedding(w http.ResponseWriter, r *http.Request) {
	m, err := s.model(r)
	if err != nil {
		fail(w, err)
		return
	}
	if m.embed.why != "" {
		writeError(w, http.StatusNotFound, "%s", m.embed.why)
		return
	}
	e, err := m.embedding()
	switch {
	case err != nil:
		fail(w, err)
		return
	case e == nil: // being made: ask again
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "making the map"})
		return
	}
	ans := embeddingAnswer{Model: m.name, Layer: e.layer, Name: "input", Perplexity: tsne.Perplexity(len(e.points)), Shape: m.evaluation.ImageShape}
	if e.layer >= 0 {
		ans.Name = m.info.Layers[e.layer].Name
	}
	small := len(e.samples)*len(m.evaluation.Samples[0].Pixels) <= 1<<20
	for i, p := range e.points {
		sm := m.evaluation.Samples[e.samples[i]]
		es := embeddedSample{X: p[0], Y: p[1], True: sm.True, Pred: sm.Pred, Index: sm.Index}
		if small {
			es.Pixels = sm.Pixels
		}
		ans.Points = append(ans.Points, es)
	}
	writeJSON(w, http.StatusOK, ans)
}

// place returns where features f of a drawing land on the map e.
func (e *embedding) place(f []float32) *placement {
	type near struct {
		i int
		d float64
	}
	all := make([]near, len(e.features))
	for i, g := range e.features {
		d := 0.0
		for j, v := range g {
			t := float64(v) - float64(f[j])
			d += t * t
		}
		all[i] = near{i, math.Sqrt(d)}
	}
	slices.SortStableFunc(all, func(a, b near) int { return cmp.Compare(a.d, b.d) })
	p := &placement{}
	sum := 0.0
	for _, n := range all[:min(neighbours, len(all))] {
		w := 1 / max(n.d, 1e-9)
		p.X += w * e.points[n.i][0]
		p.Y += w * e.points[n.i][1]
		sum += w
		p.Neighbours = append(p.Neighbours, n.i)
	}
	p.X /= sum
	p.Y /= sum
	return p
}
