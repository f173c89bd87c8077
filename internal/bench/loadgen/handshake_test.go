package loadgen

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var extensionCases = []struct {
	name         string
	values       []string
	offered      bool
	wantDeflate  bool
	wantTakeover bool
	wantErr      string
}{
	{name: "none", values: nil, offered: true},
	{name: "empty value", values: []string{""}, offered: true},
	{name: "plain", values: []string{"permessage-deflate"}, offered: true, wantDeflate: true, wantTakeover: true},
	{name: "no takeover", values: []string{"permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		offered: true, wantDeflate: true},
	{name: "window bits", values: []string{"permessage-deflate;server_no_context_takeover;client_max_window_bits=15"},
		offered: true, wantDeflate: true},
	{name: "not offered", values: []string{"permessage-deflate"}, wantErr: "unexpected extension"},
	{name: "unknown extension", values: []string{"x-webkit-deflate-frame"}, offered: true, wantErr: "unexpected extension"},
	{name: "twice", values: []string{"permessage-deflate, permessage-deflate"}, offered: true, wantErr: "unexpected extension"},
	{name: "unknown param", values: []string{"permessage-deflate; foo=1"}, offered: true, wantErr: "unknown permessage-deflate parameter"},
}

func TestParseExtensions(t *testing.T) {
	for _, tc := range extensionCases {
		t.Run(tc.name, func(t *testing.T) {
			var c wsConn
			err := c.parseExtensions(tc.values, tc.offered)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantDeflate, c.deflate)
			assert.Equal(t, tc.wantTakeover, c.serverTakeover)
		})
	}
}

func FuzzParseExtensions(f *testing.F) {
	for _, tc := range extensionCases {
		f.Add(strings.Join(tc.values, ","), tc.offered)
	}
	f.Fuzz(func(t *testing.T, v string, offered bool) {
		var c wsConn
		if err := c.parseExtensions([]string{v}, offered); err == nil && c.deflate && !offered {
			t.Fatalf("accepted deflate that was not offered: %q", v)
		}
	})
}

// fakeServer answers one handshake with respond(key) and closes.
func fakeServer(t *testing.T, respond func(key string) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer func() { _ = nc.Close() }()
		_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
		req, err := http.ReadRequest(bufio.NewReader(nc))
		if err != nil {
			return
		}
		_, _ = nc.Write([]byte(respond(req.Header.Get("Sec-WebSocket-Key"))))
	}()
	return ln.Addr().String()
}

func accept(key string) string {
	sum := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func TestHandshake(t *testing.T) {
	for _, tc := range []struct {
		name    string
		respond func(key string) string
		wantErr string
	}{
		{"ok", func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept(k) + "\r\n\r\n"
		}, ""},
		{"bad accept", func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n"
		}, "Sec-WebSocket-Accept"},
		{"status 400", func(string) string { return "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" }, "status 400"},
		{"no upgrade", func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept(k) + "\r\n\r\n"
		}, "Upgrade header"},
		{"no connection", func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + accept(k) + "\r\n\r\n"
		}, "Connection header"},
		{"garbage", func(string) string { return "nope\r\n\r\n" }, "handshake response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeServer(t, tc.respond)
			c, err := dialWS(t.Context(), addr, "", 5*time.Second, 4096)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.False(t, c.deflate)
			require.NoError(t, c.nc.Close())
		})
	}
}
