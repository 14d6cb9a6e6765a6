//go:build !purego

package kernels

// The transforms of Winograd's convolution (see winoKernels), for nvec
// vectors of 16 channels or filters, in AVX-512 and in AVX2; what each
// computes is written out in _asm/winograd_asm.go (winoTwoSided,
// winoOutput). winoInput is the input transform of one window, V = Bᵀ·d·B,
// with s 36·16 floats of scratch; winoFilter3 and winoFilter5 transform
// kernels of 3×3 and 5×5 taps, U = G·g·Gᵀ, winoFilter4 and winoFilter2
// tiles of 4×4 and 2×2 cells of the outputs' gradient, for the kernel
// gradient, the same way. winoOutput4 and winoOutput2 transform one tile's
// products into m×m outputs, Y = Aᵀ·M·A, plus the bias, then max(·,
// floor), s 6·m·16 floats of scratch; winoOutput3 and winoOutput5 the
// kernel gradient's sums into 3×3 and 5×5 kernels.
var (
	winoAVX512 = &winoKernels{
		input: winoInputAVX512, filter3: winoFilter3AVX512, filter5: winoFilter5AVX512,
		grad4: winoFilter4AVX512, grad2: winoFilter2AVX512,
		output4: winoOutput4AVX512, output2: winoOutput2AVX512, output3: winoOutput3AVX512, output5: winoOutput5AVX512,
	}
	winoAVX2 = &winoKernels{
		input: winoInputAVX2, filter3: winoFilter3AVX2, filter5: winoFilter5AVX2,
		grad4: winoFilter4AVX2, grad2: winoFilter2AVX2,
		output4: winoOutput4AVX2, output2: winoOutput2AVX2, output3: winoOutput3AVX2, output5: winoOutput5AVX2,
	}
)

//go:noescape
func winoInputAVX512(v, x, s *float32, ldx, cx, ps, nvec int)

//go:noescape
func winoFilter3AVX512(v, x, s *float32, ldx, cx, ps, nvec int)

//go:noescape
func winoFilter5AVX512(v, x, s *float32, ldx, cx, ps, nvec int)

//go:noescape
func winoFilter4AVX512(v, x, s *float32, ldx, cx, ps, nvec int)

//go:noescape
func winoFilter2AVX512(v, x, s *float32, ldx, cx, ps, nvec int)

//go:noescape
func winoOutput4AVX512(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32)

//go:noescape
func winoOutput2AVX512(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32)

//go:noescape
func winoOutput3AVX512(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32)

//go:noescape
func winoOutput5AVX512(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32)

//go:noescape
func winoInputAVX2(v, x, s *float32, ldx, cx, ps, nvec int)

//go:noescape
func winoFilter3AVX2(v, x, s *float32, ldx, cx, ps, nvec int)

//go:noescape
func winoFilter5AVX2(v, x, s *float32, ldx, cx, ps, nvec int)

//go:noescape
func winoFilter4AVX2(v, x, s *float32, ldx, cx, ps, nvec int)

//go:noescape
func winoFilter2AVX2(v, x, s *float32, ldx, cx, ps, nvec int)

//go:noescape
func winoOutput4AVX2(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32)

//go:noescape
func winoOutput2AVX2(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32)

//go:noescape
func winoOutput3AVX2(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32)

//go:noescape
func winoOutput5AVX2(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32)
