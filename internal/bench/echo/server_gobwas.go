package echo

import (
	"bufio"
	"compress/flate"
	"io"
	"net"
	"net/http"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	"github.com/gobwas/ws/wsutil"
)

// gobwasHandler upgrades with ws.HTTPUpgrader and echoes with the low-level
// frame API (ws.ReadHeader / ws.Cipher / ws.WriteHeader), the library's
// zero-copy fast path. With compression negotiated it switches to the
// wsutil + wsflate streaming loop documented by the library.
func gobwasHandler(opts Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, compress, err := gobwasUpgrade(w, r, opts.Compress)
		if err != nil {
			return
		}
		defer func() { _ = conn.Close() }()
		if compress {
			gobwasDeflateLoop(conn, rw.Reader, opts.MaxMessage)
			return
		}
		gobwasFrameLoop(rw, opts.MaxMessage)
	})
}

// gobwasUpgrade upgrades r with ws.HTTPUpgrader, offering permessage-deflate
// (wsflate's default parameters) when offerDeflate is set, and reports
// whether it was negotiated.
func gobwasUpgrade(w http.ResponseWriter, r *http.Request, offerDeflate bool) (net.Conn, *bufio.ReadWriter, bool, error) {
	// wsflate.Extension is per-upgrade state, so it lives per request.
	var ext wsflate.Extension
	var u ws.HTTPUpgrader
	if offerDeflate {
		ext.Parameters = wsflate.DefaultParameters
		u.Negotiate = ext.Negotiate
	}
	conn, rw, _, err := u.Upgrade(r, w)
	if err != nil {
		return nil, nil, false, err
	}
	_, compress := ext.Accepted()
	return conn, rw, compress, nil
}

// gobwasFrameLoop echoes frame by frame, reusing one payload buffer.
func gobwasFrameLoop(rw *bufio.ReadWriter, limit int64) {
	var buf []byte
	for {
		h, err := ws.ReadHeader(rw.Reader)
		if err != nil || h.Length > limit {
			return
		}
		if int64(cap(buf)) < h.Length {
			buf = make([]byte, h.Length)
		}
		p := buf[:h.Length]
		if _, err := io.ReadFull(rw.Reader, p); err != nil {
			return
		}
		if h.Masked {
			ws.Cipher(p, h.Mask, 0)
			h.Masked = false
		}
		switch h.OpCode {
		case ws.OpPong:
			continue
		case ws.OpPing:
			h.OpCode = ws.OpPong
		}
		if err := ws.WriteHeader(rw.Writer, h); err != nil {
			return
		}
		if _, err := rw.Writer.Write(p); err != nil {
			return
		}
		if err := rw.Writer.Flush(); err != nil || h.OpCode == ws.OpClose {
			return
		}
	}
}

// flateReader adapts compress/flate's reader to wsflate.ReadResetter so one
// decompressor serves every message.
type flateReader struct{ io.ReadCloser }

// Reset restarts decompression from src with an empty window.
func (f flateReader) Reset(src io.Reader) { _ = f.ReadCloser.(flate.Resetter).Reset(src, nil) }

// gobwasDeflateLoop is the wsutil + wsflate message loop from the gobwas/ws
// README: inflate the message, deflate it again into a wsutil.Writer.
func gobwasDeflateLoop(conn net.Conn, src io.Reader, limit int64) {
	var msg wsflate.MessageState
	rd := &wsutil.Reader{
		Source:         src,
		State:          ws.StateServerSide | ws.StateExtended,
		Extensions:     []wsutil.RecvExtension{&msg},
		MaxMessageSize: limit,
		OnIntermediate: wsutil.ControlFrameHandler(conn, ws.StateServerSide),
	}
	control := wsutil.ControlFrameHandler(conn, ws.StateServerSide)
	wr := wsutil.NewWriter(conn, ws.StateServerSide|ws.StateExtended, 0)
	wr.SetExtensions(&msg)
	fr := wsflate.NewReader(nil, func(r io.Reader) wsflate.Decompressor {
		return flateReader{flate.NewReader(r)}
	})
	fw := wsflate.NewWriter(nil, func(w io.Writer) wsflate.Compressor {
		f, _ := flate.NewWriter(w, flate.BestSpeed)
		return f
	})
	for {
		h, err := rd.NextFrame()
		if err != nil {
			return
		}
		if h.OpCode.IsControl() {
			if err := control(h, rd); err != nil {
				return
			}
			continue
		}
		wr.ResetOp(h.OpCode)
		if !msg.IsCompressed() {
			if _, err := io.Copy(wr, rd); err != nil {
				return
			}
		} else {
			// The writer echoes the compression bit from msg, so the reply
			// is compressed exactly when the request was.
			fr.Reset(rd)
			fw.Reset(wr)
			if _, err := io.Copy(fw, fr); err != nil {
				return
			}
			if err := fw.Close(); err != nil {
				return
			}
		}
		if err := wr.Flush(); err != nil {
			return
		}
	}
}
