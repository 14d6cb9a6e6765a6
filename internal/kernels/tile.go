package kernels

import (
	"math"
	"slices"
)

// A convolution tile is a GEMM micro-kernel whose reduction is split into
// segments, A jumping by segA from one segment to the next. With rows of A
// that overlap (rsA smaller than a row) it reads the windows of a
// convolution straight from the image: for the forward pass the rows are
// output cells (rsA = SW·C), each segment one kernel row (KW·C values,
// csA = 1) and segA the row stride of the image; for the kernel gradient
// the rows are the (kx, c) of a kernel row (rsA = 1), each segment one
// output row (OW cells, csA = SW·C). No im2col copy is made.

// tileKernel computes one mr×nr tile:
//
//	for i < mr, j < nr:
//		s := 0
//		for q < nseg, p < seg: s += a[q*segA+i*rsA+p*csA] * b[(q*seg+p)*ldb+j]
//		if flags&tileAccumulate != 0 { s += c[i*ldc+j] }
//		if bias != nil { s += bias[j] }
//		if flags&tileReLU != 0 { s = max(s, 0) }
//		c[i*ldc+j] = s
//
// with j < tileWidth(nr, flags) where the tileSet is masked (other
// columns of C are neither read nor written). The caller checks the
// bounds (see checkTile).
type tileKernel func(nseg, seg int, a []float32, rsA, csA, segA int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int)

// tileRun computes count tiles of one of a tileSet's heights at once, tile
// k reading A from a[k*nextA:] and writing C at c[k*nextC:], the other
// arguments as tileKernel's: a row of tiles in one call. count is at least
// 1, nextA and nextC at least 0.
type tileRun func(count, nextA, nextC int, nseg, seg int, a []float32, rsA, csA, segA int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int)

// runOf returns the tileRun that calls k count times.
func runOf(k tileKernel) tileRun {
	return func(count, nextA, nextC int, nseg, seg int, a []float32, rsA, csA, segA int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int) {
		checkRun(count, nextA, nextC)
		for i := range count {
			k(nseg, seg, a[i*nextA:], rsA, csA, segA, b, ldb, c[i*nextC:], ldc, bias, flags)
		}
	}
}

// checkRun panics unless count, nextA and nextC are a tileRun's.
func checkRun(count, nextA, nextC int) {
	if count < 1 || nextA < 0 || nextC < 0 {
		panic("kernels: row of convolution tiles: no tiles or a negative stride")
	}
}

const (
	tileAccumulate = 1 << iota // add the tile to C
	tileReLU                   // max(s, 0) after the bias
)

// tileColumns returns the flags that make a tile of a tileSet with masked
// set read and write only the first cols columns of C.
func tileColumns(cols int) int { return (1<<cols - 1) << 32 }

// tileSet holds the convolution tiles of one implementation: nr columns,
// and one kernel for each height in mrs (tallest first), with the time
// each takes per row relative to the tallest (short tiles have too few
// accumulators to keep the FMA units busy). With masked, the kernels take
// tileColumns in their flags: a last sliver of filters narrower than nr
// is then written in place, not through a buffer.
type tileSet struct {
	nr      int
	mrs     []int
	cost    []float64
	kernels []tileKernel
	runs    []tileRun // kernels[k] over a row of tiles
	masked  bool
}

var genericTiles = &tileSet{nr: 4, mrs: []int{2, 1}, cost: []float64{1, 1.3}, kernels: []tileKernel{convTile2x4, convTile1x4}, runs: []tileRun{runOf(convTile2x4), runOf(convTile1x4)}}

// tileSpan is one tile of a row of tiles: rows [at, at+mr), of which the
// first skip were computed by the tile before, computed by kernel k of the
// tileSet.
type tileSpan struct {
	at, mr, skip int
	k            int
}

// tileCallCost is the fixed cost of a tile call (zeroing the
// accumulators, writing C), in rows of the tallest tile.
const tileCallCost = 1.5

// tiling is a cover of rows by tiles: run tiles of the tallest height top
// from row 0, then rest. The run is not stored, so that a plan for wide
// rows stays small.
type tiling struct {
	run, top int
	rest     []tileSpan
}

// len is the number of tiles.
func (t tiling) len() int { return t.run + len(t.rest) }

// at returns tile i.
func (t tiling) at(i int) tileSpan {
	if i < t.run {
		return tileSpan{at: i * t.top, mr: t.top}
	}
	return t.rest[i-t.run]
}

