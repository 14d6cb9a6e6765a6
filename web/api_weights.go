package web

import (
	"math"
	"net/http"
)

// histogramBins is the number of equal-width bins of a distribution; the
// page bins a layer's values the same way (stats.js).
const histogramBins = 30

// distribution describes a list of numbers: how many, their range, mean and
// standard deviation (of the population), how many are exactly zero, and a
// histogram of histogramBins equal-width bins from Min to Max, bin i holding
// the values v with Edges[i] <= v < Edges[i+1] (the last bin closed) and
// Edges[i] = Min + (Max − Min)·i/bins; equal values make one bin. Values
// that are not finite are counted apart and left out of the rest.
type distribution struct {
	Count     int       `json:"count"`
	NonFinite int       `json:"non_finite"`
	Zeros     int       `json:"zeros"`
	Min       float64   `json:"min"`
	Max       float64   `json:"max"`
	Mean      float64   `json:"mean"`
	Std       float64   `json:"std"`
	Edges     []float64 `json:"edges"`
	Counts    []int     `json:"counts"`
}

func distributionOf(values []float32) distribution {
	d := distribution{Min: math.Inf(1), Max: math.Inf(-1)}
	for _, v32 := range values {
		if !finite(v32) {
			d.NonFinite++
			continue
		}
		v := float64(v32)
		d.Count++
		d.Min, d.Max = math.Min(d.Min, v), math.Max(d.Max, v)
		if v == 0 {
			d.Zeros++
		}
	}
	if d.Count == 0 {
		d.Min, d.Max = 0, 0
		return d
	}
	// In float64, no sum of float32 values or of their squares overflows.
	var sum, ss float64
	for _, v32 := range values {
		if v := float64(v32); finite(v32) {
			sum += v
		}
	}
	d.Mean = sum / float64(d.Count)
	for _, v32 := range values {
		if v := float64(v32); finite(v32) {
			ss += (v - d.Mean) * (v - d.Mean)
		}
	}
	d.Std = math.Sqrt(ss / float64(d.Count))
	bins := histogramBins
	if d.Min == d.Max {
		bins = 1
	}
	d.Edges = make([]float64, bins+1)
	for i := range d.Edges {
		d.Edges[i] = d.Min + (d.Max-d.Min)*float64(i)/float64(bins)
	}
	d.Edges[bins] = d.Max
	d.Counts = make([]int, bins)
	for _, v32 := range values {
		if v := float64(v32); finite(v32) {
			d.Counts[binOf(d.Edges, v)]++
		}
	}
	return d
}

// binOf returns the bin of v, Edges[0] <= v <= Edges[len-1]: its place
// from the bins' width, moved by one where rounding put it beside the edge
// it must be compared with.
func binOf(edges []float64, v float64) int {
	bins := len(edges) - 1
	i := 0
	if w := edges[bins] - edges[0]; w > 0 {
		i = int(math.Floor((v - edges[0]) / w * float64(bins)))
	}
	i = max(0, min(bins-1, i))
	if v < edges[i] {
		i--
	} else if i < bins-1 && v >= edges[i+1] {
		i++
	}
	return i
}

// weightsAnswer is the distribution of each of a layer's weights.
type weightsAnswer struct {
	Model  string        `json:"model"`
	Layer  int           `json:"layer"`
	Name   string        `json:"name"`
	Type   string        `json:"type"`
	Params []paramAnswer `json:"params"`
}

type paramAnswer struct {
	Name      string `json:"name"`
	Shape     []int  `json:"shape"`
	Trainable bool   `json:"trainable"`
	distribution
}

// handleWeights answers the distribution of every weight of a layer: its
// kernel, bias, a batch normalization's gamma, beta and moving statistics,
// and so on; none for a layer without weights.
func (s *Server) handleWeights(w http.ResponseWriter, r *http.Request) {
	m, i, l, err := s.layer(r)
	if err != nil {
		fail(w, err)
		return
	}
	ans := weightsAnswer{Model: m.name, Layer: i, Name: l.Name(), Type: l.Type(), Params: []paramAnswer{}}
	for _, p := range l.Params() {
		ans.Params = append(ans.Params, paramAnswer{Name: p.Name, Shape: p.Value.Shape, Trainable: p.Trainable, distribution: distributionOf(p.Value.Data)})
	}
	writeJSON(w, http.StatusOK, ans)
}
