package cli

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/tensor"
)

// runFile measures the inference of the model file o.Model on random
// pixels, standardized as the model's own preprocessing says, and the GEMM.
func (o *benchOptions) runFile(ctx context.Context, stderr io.Writer) (*benchResult, error) {
	m, err := openModel(o.Model, nil, 0, defaultTrainMemory)
	if err != nil {
		return nil, err
	}
	m.UseBF16(o.BF16)
	r := &benchResult{
		Framework: "convnet " + runtime.Version(), Kernels: kernels.Impl(), Winograd: winograd(), BF16: o.BF16, Threads: runtime.GOMAXPROCS(0),
		Model: o.Model, Repeats: o.Repeats, InferBatch: o.InferBatch,
	}
	fwd, _ := modelFlops(m)
	r.ForwardMFLOPImg = float64(fwd) / 1e6
	rng := rand.New(rand.NewPCG(o.Seed, 0))
	pixels := func(n int) *tensor.Tensor {
		raw := tensor.New(append([]int{n}, m.InputShape()...)...)
		for i := range raw.Data {
			raw.Data[i] = float32(rng.IntN(256))
		}
		if m.Standardizer == nil {
			return raw
		}
		x := raw.Clone()
		m.Standardizer.Apply(x, raw)
		return x
	}
	if err := o.inference(ctx, stderr, r, m, pixels(1), pixels(o.InferBatch)); err != nil {
		return nil, err
	}
	return r, nil
}

// inference measures the model's predictions for the one image one
// (latency) and the batch big (throughput), then the GEMM, into r.
func (o *benchOptions) inference(ctx context.Context, stderr io.Writer, r *benchResult, m *model.Sequential, one, big *tensor.Tensor) error {
	fmt.Fprintf(stderr, "inference: %d runs at batch 1, %d repeats at batch %d\n", o.InferRuns, o.Repeats, o.InferBatch)
	// As a Classifier runs it: the kernels packed once.
	m.KeepPacked(true)
	defer m.KeepPacked(false)
	p1 := tensor.New(1, m.NumClasses())
	for range 20 {
		m.Predict(p1, one)
	}
	lat := make([]float64, o.InferRuns)
	cpu := startCPU()
	for i := range lat {
		t := time.Now()
		m.Predict(p1, one)
		lat[i] = time.Since(t).Seconds() * 1e3
	}
	r.Infer1MS = median(lat)
	if rate := cpu.rate(float64(o.InferRuns)); rate > 0 {
		r.Infer1CPUMS = 1e3 / rate
	}
	pb := tensor.New(o.InferBatch, m.NumClasses())
	m.Predict(pb, big)
	rates := make([]float64, max(o.Repeats, 5))
	cpu = startCPU()
	for i := range rates {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := time.Now()
		m.Predict(pb, big)
		rates[i] = float64(o.InferBatch) / time.Since(t).Seconds()
	}
	r.InferRate = median(rates)
	r.InferCPURate = cpu.rate(float64(len(rates) * o.InferBatch))

	fmt.Fprintf(stderr, "gemm: %s, bfloat16 %v\n", kernels.Impl(), o.BF16)
	r.GemmShapes = map[string]float64{}
	for _, s := range benchGemmShapes {
		g, gc := gemmRate(s, max(o.Repeats, 5), o.BF16)
		r.GemmShapes[s.name] = g
		if s.name == "1024x1024x1024" {
			r.GemmGFLOPS, r.GemmCPUGFLOPS = g, gc
		}
	}
	return nil
}
