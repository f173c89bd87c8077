package websocket

import (
	"sync"
	"time"

	"github.com/wsup/websocket/frame"
	"github.com/wsup/websocket/internal/deflate"
)

// PreparedMessage is a data message framed once, and compressed once per
// set of negotiated deflate parameters, for sending to many connections
// (broadcast). It is safe for concurrent use.
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

// NewPreparedMessage returns a PreparedMessage holding a copy of data. It
// returns ErrBadMessageType unless messageType is TextMessage or
// BinaryMessage.
func NewPreparedMessage(messageType int, data []byte) (*PreparedMessage, error) {
	if messageType != TextMessage && messageType != BinaryMessage {
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
// the same compression settings; a connection that compresses with context
// takeover compresses for itself, since its frames depend on its history,
// and a client connection masks its own copy. It is safe for concurrent
// use.
func (c *Conn) WritePreparedMessage(pm *PreparedMessage) error {
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
	if comp := c.compressorLocked(); comp != nil && len(pm.data) >= c.compress.threshold {
		if comp.KeepsHistory() {
			// This connection's frame depends on its own history.
			return c.writeCompressedLocked(comp, frame.Opcode(pm.messageType), pm.data)
		}
		bits, _ := c.writeWindow()
		key = prepKey{compressed: true, bits: bits, level: c.compLevel}
	}
	b, err := pm.frame(key)
	if err != nil {
		return err
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
