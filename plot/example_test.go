package plot_test

import (
	"bytes"
	"fmt"
	"image/png"

	"github.com/convnet-go/convnet/plot"
)

// A grid of two 32x32 grey images with one-line and two-line labels.
func ExampleGrid() {
	stroke := make([]float32, 32*32)
	for y := 4; y < 28; y++ {
		stroke[y*32+16] = 255 // a vertical white stroke on black
	}
	img := plot.Grid([]plot.Cell{
		{Pixels: stroke, H: 32, W: 32, C: 1, Label: "alef ا"},
		{Pixels: stroke, H: 32, W: 32, C: 1, Label: "true: alef ا\npred: lam ل", Color: plot.ErrorColor},
	}, 2)
	var buf bytes.Buffer
	if err := plot.WritePNG(&buf, img); err != nil {
		fmt.Println(err)
	}
	cfg, _ := png.DecodeConfig(&buf)
	fmt.Println(cfg.Width > 2*96, cfg.Height > 96)
	// Output: true true
}

func ExampleConfusionHeatmap() {
	counts := [][]int{{48, 2}, {5, 45}}
	var buf bytes.Buffer
	if err := plot.ConfusionHeatmap(&buf, counts, []string{"cat", "dog"}, "validation"); err != nil {
		fmt.Println(err)
	}
	_, err := png.Decode(&buf)
	fmt.Println(err)
	// Output: <nil>
}
