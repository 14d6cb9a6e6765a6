package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// pattern returns an h x w x ch image with distinct values.
func pattern(h, w, ch int) []float32 {
	p := make([]float32, h*w*ch)
	for i := range p {
		p[i] = float32((i*37)%251) + 1
	}
	return p
}

func TestZeroConfigIsIdentity(t *testing.T) {
	var c Config
	rng := rand.New(rand.NewPCG(1, 2))
	src := pattern(7, 5, 3)
	dst := make([]float32, len(src))
	for range 10 {
		c.Apply(dst, src, 7, 5, 3, rng)
		for i := range src {
			if dst[i] != src[i] {
				t.Fatalf("Config{}.Apply changed value %d: %v, want %v", i, dst[i], src[i])
			}
		}
	}
	if c.Enabled() {
		t.Errorf("Config{}.Enabled() = true, want false")
	}
	if c := (Config{ZoomRange: [2]float64{1, 1}}); c.Enabled() {
		t.Errorf("Config{ZoomRange: [1 1]}.Enabled() = true, want false")
	}
}

func TestRotate90(t *testing.T) {
	for _, n := range []int{4, 5} {
		for _, mode := range []string{"nearest", "constant", "reflect", "wrap"} {
			c := Config{FillMode: mode, Cval: -1}
			src := pattern(n, n, 2)
			dst := make([]float32, len(src))
			c.Transform(dst, src, n, n, 2, Params{Theta: 90})
			// numpy.rot90: out[r][c] = in[c][n-1-r].
			for r := range n {
				for col := range n {
					for k := range 2 {
						got, want := dst[(r*n+col)*2+k], src[(col*n+n-1-r)*2+k]
						if math.Abs(float64(got-want)) > 1e-3 {
							t.Fatalf("n=%d %s: rotate 90: out[%d][%d][%d] = %v, want %v", n, mode, r, col, k, got, want)
						}
					}
				}
			}
		}
	}
}

func TestShift(t *testing.T) {
	const h, w = 5, 6
	src := pattern(h, w, 1)
	at := func(img []float32, r, c int) float32 { return img[r*w+c] }
	for _, k := range []int{1, 2, -3} {
		c := Config{FillMode: "constant", Cval: -7}
		dst := make([]float32, len(src))
		// Rows: out[r][c] = in[r+k][c].
		c.Transform(dst, src, h, w, 1, Params{Tx: float64(k)})
		for r := range h {
			for col := range w {
				want := float32(-7)
				if r+k >= 0 && r+k < h {
					want = at(src, r+k, col)
				}
				if got := at(dst, r, col); got != want {
					t.Fatalf("shift rows by %d: out[%d][%d] = %v, want %v", k, r, col, got, want)
				}
			}
		}
		// Columns: out[r][c] = in[r][c+k].
		c.Transform(dst, src, h, w, 1, Params{Ty: float64(k)})
		for r := range h {
			for col := range w {
				want := float32(-7)
				if col+k >= 0 && col+k < w {
					want = at(src, r, col+k)
				}
				if got := at(dst, r, col); got != want {
					t.Fatalf("shift columns by %d: out[%d][%d] = %v, want %v", k, r, col, got, want)
				}
			}
		}
	}
	// A half-pixel shift averages neighbours.
	c := Config{}
	dst := make([]float32, len(src))
	c.Transform(dst, src, h, w, 1, Params{Ty: 0.5})
	if got, want := at(dst, 2, 1), (at(src, 2, 1)+at(src, 2, 2))/2; math.Abs(float64(got-want)) > 1e-4 {
		t.Errorf("shift columns by 0.5: out[2][1] = %v, want %v", got, want)
	}
}

// TestFillModes checks the patterns of Keras's documentation on abcd, by
// shifting a 1x4 image by 4 and 8 pixels either way.
func TestFillModes(t *testing.T) {
	const a, b, c, d, k = 1, 2, 3, 4, 9
	src := []float32{a, b, c, d}
	for _, tc := range []struct {
		mode string
		// what lies 8..5 and 4..1 pixels left of abcd, then 1..4 and 5..8 right
		left8, left4, right4, right8 []float32
	}{
		{"constant", []float32{k, k, k, k}, []float32{k, k, k, k}, []float32{k, k, k, k}, []float32{k, k, k, k}},
		{"nearest", []float32{a, a, a, a}, []float32{a, a, a, a}, []float32{d, d, d, d}, []float32{d, d, d, d}},
		{"reflect", []float32{a, b, c, d}, []float32{d, c, b, a}, []float32{d, c, b, a}, []float32{a, b, c, d}},
		{"wrap", []float32{a, b, c, d}, []float32{a, b, c, d}, []float32{a, b, c, d}, []float32{a, b, c, d}},
	} {
		cfg := Config{FillMode: tc.mode, Cval: k}
		for _, s := range []struct {
			shift float64
			want  []float32
		}{{-8, tc.left8}, {-4, tc.left4}, {4, tc.right4}, {8, tc.right8}} {
			dst := make([]float32, 4)
			cfg.Transform(dst, src, 1, 4, 1, Params{Ty: s.shift})
			if fmt.Sprint(dst) != fmt.Sprint(s.want) {
				t.Errorf("fill %s, shift %v: %v, want %v", tc.mode, s.shift, dst, s.want)
			}
		}
	}
}

