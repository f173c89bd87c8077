package websocket

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/wsup/websocket/frame"
)

// errStaleReader is returned by a message reader used after the next
// message was requested.
// maxPreallocate bounds what ReadMessage allocates before the payload
// arrives.
const maxPreallocate = 1 << 20

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
	defer c.readMu.Unlock()
	messageType, err = c.nextMessageLocked()
	if err != nil {
		return 0, nil, err
	}
	return messageType, &messageReader{c: c, seq: c.readSeq}, nil
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

// ReadMessage reads the next data message and returns its type and a new
// slice holding its payload. Errors are as for NextReader; it must not be
// called concurrently with another read.
func (c *Conn) ReadMessage() (messageType int, p []byte, err error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	messageType, err = c.nextMessageLocked()
	if err != nil {
		return 0, nil, err
	}
	size := 512
	if c.readFinal && c.readRemaining <= maxPreallocate {
		// A single-frame message: its size is known. Larger ones grow as
		// their bytes arrive, so a header alone cannot make us allocate.
		size = int(c.readRemaining)
	}
	p = make([]byte, 0, size)
	for c.readInMessage {
		if len(p) == cap(p) {
			p = append(p, 0)[:len(p)]
		}
		n, err := c.readLocked(p[len(p):cap(p)])
		p = p[:len(p)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, nil, err
		}
	}
	return messageType, p, nil
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
	defer c.readMu.Unlock()
	if r.seq != c.readSeq {
		return 0, errStaleReader
	}
	return c.readLocked(p)
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
				return 0, c.failLocked(CloseInvalidFramePayloadData, fmt.Errorf("%w in text message", ErrInvalidUTF8))
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
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return n, c.setReadErrLocked(err)
	}
	return n, nil
}

// endMessageLocked ends an uncompressed message whose last byte was read.
func (c *Conn) endMessageLocked() error {
	c.readInMessage = false
	if c.readText && !c.readUTF8.Complete() {
		return c.failLocked(CloseInvalidFramePayloadData, fmt.Errorf("%w in text message", ErrInvalidUTF8))
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
			c.discardBuf = make([]byte, 512)
		}
		for {
			_, err := c.readLocked(c.discardBuf)
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
				return c.setReadErrLocked(eofError(err, 1))
			}
		}
		n := min(int64(c.br.Buffered()), c.readRemaining)
		b, _ := c.br.Peek(int(n))
		if c.readMasked {
			c.readKeyPos = frame.Mask(c.readKey, c.readKeyPos, b)
		}
		if c.readText && !c.readUTF8.Write(b) {
			return c.failLocked(CloseInvalidFramePayloadData, fmt.Errorf("%w in text message", ErrInvalidUTF8))
		}
		_, _ = c.br.Discard(int(n))
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

// readHeaderLocked reads one frame header from the buffered reader.
func (c *Conn) readHeaderLocked() (frame.Header, error) {
	b, err := c.br.Peek(2)
	if err != nil {
		return frame.Header{}, c.setReadErrLocked(eofError(err, len(b)))
	}
	c.framesRead.Add(1)
	size := frame.HeaderSize(b[0], b[1])
	b, err = c.br.Peek(size)
	if err != nil {
		return frame.Header{}, c.setReadErrLocked(eofError(err, 1))
	}
	h, n, err := frame.Parse(b)
	if err != nil {
		return h, c.failLocked(CloseProtocolError, fmt.Errorf("%w: %v", ErrProtocol, err))
	}
	_, _ = c.br.Discard(n)
	return h, nil
}

