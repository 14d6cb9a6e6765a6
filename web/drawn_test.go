package web

import (
	"context"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
)

// TestDrawnCharacters classifies the hand-drawn letters and digits of
// strokes_test.go, drawn on the pad at every size and position, with the
// built-in models, through the classifier's framing: small drawings in a
// corner must do as well as large centred ones.
func TestDrawnCharacters(t *testing.T) {
	for _, tc := range []struct {
		model  string
		glyphs []glyph
	}{{"ahcd", letterGlyphs}, {"mnist", digitGlyphs}} {
		m, err := pretrained.Load(tc.model)
		if err != nil {
			t.Fatal(err)
		}
		c := classifier(t, m, model.ClassifierOptions{})
		names := c.ClassNames()
		brush := brushWidth(c.InputShape()[1])
		correct, total := map[[2]string]int{}, map[[2]string]int{}
		for _, g := range tc.glyphs {
			for _, size := range drawSizes {
				for _, pos := range drawPositions {
					img := rasterize(placeGlyph(g, size, pos), brush)
					r, err := c.Classify(context.Background(), img, 1)
					if err != nil {
						t.Fatal(err)
					}
					k := [2]string{size.name, pos}
					total[k]++
					if got := strings.Fields(names[r.Top[0].Label])[0]; got == g.name {
						correct[k]++
					} else {
						t.Logf("%s %s %s: %s", g.name, size.name, pos, got)
					}
				}
			}
		}
		t.Logf("%s, correct of drawn:\n%s", tc.model, accuracyTable(correct, total))
		rate := func(size string, positions ...string) float64 {
			c, n := 0, 0
			for _, p := range positions {
				c, n = c+correct[[2]string{size, p}], n+total[[2]string{size, p}]
			}
			return float64(c) / float64(n)
		}
		large := rate("large", "centre")
		for _, s := range drawSizes {
			if got := rate(s.name, drawPositions...); got < 0.85 || got < large-0.1 {
				t.Errorf("%s: %s drawings %.0f%% right, want at least 85%% and within 10 points (one glyph) of large centred ones (%.0f%%)", tc.model, s.name, 100*got, 100*large)
			}
		}
	}
}
