package websocket

import (
	"bytes"
	"io"
	"math"
)

// ReadMessage reads the next data message and returns its type and a new
// slice holding its payload. Errors are as for NextReader; it must not be
// called concurrently with another read.
func (c *Conn) ReadMessage() (messageType int, p []byte, err error) {
	c.readMu.Lock()
	defer c.unlockRead()
	c.awaitInputLocked()
	messageType, err = c.nextMessageLocked()
	if err != nil {
		return 0, nil, err
	}
	if c.readFinal && !c.readCompressed && c.readRemaining <= int64(max(c.br.Buffered(), scratchStartSize)) {
		// A single uncompressed frame, buffered whole or small: its size
		// is known and the bytes are there (or the buffer is small).
		p = make([]byte, c.readRemaining)
		n, err := c.readFullLocked(p)
		if err != nil {
			return 0, nil, err
		}
		return messageType, p[:n], nil
	}
	// The size is not known (fragments, compression), or the header
	// announces more than has arrived, which must not make us allocate
	// it before the bytes come.
	if p, err = c.readGrowLocked(); err != nil {
		return 0, nil, err
	}
	return messageType, p, nil
}

const (
	// scratchStartSize is the first pooled chunk ReadMessage collects a
	// message of unknown size in, unless more is buffered; also the
	// largest single frame it allocates in full before its payload has
	// arrived.
	scratchStartSize = 4096
	// probeSize is the scratch ReadMessage reads into to learn whether a
	// message that reached the read limit goes on.
	probeSize = 8
)

// readFullLocked reads the message in progress into p until p is full or
// the message ends, and returns how many bytes it read.
func (c *Conn) readFullLocked(p []byte) (int, error) {
	n := 0
	for c.readInMessage && n < len(p) {
		k, err := c.readLocked(p[n:])
		n += k
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
	}
	if c.readInMessage {
		// An empty frame: ending the message still checks it (UTF-8).
		if _, err := c.readLocked(nil); err != nil && err != io.EOF {
			return n, err
		}
	}
	return n, nil
}

// readGrowLocked reads the rest of the message in progress, which has just
// started, and returns it in a new slice.
//
// The payload is collected as it arrives in pooled chunks, each as large
// as the ones before it together (the first holds what is buffered, at
// least scratchStartSize bytes), so a peer that stops sending holds at
// most about twice what it sent; it is copied out once at the end. The
// chunks never hold more than the read limit, nor more than a single
// frame's known size, and a chunk that would reach past the limit is
// allocated to fit. Whether a message that reached the limit goes on is
// learnt from a few bytes of scratch: if it does, the read fails with
// ErrReadLimit (nextFrameLocked, readInflateLocked), so a refused message
// costs its limit and no more.
func (c *Conn) readGrowLocked() ([]byte, error) {
	room := int64(math.MaxInt64) // payload bytes the chunks may take
	fitLimit := false            // room is the read limit's
	if c.readLimit > 0 {
		room, fitLimit = c.readLimit, true
	}
	if c.readFinal && !c.readCompressed && c.readRemaining <= room {
		room, fitLimit = c.readRemaining, false
	}
	var chunkArr [24]*[]byte
	var partArr [24][]byte
	chunks, parts := chunkArr[:0], partArr[:0]
	defer func() {
		for _, bp := range chunks {
			putPooledBuf(bp)
		}
	}()
	var cur []byte // the chunk being filled: cur[:n]
	n := 0
	next := max(c.br.Buffered(), scratchStartSize) // size of the next chunk
	total := 0                                     // bytes in parts
	for c.readInMessage {
		if n == len(cur) {
			if cur != nil {
				parts = append(parts, cur)
				total += n
				room -= int64(n)
				next, cur, n = total, nil, 0
			}
			if room == 0 {
				if err := c.readPastLimitLocked(); err != nil {
					return nil, err
				}
				break
			}
			want := int(min(int64(next), room))
			var bp *[]byte
			if fitLimit && want == int(room) && want&(want-1) != 0 {
				// A pooled buffer would reach past the limit.
				b := make([]byte, want)
				bp = &b
			} else {
				bp = getPooledBuf(want)
			}
			chunks = append(chunks, bp)
			cur = (*bp)[:min(len(*bp), int(room))]
		}
		k, err := c.readLocked(cur[n:])
		n += k
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	parts = append(parts, cur[:n])
	if total+n == 0 {
		return []byte{}, nil
	}
	// Join allocates without zeroing the bytes it copies.
	return bytes.Join(parts, nil), nil
}

// readPastLimitLocked reads on from the end of the room ReadMessage gives a
// message, into a few bytes of scratch: it returns nil when the message
// ends there, else the error that more bytes cause.
func (c *Conn) readPastLimitLocked() error {
	bp := getPooledBuf(probeSize)
	defer putPooledBuf(bp)
	for {
		k, err := c.readLocked(*bp)
		switch {
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		case k > 0:
			// The limit checks should have failed the read already.
			return c.failLocked(CloseMessageTooBig, ErrReadLimit)
		}
	}
}
