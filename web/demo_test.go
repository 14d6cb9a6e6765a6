package web

import (
	"encoding/json"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"math/rand/v2"
	"testing"
)

// demoServer serves the built-in models if the binary has any; otherwise the
// tutorial's architecture for AHCD (32x32 grey, 28 letters), untrained, with
// a made-up history and evaluation so that the whole page has something to
// show.
func demoServer(t testing.TB) *Server {
	t.Helper()
	builtin, err := BuiltinModels()
	if err != nil {
		t.Fatal(err)
	}
	if len(builtin) > 0 {
		s, err := NewServer(builtin, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	m, err := model.PresetFor("tutorial", []int{32, 32, 1}, 28)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	m.ClassNames = data.AHCDClassNames()
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	m.Meta = map[string]string{}
	const n, side = 28, 32
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
	m.Meta["history"] = string(b)
	ev := evaluation{Classes: m.ClassNames, Accuracy: 0.9, Count: n * 120, ImageShape: []int{side, side, 1}}
	ev.Matrix = make([][]int, n)
	for i := range ev.Matrix {
		ev.Matrix[i] = make([]int, n)
		ev.Matrix[i][i] = 110
		ev.Matrix[i][(i+1)%n] = 10
		for k := range 3 {
			px := make([]byte, side*side)
			for y := 6; y < 26; y++ {
				px[y*side+2+i/2+k] = 255
				px[y*side+3+i/2+k] = 200
			}
			for j := range px {
				px[j] = max(px[j], byte(rng.IntN(30)))
			}
			ev.Samples = append(ev.Samples, &sample{True: i, Pred: i, Index: i*10 + k, Pixels: px})
		}
	}
	b, _ = json.Marshal(ev)
	m.Meta["evaluation"] = string(b)
	s, err := NewServer([]Model{{"ahcd", FromSequential(m)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
