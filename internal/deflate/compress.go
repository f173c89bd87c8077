package deflate

import (
	"compress/flate"
	"errors"
)

var (
	errReleased = errors.New("deflate: Compressor used after Release")
	errBusy     = errors.New("deflate: previous message writer not closed")
)

// Compressor compresses messages for one direction of one connection.
//
// A Compressor is not safe for concurrent use; one message is compressed at
// a time. See the package documentation for how windowBits and
// contextTakeover are honoured.
type Compressor struct {
	level int
	// chunk is the largest number of input bytes compressed by one
	// history-free flate stream; 0 means unlimited.
	chunk int
	// keep is true when one deflater is kept across messages (context
	// takeover with a 15-bit window).
	keep bool
	// d is the kept deflater, or the one borrowed for the current message.
	d       *deflater
	inChunk int
	busy    bool
	err     error
	mw      messageWriter
}

// NewCompressor returns a Compressor using compress/flate level level
// (flate.HuffmanOnly..flate.BestCompression; any other value, including
// flate.DefaultCompression, means level 6, flate's default). windowBits is
// the negotiated LZ77 window of this direction (the peer's
// server_max_window_bits for a server); values below 8 are treated as 8 and
// values above 15 as 15. contextTakeover reports whether the compressor may
// refer to earlier messages; it is honoured only with a 15-bit window (with
// a smaller window every chunk is compressed without history, which the
// protocol always permits). The Compressor takes no memory until its first
// message.
func NewCompressor(level int, windowBits int, contextTakeover bool) *Compressor {
	if level < flate.HuffmanOnly || level > flate.BestCompression || level == flate.DefaultCompression {
		level = 6
	}
	windowBits = max(MinWindowBits, min(MaxWindowBits, windowBits))
	c := &Compressor{level: level}
	noMatches := level == flate.NoCompression || level == flate.HuffmanOnly
	if windowBits < MaxWindowBits && !noMatches {
		c.chunk = 1 << windowBits
	}
	c.keep = contextTakeover && c.chunk == 0 && !noMatches
	return c
}

// Compress appends to dst the compressed form of one whole message (without
// the trailing 0x00 0x00 0xff 0xff, per RFC 7692 section 7.2.1) and returns
// the extended slice. An empty message compresses to the single byte 0x00.
//
// Compress returns dst unchanged and an error if the Compressor was
// released, if a Writer is still open, or if an earlier failure broke a
// context-takeover stream.
func (c *Compressor) Compress(dst, msg []byte) ([]byte, error) {
	if err := c.check(); err != nil {
		return dst, err
	}
	c.begin()
	start := len(dst)
	c.d.out.dst = dst
	err := c.write(msg)
	if err == nil {
		err = c.d.fw.Flush()
	}
	out := c.d.out.dst
	c.end()
	if err == nil && (len(out)-start < len(syncTail) || [4]byte(out[len(out)-4:]) != syncTail) {
		err = errMissingTail
	}
	if err != nil {
		c.fail(err)
		return dst, err
	}
	return out[:len(out)-len(syncTail)], nil
}

// KeepsHistory reports whether the Compressor refers to earlier messages
// (context takeover with a 15-bit window and a level that finds matches):
// its output for a message then depends on the messages before it, so it
// cannot be shared between connections. It is safe for concurrent use.
func (c *Compressor) KeepsHistory() bool { return c.keep }

// Release returns pooled resources; call it when the connection closes. It
// closes an open Writer. Afterwards Compress and Writer report an error.
func (c *Compressor) Release() {
	if c.d != nil {
		putDeflater(c.level, c.d)
		c.d = nil
	}
	c.busy = false
	c.mw.open = false
	c.err = errReleased
}

// check reports why no new message may start.
func (c *Compressor) check() error {
	if c.err != nil {
		return c.err
	}
	if c.busy {
		return errBusy
	}
	return nil
}

// begin starts a message: it borrows a fresh deflater, or reuses the kept
// one with its history.
func (c *Compressor) begin() {
	if c.d == nil {
		c.d = getDeflater(c.level)
	}
	c.inChunk = 0
	c.busy = true
}

// end finishes a message: the deflater goes back to its pool unless it is
// kept for context takeover.
func (c *Compressor) end() {
	if c.keep {
		c.d.out.reset()
	} else {
		putDeflater(c.level, c.d)
		c.d = nil
	}
	c.busy = false
}

// fail records err; a context-takeover stream cannot continue after a
// failure because the peer's view of our history is unknown.
func (c *Compressor) fail(err error) {
	if c.keep {
		c.err = err
	}
}

// write feeds p to the deflater, starting a new history-free chunk every
// c.chunk input bytes.
func (c *Compressor) write(p []byte) error {
	fw := c.d.fw
	for len(p) > 0 {
		n := len(p)
		if c.chunk > 0 {
			if c.inChunk == c.chunk {
				// Sync flush: byte aligned, non-final; then forget history.
				if err := fw.Flush(); err != nil {
					return err
				}
				fw.Reset(&c.d.out)
				c.inChunk = 0
			}
			n = min(n, c.chunk-c.inChunk)
		}
		if _, err := fw.Write(p[:n]); err != nil {
			return err
		}
		c.inChunk += n
		p = p[n:]
	}
	return nil
}
