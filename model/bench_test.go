package model

import (
	"context"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// tutorial returns the built and compiled tutorial model (RMSprop, as the
// tutorial recipe trains it).
func tutorial(b testing.TB) *Sequential {
	b.Helper()
	m, err := Preset("tutorial")
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		b.Fatal(err)
	}
	if err := m.Compile(&optim.RMSprop{}, nn.CrossEntropy{Sparse: true}); err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkTrainStep times one training step of the tutorial model at batch
// 100 on random inputs.
func BenchmarkTrainStep(b *testing.B) { trainSteps(b, tutorial(b)) }

// trainSteps times training steps of m at batch 100 on random inputs.
func trainSteps(b *testing.B, m *Sequential) {
	x, y := randomBatch(m, 100, 1)
	m.TrainStep(x, y)
	for b.Loop() {
		m.TrainStep(x, y)
	}
	b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkPredict times inference of the tutorial model at batch 1 and 256.
func BenchmarkPredict(b *testing.B) {
	for _, n := range []int{1, 256} {
		b.Run(map[int]string{1: "batch=1", 256: "batch=256"}[n], func(b *testing.B) {
			m := tutorial(b)
			x, _ := randomBatch(m, n, 1)
			p := tensor.New(n, m.NumClasses())
			m.Predict(p, x)
			for b.Loop() {
				m.Predict(p, x)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// BenchmarkClassify times the Classifier a server runs, on one 32x32 image
// per request: one client waiting for each answer before the next request
// (the latency of a quiet server), and one client per core, each with its
// own request at a time (a server kept busy: its throughput).
func BenchmarkClassify(b *testing.B) {
	px := make([]float32, 32*32)
	for i := range px {
		px[i] = float32(i%7) / 7
	}
	classify := func(c *Classifier) error {
		_, err := c.ClassifyPixels(context.Background(), [][]float32{px}, 1)
		return err
	}
	b.Run("clients=1", func(b *testing.B) {
		c, err := NewClassifier(tutorial(b), ClassifierOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := classify(c); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
	})
	b.Run("clients=cores", func(b *testing.B) {
		c, err := NewClassifier(tutorial(b), ClassifierOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := classify(c); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
	})
}

// mapBench returns the classifier of the tutorial model and one 32x32
// image, for the benchmarks of what the demo asks for with a drawing.
func mapBench(b *testing.B) (*Classifier, []float32) {
	px := make([]float32, 32*32)
	for i := range px {
		px[i] = float32(i%7) / 7
	}
	c, err := NewClassifier(tutorial(b), ClassifierOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return c, px
}

// BenchmarkSaliency times the saliency map of one 32x32 image, as the
// demo asks for it with every drawing: a forward and a backward pass of the
// tutorial model.
func BenchmarkSaliency(b *testing.B) {
	c, px := mapBench(b)
	for b.Loop() {
		if _, err := c.Saliency(context.Background(), px, -1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkCAM times the class activation maps of one 32x32 image, as the
// demo asks for them: a forward pass of the tutorial model and a backward
// pass down to its last convolution only; occlusion's, 169 forward passes
// in batches.
func BenchmarkCAM(b *testing.B) {
	c, px := mapBench(b)
	for _, method := range CAMMethods {
		b.Run(method, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.CAM(context.Background(), px, method, -1, -1); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// BenchmarkPattern times what a channel looks for, as the demo's detail
// view asks for it: 30 steps of gradient ascent on the tutorial model, at
// its last convolution's channel 0 and at the logit of class 0.
func BenchmarkPattern(b *testing.B) {
	c, _ := mapBench(b)
	m := c.Model()
	for _, layer := range []int{m.CAMLayer(), len(m.Layers) - 1} {
		b.Run(m.Layers[layer].Name(), func(b *testing.B) {
			for b.Loop() {
				if _, err := c.Pattern(context.Background(), layer, 0, PatternOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPresets times one training step (Adam, sparse cross-entropy with
// label smoothing, as the strong and resnet recipes train) of each preset
// at batch 64 on random 32x32x1 inputs. On a busy machine, compare presets
// run in turns, one process each, by their CPU time:
//
//	go test -c -o model.test ./model
//	for i in 1 2 3 4; do for p in tutorial convnet-bn resnet; do
//		bash -c "time ./model.test -test.run '^$' -test.bench 'Presets/$p\$' -test.benchtime 20x -test.cpu 1"
//	done; done
func BenchmarkPresets(b *testing.B) {
	for _, name := range []string{"tutorial", "convnet-bn", "resnet"} {
		b.Run(name, func(b *testing.B) {
			m, err := Preset(name)
			if err != nil {
				b.Fatal(err)
			}
			if err := m.Build(nil, 1); err != nil {
				b.Fatal(err)
			}
			if err := m.Compile(&optim.Adam{LearningRate: 0.002}, nn.CrossEntropy{Sparse: true, LabelSmoothing: 0.1}); err != nil {
				b.Fatal(err)
			}
			x, y := randomBatch(m, 64, 1)
			m.TrainStep(x, y)
			for b.Loop() {
				m.TrainStep(x, y)
			}
			b.ReportMetric(float64(64*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// BenchmarkTrainStepMobileNet times one training step at batch 100 of the
// first blocks of Keras's MobileNetV2 (testdata/keras/mobilenet_keras3.json):
// depthwise and 1x1 convolutions, batch normalization, ReLU6.
func BenchmarkTrainStepMobileNet(b *testing.B) {
	m := readKeras(b, "mobilenet_keras3.json")
	if err := m.Compile(&optim.RMSprop{}, nn.CrossEntropy{Sparse: true}); err != nil {
		b.Fatal(err)
	}
	trainSteps(b, m)
}

// BenchmarkTrainStepConvNeXt times one training step at batch 100 of a
// small Keras ConvNeXt for 32x32 letters (testdata/keras/convnext_letters.json:
// stages of 2, 2, 4, 2 blocks of 32 to 256 channels, stochastic depth 0.1):
// convolutions of one group per channel, LayerNormalization, Dense layers
// on the pixels, GELU, LayerScale. bench/convnext.sh times PyTorch's.
func BenchmarkTrainStepConvNeXt(b *testing.B) {
	m := readKeras(b, "convnext_letters.json")
	if err := m.Compile(&optim.Adam{LearningRate: 1e-3}, nn.CrossEntropy{Sparse: true}); err != nil {
		b.Fatal(err)
	}
	trainSteps(b, m)
}
