package websocket

import (
	"errors"
	"fmt"
	"io"

	"github.com/wsup/websocket/frame"
)

// errStaleReader is returned by a message reader used after the next
// message was requested.
var errStaleReader = errors.New("websocket: read from a stale message reader")

// NextReader returns the type of the next data message (TextMessage or
// BinaryMessage) and a reader for its payload. Unread bytes of the previous
// message are discarded. Control frames that arrive meanwhile are handled
// by the ping, pong and close handlers.
//
// The reader is valid until the next call to NextReader, ReadMessage or
// ReadJSON; it returns io.EOF at the end of the message. Once a read fails
// (a close frame, a protocol error, a timeout), the connection is done
// reading and every later call returns the same error: a *CloseError when
// the peer closed, ErrReadLimit, or an error wrapping ErrProtocol or
// ErrInvalidUTF8 after this side closed the connection with 1002, 1009 or
// 1007.
//
// NextReader must not be called concurrently with another read.
func (c *Conn) NextReader() (messageType int, r io.Reader, err error) {
	c.readMu.Lock()
	defer c.unlockRead()
	c.awaitInputLocked()
	messageType, err = c.nextMessageLocked()
	if err != nil {
		return 0, nil, err
	}
	return messageType, &messageReader{c: c, seq: c.readSeq}, nil
}

// awaitInputLocked waits for input when nothing is buffered between
// messages. The frame parser would wait the same way a few calls deeper;
// waiting here keeps the stack of a goroutine parked on an idle connection
// small enough for the runtime's smallest (2 KiB) goroutine stack, which
// halves the stack memory of every idle connection. Errors are kept by
// the read buffer and returned by the parser.
func (c *Conn) awaitInputLocked() {
	if !c.readInMessage && c.readErr == nil {
		c.br.await()
	}
}

// nextMessageLocked skips the rest of the previous message and reads up to
// the first frame of the next data message.
func (c *Conn) nextMessageLocked() (messageType int, err error) {
	if c.readErr != nil {
		return 0, c.readErr
	}
	c.readSeq++
	for c.readInMessage {
		if err := c.discardMessageLocked(); err != nil {
			return 0, err
		}
	}
	for {
		h, err := c.nextFrameLocked()
		if err != nil {
			return 0, err
		}
		if h.Opcode == frame.OpText || h.Opcode == frame.OpBinary {
			return int(h.Opcode), nil
		}
	}
}

// messageReader reads the payload of one data message.
type messageReader struct {
	c   *Conn
	seq uint64
}

// Read reads payload bytes of the message; io.EOF at its end.
func (r *messageReader) Read(p []byte) (int, error) {
	c := r.c
	c.readMu.Lock()
	defer c.unlockRead()
	if r.seq != c.readSeq {
		return 0, errStaleReader
	}
	return c.readLocked(p)
}

// frameRemaining returns the unread payload bytes of the current frame
// when the reader is current and they are read as they arrive
// (uncompressed); else 0. ReadFrom sizes its buffer with it.
func (r *messageReader) frameRemaining() int64 {
	c := r.c
	c.readMu.Lock()
	defer c.unlockRead()
	if r.seq != c.readSeq || c.readErr != nil || !c.readInMessage || c.readCompressed {
		return 0
	}
	return c.readRemaining
}

// readLocked reads payload bytes of the message in progress; io.EOF at its
// end.
func (c *Conn) readLocked(p []byte) (int, error) {
	if c.readErr != nil {
		return 0, c.readErr
	}
	if !c.readInMessage {
		return 0, io.EOF
	}
	if c.readCompressed {
		return c.readInflateLocked(p)
	}
	for {
		if c.readRemaining > 0 {
			if len(p) == 0 {
				return 0, nil
			}
			n, err := c.readPayloadLocked(p)
			if n > 0 && c.readText && !c.readUTF8.Write(p[:n]) {
				return 0, c.failLocked(CloseInvalidFramePayloadData, errInvalidText)
			}
			if err == nil && c.readRemaining == 0 && c.readFinal {
				// The message ends here; end it now rather than on the
				// next call, so the caller sees the end without another
				// read.
				if err := c.endMessageLocked(); err != nil {
					return 0, err
				}
			}
			return n, err
		}
		if c.readFinal {
			if err := c.endMessageLocked(); err != nil {
				return 0, err
			}
			return 0, io.EOF
		}
		// Next fragment; control frames in between are handled inside.
		if _, err := c.nextFrameLocked(); err != nil {
			return 0, err
		}
	}
}

