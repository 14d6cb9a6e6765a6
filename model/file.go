package model

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// The model file format: see the package documentation.
const (
	FormatName    = "convnet"
	FormatVersion = 2

	// maxHeader bounds the JSON header of a model file.
	maxHeader = 100 << 20
)

// Metadata keys the file format reserves; Meta may not use them.
var reservedKeys = []string{"format", "format_version", "architecture", "classes", "preprocessing", "optimizer"}

// FormatError reports a model file that cannot be read: truncated,
// corrupted, of a newer version, or not matching its own architecture.
type FormatError struct {
	Msg string
}

func (e *FormatError) Error() string { return "invalid model file: " + e.Msg }

func formatErr(format string, args ...any) error {
	return &FormatError{Msg: fmt.Sprintf(format, args...)}
}

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

// Load reads a model file written by [Save]. Errors name the file and what
// is wrong with it.
func Load(path string) (*Sequential, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	m, err := Decode(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// tensorEntry is a tensor's description in the header.
type tensorEntry struct {
	Dtype       string  `json:"dtype"`
	Shape       []int   `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// training is the "optimizer" metadata entry.
type training struct {
	Name       string         `json:"name"`
	Config     map[string]any `json:"config"`
	Iterations int            `json:"iterations"`
	Loss       map[string]any `json:"loss"`
	RNG        string         `json:"rng,omitempty"` // the model's PCG state, base64
}

type namedTensor struct {
	name string
	t    *tensor.Tensor
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

// Encode writes m in the model file format to w. Save is Encode made atomic.
func Encode(w io.Writer, m *Sequential, includeOptimizer bool) error {
	if !m.Built() {
		return errors.New("encode: the model is not built")
	}
	meta := map[string]string{}
	for k, v := range m.Meta {
		if slices.Contains(reservedKeys, k) {
			return fmt.Errorf("encode: metadata key %q is reserved by the file format", k)
		}
		meta[k] = v
	}
	arch := m.architecture()
	classes := m.ClassNames
	if classes == nil {
		classes = []string{}
	}
	if err := putJSON(meta, "architecture", arch); err != nil {
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

	var tensors []namedTensor
	names := m.paramNames()
	for _, l := range m.Layers {
		for _, p := range l.Params() {
			tensors = append(tensors, namedTensor{names[p], p.Value})
		}
	}
	if includeOptimizer && m.opt != nil {
		rng, err := m.pcg.MarshalBinary()
		if err != nil {
			return err
		}
		tr := training{
			Name: m.opt.Name(), Config: m.opt.Config(), Iterations: m.opt.Iterations(),
			Loss: m.loss.Config(),
			RNG:  base64.StdEncoding.EncodeToString(rng),
		}
		if err := putJSON(meta, "optimizer", tr); err != nil {
			return err
		}
		slots := m.opt.SlotNames()
		for _, ps := range m.opt.State() {
			pname, ok := names[ps.Param]
			if !ok {
				return errors.New("encode: the optimizer holds state for a parameter that is not the model's")
			}
			for k, t := range ps.Slots {
				tensors = append(tensors, namedTensor{"optimizer/" + pname + "/" + slots[k], t})
			}
		}
	}
	header, err := encodeHeader(meta, tensors)
	if err != nil {
		return err
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<15)
	for _, nt := range tensors {
		for _, v := range nt.t.Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	_, err = w.Write(buf)
	return err
}

func putJSON(meta map[string]string, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	meta[key] = string(b)
	return nil
}

// encodeHeader writes the JSON header: metadata first, then the tensors in
// file order, padded with spaces to a multiple of 8 bytes (counting the
// 8-byte length before it), as Python's safetensors does.
func encodeHeader(meta map[string]string, tensors []namedTensor) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"__metadata__":`)
	mb, err := json.Marshal(meta) // sorted keys
	if err != nil {
		return nil, err
	}
	b.Write(mb)
	var off int64
	seen := map[string]bool{}
	for _, nt := range tensors {
		if seen[nt.name] {
			return nil, fmt.Errorf("encode: two tensors named %q", nt.name)
		}
		seen[nt.name] = true
		size := int64(nt.t.Len()) * 4
		e := tensorEntry{Dtype: "F32", Shape: nt.t.Shape, DataOffsets: []int64{off, off + size}}
		if e.Shape == nil {
			e.Shape = []int{}
		}
		kb, _ := json.Marshal(nt.name)
		eb, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		b.WriteByte(',')
		b.Write(kb)
		b.WriteByte(':')
		b.Write(eb)
		off += size
	}
	b.WriteByte('}')
	for (8+b.Len())%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes(), nil
}

// header is a parsed and checked file header.
type header struct {
	meta    map[string]string
	tensors map[string]tensorEntry
	start   int64 // offset of the data section in the file
	dataLen int64
	buf     []byte // read's buffer, reused from tensor to tensor
}

// readHeader reads and checks the length, the JSON and the tensor offsets.
func readHeader(r io.ReaderAt, size int64) (*header, error) {
	if size < 8 {
		return nil, formatErr("%d bytes, too short for the 8-byte header length", size)
	}
	var nb [8]byte
	if _, err := r.ReadAt(nb[:], 0); err != nil {
		return nil, formatErr("reading the header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(nb[:])
	switch {
	case n < 2:
		return nil, formatErr("header length %d, want at least 2", n)
	case n > uint64(size-8):
		return nil, formatErr("header length %d exceeds the file size (%d bytes after the length): truncated file?", n, size-8)
	case n > maxHeader:
		return nil, formatErr("header length %d exceeds the limit of %d bytes", n, maxHeader)
	}
	h := &header{tensors: map[string]tensorEntry{}, start: 8 + int64(n), dataLen: size - 8 - int64(n)}
	if err := h.parse(io.NewSectionReader(r, 8, int64(n))); err != nil {
		return nil, err
	}
	if h.meta == nil {
		return nil, formatErr("no __metadata__: a plain safetensors file, not a convnet model")
	}
	return h, h.checkLayout()
}

// parse reads the header's JSON object one entry at a time, checking each
// tensor's entry as it comes. Streaming keeps the memory it needs close to
// the header's own size, however many entries the header holds.
func (h *header) parse(r io.Reader) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return formatErr("header is not a JSON object: %v", tokenErr(tok, err))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return formatErr("header is not a JSON object: %v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return formatErr("header is not a JSON object: %v", tokenErr(tok, nil))
		}
		if name == "__metadata__" {
			if h.meta != nil {
				return formatErr("__metadata__ appears twice")
			}
			if err := dec.Decode(&h.meta); err != nil || h.meta == nil {
				return formatErr("__metadata__ is not an object of strings: %v", tokenErr(nil, err))
			}
			continue
		}
		if _, dup := h.tensors[name]; dup {
			return formatErr("tensor %q appears twice", name)
		}
		var e tensorEntry
		if err := dec.Decode(&e); err != nil {
			return formatErr("tensor %q: %v", name, err)
		}
		if err := h.checkEntry(name, e); err != nil {
			return err
		}
		h.tensors[name] = e
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return formatErr("header is not a JSON object: %v", err)
	}
	if tok, err := dec.Token(); err != io.EOF {
		return formatErr("header: data after the JSON object: %v", tokenErr(tok, err))
	}
	return nil
}

// tokenErr describes what parse found instead of what it wanted.
func tokenErr(tok json.Token, err error) error {
	if err != nil {
		return err
	}
	if tok == nil {
		return errors.New("null")
	}
	return fmt.Errorf("unexpected %v", tok)
}

func (h *header) checkEntry(name string, e tensorEntry) error {
	if e.Dtype != "F32" {
		return formatErr("tensor %q: dtype %q, only F32 is supported", name, e.Dtype)
	}
	if len(e.DataOffsets) != 2 {
		return formatErr("tensor %q: data_offsets has %d values, want 2", name, len(e.DataOffsets))
	}
	b, end := e.DataOffsets[0], e.DataOffsets[1]
	if b < 0 || end < b || end > h.dataLen {
		return formatErr("tensor %q: data_offsets [%d, %d] outside the data section of %d bytes", name, b, end, h.dataLen)
	}
	elems := int64(1)
	for _, d := range e.Shape {
		if d < 0 {
			return formatErr("tensor %q: negative dimension in shape %v", name, e.Shape)
		}
		if d > 0 && elems > h.dataLen/int64(d) {
			return formatErr("tensor %q: shape %v is larger than the file", name, e.Shape)
		}
		elems *= int64(d)
	}
	if elems*4 != end-b {
		return formatErr("tensor %q: shape %v needs %d bytes, data_offsets [%d, %d] hold %d", name, e.Shape, elems*4, b, end, end-b)
	}
	return nil
}

// checkLayout checks that the tensors tile the data section exactly, in
// offset order, without gaps or overlaps.
func (h *header) checkLayout() error {
	names := make([]string, 0, len(h.tensors))
	for name := range h.tensors {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := h.tensors[names[i]].DataOffsets, h.tensors[names[j]].DataOffsets
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		if a[1] != b[1] {
			return a[1] < b[1]
		}
		return names[i] < names[j]
	})
	var end int64
	for i, name := range names {
		off := h.tensors[name].DataOffsets
		if off[0] < end {
			return formatErr("tensor %q overlaps tensor %q", name, names[i-1])
		}
		if off[0] > end {
			return formatErr("gap of %d bytes before tensor %q", off[0]-end, name)
		}
		end = off[1]
	}
	if end != h.dataLen {
		return formatErr("%d bytes after the last tensor", h.dataLen-end)
	}
	return nil
}

