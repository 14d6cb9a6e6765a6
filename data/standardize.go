package data

import (
	"fmt"
	"math"

	"github.com/convnet-go/convnet/tensor"
)

// Standardizer is the preprocessing that travels with a model: the options of
// Keras's ImageDataGenerator.standardize plus the per-pixel mean image of the
// tutorial, and the statistics [Standardizer.Fit] computed from the training
// set. It is stored in model files as JSON.
//
// [Standardizer.Apply] runs, in Keras's order: rescale, samplewise centre,
// samplewise std, mean image, featurewise centre, featurewise std.
type Standardizer struct {
	// Rescale multiplies every value (Keras's rescale); 0 means off.
	Rescale float32 `json:"rescale,omitempty"`
	// SamplewiseCenter subtracts each image's own mean (over all pixels and
	// channels); SamplewiseStd then divides by its std + 1e-6.
	SamplewiseCenter bool `json:"samplewise_center,omitempty"`
	SamplewiseStd    bool `json:"samplewise_std_normalization,omitempty"`
	// ImageCenter subtracts MeanImage, the mean of the training images
	// pixel by pixel ([H*W*C] values): the tutorial's zero-centring.
	ImageCenter bool      `json:"image_center,omitempty"`
	MeanImage   []float32 `json:"mean_image,omitempty"`
	// FeaturewiseCenter subtracts Mean, one value per channel;
	// FeaturewiseStd divides by Std + 1e-6, one value per channel, and
	// implies the centring, as in Keras.
	FeaturewiseCenter bool      `json:"featurewise_center,omitempty"`
	FeaturewiseStd    bool      `json:"featurewise_std_normalization,omitempty"`
	Mean              []float32 `json:"mean,omitempty"`
	Std               []float32 `json:"std,omitempty"`
}

// stdEpsilon is Keras's guard against dividing by a zero std.
const stdEpsilon = 1e-6

// Fit computes the statistics the options need from x, [N, H, W, C], after
// rescaling (as Keras does); the other steps do not enter the statistics.
// Fit it on the training set only.
func (s *Standardizer) Fit(x *tensor.Tensor) {
	x.MustShape("data: Standardizer.Fit", -1, -1, -1, -1)
	n := x.Shape[0]
	per := len(x.Data) / max(n, 1)
	s.fit(n, per, x.Shape[3], func(i int) []float32 { return x.Data[i*per : (i+1)*per] })
}

// FitDataset is Fit on the images of d, however it holds them (see
// [Dataset]), with the same results.
func (s *Standardizer) FitDataset(d *Dataset) {
	if d.X != nil {
		s.Fit(d.X)
		return
	}
	shape := d.Shape()
	if len(shape) != 3 {
		panic(fmt.Sprintf("data: Standardizer.FitDataset: images of shape %v, want [H W C]", shape))
	}
	px := make([]float32, d.SampleSize())
	s.fit(d.Len(), len(px), shape[2], func(i int) []float32 { return d.ImageTo(px, i) })
}

// fit computes the statistics from n images of per values, c channels
// each, image(i) returning image i.
func (s *Standardizer) fit(n, per, c int, image func(i int) []float32) {
	scale := float64(1)
	if s.Rescale != 0 {
		scale = float64(s.Rescale)
	}
	s.MeanImage, s.Mean, s.Std = nil, nil, nil
	if n == 0 {
		return
	}
	if s.ImageCenter {
		sum := make([]float64, per)
		for i := range n {
			for j, v := range image(i) {
				sum[j] += float64(v)
			}
		}
		s.MeanImage = make([]float32, per)
		for j := range sum {
			s.MeanImage[j] = float32(sum[j] * scale / float64(n))
		}
	}
	if s.FeaturewiseCenter || s.FeaturewiseStd {
		// Value j of an image is in channel j%c, as per is a multiple of c.
		sum := make([]float64, c)
		for i := range n {
			for j, v := range image(i) {
				sum[j%c] += float64(v) * scale
			}
		}
		count := float64(n * per / c)
		s.Mean = make([]float32, c)
		for k := range sum {
			sum[k] /= count
			s.Mean[k] = float32(sum[k])
		}
		if s.FeaturewiseStd {
			ss := make([]float64, c)
			for i := range n {
				for j, v := range image(i) {
					d := float64(v)*scale - sum[j%c]
					ss[j%c] += d * d
				}
			}
			s.Std = make([]float32, c)
			for k := range ss {
				s.Std[k] = float32(math.Sqrt(ss[k] / count))
			}
		}
	}
}

