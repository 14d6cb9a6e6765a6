package kernels

import "math"

var genericBF16Tiles = &tileSet{nr: 4, mrs: []int{2, 1}, cost: []float64{1, 1.3},
	kernels: []tileKernel{convTileBF16x2x4, convTileBF16x1x4}, runs: []tileRun{runOf(convTileBF16x2x4), runOf(convTileBF16x1x4)}}

// convTileBF16x2x4 is the pure-Go 2×4 tile on pairs of bfloat16: a and b
// hold, in the bits of each float32, a pair (the bfloat16 of the even
// step in the low 16 bits, of the odd one in the high 16), and each step
// adds the two products, the high one first:
//
//	for i < 2, j < 4:
//		s := float32(0)
//		for q < nseg, p < seg:
//			x, y := a[q*segA+i*rsA+p*csA], b[(q*seg+p)*ldb+j]
//			s += hi(x)*hi(y)
//			s += lo(x)*lo(y)
//		if flags&tileAccumulate != 0 { s += c[i*ldc+j] }
//		if bias != nil { s += bias[j] }
//		if flags&tileReLU != 0 { s = max(s, 0) }
//		c[i*ldc+j] = s
func convTileBF16x2x4(nseg, seg int, a []float32, rsA, csA, segA int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int) {
	var acc [2][4]float32
	for i := range acc {
		tileRowBF16(&acc[i], nseg, seg, a[i*rsA:], csA, segA, b, ldb)
	}
	tileStore4(c[0:4:4], bias, flags, acc[0][0], acc[0][1], acc[0][2], acc[0][3])
	tileStore4(c[ldc:ldc+4:ldc+4], bias, flags, acc[1][0], acc[1][1], acc[1][2], acc[1][3])
}

// convTileBF16x1x4 is the pure-Go 1×4 tile on pairs (see convTileBF16x2x4).
func convTileBF16x1x4(nseg, seg int, a []float32, rsA, csA, segA int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int) {
	var acc [4]float32
	tileRowBF16(&acc, nseg, seg, a, csA, segA, b, ldb)
	tileStore4(c[0:4:4], bias, flags, acc[0], acc[1], acc[2], acc[3])
}

// tileRowBF16 sums one row of a tile on pairs into acc.
func tileRowBF16(acc *[4]float32, nseg, seg int, a []float32, csA, segA int, b []float32, ldb int) {
	ib := 0
	for q := range nseg {
		ia := q * segA
		for range seg {
			x := math.Float32bits(a[ia])
			hi, lo := FromBF16(uint16(x>>16)), FromBF16(uint16(x))
			for j, y := range b[ib : ib+4 : ib+4] {
				w := math.Float32bits(y)
				s := acc[j] + hi*FromBF16(uint16(w>>16))
				acc[j] = s + lo*FromBF16(uint16(w))
			}
			ia += csA
			ib += ldb
		}
	}
}
