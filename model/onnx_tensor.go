package model

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/convnet-go/convnet/internal/onnxpb"
)

// onnxConst is a constant tensor of the graph: float32 weights or int64
// shapes.
type onnxConst struct {
	dims []int
	f    []float32 // FLOAT data
	i    []int64   // INT64 data
	// batch is 1 + the index of the value that stands for the batch size
	// (0 there), which the graph reads with Shape; 0 when none does.
	batch int
}

// size is the number of values of c.
func (c *onnxConst) size() int { return max(len(c.f), len(c.i)) }

// parseTensor reads an ONNX tensor. Its shape is checked against the data
// that holds it before anything is allocated, so a huge shape over a few
// bytes is an error rather than an allocation.
func parseTensor(t *onnxpb.TensorProto) (*onnxConst, error) {
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0 {
		return nil, fmt.Errorf("data stored in an external file is not supported")
	}
	if t.GetSegment() != nil {
		return nil, fmt.Errorf("segmented tensors are not supported")
	}
	var elem, avail int
	raw := t.GetRawData()
	switch onnxpb.TensorProto_DataType(t.GetDataType()) {
	case onnxpb.TensorProto_FLOAT:
		elem, avail = 4, len(t.GetFloatData())
	case onnxpb.TensorProto_INT64:
		elem, avail = 8, len(t.GetInt64Data())
	default:
		return nil, fmt.Errorf("data type %s, only FLOAT and INT64 are supported", onnxpb.TensorProto_DataType(t.GetDataType()))
	}
	if len(raw) > 0 {
		if avail > 0 {
			return nil, fmt.Errorf("holds both raw_data and typed data")
		}
		if len(raw)%elem != 0 {
			return nil, fmt.Errorf("raw_data of %d bytes is not a whole number of %d-byte values", len(raw), elem)
		}
		avail = len(raw) / elem
	}
	c := &onnxConst{dims: make([]int, len(t.GetDims()))}
	n := 1
	for i, d := range t.GetDims() {
		if d < 0 {
			return nil, fmt.Errorf("negative dimension in shape %v", t.GetDims())
		}
		if d > 0 && int64(n) > int64(avail)/d {
			return nil, fmt.Errorf("shape %v needs more than the %d values it holds", t.GetDims(), avail)
		}
		c.dims[i] = int(d)
		n *= int(d)
	}
	if n != avail {
		return nil, fmt.Errorf("shape %v needs %d values, it holds %d", t.GetDims(), n, avail)
	}
	switch {
	case elem == 4 && len(raw) > 0:
		c.f = make([]float32, n)
		for i := range c.f {
			c.f[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case elem == 4:
		c.f = t.GetFloatData()
	case len(raw) > 0:
		c.i = make([]int64, n)
		for i := range c.i {
			c.i[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
		}
	default:
		c.i = t.GetInt64Data()
	}
	if c.f == nil && elem == 4 {
		c.f = []float32{}
	}
	return c, nil
}

// onnxAttrs reads a node's attributes, checking that it has no other than
// the ones its operator supports; the first error is kept in err.
type onnxAttrs struct {
	n   *onnxpb.NodeProto
	m   map[string]*onnxpb.AttributeProto
	err error
}

// attrs returns the attributes of n, or an error if n has one not in known
// or has one twice.
func attrs(n *onnxpb.NodeProto, known ...string) (*onnxAttrs, error) {
	a := &onnxAttrs{n: n, m: map[string]*onnxpb.AttributeProto{}}
	for _, at := range n.GetAttribute() {
		name := at.GetName()
		if _, dup := a.m[name]; dup {
			return nil, nodeErr(n, "attribute %q appears twice", name)
		}
		ok := false
		for _, k := range known {
			ok = ok || k == name
		}
		if !ok {
			return nil, nodeErr(n, "attribute %q is not supported", name)
		}
		a.m[name] = at
	}
	return a, nil
}

func (a *onnxAttrs) get(name string, typ onnxpb.AttributeProto_AttributeType) *onnxpb.AttributeProto {
	at, ok := a.m[name]
	if !ok {
		return nil
	}
	if at.GetType() != typ && a.err == nil {
		a.err = nodeErr(a.n, "attribute %q is of type %s, want %s", name, at.GetType(), typ)
	}
	if a.err != nil {
		return nil
	}
	return at
}

// has reports whether the node sets the attribute.
func (a *onnxAttrs) has(name string) bool { _, ok := a.m[name]; return ok }

// ints returns a list of integers, or def when absent.
func (a *onnxAttrs) ints(name string, def ...int) []int {
	at := a.get(name, onnxpb.AttributeProto_INTS)
	if at == nil {
		return def
	}
	out := make([]int, len(at.GetInts()))
	for i, v := range at.GetInts() {
		out[i] = a.bound(name, v)
	}
	return out
}

// int returns an integer, or def when absent.
func (a *onnxAttrs) int(name string, def int) int {
	at := a.get(name, onnxpb.AttributeProto_INT)
	if at == nil {
		return def
	}
	return a.bound(name, at.GetI())
}

// bound keeps integers in a range where sums and products of a few of them
// cannot overflow.
func (a *onnxAttrs) bound(name string, v int64) int {
	if v < -1<<31 || v > 1<<31 {
		if a.err == nil {
			a.err = nodeErr(a.n, "attribute %q: value %d out of range", name, v)
		}
		return 0
	}
	return int(v)
}

func (a *onnxAttrs) float(name string, def float32) float32 {
	at := a.get(name, onnxpb.AttributeProto_FLOAT)
	if at == nil {
		return def
	}
	return at.GetF()
}

func (a *onnxAttrs) str(name, def string) string {
	at := a.get(name, onnxpb.AttributeProto_STRING)
	if at == nil {
		return def
	}
	return string(at.GetS())
}

// decimal returns the shortest decimal that rounds to f, as a float64:
// 0.001 for the float32 nearest 0.001, which is what a config holds.
func decimal(f float32) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	return v
}
