package cli

import (
	"flag"

	"github.com/convnet-go/convnet/data/augment"
)

// augmentFlags are ImageDataGenerator's augmentation options as flags, with
// the tutorial's values as defaults.
type augmentFlags struct {
	c augment.Config
}

func (a *augmentFlags) register(fs *flag.FlagSet) {
	a.c = augment.Config{RotationRange: 10, WidthShiftRange: 0.1, HeightShiftRange: 0.1, ZoomRange: augment.ZoomRangeOf(0.1), FillMode: "nearest"}
	fs.Float64Var(&a.c.RotationRange, "rotation", a.c.RotationRange, "augmentation: largest rotation in degrees")
	fs.Float64Var(&a.c.WidthShiftRange, "width-shift", a.c.WidthShiftRange, "augmentation: largest horizontal shift (below 1: fraction of the width, else pixels)")
	fs.Float64Var(&a.c.HeightShiftRange, "height-shift", a.c.HeightShiftRange, "augmentation: largest vertical shift (below 1: fraction of the height, else pixels)")
	fs.Float64Var(&a.c.ShearRange, "shear", 0, "augmentation: largest shear angle in degrees")
	fs.Func("zoom", "augmentation: zoom range, z (each axis drawn from 1-z..1+z) or lo,hi (default 0.1)", func(s string) error {
		z, err := parseRange(s)
		a.c.ZoomRange = z
		return err
	})
	fs.BoolVar(&a.c.HorizontalFlip, "hflip", false, "augmentation: flip left-right half the time")
	fs.BoolVar(&a.c.VerticalFlip, "vflip", false, "augmentation: flip upside down half the time")
	fs.StringVar(&a.c.FillMode, "fill-mode", a.c.FillMode, "augmentation: fill outside the image: nearest, constant, reflect or wrap")
	fs.Float64Var(&a.c.Cval, "cval", 0, "augmentation: fill value of --fill-mode constant")
	fs.Func("brightness", "augmentation: brightness factor range lo,hi such as 0.8,1.2 (default off)", func(s string) error {
		b, err := parseRange(s)
		a.c.BrightnessRange = b
		return err
	})
}

// config returns the augmentation the flags describe, or a usage error.
func (a *augmentFlags) config() (*augment.Config, error) {
	c := a.c
	if err := c.Validate(); err != nil {
		return nil, usagef("augmentation: %v", err)
	}
	return &c, nil
}
