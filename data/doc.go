// Package data loads labelled image datasets, prepares them for training
// and serves them in batches: the data half of a Keras workflow.
//
// Everything here imports only [github.com/convnet-go/convnet/tensor] (and
// the standard library and golang.org/x/image); models never appear.
//
// # Datasets
//
// A [Dataset] holds N images as one tensor X of shape [N, H, W, C]
// (channels last, like Keras), the raw pixel values as loaded (0..255 for
// every loader here), with integer labels Y in 0..NumClasses()-1 and the
// class names. Data sets of 8-bit images (AHCD, MNIST) hold them as bytes
// instead, in Pix, a quarter of the memory; [Dataset.Image],
// [Dataset.ImageTo] and [Dataset.Tensor] read the images either way.
// [Dataset.Subset] copies a selection.
//
// Loaders (each takes a context and stops within a read of its end, so
// that Ctrl-C interrupts a long load):
//
//   - [LoadAHCD]: the Arabic Handwritten Characters Dataset, from its zip
//     (read in place) or a folder of its four extracted CSV files. The files
//     store each 32x32 image column by column; the loader transposes them so
//     that images are upright. Labels 1..28 become 0..27, named after
//     [AHCDClasses], e.g. "alef ا".
//   - [LoadMNIST]: the four IDX files, gzip-compressed or raw (told apart
//     by their magic bytes).
//   - [LoadImageFolder]: Keras's flow_from_directory layout, one folder per
//     class in sorted order, PNG, JPEG, GIF or BMP, resized bilinearly to a
//     target size, in grayscale, RGB or RGBA. [ImageToPixels] does the same
//     conversion for one decoded image (prediction, the web demo), and
//     [DecodeImage] and [LoadImage] decode one with its size checked first
//     (PNG, JPEG, GIF, BMP, and binary PGM and PPM, which this package
//     registers with package image).
//   - [LoadCSV] and [ReadCSV]: one image per row with a label column, by name
//     or index, like Kaggle's MNIST train.csv; see [CSVOptions]. The text is
//     read a line at a time.
//   - [Named]: "ahcd" or "mnist" found by name, as keras.datasets does:
//     in the --data-dir folder if given, else in $CONVNET_DATA, then in
//     os.UserCacheDir()/convnet, else downloaded there from the public URL.
//     Wherever it is found, each file is checked against its published
//     SHA-256 ([DefaultRemotes]) before it is read, once: the sums are
//     remembered by path, size and modification time. A [Catalog] makes
//     each step explicit (and testable without a network), and loads a
//     custom copy with SkipChecksum.
//
// # Bad input
//
// Loaders either return the whole dataset or an error; nothing is
// half-loaded. Malformed content gives a *[FormatError] naming the file, the
// line and column where they apply, and what was expected against what was
// found, e.g.
//
//	train.csv:3:4: expected a number, got "four"
//	ahcd_csv.zip/csvTrainLabel 13440x1.csv:2:1: label 29 outside 1..28
//	t10k-images-idx3-ubyte.gz: truncated: dimensions [10000 28 28] need 7840000 data bytes, got 7839000
//
// Data files must be regular files: a named pipe or a device is refused at
// once, without opening it (which could block for ever).
//
// # Memory
//
// A small file can claim to hold a lot: an IDX header's dimensions, a zip
// member's size, an image header's width and height, a CSV file's count of
// lines. No size is trusted. Every decoder works out what a step costs before
// allocating it and charges it twice:
//
//   - to the input's share: a multiple of its size on disk plus a constant,
//     counting every allocation. Plain text cannot ask for more than a few
//     bytes per byte (16 are allowed); a compressed file, a zip or a gzipped
//     IDX file, may take 100 bytes per byte (the published files need 24);
//     an image 256 bytes per byte plus 16 MiB, against what its decoder
//     takes for the width, height and colour model of its header. Beyond
//     its share, a file is a compression bomb or has a forged size field.
//   - to a [Budget] that a load shares with others (the training and test
//     sets of one command), [DefaultMemory] unless given. What the data sets
//     keep stays charged; scratch memory is given back.
//
// Either limit reached gives a *[MemoryError]. Fixed limits come first: a
// zip member declares at most 1 GiB, an IDX file holds at most 1 GiB, a CSV
// line at most 16 MiB and 2^20 cells, an image at most 2^26 pixels and
// 16,384 on a side.
//
// # Preprocessing
//
// A [Standardizer] is the preprocessing a model carries with it (it is
// stored in model files as JSON), so that training, evaluation, prediction
// and the web demo treat pixels identically. It follows Keras's
// ImageDataGenerator.standardize: Rescale multiplies (1/255 maps to 0..1),
// then samplewise centring and std normalisation, then the tutorial's
// per-pixel mean image, then Keras's per-channel featurewise centring and
// std normalisation (x /= std + 1e-6). [Standardizer.Fit] computes the
// statistics on the training set only, after rescaling, as Keras does.
// [OneHot] is Keras's to_categorical.
//
// # Framing
//
// A [Framing] is where a data set's images put their ink and how large:
// [MeasureFraming] finds it from the training images (the median long side
// of the ink's bounding box, the centring by mass or by box whose centres
// vary least, the usual stroke width), and [Framing.Frame] crops any image
// to its ink, scales it and places it the same way, evening out strokes
// much thicker or thinner than the training images'. MNIST's digits come
// out at 20 pixels with their centre of mass at the centre, as the data set
// was made; AHCD's letters at 17 of 32 pixels, the middle of the sizes they
// were written at ([NamedFraming]).
//
// # Splits
//
// [Shuffle], [SplitRandom] and [SplitStratified] take a seed. [SplitBlocks]
// holds out whole blocks of consecutive rows. In AHCD's training file the
// rows cycle through the 28 letters, 8 images of each, so each block of
// [AHCDBlockSize] = 224 rows is one cycle; the 60 blocks are the 60 writers.
// This is checked on the data: which 224-row block a row is in explains 44%
// of the variance of its amount of ink, blocks shifted by half a block
// explain 33%. The test file cycles likewise in 2s (56 rows per block), and
// the mean ink of test block k tracks that of training block k (correlation
// 0.99 over the 60 blocks), and for a third of the test images the nearest
// training image (Euclidean distance of the pixels) lies in the training
// block of the same number (1 in 60 by chance): the test set's writers are
// the training set's writers, each with 8 images of a letter for training
// and 2 for testing. Holding out whole training blocks is therefore the way to
// measure generalisation to unseen writers.
//
// # Batches
//
// A [Loader] cuts a dataset into batches epoch by epoch: images [B, H, W, C]
// augmented (training only) and standardised, one-hot labels [B, classes],
// the labels and the dataset positions. Workers prepare batches ahead in
// background goroutines into a small ring of buffers that are reused, so
// an epoch allocates almost nothing. The batches depend only on the seed
// and the epoch number, not on the number of workers: the epoch's order is
// drawn from (seed, epoch), each image's augmentation from (seed, epoch,
// position) and each batch's mixing from (seed, epoch, batch). To resume
// training at epoch e, ask for epoch e.
//
// With [LoaderOptions].Mix (MixUp, CutMix), each batch's images are mixed
// two by two after the standardizer, and so are their one-hot labels
// ([Batch].Y); [Batch].Labels stay the classes of the images before mixing.
//
//	l := data.NewLoader(train, data.LoaderOptions{
//		BatchSize: 64, Shuffle: true, Seed: 1,
//		Augment: &augment.Config{RotationRange: 10, ZoomRange: augment.ZoomRangeOf(0.1)},
//		Standardizer: std, Workers: 2,
//	})
//	defer l.Close()
//	for epoch := range epochs {
//		for b := range l.Epoch(epoch) {
//			// b.X, b.Y are valid until the next batch
//		}
//	}
//
// Augmentation itself lives in package
// [github.com/convnet-go/convnet/data/augment].
//
// # References
//
// AHCD: El-Sawy, Loey and El-Bakry, "Arabic Handwritten Characters
// Recognition using Convolutional Neural Network", WSEAS Transactions on
// Computer Research 5, 2017. MNIST and the IDX format: LeCun, Cortes and
// Burges, yann.lecun.com/exdb/mnist. Keras: keras/src/legacy/preprocessing/
// image.py (ImageDataGenerator, DirectoryIterator) and
// keras/src/utils/numerical_utils.py (to_categorical).
package data
