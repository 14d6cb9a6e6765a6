package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// spans covers every row once (the rows a tile skips are covered by the
// tile before it), and runs past the end only when the rows are fewer than
// the shortest tile.
func TestTileSpans(t *testing.T) {
	sets := []*tileSet{genericTiles, {nr: 32, mrs: []int{12, 8, 4}, cost: []float64{1, 1.05, 1.5}}}
	for _, impl := range gemmImpls {
		sets = append(sets, impl.tiles)
		if impl.narrow != nil {
			sets = append(sets, impl.narrow)
		}
	}
	for _, ts := range sets {
		for n := 1; n <= 200; n++ {
			seen := make([]int, n)
			for _, s := range ts.spans(n).all() {
				if ts.mrs[s.k] != s.mr {
					t.Fatalf("spans(%d) of %v: tile %+v has the wrong kernel", n, ts.mrs, s)
				}
				for r := s.at + s.skip; r < s.at+s.mr; r++ {
					if r < n {
						seen[r]++
					} else if !ts.overhang(n) {
						t.Fatalf("spans(%d) of %v: tile %+v runs past the rows", n, ts.mrs, s)
					}
				}
			}
			for r, v := range seen {
				if v != 1 {
					t.Fatalf("spans(%d) of %v: row %d covered %d times", n, ts.mrs, r, v)
				}
			}
		}
	}
	ts := &tileSet{nr: 32, mrs: []int{12, 8, 4}, cost: []float64{1, 1.05, 1.5}}
	for n, want := range map[int]string{16: "[8 8]", 32: "[12 12 8]", 160: "[12 12 12 12 12 12 12 12 12 12 12 12 8 8]", 96: "[12 12 12 12 12 12 12 12]", 5: "[4 4]", 2: "[4]"} {
		var got []int
		for _, s := range ts.spans(n).all() {
			got = append(got, s.mr)
		}
		if fmt.Sprint(got) != want {
			t.Errorf("spans(%d) = %v, want %s", n, got, want)
		}
	}
	// With tiles of 14 and 7 rows, ResNet's 7- and 14-cell rows take one
	// tile each.
	ts = &tileSet{nr: 32, mrs: []int{14, 12, 8, 7, 4}, cost: []float64{1, 1, 1.05, 1.1, 1.5}}
	for n, want := range map[int]string{7: "[7]", 14: "[14]", 28: "[14 14]", 49: "[14 14 14 7]", 32: "[12 12 8]", 56: "[14 14 14 14]"} {
		var got []int
		for _, s := range ts.spans(n).all() {
			got = append(got, s.mr)
		}
		if fmt.Sprint(got) != want {
			t.Errorf("spans(%d) of %v = %v, want %s", n, ts.mrs, got, want)
		}
	}
}

// tileRef is the loop in tileKernel's comment.
func tileRef(mr, nr, nseg, seg int, a []float32, rsA, csA, segA int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int) {
	for i := range mr {
		for j := range nr {
			var s float32
			for q := range nseg {
				for p := range seg {
					s += a[q*segA+i*rsA+p*csA] * b[(q*seg+p)*ldb+j]
				}
			}
			if flags&tileAccumulate != 0 {
				s += c[i*ldc+j]
			}
			if bias != nil {
				s += bias[j]
			}
			if flags&tileReLU != 0 {
				s = max(s, 0)
			}
			c[i*ldc+j] = s
		}
	}
}

// Every tile of every path computes tileRef's loop, for segments of every
// length, overlapping rows, with and without accumulation, bias and ReLU,
// and writes nothing outside its tile.
func TestTileKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	forEachTileSet(t, func(t *testing.T, ts *tileSet) {
		for ki, mr := range ts.mrs {
			kern, nr := ts.kernels[ki], ts.nr
			for _, tc := range []struct{ nseg, seg, rsA, csA, segA int }{
				{0, 5, 3, 1, 40}, {1, 0, 3, 1, 40}, {1, 1, 1, 1, 1}, {3, 7, 2, 1, 50},
				{5, 160, 32, 1, 1152}, {2, 16, 1, 64, 1100}, {4, 9, 1, 3, 30}, {1, 33, 0, 1, 0},
			} {
				// The columns of C written: all, or (masked) the first few.
				widths := []int{nr}
				if ts.masked {
					widths = append(widths, 1, 5, nr-1)
				}
				for _, cols := range widths {
					for flags := range 4 {
						for _, withBias := range []bool{false, true} {
							n := tc.nseg*tc.segA + mr*tc.rsA + tc.seg*tc.csA + 1
							a := randSlice(rng, n)
							ldb, ldc := nr+3, nr+5
							b := randSlice(rng, max(tc.nseg*tc.seg, 1)*ldb)
							var bias []float32
							if withBias {
								bias = randSlice(rng, nr)
							}
							c := randSlice(rng, mr*ldc+7)
							for i := range c {
								if i >= (mr-1)*ldc+cols || i%ldc >= cols {
									c[i] = gemmGuard
								}
							}
							want := clone(c)
							tileRef(mr, nr, tc.nseg, tc.seg, a, tc.rsA, tc.csA, tc.segA, b, ldb, want, ldc, bias, flags)
							for i := range want {
								if i >= (mr-1)*ldc+cols || i%ldc >= cols {
									want[i] = gemmGuard
								}
							}
							f := flags
							if cols < nr {
								f |= tileColumns(cols)
							}
							kern(tc.nseg, tc.seg, a, tc.rsA, tc.csA, tc.segA, b, ldb, c[:(mr-1)*ldc+cols], ldc, bias, f)
							tol := float32(1e-5 * float64(tc.nseg*tc.seg+3))
							for i := range c {
								if abs32(c[i]-want[i]) > tol {
									t.Fatalf("tile %dx%d %+v flags %d bias %v columns %d: c[%d] = %v, want %v", mr, nr, tc, flags, withBias, cols, i, c[i], want[i])
								}
							}
						}
					}
				}
			}
		}
	})
}