// Check reports whether the statistics fit images of the given shape
// [H, W, C], for a standardizer read from a file.
func (s *Standardizer) Check(shape []int) error {
	if len(shape) != 3 {
		return fmt.Errorf("image shape %v, want [height width channels]", shape)
	}
	per, c := tensor.Size(shape), shape[2]
	if s.ImageCenter && len(s.MeanImage) != per {
		return fmt.Errorf("mean image has %d values, want %d for images %v", len(s.MeanImage), per, shape)
	}
	if (s.FeaturewiseCenter || s.FeaturewiseStd) && len(s.Mean) != c {
		return fmt.Errorf("featurewise mean has %d values, want %d channels", len(s.Mean), c)
	}
	if s.FeaturewiseStd && len(s.Std) != c {
		return fmt.Errorf("featurewise std has %d values, want %d channels", len(s.Std), c)
	}
	return nil
}

// fits is Check without allocating, for an [N, H, W, C] shape.
func (s *Standardizer) fits(shape []int) bool {
	per, c := shape[1]*shape[2]*shape[3], shape[3]
	return !(s.ImageCenter && len(s.MeanImage) != per) &&
		!((s.FeaturewiseCenter || s.FeaturewiseStd) && len(s.Mean) != c) &&
		!(s.FeaturewiseStd && len(s.Std) != c)
}

// Apply writes the standardised src, [N, H, W, C], to dst of the same shape.
// dst may be src (in place). It allocates nothing and panics if the shapes
// differ or the statistics do not fit (see [Standardizer.Check]).
func (s *Standardizer) Apply(dst, src *tensor.Tensor) {
	if len(src.Shape) != 4 || !tensor.SameShape(dst.Shape, src.Shape) {
		panic(fmt.Sprintf("data: Standardizer.Apply: shapes %v and %v, want equal [N H W C]", dst.Shape, src.Shape))
	}
	if !s.fits(src.Shape) {
		panic("data: Standardizer.Apply: " + s.Check(src.Shape[1:]).Error())
	}
	n, c := src.Shape[0], src.Shape[3]
	per := len(src.Data) / max(n, 1)
	for i := range n {
		d, x := dst.Data[i*per:(i+1)*per], src.Data[i*per:(i+1)*per]
		if s.Rescale != 0 {
			for j, v := range x {
				d[j] = v * s.Rescale
			}
		} else {
			copy(d, x)
		}
		if s.SamplewiseCenter || s.SamplewiseStd {
			var sum float64
			for _, v := range d {
				sum += float64(v)
			}
			m := float32(sum / float64(per))
			var ss float64
			for j := range d {
				d[j] -= m
				ss += float64(d[j]) * float64(d[j])
			}
			if s.SamplewiseStd {
				inv := float32(1 / (math.Sqrt(ss/float64(per)) + stdEpsilon))
				for j := range d {
					d[j] *= inv
				}
			}
		}
		if s.ImageCenter {
			for j, m := range s.MeanImage {
				d[j] -= m
			}
		}
		if s.FeaturewiseCenter || s.FeaturewiseStd {
			for j := range d {
				d[j] -= s.Mean[j%c]
			}
		}
		if s.FeaturewiseStd {
			for j := range d {
				d[j] /= s.Std[j%c] + stdEpsilon
			}
		}
	}
}

// OneHot writes the one-hot encoding of y to dst, [len(y), numClasses]
// (Keras's to_categorical); the label -1 of an unlabelled image gets a row
// of zeros. It panics if a label is outside -1..numClasses-1 or dst has
// another shape.
func OneHot(dst *tensor.Tensor, y []int, numClasses int) {
	if len(dst.Shape) != 2 || dst.Shape[0] != len(y) || dst.Shape[1] != numClasses {
		panic(fmt.Sprintf("data: OneHot: destination %v, want [%d %d]", dst.Shape, len(y), numClasses))
	}
	dst.Zero()
	for i, v := range y {
		if v < -1 || v >= numClasses {
			panic(fmt.Sprintf("data: OneHot: label %d outside 0..%d (or -1, unlabelled)", v, numClasses-1))
		}
		if v >= 0 {
			dst.Data[i*numClasses+v] = 1
		}
	}
}
