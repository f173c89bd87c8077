package websocket

import (
	"bufio"
	"net"
)

// connConfig carries what the handshake negotiated into a new Conn.
type connConfig struct {
	isServer        bool
	subprotocol     string
	readBufferSize  int
	writeBufferSize int
	writeBufferPool BufferPool
	// br holds bytes that were read from the connection before the Conn
	// existed (net/http's buffered reader after a hijack). It may be nil.
	br *bufio.Reader
	// compress is non-nil when permessage-deflate was negotiated.
	compress *compressParams
}

// compressParams is a placeholder until permessage-deflate is wired in.
type compressParams struct{}

// BufferPool is a pool of write buffers. Get returns nil or a value that
// Put stored before. Implementations must be safe for concurrent use.
type BufferPool interface {
	Get() any
	Put(any)
}

// Conn is a WebSocket connection.
type Conn struct {
	conn net.Conn
}

// newConn returns a Conn over nc configured by cfg. STUB: replaced by the real
// implementation in progress.
func newConn(nc net.Conn, cfg connConfig) *Conn {
	_ = cfg
	return &Conn{conn: nc}
}
