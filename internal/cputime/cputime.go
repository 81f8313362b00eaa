// Package cputime reads the CPU time this process has used, for benchmarks
// whose operations overlap: with many in flight, ns/op is wall time divided
// by concurrency and moves with the machine's other load, while CPU per
// operation is the cost that decides how much a core can carry.
package cputime

import (
	"syscall"
	"time"
)

// Self is the CPU time, user and system, that this process has used so far.
// It is 0 where the system cannot tell.
func Self() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
