package model

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/tensor"
)

// ClassifierOptions configures a [Classifier]; the zero value gives the
// defaults.
type ClassifierOptions struct {
	// Workers bounds how many batches run at once, each on its own copy of
	// the model, made when first needed; default GOMAXPROCS. The copies
	// share the model's weights and packed kernels, and each has its own
	// activations.
	Workers int
	// BatchSize bounds the images of one forward pass; default 64. A call
	// with fewer images runs a batch of just those.
	BatchSize int
	// Invert applies to images ([Classifier.Pixels]), not to raw pixels.
	Invert Invert
	// MaxMemory bounds the activation memory of the batches that may run
	// at once, all workers together ([Sequential.ActivationBytes]): Workers
	// is lowered until one image per copy fits, then BatchSize until a
	// batch per copy does, down to one image on one copy. Zero or less
	// means no bound.
	MaxMemory int64
	// BF16 makes the model multiply in bfloat16 ([Model.UseBF16]): faster
	// on a CPU with AVX512-BF16 ([BF16Native]); the built-in AHCD model's
	// probabilities over its test set come within 0.0051 of float32's.
	// False leaves the model as it is.
	BF16 bool
}

// Prediction is one class and its probability.
type Prediction struct {
	Label       int     `json:"label"`
	Name        string  `json:"name"`
	Probability float32 `json:"probability"`
}

// Result is the classification of one image.
type Result struct {
	Top           []Prediction // the k most probable classes, most probable first
	Probabilities []float32    // every class's probability, by label
	Inverted      bool         // the image was inverted before it was classified
	// Blank reports an image whose values are all the same (nothing drawn
	// on it): its classes say what the network makes of a blank image.
	Blank bool
}

// NonFiniteError reports a model output holding NaN or infinite values.
// Inputs are checked to be finite first, so the model's weights (or inputs
// far outside the training range) are the cause.
type NonFiniteError struct {
	Index int // the input, in the order given
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("the model's output for input %d is not finite (NaN or infinite values)", e.Index+1)
}

// Classifier classifies images with a trained model the way the model was
// trained to see them: an image is converted to grey or RGB, inverted if it
// is dark on light, and cropped to its ink, scaled and centred as the
// model's training images were ([Classifier.Frame]);
// the raw pixels are standardised with the model's own [data.Standardizer];
// the model's class probabilities are ranked. It also shows what happens
// inside: every layer's output ([Classifier.Trace]) and the saliency of the
// input ([Classifier.Saliency]).
//
// A Classifier is safe for concurrent use: each batch runs on one of a pool
// of copies of the model ([ClassifierOptions].Workers), taken for the
// batch and given back even if the model panics.
type Classifier struct {
	model   *Sequential
	shape   []int // [H, W, C]
	classes []string
	framing data.Framing
	opts    ClassifierOptions
	pool    chan *Sequential
	inputs  sync.Pool // *tensor.Tensor: ClassifyPixels's input storage, reused from call to call

	mu      sync.Mutex
	made    int          // copies of the model made for the pool, m itself included
	waiting atomic.Int64 // calls waiting for a free copy
}

// PoolStats is how a [Classifier]'s copies of its model are used at one
// moment.
type PoolStats struct {
	Size    int // the most copies there may be ([ClassifierOptions].Workers)
	Copies  int // the copies made so far, the model itself included
	Busy    int // the copies running a batch (or being made for one)
	Waiting int // the calls waiting for a free copy
}

// PoolStats returns how the classifier's copies of its model are used now,
// for monitoring.
func (c *Classifier) PoolStats() PoolStats {
	c.mu.Lock()
	made := c.made
	c.mu.Unlock()
	return PoolStats{Size: c.opts.Workers, Copies: made, Busy: max(made-len(c.pool), 0), Waiting: int(c.waiting.Load())}
}

