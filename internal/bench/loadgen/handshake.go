package loadgen

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// acceptGUID is the fixed GUID of RFC 6455 section 1.3.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// deflateOffer is the generator's usual extension offer: no context
// takeover in either direction keeps both compressors stateless.
const deflateOffer = "permessage-deflate; client_no_context_takeover; server_no_context_takeover"

// deflateTakeoverOffer is the offer of Workload.Takeover: context takeover
// both ways, the server free to limit the client's window (a browser's
// offer).
const deflateTakeoverOffer = "permessage-deflate; client_max_window_bits"

// offerFor returns the extension offer of a workload ("" for none).
func offerFor(w Workload) string {
	switch {
	case !w.Compress:
		return ""
	case w.Takeover:
		return deflateTakeoverOffer
	}
	return deflateOffer
}

// wsConn is a client connection after a successful opening handshake.
type wsConn struct {
	nc net.Conn
	br *bufio.Reader
	// deflate is true when the server accepted permessage-deflate.
	deflate bool
	// serverTakeover is true when the server kept its compression context
	// (it did not echo server_no_context_takeover).
	serverTakeover bool
}

// dialWS opens a TCP connection to addr and performs the opening handshake by
// hand. offer is the Sec-WebSocket-Extensions value sent ("" for none).
// timeout bounds the dial and the handshake. readBuf sizes the buffered
// reader kept for frames.
func dialWS(ctx context.Context, addr string, offer string, timeout time.Duration, readBuf int) (*wsConn, error) {
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c, err := handshake(nc, addr, offer, timeout, readBuf)
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	return c, nil
}

// handshake sends the upgrade request on nc and validates the response.
func handshake(nc net.Conn, host string, offer string, timeout time.Duration, readBuf int) (*wsConn, error) {
	if err := nc.SetDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	key := base64.StdEncoding.EncodeToString(raw[:])
	var sb strings.Builder
	sb.WriteString("GET / HTTP/1.1\r\nHost: ")
	sb.WriteString(host)
	sb.WriteString("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ")
	sb.WriteString(key)
	sb.WriteString("\r\n")
	if offer != "" {
		sb.WriteString("Sec-WebSocket-Extensions: " + offer + "\r\n")
	}
	sb.WriteString("\r\n")
	if _, err := nc.Write([]byte(sb.String())); err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(nc, readBuf)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, fmt.Errorf("loadgen: reading handshake response: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return nil, fmt.Errorf("loadgen: handshake status %d, want 101", resp.StatusCode)
	}
	if !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		return nil, fmt.Errorf("loadgen: Upgrade header %q", resp.Header.Get("Upgrade"))
	}
	if !hasToken(resp.Header.Values("Connection"), "upgrade") {
		return nil, fmt.Errorf("loadgen: Connection header %q lacks upgrade", resp.Header.Values("Connection"))
	}
	sum := sha1.Sum([]byte(key + acceptGUID))
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		return nil, fmt.Errorf("loadgen: Sec-WebSocket-Accept %q, want %q", got, want)
	}
	c := &wsConn{nc: nc, br: br}
	if err := c.parseExtensions(resp.Header.Values("Sec-WebSocket-Extensions"), offer != ""); err != nil {
		return nil, err
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	return c, nil
}

// parseExtensions records the negotiated permessage-deflate parameters and
// rejects anything the generator did not offer.
func (c *wsConn) parseExtensions(values []string, offered bool) error {
	for _, v := range values {
		for _, ext := range strings.Split(v, ",") {
			parts := strings.Split(ext, ";")
			name := strings.TrimSpace(parts[0])
			if name == "" {
				continue
			}
			if name != "permessage-deflate" || !offered || c.deflate {
				return fmt.Errorf("loadgen: server accepted unexpected extension %q", strings.TrimSpace(ext))
			}
			c.deflate = true
			c.serverTakeover = true
			for _, p := range parts[1:] {
				p = strings.TrimSpace(p)
				param, _, _ := strings.Cut(p, "=")
				switch strings.TrimSpace(param) {
				case "server_no_context_takeover":
					c.serverTakeover = false
				case "client_no_context_takeover", "server_max_window_bits", "client_max_window_bits":
				default:
					return fmt.Errorf("loadgen: unknown permessage-deflate parameter %q", p)
				}
			}
		}
	}
	return nil
}

// hasToken reports whether any comma-separated element of values equals
// token, ignoring case.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// errNotNegotiated reports a compression workload against a server that did
// not accept permessage-deflate.
var errNotNegotiated = errors.New("loadgen: server did not negotiate permessage-deflate")