func TestFlipsAndBrightness(t *testing.T) {
	src := []float32{1, 2, 3, 4, 5, 6} // 2 rows, 3 columns
	var c Config
	for _, tc := range []struct {
		p    Params
		want []float32
	}{
		{Params{FlipH: true}, []float32{3, 2, 1, 6, 5, 4}},
		{Params{FlipV: true}, []float32{4, 5, 6, 1, 2, 3}},
		{Params{FlipH: true, FlipV: true}, []float32{6, 5, 4, 3, 2, 1}},
		{Params{Brightness: 100}, []float32{100, 200, 255, 255, 255, 255}},
		// Flips also apply after a real affine transform.
		{Params{FlipH: true, Zx: 1.0000001}, []float32{3, 2, 1, 6, 5, 4}},
	} {
		dst := make([]float32, 6)
		c.Transform(dst, src, 2, 3, 1, tc.p)
		for i := range dst {
			if math.Abs(float64(dst[i]-tc.want[i])) > 1e-4 {
				t.Errorf("Transform(%+v) = %v, want %v", tc.p, dst, tc.want)
				break
			}
		}
	}
}

// kerasAffine is Keras's apply_affine_transform written out literally for a
// channels-last image: 3x3 matrices multiplied in Keras's order, centred,
// the x and y axes swapped, then scipy's affine_transform with order 1 in
// nearest mode. tx and ty are Keras's own (tx acts on columns, see the
// package documentation).
func kerasAffine(src []float32, n int, theta, tx, ty, shear, zx, zy float64) []float32 {
	mul := func(a, b [3][3]float64) (c [3][3]float64) {
		for i := range 3 {
			for j := range 3 {
				for k := range 3 {
					c[i][j] += a[i][k] * b[k][j]
				}
			}
		}
		return c
	}
	th, sh := theta*math.Pi/180, shear*math.Pi/180
	m := [3][3]float64{{math.Cos(th), -math.Sin(th), 0}, {math.Sin(th), math.Cos(th), 0}, {0, 0, 1}}
	m = mul(m, [3][3]float64{{1, 0, tx}, {0, 1, ty}, {0, 0, 1}})
	m = mul(m, [3][3]float64{{1, -math.Sin(sh), 0}, {0, math.Cos(sh), 0}, {0, 0, 1}})
	m = mul(m, [3][3]float64{{zx, 0, 0}, {0, zy, 0}, {0, 0, 1}})
	o := float64(n)/2 - 0.5
	m = mul(mul([3][3]float64{{1, 0, o}, {0, 1, o}, {0, 0, 1}}, m), [3][3]float64{{1, 0, -o}, {0, 1, -o}, {0, 0, 1}})
	// Swap columns 0 and 1, then rows 0 and 1.
	for i := range 3 {
		m[i][0], m[i][1] = m[i][1], m[i][0]
	}
	m[0], m[1] = m[1], m[0]
	clamp := func(v float64) float64 { return math.Min(math.Max(v, 0), float64(n-1)) }
	out := make([]float32, n*n)
	for r := range n {
		for c := range n {
			// scipy: input coordinate = matrix · output + offset, in (row, col).
			ri := clamp(m[0][0]*float64(r) + m[0][1]*float64(c) + m[0][2])
			ci := clamp(m[1][0]*float64(r) + m[1][1]*float64(c) + m[1][2])
			r0, c0 := int(math.Floor(ri)), int(math.Floor(ci))
			r1, c1 := min(r0+1, n-1), min(c0+1, n-1)
			fr, fc := ri-float64(r0), ci-float64(c0)
			v := (1-fr)*((1-fc)*float64(src[r0*n+c0])+fc*float64(src[r0*n+c1])) +
				fr*((1-fc)*float64(src[r1*n+c0])+fc*float64(src[r1*n+c1]))
			out[r*n+c] = float32(v)
		}
	}
	return out
}

