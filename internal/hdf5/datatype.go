package hdf5

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Datatype classes.
const (
	classFixed    = 0
	classFloat    = 1
	classString   = 3
	classVariable = 9
)

// datatype is a decoded datatype message.
type datatype struct {
	class   uint8
	bits    [3]byte // class bit fields
	size    uint32  // bytes of an element
	big     bool    // big-endian number
	ieee    bool    // float laid out as IEEE 754 binary16, 32 or 64
	vstring bool    // variable-length string
}

// parseDatatype decodes a datatype message.
func parseDatatype(b []byte) (datatype, error) {
	d := &decoder{b: b}
	var t datatype
	cv := d.u8()
	t.class = cv & 0x0f
	copy(t.bits[:], d.take(3))
	t.size = d.u32()
	if d.short {
		return t, fmt.Errorf("datatype message of %d bytes, want at least 8", len(b))
	}
	if version := cv >> 4; version < 1 || version > 4 {
		return t, fmt.Errorf("datatype message version %d, want 1 to 4", version)
	}
	switch t.class {
	case classFixed:
		t.big = t.bits[0]&0x01 != 0
	case classFloat:
		order := t.bits[0] & 0x41
		t.big = order == 0x01
		offset, precision := d.u16(), d.u16()
		expLoc, expSize, mantLoc, mantSize := d.u8(), d.u8(), d.u8(), d.u8()
		bias := d.u32()
		want, ok := ieeeLayouts[t.size]
		got := [6]uint32{uint32(precision), uint32(expLoc), uint32(expSize), uint32(mantLoc), uint32(mantSize), bias}
		t.ieee = !d.short && ok && (order == 0 || order == 1) && offset == 0 && got == want && uint32(t.bits[1]) == t.size*8-1
	case classVariable:
		t.vstring = t.bits[0]&0x0f == 1
	}
	return t, nil
}

// ieeeLayouts holds, by size, the precision, exponent location and size,
// mantissa location and size, and exponent bias of IEEE 754 binary formats.
var ieeeLayouts = map[uint32][6]uint32{
	2: {16, 10, 5, 0, 10, 15},
	4: {32, 23, 8, 0, 23, 127},
	8: {64, 52, 11, 0, 52, 1023},
}

// String names the type for errors.
func (t datatype) String() string {
	switch t.class {
	case classFixed:
		sign := "unsigned"
		if t.bits[0]&0x08 != 0 {
			sign = "signed"
		}
		return fmt.Sprintf("%d-bit %s integer", 8*uint64(t.size), sign)
	case classFloat:
		if !t.ieee {
			return fmt.Sprintf("%d-byte non-IEEE float", t.size)
		}
		order := "little-endian"
		if t.big {
			order = "big-endian"
		}
		return fmt.Sprintf("float%d %s", 8*t.size, order)
	case classString:
		return fmt.Sprintf("fixed-length string of %d bytes", t.size)
	case classVariable:
		if t.vstring {
			return "variable-length string"
		}
		return "variable-length sequence"
	}
	names := []string{2: "time", 4: "bitfield", 5: "opaque", 6: "compound", 7: "reference", 8: "enum", 10: "array"}
	if int(t.class) < len(names) && names[t.class] != "" {
		return names[t.class]
	}
	return fmt.Sprintf("datatype of class %d", t.class)
}

// isNumber reports whether the reader converts t to float32: IEEE floats
// and integers of 1, 2, 4 or 8 bytes.
func (t datatype) isNumber() bool {
	return t.class == classFloat && t.ieee || t.class == classFixed && (t.size == 1 || t.size == 2 || t.size == 4 || t.size == 8)
}

// signed reports whether an integer type is signed.
func (t datatype) signed() bool { return t.bits[0]&0x08 != 0 }

// toFloat32 converts the elements in raw, of type t, into out.
func (t datatype) toFloat32(raw []byte, out []float32) {
	var order binary.ByteOrder = binary.LittleEndian
	if t.big {
		order = binary.BigEndian
	}
	if t.class == classFixed {
		for i := range out {
			out[i] = t.integer(raw[int(t.size)*i:], order)
		}
		return
	}
	switch t.size {
	case 2:
		for i := range out {
			out[i] = half(order.Uint16(raw[2*i:]))
		}
	case 4:
		for i := range out {
			out[i] = math.Float32frombits(order.Uint32(raw[4*i:]))
		}
	case 8:
		for i := range out {
			out[i] = float32(math.Float64frombits(order.Uint64(raw[8*i:])))
		}
	}
}

// integer converts the integer at the start of b, of type t, to float32
// (rounded to nearest beyond 2²⁴).
func (t datatype) integer(b []byte, order binary.ByteOrder) float32 {
	var u uint64
	switch t.size {
	case 1:
		u = uint64(b[0])
	case 2:
		u = uint64(order.Uint16(b))
	case 4:
		u = uint64(order.Uint32(b))
	case 8:
		u = order.Uint64(b)
	}
	if shift := 64 - 8*t.size; t.signed() {
		return float32(int64(u<<shift) >> shift)
	}
	return float32(u)
}

// half converts an IEEE binary16 value to float32, exactly.
func half(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case 0: // zero or subnormal: mant × 2⁻²⁴
		v := float32(mant) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}
