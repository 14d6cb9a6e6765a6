package hdf5

import (
	"bytes"
	"fmt"
)

// attribute is a decoded attribute message, its parts still encoded.
type attribute struct {
	name      string
	datatype  []byte
	dataspace []byte
	data      []byte
}

// Attr returns the attribute called name as a string, when it is a string attribute
// (fixed-length or variable-length, scalar or a one-element array); ok is false when
// the group has no such attribute. An attribute that exists but cannot be read is an error.
func (g *Group) Attr(name string) (value string, ok bool, err error) {
	v, ok, err := g.attrStrings(name, true)
	if err != nil || !ok {
		return "", ok, err
	}
	return v[0], true, nil
}

// AttrStrings returns the attribute called name as a list of strings, when it
// is a string attribute of any shape, in row-major order: Keras 2's files
// keep their layer and weight names so. ok is false when the group has no
// such attribute.
func (g *Group) AttrStrings(name string) (values []string, ok bool, err error) {
	return g.attrStrings(name, false)
}

func (g *Group) attrStrings(name string, one bool) ([]string, bool, error) {
	r := g.f.newReader()
	for _, m := range g.attrs {
		a, err := parseAttribute(m, r.f)
		if err != nil {
			return nil, false, fmt.Errorf("hdf5: %s: %v", g.path, err)
		}
		if a.name != name {
			continue
		}
		values, err := r.attrStrings(g.path, a, one)
		return values, true, err
	}
	if g.dense.heap == undefined {
		return nil, false, nil
	}
	a, ok, err := r.denseAttr(g, name)
	if err != nil || !ok {
		return nil, ok, err
	}
	values, err := r.attrStrings(g.path, a, one)
	return values, true, err
}

// parseAttribute splits an attribute message into its parts.
func parseAttribute(m message, f *File) (attribute, error) {
	var a attribute
	if m.flags&flagShared != 0 {
		return a, fmt.Errorf("shared attribute message is not supported")
	}
	d := &decoder{b: m.data, f: f}
	version, flags := d.u8(), d.u8()
	nameSize, typeSize, spaceSize := int(d.u16()), int(d.u16()), int(d.u16())
	pad := func(n int) int { return n }
	switch version {
	case 1:
		pad = func(n int) int { return (n + 7) &^ 7 }
	case 2:
	case 3:
		d.skip(1) // character set of the name
	default:
		return a, fmt.Errorf("attribute message version %d, want 1 to 3", version)
	}
	if version > 1 && flags&3 != 0 {
		return a, fmt.Errorf("attribute with a shared datatype or dataspace is not supported")
	}
	name := d.take(pad(nameSize))
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	a.name = string(name)
	a.datatype = d.take(pad(typeSize))
	a.dataspace = d.take(pad(spaceSize))
	a.data = m.data[min(d.pos, len(m.data)):]
	if d.short {
		return a, fmt.Errorf("attribute message of %d bytes, too short for its name, datatype and dataspace of %d, %d and %d bytes", len(m.data), nameSize, typeSize, spaceSize)
	}
	return a, nil
}

// attrStrings returns the values of a string attribute of the object at
// path; with one, the attribute must hold one value.
func (r *reader) attrStrings(path string, a attribute, one bool) ([]string, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("hdf5: %s: attribute %q: %s", path, a.name, fmt.Sprintf(format, args...))
	}
	t, err := parseDatatype(a.datatype)
	if err != nil {
		return nil, fail("%v", err)
	}
	dims, null, err := parseDataspace(a.dataspace, r.f.lengthSize)
	if err != nil {
		return nil, fail("%v", err)
	}
	n := uint64(1) // saturating at 2⁴⁰: the data's size bounds it below
	for _, v := range dims {
		if v != 0 && n > (1<<40)/v {
			n = 1 << 40
		} else {
			n *= v
		}
	}
	if null {
		n = 0
	}
	if one && n != 1 {
		return nil, fail("shape %v, want a scalar or one element", dims)
	}
	size := uint64(t.size) // of an element
	if t.vstring {
		size = uint64(8 + r.f.offsetSize)
	}
	if n == 0 && !one {
		return []string{}, nil // Keras 2 writes an empty list as an empty float64 array
	}
	if t.class != classString && !t.vstring {
		return nil, fail("datatype is %s, want a string", t)
	}
	if size == 0 || n > uint64(len(a.data))/size {
		return nil, fail("%d bytes of data, want %d values of %d bytes (%s)", len(a.data), n, size, t)
	}
	out := make([]string, n)
	for i := range out {
		b := a.data[uint64(i)*size : uint64(i+1)*size]
		if t.class == classString {
			out[i] = fixedString(b, t.bits[0]&0x0f)
			continue
		}
		d := &decoder{b: b, f: r.f}
		length, heap, index := d.u32(), d.addr(), d.u32()
		if length == 0 {
			continue
		}
		obj, err := r.globalObject(path, a.name, heap, index)
		if err != nil {
			return nil, err
		}
		if uint64(length) > uint64(len(obj)) {
			return nil, fail("string of %d bytes in a global heap object of %d", length, len(obj))
		}
		out[i] = string(obj[:length])
	}
	return out, nil
}

// fixedString is a fixed-length string's value under its padding: 0
// NUL-terminated, 1 NUL-padded, 2 space-padded.
func fixedString(s []byte, padding byte) string {
	switch padding {
	case 0:
		if i := bytes.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
	case 1:
		s = bytes.TrimRight(s, "\x00")
	case 2:
		s = bytes.TrimRight(s, " ")
	}
	return string(s)
}

// globalObject returns the object of the given index in the global heap
// collection at addr, for the attribute called name of the object at path.
// Each collection is read once in a call.
func (r *reader) globalObject(path, name string, addr uint64, index uint32) ([]byte, error) {
	what := fmt.Sprintf("global heap collection of attribute %q", name)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("hdf5: %s: %s at address %d: %s", path, what, addr, fmt.Sprintf(format, args...))
	}
	objs, ok := r.heaps[addr]
	if !ok {
		l := r.f.lengthSize
		p, err := r.read(addr, uint64(8+l), path, what)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(p[:4], []byte("GCOL")) || p[4] != 1 {
			return nil, fail("signature %q version %d, want \"GCOL\" version 1", p[:4], p[4])
		}
		size := (&decoder{b: p, pos: 8, f: r.f}).length()
		if size < uint64(8+l) {
			return nil, fail("size %d, want at least %d", size, 8+l)
		}
		coll, err := r.read(addr, size, path, what)
		if err != nil {
			return nil, err
		}
		objs = map[uint32][]byte{}
		d := &decoder{b: coll, pos: 8 + l, f: r.f}
		for d.left() >= 8+l {
			id := d.u16()
			d.skip(6) // reference count, reserved
			n := d.length()
			if id == 0 {
				break // free space: the rest of the collection
			}
			if n > uint64(d.left()) {
				return nil, fail("object %d of %d bytes runs past the collection's end (%d bytes)", id, n, size)
			}
			if _, ok := objs[uint32(id)]; !ok {
				objs[uint32(id)] = d.take(int(n))
			}
			d.skip(int((n+7)&^7 - n))
		}
		if r.heaps == nil {
			r.heaps = map[uint64]map[uint32][]byte{}
		}
		r.heaps[addr] = objs
	}
	obj, ok := objs[index]
	if !ok {
		return nil, fail("no object %d", index)
	}
	return obj, nil
}
