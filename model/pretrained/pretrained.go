// Package pretrained holds trained models embedded in the binary: "ahcd"
// (the 28 letters of the Arabic Handwritten Characters Dataset, 32x32 grey)
// and "mnist" (the 10 digits, 28x28 grey), both trained by convnet with the
// strong recipe (README.md in this folder gives the commands and test
// accuracies). Importing the package adds about 6 MB to a program.
//
//	m, err := pretrained.Load("ahcd")
//	c, err := model.NewClassifier(m, model.ClassifierOptions{})
package pretrained

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/model"
)

//go:embed *.safetensors
var files embed.FS

const ext = ".safetensors"

// Names returns the names of the built-in models, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ext) {
			names = append(names, strings.TrimSuffix(e.Name(), ext))
		}
	}
	slices.Sort(names)
	return names
}

// Load decodes the built-in model called name; each call returns a new
// model that the caller owns.
func Load(name string) (*model.Sequential, error) {
	if !slices.Contains(Names(), name) {
		return nil, fmt.Errorf("no built-in model %q (built-in models: %s)", name, strings.Join(Names(), ", "))
	}
	b, err := files.ReadFile(path.Clean(name) + ext)
	if err != nil {
		return nil, err
	}
	m, err := model.Decode(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("built-in model %s: %w", name, err)
	}
	return m, nil
}
