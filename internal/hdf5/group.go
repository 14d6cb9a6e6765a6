package hdf5

import (
	"fmt"
	"sort"
	"strings"
)

// Group is a group of the file.
type Group struct {
	f     *File
	path  string
	links map[string]uint64 // member name to object header address
	attrs []message         // attribute messages of the group's header
	dense denseAttrs        // where attributes stored densely are, if they are
}

// Path is the group's path from the root, "/" for the root, "/layers/dense" below it.
func (g *Group) Path() string { return g.path }

// Names returns the names of the group's members (groups and datasets), sorted.
func (g *Group) Names() []string {
	names := make([]string, 0, len(g.links))
	for name := range g.links {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Group returns the member group called name (a name, or a relative path "a/b/c").
// A missing member, or a member that is not a group, is an error naming the path.
func (g *Group) Group(name string) (*Group, error) {
	r := g.f.newReader()
	path, msgs, err := r.member(g, name)
	if err != nil {
		return nil, err
	}
	if !isGroup(msgs) {
		return nil, fmt.Errorf("hdf5: %s: is a %s, not a group", path, kind(msgs))
	}
	return r.groupFrom(path, msgs)
}

// Has reports whether the group has a member (group or dataset) at the relative path.
func (g *Group) Has(path string) bool {
	parts := split(path)
	if len(parts) == 0 {
		return false
	}
	parent := g
	if len(parts) > 1 {
		var err error
		if parent, err = g.Group(strings.Join(parts[:len(parts)-1], "/")); err != nil {
			return false
		}
	}
	_, ok := parent.links[parts[len(parts)-1]]
	return ok
}

// split returns the names of a relative path, without empty names and ".".
func split(path string) []string {
	var parts []string
	for _, p := range strings.Split(path, "/") {
		if p != "" && p != "." {
			parts = append(parts, p)
		}
	}
	return parts
}

// join returns the path of the member name of the group at dir.
func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// member returns the path and header messages of the object at the relative
// path name below g.
func (r *reader) member(g *Group, name string) (string, []message, error) {
	parts := split(name)
	if len(parts) == 0 {
		return "", nil, fmt.Errorf("hdf5: %s: empty member name %q", g.path, name)
	}
	for _, p := range parts[:len(parts)-1] {
		path, msgs, err := r.lookup(g, p)
		if err != nil {
			return "", nil, err
		}
		if !isGroup(msgs) {
			return "", nil, fmt.Errorf("hdf5: %s: is a %s, not a group", path, kind(msgs))
		}
		if g, err = r.groupFrom(path, msgs); err != nil {
			return "", nil, err
		}
	}
	return r.lookup(g, parts[len(parts)-1])
}

// lookup returns the path and header messages of g's member called name.
func (r *reader) lookup(g *Group, name string) (string, []message, error) {
	path := join(g.path, name)
	addr, ok := g.links[name]
	if !ok {
		return "", nil, fmt.Errorf("hdf5: %s: no such group or dataset", path)
	}
	msgs, err := r.header(addr, path)
	return path, msgs, err
}

// isGroup reports whether an object's header messages are a group's.
func isGroup(msgs []message) bool {
	return find(msgs, msgSymbolTable) != nil || find(msgs, msgLinkInfo) != nil || find(msgs, msgLink) != nil
}

// kind names what an object is, for errors.
func kind(msgs []message) string {
	switch {
	case isGroup(msgs):
		return "group"
	case find(msgs, msgLayout) != nil:
		return "dataset"
	}
	return "object that is neither a group nor a dataset"
}

// loadGroup reads the group whose object header is at addr.
func (r *reader) loadGroup(path string, addr uint64) (*Group, error) {
	msgs, err := r.header(addr, path)
	if err != nil {
		return nil, err
	}
	if !isGroup(msgs) {
		return nil, fmt.Errorf("hdf5: %s: object header at address %d is a %s, not a group", path, addr, kind(msgs))
	}
	return r.groupFrom(path, msgs)
}

// groupFrom reads the members of the group at path from its header messages.
func (r *reader) groupFrom(path string, msgs []message) (*Group, error) {
	g := &Group{f: r.f, path: path, links: map[string]uint64{}, dense: denseAttrs{undefined, undefined}}
	for _, m := range msgs {
		var err error
		switch m.typ {
		case msgSymbolTable:
			err = r.symbolTable(g, m)
		case msgLinkInfo:
			err = r.linkInfo(g, m)
		case msgLink:
			err = r.link(g, m)
		case msgAttribute:
			g.attrs = append(g.attrs, m)
		case msgAttrInfo:
			err = r.attrInfo(g, m)
		}
		if err != nil {
			return nil, err
		}
	}
	return g, nil
}

// linkInfo refuses a group whose links are in a fractal heap.
func (r *reader) linkInfo(g *Group, m message) error {
	if m.flags&flagShared != 0 {
		return fmt.Errorf("hdf5: %s: shared link info message is not supported", g.path)
	}
	d := &decoder{b: m.data, f: r.f}
	version, flags := d.u8(), d.u8()
	if flags&1 != 0 {
		d.skip(8) // maximum creation index
	}
	heap := d.addr()
	if d.short || version != 0 {
		return fmt.Errorf("hdf5: %s: link info message of %d bytes, version %d: want version 0", g.path, len(m.data), version)
	}
	if heap != undefined {
		return fmt.Errorf("hdf5: %s: group stored densely (fractal heap at address %d) is not supported", g.path, heap)
	}
	return nil
}

// attrInfo notes where densely stored attributes are.
func (r *reader) attrInfo(g *Group, m message) error {
	if m.flags&flagShared != 0 {
		return fmt.Errorf("hdf5: %s: shared attribute info message is not supported", g.path)
	}
	d := &decoder{b: m.data, f: r.f}
	version, flags := d.u8(), d.u8()
	if flags&1 != 0 {
		d.skip(2) // maximum creation index
	}
	g.dense = denseAttrs{heap: d.addr(), names: d.addr()}
	if d.short || version != 0 {
		return fmt.Errorf("hdf5: %s: attribute info message of %d bytes, version %d: want version 0", g.path, len(m.data), version)
	}
	return nil
}

// link adds the hard link of a link message to g's members; soft and
// external links are left out.
func (r *reader) link(g *Group, m message) error {
	d := &decoder{b: m.data, f: r.f}
	version, flags := d.u8(), d.u8()
	linkType := uint8(0)
	if flags&0x08 != 0 {
		linkType = d.u8()
	}
	if flags&0x04 != 0 {
		d.skip(8) // creation order
	}
	if flags&0x10 != 0 {
		d.skip(1) // character set
	}
	n := d.uint(1 << (flags & 3))
	if n > uint64(d.left()) {
		return fmt.Errorf("hdf5: %s: link message of %d bytes: name of %d bytes runs past its end", g.path, len(m.data), n)
	}
	name := string(d.take(int(n)))
	addr := d.addr()
	if d.short || version != 1 {
		return fmt.Errorf("hdf5: %s: link message of %d bytes, version %d: want version 1", g.path, len(m.data), version)
	}
	if linkType == 0 {
		return g.add(name, addr)
	}
	return nil
}

// add records a member of g; a name given twice keeps its first address.
func (g *Group) add(name string, addr uint64) error {
	if name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("hdf5: %s: member name %q: want a non-empty name without '/'", g.path, name)
	}
	if _, ok := g.links[name]; !ok {
		g.links[name] = addr
	}
	return nil
}
