//go:build race

package kernels

// gemmRace reports whether the race detector is on: it makes sync.Pool drop
// items at random, so allocation counts are meaningless.
const gemmRace = true
