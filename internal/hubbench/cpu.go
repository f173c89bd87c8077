package hubbench

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPU time is a steadier measure than wall-clock time on a machine shared
// with other work: it counts what the servers spent, not what they waited.

// selfCPU returns the user and system CPU time of this process (the
// servers, and the publisher).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTick is the unit of /proc/PID/stat's times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// processCPU returns the user and system CPU time of process pid from
// /proc (0 where there is none).
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses: utime and
	// stime are the 12th and 13th of them.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * clockTick
}

// CPU returns redis-server's CPU time so far.
func (s *RedisServer) CPU() time.Duration { return processCPU(s.cmd.Process.Pid) }
