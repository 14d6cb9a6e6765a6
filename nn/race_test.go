//go:build race

package nn_test

// raceEnabled reports that the race detector is on; it makes sync.Pool
// drop items at random, so allocation counts are not meaningful.
const raceEnabled = true