func TestMatchesKeras(t *testing.T) {
	const n = 9
	src := pattern(n, n, 1)
	rng := rand.New(rand.NewPCG(3, 4))
	cfg := Config{RotationRange: 30, WidthShiftRange: 0.2, HeightShiftRange: 2, ShearRange: 20, ZoomRange: ZoomRangeOf(0.3)}
	for i := range 50 {
		p := cfg.Random(n, n, rng)
		got := make([]float32, n*n)
		cfg.Transform(got, src, n, n, 1, p)
		// Our Tx moves rows; Keras's code applies its tx to columns.
		want := kerasAffine(src, n, p.Theta, p.Ty, p.Tx, p.Shear, p.Zx, p.Zy)
		for j := range got {
			if math.Abs(float64(got[j]-want[j])) > 1e-3 {
				t.Fatalf("draw %d %+v: pixel %d = %v, Keras gives %v", i, p, j, got[j], want[j])
			}
		}
	}
}

func TestRandom(t *testing.T) {
	cfg := Config{RotationRange: 10, WidthShiftRange: 0.1, HeightShiftRange: 3, ShearRange: 5,
		ZoomRange: [2]float64{0.9, 1.2}, HorizontalFlip: true, BrightnessRange: [2]float64{0.5, 1.5}}
	rng := rand.New(rand.NewPCG(5, 6))
	flips, aspect := 0, 0
	for range 1000 {
		p := cfg.Random(20, 30, rng)
		if math.Abs(p.Theta) > 10 || math.Abs(p.Ty) > 3 || math.Abs(p.Tx) > 3 || math.Abs(p.Shear) > 5 ||
			p.Zx < 0.9 || p.Zx > 1.2 || p.Zy < 0.9 || p.Zy > 1.2 || p.Brightness < 0.5 || p.Brightness > 1.5 || p.FlipV {
			t.Fatalf("Random() = %+v, outside the configured ranges", p)
		}
		if p.FlipH {
			flips++
		}
		if p.Zx != p.Zy {
			aspect++
		}
	}
	if flips < 400 || flips > 600 {
		t.Errorf("horizontal flips in 1000 draws = %d, want about 500", flips)
	}
	if aspect < 990 {
		t.Errorf("zx != zy in %d of 1000 draws, want nearly all (drawn independently)", aspect)
	}
	// Same seed, same draws.
	a := cfg.Random(20, 30, rand.New(rand.NewPCG(9, 9)))
	b := cfg.Random(20, 30, rand.New(rand.NewPCG(9, 9)))
	if a != b {
		t.Errorf("Random with equal seeds: %+v and %+v", a, b)
	}
}

// TestStroke checks the stroke width by hand: a bright cross on a dark
// ground, grown and thinned by half, two channels apart.
func TestStroke(t *testing.T) {
	// Channel 0: one bright pixel in the middle of a 3x4 image; channel 1:
	// a dark pixel on a bright ground at the top left corner.
	src := make([]float32, 3*4*2)
	for i := 1; i < len(src); i += 2 {
		src[i] = 8
	}
	src[(1*4+1)*2] = 4
	src[1] = 0
	c := Config{}
	dst := make([]float32, len(src))
	grow0 := []float32{
		0, 2, 0, 0,
		2, 4, 2, 0,
		0, 2, 0, 0,
	}
	grow1 := []float32{ // the dark corner fills in halfway
		4, 8, 8, 8,
		8, 8, 8, 8,
		8, 8, 8, 8,
	}
	c.Transform(dst, src, 3, 4, 2, Params{Stroke: 0.5})
	check := func(name string, want0, want1 []float32) {
		t.Helper()
		for i := range want0 {
			if dst[2*i] != want0[i] || dst[2*i+1] != want1[i] {
				t.Fatalf("%s: pixel %d = (%v, %v), want (%v, %v)", name, i, dst[2*i], dst[2*i+1], want0[i], want1[i])
			}
		}
	}
	check("t = 0.5", grow0, grow1)
	c.Transform(dst, src, 3, 4, 2, Params{Stroke: -0.5})
	thin0 := []float32{
		0, 0, 0, 0,
		0, 2, 0, 0, // the lone pixel halves
		0, 0, 0, 0,
	}
	thin1 := []float32{ // the dark corner spreads to its two neighbours
		0, 4, 8, 8,
		4, 8, 8, 8,
		8, 8, 8, 8,
	}
	check("t = -0.5", thin0, thin1)
	c.Transform(dst, src, 3, 4, 2, Params{Stroke: 1})
	check("t = 1: the neighbourhood's maximum", []float32{0, 4, 0, 0, 4, 4, 4, 0, 0, 4, 0, 0}, []float32{8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8})

	// A wide image (rows longer than the kept stack) gives the same change
	// as the reference per pixel.
	h, w := 3, 1500
	big := pattern(h, w, 1)
	out := make([]float32, len(big))
	c.Transform(out, big, h, w, 1, Params{Stroke: -0.3})
	for r := range h {
		for x := range w {
			e := big[r*w+x]
			for _, d := range [][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}} {
				if rr, xx := r+d[0], x+d[1]; rr >= 0 && rr < h && xx >= 0 && xx < w {
					e = min(e, big[rr*w+xx])
				}
			}
			v := big[r*w+x]
			if want := v + 0.3*(e-v); out[r*w+x] != want {
				t.Fatalf("wide image: pixel (%d, %d) = %v, want %v", r, x, out[r*w+x], want)
			}
		}
	}

	// Drawn only when set: the other draws stay Keras's sequence.
	keras := Config{RotationRange: 10, ZoomRange: ZoomRangeOf(0.1)}
	withStroke := keras
	withStroke.StrokeRange = 0.6
	a := keras.Random(32, 32, rand.New(rand.NewPCG(3, 4)))
	b := withStroke.Random(32, 32, rand.New(rand.NewPCG(3, 4)))
	if a.Stroke != 0 || b.Stroke == 0 || math.Abs(b.Stroke) > 0.6 {
		t.Errorf("stroke drawn: %v without StrokeRange, %v with 0.6", a.Stroke, b.Stroke)
	}
	b.Stroke = 0
	if a != b {
		t.Errorf("StrokeRange changed the other draws: %+v, want %+v", b, a)
	}
	if on := (Config{StrokeRange: 0.1}); !on.Enabled() {
		t.Errorf("Config{StrokeRange: 0.1}.Enabled() = false")
	}
}

