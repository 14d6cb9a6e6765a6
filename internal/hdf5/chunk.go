package hdf5

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"math/bits"
)

// chunker places the chunks of one dataset into its values.
type chunker struct {
	r       *reader
	ds      *Dataset
	out     []float32
	size    uint64   // bytes of a chunk, unfiltered
	cstride []uint64 // elements between steps of each dimension in a chunk
	dstride []uint64 // the same in the dataset
	placed  uint64   // elements placed so far
	work    uint64   // bytes of chunks unfiltered so far
	bufs    [2][]byte
	zr      io.ReadCloser
}

// readChunked reads the values of a chunked dataset; chunks never written
// are zeros.
func (r *reader) readChunked(ds *Dataset) ([]float32, error) {
	l := ds.layout
	rank := len(ds.shape)
	esize := uint64(ds.dtype.size)
	if rank == 0 {
		return nil, fmt.Errorf("hdf5: %s: chunked scalar dataset, want a simple dataspace", ds.path)
	}
	if l.chunk[rank] != esize {
		return nil, fmt.Errorf("hdf5: %s: chunks of elements of %d bytes, want %d for %s", ds.path, l.chunk[rank], esize, ds.dtype)
	}
	c := &chunker{r: r, ds: ds, out: make([]float32, ds.n), size: esize,
		cstride: make([]uint64, rank), dstride: make([]uint64, rank)}
	limit := r.f.maxValues()
	cs, dst := uint64(1), uint64(1)
	for i := rank - 1; i >= 0; i-- {
		c.cstride[i], c.dstride[i] = cs, dst
		hi, lo := bits.Mul64(c.size, l.chunk[i])
		if l.chunk[i] == 0 || hi != 0 || lo > limit {
			return nil, fmt.Errorf("hdf5: %s: chunk dimensions %v: want each above 0 and chunks of at most %d bytes", ds.path, l.chunk[:rank], limit)
		}
		c.size = lo
		cs *= l.chunk[i]
		dst *= uint64(ds.shape[i])
	}
	for _, f := range ds.filters {
		if f.id != filterDeflate && f.id != filterShuffle {
			return nil, fmt.Errorf("hdf5: %s: %s is not supported, want deflate or shuffle", ds.path, f)
		}
	}
	if l.addr == undefined || ds.n == 0 {
		return c.out, nil
	}
	if l.index == indexSingle {
		size := c.size
		if len(ds.filters) > 0 {
			size = l.size
		}
		return c.out, c.place(make([]uint64, rank+1), l.addr, size, l.mask)
	}
	keySize := 8 + 8*(rank+1)
	err := r.walkBtree(l.addr, btreeChunk, keySize, ds.path, map[uint64]bool{}, -1, func(key []byte, addr uint64) error {
		d := &decoder{b: key}
		size, mask := d.u32(), d.u32()
		offsets := make([]uint64, rank+1)
		for i := range offsets {
			offsets[i] = d.uint(8)
		}
		return c.place(offsets, addr, uint64(size), mask)
	})
	return c.out, err
}

// place reads the chunk at addr, of size bytes in the file and whose first
// element is at offsets, and converts the part inside the dataset.
func (c *chunker) place(offsets []uint64, addr, size uint64, mask uint32) error {
	ds, rank := c.ds, len(c.ds.shape)
	chunk := ds.layout.chunk
	ext := make([]uint64, rank)
	count := uint64(1)
	for i := range rank {
		o := offsets[i]
		if o%chunk[i] != 0 || o >= uint64(ds.shape[i]) {
			return fmt.Errorf("hdf5: %s: chunk at address %d has offsets %v, want multiples of %v inside %v", ds.path, addr, offsets[:rank], chunk[:rank], ds.shape)
		}
		ext[i] = min(chunk[i], uint64(ds.shape[i])-o)
		count *= ext[i]
	}
	c.placed += count
	c.work += c.size
	if c.placed > ds.n || c.work > 4*c.r.f.maxValues() {
		return fmt.Errorf("hdf5: %s: chunks overlap: %d elements placed in a dataset of %d", ds.path, c.placed, ds.n)
	}
	data, err := c.r.read(addr, size, ds.path, "chunk")
	if err != nil {
		return err
	}
	if data, err = c.unfilter(data, mask, addr); err != nil {
		return err
	}
	if uint64(len(data)) < c.size {
		return fmt.Errorf("hdf5: %s: chunk at address %d holds %d bytes, want %d", ds.path, addr, len(data), c.size)
	}
	esize := uint64(ds.dtype.size)
	run := ext[rank-1]
	idx := make([]uint64, rank)
	for {
		src, dst := uint64(0), uint64(0)
		for i := range rank {
			src += idx[i] * c.cstride[i]
			dst += (offsets[i] + idx[i]) * c.dstride[i]
		}
		ds.dtype.toFloat32(data[src*esize:(src+run)*esize], c.out[dst:dst+run])
		i := rank - 2
		for ; i >= 0; i-- {
			if idx[i]++; idx[i] < ext[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return nil
		}
	}
}

// unfilter undoes the filters of the pipeline not masked out, last first.
func (c *chunker) unfilter(data []byte, mask uint32, addr uint64) ([]byte, error) {
	fs := c.ds.filters
	for i := len(fs) - 1; i >= 0; i-- {
		if mask&(1<<i) != 0 {
			continue
		}
		out := c.spare(data)
		switch fs[i].id {
		case filterDeflate:
			if err := c.inflate(data, out); err != nil {
				return nil, fmt.Errorf("hdf5: %s: chunk at address %d: %v", c.ds.path, addr, err)
			}
		case filterShuffle:
			out = unshuffle(data[:min(uint64(len(data)), c.size)], out, int(c.ds.dtype.size))
		}
		data = out
	}
	return data, nil
}

// spare returns a buffer of a chunk's size that is not data.
func (c *chunker) spare(data []byte) []byte {
	for i, b := range c.bufs {
		if b == nil {
			c.bufs[i] = make([]byte, c.size)
			return c.bufs[i]
		}
		if len(data) == 0 || &b[0] != &data[0] {
			return b
		}
	}
	return nil // unreachable: data is at most one of the two
}

// inflate decompresses the zlib stream in data into out, filling it.
func (c *chunker) inflate(data, out []byte) error {
	var err error
	if c.zr == nil {
		c.zr, err = zlib.NewReader(bytes.NewReader(data))
	} else {
		err = c.zr.(zlib.Resetter).Reset(bytes.NewReader(data), nil)
	}
	if err != nil {
		return fmt.Errorf("deflate: %v", err)
	}
	if _, err := io.ReadFull(c.zr, out); err != nil {
		return fmt.Errorf("deflate: %v, want %d bytes", err, len(out))
	}
	return nil
}

// unshuffle undoes the shuffle filter: the bytes of elements of size bytes
// were grouped by their position in the element.
func unshuffle(src, dst []byte, size int) []byte {
	dst = dst[:len(src)]
	n := len(src) / size
	for b := range size {
		for i := range n {
			dst[i*size+b] = src[b*n+i]
		}
	}
	copy(dst[n*size:], src[n*size:])
	return dst
}
