package hdf5

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// denseAttrs locates the attributes of an object that HDF5 stores densely,
// once an object has more than it keeps in its header (8 by default, with
// libver="latest") or one too large for a header message (64 KiB, such as
// the JSON of a large Keras 2 model): their messages in a fractal heap,
// indexed by name in a v2 B-tree.
type denseAttrs struct {
	heap, names uint64 // undefined when the attributes are in the header
}

// denseAttr returns the densely stored attribute called name; ok is false
// when there is none.
func (r *reader) denseAttr(g *Group, name string) (a attribute, ok bool, err error) {
	h, err := r.openFheap(g.dense.heap, g.path)
	if err != nil {
		return a, false, err
	}
	t, err := r.openBtree2(g.dense.names, btree2AttrName, g.path)
	if err != nil {
		return a, false, err
	}
	if t.recordSize != 17 {
		return a, false, fmt.Errorf("hdf5: %s: attribute name index at address %d: records of %d bytes, want 17", g.path, t.addr, t.recordSize)
	}
	hash := lookup3([]byte(name))
	err = r.walkBtree2(t, g.path, func(rec []byte) error {
		// heap ID (8 bytes), message flags, creation order, hash of the name
		if binary.LittleEndian.Uint32(rec[13:]) != hash {
			return nil
		}
		if rec[8]&flagShared != 0 {
			return fmt.Errorf("hdf5: %s: attribute %q: shared attribute message is not supported", g.path, name)
		}
		data, err := r.heapObject(h, rec[:8], g.path)
		if err != nil {
			return err
		}
		if a, err = parseAttribute(message{typ: msgAttribute, data: data}, r.f); err != nil {
			return fmt.Errorf("hdf5: %s: %v", g.path, err)
		}
		if a.name != name {
			return nil // another name of the same hash
		}
		ok = true
		return errFound
	})
	if err == errFound {
		err = nil
	}
	return a, ok, err
}

// errFound stops a walk once it found what it looked for.
var errFound = errors.New("found")
