package model

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Summary layouts, as in Keras 2's print_summary: the line length and the
// column ends (positions 0.45, 0.85 and 1 of 65 for models that are chains,
// 0.33, 0.55, 0.67 and 1 of 98 with a "Connected to" column for graphs).
var (
	chainLayout = layout{width: 65, columns: []int{29, 55, 65}}
	graphLayout = layout{width: 98, columns: []int{32, 53, 65, 98}}
)

type layout struct {
	width   int
	columns []int
}

// Summary writes a Keras 2-style table of the built model: each layer's name
// and type, output shape with a None batch axis and parameter count, then
// the total, trainable and non-trainable parameter counts. Numbers have
// thousands separators; as in Keras, a field too long for its column is cut.
// Lines carry no trailing spaces.
//
//	Model: "sequential"
//	_________________________________________________________________
//	Layer (type)                 Output Shape              Param #
//	=================================================================
//	conv2d (Conv2D)              (None, 32, 32, 32)        832
//	_________________________________________________________________
//	...
//	dense_2 (Dense)              (None, 28)                7,196
//	=================================================================
//	Total params: 1,203,708
//	Trainable params: 1,203,708
//	Non-trainable params: 0
//	_________________________________________________________________
//
// A graph's table starts with its input, "input_1 (InputLayer)" of shape
// [(None, 32, 32, 1)], and, unless the graph is a chain, has a fourth
// column, "Connected to", listing the layers each layer is called on as
// "conv2d[0][0]", one per line, as Keras prints a Functional model. When
// a layer is frozen (see [Model.SetTrainable]), a last column, "Trainable",
// says Y or N for each layer, as Keras's show_trainable=True adds it.
func (m *Model) Summary(w io.Writer) error {
	if !m.Built() {
		return errors.New("summary: the model is not built")
	}
	bw := bufio.NewWriter(w)
	name := m.Name
	if name == "" {
		name = "sequential"
		if m.graph != nil {
			name = "model"
		}
	}
	lay := chainLayout
	connected := m.graph != nil && !m.isChain()
	if connected {
		lay = graphLayout
	}
	show := len(m.frozen) > 0
	if show {
		lay = layout{width: lay.width + 11, columns: append(slices.Clone(lay.columns), lay.width+11)}
	}
	// row writes the fields of a line, the "Connected to" one of a graph
	// and the "Trainable" one when shown.
	row := func(name, shape, count, link, trainable string) {
		fields := []string{name, shape, count}
		if connected {
			fields = append(fields, link)
		}
		if show {
			fields = append(fields, trainable)
		}
		lay.row(bw, fields...)
	}
	rule := func(c string) { fmt.Fprintln(bw, strings.Repeat(c, lay.width)) }
	fmt.Fprintf(bw, "Model: %q\n", name)
	rule("_")
	row("Layer (type)", "Output Shape", "Param #", "Connected to", "Trainable")
	rule("=")
	if m.graph != nil {
		row(m.InputName()+" (InputLayer)", "["+shapeString(m.input)+"]", "0", "", "Y")
		rule("_")
	}
	for i, l := range m.Layers {
		count := 0
		for _, p := range l.Params() {
			count += p.Value.Len()
		}
		var links []string
		for _, j := range m.inbound(i) {
			links = append(links, m.nodeName(j)+"[0][0]")
		}
		trainable := "Y"
		if m.frozen[l] {
			trainable = "N"
		}
		row(l.Name()+" ("+l.Type()+")", shapeString(l.OutputShape()), thousands(count), links[0], trainable)
		for _, link := range links[1:] {
			row("", "", "", link, "")
		}
		if i == len(m.Layers)-1 {
			rule("=")
		} else {
			rule("_")
		}
	}
	tr, non := m.ParamCount()
	fmt.Fprintf(bw, "Total params: %s\n", thousands(tr+non))
	fmt.Fprintf(bw, "Trainable params: %s\n", thousands(tr))
	fmt.Fprintf(bw, "Non-trainable params: %s\n", thousands(non))
	rule("_")
	return bw.Flush()
}

// isChain reports whether each layer is called on the one before, Keras's
// test for printing a Functional model without its connections.
func (m *Model) isChain() bool {
	for i := range m.Layers {
		if in := m.inbound(i); len(in) != 1 || in[0] != i {
			return false
		}
	}
	return true
}

// row writes fields at the column positions the way Keras does: each field
// is cut to end before the next column and the last character before a
// column is always a space. Fields past the layout's columns are left out.
func (lay layout) row(w io.Writer, fields ...string) {
	line := ""
	for i, f := range fields[:min(len(fields), len(lay.columns))] {
		if i > 0 {
			line = line[:len(line)-1] + " "
		}
		line += f
		if len(line) > lay.columns[i] {
			line = line[:lay.columns[i]]
		}
		line += strings.Repeat(" ", lay.columns[i]-len(line))
	}
	fmt.Fprintln(w, strings.TrimRight(line, " "))
}

// shapeString formats a per-sample shape with Keras's None batch axis:
// "(None, 32, 32, 1)".
func shapeString(s []int) string {
	var b strings.Builder
	b.WriteString("(None")
	for _, d := range s {
		b.WriteString(", ")
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteString(")")
	return b.String()
}

// thousands formats n with comma separators: 1203708 → "1,203,708".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
