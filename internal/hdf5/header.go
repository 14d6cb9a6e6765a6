package hdf5

import (
	"bytes"
	"fmt"
)

// Types of the header messages the reader uses.
const (
	msgDataspace    = 0x0001
	msgLinkInfo     = 0x0002
	msgDatatype     = 0x0003
	msgLink         = 0x0006
	msgExternal     = 0x0007
	msgLayout       = 0x0008
	msgFilters      = 0x000B
	msgAttribute    = 0x000C
	msgContinuation = 0x0010
	msgSymbolTable  = 0x0011
	msgAttrInfo     = 0x0015
)

// flagShared marks a message whose body is a reference to a shared message.
const flagShared = 0x02

// message is one message of an object header.
type message struct {
	typ   uint16
	flags uint8
	data  []byte
}

// block is a run of messages of an object header: the first, or one that a
// continuation message points to.
type block struct {
	addr, size uint64
}

// headerOrder is the flag of version 2 object headers whose messages carry
// their creation order.
const headerOrder = 0x04

// header reads the object header at addr, of the object at path, and
// returns its messages, those of its continuation blocks included.
func (r *reader) header(addr uint64, path string) ([]message, error) {
	start, err := r.read(addr, 4, path, "object header")
	if err != nil {
		return nil, err
	}
	v2 := bytes.Equal(start, []byte("OHDR"))
	first, flags, err := r.firstBlock(addr, v2, start[0], path)
	if err != nil {
		return nil, err
	}
	var msgs []message
	seen := map[uint64]bool{}
	queue := []block{first}
	for len(queue) > 0 {
		b := queue[0]
		queue = queue[1:]
		if err := visit(seen, b.addr, path, "object header block"); err != nil {
			return nil, err
		}
		if len(seen) > maxDepth {
			return nil, fmt.Errorf("hdf5: %s: object header at address %d has more than %d blocks", path, addr, maxDepth)
		}
		data, err := r.read(b.addr, b.size, path, "object header block")
		if err != nil {
			return nil, err
		}
		if v2 && b.addr != first.addr {
			if len(data) < 8 || !bytes.Equal(data[:4], []byte("OCHK")) {
				return nil, fmt.Errorf("hdf5: %s: continuation block at address %d: want signature OCHK", path, b.addr)
			}
			data = data[4 : len(data)-4]
		} else if v2 {
			data = data[:len(data)-4] // checksum
		}
		more, err := r.messages(data, v2, flags&headerOrder != 0, path, b.addr, &msgs)
		if err != nil {
			return nil, err
		}
		queue = append(queue, more...)
	}
	return msgs, nil
}

// firstBlock decodes the prefix of the object header at addr and returns
// where its first block of messages lies, and its flags. version is the
// header's first byte.
func (r *reader) firstBlock(addr uint64, v2 bool, version byte, path string) (block, uint8, error) {
	if !v2 {
		if version != 1 {
			return block{}, 0, fmt.Errorf("hdf5: %s: object header at address %d: version %d, want 1 or signature OHDR", path, addr, version)
		}
		p, err := r.read(addr, 16, path, "object header")
		if err != nil {
			return block{}, 0, err
		}
		d := &decoder{b: p, pos: 8, f: r.f}
		return block{addr + 16, uint64(d.u32())}, 0, nil
	}
	p, err := r.read(addr, 6, path, "object header")
	if err != nil {
		return block{}, 0, err
	}
	if p[4] != 2 {
		return block{}, 0, fmt.Errorf("hdf5: %s: object header at address %d: version %d, want 2", path, addr, p[4])
	}
	flags := p[5]
	n := uint64(6)
	if flags&0x20 != 0 {
		n += 16 // times
	}
	if flags&0x10 != 0 {
		n += 4 // attribute storage phase change
	}
	sizeBytes := 1 << (flags & 3)
	p, err = r.read(addr, n+uint64(sizeBytes), path, "object header")
	if err != nil {
		return block{}, 0, err
	}
	d := &decoder{b: p, pos: int(n), f: r.f}
	size := d.uint(sizeBytes)
	// The block holds the prefix too, so that its checksum can be dropped.
	start := n + uint64(sizeBytes)
	if size > uint64(r.f.size) {
		return block{}, 0, fmt.Errorf("hdf5: %s: object header at address %d: %d bytes of messages run past the end of the file (%d bytes)", path, addr, size, r.f.size)
	}
	return block{addr + start, size + 4}, flags, nil
}

// messages appends to msgs the messages in data, a block at address at, and
// returns the continuation blocks they point to. order tells whether
// messages carry their creation order.
func (r *reader) messages(data []byte, v2, order bool, path string, at uint64, msgs *[]message) ([]block, error) {
	d := &decoder{b: data, f: r.f}
	var more []block
	headerSize := 8
	if v2 {
		headerSize = 4
		if order {
			headerSize = 6
		}
	}
	for d.left() >= headerSize {
		var m message
		var size int
		if v2 {
			m.typ = uint16(d.u8())
			size = int(d.u16())
			m.flags = d.u8()
		} else {
			m.typ = d.u16()
			size = int(d.u16())
			m.flags = d.u8()
			d.skip(3)
		}
		if order {
			d.skip(2) // creation order
		}
		m.data = d.take(size)
		if d.short {
			return nil, fmt.Errorf("hdf5: %s: message of type %#x in the header block at address %d: %d bytes run past the block's end", path, m.typ, at, size)
		}
		switch m.typ {
		case msgContinuation:
			c := &decoder{b: m.data, f: r.f}
			b := block{c.addr(), c.length()}
			if c.short {
				return nil, fmt.Errorf("hdf5: %s: continuation message in the header block at address %d: %d bytes, too short", path, at, size)
			}
			more = append(more, b)
		case msgDataspace, msgLinkInfo, msgDatatype, msgLink, msgExternal, msgLayout,
			msgFilters, msgAttribute, msgSymbolTable, msgAttrInfo:
			*msgs = append(*msgs, m)
		}
	}
	return more, nil
}

// find returns the first message of type typ, or nil.
func find(msgs []message, typ uint16) *message {
	for i := range msgs {
		if msgs[i].typ == typ {
			return &msgs[i]
		}
	}
	return nil
}