// readPayloadLocked reads up to len(p) bytes of the current frame's payload
// and unmasks them.
func (c *Conn) readPayloadLocked(p []byte) (int, error) {
	if int64(len(p)) > c.readRemaining {
		p = p[:c.readRemaining]
	}
	n, err := c.br.Read(p)
	if n > 0 {
		c.readRemaining -= int64(n)
		if c.readMasked {
			c.readKeyPos = frame.Mask(c.readKey, c.readKeyPos, p[:n])
		}
	}
	if err != nil {
		return n, c.setReadErrLocked(eofError(err))
	}
	return n, nil
}

// endMessageLocked ends an uncompressed message whose last byte was read.
func (c *Conn) endMessageLocked() error {
	c.readInMessage = false
	if c.readText && !c.readUTF8.Complete() {
		return c.failLocked(CloseInvalidFramePayloadData, errInvalidText)
	}
	return nil
}

// discardMessageLocked skips the rest of the message in progress. Text is
// still validated, and compressed messages are still inflated: with context
// takeover the next message may refer to this one. Uncompressed payload is
// skipped inside the read buffer, without a copy.
func (c *Conn) discardMessageLocked() error {
	if c.readCompressed {
		if c.discardBuf == nil {
			c.discardBuf = new([512]byte)
		}
		for {
			_, err := c.readLocked(c.discardBuf[:])
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
	for c.readInMessage {
		if c.readRemaining == 0 {
			if c.readFinal {
				return c.endMessageLocked()
			}
			if _, err := c.nextFrameLocked(); err != nil {
				return err
			}
			continue
		}
		if c.br.Buffered() == 0 {
			if _, err := c.br.Peek(1); err != nil {
				return c.setReadErrLocked(eofError(err))
			}
		}
		b := c.br.Bytes()
		if int64(len(b)) > c.readRemaining {
			b = b[:c.readRemaining]
		}
		n := int64(len(b))
		if c.readMasked {
			c.readKeyPos = frame.Mask(c.readKey, c.readKeyPos, b)
		}
		if c.readText && !c.readUTF8.Write(b) {
			return c.failLocked(CloseInvalidFramePayloadData, errInvalidText)
		}
		c.br.Discard(int(n))
		c.readRemaining -= n
	}
	return nil
}

// nextFrameLocked reads frame headers, handling control frames, until a
// data frame arrives, and returns its header. The data frame's payload is
// left unread (readRemaining bytes). It enforces every framing rule of
// RFC 6455 section 5 and fails the connection on a violation.
func (c *Conn) nextFrameLocked() (frame.Header, error) {
	for {
		h, err := c.readHeaderLocked()
		if err != nil {
			return h, err
		}
		if err := c.checkHeaderLocked(h); err != nil {
			return h, err
		}
		if h.Opcode.IsControl() {
			if err := c.handleControlLocked(h); err != nil {
				return h, err
			}
			continue
		}
		if h.Opcode != frame.OpContinuation {
			c.readInMessage = true
			c.readText = h.Opcode == frame.OpText
			c.readCompressed = h.Rsv1
			c.readLength = 0
			c.readUTF8.Reset()
		}
		c.dataFrames.Add(1)
		if c.coalesce {
			c.moreInput.Store(int64(c.br.Buffered()) > h.Length)
		}
		if !c.readCompressed {
			// The limit applies to the payload; for a compressed message,
			// to the inflated bytes as they come out (readInflateLocked).
			c.readLength += h.Length
			if c.readLimit > 0 && c.readLength > c.readLimit {
				return h, c.failLocked(CloseMessageTooBig, ErrReadLimit)
			}
		}
		c.readRemaining = h.Length
		c.readFinal = h.Fin
		c.readMasked = h.Masked
		c.readKey = h.Key
		c.readKeyPos = 0
		if h.Rsv1 {
			c.startInflateLocked()
		}
		return h, nil
	}
}

// readHeaderLocked reads one frame header from the read buffer: parsed in
// place when it is buffered whole, else after reading the rest.
func (c *Conn) readHeaderLocked() (frame.Header, error) {
	h, n, err := frame.Parse(c.br.Bytes())
	if err == frame.ErrShortHeader {
		var b []byte
		b, err = c.br.Peek(2)
		if err != nil {
			return frame.Header{}, c.setReadErrLocked(eofError(err))
		}
		if b, err = c.br.Peek(frame.HeaderSize(b[0], b[1])); err != nil {
			return frame.Header{}, c.setReadErrLocked(eofError(err))
		}
		h, n, err = frame.Parse(b)
	}
	if err != nil {
		return h, c.failLocked(CloseProtocolError, fmt.Errorf("%w: %v", ErrProtocol, err))
	}
	c.framesRead.Add(1)
	c.br.Discard(n)
	return h, nil
}

// eofError turns io.EOF from the network (the peer's connection ended
// without a close frame, in a frame or between two) into an abnormal
// closure, as in gorilla/websocket: a *CloseError with
// CloseAbnormalClosure that wraps io.ErrUnexpectedEOF. Other errors are
// returned as they are.
func eofError(err error) error {
	if err != io.EOF {
		return err
	}
	return &CloseError{Code: CloseAbnormalClosure, Text: io.ErrUnexpectedEOF.Error(), cause: io.ErrUnexpectedEOF}
}

// checkHeaderLocked applies the framing rules that depend on the
// connection's state.
func (c *Conn) checkHeaderLocked(h frame.Header) error {
	protocolErr := func(msg string) error {
		return c.failLocked(CloseProtocolError, fmt.Errorf("%w: %s", ErrProtocol, msg))
	}
	if err := h.Check(); err != nil {
		return protocolErr(err.Error())
	}
	if h.Rsv2 || h.Rsv3 {
		return protocolErr("reserved bits set")
	}
	if h.Rsv1 {
		switch {
		case c.compress == nil:
			return protocolErr("RSV1 set without a negotiated extension")
		case h.Opcode != frame.OpText && h.Opcode != frame.OpBinary:
			// RFC 7692 section 6.1: only the first frame of a message.
			return protocolErr("RSV1 set on a control or continuation frame")
		}
	}
	if c.isServer && !h.Masked {
		return protocolErr("client frame not masked")
	}
	if !c.isServer && h.Masked {
		return protocolErr("server frame masked")
	}
	switch h.Opcode {
	case frame.OpContinuation:
		if !c.readInMessage {
			return protocolErr("continuation frame without a message in progress")
		}
	case frame.OpText, frame.OpBinary:
		if c.readInMessage {
			return protocolErr("new data frame inside a fragmented message")
		}
	}
	return nil
}

// handlerErrLocked turns a ping or pong handler's error into a read error.
func (c *Conn) handlerErrLocked(err error) error {
	if err == nil {
		return nil
	}
	return c.setReadErrLocked(err)
}

// setReadErrLocked makes err the sticky read error and wakes Close.
func (c *Conn) setReadErrLocked(err error) error {
	if cause := c.readCause.Load(); cause != nil && isNetError(err) {
		err = cause.err
	}
	if c.readErr == nil {
		c.readErr = err
	}
	c.br.free()
	c.wakeMu.Lock()
	c.readEnd.fireLocked()
	c.wakeMu.Unlock()
	return c.readErr
}
