package loadgen

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"strconv"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat. It is
// 100 on every mainstream Linux configuration (getconf CLK_TCK).
const clockTicks = 100

// ProcessCPU returns the user plus system CPU time consumed so far by process
// pid, read from /proc/PID/stat (10 ms resolution). It returns an error if the
// process does not exist or the file is malformed. Safe for concurrent use.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU extracts utime+stime from the contents of /proc/PID/stat.
func parseStatCPU(b []byte) (time.Duration, error) {
	// The command name (field 2) is parenthesised and may contain spaces,
	// so fields are counted from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("loadgen: malformed /proc stat: no ')'")
	}
	fields := bytes.Fields(b[i+1:])
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return 0, fmt.Errorf("loadgen: malformed /proc stat: %d fields after comm", len(fields))
	}
	// Each field is bounded so that the sum, converted to a Duration, cannot
	// overflow: a value that large is not a CPU time but a corrupt file.
	const tick = time.Second / clockTicks
	const maxTicks = math.MaxInt64 / int64(tick) / 2
	var ticks int64
	for _, f := range fields[11:13] {
		v, err := strconv.ParseInt(string(f), 10, 64)
		if err != nil || v < 0 || v > maxTicks {
			return 0, fmt.Errorf("loadgen: malformed /proc stat CPU field %q", f)
		}
		ticks += v
	}
	return time.Duration(ticks) * tick, nil
}

// ProcessRSSKiB returns the resident set size of process pid in KiB, read from
// the VmRSS line of /proc/PID/status. It returns an error if the process does
// not exist or has no VmRSS line. Safe for concurrent use.
func ProcessRSSKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusRSS(b)
}

// parseStatusRSS extracts VmRSS (in kB) from the contents of /proc/PID/status.
func parseStatusRSS(b []byte) (int64, error) {
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("loadgen: malformed VmRSS line %q", line)
		}
		v, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("loadgen: malformed VmRSS value %q", f[0])
		}
		return v, nil
	}
	return 0, fmt.Errorf("loadgen: no VmRSS line")
}

// RaiseNoFile raises the soft RLIMIT_NOFILE of the calling process to the
// hard limit when the soft limit is below want, and returns the resulting
// soft limit. It returns an error if the limit cannot be read or set, or if
// the hard limit is below want. Safe for concurrent use.
func RaiseNoFile(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < want && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, err
		}
	}
	if lim.Cur < want {
		return lim.Cur, fmt.Errorf("loadgen: RLIMIT_NOFILE hard limit %d is below the %d descriptors needed", lim.Max, want)
	}
	return lim.Cur, nil
}
