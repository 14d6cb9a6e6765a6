package kernels

import "sync"

// KeepPacked(true) makes Forward keep the kernel it packs for the tiles
// and use it again in later calls given the same kernel slice, instead of
// packing it at every call (and for few output cells, whose tiles would
// otherwise read it in place): the caller promises that the kernel's
// values do not change until KeepPacked(false), which drops it (for the
// convolutions sharing it too, see SharePacked). [Conv.BackwardData] then
// keeps its flipped kernel too, packed.
func (c *Conv) KeepPacked(keep bool) {
	c.keep = keep
	if !keep {
		c.kept.drop()
		c.winoKept.drop()
		c.flipOf = nil
		c.pairs.drop()
	}
	if c.data != nil {
		c.data.KeepPacked(keep)
	}
	if c.half != nil {
		c.half.KeepPacked(keep)
	}
}

// SharePacked makes c keep its packed kernel, when it keeps it (see
// KeepPacked), in src's: convolutions of the same geometry and filters
// given the same kernel slice (the copies of a model that predict in
// parallel) then pack it once, the first to need it, and all read that
// copy; in bfloat16 (SetBF16, on both before), its pairs too. Call it
// before c runs.
func (c *Conv) SharePacked(src *Conv) {
	if c.g != src.g || c.f != src.f {
		panic("kernels: Conv.SharePacked: another geometry")
	}
	c.kept = src.kept.share()
	c.winoKept = src.winoKept.share()
	c.pairs = src.pairs.share()
	if c.half != nil && src.half != nil {
		c.half.SharePacked(src.half)
	}
}

// packing is a kernel packed for the convolution tiles and kept, which
// several convolutions may share: the first to find it stale packs it.
type packing struct {
	mu     sync.Mutex
	data   []float32
	of     *float32 // the kernel data was packed from; nil: none
	shared bool     // another convolution may be reading data
}

// get returns the kernel w packed (size values), packing it if the kernel
// kept was another or was dropped. Once shared, it packs into a new
// buffer: another convolution may still read the last one.
func (p *packing) get(w []float32, size int, pack func(dst, w []float32)) []float32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.of != &w[0] || len(p.data) != size {
		if p.shared || len(p.data) != size {
			p.data = make([]float32, size)
		}
		pack(p.data, w)
		p.of = &w[0]
	}
	return p.data
}

// share marks p as read by several convolutions and returns it.
func (p *packing) share() *packing {
	p.mu.Lock()
	p.shared = true
	p.mu.Unlock()
	return p
}

// drop forgets the kernel packed.
func (p *packing) drop() {
	p.mu.Lock()
	p.of = nil
	p.mu.Unlock()
}
