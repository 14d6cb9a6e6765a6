package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

func init() {
	register(command{name: "bench", summary: "measure training and inference speed and the GEMM's GFLOP/s", run: runBench})
}

// benchOptions are the flags of convnet bench.
type benchOptions struct {
	Source     sourceFlags
	Model      string
	Activation string
	Batch      int
	Steps      int
	Warmup     int
	Repeats    int
	InferRuns  int
	InferBatch int
	Threads    int
	Seed       uint64
	JSON       bool
	CPUProfile string
	BF16       bool
}

func (o *benchOptions) register(fs *flag.FlagSet) {
	o.Source.register(fs, "ahcd")
	fs.StringVar(&o.Model, "model", "tutorial", "the preset to measure ("+strings.Join(model.PresetNames(), ", ")+"), or a model file or built-in model ("+strings.Join(pretrained.Names(), ", ")+"): its inference alone, on random pixels")
	fs.StringVar(&o.Activation, "activation", "relu", "the activation function of the preset's convolutions and dense layers that have relu, in its place ("+strings.Join(hiddenActivations(), ", ")+"; prelu: a PReLU layer after each, a slope per channel or unit)")
	fs.IntVar(&o.Batch, "batch", 100, "training batch size")
	fs.IntVar(&o.Steps, "steps", 30, "training steps timed in each repeat")
	fs.IntVar(&o.Warmup, "warmup", 5, "training steps run before timing")
	fs.IntVar(&o.Repeats, "repeats", 5, "timed repeats of each figure (the median is reported)")
	fs.IntVar(&o.InferRuns, "infer-runs", 200, "single-image predictions timed (the median is reported)")
	fs.IntVar(&o.InferBatch, "infer-batch", 256, "batch size of the inference throughput figure")
	fs.IntVar(&o.Threads, "threads", 0, "GOMAXPROCS for the run (0: leave it as it is)")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed: weights, batch order, dropout")
	fs.BoolVar(&o.JSON, "json", false, "print one JSON object instead of a table")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	bf16Flag(fs, &o.BF16, "training, inference and the GEMM figures")
}

func (o *benchOptions) validate(args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	for _, f := range []struct {
		name string
		v    int
		min  int
	}{
		{"--batch", o.Batch, 1}, {"--steps", o.Steps, 1}, {"--warmup", o.Warmup, 0},
		{"--repeats", o.Repeats, 1}, {"--infer-runs", o.InferRuns, 1},
		{"--infer-batch", o.InferBatch, 1}, {"--threads", o.Threads, 0},
	} {
		if f.v < f.min {
			return usagef("%s %d: must be at least %d", f.name, f.v, f.min)
		}
	}
	if !slices.Contains(hiddenActivations(), o.Activation) {
		return usagef("--activation %q: want one of %s", o.Activation, strings.Join(hiddenActivations(), ", "))
	}
	if o.Batch > maxBenchBatch || o.InferBatch > maxBenchBatch {
		return usagef("--batch and --infer-batch must be at most %d", maxBenchBatch)
	}
	if err := checkBF16(o.BF16); err != nil {
		return err
	}
	if o.Threads > maxBenchThreads {
		return usagef("--threads %d: want at most %d (the Go runtime stops at 10,000 threads)", o.Threads, maxBenchThreads)
	}
	return nil
}

// maxBenchBatch bounds the batch sizes, so that a typo does not exhaust
// memory.
const maxBenchBatch = 4096

// maxBenchThreads bounds --threads: far more than any machine runs at once.
const maxBenchThreads = 1024

