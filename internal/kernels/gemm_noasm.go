//go:build purego || !amd64

package kernels

// asmImpls returns no paths: this build has no assembly.
func asmImpls(avx2, avx512 bool) []*gemmImpl { return nil }

func reluGradSumVec(dz, dy, y, sum []float32) bool                          { return false }
func maxPool2x2Vec(y []float32, arg []int32, x []float32, g *ConvGeom) bool { return false }
func maxPool2x2GradVec(dx, dy []float32, arg []int32, g *ConvGeom) bool     { return false }
