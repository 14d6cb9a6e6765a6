package bf16

import (
	"testing"

	"golang.org/x/sys/cpu"
)

const iterations = 1 << 16

func bench(b *testing.B, loop func(int), flopPerInstruction float64) {
	for b.Loop() {
		loop(iterations)
	}
	b.ReportMetric(float64(b.N)*iterations*12*flopPerInstruction/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkFloat32FMA(b *testing.B) {
	if !cpu.X86.HasAVX512F {
		b.Skip("no AVX-512")
	}
	bench(b, fmaLoop, 32)
}

func BenchmarkBFloat16Dot(b *testing.B) {
	if !cpu.X86.HasAVX512BF16 {
		b.Skip("no AVX512-BF16")
	}
	bench(b, bf16Loop, 64)
}
