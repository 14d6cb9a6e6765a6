package hdf5

import (
	"bytes"
	"fmt"
)

// B-tree node types of version 1 B-trees.
const (
	btreeGroup = 0 // children are symbol table nodes
	btreeChunk = 1 // children are chunks of a dataset
)

// walkBtree calls leaf for each entry of the leaves of the version 1 B-tree
// at addr whose keys are keySize bytes, in order. seen holds the nodes
// visited, so that a node reached twice is an error rather than a loop.
func (r *reader) walkBtree(addr uint64, nodeType uint8, keySize int, path string, seen map[uint64]bool, level int, leaf func(key []byte, child uint64) error) error {
	if err := visit(seen, addr, path, "B-tree node"); err != nil {
		return err
	}
	o := r.f.offsetSize
	p, err := r.read(addr, uint64(8+2*o), path, "B-tree node")
	if err != nil {
		return err
	}
	if !bytes.Equal(p[:4], []byte("TREE")) {
		return fmt.Errorf("hdf5: %s: B-tree node at address %d: signature %q, want \"TREE\"", path, addr, p[:4])
	}
	if p[4] != nodeType {
		return fmt.Errorf("hdf5: %s: B-tree node at address %d: type %d, want %d", path, addr, p[4], nodeType)
	}
	nodeLevel := int(p[5])
	if level >= 0 && nodeLevel != level {
		return fmt.Errorf("hdf5: %s: B-tree node at address %d: level %d, want %d", path, addr, nodeLevel, level)
	}
	entries := uint64(p[6]) | uint64(p[7])<<8
	n := entries*uint64(keySize+o) + uint64(keySize)
	body, err := r.read(addr+uint64(8+2*o), n, path, "B-tree node entries")
	if err != nil {
		return err
	}
	d := &decoder{b: body, f: r.f}
	for range entries {
		key := d.take(keySize)
		child := d.addr()
		if nodeLevel > 0 {
			err = r.walkBtree(child, nodeType, keySize, path, seen, nodeLevel-1, leaf)
		} else {
			err = leaf(key, child)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// symbolTable adds to g the members of its symbol table: a B-tree of symbol
// table nodes whose names are in a local heap.
func (r *reader) symbolTable(g *Group, m message) error {
	d := &decoder{b: m.data, f: r.f}
	tree, heapAddr := d.addr(), d.addr()
	if d.short {
		return fmt.Errorf("hdf5: %s: symbol table message of %d bytes, too short", g.path, len(m.data))
	}
	heap, err := r.localHeap(heapAddr, g.path)
	if err != nil {
		return err
	}
	seen := map[uint64]bool{}
	return r.walkBtree(tree, btreeGroup, r.f.lengthSize, g.path, seen, -1, func(_ []byte, snod uint64) error {
		if err := visit(seen, snod, g.path, "symbol table node"); err != nil {
			return err
		}
		return r.symbolNode(g, snod, heap)
	})
}

// symbolNode adds to g the entries of the symbol table node at addr.
func (r *reader) symbolNode(g *Group, addr uint64, heap []byte) error {
	p, err := r.read(addr, 8, g.path, "symbol table node")
	if err != nil {
		return err
	}
	if !bytes.Equal(p[:4], []byte("SNOD")) || p[4] != 1 {
		return fmt.Errorf("hdf5: %s: symbol table node at address %d: signature %q version %d, want \"SNOD\" version 1", g.path, addr, p[:4], p[4])
	}
	count := uint64(p[6]) | uint64(p[7])<<8
	entrySize := uint64(2*r.f.offsetSize + 24)
	body, err := r.read(addr+8, count*entrySize, g.path, "symbol table entries")
	if err != nil {
		return err
	}
	d := &decoder{b: body, f: r.f}
	for range count {
		nameOff, header := d.uint(r.f.offsetSize), d.addr()
		d.skip(24) // cache type, reserved, scratch pad
		name, err := heapString(heap, nameOff)
		if err != nil {
			return fmt.Errorf("hdf5: %s: symbol table node at address %d: %v", g.path, addr, err)
		}
		if err := g.add(name, header); err != nil {
			return err
		}
	}
	return nil
}

// localHeap returns the data segment of the local heap at addr.
func (r *reader) localHeap(addr uint64, path string) ([]byte, error) {
	l, o := r.f.lengthSize, r.f.offsetSize
	p, err := r.read(addr, uint64(8+2*l+o), path, "local heap")
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(p[:4], []byte("HEAP")) || p[4] != 0 {
		return nil, fmt.Errorf("hdf5: %s: local heap at address %d: signature %q version %d, want \"HEAP\" version 0", path, addr, p[:4], p[4])
	}
	d := &decoder{b: p, pos: 8, f: r.f}
	size := d.length()
	d.length() // free list
	data := d.addr()
	return r.read(data, size, path, "local heap data")
}

// heapString returns the NUL-terminated string at offset off of a heap.
func heapString(heap []byte, off uint64) (string, error) {
	if off >= uint64(len(heap)) {
		return "", fmt.Errorf("name at offset %d outside the local heap of %d bytes", off, len(heap))
	}
	s := heap[off:]
	end := bytes.IndexByte(s, 0)
	if end < 0 {
		return "", fmt.Errorf("name at offset %d of the local heap has no NUL terminator", off)
	}
	return string(s[:end]), nil
}
