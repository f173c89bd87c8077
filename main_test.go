package websocket

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// connHooks maps an *Upgrader to the function that makes its Conns in
// place of newConn (a func(net.Conn, connConfig) *Conn); see setConnHook.
var connHooks sync.Map

func init() {
	newConnHook = func(u *Upgrader, nc net.Conn, cfg connConfig) *Conn {
		if f, ok := connHooks.Load(u); ok {
			return f.(func(net.Conn, connConfig) *Conn)(nc, cfg)
		}
		return newConn(nc, cfg)
	}
}

// setConnHook makes fn build the Conns u accepts, in place of newConn,
// until the test ends: tests observe the negotiated connConfig this way.
func setConnHook(t *testing.T, u *Upgrader, fn func(net.Conn, connConfig) *Conn) {
	t.Helper()
	connHooks.Store(u, fn)
	t.Cleanup(func() { connHooks.Delete(u) })
}

// TestMain fails the run when goroutines started by the tests are still
// alive after they finish: a leaked goroutine is a bug in the library or in
// a test.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := leakedGoroutines(5 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "leaked goroutines:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// leakedGoroutines waits up to d for goroutines other than the test
// framework's to end, and returns the stacks of those still running.
func leakedGoroutines(d time.Duration) string {
	deadline := time.Now().Add(d)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			// Only goroutines running or started by this module's code
			// count; the runtime's and the testing package's do not.
			if !strings.Contains(g, "github.com/wsup/websocket") || strings.Contains(g, "leakedGoroutines") {
				continue
			}
			leaked = append(leaked, g)
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
