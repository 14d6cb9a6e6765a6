#include "textflag.h"

// Twelve independent multiply-adds per iteration into Z0-Z11, so that the
// loop is bound by the instructions' throughput, not their latency.

// ZERO12 clears the twelve accumulators.
#define ZERO12 VXORPS Z0, Z0, Z0; \
	VXORPS Z1, Z1, Z1; \
	VXORPS Z2, Z2, Z2; \
	VXORPS Z3, Z3, Z3; \
	VXORPS Z4, Z4, Z4; \
	VXORPS Z5, Z5, Z5; \
	VXORPS Z6, Z6, Z6; \
	VXORPS Z7, Z7, Z7; \
	VXORPS Z8, Z8, Z8; \
	VXORPS Z9, Z9, Z9; \
	VXORPS Z10, Z10, Z10; \
	VXORPS Z11, Z11, Z11

// func fmaLoop(n int): 12n VFMADD231PS, 32 floating-point operations each.
TEXT ·fmaLoop(SB), NOSPLIT, $0-8
	MOVQ n+0(FP), CX
	ZERO12
loop:
	VFMADD231PS Z30, Z31, Z0
	VFMADD231PS Z30, Z31, Z1
	VFMADD231PS Z30, Z31, Z2
	VFMADD231PS Z30, Z31, Z3
	VFMADD231PS Z30, Z31, Z4
	VFMADD231PS Z30, Z31, Z5
	VFMADD231PS Z30, Z31, Z6
	VFMADD231PS Z30, Z31, Z7
	VFMADD231PS Z30, Z31, Z8
	VFMADD231PS Z30, Z31, Z9
	VFMADD231PS Z30, Z31, Z10
	VFMADD231PS Z30, Z31, Z11
	DECQ CX
	JNZ loop
	VZEROUPPER
	RET

// The Go assembler does not know VDPBF16PS: DPBF16(p0, modrm) is the EVEX
// encoding of VDPBF16PS Z30, Z31, Zd, 62 P0 P1 P2 52 ModRM, with P0 = 0x92
// for d < 8 and 0x12 (EVEX.R' set) for d >= 8, P1 = 0x06 (W0, vvvv = Z31,
// F3), P2 = 0x40 (512 bits) and ModRM = 0xc6 + 8(d mod 8).
#define DPBF16(p0, modrm) BYTE $0x62; BYTE p0; BYTE $0x06; BYTE $0x40; BYTE $0x52; BYTE modrm

// func bf16Loop(n int): 12n VDPBF16PS (AVX512-BF16), 64 operations each.
TEXT ·bf16Loop(SB), NOSPLIT, $0-8
	MOVQ n+0(FP), CX
	ZERO12
loop:
	DPBF16($0x92, $0xc6) // VDPBF16PS Z30, Z31, Z0
	DPBF16($0x92, $0xce) // VDPBF16PS Z30, Z31, Z1
	DPBF16($0x92, $0xd6) // VDPBF16PS Z30, Z31, Z2
	DPBF16($0x92, $0xde) // VDPBF16PS Z30, Z31, Z3
	DPBF16($0x92, $0xe6) // VDPBF16PS Z30, Z31, Z4
	DPBF16($0x92, $0xee) // VDPBF16PS Z30, Z31, Z5
	DPBF16($0x92, $0xf6) // VDPBF16PS Z30, Z31, Z6
	DPBF16($0x92, $0xfe) // VDPBF16PS Z30, Z31, Z7
	DPBF16($0x12, $0xc6) // VDPBF16PS Z30, Z31, Z8
	DPBF16($0x12, $0xce) // VDPBF16PS Z30, Z31, Z9
	DPBF16($0x12, $0xd6) // VDPBF16PS Z30, Z31, Z10
	DPBF16($0x12, $0xde) // VDPBF16PS Z30, Z31, Z11
	DECQ CX
	JNZ loop
	VZEROUPPER
	RET
