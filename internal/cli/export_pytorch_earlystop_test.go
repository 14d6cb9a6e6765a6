package cli

import (
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
)

// TestExportPyTorchEarlyStopping: the PyTorch project's early stopping
// stops at the epoch convnet's does, with the same best epoch, on the same
// sequence of a metric, for Keras's patience, min_delta, baseline and
// start_from_epoch, falling (loss) and rising (accuracy).
func TestExportPyTorchEarlyStopping(t *testing.T) {
	py, base := smallProject(t)
	loss := []float64{1.0, 0.9, 0.85, 0.849, 0.848, 0.9, 0.847, 0.95, 0.8, 0.96, 0.97, 0.98}
	accuracy := []float64{0.5, 0.6, 0.65, 0.651, 0.652, 0.6, 0.653, 0.55, 0.7, 0.5, 0.5, 0.5}
	for _, tc := range []struct {
		flags  []string
		values []float64
	}{
		{[]string{"--early-stopping", "2"}, loss},
		{[]string{"--early-stopping", "2", "--early-stopping-min-delta", "0.01"}, loss},
		{[]string{"--early-stopping", "3", "--early-stopping-baseline", "0.86"}, loss},
		{[]string{"--early-stopping", "1", "--early-stopping-start-from-epoch", "3"}, loss},
		{[]string{"--early-stopping", "2", "--early-stopping-min-delta", "0.005", "--early-stopping-monitor", "accuracy"}, accuracy},
		{[]string{"--early-stopping", "4", "--early-stopping-baseline", "0.66", "--early-stopping-monitor", "accuracy"}, accuracy},
	} {
		t.Run(strings.Join(tc.flags, " "), func(t *testing.T) {
			t.Parallel()
			flags := append(append(slices.Clone(base), "--epochs", "12", "--early-stopping-monitor", "loss"), tc.flags...)
			es := earlyStopper(t, flags)
			want := [2]int{0, 0} // the epoch (from 1) it stops at, 0: none; the best epoch (from 1)
			h := &model.History{}
			for epoch, v := range tc.values {
				h.Epochs = append(h.Epochs, model.EpochLogs{Epoch: epoch, Loss: v, Accuracy: v})
				if stop, err := es.OnEpochEnd(nil, h); err != nil {
					t.Fatal(err)
				} else if stop {
					want[0] = epoch + 1
					break
				}
			}
			want[1] = es.BestEpoch()

			values, _ := json.Marshal(tc.values)
			var got [2]int
			projectJSON(t, py, flags, `es, stopped = train.EarlyStopping(), 0
for epoch, v in enumerate(json.loads(sys.argv[2])):
    if es.epoch_end(epoch, {"loss": v, "accuracy": v}, None, print):
        stopped = epoch + 1
        break
print(json.dumps([stopped, es.best_epoch + 1]))`, &got, string(values))
			if got != want {
				t.Errorf("PyTorch project: stopped at epoch %d, best %d; convnet %d and %d", got[0], got[1], want[0], want[1])
			}
			if want[0] == 0 {
				t.Errorf("convnet did not stop: each sequence is made to stop its run")
			}
		})
	}
}

// earlyStopper returns the early stopping convnet train makes of flags.
func earlyStopper(t *testing.T, flags []string) *model.EarlyStopping {
	t.Helper()
	o, err := parseTrain(flags, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := o.earlyStopping()
	if err != nil {
		t.Fatal(err)
	}
	es, err := model.NewEarlyStopping(opts)
	if err != nil {
		t.Fatal(err)
	}
	return es
}
