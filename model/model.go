package model

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// Model is a network of layers: a stack, each layer feeding the next (made
// by [New], Keras's Sequential model), or a graph of layers called on the
// outputs of others (made by [NewGraph], Keras's Functional API), with one
// input and one output. Both are built, trained, saved and inspected the same
// way. [Model.Build] it for an input shape before use.
//
// A Model is not safe for concurrent use: layers own their buffers. Give
// each goroutine its own [Model.Clone].
type Model struct {
	// Name is shown by Summary; "" means "sequential" for a stack and
	// "model" for a graph.
	Name string
	// Layers holds every layer but the input, in the order they run: for a
	// graph, in Keras's order (see [NewGraph]). The layers of a graph must
	// not be changed once it is made; those of a stack may, before Build.
	Layers []nn.Layer
	// ClassNames names the outputs, in order (may be empty).
	ClassNames []string
	// Standardizer is the preprocessing the inputs had in training, saved
	// with the model so that predictions can apply the same (may be nil).
	Standardizer *data.Standardizer
	// Meta holds free-form strings saved in the model file's metadata, such
	// as a training history; keys must not be ones the file reserves.
	Meta map[string]string

	// graph holds a graph's connections; nil for a stack.
	graph *graph
	// lastAxes holds the layers read from Keras with a positive axis that
	// Build checks is the last of their input (see lastAxis).
	lastAxes map[nn.Layer]int

	input, output []int
	pcg           *rand.PCG // the source of every random number: init, dropout
	rng           *rand.Rand
	params        []*nn.Param // every layer's parameters, in order
	penalized     []*nn.Param // those that train with a regularizer
	constrained   []*nn.Param // those that train with a constraint
	// frozen holds the layers that do not train (see SetTrainable);
	// inference, those that run as in inference also in training, read
	// from Keras calls with training false.
	frozen, inference layerSet
	norms             []float64 // the constraints' scratch
	// softmax is set when the last layer ends in a softmax: the model runs
	// it without (see nn.FinalSoftmax) and applies it for probabilities.
	softmax bool
	keep    bool // see KeepPacked
	bf16    bool // see UseBF16

	opt         optim.Optimizer
	swa         *swaState // the weights' average of a Fit with SWA, kept for its checkpoints
	loss        nn.CrossEntropy
	classWeight []float64 // of the Fit in progress; nil: none
	logitsShape [2]int    // of the batch dataError checks

	plan plan // how the layers are connected and run, from Build

	// Reused between steps.
	dlogits, probs, onehot *tensor.Tensor
	dpattern               *tensor.Tensor // the gradient of a layer's channel mean (Classifier.Pattern)
}

// Sequential is the name the model has always had here, kept for the code
// that uses it: a Sequential is a [Model], and a stack of layers is the
// simplest one.
type Sequential = Model

// New returns an unbuilt model made of layers, each feeding the next.
func New(layers ...nn.Layer) *Model {
	return &Model{Layers: layers}
}

// Input shape limits, against absurd or hostile configurations.
const (
	maxInputDim  = 1 << 16
	maxInputSize = 1 << 26
)

// pcgStream is the second word of the PCG seed; the first is Build's seed.
const pcgStream = 0x636f6e766e6574 // "convnet"

// Build names the layers (Keras style: conv2d, conv2d_1, dense, ...; names
// already set are kept), builds them in order from inputShape (the shape of
// one sample, without the batch axis, such as [32 32 1]) and initialises the
// weights from seed. Every random number the model draws, for initial weights
// and for dropout in training, comes from one PCG source seeded here, so one
// seed gives the same weights and the same training run.
//
// A nil inputShape means the shape the model was last built for, or the one
// a preset was made for. Building again reinitialises every layer. A model
// whose weights would pass [MaxWeights] is refused, with an error naming the
// layer that would pass it, before that layer allocates anything.
func (m *Model) Build(inputShape []int, seed uint64) error {
	return m.build(inputShape, seed, nil)
}

