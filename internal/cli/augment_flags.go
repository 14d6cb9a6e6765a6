package cli

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/data/augment"
)

// augmentFlags are ImageDataGenerator's augmentation options as flags, with
// the tutorial's values as defaults, and the mixing of images two by two
// (MixUp, CutMix), off by default.
type augmentFlags struct {
	c augment.Config
	m augment.Mix
}

func (a *augmentFlags) register(fs *flag.FlagSet) {
	a.registerTransforms(fs)
	fs.Float64Var(&a.m.MixUp, "mixup", 0, "mix each image of a batch with the one before it, and their one-hot targets, in a proportion drawn from Beta(α, α) once per batch, such as 0.2 (torchvision's MixUp; 0: off; not turned off by --no-augment)")
	fs.Float64Var(&a.m.CutMix, "cutmix", 0, "paste into each image of a batch a box of the one before it, its size drawn from Beta(α, α) once per batch, and mix their targets by area, such as 1 (torchvision's CutMix; with --mixup, each batch gets one of the two; 0: off)")
}

// registerTransforms registers the flags of the changes to each image, not
// the mixing.
func (a *augmentFlags) registerTransforms(fs *flag.FlagSet) {
	a.c = augment.Config{RotationRange: 10, WidthShiftRange: 0.1, HeightShiftRange: 0.1, ZoomRange: augment.ZoomRangeOf(0.1), FillMode: "nearest"}
	fs.Float64Var(&a.c.RotationRange, "rotation", a.c.RotationRange, "augmentation: largest rotation in degrees")
	fs.Float64Var(&a.c.WidthShiftRange, "width-shift", a.c.WidthShiftRange, "augmentation: largest horizontal shift (below 1: fraction of the width, else pixels)")
	fs.Float64Var(&a.c.HeightShiftRange, "height-shift", a.c.HeightShiftRange, "augmentation: largest vertical shift (below 1: fraction of the height, else pixels)")
	fs.Float64Var(&a.c.ShearRange, "shear", 0, "augmentation: largest shear angle in degrees")
	fs.Func("zoom", "augmentation: zoom range, z (each axis drawn from 1-z..1+z) or lo,hi (default 0.1)", func(s string) error {
		z, err := parseRange(s, "(0, 10]")
		a.c.ZoomRange = z
		return err
	})
	fs.BoolVar(&a.c.HorizontalFlip, "hflip", false, "augmentation: flip left-right half the time")
	fs.BoolVar(&a.c.VerticalFlip, "vflip", false, "augmentation: flip upside down half the time")
	fs.StringVar(&a.c.FillMode, "fill-mode", a.c.FillMode, "augmentation: fill outside the image: nearest, constant, reflect or wrap")
	fs.Float64Var(&a.c.Cval, "cval", 0, "augmentation: fill value of --fill-mode constant")
	fs.Func("brightness", "augmentation: brightness factor range lo,hi such as 0.8,1.2 (default off)", func(s string) error {
		b, err := parseRange(s, "[0, 10]")
		a.c.BrightnessRange = b
		return err
	})
	fs.Float64Var(&a.c.Erasing, "random-erasing", 0, "augmentation: the probability that an image has a rectangle (2% to 33% of its area, height/width 0.3 to 3.3) filled with --erasing-value, last (torchvision's RandomErasing; 0: off)")
	fs.Float64Var(&a.c.ErasingValue, "erasing-value", 0, "augmentation: the pixel value --random-erasing fills with, 0..255")
	fs.Float64Var(&a.c.StrokeRange, "stroke", 0, "augmentation: largest stroke-width change s in [0, 1]: each pixel moves a fraction t ~ U(-s, s) of the way to the brightest (t > 0) or darkest (t < 0) of itself and its four neighbours")
}

// config checks the flags' values and returns the augmentation they
// describe, or a usage error.
func (a *augmentFlags) config() (*augment.Config, error) {
	c := a.c
	if err := firstErr(
		inRange("rotation", c.RotationRange, "[0, 360]"),
		inRange("width-shift", c.WidthShiftRange, "[0, 1000]"),
		inRange("height-shift", c.HeightShiftRange, "[0, 1000]"),
		inRange("shear", c.ShearRange, "[0, 90)"),
		inRange("cval", c.Cval, "[0, 255]"),
		inRange("stroke", c.StrokeRange, "[0, 1]"),
		inRange("random-erasing", c.Erasing, "[0, 1]"),
		inRange("erasing-value", c.ErasingValue, "[0, 255]"),
	); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, usagef("augmentation: %v", err)
	}
	return &c, nil
}

// mix checks --mixup and --cutmix and returns the mixing they describe.
func (a *augmentFlags) mix() (augment.Mix, error) {
	if err := firstErr(inRange("mixup", a.m.MixUp, "[0, 100]"), inRange("cutmix", a.m.CutMix, "[0, 100]")); err != nil {
		return augment.Mix{}, err
	}
	return a.m, nil
}

// describeMix says which mixing a run uses.
func describeMix(m augment.Mix) string {
	var s []string
	if m.MixUp > 0 {
		s = append(s, fmt.Sprintf("MixUp α %g", m.MixUp))
	}
	if m.CutMix > 0 {
		s = append(s, fmt.Sprintf("CutMix α %g", m.CutMix))
	}
	if len(s) == 2 {
		return s[0] + " or " + s[1] + ", one of the two per batch"
	}
	return s[0]
}

// parseRange reads "z" (meaning 1-z..1+z) or "lo,hi", both ends within
// interval (written as for [inRange]).
func parseRange(s, interval string) ([2]float64, error) {
	lo, hi, pair := strings.Cut(s, ",")
	a, err := strconv.ParseFloat(strings.TrimSpace(lo), 64)
	if err != nil {
		return [2]float64{}, fmt.Errorf("%q is not a number or a pair lo,hi", s)
	}
	r := [2]float64{1 - a, 1 + a}
	if pair {
		b, err := strconv.ParseFloat(strings.TrimSpace(hi), 64)
		if err != nil || !(a <= b) {
			return [2]float64{}, fmt.Errorf("%q is not a range lo,hi with lo <= hi", s)
		}
		r = [2]float64{a, b}
	}
	if inRange("", r[0], interval) != nil || inRange("", r[1], interval) != nil {
		return [2]float64{}, fmt.Errorf("%q gives the range %v..%v: want both ends in %s", s, r[0], r[1], interval)
	}
	return r, nil
}
