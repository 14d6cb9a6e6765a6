package cli

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// centerCrop is the value of --center-crop: how an image of another shape
// than the model's input is fitted to it (data.Framing's Crop), a fraction
// from 0 to 1 written as a number or a ratio such as 224/256. It stays nil
// until set.
type centerCrop struct{ p **float64 }

// centerCropFlag registers --center-crop on fs, storing its value in *p.
func centerCropFlag(fs *flag.FlagSet, p **float64, usage string) {
	fs.Var(centerCrop{p}, "center-crop", usage)
}

func (c centerCrop) String() string {
	if c.p == nil || *c.p == nil {
		return ""
	}
	return strconv.FormatFloat(**c.p, 'g', -1, 64)
}

func (c centerCrop) Set(v string) error {
	num, den, ratio := strings.Cut(v, "/")
	f, err := strconv.ParseFloat(num, 64)
	if d, derr := strconv.ParseFloat(den, 64); ratio && err == nil {
		f, err = f/d, derr
	}
	if err != nil || !(f >= 0 && f <= 1) {
		return fmt.Errorf("want a fraction from 0 to 1, such as 0.875 or 224/256")
	}
	*c.p = &f
	return nil
}