// build is Build with a check run on each layer before its Build (built
// false) and after it (built true), from the layer's (first) input shape.
func (m *Model) build(inputShape []int, seed uint64, check func(l nn.Layer, in []int, built bool) error) error {
	if inputShape == nil {
		inputShape = m.input
	}
	if err := checkInputShape(inputShape); err != nil {
		return err
	}
	if len(m.Layers) == 0 {
		return errors.New("model has no layers")
	}
	if err := m.checkGraph(); err != nil {
		return err
	}
	if err := m.assignNames(); err != nil {
		return err
	}
	m.pcg = rand.NewPCG(seed, pcgStream)
	m.rng = rand.New(m.pcg)
	m.input = slices.Clone(inputShape)
	m.output = nil
	shapes := [][]int{m.input} // per node: 0 is the input, i+1 is Layers[i]
	var weights int64          // of the layers built so far
	for i, l := range m.Layers {
		var in [][]int
		for _, j := range m.inbound(i) {
			in = append(in, slices.Clone(shapes[j]))
		}
		if check != nil {
			if err := check(l, in[0], false); err != nil {
				return fmt.Errorf("layer %d: %w", i+1, err)
			}
		}
		if n := addSat(weights, paramEstimate(l, in[0])); n > maxWeights {
			return fmt.Errorf("layer %d: %s (%s) would bring the model's weights to %d values, more than the limit of %d (%v of float32)",
				i+1, l.Name(), l.Type(), n, maxWeights, Bytes(4*maxWeights))
		}
		var out []int
		var err error
		if mi, ok := l.(nn.MultiInput); ok {
			if out, err = mi.BuildInputs(in, m.rng); err != nil {
				return fmt.Errorf("layer %d: %w (inputs: %s)", i+1, err, m.describeInputs(i, shapes))
			}
		} else if len(in) != 1 {
			return fmt.Errorf("layer %d: %s (%s) is called on %d inputs but takes one", i+1, l.Name(), l.Type(), len(in))
		} else if out, err = l.Build(in[0], m.rng); err != nil {
			return fmt.Errorf("layer %d: %w", i+1, err)
		}
		if err := m.checkAxis(l, in[0]); err != nil {
			return fmt.Errorf("layer %d: %w", i+1, err)
		}
		if check != nil {
			if err := check(l, in[0], true); err != nil {
				return fmt.Errorf("layer %d: %w", i+1, err)
			}
		}
		for _, p := range l.Params() {
			weights += int64(p.Value.Len())
		}
		shapes = append(shapes, out)
	}
	m.output = slices.Clone(shapes[len(shapes)-1])
	last, ok := m.Layers[len(m.Layers)-1].(nn.FinalSoftmax)
	m.softmax = ok && last.OmitSoftmax(true)
	m.params = m.params[:0]
	for _, l := range m.Layers {
		m.params = append(m.params, l.Params()...)
	}
	m.settleTrainable()
	if m.opt != nil {
		return m.Compile(m.opt, m.loss)
	}
	return nil
}

// describeInputs lists the layers Layers[i] is called on with their output
// shapes: "conv2d_1 (None, 16, 16, 32), input_1 (None, 32, 32, 1)".
func (m *Model) describeInputs(i int, shapes [][]int) string {
	var b strings.Builder
	for k, j := range m.inbound(i) {
		if k > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.nodeName(j) + " " + shapeString(shapes[j]))
	}
	return b.String()
}

func checkInputShape(s []int) error {
	if len(s) == 0 || len(s) > 3 {
		return fmt.Errorf("input shape %v: want 1 to 3 dimensions, such as [32 32 1]", s)
	}
	n := 1
	for _, d := range s {
		if d < 1 || d > maxInputDim {
			return fmt.Errorf("input shape %v: dimension %d out of range [1, %d]", s, d, maxInputDim)
		}
		n *= d
	}
	if n > maxInputSize {
		return fmt.Errorf("input shape %v: %d values per sample, more than %d", s, n, maxInputSize)
	}
	return nil
}

// assignNames gives unnamed layers Keras's default names, and a graph's
// unnamed input "input_1", and checks that the names are unique.
func (m *Model) assignNames() error {
	seen := map[string]int{}
	taken := map[string]bool{}
	check := func(n string) error {
		if strings.ContainsAny(n, "/\x00") {
			return fmt.Errorf("layer name %q: must not contain '/'", n)
		}
		if taken[n] {
			return fmt.Errorf("two layers are named %q", n)
		}
		taken[n] = true
		return nil
	}
	for _, l := range m.Layers {
		if l == nil {
			return errors.New("model has a nil layer")
		}
		if n := l.Name(); n != "" {
			if err := check(n); err != nil {
				return err
			}
		}
	}
	if m.graph != nil && m.graph.inputName != "" {
		if err := check(m.graph.inputName); err != nil {
			return err
		}
	}
	next := func(base string) string {
		for {
			name := base
			if k := seen[base]; k > 0 {
				name = base + "_" + strconv.Itoa(k)
			}
			seen[base]++
			if !taken[name] {
				taken[name] = true
				return name
			}
		}
	}
	if m.graph != nil && m.graph.inputName == "" {
		seen["input"] = 1 // Keras 2 numbers inputs from 1
		m.graph.inputName = next("input")
	}
	for _, l := range m.Layers {
		if l.Name() != "" {
			continue
		}
		base := nn.DefaultName(l.Type())
		if base == "" {
			base = snakeCase(l.Type())
		}
		l.SetName(next(base))
	}
	return nil
}

