package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/tensor"
)

func init() {
	register(command{name: "predict", summary: "classify image files or the rows of a CSV with a trained model", run: runPredict})
}

type predictOptions struct {
	Model    string
	CSV      string
	CSVLabel string
	Top      int
	JSON     bool
	Invert   string // auto, yes, no
	Files    []string
}

func parsePredict(args []string, stderr io.Writer) (*predictOptions, error) {
	o := &predictOptions{}
	fs := newFlagSet("predict", "--model FILE [flags] IMAGE...", stderr)
	fs.StringVar(&o.Model, "model", "", "the model file (required)")
	fs.StringVar(&o.CSV, "csv", "", "classify the rows of this CSV (a label column and pixel columns) instead of image files")
	fs.StringVar(&o.CSVLabel, "csv-label", "", "label column of the CSV: a header name or a 0-based index")
	fs.IntVar(&o.Top, "top", 5, "how many classes to list per image")
	fs.BoolVar(&o.JSON, "json", false, "print JSON")
	fs.StringVar(&o.Invert, "invert", "auto", "make images white on black like the training data: auto (when the border is light), yes or no")
	files, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	o.Files = files
	switch {
	case o.Model == "":
		return nil, usagef("--model is required")
	case o.CSV == "" && len(o.Files) == 0:
		return nil, usagef("give image files or --csv")
	case o.CSV != "" && len(o.Files) > 0:
		return nil, usagef("give image files or --csv, not both")
	case o.Top < 1:
		return nil, usagef("--top %d: want at least 1", o.Top)
	case !slices.Contains([]string{"auto", "yes", "no"}, o.Invert):
		return nil, usagef("--invert %q: want auto, yes or no", o.Invert)
	}
	return o, nil
}

// prediction is the answer for one input.
type prediction struct {
	Input string        `json:"input"`
	Top   []classScore  `json:"top"`
	Label *int          `json:"label,omitempty"` // the CSV's label, when known
	Info  *predictNotes `json:"notes,omitempty"`
}

type classScore struct {
	Label       int     `json:"label"`
	Name        string  `json:"name"`
	Probability float64 `json:"probability"`
}

type predictNotes struct {
	Inverted bool `json:"inverted,omitempty"`
}

func runPredict(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parsePredict(args, stderr)
	if err != nil {
		return err
	}
	m, err := model.Load(o.Model)
	if err != nil {
		return err
	}
	shape := m.InputShape()
	if len(shape) != 3 {
		return fmt.Errorf("%s takes inputs of shape %v, not images", o.Model, shape)
	}
	h, w, c := shape[0], shape[1], shape[2]
	var names []string
	var images [][]float32
	var labels []int
	var inverted []bool
	if o.CSV != "" {
		ds, err := data.LoadCSV(ctx, o.CSV, data.CSVOptions{LabelColumn: o.CSVLabel, Height: h, Width: w, Channels: c})
		if err != nil {
			return err
		}
		for i := range ds.Len() {
			names = append(names, fmt.Sprintf("%s:%d", o.CSV, i+1))
			images = append(images, ds.Image(i))
			labels = append(labels, ds.Y[i])
			inverted = append(inverted, false)
		}
	} else {
		for _, f := range o.Files {
			img, err := data.LoadImage(ctx, f)
			if err != nil {
				return err
			}
			px := data.ImageToPixels(img, h, w, c)
			inv := false
			switch o.Invert {
			case "auto":
				inv = data.MatchPolarity(px, h, w, c)
			case "yes":
				for i, v := range px {
					px[i] = 255 - v
				}
				inv = true
			}
			names = append(names, f)
			images = append(images, px)
			inverted = append(inverted, inv)
		}
	}
	preds := predictImages(m, images, o.Top)
	for i := range preds {
		preds[i].Input = names[i]
		if labels != nil {
			preds[i].Label = &labels[i]
		}
		if inverted[i] {
			preds[i].Info = &predictNotes{Inverted: true}
		}
	}
	if o.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"model": o.Model, "predictions": preds})
	}
	for _, p := range preds {
		fmt.Fprintf(stdout, "%s", p.Input)
		if p.Label != nil {
			fmt.Fprintf(stdout, " (label: %s)", className(m.ClassNames, *p.Label))
		}
		if p.Info != nil && p.Info.Inverted {
			fmt.Fprint(stdout, " (inverted: dark on light)")
		}
		fmt.Fprintln(stdout)
		for _, s := range p.Top {
			fmt.Fprintf(stdout, "  %6.2f%%  %2d %s\n", 100*s.Probability, s.Label, s.Name)
		}
	}
	return nil
}

// predictImages runs the model on raw 0..255 images in batches and returns
// the top classes of each.
func predictImages(m *model.Sequential, images [][]float32, top int) []prediction {
	shape := m.InputShape()
	size, classes := tensor.Size(shape), m.NumClasses()
	top = min(top, classes)
	const batch = 256
	out := make([]prediction, 0, len(images))
	raw := tensor.New(append([]int{batch}, shape...)...)
	x := tensor.New(raw.Shape...)
	probs := tensor.New(batch, classes)
	for lo := 0; lo < len(images); lo += batch {
		n := min(batch, len(images)-lo)
		r, xb, p := raw.Slice(0, n), x.Slice(0, n), probs.Slice(0, n)
		for i := range n {
			copy(r.Data[i*size:(i+1)*size], images[lo+i])
		}
		if m.Standardizer != nil {
			m.Standardizer.Apply(xb, r)
		} else {
			xb.CopyFrom(r)
		}
		m.Predict(p, xb)
		for i := range n {
			row := p.Data[i*classes : (i+1)*classes]
			idx := make([]int, classes)
			for j := range idx {
				idx[j] = j
			}
			slices.SortStableFunc(idx, func(a, b int) int {
				switch {
				case row[a] > row[b]:
					return -1
				case row[a] < row[b]:
					return 1
				}
				return 0
			})
			pr := prediction{}
			for _, j := range idx[:top] {
				pr.Top = append(pr.Top, classScore{Label: j, Name: className(m.ClassNames, j), Probability: float64(row[j])})
			}
			out = append(out, pr)
		}
	}
	return out
}