// A row of tiles (tileSet.runs, every height) computes tileRef's loop for each tile,
// A and C moved on by their strides, for rows of tiles that share their
// windows' cells (nextA below the tile's reach) and rows apart, and writes
// nothing outside its tiles.
func TestTileRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	forEachTileSet(t, func(t *testing.T, ts *tileSet) {
		for ki, mr := range ts.mrs {
			nr := ts.nr
			for _, tc := range []struct{ count, nseg, seg, rsA, csA, segA, nextA int }{
				{1, 1, 16, 16, 1, 0, 16 * mr}, {7, 1, 24, 24, 1, 0, 24 * mr}, {3, 3, 12, 4, 1, 200, 4 * mr},
				{4, 2, 5, 1, 3, 40, 0}, {5, 0, 5, 3, 1, 40, 3 * mr}, {2, 1, 40, 40, 1, 0, 40 * mr},
			} {
				widths := []int{nr}
				if ts.masked {
					widths = append(widths, 3)
				}
				for _, cols := range widths {
					for flags := range 4 {
						ldb, ldc := nr+3, nr+5
						nextC := mr * ldc
						a := randSlice(rng, (tc.count-1)*tc.nextA+tc.nseg*tc.segA+mr*tc.rsA+tc.seg*tc.csA+1)
						b := randSlice(rng, max(tc.nseg*tc.seg, 1)*ldb)
						bias := randSlice(rng, nr)
						size := (tc.count-1)*nextC + (mr-1)*ldc + cols
						c := randSlice(rng, (tc.count-1)*nextC+mr*ldc+9)
						outside := func(i int) bool { return i >= size || i%ldc >= cols }
						for i := range c {
							if outside(i) {
								c[i] = gemmGuard
							}
						}
						want := clone(c)
						for k := range tc.count {
							tileRef(mr, nr, tc.nseg, tc.seg, a[k*tc.nextA:], tc.rsA, tc.csA, tc.segA, b, ldb, want[k*nextC:], ldc, bias, flags)
						}
						for i := range want {
							if outside(i) {
								want[i] = gemmGuard
							}
						}
						f := flags
						if cols < nr {
							f |= tileColumns(cols)
						}
						ts.runs[ki](tc.count, tc.nextA, nextC, tc.nseg, tc.seg, a, tc.rsA, tc.csA, tc.segA, b, ldb, c[:size], ldc, bias, f)
						tol := float32(1e-5 * float64(tc.nseg*tc.seg+3))
						for i := range c {
							if abs32(c[i]-want[i]) > tol {
								t.Fatalf("%d tiles %dx%d %+v flags %d columns %d: c[%d] (tile %d) = %v, want %v", tc.count, mr, nr, tc, flags, cols, i, i/nextC, c[i], want[i])
							}
						}
					}
				}
			}
		}
	})
}

// A tile checks its bounds before it reads or writes.
func TestTileBounds(t *testing.T) {
	forEachTileSet(t, func(t *testing.T, ts *tileSet) {
		mr, nr, kern := ts.mrs[0], ts.nr, ts.kernels[0]
		a, b, c := make([]float32, 100), make([]float32, 10*nr), make([]float32, mr*nr)
		calls := map[string]func(){
			"A":    func() { kern(2, 5, a, 10, 1, 96, b, nr, c, nr, nil, 0) },
			"B":    func() { kern(2, 6, a, 1, 1, 6, b, nr, c, nr, nil, 0) },
			"C":    func() { kern(1, 1, a, 1, 1, 1, b, nr, c[1:], nr, nil, 0) },
			"bias": func() { kern(1, 1, a, 1, 1, 1, b, nr, c, nr, make([]float32, nr-1), 0) },
		}
		run, next := ts.runs[0], mr*nr
		big := make([]float32, 3*mr*nr)
		calls["A of the last tile of a row"] = func() { run(3, 45, next, 1, 10, a, 1, 1, 1, b, nr, big, nr, nil, 0) }
		calls["C of the last tile of a row"] = func() { run(4, 1, next, 1, 10, a, 1, 1, 1, b, nr, big, nr, nil, 0) }
		calls["a row of no tiles"] = func() { run(0, 1, next, 1, 10, a, 1, 1, 1, b, nr, big, nr, nil, 0) }
		calls["a row going back"] = func() { run(2, -1, next, 1, 10, a[1:], 1, 1, 1, b, nr, big, nr, nil, 0) }
		if ts.masked {
			calls["C for its columns"] = func() { kern(1, 1, a, 1, 1, 1, b, nr, c[:(mr-1)*nr+3], nr, nil, tileColumns(4)) }
		}
		for name, call := range calls {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("tile %dx%d with %s too short: no panic", mr, nr, name)
					}
				}()
				call()
			}()
		}
	})
}

// all returns every tile.
func (t tiling) all() []tileSpan {
	out := make([]tileSpan, t.len())
	for i := range out {
		out[i] = t.at(i)
	}
	return out
}

// forEachTileSet runs f on every implementation's tile sets: its tiles, and
// those of narrow convolutions if it has them.
func forEachTileSet(t *testing.T, f func(t *testing.T, ts *tileSet)) {
	forEachImpl(t, func(t *testing.T, impl *gemmImpl) {
		for _, ts := range []*tileSet{impl.tiles, impl.narrow} {
			if ts != nil {
				t.Run(fmt.Sprintf("%dx%d", ts.mrs[0], ts.nr), func(t *testing.T) { f(t, ts) })
			}
		}
	})
}
