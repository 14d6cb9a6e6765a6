package kernels

// directPlan computes a convolution and its kernel gradient straight from
// the image, with the convolution tiles (see tileKernel), making no im2col
// copy: the windows of the output cells of a row overlap in the image
// (NHWC), one cell SW·C values after the other, and each kernel row of a
// window is KW·C contiguous values. Horizontal padding needs the zeros to be
// there: the input rows are then copied once into a buffer with zero
// columns on both sides (in place otherwise); vertical padding is left out
// of the sums, row by row.
//
//	forward, per output row oy and tile of cells (rows of the tile) × filters:
//		z[oy, ox..] = Σ_{ky inside} Σ_{p < KW·C} row(oy·SH-PT+ky)[ox·SW·C + p] · w[ky, p, :]
//	kernel gradient, per kernel row ky and tile of (kx, c) × filters:
//		dw[ky, i, :] += Σ_{oy inside} Σ_{ox} row(oy·SH-PT+ky)[ox·SW·C + i] · dz[oy, ox, :]
type directPlan struct {
	g      ConvGeom
	f      int
	ts     *tileSet
	fp     int  // f rounded up to a multiple of ts.nr
	wp     int  // cells of a padded row: (OW-1)·SW + KW
	copied bool // rows are copied into a padded buffer, else read in place
	stride int  // floats from one source row to the next
	slack  int  // floats read past the last row by tiles that run over
	block  int  // most output rows computed from one copy of their input rows
	cells  tiling
	window tiling
}

func newDirectPlan(g ConvGeom, f int, ts *tileSet) *directPlan {
	if g.OW == 1 {
		// One output cell per row: the horizontal stride only spaces the
		// cells that tiles running over the row compute and discard, and
		// would size the slack they read (a stride of 2^31 over a small
		// image, gigabytes); any stride computes the same cell.
		g.SW = 1
	}
	p := &directPlan{g: g, f: f, ts: ts, fp: (f + ts.nr - 1) / ts.nr * ts.nr}
	p.wp = (g.OW-1)*g.SW + g.KW
	p.cells, p.window = ts.spans(g.OW), ts.spans(g.KW*g.C)
	over := ts.overhang(g.OW) || ts.overhang(g.KW*g.C)
	p.copied = over || g.PadLeft > 0 || p.wp > g.W
	p.stride = g.W * g.C
	if p.copied {
		p.stride = p.wp * g.C
		p.slack = ts.mrs[0] * (g.SW*g.C + 1)
	}
	// Blocks of rows whose input rows take at most rowBytes.
	p.block = max(1, min(g.OH, ((rowBytes/4)/p.stride-g.KH)/g.SH+1))
	return p
}

// rowBytes bounds the input rows a directPlan copies at once: they stay in
// the L2 cache while the tiles read them.
const rowBytes = 512 << 10

// directBuf is one worker's scratch for a directPlan.
type directBuf struct {
	rows []float32 // padded input rows (their zero columns stay zero)
	tmp  []float32 // one tile, for tiles that are only partly kept
	dz   []float32 // dz with rows of fp values, when f is not a multiple of nr
}

func (p *directPlan) newBuf() *directBuf {
	g := &p.g
	b := &directBuf{tmp: make([]float32, p.ts.mrs[0]*p.ts.nr)}
	if p.copied {
		lo, hi := p.inputRows(0, p.block)
		b.rows = make([]float32, max(hi-lo, (p.block-1)*g.SH+g.KH)*p.stride+p.slack)
	}
	if p.fp != p.f {
		b.dz = make([]float32, g.OH*g.OW*p.fp)
	}
	return b
}

// source returns the rows [lo, hi) of the image x as the tiles read them:
// padded copies, or x itself.
func (p *directPlan) source(buf *directBuf, x []float32, lo, hi int) []float32 {
	g := &p.g
	row := g.W * g.C
	if !p.copied {
		return x[lo*row:]
	}
	n := min(g.W, p.wp-g.PadLeft) * g.C // the image cells a padded row holds
	for r := lo; r < hi; r++ {
		d := buf.rows[(r-lo)*p.stride+g.PadLeft*g.C:]
		copy(d[:n], x[r*row:r*row+n])
	}
	return buf.rows
}

