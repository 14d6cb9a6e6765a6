package model

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

func TestActivationBytes(t *testing.T) {
	m := New(
		&nn.Conv2D{Filters: 2, KernelSize: pair(3), Padding: "same"},
		&nn.MaxPool2D{},
		&nn.Flatten{},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{4, 4, 1}, 1); err != nil {
		t.Fatal(err)
	}
	// Values per sample: the input three times (48), the scores three
	// times (9), then 3·out + in per layer: conv 3·32+16, max pooling
	// 3·8+32, flatten 3·8+8, dense 3·3+8. 274 values of 4 bytes.
	const perSample = 4 * (48 + 9 + 112 + 56 + 32 + 17)
	for _, n := range []int{0, 1, 10} {
		if got := m.ActivationBytes(n); got != int64(n*perSample) {
			t.Errorf("ActivationBytes(%d) = %d, want %d", n, got, n*perSample)
		}
	}
	tests := []struct {
		budget int64
		want   int
	}{{1, 1}, {perSample, 1}, {10*perSample - 1, 9}, {1 << 20, (1 << 20) / perSample}, {0, DefaultMaxMemory / perSample}}
	for _, tt := range tests {
		if got := m.MaxBatch(tt.budget); got != tt.want {
			t.Errorf("MaxBatch(%d) = %d, want %d", tt.budget, got, tt.want)
		}
	}
}

// ActivationBytes bounds what running a model allocates: prediction, every
// layer's output, a saliency map and a training step, at the first call
// with a batch size (when the layers make their buffers), beyond the
// parameter-sized buffers (gradient partial sums, optimizer state) and the
// per-core convolution blocks.
func TestActivationBytesBoundsAllocation(t *testing.T) {
	m := New(
		&nn.Conv2D{Filters: 8, KernelSize: pair(3), Padding: "same", Activation: "relu"},
		&nn.BatchNormalization{},
		&nn.MaxPool2D{},
		&nn.Dropout{Rate: 0.25},
		&nn.Conv2D{Filters: 4, KernelSize: pair(3), Strides: pair(2)},
		&nn.Activation{Func: "relu"},
		&nn.Flatten{},
		&nn.Dense{Units: 5, Activation: "softmax"},
	)
	if err := m.Build([]int{48, 48, 1}, 1); err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(&optim.SGD{}, nn.CrossEntropy{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	const n = 16
	x, y := randomBatch(m, n, 2)
	raw := x.Clone() // the caller's batch before preprocessing
	probs := tensor.New(n, 5)
	got := allocated(func() {
		m.Predict(probs, x)
		m.ForwardAll(x)
		m.InputGradient(x, 1)
		m.EvaluateBatch(x, y)
		m.TrainStep(x, y)
	})
	// Convolution blocks (per core) and partial sums, whatever the batch.
	fixed := int64(1+runtime.GOMAXPROCS(0)) << 20
	limit := m.ActivationBytes(n) - int64(raw.Len()*4) + fixed
	t.Logf("batch %d: running allocates %d bytes, ActivationBytes %d", n, got, m.ActivationBytes(n))
	if int64(got) > limit {
		t.Errorf("running a batch of %d allocates %d bytes, more than ActivationBytes(%d) = %d allows", n, got, n, m.ActivationBytes(n))
	}
}

// Load refuses a model that needs more memory per sample than the limit,
// before reading its weights, and accepts it under a higher limit.
func TestDecodeMemoryLimit(t *testing.T) {
	// 478 bytes declaring an input of 8192x8192x1: 1 GiB per sample.
	b := built(t, []int{8192, 8192, 1}, &nn.GlobalAveragePooling2D{}, &nn.Dense{Units: 2, Activation: "softmax"})
	const need = 4 * (3*8192*8192 + 3*2 + (3*1 + 8192*8192) + (3*2 + 1))
	var m *Sequential
	var err error
	n := allocated(func() { m, err = decode(b) })
	var me *MemoryError
	if !errors.As(err, &me) || me.Need != need || me.Limit != DefaultMaxMemory {
		t.Fatalf("Decode() = %v, want a *MemoryError for %d bytes", err, need)
	}
	want := "the model needs 1.0 GiB to run on one sample of shape [8192 8192 1], more than the limit of 512 MiB"
	if err.Error() != want {
		t.Errorf("Decode() error = %q, want %q", err, want)
	}
	if limit := decodeBudget(b); n > limit {
		t.Errorf("refusing a %d-byte file allocates %d bytes, want at most %d", len(b), n, limit)
	}
	if m, err = DecodeWith(bytes.NewReader(b), int64(len(b)), LoadOptions{MaxMemory: need}); err != nil || m.ActivationBytes(1) != need {
		t.Errorf("DecodeWith(MaxMemory %d) = %v, want the model", int64(need), err)
	}
	if _, err = DecodeWith(bytes.NewReader(b), int64(len(b)), LoadOptions{MaxMemory: need - 1}); !errors.As(err, &me) {
		t.Errorf("DecodeWith(MaxMemory %d) error = %v, want a *MemoryError", int64(need-1), err)
	}
	if _, err = DecodeWith(bytes.NewReader(b), int64(len(b)), LoadOptions{MaxMemory: -1}); err != nil {
		t.Errorf("DecodeWith(no limit) error = %v", err)
	}
}

func TestBytes(t *testing.T) {
	tests := []struct {
		n    Bytes
		want string
	}{{0, "0 B"}, {900, "900 B"}, {1024, "1 KiB"}, {1536, "1.5 KiB"}, {150 << 20, "150 MiB"}, {512 << 20, "512 MiB"}, {1<<30 + 64, "1.0 GiB"}, {3 << 60, "3 EiB"}}
	for _, tt := range tests {
		if got := tt.n.String(); got != tt.want {
			t.Errorf("Bytes(%d).String() = %q, want %q", int64(tt.n), got, tt.want)
		}
	}
	if s := (&MemoryError{Need: 2 << 30, Limit: 1 << 30, Input: []int{2}}).Error(); !strings.Contains(s, "needs 2 GiB") {
		t.Errorf("MemoryError.Error() = %q", s)
	}
}
