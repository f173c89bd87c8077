package websocket

import (
	"sync"
	"time"

	"github.com/wsup/websocket/frame"
	"github.com/wsup/websocket/internal/deflate"
)

// PreparedMessage is a message framed once, and (a data message)
// compressed once per set of negotiated deflate parameters, for sending to
// many connections (broadcast). It is safe for concurrent use.
type PreparedMessage struct {
	messageType int
	data        []byte

	mu     sync.Mutex
	frames map[prepKey][]byte // guarded by mu: encoded server frames
}

// prepKey identifies one encoding of a prepared message.
type prepKey struct {
	compressed bool
	bits       int
	level      int
}

// NewPreparedMessage returns a PreparedMessage holding a copy of data.
// messageType is any message type, as in gorilla/websocket: TextMessage,
// BinaryMessage, or a control type (CloseMessage, PingMessage,
// PongMessage). It returns ErrBadMessageType for another type, and
// ErrControlTooLong for a control message over 125 bytes.
func NewPreparedMessage(messageType int, data []byte) (*PreparedMessage, error) {
	switch messageType {
	case TextMessage, BinaryMessage:
	case CloseMessage, PingMessage, PongMessage:
		if len(data) > frame.MaxControlPayload {
			return nil, ErrControlTooLong
		}
	default:
		return nil, ErrBadMessageType
	}
	return &PreparedMessage{
		messageType: messageType,
		data:        append([]byte(nil), data...),
		frames:      make(map[prepKey][]byte),
	}, nil
}

// WritePreparedMessage writes pm as WriteMessage would write its data. A
// server connection sends the frame encoded once for all connections with
// the same compression settings (window size and level): the compressed
// frame refers to no earlier message, so connections with context
// takeover share it too (their next messages may refer to it). A client
// connection masks its own copy. A control message is sent as
// WriteControl sends it with a zero deadline: it does not wait for a data
// message in progress. Errors are as for WriteMessage. It is safe for
// concurrent use.
func (c *Conn) WritePreparedMessage(pm *PreparedMessage) error {
	if pm.messageType != TextMessage && pm.messageType != BinaryMessage {
		return c.WriteControl(pm.messageType, pm.data, time.Time{})
	}
	if err := c.lockMsg(nil); err != nil {
		return err
	}
	defer c.unlockMsg()
	if err := c.writeEndedErr(); err != nil {
		return err
	}
	if !c.isServer {
		return c.writeDataLocked(pm.messageType, pm.data)
	}
	var key prepKey
	comp := c.compressorLocked()
	if comp != nil && len(pm.data) >= c.compress.threshold {
		bits, _ := c.writeWindow()
		key = prepKey{compressed: true, bits: bits, level: c.compLevel}
	}
	b, err := pm.frame(key)
	if err != nil {
		return err
	}
	if key.compressed {
		// The shared frame refers to nothing before it, so a connection
		// with context takeover may send it too; its peer keeps the
		// message in its window, and so does the compressor's history.
		if err := comp.Remember(pm.data); err != nil {
			return err
		}
	}
	if err := c.acquireFrame(time.Time{}); err != nil {
		return err
	}
	defer c.releaseFrame()
	if c.closeSent {
		return ErrCloseSent
	}
	c.dataFrames.Add(1)
	return c.writeLocked(c.frameDeadline(), b, nil)
}

// frame returns the encoded server frame for key, building it once.
func (pm *PreparedMessage) frame(key prepKey) ([]byte, error) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	if b, ok := pm.frames[key]; ok {
		return b, nil
	}
	payload := pm.data
	if key.compressed {
		comp := deflate.NewCompressor(key.level, key.bits, false)
		z, err := comp.Compress(nil, pm.data)
		comp.Release()
		if err != nil {
			return nil, err
		}
		payload = z
	}
	h := frame.Header{Fin: true, Rsv1: key.compressed, Opcode: frame.Opcode(pm.messageType), Length: int64(len(payload))}
	b, err := frame.AppendHeader(make([]byte, 0, h.Size()+len(payload)), h)
	if err != nil {
		return nil, err
	}
	b = append(b, payload...)
	pm.frames[key] = b
	return b, nil
}
