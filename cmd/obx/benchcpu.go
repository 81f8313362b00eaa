package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is Linux's USER_HZ, the unit of CPU times in /proc/<pid>/stat:
// 100 on every architecture Linux supports in practice.
const clockTicks = 100

// cpuMeter measures the CPU time used over a window by the PostgreSQL
// backends serving one database and by one client process: this one (the
// hub, its simulated banks and the load generator) or pgbench. On a shared
// machine throughput moves with the neighbours' load; CPU per operation much
// less so, which makes it the steadier yardstick. It reads /proc, so it
// measures only on Linux with the server on the same machine.
type cpuMeter struct {
	db      *sql.DB // a connection to the server, for pg_stat_activity
	datname string
	client  int // the client process's pid
}

// cpuSample is the CPU used so far by the client and by each backend.
type cpuSample struct {
	client   time.Duration
	backends map[int]time.Duration
}

// cpuUse is the CPU a window used.
type cpuUse struct {
	client, server time.Duration
}

func (m *cpuMeter) sample(ctx context.Context) (*cpuSample, error) {
	s := &cpuSample{backends: map[int]time.Duration{}}
	var err error
	if s.client, err = procCPU(m.client); err != nil {
		return nil, err
	}
	rows, err := m.db.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1`, m.datname)
	if err != nil {
		return nil, fmt.Errorf("list backends: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			return nil, err
		}
		if t, err := procCPU(pid); err == nil { // a backend may exit meanwhile
			s.backends[pid] = t
		}
	}
	return s, rows.Err()
}

// since returns the CPU used between an earlier sample and s, counting the
// backends present in both.
func (s *cpuSample) since(earlier *cpuSample) cpuUse {
	u := cpuUse{client: s.client - earlier.client}
	for pid, t := range s.backends {
		if t0, ok := earlier.backends[pid]; ok {
			u.server += t - t0
		}
	}
	return u
}

// procCPU returns the user and system CPU time process pid has used.
func procCPU(pid int) (time.Duration, error) {
	if pid == os.Getpid() {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			return 0, err
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// count fields after its closing parenthesis. utime and stime are
	// fields 14 and 15.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad CPU times", pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// perOp formats a window's CPU divided over n operations.
func perOp(d time.Duration, n float64) string {
	return fmt.Sprintf("%.0f µs", float64(d.Microseconds())/n)
}

// window samples at from and at until and returns the CPU used between; nil
// if ctx ended first or a sample failed (no /proc, another machine's server).
func (m *cpuMeter) window(ctx context.Context, from, until time.Time) *cpuUse {
	wait := func(t time.Time) bool {
		timer := time.NewTimer(time.Until(t))
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return true
		}
	}
	if !wait(from) {
		return nil
	}
	first, err := m.sample(ctx)
	if err != nil || !wait(until) {
		return nil
	}
	last, err := m.sample(ctx)
	if err != nil || len(first.backends) == 0 {
		return nil
	}
	u := last.since(first)
	return &u
}
