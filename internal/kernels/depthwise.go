package kernels

import "fmt"

// DepthwiseCells computes a depthwise convolution on cells output cells
// of c channels, from the bias b:
//
//	for n < cells, j < c:
//		y[n*c+j] = b[j] + Σ_{ky<kh, kx<kw} x[n*sx + ky*ld + kx*tx + j] · w[ky*ldw + kx*c + j]
//
// x starts at the first cell's window and w at the kernel's first tap, sx
// is the step between the windows of two cells (stride·c), tx that between
// a window's taps along a row (c, or d·c for taps d columns apart), ld
// that between its rows (an image row, width·c, or d of them) and ldw the
// length of a kernel row, all in floats. For
// windows inside the image, w is the kernel [kh, kw, c] and ldw is kw·c; a
// window cut by the image's edges reads its taps inside, kh×kw of a larger
// kernel, ldw that kernel's row. With AVX-512 the channels run 16 at a time
// (the last ones under a mask), each sum in a register over its window.
func DepthwiseCells(y, b, x, w []float32, cells, c, sx, tx, kh, kw, ld, ldw int) {
	if cells <= 0 || c <= 0 || kh <= 0 || kw <= 0 {
		if kh <= 0 || kw <= 0 {
			panic(fmt.Sprintf("kernels: DepthwiseCells: window %dx%d", kh, kw))
		}
		return
	}
	if len(y) < cells*c || len(b) < c || ldw < kw*c || tx < c || len(w) < (kh-1)*ldw+kw*c || len(x) < (cells-1)*sx+(kh-1)*ld+(kw-1)*tx+c {
		panic(fmt.Sprintf("kernels: DepthwiseCells: %d cells of %d channels (window %dx%d, steps %d, %d, %d and %d) on slices of %d, %d, %d and %d values",
			cells, c, kh, kw, sx, tx, ld, ldw, len(y), len(b), len(x), len(w)))
	}
	if vecLanes == 16 {
		vec := c / 16 * 16
		for j := 0; j < vec; j += 64 {
			nv := min(4, (vec-j)/16)
			depthwiseAVX512[nv-1](&y[j], &b[j], &x[j], &w[j], cells, c, sx, tx, kh, kw, ld, ldw)
		}
		if vec < c { // the last channels under a mask
			depthwiseTailAVX512(&y[vec], &b[vec], &x[vec], &w[vec], cells, c, sx, tx, kh, kw, ld, ldw, 1<<(c-vec)-1)
		}
		return
	}
	for n := range cells {
		out := y[n*c : (n+1)*c]
		copy(out, b[:c])
		for ky := range kh {
			for kx := range kw {
				in := x[n*sx+ky*ld+kx*tx:][:len(out)]
				k := w[ky*ldw+kx*c:][:len(out)]
				for j := range out {
					out[j] += in[j] * k[j]
				}
			}
		}
	}
}

// DepthwiseFilterCells adds to the kernel gradient dw of a depthwise
// convolution the part of cells output cells, for the first width of the c
// channels that dw, x and dz start at:
//
//	for ky < kh, kx < kw, j < width:
//		dw[ky*ldw + kx*c + j] += Σ_{n < cells} x[n*sx + ky*ld + kx*tx + j] · dz[n*c + j]
//
// x starts at the first cell's window and dz at its gradient; sx, tx, ld,
// ldw and c are as for DepthwiseCells (cells whose windows are cut by the
// image's edges add to the taps inside: dw starts at the first, ldw is the
// kernel's row). Each weight's sum runs over the cells in order, 16
// channels at a time with AVX-512 (the last ones under a mask).
func DepthwiseFilterCells(dw, x, dz []float32, cells, c, width, sx, tx, kh, kw, ld, ldw int) {
	if cells <= 0 || width <= 0 || kh <= 0 || kw <= 0 {
		return
	}
	if width > c || ldw < kw*c || tx < c || len(dw) < (kh-1)*ldw+(kw-1)*c+width || len(dz) < (cells-1)*c+width || len(x) < (cells-1)*sx+(kh-1)*ld+(kw-1)*tx+width {
		panic(fmt.Sprintf("kernels: DepthwiseFilterCells: %d cells, %d of %d channels (window %dx%d, steps %d, %d and %d) on slices of %d, %d and %d values",
			cells, width, c, kh, kw, sx, tx, ld, len(dw), len(x), len(dz)))
	}
	if vecLanes == 16 {
		vec := width / 16 * 16
		for j := 0; j < vec; j += 64 {
			nv := min(4, (vec-j)/16)
			depthwiseFilterAVX512[nv-1](&dw[j], &x[j], &dz[j], cells, c, sx, tx, kh, kw, ld, ldw)
		}
		if vec < width { // the last channels under a mask
			depthwiseFilterTailAVX512(&dw[vec], &x[vec], &dz[vec], cells, c, sx, tx, kh, kw, ld, ldw, 1<<(width-vec)-1)
		}
		return
	}
	for ky := range kh {
		for kx := range kw {
			k := dw[ky*ldw+kx*c : ky*ldw+kx*c+width]
			for n := range cells {
				in := x[n*sx+ky*ld+kx*tx:][:len(k)]
				d := dz[n*c:][:len(k)]
				for j := range k {
					k[j] += in[j] * d[j]
				}
			}
		}
	}
}
