package model

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/internal/safefile"
)

// CSVLogger writes the history to a CSV file after every epoch, like Keras's
// callback: a header "epoch,<sorted metric names>", one row per epoch, epochs
// counted from 0. The whole file is rewritten atomically each time, so it is
// always complete, also when a resumed run continues an earlier history.
type CSVLogger struct {
	Path      string
	Separator string // default ","
}

func (c *CSVLogger) OnEpochEnd(_ *Model, h *History) (bool, error) {
	var b bytes.Buffer
	if err := WriteCSV(&b, h, c.Separator); err != nil {
		return false, err
	}
	return false, safefile.WriteBytes(c.Path, true, b.Bytes())
}

func (c *CSVLogger) OnTrainEnd(*Model, *History) error { return nil }

// WriteCSV writes h in Keras CSVLogger's layout, with NA for a value an
// epoch does not have (the validation figures of an epoch not validated).
func WriteCSV(w io.Writer, h *History, sep string) error {
	if sep == "" {
		sep = ","
	}
	if len(h.Epochs) == 0 {
		return errors.New("csv log: empty history")
	}
	// The validation columns are there from the first row when the run
	// validates, an epoch without validation (ValidationFreq) writing NA.
	val := false
	for _, e := range h.Epochs {
		val = val || e.HasValidation || e.ValidationSkipped
	}
	names := EpochLogs{HasValidation: val}.Names()
	slices.Sort(names)
	fmt.Fprintln(w, "epoch"+sep+strings.Join(names, sep))
	for _, e := range h.Epochs {
		row := []string{strconv.Itoa(e.Epoch)}
		for _, n := range names {
			if v, ok := e.Get(n); ok {
				row = append(row, strconv.FormatFloat(v, 'g', -1, 64))
			} else {
				row = append(row, "NA")
			}
		}
		if _, err := fmt.Fprintln(w, strings.Join(row, sep)); err != nil {
			return err
		}
	}
	return nil
}
