package websocket

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/frame"
)

// processWrites returns the write system calls this process has made
// (syscw in /proc/self/io), or -1 where that file is not available.
func processWrites() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		if v, ok := bytes.CutPrefix(line, []byte("syscw: ")); ok {
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// BenchmarkPipelinedEcho measures a server Conn on a plain TCP socket
// echoing batches of 8 messages that a peer sends in one write
// (pre-masked, as a pipelining client does), with write coalescing on and
// off; a client Conn reads the echoes. On Linux it also reports the
// server's write system calls per echoed message: the process's write
// calls (/proc/self/io) less the peer's one per batch.
//
//	go test -run XXX -bench PipelinedEcho .
func BenchmarkPipelinedEcho(b *testing.B) {
	const batch = 8
	for _, size := range []int{32, 1024} {
		for _, off := range []bool{false, true} {
			b.Run(fmt.Sprintf("%dB/coalescing=%v", size, !off), func(b *testing.B) {
				s, cl := tcpPair(b)
				srv := newConn(s, connConfig{isServer: true, noCoalesce: off})
				done := echoServer(srv)
				client := newConn(cl, connConfig{})
				var wire []byte
				for range batch {
					wire = append(wire, rawFrame{fin: true, op: frame.OpBinary, payload: make([]byte, size)}.encode()...)
				}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				before := processWrites()
				batches := 0
				for i := 0; i < b.N; i += batch {
					_, err := cl.Write(wire)
					require.NoError(b, err)
					batches++
					for range batch {
						_, _, err := client.ReadMessage()
						require.NoError(b, err)
					}
				}
				after := processWrites()
				b.StopTimer()
				if before >= 0 && after >= 0 {
					b.ReportMetric(float64(after-before-int64(batches))/float64(batches*batch), "server-writes/msg")
				}
				cl.Close()
				<-done
			})
		}
	}
}
