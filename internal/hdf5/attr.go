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
	r := g.f.newReader()
	for _, m := range g.attrs {
		a, err := parseAttribute(m, r.f)
		if err != nil {
			return "", false, fmt.Errorf("hdf5: %s: %v", g.path, err)
		}
		if a.name != name {
			continue
		}
		value, err := r.attrString(g.path, a)
		return value, true, err
	}
	if g.dense != undefined {
		return "", false, fmt.Errorf("hdf5: %s: attributes stored densely (fractal heap at address %d) are not supported", g.path, g.dense)
	}
	return "", false, nil
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

// attrString returns the value of a string attribute of one element of the
// object at path.
func (r *reader) attrString(path string, a attribute) (string, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("hdf5: %s: attribute %q: %s", path, a.name, fmt.Sprintf(format, args...))
	}
	t, err := parseDatatype(a.datatype)
	if err != nil {
		return "", fail("%v", err)
	}
	dims, null, err := parseDataspace(a.dataspace, r.f.lengthSize)
	if err != nil {
		return "", fail("%v", err)
	}
	one := !null
	for _, v := range dims {
		one = one && v == 1
	}
	if !one {
		return "", fail("shape %v, want a scalar or one element", dims)
	}
	switch {
	case t.class == classString:
		if uint64(len(a.data)) < uint64(t.size) {
			return "", fail("%d bytes of data, want %d for a %s", len(a.data), t.size, t)
		}
		s := a.data[:t.size]
		switch t.bits[0] & 0x0f {
		case 0: // NUL-terminated
			if i := bytes.IndexByte(s, 0); i >= 0 {
				s = s[:i]
			}
		case 1: // NUL-padded
			s = bytes.TrimRight(s, "\x00")
		case 2: // space-padded
			s = bytes.TrimRight(s, " ")
		}
		return string(s), nil
	case t.vstring:
		d := &decoder{b: a.data, f: r.f}
		length, heap, index := d.u32(), d.addr(), d.u32()
		if d.short {
			return "", fail("%d bytes of data, too short for a variable-length string", len(a.data))
		}
		if length == 0 {
			return "", nil
		}
		obj, err := r.globalObject(path, a.name, heap, index)
		if err != nil {
			return "", err
		}
		if uint64(length) > uint64(len(obj)) {
			return "", fail("string of %d bytes in a global heap object of %d", length, len(obj))
		}
		return string(obj[:length]), nil
	}
	return "", fail("datatype is %s, want a string", t)
}

// globalObject returns the object of the given index in the global heap
// collection at addr, for the attribute called name of the object at path.
func (r *reader) globalObject(path, name string, addr uint64, index uint32) ([]byte, error) {
	what := fmt.Sprintf("global heap collection of attribute %q", name)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("hdf5: %s: %s at address %d: %s", path, what, addr, fmt.Sprintf(format, args...))
	}
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
		obj := d.take(int(n))
		if uint32(id) == index {
			return obj, nil
		}
		d.skip(int((n+7)&^7 - n))
	}
	return nil, fail("no object %d", index)
}
