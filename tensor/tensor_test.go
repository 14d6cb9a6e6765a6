package tensor

import (
	"math"
	"slices"
	"testing"
)

func TestNewAndViews(t *testing.T) {
	x := New(2, 3, 4)
	if x.Len() != 24 || x.Rank() != 3 || x.Dim(-1) != 4 {
		t.Fatalf("New(2,3,4): len %d rank %d last dim %d", x.Len(), x.Rank(), x.Dim(-1))
	}
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	r := x.Reshape(6, -1)
	if !slices.Equal(r.Shape, []int{6, 4}) {
		t.Fatalf("Reshape(6, -1).Shape = %v, want [6 4]", r.Shape)
	}
	r.Data[5] = 100
	if x.Data[5] != 100 {
		t.Fatal("Reshape does not share the data")
	}
	row := x.Row(1)
	if !slices.Equal(row.Shape, []int{3, 4}) || row.Data[0] != 12 {
		t.Fatalf("Row(1) = %v starting at %v, want [3 4] starting at 12", row.Shape, row.Data[0])
	}
	s := x.Slice(1, 2)
	if !slices.Equal(s.Shape, []int{1, 3, 4}) || s.Data[0] != 12 || len(s.Data) != 12 {
		t.Fatalf("Slice(1,2) = %v (%d values)", s.Shape, len(s.Data))
	}
	c := x.Clone()
	c.Data[0] = -1
	if x.Data[0] == -1 {
		t.Fatal("Clone shares the data")
	}
	x.Shape[0] = 2
	if c.Shape[0] != 2 || &c.Shape[0] == &x.Shape[0] {
		t.Fatal("Clone shares the shape")
	}
}

func TestShapeChecks(t *testing.T) {
	for _, f := range []func(){
		func() { FromData(make([]float32, 5), 2, 3) },
		func() { New(2, 3).Reshape(4, 2) },
		func() { New(2, 3).Reshape(-1, -1) },
		func() { New(2, 3).CopyFrom(New(3, 3)) },
		func() { New(2, 3).MustShape("op", 3, -1) },
		func() { Size([]int{2, -1}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("a shape mismatch did not panic")
				}
			}()
			f()
		}()
	}
	New(2, 3).MustShape("op", -1, 3) // matches
}

func TestArgMaxFinite(t *testing.T) {
	if got := ArgMax([]float32{1, 3, 3, 2}); got != 1 {
		t.Errorf("ArgMax ties = %d, want the first, 1", got)
	}
	x := FromData([]float32{1, 2, 3}, 3)
	if !x.AllFinite() {
		t.Error("AllFinite of finite values = false")
	}
	x.Data[1] = float32(math.NaN())
	if x.AllFinite() {
		t.Error("AllFinite with a NaN = true")
	}
	x.Data[1] = float32(math.Inf(-1))
	if x.AllFinite() {
		t.Error("AllFinite with -Inf = true")
	}
}
