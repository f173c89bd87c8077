package websocket

import (
	"compress/flate"
	"net/http"
	"time"
)

// Hooks are observability callbacks of an Upgrader. Each may be nil. They
// run synchronously on the goroutine where the event happens, so they must
// be quick and must not block.
type Hooks struct {
	// OnOpen is called for each new connection, before Upgrade returns it.
	OnOpen func(c *Conn)
	// OnClose is called once a connection's network connection is closed,
	// with the close code (the peer's when it sent a close frame, else this
	// side's, else CloseAbnormalClosure) and how long the connection lived.
	OnClose func(c *Conn, code int, lifetime time.Duration)
	// OnReject is called when a handshake is refused before the hijack,
	// with the HTTP status answered and the cause.
	OnReject func(r *http.Request, status int, reason error)
}

// CompressionOptions tune permessage-deflate. The zero value is the
// default: flate.BestSpeed, a 512-byte threshold, context takeover both
// ways.
type CompressionOptions struct {
	// Level is the compress/flate level of messages this side sends
	// (flate.HuffmanOnly, or 1 to 9). 0 selects flate.BestSpeed: to send
	// uncompressed, leave compression off. Conn.SetCompressionLevel
	// changes it per connection.
	Level int
	// Threshold is the size under which WriteMessage sends a message
	// uncompressed. 0 selects 512 bytes; a negative value compresses every
	// message. Messages written with NextWriter are always compressed.
	Threshold int
	// ServerNoContextTakeover makes the server compress every message on
	// its own, sparing the compressor (about 1 MiB with compress/flate)
	// that context takeover keeps per connection.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover asks the client to compress every message on
	// its own, sparing the 32 KiB window the server keeps per connection.
	ClientNoContextTakeover bool
}

func (o *CompressionOptions) level() int {
	if o.Level == 0 || o.Level < flate.HuffmanOnly || o.Level > flate.BestCompression {
		return defaultCompressionLevel
	}
	return o.Level
}

func (o *CompressionOptions) threshold() int {
	switch {
	case o.Threshold == 0:
		return defaultCompressionThreshold
	case o.Threshold < 0:
		return 0
	}
	return o.Threshold
}

// closeCode returns the code for the OnClose hook.
func (c *Conn) closeCode() int {
	if code := c.peerCloseCode.Load(); code != 0 {
		return int(code)
	}
	if code := c.sentCloseCode.Load(); code != 0 {
		return int(code)
	}
	return CloseAbnormalClosure
}