// NewClassifier returns a classifier for m, a built model that takes images
// [height, width, channels] with 1, 3 or 4 channels and outputs one score
// per class. The classifier runs m itself as one of its workers: do not use
// m elsewhere while the classifier is in use: its other workers read m's
// weights. It keeps the model's kernels packed from one prediction to the
// next ([Model.KeepPacked]), one packing for all workers.
func NewClassifier(m *Sequential, opts ClassifierOptions) (*Classifier, error) {
	if m == nil || !m.Built() {
		return nil, errors.New("classifier: the model is not built")
	}
	shape := m.InputShape()
	if len(shape) != 3 || (shape[2] != 1 && shape[2] != 3 && shape[2] != 4) {
		return nil, fmt.Errorf("the model takes inputs of shape %v, not images [height width channels] with 1, 3 or 4 channels", shape)
	}
	out := m.OutputShape()
	if len(out) != 1 {
		return nil, fmt.Errorf("the model outputs shape %v, not one score per class", out)
	}
	classes := slices.Clone(m.ClassNames)
	if len(classes) == 0 {
		for i := range out[0] {
			classes = append(classes, strconv.Itoa(i))
		}
	}
	if len(classes) != out[0] {
		return nil, fmt.Errorf("the model has %d class names for %d outputs", len(classes), out[0])
	}
	if m.Standardizer != nil {
		if err := m.Standardizer.Check(shape); err != nil {
			return nil, fmt.Errorf("the model's preprocessing: %w", err)
		}
	}
	framing, err := m.Framing()
	if err != nil {
		return nil, err
	}
	if opts.BF16 {
		m.UseBF16(true)
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 64
	}
	if opts.MaxMemory > 0 {
		need := max(m.ActivationBytes(1), 1)
		opts.Workers = int(max(min(opts.MaxMemory/need, int64(opts.Workers)), 1))
		opts.BatchSize = min(opts.BatchSize, m.MaxBatch(opts.MaxMemory/int64(opts.Workers)))
	}
	m.KeepPacked(true)
	c := &Classifier{model: m, shape: shape, classes: classes, framing: framing, opts: opts, pool: make(chan *Sequential, opts.Workers), made: 1}
	c.pool <- m
	return c, nil
}

// Model returns the model the classifier runs, to read its layers, weights
// and metadata; do not run or change it.
func (c *Classifier) Model() *Sequential { return c.model }

// InputShape returns the shape of the model's input, [H, W, C].
func (c *Classifier) InputShape() []int { return slices.Clone(c.shape) }

// ClassNames returns the names of the classes by label (their numbers when
// the model has none).
func (c *Classifier) ClassNames() []string { return slices.Clone(c.classes) }

// Classify returns the k most probable classes of img (every class if k is
// out of 1..classes). It waits for a free worker until ctx ends.
func (c *Classifier) Classify(ctx context.Context, img image.Image, k int) (Result, error) {
	r, err := c.ClassifyImages(ctx, []image.Image{img}, k)
	if err != nil {
		return Result{}, err
	}
	return r[0], nil
}

// ClassifyImages classifies each image as [Classifier.Classify] does, in
// batches. An empty image (no pixels) is an error.
func (c *Classifier) ClassifyImages(ctx context.Context, imgs []image.Image, k int) ([]Result, error) {
	px := make([][]float32, len(imgs))
	inverted := make([]bool, len(imgs))
	for i, img := range imgs {
		if b := img.Bounds(); b.Empty() {
			return nil, fmt.Errorf("image %d is empty (%dx%d pixels)", i+1, b.Dx(), b.Dy())
		}
		px[i], inverted[i] = c.Pixels(img)
	}
	rs, err := c.ClassifyPixels(ctx, px, k)
	for i := range rs {
		rs[i].Inverted = inverted[i]
	}
	return rs, err
}

