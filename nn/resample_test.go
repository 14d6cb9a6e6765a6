package nn_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// resampleTol bounds the difference from PyTorch's float32 results: sums of
// at most four products of values below 1 in size.
const resampleTol = 2e-6

// UpSampling2D and Resizing compute what PyTorch's F.interpolate does
// (testdata/resample_golden.py wrote the file), outputs and input
// gradients both.
func TestResampleAgainstPyTorch(t *testing.T) {
	b, err := os.ReadFile("testdata/resample_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []struct {
			Name, Type   string
			Config       map[string]any
			Input        []int
			X, Y, Dy, Dx []float32
		}
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Cases) < 10 {
		t.Fatalf("%d cases in the golden file, want 10", len(golden.Cases))
	}
	for _, c := range golden.Cases {
		t.Run(c.Name, func(t *testing.T) {
			l, err := nn.FromConfig(c.Type, c.Config)
			if err != nil {
				t.Fatal(err)
			}
			out, err := l.Build(c.Input, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			x := &tensor.Tensor{Shape: append([]int{1}, c.Input...), Data: c.X}
			y := l.Forward(x, true)
			if tensor.Size(out) != len(c.Y) {
				t.Fatalf("output shape %v: %d values, PyTorch's has %d", out, tensor.Size(out), len(c.Y))
			}
			compare(t, "y", y.Data, c.Y)
			dy := &tensor.Tensor{Shape: append([]int{1}, out...), Data: c.Dy}
			compare(t, "dx", l.Backward(dy).Data, c.Dx)
		})
	}
}

func compare(t *testing.T, what string, got, want []float32) {
	t.Helper()
	bad := 0
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= resampleTol) {
			if bad++; bad <= 3 {
				t.Errorf("%s[%d] = %v, PyTorch %v", what, i, got[i], want[i])
			}
		}
	}
	if bad > 3 {
		t.Errorf("%s: %d more differences", what, bad-3)
	}
}

// Hand-computed: a row [0, 1] doubled bilinearly is [0, 0.25, 0.75, 1]
// (half-pixel centres, the edges clamped); nearest repeats it; Resizing to
// 1×3 with nearest reads columns ⌊(o+0.5)·2/3⌋ = 0, 1, 1.
func TestResampleByHand(t *testing.T) {
	x := &tensor.Tensor{Shape: []int{1, 1, 2, 1}, Data: []float32{0, 1}}
	for _, tt := range []struct {
		l    nn.Layer
		want []float32
	}{
		{&nn.UpSampling2D{Size: [2]int{1, 2}, Interpolation: "bilinear"}, []float32{0, 0.25, 0.75, 1}},
		{&nn.UpSampling2D{Size: [2]int{1, 2}}, []float32{0, 0, 1, 1}},
		{&nn.Resizing{Height: 1, Width: 3, Interpolation: "nearest"}, []float32{0, 1, 1}},
		{&nn.Resizing{Height: 1, Width: 1}, []float32{0.5}},
	} {
		if _, err := tt.l.Build([]int{1, 2, 1}, nil); err != nil {
			t.Fatal(err)
		}
		compare(t, tt.l.Type(), tt.l.Forward(x, false).Data, tt.want)
	}
}

// Forward and Backward give the same bits with GOMAXPROCS 1 and with all
// cores, on a batch large enough to be cut into pieces (in each pass).
func TestResampleSameBitsAnyGOMAXPROCS(t *testing.T) {
	procs := max(runtime.GOMAXPROCS(0), 4)
	for _, l := range []nn.Layer{
		&nn.UpSampling2D{Size: [2]int{3, 2}, Interpolation: "bilinear"},
		&nn.Resizing{Height: 13, Width: 40, CropToAspectRatio: true},
		&nn.Resizing{Height: 7, Width: 9, Interpolation: "nearest"},
	} {
		if _, err := l.Build([]int{24, 20, 8}, nil); err != nil {
			t.Fatal(err)
		}
		x := tensor.New(64, 24, 20, 8)
		for i := range x.Data {
			x.Data[i] = float32(math.Sin(float64(i) * 0.37))
		}
		var got [2][2][]float32
		for k, p := range []int{1, procs} {
			prev := runtime.GOMAXPROCS(p)
			y := l.Forward(x, true)
			dy := y.Clone()
			for i := range dy.Data {
				dy.Data[i] = float32(math.Cos(float64(i) * 0.11))
			}
			got[k] = [2][]float32{slices.Clone(y.Data), slices.Clone(l.Backward(dy).Data)}
			runtime.GOMAXPROCS(prev)
		}
		for j, what := range []string{"y", "dx"} {
			if !slices.EqualFunc(got[0][j], got[1][j], func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
				t.Errorf("%s: %s differs between GOMAXPROCS 1 and %d", l.Type(), what, procs)
			}
		}
	}
}

// An output of more than 65536 rows or columns is refused: the taps cost
// memory per row and column.
func TestResampleBounds(t *testing.T) {
	for _, tt := range []struct {
		l    nn.Layer
		want string
	}{
		{&nn.Resizing{Height: 1, Width: 1 << 20}, "Resizing: output 1x1048576: at most 65536 rows and columns"},
		{&nn.UpSampling2D{Size: [2]int{1, 1 << 17}}, "UpSampling2D: size [1 131072]: at most 65536"},
		{&nn.UpSampling2D{Size: [2]int{3, 0}}, "UpSampling2D: size [3 0]: want two factors of at least 1"},
		{&nn.Resizing{Height: 3}, "Resizing: height 3, width 0: want both at least 1"},
		{&nn.Resizing{Height: 3, Width: 3, Interpolation: "bicubic"}, `Resizing: interpolation "bicubic": convnet supports "nearest" and "bilinear"`},
	} {
		if _, err := tt.l.Build([]int{4, 4, 1}, nil); err == nil || err.Error() != tt.want {
			t.Errorf("%#v: Build: %v, want %s", tt.l, err, tt.want)
		}
	}
}
