package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/convnet-go/convnet/tensor"
)

// The safetensors container (https://github.com/huggingface/safetensors):
// an 8-byte header length, a JSON header holding string metadata and one
// entry per tensor, then the tensors' bytes. This file knows nothing of
// models: the schema of the metadata and the names of the tensors are
// file.go's. Only float32 tensors are read and written.

// maxHeader bounds the JSON header of a model file.
const maxHeader = 100 << 20

// FormatError reports a model file that cannot be read: truncated,
// corrupted, of a newer version, or not matching its own architecture.
type FormatError struct {
	Msg string
}

func (e *FormatError) Error() string { return "invalid model file: " + e.Msg }

// formatErr returns a FormatError of the message format and args make,
// its middle left out when it is longer than maxMsg bytes: a name or a key
// of a damaged header can be kilobytes long.
func formatErr(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if len(msg) > maxMsg {
		msg = fmt.Sprintf("%s … %s (%d bytes)", strings.ToValidUTF8(msg[:maxMsg*3/4], ""),
			strings.ToValidUTF8(msg[len(msg)-maxMsg/4:], ""), len(msg))
	}
	return &FormatError{Msg: msg}
}

// maxMsg bounds the length of a FormatError's message.
const maxMsg = 400

// tensorEntry is a tensor's description in the header.
type tensorEntry struct {
	Dtype       string  `json:"dtype"`
	Shape       []int   `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

type namedTensor struct {
	name string
	t    *tensor.Tensor
}

// writeContainer writes meta and the tensors, in order, to w.
func writeContainer(w io.Writer, meta map[string]string, tensors []namedTensor) error {
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

// encodeHeader writes the JSON header: metadata first, then the tensors in
// file order, padded with spaces to a multiple of 8 bytes (counting the
// 8-byte length before it), as Python's safetensors does.
func encodeHeader(meta map[string]string, tensors []namedTensor) ([]byte, error) {
	mb, err := json.Marshal(meta) // sorted keys
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(mb) + 100*(len(tensors)+1)) // one allocation for the usual header
	b.WriteString(`{"__metadata__":`)
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

// header is a parsed and checked container header.
type header struct {
	meta    map[string]string // nil if the header has no __metadata__
	tensors map[string]tensorEntry
	start   int64 // offset of the data section in the file
	dataLen int64
	buf     []byte // read's buffer, reused from tensor to tensor
}

// readHeader reads and checks the length, the JSON and the tensor offsets
// of the size bytes in r.
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
	src := &failedRead{r: io.NewSectionReader(r, 8, int64(n))}
	if err := h.parse(src); err != nil {
		if src.err != nil { // the reader's failure, not the file's
			return nil, fmt.Errorf("reading the header: %w", src.err)
		}
		return nil, err
	}
	return h, h.checkLayout()
}

// failedRead keeps the first error of r other than io.EOF.
type failedRead struct {
	r   io.Reader
	err error
}

func (f *failedRead) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != nil && err != io.EOF && f.err == nil {
		f.err = err
	}
	return n, err
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
