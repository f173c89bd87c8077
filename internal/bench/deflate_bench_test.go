package bench

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	gorilla "github.com/gorilla/websocket"
	"github.com/wsup/websocket"
)

// countingListener counts the bytes its connections read: what the server
// received on the wire.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l.n}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// jsonMessage is about 16 KiB of JSON records that repeat with variations.
func jsonMessage() []byte {
	var b strings.Builder
	for i := 0; b.Len() < 16<<10; i++ {
		fmt.Fprintf(&b, `{"id":%d,"user":"user-%d","event":"page_view","path":"/products/%d","ms":%d},`, i, i%37, i%101, i*7%1000)
	}
	return []byte(b.String()[:16<<10])
}

type echoClient interface {
	WriteMessage(int, []byte) error
	ReadMessage() (int, []byte, error)
	Close() error
}

// benchDeflate measures one round trip (client compresses, server
// inflates, compresses the echo, client inflates) per iteration, and the
// bytes the server received per message.
func benchDeflate(b *testing.B, h http.Handler, dial func(url string) (echoClient, error)) {
	var wire atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = countingListener{srv.Listener, &wire}
	srv.Start()
	defer srv.Close()
	c, err := dial("ws" + strings.TrimPrefix(srv.URL, "http"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg := jsonMessage()
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	start := wire.Load()
	for i := 0; i < b.N; i++ {
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			b.Fatal(err)
		}
		if _, p, err := c.ReadMessage(); err != nil || len(p) != len(msg) {
			b.Fatalf("echo: %d bytes, %v", len(p), err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(wire.Load()-start)/float64(b.N), "wireB/msg")
}

// BenchmarkDeflate16KiBJSON compares permessage-deflate on a 16 KiB JSON
// message: wsup with and without context takeover, gorilla (which supports
// only no context takeover). Both at flate.BestSpeed.
func BenchmarkDeflate16KiBJSON(b *testing.B) {
	wsupServer := func(opts *websocket.CompressionOptions) http.Handler {
		up := &websocket.Upgrader{EnableCompression: true, Compression: opts}
		return up.Handler(func(c *websocket.Conn) {
			for {
				mt, p, err := c.ReadMessage()
				if err != nil || c.WriteMessage(mt, p) != nil {
					return
				}
			}
		})
	}
	wsupDial := func(url string) (echoClient, error) {
		c, _, err := (&websocket.Dialer{EnableCompression: true}).Dial(url, nil)
		return c, err
	}
	b.Run("wsup/takeover", func(b *testing.B) { benchDeflate(b, wsupServer(nil), wsupDial) })
	b.Run("wsup/no-takeover", func(b *testing.B) {
		benchDeflate(b, wsupServer(&websocket.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}), wsupDial)
	})
	b.Run("gorilla/no-takeover", func(b *testing.B) {
		up := gorilla.Upgrader{EnableCompression: true}
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			for {
				mt, p, err := c.ReadMessage()
				if err != nil || c.WriteMessage(mt, p) != nil {
					return
				}
			}
		})
		benchDeflate(b, h, func(url string) (echoClient, error) {
			c, _, err := (&gorilla.Dialer{EnableCompression: true}).Dial(url, nil)
			return c, err
		})
	})
}
