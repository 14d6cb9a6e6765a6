package data

import (
	"context"
	"image"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// disc returns an h*w grey image, white on black, with filled discs of
// radius r at the given centres (y, x).
func disc(h, w int, r float64, centres ...[2]float64) []float32 {
	px := make([]float32, h*w)
	for y := range h {
		for x := range w {
			for _, c := range centres {
				if math.Hypot(float64(y)+0.5-c[0], float64(x)+0.5-c[1]) <= r {
					px[y*w+x] = 255
				}
			}
		}
	}
	return px
}

// line returns an h*w grey image, white on black, with a line of the given
// width from a to b, (y, x) each.
func line(h, w int, width float64, a, b [2]float64) []float32 {
	px := make([]float32, h*w)
	for y := range h {
		for x := range w {
			p := [2]float64{float64(y) + 0.5, float64(x) + 0.5}
			d := [2]float64{b[0] - a[0], b[1] - a[1]}
			t := min(1, max(0, ((p[0]-a[0])*d[0]+(p[1]-a[1])*d[1])/(d[0]*d[0]+d[1]*d[1])))
			if math.Hypot(p[0]-a[0]-t*d[0], p[1]-a[1]-t*d[1]) <= width/2 {
				px[y*w+x] = 255
			}
		}
	}
	return px
}

func TestFrame(t *testing.T) {
	f := Framing{Size: [2]int{28, 28}, Box: 20, Center: "mass", At: [2]float64{14, 14}}
	// A disc of radius 10 in the corner of a 200x200 image, on grey paper.
	src := disc(200, 200, 10, [2]float64{20, 170})
	for i := range src {
		src[i] = 40 + src[i]*(200-40)/255
	}
	dst := make([]float32, 28*28)
	p := f.Frame(dst, 28, 28, src, 200, 200, 1)
	if p.Empty || math.Abs(p.Center[0]-20) > 0.2 || math.Abs(p.Center[1]-170) > 0.2 || math.Abs(p.Scale-1) > 0.01 {
		t.Fatalf("Frame(disc at (20, 170), diameter 20) = %+v, want its centre found and a scale of 1", p)
	}
	k, ok := inkOf(dst, 28, 28)
	if !ok {
		t.Fatal("the framed disc holds no ink")
	}
	if long := k.long(); math.Abs(long-20) > 1 {
		t.Errorf("framed disc's box is %v long, want 20", long)
	}
	if math.Abs(k.mass[0]-14) > 0.1 || math.Abs(k.mass[1]-14) > 0.1 {
		t.Errorf("framed disc's centre of mass %v, want (14, 14)", k.mass)
	}
	if dst[0] != 0 || dst[14*28+14] < 250 {
		t.Errorf("framed levels: corner %v, centre %v, want the paper at 0 and the ink at 255", dst[0], dst[14*28+14])
	}
	// Centred by box, at a place off the centre: an L shape whose mass and
	// box centres differ.
	f.Center, f.At = "box", [2]float64{10, 12}
	src = line(100, 100, 6, [2]float64{10, 10}, [2]float64{90, 10})
	for i, v := range line(100, 100, 6, [2]float64{90, 10}, [2]float64{90, 50}) {
		src[i] = max(src[i], v)
	}
	f.Frame(dst, 28, 28, src, 100, 100, 1)
	k, _ = inkOf(dst, 28, 28)
	if c := k.centre("box"); math.Abs(c[0]-10) > 0.6 || math.Abs(c[1]-12) > 0.6 {
		t.Errorf("framed by box at (10, 12): box centre %v", c)
	}
	// An image without ink is resized whole.
	blank := make([]float32, 50*50)
	for i := range blank {
		blank[i] = 30
	}
	if p := f.Frame(dst, 28, 28, blank, 50, 50, 1); !p.Empty || dst[0] != 30 {
		t.Errorf("Frame(blank) = %+v, pixel %v, want empty and resized as it is", p, dst[0])
	}
	// Not framed: resized whole, whatever the ink.
	src = disc(56, 56, 4, [2]float64{8, 8})
	if p := (Framing{Size: [2]int{28, 28}}).Frame(dst, 28, 28, src, 56, 56, 1); p.Scale != 0.5 || dst[4*28+4] < 250 || dst[14*28+14] != 0 {
		t.Errorf("unframed: %+v, want the disc shrunk in place", p)
	}
}

func TestFrameStroke(t *testing.T) {
	f := Framing{Size: [2]int{28, 28}, Box: 20, Center: "mass", At: [2]float64{14, 14}, Stroke: 2}
	dst := make([]float32, 28*28)
	for _, tc := range []struct {
		width float64
		sign  float64 // of Placement.Thinned: 1 eroded, -1 dilated
	}{{40, 1}, {14, 0}, {3, -1}} {
		// A diagonal line 140 pixels long: framed to 20 pixels with its
		// ends, a stroke of width w becomes about w/(7+w/20) wide.
		src := line(160, 160, tc.width, [2]float64{10, 20}, [2]float64{150, 140})
		p := f.Frame(dst, 28, 28, src, 160, 160, 1)
		got := strokeWidth(dst, 28, 28, 0, 1)
		if got > f.Stroke*strokeSpread || got < f.Stroke/strokeSpread {
			t.Errorf("a line %v wide framed: strokes %.2f wide (%+v), want within %v of %v", tc.width, got, p, strokeSpread, f.Stroke)
		}
		if sign := math.Copysign(1, p.Thinned); p.Thinned == 0 && tc.sign != 0 || p.Thinned != 0 && sign != tc.sign {
			t.Errorf("a line %v wide framed: thinned by %v, want the sign of %v", tc.width, p.Thinned, tc.sign)
		}
	}
}

func TestDistances(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		h, w := 1+rng.IntN(12), 1+rng.IntN(12)
		ink := make([]bool, h*w)
		for i := range ink {
			ink[i] = rng.IntN(5) == 0
		}
		d := distances(ink, h, w, true)
		for y := range h {
			for x := range w {
				want := math.Inf(1)
				for yy := range h {
					for xx := range w {
						if ink[yy*w+xx] {
							want = min(want, float64((y-yy)*(y-yy)+(x-xx)*(x-xx)))
						}
					}
				}
				if d[y*w+x] != want {
					t.Fatalf("%dx%d: distance of (%d, %d) = %v, want %v", h, w, y, x, d[y*w+x], want)
				}
			}
		}
	}
}

