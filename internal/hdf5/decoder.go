package hdf5

// decoder reads little-endian fields from b. Reading past the end gives
// zeros and sets short, so that a structure is decoded first and its length
// checked once, at the end.
type decoder struct {
	b     []byte
	pos   int
	f     *File // sizes of addresses and lengths
	short bool
}

// take returns the next n bytes, or nil and short past the end.
func (d *decoder) take(n int) []byte {
	if n < 0 || n > len(d.b)-d.pos {
		d.short = true
		d.pos = len(d.b)
		return nil
	}
	b := d.b[d.pos : d.pos+n]
	d.pos += n
	return b
}

// skip moves past n bytes.
func (d *decoder) skip(n int) { d.take(n) }

// left returns the number of bytes not yet read.
func (d *decoder) left() int { return len(d.b) - d.pos }

// uint reads an unsigned integer of n bytes (at most 8).
func (d *decoder) uint(n int) uint64 {
	b := d.take(n)
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func (d *decoder) u8() uint8   { return uint8(d.uint(1)) }
func (d *decoder) u16() uint16 { return uint16(d.uint(2)) }
func (d *decoder) u32() uint32 { return uint32(d.uint(4)) }

// addr reads an address; all bits set is [undefined].
func (d *decoder) addr() uint64 {
	n := d.f.offsetSize
	v := d.uint(n)
	if n < 8 && v == 1<<(8*n)-1 {
		return undefined
	}
	return v
}

// length reads a length field.
func (d *decoder) length() uint64 { return d.uint(d.f.lengthSize) }
