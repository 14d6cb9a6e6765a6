package kernels

import "sync"

// BF16Weights keeps the matrix B of products op(A)·B converted once to the
// pairs of bfloat16 that [GemmBF16] would convert at every call: the
// weights of a layer, from one prediction to the next, as PyTorch's frozen
// models and oneDNN keep their weights reordered. It is safe for
// concurrent use by the products of several goroutines; the zero value
// holds nothing.
type BF16Weights struct {
	mu     sync.Mutex
	words  []uint32
	of     *float32 // the B that words was converted from; nil: none
	k, n   int
	ldb    int
	shared bool // another goroutine may be reading words (see Share)
}

// Share tells w that the products of several goroutines use it: a new
// conversion then goes to a new buffer, as one of them may still be
// reading the last.
func (w *BF16Weights) Share() {
	w.mu.Lock()
	w.shared = true
	w.mu.Unlock()
}

// Drop forgets the matrix converted: the next product converts its B
// again.
func (w *BF16Weights) Drop() {
	w.mu.Lock()
	w.of = nil
	w.mu.Unlock()
}

// GemmBF16Kept computes GemmBF16(transA, false, m, n, k, alpha, a, lda, b,
// ldb, beta, c, ldc) with B converted at the first call and kept in w for
// the calls that follow given the same b (the same first element) and
// shape: the caller promises that b's values do not change until w.Drop.
// The results are those of [GemmBF16], bit for bit.
func GemmBF16Kept(w *BF16Weights, transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmBF16Kept(activeBF16, w, transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func gemmBF16Kept(impl *bf16Impl, w *BF16Weights, transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !gemmOperands("GemmBF16Kept", transA, false, m, n, k, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	g := newBF16Plan(impl, transA, false, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	g.packed = w.get(g)
	g.compute()
}

// get returns op(B) of g packed whole, converting it unless w holds it.
func (w *BF16Weights) get(g *bf16Plan) []uint32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.of == &g.b[0] && w.k == g.k && w.n == g.n && w.ldb == g.ldb {
		return w.words
	}
	size := g.blockB(g.k)
	if w.shared || cap(w.words) < size {
		w.words = make([]uint32, size)
	}
	w.words = w.words[:size]
	buf := bf16BufPool.Get().(*bf16Buf)
	for pc := 0; pc < g.k; pc += g.kc {
		g.packB(w.words[g.blockB(pc):], buf, 0, g.n, pc, min(g.kc, g.k-pc))
	}
	bf16BufPool.Put(buf)
	w.of, w.k, w.n, w.ldb = &g.b[0], g.k, g.n, g.ldb
	return w.words
}

// blockB returns where the block of op(B) from row pc (a multiple of kc,
// or k for the size of all) starts in B packed whole: every block before
// it is kc rows deep (kc even), all n columns packed by packB.
func (g *bf16Plan) blockB(pc int) int {
	return (pc + 1) / 2 * roundUp(g.n, bf16NR)
}
