package data

import (
	"fmt"
	"math"
	"reflect"
	"sync"
)

// DefaultMemory is the size of the [Budget] a load gets when its caller
// gives none: 2 GiB.
const DefaultMemory = 2 << 30

// Budget is the memory that loading data sets may take, shared by the loads
// that draw on it (the training and test sets of one command, say). Every
// decoder charges what it is about to allocate before allocating it and
// fails with a *[MemoryError] rather than go over. The pixels and labels of
// the data sets it returns stay charged; scratch memory is given back. A
// nil *Budget given to a loader means a new budget of [DefaultMemory].
// A Budget is safe for concurrent use.
type Budget struct {
	mu          sync.Mutex
	limit, used int64
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget { return &Budget{limit: limit} }

// Limit returns the size of the budget in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Used returns the bytes charged and not given back.
func (b *Budget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

func orDefault(b *Budget) *Budget {
	if b == nil {
		return NewBudget(DefaultMemory)
	}
	return b
}

func (b *Budget) take(file string, n int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.limit-b.used {
		return &MemoryError{File: file, Limit: b.limit, Used: b.used, Budget: true}
	}
	b.used += n
	return nil
}

func (b *Budget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// A rate bounds what decoding one input may allocate in all: PerByte bytes
// for each byte of the input's size on disk, plus Slack.
type rate struct{ perByte, slack int64 }

// The rates of the decoders. Plain text and raw IDX cannot ask for more
// than a few bytes per byte by their structure; the plain rate is a safety
// net. A compressed file (a zip, a gzip-compressed IDX file) can claim any
// size, so it may cost at most 100 bytes per byte on disk: the published
// AHCD zip needs 24 (its text inflates 11.6 times, and room for as many
// rows as its size allows is taken in float32), MNIST's images 24 (their
// bytes, then in float32). Images need more, as a JPEG photo stores a pixel
// in a fraction of a byte: 256 bytes per byte and 16 MiB whatever the size,
// enough for a 1400x1400 PNG or an 800x800 JPEG however small its file.
var (
	plainRate  = rate{perByte: 16, slack: 1 << 20}
	packedRate = rate{perByte: 100, slack: 1 << 20}
	imageRate  = rate{perByte: 256, slack: 16 << 20}
)

// An allowance is what decoding one input may still allocate: the input's
// rate (counting every allocation, even of memory given back since) and, at
// any moment, what its budget has left. It is safe for concurrent use.
type allowance struct {
	budget *Budget
	file   string
	size   int64 // the input's size on disk; -1 for a stream of unknown size
	rate   rate

	mu    sync.Mutex
	taken int64
}

// allow returns the allowance of an input of size bytes (-1 if unknown: then
// only the budget bounds it) decoded at rate r.
func (b *Budget) allow(file string, size int64, r rate) *allowance {
	return &allowance{budget: b, file: file, size: size, rate: r}
}

// max returns the most the input may cost.
func (a *allowance) max() int64 {
	if a.size < 0 || a.size > (math.MaxInt64-a.rate.slack)/a.rate.perByte {
		return math.MaxInt64
	}
	return a.size*a.rate.perByte + a.rate.slack
}

// take charges n bytes about to be allocated.
func (a *allowance) take(n int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n < 0 || n > a.max()-a.taken {
		return &MemoryError{File: a.file, Limit: a.max(), Used: a.taken, Size: a.size, PerByte: a.rate.perByte}
	}
	if err := a.budget.take(a.file, n); err != nil {
		return err
	}
	a.taken += n
	return nil
}

// give returns n bytes of scratch memory to the budget.
func (a *allowance) give(n int64) { a.budget.give(n) }

// costOf returns the bytes of n values of type T, or -1 on overflow.
func costOf[T any](n int) int64 {
	size := int64(reflect.TypeFor[T]().Size())
	if n < 0 || int64(n) > math.MaxInt64/size {
		return -1
	}
	return int64(n) * size
}

// makeCharged allocates n values of type T after charging them to a.
func makeCharged[T any](a *allowance, n int) ([]T, error) {
	if err := a.take(costOf[T](n)); err != nil {
		return nil, err
	}
	return make([]T, n), nil
}

// MemoryError reports a load that would take more memory than allowed: more
// than the input's share, a multiple of its size on disk that only a
// compression bomb or a forged size field exceeds, or more than the
// [Budget] has left.
type MemoryError struct {
	File    string
	Limit   int64 // the input's allowance or the budget, in bytes
	Used    int64 // what was taken already
	Budget  bool  // the budget is exhausted, rather than the input's allowance
	Size    int64 // the input's size on disk (allowance only)
	PerByte int64 // its rate (allowance only)
}

func (e *MemoryError) Error() string {
	if e.Budget {
		return fmt.Sprintf("%s: loading the data would take more than the memory budget of %s (%s taken already)",
			e.File, byteSize(e.Limit), byteSize(e.Used))
	}
	return fmt.Sprintf("%s: decoding would take more than %s for %s on disk (%d bytes per byte at most): "+
		"a compression bomb or a forged size field", e.File, byteSize(e.Limit), byteSize(e.Size), e.PerByte)
}

// byteSize writes n bytes for people: "512 bytes", "3.2 MiB".
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	v, i := float64(n)/unit, 0
	for ; v >= unit && i < 4; i++ {
		v /= unit
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[i])
}

// pile collects values whose number is not known in advance, such as the
// pixels of the rows of a CSV file, in chunks that grow from 1 KiB to 4 MiB,
// so that growing never copies; each chunk is charged before it is
// allocated. collect then copies the values into one slice.
type pile[T any] struct {
	a      *allowance
	chunks [][]T
	n      int
}

func (p *pile[T]) add(v ...T) error {
	for len(v) > 0 {
		last := len(p.chunks) - 1
		if last < 0 || len(p.chunks[last]) == cap(p.chunks[last]) {
			size := (1 << 10 << min(len(p.chunks), 12)) / int(costOf[T](1))
			c, err := makeCharged[T](p.a, size)
			if err != nil {
				return err
			}
			p.chunks = append(p.chunks, c[:0])
			last++
		}
		c := p.chunks[last]
		k := min(len(v), cap(c)-len(c))
		p.chunks[last] = append(c, v[:k]...)
		v = v[k:]
		p.n += k
	}
	return nil
}

// collect returns the values in one slice and gives back the chunks.
func (p *pile[T]) collect() ([]T, error) {
	out, err := makeCharged[T](p.a, p.n)
	if err != nil {
		return nil, err
	}
	i := 0
	for _, c := range p.chunks {
		i += copy(out[i:], c)
		p.a.give(costOf[T](cap(c)))
	}
	p.chunks = nil
	return out, nil
}

// free gives back the chunks of a pile that will not be collected.
func (p *pile[T]) free() {
	for _, c := range p.chunks {
		p.a.give(costOf[T](cap(c)))
	}
	p.chunks = nil
}
