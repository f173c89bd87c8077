package websocket

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maskedFrame returns a masked client frame (FIN set) with the given opcode
// and payload shorter than 126 bytes.
func maskedFrame(t *testing.T, opcode byte, payload string) []byte {
	t.Helper()
	require.Less(t, len(payload), 126)
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	b := []byte{0x80 | opcode, 0x80 | byte(len(payload)), key[0], key[1], key[2], key[3]}
	for i := 0; i < len(payload); i++ {
		b = append(b, payload[i]^key[i%4])
	}
	return b
}

// TestUpgradeEndToEndEarlyFrames checks that frames a client sends in the
// same write as its handshake request (already buffered by net/http) are
// read by the Conn, and that the Conn writes on the hijacked connection.
func TestUpgradeEndToEndEarlyFrames(t *testing.T) {
	cases := []struct {
		name  string
		early []string // messages sent in the handshake write
		later []string // messages sent after the 101 was read
	}{
		{"none early", nil, []string{"after"}},
		{"one early", []string{"hello"}, nil},
		{"two early then one later", []string{"first", "second"}, []string{"third"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			type result struct {
				msgs []string
				err  error
			}
			results := make(chan result, 1)
			want := append(append([]string(nil), tc.early...), tc.later...)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := (&Upgrader{}).Upgrade(w, r, nil)
				if err != nil {
					results <- result{err: err}
					return
				}
				defer c.Close()
				var res result
				for range want {
					if err := c.SetReadDeadline(time.Now().Add(testIOTimeout)); err != nil {
						res.err = err
						break
					}
					mt, p, err := c.ReadMessage()
					if err != nil {
						res.err = err
						break
					}
					if mt != TextMessage {
						res.err = io.ErrUnexpectedEOF
						break
					}
					res.msgs = append(res.msgs, string(p))
					if err := c.WriteMessage(TextMessage, p); err != nil {
						res.err = err
						break
					}
				}
				results <- res
			}))
			defer srv.Close()

			req := []byte(handshakeRequest(""))
			for _, m := range tc.early {
				req = append(req, maskedFrame(t, 1, m)...)
			}
			nc, br := rawExchange(t, srv.Listener.Addr().String(), req)
			head := readResponseHead(t, br)
			require.Contains(t, head, "HTTP/1.1 101 Switching Protocols\r\n")
			for _, m := range tc.later {
				_, err := nc.Write(maskedFrame(t, 1, m))
				require.NoError(t, err)
			}
			// The server echoes every message as an unmasked text frame.
			for _, m := range want {
				hdr := make([]byte, 2)
				_, err := io.ReadFull(br, hdr)
				require.NoError(t, err)
				assert.Equal(t, []byte{0x81, byte(len(m))}, hdr)
				p := make([]byte, len(m))
				_, err = io.ReadFull(br, p)
				require.NoError(t, err)
				assert.Equal(t, m, string(p))
			}

			select {
			case res := <-results:
				require.NoError(t, res.err)
				assert.Equal(t, want, res.msgs)
			case <-time.After(testIOTimeout):
				t.Fatal("handler did not finish")
			}
		})
	}
}
