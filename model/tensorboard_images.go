package model

import (
	"bytes"
	"image"
	"image/png"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/convnet-go/convnet/tensor"
)

// maxWeightImages is how many images of one weight are written, as
// tf.summary.image's max_outputs.
const maxWeightImages = 3

// weightImages returns a weight drawn as Keras's TensorBoard callback draws
// it with write_images=True (its _log_weight_as_image): the weight without
// its axes of size 1; a vector as one image a pixel wide; a matrix as one
// image, transposed if it has more rows than columns; three axes (a
// convolution's kernel of one input channel or filter, channels last) as
// one image of the first two for each index of the third; four axes as
// RGB or RGBA images when the last is 3 or 4 channels; anything else not
// at all (ok false). It returns the images' height and width and the first
// maxWeightImages of them encoded as PNG, each value v made a byte as
// tf.summary.image makes floats bytes: clipped to [0, 1], times 255.5,
// truncated.
func weightImages(t *tensor.Tensor) (h, w int, pngs [][]byte, ok bool) {
	var shape []int
	for _, d := range t.Shape {
		if d != 1 {
			shape = append(shape, d)
		}
	}
	v, n, c := t.Data, 1, 1
	switch len(shape) {
	case 1:
		h, w = shape[0], 1
	case 2:
		h, w = shape[0], shape[1]
		if h > w {
			h, w = w, h
			v = make([]float32, len(t.Data))
			for i := range w {
				for j := range h {
					v[j*w+i] = t.Data[i*h+j]
				}
			}
		}
	case 3:
		n, h, w = shape[2], shape[0], shape[1]
		v = make([]float32, len(t.Data))
		for p := range h * w {
			for k := range n {
				v[k*h*w+p] = t.Data[p*n+k]
			}
		}
	case 4:
		n, h, w, c = shape[0], shape[1], shape[2], shape[3]
		if c != 3 && c != 4 { // (a last axis of 1 was squeezed away)
			return 0, 0, nil, false
		}
	default:
		return 0, 0, nil, false
	}
	size := h * w * c
	for k := range min(n, maxWeightImages) {
		b, err := encodePNG(v[k*size:(k+1)*size], h, w, c)
		if err != nil {
			return 0, 0, nil, false
		}
		pngs = append(pngs, b)
	}
	return h, w, pngs, true
}

// imageByte is tf.image.convert_image_dtype(v, tf.uint8, saturate=True);
// NaN, which has no byte, is 0.
func imageByte(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	return uint8(min(v*255.5, 255))
}

// encodePNG encodes h×w pixels of c channels (1: grey, 3: RGB, 4: RGBA not
// premultiplied), as tf.image.encode_png does.
func encodePNG(v []float32, h, w, c int) ([]byte, error) {
	var img image.Image
	if c == 1 {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for i, x := range v {
			g.Pix[i] = imageByte(x)
		}
		img = g
	} else {
		rgba := image.NewNRGBA(image.Rect(0, 0, w, h))
		for p := range h * w {
			for k := range 4 {
				rgba.Pix[4*p+k] = 255
				if k < c {
					rgba.Pix[4*p+k] = imageByte(v[p*c+k])
				}
			}
		}
		img = rgba
	}
	var b bytes.Buffer
	err := png.Encode(&b, img)
	return b.Bytes(), err
}

// The fields of summary.proto and tensor_shape.proto an image summary adds.
const (
	metadataDataClass     = 4 // enum DataClass
	dataClassBlobSequence = 3 // DATA_CLASS_BLOB_SEQUENCE
	shapeDim              = 2 // repeated TensorShapeProto.Dim
	dimSize               = 1 // int64
)

// images adds the Summary.Value that tf.summary.image writes for n images
// of h×w pixels, the first of them encoded in pngs: a string tensor of the
// width, the height (in decimal) and the PNGs, for the images plugin.
func (s summary) images(tag string, h, w int, pngs [][]byte) summary {
	tensor := protowire.AppendVarint(protowire.AppendTag(nil, tensorDtype, protowire.VarintType), dtString)
	dim := protowire.AppendVarint(protowire.AppendTag(nil, dimSize, protowire.VarintType), uint64(2+len(pngs)))
	shape := protowire.AppendBytes(protowire.AppendTag(nil, shapeDim, protowire.BytesType), dim)
	tensor = protowire.AppendBytes(protowire.AppendTag(tensor, tensorShape, protowire.BytesType), shape)
	for _, b := range append([][]byte{[]byte(strconv.Itoa(w)), []byte(strconv.Itoa(h))}, pngs...) {
		tensor = protowire.AppendBytes(protowire.AppendTag(tensor, tensorStringVal, protowire.BytesType), b)
	}
	plugin := protowire.AppendString(protowire.AppendTag(nil, pluginName, protowire.BytesType), "images")
	meta := protowire.AppendBytes(protowire.AppendTag(nil, metadataPluginData, protowire.BytesType), plugin)
	meta = protowire.AppendVarint(protowire.AppendTag(meta, metadataDataClass, protowire.VarintType), dataClassBlobSequence)

	val := protowire.AppendString(protowire.AppendTag(nil, valueTag, protowire.BytesType), tag)
	val = protowire.AppendBytes(protowire.AppendTag(val, valueTensor, protowire.BytesType), tensor)
	val = protowire.AppendBytes(protowire.AppendTag(val, valueMetadata, protowire.BytesType), meta)
	return s.value(val)
}
