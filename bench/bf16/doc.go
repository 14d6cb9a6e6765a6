// Package bf16 measures how much a bfloat16 GEMM could gain on this CPU: the
// throughput of AVX512-BF16's VDPBF16PS (two bfloat16 products summed into
// each float32 lane) against float32 VFMADD231PS, in GFLOP/s per core.
//
//	go test ./bench/bf16 -bench . -cpu 1 -count 3
//
// Both loops keep twelve accumulators in registers and read nothing from
// memory, so the figures are the instructions' peak rates, an upper bound
// on any GEMM built from them. The benchmarks skip on CPUs without
// AVX-512 (float32) or AVX512-BF16 (bfloat16).
package bf16
