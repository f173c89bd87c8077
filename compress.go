package websocket

import (
	"compress/flate"
	"errors"
)

// defaultCompressionLevel is the flate level used for compressed messages
// unless SetCompressionLevel says otherwise.
const defaultCompressionLevel = flate.BestSpeed

// errCompressionLevel is returned by SetCompressionLevel for a level that
// compress/flate does not define.
var errCompressionLevel = errors.New("websocket: invalid compression level")

// EnableWriteCompression turns compression of messages this side writes on
// or off. It has an effect only when permessage-deflate was negotiated in
// the handshake. It is safe for concurrent use; it applies from the next
// message.
func (c *Conn) EnableWriteCompression(enable bool) {
	c.msgMu.Lock()
	c.compressEnabled = enable
	c.msgMu.Unlock()
}

// SetCompressionLevel sets the flate level (compress/flate's
// flate.HuffmanOnly, or BestSpeed 1 through BestCompression 9; -1 is
// flate.DefaultCompression) for messages written from now on. It returns an
// error for any other level and leaves the level unchanged. It is safe for
// concurrent use.
func (c *Conn) SetCompressionLevel(level int) error {
	if level < flate.HuffmanOnly || level > flate.BestCompression {
		return errCompressionLevel
	}
	c.msgMu.Lock()
	c.compressLevel = level
	c.msgMu.Unlock()
	return nil
}