// inputRows returns the image rows [lo, hi) that output rows [oy0, oy1)
// read.
func (p *directPlan) inputRows(oy0, oy1 int) (lo, hi int) {
	g := &p.g
	return max(oy0*g.SH-g.PadTop, 0), min((oy1-1)*g.SH-g.PadTop+g.KH, g.H)
}

// kernelRows returns the kernel rows [ky0, ky1) that fall inside the image
// for output row oy.
func (p *directPlan) kernelRows(oy int) (ky0, ky1 int) {
	g := &p.g
	top := oy*g.SH - g.PadTop
	ky0 = max(-top, 0)
	return ky0, max(min(g.KH, g.H-top), ky0)
}

// packKernel writes the HWIO kernel w (K×f, K = KH·KW·C) into dst as
// slivers nr wide, each K×nr row-major, the columns past f zero.
func (p *directPlan) packKernel(dst, w []float32) {
	nr, f := p.ts.nr, p.f
	k := p.g.ColWidth()
	for j0 := 0; j0 < f; j0 += nr {
		width := min(nr, f-j0)
		s := dst[j0*k : (j0+nr)*k]
		for q := range k {
			d := s[q*nr : (q+1)*nr]
			copy(d[:width], w[q*f+j0:q*f+j0+width])
			clear(d[width:])
		}
	}
}

// forward sets the output rows [oy0, oy1) of one image, the cells of the
// tiles [t0, t1) of each row (see tiles), filters [f0, f1) (multiples of
// nr, or f1 = f): z holds the image's output, x
// its input, w the kernel packed by packKernel (sliver its ColWidth, ldw
// nr) or the HWIO kernel itself (sliver 1, ldw f, a multiple of nr), and
// bias fp values or nil.
func (p *directPlan) forward(buf *directBuf, z, x, w []float32, sliver, ldw int, bias []float32, flags, oy0, oy1, t0, t1, f0, f1 int) {
	g := &p.g
	nr, span := p.ts.nr, g.KW*g.C
	lo, hi := p.inputRows(oy0, oy1)
	src := p.source(buf, x, lo, hi)
	// Each sliver of the kernel for all the rows before the next, while
	// it is in cache.
	for j0 := f0; j0 < f1; j0 += nr {
		var bs []float32
		if bias != nil {
			bs = bias[j0 : j0+nr]
		}
		for oy := oy0; oy < oy1; oy++ {
			ky0, ky1 := p.kernelRows(oy)
			var row []float32
			if ky1 > ky0 {
				row = src[(oy*g.SH-g.PadTop+ky0-lo)*p.stride:]
			} else {
				ky0, ky1 = 0, 0 // a row of padding alone: the bias
			}
			b := w[j0*sliver+ky0*span*ldw:]
			cols := min(nr, p.f-j0)
			for i := t0; i < t1; i++ {
				t := p.cells.at(i)
				var a []float32
				if row != nil {
					a = row[t.at*g.SW*g.C:]
				}
				c := z[(oy*g.OW+t.at)*p.f+j0:]
				// Whole tiles of one height that follow each other, in
				// one call.
				if n := p.whole(i, t1); n > 0 && (cols == nr || p.ts.masked) {
					nextA := t.mr * g.SW * g.C
					if row == nil {
						nextA = 0
					}
					p.ts.runs[t.k](n, nextA, t.mr*p.f, ky1-ky0, span, a, g.SW*g.C, 1, p.stride, b, ldw, c, p.f, bs, flags|p.columns(cols))
					i += n - 1
					continue
				}
				rows := min(t.mr, g.OW-t.at)
				kern := p.ts.kernels[t.k]
				kern(ky1-ky0, span, a, g.SW*g.C, 1, p.stride, b, ldw, buf.tmp, nr, bs, flags)
				for i := t.skip; i < rows; i++ {
					copy(c[i*p.f:i*p.f+cols], buf.tmp[i*nr:i*nr+cols])
				}
			}
		}
	}
}

