package web

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// demoServer serves a small network shaped like the tutorial's input
// (28x28 grey, 10 classes) with a made-up history and evaluation, so the
// whole page has something to show.
func demoServer(t testing.TB) *Server {
	t.Helper()
	net := newTinyNet(28, 28, 1, 10, 7)
	rng := rand.New(rand.NewPCG(3, 4))
	hist := map[string][]float64{}
	for e := 1; e <= 12; e++ {
		f := float64(e)
		hist["epoch"] = append(hist["epoch"], f)
		hist["loss"] = append(hist["loss"], 2.0/f+0.05)
		hist["val_loss"] = append(hist["val_loss"], 2.1/f+0.12)
		hist["accuracy"] = append(hist["accuracy"], 1-0.8/f)
		hist["val_accuracy"] = append(hist["val_accuracy"], 0.97-0.8/f)
		hist["learning_rate"] = append(hist["learning_rate"], 0.001)
	}
	b, _ := json.Marshal(hist)
	net.meta["history"] = string(b)
	ev := evaluation{Classes: net.ClassNames(), Accuracy: 0.9, Count: 1000, ImageShape: []int{28, 28, 1}}
	ev.Matrix = make([][]int, 10)
	for i := range ev.Matrix {
		ev.Matrix[i] = make([]int, 10)
		ev.Matrix[i][i] = 90
		ev.Matrix[i][(i+1)%10] = 10
		for k := range 3 {
			px := make([]byte, 28*28)
			for y := 6; y < 22; y++ {
				px[y*28+8+i+k] = 255
				px[y*28+9+i+k] = 200
			}
			for j := range px {
				px[j] = max(px[j], byte(rng.IntN(30)))
			}
			ev.Samples = append(ev.Samples, &sample{True: i, Pred: i, Index: i*10 + k, Pixels: px})
		}
	}
	b, _ = json.Marshal(ev)
	net.meta["evaluation"] = string(b)
	s, err := NewServer([]Model{{"digits", net}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
