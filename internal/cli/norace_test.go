//go:build !race

package cli

// raceEnabled reports a -race build, where the network runs about ten times slower.
const raceEnabled = false
