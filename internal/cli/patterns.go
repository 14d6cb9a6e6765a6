package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/plot"
)

func init() {
	register(command{
		name:    "patterns",
		summary: "draw what a layer's channels respond to, or what each class looks like to the network (gradient ascent)",
		run:     runPatterns,
	})
}

// PatternsOptions are the flags of "convnet patterns".
type PatternsOptions struct {
	Model     string // a model file or a built-in model
	Layer     string // a layer's name or index; "": the last (the classes)
	Channels  int    // the first this many channels at most
	Steps     int
	Out       string
	Force     bool
	MaxMemory int64
}

func runPatterns(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o PatternsOptions
	fs := newFlagSet("patterns", "--model FILE|NAME --out FILE.png [flags]", stderr)
	fs.StringVar(&o.Model, "model", "", "a trained model file or a built-in model (required)")
	fs.StringVar(&o.Layer, "layer", "", "the layer, by name or index (default: the last: what each class looks like)")
	fs.IntVar(&o.Channels, "channels", 64, "the first this many channels at most")
	fs.IntVar(&o.Steps, "steps", 30, "steps of gradient ascent for each pattern")
	fs.StringVar(&o.Out, "out", "", "PNG file to write (required)")
	fs.BoolVar(&o.Force, "force", false, "overwrite --out if it exists")
	maxMemoryFlag(fs, &o.MaxMemory)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usagef("unexpected argument %q", rest[0])
	case o.Model == "":
		return usagef("--model is required")
	case o.Out == "":
		return usagef("--out is required")
	}
	if err := firstErr(inRange("channels", o.Channels, "[1, 1024]"), inRange("steps", o.Steps, "[1, 10000]")); err != nil {
		return err
	}
	n, err := patterns(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d patterns)\n", o.Out, n)
	return nil
}

// patterns draws the patterns o asks for into o.Out and returns how many.
func patterns(ctx context.Context, o PatternsOptions) (int, error) {
	c, _, err := classifier(o.Model, o.MaxMemory, model.ClassifierOptions{})
	if err != nil {
		return 0, err
	}
	layer := len(c.Model().Layers) - 1
	if o.Layer != "" {
		if layer, err = layerByNameOrIndex(c.Model(), o.Layer); err != nil {
			return 0, err
		}
	}
	cells, err := patternCells(ctx, c, layer, o)
	if err != nil {
		return 0, err
	}
	img := plot.Grid(cells, min(len(cells), 8))
	return len(cells), safefile.Write(o.Out, o.Force, func(w io.Writer) error { return plot.WritePNG(w, img) })
}

// patternCells returns the pictures of the patterns of layer's first
// o.Channels channels, labelled: for the last layer each class's name and
// how sure the network is of it for its pattern, or the class it reads
// instead; for another the channel and its mean for the first input and
// the pattern.
func patternCells(ctx context.Context, c *model.Classifier, layer int, o PatternsOptions) ([]plot.Cell, error) {
	m := c.Model()
	last := len(m.Layers) - 1
	out := m.Layers[layer].OutputShape()
	n := min(out[len(out)-1], o.Channels)
	names := c.ClassNames()
	var cells []plot.Cell
	for ch := range n {
		p, err := c.Pattern(ctx, layer, ch, model.PatternOptions{Steps: o.Steps})
		if err != nil {
			return nil, err
		}
		label := fmt.Sprintf("channel %d\n%.3g → %.3g", ch, p.Start, p.End)
		if layer == last {
			label = names[ch] + "\n"
			if len(p.Top) > 0 && p.Top[0].Label == ch {
				label += fmt.Sprintf("%.0f%%", 100*p.Top[0].Probability)
			} else if len(p.Top) > 0 {
				label += "→ " + names[p.Top[0].Label]
			}
		}
		px := make([]float32, len(p.Input.Data))
		for i, b := range p.Deprocess() {
			px[i] = float32(b)
		}
		s := p.Input.Shape
		cell := plot.Cell{H: s[0], W: s[1], Label: label}
		cell.Pixels, cell.C = picture(px, s[2])
		cells = append(cells, cell)
	}
	return cells, nil
}

// picture returns the pixels px of c channels as the demo draws them:
// grey (1 channel) or RGB (3), the first channel of 2 (grey and alpha) in
// grey, the first three of 4 or more (RGB and alpha) in colour: a
// pattern's alpha is one more input the ascent climbed, not a
// transparency to show.
func picture(px []float32, c int) ([]float32, int) {
	keep := 1
	if c >= 3 {
		keep = 3
	}
	if keep == c {
		return px, c
	}
	out := make([]float32, 0, len(px)/c*keep)
	for i := 0; i < len(px); i += c {
		out = append(out, px[i:i+keep]...)
	}
	return out, keep
}

// layerByNameOrIndex returns the index of m's layer called name, or of
// index name.
func layerByNameOrIndex(m *model.Sequential, name string) (int, error) {
	for i, l := range m.Layers {
		if l.Name() == name {
			return i, nil
		}
	}
	if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < len(m.Layers) {
		return i, nil
	}
	var names []string
	for _, l := range m.Layers {
		names = append(names, l.Name())
	}
	return 0, usagef("--layer %q: the model has no such layer; its layers are %s (or their indices 0..%d)", name, strings.Join(names, ", "), len(m.Layers)-1)
}
