//go:build race

package model

// raceEnabled reports a -race build, where allocation counts are not exact.
const raceEnabled = true