// Decode reads a model from r, which holds size bytes in the model file
// format. It checks everything it reads and never panics; it allocates memory
// in proportion to size.
func Decode(r io.ReaderAt, size int64) (*Sequential, error) {
	h, err := readHeader(r, size)
	if err != nil {
		return nil, err
	}
	meta := h.meta
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
	if s, ok := meta["classes"]; ok {
		if err := json.Unmarshal([]byte(s), &m.ClassNames); err != nil {
			return nil, formatErr("classes: %v", err)
		}
		if len(m.ClassNames) == 0 {
			m.ClassNames = nil
		} else if m.NumClasses() != len(m.ClassNames) {
			return nil, formatErr("classes: %d names for %d outputs", len(m.ClassNames), m.NumClasses())
		}
	}
	if s, ok := meta["preprocessing"]; ok {
		m.Standardizer = new(data.Standardizer)
		if err := json.Unmarshal([]byte(s), m.Standardizer); err != nil {
			return nil, formatErr("preprocessing: %v", err)
		}
		if err := m.Standardizer.Check(m.input); err != nil {
			return nil, formatErr("preprocessing: %v", err)
		}
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
		if err := h.read(r, name, p.Value); err != nil {
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

// check returns an error unless the file holds a tensor called name of the
// given shape.
func (h *header) check(name string, shape []int) error {
	e, ok := h.tensors[name]
	if !ok {
		return formatErr("tensor %q is missing", name)
	}
	if !slices.Equal(e.Shape, shape) {
		return formatErr("tensor %q has shape %v, the architecture needs %v", name, e.Shape, shape)
	}
	return nil
}

// read copies the tensor called name into dst, checking its shape.
func (h *header) read(r io.ReaderAt, name string, dst *tensor.Tensor) error {
	if err := h.check(name, dst.Shape); err != nil {
		return err
	}
	if want := min(len(dst.Data)*4, 1<<16); len(h.buf) < want {
		h.buf = make([]byte, max(want, min(2*len(h.buf), 1<<16)))
	}
	off := h.start + h.tensors[name].DataOffsets[0]
	for i := 0; i < len(dst.Data); {
		n := min(len(h.buf)/4, len(dst.Data)-i)
		b := h.buf[:n*4]
		if _, err := r.ReadAt(b, off); err != nil {
			return formatErr("tensor %q: %v", name, err)
		}
		for j := range n {
			dst.Data[i+j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:]))
		}
		i += n
		off += int64(len(b))
	}
	return nil
}

// decodeArchitecture rebuilds the layers. A layer's weights can only come
// from the tensors named after it ("<layer>/..."), so before building a
// layer it checks that the weights the layer would allocate fit in those
// tensors: a header declaring a large architecture over missing or tiny
// tensors fails before anything large is allocated, and the weights of all
// layers together never exceed the data section. Building allocates only
// the weights (and their gradients); layers allocate their working buffers
// at the first Forward or Backward.
func decodeArchitecture(s string, h *header) (*Sequential, error) {
	if s == "" {
		return nil, formatErr("no architecture in the metadata")
	}
	m, err := parseArchitecture([]byte(s))
	if err != nil {
		return nil, formatErr("architecture: %v", err)
	}
	if err := checkInputShape(m.input); err != nil {
		return nil, formatErr("architecture: %v", err)
	}
	held := h.layerSizes()
	err = m.build(m.input, 0, func(l nn.Layer, in []int, built bool) error {
		if built {
			return checkBuilt(l, held)
		}
		if n, ok := paramEstimate(l, in); ok && n > held[l.Name()] {
			return fmt.Errorf("%s (%s) needs %d weights, the file holds %d for it", l.Name(), l.Type(), n, held[l.Name()])
		}
		return nil
	})
	if err != nil {
		return nil, formatErr("architecture: %v", err)
	}
	return m, nil
}

// layerSizes returns, per layer name, the number of values in the tensors
// named "<layer>/...".
func (h *header) layerSizes() map[string]int64 {
	held := map[string]int64{}
	for name, e := range h.tensors {
		if i := strings.IndexByte(name, '/'); i > 0 {
			held[name[:i]] += (e.DataOffsets[1] - e.DataOffsets[0]) / 4
		}
	}
	return held
}

// checkBuilt checks the weights a built layer allocated against the values
// the file holds for it. It catches what paramEstimate does not foresee.
func checkBuilt(l nn.Layer, held map[string]int64) error {
	var n int64
	for _, p := range l.Params() {
		n += int64(p.Value.Len())
	}
	if n > held[l.Name()] {
		return fmt.Errorf("%s (%s) has %d weights, the file holds %d for it", l.Name(), l.Type(), n, held[l.Name()])
	}
	return nil
}

// paramEstimate returns the number of weights l will allocate when built
// for input shape in, for the layer types that have weights, or false when
// it cannot tell (Build then refuses the layer, or checkBuilt catches it).
// Products saturate, so that absurd sizes compare as huge.
func paramEstimate(l nn.Layer, in []int) (int64, bool) {
	last := int64(in[len(in)-1])
	bias := func(noBias bool, n int64) int64 {
		if noBias {
			return 0
		}
		return n
	}
	switch l := l.(type) {
	case *nn.Conv2D:
		kh, kw, f := int64(l.KernelSize[0]), int64(l.KernelSize[1]), int64(l.Filters)
		if kh < 0 || kw < 0 || f < 0 {
			return 0, false
		}
		return addSat(mulSat(kh, kw, last, f), bias(l.NoBias, f)), true
	case *nn.Dense:
		u := int64(l.Units)
		if u < 0 {
			return 0, false
		}
		return addSat(mulSat(last, u), bias(l.NoBias, u)), true
	case *nn.BatchNormalization:
		return mulSat(4, last), true
	}
	return 0, false
}

// mulSat returns the product of non-negative factors, or math.MaxInt64 if
// it overflows.
func mulSat(factors ...int64) int64 {
	p := int64(1)
	for _, f := range factors {
		if f != 0 && p > math.MaxInt64/f {
			return math.MaxInt64
		}
		p *= f
	}
	return p
}

// addSat returns a+b for non-negative a and b, or math.MaxInt64 if it
// overflows.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func (m *Sequential) decodeTraining(r io.ReaderAt, h *header, s string, names map[*nn.Param]string, used map[string]bool) error {
	var tr training
	if err := json.Unmarshal([]byte(s), &tr); err != nil {
		return formatErr("optimizer: %v", err)
	}
	opt, err := optim.New(tr.Name, tr.Config)
	if err != nil {
		return formatErr("optimizer: %v", err)
	}
	if tr.Iterations < 0 {
		return formatErr("optimizer: iterations = %d", tr.Iterations)
	}
	slots := opt.SlotNames()
	var state []optim.ParamState
	for _, p := range m.params {
		if !p.Trainable || p.Grad == nil {
			continue
		}
		prefix := "optimizer/" + names[p] + "/"
		found := 0
		for _, slot := range slots {
			if _, ok := h.tensors[prefix+slot]; ok {
				found++
			}
		}
		if found == 0 {
			continue // not updated yet
		}
		for _, slot := range slots {
			if err := h.check(prefix+slot, p.Value.Shape); err != nil {
				return err
			}
		}
		ps := optim.ParamState{Param: p}
		for _, slot := range slots {
			t := tensor.New(p.Value.Shape...)
			if err := h.read(r, prefix+slot, t); err != nil {
				return err
			}
			used[prefix+slot] = true
			ps.Slots = append(ps.Slots, t)
		}
		state = append(state, ps)
	}
	if err := opt.SetState(tr.Iterations, state); err != nil {
		return formatErr("optimizer: %v", err)
	}
	loss, err := nn.LossFromConfig(tr.Loss)
	if err != nil {
		return formatErr("optimizer: loss: %v", err)
	}
	if tr.RNG != "" {
		b, err := base64.StdEncoding.DecodeString(tr.RNG)
		if err == nil {
			err = m.pcg.UnmarshalBinary(b)
		}
		if err != nil {
			return formatErr("optimizer: rng: %v", err)
		}
	}
	if err := m.Compile(opt, loss); err != nil {
		return formatErr("optimizer: %v", err)
	}
	return nil
}
