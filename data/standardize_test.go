package data

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

func near(a, b float32) bool { return math.Abs(float64(a-b)) <= 1e-4*(1+math.Abs(float64(b))) }

func TestStandardizer(t *testing.T) {
	// Two 1x2 images with 2 channels: values (pixel, channel).
	x := tensor.FromData([]float32{
		0, 10, 20, 30,
		40, 50, 60, 70,
	}, 2, 1, 2, 2)
	t.Run("rescale and mean image", func(t *testing.T) {
		s := Standardizer{Rescale: 0.1, ImageCenter: true}
		s.Fit(x)
		if want := []float32{2, 3, 4, 5}; !allNear(s.MeanImage, want) {
			t.Fatalf("MeanImage = %v, want %v", s.MeanImage, want)
		}
		out := tensor.New(x.Shape...)
		s.Apply(out, x)
		if want := []float32{-2, -2, -2, -2, 2, 2, 2, 2}; !allNear(out.Data, want) {
			t.Errorf("Apply = %v, want %v", out.Data, want)
		}
	})
	t.Run("featurewise", func(t *testing.T) {
		s := Standardizer{FeaturewiseStd: true}
		s.Fit(x)
		// Channel 0 holds 0, 20, 40, 60: mean 30, std sqrt(500).
		if want := []float32{30, 40}; !allNear(s.Mean, want) {
			t.Fatalf("Mean = %v, want %v", s.Mean, want)
		}
		sd := float32(math.Sqrt(500))
		if want := []float32{sd, sd}; !allNear(s.Std, want) {
			t.Fatalf("Std = %v, want %v", s.Std, want)
		}
		out := x.Clone()
		s.Apply(out, out) // in place
		if got, want := out.Data[0], -30/(sd+1e-6); !near(got, want) {
			t.Errorf("Apply[0] = %v, want %v", got, want)
		}
	})
	t.Run("samplewise then featurewise", func(t *testing.T) {
		s := Standardizer{SamplewiseCenter: true, FeaturewiseCenter: true, Mean: []float32{1, -1}}
		out := tensor.New(x.Shape...)
		s.Apply(out, x)
		// Image 0 has mean 15: 0-15-1, 10-15+1, 20-15-1, 30-15+1.
		if want := []float32{-16, -4, 4, 16}; !allNear(out.Data[:4], want) {
			t.Errorf("Apply = %v, want %v", out.Data[:4], want)
		}
	})
	t.Run("samplewise std", func(t *testing.T) {
		s := Standardizer{SamplewiseStd: true}
		out := tensor.New(x.Shape...)
		s.Apply(out, x)
		var sum, ss float64
		for _, v := range out.Data[:4] {
			sum += float64(v)
			ss += float64(v) * float64(v)
		}
		if math.Abs(sum) > 1e-4 || math.Abs(ss/4-1) > 1e-4 {
			t.Errorf("samplewise std: mean %v, variance %v, want 0, 1", sum/4, ss/4)
		}
	})
	t.Run("json and check", func(t *testing.T) {
		s := Standardizer{Rescale: 1.0 / 255, ImageCenter: true}
		s.Fit(x)
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Standardizer
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.Rescale != s.Rescale || !allNear(back.MeanImage, s.MeanImage) || !back.ImageCenter {
			t.Errorf("JSON round trip: %+v, want %+v", back, s)
		}
		if err := back.Check([]int{1, 2, 2}); err != nil {
			t.Errorf("Check([1 2 2]) = %v", err)
		}
		if err := back.Check([]int{2, 2, 2}); err == nil {
			t.Errorf("Check([2 2 2]) = nil, want a mean-image size error")
		}
	})
	t.Run("no allocation", func(t *testing.T) {
		s := Standardizer{Rescale: 0.5, SamplewiseStd: true, FeaturewiseStd: true, ImageCenter: true}
		s.Fit(x)
		out := tensor.New(x.Shape...)
		if n := testing.AllocsPerRun(50, func() { s.Apply(out, x) }); n != 0 {
			t.Errorf("Apply allocates %v times, want 0", n)
		}
	})
}

func allNear(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !near(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestOneHot(t *testing.T) {
	dst := tensor.New(3, 4)
	dst.Fill(7)
	OneHot(dst, []int{2, 0, 3}, 4)
	want := []float32{0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1}
	if !equalFloats(dst.Data, want) {
		t.Errorf("OneHot([2 0 3], 4) = %v, want %v", dst.Data, want)
	}
	OneHot(dst, []int{-1, 1, -1}, 4) // unlabelled images: rows of zeros
	if want := []float32{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}; !equalFloats(dst.Data, want) {
		t.Errorf("OneHot([-1 1 -1], 4) = %v, want %v", dst.Data, want)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("OneHot with label 4 of 4 classes did not panic")
		}
	}()
	OneHot(dst, []int{4, 0, 0}, 4)
}
