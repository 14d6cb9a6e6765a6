//go:build purego || !amd64

package kernels

// asmImpls returns no paths: this build has no assembly.
func asmImpls(avx2, avx512 bool) []*gemmImpl { return nil }
