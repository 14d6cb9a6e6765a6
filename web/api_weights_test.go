package web

import (
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// wantDistribution is distributionOf computed another way: each value
// compared with every edge, the statistics in two plain passes.
func wantDistribution(values []float32) distribution {
	var fin []float64
	d := distribution{}
	for _, v := range values {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			d.NonFinite++
		} else {
			fin = append(fin, f)
		}
	}
	d.Count = len(fin)
	if d.Count == 0 {
		return d
	}
	d.Min, d.Max = slices.Min(fin), slices.Max(fin)
	var sum, ss float64
	for _, v := range fin {
		sum += v
		if v == 0 {
			d.Zeros++
		}
	}
	d.Mean = sum / float64(d.Count)
	for _, v := range fin {
		ss += (v - d.Mean) * (v - d.Mean)
	}
	d.Std = math.Sqrt(ss / float64(d.Count))
	bins := histogramBins
	if d.Min == d.Max {
		bins = 1
	}
	for i := range bins + 1 {
		d.Edges = append(d.Edges, d.Min+(d.Max-d.Min)*float64(i)/float64(bins))
	}
	d.Counts = make([]int, bins)
	for _, v := range fin {
		for i := range bins {
			if v >= d.Edges[i] && (v < d.Edges[i+1] || i == bins-1) {
				d.Counts[i]++
				break
			}
		}
	}
	return d
}

func sameDistribution(a, b distribution) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-9*(1+math.Abs(y)) }
	return a.Count == b.Count && a.NonFinite == b.NonFinite && a.Zeros == b.Zeros && a.Min == b.Min && a.Max == b.Max &&
		near(a.Mean, b.Mean) && near(a.Std, b.Std) && slices.Equal(a.Counts, b.Counts) && len(a.Edges) == len(b.Edges)
}

// TestDistribution bins values on the edges, between them, equal values,
// and values that are not finite, as the brute-force count does.
func TestDistribution(t *testing.T) {
	edges := make([]float32, 31)
	for i := range edges {
		edges[i] = float32(-1 + 2*float64(i)/30)
	}
	for _, c := range []struct {
		name   string
		values []float32
	}{
		{"edges", edges},
		{"around", []float32{-0.3, 0.1, 0.7, 0, 0, 1e-8, -1e-8, 0.2, 2.9, -0.5}},
		{"equal", []float32{0.25, 0.25, 0.25}},
		{"one", []float32{-4}},
		{"zeros", []float32{0, 0}},
		{"not finite", []float32{float32(math.NaN()), 1, float32(math.Inf(-1)), 3, 2}},
		{"none finite", []float32{float32(math.NaN())}},
		{"empty", nil},
		{"widest", []float32{-math.MaxFloat32, math.MaxFloat32, 0, math.SmallestNonzeroFloat32}},
	} {
		got, want := distributionOf(c.values), wantDistribution(c.values)
		if !sameDistribution(got, want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, want)
		}
	}
}

// TestWeights answers the distribution of each weight of a convolution and
// of a batch normalization, none for a layer without weights, and refuses
// a layer that is not there.
func TestWeights(t *testing.T) {
	in := model.Input(8, 8, 1)
	x := model.Call(&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Activation: "relu"}, in)
	x = model.Call(&nn.BatchNormalization{}, x)
	x = model.Call(&nn.Dense{Units: 3, Activation: "softmax"}, model.Call(&nn.Flatten{}, x))
	m := ahcdGraph(t, in, x)
	m.Layers[1].Params()[1].Value.Data[2] = float32(math.NaN()) // a bias gone bad
	s, err := NewServer([]Model{{"w", classifier(t, m, model.ClassifierOptions{})}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range m.Layers {
		got := decode[weightsAnswer](t, do(s, "GET", "/api/models/w/layers/"+strconv.Itoa(i)+"/weights", "", nil))
		if got.Name != l.Name() || got.Type != l.Type() || len(got.Params) != len(l.Params()) {
			t.Fatalf("layer %d: %s %s with %d weights, want %s %s with %d", i, got.Name, got.Type, len(got.Params), l.Name(), l.Type(), len(l.Params()))
		}
		for j, p := range l.Params() {
			g := got.Params[j]
			if g.Name != p.Name || !slices.Equal(g.Shape, p.Value.Shape) || g.Trainable != p.Trainable || !sameDistribution(g.distribution, wantDistribution(p.Value.Data)) {
				t.Errorf("layer %d's %s: %+v", i, p.Name, g)
			}
		}
	}
	if got := decode[weightsAnswer](t, do(s, "GET", "/api/models/w/layers/1/weights", "", nil)); got.Params[1].NonFinite != 1 || got.Params[1].Count != 3 {
		t.Errorf("a bias with a NaN: %+v, want it counted apart", got.Params[1].distribution)
	}
	if r := do(s, "GET", "/api/models/w/layers/9/weights", "", nil); r.status != 404 {
		t.Errorf("layer 9 of %d: status %d, want 404", len(m.Layers), r.status)
	}
}
