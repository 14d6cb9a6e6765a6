package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"slices"

	"github.com/convnet-go/convnet/model"
)

// ttaFlags are the test-time augmentation flags of convnet evaluate and
// convnet predict.
type ttaFlags struct {
	copies int
	beta   float64
	seed   uint64
	aug    augmentFlags
	tta    *model.TTA // after check; nil when off
}

// transformFlags are the flags of augmentFlags.registerTransforms.
var transformFlags = []string{"rotation", "width-shift", "height-shift", "shear", "zoom", "hflip", "vflip",
	"fill-mode", "cval", "brightness", "random-erasing", "erasing-value", "stroke"}

func (t *ttaFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&t.copies, "tta", 0, "test-time augmentation: classify each test image with this many randomly augmented copies too, such as 4, as fastai's Learner.tta does: beta·p(image) + (1-beta)·mean of p(copies); the augmentation flags say how the copies change, by default as the tutorial trains (0: off)")
	fs.Float64Var(&t.beta, "tta-beta", 0.25, "--tta: the weight of each image's own prediction, 0 to 1 (fastai's beta)")
	fs.Uint64Var(&t.seed, "seed", 1, "--tta: the seed of the copies' changes")
	t.aug.registerTransforms(fs)
}

// check turns the flags into t.tta, refusing augmentation flags without --tta.
func (t *ttaFlags) check(fs *flag.FlagSet) error {
	var stray string
	fs.Visit(func(f *flag.Flag) {
		if stray == "" && (slices.Contains(transformFlags, f.Name) || f.Name == "tta-beta" || f.Name == "seed") {
			stray = f.Name
		}
	})
	switch {
	case t.copies < 0:
		return usagef("--tta %d: want 0 (off) or a number of copies", t.copies)
	case t.copies == 0 && stray != "":
		return usagef("--%s goes with --tta, the test-time augmentation it describes", stray)
	case t.copies == 0:
		return nil
	}
	cfg, err := t.aug.config()
	if err != nil {
		return err
	}
	t.tta = &model.TTA{Augment: *cfg, Copies: t.copies, Beta: t.beta, Seed: t.seed}
	if err := t.tta.Validate(); err != nil {
		return usagef("--tta: %v", err)
	}
	return nil
}

// describeTTA says what test-time augmentation an evaluation used.
func describeTTA(t *model.TTA) string {
	aug, _ := json.Marshal(t.Augment)
	return fmt.Sprintf("%d augmented copies of each image, beta %g, seed %d, %s", t.Copies, t.Beta, t.Seed, aug)
}
