package web

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/convnet-go/convnet/model"
)

// builtinFiles holds the models trained for the demo, next to a README.
//
//go:embed models
var builtinFiles embed.FS

// BuiltinModels returns the models embedded in the binary, named after their
// files without the extension (models/ahcd.safetensors serves as "ahcd").
// It returns no models and no error when none are embedded.
func BuiltinModels() ([]Model, error) {
	entries, err := fs.ReadDir(builtinFiles, "models")
	if err != nil {
		return nil, err
	}
	var models []Model
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasSuffix(name, ".md") || strings.HasPrefix(name, ".") {
			continue
		}
		b, err := builtinFiles.ReadFile(path.Join("models", name))
		if err != nil {
			return nil, err
		}
		m, err := model.Decode(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, fmt.Errorf("built-in model %s: %w", name, err)
		}
		models = append(models, Model{Name: strings.TrimSuffix(name, path.Ext(name)), Net: FromSequential(m)})
	}
	return models, nil
}
