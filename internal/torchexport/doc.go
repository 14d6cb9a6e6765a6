// Package torchexport writes a convnet network and its training recipe as a
// small PyTorch project, for training on many GPUs and machines with
// PyTorch's DistributedDataParallel; the project hands the trained network
// back as ONNX, which convnet import reads. convnet export --format pytorch
// is its command.
//
// # The project
//
// [Generate] returns the files of one folder:
//
//	convnet.safetensors  the network to start from ([ModelFile]): architecture,
//	                     weights, class names and preprocessing
//	model.py             the network as a torch.nn.Module, and load_convnet,
//	                     which reads the model file and converts its layouts
//	train.py             the recipe ([Recipe]): data, augmentation, optimizer,
//	                     loss, schedule, the DDP loop, the ONNX export
//	README.md            how to run it, and how it differs from convnet train
//
// The Python is written from the templates in templates/ (text/template),
// filled with code fragments and literals this package computes, so that
// each file holds only what the network and the recipe use.
//
// # Layers
//
// model.py is made by a walk over the layers in order (walker.layer): each
// layer becomes a module of Net, statements of Net.forward that read and
// assign x, and statements of load_convnet. The walk carries what a layer
// needs to know about those before it: the input shape, and whether the
// features come from a flattened image, whose order differs (convnet
// flattens height, width, channel; PyTorch channel, height, width), so that
// the weights of the next per-feature layers and Dense are reordered when
// loaded. Merges of a graph model fit the same walk: a node reads the
// variables of its inputs and assigns its own. The element-wise merges
// broadcast an input of size 1 along an axis, in PyTorch as in convnet,
// as a squeeze-and-excitation block multiplies a map by its channel
// weights (GlobalAveragePooling2D with KeepDims, [N, C, 1, 1]). ShuffleNet's
// channel split and shuffle work on axis 1, the channels of an image as
// the features of a vector: a ChannelSlice is x[:, start:end], a
// ChannelShuffle a module of model.py that reshapes, transposes and
// reshapes as torchvision's ShuffleNetV2 does (PyTorch 1.13's
// nn.ChannelShuffle has no gradient and no ONNX translation).
//
// Conventions the generated code keeps: NCHW tensors; Keras's "same"
// padding, whose odd cell goes after (an autograd Function writes it as
// one ONNX node with explicit pads, which convnet import takes); the
// network returns logits, the input of a final softmax, which the loss
// takes; every layer with a module is named after convnet's layer, and
// train.py names the ONNX nodes after them.
//
// # What is refused
//
// A layer type, preprocessing step or recipe option the project cannot
// reproduce exactly, or that would not come back through convnet import,
// is an [*UnsupportedError] naming it: no project trains a silently
// different network. The differences that remain (PyTorch's random numbers,
// torchvision's affine transform for the augmentation, float32 summation
// order) are listed in the project's README.
package torchexport
