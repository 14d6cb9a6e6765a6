//go:build race

package web

// raceEnabled reports a -race build, whose server answers several times
// more slowly.
const raceEnabled = true
