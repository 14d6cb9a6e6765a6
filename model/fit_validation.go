package model

import "fmt"

// validates reports whether Fit evaluates the validation data at the end
// of epoch (from 0): every epoch, or with ValidationFreq n the epochs n,
// 2n, ... counted from 1, as Keras's validation_freq (so the last epoch only
// when it falls on one).
func (o *FitOptions) validates(epoch int) bool {
	return o.Validation != nil && (o.ValidationFreq <= 1 || (epoch+1)%o.ValidationFreq == 0)
}

// watcher is a callback that watches a metric, which it may find missing
// in an epoch that was not validated.
type watcher interface {
	// watches names the callback, as Keras's warning does, and its metric;
	// "" when it watches none.
	watches() (who, metric string)
}

func (e *EarlyStopping) watches() (string, string) { return "Early stopping", e.mon.name }

func (c *ModelCheckpoint) watches() (string, string) {
	if !c.SaveBestOnly {
		return "", ""
	}
	return "Saving the best model", c.mon.name
}

// skipWarnings says once for each, as Keras warns, that the plateau
// schedule or a callback skips the epochs without the validation metric
// it watches; warned holds those told already.
func skipWarnings(opts *FitOptions, logs EpochLogs, warned map[string]bool) {
	if opts.Progress == nil || !logs.ValidationSkipped {
		return
	}
	var who, metrics []string
	if p := opts.Plateau; p != nil {
		who, metrics = append(who, "Learning rate reduction"), append(metrics, p.Monitor)
	}
	for _, cb := range opts.Callbacks {
		if w, ok := cb.(watcher); ok {
			if name, m := w.watches(); name != "" {
				who, metrics = append(who, name), append(metrics, m)
			}
		}
	}
	for i, name := range who {
		if warned[name] || !logs.skips(metrics[i]) {
			continue
		}
		warned[name] = true
		opts.Progress.Notef("Warning: %s is conditioned on metric `%s`, which epochs without validation do not have (validation every %d epochs): it skips them.",
			name, metrics[i], opts.ValidationFreq)
	}
}

// checkValidationFreq returns an error for a ValidationFreq below 0.
func (o *FitOptions) checkValidationFreq() error {
	if o.ValidationFreq < 0 {
		return fmt.Errorf("fit: validation frequency %d: want a number of epochs, or 0 for every epoch", o.ValidationFreq)
	}
	return nil
}
