package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/convnet-go/convnet/tsne"
)

// TestEmbedding maps the built-in AHCD model's 271 evaluation images: the
// points are t-SNE's of the classifier's features at the last layer's
// input, most images' nearest point is of their class, and a test image
// sent as a drawing lands on its own point, itself its nearest neighbour.
func TestEmbedding(t *testing.T) {
	s := demoServer(t)
	m := s.byName["ahcd"]
	// The map is made in the background from the first request on: 202
	// until it is there.
	r := do(s, "GET", "/api/models/ahcd/embedding", "", nil)
	if r.status != http.StatusAccepted || r.header.Get("Retry-After") != "1" || !strings.Contains(string(r.body), "making the map") {
		t.Fatalf("the first request for the map: %d %q, want 202 and Retry-After", r.status, r.body)
	}
	for r.status == http.StatusAccepted {
		time.Sleep(50 * time.Millisecond)
		r = do(s, "GET", "/api/models/ahcd/embedding", "", nil)
	}
	got := decode[embeddingAnswer](t, r)
	samples := m.evaluation.Samples
	last := len(m.m.Layers) - 1
	if got.Layer != last-1 || got.Name != m.m.Layers[last-1].Name() || len(got.Points) != len(samples) || len(got.Points) < 200 || got.Perplexity != 30 {
		t.Fatalf("the map: layer %d (%s), %d points; want layer %d, %d points", got.Layer, got.Name, len(got.Points), last-1, len(samples))
	}
	px := make([][]float32, len(samples))
	for i, sm := range samples {
		for _, b := range sm.Pixels {
			px[i] = append(px[i], float32(b))
		}
	}
	features, err := m.c.Features(context.Background(), px, last-1)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tsne.Embed(features, tsne.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	same := 0
	for i, p := range got.Points {
		sm := samples[i]
		if p.X != want[i][0] || p.Y != want[i][1] || p.True != sm.True || p.Pred != sm.Pred || p.Index != sm.Index || string(p.Pixels) != string(sm.Pixels) {
			t.Fatalf("point %d: %+v, want (%v, %v) and sample %d's classes and pixels", i, p, want[i][0], want[i][1], i)
		}
		best, bd := -1, math.Inf(1)
		for j, q := range got.Points {
			if d := (p.X-q.X)*(p.X-q.X) + (p.Y-q.Y)*(p.Y-q.Y); j != i && d < bd {
				best, bd = j, d
			}
		}
		if got.Points[best].True == p.True {
			same++
		}
	}
	t.Logf("%d of %d images have a nearest point of their class", same, len(got.Points))
	if same < len(got.Points)*3/4 {
		t.Errorf("%d of %d images have a nearest point of their class, want 3 in 4", same, len(got.Points))
	}

	// Test image 40 as a drawing: it lands on its point.
	var body strings.Builder
	body.WriteString(`{"pixels":[`)
	for j, v := range px[40] {
		if j > 0 {
			body.WriteByte(',')
		}
		fmt.Fprint(&body, v)
	}
	body.WriteString("]}")
	ans := decode[activationsAnswer](t, do(s, "POST", "/api/activations?model=ahcd&layers=0&embed=1", "application/json", []byte(body.String())))
	e := ans.Embedding
	if e == nil || len(e.Neighbours) != neighbours || e.Neighbours[0] != 40 || math.Abs(e.X-want[40][0]) > 1e-6 || math.Abs(e.Y-want[40][1]) > 1e-6 {
		t.Errorf("test image 40 as a drawing lands at %+v, want its point (%v, %v) and itself first of %d neighbours", e, want[40][0], want[40][1], neighbours)
	}
	if none := decode[activationsAnswer](t, do(s, "POST", "/api/activations?model=ahcd&layers=0", "application/json", []byte(body.String()))); none.Embedding != nil {
		t.Error("an answer without embed=1 holds a placement")
	}
}

// TestPlacementBeforeTheMap asks where a drawing lands before the map is
// made: the answer holds no placement, and the map is started.
func TestPlacementBeforeTheMap(t *testing.T) {
	s := demoServer(t)
	body := pixelsJSON(32*32, 0)
	ans := decode[activationsAnswer](t, do(s, "POST", "/api/activations?model=ahcd&layers=0&embed=1", "application/json", []byte(body)))
	if ans.Embedding != nil {
		t.Errorf("a placement %+v before the map was made", ans.Embedding)
	}
	select {
	case <-s.byName["ahcd"].embed.done:
	case <-time.After(60 * time.Second):
		t.Error("the map was not made within a minute of being asked for")
	}
}

// TestMapSamples checks which test images a map shows: at most 1000,
// spread evenly, and none (saying why) for images of another shape than
// the model's input or too few of them.
func TestMapSamples(t *testing.T) {
	many := &evaluation{ImageShape: []int{8, 8, 1}}
	for range 2500 {
		many.Samples = append(many.Samples, &sample{Pixels: make([]byte, 64)})
	}
	e := newEmbedding("m", many, []int{8, 8, 1})
	if len(e.samples) != mapPoints || e.samples[0] != 0 || e.samples[1] != 2 || e.samples[999] != 2497 || e.why != "" {
		t.Errorf("2500 test images: the map shows %d (%v ... %v), %q", len(e.samples), e.samples[:2], e.samples[len(e.samples)-1:], e.why)
	}
	for _, tt := range []struct {
		ev    *evaluation
		shape []int
		want  string
	}{
		{many, []int{32, 32, 1}, "model m's evaluation holds images of shape [8 8 1], the model takes [32 32 1]"},
		{&evaluation{ImageShape: []int{8, 8, 1}, Samples: many.Samples[:3]}, []int{8, 8, 1}, "model m has 3 test images in its evaluation, too few for a map"},
		{nil, []int{8, 8, 1}, "model m has no evaluation"},
	} {
		if e := newEmbedding("m", tt.ev, tt.shape); len(e.samples) != 0 || e.why != tt.want {
			t.Errorf("a map of %d samples: %q, want none and %q", len(e.samples), e.why, tt.want)
		}
	}
}
