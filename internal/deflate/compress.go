package deflate

import "errors"

var (
	errReleased = errors.New("deflate: Compressor used after Release")
	errBusy     = errors.New("deflate: previous message writer not closed")
)

// DictSize is the most plaintext a context-takeover Compressor keeps
// between messages as the dictionary of its next message (less when the
// window is smaller). Measured on JSON messages of 1 to 16 KiB
// (BenchmarkTakeoverDesign), an 8 KiB dictionary gives the wire size of a
// compressor kept whole for the connection, at 8 KiB instead of several
// hundred KiB per connection.
const DictSize = 8 << 10

// Compressor compresses messages for one direction of one connection.
//
// Between messages it holds no compressor: each message borrows a pooled
// klauspost/compress flate writer and returns it at the end. With context
// takeover it keeps the last min(DictSize, 2^windowBits) bytes it sent
// (growing with what was sent) and primes the next message's writer with
// them, so the message may refer to them.
//
// A Compressor is not safe for concurrent use; one message is compressed at
// a time.
type Compressor struct {
	kind encoderKind
	// takeover is true when the Compressor keeps a dictionary (context
	// takeover with a level that finds matches).
	takeover bool
	dict     window
	// d is the deflater borrowed for the current message.
	d    *deflater
	busy bool
	err  error
	mw   messageWriter
}

// NewCompressor returns a Compressor using flate level level
// (HuffmanOnly -2, NoCompression 0, BestSpeed 1 .. BestCompression 9, as
// numbered by compress/flate; any other value, including
// DefaultCompression -1, means level 6). windowBits is the negotiated LZ77
// window of this direction (the peer's server_max_window_bits for a
// server); values below 8 are treated as 8 and values above 15 as 15. With
// a window below 15 bits the levels that find matches are replaced by
// klauspost/compress's window-limited encoder, whose back-references never
// reach further than 2^windowBits bytes, message boundaries included.
// contextTakeover reports whether the compressor may refer to earlier
// messages. The Compressor takes no memory until its first message.
func NewCompressor(level int, windowBits int, contextTakeover bool) *Compressor {
	if level < levelHuffmanOnly || level > levelBest || level == -1 {
		level = levelDefault
	}
	windowBits = max(MinWindowBits, min(MaxWindowBits, windowBits))
	matches := level != levelNone && level != levelHuffmanOnly
	if !matches {
		// No back-references at all: the window does not matter.
		windowBits = MaxWindowBits
	}
	c := &Compressor{kind: encoderKind{level: level, windowBits: windowBits}}
	c.takeover = contextTakeover && matches
	c.dict.size = min(DictSize, 1<<windowBits)
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
	_, err := c.d.fw.Write(msg)
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
	c.record(msg)
	return out[:len(out)-len(syncTail)], nil
}

// Remember adds msg to the history the next message may refer to, as if
// Compress had compressed it. It is for a message the caller sent
// compressed some other way, without reference to earlier messages (a
// frame shared between connections, compressed by a Compressor without
// context takeover at this Compressor's window or a smaller one): the peer
// keeps its plaintext in its window all the same. It does nothing for a
// Compressor that keeps no history, and returns the error Compress would
// return for a released or broken Compressor, or while a Writer is open.
func (c *Compressor) Remember(msg []byte) error {
	if err := c.check(); err != nil {
		return err
	}
	c.record(msg)
	return nil
}

// KeepsHistory reports whether the Compressor refers to earlier messages
// (context takeover with a level that finds matches): its output for a
// message then depends on the messages before it, so it cannot be shared
// between connections. It is safe for concurrent use.
func (c *Compressor) KeepsHistory() bool { return c.takeover }

// Kept returns the bytes of memory the Compressor holds between messages
// (its dictionary); it is not safe for concurrent use with the other
// methods.
func (c *Compressor) Kept() int { return c.dict.kept() }

// Release returns pooled resources and frees the dictionary; call it when
// the connection closes. It closes an open Writer. Afterwards Compress and
// Writer report an error.
func (c *Compressor) Release() {
	if c.d != nil {
		putDeflater(c.kind, c.d)
		c.d = nil
	}
	c.dict.drop()
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

// begin starts a message: it borrows a deflater primed with the dictionary
// (context takeover) or with nothing.
func (c *Compressor) begin() {
	var dict []byte
	if c.takeover {
		dict = c.dict.bytes()
	}
	c.d = getDeflater(c.kind, dict)
	c.busy = true
}

// end finishes a message: the deflater goes back to its pool.
func (c *Compressor) end() {
	putDeflater(c.kind, c.d)
	c.d = nil
	c.busy = false
}

// record adds sent plaintext to the dictionary (context takeover only).
func (c *Compressor) record(p []byte) {
	if c.takeover {
		c.dict.write(p)
	}
}

// fail records err; a context-takeover stream cannot continue after a
// failure because the peer's view of our history is unknown.
func (c *Compressor) fail(err error) {
	if c.takeover {
		c.err = err
		c.dict.drop()
	}
}
