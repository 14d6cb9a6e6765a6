//go:build !purego

package kernels

// winoInputAVX512 is the input transform of one tile of Winograd's
// convolution, V = Bᵀ·d·B, for nvec vectors of 16 channels (see
// winoInputGo): s is 36·16 floats of scratch.
//
//go:noescape
func winoInputAVX512(v, x, s *float32, ldx, cx, ps, nvec int)

// winoOutput4AVX512 and winoOutput2AVX512 are the output transforms of one
// tile of m×m outputs, Y = Aᵀ·M·A, plus the bias, then max(·, floor), for
// nvec vectors of 16 filters (see winoOutputGo): s is 6·m·16 floats of
// scratch.
//
//go:noescape
func winoOutput4AVX512(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32)

//go:noescape
func winoOutput2AVX512(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32)

// winoFilter3AVX512 and winoFilter5AVX512 transform kernels of 3×3 and
// 5×5 taps, U = G·g·Gᵀ, for nvec vectors of 16 filters: as
// winoInputAVX512 with G (6×r) for Bᵀ, s 6·r·16 floats of scratch.
// winoFilter4AVX512 and winoFilter2AVX512 transform tiles of 4×4 and 2×2
// cells of the outputs' gradient the same way, for the kernel gradient.
//
//go:noescape
func winoFilter3AVX512(v, x, s *float32, ldx, cx, ps, nvec int)

//go:noescape
func winoFilter5AVX512(v, x, s *float32, ldx, cx, ps, nvec int)

//go:noescape
func winoFilter4AVX512(v, x, s *float32, ldx, cx, ps, nvec int)

//go:noescape
func winoFilter2AVX512(v, x, s *float32, ldx, cx, ps, nvec int)

// winoOutput3AVX512 and winoOutput5AVX512 are the output transforms of the
// kernel gradient's sums into 3×3 and 5×5 kernels, as winoOutput4AVX512.
//
//go:noescape
func winoOutput3AVX512(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32)

//go:noescape
func winoOutput5AVX512(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32)