// ClassifyPixels classifies raw images, each H*W*C values (normally
// 0..255) row by row, channels last, used as they are, in batches of at
// most [ClassifierOptions].BatchSize. An image of the wrong size or with a
// value that is not finite is an error, and so is an output that is not
// ([*NonFiniteError]).
func (c *Classifier) ClassifyPixels(ctx context.Context, px [][]float32, k int) ([]Result, error) {
	for i, p := range px {
		if err := c.check(p); err != nil {
			return nil, fmt.Errorf("input %d: %w", i+1, err)
		}
	}
	n := len(c.classes)
	out := make([]Result, 0, len(px))
	x, _ := c.inputs.Get().(*tensor.Tensor) // the batches' input, reused
	defer func() { c.inputs.Put(x) }()
	for lo := 0; lo < len(px); lo += c.opts.BatchSize {
		batch := px[lo:min(lo+c.opts.BatchSize, len(px))]
		probs := tensor.New(len(batch), n)
		err := c.run(ctx, func(m *Sequential) {
			x = c.input(x, m, batch...)
			m.Predict(probs, x)
		})
		if err != nil {
			return nil, err
		}
		for i := range batch {
			row := probs.Data[i*n : (i+1)*n]
			if !allFinite(row) {
				return nil, &NonFiniteError{Index: lo + i}
			}
			out = append(out, Result{Top: c.top(row, k), Probabilities: row, Blank: uniform(batch[i])})
		}
	}
	return out, nil
}

// uniform reports whether every value of px is the same.
func uniform(px []float32) bool {
	for _, v := range px {
		if v != px[0] {
			return false
		}
	}
	return true
}

// run gives f a model from the pool (making one if the pool is empty and
// fewer than Workers exist, else waiting until one is free or ctx ends) and
// takes it back when f returns or panics.
func (c *Classifier) run(ctx context.Context, f func(m *Sequential)) error {
	m, err := c.acquire(ctx)
	if err != nil {
		return err
	}
	defer func() { c.pool <- m }()
	f(m)
	return nil
}

func (c *Classifier) acquire(ctx context.Context) (*Sequential, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case m := <-c.pool:
		return m, nil
	default:
	}
	c.mu.Lock()
	if c.made < c.opts.Workers {
		c.made++
		c.mu.Unlock()
		return c.clone(), nil
	}
	c.mu.Unlock()
	c.waiting.Add(1)
	defer c.waiting.Add(-1)
	select {
	case m := <-c.pool:
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// clone makes a copy of the model for the pool (sharing its weights),
// giving its place back if cloning panics.
func (c *Classifier) clone() *Sequential {
	ok := false
	defer func() {
		if !ok {
			c.mu.Lock()
			c.made--
			c.mu.Unlock()
		}
	}()
	m := c.model.replica()
	ok = true
	return m
}

// check reports a raw image that is not H*W*C finite values.
func (c *Classifier) check(px []float32) error {
	if size := tensor.Size(c.shape); len(px) != size {
		return fmt.Errorf("%d values, want %d (%dx%dx%d)", len(px), size, c.shape[0], c.shape[1], c.shape[2])
	}
	for i, v := range px {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("value %d is %v, want a finite number", i, v)
		}
	}
	return nil
}

// input returns the batch of raw images px standardised for m, in x's
// storage when it is large enough (x may be nil).
func (c *Classifier) input(x *tensor.Tensor, m *Sequential, px ...[]float32) *tensor.Tensor {
	size := tensor.Size(c.shape)
	if x == nil || cap(x.Data) < len(px)*size {
		x = tensor.New(len(px), c.shape[0], c.shape[1], c.shape[2])
	}
	x.Shape[0], x.Data = len(px), x.Data[:len(px)*size]
	for i, p := range px {
		copy(x.Data[i*size:], p)
	}
	if m.Standardizer != nil {
		m.Standardizer.Apply(x, x)
	}
	return x
}

// top returns the k most probable classes (all if k is out of range), the
// lower label first among equals.
func (c *Classifier) top(p []float32, k int) []Prediction {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case p[a] > p[b]:
			return -1
		case p[a] < p[b]:
			return 1
		}
		return 0
	})
	if k < 1 || k > len(p) {
		k = len(p)
	}
	out := make([]Prediction, k)
	for i, j := range idx[:k] {
		out[i] = Prediction{Label: j, Name: c.classes[j], Probability: p[j]}
	}
	return out
}

func allFinite(v []float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}
