//go:build !race

package data

// raceEnabled reports a -race build, where long numeric checks with
// nothing concurrent skip: .ci/run runs them without -race.
const raceEnabled = false