// snakeCase turns a class name into Keras's default layer name
// ("MaxPooling2D" → "max_pooling2d", "ReLU" → "re_lu").
func snakeCase(s string) string {
	isUpper := func(c byte) bool { return 'A' <= c && c <= 'Z' }
	isLowerOrDigit := func(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i > 0 && isUpper(c) {
			// An upper-case letter starting a word (followed by lower case
			// or digits), or following a lower-case letter, starts a new part.
			if i+1 < len(s) && isLowerOrDigit(s[i+1]) || 'a' <= s[i-1] && s[i-1] <= 'z' {
				b = append(b, '_')
			}
		}
		if isUpper(c) {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

// Built reports whether Build has succeeded.
func (m *Model) Built() bool { return m.output != nil }

// InputShape returns the shape of one input sample, such as [32 32 1].
func (m *Model) InputShape() []int { return slices.Clone(m.input) }

// OutputShape returns the shape of one output, such as [28]; nil before Build.
func (m *Model) OutputShape() []int { return slices.Clone(m.output) }

// NumClasses returns the size of the output vector (0 before Build or if
// the output is not a vector).
func (m *Model) NumClasses() int {
	if len(m.output) != 1 {
		return 0
	}
	return m.output[0]
}

// Params returns every layer's parameters in order.
func (m *Model) Params() []*nn.Param { return slices.Clone(m.params) }

// KeepPacked(true) makes the layers that rearrange their weights for the
// kernels at every forward pass (the convolutions, and the dense layers in
// bfloat16; see [nn.PackKeeper]) do it once and keep the result for the
// predictions that follow, as PyTorch's frozen models do
// (docs/PERFORMANCE.md has the gain): a copy of each of their kernels is
// kept. The weights must then change only
// by training (Fit, TrainStep) or by restoring the best weights, which
// drop what is kept; after writing a [nn.Param] directly, call KeepPacked
// again. [NewClassifier] turns it on, its workers sharing one packing. A
// [Model.Clone] starts without it.
func (m *Model) KeepPacked(keep bool) {
	m.keep = keep
	for _, l := range m.Layers {
		if k, ok := l.(nn.PackKeeper); ok {
			k.KeepPacked(keep)
		}
	}
}

// UseBF16(true) makes the model multiply in bfloat16, as Keras's
// "mixed_bfloat16" policy and PyTorch's CPU autocast compute: the products
// of its convolutions and dense layers (forward passes and both gradients)
// take their operands rounded to bfloat16 and are summed in float32 (see
// [nn.BF16User]); the weights, their gradients, the activations and the
// loss stay float32. On a CPU with AVX512-BF16 ([BF16Native]) that trains
// about 1.5x as fast (the tutorial's model on a 2-core Zen 4: 1.57x);
// elsewhere the products run in Go, far slower than float32. A model file
// records nothing of it: a model loaded from one multiplies in float32.
// UseBF16(false) goes back to float32. Call it after Build; Clone and the
// copies of a Classifier keep the setting.
func (m *Model) UseBF16(on bool) {
	m.bf16 = on
	for _, l := range m.Layers {
		if b, ok := l.(nn.BF16User); ok {
			b.UseBF16(on)
		}
	}
}

// BF16Native reports whether this CPU multiplies bfloat16 in hardware
// (AVX512-BF16), which [Model.UseBF16] needs to be fast.
func BF16Native() bool { return kernels.HasBF16() }

// ParamCount returns the number of trainable and non-trainable weights.
func (m *Model) ParamCount() (trainable, nonTrainable int) {
	for _, p := range m.params {
		if p.Trainable {
			trainable += p.Value.Len()
		} else {
			nonTrainable += p.Value.Len()
		}
	}
	return trainable, nonTrainable
}

// Layer returns the layer called name, or nil.
func (m *Model) Layer(name string) nn.Layer {
	for _, l := range m.Layers {
		if l.Name() == name {
			return l
		}
	}
	return nil
}

// CheckInput reports whether x is a batch this model accepts: shape
// [N, input...] with N >= 1 and only finite values.
func (m *Model) CheckInput(x *tensor.Tensor) error {
	if !m.Built() {
		return errors.New("model is not built")
	}
	if x == nil || len(x.Shape) != len(m.input)+1 || x.Shape[0] < 1 || !slices.Equal(x.Shape[1:], m.input) {
		var got []int
		if x != nil {
			got = x.Shape
		}
		return fmt.Errorf("input shape %v, want [N %v]", got, m.input)
	}
	if !x.AllFinite() {
		return errors.New("input holds NaN or infinite values")
	}
	return nil
}

func (m *Model) mustBeBuilt(op string) {
	if !m.Built() {
		panic("model: " + op + " before Build")
	}
}
