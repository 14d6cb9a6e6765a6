package cli

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/convnet-go/convnet/model"
)

// predictRecord is the answer for one input.
type predictRecord struct {
	Input  string
	Result model.Result
	Truth  int // the label the input came with, or -1
}

// predictWriter prints the answers in one of the output formats.
type predictWriter interface {
	write(predictRecord) error
	flush() error
}

func newPredictWriter(format string, w io.Writer, classes []string, top int, truth bool) (predictWriter, error) {
	top = min(top, len(classes))
	switch format {
	case "csv":
		cw := &csvPredictions{w: csv.NewWriter(w), classes: classes, top: top, truth: truth}
		return cw, cw.header()
	case "json":
		return &jsonPredictions{w: bufio.NewWriter(w), classes: classes}, nil
	}
	t := &tablePredictions{w: bufio.NewWriter(w), top: top, truth: truth, classes: classes}
	for _, c := range classes {
		t.width = max(t.width, utf8.RuneCountInString(c))
	}
	t.header()
	return t, nil
}

// tablePredictions prints one line per input: the top classes with their
// probabilities, the label if known, then the input, so that columns line
// up however long the names of the inputs are.
type tablePredictions struct {
	w       *bufio.Writer
	top     int
	truth   bool
	classes []string
	width   int // of the longest class name
}

func (t *tablePredictions) cell(name string, extra int) {
	t.w.WriteString(name)
	t.w.WriteString(strings.Repeat(" ", max(t.width-utf8.RuneCountInString(name), 0)+extra))
}

func (t *tablePredictions) header() {
	for i := range t.top {
		t.cell(fmt.Sprintf("class %d", i+1), 10)
	}
	if t.truth {
		t.cell("label", 2)
	}
	t.w.WriteString("input\n")
}

func (t *tablePredictions) write(r predictRecord) error {
	for _, p := range r.Result.Top {
		t.cell(p.Name, 1)
		fmt.Fprintf(t.w, "%6.2f%%  ", 100*p.Probability)
	}
	if t.truth {
		label := "" // an image among labelled CSV rows has none
		if r.Truth >= 0 {
			label = t.classes[r.Truth]
		}
		t.cell(label, 2)
	}
	t.w.WriteString(r.Input)
	switch {
	case r.Result.Blank:
		t.w.WriteString(" (blank: every pixel alike, nothing to classify)")
	case r.Result.Inverted:
		t.w.WriteString(" (inverted: dark on light)")
	}
	return t.w.WriteByte('\n')
}

func (t *tablePredictions) flush() error { return t.w.Flush() }

// csvPredictions prints RFC 4180 CSV: a header, then one row per input.
type csvPredictions struct {
	w       *csv.Writer
	classes []string
	top     int
	truth   bool
}

func (c *csvPredictions) header() error {
	h := []string{"input"}
	for i := range c.top {
		n := strconv.Itoa(i + 1)
		h = append(h, "label_"+n, "name_"+n, "probability_"+n)
	}
	h = append(h, "inverted", "blank")
	if c.truth {
		h = append(h, "true_label", "true_name")
	}
	return c.w.Write(h)
}

func (c *csvPredictions) write(r predictRecord) error {
	row := []string{r.Input}
	for _, p := range r.Result.Top {
		row = append(row, strconv.Itoa(p.Label), p.Name, strconv.FormatFloat(float64(p.Probability), 'g', -1, 32))
	}
	row = append(row, strconv.FormatBool(r.Result.Inverted), strconv.FormatBool(r.Result.Blank))
	switch {
	case c.truth && r.Truth >= 0:
		row = append(row, strconv.Itoa(r.Truth), c.classes[r.Truth])
	case c.truth: // an image among labelled CSV rows has no label
		row = append(row, "", "")
	}
	return c.w.Write(row)
}

func (c *csvPredictions) flush() error {
	c.w.Flush()
	return c.w.Error()
}

// jsonPredictions prints one JSON object per line.
type jsonPredictions struct {
	w       *bufio.Writer
	classes []string
}

type jsonPrediction struct {
	Input     string             `json:"input"`
	Top       []model.Prediction `json:"top"`
	Inverted  bool               `json:"inverted,omitempty"`
	Blank     bool               `json:"blank,omitempty"`
	TrueLabel *int               `json:"true_label,omitempty"`
	TrueName  string             `json:"true_name,omitempty"`
}

func (j *jsonPredictions) write(r predictRecord) error {
	jp := jsonPrediction{Input: r.Input, Top: r.Result.Top, Inverted: r.Result.Inverted, Blank: r.Result.Blank}
	if r.Truth >= 0 {
		jp.TrueLabel, jp.TrueName = &r.Truth, j.classes[r.Truth]
	}
	b, err := json.Marshal(jp)
	if err != nil {
		return err
	}
	j.w.Write(b)
	return j.w.WriteByte('\n')
}

func (j *jsonPredictions) flush() error { return j.w.Flush() }

// progress draws "classified N of M inputs" with a bar on a terminal,
// redrawn in place at most once per chunk; it clears itself before other
// output.
type progress struct {
	w           io.Writer
	on          bool
	done, total int
	shown       bool
}

// newProgress returns a progress line for total inputs, drawn only on a
// terminal and for more than one chunk of inputs.
func newProgress(w io.Writer, terminal bool, total int) *progress {
	return &progress{w: w, on: terminal, total: total}
}

// grow adds n inputs to the total (the rows of a CSV once read).
func (p *progress) grow(n int) { p.total += n }

func (p *progress) add(n int) {
	p.done += n
	if !p.on || p.total <= predictChunk {
		return
	}
	const width = 30
	filled := width * p.done / max(p.total, 1)
	fmt.Fprintf(p.w, "\r\033[Kclassified %d of %d inputs [%s%s] %3d%%", p.done, p.total,
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled), 100*p.done/max(p.total, 1))
	p.shown = true
}

func (p *progress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
