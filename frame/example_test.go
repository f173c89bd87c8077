package frame_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"

	"github.com/wsup/websocket"
	"github.com/wsup/websocket/frame"
)

// A test peer that speaks frames directly: what a test of a WebSocket
// server needs to send frames no well-behaved client library sends (here a
// message split into two fragments with a ping between them), and to see
// exactly which frames come back. WriteHeader and ReadHeader work on any
// io.Writer and io.Reader, with a caller's scratch buffer, so the peer needs
// nothing but a net.Conn.
func ExampleReadHeader() {
	// The server under test echoes every message.
	srv := httptest.NewServer(new(websocket.Upgrader).Handler(func(c *websocket.Conn) {
		for {
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, p); err != nil {
				return
			}
		}
	}))
	defer srv.Close()

	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", srv.Listener.Addr())
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Status)

	var buf [frame.MaxHeaderSize]byte
	key := [4]byte{1, 2, 3, 4} // a real client draws a fresh random key per frame
	send := func(op frame.Opcode, fin bool, payload string) error {
		p := []byte(payload)
		frame.Mask(key, 0, p)
		h := frame.Header{Fin: fin, Opcode: op, Masked: true, Key: key, Length: int64(len(p))}
		if err := frame.WriteHeader(nc, h, &buf); err != nil {
			return err
		}
		_, err := nc.Write(p)
		return err
	}
	for _, f := range []struct {
		op      frame.Opcode
		fin     bool
		payload string
	}{
		{frame.OpText, false, "Hello, "},
		{frame.OpPing, true, "are you there?"},
		{frame.OpContinuation, true, "frames"},
	} {
		if err := send(f.op, f.fin, f.payload); err != nil {
			fmt.Println(err)
			return
		}
	}

	// The pong answers the ping at once; the message follows, whole.
	for range 2 {
		h, err := frame.ReadHeader(br, &buf)
		if err != nil {
			fmt.Println(err)
			return
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(br, p); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%v fin=%v masked=%v %q\n", h.Opcode, h.Fin, h.Masked, p)
	}
	// Output:
	// 101 Switching Protocols
	// pong fin=true masked=false "are you there?"
	// text fin=true masked=false "Hello, frames"
}
