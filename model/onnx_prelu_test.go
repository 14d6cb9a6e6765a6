package model

import (
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"google.golang.org/protobuf/proto"
)

// TestImportONNXPReLU imports PRelu nodes whose slope has each shape that
// broadcasts to an image [N 3 5 4] (C H W) from the right: one value (as
// PyTorch's nn.PReLU() writes it), one per channel ([3 1 1], nn.PReLU(3);
// with the batch axis, [1 3 1 1]), one per column ([4]), per row ([5 1]),
// one per value ([3 5 4]). Each becomes a PReLU whose shared axes are
// those the slope is 1 along and whose alpha at (h, w, c) is the slope
// there; slopes that do not broadcast are refused naming the node.
func TestImportONNXPReLU(t *testing.T) {
	m := New(
		&nn.Conv2D{Filters: 3, KernelSize: pair(3), Padding: "same"},
		&nn.PReLU{},
		&nn.Flatten{},
		&nn.Dense{Units: 2, Activation: "softmax"},
	)
	if err := m.Build([]int{5, 4, 1}, 1); err != nil {
		t.Fatal(err)
	}
	slopeOf := func(mp *onnxpb.ModelProto) *onnxpb.TensorProto {
		for _, w := range mp.Graph.Initializer {
			if strings.HasSuffix(w.GetName(), "/slope") {
				return w
			}
		}
		t.Fatal("no slope")
		return nil
	}
	for _, tt := range []struct {
		dims   []int64
		shared []int
		want   string // an error
	}{
		{dims: []int64{1}, shared: []int{1, 2, 3}},
		{dims: []int64{3, 1, 1}, shared: []int{1, 2}},
		{dims: []int64{1, 3, 1, 1}, shared: []int{1, 2}},
		{dims: []int64{4}, shared: []int{1, 3}},
		{dims: []int64{5, 1}, shared: []int{2, 3}},
		{dims: []int64{3, 5, 4}},
		{dims: []int64{1, 1, 1, 1}, shared: []int{1, 2, 3}},
		{dims: []int64{2}, want: `node "p_re_lu" (PRelu): slope "p_re_lu/slope" of shape [2] does not broadcast to the input [N 3 5 4]`},
		{dims: []int64{3, 5}, want: `slope "p_re_lu/slope" of shape [3 5] does not broadcast`},
		{dims: []int64{2, 3, 1, 1}, want: `slope "p_re_lu/slope": want a float tensor that broadcasts to the input [N 3 5 4], got shape [2 3 1 1]`},
	} {
		mp, err := onnxModel(m, ONNXExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := slopeOf(mp)
		n := 1
		for _, d := range tt.dims {
			n *= int(d)
		}
		// The slope at flat index i of its own shape is 0.01·i - 0.2.
		s.Dims, s.RawData = tt.dims, nil
		s.FloatData = make([]float32, n)
		for i := range s.FloatData {
			s.FloatData[i] = 0.01*float32(i) - 0.2
		}
		b, err := proto.Marshal(mp)
		if err != nil {
			t.Fatal(err)
		}
		got, err := importBytes(b, ONNXImportOptions{})
		if tt.want != "" {
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("slope %v: %v, want %q", tt.dims, err, tt.want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("slope %v: %v", tt.dims, err)
		}
		p, ok := got.Layers[1].(*nn.PReLU)
		if !ok || !slices.Equal(p.SharedAxes, tt.shared) {
			t.Fatalf("slope %v: layer 1 %s %v, want a PReLU sharing axes %v", tt.dims, got.Layers[1].Type(), got.Layers[1].Config(), tt.shared)
		}
		// The slope's value at (c, h, w), broadcast from the right.
		dims := slices.Clone(tt.dims)
		if len(dims) == 4 {
			dims = dims[1:]
		}
		dims = append(slices.Repeat([]int64{1}, 3-len(dims)), dims...)
		at := func(c, h, w int) float32 {
			k := []int{c, h, w}
			for a := range k {
				if dims[a] == 1 {
					k[a] = 0
				}
			}
			return s.FloatData[(k[0]*int(dims[1])+k[1])*int(dims[2])+k[2]]
		}
		alpha := p.Params()[0].Value
		as := alpha.Shape
		for h := range 5 {
			for w := range 4 {
				for c := range 3 {
					i := ((min(h, as[0]-1)*as[1]+min(w, as[1]-1))*as[2] + min(c, as[2]-1))
					if alpha.Data[i] != at(c, h, w) {
						t.Fatalf("slope %v: alpha at (%d, %d, %d) is %v, the slope there %v", tt.dims, h, w, c, alpha.Data[i], at(c, h, w))
					}
				}
			}
		}
	}
}
