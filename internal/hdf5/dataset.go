package hdf5

import (
	"fmt"
	"math"
	"math/bits"
)

// Dataset is a dataset of the file.
type Dataset struct {
	f       *File
	path    string
	shape   []int
	n       uint64 // number of elements
	null    bool   // null dataspace: no elements at all
	dtype   datatype
	layout  layout
	filters []filter
}

// Dataset returns the member dataset at the relative path name.
func (g *Group) Dataset(name string) (*Dataset, error) {
	r := g.f.newReader()
	path, msgs, err := r.member(g, name)
	if err != nil {
		return nil, err
	}
	if find(msgs, msgLayout) == nil {
		return nil, fmt.Errorf("hdf5: %s: is a %s, not a dataset", path, kind(msgs))
	}
	return r.datasetFrom(path, msgs)
}

// Path is the dataset's path from the root.
func (d *Dataset) Path() string { return d.path }

// Shape is the dataset's dimensions (empty for a scalar).
func (d *Dataset) Shape() []int { return append([]int(nil), d.shape...) }

// datasetFrom decodes the dataset at path from its header messages.
func (r *reader) datasetFrom(path string, msgs []message) (*Dataset, error) {
	ds := &Dataset{f: r.f, path: path}
	if find(msgs, msgExternal) != nil {
		return nil, fmt.Errorf("hdf5: %s: data in external files is not supported", path)
	}
	need := map[uint16]string{msgDataspace: "dataspace", msgDatatype: "datatype", msgLayout: "data layout"}
	for _, typ := range []uint16{msgDataspace, msgDatatype, msgLayout} {
		m := find(msgs, typ)
		if m == nil {
			return nil, fmt.Errorf("hdf5: %s: no %s message", path, need[typ])
		}
		if m.flags&flagShared != 0 {
			return nil, fmt.Errorf("hdf5: %s: shared %s message is not supported", path, need[typ])
		}
	}
	dims, null, err := parseDataspace(find(msgs, msgDataspace).data, r.f.lengthSize)
	if err != nil {
		return nil, fmt.Errorf("hdf5: %s: %v", path, err)
	}
	ds.null = null
	ds.n = 1
	if null {
		ds.n = 0
	}
	for _, v := range dims {
		hi, lo := bits.Mul64(ds.n, v)
		if hi != 0 || v > math.MaxInt32 || lo > math.MaxInt64/8 {
			return nil, fmt.Errorf("hdf5: %s: dimensions %v overflow", path, dims)
		}
		ds.n = lo
		ds.shape = append(ds.shape, int(v))
	}
	if ds.dtype, err = parseDatatype(find(msgs, msgDatatype).data); err != nil {
		return nil, fmt.Errorf("hdf5: %s: %v", path, err)
	}
	if ds.layout, err = parseLayout(find(msgs, msgLayout).data, r.f, len(dims)); err != nil {
		return nil, fmt.Errorf("hdf5: %s: %v", path, err)
	}
	if m := find(msgs, msgFilters); m != nil {
		if ds.filters, err = parseFilters(m.data); err != nil {
			return nil, fmt.Errorf("hdf5: %s: %v", path, err)
		}
	}
	return ds, nil
}

// parseDataspace decodes a dataspace message: its dimensions, and whether
// it is null (no elements).
func parseDataspace(b []byte, lengthSize int) ([]uint64, bool, error) {
	d := &decoder{b: b}
	version, rank, flags := d.u8(), int(d.u8()), d.u8()
	null := false
	switch version {
	case 1:
		d.skip(5)
	case 2:
		null = d.u8() == 2
	default:
		return nil, false, fmt.Errorf("dataspace version %d, want 1 or 2", version)
	}
	if rank > 32 {
		return nil, false, fmt.Errorf("dataspace of rank %d, want at most 32", rank)
	}
	dims := make([]uint64, rank)
	for i := range dims {
		dims[i] = d.uint(lengthSize)
	}
	if flags&1 != 0 {
		d.skip(rank * lengthSize) // maximum dimensions
	}
	if d.short {
		return nil, false, fmt.Errorf("dataspace message of %d bytes, too short for rank %d", len(b), rank)
	}
	return dims, null, nil
}

// maxValues is the most memory, in bytes, that the values of one dataset
// may take when the file does not hold them all (unallocated or compressed
// data): 8 times the file size, plus 128 KiB.
func (f *File) maxValues() uint64 { return 8*uint64(min(f.size, math.MaxInt64/64)) + 128<<10 }

// Float32s reads the whole dataset as float32 values in row-major order, converting
// from IEEE float16, float32 or float64 or from integers of 8 to 64 bits (such as
// the count of Keras's Normalization), little- or big-endian. Other types are an
// error naming the dataset and its type.
func (d *Dataset) Float32s() ([]float32, error) {
	if !d.dtype.isNumber() {
		return nil, fmt.Errorf("hdf5: %s: datatype is %s, want a float or an integer", d.path, d.dtype)
	}
	if 4*d.n > d.f.maxValues() {
		return nil, fmt.Errorf("hdf5: %s: %d values of shape %v would take %d bytes, more than the limit of %d for a file of %d bytes", d.path, d.n, d.shape, 4*d.n, d.f.maxValues(), d.f.size)
	}
	nbytes := d.n * uint64(d.dtype.size)
	r := d.f.newReader()
	var raw []byte
	var err error
	l := d.layout
	switch l.class {
	case layoutCompact:
		if uint64(len(l.compact)) < nbytes {
			return nil, fmt.Errorf("hdf5: %s: compact data of %d bytes, want %d for shape %v of %s", d.path, len(l.compact), nbytes, d.shape, d.dtype)
		}
		raw = l.compact
	case layoutContiguous:
		if l.addr == undefined { // never written: zeros
			return make([]float32, d.n), nil
		}
		if l.size < nbytes {
			return nil, fmt.Errorf("hdf5: %s: contiguous storage of %d bytes, want %d for shape %v of %s", d.path, l.size, nbytes, d.shape, d.dtype)
		}
		raw, err = r.read(l.addr, nbytes, d.path, "data")
	case layoutChunked:
		return r.readChunked(d)
	}
	if err != nil {
		return nil, err
	}
	out := make([]float32, d.n)
	d.dtype.toFloat32(raw, out)
	return out, nil
}
