package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// HeapPath is the path at which the echoserver answers its live Go heap
// (HeapHandler) and from which compressed Idle workloads read it.
const HeapPath = "/debug/bench/heap"

// HeapHandler answers every request with the live Go heap of the calling
// process, in bytes, as one decimal line, after two garbage collections (the
// second empties sync.Pool's victim cache, so pooled objects that nothing
// holds are not counted). It is safe for concurrent use.
func HeapHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%d\n", m.HeapAlloc)
	})
}

// serverHeapKiB asks the server at addr for its live heap at path (see
// HeapHandler) over a fresh TCP connection, bounded by timeout. It returns an
// error for a failed request, a non-200 status or a malformed body.
func serverHeapKiB(ctx context.Context, addr, path string, timeout time.Duration) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, err
	}
	defer func() { _ = nc.Close() }()
	if dl, ok := ctx.Deadline(); ok {
		if err := nc.SetDeadline(dl); err != nil {
			return 0, err
		}
	}
	if _, err := fmt.Fprintf(nc, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, addr); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("loadgen: heap probe %s: status %d", path, resp.StatusCode)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("loadgen: heap probe %s: %w", path, err)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("loadgen: heap probe %s: malformed body %q", path, line)
	}
	return v / 1024, nil
}
