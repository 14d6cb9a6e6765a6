package model

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

const tutorialSummary = `Model: "sequential"
_________________________________________________________________
Layer (type)                 Output Shape              Param #
=================================================================
conv2d (Conv2D)              (None, 32, 32, 32)        832
_________________________________________________________________
conv2d_1 (Conv2D)            (None, 32, 32, 32)        25,632
_________________________________________________________________
max_pooling2d (MaxPooling2D) (None, 16, 16, 32)        0
_________________________________________________________________
dropout (Dropout)            (None, 16, 16, 32)        0
_________________________________________________________________
conv2d_2 (Conv2D)            (None, 16, 16, 64)        18,496
_________________________________________________________________
conv2d_3 (Conv2D)            (None, 16, 16, 64)        36,928
_________________________________________________________________
max_pooling2d_1 (MaxPooling2 (None, 8, 8, 64)          0
_________________________________________________________________
dropout_1 (Dropout)          (None, 8, 8, 64)          0
_________________________________________________________________
flatten (Flatten)            (None, 4096)              0
_________________________________________________________________
dense (Dense)                (None, 256)               1,048,832
_________________________________________________________________
dense_1 (Dense)              (None, 256)               65,792
_________________________________________________________________
dropout_2 (Dropout)          (None, 256)               0
_________________________________________________________________
dense_2 (Dense)              (None, 28)                7,196
=================================================================
Total params: 1,203,708
Trainable params: 1,203,708
Non-trainable params: 0
_________________________________________________________________
`

func TestSummaryTutorial(t *testing.T) {
	m, err := Preset("tutorial")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := m.Summary(&b); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != tutorialSummary {
		t.Errorf("Summary() =\n%s\nwant\n%s", got, tutorialSummary)
	}
}

func TestSummaryNonTrainable(t *testing.T) {
	m, err := Preset("convnet-bn")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := m.Summary(&b); err != nil {
		t.Fatal(err)
	}
	tr, non := m.ParamCount()
	// Moving mean and variance: 2 per channel of each batch normalization.
	if want := 2 * (32 + 32 + 64 + 64 + 128 + 128 + 256); non != want {
		t.Errorf("non-trainable params = %d, want %d", non, want)
	}
	for _, want := range []string{
		"batch_normalization (BatchNo (None, 32, 32, 32)        128\n",
		"re_lu (ReLU)                 (None, 32, 32, 32)        0\n",
		"Total params: " + thousands(tr+non) + "\n",
		"Non-trainable params: " + thousands(non) + "\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Summary() lacks %q:\n%s", want, b.String())
		}
	}
}

func TestSummaryUnbuilt(t *testing.T) {
	m, _ := Preset("tutorial")
	if err := m.Summary(&bytes.Buffer{}); err == nil {
		t.Error("Summary of an unbuilt model: no error")
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1203708: "1,203,708", -12345: "-12,345", 100000: "100,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"Conv2D": "conv2d", "MaxPooling2D": "max_pooling2d", "ReLU": "re_lu", "LeakyReLU": "leaky_re_lu",
		"BatchNormalization": "batch_normalization", "GlobalAveragePooling2D": "global_average_pooling2d",
		"ELU": "elu", "Dense": "dense",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// A graph's summary has Keras 2's Functional layout: the input first, a
// "Connected to" column, one line per inbound layer. The golden file was
// checked against the layout of tf.keras 2.4's print_summary.
func TestSummaryGraph(t *testing.T) {
	m := readKeras(t, "residual_functional.json")
	var b bytes.Buffer
	if err := m.Summary(&b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "keras", "residual_functional.summary")
	if *update {
		os.WriteFile(golden, b.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("Summary() =\n%s\nwant\n%s", got, want)
	}
	// A graph that is a chain is printed without the connections.
	in := Input(4)
	g, _ := NewGraph(in, Call(&nn.Dense{Units: 2}, Call(&nn.Dense{Units: 3}, in)))
	g.Build(nil, 1)
	b.Reset()
	g.Summary(&b)
	chain := `Model: "model"
_________________________________________________________________
Layer (type)                 Output Shape              Param #
=================================================================
input_1 (InputLayer)         [(None, 4)]               0
_________________________________________________________________
dense (Dense)                (None, 3)                 15
_________________________________________________________________
dense_1 (Dense)              (None, 2)                 8
=================================================================
Total params: 23
Trainable params: 23
Non-trainable params: 0
_________________________________________________________________
`
	if b.String() != chain {
		t.Errorf("Summary() of a chain graph =\n%s\nwant\n%s", b.String(), chain)
	}
}
