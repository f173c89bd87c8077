package websocket

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"

	"github.com/wsup/websocket/frame"
	"github.com/wsup/websocket/internal/deflate"
)

const (
	// defaultCompressionLevel is the flate level used for compressed
	// messages unless configured otherwise.
	defaultCompressionLevel = flate.BestSpeed
	// defaultCompressionThreshold is the size under which WriteMessage
	// sends a message uncompressed: deflate gains little on small payloads
	// and costs CPU.
	defaultCompressionThreshold = 512
)

// CompressionOptions tune permessage-deflate. The zero value is the
// default: flate.BestSpeed, a 512-byte threshold, context takeover both
// ways.
//
// Messages are compressed and inflated with github.com/klauspost/compress's
// flate package, with writers and readers pooled per message: an idle
// connection keeps no compressor and no inflater, only, with context
// takeover, the last 8 KiB it sent (the dictionary of its next message)
// and up to 32 KiB of what it received (the peer may refer to it), each
// growing with what was exchanged. docs/compression.md has the measured
// figures.
type CompressionOptions struct {
	// Level is the flate level of messages this side sends, numbered as in
	// compress/flate (flate.HuffmanOnly, or 1 to 9). 0 selects
	// flate.BestSpeed: to send uncompressed, leave compression off.
	// Conn.SetCompressionLevel changes it per connection. When the client
	// limits the server's window below 15 bits, levels 1 to 9 all use
	// klauspost/compress's window-limited encoder.
	Level int
	// Threshold is the size under which WriteMessage sends a message
	// uncompressed. 0 selects 512 bytes; a negative value compresses every
	// message. Messages written with NextWriter are always compressed.
	Threshold int
	// ServerNoContextTakeover makes the server compress every message on
	// its own (the answer carries server_no_context_takeover), sparing the
	// dictionary of up to 8 KiB that context takeover keeps per connection.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover requires the client to compress every message
	// on its own: the answer carries client_no_context_takeover even when
	// the client did not offer it (RFC 7692 section 7.1.1.2 allows the
	// server to add it, and a conforming client then complies), sparing the
	// window of up to 32 KiB the server keeps per connection to inflate the
	// client's messages.
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

// compressParams is what the handshake negotiated for permessage-deflate,
// plus the local settings.
type compressParams struct {
	params    deflate.Params
	level     int
	threshold int // messages shorter than this are sent uncompressed
}

// writeWindow returns this side's compression window and context takeover.
func (c *Conn) writeWindow() (bits int, takeover bool) {
	p := c.compress.params
	if c.isServer {
		return p.ServerMaxWindowBits, !p.ServerNoContextTakeover
	}
	return p.ClientMaxWindowBits, !p.ClientNoContextTakeover
}

// readWindow returns the peer's compression window and context takeover.
func (c *Conn) readWindow() (bits int, takeover bool) {
	p := c.compress.params
	if c.isServer {
		return p.ClientMaxWindowBits, !p.ClientNoContextTakeover
	}
	return p.ServerMaxWindowBits, !p.ServerNoContextTakeover
}

// compressorLocked returns the compressor for the next message, or nil
// when compression is off or the connection is closed. The caller holds
// msgMu.
func (c *Conn) compressorLocked() *deflate.Compressor {
	if c.compress == nil || !c.compressEnabled.Load() || c.compReleased {
		return nil
	}
	level := int(c.compressLevel.Load())
	if c.writeComp != nil && c.compLevel != level {
		// A new compressor starts without history, which the peer's
		// decompressor always accepts.
		c.writeComp.Release()
		c.writeComp = nil
	}
	if c.writeComp == nil {
		bits, takeover := c.writeWindow()
		c.writeComp = deflate.NewCompressor(level, bits, takeover)
		c.compLevel = level
	}
	return c.writeComp
}

// writeCompressedLocked writes data as one compressed frame. The caller
// holds msgMu.
func (c *Conn) writeCompressedLocked(comp *deflate.Compressor, op frame.Opcode, data []byte) error {
	bp := c.getWriteBuf()
	out, err := comp.Compress((*bp)[:frame.MaxHeaderSize], data)
	if err != nil {
		c.putWriteBuf(bp)
		return err
	}
	err = c.writeFrameBuf(op, true, true, out, len(out), nil)
	// out is either *bp grown in place or a new array; bp is free either way.
	c.putWriteBuf(bp)
	return err
}

// frameSource reads the unmasked payload of the compressed message in
// progress, across its fragments, for the decompressor. It runs with
// readMu held by the reader that called into the decompressor.
type frameSource struct{ c *Conn }

func (s *frameSource) Read(p []byte) (int, error) {
	c := s.c
	for c.readRemaining == 0 {
		if c.readFinal {
			return 0, io.EOF
		}
		if _, err := c.nextFrameLocked(); err != nil {
			return 0, err
		}
	}
	return c.readPayloadLocked(p)
}

// startInflateLocked prepares the decompressor for a new compressed
// message.
func (c *Conn) startInflateLocked() {
	if c.readDecomp == nil {
		bits, takeover := c.readWindow()
		c.readDecomp = deflate.NewDecompressor(takeover, bits)
	}
	c.readDecomp.Reset(&c.readSrc)
}

// readInflateLocked reads inflated bytes of the compressed message in
// progress, enforcing the read limit on the inflated size.
func (c *Conn) readInflateLocked(p []byte) (int, error) {
	if c.readLimit > 0 {
		// Never inflate more than one byte past the limit.
		if left := c.readLimit - c.readLength + 1; int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := c.readDecomp.Read(p)
	if c.readErr != nil {
		// The frame source failed the connection (protocol error, EOF).
		return 0, c.readErr
	}
	c.readLength += int64(n)
	if c.readLimit > 0 && c.readLength > c.readLimit {
		return 0, c.failLocked(CloseMessageTooBig, ErrReadLimit)
	}
	if n > 0 && c.readText && !c.readUTF8.Write(p[:n]) {
		return 0, c.failLocked(CloseInvalidFramePayloadData, errInvalidText)
	}
	switch {
	case err == io.EOF:
		c.readInMessage = false
		if c.readText && !c.readUTF8.Complete() {
			return n, c.failLocked(CloseInvalidFramePayloadData, errInvalidText)
		}
		if n > 0 {
			return n, nil
		}
		return 0, io.EOF
	case errors.Is(err, deflate.ErrCorrupt) || errors.Is(err, deflate.ErrContextLost):
		return n, c.failLocked(CloseInvalidFramePayloadData, fmt.Errorf("%w: %v", ErrCompression, err))
	case err != nil:
		return n, c.setReadErrLocked(err)
	}
	return n, nil
}

// releaseCompression returns pooled compression state; called once the
// connection is closed.
func (c *Conn) releaseCompression() {
	if c.compress == nil {
		return
	}
	// A writer or reader still inside the (de)compressor owns it; then the
	// garbage collector takes it instead of the pool. A reader that has
	// not failed yet may still inflate buffered messages.
	if tryAcquire(c.msgMu) {
		if c.writeComp != nil {
			c.writeComp.Release()
			c.writeComp = nil
		}
		c.compReleased = true
		c.unlockMsg()
	}
	if c.readMu.TryLock() {
		if c.readDecomp != nil && c.readErr != nil {
			c.readDecomp.Release()
			c.readDecomp = nil
		}
		c.readMu.Unlock()
	}
}

// errCompressionLevel is returned by SetCompressionLevel for a level that
// compress/flate does not define.
var errCompressionLevel = errors.New("websocket: invalid compression level")

// EnableWriteCompression turns compression of messages this side writes on
// or off. It has an effect only when permessage-deflate was negotiated in
// the handshake. It is safe for concurrent use; it applies from the next
// message.
func (c *Conn) EnableWriteCompression(enable bool) {
	c.compressEnabled.Store(enable)
}

// SetCompressionLevel sets the flate level (compress/flate's
// flate.HuffmanOnly, or BestSpeed 1 through BestCompression 9; -1 is
// flate.DefaultCompression) for messages written from now on. It returns an
// error for any other level and leaves the level unchanged. It is safe for
// concurrent use; it applies from the next message.
func (c *Conn) SetCompressionLevel(level int) error {
	if level < flate.HuffmanOnly || level > flate.BestCompression {
		return errCompressionLevel
	}
	c.compressLevel.Store(int32(level))
	return nil
}
