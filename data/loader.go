package data

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/convnet-go/convnet/data/augment"
	"github.com/convnet-go/convnet/tensor"
)

// LoaderOptions configures a [Loader].
type LoaderOptions struct {
	BatchSize int  // images per batch, > 0
	Shuffle   bool // a new order every epoch
	Seed      uint64
	// Augment, if not nil, transforms every image (training only).
	Augment *augment.Config
	// Standardizer, if not nil, is applied to every batch after augmentation.
	Standardizer *Standardizer
	// Mix, if enabled, mixes the images of every batch two by two, and
	// their one-hot targets, after the standardizer (MixUp, CutMix;
	// training only).
	Mix augment.Mix
	// NumClasses is the width of the one-hot labels; 0 means the dataset's.
	NumClasses int
	// Workers is the number of goroutines preparing batches (default 1).
	Workers int
	// Prefetch is the number of batches prepared ahead (default 2).
	Prefetch int
	// DropLast drops a last batch smaller than BatchSize.
	DropLast bool
}

// Batch is one batch from a [Loader]. Its tensors are buffers the loader
// reuses: they stay valid until the next call to [Loader.Next] (or the next
// step of the epoch's loop).
type Batch struct {
	X       *tensor.Tensor // [B, H, W, C], augmented and standardised
	Y       *tensor.Tensor // [B, NumClasses], one-hot (zeros for an unlabelled image), or mixed by LoaderOptions.Mix
	Labels  []int          // B class indices (before any mixing), -1 for an unlabelled image
	Indices []int          // B positions in the dataset
	Epoch   int
	Step    int            // batch number within the epoch, from 0
	Mixing  augment.Mixing // how LoaderOptions.Mix mixed the batch

	ready chan struct{} // a worker has filled the buffer
}

// Loader produces the batches of a dataset epoch by epoch. Background
// goroutines prepare batches ahead of the consumer (augmentation and
// standardisation included) into a small ring of reused buffers.
//
// The output is a function of (Seed, epoch) alone, whatever the number of
// workers: the epoch's order is drawn from a generator seeded with (Seed,
// epoch), each image's augmentation from one seeded with (Seed, epoch,
// position in the epoch), and each batch's mixing from one seeded with
// (Seed, epoch, batch). Resuming at epoch e therefore gives the batches
// an uninterrupted run would have seen.
type Loader struct {
	ds   *Dataset
	opts LoaderOptions
	nc   int
	bufs []*Batch
	free chan *Batch

	// The running epoch.
	order   chan *Batch
	quit    chan struct{}
	wg      sync.WaitGroup
	current *Batch
	running bool
	next    int // the step Next returns next
	perm    []int
}

// NewLoader returns a loader over ds. It panics on invalid options (a batch
// size below 1, labels wider than NumClasses, an augmentation config that
// does not validate).
func NewLoader(ds *Dataset, opts LoaderOptions) *Loader {
	if opts.BatchSize <= 0 {
		panic(fmt.Sprintf("data: NewLoader: batch size %d", opts.BatchSize))
	}
	if opts.Augment != nil {
		if err := opts.Augment.Validate(); err != nil {
			panic("data: NewLoader: " + err.Error())
		}
	}
	if err := opts.Mix.Validate(); err != nil {
		panic("data: NewLoader: " + err.Error())
	}
	nc := opts.NumClasses
	if nc == 0 {
		nc = ds.NumClasses()
	}
	if nc < ds.NumClasses() {
		panic(fmt.Sprintf("data: NewLoader: %d classes for a dataset of %d", nc, ds.NumClasses()))
	}
	opts.Workers = max(opts.Workers, 1)
	if opts.Prefetch <= 0 {
		opts.Prefetch = 2
	}
	l := &Loader{ds: ds, opts: opts, nc: nc, perm: make([]int, ds.Len())}
	b := min(opts.BatchSize, max(ds.Len(), 1))
	shape := append([]int{b}, ds.Shape()...)
	// One buffer per prefetched batch, one per worker, one for the consumer.
	k := opts.Prefetch + opts.Workers + 1
	l.free = make(chan *Batch, k)
	for range k {
		buf := &Batch{X: tensor.New(shape...), Y: tensor.New(b, nc), Labels: make([]int, b), Indices: make([]int, b),
			ready: make(chan struct{}, 1)}
		l.bufs = append(l.bufs, buf)
		l.free <- buf
	}
	return l
}

// Mixes reports whether the loader mixes the images of its batches
// ([LoaderOptions].Mix): their targets are then no longer one class each.
func (l *Loader) Mixes() bool { return l.opts.Mix.Enabled() }

// Len returns the number of batches in an epoch.
func (l *Loader) Len() int {
	n, b := l.ds.Len(), l.opts.BatchSize
	if l.opts.DropLast {
		return n / b
	}
	return (n + b - 1) / b
}

// Epoch returns the batches of the given epoch (counted from 0), for use in
// a range loop. Leaving the loop early stops the background work.
func (l *Loader) Epoch(epoch int) iter.Seq[*Batch] {
	return func(yield func(*Batch) bool) {
		l.Start(epoch)
		defer l.Stop()
		for {
			b, ok := l.Next()
			if !ok || !yield(b) {
				return
			}
		}
	}
}

