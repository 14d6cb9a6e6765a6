package data

import (
	"slices"
	"testing"

	"github.com/convnet-go/convnet/data/augment"
)

// TestDatasetBytes checks that a data set holding its images as bytes reads
// as the same data set in float32.
func TestDatasetBytes(t *testing.T) {
	f := patternDataset(7)
	b := f.Bytes()
	if b == nil || b.X != nil || len(b.Pix) != 7*64 || !slices.Equal(b.PixShape, []int{7, 8, 8, 1}) {
		t.Fatalf("Bytes() = %+v, want 448 bytes of shape [7 8 8 1]", b)
	}
	if b.Bytes() != b {
		t.Error("Bytes() of a data set of bytes is not the data set itself")
	}
	if !slices.Equal(b.Shape(), f.Shape()) || b.SampleSize() != 64 || b.Len() != 7 {
		t.Errorf("Shape, SampleSize, Len = %v, %d, %d, want %v, 64, 7", b.Shape(), b.SampleSize(), b.Len(), f.Shape())
	}
	if !equalFloats(b.Tensor().Data, f.X.Data) || !slices.Equal(b.Tensor().Shape, f.X.Shape) {
		t.Error("Tensor() of the bytes differs from the float32 images")
	}
	dst := make([]float32, 64)
	for i := range 7 {
		if !equalFloats(b.Image(i), f.Image(i)) || !equalFloats(b.ImageTo(dst, i), f.Image(i)) {
			t.Errorf("image %d differs between bytes and float32", i)
		}
	}
	blo, bhi := b.Range()
	if flo, fhi := f.Range(); blo != flo || bhi != fhi {
		t.Errorf("Range() = %v, %v of the bytes, want %v, %v", blo, bhi, flo, fhi)
	}
	idx := []int{6, 0, 6, 3}
	bs, fs := b.Subset(idx), f.Subset(idx)
	if bs.X != nil || !equalFloats(bs.Tensor().Data, fs.X.Data) || !slices.Equal(bs.Y, fs.Y) {
		t.Error("Subset of the bytes is not held as bytes or differs from that of the float32 images")
	}
	for _, v := range []float32{-1, 256, 0.5} {
		g := patternDataset(2)
		g.X.Data[5] = v
		if g.Bytes() != nil {
			t.Errorf("Bytes() of images holding %v is not nil", v)
		}
	}
}

// TestBytesTrainLikeFloats checks that what training reads of a data set is
// the same, bit for bit, whether it holds its images as bytes or float32:
// the standardizer's statistics, the framing and the loader's batches, with
// augmentation.
func TestBytesTrainLikeFloats(t *testing.T) {
	f := patternDataset(20)
	b := f.Bytes()
	for _, s := range []Standardizer{{Rescale: 1.0 / 255, FeaturewiseCenter: true, FeaturewiseStd: true}, {ImageCenter: true}} {
		sf, sb := s, s
		sf.Fit(f.X)
		sb.FitDataset(b)
		if !equalFloats(sf.Mean, sb.Mean) || !equalFloats(sf.Std, sb.Std) || !equalFloats(sf.MeanImage, sb.MeanImage) {
			t.Errorf("FitDataset of the bytes = %+v, Fit of the float32 images = %+v", sb, sf)
		}
	}
	if ff, fb := MeasureFraming(f.X), b.MeasureFraming(); ff != fb {
		t.Errorf("MeasureFraming of the bytes = %+v, of the float32 images = %+v", fb, ff)
	}
	opts := LoaderOptions{BatchSize: 6, Shuffle: true, Seed: 3, Workers: 2, Standardizer: &Standardizer{Rescale: 0.5},
		Augment: &augment.Config{RotationRange: 10, WidthShiftRange: 0.1, ZoomRange: augment.ZoomRangeOf(0.1)}}
	for _, aug := range []bool{false, true} {
		o := opts
		if !aug {
			o.Augment = nil
		}
		lf, lb := NewLoader(f, o), NewLoader(b, o)
		got, want := collect(lb, 1), collect(lf, 1)
		lf.Close()
		lb.Close()
		if len(got) != len(want) {
			t.Fatalf("augment %v: %d batches from the bytes, %d from the float32 images", aug, len(got), len(want))
		}
		for s := range got {
			if !equalFloats(got[s].X.Data, want[s].X.Data) || !slices.Equal(got[s].Labels, want[s].Labels) {
				t.Errorf("augment %v: batch %d from the bytes differs from the float32 images'", aug, s)
			}
		}
	}
}

// TestRelabel: classes matched by name, in the order given; a class without
// images may be missing from the names, one with images may not.
func TestRelabel(t *testing.T) {
	d := &Dataset{Y: []int{0, 2, 2, 0}, ClassNames: []string{"b", "unused", "a"}}
	if err := d.Relabel([]string{"a", "b", "c"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Y, []int{1, 0, 0, 1}) || !slices.Equal(d.ClassNames, []string{"a", "b", "c"}) {
		t.Errorf("Y %v, names %q", d.Y, d.ClassNames)
	}
	d = &Dataset{Y: []int{1, 0}, ClassNames: []string{"a", "z"}}
	if err := d.Relabel([]string{"a", "b"}); err == nil || err.Error() != `image 1 is of class "z", not one of the 2 classes "a", "b"` {
		t.Errorf("a class of another name: %v", err)
	}
	if !slices.Equal(d.Y, []int{1, 0}) {
		t.Errorf("after an error, Y %v: want it unchanged", d.Y)
	}
}
