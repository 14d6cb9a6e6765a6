package cli

import (
	"context"
	"fmt"
	"math"

	"github.com/convnet-go/convnet/data"
)

// loadData loads the data set and holds out the validation set: a split of
// the training set (--validation-split, --validation-mode) or the test set
// (--validation-data test).
func (t *trainer) loadData(ctx context.Context) error {
	o := t.o
	train, test, err := o.Source.load(ctx)
	if err != nil {
		return err
	}
	t.train, t.test = train, test
	if o.ValSplit > 0 {
		var err error
		switch o.ValMode {
		case "random":
			t.train, t.val, err = data.SplitRandom(train, o.ValSplit, o.Seed)
		case "stratified":
			t.train, t.val, err = data.SplitStratified(train, o.ValSplit, o.Seed)
		case "writers":
			blocks := train.Len() / data.AHCDBlockSize
			n := max(1, int(math.Round(o.ValSplit*float64(blocks))))
			t.train, t.val, err = data.SplitBlocks(train, data.AHCDBlockSize, n, o.Seed)
		}
		if err != nil {
			return usageError{fmt.Errorf("--validation-split: %w", err)}
		}
	}
	if o.ValData == "test" {
		if test == nil {
			return usagef("--validation-data test: %s has no test set", o.Source.describe())
		}
		t.val = test
	}
	return nil
}
