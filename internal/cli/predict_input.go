package cli

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
)

// predictChunk is how many inputs are read, classified and printed at a
// time: memory stays small for folders of any size, and one image is one
// batch of one.
const predictChunk = 256

// maxImageBytes bounds the size of one image file.
const maxImageBytes = 64 << 20

// imageExts are the file name endings read as images in folders.
var imageExts = []string{".png", ".jpg", ".jpeg", ".gif", ".bmp", ".pgm", ".ppm"}

// source is one input: an image file ("-" for standard input) or a CSV file.
type source struct {
	path string
	csv  bool
}

// predictor classifies the inputs of one run of convnet predict.
type predictor struct {
	ctx          context.Context
	o            *predictOptions
	c            *model.Classifier
	camLayer     int // the layer of --cam, -1 for the default
	out          predictWriter
	progress     *progress
	stderr       io.Writer
	done, failed int             // inputs classified, and reported as failed
	classified   int             // inputs given to the classifier, for the seeds of --tta
	camFiles     map[string]bool // the names of the --cam pictures written
}

// fail reports an input that cannot be classified; the run goes on and
// ends with an error.
func (p *predictor) fail(err error) {
	p.progress.clear()
	fmt.Fprintf(p.stderr, "convnet predict: %v\n", err)
	p.failed++
}

// list expands the inputs: folders into their image files (recursively, in
// lexical order, leaving out hidden files and folders and not following
// links to folders). A path that is neither a regular file nor a folder (a
// named pipe, a device, a socket) is reported at once, never opened.
func (p *predictor) list() []source {
	var out []source
	for _, in := range p.o.Inputs {
		if in == "-" {
			out = append(out, source{path: in})
			continue
		}
		st, err := os.Stat(in)
		switch {
		case err != nil:
			p.fail(err)
		case st.IsDir():
			found := p.walk(in)
			if len(found) == 0 {
				p.fail(fmt.Errorf("%s: a folder without images (%s)", in, strings.Join(imageExts, ", ")))
			}
			out = append(out, found...)
		case !st.Mode().IsRegular():
			p.fail(notRegular(in, st.Mode()))
		default:
			out = append(out, source{path: in, csv: strings.EqualFold(filepath.Ext(in), ".csv")})
		}
	}
	return out
}

func notRegular(path string, mode fs.FileMode) error {
	return fmt.Errorf("%s: not a regular file or folder (mode %v): skipped", path, mode.Type())
}

func (p *predictor) walk(dir string) []source {
	var out []source
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			p.fail(err)
			return nil
		}
		if path == dir {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		mode := d.Type()
		if mode&fs.ModeSymlink != 0 {
			st, err := os.Stat(path)
			if err != nil {
				p.fail(err)
				return nil
			}
			mode = st.Mode().Type()
		}
		switch {
		case mode.IsDir():
		case !mode.IsRegular():
			p.fail(notRegular(path, mode))
		case slices.Contains(imageExts, strings.ToLower(filepath.Ext(path))):
			out = append(out, source{path: path})
		}
		return nil
	})
	return out
}

// run classifies the sources in order, images a chunk at a time.
func (p *predictor) run(sources []source) error {
	var chunk []source
	for i, s := range sources {
		if !s.csv {
			chunk = append(chunk, s)
		}
		if len(chunk) == predictChunk || (len(chunk) > 0 && (s.csv || i == len(sources)-1)) {
			if err := p.images(chunk); err != nil {
				return err
			}
			chunk = chunk[:0]
		}
		if s.csv {
			if err := p.csv(s.path); err != nil {
				return err
			}
		}
	}
	return nil
}

// images reads and classifies a chunk of image files; those that cannot be
// read are reported.
func (p *predictor) images(chunk []source) error {
	var names []string
	var px [][]float32
	var inverted []bool
	for _, s := range chunk {
		if err := p.ctx.Err(); err != nil {
			return err
		}
		img, err := readImage(p.ctx, s.path)
		if err != nil {
			p.fail(err)
			continue
		}
		x, inv := p.c.Pixels(img)
		names, px, inverted = append(names, s.path), append(px, x), append(inverted, inv)
	}
	err := p.classify(names, px, inverted, nil)
	p.progress.add(len(chunk))
	return err
}

// readImage decodes an image file, or standard input for "-".
func readImage(ctx context.Context, path string) (image.Image, error) {
	if path != "-" {
		return data.LoadImage(ctx, path)
	}
	b, err := io.ReadAll(io.LimitReader(stdin(ctx), maxImageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the standard input: %w", err)
	}
	if len(b) > maxImageBytes {
		return nil, fmt.Errorf("standard input: larger than %d bytes, too large for an image", maxImageBytes)
	}
	return data.DecodeImage("standard input", b)
}

// csv classifies the rows of a CSV file, used as they are.
func (p *predictor) csv(path string) error {
	shape := p.c.InputShape()
	ds, err := data.LoadCSV(p.ctx, path, data.CSVOptions{
		LabelColumn: p.o.CSVLabel, NoLabels: p.o.CSVLabel == "",
		Height: shape[0], Width: shape[1], Channels: shape[2], ColumnMajor: p.o.ColumnMajor,
		NumClasses: len(p.c.ClassNames()),
	})
	if err != nil {
		hint := ""
		if p.o.CSVLabel == "" {
			hint = "; if a column holds labels, name it with --csv-label"
		}
		p.fail(fmt.Errorf("%w (model %s takes %dx%dx%d images%s)", err, p.o.Model, shape[0], shape[1], shape[2], hint))
		return nil
	}
	p.progress.grow(ds.Len())
	for lo := 0; lo < ds.Len(); lo += predictChunk {
		n := min(predictChunk, ds.Len()-lo)
		names, px := make([]string, n), make([][]float32, n)
		var truth []int
		if p.o.CSVLabel != "" {
			truth = ds.Y[lo : lo+n]
		}
		for i := range n {
			names[i], px[i] = fmt.Sprintf("%s#%d", path, lo+i+1), ds.Image(lo+i)
		}
		err := p.classify(names, px, make([]bool, n), truth)
		p.progress.add(n)
		if err != nil {
			return err
		}
	}
	return nil
}

// classify classifies one chunk and writes the results. An output that is
// not finite stops the run: the model is broken.
func (p *predictor) classify(names []string, px [][]float32, inverted []bool, truth []int) error {
	if len(px) == 0 {
		return nil
	}
	var rs []model.Result
	var err error
	if t := p.o.TTA.tta; t != nil {
		tta := *t
		tta.First = p.classified // each input's copies whatever the chunks
		rs, err = p.c.ClassifyPixelsTTA(p.ctx, px, p.o.Top, tta)
	} else {
		rs, err = p.c.ClassifyPixels(p.ctx, px, p.o.Top)
	}
	p.classified += len(px)
	if nf := new(model.NonFiniteError); errors.As(err, &nf) {
		return fmt.Errorf("%s: the model's output is not finite (NaN or infinite values): the model is broken", names[nf.Index])
	}
	if err != nil {
		return err
	}
	p.progress.clear()
	for i, r := range rs {
		if p.o.CAM != "" {
			if err := p.drawCAM(names[i], px[i], r.Top[0].Label); err != nil {
				return err
			}
		}
		r.Inverted = inverted[i]
		rec := predictRecord{Input: names[i], Result: r, Truth: -1}
		if truth != nil {
			rec.Truth = truth[i]
		}
		if err := p.out.write(rec); err != nil {
			return err
		}
	}
	p.done += len(rs)
	return p.out.flush()
}
