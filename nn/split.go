package nn

import (
	"runtime"

	"github.com/convnet-go/convnet/internal/kernels"
)

// splitGrain is the number of values a piece of elementwise work gets: a
// layer's rows are cut into pieces of about this size, the same pieces
// whatever GOMAXPROCS is, so that results do not depend on it.
const splitGrain = 16 << 10

// splitBody is a layer's work cut into pieces: do runs the items [lo, hi)
// of the given phase of the layer's pass. Items are rows or channel groups;
// each item's result must depend on the item alone.
type splitBody interface {
	do(phase, lo, hi int)
}

// split runs a splitBody's items on the cores, without allocating in steady
// state. The zero value is ready; a layer keeps one for its passes.
type split struct {
	self  *split // the split whose method value item holds
	item  func(worker, i int)
	body  splitBody
	phase int
	n     int // items
	chunk int // items per piece
}

// rows runs body.do(phase, lo, hi) over the n rows of rowLen values each,
// in pieces of about splitGrain values, in parallel when there is more than
// one piece.
func (s *split) rows(body splitBody, phase, n, rowLen int) {
	s.items(body, phase, n, max(1, splitGrain/max(rowLen, 1)))
}

// items runs body.do(phase, lo, hi) over n items in pieces of chunk items.
func (s *split) items(body splitBody, phase, n, chunk int) {
	pieces := (n + chunk - 1) / chunk
	if pieces <= 1 || runtime.GOMAXPROCS(0) == 1 {
		body.do(phase, 0, n)
		return
	}
	if s.self != s { // first use, or a copied layer
		s.self, s.item = s, s.piece
	}
	s.body, s.phase, s.n, s.chunk = body, phase, n, chunk
	kernels.ParallelFor(pieces, pieces, s.item)
	s.body = nil
}

func (s *split) piece(_, i int) {
	lo := i * s.chunk
	s.body.do(s.phase, lo, min(lo+s.chunk, s.n))
}
