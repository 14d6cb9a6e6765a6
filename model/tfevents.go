package model

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
)

// TensorBoard's event files: a sequence of TFRecords, each an Event message
// of tensorboard/compat/proto/event.proto. A record is
//
//	uint64 length, uint32 masked CRC-32C of length, data, uint32 masked CRC-32C of data
//
// little endian, the CRC masked as TensorFlow's crc32c::Mask:
// ((crc >> 15) | (crc << 17)) + 0xa282ead8.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return (c>>15 | c<<17) + 0xa282ead8
}

// appendRecord appends data framed as a TFRecord to b.
func appendRecord(b, data []byte) []byte {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(data)))
	b = append(b, n[:]...)
	b = binary.LittleEndian.AppendUint32(b, maskedCRC(n[:]))
	b = append(b, data...)
	return binary.LittleEndian.AppendUint32(b, maskedCRC(data))
}

// The fields of event.proto, summary.proto and histogram.proto written here.
const (
	eventWallTime    = 1 // double
	eventStep        = 2 // int64
	eventFileVersion = 3 // string
	eventSummary     = 5 // Summary
	eventSessionLog  = 7 // SessionLog

	sessionLogStatus = 1 // enum SessionStatus
	sessionStart     = 1 // SessionStatus.START

	summaryValue = 1 // repeated Summary.Value

	valueTag         = 1 // string
	valueSimpleValue = 2 // float
	valueHisto       = 5 // HistogramProto

	histoMin         = 1 // double
	histoMax         = 2
	histoNum         = 3
	histoSum         = 4
	histoSumSquares  = 5
	histoBucketLimit = 6 // repeated double, packed
	histoBucket      = 7 // repeated double, packed
)

// event returns an Event with the wall time and step, and the field that
// appendBody appends.
func event(wallTime float64, step int, appendBody func([]byte) []byte) []byte {
	b := protowire.AppendTag(nil, eventWallTime, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(wallTime))
	if step != 0 { // proto3 leaves out a field at its default
		b = protowire.AppendTag(b, eventStep, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(step))
	}
	return appendBody(b)
}

// fileVersion is the body of a file's first event.
func fileVersion(b []byte) []byte {
	b = protowire.AppendTag(b, eventFileVersion, protowire.BytesType)
	return protowire.AppendString(b, "brain.Event:2")
}

// sessionStarted is the body of the event that begins a run: TensorBoard
// drops what an earlier run logged at this step or later (a resumed run
// logs those epochs again).
func sessionStarted(b []byte) []byte {
	b = protowire.AppendTag(b, eventSessionLog, protowire.BytesType)
	return protowire.AppendBytes(b, protowire.AppendVarint(protowire.AppendTag(nil, sessionLogStatus, protowire.VarintType), sessionStart))
}

// summary is an Event's body of Summary values, each appended by a
// function of the slice.
type summary []byte

func (s summary) scalar(tag string, v float64) summary {
	val := protowire.AppendTag(nil, valueTag, protowire.BytesType)
	val = protowire.AppendString(val, tag)
	if bits := math.Float32bits(float32(v)); bits != 0 {
		val = protowire.AppendTag(val, valueSimpleValue, protowire.Fixed32Type)
		val = protowire.AppendFixed32(val, bits)
	}
	return s.value(val)
}

func (s summary) histogram(tag string, h histogram) summary {
	val := protowire.AppendTag(nil, valueTag, protowire.BytesType)
	val = protowire.AppendString(val, tag)
	val = protowire.AppendTag(val, valueHisto, protowire.BytesType)
	return s.value(protowire.AppendBytes(val, h.marshal()))
}

func (s summary) value(val []byte) summary {
	s = protowire.AppendTag(s, summaryValue, protowire.BytesType)
	return protowire.AppendBytes(s, val)
}

// body appends the summary as an Event's field.
func (s summary) body(b []byte) []byte {
	b = protowire.AppendTag(b, eventSummary, protowire.BytesType)
	return protowire.AppendBytes(b, s)
}

// histogram is a HistogramProto: the values' statistics and, for each
// bucket, its right edge and the count of values in it.
type histogram struct {
	min, max, num, sum, sumSquares float64
	limits, counts                 []float64
}

// histogramEdges are the edges of TensorFlow's default buckets, as PyTorch's
// SummaryWriter builds them: ±1e-12·1.1ᵏ below 1e20, and 0.
var histogramEdges = sync.OnceValue(func() []float64 {
	var pos []float64
	for v := 1e-12; v < 1e20; v *= 1.1 {
		pos = append(pos, v)
	}
	edges := make([]float64, 0, 2*len(pos)+1)
	for i := len(pos) - 1; i >= 0; i-- {
		edges = append(edges, -pos[i])
	}
	edges = append(edges, 0)
	return append(edges, pos...)
})

// newHistogram buckets values as PyTorch's SummaryWriter.add_histogram does
// with its default bins: numpy.histogram over histogramEdges (each bucket
// [left, right), the last one closed; values outside the edges, and NaN, in
// none), then only the buckets from the first that holds a value to the last,
// with one empty bucket before them so that the first limit is the left edge
// of the first value's bucket (make_histogram in
// torch/utils/tensorboard/summary.py).
func newHistogram(values []float32) histogram {
	edges := histogramEdges()
	counts := make([]float64, len(edges)-1)
	h := histogram{min: math.Inf(1), max: math.Inf(-1), num: float64(len(values))}
	for _, v32 := range values {
		v := float64(v32)
		h.min, h.max = math.Min(h.min, v), math.Max(h.max, v)
		h.sum += v
		h.sumSquares += v * v
		if i := bucket(edges, v); i >= 0 {
			counts[i]++
		}
	}
	first, last := -1, -1
	for i, c := range counts {
		if c > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 { // no finite value within the edges
		return h
	}
	for i := first; i <= last+1; i++ {
		h.limits = append(h.limits, edges[i])
		if i == 0 {
			h.counts = append(h.counts, 0)
		} else {
			h.counts = append(h.counts, counts[i-1])
		}
	}
	return h
}

// bucket returns i with edges[i] <= v < edges[i+1] (v <= edges[i+1] in the
// last bucket), or -1.
func bucket(edges []float64, v float64) int {
	n := len(edges) - 1
	if !(v >= edges[0] && v <= edges[n]) {
		return -1
	}
	lo, hi := 0, n // edges[lo] <= v, and v < edges[hi] or hi == n
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if edges[mid] <= v {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

func (h histogram) marshal() []byte {
	var b []byte
	for _, f := range []struct {
		num protowire.Number
		v   float64
	}{{histoMin, h.min}, {histoMax, h.max}, {histoNum, h.num}, {histoSum, h.sum}, {histoSumSquares, h.sumSquares}} {
		if math.Float64bits(f.v) == 0 {
			continue // proto3 leaves out a field at its default
		}
		b = protowire.AppendTag(b, f.num, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, math.Float64bits(f.v))
	}
	for _, f := range []struct {
		num protowire.Number
		vs  []float64
	}{{histoBucketLimit, h.limits}, {histoBucket, h.counts}} {
		if len(f.vs) == 0 {
			continue
		}
		packed := make([]byte, 0, 8*len(f.vs))
		for _, v := range f.vs {
			packed = protowire.AppendFixed64(packed, math.Float64bits(v))
		}
		b = protowire.AppendTag(b, f.num, protowire.BytesType)
		b = protowire.AppendBytes(b, packed)
	}
	return b
}
