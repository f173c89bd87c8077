package echo

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// limitHandler is the floor the other servers are measured against, not a
// WebSocket library: the least work any Go echo over net/http must do per
// message. It hijacks the connection, writes the 101 response itself, then
// reads each frame header from net/http's 4 KiB buffered reader, reads the
// payload into one reused buffer, unmasks it eight bytes at a time and
// writes header and payload back with one Write. It skips everything a
// library must do beyond that: no UTF-8 validation, no control frame
// handling (a close frame is echoed like any frame, which is a valid close
// reply, and ends the connection), no fragmentation bookkeeping, no
// compression (the extension offer is ignored). It is correct for the
// benchmark's own clients only; Options.MaxMessage bounds a frame.
func limitHandler(opts Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Sec-WebSocket-Key")
		if r.Method != http.MethodGet || key == "" ||
			!strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "not a WebSocket handshake", http.StatusBadRequest)
			return
		}
		nc, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer func() { _ = nc.Close() }()
		if nc.SetDeadline(time.Time{}) != nil {
			return
		}
		sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n"
		if _, err := io.WriteString(nc, resp); err != nil {
			return
		}
		limitLoop(nc, brw.Reader, opts.MaxMessage)
	})
}

// limitHeadroom is the room kept before the payload in the reused buffer
// for the longest unmasked server frame header (2 + 8 bytes).
const limitHeadroom = 10

// limitLoop echoes frames read from br back to nc until an error, an
// unmasked or oversized frame, or a close frame.
func limitLoop(nc net.Conn, br *bufio.Reader, limit int64) {
	var buf []byte
	for {
		h, err := br.Peek(2)
		if err != nil {
			return
		}
		b0, b1 := h[0], h[1]
		if b1&0x80 == 0 {
			return // client frames must be masked
		}
		hlen := 6
		n := int64(b1 & 0x7F)
		switch n {
		case 126:
			hlen = 8
		case 127:
			hlen = 14
		}
		if h, err = br.Peek(hlen); err != nil {
			return
		}
		switch n {
		case 126:
			n = int64(binary.BigEndian.Uint16(h[2:4]))
		case 127:
			n = int64(binary.BigEndian.Uint64(h[2:10]))
		}
		if n < 0 || n > limit {
			return
		}
		key := binary.LittleEndian.Uint32(h[hlen-4 : hlen])
		if _, err := br.Discard(hlen); err != nil {
			return
		}
		if int64(cap(buf)) < limitHeadroom+n {
			buf = make([]byte, limitHeadroom+n)
		}
		p := buf[limitHeadroom : limitHeadroom+n]
		if _, err := io.ReadFull(br, p); err != nil {
			return
		}
		unmask8(p, key)
		// The reply header ends right where the payload starts.
		start := limitHeadroom - 2
		switch {
		case n <= 125:
			buf[start+1] = byte(n)
		case n <= 0xFFFF:
			start -= 2
			buf[start+1] = 126
			binary.BigEndian.PutUint16(buf[start+2:], uint16(n))
		default:
			start -= 8
			buf[start+1] = 127
			binary.BigEndian.PutUint64(buf[start+2:], uint64(n))
		}
		buf[start] = b0 &^ 0x70 // FIN and opcode as received, RSV bits clear
		if _, err := nc.Write(buf[start : limitHeadroom+n]); err != nil || b0&0x0F == 0x8 {
			return
		}
	}
}

// unmask8 XORs p with the little-endian masking key, eight bytes at a time
// and the remainder byte by byte.
func unmask8(p []byte, key uint32) {
	k8 := uint64(key) | uint64(key)<<32
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^k8)
	}
	for ; i < len(p); i++ {
		p[i] ^= byte(key >> (8 * (i & 3)))
	}
}
