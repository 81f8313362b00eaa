//go:build race

package workload

// RaceEnabled reports whether this binary was built with the race detector,
// so that a workload test can build the processes it runs the same way.
const RaceEnabled = true