// benchResult is what convnet bench measures; the JSON keys are the ones
// bench/pytorch/bench.py prints for PyTorch.
type benchResult struct {
	Framework       string             `json:"framework"`
	Kernels         string             `json:"kernels"`
	Winograd        string             `json:"winograd"` // the sums of 3x3 and 5x5 convolutions by Winograd's transforms: off, gradients or on
	BF16            bool               `json:"bf16"`
	Threads         int                `json:"threads"`
	Model           string             `json:"model"`
	Activation      string             `json:"activation"`
	Batch           int                `json:"batch"`
	Steps           int                `json:"steps"`
	Repeats         int                `json:"repeats"`
	TrainRate       float64            `json:"train_images_per_sec"`
	TrainStepMS     float64            `json:"train_step_ms"`
	Infer1MS        float64            `json:"infer_batch1_ms"`
	InferBatch      int                `json:"infer_batch"`
	InferRate       float64            `json:"infer_batch256_images_per_sec"`
	GemmGFLOPS      float64            `json:"gemm_gflops"`
	GemmShapes      map[string]float64 `json:"gemm_shapes_gflops"`
	TrainGFLOPS     float64            `json:"train_gflops"`
	ForwardMFLOPImg float64            `json:"forward_mflop_per_image"`
	TrainMFLOPImg   float64            `json:"train_mflop_per_image"`

	// The same figures by the CPU time of the process over all the timed
	// runs (0 where the system does not tell): on a shared machine, with
	// one thread, they show the work done rather than the share of the
	// cores the run got.
	TrainCPURate  float64 `json:"train_images_per_cpu_sec"`
	Infer1CPUMS   float64 `json:"infer_batch1_cpu_ms"`
	InferCPURate  float64 `json:"infer_batch256_images_per_cpu_sec"`
	GemmCPUGFLOPS float64 `json:"gemm_cpu_gflops"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o benchOptions
	fs := newFlagSet("bench", "[flags]", stderr)
	o.register(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := o.validate(rest); err != nil {
		return err
	}
	if o.Threads > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(o.Threads))
	}
	var r *benchResult
	run := func() error {
		var err error
		r, err = o.run(ctx, stderr)
		return err
	}
	if o.CPUProfile != "" {
		// A failed run leaves no profile, and its error is not the
		// profile's: "writing PROFILE: " is for the file alone.
		var runErr error
		err = safefile.Write(o.CPUProfile, true, func(w io.Writer) error {
			if err := pprof.StartCPUProfile(w); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
			runErr = run()
			return runErr
		})
		if runErr != nil {
			err = runErr
		}
	} else {
		err = run()
	}
	if err != nil {
		return err
	}
	if o.JSON {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	return r.print(stdout)
}

// run loads the batches of the training set, then measures training,
// inference and the GEMM, in that order; for a model file, inference and
// the GEMM. Progress goes to stderr.
func (o *benchOptions) run(ctx context.Context, stderr io.Writer) (*benchResult, error) {
	if !slices.Contains(model.PresetNames(), o.Model) {
		if o.Activation != "relu" {
			return nil, usagef("--activation %s: only for a preset, not a model file", o.Activation)
		}
		return o.runFile(ctx, stderr)
	}
	train, _, err := o.Source.load(ctx)
	if err != nil {
		return nil, err
	}
	m, err := model.PresetFor(o.Model, train.Shape(), train.NumClasses())
	if err != nil {
		return nil, err
	}
	if m, err = replaceReLU(m, o.Activation); err != nil {
		return nil, err
	}
	if err := m.Build(train.Shape(), o.Seed); err != nil {
		return nil, err
	}
	// The tutorial's recipe: RMSprop, categorical cross-entropy, pixels
	// /255 with the mean image subtracted.
	if err := m.Compile(&optim.RMSprop{LearningRate: 0.001, Rho: 0.9}, nn.CrossEntropy{}); err != nil {
		return nil, err
	}
	m.UseBF16(o.BF16)
	std := &data.Standardizer{Rescale: 1.0 / 255, ImageCenter: true}
	std.FitDataset(train)
	xs, ys := benchBatches(train, std, o.Batch, max(o.Steps, o.Warmup), o.Seed)
	if len(xs) == 0 {
		return nil, fmt.Errorf("the data set has %d images, fewer than one batch of %d", train.Len(), o.Batch)
	}
	r := &benchResult{
		Framework: "convnet " + runtime.Version(), Kernels: kernels.Impl(), Winograd: winograd(), BF16: o.BF16, Threads: runtime.GOMAXPROCS(0),
		Model: o.Model, Activation: o.Activation, Batch: o.Batch, Steps: o.Steps, Repeats: o.Repeats, InferBatch: o.InferBatch,
	}
	fwd, trn := modelFlops(m)
	r.ForwardMFLOPImg, r.TrainMFLOPImg = float64(fwd)/1e6, float64(trn)/1e6

	fmt.Fprintf(stderr, "training: %d warm-up steps, %d repeats of %d steps at batch %d\n", o.Warmup, o.Repeats, o.Steps, o.Batch)
	for s := range o.Warmup {
		m.TrainStep(xs[s%len(xs)], ys[s%len(xs)])
	}
	rates := make([]float64, o.Repeats)
	cpu := startCPU()
	for i := range rates {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t := time.Now()
		for s := range o.Steps {
			m.TrainStep(xs[s%len(xs)], ys[s%len(xs)])
		}
		rates[i] = float64(o.Steps*o.Batch) / time.Since(t).Seconds()
	}
	r.TrainRate = median(rates)
	r.TrainCPURate = cpu.rate(float64(o.Repeats * o.Steps * o.Batch))
	r.TrainStepMS = float64(o.Batch) / r.TrainRate * 1e3
	r.TrainGFLOPS = r.TrainMFLOPImg * r.TrainRate / 1e3

	one := tensor.New(append([]int{1}, train.Shape()...)...)
	copy(one.Data, xs[0].Data)
	big := tensor.New(append([]int{o.InferBatch}, train.Shape()...)...)
	for i := range o.InferBatch {
		b := xs[i/o.Batch%len(xs)]
		size := len(one.Data)
		copy(big.Data[i*size:(i+1)*size], b.Data[i%o.Batch*size:(i%o.Batch+1)*size])
	}
	if err := o.inference(ctx, stderr, r, m, one, big); err != nil {
		return nil, err
	}
	return r, nil
}

// benchBatches returns up to n batches of the data set in a shuffled order,
// standardised like the tutorial's, with one-hot labels, in memory: the
// timing then covers the training step alone.
func benchBatches(ds *data.Dataset, std *data.Standardizer, batch, n int, seed uint64) (xs, ys []*tensor.Tensor) {
	l := data.NewLoader(ds, data.LoaderOptions{BatchSize: batch, Shuffle: true, Seed: seed,
		Standardizer: std, NumClasses: ds.NumClasses(), DropLast: true})
	defer l.Close()
	for b := range l.Epoch(0) {
		if len(xs) == n {
			break
		}
		xs, ys = append(xs, b.X.Clone()), append(ys, b.Y.Clone())
	}
	return xs, ys
}

// gemmShape is one product timed by convnet bench: C (m×n) = A (m×k) · B.
type gemmShape struct {
	name    string
	m, n, k int
}

// benchGemmShapes are the square product numpy is compared on and the
// products of the tutorial model: the 5×5 convolution of one image (im2col
// rows × filters × 5·5·32) and the first dense layer at batch 100.
var benchGemmShapes = []gemmShape{
	{"1024x1024x1024", 1024, 1024, 1024},
	{"conv5x5:1024x32x800", 1024, 32, 800},
	{"conv3x3:256x64x576", 256, 64, 576},
	{"dense:100x256x4096", 100, 256, 4096},
}

// gemmRate returns the median GFLOP/s of repeats timed runs of the product
// (each long enough to time: at least about 2·10⁹ FLOP), in bfloat16 with
// bf16, and the rate by the CPU time of all of them.
func gemmRate(s gemmShape, repeats int, bf16 bool) (wall, cpu float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	a, b, c := fill(s.m*s.k), fill(s.k*s.n), make([]float32, s.m*s.n)
	flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
	inner := max(1, int(2e9/flops))
	gemm := kernels.Gemm
	if bf16 {
		gemm = kernels.GemmBF16
	}
	mul := func() {
		gemm(false, false, s.m, s.n, s.k, 1, a, s.k, b, s.n, 0, c, s.n)
	}
	mul()
	rates := make([]float64, repeats)
	clock := startCPU()
	for i := range rates {
		t := time.Now()
		for range inner {
			mul()
		}
		rates[i] = flops * float64(inner) / time.Since(t).Seconds() / 1e9
	}
	return median(rates), clock.rate(flops*float64(inner*repeats)) / 1e9
}

// cpuClock is the CPU time of the process when a measurement began.
type cpuClock time.Duration

func startCPU() cpuClock {
	t, _ := kernels.CPUTime()
	return cpuClock(t)
}

// rate returns n divided by the CPU seconds since c, or 0 when the CPU time
// is unknown.
func (c cpuClock) rate(n float64) float64 {
	t, ok := kernels.CPUTime()
	if d := time.Duration(t) - time.Duration(c); ok && d > 0 {
		return n / d.Seconds()
	}
	return 0
}

// modelFlops counts the FLOP (2 per multiply-add, nn.Layer.Cost) of the
// model's weighted sums for one image: forward, and a training step
// (forward, weight gradients and input gradients, less the input gradient
// of the first layer, which training leaves out).
func modelFlops(m *model.Sequential) (forward, train int64) {
	var first int64 // the FLOP of the first layer with weights
	for i, l := range m.Layers {
		in := m.InputShape() // the shape of the (first) input of layer i
		if j := m.Inbound(i)[0]; j >= 0 {
			in = m.Layers[j].OutputShape()
		}
		f := 2 * l.Cost(in).MACs
		if first == 0 {
			first = f
		}
		forward += f
	}
	return forward, 3*forward - first
}

// median returns the median of v (the mean of the two middle values for
// an even count); v is sorted in place.
func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// winograd names which sums of the float32 3x3 and 5x5 convolutions
// planned now run by Winograd's transforms ("off", "gradients" or "on";
// see CONVNET_WINOGRAD and kernels.WinogradActive).
func winograd() string { return kernels.WinogradActive().String() }

func (r *benchResult) print(w io.Writer) error {
	var b strings.Builder
	act := ""
	if r.Activation != "" && r.Activation != "relu" {
		act = ", " + r.Activation + " for relu"
	}
	kern, gemm := r.Kernels, ""
	switch r.Winograd {
	case "gradients":
		kern += ", gradients by Winograd's transforms"
	case "on":
		kern += ", Winograd's transforms"
	}
	if r.BF16 {
		kern, gemm = kern+" (products in bfloat16)", " (bfloat16)"
	}
	fmt.Fprintf(&b, "%s, kernels %s, %d threads, model %s%s (%.1f MFLOP/image forward)\n", r.Framework, kern, r.Threads, r.Model, act, r.ForwardMFLOPImg)
	if r.Steps > 0 {
		fmt.Fprintf(&b, "training, batch %d:      %8.1f images/s  (%.1f ms/step, %.0f GFLOP/s; median of %d x %d steps)\n",
			r.Batch, r.TrainRate, r.TrainStepMS, r.TrainGFLOPS, r.Repeats, r.Steps)
	}
	fmt.Fprintf(&b, "inference, batch 1:     %8.3f ms        (median)\n", r.Infer1MS)
	fmt.Fprintf(&b, "inference, batch %-4d   %8.1f images/s  (median)\n", r.InferBatch, r.InferRate)
	if r.InferCPURate > 0 {
		training := ""
		if r.Steps > 0 {
			training = fmt.Sprintf("%.1f training images/s, ", r.TrainCPURate)
		}
		fmt.Fprintf(&b, "by CPU time:             %s%.3f ms at batch 1, %.1f images/s at batch %d, GEMM %.1f GFLOP/s\n",
			training, r.Infer1CPUMS, r.InferCPURate, r.InferBatch, r.GemmCPUGFLOPS)
	}
	for _, s := range benchGemmShapes {
		fmt.Fprintf(&b, "gemm %-22s %8.1f GFLOP/s%s\n", s.name+":", r.GemmShapes[s.name], gemm)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
