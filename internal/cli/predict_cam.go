package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/plot"
)

// camScale enlarges the pictures of --cam to about this many pixels.
const camScale = 256

// drawCAM writes the class activation map of class for the input named
// name, of raw pixels px, into --cam-dir: the input as the model sees it
// (framed, before standardisation), enlarged, the map over it.
func (p *predictor) drawCAM(name string, px []float32, class int) error {
	cam, err := p.c.CAM(p.ctx, px, p.o.CAM, class, p.camLayer)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	shape := p.c.InputShape()
	img := plot.Cell{Pixels: px, H: shape[0], W: shape[1], C: shape[2]}
	pic := plot.CAMOverlay(img, cam.Map.Data, cam.Map.Shape[0], cam.Map.Shape[1], max(1, camScale/max(shape[0], shape[1])))
	file := camFileName(name)
	if p.camFiles == nil {
		p.camFiles = map[string]bool{}
	}
	for k := 2; p.camFiles[file]; k++ { // another input of the same file name: a/b.png and a_b.png
		file = fmt.Sprintf("%s~%d", camFileName(name), k)
	}
	p.camFiles[file] = true
	path := filepath.Join(p.o.CAMDir, file+"."+p.o.CAM+".png")
	if err := safefile.Write(path, true, func(w io.Writer) error { return plot.WritePNG(w, pic) }); err != nil {
		return fmt.Errorf("%s: the class activation map: %w", name, err)
	}
	return nil
}

// layerNamed returns the index of m's layer called name, -1 for "".
func layerNamed(m *model.Sequential, name string) (int, error) {
	if name == "" {
		return -1, nil
	}
	var names []string
	for i, l := range m.Layers {
		if l.Name() == name {
			return i, nil
		}
		names = append(names, l.Name())
	}
	return 0, usagef("--cam-layer %q: the model has no such layer; its layers are %s", name, strings.Join(names, ", "))
}

// camFileName turns an input's name (a path, "-", or a CSV row's
// "file.csv#N") into a file name: the path's separators become "_", so
// that inputs of the same name in different folders stay apart.
func camFileName(name string) string {
	if name == "-" {
		return "stdin"
	}
	name = strings.TrimLeft(filepath.ToSlash(filepath.Clean(name)), "./")
	return strings.NewReplacer("/", "_", "\\", "_").Replace(name)
}
