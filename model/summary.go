package model

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Summary layout, as in Keras 2's print_summary for sequential models.
const (
	summaryWidth = 65
)

var summaryColumns = [3]int{29, 55, 65} // positions 0.45, 0.85, 1.0 of the width

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
func (m *Model) Summary(w io.Writer) error {
	if !m.Built() {
		return errors.New("summary: the model is not built")
	}
	bw := bufio.NewWriter(w)
	name := m.Name
	if name == "" {
		name = "sequential"
	}
	rule := func(c string) { fmt.Fprintln(bw, strings.Repeat(c, summaryWidth)) }
	fmt.Fprintf(bw, "Model: %q\n", name)
	rule("_")
	summaryRow(bw, "Layer (type)", "Output Shape", "Param #")
	rule("=")
	for i, l := range m.Layers {
		count := 0
		for _, p := range l.Params() {
			count += p.Value.Len()
		}
		summaryRow(bw, l.Name()+" ("+l.Type()+")", shapeString(l.OutputShape()), thousands(count))
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

// summaryRow writes fields at the column positions the way Keras does: each
// field is cut to end before the next column and the last character before a
// column is always a space.
func summaryRow(w io.Writer, fields ...string) {
	line := ""
	for i, f := range fields {
		if i > 0 {
			line = line[:len(line)-1] + " "
		}
		line += f
		if len(line) > summaryColumns[i] {
			line = line[:summaryColumns[i]]
		}
		line += strings.Repeat(" ", summaryColumns[i]-len(line))
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
