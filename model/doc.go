// Package model holds the network: building it from layers, as a stack or
// as a graph, training it one batch at a time, inspecting it, and saving it
// to a file.
//
// # Building
//
// A [Model] made by [New] is a stack of layers from package nn, each feeding
// the next, as Keras's Sequential model ([Sequential] is another name of
// Model, kept for the code written before graphs):
//
//	m := model.New(
//		&nn.Conv2D{Filters: 32, KernelSize: [2]int{5, 5}, Padding: "same", Activation: "relu"},
//		&nn.MaxPool2D{PoolSize: [2]int{2, 2}},
//		&nn.Flatten{},
//		&nn.Dense{Units: 28, Activation: "softmax"},
//	)
//	err := m.Build([]int{32, 32, 1}, seed)
//
// A model made by [NewGraph] is a graph, as with Keras's Functional API:
// [Input] makes the input, [Call] calls a layer on the outputs of others, and
// the merge layers of package nn (Add, Multiply, Average, Subtract, ScaledAdd, Maximum, Minimum, Concatenate) join
// several outputs, for skip connections and branches:
//
//	in := model.Input(32, 32, 1)
//	x := model.Call(&nn.Conv2D{Filters: 16, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"}, in)
//	y := model.Call(&nn.Conv2D{Filters: 16, KernelSize: [2]int{3, 3}, Padding: "same"}, x)
//	x = model.Call(&nn.Add{}, y, x)
//	out := model.Call(&nn.Dense{Units: 28, Activation: "softmax"}, model.Call(&nn.GlobalAveragePooling2D{}, x))
//	m, err := model.NewGraph(in, out)
//
// A graph has one input and one output; NewGraph orders its layers as Keras
// does and reports a layer called twice or on the wrong number of inputs,
// or an output that does not depend on the input, naming the layers. A stack
// is the simplest graph: both are built, trained, saved and inspected by the
// same code, and [Model.Inbound] tells which layers each layer is called on.
//
// [Model.Build] takes the shape of one sample (NHWC without the batch axis),
// names the layers the way Keras does (conv2d, conv2d_1, max_pooling2d,
// dense, ..., and input_1 for a graph's input), checks that each layer fits
// the outputs it is called on and allocates the weights. A layer that does
// not fit is an error naming it, and for a merge layer its inputs: "layer 9:
// add (Add): input 2 has shape [16 16 32] but input 1 has [32 32 32]: ...
// (inputs: conv2d_3 (None, 32, 32, 32), max_pooling2d (None, 16, 16, 32))".
// A classifier puts a Flatten (or GlobalAveragePooling2D) between its
// convolutions and its Dense layers: a Dense layer on an image applies at
// each pixel, as in Keras, and Compile refuses an output that is not one
// score per class.
//
// [Model.Summary] prints Keras 2's table of layers, output shapes and
// parameter counts, with the "Connected to" column of a Functional model for
// a graph. [Preset] and [PresetFor] return built-in architectures, among
// them "tutorial", the network of the Keras AHCD tutorial (1,203,708
// parameters), and "resnet", a small residual network.
//
// [Model.Architecture] writes the model as Keras 2's model.to_json() does
// (a Sequential or a Functional model); [ParseArchitecture] reads that, what
// Keras 3 writes, and convnet's first form. A SeparableConv2D is read as the
// two layers it computes: a DepthwiseConv2D named NAME_depthwise (no bias,
// no activation), then a 1x1 Conv2D named NAME with the bias and the
// activation; the parameters are Keras's, and the model writes them back as
// those two layers.
//
// # Training
//
// [Model.Compile] sets an optimizer (package optim) and the cross-entropy
// loss; [Model.TrainStep] then runs one step on a batch: zero the gradients,
// forward in training mode, loss, backward, update. The loss takes logits:
// when the last layer ends in a softmax, Build has that layer leave it out
// (nn.FinalSoftmax), the loss applies it (stable for any scores) and the
// backward pass starts from dL/dlogits = (softmax - target)/N; Predict and
// ForwardAll apply it for probabilities. A model that ends without a softmax
// is taken to output logits. The backward pass visits the layers in
// reverse; an output used by several layers gets the sum of their
// gradients. The buffers a step needs are allocated at the first step with
// a given batch size and reused after, so steady-state steps do not
// allocate; the backward pass lends the layers a few buffers for their
// gradients, each reused as soon as the gradient in it has been consumed
// (see nn.BufferSharer), instead of one per layer. [Model.EvaluateBatch] gives loss and correct count in
// inference mode.
//
// # Training on a data set
//
// [Model.Fit] runs epochs of steps like Keras's model.fit, with
// learning-rate schedules, callbacks ([EarlyStopping], [ModelCheckpoint],
// [CSVLogger], [TensorBoard]; a [BatchCallback] also after every step),
// validation at the end of every epoch (or of
// every n-th, [FitOptions].ValidationFreq) and resumption mid-epoch. It takes its batches from any source that implements [Batches];
// [TrainOn] and [ValidateOn] take them from a [data.Loader], which shuffles,
// augments and standardises a [data.Dataset]:
//
//	train := data.NewLoader(trainSet, data.LoaderOptions{BatchSize: 32, Shuffle: true, Seed: 1, Standardizer: std})
//	defer train.Close()
//	val := data.NewLoader(valSet, data.LoaderOptions{BatchSize: 256, Standardizer: std})
//	defer val.Close()
//	hist, err := m.Fit(ctx, model.FitOptions{
//		Epochs:        10,
//		StepsPerEpoch: train.Len(),
//		Train:         model.TrainOn(train, m.Loss().Sparse),
//		Validation:    model.ValidateOn(val, m.Loss().Sparse),
//	})
//
// examples/trainfolder trains on a folder of images this way. A loader's
// [data.LoaderOptions].Mix mixes the images of each batch (MixUp, CutMix)
// into one-hot targets that are no longer one class each, which the loss
// takes as they are.
//
// [FitOptions].SWA ends training on the average of the last epochs' weights
// ([SWA], PyTorch's stochastic weight averaging), the batch normalizations'
// statistics computed again over the training batches.
//
// [Model.FindLR] runs the learning-rate range test of fastai's and PyTorch
// Lightning's lr_find on a copy of the model: the smoothed loss of one step
// per rate, the rate growing exponentially, and the rate where the loss
// falls fastest.
//
// # Determinism
//
// Every random number a model draws (initial weights, dropout masks) comes
// from one PCG source (math/rand/v2) seeded by Build. The layers split work
// across cores only along outputs or in fixed groups summed in a fixed
// order, and gradients from several layers are summed in layer order, so one
// seed gives bit-identical weights after any number of steps, whatever
// GOMAXPROCS is. The source's state is saved with the optimizer state, so a
// resumed run continues exactly as an uninterrupted one.
//
// # Inspecting
//
// [Model.ForwardAll] returns every layer's output for a batch, the feature
// maps the demo shows, and [Model.Inbound] the layers each was computed
// from; Layers[i].Params() gives each layer's weights (kernels are HWIO).
// [Model.Predict] writes class probabilities. [Model.InputGradient] computes
// a saliency map: the gradient of one class's logit with respect to the
// input. The logit is used rather than the probability because it measures
// evidence for that class alone; the probability's gradient also moves with
// every other class. A class activation map ([CAM]: Grad-CAM or HiResCAM)
// shows instead which cells of a layer's maps raise that logit, by default
// those of the last convolution's block ([Model.CAMLayer]);
// [Classifier.Occlusion] which squares of the input, hidden, lower the
// class's probability most (no gradient: the model runs once per square);
// and [Classifier.Pattern] an input that one channel of a layer responds to
// strongly, found by gradient ascent.
//
// A Model is not safe for concurrent use: its layers own the buffers they
// compute into. A server gives each goroutine its own [Model.Clone], or
// uses a [Classifier].
//
// # Classifying
//
// A [Classifier] is the one path from an image to its classes, used by
// "convnet predict", "convnet evaluate" and the demo server:
//
//	m, err := model.Load("letters.safetensors") // or pretrained.Load("ahcd")
//	c, err := model.NewClassifier(m, model.ClassifierOptions{})
//	r, err := c.Classify(ctx, img, 3) // r.Top[0].Name, r.Top[0].Probability
//
// [Classifier.Frame] (and [Classifier.Pixels]) turns an image.Image into the
// model's raw input the way the model's training images were made:
// converted to luminance or RGB, inverted when its border is light (dark ink
// on paper, since the models learn white strokes on black), then cropped to
// its ink, scaled and centred as [Model.Framing] says, with its strokes
// brought to the training images' usual width ([data.Framing]). "convnet
// train" measures the framing of the training images and records it in the
// model's metadata ([Model.SetFraming]); a model without one gets its data
// set's ([data.NamedFraming]) or none, when images are resized whole
// (bilinear, golang.org/x/image/draw). An image of exactly the model's
// input size is taken as framed already.
// [Classifier.ClassifyPixels] then applies the model's [data.Standardizer],
// the preprocessing saved in its file, and ranks the probabilities of
// [Model.Predict], in batches of at most [ClassifierOptions].BatchSize
// images and never more than the images given. [Classifier.Trace] adds every
// layer's output, [Classifier.Saliency] the saliency map,
// [Classifier.CAM] a class activation map, and [Classifier.TraceWith] all
// three from one forward pass. [Classifier.ClassifyPixelsTTA] classifies
// each image with randomly augmented copies of it too ([TTA]). Raw pixels of the
// wrong size or not finite are errors, and so is an output that is not
// finite ([*NonFiniteError]). A classifier is safe for concurrent use: each
// batch takes one of a pool of copies of the model, made as needed up to
// [ClassifierOptions].Workers, and gives it back when done, even when the
// model panics.
//
// # Model files
//
// [Save] writes a model to one file in the safetensors layout
// (https://github.com/huggingface/safetensors), so Python's safetensors
// library reads its weights:
//
//	8 bytes     N, the header length, unsigned little-endian
//	N bytes     a JSON object, padded with spaces so that 8+N is a multiple of 8:
//	              "__metadata__": {string: string}
//	              "<tensor>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}
//	the rest    the tensors' bytes, little-endian float32, contiguous, in header
//	            order; offsets count from the first byte after the header
//
// Tensors are named "<layer>/<parameter>", such as "conv2d/kernel",
// "dense_1/bias" or "batch_normalization/moving_mean". With
// [SaveOptions].IncludeOptimizer the optimizer's state follows, as
// "optimizer/<layer>/<parameter>/<slot>" ("optimizer/dense/kernel/velocity").
//
// The metadata holds strings; those holding JSON are marked so:
//
//	format           "convnet"
//	format_version   "2"
//	convnet_version  the build that wrote the file, such as "v1.2.0" or "devel-3e91272b1c4d"
//	go_version       the Go release that built it, such as "go1.26.0"
//	architecture     JSON, Keras 2's model.to_json() of the model (see [Model.Architecture]):
//	                 {"class_name": "Sequential", "config": {"name": ..., "layers": [{"class_name": "InputLayer",
//	                 "config": {"batch_input_shape": [null,32,32,1], ...}}, {"class_name": "Conv2D", "config": {...}}, ...]}}
//	                 or {"class_name": "Functional", ...} for a graph
//	classes          JSON list of class names (may be empty)
//	preprocessing    JSON data.Standardizer, if the model has one
//	optimizer        JSON {"name", "config", "iterations", "loss", "rng"}, with IncludeOptimizer
//	history          JSON [History], after training
//	evaluation       JSON [Evaluation], after convnet evaluate --update-model
//	anything else    the model's other Meta entries
//
// The two version entries are set by [Encode] whatever Meta holds, and
// [Decode] returns them in Meta; files written before they existed have
// neither. [Model.SetHistory] and [Model.SetEvaluation] write the
// history and the evaluation, [Model.History] and
// [Model.Evaluation] read them.
//
// Version 1 files, whose architecture is {"input_shape": [32,32,1], "layers":
// [{"class_name": "Conv2D", "config": {...}}, ...]}, still load.
//
// Saving is atomic: the file is written under a temporary name, flushed to
// disk and renamed, so a crash leaves the previous file intact. [Load] and
// [Decode] check everything before trusting it: the header length (at
// least 2 bytes, within the file, at most 100 MB), the JSON (no entry twice),
// every tensor's dtype, shape and offsets (inside the data, no gaps or
// overlaps), the format name and version (a newer file is refused: "model
// file version 3 is newer than this program supports (2)"), the architecture
// (rebuilt layer by layer; before a layer is built, the weights it needs
// must fit in the tensors named after it, so that a header declaring a
// large architecture over missing or tiny tensors fails before allocating
// them), each tensor's shape against the rebuilt layers, with no tensor
// missing or left over, and every value read, which must be a finite
// number. Errors are [*FormatError] values that name the tensor, layer or
// field at fault. Load also refuses at once what is not a regular file (a
// named pipe would block, a device never end).
//
// A model file of a few hundred bytes can declare an input of 8192x8192
// pixels, whose activations take a gigabyte per image. So a loaded model
// must run one sample within [LoadOptions].MaxMemory ([DefaultMaxMemory],
// 512 MiB, unless raised), as [Model.ActivationBytes] computes it from
// the shapes: a larger one is refused with a [*MemoryError] before its
// weights are read. Callers size their batches with
// [Model.MaxBatch]; a [Classifier] sizes its batches and copies to
// [ClassifierOptions].MaxMemory.
//
// An architecture document (see [ParseArchitecture]) of a few kilobytes can
// also declare dense layers whose weights take many gigabytes: [Model.Build]
// refuses a model whose weights would pass [MaxWeights] before building the
// layer that would pass it.
//
// Decoding never panics, and what it allocates is bounded by the file: the
// weights and their gradients (twice the data section; layers allocate
// their working buffers at the first Forward, not when built), the
// optimizer state read and copied, and the parsed header, a small multiple
// of its size. Its time grows with the same sizes. FuzzDecode checks this
// bound on every input it tries.
package model
