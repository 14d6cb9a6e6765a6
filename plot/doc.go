// Package plot draws the pictures of convnet as PNG images: grids of sample
// images with their labels, training curves, and confusion-matrix heatmaps.
//
// The package never opens files. Functions that produce a picture either
// return an [image.Image] ([Grid], [CurvesImage], [ConfusionHeatmapImage])
// or encode a PNG to an [io.Writer] ([Curves], [ConfusionHeatmap],
// [WritePNG]); the caller decides where it goes and writes it atomically.
//
// # Text
//
// Text is drawn with DejaVu Sans, embedded in the package (fonts/, with its
// license), which covers Latin and Arabic letters. Arabic class names of
// AHCD are isolated letters and are drawn as they are, without shaping.
//
// # Pictures
//
//   - [Grid] lays out images (a [Cell] each, HWC pixels in 0..255) in rows
//     with a label under each image. With two-line labels in red it shows
//     misclassified images ("true: alef ا" / "pred: beh ب").
//   - [Curves] draws loss and accuracy per epoch for the training and
//     validation sets, and the learning rate when it changed.
//   - [ConfusionHeatmap] draws a confusion matrix with counts in the cells,
//     class names on both axes and a colour scale.
package plot