// eofError turns io.EOF inside a frame into io.ErrUnexpectedEOF. A clean
// EOF between frames (the peer closed TCP without a close frame) becomes a
// *CloseError with CloseAbnormalClosure, as in gorilla/websocket.
func eofError(err error, got int) error {
	if err != io.EOF {
		return err
	}
	if got > 0 {
		return io.ErrUnexpectedEOF
	}
	return &CloseError{Code: CloseAbnormalClosure, Text: io.ErrUnexpectedEOF.Error()}
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

// handleControlLocked reads a control frame's payload and runs its handler.
func (c *Conn) handleControlLocked(h frame.Header) error {
	payload := c.readCtrl[:h.Length]
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return c.setReadErrLocked(eofError(err, 1))
	}
	if h.Masked {
		frame.Mask(h.Key, 0, payload)
	}
	switch h.Opcode {
	case frame.OpPing:
		return c.handlerErrLocked(c.handlePing(string(payload)))
	case frame.OpPong:
		c.notifyPong(payload)
		return c.handlerErrLocked(c.handlePong(string(payload)))
	}
	code, reason, err := frame.ParseClose(payload)
	switch {
	case errors.Is(err, frame.ErrInvalidCloseReason):
		return c.failLocked(CloseInvalidFramePayloadData, fmt.Errorf("%w in close reason", ErrInvalidUTF8))
	case err != nil:
		return c.failLocked(CloseProtocolError, fmt.Errorf("%w: %v", ErrProtocol, err))
	}
	ce := &CloseError{Code: int(code), Text: string(reason)}
	c.peerCloseCode.CompareAndSwap(0, int32(code))
	// The handler's error is not the read error: the peer closed, and the
	// caller matches that with IsCloseError whatever the echo did.
	_ = c.handleClose(ce.Code, ce.Text)
	if cause := c.readCause.Load(); cause != nil {
		// This side closed first for a reason of its own (keepalive): the
		// peer's close is only the answer.
		c.setReadErrLocked(cause.err)
		_ = c.closeNetConn()
		return c.readErr
	}
	c.setReadErrLocked(ce)
	// The closing handshake is complete once both close frames are sent:
	// the TCP connection goes now (RFC 6455 section 7.1.1).
	_ = c.closeNetConn()
	return ce
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
	c.closeRecvOnce.Do(func() { close(c.closeReceived) })
	return c.readErr
}

// failLocked fails the connection after the peer broke the protocol: it
// sends a close frame with code (best effort, bounded in time), closes the
// network connection and makes err the sticky read error.
func (c *Conn) failLocked(code int, err error) error {
	msg := FormatCloseMessage(code, "")
	_ = c.WriteControl(CloseMessage, msg, time.Now().Add(time.Second))
	_ = c.closeNetConn()
	return c.setReadErrLocked(err)
}

// SetPingHandler sets the function called for each ping received. It runs
// on the reading goroutine, inside NextReader or a message reader's Read.
// A nil h sets the default, which answers with a pong carrying the same
// application data. An error from h becomes the read error.
func (c *Conn) SetPingHandler(h func(appData string) error) {
	if h == nil {
		h = func(appData string) error {
			err := c.WriteControl(PongMessage, []byte(appData), time.Now().Add(time.Second))
			if err == ErrCloseSent {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil
			}
			return err
		}
	}
	c.handlePing = h
}

// PingHandler returns the current ping handler.
func (c *Conn) PingHandler() func(appData string) error { return c.handlePing }

// SetPongHandler sets the function called for each pong received, on the
// reading goroutine. A nil h sets the default, which does nothing. An error
// from h becomes the read error.
func (c *Conn) SetPongHandler(h func(appData string) error) {
	if h == nil {
		h = func(string) error { return nil }
	}
	c.handlePong = h
}

// PongHandler returns the current pong handler.
func (c *Conn) PongHandler() func(appData string) error { return c.handlePong }

// SetCloseHandler sets the function called when a close frame arrives, on
// the reading goroutine, before the read returns a *CloseError. A nil h sets
// the default, which answers with a close frame echoing the status code.
// After the handler returns the network connection is closed: the closing
// handshake is over. A handler that wants to answer must write its own
// close frame with WriteControl.
func (c *Conn) SetCloseHandler(h func(code int, text string) error) {
	if h == nil {
		h = func(code int, text string) error {
			err := c.WriteControl(CloseMessage, FormatCloseMessage(code, ""), time.Now().Add(time.Second))
			if err == ErrCloseSent {
				return nil
			}
			return err
		}
	}
	c.handleClose = h
}

// CloseHandler returns the current close handler.
func (c *Conn) CloseHandler() func(code int, text string) error { return c.handleClose }

// isNetError reports whether err comes from the network connection being
// closed or timing out.
func isNetError(err error) bool {
	var ne net.Error
	return errors.Is(err, net.ErrClosed) || errors.As(err, &ne)
}