// TestHugeRanges: ranges that validate, however large, give finite images
// in 0..255: a brightness factor past float32's range (black stays black),
// shifts whose range is wider than the largest float64.
func TestHugeRanges(t *testing.T) {
	const h, w, ch = 6, 5, 1
	src := pattern(h, w, ch)
	src[0], src[7] = 0, 0 // black pixels
	dst := make([]float32, len(src))
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []Config{
		{BrightnessRange: [2]float64{1e39, 1e39}},
		{BrightnessRange: [2]float64{1, math.MaxFloat64}},
		{WidthShiftRange: math.MaxFloat64},
		{HeightShiftRange: math.MaxFloat64, FillMode: "wrap"},
	} {
		if err := c.Validate(); err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		for range 20 {
			c.Apply(dst, src, h, w, ch, rng)
			for i, v := range dst {
				if !(v >= 0 && v <= 255) {
					t.Fatalf("%+v: value %d is %v, want 0..255", c, i, v)
				}
			}
		}
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{}, true},
		{Config{RotationRange: 10, ZoomRange: ZoomRangeOf(0.1), FillMode: "reflect"}, true},
		{Config{FillMode: "mirror"}, false},
		{Config{RotationRange: -1}, false},
		{Config{ZoomRange: [2]float64{1.2, 0.8}}, false},
		{Config{ZoomRange: ZoomRangeOf(1)}, false},
		{Config{BrightnessRange: [2]float64{-1, 1}}, false},
		{Config{WidthShiftRange: math.NaN()}, false},
		{Config{StrokeRange: 0.6}, true},
		{Config{StrokeRange: 1.5}, false},
		{Config{StrokeRange: -0.1}, false},
		{Config{StrokeRange: math.NaN()}, false},
	} {
		if err := c.cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("%+v.Validate() = %v, want ok=%v", c.cfg, err, c.ok)
		}
	}
}

func TestNoAllocation(t *testing.T) {
	cfg := Config{RotationRange: 10, ZoomRange: ZoomRangeOf(0.1), WidthShiftRange: 0.1, FillMode: "reflect", StrokeRange: 0.5}
	rng := rand.New(rand.NewPCG(1, 1))
	src := pattern(32, 32, 1)
	dst := make([]float32, len(src))
	if n := testing.AllocsPerRun(100, func() { cfg.Apply(dst, src, 32, 32, 1, rng) }); n != 0 {
		t.Errorf("Apply allocates %v times per image, want 0", n)
	}
}

// BenchmarkEpoch augments 13,440 images of 32x32x1, one AHCD training epoch,
// with the tutorial's settings.
func BenchmarkEpoch(b *testing.B) {
	cfg := Config{RotationRange: 10, WidthShiftRange: 0.1, HeightShiftRange: 0.1, ZoomRange: ZoomRangeOf(0.1)}
	rng := rand.New(rand.NewPCG(1, 1))
	src := pattern(32, 32, 1)
	dst := make([]float32, len(src))
	for b.Loop() {
		for range 13440 {
			cfg.Apply(dst, src, 32, 32, 1, rng)
		}
	}
}
