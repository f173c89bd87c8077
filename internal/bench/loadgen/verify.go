package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/klauspost/compress/flate"
)

// errServerClose reports that the server sent a close frame.
var errServerClose = errors.New("loadgen: server sent a close frame")

// flateTail is the empty stored block that RFC 7692 senders strip and
// receivers append before inflating.
var flateTail = []byte{0x00, 0x00, 0xff, 0xff}

// windowSize is the LZ77 window a context-takeover peer may refer back to.
const windowSize = 32 << 10

// echoVerifier reads echoed messages from one connection and checks every
// byte against the payload that was sent. It is not safe for concurrent use.
type echoVerifier struct {
	br       *bufio.Reader
	expected []byte
	opcode   byte
	// deflate is true when permessage-deflate was negotiated.
	deflate bool
	// serverTakeover is true when the server did not agree to
	// server_no_context_takeover, so its messages may refer to earlier ones.
	serverTakeover bool

	zbuf    []byte // compressed payload of the current message
	out     []byte // inflated payload of the current message
	history []byte // last windowSize inflated bytes (context takeover only)
	fr      io.ReadCloser
	zr      bytes.Reader
}

// result of reading one echoed message.
type echoResult struct {
	matched bool
	// bytes is the number of payload bytes compared (after inflation).
	bytes int
	// wire is the number of payload bytes the message took on the wire.
	wire int
}

// next reads frames until one complete data message has been received and
// compares it with the expected payload. Ping and pong frames are skipped.
// It returns an error only for I/O failures, protocol violations or a close
// frame; a wrong payload is reported as matched == false.
func (v *echoVerifier) next() (echoResult, error) {
	var (
		started    bool
		compressed bool
		matched    = true
		off        int
		wire       int
	)
	v.zbuf = v.zbuf[:0]
	for {
		h, err := v.readHeader()
		if err != nil {
			return echoResult{}, err
		}
		if h.opcode >= opClose {
			if h.opcode == opClose {
				return echoResult{}, errServerClose
			}
			if _, err := v.br.Discard(h.length); err != nil {
				return echoResult{}, err
			}
			continue
		}
		if !started {
			if h.opcode == opContinuation {
				return echoResult{}, errors.New("loadgen: continuation frame without a message")
			}
			started = true
			compressed = h.rsv1
			if compressed && !v.deflate {
				return echoResult{}, errors.New("loadgen: RSV1 set but permessage-deflate was not negotiated")
			}
			if h.opcode != v.opcode {
				matched = false
			}
		} else {
			if h.opcode != opContinuation {
				return echoResult{}, fmt.Errorf("loadgen: opcode 0x%x inside a fragmented message", h.opcode)
			}
			if h.rsv1 {
				return echoResult{}, errors.New("loadgen: RSV1 set on a continuation frame")
			}
		}
		wire += h.length
		if compressed {
			if len(v.zbuf)+h.length > maxFrameLen {
				return echoResult{}, fmt.Errorf("loadgen: compressed message exceeds %d bytes", maxFrameLen)
			}
			start := len(v.zbuf)
			v.zbuf = slices.Grow(v.zbuf, h.length)[:start+h.length]
			if _, err := io.ReadFull(v.br, v.zbuf[start:]); err != nil {
				return echoResult{}, err
			}
		} else {
			ok, err := v.compareStream(off, h.length)
			if err != nil {
				return echoResult{}, err
			}
			matched = matched && ok
			off += h.length
		}
		if h.fin {
			break
		}
	}
	if compressed {
		n, ok := v.inflate()
		return echoResult{matched: matched && ok, bytes: n, wire: wire}, nil
	}
	if off != len(v.expected) {
		matched = false
	}
	return echoResult{matched: matched, bytes: off, wire: wire}, nil
}

// readHeader reads and parses the next frame header from the buffer.
func (v *echoVerifier) readHeader() (header, error) {
	need := 2
	for {
		b, err := v.br.Peek(need)
		if err != nil {
			return header{}, err
		}
		h, n, err := parseHeader(b)
		if errors.Is(err, errShortHeader) {
			if need == 2 && b[1]&0x7F == 126 {
				need = 4
			} else {
				need = 10
			}
			continue
		}
		if err != nil {
			return header{}, err
		}
		_, err = v.br.Discard(n)
		return h, err
	}
}

// compareStream consumes n payload bytes and compares them with
// expected[off:off+n] without copying. It reports whether all bytes matched.
func (v *echoVerifier) compareStream(off, n int) (bool, error) {
	ok := true
	for n > 0 {
		chunk := min(n, v.br.Size())
		b, err := v.br.Peek(chunk)
		if err != nil {
			return false, err
		}
		if off+chunk > len(v.expected) || !bytes.Equal(b, v.expected[off:off+chunk]) {
			ok = false
		}
		if _, err := v.br.Discard(chunk); err != nil {
			return false, err
		}
		off += chunk
		n -= chunk
	}
	return ok, nil
}

// inflate decompresses zbuf and compares it with the expected payload. It
// returns the number of bytes produced (bounded by len(expected)+1) and whether
// they matched. Corrupt deflate data counts as a mismatch.
func (v *echoVerifier) inflate() (int, bool) {
	v.zbuf = append(v.zbuf, flateTail...)
	v.zr.Reset(v.zbuf)
	var dict []byte
	if v.serverTakeover {
		dict = v.history
	}
	if v.fr == nil {
		v.fr = flate.NewReaderDict(&v.zr, dict)
	} else if err := v.fr.(flate.Resetter).Reset(&v.zr, dict); err != nil {
		return 0, false
	}
	if cap(v.out) < len(v.expected)+1 {
		v.out = make([]byte, len(v.expected)+1)
	}
	out := v.out[:len(v.expected)+1]
	n, err := io.ReadFull(v.fr, out)
	// A sync-flushed stream has no final block, so running out of input
	// (io.ErrUnexpectedEOF) after the data is the normal ending.
	ok := (err == io.ErrUnexpectedEOF || err == io.EOF) && n == len(v.expected) &&
		bytes.Equal(out[:n], v.expected)
	if v.serverTakeover {
		v.history = append(v.history, out[:n]...)
		if len(v.history) > windowSize {
			v.history = append(v.history[:0], v.history[len(v.history)-windowSize:]...)
		}
	}
	return n, ok
}
