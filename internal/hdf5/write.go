package hdf5

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"strings"
)

// NewFile returns the root group of an HDF5 file to build in memory: groups
// of float32 and int64 datasets and string attributes, the part of HDF5
// Keras's model files use. Strings are fixed-length, as h5py writes bytes;
// an attribute too large for an object header message (more than
// [MaxFixed] bytes) is written as variable-length strings in a global
// heap, as h5py writes a str (Keras 2's model_config of a large model). [Builder.WriteTo] writes it with a superblock
// of version 2, object headers of version 2 (Jenkins's lookup3 checksums),
// groups of link messages (what h5py writes with libver="latest") and
// contiguous datasets, little-endian; every HDF5 library since 1.8 reads it.
func NewFile() *Builder { return &Builder{} }

// Builder is a group of a file being built.
type Builder struct {
	links []link
	attrs []attrOut
}

type link struct {
	name  string
	group *Builder
	shape []int
	dtype []byte // a dataset's datatype message
	raw   []byte // and its values, little-endian
}

type attrOut struct {
	name   string
	values []string
	scalar bool
}

// MaxFixed is the most bytes of fixed-length strings an attribute is
// written with: an object header message holds 65,535 bytes.
const MaxFixed = 65535 - 512

// width is the bytes of each of a's values as fixed-length strings: the
// longest, at least 1.
func (a attrOut) width() int {
	n := 1
	for _, v := range a.values {
		n = max(n, len(v))
	}
	return n
}

// fixedSize is the bytes of a's values as fixed-length strings.
func (a attrOut) fixedSize() int { return a.width() * max(len(a.values), 1) }

// variable reports whether a is written as variable-length strings.
func (a attrOut) variable() bool { return a.fixedSize()+len(a.name) > MaxFixed }

// Group adds the subgroup name and returns it. It panics if name is empty,
// holds a slash or is taken.
func (b *Builder) Group(name string) *Builder {
	g := &Builder{}
	b.add(link{name: name, group: g})
	return g
}