// whole returns how many of the tiles [i, end) of a row, from tile i on,
// are whole (no rows computed by the tile before, none past the row's
// end), of tile i's height, each starting where the one before ends: 0
// unless tile i is whole.
func (p *directPlan) whole(i, end int) int {
	t := p.cells.at(i)
	if t.skip != 0 || t.at+t.mr > p.g.OW {
		return 0
	}
	n := 1
	if i < p.cells.run { // the run's tiles are whole, of one height
		n = min(end, p.cells.run) - i
	}
	for at := t.at + n*t.mr; i+n < end; n++ {
		u := p.cells.at(i + n)
		if u.k != t.k || u.skip != 0 || u.at != at || at+u.mr > p.g.OW {
			break
		}
		at += u.mr
	}
	return n
}

// columns returns the flags for a tile writing cols of its nr columns.
func (p *directPlan) columns(cols int) int {
	if cols == p.ts.nr {
		return 0
	}
	return tileColumns(cols)
}

// tiles returns the tiles [t0, t1) of a row's part b of parts, and the
// cells [lo, hi) they cover: as many tiles in each part as can be, the
// last two tiles in the same part when they overlap (both write the cells
// they share).
func (p *directPlan) tiles(b, parts int) (t0, t1, lo, hi int) {
	n := p.cells.len()
	cut := p.maxParts()
	t0, t1 = b*cut/parts, (b+1)*cut/parts
	lo, hi = p.cells.at(t0).at, p.g.OW
	if b == parts-1 {
		t1 = n
	} else {
		hi = p.cells.at(t1).at
	}
	return t0, t1, lo, hi
}

// maxParts is the most parts tiles gives a row into: every part but the
// last holds at least one tile.
func (p *directPlan) maxParts() int {
	n := p.cells.len()
	if n > 1 && p.cells.at(n-1).at < p.cells.at(n-2).at+p.cells.at(n-2).mr {
		return max(n-1, 1)
	}
	return n
}

// filterRows returns the output rows [oyLo, oyHi) of [oy0, oy1) whose
// kernel row ky falls inside the image, with top = PadTop - ky; ok is
// false when there are none.
func (p *directPlan) filterRows(ky, oy0, oy1 int) (oyLo, oyHi, top int, ok bool) {
	g := &p.g
	top = g.PadTop - ky
	if g.H-1+top < 0 {
		return 0, 0, 0, false
	}
	oyLo = max(oy0, (top+g.SH-1)/g.SH)
	oyHi = min(oy1, (g.H-1+top)/g.SH+1)
	return oyLo, oyHi, top, oyHi > oyLo
}

// filter adds to dw (KH×KW×C×f) the kernel gradient of the output rows
// [oy0, oy1) of one image: x its input, dz the gradient of its output.
func (p *directPlan) filter(buf *directBuf, dw, x, dz []float32, oy0, oy1 int) {
	g := &p.g
	nr, span := p.ts.nr, g.KW*g.C
	lo, hi := p.inputRows(oy0, oy1)
	src := p.source(buf, x, lo, hi)
	ldb := p.f
	if p.fp != p.f {
		ldb = p.fp
		for r := oy0 * g.OW; r < oy1*g.OW; r++ {
			copy(buf.dz[r*p.fp:r*p.fp+p.f], dz[r*p.f:(r+1)*p.f])
		}
		dz = buf.dz
	}
	for ky := range g.KH {
		oyLo, oyHi, top, ok := p.filterRows(ky, oy0, oy1)
		if !ok {
			continue
		}
		row := src[(oyLo*g.SH-top-lo)*p.stride:]
		for j0 := 0; j0 < p.f; j0 += nr {
			b := dz[oyLo*g.OW*ldb+j0:]
			cols := min(nr, p.f-j0)
			for i := range p.window.len() {
				t := p.window.at(i)
				a := row[t.at:]
				c := dw[(ky*span+t.at)*p.f+j0:]
				rows := min(t.mr, span-t.at)
				kern := p.ts.kernels[t.k]
				if t.skip == 0 && rows == t.mr && (cols == nr || p.ts.masked) {
					kern(oyHi-oyLo, g.OW, a, 1, g.SW*g.C, g.SH*p.stride, b, ldb, c, p.f, nil, tileAccumulate|p.columns(cols))
					continue
				}
				kern(oyHi-oyLo, g.OW, a, 1, g.SW*g.C, g.SH*p.stride, b, ldb, buf.tmp, nr, nil, 0)
				for i := t.skip; i < rows; i++ {
					AddTo(c[i*p.f:i*p.f+cols], buf.tmp[i*nr:i*nr+cols])
				}
			}
		}
	}
}
