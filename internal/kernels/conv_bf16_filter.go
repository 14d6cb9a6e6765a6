package kernels

// bf16Filter computes a convolution's kernel gradient in bfloat16, on the
// tiles on pairs: the tiles of the float32 plan's filter (rows the (kx, c)
// of a kernel row, the sum over the output cells of each output row), with
// the cells taken two by two. For each input row it makes the pairs of the
// values two neighbouring output cells read,
//
//	a[r][m][i] = pair(row r at cell 2m + i, row r at cell 2m+1 + i)   (i < KW·C, cells SW·C apart)
//
// and for each output row those of dz,
//
//	b[oy][m][f] = pair(dz[oy, 2m, f], dz[oy, 2m+1, f])
//
// (the second zero past the row's last cell), so that
//
//	dw[ky, i, f] += Σ_oy Σ_m a[oy·SH-PT+ky][m][i] · b[oy][m][f]
//
// is the float32 plan's sum with the cells paired.
type bf16Filter struct {
	p      *directPlan // the float32 plan: geometry, rows, their copies
	impl   *bf16Impl
	ts     *tileSet
	fp     int // f rounded up to ts.nr
	window tiling
	pairs  int // ⌈OW/2⌉
	ld     int // words from one pair of cells of a's rows to the next: KW·C and a tile's overhang
}

// bf16FilterBuf is one worker's pairs, and a tile for the tiles that are
// only partly kept.
type bf16FilterBuf struct {
	a, b, tmp []float32
}

func newBF16Filter(p *directPlan, impl *bf16Impl) *bf16Filter {
	ts := impl.tilesFor(p.f)
	span := p.g.KW * p.g.C
	return &bf16Filter{p: p, impl: impl, ts: ts, fp: (p.f + ts.nr - 1) / ts.nr * ts.nr,
		window: ts.spans(span), pairs: (p.g.OW + 1) / 2, ld: span + ts.mrs[0]}
}

// filter adds to dw (KH×KW×C×f) the kernel gradient of the output rows
// [oy0, oy1) of one image: x its input, dz the gradient of its output.
func (bf *bf16Filter) filter(buf *directBuf, pb *bf16FilterBuf, dw, x, dz []float32, oy0, oy1 int) {
	p := bf.p
	g := &p.g
	f, nr, span, cell := p.f, bf.ts.nr, g.KW*g.C, g.SW*g.C
	lo, hi := p.inputRows(oy0, oy1)
	src := p.source(buf, x, lo, hi)
	pb.tmp = grow(pb.tmp, bf.ts.mrs[0]*nr)
	rowA := bf.pairs * bf.ld // words of a's row
	pb.a = grow(pb.a, (hi-lo)*rowA)
	for r := range hi - lo {
		row := src[r*p.stride:]
		for m := range bf.pairs {
			var next []float32
			if 2*m+1 < g.OW {
				next = row[(2*m+1)*cell : (2*m+1)*cell+span]
			}
			bf.impl.across(asWords(pb.a[r*rowA+m*bf.ld:r*rowA+m*bf.ld+span]), row[2*m*cell:2*m*cell+span], next, bf16NR)
		}
	}
	rowB := bf.pairs * bf.fp
	if n := (oy1 - oy0) * rowB; len(pb.b) < n {
		pb.b = make([]float32, n) // the columns past f stay zero
	}
	for oy := oy0; oy < oy1; oy++ {
		for m := range bf.pairs {
			var next []float32
			if 2*m+1 < g.OW {
				next = dz[(oy*g.OW+2*m+1)*f : (oy*g.OW+2*m+2)*f]
			}
			d := (oy-oy0)*rowB + m*bf.fp
			bf.impl.across(asWords(pb.b[d:d+f]), dz[(oy*g.OW+2*m)*f:(oy*g.OW+2*m+1)*f], next, bf16NR)
		}
	}
	for ky := range g.KH {
		oyLo, oyHi, top, ok := p.filterRows(ky, oy0, oy1)
		if !ok {
			continue
		}
		a := pb.a[(oyLo*g.SH-top-lo)*rowA:]
		for j0 := 0; j0 < f; j0 += nr {
			b := pb.b[(oyLo-oy0)*rowB+j0:]
			cols := min(nr, f-j0)
			flags := 0
			if cols < nr {
				flags = tileColumns(cols)
			}
			for i := range bf.window.len() {
				t := bf.window.at(i)
				c := dw[(ky*span+t.at)*f+j0:]
				rows := min(t.mr, span-t.at)
				kern := bf.ts.kernels[t.k]
				if t.skip == 0 && rows == t.mr && (cols == nr || bf.ts.masked) {
					kern(oyHi-oyLo, bf.pairs, a[t.at:], 1, bf.ld, g.SH*rowA, b, bf.fp, c, f, nil, tileAccumulate|flags)
					continue
				}
				kern(oyHi-oyLo, bf.pairs, a[t.at:], 1, bf.ld, g.SH*rowA, b, bf.fp, pb.tmp, nr, nil, 0)
				for i := t.skip; i < rows; i++ {
					AddTo(c[i*f:i*f+cols], pb.tmp[i*nr:i*nr+cols])
				}
			}
		}
	}
}
