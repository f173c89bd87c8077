package deflate

import (
	"errors"
	"fmt"
	"io"
)

// ErrCorrupt is wrapped by the errors Decompressor.Read returns for
// compressed data that is not a valid DEFLATE stream (including a stream
// cut short, or a back-reference beyond the available window).
var ErrCorrupt = errors.New("deflate: corrupt compressed data")

// ErrContextLost is returned by a context-takeover Decompressor once a
// message was abandoned before io.EOF (Reset called mid-message) or failed:
// the history the peer will refer to is unknown, so no later message can be
// decoded reliably.
var ErrContextLost = errors.New("deflate: compression context lost: a previous message failed or was not fully read")

var (
	errNoMessage   = errors.New("deflate: Read before Reset")
	errDecReleased = errors.New("deflate: Decompressor used after Release")
)

// Decompressor inflates messages for one direction of one connection.
//
// A Decompressor is not safe for concurrent use.
type Decompressor struct {
	takeover bool
	win      window
	f        *inflater // non-nil while a message is being read
	done     bool      // the last message was read to io.EOF
	err      error     // error of the current message
	sticky   error     // error every later message reports
}

// NewDecompressor returns a Decompressor. contextTakeover reports whether
// the peer may refer to earlier messages; windowBits is the peer's
// negotiated window (client_max_window_bits for a server), clamped to 8..15.
// With contextTakeover the Decompressor keeps the last 2^windowBits bytes of
// output between messages; without it, it keeps nothing. No memory is taken
// until the first message.
func NewDecompressor(contextTakeover bool, windowBits int) *Decompressor {
	windowBits = max(MinWindowBits, min(MaxWindowBits, windowBits))
	d := &Decompressor{takeover: contextTakeover}
	d.win.size = 1 << windowBits
	return d
}

// Reset begins a new message whose compressed payload (frames concatenated,
// already unmasked) is read from src until src returns io.EOF. src must
// return io.EOF exactly at the end of the message; its other errors are
// returned by Read unchanged.
//
// If the previous message was not read to io.EOF, it is abandoned; with
// context takeover that loses the shared history and every later Read
// returns ErrContextLost (close the connection). After Release, Read
// reports an error.
func (d *Decompressor) Reset(src io.Reader) {
	if d.f != nil {
		putInflater(d.f)
		d.f = nil
		if d.takeover && d.sticky == nil {
			d.sticky = ErrContextLost
			d.win.drop()
		}
	}
	d.done = false
	d.err = d.sticky
	if d.err != nil {
		return
	}
	var dict []byte
	if d.takeover {
		dict = d.win.bytes()
	}
	d.f = getInflater(src, dict)
}

// Read reads inflated bytes of the current message into p and returns
// io.EOF at its end (possibly together with the last bytes). It never
// returns more than len(p) bytes, so a caller counting what Read returns
// can stop a decompression bomb after its limit. Corrupt data returns an
// error wrapping ErrCorrupt; an error from the source is returned as is.
// After an error, Read keeps returning it until the next Reset (for ever
// with context takeover, see ErrContextLost).
func (d *Decompressor) Read(p []byte) (int, error) {
	if d.f == nil {
		switch {
		case d.err != nil:
			return 0, d.err
		case d.done:
			return 0, io.EOF
		}
		return 0, errNoMessage
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := d.f.rd.Read(p)
		if d.takeover {
			d.win.write(p[:n])
		}
		switch err {
		case nil:
			return n, nil
		case io.EOF:
		default:
			return n, d.fail(err)
		}
		more, err := d.f.in.sourceLeft()
		if err != nil {
			return n, d.fail(err)
		}
		if !more {
			putInflater(d.f)
			d.f = nil
			d.done = true
			return n, io.EOF
		}
		// A block with BFINAL set ended the DEFLATE stream before the end
		// of the message; the rest is a new stream that starts on a byte
		// boundary (RFC 7692 section 7.2.3.4). Each restart consumes at
		// least one source byte, so this loop is bounded by the input.
		var dict []byte
		if d.takeover {
			dict = d.win.bytes()
		}
		_ = d.f.fr.Reset(d.f.in.reader(), dict)
		if n > 0 {
			return n, nil
		}
	}
}

// fail ends the current message with err, classified as a source error or
// corruption, and returns the error Read reports.
func (d *Decompressor) fail(err error) error {
	if srcErr := d.f.in.srcErr; srcErr == nil || !errors.Is(err, srcErr) {
		err = fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	putInflater(d.f)
	d.f = nil
	d.err = err
	if d.takeover {
		d.sticky = fmt.Errorf("%w (%w)", ErrContextLost, err)
		d.win.drop()
	}
	return err
}

// Kept returns the bytes of memory the Decompressor holds between messages
// (its window, with context takeover); it is not safe for concurrent use
// with the other methods.
func (d *Decompressor) Kept() int { return d.win.kept() }

// Release returns pooled resources and frees the window; call it when the
// connection closes. Afterwards Read reports an error.
func (d *Decompressor) Release() {
	if d.f != nil {
		putInflater(d.f)
		d.f = nil
	}
	d.win.drop()
	d.done = false
	d.err = errDecReleased
	d.sticky = errDecReleased
}
