package data

import (
	"slices"
	"testing"
)

func TestMatchPolarity(t *testing.T) {
	// 3x3 grey image: a dark stroke in the middle of white paper.
	paper := []float32{255, 250, 255, 255, 10, 255, 240, 255, 255}
	if !MatchPolarity(paper, 3, 3, 1) {
		t.Fatal("MatchPolarity(dark ink on white) = false, want true")
	}
	if want := []float32{0, 5, 0, 0, 245, 0, 15, 0, 0}; !slices.Equal(paper, want) {
		t.Fatalf("inverted pixels = %v, want %v", paper, want)
	}
	// Already white on black: unchanged.
	ink := []float32{0, 0, 0, 0, 255, 0, 0, 0, 0}
	if MatchPolarity(ink, 3, 3, 1) || ink[4] != 255 {
		t.Fatalf("MatchPolarity(white on black) changed the image: %v", ink)
	}
}