// spans covers rows [0, n) with tiles: the cheapest exact cover of the
// longest prefix that has one (tallest tiles first), then, for a rest
// shorter than every tile, the shortest tile moved back to end at row n
// (overlapping the tile before), or running past n when n is shorter
// still (see overhang).
func (ts *tileSet) spans(n int) tiling {
	// Far from the end, the tallest tile is the cheapest per row.
	top := ts.mrs[0]
	t := tiling{top: top}
	if n > 4*top {
		t.run = (n - 4*top + top - 1) / top
	}
	at := t.run * top
	for _, s := range ts.cover(n - at) {
		s.at += at
		t.rest = append(t.rest, s)
	}
	return t
}

// cover is spans without the run of tallest tiles.
func (ts *tileSet) cover(n int) []tileSpan {
	best := make([]float64, n+1)
	last := make([]int, n+1)
	for m := 1; m <= n; m++ {
		best[m], last[m] = math.Inf(1), -1
		for k, mr := range ts.mrs {
			if mr <= m && !math.IsInf(best[m-mr], 1) {
				if c := best[m-mr] + float64(mr)*ts.cost[k] + tileCallCost; c < best[m] {
					best[m], last[m] = c, k
				}
			}
		}
	}
	m := n
	for m > 0 && last[m] < 0 {
		m--
	}
	var ks []int
	for r := m; r > 0; r -= ts.mrs[last[r]] {
		ks = append(ks, last[r])
	}
	slices.Sort(ks)
	var out []tileSpan
	at := 0
	for _, k := range ks {
		out = append(out, tileSpan{at: at, mr: ts.mrs[k], k: k})
		at += ts.mrs[k]
	}
	if at < n {
		k := len(ts.mrs) - 1
		start := max(n-ts.mrs[k], 0)
		out = append(out, tileSpan{at: start, mr: ts.mrs[k], skip: at - start, k: k})
	}
	return out
}

// overhang reports whether the tiles of spans(n) run past row n.
func (ts *tileSet) overhang(n int) bool { return n < ts.mrs[len(ts.mrs)-1] }

// convTile2x4 is the pure-Go 2×4 tile (see tileKernel).
func convTile2x4(nseg, seg int, a []float32, rsA, csA, segA int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int) {
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	ib := 0
	for q := 0; q < nseg; q++ {
		ia := q * segA
		for p := 0; p < seg; p++ {
			a0, a1 := a[ia], a[ia+rsA]
			bp := b[ib : ib+4 : ib+4]
			b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
			c00 += a0 * b0
			c01 += a0 * b1
			c02 += a0 * b2
			c03 += a0 * b3
			c10 += a1 * b0
			c11 += a1 * b1
			c12 += a1 * b2
			c13 += a1 * b3
			ia += csA
			ib += ldb
		}
	}
	tileStore4(c[0:4:4], bias, flags, c00, c01, c02, c03)
	tileStore4(c[ldc:ldc+4:ldc+4], bias, flags, c10, c11, c12, c13)
}

// convTile1x4 is the pure-Go 1×4 tile (see tileKernel).
func convTile1x4(nseg, seg int, a []float32, rsA, csA, segA int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int) {
	var c00, c01, c02, c03 float32
	ib := 0
	for q := 0; q < nseg; q++ {
		ia := q * segA
		for p := 0; p < seg; p++ {
			a0 := a[ia]
			bp := b[ib : ib+4 : ib+4]
			c00 += a0 * bp[0]
			c01 += a0 * bp[1]
			c02 += a0 * bp[2]
			c03 += a0 * bp[3]
			ia += csA
			ib += ldb
		}
	}
	tileStore4(c[0:4:4], bias, flags, c00, c01, c02, c03)
}

// tileStore4 finishes and writes one row of four of a tile.
func tileStore4(c, bias []float32, flags int, s0, s1, s2, s3 float32) {
	c = c[:4]
	if flags&tileAccumulate != 0 {
		s0, s1, s2, s3 = s0+c[0], s1+c[1], s2+c[2], s3+c[3]
	}
	if bias != nil {
		bias = bias[:4]
		s0, s1, s2, s3 = s0+bias[0], s1+bias[1], s2+bias[2], s3+bias[3]
	}
	if flags&tileReLU != 0 {
		s0, s1, s2, s3 = max(s0, 0), max(s1, 0), max(s2, 0), max(s3, 0)
	}
	c[0], c[1], c[2], c[3] = s0, s1, s2, s3
}
