package model

import (
	"encoding/binary"
	"slices"
	"testing"
)

// FuzzDecode feeds Decode arbitrary bytes: it must return a model or an
// error, never panic, and a model it returns must encode again.
func FuzzDecode(f *testing.F) {
	m, _, _ := trained(f)
	good := encode(f, m, true)
	f.Add(good)
	f.Add(encode(f, m, false))
	for _, n := range []int{0, 7, 8, 9, 64, len(good) / 2, len(good) - 1} {
		f.Add(good[:n])
	}
	for _, at := range []int{0, 3, 8, 20, 100, len(good) - 10} {
		b := slices.Clone(good)
		b[at] ^= 0x55
		f.Add(b)
	}
	huge := slices.Clone(good)
	binary.LittleEndian.PutUint64(huge, 1<<40)
	f.Add(huge)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decode(b)
		if err != nil {
			return
		}
		if _, err := decode(encode(t, m, true)); err != nil {
			t.Errorf("a decoded model does not decode after encoding: %v", err)
		}
	})
}
