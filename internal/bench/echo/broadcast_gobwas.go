package echo

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// gobwasClient is one connection of the gobwas broadcast server.
type gobwasClient struct {
	mu       sync.Mutex // serialises writes to conn
	conn     net.Conn
	compress bool // permessage-deflate was negotiated
}

// write sends one compiled frame.
func (c *gobwasClient) write(frame []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.conn.Write(frame)
	return err
}

// gobwasDeflate compresses at flate.BestSpeed, the level every other server
// here uses (wsflate.DefaultHelper uses 9).
var gobwasDeflate = wsflate.Helper{
	Compressor: func(w io.Writer) wsflate.Compressor {
		f, _ := flate.NewWriter(w, flate.BestSpeed)
		return f
	},
	Decompressor: func(r io.Reader) wsflate.Decompressor { return flate.NewReader(r) },
}

// gobwasBroadcast compiles each received message into a frame once
// (ws.CompileFrame; compressed once with wsflate when negotiated) and
// writes those bytes to every client's net.Conn. The reading side uses the
// low-level frame API and supports unfragmented messages only, which is
// what the benchmark sends.
func gobwasBroadcast(opts Options) http.Handler {
	var clients hub[*gobwasClient]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, compress, err := gobwasUpgrade(w, r, opts.Compress)
		if err != nil {
			return
		}
		defer func() { _ = conn.Close() }()
		me := &gobwasClient{conn: conn, compress: compress}
		clients.add(me)
		defer clients.remove(me)
		var all []*gobwasClient
		for {
			f, err := gobwasReadFrame(rw.Reader, opts.MaxMessage)
			if err != nil {
				return
			}
			switch {
			case f.Header.OpCode == ws.OpClose:
				_ = me.write(ws.MustCompileFrame(ws.NewCloseFrame(f.Payload)))
				return
			case f.Header.OpCode == ws.OpPing:
				if me.write(ws.MustCompileFrame(ws.NewPongFrame(f.Payload))) != nil {
					return
				}
				continue
			case f.Header.OpCode == ws.OpPong:
				continue
			case !f.Header.Fin || f.Header.OpCode == ws.OpContinuation:
				return // fragmented messages are not supported here
			}
			if f.Header.Rsv1() {
				if f, err = gobwasDeflate.DecompressFrame(f); err != nil {
					return
				}
			}
			plain, zipped, err := gobwasFrames(f.Header.OpCode, f.Payload, opts.Compress)
			if err != nil {
				return
			}
			all = clients.snapshot(all)
			for _, to := range all {
				if to.compress {
					_ = to.write(zipped)
				} else {
					_ = to.write(plain)
				}
			}
		}
	})
}

// errFrameTooBig reports a client frame over Options.MaxMessage.
var errFrameTooBig = errors.New("echo: frame exceeds the message limit")

// gobwasReadFrame reads one client frame and unmasks its payload.
func gobwasReadFrame(br io.Reader, limit int64) (ws.Frame, error) {
	h, err := ws.ReadHeader(br)
	if err != nil {
		return ws.Frame{}, err
	}
	if h.Length > limit {
		return ws.Frame{}, errFrameTooBig
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(br, p); err != nil {
		return ws.Frame{}, err
	}
	if h.Masked {
		ws.Cipher(p, h.Mask, 0)
		h.Masked = false
	}
	return ws.Frame{Header: h, Payload: p}, nil
}

// gobwasFrames compiles the plain frame for p and, when compress is set,
// the compressed one.
func gobwasFrames(op ws.OpCode, p []byte, compress bool) (plain, zipped []byte, err error) {
	f := ws.NewFrame(op, true, p)
	if plain, err = ws.CompileFrame(f); err != nil || !compress {
		return plain, nil, err
	}
	z, err := gobwasDeflate.CompressFrameBuffer(new(bytes.Buffer), f)
	if err != nil {
		return nil, nil, err
	}
	zipped, err = ws.CompileFrame(z)
	return plain, zipped, err
}