func TestMeasureFraming(t *testing.T) {
	// Discs of diameter 12 at varying places, their centre of mass moving
	// with them: centred by mass and by box alike, the spread is the same;
	// two discs of different sizes move the centre of mass, not the box.
	rng := rand.New(rand.NewPCG(3, 4))
	x := tensor.New(40, 32, 32, 1)
	for i := range 40 {
		y0, x0 := 12+rng.Float64()*8, 12+rng.Float64()*8
		img := disc(32, 32, 6, [2]float64{y0, x0})
		copy(x.Data[i*1024:], img)
	}
	f := MeasureFraming(x)
	if f.Box != 12 || f.Size != [2]int{32, 32} || math.Abs(f.At[0]-16) > 1.5 || math.Abs(f.At[1]-16) > 1.5 || !f.Dark {
		t.Errorf("MeasureFraming(discs of 12) = %+v, want a box of 12 near the centre, dark", f)
	}
	// Ink filling the images: not framed, light on dark all the same.
	full := tensor.New(4, 8, 8, 1)
	for i := range full.Data {
		if i%8 == 3 {
			full.Data[i] = 255
		}
	}
	if f := MeasureFraming(full); f.Framed() || !f.Dark {
		t.Errorf("MeasureFraming(bars the images' height) = %+v, want not framed, dark", f)
	}
	// The discs dark on light, as photographs of paper: neither.
	for i := range x.Data {
		x.Data[i] = 255 - x.Data[i]
	}
	if f := MeasureFraming(x); f.Framed() || f.Dark {
		t.Errorf("MeasureFraming(dark discs on light) = %+v, want neither framed nor dark", f)
	}
}

// TestCropRect crops images wider and taller than the input's shape, and
// a part of that, by hand; a crop of a framed framing, or out of (0, 1], is
// refused.
func TestCropRect(t *testing.T) {
	for _, c := range []struct {
		size [2]int
		crop float64
		b    image.Rectangle
		want image.Rectangle
	}{
		{[2]int{224, 224}, 1, image.Rect(0, 0, 640, 480), image.Rect(80, 0, 560, 480)},      // the centre square of a landscape
		{[2]int{224, 224}, 1, image.Rect(10, 20, 110, 320), image.Rect(10, 120, 110, 220)},  // of a portrait, off the origin
		{[2]int{224, 224}, 0.875, image.Rect(0, 0, 256, 300), image.Rect(16, 38, 240, 262)}, // torchvision's 224 of 256
		{[2]int{32, 64}, 1, image.Rect(0, 0, 100, 100), image.Rect(0, 25, 100, 75)},         // a wide input: bands off the top and bottom
		{[2]int{224, 224}, 0, image.Rect(0, 0, 640, 480), image.Rect(0, 0, 640, 480)},       // no crop
		{[2]int{224, 224}, 0.001, image.Rect(0, 0, 5, 3), image.Rect(2, 1, 3, 2)},           // at least a pixel
		// Keras's keep_aspect_ratio: 35·32/24 = 46.67 columns, 46 as its
		// integer division (height*target_w)//target_h counts them, from
		// int((50-46)/2) = 2.
		{[2]int{24, 32}, 1, image.Rect(0, 0, 50, 35), image.Rect(2, 0, 48, 35)},
	} {
		f := Framing{Size: c.size, Crop: c.crop}
		if err := f.Check(); err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		if got := f.CropRect(c.b); got != c.want {
			t.Errorf("%v of %v cropping %v: %v, want %v", c.size, c.b, c.crop, got, c.want)
		}
	}
	for _, f := range []Framing{
		{Size: [2]int{8, 8}, Crop: 1.5},
		{Size: [2]int{8, 8}, Crop: math.NaN()},
		{Size: [2]int{8, 8}, Crop: -0.5},
		{Size: [2]int{8, 8}, Box: 5, Center: "mass", At: [2]float64{4, 4}, Crop: 1},
	} {
		if err := f.Check(); err == nil || !strings.Contains(err.Error(), "crop") {
			t.Errorf("Check(%+v) = %v, want an error about the crop", f, err)
		}
	}
}

// The named framings are what MeasureFraming finds on the data sets.
func TestNamedFramings(t *testing.T) {
	skipRace(t)
	dir := sharedData(t)
	ctx := context.Background()
	ahcd, _, err := LoadAHCD(ctx, filepath.Join(dir, "ahcd", "ahcd_csv.zip"), nil)
	if err != nil {
		t.Fatal(err)
	}
	mnist, _, err := LoadMNIST(ctx, filepath.Join(dir, "mnist"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, ds := range map[string]*Dataset{"ahcd": ahcd, "mnist": mnist} {
		want, _ := NamedFraming(name)
		got := ds.MeasureFraming()
		if got != want {
			t.Errorf("MeasureFraming(%s) = %+v, NamedFraming says %+v", name, got, want)
		}
		if f := MeasureFraming(ds.Tensor()); f != got {
			t.Errorf("MeasureFraming(%s in float32) = %+v, of the bytes %+v", name, f, got)
		}
	}
}