// Start begins preparing the batches of the given epoch, stopping any epoch
// still running.
func (l *Loader) Start(epoch int) {
	l.Stop()
	n := l.ds.Len()
	for i := range l.perm {
		l.perm[i] = i
	}
	if l.opts.Shuffle {
		rng := newRand(l.opts.Seed, streamEpoch^uint64(epoch)<<20)
		rng.Shuffle(n, func(i, j int) { l.perm[i], l.perm[j] = l.perm[j], l.perm[i] })
	}
	steps := l.Len()
	l.order = make(chan *Batch, len(l.bufs))
	jobs := make(chan *Batch, len(l.bufs))
	l.quit = make(chan struct{})
	l.running = true
	l.next = 0
	l.wg.Add(1 + l.opts.Workers)
	// The dispatcher hands out buffers in batch order, so batch k always
	// gets a buffer before batch k+1 and the ring cannot deadlock.
	go func(quit chan struct{}) {
		defer l.wg.Done()
		defer close(jobs)
		for step := range steps {
			var buf *Batch
			select {
			case buf = <-l.free:
			case <-quit:
				return
			}
			lo := step * l.opts.BatchSize
			hi := min(lo+l.opts.BatchSize, n)
			buf.Epoch, buf.Step = epoch, step
			buf.Indices = buf.Indices[:cap(buf.Indices)][:hi-lo]
			copy(buf.Indices, l.perm[lo:hi])
			jobs <- buf
			l.order <- buf
		}
	}(l.quit)
	for range l.opts.Workers {
		go func() {
			defer l.wg.Done()
			w := newWorker(l)
			for buf := range jobs {
				w.fill(buf)
				buf.ready <- struct{}{}
			}
		}()
	}
}

// Next returns the next batch of the running epoch, or false at its end.
// The previous batch's buffers are reused from then on.
func (l *Loader) Next() (*Batch, bool) {
	if !l.running {
		return nil, false
	}
	if l.current != nil {
		l.free <- l.current
		l.current = nil
	}
	if l.next >= l.Len() {
		return nil, false
	}
	buf := <-l.order
	<-buf.ready
	l.current = buf
	l.next++
	return buf, true
}

// Stop ends the running epoch, if any, and waits for the background work.
func (l *Loader) Stop() {
	if !l.running {
		return
	}
	close(l.quit)
	l.wg.Wait()
	// Take back every buffer: those queued, the consumer's, and the free.
	for len(l.free) > 0 {
		<-l.free
	}
	for _, b := range l.bufs {
		select {
		case <-b.ready:
		default:
		}
		l.free <- b
	}
	l.current = nil
	l.running = false
}

// Close stops the loader. It may be called more than once.
func (l *Loader) Close() { l.Stop() }

// worker prepares batches; it owns its generator so that nothing is shared.
type worker struct {
	l   *Loader
	src *rand.PCG
	rng *rand.Rand
	h   int
	w   int
	c   int
	px  []float32 // an image held as bytes, in float32, to augment
	mix []float32 // the last image and target of a batch being mixed
}

func newWorker(l *Loader) *worker {
	src := rand.NewPCG(0, 0)
	s := l.ds.Shape()
	return &worker{l: l, src: src, rng: rand.New(src), h: s[0], w: s[1], c: s[2]}
}

// fill writes the images, labels and one-hot targets of buf.Indices.
func (w *worker) fill(buf *Batch) {
	l := w.l
	b := len(buf.Indices)
	per := l.ds.SampleSize()
	buf.X.Shape[0] = b
	buf.X.Data = buf.X.Data[:cap(buf.X.Data)][:b*per]
	buf.Y.Shape[0] = b
	buf.Y.Data = buf.Y.Data[:cap(buf.Y.Data)][:b*l.nc]
	buf.Labels = buf.Labels[:cap(buf.Labels)][:b]
	for i, idx := range buf.Indices {
		dst := buf.X.Data[i*per : (i+1)*per]
		if a := l.opts.Augment; a != nil && a.Enabled() {
			var src []float32
			if l.ds.X != nil {
				src = l.ds.X.Data[idx*per : (idx+1)*per]
			} else {
				w.px = l.ds.ImageTo(slices.Grow(w.px[:0], per), idx)
				src = w.px
			}
			pos := uint64(buf.Step*l.opts.BatchSize + i)
			w.src.Seed(l.opts.Seed^uint64(buf.Epoch)*0x9e3779b97f4a7c15, pos)
			a.Apply(dst, src, w.h, w.w, w.c, w.rng)
		} else {
			l.ds.ImageTo(dst, idx)
		}
		buf.Labels[i] = l.ds.Y[idx]
	}
	if s := l.opts.Standardizer; s != nil {
		s.Apply(buf.X, buf.X)
	}
	OneHot(buf.Y, buf.Labels, l.nc) // an unlabelled image's target is all zeros
	buf.Mixing = augment.Mixing{}
	if m := l.opts.Mix; m.Enabled() {
		w.src.Seed(l.opts.Seed^uint64(buf.Epoch)*0x9e3779b97f4a7c15, streamMix^uint64(buf.Step)<<20)
		buf.Mixing = m.Random(w.h, w.w, w.rng)
		w.mix = slices.Grow(w.mix[:0], per+l.nc)[:per+l.nc]
		buf.Mixing.Apply(buf.X.Data, buf.Y.Data, b, w.h, w.w, w.c, l.nc, w.mix)
	}
}
