package model

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/internal/version"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// The model file format: see the package documentation.
const (
	FormatName    = "convnet"
	FormatVersion = 2
)

// Metadata keys the file format reserves; Meta may not use them.
var reservedKeys = []string{"format", "format_version", "architecture", "classes", "preprocessing", "optimizer"}

// Metadata keys that Encode sets to the build writing the file, whatever
// Meta holds; Decode returns the writer's in Meta. Files written before
// they existed have neither.
const (
	versionKey   = "convnet_version"
	goVersionKey = "go_version"
)

// SaveOptions controls [Save].
type SaveOptions struct {
	// Overwrite replaces an existing file; without it Save refuses.
	Overwrite bool
	// IncludeOptimizer saves the optimizer, its state, the loss and the
	// random state, so that training can resume exactly.
	IncludeOptimizer bool
}

// Save writes m to path atomically: the file appears complete or not at all,
// and a failure leaves any previous file unchanged.
func Save(path string, m *Sequential, opts SaveOptions) error {
	if !m.Built() {
		return errors.New("save: the model is not built")
	}
	return safefile.Write(path, opts.Overwrite, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<16)
		if err := Encode(bw, m, opts.IncludeOptimizer); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// LoadOptions controls [LoadWith] and [DecodeWith].
type LoadOptions struct {
	// MaxMemory bounds, in bytes, the memory the model needs to run on one
	// sample ([Sequential.ActivationBytes] of 1): a model needing more is
	// refused with a [*MemoryError] before its weights are read. 0 means
	// [DefaultMaxMemory]; a negative value means no limit.
	MaxMemory int64
}

// Load reads a model file written by [Save], with the default
// [LoadOptions]. Errors name the file and what is wrong with it.
func Load(path string) (*Sequential, error) { return LoadWith(path, LoadOptions{}) }

// LoadWith is [Load] with options. It refuses at once what is not a
// regular file (a folder, a named pipe, a device), without waiting on it.
func LoadWith(path string, opts LoadOptions) (*Sequential, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	m, err := DecodeWith(f, st.Size(), opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// paramNames returns "layer/param" for every parameter of m.
func (m *Sequential) paramNames() map[*nn.Param]string {
	names := map[*nn.Param]string{}
	for _, l := range m.Layers {
		for _, p := range l.Params() {
			names[p] = l.Name() + "/" + p.Name
		}
	}
	return names
}

// checkMetadata reports class names that are not one per output and
// preprocessing that does not fit the input, which Decode and the
// importers refuse: nothing writes a file they cannot read.
func (m *Model) checkMetadata() error {
	if len(m.ClassNames) > 0 && len(m.ClassNames) != m.NumClasses() {
		return fmt.Errorf("%d class names for %d outputs", len(m.ClassNames), m.NumClasses())
	}
	if m.Standardizer != nil {
		if err := m.Standardizer.Check(m.input); err != nil {
			return fmt.Errorf("preprocessing: %w", err)
		}
	}
	return nil
}

// Encode writes m in the model file format to w. Save is Encode made atomic.
// Class names that are not one per output, preprocessing that does not fit
// the input, and weights (or optimizer state) that are not finite are an
// error, as Decode would refuse them.
func Encode(w io.Writer, m *Sequential, includeOptimizer bool) error {
	if !m.Built() {
		return errors.New("encode: the model is not built")
	}
	if err := m.checkMetadata(); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	meta := map[string]string{}
	for k, v := range m.Meta {
		if slices.Contains(reservedKeys, k) {
			return fmt.Errorf("encode: metadata key %q is reserved by the file format", k)
		}
		meta[k] = v
	}
	classes := m.ClassNames
	if classes == nil {
		classes = []string{}
	}
	if err := putJSON(meta, "architecture", m.architecture()); err != nil {
		return err
	}
	if err := putJSON(meta, "classes", classes); err != nil {
		return err
	}
	if m.Standardizer != nil {
		if err := putJSON(meta, "preprocessing", m.Standardizer); err != nil {
			return err
		}
	}
	meta["format"] = FormatName
	meta["format_version"] = strconv.Itoa(FormatVersion)
	meta[versionKey] = version.String()
	meta[goVersionKey] = version.Go()

	var tensors []namedTensor
	names := m.paramNames()
	for _, l := range m.Layers {
		for _, p := range l.Params() {
			tensors = append(tensors, namedTensor{names[p], p.Value})
		}
	}
	if includeOptimizer && m.opt != nil {
		state, err := m.encodeTraining(meta, names)
		if err != nil {
			return err
		}
		tensors = append(tensors, state...)
	}
	// Decode refuses them: weights that are not finite, as a diverged
	// training leaves, would make a file that does not load.
	for _, t := range tensors {
		for i, v := range t.t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("encode: tensor %q: value %d of %d is %v, want a finite number", t.name, i, len(t.t.Data), v)
			}
		}
	}
	return writeContainer(w, meta, tensors)
}

func putJSON(meta map[string]string, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	meta[key] = string(b)
	return nil
}

// Decode reads a model from r, which holds size bytes in the model file
// format, with the default [LoadOptions].
func Decode(r io.ReaderAt, size int64) (*Sequential, error) {
	return DecodeWith(r, size, LoadOptions{})
}

// DecodeWith is [Decode] with options. It checks everything it reads and
// never panics; it allocates memory in proportion to size.
func DecodeWith(r io.ReaderAt, size int64, opts LoadOptions) (*Sequential, error) {
	h, err := readHeader(r, size)
	if err != nil {
		return nil, err
	}
	meta := h.meta
	if meta == nil {
		return nil, formatErr("no __metadata__: a plain safetensors file, not a convnet model")
	}
	if f := meta["format"]; f != FormatName {
		return nil, formatErr("format %q, want %q", f, FormatName)
	}
	v, err := strconv.Atoi(meta["format_version"])
	if err != nil || v < 1 {
		return nil, formatErr("format_version %q, want a positive integer", meta["format_version"])
	}
	if v > FormatVersion {
		return nil, formatErr("model file version %d is newer than this program supports (%d)", v, FormatVersion)
	}

	m, err := decodeArchitecture(meta["architecture"], h)
	if err != nil {
		return nil, err
	}
	if err := m.checkMemory(opts.MaxMemory); err != nil {
		return nil, err
	}
	if err := m.decodeClasses(meta); err != nil {
		return nil, err
	}
	for k, v := range meta {
		if !slices.Contains(reservedKeys, k) {
			if m.Meta == nil {
				m.Meta = map[string]string{}
			}
			m.Meta[k] = v
		}
	}

	// Weights.
	used := map[string]bool{}
	names := m.paramNames()
	for _, p := range m.params {
		name := names[p]
		if err := readFinite(r, h, name, p.Value); err != nil {
			return nil, err
		}
		used[name] = true
	}
	// Optimizer.
	if s, ok := meta["optimizer"]; ok {
		if err := m.decodeTraining(r, h, s, names, used); err != nil {
			return nil, err
		}
	}
	var extra []string
	for name := range h.tensors {
		if !used[name] {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, formatErr("tensor %q is not part of the architecture", extra[0])
	}
	return m, nil
}

// decodeClasses reads the class names and the preprocessing.
func (m *Sequential) decodeClasses(meta map[string]string) error {
	if s, ok := meta["classes"]; ok {
		if err := json.Unmarshal([]byte(s), &m.ClassNames); err != nil {
			return formatErr("classes: %v", err)
		}
		if len(m.ClassNames) == 0 {
			m.ClassNames = nil
		} else if m.NumClasses() != len(m.ClassNames) {
			return formatErr("classes: %d names for %d outputs", len(m.ClassNames), m.NumClasses())
		}
	}
	if s, ok := meta["preprocessing"]; ok {
		m.Standardizer = new(data.Standardizer)
		if err := json.Unmarshal([]byte(s), m.Standardizer); err != nil {
			return formatErr("preprocessing: %v", err)
		}
		if err := m.Standardizer.Check(m.input); err != nil {
			return formatErr("preprocessing: %v", err)
		}
	}
	return nil
}

// readFinite reads the tensor called name into dst and checks that every
// value is a finite number: NaN or infinite weights, as a diverged training
// leaves, would make every prediction NaN.
func readFinite(r io.ReaderAt, h *header, name string, dst *tensor.Tensor) error {
	if err := h.read(r, name, dst); err != nil {
		return err
	}
	for i, v := range dst.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return formatErr("tensor %q: value %d of %d is %v, want a finite number", name, i, len(dst.Data), v)
		}
	}
	return nil
}
