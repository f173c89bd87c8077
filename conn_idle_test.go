package websocket

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// idleClients opens n WebSocket connections to srv by hand (raw TCP, no
// client Conn) and waits until the server has upgraded all of them. The
// clients hold no goroutine, so the goroutines and buffers that remain are
// the server's.
func idleClients(tb testing.TB, srv *httptest.Server, upgraded *sync.WaitGroup, n int) []net.Conn {
	tb.Helper()
	req := "GET / HTTP/1.1\r\nHost: " + srv.Listener.Addr().String() + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	conns := make([]net.Conn, 0, n)
	upgraded.Add(n)
	for i := 0; i < n; i++ {
		nc, err := net.Dial("tcp", srv.Listener.Addr().String())
		require.NoError(tb, err)
		conns = append(conns, nc)
		_, err = nc.Write([]byte(req))
		require.NoError(tb, err)
		require.NoError(tb, nc.SetReadDeadline(time.Now().Add(5*time.Second)))
		resp, err := http.ReadResponse(bufio.NewReaderSize(nc, 256), nil)
		require.NoError(tb, err)
		require.Equal(tb, http.StatusSwitchingProtocols, resp.StatusCode)
	}
	upgraded.Wait()
	return conns
}

// BenchmarkIdleConn measures what an idle connection costs the server in
// live heap and goroutine stack bytes, net/http's share included, over 500
// connections per iteration:
//
//   - hijack: net/http's hijacked connection alone, the handler blocked in
//     a read of the raw net.Conn (the floor set by net/http);
//   - upgrade: after Upgrade, the handler blocked reading the raw net.Conn;
//   - read: after Upgrade, the handler blocked in ReadMessage (a real idle
//     WebSocket);
//   - handler: Upgrader.Handler, whose serve function blocks in ReadMessage
//     on its own goroutine after net/http's handler returned.
//
// Goroutine stack sizes depend on GODEBUG=adaptivestackstart (on by
// default): run with adaptivestackstart=0 to see how deep the handshake
// itself goes.
func BenchmarkIdleConn(b *testing.B) {
	const n = 500
	for _, mode := range []string{"hijack", "upgrade", "read", "handler"} {
		b.Run(mode, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				benchIdleConns(b, mode, n)
			}
		})
	}
}

func benchIdleConns(b *testing.B, mode string, n int) {
	var up Upgrader
	var upgraded sync.WaitGroup
	done := make(chan struct{}, n)
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { done <- struct{}{} }()
		if mode == "hijack" {
			nc, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer nc.Close()
			_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
			_ = brw.Flush()
			upgraded.Done()
			_, _ = nc.Read(make([]byte, 1))
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		upgraded.Done()
		defer c.Close()
		if mode == "upgrade" {
			_, _ = c.NetConn().Read(make([]byte, 1))
			return
		}
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	})
	if mode == "handler" {
		h = up.Handler(func(c *Conn) {
			defer func() { done <- struct{}{} }()
			upgraded.Done()
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		})
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	before := memSnapshot()
	conns := idleClients(b, srv, &upgraded, n)
	time.Sleep(100 * time.Millisecond) // every handler reaches its read
	after := memSnapshot()
	b.ReportMetric(float64(after.heap-before.heap)/float64(n), "heap-B/conn")
	b.ReportMetric(float64(after.stack-before.stack)/float64(n), "stack-B/conn")
	for _, nc := range conns {
		nc.Close()
	}
	for j := 0; j < n; j++ {
		<-done
	}
}

type memFigures struct{ heap, stack uint64 }

// memSnapshot collects garbage twice and returns live heap and stack bytes.
func memSnapshot() memFigures {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memFigures{heap: ms.HeapAlloc, stack: ms.StackInuse}
}
