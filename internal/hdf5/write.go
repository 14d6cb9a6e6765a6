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
// of float32 and int64 datasets and fixed-length string attributes, the part of HDF5
// Keras's weight files use. [Builder.WriteTo] writes it with a superblock
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

// check reports an attribute of g, or of a group below, too large to write.
func (b *Builder) check(path string) error {
	for _, a := range b.attrs {
		n := 0
		for _, v := range a.values {
			n = max(n, len(v))
		}
		if n*max(len(a.values), 1)+len(a.name) > MaxAttr {
			return fmt.Errorf("hdf5: %s attribute %s: %d values of %d bytes, more than the %d an attribute holds", path, a.name, len(a.values), n, MaxAttr)
		}
	}
	for _, l := range b.links {
		if l.group != nil {
			if err := l.group.check(path + l.name + "/"); err != nil {
				return err
			}
		}
	}
	return nil
}

// object is one object header to write, and a dataset's values.
type object struct {
	b        *Builder // a group
	d        *link    // or a dataset
	addr     uint64
	size     int
	dataAddr uint64
}

// MaxAttr is the most bytes of an attribute's values the writer takes: an
// object header message holds 65,535 bytes (larger attributes need the
// dense storage of HDF5 1.8, which the writer has not).
const MaxAttr = 65535 - 512

// WriteTo writes the file to w. An attribute of more than [MaxAttr] bytes
// is an error.
func (b *Builder) WriteTo(w io.Writer) (int64, error) {
	if err := b.check("/"); err != nil {
		return 0, err
	}
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
		o.size = len(o.header(nil))
		o.addr = addr
		addr += uint64(o.size)
		if o.d != nil {
			datasets[o.d] = o
		}
	}
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
		out = append(out, o.header(addrOf)...)
	}
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
// object (nil while the sizes are measured).
func (o *object) header(addrOf func(*link) uint64) []byte {
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
		for _, a := range o.b.attrs {
			msg(msgAttribute, a.encode())
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

// encode is the attrOut message (version 3) of a string attrOut.
func (a attrOut) encode() []byte {
	size := 1
	for _, v := range a.values {
		size = max(size, len(v))
	}
	dt := []byte{0x13, 0x01, 0, 0} // version 1, class 3 (string); null-padded, ASCII
	dt = binary.LittleEndian.AppendUint32(dt, uint32(size))
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
		body = append(body, v...)
		body = append(body, make([]byte, size-len(v))...)
	}
	return body
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