// Float32 adds the dataset name of the given shape (nil: a scalar), whose
// values data holds in row-major order. It panics if the shape does not
// match the values, or as Group does for the name.
func (b *Builder) Float32(name string, shape []int, data []float32) {
	raw := make([]byte, 0, 4*len(data))
	for _, v := range data {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	b.dataset(name, shape, len(data), float32Type(), raw)
}

// Int64 adds the dataset name of signed 64-bit integers, as Float32.
func (b *Builder) Int64(name string, shape []int, data []int64) {
	raw := make([]byte, 0, 8*len(data))
	for _, v := range data {
		raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
	}
	dt := []byte{0x10, 0x08, 0, 0} // version 1, class 0 (fixed-point); little-endian, signed
	dt = binary.LittleEndian.AppendUint32(dt, 8)
	dt = binary.LittleEndian.AppendUint16(dt, 0)  // bit offset
	dt = binary.LittleEndian.AppendUint16(dt, 64) // precision
	b.dataset(name, shape, len(data), dt, raw)
}

func (b *Builder) dataset(name string, shape []int, values int, dtype, raw []byte) {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n != values {
		panic(fmt.Sprintf("hdf5: dataset %s of shape %v with %d values", name, shape, values))
	}
	b.add(link{name: name, shape: slices.Clone(shape), dtype: dtype, raw: raw})
}

func (b *Builder) add(l link) {
	if l.name == "" || strings.Contains(l.name, "/") || slices.ContainsFunc(b.links, func(o link) bool { return o.name == l.name }) {
		panic(fmt.Sprintf("hdf5: link name %q: empty, with a slash or taken", l.name))
	}
	b.links = append(b.links, l)
}

// Attr sets the scalar string attrOut name, as h5py writes a bytes
// value: fixed length, null-padded.
func (b *Builder) Attr(name, value string) {
	b.attrs = append(b.attrs, attrOut{name, []string{value}, true})
}

// AttrStrings sets the attrOut name to a one-dimensional array of
// fixed-length strings, as h5py writes a list of bytes (numpy's "S" type,
// as long as the longest).
func (b *Builder) AttrStrings(name string, values []string) {
	b.attrs = append(b.attrs, attrOut{name, slices.Clone(values), false})
}

// The message types the writer adds to the reader's (header.go), and the
// size of a version 2 superblock.
const (
	msgFillValue   = 0x0005
	msgGroupInfo   = 0x000A
	superblockSize = 48
)

// object is one object header to write, and a dataset's values.
type object struct {
	b        *Builder // a group
	d        *link    // or a dataset
	addr     uint64
	size     int
	dataAddr uint64
}

// WriteTo writes the file to w.
func (b *Builder) WriteTo(w io.Writer) (int64, error) {
	var objs []*object
	var walk func(b *Builder) *object
	index := map[*Builder]*object{}
	walk = func(b *Builder) *object {
		o := &object{b: b}
		index[b] = o
		objs = append(objs, o)
		for i := range b.links {
			if l := &b.links[i]; l.group != nil {
				walk(l.group)
			} else {
				objs = append(objs, &object{d: l})
			}
		}
		return o
	}
	walk(b)
	datasets := map[*link]*object{}
	// The headers' sizes do not depend on the addresses: lay them out
	// after the superblock, then the datasets' values.
	addr := uint64(superblockSize)
	for _, o := range objs {
		o.size = len(o.header(nil, nil))
		o.addr = addr
		addr += uint64(o.size)
		if o.d != nil {
			datasets[o.d] = o
		}
	}
	heap, err := newGlobalHeap(addr, objs)
	if err != nil {
		return 0, err
	}
	addr += uint64(len(heap.data))
	for _, o := range objs {
		if o.d != nil {
			o.dataAddr = addr
			addr += uint64(len(o.d.raw))
		}
	}
	out := make([]byte, 0, addr)
	out = append(out, 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n', 2, 8, 8, 0)
	out = le64(out, 0)         // base address
	out = le64(out, undefined) // superblock extension
	out = le64(out, addr)      // end of file
	out = le64(out, objs[0].addr)
	out = binary.LittleEndian.AppendUint32(out, lookup3(out))
	addrOf := func(l *link) uint64 {
		if l.group != nil {
			return index[l.group].addr
		}
		return datasets[l].addr
	}
	for _, o := range objs {
		out = append(out, o.header(addrOf, heap)...)
	}
	out = append(out, heap.data...)
	for _, o := range objs {
		if o.d != nil {
			out = append(out, o.d.raw...)
		}
	}
	if uint64(len(out)) != addr {
		panic(fmt.Sprintf("hdf5: wrote %d bytes, laid out %d", len(out), addr))
	}
	n, err := w.Write(out)
	return int64(n), err
}

// header encodes o's object header; addrOf gives the address of a link's
// object and heap holds the variable-length strings (both nil while the
// sizes are measured).
func (o *object) header(addrOf func(*link) uint64, heap *globalHeap) []byte {
	var msgs []byte
	msg := func(typ uint16, body []byte) {
		msgs = append(msgs, byte(typ))
		msgs = binary.LittleEndian.AppendUint16(msgs, uint16(len(body)))
		msgs = append(msgs, 0) // flags
		msgs = append(msgs, body...)
	}
	if o.b != nil {
		msg(msgLinkInfo, le64(le64([]byte{0, 0}, undefined), undefined)) // compact: no fractal heap, no name index
		msg(msgGroupInfo, []byte{0, 0})
		for i := range o.b.links {
			l := &o.b.links[i]
			body := []byte{1, 0x10, 1} // version, flags (a character set follows), UTF-8
			if len(l.name) > 255 {
				body[1] |= 1 // the name's length in 2 bytes
				body = binary.LittleEndian.AppendUint16(body, uint16(len(l.name)))
			} else {
				body = append(body, byte(len(l.name)))
			}
			body = append(body, l.name...)
			var a uint64
			if addrOf != nil {
				a = addrOf(l)
			}
			msg(msgLink, le64(body, a))
		}
		for i, a := range o.b.attrs {
			var addr uint64
			var index uint32
			if heap != nil {
				addr, index = heap.addr, heap.first[attrKey{o.b, i}]
			}
			msg(msgAttribute, a.encode(addr, index))
		}
	} else {
		msg(msgDataspace, dataspace(o.d.shape))
		msg(msgDatatype, o.d.dtype)
		msg(msgFillValue, []byte{3, 0x0a}) // version 3; allocation late, fill written if set; none set
		msg(msgLayout, le64(le64([]byte{3, 1}, o.dataAddr), uint64(len(o.d.raw))))
	}
	h := []byte("OHDR")
	h = append(h, 2, 2) // version, flags: the size of chunk 0 in 4 bytes
	h = binary.LittleEndian.AppendUint32(h, uint32(len(msgs)))
	h = append(h, msgs...)
	return binary.LittleEndian.AppendUint32(h, lookup3(h))
}

// encode is the attribute message (version 3) of a string attribute; the
// values of a variable-length one are the objects of the global heap
// collection at heapAddr from index on (zeros: measure only).
func (a attrOut) encode(heapAddr uint64, index uint32) []byte {
	size := a.width()
	dt := []byte{0x13, 0x01, 0, 0} // version 1, class 3 (string); null-padded, ASCII
	dt = binary.LittleEndian.AppendUint32(dt, uint32(size))
	variable := a.variable()
	if variable {
		size = 16
		dt = []byte{0x19, 0x01, 0x01, 0} // version 1, class 9 (variable-length); a string, null-terminated, UTF-8
		dt = binary.LittleEndian.AppendUint32(dt, uint32(size))
		dt = append(dt, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 8, 0) // of unsigned bytes
	}
	var ds []byte
	if a.scalar {
		ds = dataspace(nil)
	} else {
		ds = dataspace([]int{len(a.values)})
	}
	body := []byte{3, 0}
	body = binary.LittleEndian.AppendUint16(body, uint16(len(a.name)+1))
	body = binary.LittleEndian.AppendUint16(body, uint16(len(dt)))
	body = binary.LittleEndian.AppendUint16(body, uint16(len(ds)))
	body = append(body, 1) // the name in UTF-8
	body = append(append(body, a.name...), 0)
	body = append(append(body, dt...), ds...)
	for _, v := range a.values {
		if variable {
			body = binary.LittleEndian.AppendUint32(body, uint32(len(v)))
			body = binary.LittleEndian.AppendUint32(le64(body, heapAddr), index)
			index++
			continue
		}
		body = append(body, v...)
		body = append(body, make([]byte, size-len(v))...)
	}
	return body
}

// globalHeap is the global heap collection of a file's variable-length strings.
type globalHeap struct {
	addr  uint64
	data  []byte
	first map[attrKey]uint32 // index of the first object of each variable-length attribute
}

// attrKey names the i-th attribute of a group.
type attrKey struct {
	b *Builder
	i int
}

// newGlobalHeap lays out at addr the collection of the variable-length
// attributes of the groups among objs, as HDF5 does: a header, each string
// an object of its own (a 16-byte header, the bytes padded to 8), the
// collection 4 KiB at least, the space left over the free-space object.
func newGlobalHeap(addr uint64, objs []*object) (*globalHeap, error) {
	h := &globalHeap{addr: addr, first: map[attrKey]uint32{}}
	var body []byte
	n := 0
	for _, o := range objs {
		if o.b == nil {
			continue
		}
		for i, a := range o.b.attrs {
			if !a.variable() {
				continue
			}
			h.first[attrKey{o.b, i}] = uint32(n + 1)
			for _, v := range a.values {
				n++
				if n > math.MaxUint16 {
					return nil, fmt.Errorf("hdf5: attribute %s: more than %d variable-length strings in the file", a.name, math.MaxUint16)
				}
				body = binary.LittleEndian.AppendUint16(body, uint16(n))
				body = append(body, 0, 0, 0, 0, 0, 0) // reference count, reserved
				body = le64(body, uint64(len(v)))
				body = append(body, v...)
				body = append(body, make([]byte, -len(v)&7)...)
			}
		}
	}
	if n == 0 {
		return h, nil
	}
	size := max(16+len(body), 4096)
	h.data = le64([]byte{'G', 'C', 'O', 'L', 1, 0, 0, 0}, uint64(size))
	h.data = append(h.data, body...)
	if free := size - len(h.data); free >= 16 {
		h.data = le64(append(h.data, make([]byte, 8)...), uint64(free)) // object 0: the free space
	}
	h.data = append(h.data, make([]byte, size-len(h.data))...)
	return h, nil
}

// dataspace is the dataspace message (version 2) of a shape; nil is a scalar.
func dataspace(shape []int) []byte {
	if shape == nil {
		return []byte{2, 0, 0, 0}
	}
	b := []byte{2, byte(len(shape)), 0, 1}
	for _, d := range shape {
		b = le64(b, uint64(d))
	}
	return b
}

// float32Type is the datatype message of IEEE little-endian float32.
func float32Type() []byte {
	b := []byte{0x11, 0x20, 31, 0} // version 1, class 1 (float); mantissa normalized, the sign at bit 31
	b = binary.LittleEndian.AppendUint32(b, 4)
	b = binary.LittleEndian.AppendUint16(b, 0)  // bit offset
	b = binary.LittleEndian.AppendUint16(b, 32) // precision
	b = append(b, 23, 8, 0, 23)                 // exponent at 23, 8 bits; mantissa at 0, 23 bits
	return binary.LittleEndian.AppendUint32(b, 127)
}

func le64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }

// lookup3 is Bob Jenkins's hashlittle with an initial value of 0, the
// checksum of HDF5's version 2 metadata (H5_checksum_lookup3).
func lookup3(k []byte) uint32 {
	a := 0xdeadbeef + uint32(len(k))
	b, c := a, a
	word := func(p []byte) uint32 {
		var w uint32
		for i, v := range p {
			w |= uint32(v) << (8 * i)
		}
		return w
	}
	for len(k) > 12 {
		a, b, c = a+word(k[0:4]), b+word(k[4:8]), c+word(k[8:12])
		// lookup3's mix.
		a, c = (a-c)^bits.RotateLeft32(c, 4), c+b
		b, a = (b-a)^bits.RotateLeft32(a, 6), a+c
		c, b = (c-b)^bits.RotateLeft32(b, 8), b+a
		a, c = (a-c)^bits.RotateLeft32(c, 16), c+b
		b, a = (b-a)^bits.RotateLeft32(a, 19), a+c
		c, b = (c-b)^bits.RotateLeft32(b, 4), b+a
		k = k[12:]
	}
	if len(k) == 0 {
		return c
	}
	a += word(k[:min(len(k), 4)])
	b += word(k[min(len(k), 4):min(len(k), 8)])
	c += word(k[min(len(k), 8):])
	// lookup3's final.
	c = (c ^ b) - bits.RotateLeft32(b, 14)
	a = (a ^ c) - bits.RotateLeft32(c, 11)
	b = (b ^ a) - bits.RotateLeft32(a, 25)
	c = (c ^ b) - bits.RotateLeft32(b, 16)
	a = (a ^ c) - bits.RotateLeft32(c, 4)
	b = (b ^ a) - bits.RotateLeft32(a, 14)
	c = (c ^ b) - bits.RotateLeft32(b, 24)
	return c
}
