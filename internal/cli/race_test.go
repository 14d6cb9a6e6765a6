//go:build race

package cli

// raceEnabled reports a -race build. The ONNX cross-runtime checks, long
// numeric runs with nothing concurrent to check, skip it; .ci/run runs them
// without -race. The predict tests use fewer images under it, where the network
// runs about ten times slower.
const raceEnabled = true
