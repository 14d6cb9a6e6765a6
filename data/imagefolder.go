package data

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/tensor"
)

// ImageFolderOptions describes how [LoadImageFolder] reads images.
type ImageFolderOptions struct {
	// Height and Width are the target size; every image is resized to it
	// with bilinear interpolation. Zero means the size of the first image.
	Height, Width int
	// Crop is how an image of another aspect ratio is fitted to the target
	// size, as [Framing].Crop for a model's inputs: 0 resizes it whole
	// (stretching it); c in (0, 1] first crops the centred region of the
	// target's aspect ratio, c times the largest that fits
	// ([Framing.CropRect]). Keras's keep_aspect_ratio=True
	// (flow_from_directory) and crop_to_aspect_ratio=True
	// (image_dataset_from_directory) are Crop 1. An image of exactly the
	// target size is taken whole, as a model's Classifier takes one.
	Crop float64
	// ColorMode is "grayscale" (1 channel), "rgb" (3, the default, as in
	// Keras) or "rgba" (4).
	ColorMode string
	// Budget bounds the memory the data takes; nil means a new budget of
	// DefaultMemory.
	Budget *Budget
}

// imageExts lists the file name endings read as images; other files are
// skipped, as Keras does.
var imageExts = []string{".png", ".jpg", ".jpeg", ".gif", ".bmp", ".pgm", ".ppm"}

// LoadImageFolder loads images laid out as Keras's flow_from_directory
// expects: one subfolder of dir per class, the classes in sorted order of
// their names, the images anywhere below each class folder. PNG, JPEG, GIF
// and BMP files are read; other files and hidden entries are skipped. An
// empty class folder, a file that does not decode or an image file that is
// not a regular file (a named pipe, a device) is an error.
//
// Each image may cost at most 256 bytes of memory per byte of its file,
// plus 16 MiB; the data set is charged to opts.Budget.
func LoadImageFolder(ctx context.Context, dir string, opts ImageFolderOptions) (*Dataset, error) {
	return loadImageFolder(ctx, osFolder(dir), dir, opts, imageRate)
}

// loadImageFolder loads the image folder at the root of fsys, named root in
// messages, each image decoded at rate r.
func loadImageFolder(ctx context.Context, fsys fs.FS, root string, opts ImageFolderOptions, r rate) (_ *Dataset, err error) {
	channels, err := colorChannels(opts.ColorMode)
	if err != nil {
		return nil, err
	}
	h, w := opts.Height, opts.Width
	if h < 0 || w < 0 || h > maxImageSide || w > maxImageSide {
		return nil, fmt.Errorf("image size %dx%d outside 1..%d", h, w, maxImageSide)
	}
	if !(opts.Crop >= 0 && opts.Crop <= 1) {
		return nil, fmt.Errorf("crop %v, want 0 (none) or a fraction in (0, 1]", opts.Crop)
	}
	b := orDefault(opts.Budget)
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	names := b.allow(root, -1, r) // the file names, given back at the end
	defer func() { names.give(names.taken) }()
	var classes []string
	var files [][]string
	n := 0
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		list, err := listImages(fsys, root, e.Name(), names)
		if err != nil {
			return nil, err
		}
		if len(list) == 0 {
			return nil, formatErr(filepath.Join(root, e.Name()), 0, 0, "class folder has no images (%s)", strings.Join(imageExts, ", "))
		}
		classes = append(classes, e.Name())
		files = append(files, list)
		n += len(list)
	}
	if len(classes) == 0 {
		return nil, formatErr(root, 0, 0, "no class subfolders; want one folder of images per class")
	}
	kept := b.allow(root, -1, r) // the pixels and labels
	defer func() {
		if err != nil {
			kept.give(kept.taken)
		}
	}()
	y, err := makeCharged[int](kept, n)
	if err != nil {
		return nil, err
	}
	var x []float32
	i := 0
	for k, list := range files {
		for _, name := range list {
			img, a, cost, err := readImage(ctx, fsys, name, filepath.Join(root, filepath.FromSlash(name)), b, r)
			if err != nil {
				return nil, err
			}
			if x == nil {
				if h == 0 || w == 0 {
					h, w = img.Bounds().Dy(), img.Bounds().Dx()
				}
				x, err = makeCharged[float32](kept, n*h*w*channels)
			}
			if err == nil {
				if b := img.Bounds(); opts.Crop > 0 && (b.Dx() != w || b.Dy() != h) {
					img = CropImage(img, Framing{Size: [2]int{h, w}, Crop: opts.Crop}.CropRect(b))
				}
				size := h * w * channels
				imageToPixels(x[i*size:(i+1)*size], img, h, w, channels)
			}
			a.give(cost)
			if err != nil {
				return nil, err
			}
			y[i] = k
			i++
		}
	}
	return &Dataset{X: tensor.FromData(x, n, h, w, channels), Y: y, ClassNames: classes}, nil
}

func colorChannels(mode string) (int, error) {
	switch mode {
	case "grayscale":
		return 1, nil
	case "rgb", "":
		return 3, nil
	case "rgba":
		return 4, nil
	}
	return 0, fmt.Errorf("color mode %q, want grayscale, rgb or rgba", mode)
}

// listImages returns the names of the image files below dir in fsys, in
// lexical order, charging them to a. Hidden entries are skipped; an image
// file that is not a regular file is an error.
func listImages(fsys fs.FS, root, dir string, a *allowance) ([]string, error) {
	var list []string
	err := fs.WalkDir(fsys, dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && name != dir {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !slices.Contains(imageExts, strings.ToLower(path.Ext(name))) {
			return nil
		}
		mode := d.Type()
		if mode&fs.ModeSymlink != 0 {
			info, err := fs.Stat(fsys, name)
			if err != nil {
				return err
			}
			mode = info.Mode()
		}
		if !mode.IsRegular() {
			return fmt.Errorf("%s is %s: %w", filepath.Join(root, filepath.FromSlash(name)), safefile.Kind(mode), safefile.ErrNotRegular)
		}
		if err := a.take(int64(len(name)) + 16); err != nil {
			return err
		}
		list = append(list, name)
		return nil
	})
	return list, err
}

// osFolder is the file system below a folder, as os.DirFS, except that it
// opens regular files only, without blocking on a named pipe.
type osFolder string

func (d osFolder) path(name string, op string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return filepath.Join(string(d), filepath.FromSlash(name)), nil
}

func (d osFolder) Open(name string) (fs.File, error) {
	p, err := d.path(name, "open")
	if err != nil {
		return nil, err
	}
	return safefile.Open(p)
}

func (d osFolder) ReadDir(name string) ([]fs.DirEntry, error) {
	p, err := d.path(name, "readdir")
	if err != nil {
		return nil, err
	}
	return os.ReadDir(p)
}

func (d osFolder) Stat(name string) (fs.FileInfo, error) {
	p, err := d.path(name, "stat")
	if err != nil {
		return nil, err
	}
	return os.Stat(p)
}
