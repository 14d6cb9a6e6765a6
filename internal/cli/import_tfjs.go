package cli

import (
	"archive/zip"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/convnet-go/convnet/model"
)

// importTFJS reads a TensorFlow.js layers model from in: its model.json,
// the folder that holds it, or a zip archive of that folder's files (what
// Teachable Machine's "Download my model" gives: model.json, weights.bin,
// metadata.json), whose model.json may be in a folder of the archive.
func importTFJS(in string, opts model.KerasImportOptions) (*model.Sequential, error) {
	st, err := os.Stat(in)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return model.ImportTFJS(os.DirFS(in), "model.json", opts)
	}
	zr, err := zip.OpenReader(in)
	if errors.Is(err, zip.ErrFormat) { // a model.json
		return model.ImportTFJS(os.DirFS(filepath.Dir(in)), filepath.Base(in), opts)
	}
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var found []string
	for _, f := range zr.File {
		if path.Base(f.Name) == "model.json" && fs.ValidPath(f.Name) {
			found = append(found, f.Name)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("a zip archive with %d files called model.json, want one (a TensorFlow.js model's)", len(found))
	}
	return model.ImportTFJS(zr, found[0], opts)
}
